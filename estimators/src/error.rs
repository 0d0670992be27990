//! The estimators' error type: every way a fit, a prediction or a parameter can be rejected,
//! worded like scikit-learn's messages so users recognise them.

use thiserror::Error;

/// Result of an estimator call.
pub type Result<T, E = EstimatorError> = std::result::Result<T, E>;

/// Why an estimator refused its input or its hyper-parameters.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EstimatorError {
    /// A hyper-parameter outside its valid range (checked when fitting).
    #[error("the '{name}' parameter of {estimator} must be {expected}; got {got}")]
    InvalidParameter { estimator: &'static str, name: &'static str, expected: String, got: String },
    /// X (or y) holds NaN or infinity.
    #[error("input {what} contains NaN or infinity")]
    NonFinite { what: &'static str },
    /// No samples, or no features.
    #[error("found array with {n_samples} sample(s) and {n_features} feature(s) while a minimum of {min_samples} sample(s) and 1 feature is required by {estimator}")]
    EmptyInput { estimator: &'static str, n_samples: usize, n_features: usize, min_samples: usize },
    /// An input of the wrong rank or a y whose length is not X's number of rows.
    #[error("{0}")]
    Shape(String),
    /// Predicting or transforming with a different number of features than at fit time.
    #[error("X has {got} features, but {estimator} is expecting {expected} features as input")]
    FeatureCountMismatch { estimator: &'static str, expected: usize, got: usize },
    /// Fewer samples than the estimator needs (e.g. `n_clusters > n_samples`).
    #[error("{0}")]
    TooFewSamples(String),
    /// A classifier was given a single class.
    #[error(
        "this solver needs samples of at least 2 classes in the data, but the data contains only one class: {class}"
    )]
    SingleClass { class: i64 },
    /// Labels, targets or scores a metric cannot use: a multiclass target with a binary
    /// average, a label outside the given labels, a single class where two are needed,
    /// probabilities that do not sum to one.
    #[error("{0}")]
    InvalidTarget(String),
    /// A parameter name an estimator does not have (`set_param`, a search space), or a
    /// value of the wrong kind for it.
    #[error("{0}")]
    UnknownParameter(String),
    /// A feature asked for by name that kiln does not provide (a scorer name whose metric
    /// kiln lacks).
    #[error("{0}")]
    NotAvailable(String),
    /// Data on a device an operation cannot use together with the model's.
    #[error("{0}")]
    Device(String),
    /// A small dense problem (solve, eigendecomposition) failed on the host.
    #[error("linear algebra failed: {0}")]
    Linalg(String),
    /// A table sized by the hyper-parameters (and the data's shape) cannot be allocated: its
    /// byte count overflows or the memory is not there (numpy's `MemoryError`).
    #[error("unable to allocate {bytes} bytes for {what} with shape {shape:?}")]
    OutOfMemory { what: &'static str, shape: Vec<usize>, bytes: u128 },
    /// A saved model that cannot be written or read back: not a kiln model, another format
    /// version or model type, attributes missing, of the wrong shape or value.
    #[error("{0}")]
    Persist(String),
    /// A kernel call failed (compile, launch, device).
    #[error(transparent)]
    Kernel(#[from] kiln_runtime::Error),
    /// Loading or generating data failed.
    #[error(transparent)]
    Dataset(#[from] crate::datasets::DatasetError),
}

impl EstimatorError {
    /// An [`EstimatorError::InvalidParameter`].
    pub fn param(estimator: &'static str, name: &'static str, expected: impl Into<String>, got: impl ToString) -> Self {
        EstimatorError::InvalidParameter { estimator, name, expected: expected.into(), got: got.to_string() }
    }
}
