//! Classification metrics from label counts: precision, recall, F1 (binary, macro, weighted)
//! and the confusion matrix.
//!
//! The passes over the samples are kernels (see [`super::labels`]); what remains is arithmetic
//! over the labels on the host. Labels are the sorted union of those in `y_true` and `y_pred`,
//! like scikit-learn's default; a 0/0 ratio is 0 (scikit-learn's `zero_division="warn"` value).

use super::labels::{confusion_of, label_counts_of, LabelCounts};
use crate::data::{check_len, Vector};
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
    score(y_true, y_pred, average, |tp, pred, _| ratio(tp, pred))
}

/// The fraction of true positives that are predicted (`recall_score`).
///
/// # Errors
/// As [`precision_score`].
pub fn recall_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B, average: Average) -> Result<f64> {
    score(y_true, y_pred, average, |tp, _, truth| ratio(tp, truth))
}

/// The harmonic mean of precision and recall, `2 tp / (2 tp + fp + fn)` (`f1_score`).
///
/// # Errors
/// As [`precision_score`].
pub fn f1_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B, average: Average) -> Result<f64> {
    score(y_true, y_pred, average, |tp, pred, truth| ratio(2 * tp, pred + truth))
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
fn ratio(num: i64, den: i64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
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
fn score<A: Vector<i64>, B: Vector<i64>>(
    y_true: &A,
    y_pred: &B,
    average: Average,
    metric: impl Fn(i64, i64, i64) -> f64,
) -> Result<f64> {
    check_pair("the score", y_true, y_pred)?;
    let LabelCounts { labels, tp, pred, truth } = label_counts_of(y_true, y_pred)?;
    let per_label = (0..labels.len()).map(|c| metric(tp[c], pred[c], truth[c]));
    match average {
        Average::Binary { pos_label } => {
            if labels.len() > 2 {
                return Err(EstimatorError::InvalidTarget(
                    "target is multiclass but average='binary'; please choose another average setting, one of \
                     [macro, weighted]"
                        .into(),
                ));
            }
            match labels.iter().position(|&l| l == pos_label) {
                Some(c) => Ok(metric(tp[c], pred[c], truth[c])),
                // A single present label that is not the positive one: no positives at all.
                None if labels.len() < 2 => Ok(metric(0, 0, 0)),
                None => Err(EstimatorError::InvalidTarget(format!(
                    "pos_label={pos_label} is not a valid label; it should be one of {labels:?}"
                ))),
            }
        }
        Average::Macro => Ok(per_label.sum::<f64>() / labels.len() as f64),
        Average::Weighted => {
            let total: i64 = truth.iter().sum();
            let weighted: f64 = per_label.zip(&truth).map(|(s, &w)| s * w as f64).sum();
            Ok(ratio_f(weighted, total as f64))
        }
    }
}

/// `num / den`, 0 when `den` is 0.
fn ratio_f(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}
