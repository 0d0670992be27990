//! `Normalizer`: scale each sample (row) to unit norm (l1, l2 or max).
//!
//! Stateless like scikit-learn's: `fit` only checks X and records its feature count. Transform
//! is one kernel: the row norms and the division fused (rows of norm below `10 * eps` are left
//! as they are, like scikit-learn's `_handle_zeros_in_scale`).

use super::zero_scale_threshold;
use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::Result;
use kiln_macros::kernel;

/// Each row divided by its norm: `norm` 0 is l1 (sum of `|x|`), 1 is l2, 2 is max (`max |x|`).
#[kernel(crate = kiln_runtime)]
fn normalize_rows<F: Float>(x: Array2<F>, norm: i64, tiny: F) -> Array2<F> {
    let l1 = x.abs().sum_axis(Axis(1));
    let l2 = x.powi(2).sum_axis(Axis(1)).sqrt();
    let max = x.abs().max_axis(Axis(1));
    let norms = select(norm == 0, l1, select(norm == 1, l2, max));
    let norms = select(norms < tiny, 1.0, norms);
    x / norms.insert_axis(Axis(1))
}

/// The norm each sample is scaled to one of (`norm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Norm {
    /// The sum of absolute values (`"l1"`).
    L1,
    /// The Euclidean norm (`"l2"`, scikit-learn's default).
    #[default]
    L2,
    /// The largest absolute value (`"max"`).
    Max,
}

impl Norm {
    /// The code [`normalize_rows`] takes.
    fn code(self) -> i64 {
        match self {
            Norm::L1 => 0,
            Norm::L2 => 1,
            Norm::Max => 2,
        }
    }
}

/// Hyper-parameters of [`Normalizer`] (scikit-learn's default: `norm = "l2"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NormalizerParams {
    norm: Norm,
}

/// A "fitted" normalizer: only the norm and the feature count, so it transforms host arrays
/// and tensors on any device alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Normalizer {
    norm: Norm,
    n_features: usize,
}

crate::relocate!(plain Normalizer);

impl Normalizer {
    /// The default hyper-parameters: `norm = Norm::L2`.
    pub fn params() -> NormalizerParams {
        NormalizerParams::default()
    }

    /// The norm rows are scaled by (`norm`).
    pub fn norm(&self) -> Norm {
        self.norm
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// Scale every row of `x` to unit norm (ndarray in, ndarray out; tensor in, tensor out on
    /// its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; kernel errors.
    pub fn transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("Normalizer", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    /// [`Normalizer::transform`] of an `x` already checked.
    fn transform_unchecked<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let z = normalize_rows::tensors(x.arg(), self.norm.code(), zero_scale_threshold::<F>())?;
        X::Storage::mat(z)
    }
}

impl NormalizerParams {
    /// Which norm rows are scaled to one of (`norm`).
    pub fn norm(mut self, norm: Norm) -> Self {
        self.norm = norm;
        self
    }

    /// Check `x` and record its feature count.
    ///
    /// # Errors
    /// Empty or non-finite X.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Normalizer> {
        let (_, d) = check_x("Normalizer", x, 1)?;
        Ok(Normalizer { norm: self.norm, n_features: d })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`NormalizerParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked X (shape and finiteness): no second pass over it.
        self.fit(x)?.transform_unchecked(x)
    }
}

crate::traits::host_transformer!(NormalizerParams => Normalizer, unchecked);
crate::model_selection::set_params!(NormalizerParams, "Normalizer" { "norm" => norm: Norm });
