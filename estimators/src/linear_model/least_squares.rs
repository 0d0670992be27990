//! `LinearRegression` (ordinary least squares) and `Ridge` (L2-penalized least squares).
//!
//! Both fit the same way: one kernel over X and t returns the column means, the mean of t and
//! the Gram system `Xc^T Xc`, `Xc^T tc` of the centered data (uncentered when `fit_intercept`
//! is off); the d x d system is solved on the host in f64 with faer, and the intercept is
//! `t_mean - x_mean . coef` (the intercept is never penalized, like scikit-learn). Ridge solves
//! `(G + alpha I) w = b` by Cholesky (scikit-learn's `cholesky` solver, what `auto` picks for
//! dense X; with `alpha = 0` on more features than samples, or a singular G, the minimum-norm
//! solution below, as scikit-learn's kernel and SVD solvers give). LinearRegression takes the
//! minimum-norm solution through an eigendecomposition of G,
//! dropping eigenvalues below `d * eps * max eigenvalue`, which equals scikit-learn's `lstsq`
//! result for full-rank X and stays defined for rank-deficient X.

use crate::data::{check_finite_unless, check_fitted_x, check_len, check_x_shape, Host, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use faer::{Mat as FMat, Side};
use kiln_macros::kernel;
use ndarray::{Array1, Ix1, Ix2};

mod multi_target;
pub use multi_target::MultiTargetLinearModel;

/// Column means of X and the mean of t (scaled by `center`, 1 or 0), and the Gram system
/// `Xc^T Xc`, `Xc^T tc` of the data centered by them (as scikit-learn centers X and y before
/// solving). The products are contractions over the rows that read the centered data, so the
/// schedule keeps `xc` and `tc` in buffers (each written once) instead of subtracting the means
/// again d times per element of X.
#[kernel(crate = kiln_runtime)]
fn gram_system<F: Float>(x: Array2<F>, t: Array1<F>, center: F) -> (Array1<F>, F, Array2<F>, Array1<F>) {
    let x_mean = x.mean_axis(Axis(0)) * center;
    let t_mean = t.mean() * center;
    let xc = &x - &x_mean;
    let tc = &t - t_mean;
    (x_mean, t_mean, xc.t().dot(&xc), xc.t().dot(&tc))
}

/// [`gram_system`] with per-sample weights `w`: the weighted means (numpy's `average`) and
/// `Xc^T W Xc`, `Xc^T W tc` (scikit-learn's rescaling of the rows by `sqrt(w)`), accumulated in
/// f64 whatever X's type: with weights an f32 Gram matrix loses enough to move the solution of
/// a nearly singular system (an exactly redundant feature at a small alpha) by 1e-3 relative,
/// which f64 sums avoid at no cost in kernel passes.
#[kernel(crate = kiln_runtime)]
fn gram_system_weighted<F: Float>(
    x: Array2<F>,
    t: Array1<F>,
    w: Array1<F>,
    center: f64,
) -> (Array1<f64>, f64, Array2<f64>, Array1<f64>) {
    let xf = x as f64;
    let tf = t as f64;
    let wf = w as f64;
    let sw = wf.sum();
    let x_mean = (&xf * &wf.insert_axis(Axis(1))).sum_axis(Axis(0)) / sw * center;
    let t_mean = (&tf * &wf).sum() / sw * center;
    let xc = &xf - &x_mean;
    let tc = &tf - t_mean;
    let xw = &xc * &wf.insert_axis(Axis(1));
    (x_mean, t_mean, xw.t().dot(&xc), xw.t().dot(&tc))
}

/// The smallest weight and whether any is NaN or infinite (a NaN sum).
#[kernel(crate = kiln_runtime)]
fn weight_stats<F: Float>(w: Array1<F>) -> (F, F) {
    (w.min(), (&w * 0.0).sum())
}

/// `X coef + intercept`.
#[kernel(crate = kiln_runtime)]
fn linear_predict<F: Float>(x: Array2<F>, coef: Array1<F>, intercept: F) -> Array1<F> {
    x.dot(&coef) + intercept
}

/// Which penalized least-squares problem a fit solves.
#[derive(Debug, Clone, Copy)]
enum Solver {
    /// Minimum-norm least squares (LinearRegression).
    Lstsq,
    /// `(G + alpha I)` by Cholesky (Ridge).
    Cholesky { alpha: f64 },
}

/// A fitted linear regressor: `coef` (d) kept where it was fitted, and the intercept. `P` is
/// the hyper-parameters type it was fitted with ([`LinearRegressionParams`] or [`RidgeParams`]).
#[derive(Debug, Clone)]
pub struct LinearModel<F: Real, S: Storage, P> {
    coef: S::Vec<F>,
    intercept: F,
    n_features: usize,
    params: P,
}

crate::relocate!([F: Real, P: crate::relocate::Attr] LinearModel<F, @, P> { coef: vec[d], intercept, n_features: size[d], params });

/// A fitted ordinary least squares model (`LinearRegression::params().fit(&x, &t)?`).
pub type LinearRegression<F, S> = LinearModel<F, S, LinearRegressionParams>;
/// A fitted ridge regression model (`Ridge::params().alpha(1.0).fit(&x, &t)?`).
pub type Ridge<F, S> = LinearModel<F, S, RidgeParams>;

/// Hyper-parameters of [`LinearRegression`] (scikit-learn's defaults: `fit_intercept = true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinearRegressionParams {
    fit_intercept: bool,
}

/// Hyper-parameters of [`Ridge`] (scikit-learn's defaults: `alpha = 1`, `fit_intercept = true`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RidgeParams {
    alpha: f64,
    fit_intercept: bool,
}

/// The estimator's name in messages.
pub trait EstimatorName {
    /// scikit-learn's class name.
    const NAME: &'static str;
}

impl EstimatorName for LinearRegressionParams {
    const NAME: &'static str = "LinearRegression";
}

impl EstimatorName for RidgeParams {
    const NAME: &'static str = "Ridge";
}

impl LinearRegression<f64, Host> {
    /// Ordinary least squares with scikit-learn's defaults.
    pub fn params() -> LinearRegressionParams {
        LinearRegressionParams { fit_intercept: true }
    }
}

impl Ridge<f64, Host> {
    /// Ridge regression with scikit-learn's defaults (`alpha = 1`).
    pub fn params() -> RidgeParams {
        RidgeParams { alpha: 1.0, fit_intercept: true }
    }
}

impl LinearRegressionParams {
    /// Whether to fit an intercept (`fit_intercept`); without one the data is not centered.
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// Fit `t ~ X coef + intercept` by least squares.
    ///
    /// # Errors
    /// Empty or non-finite X or t, t of another length than X's rows; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>, T: Vector<F>>(&self, x: &X, t: &T) -> Result<LinearRegression<F, X::Storage>> {
        fit(*self, x, t, None::<&Array1<F>>, self.fit_intercept, Solver::Lstsq)
    }

    /// [`LinearRegressionParams::fit`] with per-sample weights `w` (`sample_weight`: finite,
    /// non-negative, one per row of `x`, on its device): weighted least squares.
    ///
    /// # Errors
    /// As [`LinearRegressionParams::fit`]; `w` of another length than X's rows, non-finite,
    /// negative or summing to 0.
    pub fn fit_weighted<F: Real, X: Matrix<F>, T: Vector<F>, W: Vector<F>>(
        &self,
        x: &X,
        t: &T,
        w: &W,
    ) -> Result<LinearRegression<F, X::Storage>> {
        fit(*self, x, t, Some(w), self.fit_intercept, Solver::Lstsq)
    }
}

impl RidgeParams {
    /// The L2 penalty strength (`alpha`, at least 0).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Whether to fit an (unpenalized) intercept (`fit_intercept`).
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// Fit `t ~ X coef + intercept` minimizing `||t - X coef - intercept||^2 + alpha ||coef||^2`.
    ///
    /// # Errors
    /// `alpha` negative or not finite; empty or non-finite X or t; t of another length than X's
    /// rows; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>, T: Vector<F>>(&self, x: &X, t: &T) -> Result<Ridge<F, X::Storage>> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(EstimatorError::param("Ridge", "alpha", "a float in the range [0.0, inf)", self.alpha));
        }
        fit(*self, x, t, None::<&Array1<F>>, self.fit_intercept, Solver::Cholesky { alpha: self.alpha })
    }

    /// [`RidgeParams::fit`] with per-sample weights `w` (`sample_weight`: finite,
    /// non-negative, one per row of `x`, on its device): minimizes
    /// `sum_i w_i (t_i - x_i coef - intercept)^2 + alpha ||coef||^2`.
    ///
    /// # Errors
    /// As [`RidgeParams::fit`]; `w` of another length than X's rows, non-finite, negative or
    /// summing to 0.
    pub fn fit_weighted<F: Real, X: Matrix<F>, T: Vector<F>, W: Vector<F>>(
        &self,
        x: &X,
        t: &T,
        w: &W,
    ) -> Result<Ridge<F, X::Storage>> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(EstimatorError::param("Ridge", "alpha", "a float in the range [0.0, inf)", self.alpha));
        }
        fit(*self, x, t, Some(w), self.fit_intercept, Solver::Cholesky { alpha: self.alpha })
    }
}

/// The fit shared by both estimators, with or without sample weights.
fn fit<F: Real, X: Matrix<F>, T: Vector<F>, W: Vector<F>, P: EstimatorName>(
    params: P,
    x: &X,
    t: &T,
    w: Option<&W>,
    fit_intercept: bool,
    solver: Solver,
) -> Result<LinearModel<F, X::Storage, P>> {
    // The Gram matrix sums (the squares of) every element of X: it checks for NaN and
    // infinity (`check_finite_unless`).
    let (n, d) = check_x_shape(P::NAME, x, 1)?;
    check_len("y", t.length()?, n)?;
    let center = F::from_f64(if fit_intercept { 1.0 } else { 0.0 });
    let wide = |a: Array1<F>| a.mapv(|v| v.to_f64());
    let (x_mean, t_mean, gram, xty) = match w {
        None => {
            let (x_mean, t_mean, gram, xty) = gram_system::tensors::<F>(x.arg(), t.arg(), center)?;
            let gram = gram.to_array::<Ix2>()?.mapv(|v: F| v.to_f64());
            (wide(x_mean.to_array::<Ix1>()?), t_mean.item()?.to_f64(), gram, wide(xty.to_array::<Ix1>()?))
        }
        Some(w) => {
            check_weights(w, n)?;
            let (x_mean, t_mean, gram, xty) =
                gram_system_weighted::tensors::<F>(x.arg(), t.arg(), w.arg(), center.to_f64())?;
            (x_mean.to_array::<Ix1>()?, t_mean.item()?, gram.to_array::<Ix2>()?, xty.to_array::<Ix1>()?)
        }
    };
    let diagonal = (0..d).all(|i| gram[[i, i]].is_finite());
    check_finite_unless(x, diagonal && x_mean.iter().all(|v| v.is_finite()))?;
    if !t_mean.is_finite() {
        return Err(EstimatorError::NonFinite { what: "y" });
    }
    if xty.iter().any(|v| !v.is_finite()) {
        return Err(EstimatorError::NonFinite { what: "y" });
    }
    let g = FMat::<f64>::from_fn(d, d, |i, j| gram[[i, j]]);
    let b = FMat::<f64>::from_fn(d, 1, |i, _| xty[i]);
    let coef = match solver {
        // scikit-learn solves a wide problem (n_features > n_samples) through the n x n kernel
        // X X^T + alpha I, which for alpha = 0 gives the minimum-norm least-squares solution
        // (and falls back to its SVD solver, the same solution, when that kernel is singular):
        // here the eigendecomposition of X^T X gives it directly. A singular X^T X + alpha I
        // otherwise (alpha = 0 on rank-deficient X) takes the same route, as scikit-learn's
        // fallback from Cholesky to its SVD solver does.
        Solver::Cholesky { alpha } if alpha == 0.0 && d >= n => solve_lstsq(&g, &b, n.max(d), eps_of::<F>())?,
        Solver::Cholesky { alpha } => match solve_ridge(&g, &b, alpha) {
            Ok(w) => w,
            Err(_) if alpha == 0.0 => solve_lstsq(&g, &b, n.max(d), eps_of::<F>())?,
            Err(e) => return Err(e),
        },
        Solver::Lstsq => solve_lstsq(&g, &b, n.max(d), eps_of::<F>())?,
    };
    let intercept = t_mean - coef.iter().zip(x_mean.iter()).map(|(c, m)| c * m).sum::<f64>();
    let coef = Array1::from_iter(coef.into_iter().map(F::from_f64));
    Ok(LinearModel {
        coef: X::Storage::vec_from_host(coef, x.device())?,
        intercept: F::from_f64(intercept),
        n_features: d,
        params,
    })
}

/// Sample weights: one per row, finite, non-negative, not all 0 (scikit-learn's
/// `_check_sample_weight(..., ensure_non_negative=True)`).
pub(crate) fn check_weights<F: Real, W: Vector<F>>(w: &W, n: usize) -> Result<()> {
    check_len("sample_weight", w.length()?, n)?;
    let (min, probe) = weight_stats::tensors::<F>(w.arg())?;
    if probe.item()?.to_f64().is_nan() {
        return Err(EstimatorError::NonFinite { what: "sample_weight" });
    }
    if min.item()?.to_f64() < 0.0 {
        return Err(EstimatorError::InvalidTarget("Negative values in data passed to `sample_weight`".into()));
    }
    Ok(())
}

/// The unit roundoff of `F` (the Gram matrix is computed in `F`).
fn eps_of<F: Real>() -> f64 {
    if std::mem::size_of::<F>() == 4 {
        f64::from(f32::EPSILON)
    } else {
        f64::EPSILON
    }
}

/// `(G + alpha I) w = b` by Cholesky.
fn solve_ridge(g: &FMat<f64>, b: &FMat<f64>, alpha: f64) -> Result<Vec<f64>> {
    let d = g.nrows();
    let a = FMat::<f64>::from_fn(d, d, |i, j| g[(i, j)] + if i == j { alpha } else { 0.0 });
    let llt = a
        .llt(Side::Lower)
        .map_err(|e| EstimatorError::Linalg(format!("Ridge: X^T X + alpha I is not positive definite ({e:?})")))?;
    let w = faer::linalg::solvers::Solve::solve(&llt, b);
    Ok((0..d).map(|i| w[(i, 0)]).collect())
}

/// The minimum-norm solution of `G w = b` (G symmetric positive semi-definite), dropping
/// eigenvalues below `max(n, d) * eps * max eigenvalue` like `lstsq`'s default cutoff.
fn solve_lstsq(g: &FMat<f64>, b: &FMat<f64>, m: usize, eps: f64) -> Result<Vec<f64>> {
    let d = g.nrows();
    let evd = g
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| EstimatorError::Linalg(format!("LinearRegression: eigendecomposition of X^T X failed ({e:?})")))?;
    let (u, s) = (evd.U(), evd.S());
    let lmax = (0..d).map(|i| s[i]).fold(0.0f64, f64::max);
    let cutoff = m as f64 * eps * lmax;
    let mut w = vec![0.0; d];
    for k in 0..d {
        if s[k] > cutoff {
            let proj: f64 = (0..d).map(|i| u[(i, k)] * b[(i, 0)]).sum::<f64>() / s[k];
            w.iter_mut().enumerate().for_each(|(i, wi)| *wi += proj * u[(i, k)]);
        }
    }
    Ok(w)
}

impl<F: Real, S: Storage, P: EstimatorName> LinearModel<F, S, P> {
    /// A model from coefficients found elsewhere (RidgeCV's leave-one-out solution).
    pub(crate) fn from_parts(coef: S::Vec<F>, intercept: F, n_features: usize, params: P) -> Self {
        LinearModel { coef, intercept, n_features, params }
    }

    /// The coefficients (`coef_`, one per feature).
    pub fn coef(&self) -> &S::Vec<F> {
        &self.coef
    }

    /// The intercept (`intercept_`; 0 when `fit_intercept` is off).
    pub fn intercept(&self) -> F {
        self.intercept
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The hyper-parameters the model was fitted with.
    pub fn fitted_params(&self) -> &P {
        &self.params
    }

    /// `X coef + intercept` (ndarray in, ndarray out; tensor in, tensor out on its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, F>> {
        check_fitted_x(P::NAME, self.n_features, x)?;
        let p = linear_predict::tensors::<F>(x.arg(), S::vec_arg(&self.coef), self.intercept)?;
        X::Storage::vec(p)
    }

    /// R² of the prediction on `x` against `t` (scikit-learn's regressor `score`).
    ///
    /// # Errors
    /// As [`LinearModel::predict`]; `t` of another length than X's rows.
    pub fn score<X: Matrix<F>, T: Vector<F>>(&self, x: &X, t: &T) -> Result<f64>
    where
        Vect<X::Storage, F>: Vector<F>,
    {
        let p = self.predict(x)?;
        crate::metrics::r2_score::<F, _, _>(t, &p)
    }
}

crate::traits::supervised!(LinearRegressionParams => LinearRegression, F);
crate::traits::supervised!(RidgeParams => Ridge, F);
crate::model_selection::set_params!(LinearRegressionParams, "LinearRegression" { "fit_intercept" => fit_intercept: bool });
crate::model_selection::set_params!(RidgeParams, "Ridge" { "alpha" => alpha: f64, "fit_intercept" => fit_intercept: bool });
