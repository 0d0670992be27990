//! kiln-estimators: scikit-learn-like estimators. Not built yet (issue 5).

pub mod datasets;
