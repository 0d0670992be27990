//! Covariance estimators (scikit-learn's `sklearn.covariance`): the maximum-likelihood
//! [`EmpiricalCovariance`] and the shrunk [`ShrunkCovariance`] (a given shrinkage),
//! [`LedoitWolf`] and [`Oas`] (scikit-learn's `OAS`).
//!
//! Every estimator makes the same two kernel passes over X (`moments` in `fit.rs`): the location
//! (column means, or zeros with `assume_centered`) and the scatter of the centered samples
//! (`Z^T Z / n`, plus the sum of squared row norms squared that Ledoit-Wolf's shrinkage needs).
//! The shrinkage and the precision (a pseudo-inverse through a symmetric eigendecomposition, as
//! scipy's `pinvh`) are d x d host algebra in f64.

mod fit;

pub(crate) use fit::{ledoit_wolf_shrinkage_of, shrink};
pub use fit::{
    CovarianceEstimator, EmpiricalCovariance, EmpiricalCovarianceParams, ErrorNorm, LedoitWolf, LedoitWolfParams, Oas,
    OasParams, ShrunkCovariance, ShrunkCovarianceParams,
};
