//! `MinMaxScaler`: scale each feature to a given range (`[0, 1]` by default).
//!
//! Fitting is one kernel over X (per-column minimum and maximum, then the O(d) scale and
//! offset); transform and its inverse are one elementwise kernel each, in scikit-learn's
//! operation order (`x * scale_ + min_`, and `(x - min_) / scale_`). Constant features (a range
//! below `10 * eps`) get scale `feature_range` width, like scikit-learn's `_handle_zeros_in_scale`.

use super::affine::{scale_shift, unshift_unscale};
use super::zero_scale_threshold;
use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use std::marker::PhantomData;

/// Per-column `(data_min, data_max, data_range, scale, min)` for the target range `[lo, hi]`.
#[kernel(crate = kiln_runtime)]
#[allow(clippy::type_complexity)]
fn minmax_fit<F: Float>(
    x: Array2<F>,
    lo: F,
    hi: F,
    tiny: F,
) -> (Array1<F>, Array1<F>, Array1<F>, Array1<F>, Array1<F>) {
    let data_min = x.min_axis(Axis(0));
    let data_max = x.max_axis(Axis(0));
    let data_range = &data_max - &data_min;
    let scale = (hi - lo) / select(data_range < tiny, 1.0, data_range);
    let min = lo - &data_min * &scale;
    (data_min, data_max, data_range, scale, min)
}

/// Hyper-parameters of [`MinMaxScaler`] (scikit-learn's default: `feature_range = (0, 1)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinMaxScalerParams {
    feature_range: (f64, f64),
}

/// A fitted min-max scaler, its attributes kept where it was fitted (ndarray arrays for ndarray
/// input, tensors on the device for tensor input).
#[derive(Debug, Clone)]
pub struct MinMaxScaler<F: Real, S: Storage> {
    data_min: S::Vec<F>,
    data_max: S::Vec<F>,
    data_range: S::Vec<F>,
    scale: S::Vec<F>,
    min: S::Vec<F>,
    n_samples: usize,
    n_features: usize,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] MinMaxScaler<F, @> { data_min: vec[d], data_max: vec[d], data_range: vec[d], scale: vec[d], min: vec[d], n_samples, n_features: size[d], _f });

impl MinMaxScaler<f64, crate::data::Host> {
    /// The default hyper-parameters: `feature_range = (0, 1)`.
    pub fn params() -> MinMaxScalerParams {
        MinMaxScalerParams { feature_range: (0.0, 1.0) }
    }
}

impl MinMaxScalerParams {
    /// The range `(min, max)` transformed data lands in (`feature_range`); `min < max`,
    /// checked when fitting.
    pub fn feature_range(mut self, min: f64, max: f64) -> Self {
        self.feature_range = (min, max);
        self
    }

    /// Compute the per-feature minimum and maximum of `x`.
    ///
    /// # Errors
    /// `feature_range` not increasing; empty or non-finite X; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<MinMaxScaler<F, X::Storage>> {
        let (lo, hi) = self.feature_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(EstimatorError::param(
                "MinMaxScaler",
                "feature_range",
                "a finite (min, max) with min smaller than max",
                format!("({lo}, {hi})"),
            ));
        }
        let (n, d) = check_x("MinMaxScaler", x, 1)?;
        let (data_min, data_max, data_range, scale, min) =
            minmax_fit::tensors(x.arg(), F::from_f64(lo), F::from_f64(hi), zero_scale_threshold::<F>())?;
        Ok(MinMaxScaler {
            data_min: X::Storage::vec(data_min)?,
            data_max: X::Storage::vec(data_max)?,
            data_range: X::Storage::vec(data_range)?,
            scale: X::Storage::vec(scale)?,
            min: X::Storage::vec(min)?,
            n_samples: n,
            n_features: d,
            _f: PhantomData,
        })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`MinMaxScalerParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked X (shape and finiteness): no second pass over it.
        self.fit(x)?.transform_unchecked(x)
    }
}

impl<F: Real, S: Storage> MinMaxScaler<F, S> {
    /// The per-feature minimum seen when fitting (`data_min_`).
    pub fn data_min(&self) -> &S::Vec<F> {
        &self.data_min
    }

    /// The per-feature maximum seen when fitting (`data_max_`).
    pub fn data_max(&self) -> &S::Vec<F> {
        &self.data_max
    }

    /// `data_max - data_min` per feature (`data_range_`).
    pub fn data_range(&self) -> &S::Vec<F> {
        &self.data_range
    }

    /// The per-feature factor transform multiplies by (`scale_`).
    pub fn scale(&self) -> &S::Vec<F> {
        &self.scale
    }

    /// The per-feature offset transform adds after scaling (`min_`).
    pub fn min(&self) -> &S::Vec<F> {
        &self.min
    }

    /// The number of samples seen when fitting (`n_samples_seen_`).
    pub fn n_samples_seen(&self) -> usize {
        self.n_samples
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// Scale `x` into the feature range: `x * scale_ + min_` (ndarray in, ndarray out; tensor
    /// in, tensor out on its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("MinMaxScaler", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    /// [`MinMaxScaler::transform`] of an `x` already checked.
    fn transform_unchecked<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let z = scale_shift::tensors(x.arg(), S::vec_arg(&self.scale), S::vec_arg(&self.min))?;
        X::Storage::mat(z)
    }

    /// Undo [`MinMaxScaler::transform`]: `(x - min_) / scale_`.
    ///
    /// # Errors
    /// As [`MinMaxScaler::transform`].
    pub fn inverse_transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("MinMaxScaler", self.n_features, x)?;
        let z = unshift_unscale::tensors(x.arg(), S::vec_arg(&self.min), S::vec_arg(&self.scale))?;
        X::Storage::mat(z)
    }
}

crate::traits::host_transformer!(MinMaxScalerParams => MinMaxScaler<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(MinMaxScalerParams, "MinMaxScaler" {});
