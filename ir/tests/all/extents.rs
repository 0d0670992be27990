//! Derived extents in the array IR: an integer scalar parameter as an extent (`param pK`) and
//! checked size arithmetic (`sub n 1`, `mul d d`), through the text round trip of both IRs,
//! the binder's typed errors naming the expression, the interpreter and the loop program.

use kiln_ir::interp::run;
use kiln_ir::loop_interp::run_loops;
use kiln_ir::lower::lower;
use kiln_ir::parse::parse_program;
use kiln_ir::shapes::bind_with_scalars;
use kiln_ir::verify::verify;
use kiln_ir::{BindError, DType, Value};
use ndarray::{arr0, ArrayD, IxDyn};

/// `(from_shape_fn(k as usize, |i| i), from_shape_fn((n - 1) * 2, |j| x[j / 2]))`.
const TEXT: &str = "kernel ext(x: i64[n], k: i64[]) -> (i64[kk], i64[m2]) {
  syms n, kk, m, m2
  derive kk = param p1
  derive m = sub n 1
  derive m2 = mul m 2
  v0: i64[n] = param 0
  v1: i64[] = index i0
  v2: i64[kk] = generate (i0 < kk) v1
  v3: i64[] = index i1
  v4: i64[] = const 2
  v5: i64[] = binary div v3 v4
  v6: i64[] = load v0 [v5]
  v7: i64[m2] = generate (i1 < m2) v6
  return v2, v7
}
";

fn args(n: usize, k: i64) -> Vec<Value> {
    let x = ArrayD::from_shape_fn(IxDyn(&[n]), |i| 10 * i[0] as i64);
    vec![Value::I64(x), Value::I64(arr0(k).into_dyn())]
}

fn ints(v: &Value) -> Vec<i64> {
    match v {
        Value::I64(a) => a.iter().copied().collect(),
        other => panic!("expected i64, got {:?}", other.dtype()),
    }
}

#[test]
fn scalar_and_computed_extents_round_trip_and_run() {
    let p = parse_program(TEXT).unwrap();
    verify(&p).unwrap();
    assert_eq!(p.to_string(), TEXT, "the text round-trips");
    let lp = lower(&p).unwrap();
    let text = lp.to_string();
    assert!(text.contains("derive kk = param p1") && text.contains("derive m2 = mul m 2"), "{text}");
    assert_eq!(kiln_ir::loops::parse_loop_program(&text).unwrap(), lp, "the loop text round-trips");
    for (n, k) in [(1usize, 0i64), (2, 1), (5, 3)] {
        let want_k: Vec<i64> = (0..k).collect();
        let want_x: Vec<i64> = (0..2 * (n - 1)).map(|j| 10 * (j / 2) as i64).collect();
        for (who, out) in [("interp", run(&p, &args(n, k)).unwrap()), ("loops", run_loops(&lp, &args(n, k)).unwrap())] {
            assert_eq!(ints(&out[0]), want_k, "{who} n={n} k={k}");
            assert_eq!(ints(&out[1]), want_x, "{who} n={n} k={k}");
        }
    }
}

#[test]
fn negative_and_overflowing_extents_are_typed_errors_naming_the_expression() {
    let p = parse_program(TEXT).unwrap();
    let shapes = |n: usize| vec![(DType::I64, vec![n]), (DType::I64, vec![])];
    let bind = |n: usize, k: i64| {
        let s = shapes(n);
        let s: Vec<(DType, &[usize])> = s.iter().map(|(d, v)| (*d, v.as_slice())).collect();
        bind_with_scalars(&p, None, &s, &[None, Some(k)])
    };
    assert_eq!(bind(4, 2).unwrap(), vec![4, 2, 3, 6]);
    let err = bind(4, -2).unwrap_err();
    assert!(matches!(&err, BindError::NegativeExtent { expr, value: -2, .. } if expr == "k"), "{err}");
    let err = bind(0, 1).unwrap_err();
    assert!(matches!(&err, BindError::NegativeExtent { expr, .. } if expr == "n - 1"), "{err}");
    assert!(err.to_string().contains("n = 0"), "{err}");
    let err = bind(usize::MAX, 1).unwrap_err();
    assert!(matches!(&err, BindError::ExtentOverflow { expr, .. } if expr == "(n - 1) * 2"), "{err}");
    // The loop program binds through the same binder: the same errors, before anything runs.
    let lp = lower(&p).unwrap();
    assert!(run_loops(&lp, &args(0, 1)).unwrap_err().to_string().contains("extent `n - 1` is negative"));
    let err = run_loops(&lp, &args(3, -1)).unwrap_err().to_string();
    assert!(err.contains("extent `k` is negative (-1)") && err.contains("k = -1"), "{err}");
}

#[test]
fn verifier_rejects_bad_derived_extents() {
    for (bad, why) in [
        (TEXT.replace("derive m = sub n 1", "derive m = sub m2 1"), "reads a symbol not bound before it"),
        (TEXT.replace("param p1", "param p0"), "not a scalar integer"),
        (TEXT.replace("param p1", "param p7"), "names no parameter"),
    ] {
        let err = match parse_program(&bad) {
            Ok(p) => verify(&p).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(why), "{why}: {err}");
    }
}

/// `sum/prod/min/max(i..i + 2, |j| x[j])` on 0..n - 1 in the guarded form the front end writes.
fn banded(op: &str) -> String {
    format!(
        "kernel band(x: f64[n]) -> f64[m] {{
  syms n, m
  derive m = sub n 1
  v0: f64[n] = param 0
  v1: i64[] = index i0
  v2: i64[] = const 2
  v3: i64[] = binary add v1 v2
  v4: i64[] = index i1
  v5: f64[] = load v0 [v4]
  v6: bool[] = binary le v1 v4
  v7: bool[] = binary lt v4 v3
  v8: bool[] = binary and v6 v7
  v9: f64[] = const {id}
  v10: f64[] = select v8 v5 v9
  v11: f64[] = range_reduce {op} (i1 < n) v10
  v12: f64[m] = generate (i0 < m) v11
  return v12
}}
",
        id = match op {
            "sum" => "0.0",
            "prod" => "1.0",
            "min" => "inf",
            _ => "-inf",
        }
    )
}

#[test]
fn a_narrowed_reduction_loop_gives_the_guarded_bits() {
    // The loop program loops over `i..i + 2` only (a `for .. from .. to ..`), the interpreter
    // over the whole guarded range: the skipped points fold the identity, so every bit agrees,
    // with NaN, infinities and signed zeros in the data.
    let data = [-0.0, 0.0, f64::NAN, 1.5, f64::INFINITY, -0.0, -0.0, f64::NEG_INFINITY, -2.5, 3.0];
    for op in ["sum", "prod", "min", "max"] {
        let p = parse_program(&banded(op)).unwrap_or_else(|e| panic!("{op}: {e}"));
        verify(&p).unwrap();
        let lp = lower(&p).unwrap();
        // A sum is narrowed inside its blocked nest (its bounds start from `max(v..`).
        let text = lp.to_string();
        assert!(text.contains(" from v") || text.contains(" from div(max(v"), "{op}: the loop is not narrowed:\n{lp}");
        for n in [1usize, 2, 3, 10] {
            let x = Value::F64(ArrayD::from_shape_fn(IxDyn(&[n]), |i| data[i[0]]));
            let (a, b) = (run(&p, std::slice::from_ref(&x)).unwrap(), run_loops(&lp, &[x]).unwrap());
            let bits = |v: &Value| match v {
                Value::F64(a) => a.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
                other => panic!("{:?}", other.dtype()),
            };
            assert_eq!(bits(&a[0]), bits(&b[0]), "{op} of {n}");
        }
    }
}

#[test]
fn division_by_a_zero_extent_is_a_typed_error() {
    let text = "kernel q(x: f32[n], k: u32[]) -> f32[m] {
  syms n, kk, m
  derive kk = param p1
  derive m = div n kk
  v0: f32[n] = param 0
  v1: i64[] = index i0
  v2: f32[] = load v0 [v1]
  v3: f32[m] = generate (i0 < m) v2
  return v3
}
";
    let p = parse_program(text).unwrap();
    verify(&p).unwrap();
    let shapes: Vec<(DType, &[usize])> = vec![(DType::F32, &[7]), (DType::U32, &[])];
    assert_eq!(bind_with_scalars(&p, None, &shapes, &[None, Some(2)]).unwrap(), vec![7, 2, 3], "7 / 2 rounds down");
    let err = bind_with_scalars(&p, None, &shapes, &[None, Some(0)]).unwrap_err();
    assert!(
        matches!(&err, BindError::ExtentOverflow { expr, why, .. } if expr == "n / k" && why == "divides by zero"),
        "{err}"
    );
    assert!(err.to_string().contains("n = 7, k = 0"), "{err}");
}
