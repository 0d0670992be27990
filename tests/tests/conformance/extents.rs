//! Sizes from scalars and size arithmetic: `from_shape_fn((n, k as usize), ..)` with an integer
//! or `usize` scalar parameter, indexing with a value (`logits[[i, labels[i] as usize]]`), and
//! computed extents (`d * d`, `n - 1`, `2 * k`, `n / 2`), each against a plain-Rust loop, with
//! empty and length-1 axes, strided inputs, and the typed errors Rust's panics become.

use kiln::ndarray::{s, Array1, Array2};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng};

#[kernel]
fn one_hot(labels: Array1<i64>, k: i64) -> Array2<f32> {
    let n = labels.len();
    Array2::from_shape_fn((n, k as usize), |(i, j)| if labels[i] == j as i64 { 1.0f32 } else { 0.0f32 })
}

#[kernel]
fn one_hot_usize(labels: Array1<i64>, k: usize) -> Array2<f64> {
    let n = labels.len();
    Array2::from_shape_fn((n, k), |(i, j)| if labels[i] == j as i64 { 1.0 } else { 0.0 })
}

pub fn one_hot_with_a_scalar_extent() {
    let mut rng = Rng::new(150);
    for (n, k) in [(0usize, 3usize), (1, 1), (5, 0), (7, 4), (33, 10)] {
        let labels = rng.arr1_i64(n, 0, k.max(1) as i64 - 1);
        let want = Array2::from_shape_fn((n, k), |(i, j)| f32::from(u8::from(labels[i] == j as i64)));
        assert_close(&one_hot(&labels, k as i64).unwrap(), &want, &format!("one_hot {n}x{k}"));
        let want64 = want.mapv(f64::from);
        assert_close(&one_hot_usize(&labels, k).unwrap(), &want64, &format!("one_hot_usize {n}x{k}"));
    }
    // A strided view of the labels.
    let long = rng.arr1_i64(11, 0, 2);
    let v = long.slice(s![..;3]);
    let want = Array2::from_shape_fn((4, 3), |(i, j)| f32::from(u8::from(v[i] == j as i64)));
    assert_close(&one_hot(v, 3).unwrap(), &want, "one_hot of a strided view");
}

pub fn negative_and_huge_scalar_extents_are_typed_errors() {
    let labels = Array1::from(vec![0i64, 1]);
    let err = one_hot(&labels, -3).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, kiln::Error::Bind(_)), "{msg}");
    assert!(msg.contains("extent `k` is negative") && msg.contains("k = -3"), "{msg}");
    // A `usize` past `i64::MAX`: too large to allocate, never a wrapped size (the CUDA
    // simulator reports the same frame error inside its backend error).
    let err = one_hot_usize(&labels, usize::MAX).unwrap_err().to_string();
    assert!(err.contains("(2, 9223372036854775807)") && err.contains("its size in bytes overflows"), "{err}");
}

#[kernel]
fn pick(logits: Array2<f32>, labels: Array1<i64>) -> Array1<f32> {
    let n = labels.len();
    Array1::from_shape_fn(n, |i| logits[[i, labels[i] as usize]])
}

pub fn gather_with_an_index_value() {
    let mut rng = Rng::new(151);
    for (n, c) in [(0usize, 1usize), (1, 1), (6, 3), (17, 5)] {
        let logits = rng.arr2_f32(n, c, -3.0, 3.0);
        let labels = rng.arr1_i64(n, 0, c as i64 - 1);
        let want = Array1::from_shape_fn(n, |i| logits[[i, labels[i] as usize]]);
        assert_close(&pick(&logits, &labels).unwrap(), &want, &format!("pick {n}x{c}"));
    }
    // Transposed logits (a strided view).
    let lt = rng.arr2_f32(4, 6, -3.0, 3.0);
    let labels = Array1::from(vec![3i64, 0, 2, 1, 3, 0]);
    let want = Array1::from_shape_fn(6, |i| lt.t()[[i, labels[i] as usize]]);
    assert_close(&pick(lt.t(), &labels).unwrap(), &want, "pick of transposed logits");
    // A label past the classes, or negative (which `as usize` would wrap): the index error.
    for bad in [4i64, -1] {
        let labels = Array1::from(vec![0i64, bad, 1, 2, 3, 0]);
        let err = pick(lt.t(), &labels).unwrap_err();
        assert!(matches!(err, kiln::Error::IndexOutOfBounds { .. }), "{err}");
    }
}

#[kernel]
fn outer_rows(x: Array2<f64>) -> Array2<f64> {
    let (n, d) = x.dim();
    Array2::from_shape_fn((n, d * d), |(i, j)| x[[i, j / d]] * x[[i, j % d]])
}

pub fn outer_products_with_d_times_d() {
    let mut rng = Rng::new(152);
    for (n, d) in [(0usize, 2usize), (3, 0), (1, 1), (4, 3), (9, 5)] {
        let x = rng.arr2_f64(n, d, -2.0, 2.0);
        let want = Array2::from_shape_fn((n, d * d), |(i, j)| x[[i, j / d]] * x[[i, j % d]]);
        assert_close(&outer_rows(&x).unwrap(), &want, &format!("outer_rows {n}x{d}"));
    }
    let long = rng.arr2_f64(7, 6, -2.0, 2.0);
    let v = long.slice(s![..;2, 1..;2]);
    let want = Array2::from_shape_fn((4, 9), |(i, j)| v[[i, j / 3]] * v[[i, j % 3]]);
    assert_close(&outer_rows(v).unwrap(), &want, "outer_rows of a strided view");
}

#[kernel]
fn diffs(x: Array1<f32>) -> Array1<f32> {
    let n = x.len();
    Array1::from_shape_fn(n - 1, |i| x[i + 1] - x[i])
}

pub fn differences_with_n_minus_1() {
    let mut rng = Rng::new(153);
    for n in [1usize, 2, 8, 31] {
        let x = rng.arr1_f32(n, -2.0, 2.0);
        let want = Array1::from_shape_fn(n - 1, |i| x[i + 1] - x[i]);
        assert_close(&diffs(&x).unwrap(), &want, &format!("diffs of {n}"));
    }
    let long = rng.arr1_f32(12, -2.0, 2.0);
    let v = long.slice(s![..;-3]);
    let want = Array1::from_shape_fn(3, |i| v[i + 1] - v[i]);
    assert_close(&diffs(v).unwrap(), &want, "diffs of a reversed strided view");
    // `0 - 1` is where Rust's `usize` panics: a typed error naming the expression.
    let err = diffs(&Array1::<f32>::zeros(0)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, kiln::Error::Bind(_)), "{msg}");
    assert!(msg.contains("extent `n - 1` is negative (-1)") && msg.contains("n = 0"), "{msg}");
}

#[kernel]
fn pairs_and_repeats(x: Array1<i64>, k: i64) -> (Array1<i64>, Array1<i64>) {
    let n = x.len();
    let m = x.len();
    let halves = Array1::from_shape_fn(n / 2, |i| x[2 * i] + x[2 * i + 1]);
    let twice = Array1::from_shape_fn(2 * (k as usize), |i| x[i % m] * 10 + (i as i64));
    (halves, twice)
}

pub fn halves_and_twice_k() {
    let mut rng = Rng::new(154);
    for (n, k) in [(0usize, 0usize), (1, 0), (1, 1), (5, 3), (10, 7)] {
        let x = rng.arr1_i64(n, -9, 9);
        let halves = Array1::from_shape_fn(n / 2, |i| x[2 * i] + x[2 * i + 1]);
        let twice = Array1::from_shape_fn(2 * k, |i| x[i % n.max(1)] * 10 + i as i64);
        if n == 0 && k > 0 {
            continue;
        }
        let (h, t) = pairs_and_repeats(&x, k as i64).unwrap();
        assert_eq!(h, halves, "halves of {n}");
        assert_eq!(t, twice, "2 * {k}");
    }
    let long = rng.arr1_i64(9, -9, 9);
    let v = long.slice(s![1..;2]);
    let (h, _) = pairs_and_repeats(v, 0).unwrap();
    assert_eq!(h, Array1::from_shape_fn(2, |i| v[2 * i] + v[2 * i + 1]), "halves of a strided view");
    // `2 * k` overflowing i64, and negative: typed errors naming the expression.
    let x = Array1::from(vec![1i64, 2]);
    let err = pairs_and_repeats(&x, i64::MAX).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, kiln::Error::Bind(_)) && msg.contains("extent `2 * k` overflows"), "{msg}");
    let err = pairs_and_repeats(&x, -1).unwrap_err();
    assert!(err.to_string().contains("extent `k` is negative"), "{err}");
}
