//! `RidgeCV`: ridge regression with its `alpha` chosen from a grid by efficient leave-one-out
//! cross-validation (scikit-learn's `_RidgeGCV`).
//!
//! One spectral decomposition serves every alpha. The data are centered (when `fit_intercept`)
//! and widened to f64 as scikit-learn converts them; with `n_samples <= n_features` ("gram")
//! the n x n Gram matrix `Xc Xc^T + 1 1^T` is a kernel, its eigendecomposition runs on the host
//! with faer and gives the orthonormal basis `Q`; otherwise ("cov", and "svd") the (d + 1) x
//! (d + 1) cross-product matrix of `[Xc, 1]` is a kernel, its eigendecomposition on the host
//! gives `V` and the squared singular values, and the left singular vectors
//! `U = [Xc, 1] V / s` are a kernel where the data live. For every alpha at once a last kernel
//! gives the dual coefficients `c` and the diagonal of `G^-1 = (K + alpha I)^-1`, the intercept
//! direction unpenalized; the leave-one-out residuals are `c / diag(G^-1)`. The coefficients are
//! `Xc^T c` (a kernel). Results equal scikit-learn's up to rounding (its SVD is LAPACK's).

use super::Ridge;
use crate::data::{check_len, check_x, Host, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::decomposition::linalg::eigh_descending;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::{Device, Tensor};
use ndarray::{Array1, Array2, Axis, Ix1, Ix2};

/// X and t widened to f64, their means (scaled by `center`, 1 or 0) and the centered data.
#[kernel(crate = kiln_runtime)]
fn rcv_center<F: Float>(x: Array2<F>, t: Array1<F>, center: f64) -> (Array1<f64>, f64, Array2<f64>, Array1<f64>) {
    let xf = x as f64;
    let tf = t as f64;
    let x_mean = xf.mean_axis(Axis(0)) * center;
    let t_mean = tf.mean() * center;
    (x_mean, t_mean, &xf - &x_mean, &tf - t_mean)
}

/// [`rcv_center`] with sample weights, as scikit-learn's `_preprocess_data(...,
/// rescale_with_sw=True)`: the weighted means, the centered data with each row scaled by
/// `sqrt(w)`, and `sqrt(w)` (the column that stands for the intercept).
#[kernel(crate = kiln_runtime)]
fn rcv_center_weighted<F: Float>(
    x: Array2<F>,
    t: Array1<F>,
    w: Array1<F>,
    center: f64,
) -> (Array1<f64>, f64, Array2<f64>, Array1<f64>, Array1<f64>) {
    let xf = x as f64;
    let tf = t as f64;
    let wf = w as f64;
    let wsum = wf.sum();
    let x_mean = (&xf * &wf.insert_axis(Axis(1))).sum_axis(Axis(0)) / wsum * center;
    let t_mean = (&tf * &wf).sum() / wsum * center;
    let s = wf.sqrt();
    let xs = (&xf - &x_mean) * s.insert_axis(Axis(1));
    let ts = (&tf - t_mean) * &s;
    (x_mean, t_mean, xs, ts, s)
}

/// `Xc Xc^T` (n x n).
#[kernel(crate = kiln_runtime)]
fn rcv_gram(xc: Array2<f64>) -> Array2<f64> {
    xc.dot(&xc.t())
}

/// `Xc^T Xc` (d x d) and `Xc^T sw` (the cross-products with the intercept's column `sw`:
/// ones, or the square roots of the sample weights).
#[kernel(crate = kiln_runtime)]
fn rcv_cov(xc: Array2<f64>, sw: Array1<f64>) -> (Array2<f64>, Array1<f64>) {
    (xc.t().dot(&xc), xc.t().dot(&sw))
}

/// The left singular vectors `(Xc V_top + sw v_last^T) / s`, `U^T sw` and `U^T tc`.
#[kernel(crate = kiln_runtime)]
fn rcv_left(
    xc: Array2<f64>,
    tc: Array1<f64>,
    sw: Array1<f64>,
    v_top: Array2<f64>,
    v_last: Array1<f64>,
    inv_s: Array1<f64>,
) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
    let u = (xc.dot(&v_top) + sw.insert_axis(Axis(1)) * v_last) * inv_s;
    let sums = u.t().dot(&sw);
    let uty = u.t().dot(&tc);
    (u, sums, uty)
}

/// For every alpha (column `a`): the dual coefficients `U (w ∘ U^T t) + t * add` and the
/// diagonal of `G^-1`, `(U ∘ U) w + add` (`wq = w ∘ U^T t`).
#[kernel(crate = kiln_runtime)]
fn rcv_loo(
    u: Array2<f64>,
    tc: Array1<f64>,
    w: Array2<f64>,
    wq: Array2<f64>,
    add: Array1<f64>,
) -> (Array2<f64>, Array2<f64>) {
    let c = u.dot(&wq) + tc.insert_axis(Axis(1)) * add;
    let g = (&u * &u).dot(&w) + add;
    (c, g)
}

/// `Xc^T c`.
#[kernel(crate = kiln_runtime)]
fn rcv_primal(xc: Array2<f64>, c: Array1<f64>) -> Array1<f64> {
    xc.t().dot(&c)
}

/// Which decomposition the leave-one-out errors come from (scikit-learn's `gcv_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GcvMode {
    /// The Gram matrix when `n_samples <= n_features`, else the covariance (`"auto"`, `None`).
    #[default]
    Auto,
    /// As `Auto` (scikit-learn 1.9 picks the Gram or covariance eigendecomposition by shape).
    Eigen,
    /// The singular value decomposition of X (here through the covariance matrix's
    /// eigendecomposition, which gives the same singular vectors).
    Svd,
}

/// How the alphas are compared (scikit-learn's `scoring`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RidgeScoring {
    /// The negative mean squared leave-one-out error (`None`).
    #[default]
    NegMeanSquaredError,
    /// The R² of the leave-one-out predictions (`"r2"`).
    R2,
    /// Any regression scorer of the registry (`"neg_mean_absolute_error"`, ...:
    /// `RidgeScoring::Scorer(Scorer::from_name(name)?)`) of the leave-one-out predictions, or
    /// of each fold's predictions with `cv`; unweighted (refused with sample weights).
    Scorer(crate::model_selection::Scorer),
}

impl RidgeScoring {
    /// The registry scorer, checked: a regression scorer, and no sample weights.
    fn checked(self, weighted: bool) -> Result<Option<crate::model_selection::Scorer>> {
        let RidgeScoring::Scorer(s) = self else { return Ok(None) };
        if s.is_classification() {
            return Err(s.wrong_target(false));
        }
        if weighted {
            return Err(EstimatorError::NotAvailable(format!(
                "scoring '{}' with sample weights: kiln's scorers take no sample weights (None and \"r2\" are \
                 weighted)",
                s.name()
            )));
        }
        Ok(Some(s))
    }
}

/// Hyper-parameters of [`RidgeCV`] (scikit-learn's defaults: alphas `[0.1, 1, 10]`, an
/// intercept, leave-one-out by GCV, the squared error).
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeCVParams {
    alphas: Vec<f64>,
    fit_intercept: bool,
    gcv_mode: GcvMode,
    scoring: RidgeScoring,
    store_cv_results: bool,
    cv: Option<usize>,
}

/// A fitted `RidgeCV`: the chosen alpha, its score, and the ridge model it gives.
#[derive(Debug, Clone)]
pub struct RidgeCV<F: Real, S: Storage> {
    alpha: f64,
    best_score: f64,
    model: Ridge<F, S>,
    cv_results: Option<Array2<f64>>,
}

crate::relocate!([F: Real] RidgeCV<F, @> { alpha, best_score, model: model, cv_results });

impl RidgeCV<f64, Host> {
    /// scikit-learn's defaults: `alphas = [0.1, 1.0, 10.0]`, `fit_intercept = true`,
    /// `gcv_mode = "auto"`, `scoring = None`, `store_cv_results = false`.
    pub fn params() -> RidgeCVParams {
        RidgeCVParams {
            alphas: vec![0.1, 1.0, 10.0],
            fit_intercept: true,
            gcv_mode: GcvMode::Auto,
            scoring: RidgeScoring::NegMeanSquaredError,
            store_cv_results: false,
            cv: None,
        }
    }
}

impl RidgeCVParams {
    /// The penalties tried (`alphas`, each > 0).
    pub fn alphas(mut self, alphas: Vec<f64>) -> Self {
        self.alphas = alphas;
        self
    }

    /// Whether to fit an (unpenalized) intercept (`fit_intercept`).
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// Which decomposition gives the leave-one-out errors (`gcv_mode`).
    pub fn gcv_mode(mut self, mode: GcvMode) -> Self {
        self.gcv_mode = mode;
        self
    }

    /// How alphas are compared (`scoring`).
    pub fn scoring(mut self, scoring: RidgeScoring) -> Self {
        self.scoring = scoring;
        self
    }

    /// Keep every sample's leave-one-out value for every alpha (`store_cv_results`).
    pub fn store_cv_results(mut self, yes: bool) -> Self {
        self.store_cv_results = yes;
        self
    }

    /// Choose alpha by k-fold cross-validation instead of leave-one-out (`cv=k`: scikit-learn's
    /// unshuffled `KFold(k)` over a `GridSearchCV` of `Ridge`, scored by R²).
    pub fn cv(mut self, n_splits: usize) -> Self {
        self.cv = Some(n_splits);
        self
    }

    /// Fit a ridge model for each alpha by leave-one-out (or the `cv` folds) and keep the best.
    ///
    /// # Errors
    /// An empty grid or an alpha not > 0 (>= 0 with `cv`); `cv` with `store_cv_results`; `cv`
    /// below 2 or above the number of samples; empty or non-finite X or t; t of another length
    /// than X's rows; [`EstimatorError::Linalg`] when an eigendecomposition fails; kernel
    /// errors.
    pub fn fit<F: Real, X: Matrix<F>, T: Vector<F>>(&self, x: &X, t: &T) -> Result<RidgeCV<F, X::Storage>> {
        match self.cv {
            Some(k) => self.fit_with_splitter(x, t, crate::model_selection::KFold::new(k)),
            None => self.fit_gcv(x, t, None::<&Array1<F>>),
        }
    }

    /// [`RidgeCVParams::fit`] with per-sample weights `w` (`sample_weight`: finite,
    /// non-negative, one per row of `x`, on its device). Leave-one-out works on the rows
    /// scaled by `sqrt(w)` about the weighted means, as scikit-learn's `_RidgeGCV`: its errors
    /// (and `best_score_`, the R² with `"r2"`) are weighted. With `cv` each fold's ridge fit
    /// and its R² are weighted, as scikit-learn's search routes the weights.
    ///
    /// # Errors
    /// As [`RidgeCVParams::fit`]; `w` of another length than X's rows, non-finite, negative or
    /// summing to 0.
    pub fn fit_weighted<F: Real, X: Matrix<F>, T: Vector<F>, W: Vector<F>>(
        &self,
        x: &X,
        t: &T,
        w: &W,
    ) -> Result<RidgeCV<F, X::Storage>> {
        match self.cv {
            Some(k) => self.fit_weighted_with_splitter(x, t, w, crate::model_selection::KFold::new(k)),
            None => self.fit_gcv(x, t, Some(w)),
        }
    }

    /// [`RidgeCVParams::fit_with_splitter`] with per-sample weights `w` (each fold's fit and
    /// R² are weighted by its rows' weights).
    ///
    /// # Errors
    /// As [`RidgeCVParams::fit_weighted`], and whatever the splitter rejects.
    pub fn fit_weighted_with_splitter<
        F: Real,
        X: Matrix<F>,
        T: Vector<F>,
        W: Vector<F>,
        C: crate::model_selection::Splitter,
    >(
        &self,
        x: &X,
        t: &T,
        w: &W,
        splitter: C,
    ) -> Result<RidgeCV<F, X::Storage>> {
        let (n, _) = check_x(NAME, x, 1)?;
        super::check_weights(w, n)?;
        let wh = w.to_host()?;
        if wh.iter().map(|v| v.to_f64()).sum::<f64>() <= 0.0 {
            return Err(EstimatorError::InvalidTarget("Weights sum to zero, can't be normalized".into()));
        }
        self.splitter_fit(x, t, Some(&wh), splitter)
    }

    /// Choose alpha by the folds of `splitter` (scikit-learn's `cv=<splitter>`): a
    /// `GridSearchCV` of `Ridge` over the alphas scored by R², the best refitted on all the
    /// data. The folds' fits run on the host (X and t are copied there); the refitted
    /// coefficients are kept where X lives.
    ///
    /// # Errors
    /// As [`RidgeCVParams::fit`], and whatever the splitter rejects.
    pub fn fit_with_splitter<F: Real, X: Matrix<F>, T: Vector<F>, C: crate::model_selection::Splitter>(
        &self,
        x: &X,
        t: &T,
        splitter: C,
    ) -> Result<RidgeCV<F, X::Storage>> {
        self.splitter_fit(x, t, None, splitter)
    }

    /// The `cv` fit, with host weights or none.
    fn splitter_fit<F: Real, X: Matrix<F>, T: Vector<F>, C: crate::model_selection::Splitter>(
        &self,
        x: &X,
        t: &T,
        w: Option<&Array1<F>>,
        splitter: C,
    ) -> Result<RidgeCV<F, X::Storage>> {
        let name = NAME;
        check_alphas(name, &self.alphas, true, self.store_cv_results)?;
        let (n, d) = check_x(name, x, 1)?;
        check_len("y", t.length()?, n)?;
        let scorer = self.scoring.checked(w.is_some())?;
        let (xh, th) = (x.to_host()?, t.to_host()?);
        // The folds of n samples (a regressor's targets are not stratified on).
        let folds = splitter.folds(Array1::<i64>::zeros(n).view())?;
        let ridge = |alpha: f64| Ridge::params().alpha(alpha).fit_intercept(self.fit_intercept);
        let rows = |a: &Array2<F>, idx: &[usize]| a.select(Axis(0), idx);
        let mut best = (0, f64::NEG_INFINITY);
        let fit_rows = |alpha: f64, idx: &[usize]| {
            let (xr, tr) = (rows(&xh, idx), th.select(Axis(0), idx));
            match w {
                Some(w) => ridge(alpha).fit_weighted(&xr, &tr, &w.select(Axis(0), idx)),
                None => ridge(alpha).fit(&xr, &tr),
            }
        };
        for (i, &alpha) in self.alphas.iter().enumerate() {
            let mut total = 0.0;
            for fold in &folds {
                let m = fit_rows(alpha, &fold.train)?;
                let (xt, tt) = (rows(&xh, &fold.test), th.select(Axis(0), &fold.test));
                // scikit-learn's search passes the weights to the scorer too.
                total += match (w, scorer) {
                    (_, Some(s)) => {
                        use crate::model_selection::Target;
                        let wide = |a: &Array1<F>| a.mapv(|v| v.to_f64());
                        f64::score_with(s, &wide(&tt), &wide(&m.predict(&xt)?))?
                    }
                    (Some(w), None) => {
                        crate::metrics::r2_score_weighted(&tt, &m.predict(&xt)?, &w.select(Axis(0), &fold.test))?
                    }
                    (None, None) => m.score(&xt, &tt)?,
                };
            }
            // GridSearchCV's best: the highest mean test score, the first among equals.
            let mean = total / folds.len() as f64;
            if i == 0 || mean > best.1 {
                best = (i, mean);
            }
        }
        let alpha = self.alphas[best.0];
        let model = fit_rows(alpha, &(0..n).collect::<Vec<_>>())?;
        let coef = X::Storage::vec_from_host(model.coef().clone(), x.device())?;
        let model = Ridge::from_parts(coef, model.intercept(), d, ridge(alpha));
        Ok(RidgeCV { alpha, best_score: best.1, model, cv_results: None })
    }

    /// The leave-one-out fit (`cv=None`), with sample weights or none.
    fn fit_gcv<F: Real, X: Matrix<F>, T: Vector<F>, W: Vector<F>>(
        &self,
        x: &X,
        t: &T,
        w: Option<&W>,
    ) -> Result<RidgeCV<F, X::Storage>> {
        let name = NAME;
        check_alphas(name, &self.alphas, false, false)?;
        let scorer = self.scoring.checked(w.is_some())?;
        let (n, d) = check_x(name, x, 1)?;
        check_len("y", t.length()?, n)?;
        let center = if self.fit_intercept { 1.0 } else { 0.0 };
        let device = x.device();
        // The rows scaled by sqrt(w) about the weighted means, and sqrt(w) (ones unweighted).
        let (x_mean, t_mean, xc, tc, sw) = match w {
            None => {
                let (x_mean, t_mean, xc, tc) = rcv_center::tensors::<F>(x.arg(), t.arg(), center)?;
                (x_mean, t_mean, xc, tc, Tensor::from_owned(Array1::<f64>::ones(n), device)?)
            }
            Some(w) => {
                super::check_weights(w, n)?;
                let (x_mean, t_mean, xc, tc, sw) =
                    rcv_center_weighted::tensors::<F>(x.arg(), t.arg(), w.arg(), center)?;
                if sw.to_array::<Ix1>()?.iter().all(|&v| v == 0.0) {
                    return Err(EstimatorError::InvalidTarget("Weights sum to zero, can't be normalized".into()));
                }
                (x_mean, t_mean, xc, tc, sw)
            }
        };
        let r2_weights = match (w, self.scoring) {
            (Some(w), RidgeScoring::R2) => Some(w.to_host()?.mapv(|v| v.to_f64())),
            _ => None,
        };
        let t_mean = t_mean.item()?;
        if !t_mean.is_finite() {
            return Err(EstimatorError::NonFinite { what: "y" });
        }
        let sw_host = sw.to_array::<Ix1>()?;
        let gram_mode = n <= d && self.gcv_mode != GcvMode::Svd;
        let (u, e, sums, uty, v_top) = if gram_mode {
            let (u, e, sums, uty) = gram_basis(&xc, &tc, &sw_host, self.fit_intercept, device)?;
            (u, e, sums, uty, None)
        } else {
            let (u, e, sums, uty, v) = cov_basis(&xc, &tc, &sw, &sw_host, self.fit_intercept)?;
            (u, e, sums, uty, Some(v))
        };
        // The basis vector along the intercept's column of ones (scikit-learn's
        // `_find_smallest_angle`), left unpenalized.
        let intercept_dim = self
            .fit_intercept
            .then(|| (0..sums.len()).max_by(|&a, &b| sums[a].abs().total_cmp(&sums[b].abs())).unwrap_or(0));
        let (r, na) = (e.len(), self.alphas.len());
        let mut w = Array2::<f64>::zeros((r, na));
        let mut add = Array1::<f64>::zeros(na);
        for (a, &alpha) in self.alphas.iter().enumerate() {
            // The Gram basis is complete: w = 1 / (e + alpha). The singular basis spans X's
            // columns only: w = 1 / (e + alpha) - 1 / alpha, plus 1 / alpha on the identity;
            // there c and diag(G^-1) are both taken times alpha (their ratio, the leave-one-out
            // error, is the same), as scikit-learn 1.9's `_solve_svd_design_matrix_long`:
            // w = -e / (e + alpha) and 1 on the identity, without 1 / alpha's cancellation at a
            // tiny alpha.
            add[a] = if gram_mode { 0.0 } else { 1.0 };
            for j in 0..r {
                w[[j, a]] = match (gram_mode, Some(j) == intercept_dim) {
                    (true, true) => 0.0,
                    (true, false) => 1.0 / (e[j] + alpha),
                    (false, true) => -1.0,
                    (false, false) => -e[j] / (e[j] + alpha),
                };
            }
        }
        let wq = Array2::from_shape_fn((r, na), |(j, a)| w[[j, a]] * uty[j]);
        let on = |a: Array2<f64>| Tensor::from_owned(a, device);
        let (c, g) = rcv_loo::tensors(&u, &tc, &on(w)?, &on(wq)?, &Tensor::from_owned(add, device)?)?;
        let (c, g) = (c.to_array::<Ix2>()?, g.to_array::<Ix2>()?);
        let tc_host = tc.to_array::<Ix1>()?;
        // scikit-learn scores R² against the unscaled y, weighted by the sample weights.
        let truth = if self.scoring == RidgeScoring::NegMeanSquaredError {
            Array1::zeros(0)
        } else {
            t.to_host()?.mapv(|v| v.to_f64())
        };
        let mut results = Array2::<f64>::zeros((n, na));
        let (mut best, mut best_score) = (0, f64::NEG_INFINITY);
        for a in 0..na {
            let loo = Array1::from_shape_fn(n, |i| c[[i, a]] / g[[i, a]]);
            let score = match self.scoring {
                RidgeScoring::NegMeanSquaredError => {
                    let sq = loo.mapv(|v| v * v);
                    let s = -sq.mean().unwrap_or(0.0);
                    results.column_mut(a).assign(&sq);
                    s
                }
                RidgeScoring::R2 | RidgeScoring::Scorer(_) => {
                    let pred = Array1::from_shape_fn(n, |i| (tc_host[i] - loo[i]) / sw_host[i] + t_mean);
                    results.column_mut(a).assign(&pred);
                    match (scorer, &r2_weights) {
                        (Some(s), _) => {
                            use crate::model_selection::Target;
                            f64::score_with(s, &truth, &pred)?
                        }
                        (None, Some(rw)) => crate::metrics::r2_score_weighted(&truth, &pred, rw)?,
                        (None, None) => r2(&truth, &pred),
                    }
                }
            };
            if a == 0 || score > best_score {
                (best, best_score) = (a, score);
            }
        }
        let coef = match &v_top {
            // The Gram basis: the dual solution, coef = Xc^T c.
            None => {
                let dual = Tensor::from_owned(c.column(best).to_owned(), device)?;
                rcv_primal::tensors(&xc, &dual)?.to_array::<Ix1>()?
            }
            // The singular basis: the primal solution V diag(s / (s^2 + alpha)) U^T tc over the
            // directions of X's columns (the intercept's direction is unpenalized and outside
            // them), as scikit-learn 1.9's svd modes.
            Some(v) => {
                let alpha = self.alphas[best];
                let scale = Array1::from_shape_fn(r, |j| {
                    if Some(j) == intercept_dim {
                        0.0
                    } else {
                        e[j].sqrt() / (e[j] + alpha) * uty[j]
                    }
                });
                v.dot(&scale)
            }
        };
        let x_mean = x_mean.to_array::<Ix1>()?;
        let intercept = t_mean - x_mean.dot(&coef);
        let alpha = self.alphas[best];
        let coef = X::Storage::vec_from_host(coef.mapv(F::from_f64), device)?;
        let params = Ridge::params().alpha(alpha).fit_intercept(self.fit_intercept);
        let model = Ridge::from_parts(coef, F::from_f64(intercept), d, params);
        Ok(RidgeCV { alpha, best_score, model, cv_results: self.store_cv_results.then_some(results) })
    }
}

/// The basis, eigenvalues, column sums and `Q^T tc` of the Gram matrix `Xc Xc^T (+ 1 1^T)`.
type Basis = (Tensor<f64>, Array1<f64>, Array1<f64>, Array1<f64>);

/// The Gram matrix's intercept term is `sw sw^T` (`sw` ones, or the square roots of the
/// sample weights); the sums are `Q^T sw`.
fn gram_basis(xc: &Tensor<f64>, tc: &Tensor<f64>, sw: &Array1<f64>, intercept: bool, device: Device) -> Result<Basis> {
    let mut k = rcv_gram::tensors(xc)?.to_array::<Ix2>()?;
    if intercept {
        for ((i, j), v) in k.indexed_iter_mut() {
            *v += sw[i] * sw[j];
        }
    }
    let (e, q) = eigh_descending(&k)?;
    let t = tc.to_array::<Ix1>()?;
    let uty = q.t().dot(&t);
    let sums = q.t().dot(sw);
    Ok((Tensor::from_owned(q, device)?, e, sums, uty))
}

/// The left singular vectors of `[Xc, sw]` (or Xc; `sw` ones, or the square roots of the
/// sample weights) from the eigendecomposition of its cross-products (and the first d rows of
/// the right ones, for the primal solution), dropping directions
/// whose squared singular value is below the rounding of the largest (their weight
/// `1 / (s^2 + alpha) - 1 / alpha` vanishes with them).
fn cov_basis(
    xc: &Tensor<f64>,
    tc: &Tensor<f64>,
    sw: &Tensor<f64>,
    sw_host: &Array1<f64>,
    intercept: bool,
) -> Result<(Tensor<f64>, Array1<f64>, Array1<f64>, Array1<f64>, Array2<f64>)> {
    let (cov, sums) = rcv_cov::tensors(xc, sw)?;
    let (cov, sums) = (cov.to_array::<Ix2>()?, sums.to_array::<Ix1>()?);
    let d = cov.nrows();
    let m = d + usize::from(intercept);
    let aug = Array2::from_shape_fn((m, m), |(i, j)| match (i < d, j < d) {
        (true, true) => cov[[i, j]],
        (true, false) => sums[i],
        (false, true) => sums[j],
        (false, false) => sw_host.dot(sw_host),
    });
    let (e, v) = eigh_descending(&aug)?;
    let cutoff = e.first().copied().unwrap_or(0.0).max(0.0) * m as f64 * f64::EPSILON;
    let keep: Vec<usize> = (0..m).filter(|&j| e[j] > cutoff).collect();
    let r = keep.len();
    let v_top = Array2::from_shape_fn((d, r), |(i, j)| v[[i, keep[j]]]);
    let v_last = Array1::from_shape_fn(r, |j| if intercept { v[[d, keep[j]]] } else { 0.0 });
    let inv_s = Array1::from_shape_fn(r, |j| 1.0 / e[keep[j]].sqrt());
    let e = Array1::from_shape_fn(r, |j| e[keep[j]]);
    let device = xc.device();
    let (u, sums, uty) = rcv_left::tensors(
        xc,
        tc,
        sw,
        &Tensor::from_owned(v_top.clone(), device)?,
        &Tensor::from_owned(v_last, device)?,
        &Tensor::from_owned(inv_s, device)?,
    )?;
    Ok((u, e, sums.to_array::<Ix1>()?, uty.to_array::<Ix1>()?, v_top))
}

/// The estimator's name in messages.
const NAME: &str = "RidgeCV";

/// scikit-learn's checks of a cross-validated ridge's `alphas` (for `estimator`): not empty,
/// each finite and positive for leave-one-out, or non-negative with a `cv` splitter (`cv`),
/// which also refuses `store_cv_results`.
pub(super) fn check_alphas(estimator: &'static str, alphas: &[f64], cv: bool, store_cv_results: bool) -> Result<()> {
    if cv && store_cv_results {
        return Err(EstimatorError::param(
            estimator,
            "store_cv_results",
            "false when cv is set (cv!=None and store_cv_results=True are incompatible)",
            true,
        ));
    }
    if alphas.is_empty() {
        return Err(EstimatorError::param(estimator, "alphas", "a non-empty list of floats", "[]"));
    }
    let ok = |a: f64| a.is_finite() && if cv { a >= 0.0 } else { a > 0.0 };
    if let Some((i, a)) = alphas.iter().enumerate().find(|(_, a)| !ok(**a)) {
        let expected = if cv {
            format!("floats >= 0 (alphas[{i}] == {a}, must be >= 0.0)")
        } else {
            format!("positive floats (alphas[{i}] == {a}, must be > 0.0)")
        };
        return Err(EstimatorError::param(estimator, "alphas", expected, a));
    }
    Ok(())
}

/// scikit-learn's `r2_score` of one target (1 for a perfect constant prediction, 0 for a
/// constant truth otherwise).
fn r2(truth: &Array1<f64>, pred: &Array1<f64>) -> f64 {
    let mean = truth.mean().unwrap_or(0.0);
    let num: f64 = truth.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = truth.iter().map(|a| (a - mean) * (a - mean)).sum();
    match (num == 0.0, den == 0.0) {
        (true, _) => 1.0,
        (false, true) => 0.0,
        _ => 1.0 - num / den,
    }
}

impl<F: Real, S: Storage> RidgeCV<F, S> {
    /// The chosen penalty (`alpha_`).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The chosen alpha's score (`best_score_`): the negative mean squared leave-one-out error,
    /// its R², or the registry scorer's score (leave-one-out or the mean over the folds).
    pub fn best_score(&self) -> f64 {
        self.best_score
    }

    /// The ridge model at the chosen alpha: `coef()`, `intercept()`, `predict`, `score`.
    pub fn ridge(&self) -> &Ridge<F, S> {
        &self.model
    }

    /// The coefficients at the chosen alpha (`coef_`).
    pub fn coef(&self) -> &S::Vec<F> {
        self.model.coef()
    }

    /// The intercept (`intercept_`).
    pub fn intercept(&self) -> F {
        self.model.intercept()
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.model.n_features_in()
    }

    /// With `store_cv_results`: each sample's squared leave-one-out error (scoring `None`) or
    /// leave-one-out prediction (`"r2"` or a registry scorer) for each alpha, `n_samples x n_alphas` (`cv_results_`).
    pub fn cv_results(&self) -> Option<&Array2<f64>> {
        self.cv_results.as_ref()
    }

    /// `X coef + intercept` (the chosen alpha's ridge model's prediction).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; kernel errors.
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, F>> {
        self.model.predict(x)
    }
}

crate::traits::supervised!(RidgeCVParams => RidgeCV, F);
crate::model_selection::set_params!(RidgeCVParams, "RidgeCV" { "alphas" => alphas: Vec<f64>, "fit_intercept" => fit_intercept: bool, "gcv_mode" => gcv_mode: GcvMode, "scoring" => scoring: RidgeScoring, "store_cv_results" => store_cv_results: bool, "cv" => cv: usize });
