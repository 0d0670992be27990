//! `LinearDiscriminantAnalysis`: scikit-learn's LDA with its `svd` (default), `lsqr` and `eigen`
//! solvers.
//!
//! Fitting (svd) is one kernel over X and y: the class means, the data centered by its class mean
//! (`Xc`), the standard deviation of each column of `Xc` and the Gram matrix `Xc^T Xc`
//! (d x d). The rest is small dense algebra on the host in f64, scikit-learn's `_solve_svd`
//! step for step: its first SVD (of `Xc / std / sqrt(n)`, n x d) is taken through the
//! eigendecomposition of that matrix's Gram matrix, which has the same right singular vectors
//! and the squared singular values; the second SVD (of the k x rank weighted class centers)
//! is a plain thin SVD. `store_covariance` adds one more kernel: the prior-weighted average of
//! the per-class (biased) covariances, scikit-learn's `_class_cov`.
//!
//! Prediction is one kernel: the decision values `X coef^T + intercept`, the probabilities
//! (softmax, or the logistic sigmoid of the one decision value for two classes, as
//! scikit-learn), their logarithms and the most likely class; `transform` is a second one,
//! `(X - xbar) scalings`.
//!
//! The signs of the columns of `scalings_` (hence of `transform`'s output) are those of the
//! second SVD's singular vectors, which LAPACK and faer may choose differently: each column
//! may be the negation of scikit-learn's. Everything else (`coef_`, `intercept_`, the
//! probabilities, predictions) does not depend on them.
//!
//! The `lsqr` and `eigen` solvers (scikit-learn's `_solve_lstsq`, `_solve_eigen`) work from
//! covariances: a kernel for the class means, one for the prior-weighted within-class
//! covariance `Sw` (the same `lda_class_cov`), and with `shrinkage="auto"` one per class (each
//! class's covariance is shrunk on its own) plus one for the squared row norms of the
//! standardized class data that Ledoit-Wolf's shrinkage needs. The shrinkage itself is the
//! covariance module's (`shrunk_covariance`, `ledoit_wolf_shrinkage`); a fixed shrinkage is
//! linear, so it is applied once to the weighted sum. `lsqr` then solves `Sw coef^T = means^T`
//! in the least-squares sense (the minimum-norm solution, as LAPACK's `gelsd`); `eigen` solves
//! the generalized eigenproblem `Sb v = w Sw v` with `Sb = St - Sw` (`St` the covariance of all
//! of X, one more kernel pass), through the Cholesky factor of `Sw`, as scipy's `eigh(Sb, Sw)`.
//! Its eigenvectors (`scalings_`) carry signs of faer's choosing too, and those of repeated
//! eigenvalues (the zero ones past `n_classes - 1`) are any basis of their space; `coef_`
//! (`means Sw^-1` either way), the probabilities and the leading `transform` columns up to sign
//! do not depend on it.

use crate::covariance::{ledoit_wolf_shrinkage_of, shrink, CovarianceEstimator};
use crate::data::{check_fitted_x, check_len, check_x, Host, Mat, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::decomposition::linalg::{cholesky, eigh_descending, inverse_lower_transposed, svd};
use crate::error::{EstimatorError, Result};
use crate::preprocessing::label::unique;
use kiln_macros::kernel;
use kiln_runtime::Tensor;
use ndarray::{Array1, Array2, Axis, Ix1, Ix2, Slice};

/// Per class `c` (of `k`): the mean of its rows (`means`, k x d); the data centered by its
/// class mean (`Xc`); the population standard deviation of each column of `Xc` (numpy's
/// `std`, which subtracts the column mean of `Xc` again); and `Xc^T Xc`. `yi` holds each row's
/// class index, `count` each class's number of rows.
#[kernel(crate = kiln_runtime)]
fn lda_stats<F: Float>(
    x: Array2<F>,
    y: Array1<i64>,
    classes: Array1<i64>,
    yi: Array1<i64>,
    count: Array1<F>,
) -> (Array2<F>, Array1<F>, Array2<F>) {
    let n = x.nrows();
    let d = x.ncols();
    let k = classes.len();
    let means = Array2::from_shape_fn((k, d), |(c, j)| {
        sum(0..n, |i| select(y[[i]] == classes[[c]], x[[i, j]], 0.0)) / count[[c]]
    });
    let xc = Array2::from_shape_fn((n, d), |(i, j)| x[[i, j]] - means[[yi[[i]], j]]);
    let std = (&xc - &xc.mean_axis(Axis(0))).powi(2).mean_axis(Axis(0)).sqrt();
    (means, std, xc.t().dot(&xc))
}

/// scikit-learn's `_class_cov`: `sum_c priors[c] * cov_c` with `cov_c` the biased covariance
/// of class c's rows, as `Xc^T (w Xc)` with each row weighted by `weight[c] = priors[c] /
/// count[c]` of its class.
#[kernel(crate = kiln_runtime)]
fn lda_class_cov<F: Float>(x: Array2<F>, means: Array2<F>, yi: Array1<i64>, weight: Array1<F>) -> Array2<F> {
    let n = x.nrows();
    let d = x.ncols();
    let xc = Array2::from_shape_fn((n, d), |(i, j)| x[[i, j]] - means[[yi[[i]], j]]);
    let xw = Array2::from_shape_fn((n, d), |(i, j)| xc[[i, j]] * weight[[yi[[i]]]]);
    xc.t().dot(&xw)
}

/// The mean of the rows of each class (`cls[c]` the index of class c, `yi` each row's class
/// index, `count` each class's number of rows): k x d.
#[kernel(crate = kiln_runtime)]
fn lda_means<F: Float>(x: Array2<F>, yi: Array1<i64>, cls: Array1<i64>, count: Array1<F>) -> Array2<F> {
    let n = x.nrows();
    let d = x.ncols();
    let k = cls.len();
    Array2::from_shape_fn((k, d), |(c, j)| sum(0..n, |i| select(yi[[i]] == cls[[c]], x[[i, j]], 0.0)) / count[[c]])
}

/// Per class, Ledoit-Wolf's `beta_` of the class's standardized rows `z = (x - mean) / scale`:
/// `sum_i (sum_j z_ij^2)^2` over the class's rows (`inv_scale` holds `1 / scale`, k x d).
#[kernel(crate = kiln_runtime)]
fn lda_class_beta<F: Float>(
    x: Array2<F>,
    means: Array2<F>,
    inv_scale: Array2<F>,
    yi: Array1<i64>,
    cls: Array1<i64>,
) -> Array1<F> {
    let n = x.nrows();
    let d = x.ncols();
    let k = cls.len();
    let z = Array2::from_shape_fn((n, d), |(i, j)| (x[[i, j]] - means[[yi[[i]], j]]) * inv_scale[[yi[[i]], j]]);
    let r = z.powi(2).sum_axis(Axis(1));
    Array1::from_shape_fn(k, |c| sum(0..n, |i| select(yi[[i]] == cls[[c]], r[[i]] * r[[i]], 0.0)))
}

/// Decision values, probabilities, log-probabilities and labels. `coef` and `intercept` have
/// one row per class; for two classes the first row is zero and the second holds scikit-learn's
/// single `coef_` (`binary = 1`), and the probabilities are `1 - expit(s)`, `expit(s)` of the
/// difference `s` (`pos` = [0, 1] picks the column). Otherwise the softmax, as scikit-learn's
/// `softmax` computes it. A probability of 0 has the log of `tiny` (the smallest normal
/// number), as scikit-learn's `predict_log_proba` adds it.
#[kernel(crate = kiln_runtime)]
fn lda_predict<F: Float>(
    x: Array2<F>,
    coef: Array2<F>,
    intercept: Array1<F>,
    classes: Array1<i64>,
    pos: Array1<F>,
    binary: F,
    tiny: F,
) -> (Array2<F>, Array2<F>, Array2<F>, Array1<i64>) {
    let n = x.nrows();
    let k = coef.nrows();
    let scores = x.dot(&coef.t()) + &intercept;
    let best = scores.argmax_axis(Axis(1));
    let labels = Array1::from_shape_fn(n, |i| classes[[best[[i]]]]);
    let top = scores.max_axis(Axis(1));
    let e = (&scores - top.insert_axis(Axis(1))).exp();
    let total = e.sum_axis(Axis(1));
    let proba = Array2::from_shape_fn((n, k), |(i, c)| {
        let p1 = 1.0 / (1.0 + (scores[[i, 0]] - scores[[i, k - 1]]).exp());
        select(binary > 0.5, pos[[c]] * p1 + (1.0 - pos[[c]]) * (1.0 - p1), e[[i, c]] / total[[i]])
    });
    let log_proba = Array2::from_shape_fn((n, k), |(i, c)| select(proba[[i, c]] == 0.0, tiny, proba[[i, c]]).ln());
    (scores, proba, log_proba, labels)
}

/// The last column of `s` (n x 1): the binary decision value.
#[kernel(crate = kiln_runtime)]
fn lda_last_column<F: Float>(s: Array2<F>) -> Array2<F> {
    let n = s.nrows();
    let k = s.ncols();
    Array2::from_shape_fn((n, 1), |(i, _c)| s[[i, k - 1]])
}

/// `(X - xbar) scalings` (svd; eigen passes zeros for `xbar`).
#[kernel(crate = kiln_runtime)]
fn lda_transform<F: Float>(x: Array2<F>, xbar: Array1<F>, scalings: Array2<F>) -> Array2<F> {
    (&x - &xbar).dot(&scalings)
}

/// The minimum-norm least-squares solution `coef` of `sw coef^T = means^T` for the symmetric
/// positive semi-definite `sw` (scipy's `lstsq` through LAPACK's `gelsd`: singular values at
/// most `eps` times the largest count as zero), returned as `means pinv(sw)`.
fn lstsq_symmetric(sw: &Array2<f64>, means: &Array2<f64>) -> Result<Array2<f64>> {
    let (w, v) = eigh_descending(sw)?;
    let largest = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let cutoff = f64::EPSILON * largest;
    let inv: Array1<f64> = w.mapv(|s| if s.abs() > cutoff { 1.0 / s } else { 0.0 });
    let pinv = (&v * &inv).dot(&v.t());
    Ok(means.dot(&pinv))
}

/// scipy's `eigh(a, b)` for the symmetric `a` and the symmetric positive definite `b`: the
/// eigenvalues of `a v = w b v` in descending order and the eigenvectors as columns, scaled so
/// that `V^T b V = I` (through `b = L L^T`: the eigenvectors of `L^-1 a L^-T`, mapped back by
/// `L^-T`).
fn generalized_eigh(a: &Array2<f64>, b: &Array2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let l = cholesky(b).ok_or_else(|| {
        EstimatorError::Linalg(format!(
            "{NAME}: the within-class covariance is not positive definite, so the generalized eigenvalue \
             problem of the 'eigen' solver cannot be solved (scipy: the factorization of B could not be \
             completed); shrinkage regularizes it"
        ))
    })?;
    let l_inv_t = inverse_lower_transposed(&l);
    let c = l_inv_t.t().dot(a).dot(&l_inv_t);
    let c = (&c + &c.t()) / 2.0;
    let (w, u) = eigh_descending(&c)?;
    Ok((w, l_inv_t.dot(&u)))
}

/// The solver of [`LinearDiscriminantAnalysis`] (`solver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LdaSolver {
    /// Singular value decompositions of the centered data (`"svd"`, the default): no
    /// covariance matrix is formed; no shrinkage.
    #[default]
    Svd,
    /// The least-squares solution of `covariance_ coef^T = means_^T` (`"lsqr"`): classification
    /// only (no `transform`); with shrinkage.
    Lsqr,
    /// The generalized eigenvectors of the between- and within-class covariances (`"eigen"`):
    /// classification and `transform`; with shrinkage.
    Eigen,
}

/// The covariance shrinkage of the `lsqr` and `eigen` solvers (`shrinkage`; `None` in
/// [`LinearDiscriminantAnalysisParams::shrinkage`] is none, the default).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Shrinkage {
    /// `"auto"`: each covariance (each class's, and for `eigen` that of all of X) is
    /// Ledoit-Wolf shrunk on the standardized data, then scaled back.
    Auto,
    /// A fixed weight in [0, 1] of the scaled identity: `(1 - s) cov + s trace(cov) / d I`.
    Fixed(f64),
}

/// Hyper-parameters of [`LinearDiscriminantAnalysis`] (scikit-learn's defaults: the `svd`
/// solver, no shrinkage, priors from the class frequencies, `n_components = min(n_classes - 1,
/// n_features)`, `tol = 1e-4`, `store_covariance = false`).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearDiscriminantAnalysisParams {
    solver: LdaSolver,
    shrinkage: Option<Shrinkage>,
    covariance_estimator: Option<CovarianceEstimator>,
    priors: Option<Vec<f64>>,
    n_components: Option<usize>,
    tol: f64,
    store_covariance: bool,
}

/// A fitted linear discriminant analysis: class means, priors, the discriminant directions
/// (`scalings_`) and the linear decision function (`coef_`, `intercept_`), kept where it was
/// fitted.
#[derive(Debug, Clone)]
pub struct LinearDiscriminantAnalysis<F: Real, S: Storage> {
    solver: LdaSolver,
    classes: S::Vec<i64>,
    means: S::Mat<F>,
    priors: S::Vec<F>,
    /// `xbar_` (svd only).
    xbar: Option<S::Vec<F>>,
    /// What `transform` subtracts before projecting: `xbar_` (svd) or zeros (eigen).
    center: S::Vec<F>,
    /// `scalings_` (svd and eigen).
    scalings: Option<S::Mat<F>>,
    /// `scalings_` cut to the columns `transform` keeps (what it multiplies by).
    projection: Option<S::Mat<F>>,
    coef: S::Mat<F>,
    intercept: S::Vec<F>,
    /// `coef_` / `intercept_` as one row per class (a zero first row for two classes).
    full_coef: S::Mat<F>,
    full_intercept: S::Vec<F>,
    /// `explained_variance_ratio_` (svd and eigen).
    explained_variance_ratio: Option<S::Vec<F>>,
    covariance: Option<S::Mat<F>>,
    n_classes: usize,
    n_features: usize,
    n_components: usize,
}

crate::relocate!([F: Real] LinearDiscriminantAnalysis<F, @> { solver, classes: vec[c], means: mat[c, d], priors: vec[c], xbar: opt_vec[d], center: vec[d], scalings: opt_mat[d, _], projection: opt_mat[d, m], coef: mat[k, d], intercept: vec[k], full_coef: mat[c, d], full_intercept: vec[c], explained_variance_ratio: opt_vec, covariance: opt_mat[d, d], n_classes: size[c], n_features: size[d], n_components: size[m] });

impl LinearDiscriminantAnalysis<f64, Host> {
    /// scikit-learn's defaults (see [`LinearDiscriminantAnalysisParams`]).
    pub fn params() -> LinearDiscriminantAnalysisParams {
        LinearDiscriminantAnalysisParams {
            solver: LdaSolver::Svd,
            shrinkage: None,
            covariance_estimator: None,
            priors: None,
            n_components: None,
            tol: 1e-4,
            store_covariance: false,
        }
    }
}

const NAME: &str = "LinearDiscriminantAnalysis";

/// What a solver leaves for [`LinearDiscriminantAnalysisParams::fit`] to assemble: host f64
/// arrays but for the class means and the covariance, which stay where the kernels left them.
struct Solved<F: Real, S: Storage> {
    means: S::Mat<F>,
    /// One row per class (before the binary case's difference).
    coef: Array2<f64>,
    intercept: Array1<f64>,
    xbar: Option<Array1<f64>>,
    scalings: Option<Array2<f64>>,
    /// The columns of `scalings` that `transform` keeps.
    kept: usize,
    ratio: Option<Array1<f64>>,
    covariance: Option<S::Mat<F>>,
}

/// What every solver needs: the data's shape, the class index of each row (host and where X
/// lives), the classes' sizes and priors.
struct Classes<S: Storage> {
    n: usize,
    d: usize,
    k: usize,
    counts: Vec<usize>,
    priors: Array1<f64>,
    yi: S::Vec<i64>,
    /// `0..k` where X lives (the class indices `yi` holds).
    cls: S::Vec<i64>,
    n_components: usize,
}

impl LinearDiscriminantAnalysisParams {
    /// The solver (`solver`: [`LdaSolver::Svd`], the default, [`LdaSolver::Lsqr`] or
    /// [`LdaSolver::Eigen`]).
    pub fn solver(mut self, solver: LdaSolver) -> Self {
        self.solver = solver;
        self
    }

    /// The covariance shrinkage of the `lsqr` and `eigen` solvers (`shrinkage`: `None`, the
    /// default, `Some(Shrinkage::Auto)` or `Some(Shrinkage::Fixed(s))` with `s` in [0, 1]).
    pub fn shrinkage(mut self, shrinkage: Option<Shrinkage>) -> Self {
        self.shrinkage = shrinkage;
        self
    }

    /// The covariance estimator of the `lsqr` and `eigen` solvers (`covariance_estimator`:
    /// `None`, the default, or any of [`crate::covariance::EmpiricalCovariance`],
    /// [`crate::covariance::ShrunkCovariance`], [`crate::covariance::LedoitWolf`] and
    /// [`crate::covariance::Oas`]'s params, e.g. `.covariance_estimator(Oas::params())`): each
    /// class's covariance (and for `eigen` that of all of X) is what that estimator fitted on
    /// the class's rows would hold as `covariance_`, instead of the empirical one shrunk as
    /// `shrinkage` says. Exclusive with a shrinkage other than 0 and with the svd solver.
    pub fn covariance_estimator(mut self, estimator: impl Into<CovarianceEstimator>) -> Self {
        self.covariance_estimator = Some(estimator.into());
        self
    }

    /// The class prior probabilities, in sorted class order (`priors`: non-negative; priors
    /// that do not sum to 1 are divided by their sum, where scikit-learn also warns).
    pub fn priors(mut self, priors: Vec<f64>) -> Self {
        self.priors = Some(priors);
        self
    }

    /// The number of discriminant components `transform` keeps (`n_components`, at least 1
    /// and at most `min(n_classes - 1, n_features)`).
    pub fn n_components(mut self, n_components: usize) -> Self {
        self.n_components = Some(n_components);
        self
    }

    /// The threshold below which a singular value is taken as zero (`tol`, at least 0; svd
    /// solver only): absolute for the scaled within-class data, relative to the largest for
    /// the class centers.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Whether the svd solver computes the weighted within-class covariance
    /// (`store_covariance`, [`LinearDiscriminantAnalysis::covariance`]); the `lsqr` and `eigen`
    /// solvers always do.
    pub fn store_covariance(mut self, yes: bool) -> Self {
        self.store_covariance = yes;
        self
    }

    /// Fit on `x` with integer class labels `y` (any values; `classes` sorted ascending).
    ///
    /// # Errors
    /// `tol` negative or not finite, `n_components` 0, a fixed shrinkage outside [0, 1];
    /// shrinkage with the svd solver ([`EstimatorError::NotAvailable`], scikit-learn's
    /// `NotImplementedError`); a covariance estimator with the svd solver or with a shrinkage
    /// other than 0, or with invalid hyper-parameters of its own; fewer than 2 rows, no column, NaN or infinity in X; `y` of
    /// another length than X's rows; as many classes as samples; priors of another length
    /// than the classes, negative, or summing to 0 or a non-finite value; `n_components` above
    /// `min(n_classes - 1, n_features)`; svd: within-class data of rank 0 (every feature
    /// constant within each class), where scikit-learn fails too; eigen: a within-class
    /// covariance that is not positive definite (scipy's `eigh` fails there: shrinkage
    /// regularizes it); kernel errors (including `y` on another device than `x`).
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(
        &self,
        x: &X,
        y: &Y,
    ) -> Result<LinearDiscriminantAnalysis<F, X::Storage>> {
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(EstimatorError::param(NAME, "tol", "a float in the range [0.0, inf)", self.tol));
        }
        if self.n_components == Some(0) {
            return Err(EstimatorError::param(NAME, "n_components", "an int in the range [1, inf) or None", 0));
        }
        if let Some(Shrinkage::Fixed(s)) = self.shrinkage {
            if !(0.0..=1.0).contains(&s) {
                return Err(EstimatorError::param(
                    NAME,
                    "shrinkage",
                    "a str among {'auto'}, a float in the range [0.0, 1.0] or None",
                    s,
                ));
            }
        }
        if self.solver == LdaSolver::Svd && self.shrinkage.is_some() {
            return Err(EstimatorError::NotAvailable("shrinkage not supported with 'svd' solver.".into()));
        }
        if let Some(est) = &self.covariance_estimator {
            if self.solver == LdaSolver::Svd {
                return Err(EstimatorError::param(
                    NAME,
                    "covariance_estimator",
                    "None with the 'svd' solver: covariance estimator is not supported with svd solver. Try \
                     another solver",
                    format!("{est:?}"),
                ));
            }
            if self.shrinkage.is_some_and(|s| s != Shrinkage::Fixed(0.0)) {
                return Err(EstimatorError::param(
                    NAME,
                    "shrinkage",
                    "None or 0 with a covariance_estimator: covariance_estimator and shrinkage parameters are \
                     not None. Only one of the two can be set.",
                    format!("{:?}", self.shrinkage),
                ));
            }
            est.check()?;
        }
        let (n, d) = check_x(NAME, x, 2)?;
        check_len("y", y.length()?, n)?;
        let labels = y.to_host()?;
        let classes = unique(labels.iter().copied());
        let k = classes.len();
        if n == k {
            return Err(EstimatorError::TooFewSamples(
                "The number of samples must be more than the number of classes.".into(),
            ));
        }
        let yi: Array1<i64> = labels.iter().map(|l| classes.binary_search(l).map_or(0, |c| c as i64)).collect();
        let mut counts = vec![0usize; k];
        yi.iter().for_each(|&c| counts[c as usize] += 1);
        let priors = self.checked_priors(&counts, n)?;
        let max_components = (k - 1).min(d);
        let n_components = match self.n_components {
            None => max_components,
            Some(c) if c > max_components => {
                return Err(EstimatorError::param(
                    NAME,
                    "n_components",
                    "at most min(n_features, n_classes - 1): n_components cannot be larger than \
                     min(n_features, n_classes - 1).",
                    c,
                ))
            }
            Some(c) => c,
        };

        let device = x.device();
        let classes_v = X::Storage::vec_from_host(Array1::from(classes.clone()), device)?;
        let cls = X::Storage::vec_from_host(Array1::from_iter(0..k as i64), device)?;
        let c = Classes { n, d, k, counts, priors, yi: X::Storage::vec_from_host(yi, device)?, cls, n_components };
        let solved = match self.solver {
            LdaSolver::Svd => self.solve_svd(x, y, &classes_v, &c)?,
            LdaSolver::Lsqr | LdaSolver::Eigen => self.solve_covariance(x, &c)?,
        };

        let Classes { priors, .. } = c;
        let (coef, intercept) = (solved.coef, solved.intercept);
        // scikit-learn's binary case: one row, the difference of the two classes'.
        let (coef_out, intercept_out, full_coef, full_intercept) = if k == 2 {
            let c1: Array1<f64> = &coef.row(1) - &coef.row(0);
            let b1 = intercept[1] - intercept[0];
            let mut full = Array2::zeros((2, d));
            full.row_mut(1).assign(&c1);
            (c1.insert_axis(Axis(0)), Array1::from(vec![b1]), full, Array1::from(vec![0.0, b1]))
        } else {
            (coef.clone(), intercept.clone(), coef, intercept)
        };

        let to_f2 = |a: &Array2<f64>| a.mapv(F::from_f64);
        let to_f1 = |a: &Array1<f64>| a.mapv(F::from_f64);
        let projection = match &solved.scalings {
            Some(s) if solved.kept > 0 => {
                let p = s.slice_axis(Axis(1), Slice::from(..solved.kept)).to_owned();
                Some(X::Storage::mat_from_host(to_f2(&p), device)?)
            }
            _ => None,
        };
        let center = solved.xbar.clone().unwrap_or_else(|| Array1::zeros(d));
        let up1 = |a: &Option<Array1<f64>>| a.as_ref().map(|a| X::Storage::vec_from_host(to_f1(a), device)).transpose();
        Ok(LinearDiscriminantAnalysis {
            solver: self.solver,
            classes: classes_v,
            means: solved.means,
            priors: X::Storage::vec_from_host(to_f1(&priors), device)?,
            xbar: up1(&solved.xbar)?,
            center: X::Storage::vec_from_host(to_f1(&center), device)?,
            scalings: solved.scalings.as_ref().map(|s| X::Storage::mat_from_host(to_f2(s), device)).transpose()?,
            projection,
            coef: X::Storage::mat_from_host(to_f2(&coef_out), device)?,
            intercept: X::Storage::vec_from_host(to_f1(&intercept_out), device)?,
            full_coef: X::Storage::mat_from_host(to_f2(&full_coef), device)?,
            full_intercept: X::Storage::vec_from_host(to_f1(&full_intercept), device)?,
            explained_variance_ratio: up1(&solved.ratio)?,
            covariance: solved.covariance,
            n_classes: k,
            n_features: d,
            n_components,
        })
    }

    /// scikit-learn's `_solve_svd`.
    fn solve_svd<F: Real, X: Matrix<F>, Y: Vector<i64>>(
        &self,
        x: &X,
        y: &Y,
        classes_v: &<X::Storage as Storage>::Vec<i64>,
        c: &Classes<X::Storage>,
    ) -> Result<Solved<F, X::Storage>> {
        let (n, d, k, priors) = (c.n, c.d, c.k, &c.priors);
        let device = x.device();
        let count_v = X::Storage::vec_from_host(c.counts.iter().map(|&c| F::from_f64(c as f64)).collect(), device)?;
        let (means_t, std, gram) = lda_stats::tensors::<F>(
            x.arg(),
            y.arg(),
            X::Storage::vec_arg(classes_v),
            X::Storage::vec_arg(&c.yi),
            X::Storage::vec_arg(&count_v),
        )?;
        let means = means_t.to_array::<Ix2>()?.mapv(|v| v.to_f64());
        let std = std.to_array::<Ix1>()?.mapv(|v| if v.to_f64() == 0.0 { 1.0 } else { v.to_f64() });
        let gram = gram.to_array::<Ix2>()?.mapv(|v| v.to_f64());
        let xbar = priors.dot(&means);

        // 1) + 2): the SVD of sqrt(1/n) Xc / std through its Gram matrix.
        let fac = 1.0 / n as f64;
        let scaled = Array2::from_shape_fn((d, d), |(a, b)| fac * gram[[a, b]] / (std[a] * std[b]));
        let (ev, v) = eigh_descending(&scaled)?;
        let s: Vec<f64> = ev.iter().map(|&e| e.max(0.0).sqrt()).collect();
        let rank = s.iter().filter(|&&v| v > self.tol).count();
        if rank == 0 {
            return Err(EstimatorError::Linalg(format!(
                "{NAME}: the within-class scatter is zero (every feature is constant within each class)"
            )));
        }
        let scalings = Array2::from_shape_fn((d, rank), |(j, r)| v[[j, r]] / std[j] / s[r]);

        // 3) The between-class scaling: the SVD of the weighted class centers.
        let fac2 = if k == 1 { 1.0 } else { 1.0 / (k - 1) as f64 };
        let centered = &means - &xbar.view().insert_axis(Axis(0));
        let weighted = Array2::from_shape_fn((k, d), |(c, j)| (n as f64 * priors[c] * fac2).sqrt() * centered[[c, j]]);
        let (_, s2, vt2) = svd(&weighted.dot(&scalings))?;
        let total: f64 = s2.iter().map(|v| v * v).sum();
        let ratio: Array1<f64> = s2.iter().take(c.n_components).map(|v| v * v / total).collect();
        let rank2 = s2.iter().filter(|&&v| v > self.tol * s2[0]).count();
        let scalings_ = scalings.dot(&vt2.slice_axis(Axis(0), Slice::from(..rank2)).t());
        let coef_small = centered.dot(&scalings_);
        let mut intercept: Array1<f64> =
            (0..k).map(|c| -0.5 * coef_small.row(c).iter().map(|v| v * v).sum::<f64>() + priors[c].ln()).collect();
        let coef = coef_small.dot(&scalings_.t());
        intercept = &intercept - &coef.dot(&xbar);

        let covariance = if self.store_covariance {
            let weight: Array1<F> = (0..k).map(|j| F::from_f64(priors[j] / c.counts[j] as f64)).collect();
            let weight = X::Storage::vec_from_host(weight, device)?;
            let cov = lda_class_cov::tensors::<F>(
                x.arg(),
                Matrix::<F>::arg(&means_t),
                X::Storage::vec_arg(&c.yi),
                X::Storage::vec_arg(&weight),
            )?;
            Some(X::Storage::mat(cov)?)
        } else {
            None
        };
        Ok(Solved {
            means: X::Storage::mat(means_t)?,
            coef,
            intercept,
            xbar: Some(xbar),
            kept: c.n_components.min(rank2),
            scalings: Some(scalings_),
            ratio: Some(ratio),
            covariance,
        })
    }

    /// scikit-learn's `_solve_lstsq` and `_solve_eigen`.
    fn solve_covariance<F: Real, X: Matrix<F>>(&self, x: &X, c: &Classes<X::Storage>) -> Result<Solved<F, X::Storage>> {
        let device = x.device();
        let count_v = X::Storage::vec_from_host(c.counts.iter().map(|&c| F::from_f64(c as f64)).collect(), device)?;
        let means_t = lda_means::tensors::<F>(
            x.arg(),
            X::Storage::vec_arg(&c.yi),
            X::Storage::vec_arg(&c.cls),
            X::Storage::vec_arg(&count_v),
        )?;
        let means = means_t.to_array::<Ix2>()?.mapv(|v| v.to_f64());
        let means_s = X::Storage::mat(means_t)?;
        let sw = self.shrunk_cov(x, &means_s, &c.yi, &c.cls, &c.counts, &c.priors)?;
        let (coef, scalings, ratio) = if self.solver == LdaSolver::Lsqr {
            (lstsq_symmetric(&sw, &means)?, None, None)
        } else {
            // The total scatter: all rows as one class about the mean of X.
            let zeros = X::Storage::vec_from_host(Array1::<i64>::zeros(c.n), device)?;
            let one = X::Storage::vec_from_host(Array1::from(vec![0i64]), device)?;
            let n_v = X::Storage::vec_from_host(Array1::from(vec![F::from_f64(c.n as f64)]), device)?;
            let mean_all = X::Storage::mat(lda_means::tensors::<F>(
                x.arg(),
                X::Storage::vec_arg(&zeros),
                X::Storage::vec_arg(&one),
                X::Storage::vec_arg(&n_v),
            )?)?;
            let st = self.shrunk_cov(x, &mean_all, &zeros, &one, &[c.n], &Array1::from(vec![1.0]))?;
            let (evals, evecs) = generalized_eigh(&(&st - &sw), &sw)?;
            // scikit-learn sorts the ratios themselves (descending): with a negative sum (an
            // indefinite Sb, which shrinkage can give) their order is not the eigenvalues'.
            let total = evals.sum();
            let mut ratio: Vec<f64> = evals.iter().map(|v| v / total).collect();
            ratio.sort_by(|a, b| b.total_cmp(a));
            let ratio: Array1<f64> = ratio.into_iter().take(c.n_components).collect();
            let coef = means.dot(&evecs).dot(&evecs.t());
            (coef, Some(evecs), Some(ratio))
        };
        let intercept: Array1<f64> =
            (0..c.k).map(|j| -0.5 * means.row(j).dot(&coef.row(j)) + c.priors[j].ln()).collect();
        let covariance = Some(X::Storage::mat_from_host(sw.mapv(F::from_f64), device)?);
        Ok(Solved {
            means: means_s,
            coef,
            intercept,
            xbar: None,
            kept: if scalings.is_some() { c.n_components } else { 0 },
            scalings,
            ratio,
            covariance,
        })
    }

    /// scikit-learn's `_class_cov`: `sum_c priors[c] * _cov(X_c, shrinkage, covariance_estimator)`
    /// over the classes (`yi` the class index of each row, `cls` = `0..k`), each class's
    /// covariance about its mean (`means`, k x d) and shrunk as `shrinkage` says, or as the
    /// covariance estimator would estimate it from the class's rows.
    #[allow(clippy::too_many_arguments)]
    fn shrunk_cov<F: Real, X: Matrix<F>>(
        &self,
        x: &X,
        means: &<X::Storage as Storage>::Mat<F>,
        yi: &<X::Storage as Storage>::Vec<i64>,
        cls: &<X::Storage as Storage>::Vec<i64>,
        counts: &[usize],
        priors: &Array1<f64>,
    ) -> Result<Array2<f64>> {
        let device = x.device();
        let k = counts.len();
        let class_cov = |weight: Vec<f64>| -> Result<Array2<f64>> {
            let w = X::Storage::vec_from_host(weight.into_iter().map(F::from_f64).collect(), device)?;
            let cov = lda_class_cov::tensors::<F>(
                x.arg(),
                X::Storage::mat_arg(means),
                X::Storage::vec_arg(yi),
                X::Storage::vec_arg(&w),
            )?;
            Ok(cov.to_array::<Ix2>()?.mapv(|v| v.to_f64()))
        };
        if let Some(est) = &self.covariance_estimator {
            // Each class's scatter about its mean (about 0 with assume_centered), and for
            // Ledoit-Wolf its beta (unstandardized rows: a scale of 1), through the estimator's
            // own shrinkage.
            let d = x.dims()?.1;
            let zeros;
            let loc = if est.assume_centered() {
                zeros = X::Storage::mat_from_host(Array2::from_elem((k, d), F::from_f64(0.0)), device)?;
                &zeros
            } else {
                means
            };
            let beta = if est.needs_beta() {
                let ones = X::Storage::mat_from_host(Array2::from_elem((k, d), F::from_f64(1.0)), device)?;
                let b = lda_class_beta::tensors::<F>(
                    x.arg(),
                    X::Storage::mat_arg(loc),
                    X::Storage::mat_arg(&ones),
                    X::Storage::vec_arg(yi),
                    X::Storage::vec_arg(cls),
                )?;
                b.to_array::<Ix1>()?.mapv(|v| v.to_f64())
            } else {
                Array1::zeros(k)
            };
            let mut total = Array2::<f64>::zeros((d, d));
            for c in 0..k {
                let w = X::Storage::vec_from_host(
                    (0..k).map(|j| F::from_f64(if j == c { 1.0 / counts[c] as f64 } else { 0.0 })).collect(),
                    device,
                )?;
                let cov = lda_class_cov::tensors::<F>(
                    x.arg(),
                    X::Storage::mat_arg(loc),
                    X::Storage::vec_arg(yi),
                    X::Storage::vec_arg(&w),
                )?
                .to_array::<Ix2>()?
                .mapv(|v| v.to_f64());
                total.scaled_add(priors[c], &est.covariance_of(&cov, beta[c], counts[c]));
            }
            return Ok(total);
        }
        match self.shrinkage {
            None => class_cov((0..k).map(|c| priors[c] / counts[c] as f64).collect()),
            // Shrinking is linear in the covariance (trace included): shrinking the weighted
            // sum is the weighted sum of the shrunk class covariances.
            Some(Shrinkage::Fixed(s)) => {
                Ok(shrink(&class_cov((0..k).map(|c| priors[c] / counts[c] as f64).collect())?, s))
            }
            Some(Shrinkage::Auto) => {
                // Each class: its covariance, the scale StandardScaler would divide by, and
                // Ledoit-Wolf's shrinkage of the standardized rows.
                let covs: Vec<Array2<f64>> = (0..k)
                    .map(|c| class_cov((0..k).map(|j| if j == c { 1.0 / counts[c] as f64 } else { 0.0 }).collect()))
                    .collect::<Result<_>>()?;
                let d = covs[0].nrows();
                let scales: Vec<Array1<f64>> =
                    covs.iter().map(|cov| cov.diag().mapv(|v| if v > 0.0 { v.sqrt() } else { 1.0 })).collect();
                let inv = Array2::from_shape_fn((k, d), |(c, j)| F::from_f64(1.0 / scales[c][j]));
                let inv = X::Storage::mat_from_host(inv, device)?;
                let beta = lda_class_beta::tensors::<F>(
                    x.arg(),
                    X::Storage::mat_arg(means),
                    X::Storage::mat_arg(&inv),
                    X::Storage::vec_arg(yi),
                    X::Storage::vec_arg(cls),
                )?
                .to_array::<Ix1>()?;
                let mut total = Array2::<f64>::zeros((d, d));
                for c in 0..k {
                    let sc = &scales[c];
                    let corr = Array2::from_shape_fn((d, d), |(a, b)| covs[c][[a, b]] / (sc[a] * sc[b]));
                    let lambda = ledoit_wolf_shrinkage_of(&corr, beta[c].to_f64(), counts[c]);
                    let shrunk = shrink(&corr, lambda);
                    total += &Array2::from_shape_fn((d, d), |(a, b)| priors[c] * sc[a] * shrunk[[a, b]] * sc[b]);
                }
                Ok(total)
            }
        }
    }

    /// The priors for classes with `counts` rows out of `n`: the class frequencies, or the
    /// given ones checked (one per class, non-negative) and renormalized when their sum is
    /// more than 1e-5 away from 1, as scikit-learn does (with a warning).
    fn checked_priors(&self, counts: &[usize], n: usize) -> Result<Array1<f64>> {
        let Some(p) = self.priors.as_deref() else {
            return Ok(counts.iter().map(|&c| c as f64 / n as f64).collect());
        };
        let bad = |expected: &str| EstimatorError::param(NAME, "priors", expected, format!("{p:?}"));
        if p.len() != counts.len() {
            return Err(bad(&format!("one value per class ({} classes)", counts.len())));
        }
        if p.iter().any(|&v| v < 0.0 || v.is_nan()) {
            return Err(bad("non-negative: priors must be non-negative"));
        }
        let total: f64 = p.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(bad("finite values with a positive sum"));
        }
        let p = Array1::from(p.to_vec());
        Ok(if (total - 1.0).abs() > 1e-5 { p / total } else { p })
    }
}

impl<F: Real, S: Storage> LinearDiscriminantAnalysis<F, S> {
    /// The class labels, sorted (`classes_`).
    pub fn classes(&self) -> &S::Vec<i64> {
        &self.classes
    }

    /// The class means (`means_`, n_classes x n_features).
    pub fn means(&self) -> &S::Mat<F> {
        &self.means
    }

    /// The class priors, summing to 1 (`priors_`).
    pub fn priors(&self) -> &S::Vec<F> {
        &self.priors
    }

    /// The overall mean, `priors_ @ means_` (`xbar_`; the svd solver only, `None` otherwise as
    /// scikit-learn has no such attribute there).
    pub fn xbar(&self) -> Option<&S::Vec<F>> {
        self.xbar.as_ref()
    }

    /// The discriminant directions (`scalings_`): svd, n_features x rank, scaled so the
    /// projected within-class covariance is the identity; eigen, the n_features x n_features
    /// generalized eigenvectors (decreasing eigenvalue); `None` for lsqr (scikit-learn has no
    /// such attribute there). Each column's sign may differ from scikit-learn's (see the module
    /// notes).
    pub fn scalings(&self) -> Option<&S::Mat<F>> {
        self.scalings.as_ref()
    }

    /// The solver the model was fitted with (`solver`).
    pub fn solver(&self) -> LdaSolver {
        self.solver
    }

    /// The weight vectors (`coef_`: one row for two classes, else n_classes x n_features).
    pub fn coef(&self) -> &S::Mat<F> {
        &self.coef
    }

    /// The intercepts (`intercept_`: one value for two classes, else one per class).
    pub fn intercept(&self) -> &S::Vec<F> {
        &self.intercept
    }

    /// The fraction of the between-class variance along each discriminant direction
    /// (`explained_variance_ratio_`, `n_components` values at most; the ratios are of the
    /// variance along every direction, so a cut list sums to less than 1; `None` for lsqr).
    pub fn explained_variance_ratio(&self) -> Option<&S::Vec<F>> {
        self.explained_variance_ratio.as_ref()
    }

    /// The prior-weighted within-class covariance (`covariance_`, n_features x n_features;
    /// shrunk as `shrinkage` says), always with the lsqr and eigen solvers, with svd when
    /// fitted with `store_covariance(true)`.
    pub fn covariance(&self) -> Option<&S::Mat<F>> {
        self.covariance.as_ref()
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The number of components `transform` returns at most (`n_components`, or
    /// `min(n_classes - 1, n_features)`).
    pub fn n_components(&self) -> usize {
        self.n_components
    }

    /// `x` projected on the discriminant directions, `(x - xbar_) @ scalings_` (svd) or
    /// `x @ scalings_` (eigen), cut to `n_components` columns (svd: fewer when the class
    /// centers span fewer directions).
    ///
    /// # Errors
    /// The lsqr solver ([`EstimatorError::NotAvailable`], scikit-learn's
    /// `NotImplementedError`); a different feature count than at fit time; NaN or infinity in
    /// `x`; `x` on another device than the model; a model with no direction to project on (a
    /// single class).
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        if self.solver == LdaSolver::Lsqr {
            return Err(EstimatorError::NotAvailable(
                "transform not implemented for 'lsqr' solver (use 'svd' or 'eigen').".into(),
            ));
        }
        check_fitted_x(NAME, self.n_features, x)?;
        let Some(p) = &self.projection else {
            return Err(EstimatorError::InvalidTarget(format!(
                "{NAME} was fitted with a single class: it has no discriminant direction to transform with"
            )));
        };
        X::Storage::mat(lda_transform::tensors::<F>(x.arg(), S::vec_arg(&self.center), S::mat_arg(p))?)
    }

    /// The decision values, probabilities, log-probabilities and labels of `x`, after the
    /// checks every prediction makes.
    fn run<X: Matrix<F>>(&self, x: &X) -> Result<(Tensor<F>, Tensor<F>, Tensor<F>, Tensor<i64>)> {
        check_fitted_x(NAME, self.n_features, x)?;
        let k = self.n_classes;
        let pos: Array1<F> = (0..k).map(|c| F::from_f64(if c + 1 == k { 1.0 } else { 0.0 })).collect();
        let pos = S::vec_from_host(pos, S::vec_device(&self.classes))?;
        let tiny =
            F::from_f64(if std::mem::size_of::<F>() == 4 { f64::from(f32::MIN_POSITIVE) } else { f64::MIN_POSITIVE });
        Ok(lda_predict::tensors::<F>(
            x.arg(),
            S::mat_arg(&self.full_coef),
            S::vec_arg(&self.full_intercept),
            S::vec_arg(&self.classes),
            S::vec_arg(&pos),
            F::from_f64(if k == 2 { 1.0 } else { 0.0 }),
            tiny,
        )?)
    }

    /// `x @ coef_.T + intercept_` (`decision_function`): n x n_classes, or n x 1 for two
    /// classes (the log-likelihood ratio of the second class; scikit-learn returns it as a
    /// vector).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn decision_function<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let scores = self.run(x)?.0;
        if self.n_classes == 2 {
            return X::Storage::mat(lda_last_column::tensors::<F>(&scores)?);
        }
        X::Storage::mat(scores)
    }

    /// Class probabilities (n x n_classes, columns in [`LinearDiscriminantAnalysis::classes`]
    /// order).
    ///
    /// # Errors
    /// As [`LinearDiscriminantAnalysis::decision_function`].
    pub fn predict_proba<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.run(x)?.1)
    }

    /// The logarithms of [`LinearDiscriminantAnalysis::predict_proba`] (a probability of 0
    /// counts as the smallest normal number).
    ///
    /// # Errors
    /// As [`LinearDiscriminantAnalysis::decision_function`].
    pub fn predict_log_proba<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.run(x)?.2)
    }

    /// The class with the largest decision value for each row.
    ///
    /// # Errors
    /// As [`LinearDiscriminantAnalysis::decision_function`].
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, i64>> {
        X::Storage::vec(self.run(x)?.3)
    }

    /// Mean accuracy on `x` against `y` (scikit-learn's classifier `score`).
    ///
    /// # Errors
    /// As [`LinearDiscriminantAnalysis::predict`]; `y` of another length than X's rows.
    pub fn score<X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<f64>
    where
        Vect<X::Storage, i64>: Vector<i64>,
    {
        let p = self.predict(x)?;
        crate::metrics::accuracy_score(y, &p)
    }
}

crate::traits::supervised!(LinearDiscriminantAnalysisParams => LinearDiscriminantAnalysis, i64, predict_proba, decision_function);
impl crate::model_selection::FromParam for LdaSolver {
    fn from_param(v: &crate::model_selection::ParamValue) -> std::result::Result<Self, String> {
        match v {
            crate::model_selection::ParamValue::Str(s) if s == "svd" => Ok(LdaSolver::Svd),
            crate::model_selection::ParamValue::Str(s) if s == "lsqr" => Ok(LdaSolver::Lsqr),
            crate::model_selection::ParamValue::Str(s) if s == "eigen" => Ok(LdaSolver::Eigen),
            _ => Err("a str among {'svd', 'lsqr', 'eigen'}".into()),
        }
    }
}

/// `shrinkage="auto"` or a float (no value stands for scikit-learn's `None`: set the parameter
/// with [`LinearDiscriminantAnalysisParams::shrinkage`] for that).
impl crate::model_selection::FromParam for Option<Shrinkage> {
    fn from_param(v: &crate::model_selection::ParamValue) -> std::result::Result<Self, String> {
        match v {
            crate::model_selection::ParamValue::Str(s) if s == "auto" => Ok(Some(Shrinkage::Auto)),
            crate::model_selection::ParamValue::Float(x) => Ok(Some(Shrinkage::Fixed(*x))),
            crate::model_selection::ParamValue::Int(i) => Ok(Some(Shrinkage::Fixed(*i as f64))),
            _ => Err("a str among {'auto'} or a float".into()),
        }
    }
}

crate::model_selection::set_params!(LinearDiscriminantAnalysisParams, "LinearDiscriminantAnalysis" {
    "solver" => solver: LdaSolver,
    "shrinkage" => shrinkage: Option<Shrinkage>,
    "n_components" => n_components: usize,
    "tol" => tol: f64,
    "store_covariance" => store_covariance: bool,
});
