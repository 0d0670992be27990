//! Nested and chained `select`s on `i64` values: class labels picked from decision values a
//! reduction computed (RidgeClassifier's predict), from `i64` class arrays gathered with
//! `classes[j as usize]`, from scalar `i64` parameters, and argmax-like chains, each against a
//! plain-Rust loop.

use kiln::ndarray::{Array1, Array2};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng};

#[kernel]
fn binary_labels(x: Array2<f64>, coef: Array2<f64>, intercept: Array1<f64>, classes: Array1<i64>) -> Array1<i64> {
    let (n, d) = x.dim();
    let (k, _) = coef.dim();
    let dec = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| x[[i, l]] * coef[[j, l]]) + intercept[j]);
    Array1::from_shape_fn(n, |i| select(dec[[i, 0]] > 0.0, classes[1], classes[0]))
}

#[kernel]
fn three_class_labels(
    x: Array2<f32>,
    coef: Array2<f32>,
    intercept: Array1<f32>,
    classes: Array1<i64>,
) -> (Array1<i64>, Array1<i64>, Array2<f32>) {
    let (n, d) = x.dim();
    let (k, _) = coef.dim();
    let dec = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| x[[i, l]] * coef[[j, l]]) + intercept[j]);
    // Chained selects over i64 gathers, and the same through an i64 index then a gather.
    let direct = Array1::from_shape_fn(n, |i| {
        select(
            (dec[[i, 0]] >= dec[[i, 1]]) & (dec[[i, 0]] >= dec[[i, 2]]),
            classes[0],
            select(dec[[i, 1]] >= dec[[i, 2]], classes[1], classes[2]),
        )
    });
    let via_index = Array1::from_shape_fn(n, |i| {
        let j = select(
            (dec[[i, 0]] >= dec[[i, 1]]) & (dec[[i, 0]] >= dec[[i, 2]]),
            0i64,
            select(dec[[i, 1]] >= dec[[i, 2]], 1i64, 2i64),
        );
        classes[j as usize]
    });
    (direct, via_index, dec)
}

#[kernel]
fn scalar_labels(x: Array2<f64>, w: Array1<f64>, a: i64, b: i64, c: i64) -> Array1<i64> {
    let (n, d) = x.dim();
    let z = Array1::from_shape_fn(n, |i| sum(0..d, |l| x[[i, l]] * w[l]));
    select(z > 0.5, a, select(z < -0.5, b, c))
}

#[kernel]
fn argmax_labels(x: Array2<f64>, coef: Array2<f64>, classes: Array1<i64>) -> (Array1<i64>, Array1<i64>) {
    let (n, d) = x.dim();
    let (k, _) = coef.dim();
    let dec = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| x[[i, l]] * coef[[j, l]]));
    let best = dec.argmax_axis(Axis(1));
    let labels = Array1::from_shape_fn(n, |i| classes[best[i] as usize]);
    // Large i64 values (past 2^53 and 2^32) survive a select unchanged.
    let big = Array1::from_shape_fn(n, |i| select(dec[[i, 0]] > 0.0, 9_007_199_254_740_993i64, -4_294_967_297i64));
    (labels, big)
}

#[kernel]
fn i64_elementwise_nested(p: Array1<f64>, a: Array1<i64>, b: Array1<i64>, c: Array1<i64>) -> Array1<i64> {
    select(p > 0.0, select(p > 0.5, a, b), select(p < -0.5, c, a + b))
}

fn dec2(x: &Array2<f64>, coef: &Array2<f64>, intercept: &Array1<f64>) -> Array2<f64> {
    let ((n, d), k) = (x.dim(), coef.nrows());
    Array2::from_shape_fn((n, k), |(i, j)| (0..d).map(|l| x[[i, l]] * coef[[j, l]]).sum::<f64>() + intercept[j])
}

/// The reported RidgeClassifier shape with two classes: `select(d[i, 0] > 0, classes[1], classes[0])`.
pub fn binary_label_from_a_decision_reduction() {
    let mut rng = Rng::new(301);
    for (n, d) in [(0, 3), (1, 1), (7, 3), (33, 5), (200, 4)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let coef = rng.arr2_f64(1, d, -1.0, 1.0);
        let intercept = rng.arr1_f64(1, -0.3, 0.3);
        for classes in
            [Array1::from(vec![-1i64, 1]), Array1::from(vec![7i64, 3]), Array1::from(vec![i64::MIN, i64::MAX])]
        {
            let dec = dec2(&x, &coef, &intercept);
            let want = Array1::from_shape_fn(n, |i| if dec[[i, 0]] > 0.0 { classes[1] } else { classes[0] });
            assert_eq!(binary_labels(&x, &coef, &intercept, &classes).unwrap(), want, "{n}x{d} {classes}");
        }
    }
}

/// Three classes chosen by a chained select on i64 gathers and through an i64 index.
pub fn three_class_chained_select_on_i64() {
    let mut rng = Rng::new(302);
    for (n, d) in [(0, 2), (1, 1), (9, 3), (65, 4), (130, 6)] {
        let x = rng.arr2_f32(n, d, -1.0, 1.0);
        let coef = rng.arr2_f32(3, d, -1.0, 1.0);
        let intercept = rng.arr1_f32(3, -0.2, 0.2);
        let classes = Array1::from(vec![10i64, -20, 1 << 40]);
        let (direct, via_index, dec) = three_class_labels(&x, &coef, &intercept, &classes).unwrap();
        let want_dec = Array2::from_shape_fn((n, 3), |(i, j)| {
            (0..d).map(|l| x[[i, l]] * coef[[j, l]]).sum::<f32>() + intercept[j]
        });
        assert_close(&dec, &want_dec, "decision values");
        // Labels from the kernel's own decision values, so last-bit float differences do not matter.
        let want = Array1::from_shape_fn(n, |i| {
            let r = dec.row(i);
            if r[0] >= r[1] && r[0] >= r[2] {
                classes[0]
            } else if r[1] >= r[2] {
                classes[1]
            } else {
                classes[2]
            }
        });
        assert_eq!(direct, want, "direct chained select {n}x{d}");
        assert_eq!(via_index, want, "select of an index then a gather {n}x{d}");
    }
}

/// Chained whole-array selects between scalar i64 parameters.
pub fn chained_select_of_scalar_i64_params() {
    let mut rng = Rng::new(303);
    for (n, d) in [(0, 2), (1, 1), (17, 3), (100, 5)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let w = rng.arr1_f64(d, -1.0, 1.0);
        for (a, b, c) in [(1i64, 2, 3), (-5, i64::MAX, i64::MIN), (1 << 33, -(1 << 35), 0)] {
            let z = Array1::from_shape_fn(n, |i| (0..d).map(|l| x[[i, l]] * w[l]).sum::<f64>());
            let want = z.mapv(|v| {
                if v > 0.5 {
                    a
                } else if v < -0.5 {
                    b
                } else {
                    c
                }
            });
            assert_eq!(scalar_labels(&x, &w, a, b, c).unwrap(), want, "{n}x{d} ({a}, {b}, {c})");
        }
    }
}

/// `classes[argmax as usize]` and i64 constants past 2^53 through a select.
pub fn argmax_gather_and_wide_i64_constants() {
    let mut rng = Rng::new(304);
    for (n, d, k) in [(0, 2, 2), (1, 1, 1), (9, 3, 4), (70, 5, 3)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let coef = rng.arr2_f64(k, d, -1.0, 1.0);
        let classes = Array1::from_shape_fn(k, |j| 1000 * j as i64 - 7);
        let (labels, big) = argmax_labels(&x, &coef, &classes).unwrap();
        let dec = dec2(&x, &coef, &Array1::zeros(k));
        let want = Array1::from_shape_fn(n, |i| {
            let r = dec.row(i);
            let best = (0..k).fold(0, |b, j| if r[j] > r[b] { j } else { b });
            classes[best]
        });
        assert_eq!(labels, want, "argmax labels {n}x{d}x{k}");
        let want_big =
            Array1::from_shape_fn(n, |i| if dec[[i, 0]] > 0.0 { 9_007_199_254_740_993i64 } else { -4_294_967_297 });
        assert_eq!(big, want_big, "wide constants {n}");
    }
}

/// Selects nested in both arms over i64 arrays.
pub fn i64_selects_nested_in_both_arms() {
    let mut rng = Rng::new(305);
    for n in [0, 1, 5, 16, 17, 100, 1000] {
        let p = rng.arr1_f64(n, -1.0, 1.0);
        let (a, b, c) = (
            rng.arr1_i64(n, -1 << 40, 1 << 40),
            rng.arr1_i64(n, -100, 100),
            rng.arr1_i64(n, i64::MIN / 2, i64::MAX / 2),
        );
        let want = Array1::from_shape_fn(n, |i| {
            if p[i] > 0.0 {
                if p[i] > 0.5 {
                    a[i]
                } else {
                    b[i]
                }
            } else if p[i] < -0.5 {
                c[i]
            } else {
                a[i].wrapping_add(b[i])
            }
        });
        assert_eq!(i64_elementwise_nested(&p, &a, &b, &c).unwrap(), want, "n = {n}");
    }
}

#[kernel]
fn mixed_width_selects(
    p: Array1<f32>,
    q: Array1<f64>,
    a: Array1<i64>,
    b: Array1<i64>,
    u: Array1<i32>,
    v: Array1<i32>,
) -> (Array1<i64>, Array1<i32>, Array1<i64>, Array1<f64>) {
    // An f32 condition picking i64 lanes, an f64 condition picking i32 lanes, a bool mask
    // combined from both, and an f64 value picked by an i64 comparison.
    let wide = select(p > 0.0, a, select(p < -0.5, b, a - b));
    let narrow = select(q > 0.0, u, select(q < -0.5, v, u * v));
    let both = select((p > 0.0) ^ (q > 0.0), select(a > b, a, b), select(u > v, 1i64, -1i64));
    let floats = select(a > b, q, select(a == b, 0.0, -q));
    (wide, narrow, both, floats)
}

/// Selects whose condition and values have different widths (f32 masks over i64 lanes, f64
/// masks over i32 lanes, i64 comparisons over f64 lanes).
pub fn selects_of_mixed_widths() {
    let mut rng = Rng::new(306);
    for n in [0, 1, 3, 4, 7, 8, 16, 33, 257] {
        let (p, q) = (rng.arr1_f32(n, -1.0, 1.0), rng.arr1_f64(n, -1.0, 1.0));
        let (a, b) = (rng.arr1_i64(n, -1 << 40, 1 << 40), rng.arr1_i64(n, -3, 3));
        let (u, v) = (rng.arr1_i32(n, -1000, 1000), rng.arr1_i32(n, -3, 3));
        let (wide, narrow, both, floats) = mixed_width_selects(&p, &q, &a, &b, &u, &v).unwrap();
        let f = |g: &dyn Fn(usize) -> i64| Array1::from_shape_fn(n, g);
        let want_wide = f(&|i| {
            if p[i] > 0.0 {
                a[i]
            } else if p[i] < -0.5 {
                b[i]
            } else {
                a[i] - b[i]
            }
        });
        let want_both = f(&|i| {
            if (p[i] > 0.0) ^ (q[i] > 0.0) {
                a[i].max(b[i])
            } else if u[i] > v[i] {
                1
            } else {
                -1
            }
        });
        let want_narrow = Array1::from_shape_fn(n, |i| {
            if q[i] > 0.0 {
                u[i]
            } else if q[i] < -0.5 {
                v[i]
            } else {
                u[i].wrapping_mul(v[i])
            }
        });
        let want_floats = Array1::from_shape_fn(n, |i| {
            if a[i] > b[i] {
                q[i]
            } else if a[i] == b[i] {
                0.0
            } else {
                -q[i]
            }
        });
        assert_eq!(wide, want_wide, "f32 mask over i64, n = {n}");
        assert_eq!(narrow, want_narrow, "f64 mask over i32, n = {n}");
        assert_eq!(both, want_both, "xor of masks, n = {n}");
        assert_close(&floats, &want_floats, &format!("i64 mask over f64, n = {n}"));
    }
}

#[kernel]
fn inline_decision_labels(
    x: Array2<f64>,
    coef: Array2<f64>,
    intercept: Array1<f64>,
    neg: i64,
    pos: i64,
) -> (Array1<i64>, Array1<i64>) {
    let (n, d) = x.dim();
    // The decision value computed inside the select's condition, and the label count of the
    // positive class as an i64 sum of selects.
    let labels =
        Array1::from_shape_fn(n, |i| select(sum(0..d, |l| x[[i, l]] * coef[[0, l]]) + intercept[0] > 0.0, pos, neg));
    let count = Array1::from_shape_fn(1, |_| sum(0..n, |i| select(labels[i] == pos, 1i64, 0i64)));
    (labels, count)
}

/// A reduction in the select's condition, scalar i64 labels, and an i64 count of them.
pub fn select_on_an_inline_reduction_and_a_count() {
    let mut rng = Rng::new(307);
    for (n, d) in [(0, 2), (1, 1), (9, 3), (65, 4), (300, 7)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let coef = rng.arr2_f64(1, d, -1.0, 1.0);
        let intercept = rng.arr1_f64(1, -0.3, 0.3);
        let (neg, pos) = (-(1i64 << 50), 3);
        let (labels, count) = inline_decision_labels(&x, &coef, &intercept, neg, pos).unwrap();
        let dec = dec2(&x, &coef, &intercept);
        let want = Array1::from_shape_fn(n, |i| if dec[[i, 0]] > 0.0 { pos } else { neg });
        assert_eq!(labels, want, "{n}x{d}");
        assert_eq!(count[0], want.iter().filter(|&&l| l == pos).count() as i64, "count {n}x{d}");
    }
}

#[kernel]
fn generic_labels<F: Float>(x: Array2<F>, coef: Array2<F>, intercept: Array1<F>, classes: Array1<i64>) -> Array1<i64> {
    let (n, d) = x.dim();
    let (k, _) = coef.dim();
    let dec = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| x[[i, l]] * coef[[j, l]]) + intercept[j]);
    Array1::from_shape_fn(n, |i| {
        select(dec[[i, 0]] > F::zero(), select(dec[[i, 1]] > dec[[i, 0]], classes[1], classes[0]), classes[2])
    })
}

/// A float-generic kernel (f32 and f64 instantiations) picking i64 labels by nested selects,
/// with a strided class array.
pub fn generic_float_nested_select_labels() {
    let mut rng = Rng::new(308);
    let big = Array1::from(vec![5i64, 0, -9, 0, 1 << 45, 0]);
    let classes = big.slice(kiln::ndarray::s![..;2]);
    for (n, d) in [(0, 2), (1, 1), (9, 3), (65, 4)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let coef = rng.arr2_f64(2, d, -1.0, 1.0);
        let intercept = rng.arr1_f64(2, -0.3, 0.3);
        let pick = |r0: f64, r1: f64| {
            if r0 > 0.0 {
                if r1 > r0 {
                    classes[1]
                } else {
                    classes[0]
                }
            } else {
                classes[2]
            }
        };
        let dec = dec2(&x, &coef, &intercept);
        let want = Array1::from_shape_fn(n, |i| pick(dec[[i, 0]], dec[[i, 1]]));
        assert_eq!(generic_labels(&x, &coef, &intercept, classes).unwrap(), want, "f64 {n}x{d}");
        let (x32, c32, i32_) = (x.mapv(|v| v as f32), coef.mapv(|v| v as f32), intercept.mapv(|v| v as f32));
        let dec32 =
            Array2::from_shape_fn((n, 2), |(i, j)| (0..d).map(|l| x32[[i, l]] * c32[[j, l]]).sum::<f32>() + i32_[j]);
        let want32 = Array1::from_shape_fn(n, |i| pick(dec32[[i, 0]] as f64, dec32[[i, 1]] as f64));
        assert_eq!(generic_labels(&x32, &c32, &i32_, classes).unwrap(), want32, "f32 {n}x{d}");
    }
}
