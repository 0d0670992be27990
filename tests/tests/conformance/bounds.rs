//! Reduction ranges whose bounds depend on an outer index: triangles (`sum(0..i + 1, ..)`,
//! `max(0..=i, ..)`), suffixes (`sum(i..n, ..)`) and bands (`sum(i..i + w, ..)`), against
//! plain-Rust loops, with empty and length-1 axes and strided inputs.

use kiln::ndarray::{s, Array1, Array2};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng};

#[kernel]
fn running(x: Array1<f64>) -> (Array1<f64>, Array1<f64>, Array1<f64>) {
    let n = x.len();
    let cumsum = Array1::from_shape_fn(n, |i| sum(0..i + 1, |j| x[j]));
    let cummax = Array1::from_shape_fn(n, |i| max(0..=i, |j| x[j]));
    let suffix = Array1::from_shape_fn(n, |i| sum(i..n, |j| x[j]));
    (cumsum, cummax, suffix)
}

pub fn lower_triangular_cumulative_sum_and_max() {
    let mut rng = Rng::new(160);
    let check = |x: kiln::ndarray::ArrayView1<f64>, what: &str| {
        let n = x.len();
        let cumsum = Array1::from_shape_fn(n, |i| (0..=i).fold(0.0, |a, j| a + x[j]));
        let cummax = Array1::from_shape_fn(n, |i| (0..=i).fold(f64::NEG_INFINITY, |a, j| a.max(x[j])));
        let suffix = Array1::from_shape_fn(n, |i| (i..n).fold(0.0, |a, j| a + x[j]));
        let (c, m, sfx) = running(x).unwrap();
        assert_close(&c, &cumsum, &format!("cumsum {what}"));
        assert_close(&m, &cummax, &format!("cummax {what}"));
        assert_close(&sfx, &suffix, &format!("suffix {what}"));
    };
    for n in [0usize, 1, 2, 9, 40] {
        let x = rng.arr1_f64(n, -3.0, 3.0);
        check(x.view(), &format!("of {n}"));
    }
    let long = rng.arr1_f64(17, -3.0, 3.0);
    check(long.slice(s![..;-2]), "of a reversed strided view");
}

#[kernel]
fn window_sums(x: Array1<i32>, w: usize) -> (Array1<i32>, Array1<i32>) {
    let n = x.len();
    let sums = Array1::from_shape_fn(n + 1 - w, |i| sum(i..i + w, |j| x[j]));
    let mins = Array1::from_shape_fn(n, |i| min(0..i + 1, |j| x[j]));
    (sums, mins)
}

pub fn banded_window_sums_and_an_integer_running_min() {
    let mut rng = Rng::new(161);
    for (n, w) in [(0usize, 0usize), (1, 1), (1, 0), (5, 2), (12, 5), (12, 12)] {
        let x = rng.arr1_i32(n, -50, 50);
        let sums = Array1::from_shape_fn(n + 1 - w, |i| x.slice(s![i..i + w]).sum());
        let mins = Array1::from_shape_fn(n, |i| *x.slice(s![..=i]).iter().min().unwrap());
        let (s_, m) = window_sums(&x, w).unwrap();
        assert_eq!(s_, sums, "window sums n={n} w={w}");
        assert_eq!(m, mins, "running min n={n}");
    }
    let long = rng.arr1_i32(20, -50, 50);
    let v = long.slice(s![1..;3]);
    let (s_, _) = window_sums(v, 3).unwrap();
    assert_eq!(s_, Array1::from_shape_fn(5, |i| v.slice(s![i..i + 3]).sum()), "windows of a strided view");
    // A window wider than the array: `n + 1 - w` is negative, a typed error naming it.
    let err = window_sums(&Array1::<i32>::zeros(2), 4).unwrap_err().to_string();
    assert!(err.contains("extent `(n + 1) - w` is negative"), "{err}");
}

#[kernel]
fn gram_lower_rows(x: Array2<f32>) -> Array1<f32> {
    let (n, d) = x.dim();
    Array1::from_shape_fn(n, |i| sum(0..=i, |j| sum(0..d, |l| x[[i, l]] * x[[j, l]])))
}

pub fn symmetric_gram_computes_one_triangle() {
    let mut rng = Rng::new(162);
    let reference = |x: &Array2<f32>| {
        let n = x.nrows();
        let g = Array2::from_shape_fn((n, n), |(i, j)| x.row(i).dot(&x.row(j)));
        Array1::from_shape_fn(n, |i| (0..=i).fold(0.0f32, |a, j| a + g[[i, j]]))
    };
    for (n, d) in [(0usize, 3usize), (1, 1), (3, 0), (6, 4), (19, 7)] {
        let x = rng.arr2_f32(n, d, -1.0, 1.0);
        assert_close(&gram_lower_rows(&x).unwrap(), &reference(&x), &format!("gram triangle {n}x{d}"));
    }
    let xt = rng.arr2_f32(5, 8, -1.0, 1.0);
    let v = xt.t().to_owned();
    assert_close(&gram_lower_rows(xt.t()).unwrap(), &reference(&v), "gram triangle of a transposed view");
}
