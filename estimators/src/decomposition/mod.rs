//! Matrix decompositions (scikit-learn's `sklearn.decomposition`): PCA.

pub(crate) mod linalg;
mod pca;
mod randomized;

pub use pca::{Pca, PcaComponents, PcaParams, SvdSolver};
