//! Lloyd's algorithm as scikit-learn 1.9 runs it (`_kmeans_single_lloyd`), two kernels per
//! iteration.
//!
//! Each iteration assigns every point to its nearest center (squared Euclidean distance, the
//! first center on ties: [`labels`]; on the CPU, [`CpuElkan`], the CPU's Elkan-style pruning:
//! a kernel on a panel copy of X that skips the centers its bounds rule out, with bitwise the
//! same labels), then accumulates how the per-cluster sums and
//! counts change from the last labels ([`lloyd_delta`]: a one-hot matrix of the moved points
//! times X). The host keeps the running
//! sums, handles empty clusters (relocated to the points farthest from their centers, like
//! scikit-learn), divides, and applies scikit-learn's stopping rule:
//!
//! * strict convergence: the labels did not change, so the centers did not either;
//! * or the summed squared center shift is `<= tol * mean(var(X, axis=0))`; then one more
//!   assignment (E-step) makes the labels and inertia those of the final centers.
//!
//! `n_iter` counts the iterations run, the final E-step excluded, as scikit-learn does.

use super::pruned::CpuElkan;
use crate::data::{Matrix, Storage, Vect};
use crate::datasets::Real;
use crate::error::Result;
use kiln_macros::kernel;
use kiln_runtime::{Device, TensorArg};
use ndarray::{Array1, Array2, Ix1, Ix2};

/// The nearest center of every point (squared Euclidean distance, the first center on ties),
/// as scikit-learn computes it: `||c||^2 - 2 x.c`, the term `||x||^2` common to all centers
/// left out. On a device `x` is the caller's matrix; the CPU uses it for the first labels,
/// then [`CpuElkan`].
#[kernel(crate = kiln_runtime)]
fn labels<F: Float>(x: Array2<F>, c: Array2<F>) -> Array1<i64> {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    let cc = Array1::from_shape_fn(k, |j| sum(0..d, |l| c[[j, l]] * c[[j, l]]));
    let dist = Array2::from_shape_fn((n, k), |(i, j)| cc[[j]] - 2.0 * sum(0..d, |l| x[[i, l]] * c[[j, l]]));
    dist.argmin_axis(Axis(1))
}

/// The rest of one Lloyd iteration, as an update from the labels `base` to `labels` (`base`
/// holds `-1` for points in no cluster yet: then every point moves and the sums are whole).
///
/// Returns, for the points whose label differs from `base`: the sums (k x d) and counts of
/// the clusters they moved into, and those of the clusters they left (`c` gives only `k`).
/// The into-counts add up to the number of points that moved. After the first few
/// iterations only a few percent of the points move (1-3% at 200k x 32, k = 16), so the sums
/// read a few rows of X instead of all of it. The sums and counts are one-hot contractions
/// over the rows, which the schedule turns into scatters and the `fuse` pass into one pass
/// over the rows: each chunk of rows adds every row whose target cluster is in range to the
/// partial sums of that cluster (a row-major `x` makes each row's update one vector loop; a
/// point that did not move targets `-1` and is skipped without reading its row), then the
/// chunks' partials are combined in order. The targets `into` and `from` are elementwise, so
/// the schedule inlines them into that pass: no array of them is written.
#[kernel(crate = kiln_runtime)]
fn lloyd_delta<F: Float>(
    x: Array2<F>,
    c: Array2<F>,
    labels: Array1<i64>,
    base: Array1<i64>,
) -> (Array2<F>, Array1<i64>, Array2<F>, Array1<i64>) {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    // The cluster each point moved into and the one it left; -1 for a point that did not move.
    let into = select(labels != base, labels, -1);
    let from = select(labels != base, base, -1);
    let into_sums = Array2::from_shape_fn((k, d), |(j, l)| sum(0..n, |i| select(into[[i]] == j, x[[i, l]], 0.0)));
    let into_counts = Array1::from_shape_fn(k, |j| sum(0..n, |i| select(into[[i]] == j, 1, 0)));
    let from_sums = Array2::from_shape_fn((k, d), |(j, l)| sum(0..n, |i| select(from[[i]] == j, x[[i, l]], 0.0)));
    let from_counts = Array1::from_shape_fn(k, |j| sum(0..n, |i| select(from[[i]] == j, 1, 0)));
    (into_sums, into_counts, from_sums, from_counts)
}

/// [`lloyd_delta`] with sample weights `w`: the sums are of `w_i x_i` and the counts are the
/// clusters' weights (`weight_in_clusters` in scikit-learn).
#[kernel(crate = kiln_runtime)]
fn lloyd_delta_weighted<F: Float>(
    x: Array2<F>,
    c: Array2<F>,
    labels: Array1<i64>,
    base: Array1<i64>,
    w: Array1<F>,
) -> (Array2<F>, Array1<F>, Array2<F>, Array1<F>) {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    let into = select(labels != base, labels, -1);
    let from = select(labels != base, base, -1);
    let into_sums =
        Array2::from_shape_fn((k, d), |(j, l)| sum(0..n, |i| select(into[[i]] == j, w[[i]] * x[[i, l]], 0.0)));
    let into_weights = Array1::from_shape_fn(k, |j| sum(0..n, |i| select(into[[i]] == j, w[[i]], 0.0)));
    let from_sums =
        Array2::from_shape_fn((k, d), |(j, l)| sum(0..n, |i| select(from[[i]] == j, w[[i]] * x[[i, l]], 0.0)));
    let from_weights = Array1::from_shape_fn(k, |j| sum(0..n, |i| select(from[[i]] == j, w[[i]], 0.0)));
    (into_sums, into_weights, from_sums, from_weights)
}

/// How many labels differ between two labelings.
#[kernel(crate = kiln_runtime)]
fn changed_labels(labels: Array1<i64>, old: Array1<i64>) -> i64 {
    select(labels != old, 1, 0).sum()
}

/// The nearest center of every point ([`labels`]) and the inertia: exact squared distances to
/// the assigned centers, summed (`predict` and `score`). On the CPU the runtime gives the
/// distances a column-major copy of a row-major `x` per call (a fit reads its own panel copy,
/// made once).
#[kernel(crate = kiln_runtime)]
fn assign<F: Float>(x: Array2<F>, c: Array2<F>) -> (Array1<i64>, F) {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    let cc = Array1::from_shape_fn(k, |j| sum(0..d, |l| c[[j, l]] * c[[j, l]]));
    let dist = Array2::from_shape_fn((n, k), |(i, j)| cc[[j]] - 2.0 * sum(0..d, |l| x[[i, l]] * c[[j, l]]));
    let labels = dist.argmin_axis(Axis(1));
    let sq = Array1::from_shape_fn(n, |i| sum(0..d, |l| (x[[i, l]] - c[[labels[[i]], l]]).powi(2)));
    (labels, sq.sum())
}

/// The inertia of given labels: exact squared distances to the assigned centers, summed.
#[kernel(crate = kiln_runtime)]
fn inertia<F: Float>(x: Array2<F>, c: Array2<F>, labels: Array1<i64>) -> F {
    let (n, d) = x.dim();
    Array1::from_shape_fn(n, |i| sum(0..d, |l| (x[[i, l]] - c[[labels[[i]], l]]).powi(2))).sum()
}

/// [`inertia`] with sample weights: `sum_i w_i ||x_i - c_(label i)||^2`.
#[kernel(crate = kiln_runtime)]
fn inertia_weighted<F: Float>(x: Array2<F>, c: Array2<F>, labels: Array1<i64>, w: Array1<F>) -> F {
    let (n, d) = x.dim();
    Array1::from_shape_fn(n, |i| w[[i]] * sum(0..d, |l| (x[[i, l]] - c[[labels[[i]], l]]).powi(2))).sum()
}

/// The mean per-feature (population) variance of X: scikit-learn scales `tol` by it.
#[kernel(crate = kiln_runtime)]
fn mean_variance<F: Float>(x: Array2<F>) -> F {
    let mean = x.mean_axis(Axis(0));
    (&x - &mean).powi(2).mean_axis(Axis(0)).mean()
}

/// The outcome of one Lloyd run.
pub(super) struct Run<F: Real, S: Storage> {
    pub centers: Array2<F>,
    pub labels: Vect<S, i64>,
    pub inertia: f64,
    pub n_iter: usize,
}

/// `tol * mean(var(X, axis=0))`: the bound on the summed squared center shift.
pub(super) fn scaled_tol<F: Real, X: Matrix<F>>(x: &X, tol: f64) -> Result<f64> {
    if tol == 0.0 {
        // scikit-learn's `_tolerance` too: no pass over X (and 0 even if the variance overflows).
        return Ok(0.0);
    }
    Ok(mean_variance::tensors::<F>(x.arg())?.item()?.to_f64() * tol)
}

/// Sample weights of a fit (scikit-learn's `sample_weight`): on the host and where X lives.
pub(super) struct SampleWeights<F: Real, S: Storage> {
    /// One weight per row, on the host.
    pub host: Array1<F>,
    /// The same where X lives.
    pub dev: S::Vec<F>,
}

/// The (weighted) inertia of `labels` for the centers `c`.
fn inertia_of<'a, F: Real, X: Matrix<F>>(
    x: &'a X,
    c: TensorArg<'a>,
    labels: TensorArg<'a>,
    w: Option<&'a SampleWeights<F, X::Storage>>,
) -> Result<f64> {
    let v = match w {
        Some(w) => inertia_weighted::tensors::<F>(x.arg(), c, labels, X::Storage::vec_arg(&w.dev))?,
        None => inertia::tensors::<F>(x.arg(), c, labels)?,
    };
    Ok(v.item()?.to_f64())
}

/// `sum_i w_i ||x_i - c_(labels_i)||^2` for given labels (KMeans' weighted `score`).
pub(super) fn weighted_inertia<'a, F: Real, X: Matrix<F>>(
    x: &'a X,
    c: TensorArg<'a>,
    labels: TensorArg<'a>,
    w: TensorArg<'a>,
) -> Result<f64> {
    Ok(inertia_weighted::tensors::<F>(x.arg(), c, labels, w)?.item()?.to_f64())
}

/// Labels and inertia of `x` for `centers` (kept as X's storage keeps vectors).
pub(super) fn nearest<'a, F: Real, X: Matrix<F>>(
    x: &'a X,
    centers: TensorArg<'a>,
) -> Result<(Vect<X::Storage, i64>, f64)> {
    let (labels, inertia) = assign::tensors::<F>(x.arg(), centers)?;
    Ok((X::Storage::vec(labels)?, inertia.item()?.to_f64()))
}

/// Rows per panel of the CPU's copy of X ([`Layout::CpuElkan`]): one iteration of the distance
/// kernel's vector loop for f32 (8 vectors of 4 rows), two for f64.
pub(super) const PANEL: usize = 32;

/// X in the layout the distance kernel wants where it runs.
enum Layout<F: Real> {
    /// The CPU before the first labels, which come from X itself and decide the order of
    /// the rows in the panels.
    Cpu,
    /// The CPU's Elkan-style pruning ([`CpuElkan`]): a copy in panels of [`PANEL`] rows
    /// grouped by cluster, with the bounds that skip centres (the sums read the caller's X).
    /// Devices run the dense kernel (`Plain`; the module doc of `pruned` says why).
    CpuElkan(Box<CpuElkan<F>>),
    /// A device: the caller's X.
    Plain,
}

impl<F: Real> Layout<F> {
    fn of<X: Matrix<F>>(x: &X) -> Self {
        match x.host_view().filter(|_| x.device() == Device::Cpu) {
            Some(_) => Layout::Cpu,
            None => Layout::Plain,
        }
    }

    /// The nearest center of every row of `x` (which this layout holds) for the centers `c`
    /// (`ct` on the device).
    fn labels<'a, X: Matrix<F>>(
        &mut self,
        x: &'a X,
        c: &Array2<F>,
        ct: TensorArg<'a>,
    ) -> Result<Vect<X::Storage, i64>> {
        match self {
            Layout::CpuElkan(p) => X::Storage::vec_from_host(p.labels(c)?, x.device()),
            Layout::Cpu => {
                let labels = labels::tensors::<F>(x.arg(), ct)?.into_array::<Ix1>()?;
                if let Some(v) = x.host_view() {
                    *self = Layout::CpuElkan(Box::new(CpuElkan::new(v, &labels, c.nrows())?));
                }
                X::Storage::vec_from_host(labels, x.device())
            }
            Layout::Plain => X::Storage::vec(labels::tensors::<F>(x.arg(), ct)?),
        }
    }
}

/// Lloyd iterations from `init` (k x d, host) until scikit-learn's stopping rule or `max_iter`,
/// with sample weights `w` (weighted centers and inertia) or none.
pub(super) fn lloyd<F: Real, X: Matrix<F>>(
    x: &X,
    init: Array2<F>,
    max_iter: usize,
    tol: f64,
    w: Option<&SampleWeights<F, X::Storage>>,
) -> Result<Run<F, X::Storage>> {
    let device = x.device();
    let n = x.dims()?.0;
    // The distance kernel's layout of X (on the CPU a copy, made once, in panels of rows).
    let mut layout = Layout::of(x);
    let (k, d) = init.dim();
    let mut centers = init;
    // The labels the running sums and counts add up (all `-1`: none yet), and the previous
    // iteration's labels when they differ from those (after empty clusters were relocated,
    // the sums start over from no labels).
    let none = || X::Storage::vec_from_host(Array1::from_elem(n, -1i64), device);
    let mut base = none()?;
    let mut old: Option<Vect<X::Storage, i64>> = None;
    let mut sums = Array2::<f64>::zeros((k, d));
    let mut counts = Array1::<f64>::zeros(k);
    let mut n_iter = 0;
    for _ in 0..max_iter {
        let c = X::Storage::mat_from_host(centers.clone(), device)?;
        let labels = layout.labels(x, &centers, X::Storage::mat_arg(&c))?;
        let (cx, lx, bx) = (X::Storage::mat_arg(&c), X::Storage::vec_arg(&labels), X::Storage::vec_arg(&base));
        let (into_sums, from_sums, into_counts, from_counts) = match w {
            None => {
                let (is, ic, fs, fc) = lloyd_delta::tensors::<F>(x.arg(), cx, lx, bx)?;
                let (ic, fc) = (ic.to_array::<Ix1>()?, fc.to_array::<Ix1>()?);
                (is, fs, ic.mapv(|v| v as f64), fc.mapv(|v| v as f64))
            }
            Some(w) => {
                let (is, iw, fs, fw) =
                    lloyd_delta_weighted::tensors::<F>(x.arg(), cx, lx, bx, X::Storage::vec_arg(&w.dev))?;
                let (iw, fw) = (iw.to_array::<Ix1>()?, fw.to_array::<Ix1>()?);
                (is, fs, iw.mapv(|v| v.to_f64()), fw.mapv(|v| v.to_f64()))
            }
        };
        let (into_sums, from_sums) = (into_sums.to_array::<Ix2>()?, from_sums.to_array::<Ix2>()?);
        sums.zip_mut_with(&into_sums, |s, v| *s += v.to_f64());
        sums.zip_mut_with(&from_sums, |s, v| *s -= v.to_f64());
        counts.zip_mut_with(&into_counts, |s, &v| *s += v);
        counts.zip_mut_with(&from_counts, |s, &v| *s -= v);
        let changed = match (old.take(), w) {
            (Some(old), _) => {
                changed_labels::tensors(X::Storage::vec_arg(&labels), X::Storage::vec_arg(&old))?.item()?
            }
            (None, None) => into_counts.sum() as i64,
            (None, Some(_)) => {
                changed_labels::tensors(X::Storage::vec_arg(&labels), X::Storage::vec_arg(&base))?.item()?
            }
        };
        let relocated = counts.iter().any(|&c| c == 0.0);
        if relocated {
            let host = X::Storage::vec_to_host(&labels)?;
            let wh = w.map(|w| &w.host);
            relocate_empty_clusters(&x.to_host()?, wh, &centers, &host, &mut sums, &mut counts);
        }
        let new = average::<F>(&sums, &counts);
        let shift = squared_shift(&centers, &new);
        centers = new;
        n_iter += 1;
        if changed == 0 {
            // The labels, hence the centers, did not change: `c` and these labels are final.
            let inertia = inertia_of(x, X::Storage::mat_arg(&c), X::Storage::vec_arg(&labels), w)?;
            return Ok(Run { centers, labels, inertia, n_iter });
        }
        if shift <= tol {
            break;
        }
        if relocated {
            // The relocated sums no longer add up any labeling: start over from none.
            sums.fill(0.0);
            counts.fill(0.0);
            base = none()?;
            old = Some(labels);
        } else {
            base = labels;
        }
    }
    // A last E-step: the labels and inertia of the final centers.
    let c = X::Storage::mat_from_host(centers.clone(), device)?;
    let labels = layout.labels(x, &centers, X::Storage::mat_arg(&c))?;
    let inertia = inertia_of(x, X::Storage::mat_arg(&c), X::Storage::vec_arg(&labels), w)?;
    Ok(Run { centers, labels, inertia, n_iter })
}

/// The new centers, rounded to `F` at each step like scikit-learn's float32 arithmetic:
/// `sum * (1 / count)` for non-empty clusters.
fn average<F: Real>(sums: &Array2<f64>, counts: &Array1<f64>) -> Array2<F> {
    let round = |v: f64| F::from_f64(v).to_f64();
    Array2::from_shape_fn(sums.dim(), |(j, l)| {
        let s = round(sums[[j, l]]);
        if counts[j] > 0.0 {
            F::from_f64(s * round(1.0 / round(counts[j])))
        } else {
            F::from_f64(s)
        }
    })
}

/// `sum_j ||new_j - old_j||^2`.
fn squared_shift<F: Real>(old: &Array2<F>, new: &Array2<F>) -> f64 {
    old.iter().zip(new).map(|(a, b)| (a.to_f64() - b.to_f64()).powi(2)).sum()
}

/// scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes one of the points
/// farthest from their (old) centers, farthest first, which leaves its old cluster (with its
/// weight, when weighted).
fn relocate_empty_clusters<F: Real>(
    x: &Array2<F>,
    w: Option<&Array1<F>>,
    centers: &Array2<F>,
    labels: &Array1<i64>,
    sums: &mut Array2<f64>,
    counts: &mut Array1<f64>,
) {
    // Squared distances rounded to F at each step, summed feature by feature like
    // `((X - C[labels]) ** 2).sum(1)`.
    let round = |v: f64| F::from_f64(v).to_f64();
    let mind: Array1<f64> = Array1::from_shape_fn(x.nrows(), |i| {
        let c = centers.row(labels[i] as usize);
        x.row(i).iter().zip(c).fold(0.0, |acc, (a, b)| {
            let t = round(a.to_f64() - b.to_f64());
            round(acc + round(t * t))
        })
    });
    let empty: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] == 0.0).collect();
    let mut far: Vec<usize> = (0..mind.len()).collect();
    far.sort_by(|&a, &b| mind[b].total_cmp(&mind[a]));
    for (&new_id, &p) in empty.iter().zip(&far) {
        let old_id = labels[p] as usize;
        let weight = w.map_or(1.0, |w| w[p].to_f64());
        for l in 0..x.ncols() {
            let v = x[[p, l]].to_f64() * weight;
            sums[[old_id, l]] -= v;
            sums[[new_id, l]] = v;
        }
        counts[new_id] = weight;
        counts[old_id] -= weight;
    }
}
