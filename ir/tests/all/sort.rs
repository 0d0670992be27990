//! Sorts (`sort` / `argsort` along an axis): the interpreter against Rust's stable sort with
//! NaN last, and the lowered merge-sort loop IR against the interpreter bit for bit, on empty,
//! length-1, odd, power-of-two and longer axes, with ties, `-0.0` and NaN.

use kiln_ir::interp::run;
use kiln_ir::loop_interp::run_loops;
use kiln_ir::lower::lower;
use kiln_ir::parse::parse_program;
use kiln_ir::{Program, Value};
use ndarray::{ArrayD, Axis, IxDyn};

fn program(what: &str, dtype: &str, out: &str, axis: usize) -> Program {
    let text = format!(
        "kernel s(x: {dtype}[n, d]) -> {out}[n, d] {{\n  v0: {dtype}[n, d] = param 0\n  \
         v1: {out}[n, d] = {what} v0 axis {axis}\n  return v1\n}}\n"
    );
    parse_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn run_both(p: &Program, x: Value) -> Value {
    let want = run(p, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{e}\n{p}"));
    let lp = lower(p).unwrap_or_else(|e| panic!("{e}\n{p}"));
    kiln_ir::loops::verify_loops(&lp).unwrap_or_else(|e| panic!("{e}\n{lp}"));
    let got = run_loops(&lp, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{e}\n{lp}"));
    assert_eq!(format!("{got:?}"), format!("{want:?}"), "loops differ from the interpreter:\n{lp}");
    want.into_iter().next().unwrap()
}

/// Few distinct values (many ties), a `-0.0` beside `0.0`, and a NaN now and then.
fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        match (s >> 33) % 13 {
            0 => f64::NAN,
            1 => -0.0,
            r => (r as f64 - 6.0) / 2.0,
        }
    })
}

/// Stable argsort of every lane along `axis`, NaN last.
fn reference(x: &ArrayD<f64>, axis: usize) -> ArrayD<i64> {
    let mut out = ArrayD::<i64>::zeros(x.raw_dim());
    for (lane, mut o) in x.lanes(Axis(axis)).into_iter().zip(out.lanes_mut(Axis(axis))) {
        let mut idx: Vec<usize> = (0..lane.len()).collect();
        idx.sort_by(|&a, &b| match (lane[a].is_nan(), lane[b].is_nan()) {
            (false, false) => lane[a].partial_cmp(&lane[b]).unwrap(),
            (x, y) => x.cmp(&y),
        });
        for (t, i) in idx.into_iter().enumerate() {
            o[t] = i as i64;
        }
    }
    out
}

const SHAPES: [[usize; 2]; 7] = [[0, 3], [1, 3], [2, 2], [7, 3], [16, 1], [33, 2], [300, 2]];

#[test]
fn argsort_is_numpys_stable_order_with_nan_last_on_every_axis() {
    for shape in SHAPES {
        for axis in 0..2 {
            let x = data(&shape, shape[0] as u64 + 3);
            let got = run_both(&program("argsort", "f64", "i64", axis), Value::F64(x.clone()));
            assert_eq!(got, Value::I64(reference(&x, axis)), "{shape:?} axis {axis}");
            let Value::F64(sorted) = run_both(&program("sort", "f64", "f64", axis), Value::F64(x.clone())) else {
                panic!()
            };
            let want = reference(&x, axis);
            for (lane, (xs, ws)) in
                x.lanes(Axis(axis)).into_iter().zip(sorted.lanes(Axis(axis)).into_iter().zip(want.lanes(Axis(axis))))
            {
                for (v, i) in xs.iter().zip(ws) {
                    assert_eq!(v.to_bits(), lane[*i as usize].to_bits(), "{shape:?} axis {axis}");
                }
            }
        }
    }
}

#[test]
fn integer_sorts_are_stable() {
    let x = data(&[41, 2], 1).mapv(|v| if v.is_nan() { 9 } else { (v * 2.0) as i32 });
    let got = run_both(&program("argsort", "i32", "i64", 0), Value::I32(x.clone()));
    assert_eq!(got, Value::I64(reference(&x.mapv(f64::from), 0)));
    run_both(&program("sort", "i32", "i32", 1), Value::I32(x));
}

#[test]
fn the_loop_verifier_checks_the_sort_hints_unit_axis() {
    let mut lp = lower(&program("argsort", "f32", "i64", 0)).unwrap();
    let k = lp.kernels.iter_mut().find(|k| k.hint == kiln_ir::loops::KernelHint::Sort).expect("a sort kernel");
    k.domain[0].1 = kiln_ir::Dim::Const(2);
    let err = kiln_ir::loops::verify_loops(&lp).unwrap_err().to_string();
    assert!(err.contains("first domain axis does not have extent 1"), "{err}");
}

fn topk_program(which: &str, what: &str, out: &str, k: &str) -> Program {
    let text = format!(
        "kernel t(x: f64[n, d]) -> {out}[n, {k}] {{\n  v0: f64[n, d] = param 0\n  \
         v1: {out}[n, {k}] = topk {which} {what} v0 axis 1 k {k}\n  return v1\n}}\n"
    );
    parse_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn topk_is_the_stable_sorts_first_k_with_ties_and_nan() {
    for d in [3usize, 4, 9, 40] {
        let x = data(&[6, d], d as u64);
        let asc = reference(&x, 1);
        let desc = reference(&x.mapv(|v| -v), 1);
        for k in [0usize, 1, 3] {
            let ks = k.to_string();
            for (which, order) in [("smallest", &asc), ("largest", &desc)] {
                let got = run_both(&topk_program(which, "indices", "i64", &ks), Value::F64(x.clone()));
                let want = order.slice_axis(Axis(1), ndarray::Slice::from(0..k)).to_owned();
                assert_eq!(got, Value::I64(want.clone()), "{which} {k} of {d}");
                let Value::F64(vals) = run_both(&topk_program(which, "values", "f64", &ks), Value::F64(x.clone()))
                else {
                    panic!()
                };
                for ((i, t), v) in vals.indexed_iter().map(|(ix, v)| ((ix[0], ix[1]), v)) {
                    assert_eq!(v.to_bits(), x[[i, want[[i, t]] as usize]].to_bits(), "{which} values");
                }
            }
        }
    }
}

#[test]
fn topk_past_the_lane_is_an_error_on_both_interpreters() {
    let p = topk_program("smallest", "indices", "i64", "5");
    let x = Value::F64(data(&[2, 4], 1));
    let err = run(&p, std::slice::from_ref(&x)).unwrap_err().to_string();
    assert!(err.contains("index 4 is out of range for axis 1"), "{err}");
    let lp = lower(&p).unwrap();
    assert!(run_loops(&lp, std::slice::from_ref(&x)).is_err());
}

/// Stable argsort of every lane along `axis` under `before` (strictly before).
fn reference_by<T: Copy>(x: &ArrayD<T>, axis: usize, before: impl Fn(T, T) -> bool) -> ArrayD<i64> {
    let mut out = ArrayD::<i64>::zeros(x.raw_dim());
    for (lane, mut o) in x.lanes(Axis(axis)).into_iter().zip(out.lanes_mut(Axis(axis))) {
        let mut idx: Vec<usize> = (0..lane.len()).collect();
        idx.sort_by(|&a, &b| {
            if before(lane[a], lane[b]) {
                std::cmp::Ordering::Less
            } else if before(lane[b], lane[a]) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        for (t, i) in idx.into_iter().enumerate() {
            o[t] = i as i64;
        }
    }
    out
}

/// Lengths of the long-lane (radix) path: around its threshold for 32-bit (1028) and 64-bit
/// (2056) keys, and past them.
const LONG: [usize; 6] = [1027, 1028, 1029, 2055, 2056, 2300];

/// Values for lane `i` of a long-lane case `case`: random with ties and special values, all
/// equal, sorted, reversed.
fn long_case(case: usize, len: usize, specials: &[f64]) -> Vec<f64> {
    let mut s = (case as u64 + 7).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..len)
        .map(|i| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            match case {
                0 => {
                    let r = (s >> 33) % 1000;
                    if r < 40 {
                        specials[(r as usize) % specials.len()]
                    } else {
                        ((s >> 40) % 97) as f64 - 48.0 + if r.is_multiple_of(2) { 0.25 } else { 0.0 }
                    }
                }
                1 => 3.0,
                2 => i as f64 - 500.0,
                _ => 500.0 - i as f64,
            }
        })
        .collect()
}

#[test]
fn long_float_lanes_radix_sort_as_the_merge_sort_with_nan_inf_and_signed_zeros() {
    let nan32 = [f32::NAN, -f32::NAN, f32::from_bits(0x7fc1_2345), f32::from_bits(0xffa0_0001)];
    let nan64 = [f64::NAN, -f64::NAN, f64::from_bits(0x7ff8_0000_dead_0000), f64::from_bits(0xfff0_0000_0000_0001)];
    let specials =
        [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, 1e-310, -1e-310, f64::MAX, f64::MIN, 1e-40, -1e-40, 0.5];
    let before = |a: f64, b: f64| a < b || (b.is_nan() && !a.is_nan());
    for len in LONG {
        for case in 0..4 {
            for axis in 0..2 {
                let lanes: Vec<Vec<f64>> = (0..2).map(|l| long_case(case + 4 * l, len, &specials)).collect();
                let shape = if axis == 0 { [len, 2] } else { [2, len] };
                // Every 50th element a NaN of another sign or payload (case 0 only).
                let x64 = ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
                    let (l, t) = if axis == 0 { (ix[1], ix[0]) } else { (ix[0], ix[1]) };
                    if case == 0 && t % 50 == 7 {
                        nan64[(t / 50) % 4]
                    } else {
                        lanes[l][t]
                    }
                });
                let x32 = ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
                    let (l, t) = if axis == 0 { (ix[1], ix[0]) } else { (ix[0], ix[1]) };
                    if case == 0 && t % 50 == 7 {
                        nan32[(t / 50) % 4]
                    } else {
                        lanes[l][t] as f32
                    }
                });
                let want = reference_by(&x64, axis, before);
                let got = run_both(&program("argsort", "f64", "i64", axis), Value::F64(x64.clone()));
                assert_eq!(got, Value::I64(want), "f64 {len} case {case} axis {axis}");
                let want = reference_by(&x32, axis, |a: f32, b: f32| a < b || (b.is_nan() && !a.is_nan()));
                let got = run_both(&program("argsort", "f32", "i64", axis), Value::F32(x32.clone()));
                assert_eq!(got, Value::I64(want.clone()), "f32 {len} case {case} axis {axis}");
                // Sorted values keep their bits (-0.0, NaN payloads).
                let Value::F32(sorted) = run_both(&program("sort", "f32", "f32", axis), Value::F32(x32.clone())) else {
                    panic!()
                };
                for (lane, (xs, ws)) in x32
                    .lanes(Axis(axis))
                    .into_iter()
                    .zip(sorted.lanes(Axis(axis)).into_iter().zip(want.lanes(Axis(axis))))
                {
                    for (v, i) in xs.iter().zip(ws) {
                        assert_eq!(v.to_bits(), lane[*i as usize].to_bits(), "f32 {len} case {case} axis {axis}");
                    }
                }
            }
        }
    }
}

#[test]
fn long_integer_lanes_radix_sort_stably_with_negatives_and_extremes() {
    for len in LONG {
        for case in 0..4 {
            let lane = long_case(case, len, &[0.0]);
            let x64 = ArrayD::from_shape_fn(IxDyn(&[len, 2]), |ix| match (ix[1], ix[0] % 97) {
                (1, 3) => i64::MIN,
                (1, 5) => i64::MAX,
                (1, 9) => -1,
                (l, _) => (lane[ix[0]] as i64) * if l == 1 { 1 << 40 } else { 1 },
            });
            let want = reference_by(&x64, 0, |a: i64, b: i64| a < b);
            assert_eq!(run_both(&program("argsort", "i64", "i64", 0), Value::I64(x64.clone())), Value::I64(want));
            run_both(&program("sort", "i64", "i64", 0), Value::I64(x64.clone()));
            let x32 = x64.mapv(|v| (v >> if v.unsigned_abs() > 1 << 31 { 32 } else { 0 }) as i32);
            let want = reference_by(&x32, 0, |a: i32, b: i32| a < b);
            assert_eq!(run_both(&program("argsort", "i32", "i64", 0), Value::I32(x32.clone())), Value::I64(want));
            run_both(&program("sort", "i32", "i32", 0), Value::I32(x32.clone()));
            let xu = x32.mapv(|v| v as u32);
            let want = reference_by(&xu, 0, |a: u32, b: u32| a < b);
            assert_eq!(run_both(&program("argsort", "u32", "i64", 0), Value::U32(xu.clone())), Value::I64(want));
        }
    }
}

#[test]
fn the_schedule_radix_sorts_long_lanes_and_merge_sorts_short_ones() {
    // One kernel holds both: `if n >= 1028 { radix } else { merge }` for f32 (2056 for f64).
    let lp = lower(&program("argsort", "f32", "i64", 0)).unwrap();
    let text = lp.to_string();
    assert!(text.contains("bitcast.u32("), "{text}");
    assert!(text.contains("ge(dim(n), i64:1028)"), "{text}");
    let lp = lower(&program("argsort", "f64", "i64", 0)).unwrap();
    assert!(lp.to_string().contains("ge(dim(n), i64:2056)"), "{lp}");
    // bool keeps the merge sort only.
    let lp = lower(&program("argsort", "bool", "i64", 0)).unwrap();
    assert!(!lp.to_string().contains("bitcast"), "{lp}");
}
