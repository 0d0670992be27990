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
mod discriminant_analysis;
mod encoders;
mod est_catchups;
mod function_transformer;
mod interp;
mod kernel_approximation;
mod kmeans_init;
mod kmeans_weighted;
mod lda_solvers;
mod linear_model;
mod logistic_more;
mod metrics;
mod metrics_more;
mod mixture;
mod model_selection;
mod multi_target;
mod naive_bayes;
mod neighbors;
mod onehot;
mod pca_solvers;
mod poisson;
mod preprocessing;
mod preprocessing_more;
mod quantile;
mod relocate;
mod ridge_class_weight;
mod ridge_classifier;
mod ridge_cv;
mod sample_weight;
mod scoring;
mod search;
mod spline;
mod target_encoder;
