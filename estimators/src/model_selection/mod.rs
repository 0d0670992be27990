//! Model selection (scikit-learn's `sklearn.model_selection`): splitters, cross-validation
//! (`cross_validate`, `cross_val_score`, `cross_val_predict`) and searches (`GridSearchCV`,
//! `RandomizedSearchCV`) over hyper-parameters named as scikit-learn names them, scored by
//! scikit-learn's scorer names, on host arrays or on tensors of any device.
//!
//! They drive estimators through the object-safe traits of [`crate::traits`], so anything
//! implementing [`crate::traits::Estimator`] — a single estimator or a
//! [`crate::pipeline::Pipeline`] — can be cross-validated and searched, wherever its data lives.

mod params;
mod progress;
mod scoring;
mod search;
mod split;
mod splitters;

pub use params::{
    bad_value, unknown_param, Dist, FromParam, ParamDistributions, ParamGrid, ParamValue, Params, SetParams, StepValue,
};
pub(crate) use scoring::score_labels_response;
pub use scoring::{ResponseMethod, Scorer, Scoring, UNAVAILABLE_SCORERS};
pub use search::{
    cross_val_predict, cross_val_score, cross_validate, CandidateResult, CvOptions, CvResult, ErrorScore, GridSearchCV,
    MetricResult, RandomizedSearchCV, Refit, SearchResult,
};
pub use split::{train_test_split, Fold, KFold, Splitter, StratifiedKFold, Target, TrainTestSplit};
pub use splitters::{
    GroupKFold, LeaveOneOut, RepeatedKFold, RepeatedStratifiedKFold, ShuffleSplit, Size, StratifiedShuffleSplit,
    TimeSeriesSplit,
};

pub(crate) use crate::set_params;
