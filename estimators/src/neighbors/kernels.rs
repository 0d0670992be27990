//! The neighbour searches as kiln kernels, one per metric. Euclidean distances are expanded as
//! scikit-learn expands them (`|q|^2 - 2 q.x + |x|^2`), the products of a block of queries one
//! vendor GEMM ([`knn_euclidean_gemm`]). The other metrics are a distance comprehension over the
//! query rows x the training rows followed by `smallest_k_axis(Axis(1), k)`. Only the
//! positions of the selection are used; the `k` distances are then recomputed from them by the
//! same expression (the same bits the selection compared), so the n x m distances are never
//! stored: the top-k kernel evaluates each distance once, inside its pass over the lane (see
//! `docs/architecture.md`, "Top-k"). The selection runs on a monotone stand-in where that saves
//! a root (squared euclidean, `sum |d|^p` for minkowski), as scikit-learn's `rdist` does.
//!
//! The `*_block` kernels are the full distances of a block of query rows (radius searches,
//! whose result is as large as the matches).

use kiln_macros::kernel;

/// Rows `lo..hi` of `q`, copied: a block of queries for [`knn_euclidean_gemm`], whose product
/// needs its operand as a buffer of its own.
#[kernel(crate = kiln_runtime)]
pub(super) fn rows<F: Float>(q: Array2<F>, lo: usize, hi: usize) -> Array2<F> {
    q.slice(s![lo..hi, ..]).to_owned()
}

/// The squared norm of each row (`|x|^2` of the expanded euclidean distance).
#[kernel(crate = kiln_runtime)]
pub(super) fn sq_norms<F: Float>(x: Array2<F>) -> Array1<F> {
    x.powi(2).sum_axis(Axis(1))
}

/// The `k` nearest training rows of each row of a block of queries `q` in euclidean distance,
/// computed as scikit-learn's brute search computes it: `|q|^2 - 2 q.x + |x|^2` with the
/// products `q x^T` as one matrix product (a vendor GEMM: a `len x m` buffer for the block),
/// selected on that squared form, the distances `sqrt(max(., 0))` of the selected ones.
/// `nx` holds the training rows' squared norms ([`sq_norms`]).
#[kernel(crate = kiln_runtime)]
pub(super) fn knn_euclidean_gemm<F: Float>(
    q: Array2<F>,
    x: Array2<F>,
    nx: Array1<F>,
    k: usize,
) -> (Array2<F>, Array2<i64>) {
    let n = q.nrows();
    let m = x.nrows();
    let nq = q.powi(2).sum_axis(Axis(1));
    let dot = q.dot(&x.t());
    let dist = Array2::from_shape_fn((n, m), |(i, j)| nq[[i]] + dot[[i, j]] * -2.0 + nx[[j]]);
    let (_, at) = dist.smallest_k_axis(Axis(1), k);
    let d2 = Array2::from_shape_fn((n, k), |(i, t)| dist[[i, at[[i, t]] as usize]]);
    let near = select(d2 > 0.0, d2, 0.0).sqrt();
    (near, at)
}

/// The `k` nearest training rows in manhattan (L1) distance.
#[kernel(crate = kiln_runtime)]
pub(super) fn knn_manhattan<F: Float>(q: Array2<F>, x: Array2<F>, k: usize) -> (Array2<F>, Array2<i64>) {
    let (n, d) = q.dim();
    let m = x.nrows();
    let dist = Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| (q[[i, l]] - x[[j, l]]).abs()));
    let (_, at) = dist.smallest_k_axis(Axis(1), k);
    let near = Array2::from_shape_fn((n, k), |(i, t)| sum(0..d, |l| (q[[i, l]] - x[[at[[i, t]] as usize, l]]).abs()));
    (near, at)
}

/// The `k` nearest training rows in chebyshev (L-infinity) distance.
#[kernel(crate = kiln_runtime)]
pub(super) fn knn_chebyshev<F: Float>(q: Array2<F>, x: Array2<F>, k: usize) -> (Array2<F>, Array2<i64>) {
    let (n, d) = q.dim();
    let m = x.nrows();
    let dist = Array2::from_shape_fn((n, m), |(i, j)| max(0..d, |l| (q[[i, l]] - x[[j, l]]).abs()));
    let (_, at) = dist.smallest_k_axis(Axis(1), k);
    let near = Array2::from_shape_fn((n, k), |(i, t)| max(0..d, |l| (q[[i, l]] - x[[at[[i, t]] as usize, l]]).abs()));
    (near, at)
}

/// The `k` nearest training rows in minkowski distance of power `p` (selected on
/// `sum |d|^p`, then the `1/p`-th root).
#[kernel(crate = kiln_runtime)]
pub(super) fn knn_minkowski<F: Float>(q: Array2<F>, x: Array2<F>, k: usize, p: F) -> (Array2<F>, Array2<i64>) {
    let (n, d) = q.dim();
    let m = x.nrows();
    let dist = Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| (q[[i, l]] - x[[j, l]]).abs().powf(p)));
    let (_, at) = dist.smallest_k_axis(Axis(1), k);
    let near = Array2::from_shape_fn((n, k), |(i, t)| {
        sum(0..d, |l| (q[[i, l]] - x[[at[[i, t]] as usize, l]]).abs().powf(p)).powf(1.0 / p)
    });
    (near, at)
}

/// The `k` nearest training rows in cosine distance, scikit-learn's `cosine_distances`: rows
/// scaled to unit norm (norms below `tiny` left as they are), `1 - x.y` clipped to `[0, 2]`.
#[kernel(crate = kiln_runtime)]
pub(super) fn knn_cosine<F: Float>(q: Array2<F>, x: Array2<F>, k: usize, tiny: F) -> (Array2<F>, Array2<i64>) {
    let (n, d) = q.dim();
    let m = x.nrows();
    let nq = q.powi(2).sum_axis(Axis(1)).sqrt();
    let nx = x.powi(2).sum_axis(Axis(1)).sqrt();
    let qn = &q / select(nq < tiny, 1.0, nq).insert_axis(Axis(1));
    let xn = &x / select(nx < tiny, 1.0, nx).insert_axis(Axis(1));
    let dist = Array2::from_shape_fn((n, m), |(i, j)| (1.0 - sum(0..d, |l| qn[[i, l]] * xn[[j, l]])).clamp(0.0, 2.0));
    let (_, at) = dist.smallest_k_axis(Axis(1), k);
    let near = Array2::from_shape_fn((n, k), |(i, t)| {
        (1.0 - sum(0..d, |l| qn[[i, l]] * xn[[at[[i, t]] as usize, l]])).clamp(0.0, 2.0)
    });
    (near, at)
}

/// scikit-learn's removal of each training row from its own `k + 1` nearest: the row's own
/// index where it appears, else the first neighbour (more than `k` duplicates at distance 0).
#[kernel(crate = kiln_runtime)]
pub(super) fn drop_self<F: Float>(dist: Array2<F>, at: Array2<i64>) -> (Array2<F>, Array2<i64>) {
    let (n, k1) = at.dim();
    let found = Array1::from_shape_fn(n, |i| min(0..k1, |t| select(at[[i, t]] == i as i64, t as i64, k1 as i64)));
    let gone = Array1::from_shape_fn(n, |i| select(found[[i]] == k1 as i64, 0, found[[i]]));
    let keep = Array2::from_shape_fn((n, k1 - 1), |(i, t)| t as i64 + select(t as i64 >= gone[[i]], 1, 0));
    let d = Array2::from_shape_fn((n, k1 - 1), |(i, t)| dist[[i, keep[[i, t]] as usize]]);
    let a = Array2::from_shape_fn((n, k1 - 1), |(i, t)| at[[i, keep[[i, t]] as usize]]);
    (d, a)
}

/// Euclidean distances from rows `start..start + len` of `q` to every row of `x`.
#[kernel(crate = kiln_runtime)]
pub(super) fn dist_euclidean<F: Float>(q: Array2<F>, x: Array2<F>, start: usize, len: usize) -> Array2<F> {
    let d = q.ncols();
    let m = x.nrows();
    Array2::from_shape_fn((len, m), |(i, j)| sum(0..d, |l| (q[[start + i, l]] - x[[j, l]]).powi(2)).sqrt())
}

/// Manhattan distances from rows `start..start + len` of `q` to every row of `x`.
#[kernel(crate = kiln_runtime)]
pub(super) fn dist_manhattan<F: Float>(q: Array2<F>, x: Array2<F>, start: usize, len: usize) -> Array2<F> {
    let d = q.ncols();
    let m = x.nrows();
    Array2::from_shape_fn((len, m), |(i, j)| sum(0..d, |l| (q[[start + i, l]] - x[[j, l]]).abs()))
}

/// Chebyshev distances from rows `start..start + len` of `q` to every row of `x`.
#[kernel(crate = kiln_runtime)]
pub(super) fn dist_chebyshev<F: Float>(q: Array2<F>, x: Array2<F>, start: usize, len: usize) -> Array2<F> {
    let d = q.ncols();
    let m = x.nrows();
    Array2::from_shape_fn((len, m), |(i, j)| max(0..d, |l| (q[[start + i, l]] - x[[j, l]]).abs()))
}

/// Minkowski distances of power `p` from rows `start..start + len` of `q` to every row of `x`.
#[kernel(crate = kiln_runtime)]
pub(super) fn dist_minkowski<F: Float>(q: Array2<F>, x: Array2<F>, start: usize, len: usize, p: F) -> Array2<F> {
    let d = q.ncols();
    let m = x.nrows();
    Array2::from_shape_fn((len, m), |(i, j)| sum(0..d, |l| (q[[start + i, l]] - x[[j, l]]).abs().powf(p)).powf(1.0 / p))
}

/// Cosine distances (as [`knn_cosine`]) from rows `start..start + len` of `q` to every row of `x`.
#[kernel(crate = kiln_runtime)]
pub(super) fn dist_cosine<F: Float>(q: Array2<F>, x: Array2<F>, start: usize, len: usize, tiny: F) -> Array2<F> {
    let d = q.ncols();
    let m = x.nrows();
    let nq = q.powi(2).sum_axis(Axis(1)).sqrt();
    let nx = x.powi(2).sum_axis(Axis(1)).sqrt();
    let qn = &q / select(nq < tiny, 1.0, nq).insert_axis(Axis(1));
    let xn = &x / select(nx < tiny, 1.0, nx).insert_axis(Axis(1));
    Array2::from_shape_fn((len, m), |(i, j)| (1.0 - sum(0..d, |l| qn[[start + i, l]] * xn[[j, l]])).clamp(0.0, 2.0))
}

/// Class probabilities of each query from its neighbours' labels (`y[at]`), weighted by 1 or,
/// when `distance > 0`, by the inverse distance (a query with neighbours at distance 0 counts
/// only those, with weight 1: scikit-learn's `_get_weights`); normalized by their sum (a zero
/// sum left as 1). Also the most likely class (the first of equal weights).
#[kernel(crate = kiln_runtime)]
pub(super) fn vote<F: Float>(
    dist: Array2<F>,
    at: Array2<i64>,
    y: Array1<i64>,
    classes: Array1<i64>,
    distance: i64,
) -> (Array2<F>, Array1<i64>) {
    let (n, k) = at.dim();
    let c = classes.len();
    let exact = Array1::from_shape_fn(n, |i| max(0..k, |t| select(dist[[i, t]] == 0.0, 1.0 as F, 0.0 as F)));
    let w = Array2::from_shape_fn((n, k), |(i, t)| {
        if distance > 0 {
            select(exact[[i]] > 0.0, select(dist[[i, t]] == 0.0, 1.0 as F, 0.0 as F), 1.0 / dist[[i, t]])
        } else {
            1.0
        }
    });
    let raw = Array2::from_shape_fn((n, c), |(i, j)| {
        sum(0..k, |t| select(y[[at[[i, t]] as usize]] == classes[[j]], w[[i, t]], 0.0))
    });
    let norm = raw.sum_axis(Axis(1));
    let proba = &raw / select(norm == 0.0, 1.0, norm).insert_axis(Axis(1));
    let best = raw.argmax_axis(Axis(1));
    let labels = Array1::from_shape_fn(n, |i| classes[[best[[i]]]]);
    (proba, labels)
}

/// The mean of each query's neighbours' targets (`y[at]`), weighted as [`vote`] weights them:
/// `sum(y w) / sum(w)` (the plain mean, `sum(y) / k`, when uniform).
#[kernel(crate = kiln_runtime)]
pub(super) fn regress<F: Float>(dist: Array2<F>, at: Array2<i64>, y: Array1<F>, distance: i64) -> Array1<F> {
    let (n, k) = at.dim();
    let exact = Array1::from_shape_fn(n, |i| max(0..k, |t| select(dist[[i, t]] == 0.0, 1.0 as F, 0.0 as F)));
    Array1::from_shape_fn(n, |i| {
        if distance > 0 {
            sum(0..k, |t| {
                y[[at[[i, t]] as usize]]
                    * select(exact[[i]] > 0.0, select(dist[[i, t]] == 0.0, 1.0 as F, 0.0 as F), 1.0 / dist[[i, t]])
            }) / sum(0..k, |t| {
                select(exact[[i]] > 0.0, select(dist[[i, t]] == 0.0, 1.0 as F, 0.0 as F), 1.0 / dist[[i, t]])
            })
        } else {
            sum(0..k, |t| y[[at[[i, t]] as usize]]) / (k as F)
        }
    })
}

/// A copy of the training rows, kept where they are (scikit-learn's `_fit_X`).
#[kernel(crate = kiln_runtime)]
pub(super) fn copy<F: Float>(x: Array2<F>) -> Array2<F> {
    x.clone()
}
