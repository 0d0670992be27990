//! Model selection (scikit-learn's `sklearn.model_selection`): splits, cross-validation and a
//! grid search that refits the best candidate. They drive estimators through the host traits
//! of [`crate::traits`], so anything implementing [`SupervisedParams`] — a single estimator or
//! a [`crate::pipeline::Pipeline`] — can be cross-validated and searched.

mod search;
mod split;

pub use search::{cross_val_score, cross_val_score_unsupervised, CandidateResult, GridSearchCV, GridSearchResult};
pub use split::{train_test_split, Fold, KFold, Splitter, StratifiedKFold, Target, TrainTestSplit};

#[allow(unused_imports)]
use crate::traits::SupervisedParams;
