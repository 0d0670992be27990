//! Clustering quality without ground truth (scikit-learn's `sklearn.metrics.cluster`
//! unsupervised metrics): silhouette, Calinski-Harabasz, Davies-Bouldin.
//!
//! The silhouette needs, for every sample, its summed distance to the members of each cluster.
//! One kernel computes those `n x k` sums with the distances fused into the sums: no `n x n`
//! distance matrix exists (scikit-learn computes it in chunks of rows); each distance is
//! evaluated once per cluster, which for the few clusters a silhouette is asked about costs
//! less than storing and rereading the matrix. Calinski-Harabasz and Davies-Bouldin need the
//! cluster centroids and per-sample distances to their centroid: one kernel, O(n d); what
//! remains is over the `k x d` centroids on the host. Distances are Euclidean, summed directly
//! over the coordinate differences (scikit-learn expands `|x|^2 - 2 x.y + |y|^2`; see
//! [`super::pairwise_distances`]).

use super::labels::{label_counts_of, Placed};
use crate::data::{check_len, check_x, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::{Tensor, TensorArg};
use ndarray::{Array1, Array2, Ix1, Ix2};

/// The position of each label of `y` in the sorted labels `u` (0..k).
#[kernel(crate = kiln_runtime)]
fn encode(y: Array1<i64>, u: Array1<i64>, pos: Array1<i64>) -> Array1<i64> {
    let n = y.len();
    let k = u.len();
    Array1::from_shape_fn(n, |i| sum(0..k, |c| select(y[[i]] == u[[c]], pos[[c]], 0)))
}

/// Per sample: its silhouette `(b - a) / max(a, b)`, `a` the mean distance to the other
/// members of its cluster, `b` the smallest mean distance to another cluster's members (0 for
/// a sample alone in its cluster); and their mean.
#[kernel(crate = kiln_runtime)]
fn silhouette<F: Float>(x: Array2<F>, codes: Array1<i64>, counts: Array1<F>) -> (Array1<F>, F) {
    let (n, d) = x.dim();
    let k = counts.len();
    let sums = Array2::from_shape_fn((n, k), |(i, c)| {
        sum(0..n, |j| select(codes[[j]] == c, sum(0..d, |l| (x[[i, l]] - x[[j, l]]).powi(2)).sqrt(), 0.0))
    });
    let own =
        Array1::from_shape_fn(n, |i| sum(0..k, |c| select(codes[[i]] == c, sums[[i, c]] / (counts[[c]] - 1.0), 0.0)));
    let other =
        Array1::from_shape_fn(n, |i| min(0..k, |c| select(codes[[i]] == c, F::infinity(), sums[[i, c]] / counts[[c]])));
    let s = (&other - &own) / own.max(&other);
    let s = select(s.is_nan(), 0.0, s);
    let mean = s.mean();
    (s, mean)
}

/// Cluster centroids, the overall mean, the within-cluster sum of squares, and per cluster the
/// mean distance of its members to its centroid.
#[kernel(crate = kiln_runtime)]
fn centroid_stats<F: Float>(
    x: Array2<F>,
    codes: Array1<i64>,
    counts: Array1<F>,
) -> (Array2<F>, Array1<F>, F, Array1<F>) {
    let (n, d) = x.dim();
    let k = counts.len();
    let sums = Array2::from_shape_fn((k, d), |(c, l)| sum(0..n, |i| select(codes[[i]] == c, x[[i, l]], 0.0)));
    let centroids = sums / counts.insert_axis(Axis(1));
    let sq = Array1::from_shape_fn(n, |i| sum(0..d, |l| (x[[i, l]] - centroids[[codes[[i]] as usize, l]]).powi(2)));
    let within = sq.sum();
    let spread = Array1::from_shape_fn(k, |c| sum(0..n, |i| select(codes[[i]] == c, sq[[i]].sqrt(), 0.0))) / counts;
    (centroids, x.mean_axis(Axis(0)), within, spread)
}

/// The checked inputs of a cluster metric: the labels re-coded `0..k` (`None` when they are
/// already, then the labels themselves are the codes), and the cluster sizes.
struct Clusters {
    codes: Option<Tensor<i64>>,
    counts: Vec<i64>,
}

impl Clusters {
    fn arg<'a, L: Vector<i64>>(&'a self, labels: &'a L) -> TensorArg<'a> {
        match &self.codes {
            Some(t) => kiln_runtime::tensor_arg::<i64, Ix1>(t),
            None => labels.arg(),
        }
    }
}

fn clusters<F: Real, X: Matrix<F>, L: Vector<i64>>(metric: &'static str, x: &X, labels: &L) -> Result<Clusters> {
    let (n, _) = check_x(metric, x, 1)?;
    check_len("labels", labels.length()?, n)?;
    let counts = label_counts_of(labels, labels)?;
    let k = counts.labels.len();
    if !(1 < k && k < n) {
        return Err(EstimatorError::InvalidTarget(format!(
            "Number of labels is {k}. Valid values are 2 to n_samples - 1 (inclusive)"
        )));
    }
    let codes = if counts.labels.iter().enumerate().all(|(c, &l)| l == c as i64) {
        None
    } else {
        let u = Placed::beside(Array1::from(counts.labels.clone()), &labels.arg())?;
        let pos = Placed::beside((0..k as i64).collect(), &labels.arg())?;
        Some(encode::tensors(labels.arg(), u.arg(), pos.arg())?)
    };
    Ok(Clusters { codes, counts: counts.truth })
}

fn counts_beside<F: Real, X: Matrix<F>>(counts: &[i64], x: &X) -> Result<CountsArg<F>> {
    let a: Array1<F> = counts.iter().map(|&c| F::from_f64(c as f64)).collect();
    Ok(match x.arg() {
        TensorArg::Tensor(t) => CountsArg::Device(Tensor::from_owned(a, t.device())?),
        _ => CountsArg::Host(a),
    })
}

enum CountsArg<F: Real> {
    Host(Array1<F>),
    Device(Tensor<F>),
}

impl<F: Real> CountsArg<F> {
    fn arg(&self) -> TensorArg<'_> {
        match self {
            CountsArg::Host(a) => kiln_runtime::tensor_arg::<F, Ix1>(a),
            CountsArg::Device(t) => kiln_runtime::tensor_arg::<F, Ix1>(t),
        }
    }
}

fn silhouette_parts<F: Real, X: Matrix<F>, L: Vector<i64>>(x: &X, labels: &L) -> Result<(Tensor<F>, Tensor<F>)> {
    let c = clusters("silhouette_score", x, labels)?;
    let counts = counts_beside::<F, X>(&c.counts, x)?;
    Ok(silhouette::tensors::<F>(x.arg(), c.arg(labels), counts.arg())?)
}

/// The silhouette coefficient of each sample (`silhouette_samples`, Euclidean distances):
/// `(b - a) / max(a, b)` with `a` the mean distance to the other members of its cluster and
/// `b` the mean distance to the members of the nearest other cluster; 0 for a sample alone in
/// its cluster. Runs where X lives; returns ndarray for ndarray input, a tensor for a tensor.
///
/// # Errors
/// Empty or non-finite X; labels of another length; fewer than 2 or more than
/// `n_samples - 1` distinct labels ("Number of labels is 1. Valid values are 2 to
/// n_samples - 1 (inclusive)").
pub fn silhouette_samples<F: Real, X: Matrix<F>, L: Vector<i64>>(x: &X, labels: &L) -> Result<Vect<X::Storage, F>> {
    X::Storage::vec(silhouette_parts(x, labels)?.0)
}

/// The mean silhouette coefficient over all samples (`silhouette_score`, Euclidean distances,
/// every sample: scikit-learn's `sample_size=None`).
///
/// # Errors
/// As [`silhouette_samples`].
pub fn silhouette_score<F: Real, X: Matrix<F>, L: Vector<i64>>(x: &X, labels: &L) -> Result<f64> {
    Ok(silhouette_parts(x, labels)?.1.item()?.to_f64())
}

fn centroids_of<F: Real, X: Matrix<F>, L: Vector<i64>>(
    metric: &'static str,
    x: &X,
    labels: &L,
) -> Result<(Array2<f64>, Array1<f64>, f64, Array1<f64>, Vec<i64>)> {
    let c = clusters(metric, x, labels)?;
    let counts = counts_beside::<F, X>(&c.counts, x)?;
    let (centroids, mean, within, spread) = centroid_stats::tensors::<F>(x.arg(), c.arg(labels), counts.arg())?;
    Ok((
        centroids.to_array::<Ix2>()?.mapv(|v: F| v.to_f64()),
        mean.to_array::<Ix1>()?.mapv(|v: F| v.to_f64()),
        within.item()?.to_f64(),
        spread.to_array::<Ix1>()?.mapv(|v: F| v.to_f64()),
        c.counts,
    ))
}

/// The Calinski-Harabasz score (variance ratio criterion, `calinski_harabasz_score`):
/// between-cluster over within-cluster dispersion, times `(n - k) / (k - 1)`; 1 when the
/// within-cluster dispersion is 0.
///
/// # Errors
/// As [`silhouette_samples`].
pub fn calinski_harabasz_score<F: Real, X: Matrix<F>, L: Vector<i64>>(x: &X, labels: &L) -> Result<f64> {
    let (centroids, mean, within, _, counts) = centroids_of("calinski_harabasz_score", x, labels)?;
    let (n, k) = (counts.iter().sum::<i64>() as f64, counts.len() as f64);
    let between: f64 = centroids
        .rows()
        .into_iter()
        .zip(&counts)
        .map(|(c, &m)| m as f64 * c.iter().zip(&mean).map(|(a, b)| (a - b).powi(2)).sum::<f64>())
        .sum();
    Ok(if within == 0.0 { 1.0 } else { between * (n - k) / (within * (k - 1.0)) })
}

/// The Davies-Bouldin score (`davies_bouldin_score`): the mean over clusters of the largest
/// ratio of summed within-cluster spreads to centroid distance; 0 is best. 0 when every spread
/// or every centroid distance is 0 (numpy's `allclose` with 0, as scikit-learn tests it).
///
/// # Errors
/// As [`silhouette_samples`].
pub fn davies_bouldin_score<F: Real, X: Matrix<F>, L: Vector<i64>>(x: &X, labels: &L) -> Result<f64> {
    let (centroids, _, _, spread, _) = centroids_of("davies_bouldin_score", x, labels)?;
    let k = centroids.nrows();
    let dist = Array2::from_shape_fn((k, k), |(a, b)| {
        if a == b {
            0.0
        } else {
            centroids.row(a).iter().zip(centroids.row(b)).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt()
        }
    });
    if spread.iter().all(|v| v.abs() <= 1e-8) || dist.iter().all(|v| v.abs() <= 1e-8) {
        return Ok(0.0);
    }
    let scores = (0..k).map(|a| {
        (0..k)
            .map(|b| {
                let d = if dist[[a, b]] == 0.0 { f64::INFINITY } else { dist[[a, b]] };
                (spread[a] + spread[b]) / d
            })
            .fold(f64::NEG_INFINITY, f64::max)
    });
    Ok(scores.sum::<f64>() / k as f64)
}
