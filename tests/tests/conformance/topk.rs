//! The chunked top-k pass (`smallest_k_axis` / `largest_k_axis` over float lanes whose element
//! is straight-line code: a load, arithmetic on loads): each chunk of 32 `f32` or 16 `f64`
//! elements is first reduced to its best element and only a chunk that could enter runs the
//! per-element insertion. Checked against a plain-Rust stable selection (NaN after every
//! number, equal values in ascending position) on lanes shorter than a chunk, not a multiple
//! of it, exactly one or several chunks long; `k = 1`, `k` in the middle, `k = m`; ties,
//! signed zeros, NaN and infinities anywhere (in a chunk that is otherwise skipped too); an
//! arithmetic element; strided operands; empty lanes and no lanes.

use kiln::ndarray::{Array1, Array2, ArrayView2};
use kiln::prelude::*;
use kiln_tests::Rng;

/// The first `k` positions of a lane in the stable order where `before(a, b)` says `a` goes
/// strictly first and NaN goes after every number.
fn select_ref(lane: &[f64], k: usize, largest: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..lane.len()).collect();
    idx.sort_by(|&a, &b| match (lane[a].is_nan(), lane[b].is_nan()) {
        (false, false) if largest => lane[b].partial_cmp(&lane[a]).unwrap(),
        (false, false) => lane[a].partial_cmp(&lane[b]).unwrap(),
        (p, q) => p.cmp(&q),
    });
    idx.truncate(k);
    idx
}

/// The reference selection of every row of `x` (as f64, exact for f32 values): values' bits
/// and positions of the smallest `k`, then of the largest `k`.
fn reference(x: ArrayView2<'_, f64>, k: usize) -> [(Vec<u64>, Array2<i64>); 2] {
    [false, true].map(|largest| {
        let n = x.nrows();
        let mut at = Array2::<i64>::zeros((n, k));
        let mut bits = vec![];
        for (i, row) in x.rows().into_iter().enumerate() {
            let lane = row.to_vec();
            for (t, p) in select_ref(&lane, k, largest).into_iter().enumerate() {
                at[[i, t]] = p as i64;
                bits.push(lane[p].to_bits());
            }
        }
        (bits, at)
    })
}

#[kernel]
fn select_k<F: Float>(x: Array2<F>, k: usize) -> (Array2<F>, Array2<i64>, Array2<F>, Array2<i64>) {
    let (a, ai) = x.smallest_k_axis(Axis(1), k);
    let (b, bi) = x.largest_k_axis(Axis(1), k);
    (a, ai, b, bi)
}

/// A straight-line element of several loads and operations, as the k-nearest search's
/// expanded distance `|q|^2 - 2 q.x + |x|^2` (here `s[i] + g[i, j] * -2 + t[j]`).
#[kernel]
fn select_expanded(s: Array1<f32>, g: Array2<f32>, t: Array1<f32>, k: usize) -> (Array2<f32>, Array2<i64>) {
    let (n, m) = g.dim();
    let dist = Array2::from_shape_fn((n, m), |(i, j)| s[[i]] + g[[i, j]] * -2.0 + t[[j]]);
    dist.smallest_k_axis(Axis(1), k)
}

/// Lanes that exercise the chunk test: random values with ties, a rising lane (only the
/// first chunk enters), a falling one (every chunk enters), a lane whose only NaN, or only
/// infinity, sits in a late chunk, signed zeros, and an all-NaN lane.
fn lanes(rng: &mut Rng, n: usize, m: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, m), |(i, j)| match i % 8 {
        0 => rng.f64(-4.0, 4.0),
        1 => j as f64,
        2 => -(j as f64),
        3 if j + 3 == m => f64::NAN,
        3 => (j % 7) as f64,
        4 if j + 1 == m => f64::NEG_INFINITY,
        4 if j % 5 == 0 => f64::INFINITY,
        4 => rng.f64(0.0, 1.0),
        5 => [0.0, -0.0, 1.0, -1.0][rng.int(0, 4) as usize],
        6 => f64::NAN,
        _ => match rng.int(0, 9) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            r => (r / 2) as f64,
        },
    })
}

/// The selections `got` of `select_k(x, k)` (values mapped to f64 bits by `bits`) against the
/// reference.
fn check<F: Copy>(
    got: (Array2<F>, Array2<i64>, Array2<F>, Array2<i64>),
    x: &Array2<f64>,
    k: usize,
    bits: impl Fn(F) -> u64,
    what: &str,
) {
    let [(sb, sa), (lb, la)] = reference(x.view(), k);
    let (s, si, l, li) = got;
    assert_eq!(si, sa, "smallest {k} positions of {what}");
    assert_eq!(li, la, "largest {k} positions of {what}");
    assert_eq!(s.iter().map(|v| bits(*v)).collect::<Vec<_>>(), sb, "smallest {k} values of {what}");
    assert_eq!(l.iter().map(|v| bits(*v)).collect::<Vec<_>>(), lb, "largest {k} values of {what}");
}

pub fn chunked_top_k_matches_a_stable_selection() {
    let mut rng = Rng::new(90);
    // Shorter than a chunk, one chunk of f64 / f32, not a multiple, several chunks.
    for m in [1usize, 5, 15, 16, 17, 31, 32, 33, 64, 100, 257] {
        let x = lanes(&mut rng, 16, m);
        let x32 = x.mapv(|v| v as f32);
        let exact = x32.mapv(f64::from);
        for k in [1, m.min(3), m.min(10), m] {
            let what = format!("16 x {m}");
            check(select_k(&x, k).unwrap(), &x, k, f64::to_bits, &format!("{what} f64"));
            check(select_k(&x32, k).unwrap(), &exact, k, |v: f32| f64::from(v).to_bits(), &format!("{what} f32"));
        }
    }
}

pub fn chunked_top_k_of_strided_operands() {
    let mut rng = Rng::new(91);
    let x = lanes(&mut rng, 16, 70);
    // A transposed copy's view (lanes with a stride of 16) and every other column.
    let t = x.t().to_owned();
    let stepped = x.slice(kiln::ndarray::s![.., ..;2]).to_owned();
    for k in [1, 4, 35] {
        check(select_k(t.t(), k).unwrap(), &x, k, f64::to_bits, "a transposed view");
        check(
            select_k(x.slice(kiln::ndarray::s![.., ..;2]), k).unwrap(),
            &stepped,
            k,
            f64::to_bits,
            "every other column",
        );
    }
}

pub fn chunked_top_k_of_an_arithmetic_element() {
    let mut rng = Rng::new(92);
    for (n, m, k) in [(3, 7, 2), (5, 40, 1), (9, 100, 10), (4, 129, 129)] {
        let mut g = rng.arr2_f32(n, m, -1.0, 1.0);
        let s = Array1::from_shape_fn(n, |_| rng.f64(0.0, 2.0) as f32);
        let mut t = Array1::from_shape_fn(m, |_| rng.f64(0.0, 2.0) as f32);
        // Ties: equal columns of `g` and equal `t` give equal distances.
        if m > 20 {
            t[m - 1] = t[2];
            let c2 = g.column(2).to_owned();
            g.column_mut(m - 1).assign(&c2);
        }
        let (v, at) = select_expanded(&s, &g, &t, k).unwrap();
        // The element as the kernel computes it: `(s + g * -2) + t`, in f32.
        let dist = Array2::from_shape_fn((n, m), |(i, j)| f64::from(s[i] + g[[i, j]] * -2.0 + t[j]));
        let [(bits, want), _] = reference(dist.view(), k);
        assert_eq!(at, want, "positions, {n} x {m}, k = {k}");
        assert_eq!(v.iter().map(|x| f64::from(*x).to_bits()).collect::<Vec<_>>(), bits, "values, {n} x {m}, k = {k}");
    }
}

pub fn chunked_top_k_of_empty_lanes_and_no_lanes() {
    // No rows: nothing to select, an empty result.
    let (s, si, l, li) = select_k(&Array2::<f32>::zeros((0, 40)), 3).unwrap();
    assert_eq!((s.dim(), si.dim(), l.dim(), li.dim()), ((0, 3), (0, 3), (0, 3), (0, 3)));
    // Lanes shorter than `k` (empty ones too): an error, as before the chunks.
    for m in [0, 2] {
        let x = Array2::<f64>::zeros((4, m));
        assert!(matches!(select_k(&x, 3).unwrap_err(), kiln::Error::IndexOutOfBounds { .. }), "m = {m}");
    }
}

pub fn chunked_top_k_tests_chunks_with_vector_instructions() {
    // The CPU backend runs each chunk's reduction as a vector loop (`f32x4` / `f64x2` lanes).
    for (float, lanes) in [(kiln::DType::F32, "f32x4"), (kiln::DType::F64, "f64x2")] {
        let clif = select_k::kernel().clif(Some(float)).unwrap();
        assert!(clif.contains(lanes), "{float:?}: no {lanes} in the top-k kernels\n{clif}");
    }
    let clif = select_expanded::kernel().clif(None).unwrap();
    assert!(clif.contains("f32x4"), "the expanded distance's chunks\n{clif}");
}
