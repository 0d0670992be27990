//! Naive Bayes classifiers (scikit-learn's `sklearn.naive_bayes`).

mod gaussian;

pub use gaussian::{GaussianNB, GaussianNBParams};
