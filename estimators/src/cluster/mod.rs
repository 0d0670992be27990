//! Clustering (scikit-learn's `sklearn.cluster`): KMeans.

mod kmeans;
mod lloyd;
mod panels;
pub(crate) mod plusplus;
mod pruned;

pub use kmeans::{KMeans, KMeansParams};
