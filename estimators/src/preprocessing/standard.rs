//! `StandardScaler`: remove the mean and scale to unit variance, per feature.
//!
//! Fitting is one kernel over X (mean, population variance and scale, with the two-pass
//! variance scikit-learn also uses); its means double as the check for NaN and infinity
//! ([`check_finite_unless`]), so a fit makes no pass over X of its own for it. Transform is one
//! elementwise kernel, after the one fused finiteness pass every transform of new data makes;
//! `fit_transform` skips that pass, the fit having just cleared the same X. Constant features
//! get scale 1, like scikit-learn.

use crate::data::{check_finite_unless, check_fitted_x, check_x_shape, Mat, Matrix, Storage, Vect};
use crate::datasets::Real;
use crate::error::Result;
use kiln_macros::kernel;
use ndarray::Ix1;
use std::marker::PhantomData;

/// Mean, population variance and scale (`sqrt(var)`, 1 where the variance is 0) per column.
#[kernel(crate = kiln_runtime)]
fn fit_moments<F: Float>(x: Array2<F>) -> (Array1<F>, Array1<F>, Array1<F>) {
    let mean = x.mean_axis(Axis(0));
    let var = (&x - &mean).powi(2).mean_axis(Axis(0));
    let scale = select(var > 0.0, var.sqrt(), 1.0);
    (mean, var, scale)
}

/// [`fit_moments`] with sample weights, as scikit-learn's `_incremental_mean_and_var`: the
/// weighted mean, the weighted population variance with its correction term
/// (`(sum w (x - m)^2 - (sum w (x - m))^2 / sum w) / sum w`), the scale, and the weight sum
/// (its `n_samples_seen_`).
#[kernel(crate = kiln_runtime)]
fn fit_moments_weighted<F: Float>(x: Array2<F>, w: Array1<F>) -> (Array1<F>, Array1<F>, Array1<F>, F) {
    let (n, d) = x.dim();
    let wsum = w.sum();
    let mean = Array1::from_shape_fn(d, |j| sum(0..n, |i| w[[i]] * x[[i, j]]) / wsum);
    let corr = Array1::from_shape_fn(d, |j| sum(0..n, |i| w[[i]] * (x[[i, j]] - mean[[j]])));
    let var = Array1::from_shape_fn(d, |j| {
        (sum(0..n, |i| w[[i]] * (x[[i, j]] - mean[[j]]).powi(2)) - corr[[j]] * corr[[j]] / wsum) / wsum
    });
    let scale = select(var > 0.0, var.sqrt(), 1.0);
    (mean, var, scale, wsum)
}

/// `(x - mean) / scale` (a disabled step passes zeros or ones).
#[kernel(crate = kiln_runtime)]
fn standardize<F: Float>(x: Array2<F>, mean: Array1<F>, scale: Array1<F>) -> Array2<F> {
    (x - mean) / scale
}

/// `x * scale + mean`.
#[kernel(crate = kiln_runtime)]
fn unstandardize<F: Float>(x: Array2<F>, mean: Array1<F>, scale: Array1<F>) -> Array2<F> {
    x * scale + mean
}

/// Hyper-parameters of [`StandardScaler`] (scikit-learn's defaults: center and scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StandardScalerParams {
    with_mean: bool,
    with_std: bool,
}

/// A fitted standard scaler: per-feature `mean`, `var` and `scale`, kept where it was fitted
/// (ndarray arrays for ndarray input, tensors on the device for tensor input).
#[derive(Debug, Clone)]
pub struct StandardScaler<F: Real, S: Storage> {
    mean: S::Vec<F>,
    var: S::Vec<F>,
    scale: S::Vec<F>,
    n_samples: usize,
    /// The sum of the sample weights of a weighted fit.
    weight_sum: Option<f64>,
    n_features: usize,
    params: StandardScalerParams,
    _f: PhantomData<F>,
}

impl StandardScaler<f64, crate::data::Host> {
    /// The default hyper-parameters: `with_mean = true`, `with_std = true`.
    pub fn params() -> StandardScalerParams {
        StandardScalerParams { with_mean: true, with_std: true }
    }
}

impl StandardScalerParams {
    /// Whether to subtract the mean (`with_mean`).
    pub fn with_mean(mut self, yes: bool) -> Self {
        self.with_mean = yes;
        self
    }

    /// Whether to divide by the standard deviation (`with_std`).
    pub fn with_std(mut self, yes: bool) -> Self {
        self.with_std = yes;
        self
    }

    /// Compute the per-feature statistics of `x`.
    ///
    /// # Errors
    /// Empty or non-finite X; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<StandardScaler<F, X::Storage>> {
        let (n, d) = check_x_shape("StandardScaler", x, 1)?;
        let (mean, var, scale) = fit_moments::tensors::<F>(x.arg())?;
        // The means sum every element of X: finite means clear X of NaN and infinity.
        let means_finite = mean.to_array::<Ix1>()?.iter().all(|v: &F| v.to_f64().is_finite());
        check_finite_unless(x, means_finite)?;
        Ok(StandardScaler {
            mean: X::Storage::vec(mean)?,
            var: X::Storage::vec(var)?,
            scale: X::Storage::vec(scale)?,
            n_samples: n,
            weight_sum: None,
            n_features: d,
            params: *self,
            _f: PhantomData,
        })
    }

    /// Compute the per-feature statistics of `x` with sample weights `w` (`fit(X,
    /// sample_weight=w)`): weighted mean and population variance.
    ///
    /// # Errors
    /// As [`StandardScalerParams::fit`]; `w` of another length than X's rows, negative or
    /// non-finite.
    pub fn fit_weighted<F: Real, X: Matrix<F>, W: crate::data::Vector<F>>(
        &self,
        x: &X,
        w: &W,
    ) -> Result<StandardScaler<F, X::Storage>> {
        let (n, d) = check_x_shape("StandardScaler", x, 1)?;
        crate::linear_model::check_weights(w, n)?;
        let (mean, var, scale, wsum) = fit_moments_weighted::tensors::<F>(x.arg(), w.arg())?;
        let means_finite = mean.to_array::<Ix1>()?.iter().all(|v: &F| v.to_f64().is_finite());
        check_finite_unless(x, means_finite)?;
        Ok(StandardScaler {
            mean: X::Storage::vec(mean)?,
            var: X::Storage::vec(var)?,
            scale: X::Storage::vec(scale)?,
            n_samples: n,
            weight_sum: Some(wsum.item()?.to_f64()),
            n_features: d,
            params: *self,
            _f: PhantomData,
        })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`StandardScalerParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked X (shape and finiteness): no second pass over it.
        self.fit(x)?.transform_unchecked(x)
    }
}

impl<F: Real, S: Storage> StandardScaler<F, S> {
    /// The per-feature mean (`mean_`; computed even with `with_mean(false)`, which only
    /// changes what transform does).
    pub fn mean(&self) -> &S::Vec<F> {
        &self.mean
    }

    /// The per-feature population variance (`var_`).
    pub fn var(&self) -> &S::Vec<F> {
        &self.var
    }

    /// The per-feature scale (`scale_`): the standard deviation, 1 for constant features.
    pub fn scale(&self) -> &S::Vec<F> {
        &self.scale
    }

    /// The number of samples seen when fitting (`n_samples_seen_`).
    pub fn n_samples_seen(&self) -> usize {
        self.n_samples
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// scikit-learn's `n_samples_seen_` as a float: the sum of the sample weights of a
    /// weighted fit ([`StandardScalerParams::fit_weighted`]), else the number of rows.
    pub fn weighted_n_samples_seen(&self) -> f64 {
        self.weight_sum.unwrap_or(self.n_samples as f64)
    }

    /// Standardize `x` (ndarray in, ndarray out; tensor in, tensor out on its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("StandardScaler", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    /// [`StandardScaler::transform`] of an `x` already checked.
    fn transform_unchecked<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let (mean, scale) = self.effective()?;
        X::Storage::mat(standardize::tensors(x.arg(), S::vec_arg(&mean), S::vec_arg(&scale))?)
    }

    /// Undo [`StandardScaler::transform`].
    ///
    /// # Errors
    /// As [`StandardScaler::transform`].
    pub fn inverse_transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("StandardScaler", self.n_features, x)?;
        let (mean, scale) = self.effective()?;
        X::Storage::mat(unstandardize::tensors(x.arg(), S::vec_arg(&mean), S::vec_arg(&scale))?)
    }

    /// The mean and scale transform applies: zeros / ones for a disabled step.
    fn effective(&self) -> Result<(Vect<S, F>, Vect<S, F>)> {
        let device = S::vec_device(&self.mean);
        let fill = |v: f64| S::vec_from_host(ndarray::Array1::from_elem(self.n_features, F::from_f64(v)), device);
        let mean = if self.params.with_mean { self.mean.clone() } else { fill(0.0)? };
        let scale = if self.params.with_std { self.scale.clone() } else { fill(1.0)? };
        Ok((mean, scale))
    }
}

crate::relocate!([F: Real] StandardScaler<F, @> { mean: vec[d], var: vec[d], scale: vec[d], n_samples, weight_sum, n_features: size[d], params, _f });

crate::traits::host_transformer!(StandardScalerParams => StandardScaler<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(StandardScalerParams, "StandardScaler" { "with_mean" => with_mean: bool, "with_std" => with_std: bool });
