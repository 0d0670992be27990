//! Discriminant analysis (scikit-learn's `sklearn.discriminant_analysis`):
//! [`LinearDiscriminantAnalysis`] with its `svd`, `lsqr` and `eigen` solvers and covariance
//! shrinkage.

mod lda;

pub use lda::{LdaSolver, LinearDiscriminantAnalysis, LinearDiscriminantAnalysisParams, Shrinkage};
