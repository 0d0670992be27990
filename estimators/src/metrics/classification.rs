//! Classification metrics from label counts: precision, recall, F-beta (binary, micro, macro,
//! weighted, per label), balanced accuracy, the Matthews correlation coefficient and the
//! confusion matrix.
//!
//! The passes over the samples are kernels (see [`super::labels`]); what remains is arithmetic
//! over the labels on the host. Labels are the sorted union of those in `y_true` and `y_pred`,
//! like scikit-learn's default; a 0/0 ratio is 0 (scikit-learn's `zero_division="warn"` value).

use super::labels::{confusion_of, label_counts_of, weighted_label_counts_of, LabelCounts};
use crate::data::{check_len, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use ndarray::Array2;
use std::collections::BTreeSet;

/// How per-label scores are combined (scikit-learn's `average`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// The score of `pos_label` alone (`"binary"`); at most two labels may be present.
    Binary {
        /// The positive class (scikit-learn's default: 1).
        pos_label: i64,
    },
    /// The unweighted mean over labels (`"macro"`).
    Macro,
    /// The mean over labels weighted by their true counts (`"weighted"`).
    Weighted,
    /// The score of the counts summed over labels (`"micro"`): true positives, predicted and
    /// true counts of every label added up first.
    Micro,
}

impl Default for Average {
    /// `Binary { pos_label: 1 }`, scikit-learn's default.
    fn default() -> Self {
        Average::Binary { pos_label: 1 }
    }
}

/// The fraction of predicted positives that are true (`precision_score`).
///
/// # Errors
/// Lengths differ or no samples; with [`Average::Binary`], more than two labels or a
/// `pos_label` that is not one of two present labels ([`EstimatorError::InvalidTarget`]).
pub fn precision_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B, average: Average) -> Result<f64> {
    score(counts(y_true, y_pred)?, average, precision)
}

/// The fraction of true positives that are predicted (`recall_score`).
///
/// # Errors
/// As [`precision_score`].
pub fn recall_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B, average: Average) -> Result<f64> {
    score(counts(y_true, y_pred)?, average, recall)
}

/// The harmonic mean of precision and recall, `2 tp / (2 tp + fp + fn)` (`f1_score`).
///
/// # Errors
/// As [`precision_score`].
pub fn f1_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B, average: Average) -> Result<f64> {
    score(counts(y_true, y_pred)?, average, f1)
}

/// The weighted harmonic mean of precision and recall,
/// `(1 + beta^2) tp / (beta^2 (tp + fn) + tp + fp)` (`fbeta_score`): `beta < 1` favours
/// precision, `beta = 0` is precision, `beta = inf` recall.
///
/// # Errors
/// As [`precision_score`]; a negative or NaN `beta` ([`EstimatorError::InvalidParameter`]).
pub fn fbeta_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B, beta: f64, average: Average) -> Result<f64> {
    check_beta(beta)?;
    score(counts(y_true, y_pred)?, average, |tp, pred, truth| fbeta(tp, pred, truth, beta))
}

/// The Jaccard index of the predicted and true sets of each label, `tp / (tp + fp + fn)`
/// (`jaccard_score`), averaged as asked (micro: of the counts summed over labels).
///
/// # Errors
/// As [`precision_score`].
pub fn jaccard_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B, average: Average) -> Result<f64> {
    score(counts(y_true, y_pred)?, average, jaccard)
}

/// [`precision_score`] with `sample_weight`: the counts are sums of weights.
///
/// # Errors
/// As [`precision_score`]; weights of another length.
pub fn precision_score_weighted<F: Real, A: Vector<i64>, B: Vector<i64>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
    average: Average,
) -> Result<f64> {
    score(weighted_counts(y_true, y_pred, sample_weight)?, average, precision)
}

/// [`recall_score`] with `sample_weight`.
///
/// # Errors
/// As [`precision_score_weighted`].
pub fn recall_score_weighted<F: Real, A: Vector<i64>, B: Vector<i64>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
    average: Average,
) -> Result<f64> {
    score(weighted_counts(y_true, y_pred, sample_weight)?, average, recall)
}

/// [`f1_score`] with `sample_weight`.
///
/// # Errors
/// As [`precision_score_weighted`].
pub fn f1_score_weighted<F: Real, A: Vector<i64>, B: Vector<i64>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
    average: Average,
) -> Result<f64> {
    score(weighted_counts(y_true, y_pred, sample_weight)?, average, f1)
}

/// [`fbeta_score`] with `sample_weight`.
///
/// # Errors
/// As [`fbeta_score`]; weights of another length.
pub fn fbeta_score_weighted<F: Real, A: Vector<i64>, B: Vector<i64>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
    beta: f64,
    average: Average,
) -> Result<f64> {
    check_beta(beta)?;
    score(weighted_counts(y_true, y_pred, sample_weight)?, average, |tp, pred, truth| fbeta(tp, pred, truth, beta))
}

/// Per-label precision, recall, F-beta and support (scikit-learn's `average=None`).
#[derive(Debug, Clone, PartialEq)]
pub struct PerLabel {
    /// The labels, sorted: the union of those in `y_true` and `y_pred`.
    pub labels: Vec<i64>,
    /// Precision of each label.
    pub precision: Vec<f64>,
    /// Recall of each label.
    pub recall: Vec<f64>,
    /// F-beta of each label.
    pub fbeta: Vec<f64>,
    /// Number of true samples of each label.
    pub support: Vec<i64>,
}

/// Precision, recall, F-beta and support of every label
/// (`precision_recall_fscore_support(average=None)`; the `average=None` form of
/// [`precision_score`], [`recall_score`], [`f1_score`] and [`fbeta_score`]).
///
/// # Errors
/// Lengths differ or no samples; a negative or NaN `beta`.
pub fn precision_recall_fscore_support<A: Vector<i64>, B: Vector<i64>>(
    y_true: &A,
    y_pred: &B,
    beta: f64,
) -> Result<PerLabel> {
    check_beta(beta)?;
    check_pair("precision_recall_fscore_support", y_true, y_pred)?;
    let LabelCounts { labels, tp, pred, truth } = label_counts_of(y_true, y_pred)?;
    let k = labels.len();
    let f = |v: &[i64]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let (tp, pred, truth_f) = (f(&tp), f(&pred), f(&truth));
    Ok(PerLabel {
        precision: (0..k).map(|c| ratio(tp[c], pred[c])).collect(),
        recall: (0..k).map(|c| ratio(tp[c], truth_f[c])).collect(),
        fbeta: (0..k).map(|c| fbeta(tp[c], pred[c], truth_f[c], beta)).collect(),
        support: truth,
        labels,
    })
}

/// The mean recall over the labels present in `y_true` (`balanced_accuracy_score`); with
/// `adjusted`, rescaled so that chance scores 0 and perfect 1: `(score - 1/k) / (1 - 1/k)`.
/// Labels predicted but absent from `y_true` are left out (scikit-learn warns there).
///
/// # Errors
/// Lengths differ or no samples.
pub fn balanced_accuracy_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B, adjusted: bool) -> Result<f64> {
    check_pair("balanced_accuracy_score", y_true, y_pred)?;
    Ok(balanced(counts(y_true, y_pred)?, adjusted))
}

/// [`balanced_accuracy_score`] with `sample_weight` (weighted per-class recalls).
///
/// # Errors
/// As [`balanced_accuracy_score`]; weights of another length.
pub fn balanced_accuracy_score_weighted<F: Real, A: Vector<i64>, B: Vector<i64>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
    adjusted: bool,
) -> Result<f64> {
    Ok(balanced(weighted_counts(y_true, y_pred, sample_weight)?, adjusted))
}

fn balanced(c: Counts, adjusted: bool) -> f64 {
    let Counts { tp, truth, .. } = c;
    let per_class: Vec<f64> = tp.iter().zip(&truth).filter(|(_, &t)| t > 0.0).map(|(&p, &t)| p / t).collect();
    let mut score = per_class.iter().sum::<f64>() / per_class.len() as f64;
    if adjusted {
        let chance = 1.0 / per_class.len() as f64;
        score -= chance;
        score /= 1.0 - chance;
    }
    score
}

/// The Matthews correlation coefficient, the multiclass form of Gorodkin (2004)
/// (`matthews_corrcoef`): +1 perfect, 0 chance, -1 inverse; 0 when either input has a single
/// label (a zero variance, as scikit-learn decides).
///
/// # Errors
/// Lengths differ or no samples.
pub fn matthews_corrcoef<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B) -> Result<f64> {
    check_pair("matthews_corrcoef", y_true, y_pred)?;
    Ok(mcc(counts(y_true, y_pred)?))
}

/// [`matthews_corrcoef`] with `sample_weight` (the weighted confusion counts).
///
/// # Errors
/// As [`matthews_corrcoef`]; weights of another length.
pub fn matthews_corrcoef_weighted<F: Real, A: Vector<i64>, B: Vector<i64>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
) -> Result<f64> {
    Ok(mcc(weighted_counts(y_true, y_pred, sample_weight)?))
}

/// The coefficient from per-label counts, in f64 like scikit-learn's float products (integer
/// products of n^2 could overflow i64).
fn mcc(c: Counts) -> f64 {
    let Counts { tp, pred, truth, .. } = c;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let n_correct: f64 = tp.iter().sum();
    let n: f64 = pred.iter().sum();
    let cov_ytyp = n_correct * n - dot(&truth, &pred);
    let cov_ypyp = n * n - dot(&pred, &pred);
    let cov_ytyt = n * n - dot(&truth, &truth);
    if cov_ypyp * cov_ytyt == 0.0 {
        return 0.0;
    }
    cov_ytyp / (cov_ytyt * cov_ypyp).sqrt()
}

/// F-beta of one label's counts, as scikit-learn computes it (0 for 0/0).
fn fbeta(tp: f64, pred: f64, truth: f64, beta: f64) -> f64 {
    if beta.is_infinite() {
        return ratio(tp, truth);
    }
    if beta == 0.0 {
        return ratio(tp, pred);
    }
    let beta2 = beta * beta;
    ratio((1.0 + beta2) * tp, beta2 * truth + pred)
}

fn check_beta(beta: f64) -> Result<()> {
    if beta.is_nan() || beta < 0.0 {
        return Err(EstimatorError::param("fbeta_score", "beta", "a float in the range [0.0, inf]", beta));
    }
    Ok(())
}

/// The confusion matrix: entry `[i, j]` counts samples of true label `labels[i]` predicted as
/// `labels[j]` (`confusion_matrix`). `labels` defaults to the sorted union of the labels of
/// both inputs.
///
/// Unlike scikit-learn, which silently drops samples whose labels are not in an explicit
/// `labels`, that is an error here: the matrix would not account for every sample.
///
/// # Errors
/// Lengths differ or no samples; an empty or repeating `labels`, or samples with labels outside
/// it ([`EstimatorError::InvalidTarget`]).
pub fn confusion_matrix<A: Vector<i64>, B: Vector<i64>>(
    y_true: &A,
    y_pred: &B,
    labels: Option<&[i64]>,
) -> Result<Array2<i64>> {
    let n = check_pair("confusion_matrix", y_true, y_pred)?;
    let labels = match labels {
        None => label_counts_of(y_true, y_pred)?.labels,
        Some(given) => {
            if given.is_empty() {
                return Err(EstimatorError::InvalidTarget("'labels' should contain at least one label".into()));
            }
            if given.iter().collect::<BTreeSet<_>>().len() != given.len() {
                return Err(EstimatorError::InvalidTarget(format!("'labels' should be unique; got {given:?}")));
            }
            given.to_vec()
        }
    };
    let cm = confusion_of(y_true, y_pred, &labels)?;
    let counted = cm.sum();
    if counted as usize != n {
        return Err(EstimatorError::InvalidTarget(format!(
            "{} of {n} samples have a true or predicted label outside labels {labels:?}",
            n as i64 - counted
        )));
    }
    Ok(cm)
}

/// `num / den`, 0 when `den` is 0.
fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

fn precision(tp: f64, pred: f64, _: f64) -> f64 {
    ratio(tp, pred)
}

fn recall(tp: f64, _: f64, truth: f64) -> f64 {
    ratio(tp, truth)
}

fn jaccard(tp: f64, pred: f64, truth: f64) -> f64 {
    ratio(tp, pred + truth - tp)
}

fn f1(tp: f64, pred: f64, truth: f64) -> f64 {
    ratio(2.0 * tp, pred + truth)
}

/// Per label (sorted, present in either input): true positives, predicted and true counts,
/// weighted or not, as f64 (exact for counts below 2^53).
struct Counts {
    labels: Vec<i64>,
    tp: Vec<f64>,
    pred: Vec<f64>,
    truth: Vec<f64>,
}

fn counts<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B) -> Result<Counts> {
    check_pair("the score", y_true, y_pred)?;
    let LabelCounts { labels, tp, pred, truth } = label_counts_of(y_true, y_pred)?;
    let f = |v: Vec<i64>| v.into_iter().map(|x| x as f64).collect::<Vec<f64>>();
    Ok(Counts { labels, tp: f(tp), pred: f(pred), truth: f(truth) })
}

fn weighted_counts<F: Real, A: Vector<i64>, B: Vector<i64>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
) -> Result<Counts> {
    let n = check_pair("the score", y_true, y_pred)?;
    check_len("sample_weight", sample_weight.length()?, n)?;
    let (labels, tp, pred, truth) = weighted_label_counts_of(y_true, y_pred, sample_weight)?;
    Ok(Counts { labels, tp, pred, truth })
}

/// Same length, at least one sample; returns the length.
pub(crate) fn check_pair<A: Vector<i64>, B: Vector<i64>>(metric: &str, y_true: &A, y_pred: &B) -> Result<usize> {
    let n = y_true.length()?;
    check_len("y_pred", y_pred.length()?, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape(format!("{metric} of zero samples")));
    }
    Ok(n)
}

/// A per-label score `metric(tp, predicted, true)` averaged as asked.
fn score(counts: Counts, average: Average, metric: impl Fn(f64, f64, f64) -> f64) -> Result<f64> {
    let Counts { labels, tp, pred, truth } = counts;
    let per_label = (0..labels.len()).map(|c| metric(tp[c], pred[c], truth[c]));
    match average {
        Average::Binary { pos_label } => {
            if labels.len() > 2 {
                return Err(EstimatorError::InvalidTarget(
                    "Target is multiclass but average='binary'. Please choose another average setting, one of \
                     [None, 'micro', 'macro', 'weighted']."
                        .into(),
                ));
            }
            match labels.iter().position(|&l| l == pos_label) {
                Some(c) => Ok(metric(tp[c], pred[c], truth[c])),
                // A single present label that is not the positive one: no positives at all.
                None if labels.len() < 2 => Ok(metric(0.0, 0.0, 0.0)),
                None => Err(EstimatorError::InvalidTarget(format!(
                    "pos_label={pos_label} is not a valid label; it should be one of {labels:?}"
                ))),
            }
        }
        Average::Macro => Ok(per_label.sum::<f64>() / labels.len() as f64),
        Average::Micro => Ok(metric(tp.iter().sum(), pred.iter().sum(), truth.iter().sum())),
        Average::Weighted => {
            let total: f64 = truth.iter().sum();
            let weighted: f64 = per_label.zip(&truth).map(|(s, &w)| s * w).sum();
            Ok(ratio(weighted, total))
        }
    }
}
