//! Scoring by scikit-learn's scorer names (`scoring="r2"`, `"neg_mean_squared_error"`, ...),
//! one or several at once. A scorer compares a fitted model's predictions with the true
//! targets where both live (tensors stay on their device; only the score comes back).
//! "Greater is better" holds for every scorer, as in scikit-learn (errors are negated).
//!
//! A scorer reads what scikit-learn's scorer of that name reads ([`ResponseMethod`]): the
//! predictions, the class probabilities (`neg_log_loss`, `roc_auc_ovr`, ...) or the decision
//! values falling back to the probabilities (`roc_auc`, `average_precision`,
//! `top_k_accuracy`), through the optional methods of [`crate::traits::Model`]; several scorers
//! share one call of each method. A model lacking the method a scorer needs is a typed
//! [`EstimatorError::NotAvailable`] naming both.

use super::split::Target;
use crate::data::{Matrix, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::metrics::Average;
use crate::traits::{Model, Place};
use kiln_runtime::Tensor;

/// One scorer (scikit-learn's names, [`Scorer::from_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scorer {
    /// `"r2"`.
    R2,
    /// `"explained_variance"`.
    ExplainedVariance,
    /// `"neg_max_error"`.
    NegMaxError,
    /// `"neg_median_absolute_error"`.
    NegMedianAbsoluteError,
    /// `"neg_mean_absolute_error"`.
    NegMeanAbsoluteError,
    /// `"neg_mean_absolute_percentage_error"`.
    NegMeanAbsolutePercentageError,
    /// `"neg_mean_squared_error"`.
    NegMeanSquaredError,
    /// `"neg_mean_squared_log_error"`.
    NegMeanSquaredLogError,
    /// `"neg_root_mean_squared_error"`.
    NegRootMeanSquaredError,
    /// `"neg_root_mean_squared_log_error"`.
    NegRootMeanSquaredLogError,
    /// `"neg_mean_poisson_deviance"`.
    NegMeanPoissonDeviance,
    /// `"neg_mean_gamma_deviance"`.
    NegMeanGammaDeviance,
    /// `"d2_absolute_error_score"`.
    D2AbsoluteErrorScore,
    /// `"accuracy"`.
    Accuracy,
    /// `"balanced_accuracy"`.
    BalancedAccuracy,
    /// `"matthews_corrcoef"`.
    MatthewsCorrcoef,
    /// `"f1"` (binary, positive label 1).
    F1,
    /// `"f1_macro"`.
    F1Macro,
    /// `"f1_micro"`.
    F1Micro,
    /// `"f1_weighted"`.
    F1Weighted,
    /// `"precision"` (binary, positive label 1).
    Precision,
    /// `"precision_macro"`.
    PrecisionMacro,
    /// `"precision_micro"`.
    PrecisionMicro,
    /// `"precision_weighted"`.
    PrecisionWeighted,
    /// `"recall"` (binary, positive label 1).
    Recall,
    /// `"recall_macro"`.
    RecallMacro,
    /// `"recall_micro"`.
    RecallMicro,
    /// `"recall_weighted"`.
    RecallWeighted,
    /// `"jaccard"` (binary, positive label 1).
    Jaccard,
    /// `"jaccard_macro"`.
    JaccardMacro,
    /// `"jaccard_micro"`.
    JaccardMicro,
    /// `"jaccard_weighted"`.
    JaccardWeighted,
    /// `"top_k_accuracy"` (k = 2; decision_function, else predict_proba).
    TopKAccuracy,
    /// `"roc_auc"` (binary; decision_function, else predict_proba).
    RocAuc,
    /// `"roc_auc_ovr"` (predict_proba; one-vs-rest, macro average).
    RocAucOvr,
    /// `"roc_auc_ovo"` (predict_proba; one-vs-one, macro average).
    RocAucOvo,
    /// `"roc_auc_ovr_weighted"` (predict_proba; one-vs-rest, weighted by support).
    RocAucOvrWeighted,
    /// `"roc_auc_ovo_weighted"` (predict_proba; one-vs-one, weighted by prevalence).
    RocAucOvoWeighted,
    /// `"average_precision"` (decision_function, else predict_proba; multiclass: the macro average over classes).
    AveragePrecision,
    /// `"neg_log_loss"` (predict_proba).
    NegLogLoss,
    /// `"neg_brier_score"` (binary; predict_proba).
    NegBrierScore,
    /// `"d2_log_loss_score"` (predict_proba).
    D2LogLossScore,
}

/// What a scorer reads from a fitted model (scikit-learn's `response_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMethod {
    /// `predict`: labels or real-valued predictions.
    Predict,
    /// `predict_proba`: class probabilities.
    PredictProba,
    /// `("decision_function", "predict_proba")`: the decision values when the model has them,
    /// else the class probabilities.
    DecisionFunction,
}

/// scikit-learn 1.9 scorer names (`sklearn.metrics.get_scorer_names()`) that kiln does not
/// provide: multilabel averages (kiln's classifiers predict one label per sample), the
/// clustering comparisons, the likelihood ratios and `d2_brier_score`. Asking for them is
/// [`EstimatorError::NotAvailable`].
pub const UNAVAILABLE_SCORERS: &[&str] = &[
    "f1_samples",
    "precision_samples",
    "recall_samples",
    "jaccard_samples",
    "positive_likelihood_ratio",
    "neg_negative_likelihood_ratio",
    "d2_brier_score",
    "adjusted_mutual_info_score",
    "adjusted_rand_score",
    "completeness_score",
    "fowlkes_mallows_score",
    "homogeneity_score",
    "mutual_info_score",
    "normalized_mutual_info_score",
    "rand_score",
    "v_measure_score",
];

const NAMES: &[(&str, Scorer)] = &[
    ("r2", Scorer::R2),
    ("explained_variance", Scorer::ExplainedVariance),
    ("neg_max_error", Scorer::NegMaxError),
    ("neg_median_absolute_error", Scorer::NegMedianAbsoluteError),
    ("neg_mean_absolute_error", Scorer::NegMeanAbsoluteError),
    ("neg_mean_absolute_percentage_error", Scorer::NegMeanAbsolutePercentageError),
    ("neg_mean_squared_error", Scorer::NegMeanSquaredError),
    ("neg_mean_squared_log_error", Scorer::NegMeanSquaredLogError),
    ("neg_root_mean_squared_error", Scorer::NegRootMeanSquaredError),
    ("neg_root_mean_squared_log_error", Scorer::NegRootMeanSquaredLogError),
    ("neg_mean_poisson_deviance", Scorer::NegMeanPoissonDeviance),
    ("neg_mean_gamma_deviance", Scorer::NegMeanGammaDeviance),
    ("d2_absolute_error_score", Scorer::D2AbsoluteErrorScore),
    ("accuracy", Scorer::Accuracy),
    ("balanced_accuracy", Scorer::BalancedAccuracy),
    ("matthews_corrcoef", Scorer::MatthewsCorrcoef),
    ("f1", Scorer::F1),
    ("f1_macro", Scorer::F1Macro),
    ("f1_micro", Scorer::F1Micro),
    ("f1_weighted", Scorer::F1Weighted),
    ("precision", Scorer::Precision),
    ("precision_macro", Scorer::PrecisionMacro),
    ("precision_micro", Scorer::PrecisionMicro),
    ("precision_weighted", Scorer::PrecisionWeighted),
    ("recall", Scorer::Recall),
    ("recall_macro", Scorer::RecallMacro),
    ("recall_micro", Scorer::RecallMicro),
    ("recall_weighted", Scorer::RecallWeighted),
    ("jaccard", Scorer::Jaccard),
    ("jaccard_macro", Scorer::JaccardMacro),
    ("jaccard_micro", Scorer::JaccardMicro),
    ("jaccard_weighted", Scorer::JaccardWeighted),
    ("top_k_accuracy", Scorer::TopKAccuracy),
    ("roc_auc", Scorer::RocAuc),
    ("roc_auc_ovr", Scorer::RocAucOvr),
    ("roc_auc_ovo", Scorer::RocAucOvo),
    ("roc_auc_ovr_weighted", Scorer::RocAucOvrWeighted),
    ("roc_auc_ovo_weighted", Scorer::RocAucOvoWeighted),
    ("average_precision", Scorer::AveragePrecision),
    ("neg_log_loss", Scorer::NegLogLoss),
    ("neg_brier_score", Scorer::NegBrierScore),
    ("d2_log_loss_score", Scorer::D2LogLossScore),
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
            Scorer::R2
                | Scorer::ExplainedVariance
                | Scorer::NegMaxError
                | Scorer::NegMedianAbsoluteError
                | Scorer::NegMeanAbsoluteError
                | Scorer::NegMeanAbsolutePercentageError
                | Scorer::NegMeanSquaredError
                | Scorer::NegMeanSquaredLogError
                | Scorer::NegRootMeanSquaredError
                | Scorer::NegRootMeanSquaredLogError
                | Scorer::NegMeanPoissonDeviance
                | Scorer::NegMeanGammaDeviance
                | Scorer::D2AbsoluteErrorScore
        )
    }

    /// What it reads from the model: `predict`, `predict_proba`, or the decision values
    /// (falling back to the probabilities), as scikit-learn's scorer of this name.
    pub fn response_method(self) -> ResponseMethod {
        match self {
            Scorer::TopKAccuracy | Scorer::RocAuc | Scorer::AveragePrecision => ResponseMethod::DecisionFunction,
            Scorer::RocAucOvr
            | Scorer::RocAucOvo
            | Scorer::RocAucOvrWeighted
            | Scorer::RocAucOvoWeighted
            | Scorer::NegLogLoss
            | Scorer::NegBrierScore
            | Scorer::D2LogLossScore => ResponseMethod::PredictProba,
            _ => ResponseMethod::Predict,
        }
    }

    /// The averaging of a precision / recall / F1 / Jaccard scorer.
    pub(crate) fn average(self) -> Option<Average> {
        match self {
            Scorer::F1 | Scorer::Precision | Scorer::Recall | Scorer::Jaccard => Some(Average::Binary { pos_label: 1 }),
            Scorer::F1Macro | Scorer::PrecisionMacro | Scorer::RecallMacro | Scorer::JaccardMacro => {
                Some(Average::Macro)
            }
            Scorer::F1Micro | Scorer::PrecisionMicro | Scorer::RecallMicro | Scorer::JaccardMicro => {
                Some(Average::Micro)
            }
            Scorer::F1Weighted | Scorer::PrecisionWeighted | Scorer::RecallWeighted | Scorer::JaccardWeighted => {
                Some(Average::Weighted)
            }
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

mod kernels {
    use kiln_macros::kernel;

    /// Column `j` of `m`.
    #[kernel(crate = kiln_runtime)]
    pub fn column<F: Float>(m: Array2<F>, j: i64) -> Array1<F> {
        Array1::from_shape_fn(m.nrows(), |i| m[[i, j]])
    }
}

/// The binary score of a response: its single column (decision values), or the second of two
/// (the probability of the larger class, scikit-learn's `classes_[1]`); `None` for more
/// columns.
fn binary_scores<F: Real, P: Matrix<F>>(resp: &P) -> Result<Option<Tensor<F>>> {
    let (_, k) = resp.dims()?;
    if k > 2 {
        return Ok(None);
    }
    Ok(Some(kernels::column::tensors::<F>(resp.arg(), k as i64 - 1)?))
}

/// `scorer(y_true, response)` for a scorer of class probabilities or decision values
/// ([`ResponseMethod::PredictProba`], [`ResponseMethod::DecisionFunction`]): `resp` is
/// `n x n_classes` (columns in the sorted order of the classes), or `n x 1` for the decision
/// values of two classes. Two classes are scored as scikit-learn's binary scorers, by the
/// score of the larger class.
///
/// # Errors
/// The metric's errors; [`EstimatorError::InvalidTarget`] for `roc_auc` / `neg_brier_score`
/// of more than two classes (scikit-learn's wording) and for a scorer of labels.
pub(crate) fn score_labels_response<F: Real, A: Vector<i64>, P: Matrix<F>>(
    scorer: Scorer,
    y_true: &A,
    resp: &P,
) -> Result<f64> {
    use crate::metrics::{
        average_precision_score, brier_score_loss, log_loss, log_loss_binary, roc_auc_score, roc_auc_score_multiclass,
        top_k_accuracy_score, MultiClass,
    };
    let binary = binary_scores(resp)?;
    let multi = |mc: MultiClass, avg: Average| match &binary {
        Some(s) => roc_auc_score(y_true, s),
        None => roc_auc_score_multiclass(y_true, resp, mc, avg),
    };
    match scorer {
        Scorer::RocAuc => match &binary {
            Some(s) => roc_auc_score(y_true, s),
            None => Err(EstimatorError::InvalidTarget(
                "multi_class must be in ('ovo', 'ovr'): use scoring 'roc_auc_ovr' or 'roc_auc_ovo' for more than two \
                 classes"
                    .into(),
            )),
        },
        Scorer::RocAucOvr => multi(MultiClass::Ovr, Average::Macro),
        Scorer::RocAucOvo => multi(MultiClass::Ovo, Average::Macro),
        Scorer::RocAucOvrWeighted => multi(MultiClass::Ovr, Average::Weighted),
        Scorer::RocAucOvoWeighted => multi(MultiClass::Ovo, Average::Weighted),
        Scorer::AveragePrecision => match &binary {
            Some(s) => average_precision_score(y_true, s),
            None => macro_average_precision(y_true, resp),
        },
        Scorer::NegLogLoss => Ok(-match &binary {
            Some(s) => log_loss_binary(y_true, s)?,
            None => log_loss(y_true, resp)?,
        }),
        Scorer::D2LogLossScore => {
            let loss = match &binary {
                Some(s) => log_loss_binary(y_true, s)?,
                None => log_loss(y_true, resp)?,
            };
            Ok(1.0 - loss / null_log_loss::<F, A>(y_true)?)
        }
        Scorer::NegBrierScore => match &binary {
            Some(s) => Ok(-brier_score_loss(y_true, s)?),
            None => Err(EstimatorError::InvalidTarget(
                "The type of the target inferred from y_true is multiclass but should be binary: kiln's \
                 brier_score_loss scores two classes"
                    .into(),
            )),
        },
        Scorer::TopKAccuracy => top_k_accuracy_score(y_true, resp, 2),
        _ => Err(EstimatorError::InvalidTarget(format!(
            "scoring '{}' scores predicted labels, not class probabilities or decision values",
            scorer.name()
        ))),
    }
}

/// The mean over classes of each class's average precision against the rest (scikit-learn's
/// `average_precision_score` of multiclass targets, `average="macro"`); the ranking sorts on the
/// host, so labels and scores are copied there.
fn macro_average_precision<F: Real, A: Vector<i64>, P: Matrix<F>>(y_true: &A, resp: &P) -> Result<f64> {
    let y = y_true.to_host()?;
    let s = resp.to_host()?;
    let classes: Vec<i64> = y.iter().copied().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    if classes.len() != s.ncols() {
        return Err(EstimatorError::InvalidTarget(format!(
            "Number of classes in y_true ({}) not equal to the number of columns in 'y_score' ({})",
            classes.len(),
            s.ncols()
        )));
    }
    let mut total = 0.0;
    for (c, &label) in classes.iter().enumerate() {
        let truth: ndarray::Array1<i64> = y.mapv(|v| i64::from(v == label));
        total += crate::metrics::average_precision_score(&truth, &s.column(c).to_owned())?;
    }
    Ok(total / classes.len() as f64)
}

/// The log loss of predicting every sample's class frequencies in `y_true` (the denominator
/// of `d2_log_loss_score`): `-sum_c f_c ln(f_c)`.
fn null_log_loss<F: Real, A: Vector<i64>>(y_true: &A) -> Result<f64> {
    let y = y_true.to_host()?;
    let mut counts = std::collections::BTreeMap::<i64, f64>::new();
    for &v in &y {
        *counts.entry(v).or_default() += 1.0;
    }
    let n = y.len() as f64;
    let eps = if std::mem::size_of::<F>() == 4 { f64::from(f32::EPSILON) } else { f64::EPSILON };
    Ok(-counts.values().map(|&c| (c / n) * (c / n).clamp(eps, 1.0 - eps).ln()).sum::<f64>())
}

/// What one fitted model answered on one test set, kept so that several scorers share one
/// call of each method (scikit-learn's `_MultimetricScorer` cache).
pub(crate) struct Responses<F: Real, S: Place, T: Target> {
    predict: Option<S::Vec<T>>,
    proba: Option<S::Mat<F>>,
    decision: Option<Option<S::Mat<F>>>,
}

impl<F: Real, S: Place, T: Target> Default for Responses<F, S, T> {
    fn default() -> Self {
        Responses { predict: None, proba: None, decision: None }
    }
}

/// The error of a scorer asking a model for a method it lacks (names the scorer and method).
fn missing(scorer: Scorer, method: &str) -> EstimatorError {
    EstimatorError::NotAvailable(format!(
        "scoring '{}' needs the estimator's {method}, and this estimator has no {method}",
        scorer.name()
    ))
}

/// `scorer` of fitted model `m` on `x` against `y`, calling the method the scorer reads
/// ([`Scorer::response_method`]) once per `cache`.
///
/// # Errors
/// The model's or the metric's errors; [`EstimatorError::NotAvailable`] for a scorer that needs
/// a method the model lacks.
pub(crate) fn score_model<F: Real, S: Place, M: Model<F, S>>(
    scorer: Scorer,
    m: &M,
    x: &S::Mat<F>,
    y: &S::Vec<M::Target>,
    cache: &mut Responses<F, S, M::Target>,
) -> Result<f64> {
    match scorer.response_method() {
        ResponseMethod::Predict => {
            if cache.predict.is_none() {
                cache.predict = Some(m.predict_dyn(x)?);
            }
            let p = cache.predict.as_ref().ok_or_else(|| missing(scorer, "predict"))?;
            let _span = crate::pipeline::step_span("scoring");
            S::score_with(scorer, y, p)
        }
        ResponseMethod::PredictProba => {
            if cache.proba.is_none() {
                cache.proba = Some(m.predict_proba_dyn(x).ok_or_else(|| missing(scorer, "predict_proba"))??);
            }
            let p = cache.proba.as_ref().ok_or_else(|| missing(scorer, "predict_proba"))?;
            let _span = crate::pipeline::step_span("scoring");
            S::score_response(scorer, y, p)
        }
        ResponseMethod::DecisionFunction => {
            if cache.decision.is_none() {
                cache.decision = Some(m.decision_function_dyn(x).transpose()?);
            }
            if let Some(Some(d)) = &cache.decision {
                let _span = crate::pipeline::step_span("scoring");
                return S::score_response(scorer, y, d);
            }
            if cache.proba.is_none() {
                cache.proba = Some(
                    m.predict_proba_dyn(x).ok_or_else(|| missing(scorer, "decision_function or predict_proba"))??,
                );
            }
            let p = cache.proba.as_ref().ok_or_else(|| missing(scorer, "predict_proba"))?;
            let _span = crate::pipeline::step_span("scoring");
            S::score_response(scorer, y, p)
        }
    }
}
