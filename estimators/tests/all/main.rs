//! kiln-estimators' integration tests, one binary (`cargo test -p kiln-estimators --test all`):
//! one module per subject, `common` holds the scikit-learn fixtures and tolerances. One binary
//! links once instead of once per file, which dominates a cold build on two cores. Run one
//! module with a filter: `cargo test -p kiln-estimators --test all cluster::`.

mod bad_input;
mod cluster;
mod common;
mod covariance;
mod datasets;
mod decomposition;
mod encoders;
mod interp;
mod kernel_approximation;
mod linear_model;
mod metrics;
mod model_selection;
mod multi_target;
mod naive_bayes;
mod preprocessing;
mod preprocessing_more;
mod ridge_cv;
mod search;
mod spline;
