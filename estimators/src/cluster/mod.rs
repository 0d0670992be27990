//! Clustering (scikit-learn's `sklearn.cluster`): KMeans.

mod bounds;
mod kmeans;
mod lloyd;
mod plusplus;

pub use kmeans::{KMeans, KMeansParams};
