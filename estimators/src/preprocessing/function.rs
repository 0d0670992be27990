//! `FunctionTransformer`: a user's own `#[kernel]` as a transformer (scikit-learn's
//! `sklearn.preprocessing.FunctionTransformer`), so it is a pipeline step and runs wherever the
//! data lives.
//!
//! The function is the kernel's handle (`my_kernel::kernel()`, what `#[kernel]` generates next
//! to the function): a kernel of one `Array2<F>` parameter returning an `Array2<F>`, generic
//! over the float type or written for the one it is called with. Transform calls it through the
//! runtime on X's device (host arrays on the default device) and returns its output there;
//! `inverse_transform` calls the inverse kernel the same way. Without a function, both are the
//! identity, as in scikit-learn.
//!
//! ```
//! use kiln_estimators::prelude::*;
//! use kiln_macros::kernel;
//!
//! #[kernel(crate = kiln_runtime)]
//! fn log1p_all<F: Float>(x: Array2<F>) -> Array2<F> {
//!     x.ln_1p()
//! }
//! #[kernel(crate = kiln_runtime)]
//! fn expm1_all<F: Float>(x: Array2<F>) -> Array2<F> {
//!     x.exp_m1()
//! }
//!
//! # fn main() -> Result<(), EstimatorError> {
//! let x = ndarray::array![[0.0f64, 1.0], [2.0, 3.0]];
//! let ft = FunctionTransformer::params().func(log1p_all::kernel()).inverse_func(expm1_all::kernel()).fit(&x)?;
//! let z = ft.transform(&x)?;
//! assert!((z[[1, 1]] - 4.0f64.ln()).abs() < 1e-15);
//! let back = ft.inverse_transform(&z)?;
//! assert!((back[[1, 1]] - 3.0).abs() < 1e-12);
//! # Ok(())
//! # }
//! ```

use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_runtime::{Kernel, Tensor};

/// Hyper-parameters of [`FunctionTransformer`] (scikit-learn's defaults: identity function
/// and inverse, no validation of X).
#[derive(Clone, Copy, Default)]
pub struct FunctionTransformerParams {
    func: Option<&'static Kernel>,
    inverse_func: Option<&'static Kernel>,
    validate: bool,
}

impl std::fmt::Debug for FunctionTransformerParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionTransformerParams")
            .field("func", &self.func.is_some())
            .field("inverse_func", &self.inverse_func.is_some())
            .field("validate", &self.validate)
            .finish()
    }
}

/// A fitted function transformer: the kernels, and the feature count when `validate` is on.
#[derive(Clone, Copy, Debug)]
pub struct FunctionTransformer {
    params: FunctionTransformerParams,
    n_features: Option<usize>,
}

crate::relocate!(plain FunctionTransformer);

/// A fitted function transformer holds the user's kernels, which cannot be written: saving one
/// (or a pipeline holding one) is an error.
impl serde::Serialize for FunctionTransformer {
    fn serialize<S: serde::Serializer>(&self, _: S) -> std::result::Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("a FunctionTransformer holds the user's kernels, which cannot be saved"))
    }
}

impl FunctionTransformer {
    /// The default hyper-parameters (identity).
    pub fn params() -> FunctionTransformerParams {
        FunctionTransformerParams::default()
    }

    /// The number of features seen when fitting (`n_features_in_`; `None` without `validate`,
    /// as scikit-learn records it only when it validates X).
    pub fn n_features_in(&self) -> Option<usize> {
        self.n_features
    }

    /// `func(x)` on `x`'s device (the identity without a function).
    ///
    /// # Errors
    /// With `validate`: a different feature count than at fit time, NaN or infinity. A kernel
    /// that does not take one 2-D array of X's type and return one is a typed kernel error.
    pub fn transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        if let Some(d) = self.n_features {
            check_fitted_x("FunctionTransformer", d, x)?;
        }
        apply(self.params.func, x)
    }

    /// `inverse_func(x)` on `x`'s device (the identity without an inverse).
    ///
    /// # Errors
    /// As [`FunctionTransformer::transform`], without the feature count check (the inverse
    /// takes the transform's output).
    pub fn inverse_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        if self.n_features.is_some() {
            crate::data::check_finite(x)?;
        }
        apply(self.params.inverse_func, x)
    }

    fn transform_unchecked<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        apply(self.params.func, x)
    }
}

/// Run `kernel` on `x` (a copy of `x` where it lives when there is none).
fn apply<F: Real, X: Matrix<F>>(kernel: Option<&'static Kernel>, x: &X) -> Result<Mat<X::Storage, F>> {
    x.dims()?;
    let out = match kernel {
        Some(k) => {
            let mut outs = k.call_tensors(Some(F::DTYPE), vec![x.arg()])?;
            if outs.len() != 1 {
                return Err(EstimatorError::Shape(format!(
                    "the function of a FunctionTransformer must return one array, it returns {}",
                    outs.len()
                )));
            }
            let t = Tensor::<F>::from_any(outs.remove(0))?;
            if t.shape().len() != 2 {
                return Err(EstimatorError::Shape(format!(
                    "the function of a FunctionTransformer must return a 2-D array, it returns shape {:?}",
                    t.shape()
                )));
            }
            t
        }
        None => Tensor::from_owned(x.to_host()?, x.device())?,
    };
    X::Storage::mat(out)
}

impl FunctionTransformerParams {
    /// The kernel transform applies (`func`): `my_kernel::kernel()` of a `#[kernel]` taking and
    /// returning one 2-D array.
    pub fn func(mut self, kernel: &'static Kernel) -> Self {
        self.func = Some(kernel);
        self
    }

    /// The kernel `inverse_transform` applies (`inverse_func`).
    pub fn inverse_func(mut self, kernel: &'static Kernel) -> Self {
        self.inverse_func = Some(kernel);
        self
    }

    /// Check X (2-D, finite, the fit's feature count at transform) before calling the
    /// function (`validate`, default false).
    pub fn validate(mut self, yes: bool) -> Self {
        self.validate = yes;
        self
    }

    /// Record the feature count (with `validate`); nothing else is learned.
    ///
    /// # Errors
    /// With `validate`: empty or non-finite X. X not 2-D.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<FunctionTransformer> {
        let n_features = if self.validate {
            Some(check_x("FunctionTransformer", x, 1)?.1)
        } else {
            x.dims()?;
            None
        };
        Ok(FunctionTransformer { params: *self, n_features })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`FunctionTransformerParams::fit`] and [`FunctionTransformer::transform`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        self.fit(x)?.transform_unchecked(x)
    }
}

crate::traits::host_transformer!(FunctionTransformerParams => FunctionTransformer, unchecked);
crate::model_selection::set_params!(FunctionTransformerParams, "FunctionTransformer" { "validate" => validate: bool });
