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

// ---- block scans (CUDA: a block per chunk on long axes) ----
//
// On a GPU a scan whose axis has at least 2048 elements (and whose chunks x lanes are fewer
// than 2^16) runs as a block scan (`codegen-cuda` `emit/body/scan.rs`): integer, `max` and
// `min` scans give the same bits in any order, float `cumsum`/`cumprod` associate differently
// from the interpreter's chunk-by-chunk fold. Both orders are summation trees over the same
// terms, so both stay within the a priori bound of a tree of height h, |error| <= h u sum |x|
// (Higham, "Accuracy and Stability of Numerical Algorithms", 4.2; the bound
// `accuracy.rs` holds reordered sums to): the interpreter's chain is at most n/64 + 1 long
// within a chunk plus 63 folds of the totals before it; the block scan's is the tiles of 256
// before the element within its chunk, the shuffle scans (5 + 5 steps, 2 folds) and the same
// 63 totals. h = n/64 + 72 covers both, and two devices agree within twice the bound.

/// Lengths of the scanned axis: empty, one, a warp and its neighbours, past a block of 1024,
/// the block-scan threshold (2048: chunks of a warp) and its neighbours, chunks longer than a
/// tile of 256, and a long axis.
const SCAN_LENGTHS: [usize; 11] = [0, 1, 31, 32, 33, 1025, 2047, 2048, 2049, 64 * 256 + 7, 100_000];

/// `h u` of the a priori bound for an axis of `n` elements (see above), for unit roundoff `u`.
fn tree_bound(n: usize, u: f64) -> f64 {
    (n as f64 / 64.0 + 72.0) * u
}

#[kernel]
fn scans_f32(x: Array2<f32>) -> (Array2<f32>, Array2<f32>, Array2<f32>, Array2<f32>) {
    (x.cumsum(Axis(0)), x.cumsum(Axis(1)), x.cummax(Axis(0)), x.cummin(Axis(1)))
}

#[kernel]
fn scans_f64(x: Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    (x.cumprod(Axis(0)), x.cumsum(Axis(1)))
}

#[kernel]
fn scans_i64(x: Array2<i64>) -> (Array2<i64>, Array2<i64>, Array2<i64>) {
    (x.cumsum(Axis(0)), x.cumsum(Axis(1)), x.cumprod(Axis(1)))
}

/// The prefix sums (`mul` false) or products (`mul` true) of `x` along `axis`, compensated
/// (Neumaier's sum, products with the `mul_add` error term) so that the reference's own error
/// stays far below the bound under test even for f64.
fn exact_prefix(x: ArrayView2<'_, f64>, axis: usize, mul: bool) -> Array2<f64> {
    let mut out = x.to_owned();
    for mut lane in out.lanes_mut(NdAxis(axis)) {
        let (mut hi, mut lo) = (if mul { 1.0 } else { 0.0 }, 0.0f64);
        for v in lane.iter_mut() {
            if mul {
                let p = hi * *v;
                lo = lo * *v + hi.mul_add(*v, -p);
                hi = p;
            } else {
                let t = hi + *v;
                lo += if hi.abs() >= v.abs() { (hi - t) + *v } else { (*v - t) + hi };
                hi = t;
            }
            *v = hi + lo;
        }
    }
    out
}

/// Check `got` against the exact prefixes `want` of positive terms within `rel` relative to
/// each prefix (for positive terms, the prefix is `sum |x|`).
#[track_caller]
fn assert_within_tree_bound(got: ArrayView2<'_, f64>, want: ArrayView2<'_, f64>, rel: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((idx, g), w) in got.indexed_iter().zip(want.iter()) {
        let err = (g - w).abs();
        assert!(err <= rel * w.abs(), "{what}: at {idx:?} got {g:e}, want {w:e}: error {err:e} > {rel:e} x");
    }
}

pub fn block_scans_of_every_length_along_both_axes() {
    let mut rng = Rng::new(65);
    for n in SCAN_LENGTHS {
        // Axis 0 and axis 1 scanned over `n`, with two lanes each.
        let x0 = rng.arr2_f32(n, 2, 0.0, 1.0);
        let x1 = x0.t().to_owned();
        let (s0, _, m0, _) = scans_f32(&x0).unwrap();
        let (_, s1, _, m1) = scans_f32(&x1).unwrap();
        let wide = |a: &Array2<f32>| a.mapv(f64::from);
        let rel = tree_bound(n, f64::from(f32::EPSILON) / 2.0);
        let sum0 = exact_prefix(wide(&x0).view(), 0, false);
        let sum1 = exact_prefix(wide(&x1).view(), 1, false);
        assert_within_tree_bound(wide(&s0).view(), sum0.view(), rel, &format!("f32 cumsum(Axis(0)), n = {n}"));
        assert_within_tree_bound(wide(&s1).view(), sum1.view(), rel, &format!("f32 cumsum(Axis(1)), n = {n}"));
        assert_eq!(m0, prefix(x0.view(), 0, f32::max), "f32 cummax(Axis(0)), n = {n}");
        assert_eq!(m1, prefix(x1.view(), 1, f32::min), "f32 cummin(Axis(1)), n = {n}");
        // Against the interpreter: both within the bound of the exact sums, so within twice it
        // of each other.
        let (i0, ..) = kiln::with_device(kiln::Device::Interp, || scans_f32(&x0).unwrap());
        let what = format!("f32 cumsum(Axis(0)) against the interpreter's, n = {n}");
        assert_within_tree_bound(wide(&s0).view(), wide(&i0).view(), 2.0 * rel / (1.0 - rel), &what);

        // f64: a product of values near 1 (no overflow over 100k terms) and a sum.
        let y = rng.arr2_f64(n, 2, 0.999, 1.001);
        let yt = y.t().to_owned();
        let (p0, _) = scans_f64(&y).unwrap();
        let (_, q1) = scans_f64(&yt).unwrap();
        let rel = tree_bound(n, f64::EPSILON / 2.0);
        let (wp, wq) = (exact_prefix(y.view(), 0, true), exact_prefix(yt.view(), 1, false));
        // A product's error compounds per factor: (1 + u)^h - 1 < 1.01 h u for h u < 0.01.
        assert_within_tree_bound(p0.view(), wp.view(), 1.01 * rel, &format!("f64 cumprod(Axis(0)), n = {n}"));
        assert_within_tree_bound(q1.view(), wq.view(), rel, &format!("f64 cumsum(Axis(1)), n = {n}"));

        // Integers are exact whatever the order, wrapping products over long axes included.
        let z = rng.arr2_i64(n, 2, -1000, 1000);
        let zt = z.t().to_owned();
        let (c0, _, _) = scans_i64(&z).unwrap();
        let (_, c1, r1) = scans_i64(&zt).unwrap();
        assert_eq!(c0, prefix(z.view(), 0, |a, b| a + b), "i64 cumsum(Axis(0)), n = {n}");
        assert_eq!(c1, prefix(zt.view(), 1, |a, b| a + b), "i64 cumsum(Axis(1)), n = {n}");
        assert_eq!(r1, prefix(zt.view(), 1, i64::wrapping_mul), "i64 cumprod(Axis(1)), n = {n}");
    }
}

pub fn block_scans_of_strided_views() {
    use kiln::ndarray::Slice;
    let mut rng = Rng::new(66);
    let n = 20_000;
    let rel = tree_bound(2 * n, f64::from(f32::EPSILON) / 2.0);
    let big = rng.arr2_f32(2 * n, 3, 0.0, 1.0);
    let big_i = big.mapv(|a| (a * 1000.0) as i64 - 500);
    let (colmajor, colmajor_i) = (big.t().to_owned(), big_i.t().to_owned());
    // A stepped slice (stride 2 along the scanned axis), a transposed view (the scanned axis
    // with stride 1, the lanes 2n apart) and a reversed axis (a negative stride).
    let views = [
        (
            "stepped",
            big.slice_axis(NdAxis(0), Slice::new(0, None, 2)),
            big_i.slice_axis(NdAxis(0), Slice::new(0, None, 2)),
        ),
        ("transposed", colmajor.t(), colmajor_i.t()),
        (
            "reversed",
            big.slice_axis(NdAxis(0), Slice::new(0, None, -1)),
            big_i.slice_axis(NdAxis(0), Slice::new(0, None, -1)),
        ),
    ];
    for (what, v, vi) in views {
        let (s0, _, m0, _) = scans_f32(v).unwrap();
        let want = exact_prefix(v.mapv(f64::from).view(), 0, false);
        assert_within_tree_bound(s0.mapv(f64::from).view(), want.view(), rel, &format!("cumsum of a {what} view"));
        assert_eq!(m0, prefix(v, 0, f32::max), "cummax of a {what} view");
        let (c0, ..) = scans_i64(vi).unwrap();
        assert_eq!(c0, prefix(vi, 0, |a, b| a + b), "i64 cumsum of a {what} view");
    }
}
