//! Which labels a classification metric sees, and per-label counts: kernels over the n samples,
//! then host work over the (few) labels.
//!
//! The labels present are found without copying the samples when they span a small range (the
//! usual `0..k`): one kernel takes the smallest and largest label, a second counts every value
//! of that range, and labels counted nowhere are dropped. Labels spread wider than
//! [`RANGE_LIMIT`] are collected by a host pass instead (a copy of the labels).

use crate::data::Vector;
use crate::datasets::Real;
use crate::error::Result;
use kiln_macros::kernel;
use kiln_runtime::{Tensor, TensorArg};
use ndarray::{Array1, Array2, Ix1, Ix2};
use std::collections::BTreeSet;

/// The widest label range counted on the device (each counted value costs a pass over n).
pub(crate) const RANGE_LIMIT: i64 = 64;

/// The smallest and largest label of `a` and `b`.
#[kernel(crate = kiln_runtime)]
fn label_bounds(a: Array1<i64>, b: Array1<i64>) -> (i64, i64) {
    (a.min().min(b.min()), a.max().max(b.max()))
}

/// Per label `labels[c]`: samples truly and predicted `c` (true positives), predicted `c`, truly `c`.
#[kernel(crate = kiln_runtime)]
fn label_counts(t: Array1<i64>, p: Array1<i64>, labels: Array1<i64>) -> (Array1<i64>, Array1<i64>, Array1<i64>) {
    let n = t.len();
    let k = labels.len();
    (
        Array1::from_shape_fn(k, |c| {
            sum(0..n, |i| select(t[[i]] == labels[[c]], select(p[[i]] == labels[[c]], 1, 0), 0))
        }),
        Array1::from_shape_fn(k, |c| sum(0..n, |i| select(p[[i]] == labels[[c]], 1, 0))),
        Array1::from_shape_fn(k, |c| sum(0..n, |i| select(t[[i]] == labels[[c]], 1, 0))),
    )
}

/// [`label_counts`] with each sample counted by its weight `w[i]`.
#[kernel(crate = kiln_runtime)]
fn weighted_label_counts<F: Float>(
    t: Array1<i64>,
    p: Array1<i64>,
    labels: Array1<i64>,
    w: Array1<F>,
) -> (Array1<F>, Array1<F>, Array1<F>) {
    let n = t.len();
    let k = labels.len();
    (
        Array1::from_shape_fn(k, |c| {
            sum(0..n, |i| select(t[[i]] == labels[[c]], select(p[[i]] == labels[[c]], w[[i]], 0.0), 0.0))
        }),
        Array1::from_shape_fn(k, |c| sum(0..n, |i| select(p[[i]] == labels[[c]], w[[i]], 0.0))),
        Array1::from_shape_fn(k, |c| sum(0..n, |i| select(t[[i]] == labels[[c]], w[[i]], 0.0))),
    )
}

/// Samples with true label `labels[a]` and predicted label `labels[b]`.
#[kernel(crate = kiln_runtime)]
fn confusion_counts(t: Array1<i64>, p: Array1<i64>, labels: Array1<i64>) -> Array2<i64> {
    let n = t.len();
    let k = labels.len();
    Array2::from_shape_fn((k, k), |(a, b)| {
        sum(0..n, |i| select(t[[i]] == labels[[a]], select(p[[i]] == labels[[b]], 1, 0), 0))
    })
}

/// A small host array (labels) placed where a kernel argument lives: beside a tensor on its
/// device, or kept on the host beside host arrays.
pub(crate) enum Placed {
    Host(Array1<i64>),
    Device(Tensor<i64>),
}

impl Placed {
    pub(crate) fn beside(a: Array1<i64>, like: &TensorArg<'_>) -> Result<Self> {
        Ok(match like {
            TensorArg::Tensor(t) => Placed::Device(Tensor::from_owned(a, t.device())?),
            _ => Placed::Host(a),
        })
    }

    pub(crate) fn arg(&self) -> TensorArg<'_> {
        match self {
            Placed::Host(a) => kiln_runtime::tensor_arg::<i64, Ix1>(a),
            Placed::Device(t) => kiln_runtime::tensor_arg::<i64, Ix1>(t),
        }
    }
}

/// The labels present in `y_true` or `y_pred` (sorted) with, per label, true positives,
/// predicted and true counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelCounts {
    pub labels: Vec<i64>,
    pub tp: Vec<i64>,
    pub pred: Vec<i64>,
    pub truth: Vec<i64>,
}

/// [`LabelCounts`] of `t` and `p` (same length, at least one sample: the caller checks).
pub(crate) fn label_counts_of<A: Vector<i64>, B: Vector<i64>>(t: &A, p: &B) -> Result<LabelCounts> {
    let labels = present_range(t, p)?;
    let placed = Placed::beside(labels.clone(), &t.arg())?;
    let (tp, pred, truth) = label_counts::tensors(t.arg(), p.arg(), placed.arg())?;
    let (tp, pred, truth) = (tp.to_array::<Ix1>()?, pred.to_array::<Ix1>()?, truth.to_array::<Ix1>()?);
    let mut out = LabelCounts { labels: Vec::new(), tp: Vec::new(), pred: Vec::new(), truth: Vec::new() };
    for c in 0..labels.len() {
        if pred[c] + truth[c] > 0 {
            out.labels.push(labels[c]);
            out.tp.push(tp[c]);
            out.pred.push(pred[c]);
            out.truth.push(truth[c]);
        }
    }
    Ok(out)
}

/// The labels present in `t` or `p` (sorted, whatever their weight, as scikit-learn's
/// `unique_labels`) with per label the summed weights of true positives, of predicted and of
/// true samples (the caller checks lengths).
pub(crate) fn weighted_label_counts_of<F: Real, A: Vector<i64>, B: Vector<i64>, W: Vector<F>>(
    t: &A,
    p: &B,
    w: &W,
) -> Result<(Vec<i64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    let labels = label_counts_of(t, p)?.labels;
    let placed = Placed::beside(Array1::from(labels.clone()), &t.arg())?;
    let (tp, pred, truth) = weighted_label_counts::tensors::<F>(t.arg(), p.arg(), placed.arg(), w.arg())?;
    let f = |x: kiln_runtime::Tensor<F>| -> Result<Vec<f64>> {
        Ok(x.to_array::<Ix1>()?.iter().map(|v| v.to_f64()).collect())
    };
    Ok((labels, f(tp)?, f(pred)?, f(truth)?))
}

/// Candidate labels: every value between the smallest and largest label when that range is
/// small, else exactly the labels present (host pass).
fn present_range<A: Vector<i64>, B: Vector<i64>>(t: &A, p: &B) -> Result<Array1<i64>> {
    let (lo, hi) = label_bounds::tensors(t.arg(), p.arg())?;
    let (lo, hi) = (lo.item()?, hi.item()?);
    if i128::from(hi) - i128::from(lo) < i128::from(RANGE_LIMIT) {
        return Ok((lo..=hi).collect());
    }
    let mut set = BTreeSet::new();
    set.extend(t.to_host()?.iter().copied());
    set.extend(p.to_host()?.iter().copied());
    Ok(set.into_iter().collect())
}

/// The confusion counts of `t` and `p` over `labels` (rows true, columns predicted).
pub(crate) fn confusion_of<A: Vector<i64>, B: Vector<i64>>(t: &A, p: &B, labels: &[i64]) -> Result<Array2<i64>> {
    let placed = Placed::beside(Array1::from(labels.to_vec()), &t.arg())?;
    Ok(confusion_counts::tensors(t.arg(), p.arg(), placed.arg())?.to_array::<Ix2>()?)
}
