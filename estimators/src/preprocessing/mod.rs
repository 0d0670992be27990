//! Preprocessing: scalers and feature maps (scikit-learn's `sklearn.preprocessing`).

mod standard;

pub use standard::{StandardScaler, StandardScalerParams};
