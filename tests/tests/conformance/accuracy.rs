//! Long float sums in the blocked order (`kiln_ir::loops::blocked_sum`: blocks of 64
//! elements, groups of 64 blocks, supergroups of 64 groups): an `f32` sum of 4096 or 2^20
//! values whose one-chain sum is far off stays within a few ulps of the exact (f64) sum,
//! and every thread count gives the same bits. The order is defined by the loop IR (and the
//! interpreter's fold); devices reorder only inside it (the CPU's vector lanes within a
//! block, a GPU block's shuffle tree for a chunk of a two-phase sum), so devices agree within
//! the same bound rather than bitwise.

use kiln::ndarray::{Array1, Array2};
use kiln::prelude::*;
use kiln_tests::Rng;

#[kernel]
fn total(x: Array1<f32>) -> f32 {
    x.sum()
}

#[kernel]
fn row_sums(x: Array2<f32>) -> Array1<f32> {
    x.sum_axis(Axis(1))
}

/// Row sums kept as a column (`insert_axis`): a kernel of domain (rows, 1), whose sums are
/// blocked like any row sums (an axis of extent 1 is no parallel axis).
#[kernel]
fn row_sums_kept(x: Array2<f32>) -> Array2<f32> {
    x.sum_axis(Axis(1)).insert_axis(Axis(1))
}

#[kernel]
fn col_sums(x: Array2<f32>) -> Array1<f32> {
    x.sum_axis(Axis(0))
}

/// `got`'s distance from `want` in units of the last place of `want` rounded to f32.
fn ulps(got: f32, want: f64) -> f64 {
    let w = want as f32;
    let ulp = f64::from(f32::from_bits(w.abs().to_bits() + 1) - w.abs());
    (f64::from(got) - want).abs() / ulp
}

/// The exact sum (f64 is exact enough for 2^20 f32 terms of one sign to a few f32 ulps)
/// and the one-chain f32 sum.
fn reference(x: &[f32]) -> (f64, f32) {
    (x.iter().map(|v| f64::from(*v)).sum(), x.iter().fold(0.0f32, |a, v| a + v))
}

/// Test data whose sequential f32 sum is measurably wrong: 1.0 then equal small values
/// (every addition rounds the same way), 1.0 then random small values, and uniform values.
fn cases(n: usize, rng: &mut Rng) -> Vec<(&'static str, Vec<f32>)> {
    let ones = std::iter::once(1.0f32);
    let equal: Vec<f32> = ones.clone().chain(std::iter::repeat_n(1e-4f32, n - 1)).collect();
    let small: Vec<f32> = ones.chain(rng.arr1_f32(n - 1, 0.0, 2e-4).iter().copied()).collect();
    let unif = rng.arr1_f32(n, 0.0, 1.0).to_vec();
    vec![("1 + equal small", equal), ("1 + random small", small), ("uniform", unif)]
}

/// `f` run with rayon pools of 1..=4 threads: the results, which must be bitwise equal.
fn every_thread_count<T: PartialEq + std::fmt::Debug + Send>(what: &str, f: impl Fn() -> T + Sync + Send) -> T {
    let runs: Vec<T> =
        (1..=4).map(|t| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap().install(&f)).collect();
    for (t, r) in runs.iter().enumerate().skip(1) {
        assert_eq!(r, &runs[0], "{what}: {} threads give other bits than 1", t + 1);
    }
    runs.into_iter().next().unwrap()
}

/// Bits of an f32 array (NaN-safe equality).
fn bits(a: &Array1<f32>) -> Vec<u32> {
    a.iter().map(|v| v.to_bits()).collect()
}

pub fn f32_sums_of_4096_and_a_million_are_within_a_few_ulps() {
    let mut rng = Rng::new(150);
    for (n, bound) in [(4096usize, 4.0), (1 << 20, 8.0)] {
        for (what, x) in cases(n, &mut rng) {
            let (want, chain) = reference(&x);
            let a = Array1::from(x.clone());
            let got = every_thread_count(what, || total(&a).unwrap().to_bits());
            let got = f32::from_bits(got);
            let e = ulps(got, want);
            eprintln!("sum of {n} ({what}): {e:.1} ulps (one chain: {:.1})", ulps(chain, want));
            assert!(e <= bound, "sum of {n} ({what}): {got} is {e:.1} ulps from {want}");
        }
        // The adversarial case is one where a single chain is far off.
        let (want, chain) = reference(&cases(n, &mut rng)[0].1);
        assert!(ulps(chain, want) > 100.0, "the test data does not defeat a one-chain sum");
    }
}

pub fn f32_row_sums_of_4096_are_within_a_few_ulps() {
    let mut rng = Rng::new(151);
    let n = 4096;
    let rows = cases(n, &mut rng);
    let x = Array2::from_shape_fn((rows.len(), n), |(i, j)| rows[i].1[j]);
    let got = every_thread_count("row sums", || bits(&row_sums(&x).unwrap()));
    let kept = every_thread_count("kept row sums", || bits(&row_sums_kept(&x).unwrap().column(0).to_owned()));
    for ((what, r), (g, k)) in rows.iter().zip(got.into_iter().zip(kept)) {
        let (want, chain) = reference(r);
        let (e, ek) = (ulps(f32::from_bits(g), want), ulps(f32::from_bits(k), want));
        eprintln!(
            "row sum of {n} ({what}): {e:.1} ulps, kept as a column {ek:.1} (one chain: {:.1})",
            ulps(chain, want)
        );
        assert!(e <= 4.0, "row sum ({what}) is {e:.1} ulps from {want}");
        assert!(ek <= 4.0, "row sum kept as a column ({what}) is {ek:.1} ulps from {want}");
    }
}

pub fn f32_column_sums_over_half_a_million_rows_stay_within_the_blocked_error_bound() {
    // Two columns over 2^19 rows: a two-phase sum whose chunks run down a column. The bound is
    // the a priori one of any summation tree of height h, |error| <= h u sum |x| (Higham,
    // "Accuracy and Stability of Numerical Algorithms", 4.2), not a measurement: in the blocked
    // order an element passes through at most 63 additions in each of its three levels
    // (blocks, groups, supergroups), then the ordered fold of the top-level totals (fewer than
    // 64 here) and the combine of the threads' chunk partials (fewer than 64): h < 5 * 64. One
    // chain has h = 2^19 - 1 and lands far outside it (about 76,000 ulps on the adversarial
    // column); the blocked order measured 21.8 ulps on every device.
    let mut rng = Rng::new(152);
    let n = 1 << 19;
    let cols = cases(n, &mut rng);
    let x = Array2::from_shape_fn((n, 2), |(i, j)| cols[j].1[i]);
    let got = every_thread_count("column sums", || bits(&col_sums(&x).unwrap()));
    let h = 5.0 * 64.0;
    let u = f64::from(f32::EPSILON) / 2.0;
    for ((what, c), g) in cols.iter().zip(got) {
        let (want, chain) = reference(c);
        let abs: f64 = c.iter().map(|v| f64::from(v.abs())).sum();
        let bound = h * u * abs;
        let (err, chain_err) = ((f64::from(f32::from_bits(g)) - want).abs(), (f64::from(chain) - want).abs());
        eprintln!(
            "column sum of {n} ({what}): {:.1} ulps, error {err:.3e} (bound {bound:.3e}; one chain: {chain_err:.3e})",
            ulps(f32::from_bits(g), want)
        );
        assert!(err <= bound, "column sum ({what}): error {err:.3e} exceeds the blocked bound {bound:.3e}");
        if *what == "1 + equal small" {
            assert!(chain_err > bound, "the test data does not defeat a one-chain sum ({chain_err:.3e})");
        }
    }
}
