//! Reductions along axes and over whole arrays, against plain-Rust loops.

use kiln::ndarray::{Array1, Array2, Axis as NdAxis};
use kiln::prelude::*;
use kiln_tests::{assert_close, assert_close_scalar, Rng, SHAPES};

/// numpy-style argmin/argmax of a sequence: first occurrence, first NaN wins.
fn arg_best(v: impl Iterator<Item = f64>, better: fn(f64, f64) -> bool) -> i64 {
    let mut best: Option<(usize, f64)> = None;
    for (i, x) in v.enumerate() {
        best = match best {
            None => Some((i, x)),
            Some((_, b)) if b.is_nan() => best,
            Some(_) if x.is_nan() || better(x, best.unwrap().1) => Some((i, x)),
            _ => best,
        };
    }
    best.map(|(i, _)| i as i64).unwrap_or(-1)
}

#[kernel]
fn sums(x: Array2<f64>) -> (Array1<f64>, Array1<f64>, f64) {
    (x.sum_axis(Axis(0)), x.sum_axis(Axis(1)), x.sum())
}

pub fn sum_axes_and_all() {
    let mut rng = Rng::new(20);
    for (n, d) in SHAPES {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let (s0, s1, s) = sums(&x).unwrap();
        let col = Array1::from_shape_fn(d, |j| (0..n).map(|i| x[[i, j]]).sum());
        let row = Array1::from_shape_fn(n, |i| (0..d).map(|j| x[[i, j]]).sum());
        assert_close(&s0, &col, "sum_axis(0)");
        assert_close(&s1, &row, "sum_axis(1)");
        assert_close_scalar(s, x.iter().sum(), "sum()");
    }
}

#[kernel]
fn means(x: Array2<f32>) -> (Array1<f32>, f32) {
    (x.mean_axis(Axis(1)), x.mean())
}

pub fn mean_axis_and_all() {
    let mut rng = Rng::new(21);
    for (n, d) in SHAPES.into_iter().filter(|(n, d)| n * d > 0) {
        let x = rng.arr2_f32(n, d, 0.0, 10.0);
        let (m1, m) = means(&x).unwrap();
        let row = Array1::from_shape_fn(n, |i| (0..d).map(|j| x[[i, j]]).sum::<f32>() / d as f32);
        assert_close(&m1, &row, "mean_axis(1)");
        assert_close_scalar(m, x.iter().sum::<f32>() / (n * d) as f32, "mean()");
    }
}

#[kernel]
fn prods(x: Array2<f64>) -> (Array1<f64>, f64) {
    (x.prod_axis(Axis(0)), x.prod())
}

pub fn prod_axis_and_all() {
    let mut rng = Rng::new(22);
    for (n, d) in SHAPES {
        let x = rng.arr2_f64(n, d, 0.5, 1.5);
        let (p0, p) = prods(&x).unwrap();
        let col = Array1::from_shape_fn(d, |j| (0..n).map(|i| x[[i, j]]).product());
        assert_close(&p0, &col, "prod_axis(0) (empty product is 1)");
        assert_close_scalar(p, x.iter().product(), "prod()");
    }
}

#[kernel]
fn extremes(x: Array2<f64>) -> (Array1<f64>, Array1<f64>, f64, f64) {
    (x.min_axis(Axis(1)), x.max_axis(Axis(0)), x.min(), x.max())
}

pub fn min_max_axes_and_all() {
    let mut rng = Rng::new(23);
    for (n, d) in SHAPES {
        let x = rng.arr2_f64(n, d, -5.0, 5.0);
        let (mn1, mx0, mn, mx) = extremes(&x).unwrap();
        let row_min = Array1::from_shape_fn(n, |i| (0..d).map(|j| x[[i, j]]).fold(f64::INFINITY, f64::min));
        let col_max = Array1::from_shape_fn(d, |j| (0..n).map(|i| x[[i, j]]).fold(f64::NEG_INFINITY, f64::max));
        assert_close(&mn1, &row_min, "min_axis(1) (empty min is +inf)");
        assert_close(&mx0, &col_max, "max_axis(0) (empty max is -inf)");
        assert_close_scalar(mn, x.iter().copied().fold(f64::INFINITY, f64::min), "min()");
        assert_close_scalar(mx, x.iter().copied().fold(f64::NEG_INFINITY, f64::max), "max()");
    }
}

#[kernel]
fn int_reductions(x: Array2<i64>) -> (Array1<i64>, Array1<i64>, i64) {
    (x.sum_axis(Axis(1)), x.max_axis(Axis(0)), x.min())
}

pub fn i64_reductions() {
    let mut rng = Rng::new(24);
    for (n, d) in SHAPES {
        let x = rng.arr2_i64(n, d, -1000, 1000);
        let (s1, mx0, mn) = int_reductions(&x).unwrap();
        assert_close(&s1, &Array1::from_shape_fn(n, |i| (0..d).map(|j| x[[i, j]]).sum()), "sum_axis(1)");
        assert_close(&mx0, &Array1::from_shape_fn(d, |j| (0..n).map(|i| x[[i, j]]).max().unwrap_or(i64::MIN)), "max");
        assert_close_scalar(mn, x.iter().copied().min().unwrap_or(i64::MAX), "min()");
    }
}

#[kernel]
fn args(x: Array2<f64>) -> (Array1<i64>, Array1<i64>) {
    (x.argmin_axis(Axis(1)), x.argmax_axis(Axis(0)))
}

pub fn argmin_argmax_axes() {
    let mut rng = Rng::new(25);
    for (n, d) in SHAPES.into_iter().filter(|(n, d)| n * d > 0) {
        // Few distinct values, so ties happen and first-occurrence matters.
        let x = rng.arr2_f64(n, d, 0.0, 3.0).mapv(f64::floor);
        let (amin, amax) = args(&x).unwrap();
        let want_min = Array1::from_shape_fn(n, |i| arg_best((0..d).map(|j| x[[i, j]]), |a, b| a < b));
        let want_max = Array1::from_shape_fn(d, |j| arg_best((0..n).map(|i| x[[i, j]]), |a, b| a > b));
        assert_close(&amin, &want_min, "argmin_axis(1)");
        assert_close(&amax, &want_max, "argmax_axis(0)");
    }
}

pub fn argmin_nan_wins() {
    let x = Array2::from_shape_vec((2, 4), vec![3.0, f64::NAN, 1.0, f64::NAN, 2.0, 0.5, 0.5, 9.0]).unwrap();
    let (amin, amax) = args(&x).unwrap();
    assert_eq!(amin.to_vec(), vec![1, 1], "argmin returns the first NaN, then the first minimum");
    assert_eq!(amax.to_vec(), vec![0, 0, 0, 0], "argmax down columns: NaN in row 0 wins columns 1 and 3");
}

#[kernel]
fn whole_args(x: Array2<f32>) -> (i64, i64) {
    (x.argmin(), x.argmax())
}

pub fn argmin_argmax_whole_array_flat_index() {
    let mut rng = Rng::new(26);
    for (n, d) in SHAPES.into_iter().filter(|(n, d)| n * d > 0) {
        let x = rng.arr2_f32(n, d, -1.0, 1.0);
        let (amin, amax) = whole_args(&x).unwrap();
        let flat: Vec<f64> = x.iter().map(|v| *v as f64).collect();
        assert_eq!(amin, arg_best(flat.iter().copied(), |a, b| a < b), "argmin() is a row-major flat index");
        assert_eq!(amax, arg_best(flat.iter().copied(), |a, b| a > b));
    }
}

#[kernel]
fn lse(x: Array2<f64>) -> (Array1<f64>, f64) {
    (x.logsumexp_axis(Axis(1)), x.logsumexp())
}

pub fn logsumexp_axis_and_all() {
    let mut rng = Rng::new(27);
    for (n, d) in SHAPES.into_iter().filter(|(n, d)| n * d > 0) {
        let x = rng.arr2_f64(n, d, -800.0, 800.0);
        let (l1, l) = lse(&x).unwrap();
        let reference = |v: &[f64]| {
            let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
        };
        let rows = Array1::from_shape_fn(n, |i| reference(&x.row(i).to_vec()));
        assert_close(&l1, &rows, "logsumexp_axis(1) without overflow");
        assert_close_scalar(l, reference(&x.iter().copied().collect::<Vec<_>>()), "logsumexp()");
    }
    let all_neg_inf = Array2::from_elem((2, 3), f64::NEG_INFINITY);
    let (l1, _) = lse(&all_neg_inf).unwrap();
    assert_eq!(l1.to_vec(), vec![f64::NEG_INFINITY; 2], "logsumexp of only -inf is -inf (numpy)");
}

#[kernel]
fn spread(x: Array2<f64>) -> (Array1<f64>, Array1<f64>, f64) {
    (x.var_axis(Axis(0), 0.0), x.std_axis(Axis(0), 1.0), x.var(1.0))
}

pub fn var_std_ddof() {
    let mut rng = Rng::new(28);
    for (n, d) in [(2, 3), (5, 1), (7, 9)] {
        let x = rng.arr2_f64(n, d, -3.0, 3.0);
        let (v0, s1, v) = spread(&x).unwrap();
        let col_var = |j: usize, ddof: f64| {
            let m = (0..n).map(|i| x[[i, j]]).sum::<f64>() / n as f64;
            (0..n).map(|i| (x[[i, j]] - m).powi(2)).sum::<f64>() / (n as f64 - ddof)
        };
        assert_close(&v0, &Array1::from_shape_fn(d, |j| col_var(j, 0.0)), "var_axis(0, ddof=0)");
        assert_close(&s1, &Array1::from_shape_fn(d, |j| col_var(j, 1.0).sqrt()), "std_axis(0, ddof=1)");
        let m = x.iter().sum::<f64>() / (n * d) as f64;
        let want = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / ((n * d) as f64 - 1.0);
        assert_close_scalar(v, want, "var(ddof=1)");
    }
}

#[kernel]
fn rank3(x: Array3<f64>) -> (Array2<f64>, Array2<f64>, Array1<f64>) {
    (x.sum_axis(Axis(1)), x.max_axis(Axis(2)), x.sum_axis(Axis(0)).sum_axis(Axis(0)))
}

pub fn rank3_reductions() {
    let mut rng = Rng::new(29);
    for (a, b, c) in [(0, 2, 3), (1, 1, 1), (2, 3, 4), (3, 0, 2)] {
        let x = rng.arr3_f64(a, b, c, -1.0, 1.0);
        let (s1, m2, s01) = rank3(&x).unwrap();
        assert_close(&s1, &x.sum_axis(NdAxis(1)), "sum over axis 1 (ndarray's own loop as reference)");
        let want_m2 =
            Array2::from_shape_fn((a, b), |(i, j)| (0..c).map(|k| x[[i, j, k]]).fold(f64::NEG_INFINITY, f64::max));
        assert_close(&m2, &want_m2, "max over axis 2");
        let want = Array1::from_shape_fn(c, |k| {
            (0..a).flat_map(|i| (0..b).map(move |j| (i, j))).map(|(i, j)| x[[i, j, k]]).sum()
        });
        assert_close(&s01, &want, "sum over axes 0 and 1");
    }
}

#[kernel]
fn standardize<F: Float>(x: Array2<F>) -> Array2<F> {
    let mean = x.mean_axis(Axis(0));
    let std = ((&x - &mean).powi(2)).mean_axis(Axis(0)).sqrt();
    (x - mean) / std
}

pub fn standardize_generic_f32_and_f64() {
    let mut rng = Rng::new(30);
    for (n, d) in [(2, 3), (5, 1), (9, 7)] {
        let x = rng.arr2_f64(n, d, -3.0, 3.0);
        let mean = Array1::from_shape_fn(d, |j| (0..n).map(|i| x[[i, j]]).sum::<f64>() / n as f64);
        let std = Array1::from_shape_fn(d, |j| {
            ((0..n).map(|i| (x[[i, j]] - mean[j]).powi(2)).sum::<f64>() / n as f64).sqrt()
        });
        let want = Array2::from_shape_fn((n, d), |(i, j)| (x[[i, j]] - mean[j]) / std[j]);
        assert_close(&standardize(&x).unwrap(), &want, "standardize f64");
        // f32 reference computed in f32 by the same loops.
        let x32 = x.mapv(|v| v as f32);
        let mean32 = Array1::from_shape_fn(d, |j| (0..n).map(|i| x32[[i, j]]).sum::<f32>() / n as f32);
        let std32 = Array1::from_shape_fn(d, |j| {
            ((0..n).map(|i| (x32[[i, j]] - mean32[j]).powi(2)).sum::<f32>() / n as f32).sqrt()
        });
        let want32 = Array2::from_shape_fn((n, d), |(i, j)| (x32[[i, j]] - mean32[j]) / std32[j]);
        assert_close(&standardize(&x32).unwrap(), &want32, "standardize f32");
    }
}
