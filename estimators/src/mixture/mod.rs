//! Mixture models (scikit-learn's `sklearn.mixture`): GaussianMixture.

mod em;
mod gaussian;

pub use gaussian::{CovarianceType, GaussianMixture, GaussianMixtureParams, MixtureInit};
