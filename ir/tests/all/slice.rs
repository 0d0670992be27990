//! `slice` in the array IR: bounds read from scalar parameters (which the `#[kernel]` tests
//! cannot reach through today's runtime), on the interpreter and on the lowered loop program,
//! against plain index loops; binding errors; the text round trip; verifier rules.

use kiln_ir::interp::{run, InterpError};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::lower::lower;
use kiln_ir::parse::parse_program;
use kiln_ir::shapes::{bind, bind_with_scalars};
use kiln_ir::verify::verify;
use kiln_ir::{BindError, DType, Value};
use ndarray::{arr0, ArrayD, IxDyn};

/// `x.slice(s![k..])` and `y.slice(s![.., j])` with `k: i64`, `j: i32`.
const TEXT: &str = "kernel tails(x: f32[n], k: i64[], y: f64[r, c], j: i32[]) -> (f32[m], f64[r]) {
  syms n, m, r, c
  derive m = n[p1..]
  v0: f32[n] = param 0
  v1: i64[] = param 1
  v2: f64[r, c] = param 2
  v3: i32[] = param 3
  v4: f32[m] = slice v0 [p1..]
  v5: f64[r] = slice v2 [.., p3]
  return v4, v5
}
";

fn args(n: usize, k: i64, r: usize, c: usize, j: i32) -> Vec<Value> {
    let x = ArrayD::from_shape_fn(IxDyn(&[n]), |i| i[0] as f32 * 1.5 - 2.0);
    let y = ArrayD::from_shape_fn(IxDyn(&[r, c]), |i| (i[0] * 10 + i[1]) as f64);
    vec![Value::F32(x), Value::I64(arr0(k).into_dyn()), Value::F64(y), Value::I32(arr0(j).into_dyn())]
}

/// What ndarray selects, by hand: `x[k..]` and `y[.., j]` with negative values from the end.
fn expected(n: usize, k: i64, r: usize, c: usize, j: i32) -> (Vec<f32>, Vec<f64>) {
    let start = if k < 0 { n as i64 + k } else { k } as usize;
    let col = if j < 0 { c as i64 + j as i64 } else { j as i64 } as usize;
    let xs = (start..n).map(|i| i as f32 * 1.5 - 2.0).collect();
    let ys = (0..r).map(|i| (i * 10 + col) as f64).collect();
    (xs, ys)
}

fn f32s(v: &Value) -> Vec<f32> {
    match v {
        Value::F32(a) => a.iter().copied().collect(),
        other => panic!("expected f32, got {:?}", other.dtype()),
    }
}

fn f64s(v: &Value) -> Vec<f64> {
    match v {
        Value::F64(a) => a.iter().copied().collect(),
        other => panic!("expected f64, got {:?}", other.dtype()),
    }
}

#[test]
fn parameter_bounds_on_interpreter_and_loops() {
    let p = parse_program(TEXT).unwrap();
    verify(&p).unwrap();
    assert_eq!(p.to_string(), TEXT, "the text round-trips");
    let lp = lower(&p).unwrap();
    for (n, k, r, c, j) in [(5, 2, 3, 4, -1), (5, -2, 2, 4, 0), (3, 3, 0, 1, 0), (1, 0, 4, 2, -2), (0, 0, 1, 3, 2)] {
        let (xs, ys) = expected(n, k, r, c, j);
        let a = args(n, k, r, c, j);
        let out = run(&p, &a).unwrap();
        assert_eq!(f32s(&out[0]), xs, "interp x[{k}..] of {n}");
        assert_eq!(f64s(&out[1]), ys, "interp y[.., {j}] of {r}x{c}");
        let out = run_loops(&lp, &a).unwrap();
        assert_eq!(f32s(&out[0]), xs, "loops x[{k}..] of {n}");
        assert_eq!(f64s(&out[1]), ys, "loops y[.., {j}] of {r}x{c}");
    }
}

#[test]
fn parameter_bounds_out_of_range_name_the_array_and_the_value() {
    let p = parse_program(TEXT).unwrap();
    let err = run(&p, &args(3, 4, 2, 2, 0)).unwrap_err();
    let InterpError::Bind(BindError::SliceOutOfRange { array, axis, bounds, len, .. }) = &err else { panic!("{err}") };
    assert_eq!((array.as_str(), *axis, *len), ("x", 0, 3), "{err}");
    assert!(bounds.contains("k..") && bounds.contains("k = 4"), "{err}");
    let err = run(&p, &args(3, 0, 2, 2, -3)).unwrap_err();
    assert!(err.to_string().contains("`y`") && err.to_string().contains("axis 1"), "{err}");
    // The loop program alone stays safe: the index check raises a flag instead of reading.
    let lp = lower(&p).unwrap();
    assert!(run_loops(&lp, &args(3, 0, 2, 2, 5)).is_err());
}

#[test]
fn binding_without_scalar_values_is_a_typed_error() {
    let p = parse_program(TEXT).unwrap();
    let shapes: Vec<(DType, &[usize])> =
        vec![(DType::F32, &[5]), (DType::I64, &[]), (DType::F64, &[2, 3]), (DType::I32, &[])];
    let err = bind(&p, None, &shapes).unwrap_err();
    assert!(matches!(&err, BindError::ScalarNeeded { param, .. } if param == "k"), "{err}");
    let syms = bind_with_scalars(&p, None, &shapes, &[None, Some(1), None, Some(0)]).unwrap();
    assert_eq!(syms, vec![5, 4, 2, 3], "m = 5 - 1");
}

#[test]
fn verifier_rejects_bad_slices() {
    let bad = [
        // A derived symbol that does not match the slice's canonical length.
        TEXT.replace("derive m = n[p1..]", "derive m = n[1..]"),
        // A bound that is not a scalar integer parameter.
        TEXT.replace("[.., p3]", "[.., p0]"),
        // One entry for a rank-2 array.
        TEXT.replace("[.., p3]", "[p3]"),
    ];
    for text in bad {
        let p = parse_program(&text).unwrap();
        assert!(verify(&p).is_err(), "accepted:\n{text}");
    }
    let static_out_of_range = "kernel k(x: f32[4]) -> f32[2] {
  v0: f32[4] = param 0
  v1: f32[2] = slice v0 [3..5]
  return v1
}
";
    let p = parse_program(static_out_of_range).unwrap();
    let errs = verify(&p).unwrap_err().to_string();
    assert!(errs.contains("out of range"), "{errs}");
}
