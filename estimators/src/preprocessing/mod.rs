//! Preprocessing: scalers, feature maps and target encoders (scikit-learn's `sklearn.preprocessing`).

mod affine;
mod binarizer;
mod function;
mod kernel_centerer;
pub(crate) mod label;
mod maxabs;
mod minmax;
mod normalizer;
mod onehot;
mod polynomial;
mod quantile;
mod spline;
mod standard;
mod target_encoder;

pub use binarizer::{Binarizer, BinarizerParams};
pub use function::{FunctionTransformer, FunctionTransformerParams};
pub use kernel_centerer::{KernelCenterer, KernelCentererParams};
pub use label::{LabelBinarizer, LabelBinarizerParams, LabelEncoder, LabelEncoderParams, TargetType};
pub use maxabs::{MaxAbsScaler, MaxAbsScalerParams};
pub use minmax::{MinMaxScaler, MinMaxScalerParams};
pub use normalizer::{Norm, Normalizer, NormalizerParams};
pub use onehot::{DropCategory, HandleUnknown, MinFrequency, OneHotEncoder, OneHotEncoderParams};
pub use polynomial::{PolynomialFeatures, PolynomialFeaturesParams};
pub use quantile::{OutputDistribution, QuantileTransformer, QuantileTransformerParams};
pub use spline::{Extrapolation, SplineKnots, SplineTransformer, SplineTransformerParams};
pub use standard::{StandardScaler, StandardScalerParams};
pub use target_encoder::{Smooth, TargetEncoder, TargetEncoderCv, TargetEncoderParams, TargetEncoderType};

/// scikit-learn's `_handle_zeros_in_scale` threshold: a scale below `10 * eps` of the float
/// type is treated as zero (and replaced by 1), so constant features pass through unscaled.
pub(crate) fn zero_scale_threshold<F: crate::datasets::Real>() -> F {
    let eps = if std::mem::size_of::<F>() == 4 { f64::from(f32::EPSILON) } else { f64::EPSILON };
    F::from_f64(10.0 * eps)
}
