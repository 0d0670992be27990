//! Scans (`scan sum|prod|min|max` along an axis): the array interpreter against a plain-Rust
//! prefix fold (exact for integers and min/max, within rounding for float sums), the lowered
//! loop IR against the interpreter bit for bit (the blocked order is one definition), on empty,
//! length-1, shorter-than-the-chunk-count and longer axes, on every axis, with NaN.

use kiln_ir::interp::run;
use kiln_ir::loop_interp::run_loops;
use kiln_ir::lower::lower;
use kiln_ir::parse::parse_program;
use kiln_ir::{Program, Value};
use ndarray::{ArrayD, Axis, IxDyn};

fn program(op: &str, dtype: &str, axis: usize) -> Program {
    let text = format!(
        "kernel scan(x: {dtype}[n, d]) -> {dtype}[n, d] {{\n  v0: {dtype}[n, d] = param 0\n  \
         v1: {dtype}[n, d] = scan {op} v0 axis {axis}\n  return v1\n}}\n"
    );
    parse_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Values in -10..10 with two decimals (exact in f64 sums of a few thousand terms).
fn f64s(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 40) % 2000) as f64 / 100.0 - 10.0
    })
}

/// The sequential inclusive prefix fold of every lane along `axis`.
fn reference<T: Copy>(a: &ArrayD<T>, axis: usize, f: impl Fn(T, T) -> T) -> ArrayD<T> {
    let mut out = a.clone();
    for mut lane in out.lanes_mut(Axis(axis)) {
        for j in 1..lane.len() {
            lane[j] = f(lane[j - 1], lane[j]);
        }
    }
    out
}

/// Lower `p` and run it on the loop interpreter; it must equal the array interpreter bitwise.
fn run_both(p: &Program, x: Value) -> Value {
    let want = run(p, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{e}\n{p}"));
    let lp = lower(p).unwrap_or_else(|e| panic!("{e}\n{p}"));
    let got = run_loops(&lp, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{e}\n{lp}"));
    assert_eq!(format!("{got:?}"), format!("{want:?}"), "loops differ from the interpreter:\n{lp}");
    want.into_iter().next().unwrap()
}

const SHAPES: [[usize; 2]; 6] = [[0, 3], [1, 3], [5, 2], [63, 1], [200, 3], [1000, 2]];

#[test]
fn integer_scans_are_the_exact_prefix_folds_on_every_axis() {
    for shape in SHAPES {
        for axis in 0..2 {
            let x = f64s(&shape, 7).mapv(|v| (v * 100.0) as i64);
            let ops: [(&str, fn(i64, i64) -> i64); 3] =
                [("sum", |a, b| a.wrapping_add(b)), ("min", |a, b| a.min(b)), ("max", |a, b| a.max(b))];
            for (op, f) in ops {
                let got = run_both(&program(op, "i64", axis), Value::I64(x.clone()));
                assert_eq!(got, Value::I64(reference(&x, axis, f)), "{op} {shape:?} axis {axis}");
            }
        }
    }
}

#[test]
fn float_scans_match_the_prefix_folds_and_the_loops_bit_for_bit() {
    for shape in SHAPES {
        for axis in 0..2 {
            let x = f64s(&shape, 3);
            // Two-decimal values summed in f64: every blocked partial is exact to 1e-9.
            let Value::F64(sum) = run_both(&program("sum", "f64", axis), Value::F64(x.clone())) else { panic!() };
            let want = reference(&x, axis, |a, b| a + b);
            assert!(sum.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6), "sum {shape:?} axis {axis}");
            let Value::F64(max) = run_both(&program("max", "f64", axis), Value::F64(x.clone())) else { panic!() };
            assert_eq!(max, reference(&x, axis, f64::max), "max {shape:?} axis {axis}");
            let y = x.mapv(|v| 1.0 + v / 1000.0);
            let Value::F64(prod) = run_both(&program("prod", "f64", axis), Value::F64(y.clone())) else { panic!() };
            let want = reference(&y, axis, |a, b| a * b);
            assert!(prod.iter().zip(&want).all(|(a, b)| (a - b).abs() <= 1e-12 * b.abs()), "prod {shape:?}");
            let xf = x.mapv(|v| v as f32);
            run_both(&program("sum", "f32", axis), Value::F32(xf.clone()));
            run_both(&program("min", "f32", axis), Value::F32(xf));
        }
    }
}

#[test]
fn a_nan_propagates_through_every_later_running_max_and_min() {
    let mut x = f64s(&[300, 1], 5);
    x[[150, 0]] = f64::NAN;
    for op in ["max", "min"] {
        let Value::F64(got) = run_both(&program(op, "f64", 0), Value::F64(x.clone())) else { panic!() };
        assert!(got.iter().take(150).all(|v| !v.is_nan()), "{op}: NaN before its position");
        assert!(got.iter().skip(150).all(|v| v.is_nan()), "{op}: NaN lost after its position");
    }
}

#[test]
fn a_strided_operand_scans_like_its_contiguous_copy() {
    let x = f64s(&[200, 3], 9);
    let t = x.clone().reversed_axes();
    let strided = t.t().to_owned();
    assert!(!t.is_standard_layout());
    let p = program("sum", "f64", 0);
    let a = run_both(&p, Value::F64(x));
    let b = run_both(&p, Value::F64(t.reversed_axes()));
    assert_eq!(a, b);
    assert_eq!(a, run_both(&p, Value::F64(strided)));
}

#[test]
fn the_verifier_refuses_arg_scans_and_axes_out_of_range() {
    for (op, axis, why) in [("argmax", 0, "scan argmax is not defined"), ("sum", 2, "scan axis 2 is out of range")] {
        let p = program(op, "f32", axis);
        let err = kiln_ir::verify::verify(&p).unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn two_scans_of_one_shape_stay_right_when_their_kernels_merge() {
    // The second scan's totals kernel has the first's prefix kernel's domain, so the fuse pass
    // may merge them (it does: three kernels, not four); the results must not change.
    let text = "kernel two(x: f64[n, d]) -> (f64[n, d], f64[n, d]) {\n  v0: f64[n, d] = param 0\n  \
                v1: f64[n, d] = scan sum v0 axis 0\n  v2: f64[n, d] = unary neg v0\n  \
                v3: f64[n, d] = scan max v2 axis 0\n  return v1, v3\n}\n";
    let p = parse_program(text).unwrap();
    let x = Value::F64(f64s(&[150, 3], 11));
    let want = run(&p, std::slice::from_ref(&x)).unwrap();
    let lp = lower(&p).unwrap();
    assert_eq!(lp.kernels.len(), 3, "{lp}");
    assert_eq!(run_loops(&lp, std::slice::from_ref(&x)).unwrap(), want, "{lp}");
    let Value::F64(xs) = &x else { panic!() };
    assert_eq!(want[1], Value::F64(reference(&xs.mapv(|v| -v), 0, f64::max)));
}
