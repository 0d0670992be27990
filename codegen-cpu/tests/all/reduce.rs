//! Fast reductions: vectorized reduction loops (several vector accumulators, fixed combine
//! order, scalar tail, scalar fallback for strided inputs) and two-phase reductions from the
//! schedule, against the loop interpreter and the array IR interpreter. Every result must be
//! bitwise identical however the parallel domain is split (1, 2, 3 and 7 chunks).

use crate::common::{relayout, Layout};
use kiln_cpu::{compile_with, run_program_chunked, CompileOptions, CpuError, CpuProgram};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::{parse_loop_program, LoopProgram};
use kiln_ir::lower::lower;
use kiln_ir::{DType, Dim, ElemTy, NodeId, Op, Param, Program, ReduceOp, Type, Value, VarId};
use ndarray::{ArrayD, IxDyn};

fn compile(lp: &LoopProgram) -> CpuProgram {
    let opts = CompileOptions { inspect: true, ..CompileOptions::default() };
    compile_with(lp, &opts).unwrap_or_else(|e| panic!("{e}\n{lp}"))
}

/// Run with 1, 2, 3 and 7 chunks, assert all four bitwise identical, return the first.
fn run_split(p: &CpuProgram, lp: &LoopProgram, args: &[Value]) -> Result<Vec<Value>, CpuError> {
    let first = run_program_chunked(p, lp, args, 1)?;
    for chunks in [2, 3, 7] {
        let again = run_program_chunked(p, lp, args, chunks)?;
        // `Value`'s `==` treats NaN as unequal: compare bit patterns through the debug text.
        assert_eq!(format!("{again:?}"), format!("{first:?}"), "{chunks} chunks differ from 1\n{lp}");
    }
    Ok(first)
}

/// Floats within `tol(i)` of each other at element `i` (NaN matches NaN), others exactly.
fn assert_near(got: &Value, want: &Value, tol: impl Fn(usize) -> f64, what: &str) {
    fn check<T: Copy + Into<f64>>(g: &ArrayD<T>, w: &ArrayD<T>, tol: impl Fn(usize) -> f64, what: &str) {
        assert_eq!(g.shape(), w.shape(), "{what}: shape");
        for (i, (a, b)) in g.iter().zip(w.iter()).enumerate() {
            let (a, b): (f64, f64) = ((*a).into(), (*b).into());
            let ok = (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol(i);
            assert!(ok, "{what}: element {i}: got {a}, want {b} (tolerance {})", tol(i));
        }
    }
    match (got, want) {
        (Value::F32(g), Value::F32(w)) => check(g, w, tol, what),
        (Value::F64(g), Value::F64(w)) => check(g, w, tol, what),
        _ => assert_eq!(got, want, "{what}"),
    }
}

/// `out[i] = op over j of x[i, j]` as loop IR: the shape of a row sum.
fn row_reduce(dt: DType, op: &str, init: &str) -> LoopProgram {
    let text = format!(
        "program rows
  sym n
  sym m
  in x: {dt}[n, m]
  out out0: {dt}[n]
  kernel k0 (v0 < n) {{
    mut v1: {dt} = {dt}:{init}
    for v2 < m {{
      let v3: {dt} = load x[v0, v2]
      v1 = {op}(v1, v3)
    }}
    store out0[v0] = v1
  }}
"
    );
    parse_loop_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Values of `dt` for element `k`: positive floats (no cancellation, no zeros), near 1 for
/// products; small integers.
fn value(dt: DType, op: &str, k: usize) -> f64 {
    let u = ((k * 7919 + 13) % 1009) as f64 / 1009.0;
    match (dt.is_float(), op) {
        (true, "mul") => 1.0 + (u - 0.5) / 64.0,
        (true, _) => 0.25 + u,
        (false, _) => ((k * 31 + 7) % 23) as f64 - 11.0,
    }
}

fn array(dt: DType, shape: &[usize], f: impl Fn(usize) -> f64) -> Value {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(f).collect();
    let sh = IxDyn(shape);
    match dt {
        DType::F32 => Value::F32(ArrayD::from_shape_vec(sh, v.iter().map(|x| *x as f32).collect()).expect("shape")),
        DType::F64 => Value::F64(ArrayD::from_shape_vec(sh, v).expect("shape")),
        DType::I32 => Value::I32(ArrayD::from_shape_vec(sh, v.iter().map(|x| *x as i32).collect()).expect("shape")),
        DType::I64 => Value::I64(ArrayD::from_shape_vec(sh, v.iter().map(|x| *x as i64).collect()).expect("shape")),
        _ => Value::U32(ArrayD::from_shape_vec(sh, v.iter().map(|x| x.abs() as u32).collect()).expect("shape")),
    }
}

/// The CLIF name of the 128-bit vector of `dt`.
fn vector_type(dt: DType) -> &'static str {
    match dt {
        DType::F32 => "f32x4",
        DType::F64 => "f64x2",
        DType::I64 => "i64x2",
        _ => "i32x4",
    }
}

#[test]
fn vectorized_reduction_loops_match_the_interpreter_at_every_tail_length() {
    let cases = [
        (DType::F32, "add", "0.0", true),
        (DType::F32, "mul", "1.0", true),
        (DType::F32, "min", "inf", true),
        (DType::F32, "max", "-inf", true),
        (DType::F64, "add", "0.0", true),
        (DType::F64, "max", "-inf", true),
        (DType::I32, "add", "0", true),
        (DType::I32, "mul", "1", true),
        (DType::I32, "min", "2147483647", true),
        (DType::U32, "max", "0", true),
        (DType::I64, "add", "0", true),
        // No 64-bit integer vector multiply or min on x64 before AVX-512: stays scalar.
        (DType::I64, "min", "9223372036854775807", false),
    ];
    for (dt, op, init, vector) in cases {
        let lp = row_reduce(dt, op, init);
        let prog = compile(&lp);
        let lane = vector_type(dt);
        assert_eq!(prog.clif().contains(lane), vector, "{dt} {op}: vector types in CLIF\n{}", prog.clif());
        for m in [0usize, 1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 100, 1001] {
            let n = 3;
            let x = array(dt, &[n, m], |k| value(dt, op, k));
            let want = run_loops(&lp, std::slice::from_ref(&x)).expect("interpreter");
            let got = run_split(&prog, &lp, std::slice::from_ref(&x)).expect("run");
            // Reassociated float sums: within (m + 1) ulps of the sum of magnitudes, which
            // bounds any summation order's error.
            let eps = if dt == DType::F32 { f32::EPSILON as f64 } else { f64::EPSILON };
            let mags: Vec<f64> = (0..n)
                .map(|i| {
                    let row = (0..m).map(|j| value(dt, op, i * m + j).abs());
                    if op == "mul" {
                        row.product::<f64>()
                    } else {
                        row.sum::<f64>()
                    }
                })
                .collect();
            let what = format!("{dt} {op} m={m}");
            assert_near(&got[0], &want[0], |i| (m as f64 + 1.0) * eps * mags[i], &what);
            // Column-major input: stride m along the loop, so the scalar loop runs, in the
            // interpreter's order: bit for bit.
            let xf = relayout(&x, Layout::Fortran);
            let strided = run_split(&prog, &lp, &[xf]).expect("run");
            assert_eq!(format!("{strided:?}"), format!("{want:?}"), "{what}: strided input");
        }
    }
}

#[test]
fn vectorized_min_and_max_propagate_nan() {
    for (op, init) in [("min", "inf"), ("max", "-inf")] {
        let lp = row_reduce(DType::F32, op, init);
        let prog = compile(&lp);
        for pos in [0, 5, 18, 37] {
            let x = array(DType::F32, &[2, 38], |k| if k == pos { f64::NAN } else { value(DType::F32, op, k) });
            let got = run_split(&prog, &lp, &[x]).expect("run");
            let Value::F32(o) = &got[0] else { panic!("dtype") };
            assert!(o[[0]].is_nan(), "{op}: NaN at {pos} lost: {o}");
            assert!(!o[[1]].is_nan(), "{op}: row 1 has no NaN: {o}");
        }
    }
}

fn param(p: &mut Program, name: &str, ty: Type) -> NodeId {
    let k = p.params.len() as u32;
    p.params.push(Param { name: name.into(), ty: ty.clone() });
    p.push(Op::Param(k), ty)
}

/// `x.op()` over `[n]` and `y.op_axis(Axis(0))` over `[n, d]`: both two-phase.
fn full_and_column(op: ReduceOp, elem: ElemTy) -> Program {
    let mut p = Program::new(format!("{}_all", op.name()));
    let (n, d) = (Dim::Sym(p.sym("n")), Dim::Sym(p.sym("d")));
    let x = param(&mut p, "x", Type::array(elem, vec![n]));
    let y = param(&mut p, "y", Type::array(elem, vec![n, d]));
    let out = if op.is_arg() { ElemTy::I64 } else { elem };
    let a = p.push(Op::Reduce { op, arg: x, axes: vec![0] }, Type::scalar(out));
    let b = p.push(Op::Reduce { op, arg: y, axes: vec![0] }, Type::array(out, vec![d]));
    p.outputs = vec![a, b];
    p
}

#[test]
fn two_phase_reductions_are_split_independent_and_match_the_interpreter() {
    for op in ReduceOp::ALL {
        for (elem, dt) in [(ElemTy::F32, DType::F32), (ElemTy::F64, DType::F64), (ElemTy::I32, DType::I32)] {
            let p = full_and_column(op, elem);
            let lp = lower(&p).expect("lower");
            let prog = compile(&lp);
            // The partial kernel's chunk loop is contiguous in `x`: vectorized. (Arg
            // reductions vectorize only over `y`'s columns, and only where the value and its
            // i64 index have one lane width: f64.)
            if !op.is_arg() || dt == DType::F64 {
                assert!(prog.clif().contains(vector_type(dt)), "{}\n{}", p.name, prog.clif());
            }
            let opname = if op == ReduceOp::Prod { "mul" } else { "add" };
            for n in [0usize, 1, 63, 65, 1000, 100_003] {
                let args = [array(dt, &[n], |k| value(dt, opname, k)), array(dt, &[n, 3], |k| value(dt, opname, k))];
                let want = kiln_ir::interp::run(&p, &args);
                let got = run_split(&prog, &lp, &args);
                let what = format!("{} n={n}", p.name);
                match (want, got) {
                    (Ok(w), Ok(g)) => {
                        let eps = if dt == DType::F64 { f64::EPSILON } else { f32::EPSILON as f64 };
                        // Every value is at most 1.25 (products: within 2x of 1): the sum
                        // of magnitudes is at most 1.25 n.
                        let bound = (n as f64 + 64.0) * eps * 1.25 * n.max(1) as f64;
                        for (g, w) in g.iter().zip(&w) {
                            let tol = |_| if op == ReduceOp::Prod { (n as f64 + 64.0) * eps * 2.0 } else { bound };
                            assert_near(g, w, tol, &what);
                        }
                    }
                    (Err(_), Err(CpuError::Flag(_))) => assert!(op.is_arg() && n == 0, "{what}"),
                    (w, g) => panic!("{what}: interpreter {w:?}, cpu {g:?}"),
                }
            }
        }
    }
}

#[test]
fn two_phase_argmax_keeps_the_first_occurrence_and_the_first_nan() {
    let p = full_and_column(ReduceOp::ArgMax, ElemTy::F32);
    let lp = lower(&p).expect("lower");
    let prog = compile(&lp);
    let n = 5000;
    let run = |x: &[f32]| -> (i64, i64) {
        let xa = ArrayD::from_shape_vec(IxDyn(&[n]), x.to_vec()).expect("shape");
        let ya = ArrayD::from_shape_vec(IxDyn(&[n, 1]), x.to_vec()).expect("shape");
        let out = run_split(&prog, &lp, &[Value::F32(xa), Value::F32(ya)]).expect("run");
        let (Value::I64(a), Value::I64(b)) = (&out[0], &out[1]) else { panic!("dtype") };
        (a[[]], b[[0]])
    };
    let mut x = vec![0.5f32; n];
    for i in [100, 2500, 4999] {
        x[i] = 9.0;
    }
    assert_eq!(run(&x), (100, 100));
    x[3000] = f32::NAN;
    x[4000] = f32::NAN;
    assert_eq!(run(&x), (3000, 3000));
}

#[test]
fn nearest_inner_sums_are_vectorized_and_match() {
    // dist[i, j] = sum(0..d, |l| (x[i, l] - c[j, l])^2); argmin and min over j.
    let mut p = Program::new("nearest");
    let (n, d, k) = (Dim::Sym(p.sym("n")), Dim::Sym(p.sym("d")), Dim::Sym(p.sym("k")));
    let f = ElemTy::F32;
    let x = param(&mut p, "x", Type::array(f, vec![n, d]));
    let c = param(&mut p, "c", Type::array(f, vec![k, d]));
    let (i, j, l) = (VarId(0), VarId(1), VarId(2));
    let iv = p.push(Op::Index(i), Type::scalar(ElemTy::I64));
    let jv = p.push(Op::Index(j), Type::scalar(ElemTy::I64));
    let lv = p.push(Op::Index(l), Type::scalar(ElemTy::I64));
    let xl = p.push(Op::Load { array: x, indices: vec![iv, lv] }, Type::scalar(f));
    let cl = p.push(Op::Load { array: c, indices: vec![jv, lv] }, Type::scalar(f));
    let df = p.push(Op::Binary(kiln_ir::BinOp::Sub, xl, cl), Type::scalar(f));
    let sq = p.push(Op::Unary(kiln_ir::UnOp::PowI(2), df), Type::scalar(f));
    let sum = p.push(Op::RangeReduce { op: ReduceOp::Sum, vars: vec![l], extents: vec![d], body: sq }, Type::scalar(f));
    let dist = p.push(Op::Generate { vars: vec![i, j], extents: vec![n, k], body: sum }, Type::array(f, vec![n, k]));
    let am = p.push(Op::Reduce { op: ReduceOp::ArgMin, arg: dist, axes: vec![1] }, Type::array(ElemTy::I64, vec![n]));
    let mn = p.push(Op::Reduce { op: ReduceOp::Min, arg: dist, axes: vec![1] }, Type::array(f, vec![n]));
    p.outputs = vec![am, mn];
    let lp = lower(&p).expect("lower");
    let prog = compile(&lp);
    assert!(prog.clif().contains("f32x4"), "{}", prog.clif());
    for dd in [1usize, 3, 4, 16, 32, 37] {
        let xs = array(DType::F32, &[50, dd], |q| value(DType::F32, "add", q) * 4.0);
        let cs = array(DType::F32, &[7, dd], |q| value(DType::F32, "add", q * 3 + 1) * 4.0);
        let args = [xs, cs];
        let want = run_loops(&lp, &args).expect("interpreter");
        let got = run_split(&prog, &lp, &args).expect("run");
        // Distances are sums of at most 37 squares below 25.
        assert_near(&got[1], &want[1], |_| 38.0 * f32::EPSILON as f64 * 25.0 * dd as f64, &format!("min d={dd}"));
        // Ties between centers are unlikely with these values: the indices agree exactly.
        assert_eq!(got[0], want[0], "argmin d={dd}");
    }
}
