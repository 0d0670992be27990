//! `from_shape_fn` comprehensions, range reductions, `dot`, gathers, `if`/`else` and tuple
//! outputs, against plain-Rust loops.

use kiln::ndarray::{Array1, Array2};
use kiln::prelude::*;
use kiln_tests::{assert_close, assert_close_scalar, Rng, SHAPES};

#[kernel]
fn nearest(x: Array2<f32>, c: Array2<f32>) -> (Array1<i64>, Array1<f32>) {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    // index comprehension: no n*k*d temporary is ever built
    let dist = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
    (dist.argmin_axis(Axis(1)), dist.min_axis(Axis(1)))
}

pub fn nearest_centroid() {
    let mut rng = Rng::new(40);
    let check = |x: kiln::ndarray::ArrayView2<f32>, c: &Array2<f32>| {
        let ((n, d), k) = (x.dim(), c.nrows());
        let (label, dist) = nearest(x, c).unwrap();
        for i in 0..n {
            let dists: Vec<f32> = (0..k).map(|j| (0..d).map(|l| (x[[i, l]] - c[[j, l]]).powi(2)).sum()).collect();
            let best = (0..k).fold(0, |b, j| if dists[j] < dists[b] { j } else { b });
            assert_eq!(label[i], best as i64, "label of row {i}");
            assert_close_scalar(dist[i], dists[best], "distance");
        }
        assert_eq!(label.len(), n);
    };
    for (n, k, d) in [(1, 1, 1), (7, 3, 5), (33, 4, 2), (0, 2, 3), (70, 5, 9)] {
        let (x, c) = (rng.arr2_f32(n, d, -1.0, 1.0), rng.arr2_f32(k, d, -1.0, 1.0));
        check(x.view(), &c);
    }
    // Column-major points (the layout the CPU's vector loop over rows reads; a row-major `x`
    // is copied into it) and every other row of a larger matrix.
    let (xt, c) = (rng.arr2_f32(6, 45, -1.0, 1.0), rng.arr2_f32(4, 6, -1.0, 1.0));
    check(xt.t(), &c);
    let x = rng.arr2_f32(90, 6, -1.0, 1.0);
    check(x.slice(kiln::ndarray::s![..;2, ..]), &c);
}

#[kernel]
fn matmul(a: Array2<f64>, b: Array2<f64>) -> Array2<f64> {
    a.dot(&b)
}

pub fn dot_matrix_matrix() {
    let mut rng = Rng::new(41);
    for (n, k, m) in [(0, 2, 3), (1, 1, 1), (3, 0, 2), (5, 7, 3), (9, 4, 11)] {
        let (a, b) = (rng.arr2_f64(n, k, -1.0, 1.0), rng.arr2_f64(k, m, -1.0, 1.0));
        let want = Array2::from_shape_fn((n, m), |(i, j)| (0..k).map(|l| a[[i, l]] * b[[l, j]]).sum());
        assert_close(&matmul(&a, &b).unwrap(), &want, "a.dot(b)");
    }
}

pub fn dot_transposed_views() {
    let mut rng = Rng::new(42);
    let (a, b) = (rng.arr2_f64(4, 6, -1.0, 1.0), rng.arr2_f64(5, 4, -1.0, 1.0));
    let want = Array2::from_shape_fn((6, 5), |(i, j)| (0..4).map(|l| a[[l, i]] * b[[j, l]]).sum());
    assert_close(&matmul(a.t(), b.t()).unwrap(), &want, "a.t().dot(b.t()) on strided views");
}

#[kernel]
fn matvec(a: Array2<f32>, v: Array1<f32>, w: Array1<f32>) -> (Array1<f32>, f32) {
    (a.dot(&v), dot(v, w))
}

pub fn dot_matrix_vector_and_vector_vector() {
    let mut rng = Rng::new(43);
    for (n, d) in SHAPES {
        let (a, v, w) = (rng.arr2_f32(n, d, -1.0, 1.0), rng.arr1_f32(d, -1.0, 1.0), rng.arr1_f32(d, -1.0, 1.0));
        let (av, vw) = matvec(&a, &v, &w).unwrap();
        assert_close(&av, &Array1::from_shape_fn(n, |i| (0..d).map(|j| a[[i, j]] * v[j]).sum()), "a.dot(v)");
        assert_close_scalar(vw, (0..d).map(|j| v[j] * w[j]).sum(), "dot(v, w)");
    }
}

#[kernel]
fn gather_rows(x: Array2<f64>, idx: Array1<i64>) -> Array2<f64> {
    let (_, d) = x.dim();
    let m = idx.len();
    Array2::from_shape_fn((m, d), |(i, j)| x[[idx[i], j]])
}

pub fn gather_in_range() {
    let mut rng = Rng::new(44);
    for (n, d) in [(1, 1), (5, 3), (9, 0)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let idx = rng.arr1_i64(7, 0, n as i64);
        let want = Array2::from_shape_fn((7, d), |(i, j)| x[[idx[i] as usize, j]]);
        assert_close(&gather_rows(&x, &idx).unwrap(), &want, "x[[idx[i], j]]");
    }
}

pub fn gather_out_of_range_is_an_error() {
    let x = Array2::<f64>::zeros((3, 2));
    for bad in [3i64, -1, i64::MAX] {
        let idx = Array1::from(vec![0, bad, 1]);
        let err = gather_rows(&x, &idx).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, kiln::Error::IndexOutOfBounds { .. }), "{msg}");
        assert!(msg.contains(&bad.to_string()) && msg.contains("x"), "message names index and array: {msg}");
    }
}

#[kernel]
fn shifted_diff(x: Array1<f64>) -> Array1<f64> {
    let n = x.len();
    Array1::from_shape_fn(n, |i| if i > 0 { x[[i]] - x[[i - 1]] } else { 0.0 })
}

pub fn if_else_guards_an_index() {
    let mut rng = Rng::new(45);
    for n in [0, 1, 2, 9] {
        let x = rng.arr1_f64(n, -1.0, 1.0);
        let want = Array1::from_shape_fn(n, |i| if i > 0 { x[i] - x[i - 1] } else { 0.0 });
        assert_close(&shifted_diff(&x).unwrap(), &want, "guarded x[i-1]");
    }
}

#[kernel]
fn row_stats(x: Array2<f64>) -> (Array1<f64>, Array1<f64>, Array1<i64>, Array1<f64>) {
    let (n, d) = x.dim();
    (
        Array1::from_shape_fn(n, |i| sum(0..d, |j| x[[i, j]] * x[[i, j]]).sqrt()),
        Array1::from_shape_fn(n, |i| max(0..d, |j| x[[i, j]].abs())),
        Array1::from_shape_fn(n, |i| argmin(0..d, |j| x[[i, j]])),
        Array1::from_shape_fn(n, |i| prod(0..d, |j| x[[i, j]] + 2.0) + min(0..d, |j| x[[i, j]])),
    )
}

pub fn range_reductions_in_comprehensions() {
    let mut rng = Rng::new(46);
    for (n, d) in SHAPES.into_iter().filter(|(_, d)| *d > 0) {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let (norm, amax, amin, pm) = row_stats(&x).unwrap();
        let x = &x;
        let row = move |i: usize| (0..d).map(move |j| x[[i, j]]);
        assert_close(&norm, &Array1::from_shape_fn(n, |i| row(i).map(|v| v * v).sum::<f64>().sqrt()), "norm");
        assert_close(
            &amax,
            &Array1::from_shape_fn(n, |i| row(i).map(f64::abs).fold(f64::NEG_INFINITY, f64::max)),
            "max",
        );
        let first_min = |i: usize| (0..d).fold(0, |b, j| if x[[i, j]] < x[[i, b]] { j } else { b }) as i64;
        assert_close(&amin, &Array1::from_shape_fn(n, first_min), "argmin");
        let want_pm = Array1::from_shape_fn(n, |i| {
            row(i).map(|v| v + 2.0).product::<f64>() + row(i).fold(f64::INFINITY, f64::min)
        });
        assert_close(&pm, &want_pm, "prod + min");
    }
}

#[kernel]
fn pairwise_l1(a: Array2<f32>, b: Array2<f32>) -> Array2<f32> {
    let (n, d) = a.dim();
    let (m, _) = b.dim();
    Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| (a[[i, l]] - b[[j, l]]).abs()))
}

pub fn pairwise_manhattan() {
    let mut rng = Rng::new(47);
    for (n, m, d) in [(3, 4, 5), (1, 1, 1), (0, 3, 2), (6, 2, 0)] {
        let (a, b) = (rng.arr2_f32(n, d, -1.0, 1.0), rng.arr2_f32(m, d, -1.0, 1.0));
        let want = Array2::from_shape_fn((n, m), |(i, j)| (0..d).map(|l| (a[[i, l]] - b[[j, l]]).abs()).sum());
        assert_close(&pairwise_l1(&a, &b).unwrap(), &want, "pairwise l1");
    }
}

#[kernel]
fn index_arith(n: i64, x: Array1<i32>) -> (Array1<i64>, Array1<i32>) {
    let m = x.len();
    (Array1::from_shape_fn(m, |i| i * 2 + n), Array1::from_shape_fn(m, |i| x[[m - 1 - i]]))
}

pub fn index_values_and_reversal() {
    let mut rng = Rng::new(48);
    for m in [0, 1, 6] {
        let x = rng.arr1_i32(m, -9, 9);
        let (lin, rev) = index_arith(10, &x).unwrap();
        assert_close(&lin, &Array1::from_shape_fn(m, |i| i as i64 * 2 + 10), "i*2+n");
        assert_close(&rev, &Array1::from_shape_fn(m, |i| x[m - 1 - i]), "x[m-1-i]");
    }
}

#[kernel]
fn row_contractions(x: Array2<f32>, r: Array2<f32>) -> (Array2<f32>, Array2<f32>) {
    let (n, d) = x.dim();
    let (_, k) = r.dim();
    // Both reduce over the rows `n` into a small `[d, k]`: the two-phase split of the schedule.
    let by_hand = Array2::from_shape_fn((d, k), |(i, j)| sum(0..n, |l| x[[l, i]] * r[[l, j]] + x[[l, i]]));
    (x.t().dot(&r), by_hand)
}

/// Contractions over the rows (`X^T R`, Gram matrices, gradients) with odd row counts: none,
/// one, fewer than the 64 chunks, one more than them, and a strided view.
pub fn contractions_over_rows() {
    let mut rng = Rng::new(48);
    let check = |x: kiln::ndarray::ArrayView2<f32>, r: kiln::ndarray::ArrayView2<f32>| {
        let ((n, d), k) = (x.dim(), r.ncols());
        let (g, h) = row_contractions(x, r).unwrap();
        let want = Array2::from_shape_fn((d, k), |(i, j)| (0..n).map(|l| x[[l, i]] * r[[l, j]]).sum::<f32>());
        let want_h =
            Array2::from_shape_fn((d, k), |(i, j)| (0..n).map(|l| x[[l, i]] * r[[l, j]] + x[[l, i]]).sum::<f32>());
        assert_close(&g, &want, &format!("x.t().dot(r) with {n} rows"));
        assert_close(&h, &want_h, &format!("from_shape_fn sum over {n} rows"));
    };
    for (n, d, k) in [(0, 3, 2), (1, 2, 3), (7, 3, 1), (65, 4, 3), (200, 5, 2)] {
        let (x, r) = (rng.arr2_f32(n, d, -1.0, 1.0), rng.arr2_f32(n, k, -1.0, 1.0));
        check(x.view(), r.view());
    }
    // Every other row of a larger matrix, and a transposed one: strided inputs.
    let (x, rt) = (rng.arr2_f32(130, 4, -1.0, 1.0), rng.arr2_f32(3, 65, -1.0, 1.0));
    check(x.slice(kiln::ndarray::s![..;2, ..]), rt.t());
}

#[kernel]
fn cluster_sums(x: Array2<f64>, labels: Array1<i64>, centers: Array2<f64>) -> (Array2<f64>, Array1<i64>) {
    let (n, d) = x.dim();
    let (k, _) = centers.dim();
    // One-hot sums over the rows: the schedule scatters each row into the one output row its
    // label names (a label outside 0..k names none).
    let sums = Array2::from_shape_fn((k, d), |(j, l)| sum(0..n, |i| select(labels[[i]] == j, x[[i, l]], 0.0)));
    let counts = Array1::from_shape_fn(k, |j| sum(0..n, |i| select(labels[[i]] == j, 1, 0)));
    (sums, counts)
}

/// Per-cluster sums and counts (KMeans' M-step) for row counts around the scatter's 16
/// chunks, labels outside `0..k` (which count nowhere), and strided inputs.
pub fn one_hot_sums_over_rows() {
    let mut rng = Rng::new(49);
    let check = |x: kiln::ndarray::ArrayView2<f64>, labels: kiln::ndarray::ArrayView1<i64>, k: usize| {
        let (n, d) = x.dim();
        let (sums, counts) = cluster_sums(x, labels, &Array2::zeros((k, d))).unwrap();
        let mut want = Array2::<f64>::zeros((k, d));
        let mut want_counts = Array1::<i64>::zeros(k);
        for i in 0..n {
            if let Ok(j) = usize::try_from(labels[i]) {
                if j < k {
                    want_counts[j] += 1;
                    for l in 0..d {
                        want[[j, l]] += x[[i, l]];
                    }
                }
            }
        }
        assert_close(&sums, &want, &format!("sums over {n} rows, k = {k}"));
        assert_eq!(counts, want_counts, "counts over {n} rows, k = {k}");
    };
    for (n, d, k) in [(0, 3, 2), (1, 2, 3), (15, 3, 1), (17, 4, 3), (200, 5, 4), (9, 0, 2), (5, 2, 0)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        // Labels from -1 to k: the ends are outside 0..k.
        let labels = rng.arr1_i64(n, -1, k as i64 + 1);
        check(x.view(), labels.view(), k);
    }
    let (xt, labels) = (rng.arr2_f64(3, 130, -1.0, 1.0), rng.arr1_i64(260, 0, 5));
    check(xt.t(), labels.slice(kiln::ndarray::s![..;2]), 5);
}
