//! Discriminant analysis (scikit-learn's `sklearn.discriminant_analysis`):
//! [`LinearDiscriminantAnalysis`] with its `svd` solver.

mod lda;

pub use lda::{LinearDiscriminantAnalysis, LinearDiscriminantAnalysisParams};
