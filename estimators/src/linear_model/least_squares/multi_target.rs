//! `LinearRegression` and `Ridge` with several targets (an `n_samples x n_targets` y), as
//! scikit-learn fits a 2-D y: one Gram matrix `Xc^T Xc` and one right-hand side per target
//! (`Xc^T Yc`, one kernel over X and Y), each target solved on the host exactly as the
//! single-target fit solves its one (Cholesky for Ridge, the minimum-norm eigen solution for
//! LinearRegression), so column j of the result equals the single-target fit on column j.
//! `coef_` is `n_targets x n_features` and `intercept_` has one entry per target.

use super::{eps_of, solve_lstsq, solve_ridge, EstimatorName, LinearRegressionParams, RidgeParams, Solver};
use crate::data::{check_finite_unless, check_fitted_x, check_len, check_x_shape, Mat, Matrix, Storage, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use faer::Mat as FMat;
use kiln_macros::kernel;
use ndarray::{Array1, Array2, Ix1, Ix2};

/// Column means of X and Y (scaled by `center`, 1 or 0) and the data centered by them.
#[kernel(crate = kiln_runtime)]
fn centered_multi<F: Float>(x: Array2<F>, y: Array2<F>, center: F) -> (Array1<F>, Array1<F>, Array2<F>, Array2<F>) {
    let x_mean = x.mean_axis(Axis(0)) * center;
    let y_mean = y.mean_axis(Axis(0)) * center;
    (x_mean, y_mean, &x - &x_mean, &y - &y_mean)
}

/// `Xc^T Xc` and `Xc^T Yc`.
#[kernel(crate = kiln_runtime)]
fn gram_multi<F: Float>(xc: Array2<F>, yc: Array2<F>) -> (Array2<F>, Array2<F>) {
    (xc.t().dot(&xc), xc.t().dot(&yc))
}

/// [`centered_multi`] and [`gram_multi`] with per-sample weights `w` (the single-target
/// weighted fit's system): weighted means, `Xc^T W Xc` and `Xc^T W Yc`, accumulated in f64
/// whatever X's type, as the single-target weighted fit does.
#[kernel(crate = kiln_runtime)]
fn gram_multi_weighted<F: Float>(
    x: Array2<F>,
    y: Array2<F>,
    w: Array1<F>,
    center: f64,
) -> (Array1<f64>, Array1<f64>, Array2<f64>, Array2<f64>) {
    let xf = x as f64;
    let yf = y as f64;
    let wf = w as f64;
    let sw = wf.sum();
    let x_mean = (&xf * &wf.insert_axis(Axis(1))).sum_axis(Axis(0)) / sw * center;
    let y_mean = (&yf * &wf.insert_axis(Axis(1))).sum_axis(Axis(0)) / sw * center;
    let xc = &xf - &x_mean;
    let yc = &yf - &y_mean;
    let xw = &xc * &wf.insert_axis(Axis(1));
    (x_mean, y_mean, xw.t().dot(&xc), xw.t().dot(&yc))
}

/// `X coef^T + intercept` (n x n_targets).
#[kernel(crate = kiln_runtime)]
fn predict_multi<F: Float>(x: Array2<F>, coef: Array2<F>, intercept: Array1<F>) -> Array2<F> {
    x.dot(&coef.t()) + intercept
}

/// A linear model fitted on several targets: `coef` (n_targets x n_features) and `intercept`
/// (n_targets) kept where it was fitted.
#[derive(Debug, Clone)]
pub struct MultiTargetLinearModel<F: Real, S: Storage, P> {
    coef: S::Mat<F>,
    intercept: S::Vec<F>,
    n_features: usize,
    params: P,
}

crate::relocate!([F: Real, P: crate::relocate::Attr] MultiTargetLinearModel<F, @, P> { coef: mat[t, d], intercept: vec[t], n_features: size[d], params });

impl LinearRegressionParams {
    /// Fit each column of `y` (n_samples x n_targets) by least squares on the same X.
    ///
    /// # Errors
    /// Empty or non-finite X or y; y of another number of rows than X; kernel errors.
    pub fn fit_multi<F: Real, X: Matrix<F>, Y: Matrix<F>>(
        &self,
        x: &X,
        y: &Y,
    ) -> Result<MultiTargetLinearModel<F, X::Storage, LinearRegressionParams>> {
        fit_multi(*self, x, y, None::<&Array1<F>>, self.fit_intercept, Solver::Lstsq)
    }

    /// [`LinearRegressionParams::fit_multi`] with sample weights `w` (one per row).
    ///
    /// # Errors
    /// As [`LinearRegressionParams::fit_multi`]; `w` of another length than X's rows,
    /// negative or non-finite.
    pub fn fit_multi_weighted<F: Real, X: Matrix<F>, Y: Matrix<F>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        w: &W,
    ) -> Result<MultiTargetLinearModel<F, X::Storage, LinearRegressionParams>> {
        fit_multi(*self, x, y, Some(w), self.fit_intercept, Solver::Lstsq)
    }
}

impl RidgeParams {
    /// Fit each column of `y` (n_samples x n_targets) by ridge regression on the same X.
    ///
    /// # Errors
    /// `alpha` negative or not finite; empty or non-finite X or y; y of another number of rows
    /// than X; kernel errors.
    pub fn fit_multi<F: Real, X: Matrix<F>, Y: Matrix<F>>(
        &self,
        x: &X,
        y: &Y,
    ) -> Result<MultiTargetLinearModel<F, X::Storage, RidgeParams>> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(EstimatorError::param("Ridge", "alpha", "a float in the range [0.0, inf)", self.alpha));
        }
        fit_multi(*self, x, y, None::<&Array1<F>>, self.fit_intercept, Solver::Cholesky { alpha: self.alpha })
    }

    /// [`RidgeParams::fit_multi`] with sample weights `w` (one per row).
    ///
    /// # Errors
    /// As [`RidgeParams::fit_multi`]; `w` of another length than X's rows, negative or
    /// non-finite.
    pub fn fit_multi_weighted<F: Real, X: Matrix<F>, Y: Matrix<F>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        w: &W,
    ) -> Result<MultiTargetLinearModel<F, X::Storage, RidgeParams>> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(EstimatorError::param("Ridge", "alpha", "a float in the range [0.0, inf)", self.alpha));
        }
        fit_multi(*self, x, y, Some(w), self.fit_intercept, Solver::Cholesky { alpha: self.alpha })
    }
}

/// The fit shared by both estimators.
fn fit_multi<F: Real, X: Matrix<F>, Y: Matrix<F>, W: Vector<F>, P: EstimatorName>(
    params: P,
    x: &X,
    y: &Y,
    w: Option<&W>,
    fit_intercept: bool,
    solver: Solver,
) -> Result<MultiTargetLinearModel<F, X::Storage, P>> {
    let (n, d) = check_x_shape(P::NAME, x, 1)?;
    let (ny, m) = y.dims()?;
    check_len("y", ny, n)?;
    if m == 0 {
        return Err(EstimatorError::Shape("y has 0 targets; at least 1 is required".into()));
    }
    let center = F::from_f64(if fit_intercept { 1.0 } else { 0.0 });
    let (x_mean, y_mean, gram, xty) = match w {
        None => {
            let (x_mean, y_mean, xc, yc) = centered_multi::tensors::<F>(x.arg(), y.arg(), center)?;
            let (gram, xty) = gram_multi::tensors::<F>(&xc, &yc)?;
            let w1 =
                |a: kiln_runtime::Tensor<F>| -> Result<Array1<f64>> { Ok(a.to_array::<Ix1>()?.mapv(|v| v.to_f64())) };
            let w2 =
                |a: kiln_runtime::Tensor<F>| -> Result<Array2<f64>> { Ok(a.to_array::<Ix2>()?.mapv(|v| v.to_f64())) };
            (w1(x_mean)?, w1(y_mean)?, w2(gram)?, w2(xty)?)
        }
        Some(w) => {
            super::check_weights(w, n)?;
            let (x_mean, y_mean, gram, xty) =
                gram_multi_weighted::tensors::<F>(x.arg(), y.arg(), w.arg(), center.to_f64())?;
            (x_mean.to_array::<Ix1>()?, y_mean.to_array::<Ix1>()?, gram.to_array::<Ix2>()?, xty.to_array::<Ix2>()?)
        }
    };
    // The Gram diagonal and the means sum every element of X (see the single-target fit).
    let diagonal = (0..d).all(|i| gram[[i, i]].is_finite());
    check_finite_unless(x, diagonal && x_mean.iter().all(|v| v.is_finite()))?;
    if y_mean.iter().chain(xty.iter()).any(|v| !v.is_finite()) {
        return Err(EstimatorError::NonFinite { what: "y" });
    }
    let g = FMat::<f64>::from_fn(d, d, |i, j| gram[[i, j]]);
    let mut coef = Array2::from_elem((m, d), F::from_f64(0.0));
    let mut intercept = Array1::from_elem(m, F::from_f64(0.0));
    for k in 0..m {
        let b = FMat::<f64>::from_fn(d, 1, |i, _| xty[[i, k]]);
        let w = match solver {
            Solver::Cholesky { alpha } => solve_ridge(&g, &b, alpha)?,
            Solver::Lstsq => solve_lstsq(&g, &b, n.max(d), eps_of::<F>())?,
        };
        let b0 = y_mean[k] - w.iter().zip(x_mean.iter()).map(|(c, mu)| c * mu).sum::<f64>();
        intercept[k] = F::from_f64(b0);
        coef.row_mut(k).assign(&Array1::from_iter(w.into_iter().map(F::from_f64)));
    }
    let device = x.device();
    Ok(MultiTargetLinearModel {
        coef: X::Storage::mat_from_host(coef, device)?,
        intercept: X::Storage::vec_from_host(intercept, device)?,
        n_features: d,
        params,
    })
}

impl<F: Real, S: Storage, P: EstimatorName> MultiTargetLinearModel<F, S, P> {
    /// The coefficients (`coef_`, n_targets x n_features).
    pub fn coef(&self) -> &S::Mat<F> {
        &self.coef
    }

    /// The intercepts (`intercept_`, one per target; 0 when `fit_intercept` is off).
    pub fn intercept(&self) -> &S::Vec<F> {
        &self.intercept
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The hyper-parameters the model was fitted with.
    pub fn fitted_params(&self) -> &P {
        &self.params
    }

    /// `X coef^T + intercept`, n_samples x n_targets (ndarray in, ndarray out; tensor in,
    /// tensor out on its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x(P::NAME, self.n_features, x)?;
        let p = predict_multi::tensors::<F>(x.arg(), S::mat_arg(&self.coef), S::vec_arg(&self.intercept))?;
        X::Storage::mat(p)
    }
}
