//! What estimators take and keep: ndarray arrays (host) or [`Tensor`]s (on a device).
//!
//! Every estimator is written once against [`Matrix`] / [`Vector`] inputs and calls kiln kernels
//! through their `tensors` entry points, so the same source runs wherever the data lives:
//! host arrays run on the default device (`Device::Cpu` unless `with_device` says otherwise),
//! tensors on their own device. What a model keeps (its fitted attributes) is typed by the
//! [`Storage`] of the data it was fitted on: [`Host`] keeps ndarray arrays (read directly,
//! `scaler.mean()` is an `&Array1<F>`), [`OnDevice`] keeps tensors, which never leave their
//! device behind the caller's back.

use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_runtime::{Device, Element, Tensor, TensorArg};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix1, Ix2};
use std::fmt::Debug;

/// Where a fitted model keeps its attributes: [`Host`] (ndarray) or [`OnDevice`] (tensors).
pub trait Storage: Debug + Clone + Copy + Send + Sync + 'static {
    /// A matrix attribute (`Array2<T>` or `Tensor<T>`).
    type Mat<T: Element>: Debug + Clone + Send + Sync;
    /// A vector attribute (`Array1<T>` or `Tensor<T>`).
    type Vec<T: Element>: Debug + Clone + Send + Sync;

    /// A kernel output kept as a matrix attribute.
    fn mat<T: Element>(t: Tensor<T>) -> Result<Self::Mat<T>>;
    /// A kernel output kept as a vector attribute.
    fn vec<T: Element>(t: Tensor<T>) -> Result<Self::Vec<T>>;
    /// A matrix attribute as a kernel argument.
    fn mat_arg<T: Element>(m: &Self::Mat<T>) -> TensorArg<'_>;
    /// A vector attribute as a kernel argument.
    fn vec_arg<T: Element>(v: &Self::Vec<T>) -> TensorArg<'_>;
    /// A host vector moved where this storage keeps things (`device` for [`OnDevice`]).
    fn vec_from_host<T: Element>(a: Array1<T>, device: Device) -> Result<Self::Vec<T>>;
    /// A host matrix moved where this storage keeps things.
    fn mat_from_host<T: Element>(a: Array2<T>, device: Device) -> Result<Self::Mat<T>>;
    /// The device a vector attribute lives on (the default device for host arrays).
    fn vec_device<T: Element>(v: &Self::Vec<T>) -> Device;
    /// A copy of a vector attribute on the host (for host-side algorithm steps).
    fn vec_to_host<T: Element>(v: &Self::Vec<T>) -> Result<Array1<T>>;
    /// A copy of a matrix attribute on the host.
    fn mat_to_host<T: Element>(m: &Self::Mat<T>) -> Result<Array2<T>>;
}

/// Attributes as ndarray arrays: models fitted on ndarray input.
#[derive(Debug, Clone, Copy)]
pub struct Host;

/// Attributes as tensors on the device the model was fitted on.
#[derive(Debug, Clone, Copy)]
pub struct OnDevice;

impl Storage for Host {
    type Mat<T: Element> = Array2<T>;
    type Vec<T: Element> = Array1<T>;

    fn mat<T: Element>(t: Tensor<T>) -> Result<Array2<T>> {
        Ok(t.into_array::<Ix2>()?)
    }
    fn vec<T: Element>(t: Tensor<T>) -> Result<Array1<T>> {
        Ok(t.into_array::<Ix1>()?)
    }
    fn mat_arg<T: Element>(m: &Array2<T>) -> TensorArg<'_> {
        kiln_runtime::tensor_arg(m)
    }
    fn vec_arg<T: Element>(v: &Array1<T>) -> TensorArg<'_> {
        kiln_runtime::tensor_arg(v)
    }
    fn vec_from_host<T: Element>(a: Array1<T>, _: Device) -> Result<Array1<T>> {
        Ok(a)
    }
    fn mat_from_host<T: Element>(a: Array2<T>, _: Device) -> Result<Array2<T>> {
        Ok(a)
    }
    fn vec_device<T: Element>(_: &Array1<T>) -> Device {
        Device::default_device()
    }
    fn vec_to_host<T: Element>(v: &Array1<T>) -> Result<Array1<T>> {
        Ok(v.clone())
    }
    fn mat_to_host<T: Element>(m: &Array2<T>) -> Result<Array2<T>> {
        Ok(m.clone())
    }
}

impl Storage for OnDevice {
    type Mat<T: Element> = Tensor<T>;
    type Vec<T: Element> = Tensor<T>;

    fn mat<T: Element>(t: Tensor<T>) -> Result<Tensor<T>> {
        Ok(t)
    }
    fn vec<T: Element>(t: Tensor<T>) -> Result<Tensor<T>> {
        Ok(t)
    }
    fn mat_arg<T: Element>(m: &Tensor<T>) -> TensorArg<'_> {
        kiln_runtime::tensor_arg::<T, Ix2>(m)
    }
    fn vec_arg<T: Element>(v: &Tensor<T>) -> TensorArg<'_> {
        kiln_runtime::tensor_arg::<T, Ix1>(v)
    }
    fn vec_from_host<T: Element>(a: Array1<T>, device: Device) -> Result<Tensor<T>> {
        Ok(Tensor::from_owned(a, device)?)
    }
    fn mat_from_host<T: Element>(a: Array2<T>, device: Device) -> Result<Tensor<T>> {
        Ok(Tensor::from_owned(a, device)?)
    }
    fn vec_device<T: Element>(v: &Tensor<T>) -> Device {
        v.device()
    }
    fn vec_to_host<T: Element>(v: &Tensor<T>) -> Result<Array1<T>> {
        Ok(v.to_array::<Ix1>()?)
    }
    fn mat_to_host<T: Element>(m: &Tensor<T>) -> Result<Array2<T>> {
        Ok(m.to_array::<Ix2>()?)
    }
}

/// A 2-D input `X` (n_samples x n_features): `Array2<F>`, an `ArrayView2<F>`, or a
/// `Tensor<F>` of rank 2 on any device.
pub trait Matrix<F: Element> {
    /// Where a model fitted on this input keeps its attributes.
    type Storage: Storage;
    /// The input as a kernel argument.
    fn arg(&self) -> TensorArg<'_>;
    /// `(n_samples, n_features)`, or an error when the input is not 2-D.
    fn dims(&self) -> Result<(usize, usize)>;
    /// The device kernels on this input run on.
    fn device(&self) -> Device;
    /// A host copy (for host-side steps such as k-means++ seeding); no copy for host arrays
    /// would be possible to express here, so callers use it sparingly.
    fn to_host(&self) -> Result<Array2<F>>;
    /// The data itself when it lives in host memory as an ndarray (`None` for tensors).
    fn host_view(&self) -> Option<ArrayView2<'_, F>>;
}

impl<F: Element, S: Data<Elem = F>> Matrix<F> for ArrayBase<S, Ix2> {
    type Storage = Host;
    fn arg(&self) -> TensorArg<'_> {
        kiln_runtime::tensor_arg(self)
    }
    fn dims(&self) -> Result<(usize, usize)> {
        Ok(self.dim())
    }
    fn device(&self) -> Device {
        Device::default_device()
    }
    fn to_host(&self) -> Result<Array2<F>> {
        Ok(self.to_owned())
    }
    fn host_view(&self) -> Option<ArrayView2<'_, F>> {
        Some(self.view())
    }
}

impl<F: Element> Matrix<F> for Tensor<F> {
    type Storage = OnDevice;
    fn arg(&self) -> TensorArg<'_> {
        kiln_runtime::tensor_arg::<F, Ix2>(self)
    }
    fn dims(&self) -> Result<(usize, usize)> {
        match self.shape() {
            &[n, d] => Ok((n, d)),
            s => Err(EstimatorError::Shape(format!("expected a 2-D tensor (n_samples, n_features), got shape {s:?}"))),
        }
    }
    fn device(&self) -> Device {
        Tensor::device(self)
    }
    fn to_host(&self) -> Result<Array2<F>> {
        Ok(self.to_array::<Ix2>()?)
    }
    fn host_view(&self) -> Option<ArrayView2<'_, F>> {
        None
    }
}

/// A 1-D input (targets `y`, labels): `Array1<T>`, an `ArrayView1<T>`, or a `Tensor<T>` of rank 1.
pub trait Vector<T: Element> {
    /// Where an estimator fitted on this input alone (a label encoder) keeps its attributes.
    type Storage: Storage;
    /// The input as a kernel argument.
    fn arg(&self) -> TensorArg<'_>;
    /// The length, or an error when the input is not 1-D.
    fn length(&self) -> Result<usize>;
    /// A host copy.
    fn to_host(&self) -> Result<Array1<T>>;
    /// The device kernels on this input run on.
    fn device(&self) -> Device;
}

impl<T: Element, S: Data<Elem = T>> Vector<T> for ArrayBase<S, Ix1> {
    type Storage = Host;
    fn arg(&self) -> TensorArg<'_> {
        kiln_runtime::tensor_arg(self)
    }
    fn length(&self) -> Result<usize> {
        Ok(self.len())
    }
    fn to_host(&self) -> Result<Array1<T>> {
        Ok(self.to_owned())
    }
    fn device(&self) -> Device {
        Device::default_device()
    }
}

impl<T: Element> Vector<T> for Tensor<T> {
    type Storage = OnDevice;
    fn arg(&self) -> TensorArg<'_> {
        kiln_runtime::tensor_arg::<T, Ix1>(self)
    }
    fn length(&self) -> Result<usize> {
        match self.shape() {
            &[n] => Ok(n),
            s => Err(EstimatorError::Shape(format!("expected a 1-D tensor, got shape {s:?}"))),
        }
    }
    fn to_host(&self) -> Result<Array1<T>> {
        Ok(self.to_array::<Ix1>()?)
    }
    fn device(&self) -> Device {
        Tensor::device(self)
    }
}

/// What an estimator's transform or predict returns for input of storage `S`: ndarray for
/// host input, tensors on the input's device otherwise.
pub type Mat<S, T> = <S as Storage>::Mat<T>;
/// See [`Mat`].
pub type Vect<S, T> = <S as Storage>::Vec<T>;

/// Checks every fit does first (scikit-learn's `check_array`): a 2-D X with at least
/// `min_samples` rows and one column, all finite. Returns `(n_samples, n_features)`.
pub fn check_x<F: Real, X: Matrix<F>>(estimator: &'static str, x: &X, min_samples: usize) -> Result<(usize, usize)> {
    let dims = check_x_shape(estimator, x, min_samples)?;
    check_finite(x)?;
    Ok(dims)
}

/// [`check_x`] less its pass over X for NaN and infinity, for a fit whose first kernel sums
/// every element of X anyway: it then calls [`check_finite_unless`] with whether those sums
/// came out finite.
pub fn check_x_shape<F: Real, X: Matrix<F>>(
    estimator: &'static str,
    x: &X,
    min_samples: usize,
) -> Result<(usize, usize)> {
    let (n, d) = x.dims()?;
    if n < min_samples || d == 0 {
        return Err(EstimatorError::EmptyInput { estimator, n_samples: n, n_features: d, min_samples });
    }
    Ok((n, d))
}

/// The check of [`check_finite`], skipped when `sums_finite`: sums that take in every element
/// of X (its column means) are NaN or infinite when an element is (`inf + v`, `inf - inf` and
/// `NaN + v` are never finite), so finite sums clear X without another pass over it. Sums that are not finite may also come from finite values
/// that overflow: the exact check decides.
pub fn check_finite_unless<F: Real, X: Matrix<F>>(x: &X, sums_finite: bool) -> Result<()> {
    if sums_finite {
        Ok(())
    } else {
        check_finite(x)
    }
}

/// NaN or infinity anywhere in X is an error ([`EstimatorError::NonFinite`]). One fused pass:
/// `sum(x * 0)` is NaN exactly when some element is not finite.
pub fn check_finite<F: Real, X: Matrix<F>>(x: &X) -> Result<()> {
    let probe = kernels::nonfinite_probe::tensors::<F>(x.arg())?.item()?;
    if probe.to_f64().is_nan() {
        return Err(EstimatorError::NonFinite { what: "X" });
    }
    Ok(())
}

/// A y of length `n` (the number of rows of X).
pub fn check_len(what: &'static str, got: usize, n: usize) -> Result<()> {
    if got != n {
        return Err(EstimatorError::Shape(format!(
            "found input variables with inconsistent numbers of samples: X has {n}, {what} has {got}"
        )));
    }
    Ok(())
}

/// What every predict / transform / inverse_transform of a fitted model checks first
/// (scikit-learn's `validate_data(reset=False)`): a 2-D X with the fit's feature count
/// ([`check_features`]), all finite ([`check_finite`], one fused pass). Returns the number of
/// rows. `fit_transform` skips it: the fit has just checked the same X.
pub fn check_fitted_x<F: Real, X: Matrix<F>>(estimator: &'static str, n_features: usize, x: &X) -> Result<usize> {
    let (n, d) = x.dims()?;
    check_features(estimator, n_features, d)?;
    check_finite(x)?;
    Ok(n)
}

/// The feature count at predict time must be the fit's.
pub fn check_features(estimator: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(EstimatorError::FeatureCountMismatch { estimator, expected, got });
    }
    Ok(())
}

mod kernels {
    use kiln_macros::kernel;

    /// NaN exactly when some element of `x` is NaN or infinite (`inf * 0` and `NaN * 0` are NaN).
    #[kernel(crate = kiln_runtime)]
    pub fn nonfinite_probe<F: Float>(x: Array2<F>) -> F {
        (x * 0.0).sum()
    }
}
