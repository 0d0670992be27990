//! `MaxAbsScaler`: scale each feature by its maximum absolute value, so it lands in `[-1, 1]`
//! without shifting (sparsity-preserving in scikit-learn).
//!
//! Fitting is one kernel (per-column `max |x|`); transform divides and its inverse multiplies,
//! through the same elementwise kernels as [`super::MinMaxScaler`] with a zero offset (exact:
//! `x - 0` and `x * s + 0` round like `x` and `x * s`). All-zero features get scale 1.

use super::affine::{scale_shift, unshift_unscale};
use super::zero_scale_threshold;
use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::Result;
use kiln_macros::kernel;
use std::marker::PhantomData;

/// Per-column `max |x|`, the scale (1 where that is below `tiny`), and a zero offset.
#[kernel(crate = kiln_runtime)]
fn maxabs_fit<F: Float>(x: Array2<F>, tiny: F) -> (Array1<F>, Array1<F>, Array1<F>) {
    let max_abs = x.abs().max_axis(Axis(0));
    let scale = select(max_abs < tiny, 1.0, max_abs);
    let zero = &max_abs * 0.0;
    (max_abs, scale, zero)
}

/// Hyper-parameters of [`MaxAbsScaler`] (it has none besides scikit-learn's `copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MaxAbsScalerParams {}

/// A fitted max-abs scaler, its attributes kept where it was fitted.
#[derive(Debug, Clone)]
pub struct MaxAbsScaler<F: Real, S: Storage> {
    max_abs: S::Vec<F>,
    scale: S::Vec<F>,
    zero: S::Vec<F>,
    n_samples: usize,
    n_features: usize,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] MaxAbsScaler<F, @> { max_abs: vec[d], scale: vec[d], zero: vec[d], n_samples, n_features: size[d], _f });

impl MaxAbsScaler<f64, crate::data::Host> {
    /// The (only) hyper-parameters.
    pub fn params() -> MaxAbsScalerParams {
        MaxAbsScalerParams {}
    }
}

impl MaxAbsScalerParams {
    /// Compute the per-feature maximum absolute value of `x`.
    ///
    /// # Errors
    /// Empty or non-finite X; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<MaxAbsScaler<F, X::Storage>> {
        let (n, d) = check_x("MaxAbsScaler", x, 1)?;
        let (max_abs, scale, zero) = maxabs_fit::tensors(x.arg(), zero_scale_threshold::<F>())?;
        Ok(MaxAbsScaler {
            max_abs: X::Storage::vec(max_abs)?,
            scale: X::Storage::vec(scale)?,
            zero: X::Storage::vec(zero)?,
            n_samples: n,
            n_features: d,
            _f: PhantomData,
        })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`MaxAbsScalerParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked X (shape and finiteness): no second pass over it.
        self.fit(x)?.transform_unchecked(x)
    }
}

impl<F: Real, S: Storage> MaxAbsScaler<F, S> {
    /// The per-feature maximum absolute value (`max_abs_`).
    pub fn max_abs(&self) -> &S::Vec<F> {
        &self.max_abs
    }

    /// The per-feature divisor (`scale_`): `max_abs_`, or 1 for all-zero features.
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

    /// `x / scale_` (ndarray in, ndarray out; tensor in, tensor out on its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("MaxAbsScaler", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    /// [`MaxAbsScaler::transform`] of an `x` already checked.
    fn transform_unchecked<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let z = unshift_unscale::tensors(x.arg(), S::vec_arg(&self.zero), S::vec_arg(&self.scale))?;
        X::Storage::mat(z)
    }

    /// Undo [`MaxAbsScaler::transform`]: `x * scale_`.
    ///
    /// # Errors
    /// As [`MaxAbsScaler::transform`].
    pub fn inverse_transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("MaxAbsScaler", self.n_features, x)?;
        let z = scale_shift::tensors(x.arg(), S::vec_arg(&self.scale), S::vec_arg(&self.zero))?;
        X::Storage::mat(z)
    }
}

crate::traits::host_transformer!(MaxAbsScalerParams => MaxAbsScaler<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(MaxAbsScalerParams, "MaxAbsScaler" {});
