//! `Binarizer`: every value above a threshold becomes 1, every other value 0.
//!
//! Stateless like scikit-learn's: `fit` only checks X and records its feature count, so one
//! fitted binarizer transforms host arrays and tensors on any device alike. Transform is one
//! elementwise kernel, compared in X's own float type as scikit-learn compares.

use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::Result;
use kiln_macros::kernel;

/// 1 where `x > threshold`, else 0.
#[kernel(crate = kiln_runtime)]
fn binarize<F: Float>(x: Array2<F>, threshold: F) -> Array2<F> {
    let (n, d) = (x.nrows(), x.ncols());
    Array2::from_shape_fn((n, d), |(i, j)| (x[[i, j]] > threshold) as F)
}

/// Hyper-parameters of [`Binarizer`] (scikit-learn's default: `threshold = 0.0`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BinarizerParams {
    threshold: f64,
}

/// A "fitted" binarizer: the threshold and the feature count seen when fitting.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Binarizer {
    threshold: f64,
    n_features: usize,
}

crate::relocate!(plain Binarizer);

impl Binarizer {
    /// The default hyper-parameters: `threshold = 0.0`.
    pub fn params() -> BinarizerParams {
        BinarizerParams::default()
    }

    /// Values strictly above it become 1 (`threshold`).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// 1 where `x > threshold`, 0 elsewhere (ndarray in, ndarray out; tensor in, tensor out on
    /// its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; kernel errors.
    pub fn transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("Binarizer", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    /// [`Binarizer::transform`] of an `x` already checked.
    fn transform_unchecked<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(binarize::tensors(x.arg(), F::from_f64(self.threshold))?)
    }
}

impl BinarizerParams {
    /// Values strictly above it become 1, the others 0 (`threshold`; any float, as in
    /// scikit-learn: a NaN threshold maps everything to 0).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Check `x` and record its feature count.
    ///
    /// # Errors
    /// Empty or non-finite X.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Binarizer> {
        let (_, d) = check_x("Binarizer", x, 1)?;
        Ok(Binarizer { threshold: self.threshold, n_features: d })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`BinarizerParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked X (shape and finiteness): no second pass over it.
        self.fit(x)?.transform_unchecked(x)
    }
}

crate::traits::host_transformer!(BinarizerParams => Binarizer, unchecked);
crate::model_selection::set_params!(BinarizerParams, "Binarizer" { "threshold" => threshold: f64 });
