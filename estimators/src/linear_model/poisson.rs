//! `PoissonRegressor`: a generalized linear model with a log link and the Poisson deviance,
//! fitted by L-BFGS (scikit-learn's default `lbfgs` solver).
//!
//! scikit-learn minimizes `1/n sum_i (exp(r_i) - y_i r_i) + alpha/2 ||w||^2` with
//! `r = X w + b` (the half Poisson deviance up to a constant in w; the intercept is not
//! penalized), from `w = 0`, `b = log(mean(y))`, with scipy's L-BFGS-B (`gtol = tol`,
//! `ftol = 64 eps`, at most `max_iter` iterations). This module minimizes the same objective
//! with [`super::lbfgs`], every evaluation one kernel pass over X ([`poisson_loss_grad`]). `score`
//! is D², the fraction of the Poisson deviance explained (a kernel over y and the prediction).

use super::lbfgs::{self, Options};
use crate::data::{check_fitted_x, check_len, check_x, Host, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use ndarray::{Array1, Ix1};

/// `sum_i exp(r_i) - y_i r_i` for `r = X w + b`, its gradient `X^T (exp(r) - y)` and the sum
/// of `exp(r) - y` (the intercept's gradient).
#[kernel(crate = kiln_runtime)]
fn poisson_loss_grad<F: Float>(x: Array2<F>, y: Array1<F>, w: Array1<F>, b: F) -> (F, Array1<F>, F) {
    let raw = x.dot(&w) + b;
    let mu = raw.exp();
    let loss = (&mu - &y * &raw).sum();
    let r = &mu - &y;
    (loss, x.t().dot(&r), r.sum())
}

/// [`poisson_loss_grad`] with sample weights `sw`: each row's term counts `sw[i]` times.
#[kernel(crate = kiln_runtime)]
fn poisson_loss_grad_weighted<F: Float>(
    x: Array2<F>,
    y: Array1<F>,
    sw: Array1<F>,
    w: Array1<F>,
    b: F,
) -> (F, Array1<F>, F) {
    let raw = x.dot(&w) + b;
    let mu = raw.exp();
    let loss = ((&mu - &y * &raw) * &sw).sum();
    let r = (&mu - &y) * &sw;
    (loss, x.t().dot(&r), r.sum())
}

/// The sum of the sample weights and the weighted mean of y (scikit-learn's
/// `_average(y, weights=sample_weight)`).
#[kernel(crate = kiln_runtime)]
fn weighted_mean<F: Float>(y: Array1<F>, sw: Array1<F>) -> (F, F) {
    let total = sw.sum();
    (total, (&y * &sw).sum() / total)
}

/// The smallest value of y, its mean, and whether any is NaN or infinite (a NaN sum).
#[kernel(crate = kiln_runtime)]
fn target_stats<F: Float>(y: Array1<F>) -> (F, F, F) {
    (y.min(), y.mean(), (&y * 0.0).sum())
}

/// `exp(X w + b)`.
#[kernel(crate = kiln_runtime)]
fn poisson_predict<F: Float>(x: Array2<F>, w: Array1<F>, b: F) -> Array1<F> {
    (x.dot(&w) + b).exp()
}

/// The Poisson deviances of `mu` and of the constant `y_mean` against `y`
/// (`2 sum y log(y / mu) - y + mu`, the first term 0 where y is 0).
#[kernel(crate = kiln_runtime)]
fn poisson_deviances<F: Float>(y: Array1<F>, mu: Array1<F>, y_mean: F) -> (F, F) {
    let n = y.len();
    let dev = sum(0..n, |i| select(y[[i]] > 0.0, y[[i]] * (y[[i]] / mu[[i]]).ln(), 0.0) - y[[i]] + mu[[i]]);
    let null = sum(0..n, |i| select(y[[i]] > 0.0, y[[i]] * (y[[i]] / y_mean).ln(), 0.0) - y[[i]] + y_mean);
    (dev * 2.0, null * 2.0)
}

/// Hyper-parameters of [`PoissonRegressor`] (scikit-learn's defaults: `alpha = 1`,
/// `fit_intercept = true`, `max_iter = 100`, `tol = 1e-4`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoissonRegressorParams {
    alpha: f64,
    fit_intercept: bool,
    max_iter: usize,
    tol: f64,
}

/// A fitted Poisson regressor: `coef` (one per feature) kept where it was fitted, the
/// intercept, and the iterations L-BFGS ran.
#[derive(Debug, Clone)]
pub struct PoissonRegressor<F: Real, S: Storage> {
    coef: S::Vec<F>,
    intercept: F,
    n_features: usize,
    n_iter: usize,
}

crate::relocate!([F: Real] PoissonRegressor<F, @> { coef: vec[d], intercept, n_features: size[d], n_iter });

impl PoissonRegressor<f64, Host> {
    /// scikit-learn's defaults: `alpha = 1`, an intercept, `max_iter = 100`, `tol = 1e-4`.
    pub fn params() -> PoissonRegressorParams {
        PoissonRegressorParams { alpha: 1.0, fit_intercept: true, max_iter: 100, tol: 1e-4 }
    }
}

const NAME: &str = "PoissonRegressor";

impl PoissonRegressorParams {
    /// The L2 penalty strength (`alpha`, at least 0; 0 is no penalty).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Whether to fit an (unpenalized) intercept (`fit_intercept`).
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// The most L-BFGS iterations (`max_iter`, at least 1).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Stop when every gradient component is at most `tol` (`tol`, positive).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Fit `y ~ exp(X coef + intercept)` (y: non-negative counts or rates).
    ///
    /// # Errors
    /// `alpha` negative or not finite, `max_iter` 0, `tol` not positive; empty or non-finite X;
    /// `y` of another length than X's rows, non-finite, negative, or summing to 0 (scikit-learn:
    /// "Some value(s) of y are out of the valid range of the loss"); kernel errors.
    pub fn fit<F: Real, X: Matrix<F>, T: Vector<F>>(&self, x: &X, y: &T) -> Result<PoissonRegressor<F, X::Storage>> {
        self.fit_inner(x, y, None::<&Array1<F>>)
    }

    /// [`PoissonRegressorParams::fit`] with sample weights (`fit(X, y, sample_weight)`): the
    /// objective is the `sw`-weighted average of the deviance terms plus the penalty, started
    /// from the log of the weighted mean of y, as scikit-learn's.
    ///
    /// # Errors
    /// As [`PoissonRegressorParams::fit`]; `sw` of another length than X's rows, negative or
    /// non-finite.
    pub fn fit_weighted<F: Real, X: Matrix<F>, T: Vector<F>, W: Vector<F>>(
        &self,
        x: &X,
        y: &T,
        sw: &W,
    ) -> Result<PoissonRegressor<F, X::Storage>> {
        self.fit_inner(x, y, Some(sw))
    }

    fn fit_inner<F: Real, X: Matrix<F>, T: Vector<F>, W: Vector<F>>(
        &self,
        x: &X,
        y: &T,
        sw: Option<&W>,
    ) -> Result<PoissonRegressor<F, X::Storage>> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(EstimatorError::param(NAME, "alpha", "a float in the range [0.0, inf)", self.alpha));
        }
        if self.max_iter == 0 {
            return Err(EstimatorError::param(NAME, "max_iter", "an int in the range [1, inf)", 0));
        }
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return Err(EstimatorError::param(NAME, "tol", "a float in the range (0.0, inf)", self.tol));
        }
        let (n, d) = check_x(NAME, x, 1)?;
        check_len("y", y.length()?, n)?;
        let (y_min, y_mean, probe) = target_stats::tensors::<F>(y.arg())?;
        if probe.item()?.to_f64().is_nan() {
            return Err(EstimatorError::NonFinite { what: "y" });
        }
        let (y_min, y_mean) = (y_min.item()?.to_f64(), y_mean.item()?.to_f64());
        if y_min < 0.0 || y_mean <= 0.0 {
            return Err(EstimatorError::InvalidTarget(format!(
                "Some value(s) of y are out of the valid range of the loss 'HalfPoissonLoss' (y must be \
                 non-negative with a positive sum; min(y) = {y_min}, mean(y) = {y_mean})"
            )));
        }
        // The weight sum and the weighted mean of y (the start of the intercept).
        let (sw_sum, y_start) = match sw {
            None => (n as f64, y_mean),
            Some(w) => {
                super::least_squares::check_weights(w, n)?;
                let (total, mean) = weighted_mean::tensors::<F>(y.arg(), w.arg())?;
                (total.item()?.to_f64(), mean.item()?.to_f64())
            }
        };
        let device = x.device();
        let nb = usize::from(self.fit_intercept);
        let scale = 1.0 / sw_sum;
        let alpha = self.alpha;
        let objective = |theta: &[f64]| -> Result<(f64, Vec<f64>)> {
            let w: Array1<F> = theta[..d].iter().map(|&v| F::from_f64(v)).collect();
            let w = X::Storage::vec_from_host(w, device)?;
            let b = F::from_f64(if nb > 0 { theta[d] } else { 0.0 });
            let (loss, gw, gb) = match sw {
                None => poisson_loss_grad::tensors::<F>(x.arg(), y.arg(), X::Storage::vec_arg(&w), b)?,
                Some(sw) => {
                    poisson_loss_grad_weighted::tensors::<F>(x.arg(), y.arg(), sw.arg(), X::Storage::vec_arg(&w), b)?
                }
            };
            let gw = gw.to_array::<Ix1>()?;
            let wnorm: f64 = theta[..d].iter().map(|v| v * v).sum();
            let f = scale * loss.item()?.to_f64() + 0.5 * alpha * wnorm;
            let mut g: Vec<f64> = (0..d).map(|j| scale * gw[j].to_f64() + alpha * theta[j]).collect();
            if nb > 0 {
                g.push(scale * gb.item()?.to_f64());
            }
            Ok((f, g))
        };
        let f32_data = std::mem::size_of::<F>() == 4;
        let opt = Options {
            max_iter: self.max_iter,
            gtol: self.tol,
            ftol: if f32_data { 0.0 } else { 64.0 * f64::EPSILON },
            f_noise: if f32_data { 100.0 * f64::from(f32::EPSILON) } else { 0.0 },
            x_eps: if f32_data { f64::from(f32::EPSILON) } else { f64::EPSILON },
            memory: 10,
            max_ls: 50,
        };
        let mut x0 = vec![0.0; d + nb];
        if nb > 0 {
            x0[d] = y_start.ln();
        }
        let found = lbfgs::minimize(objective, x0, &opt)?;
        let coef: Array1<F> = found.x[..d].iter().map(|&v| F::from_f64(v)).collect();
        Ok(PoissonRegressor {
            coef: X::Storage::vec_from_host(coef, device)?,
            intercept: F::from_f64(if nb > 0 { found.x[d] } else { 0.0 }),
            n_features: d,
            n_iter: found.n_iter,
        })
    }
}

impl<F: Real, S: Storage> PoissonRegressor<F, S> {
    /// The coefficients (`coef_`, one per feature).
    pub fn coef(&self) -> &S::Vec<F> {
        &self.coef
    }

    /// The intercept (`intercept_`; 0 when `fit_intercept` is off).
    pub fn intercept(&self) -> F {
        self.intercept
    }

    /// The L-BFGS iterations run (`n_iter_`).
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The predicted mean, `exp(X coef + intercept)`.
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, F>> {
        check_fitted_x(NAME, self.n_features, x)?;
        X::Storage::vec(poisson_predict::tensors::<F>(x.arg(), S::vec_arg(&self.coef), self.intercept)?)
    }

    /// D², the fraction of the Poisson deviance explained (scikit-learn's `score`): `1 -
    /// D(y, predict(x)) / D(y, mean(y))`.
    ///
    /// # Errors
    /// As [`PoissonRegressor::predict`]; `y` of another length than X's rows, non-finite,
    /// negative or summing to 0.
    pub fn score<X: Matrix<F>, T: Vector<F>>(&self, x: &X, y: &T) -> Result<f64> {
        let n = check_fitted_x(NAME, self.n_features, x)?;
        check_len("y", y.length()?, n)?;
        let (y_min, y_mean, probe) = target_stats::tensors::<F>(y.arg())?;
        if probe.item()?.to_f64().is_nan() {
            return Err(EstimatorError::NonFinite { what: "y" });
        }
        if y_min.item()?.to_f64() < 0.0 || y_mean.item()?.to_f64() <= 0.0 {
            return Err(EstimatorError::InvalidTarget(
                "Some value(s) of y are out of the valid range of the loss 'HalfPoissonLoss'".into(),
            ));
        }
        let mu = poisson_predict::tensors::<F>(x.arg(), S::vec_arg(&self.coef), self.intercept)?;
        let (dev, null) = poisson_deviances::tensors::<F>(y.arg(), &mu, y_mean.item()?)?;
        Ok(1.0 - dev.item()?.to_f64() / null.item()?.to_f64())
    }
}

crate::traits::supervised!(PoissonRegressorParams => PoissonRegressor, F);
crate::model_selection::set_params!(PoissonRegressorParams, "PoissonRegressor" {
    "alpha" => alpha: f64,
    "fit_intercept" => fit_intercept: bool,
    "max_iter" => max_iter: usize,
    "tol" => tol: f64,
});
