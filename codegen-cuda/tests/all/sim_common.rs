//! Shared helpers of the emit and simulator tests: the representative programs (built as the
//! front end builds them), the contractions the emitter tiles (as loop IR text), value
//! comparison with per-dtype tolerances, argument re-layouts.
#![allow(dead_code)]

use kiln_ir::loops::LoopProgram;
use kiln_ir::lower::lower;
use kiln_ir::{BinOp, DType, Dim, ElemTy, NodeId, Op, Param, Program, ReduceOp, Type, UnOp, Value, VarId};
use ndarray::{ArrayD, Axis, IxDyn};

/// Relative tolerance of f32 results (glibc's and Rust's math may differ by an ulp or two,
/// and block reductions add in another order).
pub const F32_TOL: f64 = 1e-5;
/// Relative tolerance of f64 results.
pub const F64_TOL: f64 = 1e-12;

fn arr(elem: ElemTy, shape: Vec<Dim>) -> Type {
    Type::array(elem, shape)
}

fn param(p: &mut Program, name: &str, ty: Type) -> NodeId {
    let k = p.params.len() as u32;
    p.params.push(Param { name: name.into(), ty: ty.clone() });
    p.push(Op::Param(k), ty)
}

/// `a * x + b * y` over f32 vectors.
pub fn axpby() -> Program {
    let mut p = Program::new("axpby");
    let n = Dim::Sym(p.sym("n"));
    let a = param(&mut p, "a", Type::scalar(ElemTy::F32));
    let x = param(&mut p, "x", arr(ElemTy::F32, vec![n]));
    let b = param(&mut p, "b", Type::scalar(ElemTy::F32));
    let y = param(&mut p, "y", arr(ElemTy::F32, vec![n]));
    let ax = p.push(Op::Binary(BinOp::Mul, a, x), arr(ElemTy::F32, vec![n]));
    let by = p.push(Op::Binary(BinOp::Mul, b, y), arr(ElemTy::F32, vec![n]));
    let s = p.push(Op::Binary(BinOp::Add, ax, by), arr(ElemTy::F32, vec![n]));
    p.outputs.push(s);
    p
}

/// `(x - mean) / std` along axis 0, instantiated for `dt`.
pub fn standardize(dt: DType) -> Program {
    let mut p = Program::new("standardize");
    let (n, d) = (Dim::Sym(p.sym("n")), Dim::Sym(p.sym("d")));
    let f = ElemTy::Float;
    let x = param(&mut p, "x", arr(f, vec![n, d]));
    let s = p.push(Op::Reduce { op: ReduceOp::Sum, arg: x, axes: vec![0] }, arr(f, vec![d]));
    let nv = p.push(Op::DimValue(n), Type::scalar(ElemTy::I64));
    let nf = p.push(Op::Cast(nv), Type::scalar(f));
    let mean = p.push(Op::Binary(BinOp::Div, s, nf), arr(f, vec![d]));
    let diff = p.push(Op::Binary(BinOp::Sub, x, mean), arr(f, vec![n, d]));
    let sq = p.push(Op::Unary(UnOp::PowI(2), diff), arr(f, vec![n, d]));
    let s2 = p.push(Op::Reduce { op: ReduceOp::Sum, arg: sq, axes: vec![0] }, arr(f, vec![d]));
    let var = p.push(Op::Binary(BinOp::Div, s2, nf), arr(f, vec![d]));
    let std = p.push(Op::Unary(UnOp::Sqrt, var), arr(f, vec![d]));
    let diff2 = p.push(Op::Binary(BinOp::Sub, x, mean), arr(f, vec![n, d]));
    let out = p.push(Op::Binary(BinOp::Div, diff2, std), arr(f, vec![n, d]));
    p.outputs.push(out);
    p.instantiate(dt)
}

/// Nearest centroid: `argmin_j sum_l (x[i,l] - c[j,l])^2` and the distance.
pub fn nearest() -> Program {
    let mut p = Program::new("nearest");
    let (n, d, k) = (Dim::Sym(p.sym("n")), Dim::Sym(p.sym("d")), Dim::Sym(p.sym("k")));
    let f = ElemTy::F32;
    let x = param(&mut p, "x", arr(f, vec![n, d]));
    let c = param(&mut p, "c", arr(f, vec![k, d]));
    let (i, j, l) = (VarId(0), VarId(1), VarId(2));
    let iv = p.push(Op::Index(i), Type::scalar(ElemTy::I64));
    let jv = p.push(Op::Index(j), Type::scalar(ElemTy::I64));
    let lv = p.push(Op::Index(l), Type::scalar(ElemTy::I64));
    let xl = p.push(Op::Load { array: x, indices: vec![iv, lv] }, Type::scalar(f));
    let cl = p.push(Op::Load { array: c, indices: vec![jv, lv] }, Type::scalar(f));
    let df = p.push(Op::Binary(BinOp::Sub, xl, cl), Type::scalar(f));
    let sq = p.push(Op::Unary(UnOp::PowI(2), df), Type::scalar(f));
    let sum = p.push(Op::RangeReduce { op: ReduceOp::Sum, vars: vec![l], extents: vec![d], body: sq }, Type::scalar(f));
    let dist = p.push(Op::Generate { vars: vec![i, j], extents: vec![n, k], body: sum }, arr(f, vec![n, k]));
    let am = p.push(Op::Reduce { op: ReduceOp::ArgMin, arg: dist, axes: vec![1] }, arr(ElemTy::I64, vec![n]));
    let mn = p.push(Op::Reduce { op: ReduceOp::Min, arg: dist, axes: vec![1] }, arr(f, vec![n]));
    p.outputs = vec![am, mn];
    p
}

pub fn lowered(p: &Program) -> LoopProgram {
    lower(p).unwrap_or_else(|e| panic!("lowering {} failed: {e}", p.name))
}

/// Deterministic pseudo-random values in [-10, 10) with two decimals.
pub fn f32s(shape: &[usize], seed: u32) -> ArrayD<f32> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s.wrapping_mul(1103515245).wrapping_add(12345);
        ((s >> 8) % 2000) as f32 / 100.0 - 10.0
    })
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-30)
}

/// Assert `got` equals `want`: floats within the dtype's relative tolerance (NaN equals NaN),
/// the others exactly, shapes equal.
pub fn assert_close(got: &Value, want: &Value, what: &str) {
    assert_close_abs(got, want, what, 0.0);
}

/// [`assert_close`], also accepting floats within `atol` of each other in absolute terms:
/// for sums whose order differs (block reductions), where cancellation makes a relative
/// bound meaningless. `atol` is for f32 data; f64 gets `atol * 1e-8`.
pub fn assert_close_abs(got: &Value, want: &Value, what: &str, atol: f64) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    match (got, want) {
        (Value::F32(g), Value::F32(w)) => {
            for (i, (a, b)) in g.iter().zip(w.iter()).enumerate() {
                let (a, b) = (*a as f64, *b as f64);
                let ok = close(a, b, F32_TOL) || (a - b).abs() <= atol;
                assert!(ok, "{what}: element {i}: got {a}, want {b}");
            }
        }
        (Value::F64(g), Value::F64(w)) => {
            for (i, (a, b)) in g.iter().zip(w.iter()).enumerate() {
                // f32 math widened to f64 (`cast.f64(exp(..))`) carries the f32 tolerance.
                let from_f32 = (*a as f32) as f64 == *a && (*b as f32) as f64 == *b;
                let ok = close(*a, *b, if from_f32 { F32_TOL } else { F64_TOL }) || (a - b).abs() <= atol * 1e-8;
                assert!(ok, "{what}: element {i}: got {a}, want {b}");
            }
        }
        _ => assert_eq!(got, want, "{what}"),
    }
}

/// The same logical value stored column-major (a transposed view's strides).
pub fn fortran(v: &Value) -> Value {
    fn f<T: Clone>(a: &ArrayD<T>) -> ArrayD<T> {
        a.t().as_standard_layout().into_owned().reversed_axes()
    }
    match v {
        Value::F32(a) => Value::F32(f(a)),
        Value::F64(a) => Value::F64(f(a)),
        Value::I32(a) => Value::I32(f(a)),
        Value::I64(a) => Value::I64(f(a)),
        Value::U32(a) => Value::U32(f(a)),
        Value::Bool(a) => Value::Bool(f(a)),
    }
}

/// The same logical value with axis 0 stored backwards (a negative stride).
pub fn reversed(v: &Value) -> Value {
    fn f<T: Clone>(a: &ArrayD<T>) -> ArrayD<T> {
        if a.ndim() == 0 {
            return a.clone();
        }
        let mut r = a.clone();
        r.invert_axis(Axis(0));
        let mut r = r.as_standard_layout().into_owned();
        r.invert_axis(Axis(0));
        r
    }
    match v {
        Value::F32(a) => Value::F32(f(a)),
        Value::F64(a) => Value::F64(f(a)),
        Value::I32(a) => Value::I32(f(a)),
        Value::I64(a) => Value::I64(f(a)),
        Value::U32(a) => Value::U32(f(a)),
        Value::Bool(a) => Value::Bool(f(a)),
    }
}

// ---- contractions the emitter tiles (loop IR, as the front end lowers them) ----

/// `a.dot(b)` over f32 as the front end lowers it: the GEMM shape the emitter tiles.
pub const TILED_MATMUL: &str = "program matmul
  sym n
  sym d
  sym m
  in a: f32[n, d]
  in b: f32[d, m]
  out out0: f32[n, m]
  kernel matmul_k0 (v0 < n, v1 < m) {
    mut v2: f32 = f32:0.0
    for v3 < d {
      let v4: f32 = mul(load a[v0, v3], load b[v3, v1])
      v2 = add(v2, v4)
    }
    store out0[v0, v1] = v2
  }
";

/// Euclidean distances in f64: `c` indexed `c[j, l]`, and an epilogue (`sqrt`).
pub const TILED_DISTS: &str = "program dists
  sym n
  sym d
  sym m
  in x: f64[n, d]
  in c: f64[m, d]
  out out0: f64[n, m]
  kernel dists_k0 (v0 < n, v1 < m) {
    mut v2: f64 = f64:0.0
    for v3 < d {
      let v4: f64 = powi.2(sub(load x[v0, v3], load c[v1, v3]))
      v2 = add(v2, v4)
    }
    store out0[v0, v1] = sqrt(v2)
  }
";

/// Partial sums of `x.t().dot(r) + colsum(x)` over four chunks of the rows (the two-phase
/// split): a batch axis before the tile axes, a loop over a sub-range, `l` the slower axis of
/// both operands.
pub const TILED_XTR: &str = "program xtr
  sym n
  sym d
  sym k
  in x: f32[n, d]
  in r: f32[n, k]
  out out0: f32[4, d, k]
  kernel xtr_k0 (v0 < 4, v1 < d, v2 < k) {
    mut v3: f32 = f32:0.0
    for v4 < n from div(mul(v0, dim(n)), i64:4) to div(mul(add(v0, i64:1), dim(n)), i64:4) {
      let v5: f32 = load x[v4, v1]
      let v6: f32 = add(mul(v5, load r[v4, v2]), v5)
      v3 = add(v3, v6)
    }
    store out0[v0, v1, v2] = v3
  }
";

/// A batched matmul of rank-3 operands: the batch variable indexes both.
pub const TILED_BMM: &str = "program bmm
  sym b
  sym n
  sym d
  sym m
  in x: f64[b, n, d]
  in y: f64[b, d, m]
  out out0: f64[b, n, m]
  kernel bmm_k0 (v0 < b, v1 < n, v2 < m) {
    mut v3: f64 = f64:0.0
    for v4 < d {
      let v5: f64 = mul(load x[v0, v1, v4], load y[v0, v4, v2])
      v3 = add(v3, v5)
    }
    store out0[v0, v1, v2] = v3
  }
";

/// Loads that are not operands (`w[l]`, the same for every output; `s[i]`, per row), a prefix
/// and two accumulators per output.
pub const TILED_MIXED: &str = "program mixed
  sym n
  sym d
  sym m
  in a: f64[n, d]
  in b: f64[m, d]
  in w: f64[d]
  in s: f64[n]
  out out0: f64[n, m]
  kernel mixed_k0 (v0 < n, v1 < m) {
    let v2: i64 = sub(v0, v1)
    mut v3: f64 = cast.f64(v2)
    mut v4: f64 = f64:-inf
    for v5 < d {
      let v6: f64 = mul(mul(load a[v0, v5], load b[v1, v5]), load w[v5])
      v3 = add(v3, v6)
      v4 = max(v4, add(v6, load s[v0]))
    }
    store out0[v0, v1] = sub(v3, v4)
  }
";

/// Wrapping i32 arithmetic in an order-dependent recurrence (not a reduction at all).
pub const TILED_IMM: &str = "program imm
  sym n
  sym d
  sym m
  in a: i32[n, d]
  in b: i32[d, m]
  out out0: i32[n, m]
  kernel imm_k0 (v0 < n, v1 < m) {
    mut v2: i32 = i32:7
    for v3 < d {
      v2 = add(mul(v2, i32:3), mul(load a[v0, v3], load b[v3, v1]))
    }
    store out0[v0, v1] = v2
  }
";

/// Every tiled program above.
pub const TILED: [&str; 6] = [TILED_MATMUL, TILED_DISTS, TILED_XTR, TILED_BMM, TILED_MIXED, TILED_IMM];

/// `x.scan(axis)` of an `[n, d]` matrix of `elem` by `op` (`cumsum`, `cumprod`, `cummax`,
/// `cummin`): a scan's two kernels, chunk totals and chunk prefixes.
pub fn scan(op: ReduceOp, axis: u32, elem: ElemTy) -> Program {
    let mut p = Program::new("scan");
    let (n, d) = (Dim::Sym(p.sym("n")), Dim::Sym(p.sym("d")));
    let x = param(&mut p, "x", arr(elem, vec![n, d]));
    let s = p.push(Op::Scan { op, arg: x, axis }, arr(elem, vec![n, d]));
    p.outputs.push(s);
    p
}
