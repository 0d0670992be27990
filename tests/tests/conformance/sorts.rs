//! Sorts along an axis (`sort_axis`, `argsort_axis`) against Rust's stable sort with NaN last
//! (numpy's `argsort(kind="stable")` order), on empty, length-1 and longer axes, with ties and
//! NaN, on strided views, and of a distance comprehension (the order k-nearest neighbours need);
//! `median_axis` / `quantile_axis` against numpy's rules.

use kiln::ndarray::{Array1, Array2, ArrayView2, Axis as NdAxis, Slice};
use kiln::prelude::*;
use kiln_tests::{Rng, SHAPES};

/// Stable argsort of every lane of `x` along `axis`, NaN last.
fn reference(x: ArrayView2<'_, f64>, axis: usize) -> Array2<i64> {
    let mut out = Array2::<i64>::zeros(x.raw_dim());
    for (lane, mut o) in x.lanes(NdAxis(axis)).into_iter().zip(out.lanes_mut(NdAxis(axis))) {
        let mut idx: Vec<usize> = (0..lane.len()).collect();
        idx.sort_by(|&a, &b| match (lane[a].is_nan(), lane[b].is_nan()) {
            (false, false) => lane[a].partial_cmp(&lane[b]).unwrap(),
            (p, q) => p.cmp(&q),
        });
        for (t, i) in idx.into_iter().enumerate() {
            o[t] = i as i64;
        }
    }
    out
}

#[kernel]
fn sorts(x: Array2<f64>) -> (Array2<f64>, Array2<i64>, Array2<i64>) {
    (x.sort_axis(Axis(1)), x.argsort_axis(Axis(1)), x.argsort_axis(Axis(0)))
}

/// Values with many ties and a NaN now and then.
fn tied(rng: &mut Rng, n: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, d), |_| match rng.int(0, 9) {
        0 => f64::NAN,
        r => (r / 2) as f64,
    })
}

pub fn sort_and_argsort_are_stable_with_nan_last() {
    let mut rng = Rng::new(80);
    for (n, d) in SHAPES.into_iter().chain([(70, 3), (2, 129)]) {
        let x = tied(&mut rng, n, d);
        let (s, a1, a0) = sorts(&x).unwrap();
        let (r1, r0) = (reference(x.view(), 1), reference(x.view(), 0));
        assert_eq!(a1, r1, "argsort_axis(Axis(1)) of {n}x{d}");
        assert_eq!(a0, r0, "argsort_axis(Axis(0)) of {n}x{d}");
        let want = Array2::from_shape_fn((n, d), |(i, t)| x[[i, r1[[i, t]] as usize]]);
        let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&s), bits(&want), "sort_axis(Axis(1)) of {n}x{d}");
    }
}

pub fn argsort_of_strided_views() {
    let mut rng = Rng::new(81);
    let x = tied(&mut rng, 40, 6);
    let t = x.t().to_owned();
    let stepped = x.slice_axis(NdAxis(1), Slice::new(0, None, 2));
    for v in [t.t(), stepped] {
        let (_, a1, a0) = sorts(v).unwrap();
        assert_eq!(a1, reference(v, 1));
        assert_eq!(a0, reference(v, 0));
    }
}

#[kernel]
fn nearest_order(x: Array2<f32>, c: Array2<f32>) -> Array2<i64> {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    let dist = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
    dist.argsort_axis(Axis(1))
}

pub fn neighbours_ordered_by_a_distance_comprehension() {
    let mut rng = Rng::new(82);
    let (x, c) = (rng.arr2_f32(9, 3, -1.0, 1.0), rng.arr2_f32(17, 3, -1.0, 1.0));
    let got = nearest_order(&x, &c).unwrap();
    let dist =
        Array2::from_shape_fn((9, 17), |(i, j)| (0..3).map(|l| (x[[i, l]] - c[[j, l]]).powi(2)).sum::<f32>() as f64);
    // Distances summed in another order may tie-break differently only on exact ties, which
    // random data does not produce.
    assert_eq!(got, reference(dist.view(), 1));
}

#[kernel]
fn medians(x: Array2<f64>, q: f64) -> (Array1<f64>, Array1<f64>, Array1<f64>) {
    (x.median_axis(Axis(1)), x.quantile_axis(Axis(0), 0.3), x.quantile_axis(Axis(1), q))
}

#[kernel]
fn median1(v: Array1<f64>) -> f64 {
    v.median_axis(Axis(0))
}

/// numpy's median of one lane: the middle element or the mean of the two middle ones; NaN
/// when the lane holds one.
fn median_ref(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    if s.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// numpy's linear quantile of one lane (its `_lerp`).
fn quantile_ref(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    if s.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pos = q * (s.len() - 1) as f64;
    let (lo, hi, t) = (s[pos.floor() as usize], s[pos.ceil() as usize], pos - pos.floor());
    let d = hi - lo;
    if t >= 0.5 {
        hi - d * (1.0 - t)
    } else {
        lo + d * t
    }
}

pub fn median_and_quantiles_are_numpys() {
    let mut rng = Rng::new(83);
    for (n, d) in [(1, 1), (1, 5), (5, 1), (7, 9), (8, 4), (40, 3)] {
        let mut x = rng.arr2_f64(n, d, -3.0, 3.0);
        if n > 5 {
            x[[2, 0]] = f64::NAN;
        }
        let (m1, q0, q1) = medians(&x, 0.75).unwrap();
        let mc = median1(x.column(0)).unwrap();
        let rows = |f: &dyn Fn(&[f64]) -> f64| x.rows().into_iter().map(|r| f(&r.to_vec())).collect::<Array1<f64>>();
        let cols = |f: &dyn Fn(&[f64]) -> f64| x.columns().into_iter().map(|c| f(&c.to_vec())).collect::<Array1<f64>>();
        let same = |a: &Array1<f64>, b: &Array1<f64>, what: &str| {
            assert_eq!(a.len(), b.len(), "{what}");
            for (g, w) in a.iter().zip(b) {
                assert!(g.to_bits() == w.to_bits() || (g - w).abs() <= 1e-12 * w.abs(), "{what}: {g} vs {w}");
            }
        };
        same(&m1, &rows(&median_ref), "median_axis(Axis(1))");
        same(&q0, &cols(&|v| quantile_ref(v, 0.3)), "quantile_axis(Axis(0), 0.3)");
        same(&q1, &rows(&|v| quantile_ref(v, 0.75)), "quantile_axis(Axis(1), q)");
        let c0 = median_ref(&x.column(0).to_vec());
        assert!(mc.to_bits() == c0.to_bits() || (mc - c0).abs() <= 1e-12 * c0.abs(), "median of a column");
    }
}

pub fn empty_lanes_and_quantiles_out_of_range_are_errors() {
    let x = Array2::<f64>::zeros((0, 3));
    assert!(matches!(medians(&x, 0.5).unwrap_err(), kiln::Error::IndexOutOfBounds { .. }));
    let x = Array2::<f64>::zeros((3, 3));
    for q in [1.5, -0.5] {
        assert!(matches!(medians(&x, q).unwrap_err(), kiln::Error::IndexOutOfBounds { .. }), "q = {q}");
    }
}

#[kernel]
fn knn(x: Array2<f32>, c: Array2<f32>) -> (Array2<f32>, Array2<i64>, Array2<f32>, Array2<i64>) {
    let (n, d) = x.dim();
    let (m, _) = c.dim();
    let dist = Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
    let (near, near_at) = dist.smallest_k_axis(Axis(1), 3);
    let (far, far_at) = dist.largest_k_axis(Axis(1), 2);
    (near, near_at, far, far_at)
}

pub fn k_nearest_fused_with_a_distance_comprehension() {
    // The distances are recomputed by each selection, never stored as an n x m buffer.
    let lp = knn::kernel().loops(None).unwrap();
    assert!(lp.temps().all(|(_, b)| b.shape.len() != 2), "{lp}");
    let mut rng = Rng::new(84);
    for (n, m) in [(1, 3), (5, 7), (12, 40)] {
        let (x, c) = (rng.arr2_f32(n, 4, -1.0, 1.0), rng.arr2_f32(m, 4, -1.0, 1.0));
        let (near, near_at, far, far_at) = knn(&x, &c).unwrap();
        let dist = Array2::from_shape_fn((n, m), |(i, j)| (0..4).map(|l| (x[[i, l]] - c[[j, l]]).powi(2)).sum::<f32>());
        let asc = reference(dist.mapv(f64::from).view(), 1);
        let desc = reference(dist.mapv(|v| -f64::from(v)).view(), 1);
        assert_eq!(near_at, asc.slice_axis(NdAxis(1), Slice::from(0..3)), "smallest 3 of {m}");
        assert_eq!(far_at, desc.slice_axis(NdAxis(1), Slice::from(0..2)), "largest 2 of {m}");
        for ((i, t), v) in near.indexed_iter() {
            assert!((v - dist[[i, near_at[[i, t]] as usize]]).abs() <= 1e-5, "near value");
        }
        for ((i, t), v) in far.indexed_iter() {
            assert!((v - dist[[i, far_at[[i, t]] as usize]]).abs() <= 1e-5, "far value");
        }
    }
}

#[kernel]
fn smallest(x: Array2<f64>) -> (Array2<f64>, Array2<i64>) {
    x.smallest_k_axis(Axis(0), 2)
}

pub fn smallest_k_with_ties_nan_and_k_past_the_axis() {
    let mut rng = Rng::new(85);
    let x = tied(&mut rng, 9, 4);
    let (v, at) = smallest(&x).unwrap();
    let want = reference(x.view(), 0).slice_axis(NdAxis(0), Slice::from(0..2)).to_owned();
    assert_eq!(at, want);
    let bits = |a: &Array2<f64>| a.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&v), bits(&Array2::from_shape_fn((2, 4), |(t, j)| x[[want[[t, j]] as usize, j]])));
    let short = Array2::<f64>::zeros((1, 4));
    assert!(matches!(smallest(&short).unwrap_err(), kiln::Error::IndexOutOfBounds { .. }));
}

// ---- Long lanes: the radix sort (at least 1028 elements for 32-bit keys, 2056 for 64-bit) ----

#[kernel]
fn sorts32(x: Array2<f32>) -> (Array2<f32>, Array2<i64>, Array2<f32>, Array2<i64>) {
    (x.sort_axis(Axis(0)), x.argsort_axis(Axis(0)), x.sort_axis(Axis(1)), x.argsort_axis(Axis(1)))
}

#[kernel]
fn argsorts64(x: Array2<f64>) -> (Array2<i64>, Array2<i64>) {
    (x.argsort_axis(Axis(0)), x.argsort_axis(Axis(1)))
}

#[kernel]
fn int_argsorts(
    a: Array1<i32>,
    b: Array1<i64>,
    c: Array1<u32>,
) -> (Array1<i64>, Array1<i64>, Array1<i64>, Array1<i64>) {
    (a.argsort_axis(Axis(0)), b.argsort_axis(Axis(0)), c.argsort_axis(Axis(0)), b.sort_axis(Axis(0)))
}

/// Stable argsort of every lane along `axis` under `before` (strictly before).
fn reference_by<T: Copy>(x: ArrayView2<'_, T>, axis: usize, before: impl Fn(T, T) -> bool) -> Array2<i64> {
    let mut out = Array2::<i64>::zeros(x.raw_dim());
    for (lane, mut o) in x.lanes(NdAxis(axis)).into_iter().zip(out.lanes_mut(NdAxis(axis))) {
        let mut idx: Vec<usize> = (0..lane.len()).collect();
        idx.sort_by(|&a, &b| match (before(lane[a], lane[b]), before(lane[b], lane[a])) {
            (true, _) => std::cmp::Ordering::Less,
            (_, true) => std::cmp::Ordering::Greater,
            _ => std::cmp::Ordering::Equal,
        });
        for (t, i) in idx.into_iter().enumerate() {
            o[t] = i as i64;
        }
    }
    out
}

/// Long-lane values: `case` 0 random with ties, NaNs of both signs and other payloads, +-inf,
/// +-0.0 and subnormals; 1 all equal; 2 sorted; 3 reversed.
fn long_f64(rng: &mut Rng, case: usize, n: usize, d: usize) -> Array2<f64> {
    let specials = [
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_dead_0000),
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        1e-310,
        -1e-310,
        f64::MAX,
    ];
    Array2::from_shape_fn((n, d), |(i, j)| match case {
        0 => match rng.int(0, 30) {
            0 => specials[rng.int(0, specials.len() as i64 - 1) as usize],
            r => (r % 7) as f64 - 3.5 + rng.int(0, 3) as f64 * 0.25,
        },
        1 => 2.5,
        2 => (i * d + j) as f64 - 999.5,
        _ => 999.5 - (i * d + j) as f64,
    })
}

pub fn long_lanes_radix_sort_floats_with_nan_inf_and_signed_zeros() {
    let mut rng = Rng::new(84);
    let nan_last = |a: f64, b: f64| a < b || (b.is_nan() && !a.is_nan());
    for (n, d) in [(1027, 2), (1028, 1), (2, 1029), (2056, 2), (1, 2300), (4100, 1)] {
        for case in 0..4 {
            let x = long_f64(&mut rng, case, n, d);
            let x32 = x.mapv(|v| {
                if v.is_nan() {
                    f32::from_bits(v.to_bits().rotate_left(32) as u32 | 0x7fc0_0000)
                } else {
                    v as f32
                }
            });
            let x32 = if case == 0 { x32.mapv(|v| if v == 2.5 { -f32::NAN } else { v }) } else { x32 };
            let (s0, a0, s1, a1) = sorts32(&x32).unwrap();
            let before32 = |a: f32, b: f32| a < b || (b.is_nan() && !a.is_nan());
            let (r0, r1) = (reference_by(x32.view(), 0, before32), reference_by(x32.view(), 1, before32));
            assert_eq!(a0, r0, "f32 argsort_axis(Axis(0)) of {n}x{d}, case {case}");
            assert_eq!(a1, r1, "f32 argsort_axis(Axis(1)) of {n}x{d}, case {case}");
            let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let w0 = Array2::from_shape_fn((n, d), |(t, j)| x32[[r0[[t, j]] as usize, j]]);
            let w1 = Array2::from_shape_fn((n, d), |(i, t)| x32[[i, r1[[i, t]] as usize]]);
            assert_eq!(bits(&s0), bits(&w0), "f32 sort_axis(Axis(0)) of {n}x{d}, case {case}");
            assert_eq!(bits(&s1), bits(&w1), "f32 sort_axis(Axis(1)) of {n}x{d}, case {case}");
            let (b0, b1) = argsorts64(&x).unwrap();
            assert_eq!(b0, reference_by(x.view(), 0, nan_last), "f64 argsort_axis(Axis(0)) of {n}x{d}, case {case}");
            assert_eq!(b1, reference_by(x.view(), 1, nan_last), "f64 argsort_axis(Axis(1)) of {n}x{d}, case {case}");
        }
    }
}

pub fn long_lanes_radix_sort_strided_views() {
    let mut rng = Rng::new(85);
    let x = long_f64(&mut rng, 0, 6, 2100);
    let t = x.t().to_owned();
    let stepped = x.slice_axis(NdAxis(0), Slice::new(0, None, 2));
    let nan_last = |a: f64, b: f64| a < b || (b.is_nan() && !a.is_nan());
    for v in [t.t(), stepped] {
        let (b0, b1) = argsorts64(v).unwrap();
        assert_eq!(b0, reference_by(v, 0, nan_last));
        assert_eq!(b1, reference_by(v, 1, nan_last));
    }
}

pub fn long_lanes_radix_sort_integers_stably_with_negatives_and_extremes() {
    let mut rng = Rng::new(86);
    for n in [1028, 2056, 3001] {
        let b = Array1::from_shape_fn(n, |i| match i % 101 {
            3 => i64::MIN,
            5 => i64::MAX,
            7 => -1,
            _ => rng.int(-40, 40) * if i % 2 == 0 { 1 << 36 } else { 1 },
        });
        let a = b.mapv(|v| (v >> 8) as i32 ^ (v as i32));
        let c = a.mapv(|v| v as u32);
        let (ga, gb, gc, sb) = int_argsorts(&a, &b, &c).unwrap();
        let col = |x: &Array1<i64>| x.clone().insert_axis(NdAxis(1));
        assert_eq!(col(&ga), reference_by(a.view().insert_axis(NdAxis(1)), 0, |p: i32, q: i32| p < q), "i32 of {n}");
        assert_eq!(col(&gb), reference_by(b.view().insert_axis(NdAxis(1)), 0, |p: i64, q: i64| p < q), "i64 of {n}");
        assert_eq!(col(&gc), reference_by(c.view().insert_axis(NdAxis(1)), 0, |p: u32, q: u32| p < q), "u32 of {n}");
        let mut want = b.to_vec();
        want.sort();
        assert_eq!(sb.to_vec(), want, "i64 sort_axis of {n}");
    }
}
