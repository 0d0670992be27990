//! Metrics of predicted probabilities and scores: log loss (a kernel) and ROC AUC (a host sort).
//!
//! `log_loss` clips probabilities to `[eps, 1 - eps]` (`eps` of the float type) and rejects rows
//! that do not sum to one, like scikit-learn >= 1.5. `roc_auc_score` needs the samples in score
//! order: it copies labels and scores to the host and sorts them there (the DSL has no sort);
//! tied scores form one step of the ROC curve, integrated with the trapezoid rule, as
//! scikit-learn does.

use super::labels::{label_counts_of, Placed};
use super::ranking::{check_binary_labels, one_class_auc};
use crate::data::{check_len, Matrix, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::{Tensor, TensorArg};

/// The mean of `-ln(clip(p[i, class of y_i]))` and the largest `|row sum - 1|`.
#[kernel(crate = kiln_runtime)]
fn log_loss_terms<F: Float>(y: Array1<i64>, p: Array2<F>, labels: Array1<i64>, eps: F) -> (F, F) {
    let n = y.len();
    let k = labels.len();
    let picked = Array1::from_shape_fn(n, |i| sum(0..k, |c| select(y[[i]] == labels[[c]], p[[i, c]], 0.0)));
    let loss = -(picked.clamp(eps, 1.0 - eps).ln()).mean();
    (loss, (p.sum_axis(Axis(1)) - 1.0).abs().max())
}

/// The mean of `-ln(clip(p_i))` for samples of label `positive`, `-ln(clip(1 - p_i))` otherwise.
#[kernel(crate = kiln_runtime)]
fn binary_log_loss_terms<F: Float>(y: Array1<i64>, p: Array1<F>, positive: i64, eps: F) -> F {
    let picked = select(y == positive, p, 1.0 - p);
    -(picked.clamp(eps, 1.0 - eps).ln()).mean()
}

/// The machine epsilon of `F`, scikit-learn's clipping bound.
fn eps<F: Real>() -> f64 {
    if std::mem::size_of::<F>() == 4 {
        f64::from(f32::EPSILON)
    } else {
        f64::EPSILON
    }
}

/// The sorted labels of `y_true` (at least two of them).
fn true_labels<A: Vector<i64>>(y_true: &A) -> Result<Vec<i64>> {
    let labels = label_counts_of(y_true, y_true)?.labels;
    if labels.len() < 2 {
        return Err(EstimatorError::InvalidTarget(format!(
            "y_true contains only one label ({}); the log loss needs at least two",
            labels[0]
        )));
    }
    Ok(labels)
}

/// The cross-entropy of class probabilities `y_proba` (`n_samples x n_classes`, columns in the
/// sorted order of the labels of `y_true`) against the true labels (`log_loss`).
///
/// # Errors
/// Lengths differ or no samples; a single label in `y_true`
/// ([`EstimatorError::InvalidTarget`]); as many columns as labels
/// ([`EstimatorError::Shape`]); rows that do not sum to one within `sqrt(eps)`.
pub fn log_loss<F: Real, A: Vector<i64>, P: Matrix<F>>(y_true: &A, y_proba: &P) -> Result<f64> {
    let n = y_true.length()?;
    let (rows, k) = y_proba.dims()?;
    check_len("y_proba", rows, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape("log_loss of zero samples".into()));
    }
    let labels = true_labels(y_true)?;
    if labels.len() != k {
        return Err(EstimatorError::Shape(format!(
            "y_true and y_proba contain different numbers of classes {}, {k}; classes found in y_true: {labels:?}",
            labels.len()
        )));
    }
    let placed = Placed::beside(ndarray::Array1::from(labels), &y_true.arg())?;
    let eps = eps::<F>();
    let (loss, off) = log_loss_terms::tensors(y_true.arg(), y_proba.arg(), placed.arg(), F::from_f64(eps))?;
    // numpy's allclose(row_sums, 1, rtol=sqrt(eps)): |s - 1| <= 1e-8 + sqrt(eps).
    let off = off.item()?.to_f64();
    if off.is_nan() || off > 1e-8 + eps.sqrt() {
        return Err(EstimatorError::InvalidTarget(
            "the y_proba values do not sum to one; make sure to pass probabilities".into(),
        ));
    }
    Ok(loss.item()?.to_f64())
}

/// The log loss of binary predictions given as the probability of the larger of the two labels
/// of `y_true` (a 1-D `y_score`, as scikit-learn accepts).
///
/// # Errors
/// Lengths differ or no samples; not exactly two labels in `y_true`.
pub fn log_loss_binary<F: Real, A: Vector<i64>, B: Vector<F>>(y_true: &A, y_prob: &B) -> Result<f64> {
    let n = y_true.length()?;
    check_len("y_prob", y_prob.length()?, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape("log_loss of zero samples".into()));
    }
    let labels = true_labels(y_true)?;
    if labels.len() != 2 {
        return Err(EstimatorError::InvalidTarget(format!(
            "a 1-D y_prob needs exactly two labels in y_true; found {labels:?}"
        )));
    }
    let loss = binary_log_loss_terms::tensors(y_true.arg(), y_prob.arg(), labels[1], F::from_f64(eps::<F>()))?;
    Ok(loss.item()?.to_f64())
}

/// The area under the ROC curve of binary labels (0/1 or -1/1; 1 is positive) and scores
/// (`roc_auc_score`). Tied scores count half, exactly as the trapezoid over scikit-learn's
/// curve. Sorts on the host: labels and scores are copied there.
///
/// # Errors
/// Lengths differ or no samples; labels other than 0/1 or -1/1, or a single class
/// ([`EstimatorError::InvalidTarget`]: "Only one class is present in y_true. ROC AUC score is
/// not defined in that case."; scikit-learn 1.9 warns and returns NaN there); NaN or infinite
/// scores.
pub fn roc_auc_score<F: Real, A: Vector<i64>, B: Vector<F>>(y_true: &A, y_score: &B) -> Result<f64> {
    let n = y_true.length()?;
    check_len("y_score", y_score.length()?, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape("roc_auc_score of zero samples".into()));
    }
    let (y, s) = (y_true.to_host()?, y_score.to_host()?);
    check_binary_labels(&y)?;
    if s.iter().any(|v| !v.to_f64().is_finite()) {
        return Err(EstimatorError::NonFinite { what: "y_score" });
    }
    let order: Vec<(f64, bool)> = s.iter().zip(&y).map(|(v, &l)| (v.to_f64(), l == 1)).collect();
    binary_auc(order).ok_or_else(one_class_auc)
}

/// The ROC AUC of (score, is positive) pairs, `None` with a single class: tied scores form one
/// step of the curve, integrated by the trapezoid rule in integer counts (exact).
fn binary_auc(mut order: Vec<(f64, bool)>) -> Option<f64> {
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = order.iter().filter(|o| o.1).count();
    let negatives = order.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Walk the thresholds from the highest score; each group of tied scores is one curve step.
    let (mut tp, mut fp, mut area) = (0u64, 0u64, 0u64);
    let mut i = 0;
    while i < order.len() {
        let (tp0, fp0) = (tp, fp);
        let score = order[i].0;
        while i < order.len() && order[i].0 == score {
            if order[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        // Twice the trapezoid, in counts: exact in integers.
        area += (fp - fp0) * (tp + tp0);
    }
    Some(area as f64 / 2.0 / (positives as f64 * negatives as f64))
}

/// How a multiclass ROC AUC compares classes (scikit-learn's `multi_class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiClass {
    /// `"ovr"`: each class against the rest.
    Ovr,
    /// `"ovo"`: each pair of classes (Hand & Till), the pair's two AUCs averaged.
    Ovo,
}

/// The ROC AUC of class probabilities `y_proba` (`n_samples x n_classes`, columns in the
/// sorted order of the labels of `y_true`, rows summing to 1) (`roc_auc_score` with
/// `multi_class`), averaged over classes (`Ovr`) or pairs (`Ovo`) by `average`
/// ([`Average::Macro`], or [`Average::Weighted`] by class support / pair prevalence). Sorts on
/// the host, like the binary score.
///
/// # Errors
/// Lengths differ or no samples; another average; fewer than 3 classes or a column count other
/// than the number of classes in `y_true` ("Number of classes in y_true not equal to the number
/// of columns in 'y_score'"); rows not summing to 1; NaN or infinity.
pub fn roc_auc_score_multiclass<F: Real, A: Vector<i64>, P: Matrix<F>>(
    y_true: &A,
    y_proba: &P,
    multi_class: MultiClass,
    average: crate::metrics::Average,
) -> Result<f64> {
    use crate::metrics::Average;
    let n = y_true.length()?;
    let (rows, k) = y_proba.dims()?;
    check_len("y_score", rows, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape("roc_auc_score of zero samples".into()));
    }
    if !matches!(average, Average::Macro | Average::Weighted) {
        return Err(EstimatorError::InvalidTarget(
            "average must be one of ('macro', 'weighted') for multiclass problems".into(),
        ));
    }
    let y = y_true.to_host()?;
    let p = y_proba.to_host()?.mapv(|v| v.to_f64());
    if p.iter().any(|v| !v.is_finite()) {
        return Err(EstimatorError::NonFinite { what: "y_score" });
    }
    let classes: Vec<i64> = y.iter().copied().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    if classes.len() != k {
        return Err(EstimatorError::InvalidTarget(
            "Number of classes in y_true not equal to the number of columns in 'y_score'".into(),
        ));
    }
    if k < 2 {
        return Err(one_class_auc());
    }
    // numpy's allclose(1, row sums): |1 - s| <= 1e-8 + 1e-5 |s|.
    if p.rows().into_iter().any(|r| {
        let s: f64 = r.sum();
        (1.0 - s).abs() > 1e-8 + 1e-5 * s.abs()
    }) {
        return Err(EstimatorError::InvalidTarget(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up to 1.0 over \
             classes"
                .into(),
        ));
    }
    let code: Vec<usize> = y.iter().map(|l| classes.binary_search(l).unwrap_or(0)).collect();
    let mut scores = Vec::new();
    let mut weights = Vec::new();
    match multi_class {
        MultiClass::Ovr => {
            for c in 0..k {
                let order = (0..n).map(|i| (p[[i, c]], code[i] == c)).collect();
                scores.push(binary_auc(order).ok_or_else(one_class_auc)?);
                weights.push(code.iter().filter(|&&v| v == c).count() as f64);
            }
        }
        MultiClass::Ovo => {
            for a in 0..k {
                for b in a + 1..k {
                    let pair: Vec<usize> = (0..n).filter(|&i| code[i] == a || code[i] == b).collect();
                    let sa = binary_auc(pair.iter().map(|&i| (p[[i, a]], code[i] == a)).collect());
                    let sb = binary_auc(pair.iter().map(|&i| (p[[i, b]], code[i] == b)).collect());
                    scores.push((sa.ok_or_else(one_class_auc)? + sb.ok_or_else(one_class_auc)?) / 2.0);
                    weights.push(pair.len() as f64 / n as f64);
                }
            }
        }
    }
    Ok(if average == Average::Weighted {
        scores.iter().zip(&weights).map(|(s, w)| s * w).sum::<f64>() / weights.iter().sum::<f64>()
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    })
}

/// The weighted mean of `(1[y == positive] - p)^2`, the largest and the smallest `p`, and
/// whether `p` holds NaN or infinity (NaN then).
#[kernel(crate = kiln_runtime)]
fn brier_terms<F: Float>(y: Array1<i64>, p: Array1<F>, w: Array1<F>, positive: i64) -> (F, F, F, F) {
    let r = select(y == positive, &p * -1.0 + 1.0, &p * -1.0);
    ((r.powi(2) * &w).sum() / w.sum(), p.max(), p.min(), (&p * 0.0).sum())
}

/// The mean squared difference between the predicted probability of the positive class and
/// the outcome (`brier_score_loss` of a 1-D `y_proba`, scikit-learn's default
/// `scale_by_half="auto"`). The positive class is 1 when `y_true`'s labels are among `{0, 1}`
/// or `{-1, 1}`, else the larger label, as scikit-learn picks it without `pos_label`.
///
/// # Errors
/// Lengths differ or no samples; more than two labels in `y_true`
/// ([`EstimatorError::InvalidTarget`]); probabilities outside `[0, 1]`; NaN or infinity.
pub fn brier_score_loss<F: Real, A: Vector<i64>, B: Vector<F>>(y_true: &A, y_proba: &B) -> Result<f64> {
    let ones = Tensor::from_owned(ndarray::Array1::from_elem(y_true.length()?, F::from_f64(1.0)), y_true.device())?;
    brier(y_true, y_proba, kiln_runtime::tensor_arg::<F, ndarray::Ix1>(&ones))
}

/// [`brier_score_loss`] with `sample_weight` (a weighted mean).
///
/// # Errors
/// As [`brier_score_loss`]; weights of another length.
pub fn brier_score_loss_weighted<F: Real, A: Vector<i64>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_proba: &B,
    sample_weight: &W,
) -> Result<f64> {
    check_len("sample_weight", sample_weight.length()?, y_true.length()?)?;
    brier(y_true, y_proba, sample_weight.arg())
}

fn brier<'a, F: Real, A: Vector<i64>, B: Vector<F>>(y_true: &'a A, y_proba: &'a B, w: TensorArg<'a>) -> Result<f64> {
    let n = y_true.length()?;
    check_len("y_proba", y_proba.length()?, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape("brier_score_loss of zero samples".into()));
    }
    let labels = label_counts_of(y_true, y_true)?.labels;
    if labels.len() > 2 {
        return Err(EstimatorError::InvalidTarget(
            "The type of the target inferred from y_true is multiclass but should be binary according to the shape \
             of y_prob."
                .into(),
        ));
    }
    let positive =
        if matches!(labels.as_slice(), [0, 1] | [-1, 1] | [0] | [-1] | [1]) { 1 } else { labels[labels.len() - 1] };
    let (loss, hi, lo, probe) = brier_terms::tensors::<F>(y_true.arg(), y_proba.arg(), w, positive)?;
    if probe.item()?.to_f64().is_nan() {
        return Err(EstimatorError::NonFinite { what: "y_prob" });
    }
    let (hi, lo) = (hi.item()?.to_f64(), lo.item()?.to_f64());
    if hi > 1.0 {
        return Err(EstimatorError::InvalidTarget(format!("y_prob contains values greater than 1: {hi}")));
    }
    if lo < 0.0 {
        return Err(EstimatorError::InvalidTarget(format!("y_prob contains values less than 0: {lo}")));
    }
    Ok(loss.item()?.to_f64())
}

/// The fraction of samples whose true class is among the `k` highest scores of its row. Each
/// true label is coded as its position among the sorted `labels`; ties rank the later column
/// higher, as scikit-learn's reversed stable argsort does.
#[kernel(crate = kiln_runtime)]
fn top_k_hits<F: Float>(y: Array1<i64>, s: Array2<F>, labels: Array1<i64>, cols: Array1<i64>, k: i64) -> F {
    let n = s.nrows();
    let m = s.ncols();
    let hits = Array1::from_shape_fn(n, |i| {
        let c = sum(0..m, |j| select(labels[[j]] < y[[i]], 1, 0));
        let sc = s[[i, c]];
        let above = sum(0..m, |j| select(s[[i, j]] > sc, 1, select(s[[i, j]] == sc, select(cols[[j]] > c, 1, 0), 0)));
        select(above < k, 1.0 as F, 0.0 as F)
    });
    hits.mean()
}

/// The fraction of binary samples whose score `s > threshold` says "positive" exactly when
/// the label is `positive`.
#[kernel(crate = kiln_runtime)]
fn binary_top1<F: Float>(y: Array1<i64>, s: Array2<F>, positive: i64, threshold: F) -> (F, F, F, F) {
    let n = y.len();
    let hit = Array1::from_shape_fn(n, |i| {
        select(
            s[[i, 0]] > threshold,
            select(y[[i]] == positive, 1.0 as F, 0.0 as F),
            select(y[[i]] == positive, 0.0 as F, 1.0 as F),
        )
    });
    let col = Array1::from_shape_fn(n, |i| s[[i, 0]]);
    (hit.mean(), col.min(), col.max(), (&col * 0.0).sum())
}

/// NaN exactly when `s` holds NaN or infinity.
#[kernel(crate = kiln_runtime)]
fn score_probe<F: Float>(s: Array2<F>) -> F {
    (&s * 0.0).sum()
}

fn finite_scores<F: Real, P: Matrix<F>>(y_score: &P) -> Result<()> {
    if score_probe::tensors::<F>(y_score.arg())?.item()?.to_f64().is_nan() {
        return Err(EstimatorError::NonFinite { what: "y_score" });
    }
    Ok(())
}

/// The fraction of samples whose true label is among the `k` labels of highest score
/// (`top_k_accuracy_score`). `y_score` is `n_samples x n_classes` (columns in the sorted order
/// of the labels of `y_true`), or `n_samples x 1` for two classes: the score of the larger
/// label, as scikit-learn's 1-D binary scores (with `k = 1` a score above 0.5, or above 0 when
/// the scores are not within `[0, 1]`, predicts it; with `k >= 2` every sample is a hit).
///
/// # Errors
/// Lengths differ or no samples; `k` of 0 ([`EstimatorError::InvalidParameter`]); a column
/// count other than the number of labels of `y_true` ([`EstimatorError::InvalidTarget`],
/// scikit-learn's wording); NaN or infinity in `y_score`.
pub fn top_k_accuracy_score<F: Real, A: Vector<i64>, P: Matrix<F>>(y_true: &A, y_score: &P, k: usize) -> Result<f64> {
    if k == 0 {
        return Err(EstimatorError::param("top_k_accuracy_score", "k", "an int in the range [1, inf)", k));
    }
    let n = y_true.length()?;
    let (rows, m) = y_score.dims()?;
    check_len("y_score", rows, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape("top_k_accuracy_score of zero samples".into()));
    }
    let labels = label_counts_of(y_true, y_true)?.labels;
    let n_classes = if m == 1 { 2 } else { m };
    if labels.len() > 2 && m == 1 {
        return Err(EstimatorError::InvalidTarget(format!(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple classes. Got \
             `y_score.shape=({n}, 1)`."
        )));
    }
    if m > 1 && labels.len() != m {
        return Err(EstimatorError::InvalidTarget(format!(
            "Number of classes in 'y_true' ({}) not equal to the number of classes in 'y_score' ({m}).You can provide \
             a list of all known classes by assigning it to the `labels` parameter.",
            labels.len()
        )));
    }
    if m == 1 {
        // Binary 1-D scores: the larger label is the positive class.
        let positive = *labels.last().unwrap_or(&1);
        let positive = if labels.len() == 1 && positive == 0 { 1 } else { positive };
        if k >= n_classes {
            finite_scores(y_score)?;
            return Ok(1.0);
        }
        // Threshold 0.5 for scores within [0, 1] (probabilities), else 0 (decision values).
        let top1 = |threshold: f64| -> Result<(f64, f64, f64, f64)> {
            let (hit, lo, hi, probe) =
                binary_top1::tensors::<F>(y_true.arg(), y_score.arg(), positive, F::from_f64(threshold))?;
            Ok((hit.item()?.to_f64(), lo.item()?.to_f64(), hi.item()?.to_f64(), probe.item()?.to_f64()))
        };
        let (hit, lo, hi, probe) = top1(0.5)?;
        if probe.is_nan() {
            return Err(EstimatorError::NonFinite { what: "y_score" });
        }
        return Ok(if lo >= 0.0 && hi <= 1.0 { hit } else { top1(0.0)?.0 });
    }
    let labels_t = Placed::beside(ndarray::Array1::from(labels), &y_true.arg())?;
    let cols = Placed::beside((0..m as i64).collect(), &y_true.arg())?;
    let hit = top_k_hits::tensors::<F>(y_true.arg(), y_score.arg(), labels_t.arg(), cols.arg(), k as i64)?;
    finite_scores(y_score)?;
    Ok(hit.item()?.to_f64())
}
