//! Curves of binary scores (scikit-learn's `_ranking.py`): `roc_curve`,
//! `precision_recall_curve`, `average_precision_score`, and the weighted `roc_auc_score`.
//!
//! Every curve needs the samples in decreasing score order and its length is the number of
//! distinct scores, known only after sorting. The sort runs on the host: labels, scores and
//! weights are copied there (O(n)) and sorted by a stable merge sort (O(n log n)). kiln's
//! `argsort_axis` kernel would sort a 1-D array as one lane, which is one thread on a GPU, and
//! the cumulative sums, the grouping of tied scores and `drop_intermediate` all produce outputs
//! whose length depends on the data; the host does them in the same pass as the sort.
//!
//! Sums of weights accumulate in f64 in sorted order, as scikit-learn's `cumulative_sum` does
//! (in its largest float type); thresholds are returned as f64 whatever the score type.

use crate::data::{check_len, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use ndarray::Array1;

/// The false and true positive (weighted) counts at each distinct score, in decreasing score
/// order, and those scores (scikit-learn's `confusion_matrix_at_thresholds`).
pub(crate) struct BinaryCurve {
    pub fps: Vec<f64>,
    pub tps: Vec<f64>,
    pub thresholds: Vec<f64>,
}

/// Checks lengths, finiteness and the binary labels of `y_true` (`{0, 1}`, `{-1, 1}` or one of
/// those labels alone, 1 positive, as scikit-learn's `_check_pos_label_consistency` without a
/// `pos_label`), then builds the curve.
pub(crate) fn binary_curve<F: Real, A: Vector<i64>, B: Vector<F>>(
    metric: &str,
    y_true: &A,
    y_score: &B,
    sample_weight: Option<&dyn HostWeights>,
) -> Result<BinaryCurve> {
    let n = y_true.length()?;
    check_len("y_score", y_score.length()?, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape(format!("{metric} of zero samples")));
    }
    let (y, s) = (y_true.to_host()?, y_score.to_host()?);
    check_binary_labels(&y)?;
    if s.iter().any(|v| !v.to_f64().is_finite()) {
        return Err(EstimatorError::NonFinite { what: "y_score" });
    }
    let w = match sample_weight {
        Some(w) => {
            let w = w.host_weights()?;
            check_len("sample_weight", w.len(), n)?;
            if w.iter().any(|v| !v.is_finite()) {
                return Err(EstimatorError::NonFinite { what: "sample_weight" });
            }
            Some(w)
        }
        None => None,
    };
    Ok(curve_of(&y, &s.mapv(|v| v.to_f64()), w.as_ref()))
}

/// The curve of host labels (1 is positive), scores and optional weights (zero weights are
/// dropped first, as scikit-learn does).
fn curve_of(y: &Array1<i64>, s: &Array1<f64>, w: Option<&Array1<f64>>) -> BinaryCurve {
    let mut order: Vec<usize> = (0..y.len()).filter(|&i| w.is_none_or(|w| w[i] != 0.0)).collect();
    // Stable, decreasing: numpy's argsort(stable=True, descending=True).
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let (mut fps, mut tps, mut thresholds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0.0f64, 0.0f64);
    for (k, &i) in order.iter().enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        if y[i] == 1 {
            tp += wi;
        } else if w.is_some() {
            fp += wi;
        }
        let last_of_group = order.get(k + 1).is_none_or(|&j| s[j] != s[i]);
        if last_of_group {
            tps.push(tp);
            // Unweighted: fps = 1 + index - tps, exactly as scikit-learn.
            fps.push(if w.is_some() { fp } else { 1.0 + k as f64 - tp });
            thresholds.push(s[i]);
        }
    }
    BinaryCurve { fps, tps, thresholds }
}

/// `y_true` must hold labels `{0, 1}` or `{-1, 1}` (or one of them alone).
pub(crate) fn check_binary_labels(y: &Array1<i64>) -> Result<()> {
    let mut present: Vec<i64> = y.iter().copied().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    present.dedup();
    let ok = matches!(present.as_slice(), [0, 1] | [-1, 1] | [0] | [-1] | [1]);
    if !ok {
        let shown = present.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ");
        return Err(EstimatorError::InvalidTarget(format!(
            "y_true takes value in {{{shown}}} and pos_label is not specified: either make y_true take value in \
             {{0, 1}} or {{-1, 1}} or pass pos_label explicitly."
        )));
    }
    Ok(())
}

/// Sample weights read on the host (the curves sort there): any [`Vector`] of f32 or f64.
pub trait HostWeights {
    /// The weights as f64 on the host.
    ///
    /// # Errors
    /// The input is not 1-D, or copying it from its device failed.
    fn host_weights(&self) -> Result<Array1<f64>>;
}

impl<F: Real, S: ndarray::Data<Elem = F>> HostWeights for ndarray::ArrayBase<S, ndarray::Ix1> {
    fn host_weights(&self) -> Result<Array1<f64>> {
        Ok(self.mapv(|v| v.to_f64()))
    }
}

impl<F: Real> HostWeights for kiln_runtime::Tensor<F> {
    fn host_weights(&self) -> Result<Array1<f64>> {
        Ok(Vector::<F>::to_host(self)?.mapv(|v| v.to_f64()))
    }
}

/// A receiver operating characteristic: false positive rates, true positive rates and the
/// decreasing thresholds they are reached at, the first threshold `+inf` (nothing predicted
/// positive) (`roc_curve`). `y_true` holds 0/1 or -1/1 labels, 1 positive; `y_score` is any
/// score that is larger for the positive class. With `drop_intermediate`, thresholds on a
/// straight segment of the curve are dropped (scikit-learn's default `True`).
///
/// When `y_true` has no negative (positive) samples, every false (true) positive rate is NaN, as
/// scikit-learn returns it (with a warning there).
///
/// # Errors
/// Lengths differ or no samples; labels other than 0/1 or -1/1
/// ([`EstimatorError::InvalidTarget`], scikit-learn's wording); NaN or infinite scores.
pub fn roc_curve<F: Real, A: Vector<i64>, B: Vector<F>>(
    y_true: &A,
    y_score: &B,
    drop_intermediate: bool,
) -> Result<(Array1<f64>, Array1<f64>, Array1<f64>)> {
    Ok(roc_of(binary_curve("roc_curve", y_true, y_score, None)?, drop_intermediate))
}

/// [`roc_curve`] with `sample_weight` (samples of weight 0 are left out, as scikit-learn does).
///
/// # Errors
/// As [`roc_curve`]; weights of another length, or not finite.
pub fn roc_curve_weighted<F: Real, A: Vector<i64>, B: Vector<F>, W: HostWeights>(
    y_true: &A,
    y_score: &B,
    sample_weight: &W,
    drop_intermediate: bool,
) -> Result<(Array1<f64>, Array1<f64>, Array1<f64>)> {
    Ok(roc_of(binary_curve("roc_curve", y_true, y_score, Some(sample_weight))?, drop_intermediate))
}

fn roc_of(c: BinaryCurve, drop_intermediate: bool) -> (Array1<f64>, Array1<f64>, Array1<f64>) {
    let BinaryCurve { mut fps, mut tps, mut thresholds } = c;
    if drop_intermediate && fps.len() > 2 {
        // Keep the ends and every point where the second difference of fps or tps is non-zero.
        let m = fps.len();
        let keep: Vec<usize> = (0..m)
            .filter(|&i| {
                i == 0
                    || i == m - 1
                    || (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1]) != 0.0
                    || (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1]) != 0.0
            })
            .collect();
        fps = keep.iter().map(|&i| fps[i]).collect();
        tps = keep.iter().map(|&i| tps[i]).collect();
        thresholds = keep.iter().map(|&i| thresholds[i]).collect();
    }
    fps.insert(0, 0.0);
    tps.insert(0, 0.0);
    thresholds.insert(0, f64::INFINITY);
    let rate = |v: &[f64]| {
        let last = *v.last().expect("at least the leading 0");
        if last <= 0.0 {
            Array1::from_elem(v.len(), f64::NAN)
        } else {
            v.iter().map(|x| x / last).collect()
        }
    };
    (rate(&fps), rate(&tps), Array1::from(thresholds))
}

/// Precision and recall at each threshold (`precision_recall_curve`): `precision` and `recall`
/// have one more element than `thresholds`, ending with precision 1 and recall 0; thresholds
/// increase. With `drop_intermediate`, thresholds where the true positive count does not change
/// from both neighbours are dropped (scikit-learn's default is `false`). Without positive
/// samples, recall is 1 everywhere (scikit-learn's value, with a warning there).
///
/// # Errors
/// As [`roc_curve`].
pub fn precision_recall_curve<F: Real, A: Vector<i64>, B: Vector<F>>(
    y_true: &A,
    y_score: &B,
    drop_intermediate: bool,
) -> Result<(Array1<f64>, Array1<f64>, Array1<f64>)> {
    Ok(pr_of(binary_curve("precision_recall_curve", y_true, y_score, None)?, drop_intermediate))
}

/// [`precision_recall_curve`] with `sample_weight`.
///
/// # Errors
/// As [`roc_curve_weighted`].
pub fn precision_recall_curve_weighted<F: Real, A: Vector<i64>, B: Vector<F>, W: HostWeights>(
    y_true: &A,
    y_score: &B,
    sample_weight: &W,
    drop_intermediate: bool,
) -> Result<(Array1<f64>, Array1<f64>, Array1<f64>)> {
    Ok(pr_of(binary_curve("precision_recall_curve", y_true, y_score, Some(sample_weight))?, drop_intermediate))
}

fn pr_of(c: BinaryCurve, drop_intermediate: bool) -> (Array1<f64>, Array1<f64>, Array1<f64>) {
    let BinaryCurve { mut fps, mut tps, mut thresholds } = c;
    if drop_intermediate && fps.len() > 2 {
        let m = fps.len();
        let keep: Vec<usize> =
            (0..m).filter(|&i| i == 0 || i == m - 1 || tps[i] != tps[i - 1] || tps[i + 1] != tps[i]).collect();
        fps = keep.iter().map(|&i| fps[i]).collect();
        tps = keep.iter().map(|&i| tps[i]).collect();
        thresholds = keep.iter().map(|&i| thresholds[i]).collect();
    }
    let last_tp = *tps.last().expect("at least one threshold");
    let mut precision: Vec<f64> =
        tps.iter().zip(&fps).rev().map(|(&tp, &fp)| if tp + fp != 0.0 { tp / (tp + fp) } else { 0.0 }).collect();
    let mut recall: Vec<f64> = tps.iter().rev().map(|&tp| if last_tp == 0.0 { 1.0 } else { tp / last_tp }).collect();
    precision.push(1.0);
    recall.push(0.0);
    thresholds.reverse();
    (Array1::from(precision), Array1::from(recall), Array1::from(thresholds))
}

/// Average precision, the step integral of the precision-recall curve:
/// `sum_n (R_n - R_{n-1}) P_n` (`average_precision_score`, binary labels 0/1 or -1/1, 1 positive).
///
/// # Errors
/// As [`roc_curve`].
pub fn average_precision_score<F: Real, A: Vector<i64>, B: Vector<F>>(y_true: &A, y_score: &B) -> Result<f64> {
    Ok(ap_of(binary_curve("average_precision_score", y_true, y_score, None)?))
}

/// [`average_precision_score`] with `sample_weight`.
///
/// # Errors
/// As [`roc_curve_weighted`].
pub fn average_precision_score_weighted<F: Real, A: Vector<i64>, B: Vector<F>, W: HostWeights>(
    y_true: &A,
    y_score: &B,
    sample_weight: &W,
) -> Result<f64> {
    Ok(ap_of(binary_curve("average_precision_score", y_true, y_score, Some(sample_weight))?))
}

fn ap_of(c: BinaryCurve) -> f64 {
    let (precision, recall, _) = pr_of(c, false);
    let sum: f64 = (0..recall.len() - 1).map(|i| (recall[i + 1] - recall[i]) * precision[i]).sum();
    (-sum).max(0.0)
}

/// [`super::roc_auc_score`] with `sample_weight`: the trapezoid area under the weighted ROC curve.
///
/// # Errors
/// As [`roc_curve_weighted`]; a single class in `y_true` ("Only one class is present in
/// y_true. ROC AUC score is not defined in that case.").
pub fn roc_auc_score_weighted<F: Real, A: Vector<i64>, B: Vector<F>, W: HostWeights>(
    y_true: &A,
    y_score: &B,
    sample_weight: &W,
) -> Result<f64> {
    let c = binary_curve("roc_auc_score", y_true, y_score, Some(sample_weight))?;
    if c.fps.last().is_none_or(|&v| v <= 0.0) || c.tps.last().is_none_or(|&v| v <= 0.0) {
        return Err(one_class_auc());
    }
    let (fpr, tpr, _) = roc_of(c, true);
    Ok((1..fpr.len()).map(|i| (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2.0).sum())
}

/// scikit-learn's message for a ROC AUC of one class.
pub(crate) fn one_class_auc() -> EstimatorError {
    EstimatorError::InvalidTarget(
        "Only one class is present in y_true. ROC AUC score is not defined in that case.".into(),
    )
}
