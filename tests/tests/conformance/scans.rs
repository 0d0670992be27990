//! Scans along an axis (`cumsum`, `cumprod`, `cummax`, `cummin`) against plain-Rust prefix
//! folds, on empty, length-1 and long axes (longer than the 64 chunks of the blocked order),
//! on strided views, and bit for bit against the interpreter, whose blocked order every
//! device follows.

use kiln::ndarray::{Array2, ArrayView2, Axis as NdAxis};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng, SHAPES};

/// The sequential inclusive prefix fold of every lane of `x` along `axis`.
fn prefix<T: Copy>(x: ArrayView2<'_, T>, axis: usize, f: impl Fn(T, T) -> T) -> Array2<T> {
    let mut out = x.to_owned();
    for mut lane in out.lanes_mut(NdAxis(axis)) {
        for j in 1..lane.len() {
            lane[j] = f(lane[j - 1], lane[j]);
        }
    }
    out
}

#[kernel]
fn cumsums(x: Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    (x.cumsum(Axis(0)), x.cumsum(Axis(1)))
}

pub fn cumsum_both_axes() {
    let mut rng = Rng::new(60);
    for (n, d) in SHAPES.into_iter().chain([(300, 2), (2, 200)]) {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let (s0, s1) = cumsums(&x).unwrap();
        assert_close(&s0, &prefix(x.view(), 0, |a, b| a + b), "cumsum(Axis(0))");
        assert_close(&s1, &prefix(x.view(), 1, |a, b| a + b), "cumsum(Axis(1))");
    }
}

#[kernel]
fn running(x: Array2<f64>) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
    (x.cumprod(Axis(1)), x.cummax(Axis(0)), x.cummin(Axis(1)))
}

pub fn cumprod_cummax_cummin() {
    let mut rng = Rng::new(61);
    for (n, d) in SHAPES.into_iter().chain([(150, 3)]) {
        let x = rng.arr2_f64(n, d, 0.5, 1.5);
        let (p, mx, mn) = running(&x).unwrap();
        assert_close(&p, &prefix(x.view(), 1, |a, b| a * b), "cumprod(Axis(1))");
        assert_eq!(mx, prefix(x.view(), 0, f64::max), "cummax(Axis(0))");
        assert_eq!(mn, prefix(x.view(), 1, f64::min), "cummin(Axis(1))");
    }
}

#[kernel]
fn int_scans(x: Array2<i64>) -> (Array2<i64>, Array2<i64>) {
    (x.cumsum(Axis(0)), x.cummax(Axis(1)))
}

pub fn i64_scans_are_exact() {
    let mut rng = Rng::new(62);
    for (n, d) in SHAPES.into_iter().chain([(500, 2)]) {
        let x = rng.arr2_i64(n, d, -1000, 1000);
        let (s, m) = int_scans(&x).unwrap();
        assert_eq!(s, prefix(x.view(), 0, |a, b| a + b), "cumsum(Axis(0))");
        assert_eq!(m, prefix(x.view(), 1, i64::max), "cummax(Axis(1))");
    }
}

#[kernel]
fn cumsum_of_squares(x: Array2<f32>) -> Array2<f32> {
    (&x * &x).cumsum(Axis(0))
}

pub fn f32_cumsum_bits_match_the_interpreter_on_strided_views() {
    let mut rng = Rng::new(63);
    let x = rng.arr2_f32(1000, 3, -2.0, 2.0);
    // A transposed view and a stepped slice: strides other than the row-major ones.
    let t = x.t().to_owned();
    let tv = t.t();
    let stepped = x.slice_axis(NdAxis(0), kiln::ndarray::Slice::new(0, None, 2));
    for v in [x.view(), tv, stepped] {
        let got = cumsum_of_squares(v).unwrap();
        let want = kiln::with_device(kiln::Device::Interp, || cumsum_of_squares(v).unwrap());
        let bits = |a: &Array2<f32>| a.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "cumsum bits differ from the interpreter's");
        let sq = v.mapv(|a| f64::from(a * a));
        let r = prefix(sq.view(), 0, |a, b| a + b).mapv(|a| a as f32);
        assert_close(&got, &r, "cumsum of squares");
    }
}

#[kernel]
fn cumsum_1d(x: Array1<f32>) -> Array1<f32> {
    x.cumsum(Axis(0))
}

pub fn cumsum_1d_empty_single_and_long() {
    let mut rng = Rng::new(64);
    for n in [0, 1, 63, 64, 65, 4097] {
        let x = rng.arr1_f32(n, -1.0, 1.0);
        let got = cumsum_1d(&x).unwrap();
        let mut acc = 0.0f64;
        let want = x.mapv(|a| {
            acc += f64::from(a);
            acc as f32
        });
        assert_eq!(got.len(), n);
        assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 1e-4 * (1.0 + w.abs())), "n = {n}");
    }
}
