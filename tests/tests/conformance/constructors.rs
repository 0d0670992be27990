//! Array constructors and views as ndarray spells them inside kernels: `zeros`, `ones`,
//! `from_elem`, `eye`, `linspace`; `row`, `column`; `into_shape_with_order` / `to_shape`;
//! `concatenate!` and `stack!`; `diff`, `product_axis`, `mean().unwrap()`; and num-traits'
//! per-type constants (`F::epsilon()`, ...) in generic kernels. Each against plain-Rust loops
//! (or ndarray's own result), with empty and length-1 axes, strided inputs, and the typed
//! errors ndarray's panics become.

use kiln::ndarray::{s, Array1, Array2, Axis as NdAxis};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng};

#[kernel]
fn filled(x: Array2<f64>, k: usize) -> (Array2<f64>, Array1<f64>, Array2<f64>, Array2<f64>, Array1<f64>) {
    let (n, d) = x.dim();
    let z = Array2::zeros((n, d));
    let o = Array1::ones(k);
    let e = Array2::from_elem((d, n), 2.5);
    let i = Array2::eye(d);
    (&x + &z, o, e, x.dot(&i), Array1::linspace(-1.0, 2.0, k))
}

#[kernel]
fn filled_f32(x: Array1<f32>) -> (Array1<f32>, Array2<i64>, Array1<f32>) {
    let n = x.len();
    let z = Array1::<f32>::zeros(n);
    let e = Array2::<i64>::eye(n);
    (x + z, e, Array1::linspace(0.5f32, 1.5, 2 * n))
}

#[kernel]
fn ramp<F: Float>(x: Array1<F>) -> Array1<F> {
    let n = x.len();
    x * Array1::linspace(F::zero(), F::one(), n)
}

/// ndarray's `linspace` formula, computed by ndarray itself.
fn linspace_ref(a: f64, b: f64, n: usize) -> Array1<f64> {
    Array1::linspace(a, b, n)
}

pub fn zeros_ones_from_elem_eye_and_linspace() {
    let mut rng = Rng::new(400);
    for (n, d, k) in [(0usize, 0usize, 0usize), (1, 1, 1), (0, 3, 2), (4, 3, 5), (7, 1, 9)] {
        let x = rng.arr2_f64(n, d, -2.0, 2.0);
        let (z, o, e, i, l) = filled(&x, k).unwrap();
        assert_close(&z, &x, "x + zeros");
        assert_close(&o, &Array1::from_elem(k, 1.0), "ones");
        assert_close(&e, &Array2::from_elem((d, n), 2.5), "from_elem");
        assert_close(&i, &x, "x . eye");
        assert_eq!(l, linspace_ref(-1.0, 2.0, k), "linspace bits, k={k}");
        let x32 = rng.arr1_f32(n, -2.0, 2.0);
        let (z, e, l) = filled_f32(&x32).unwrap();
        assert_close(&z, &x32, "x + zeros::<f32>");
        assert_eq!(e, Array2::from_shape_fn((n, n), |(a, b)| i64::from(a == b)), "eye::<i64>");
        assert_eq!(l, Array1::<f32>::linspace(0.5, 1.5, 2 * n), "linspace f32");
    }
    // A strided operand.
    let big = rng.arr2_f64(9, 4, -1.0, 1.0);
    let v = big.slice(s![..;2, ..]);
    let (z, _, _, i, _) = filled(v, 3).unwrap();
    assert_close(&z, &v.to_owned(), "zeros + strided");
    assert_close(&i, &v.to_owned(), "strided . eye");
    for n in [0usize, 1, 2, 10] {
        let x = rng.arr1_f64(n, -1.0, 1.0);
        assert_eq!(ramp(&x).unwrap(), &x * &Array1::linspace(0.0, 1.0, n), "generic linspace f64");
        let x = rng.arr1_f32(n, -1.0, 1.0);
        assert_eq!(ramp(&x).unwrap(), &x * &Array1::<f32>::linspace(0.0, 1.0, n), "generic linspace f32");
    }
}

#[kernel]
fn limits<F: Float>(x: Array1<F>) -> (Array1<F>, Array1<F>) {
    let c = Array1::from_shape_fn(4, |i| {
        if i == 0 {
            F::epsilon()
        } else if i == 1 {
            F::max_value()
        } else if i == 2 {
            F::min_value()
        } else {
            F::min_positive_value()
        }
    });
    (c, x * F::epsilon())
}

pub fn num_traits_limits_per_instantiation() {
    let x = Array1::from(vec![1.0f64, -4.0, 0.5]);
    let (c, e) = limits(&x).unwrap();
    assert_eq!(c.to_vec(), vec![f64::EPSILON, f64::MAX, f64::MIN, f64::MIN_POSITIVE]);
    assert_eq!(e, x.mapv(|v| v * f64::EPSILON));
    let x = Array1::from(vec![1.0f32, -4.0, 0.5]);
    let (c, e) = limits(&x).unwrap();
    assert_eq!(c.to_vec(), vec![f32::EPSILON, f32::MAX, f32::MIN, f32::MIN_POSITIVE]);
    assert_eq!(e, x.mapv(|v| v * f32::EPSILON));
    let (c, e) = limits(&Array1::<f32>::zeros(0)).unwrap();
    assert_eq!((c.len(), e.len()), (4, 0));
}

#[kernel]
fn row_col(x: Array2<f64>, i: usize) -> (Array1<f64>, Array1<f64>, Array2<f64>) {
    (x.row(i), x.column(i), x.t().to_owned())
}

pub fn rows_columns_and_transposes() {
    let mut rng = Rng::new(401);
    for n in [1usize, 2, 5] {
        let x = rng.arr2_f64(n, n + 1, -1.0, 1.0);
        for i in 0..n {
            let (r, c, t) = row_col(&x, i).unwrap();
            assert_eq!(r, x.row(i).to_owned());
            assert_eq!(c, x.column(i).to_owned());
            assert_eq!(t, x.t().to_owned());
        }
    }
    let big = rng.arr2_f64(7, 6, -1.0, 1.0);
    let v = big.slice(s![1..;2, ..;3]);
    let (r, c, _) = row_col(v, 1).unwrap();
    assert_eq!((r, c), (v.row(1).to_owned(), v.column(1).to_owned()), "strided");
    // An index past the axis is a typed error (ndarray panics).
    let err = row_col(&big, 6).unwrap_err();
    assert!(matches!(err, kiln::Error::IndexOutOfBounds { .. }), "{err}");
    let err = row_col(&Array2::<f64>::zeros((0, 3)), 0).unwrap_err();
    assert!(matches!(err, kiln::Error::IndexOutOfBounds { .. }), "{err}");
}

#[kernel]
fn flatten(x: Array2<f64>) -> Array1<f64> {
    let (n, d) = x.dim();
    x.into_shape_with_order(n * d).unwrap()
}

#[kernel]
fn fold(x: Array1<f64>, k: usize) -> Array2<f64> {
    let n = x.len();
    x.to_shape((n / k, k)).expect("k divides n")
}

#[kernel]
fn two_by_three(x: Array1<i64>) -> Array2<i64> {
    x.into_shape_with_order((2, 3)).unwrap()
}

pub fn contiguous_reshapes_and_their_size_checks() {
    let mut rng = Rng::new(402);
    for (n, d) in [(0usize, 3usize), (1, 1), (3, 4), (5, 1)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        assert_eq!(flatten(&x).unwrap(), Array1::from_iter(x.iter().copied()), "flatten {n}x{d}");
        let y = rng.arr1_f64(n * d, -1.0, 1.0);
        if d > 0 {
            let want = y.to_shape((n, d)).unwrap().to_owned();
            assert_eq!(fold(&y, d).unwrap(), want, "fold {n}x{d}");
        }
    }
    // A transposed (non-contiguous) operand reshapes in its logical row-major order.
    let x = rng.arr2_f64(3, 4, -1.0, 1.0);
    let t = x.t();
    assert_eq!(flatten(t).unwrap(), Array1::from_iter(t.iter().copied()), "flatten of a transposed view");
    let v = Array1::from_iter(0..6i64);
    assert_eq!(two_by_three(&v).unwrap(), v.to_shape((2, 3)).unwrap().to_owned());
    // A count that does not match is a typed error naming both products.
    let err = fold(&rng.arr1_f64(7, 0.0, 1.0), 2).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, kiln::Error::Bind(_)), "{msg}");
    assert!(msg.contains("==") && msg.contains("reshape keeps the number of elements"), "{msg}");
    let err = two_by_three(&Array1::from_iter(0..5i64)).unwrap_err();
    assert!(matches!(err, kiln::Error::Bind(_)), "{err}");
    let err = fold(&rng.arr1_f64(4, 0.0, 1.0), 0).unwrap_err();
    assert!(err.to_string().contains("divides by zero"), "{err}");
}

#[kernel]
fn cat_rows(x: Array2<f64>, y: Array2<f64>) -> Array2<f64> {
    concatenate![Axis(0), x, y]
}

#[kernel]
fn cat_three(a: Array1<i32>, b: Array1<i32>, c: Array1<i32>) -> Array1<i32> {
    let joined = concatenate![Axis(0), a, b, c];
    joined
}

#[kernel]
fn stacked(x: Array2<f32>, y: Array2<f32>) -> (Array3<f32>, Array3<f32>) {
    (stack![Axis(1), x, y], stack![Axis(2), x, y])
}

pub fn concatenate_and_stack() {
    let mut rng = Rng::new(403);
    for (n, m, d) in [(0usize, 0usize, 2usize), (0, 2, 3), (1, 1, 1), (3, 4, 2), (2, 5, 0)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let y = rng.arr2_f64(m, d, -1.0, 1.0);
        let want = kiln::ndarray::concatenate(NdAxis(0), &[x.view(), y.view()]).unwrap();
        assert_eq!(cat_rows(&x, &y).unwrap(), want, "concatenate {n}+{m}x{d}");
        let a = rng.arr1_i32(n, -9, 9);
        let b = rng.arr1_i32(m, -9, 9);
        let c = rng.arr1_i32(d, -9, 9);
        let want = kiln::ndarray::concatenate(NdAxis(0), &[a.view(), b.view(), c.view()]).unwrap();
        assert_eq!(cat_three(&a, &b, &c).unwrap(), want, "concatenate of three");
        let p = rng.arr2_f32(n, d, -1.0, 1.0);
        let q = rng.arr2_f32(n, d, -1.0, 1.0);
        let (s1, s2) = stacked(&p, &q).unwrap();
        assert_eq!(s1, kiln::ndarray::stack(NdAxis(1), &[p.view(), q.view()]).unwrap(), "stack axis 1");
        assert_eq!(s2, kiln::ndarray::stack(NdAxis(2), &[p.view(), q.view()]).unwrap(), "stack axis 2");
    }
    // Strided operands.
    let big = rng.arr2_f64(8, 6, -1.0, 1.0);
    let (x, y) = (big.slice(s![..;3, 1..;2]), big.slice(s![1..4, ..;2]));
    let want = kiln::ndarray::concatenate(NdAxis(0), &[x, y]).unwrap();
    assert_eq!(cat_rows(x, y).unwrap(), want, "concatenate of strided views");
    // Other axes that disagree are a typed error.
    let err = cat_rows(&Array2::<f64>::zeros((2, 3)), &Array2::<f64>::zeros((2, 4))).unwrap_err();
    assert!(matches!(err, kiln::Error::Bind(_)), "{err}");
}

#[kernel]
fn diffs(x: Array2<f64>) -> (Array2<f64>, Array2<f64>, Array1<f64>, f64, Array1<f64>) {
    (
        x.diff(1, Axis(0)),
        x.diff(2, Axis(1)),
        x.product_axis(Axis(0)),
        x.mean().unwrap(),
        x.mean_axis(Axis(1)).expect("rows"),
    )
}

#[kernel]
fn int_diff(x: Array1<i64>) -> Array1<i64> {
    x.diff(3, Axis(0))
}

pub fn diff_product_axis_and_mean_unwrap() {
    let mut rng = Rng::new(404);
    for (n, d) in [(2usize, 3usize), (5, 4), (3, 7)] {
        let x = rng.arr2_f64(n, d, -2.0, 2.0);
        let (d0, d1, p, m, ma) = diffs(&x).unwrap();
        assert_eq!(d0, x.diff(1, NdAxis(0)), "diff(1, Axis(0)) {n}x{d}");
        assert_eq!(d1, x.diff(2, NdAxis(1)), "diff(2, Axis(1)) {n}x{d}");
        let want_p = Array1::from_shape_fn(d, |j| (0..n).fold(1.0, |acc, i| acc * x[[i, j]]));
        assert_close(&p, &want_p, "product_axis");
        let want_m = x.iter().sum::<f64>() / (n * d) as f64;
        assert!((m - want_m).abs() <= 1e-12 * (1.0 + want_m.abs()), "mean {m} vs {want_m}");
        let want_ma = Array1::from_shape_fn(n, |i| x.row(i).sum() / d as f64);
        assert_close(&ma, &want_ma, "mean_axis");
    }
    let big = rng.arr2_f64(9, 5, -2.0, 2.0);
    let v = big.slice(s![..;4, ..]);
    let (d0, d1, ..) = diffs(v).unwrap();
    assert_eq!((d0, d1), (v.diff(1, NdAxis(0)), v.diff(2, NdAxis(1))), "diff of a strided view");
    for n in [4usize, 5, 10] {
        let x = rng.arr1_i64(n, -100, 100);
        assert_eq!(int_diff(&x).unwrap(), x.diff(3, NdAxis(0)), "integer diff(3)");
    }
    assert_eq!(int_diff(&rng.arr1_i64(3, -100, 100)).unwrap().len(), 0, "diff(3) of 3 elements");
    // An axis as long as the order gives an empty axis, as numpy's `diff` does (ndarray panics).
    let (d0, d1, ..) = diffs(&rng.arr2_f64(1, 2, -1.0, 1.0)).unwrap();
    assert_eq!((d0.dim(), d1.dim()), ((0, 2), (1, 0)));
    // An axis shorter than the order is a typed error (ndarray panics).
    let err = diffs(&Array2::<f64>::zeros((2, 1))).unwrap_err();
    assert!(matches!(err, kiln::Error::Bind(_)) && err.to_string().contains("is negative"), "{err}");
    let err = int_diff(&Array1::<i64>::zeros(2)).unwrap_err();
    assert!(matches!(err, kiln::Error::Bind(_)), "{err}");
}

// ---- ndarray's function forms of the joins, and `array!` literals ----

#[kernel]
fn cat_fn(x: Array2<f64>, y: Array2<f64>) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
    let rows = ndarray::concatenate(Axis(0), &[x.view(), y.view()]).unwrap();
    let cols = concatenate(Axis(1), &[x.view(), x.view()]).expect("same rows");
    (rows, cols, ndarray::concatenate(Axis(0), &[y.view(), x.view(), y.view()]))
}

#[kernel]
fn stack_fn(x: Array1<i64>, y: Array1<i64>) -> (Array2<i64>, Array2<i64>) {
    (ndarray::stack(Axis(0), &[x.view(), y.view()]).unwrap(), stack(Axis(1), &[x.view(), y.view(), x.view()]).unwrap())
}

pub fn concatenate_and_stack_functions() {
    let mut rng = Rng::new(404);
    for (n, m, d) in [(0usize, 0usize, 2usize), (0, 2, 3), (1, 1, 1), (3, 4, 2), (2, 5, 0)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let y = rng.arr2_f64(m, d, -1.0, 1.0);
        let (rows, cols, three) = cat_fn(&x, &y).unwrap();
        assert_eq!(rows, kiln::ndarray::concatenate(NdAxis(0), &[x.view(), y.view()]).unwrap(), "rows {n}+{m}x{d}");
        assert_eq!(cols, kiln::ndarray::concatenate(NdAxis(1), &[x.view(), x.view()]).unwrap(), "columns {n}x{d}");
        let want = kiln::ndarray::concatenate(NdAxis(0), &[y.view(), x.view(), y.view()]).unwrap();
        assert_eq!(three, want, "three operands");
        let a = rng.arr1_i64(n, -9, 9);
        let b = rng.arr1_i64(n, -9, 9);
        let (s0, s1) = stack_fn(&a, &b).unwrap();
        assert_eq!(s0, kiln::ndarray::stack(NdAxis(0), &[a.view(), b.view()]).unwrap(), "stack axis 0, n = {n}");
        assert_eq!(s1, kiln::ndarray::stack(NdAxis(1), &[a.view(), b.view(), a.view()]).unwrap(), "stack axis 1");
    }
    // Strided operands.
    let big = rng.arr2_f64(8, 6, -1.0, 1.0);
    let (x, y) = (big.slice(s![..;3, 1..;2]), big.slice(s![1..4, ..;2]));
    let (rows, ..) = cat_fn(x, y).unwrap();
    assert_eq!(rows, kiln::ndarray::concatenate(NdAxis(0), &[x, y]).unwrap(), "concatenate of strided views");
    // What ndarray's `Result` reports is a typed error at the call.
    let err = cat_fn(&Array2::<f64>::zeros((2, 3)), &Array2::<f64>::zeros((2, 4))).unwrap_err();
    assert!(matches!(err, kiln::Error::Bind(_)), "{err}");
    let err = stack_fn(&Array1::<i64>::zeros(2), &Array1::<i64>::zeros(3)).unwrap_err();
    assert!(matches!(err, kiln::Error::Bind(_)), "{err}");
}

#[kernel]
fn literals(x: Array2<f32>) -> (Array2<f32>, Array1<f32>, Array2<i64>, Array1<bool>) {
    let w = array![[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]];
    let b = array![0.5, f32::MAX, -f32::INFINITY];
    let ints = array![[1, 2], [3, 4], [5, i64::MAX]];
    (x.dot(&w.t()), &x.row(0) + &b, ints, array![true, false, true])
}

#[kernel]
fn poly<F: Float>(x: Array1<F>) -> Array1<F> {
    let c = array![1.0, 0.5, 0.25];
    Array1::from_shape_fn(x.len(), |i| c[0] + x[i] * (c[1] + x[i] * c[2]))
}

#[kernel]
fn cube(x: Array3<i64>) -> Array3<i64> {
    &x + &array![[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]
}

pub fn array_literals_are_constants() {
    let mut rng = Rng::new(405);
    let w = kiln::ndarray::array![[1.0f32, -2.0, 0.5], [0.25, 3.0, -1.0]];
    let b = kiln::ndarray::array![0.5f32, f32::MAX, -f32::INFINITY];
    for n in [1usize, 4] {
        let x = rng.arr2_f32(n, 3, -1.0, 1.0);
        let (p, r, ints, flags) = literals(&x).unwrap();
        let want = Array2::from_shape_fn((n, 2), |(i, j)| (0..3).map(|k| x[[i, k]] * w[[j, k]]).sum::<f32>());
        assert_close(&p, &want, "x . w^T with a literal w");
        assert_eq!(r, &x.row(0) + &b, "row plus a literal vector");
        assert_eq!(ints, kiln::ndarray::array![[1i64, 2], [3, 4], [5, i64::MAX]]);
        assert_eq!(flags, kiln::ndarray::array![true, false, true]);
    }
    for n in [0usize, 1, 9] {
        let x = rng.arr1_f64(n, -2.0, 2.0);
        assert_eq!(poly(&x).unwrap(), x.mapv(|v| 1.0 + v * (0.5 + v * 0.25)), "generic f64");
        let x = rng.arr1_f32(n, -2.0, 2.0);
        assert_eq!(poly(&x).unwrap(), x.mapv(|v| 1.0f32 + v * (0.5 + v * 0.25)), "generic f32");
    }
    let want = kiln::ndarray::Array3::from_shape_fn((3, 2, 2), |(i, j, k)| (i * 4 + j * 2 + k + 1) as i64);
    let x = kiln::ndarray::Array3::from_shape_fn((3, 2, 2), |(i, j, k)| (i * 100 + j * 10 + k) as i64);
    assert_eq!(cube(&x).unwrap(), &x + &want, "a rank-3 literal");
}
