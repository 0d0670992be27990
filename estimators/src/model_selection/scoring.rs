//! Scoring by scikit-learn's scorer names (`scoring="r2"`, `"neg_mean_squared_error"`, ...),
//! one or several at once. A scorer compares a fitted model's predictions with the true
//! targets where both live (tensors stay on their device; only the score comes back).
//! "Greater is better" holds for every scorer, as in scikit-learn (errors are negated).

use crate::error::{EstimatorError, Result};
use crate::metrics::Average;

/// One scorer (scikit-learn's names, [`Scorer::from_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scorer {
    /// `"r2"`.
    R2,
    /// `"neg_mean_squared_error"`.
    NegMeanSquaredError,
    /// `"neg_root_mean_squared_error"`.
    NegRootMeanSquaredError,
    /// `"neg_mean_absolute_error"`.
    NegMeanAbsoluteError,
    /// `"accuracy"`.
    Accuracy,
    /// `"f1"` (binary, positive label 1).
    F1,
    /// `"f1_macro"`.
    F1Macro,
    /// `"f1_weighted"`.
    F1Weighted,
    /// `"precision"` (binary, positive label 1).
    Precision,
    /// `"precision_macro"`.
    PrecisionMacro,
    /// `"precision_weighted"`.
    PrecisionWeighted,
    /// `"recall"` (binary, positive label 1).
    Recall,
    /// `"recall_macro"`.
    RecallMacro,
    /// `"recall_weighted"`.
    RecallWeighted,
}

/// scikit-learn scorer names whose metric kiln does not provide (yet): asking for them is
/// [`EstimatorError::NotAvailable`].
pub const UNAVAILABLE_SCORERS: &[&str] = &[
    "balanced_accuracy",
    "roc_auc",
    "roc_auc_ovr",
    "roc_auc_ovo",
    "roc_auc_ovr_weighted",
    "roc_auc_ovo_weighted",
    "average_precision",
    "neg_log_loss",
    "neg_brier_score",
    "f1_micro",
    "precision_micro",
    "recall_micro",
    "jaccard",
    "jaccard_macro",
    "matthews_corrcoef",
    "top_k_accuracy",
    "explained_variance",
    "max_error",
    "neg_median_absolute_error",
    "neg_mean_squared_log_error",
    "neg_root_mean_squared_log_error",
    "neg_mean_absolute_percentage_error",
    "neg_mean_poisson_deviance",
    "neg_mean_gamma_deviance",
    "d2_absolute_error_score",
];

const NAMES: &[(&str, Scorer)] = &[
    ("r2", Scorer::R2),
    ("neg_mean_squared_error", Scorer::NegMeanSquaredError),
    ("neg_root_mean_squared_error", Scorer::NegRootMeanSquaredError),
    ("neg_mean_absolute_error", Scorer::NegMeanAbsoluteError),
    ("accuracy", Scorer::Accuracy),
    ("f1", Scorer::F1),
    ("f1_macro", Scorer::F1Macro),
    ("f1_weighted", Scorer::F1Weighted),
    ("precision", Scorer::Precision),
    ("precision_macro", Scorer::PrecisionMacro),
    ("precision_weighted", Scorer::PrecisionWeighted),
    ("recall", Scorer::Recall),
    ("recall_macro", Scorer::RecallMacro),
    ("recall_weighted", Scorer::RecallWeighted),
];

impl Scorer {
    /// The scorer scikit-learn calls `name`.
    ///
    /// # Errors
    /// [`EstimatorError::NotAvailable`] for a scikit-learn scorer kiln lacks (see
    /// [`UNAVAILABLE_SCORERS`]); [`EstimatorError::UnknownParameter`] for a name scikit-learn
    /// does not know either.
    pub fn from_name(name: &str) -> Result<Scorer> {
        if let Some(&(_, s)) = NAMES.iter().find(|(n, _)| *n == name) {
            return Ok(s);
        }
        if UNAVAILABLE_SCORERS.contains(&name) {
            return Err(EstimatorError::NotAvailable(format!("scoring '{name}' is not available")));
        }
        let valid: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
        Err(EstimatorError::UnknownParameter(format!(
            "'{name}' is not a valid scoring value. Use sklearn.metrics.get_scorer_names() to get valid options; \
             kiln provides {valid:?}"
        )))
    }

    /// scikit-learn's name of this scorer.
    pub fn name(self) -> &'static str {
        NAMES.iter().find(|(_, s)| *s == self).map_or("?", |(n, _)| n)
    }

    /// The default score of an estimator predicting `T`: accuracy for labels, R² for reals.
    pub fn default_for<T: super::Target>() -> Scorer {
        T::DEFAULT_SCORER
    }

    /// Whether it scores class labels (else real-valued predictions).
    pub fn is_classification(self) -> bool {
        !matches!(
            self,
            Scorer::R2 | Scorer::NegMeanSquaredError | Scorer::NegRootMeanSquaredError | Scorer::NegMeanAbsoluteError
        )
    }

    /// The averaging of a precision / recall / F1 scorer.
    pub(crate) fn average(self) -> Option<Average> {
        match self {
            Scorer::F1 | Scorer::Precision | Scorer::Recall => Some(Average::Binary { pos_label: 1 }),
            Scorer::F1Macro | Scorer::PrecisionMacro | Scorer::RecallMacro => Some(Average::Macro),
            Scorer::F1Weighted | Scorer::PrecisionWeighted | Scorer::RecallWeighted => Some(Average::Weighted),
            _ => None,
        }
    }

    /// The error of a scorer used on the wrong kind of target.
    pub(crate) fn wrong_target(self, labels: bool) -> EstimatorError {
        let kind = if labels { "class labels" } else { "a continuous target" };
        EstimatorError::InvalidTarget(format!("scoring '{}' cannot score {kind}", self.name()))
    }
}

/// What a search or `cross_validate` scores by: the estimator's own `score`, one named scorer,
/// or several (scikit-learn's `scoring=None`, `"r2"`, `["r2", "neg_mean_squared_error"]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scoring {
    /// The estimator's default score (reported under the name `"score"`).
    #[default]
    Default,
    /// One scorer (reported under the name `"score"`, as scikit-learn does).
    One(Scorer),
    /// Several scorers, each reported under its own name.
    Many(Vec<Scorer>),
}

impl Scoring {
    /// One scorer by name (`Scoring::named("r2")`).
    ///
    /// # Errors
    /// As [`Scorer::from_name`].
    pub fn named(name: &str) -> Result<Scoring> {
        Ok(Scoring::One(Scorer::from_name(name)?))
    }

    /// Several scorers by name (`Scoring::names(&["r2", "neg_mean_squared_error"])`).
    ///
    /// # Errors
    /// As [`Scorer::from_name`]; an empty or repeated list.
    pub fn names(names: &[&str]) -> Result<Scoring> {
        if names.is_empty() {
            return Err(EstimatorError::UnknownParameter("the list of scorers must not be empty".into()));
        }
        let scorers = names.iter().map(|n| Scorer::from_name(n)).collect::<Result<Vec<_>>>()?;
        for (i, s) in scorers.iter().enumerate() {
            if scorers[..i].contains(s) {
                return Err(EstimatorError::UnknownParameter(format!(
                    "duplicate elements were found in the given list: '{}'",
                    s.name()
                )));
            }
        }
        Ok(Scoring::Many(scorers))
    }

    /// The names results are reported under.
    pub fn keys(&self) -> Vec<String> {
        match self {
            Scoring::Default | Scoring::One(_) => vec!["score".into()],
            Scoring::Many(v) => v.iter().map(|s| s.name().to_string()).collect(),
        }
    }

    /// Whether several metrics are scored (then `refit` must name one).
    pub fn is_multimetric(&self) -> bool {
        matches!(self, Scoring::Many(_))
    }
}
