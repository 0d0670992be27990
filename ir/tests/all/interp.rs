//! Tests of the reference interpreter against plain Rust loops written here: every unary,
//! binary and reduction op on each dtype it applies to, broadcasting, strided inputs, empty
//! and length-1 dimensions, gathers, lazy selects, NaN rules, casts, the `nearest` kernel of
//! DESIGN.md, and argument checking.

use kiln_ir::interp::{run, run_generic, InterpError};
use kiln_ir::{with_value, SymId, VarId};
use kiln_ir::{BinOp, BindError, DType, Dim, ElemTy, Literal, NodeId, Op, Param, Program, ReduceOp, Type, UnOp, Value};
use ndarray::{arr1, arr2, ArrayD, IxDyn};

/// A small builder over `Program::push` so each test reads like the kernel it encodes.
struct B {
    p: Program,
}

impl B {
    fn new(name: &str) -> B {
        B { p: Program::new(name) }
    }

    fn sym(&mut self, name: &str) -> Dim {
        Dim::Sym(self.p.sym(name))
    }

    fn param(&mut self, name: &str, elem: ElemTy, shape: &[Dim]) -> NodeId {
        let ty = Type::array(elem, shape.to_vec());
        let k = self.p.params.len() as u32;
        self.p.params.push(Param { name: name.into(), ty: ty.clone() });
        self.p.push(Op::Param(k), ty)
    }

    fn node(&mut self, op: Op, elem: ElemTy, shape: &[Dim]) -> NodeId {
        self.p.push(op, Type::array(elem, shape.to_vec()))
    }

    fn scalar(&mut self, op: Op, elem: ElemTy) -> NodeId {
        self.p.push(op, Type::scalar(elem))
    }

    fn lit(&mut self, lit: Literal, elem: ElemTy) -> NodeId {
        self.scalar(Op::Const(lit), elem)
    }

    fn index(&mut self, v: u32) -> NodeId {
        self.scalar(Op::Index(VarId(v)), ElemTy::I64)
    }

    fn out(mut self, outs: &[NodeId]) -> Program {
        self.p.outputs = outs.to_vec();
        self.p
    }
}

fn c(n: u64) -> Dim {
    Dim::Const(n)
}

fn dyn1<T: Clone>(v: &[T]) -> ArrayD<T> {
    arr1(v).into_dyn()
}

fn scalar_f32(x: f32) -> Value {
    Value::F32(ndarray::arr0(x).into_dyn())
}

/// Deterministic pseudo-random numbers in [-1, 1) (a 64-bit LCG), so tests need no crate.
fn lcg(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Float equality that treats NaN as equal to NaN and distinguishes everything else by bits.
fn same_f32(a: f32, b: f32) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn same_f64(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn f32s(v: &Value) -> &ArrayD<f32> {
    match v {
        Value::F32(a) => a,
        other => panic!("expected f32, got {:?}", other.dtype()),
    }
}

fn f64s(v: &Value) -> &ArrayD<f64> {
    match v {
        Value::F64(a) => a,
        other => panic!("expected f64, got {:?}", other.dtype()),
    }
}

/// One-parameter, one-node program `op(x)` over a 1-d array of length `n`.
fn unary_program(op: UnOp, elem: ElemTy) -> Program {
    let mut b = B::new("un");
    let n = b.sym("n");
    let x = b.param("x", elem, &[n]);
    let out_elem = elem;
    let y = b.node(Op::Unary(op, x), out_elem, &[n]);
    b.out(&[y])
}

/// Two-parameter program `op(x, y)` with explicit shapes.
fn binary_program(op: BinOp, elem: ElemTy, xs: &[Dim], ys: &[Dim], out: &[Dim]) -> Program {
    let mut b = B::new("bin");
    let x = b.param("x", elem, xs);
    let y = b.param("y", elem, ys);
    let out_elem = if op.is_comparison() { ElemTy::BOOL } else { elem };
    let z = b.node(Op::Binary(op, x, y), out_elem, out);
    b.out(&[z])
}

const FLOAT_INPUTS: [f64; 12] =
    [0.0, -0.0, 0.5, -0.75, 1.0, 2.5, -3.0, 1e-7, 40.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];

#[test]
fn every_float_unary_op_matches_rust_in_own_precision() {
    let ops = [
        UnOp::Neg,
        UnOp::Abs,
        UnOp::Exp,
        UnOp::Ln,
        UnOp::Log1p,
        UnOp::Sqrt,
        UnOp::Rsqrt,
        UnOp::Sin,
        UnOp::Cos,
        UnOp::Tanh,
        UnOp::Sigmoid,
        UnOp::Floor,
        UnOp::Ceil,
        UnOp::PowI(3),
        UnOp::PowI(-2),
        UnOp::Tan,
        UnOp::Atan,
        UnOp::Sinh,
        UnOp::Cosh,
        UnOp::Asinh,
        UnOp::Acosh,
        UnOp::Atanh,
        UnOp::Cbrt,
        UnOp::Expm1,
        UnOp::Exp2,
        UnOp::Log2,
        UnOp::Log10,
        UnOp::Round,
        UnOp::Trunc,
        UnOp::Signum,
    ];
    for op in ops {
        let xs32: Vec<f32> = FLOAT_INPUTS.iter().map(|&x| x as f32).collect();
        let want32: Vec<f32> = xs32
            .iter()
            .map(|&x| match op {
                UnOp::Neg => -x,
                UnOp::Abs => x.abs(),
                UnOp::Exp => x.exp(),
                UnOp::Ln => x.ln(),
                UnOp::Log1p => x.ln_1p(),
                UnOp::Sqrt => x.sqrt(),
                UnOp::Rsqrt => 1.0 / x.sqrt(),
                UnOp::Sin => x.sin(),
                UnOp::Cos => x.cos(),
                UnOp::Tanh => x.tanh(),
                UnOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
                UnOp::Floor => x.floor(),
                UnOp::Ceil => x.ceil(),
                UnOp::PowI(n) => x.powi(n),
                UnOp::Tan => x.tan(),
                UnOp::Atan => x.atan(),
                UnOp::Sinh => x.sinh(),
                UnOp::Cosh => x.cosh(),
                UnOp::Asinh => x.asinh(),
                UnOp::Acosh => x.acosh(),
                UnOp::Atanh => x.atanh(),
                UnOp::Cbrt => x.cbrt(),
                UnOp::Expm1 => x.exp_m1(),
                UnOp::Exp2 => x.exp2(),
                UnOp::Log2 => x.log2(),
                UnOp::Log10 => x.log10(),
                UnOp::Round => x.round(),
                UnOp::Trunc => x.trunc(),
                UnOp::Signum => x.signum(),
                // erf/erfc are not in stable std; kiln_ir::scalar's own tests cover them.
                UnOp::Erf | UnOp::Erfc | UnOp::Not | UnOp::CountOnes => unreachable!(),
            })
            .collect();
        let got = run(&unary_program(op, ElemTy::F32), &[Value::F32(dyn1(&xs32))]).unwrap();
        for ((g, w), x) in f32s(&got[0]).iter().zip(&want32).zip(&xs32) {
            assert!(same_f32(*g, *w), "{op:?}({x}) in f32: got {g}, want {w}");
        }
        let xs64 = FLOAT_INPUTS.to_vec();
        let want64: Vec<f64> = xs64
            .iter()
            .map(|&x| match op {
                UnOp::Neg => -x,
                UnOp::Abs => x.abs(),
                UnOp::Exp => x.exp(),
                UnOp::Ln => x.ln(),
                UnOp::Log1p => x.ln_1p(),
                UnOp::Sqrt => x.sqrt(),
                UnOp::Rsqrt => 1.0 / x.sqrt(),
                UnOp::Sin => x.sin(),
                UnOp::Cos => x.cos(),
                UnOp::Tanh => x.tanh(),
                UnOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
                UnOp::Floor => x.floor(),
                UnOp::Ceil => x.ceil(),
                UnOp::PowI(n) => x.powi(n),
                UnOp::Tan => x.tan(),
                UnOp::Atan => x.atan(),
                UnOp::Sinh => x.sinh(),
                UnOp::Cosh => x.cosh(),
                UnOp::Asinh => x.asinh(),
                UnOp::Acosh => x.acosh(),
                UnOp::Atanh => x.atanh(),
                UnOp::Cbrt => x.cbrt(),
                UnOp::Expm1 => x.exp_m1(),
                UnOp::Exp2 => x.exp2(),
                UnOp::Log2 => x.log2(),
                UnOp::Log10 => x.log10(),
                UnOp::Round => x.round(),
                UnOp::Trunc => x.trunc(),
                UnOp::Signum => x.signum(),
                // erf/erfc are not in stable std; kiln_ir::scalar's own tests cover them.
                UnOp::Erf | UnOp::Erfc | UnOp::Not | UnOp::CountOnes => unreachable!(),
            })
            .collect();
        let got = run(&unary_program(op, ElemTy::F64), &[Value::F64(dyn1(&xs64))]).unwrap();
        for ((g, w), x) in f64s(&got[0]).iter().zip(&want64).zip(&xs64) {
            assert!(same_f64(*g, *w), "{op:?}({x}) in f64: got {g}, want {w}");
        }
    }
}

#[test]
fn f32_math_is_not_computed_through_f64() {
    // exp(0.1f32) in f32 differs from (0.1f32 as f64).exp() as f32 for some inputs; find one
    // where they differ and check the interpreter gives the f32 one.
    let xs: Vec<f32> = (1..2000).map(|i| i as f32 * 0.013).collect();
    let x = xs.iter().copied().find(|&x| x.exp() != (x as f64).exp() as f32).expect("some input rounds differently");
    let got = run(&unary_program(UnOp::Exp, ElemTy::F32), &[Value::F32(dyn1(&[x]))]).unwrap();
    assert_eq!(f32s(&got[0])[[0]].to_bits(), x.exp().to_bits());
}

#[test]
fn integer_unary_ops_wrap() {
    let xs = [0, 1, -1, 7, i32::MIN, i32::MAX];
    let cases: [(UnOp, fn(i32) -> i32); 3] =
        [(UnOp::Neg, i32::wrapping_neg), (UnOp::Abs, i32::wrapping_abs), (UnOp::Not, |x| !x)];
    for (op, f) in cases {
        let got = run(&unary_program(op, ElemTy::I32), &[Value::I32(dyn1(&xs))]).unwrap();
        let want: Vec<i32> = xs.iter().map(|&x| f(x)).collect();
        assert_eq!(got[0], Value::I32(dyn1(&want)), "{op:?} on i32");
    }
    let xs64 = [0, -5, i64::MIN, i64::MAX];
    let got = run(&unary_program(UnOp::Abs, ElemTy::I64), &[Value::I64(dyn1(&xs64))]).unwrap();
    assert_eq!(got[0], Value::I64(dyn1(&[0, 5, i64::MIN, i64::MAX])));
    let got = run(&unary_program(UnOp::Neg, ElemTy::I64), &[Value::I64(dyn1(&xs64))]).unwrap();
    assert_eq!(got[0], Value::I64(dyn1(&[0, 5, i64::MIN, i64::MIN + 1])));
    let xu = [0u32, 1, u32::MAX];
    let got = run(&unary_program(UnOp::Not, ElemTy::U32), &[Value::U32(dyn1(&xu))]).unwrap();
    assert_eq!(got[0], Value::U32(dyn1(&[u32::MAX, u32::MAX - 1, 0])));
    let got = run(&unary_program(UnOp::Abs, ElemTy::U32), &[Value::U32(dyn1(&xu))]).unwrap();
    assert_eq!(got[0], Value::U32(dyn1(&xu)));
    let got = run(&unary_program(UnOp::Not, ElemTy::BOOL), &[Value::Bool(dyn1(&[true, false]))]).unwrap();
    assert_eq!(got[0], Value::Bool(dyn1(&[false, true])));
}

#[test]
fn unary_ops_on_the_wrong_dtype_are_typed_errors() {
    let err = run(&unary_program(UnOp::Exp, ElemTy::I32), &[Value::I32(dyn1(&[1]))]).unwrap_err();
    assert!(matches!(&err, InterpError::Unsupported { node, .. } if node == "v1"), "{err}");
    assert!(err.to_string().contains("exp"), "{err}");
    let err = run(&unary_program(UnOp::Not, ElemTy::F32), &[Value::F32(dyn1(&[1.0]))]).unwrap_err();
    assert!(matches!(err, InterpError::Unsupported { .. }), "{err}");
    let err = run(&unary_program(UnOp::Neg, ElemTy::BOOL), &[Value::Bool(dyn1(&[true]))]).unwrap_err();
    assert!(matches!(err, InterpError::Unsupported { .. }), "{err}");
}

/// Every pair of `xs` as two 1-d arrays (x repeated, y tiled), so a binary op sees all pairs.
fn all_pairs<T: Copy>(xs: &[T]) -> (Vec<T>, Vec<T>) {
    let a = xs.iter().flat_map(|&x| xs.iter().map(move |_| x)).collect();
    let b = xs.iter().flat_map(|_| xs.iter().copied()).collect();
    (a, b)
}

#[test]
fn float_binary_ops_match_rust_including_nan_min_max() {
    let n = [Dim::Const(144)];
    let (a, b) = all_pairs(&FLOAT_INPUTS.map(|x| x as f32));
    let ops = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Rem, BinOp::Pow, BinOp::Min, BinOp::Max];
    for op in ops {
        let got =
            run(&binary_program(op, ElemTy::F32, &n, &n, &n), &[Value::F32(dyn1(&a)), Value::F32(dyn1(&b))]).unwrap();
        for ((g, &x), &y) in f32s(&got[0]).iter().zip(&a).zip(&b) {
            let w = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                BinOp::Rem => x % y,
                BinOp::Pow => x.powf(y),
                BinOp::Min if x.is_nan() || y.is_nan() => f32::NAN,
                BinOp::Max if x.is_nan() || y.is_nan() => f32::NAN,
                BinOp::Min => x.min(y),
                BinOp::Max => x.max(y),
                _ => unreachable!(),
            };
            // min/max of 0.0 and -0.0 may pick either zero; compare those by value.
            let ok = same_f32(*g, w) || (matches!(op, BinOp::Min | BinOp::Max) && *g == w);
            assert!(ok, "{op:?}({x}, {y}) in f32: got {g}, want {w}");
        }
    }
    // The NaN rule explicitly, on f64: NaN wins whichever side it is on.
    let got = run(
        &binary_program(BinOp::Min, ElemTy::F64, &[c(3)], &[c(3)], &[c(3)]),
        &[Value::F64(dyn1(&[f64::NAN, 1.0, 2.0])), Value::F64(dyn1(&[1.0, f64::NAN, -2.0]))],
    )
    .unwrap();
    let g = f64s(&got[0]);
    assert!(g[[0]].is_nan() && g[[1]].is_nan() && g[[2]] == -2.0, "{g}");
}

#[test]
fn comparisons_follow_ieee_and_work_on_every_dtype() {
    let n = [Dim::Const(144)];
    let (a, b) = all_pairs(&FLOAT_INPUTS);
    for op in [BinOp::Eq, BinOp::Ne, BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge] {
        let got =
            run(&binary_program(op, ElemTy::F64, &n, &n, &n), &[Value::F64(dyn1(&a)), Value::F64(dyn1(&b))]).unwrap();
        let want: Vec<bool> = a
            .iter()
            .zip(&b)
            .map(|(x, y)| match op {
                BinOp::Eq => x == y,
                BinOp::Ne => x != y,
                BinOp::Lt => x < y,
                BinOp::Le => x <= y,
                BinOp::Gt => x > y,
                BinOp::Ge => x >= y,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(got[0], Value::Bool(dyn1(&want)), "{op:?}");
    }
    // Unsigned comparison is unsigned; bool orders false < true.
    let got = run(
        &binary_program(BinOp::Lt, ElemTy::U32, &[c(2)], &[c(2)], &[c(2)]),
        &[Value::U32(dyn1(&[1, u32::MAX])), Value::U32(dyn1(&[u32::MAX, 1]))],
    )
    .unwrap();
    assert_eq!(got[0], Value::Bool(dyn1(&[true, false])));
    let got = run(
        &binary_program(BinOp::Lt, ElemTy::BOOL, &[c(2)], &[c(2)], &[c(2)]),
        &[Value::Bool(dyn1(&[false, true])), Value::Bool(dyn1(&[true, false]))],
    )
    .unwrap();
    assert_eq!(got[0], Value::Bool(dyn1(&[true, false])));
}

#[test]
fn integer_binary_ops_wrap_and_never_trap() {
    let xs = [0i32, 1, -1, 7, -7, 3, i32::MIN, i32::MAX];
    let (a, b) = all_pairs(&xs);
    let n = [Dim::Const(a.len() as u64)];
    let ops = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
        BinOp::Min,
        BinOp::Max,
        BinOp::And,
        BinOp::Or,
        BinOp::Xor,
    ];
    for op in ops {
        let got =
            run(&binary_program(op, ElemTy::I32, &n, &n, &n), &[Value::I32(dyn1(&a)), Value::I32(dyn1(&b))]).unwrap();
        let want: Vec<i32> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| match op {
                BinOp::Add => x.wrapping_add(y),
                BinOp::Sub => x.wrapping_sub(y),
                BinOp::Mul => x.wrapping_mul(y),
                BinOp::Div if y == 0 => 0,
                BinOp::Div if x == i32::MIN && y == -1 => i32::MIN,
                BinOp::Div => x / y,
                BinOp::Rem if y == 0 => 0,
                BinOp::Rem if x == i32::MIN && y == -1 => 0,
                BinOp::Rem => x % y,
                BinOp::Min => x.min(y),
                BinOp::Max => x.max(y),
                BinOp::And => x & y,
                BinOp::Or => x | y,
                BinOp::Xor => x ^ y,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(got[0], Value::I32(dyn1(&want)), "{op:?} on i32");
    }
    // i64 and u32 division by zero, and u32 subtraction wrapping below zero.
    let p = binary_program(BinOp::Div, ElemTy::I64, &[c(3)], &[c(3)], &[c(3)]);
    let got = run(&p, &[Value::I64(dyn1(&[5, i64::MIN, -9])), Value::I64(dyn1(&[0, -1, 2]))]).unwrap();
    assert_eq!(got[0], Value::I64(dyn1(&[0, i64::MIN, -4])));
    let p = binary_program(BinOp::Rem, ElemTy::U32, &[c(2)], &[c(2)], &[c(2)]);
    let got = run(&p, &[Value::U32(dyn1(&[5, 9])), Value::U32(dyn1(&[0, 4]))]).unwrap();
    assert_eq!(got[0], Value::U32(dyn1(&[0, 1])));
    let p = binary_program(BinOp::Sub, ElemTy::U32, &[c(1)], &[c(1)], &[c(1)]);
    let got = run(&p, &[Value::U32(dyn1(&[1])), Value::U32(dyn1(&[2]))]).unwrap();
    assert_eq!(got[0], Value::U32(dyn1(&[u32::MAX])));
    // pow is float-only.
    let p = binary_program(BinOp::Pow, ElemTy::I32, &[c(1)], &[c(1)], &[c(1)]);
    let err = run(&p, &[Value::I32(dyn1(&[2])), Value::I32(dyn1(&[3]))]).unwrap_err();
    assert!(matches!(err, InterpError::Unsupported { .. }), "{err}");
}

#[test]
fn logical_ops_on_bool() {
    let (a, b) = all_pairs(&[false, true]);
    for op in [BinOp::And, BinOp::Or, BinOp::Xor] {
        let p = binary_program(op, ElemTy::BOOL, &[c(4)], &[c(4)], &[c(4)]);
        let got = run(&p, &[Value::Bool(dyn1(&a)), Value::Bool(dyn1(&b))]).unwrap();
        let want: Vec<bool> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| match op {
                BinOp::And => x && y,
                BinOp::Or => x || y,
                _ => x != y,
            })
            .collect();
        assert_eq!(got[0], Value::Bool(dyn1(&want)), "{op:?}");
    }
    let p = binary_program(BinOp::Add, ElemTy::BOOL, &[c(1)], &[c(1)], &[c(1)]);
    let err = run(&p, &[Value::Bool(dyn1(&[true])), Value::Bool(dyn1(&[true]))]).unwrap_err();
    assert!(matches!(err, InterpError::Unsupported { .. }), "{err}");
}

#[test]
fn broadcasting_follows_numpy() {
    // [n, d] + [d]
    let mut b = B::new("rowwise");
    let (n, d) = (b.sym("n"), b.sym("d"));
    let x = b.param("x", ElemTy::F32, &[n, d]);
    let m = b.param("m", ElemTy::F32, &[d]);
    let z = b.node(Op::Binary(BinOp::Sub, x, m), ElemTy::F32, &[n, d]);
    let p = b.out(&[z]);
    let xa = arr2(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let ma = arr1(&[10.0f32, 20.0, 30.0]);
    let got = run(&p, &[Value::F32(xa.clone().into_dyn()), Value::F32(ma.clone().into_dyn())]).unwrap();
    let mut want = xa.clone();
    for i in 0..2 {
        for j in 0..3 {
            want[[i, j]] = xa[[i, j]] - ma[j];
        }
    }
    assert_eq!(got[0], Value::F32(want.into_dyn()));

    // [n, 1] * [1, d] -> [n, d] (outer product)
    let mut b = B::new("outer");
    let (n, d) = (b.sym("n"), b.sym("d"));
    let u = b.param("u", ElemTy::I64, &[n, c(1)]);
    let v = b.param("v", ElemTy::I64, &[c(1), d]);
    let z = b.node(Op::Binary(BinOp::Mul, u, v), ElemTy::I64, &[n, d]);
    let p = b.out(&[z]);
    let ua = arr2(&[[1i64], [2], [3]]);
    let va = arr2(&[[10i64, 100]]);
    let got = run(&p, &[Value::I64(ua.into_dyn()), Value::I64(va.into_dyn())]).unwrap();
    let mut want = ndarray::Array2::<i64>::zeros((3, 2));
    for i in 0..3 {
        for j in 0..2 {
            want[[i, j]] = (i as i64 + 1) * [10, 100][j];
        }
    }
    assert_eq!(got[0], Value::I64(want.into_dyn()));

    // scalar * array, scalar on the left, and select with a broadcast condition.
    let mut b = B::new("scale");
    let n = b.sym("n");
    let a = b.param("a", ElemTy::F64, &[]);
    let x = b.param("x", ElemTy::F64, &[n]);
    let z = b.node(Op::Binary(BinOp::Mul, a, x), ElemTy::F64, &[n]);
    let zero = b.lit(Literal::Float(0.0), ElemTy::F64);
    let pos = b.node(Op::Binary(BinOp::Gt, x, zero), ElemTy::BOOL, &[n]);
    let s = b.node(Op::Select(pos, x, a), ElemTy::F64, &[n]);
    let p = b.out(&[z, s]);
    let got = run(&p, &[Value::F64(ndarray::arr0(2.5).into_dyn()), Value::F64(dyn1(&[1.0, -2.0, 4.0]))]).unwrap();
    assert_eq!(got[0], Value::F64(dyn1(&[2.5, -5.0, 10.0])));
    assert_eq!(got[1], Value::F64(dyn1(&[1.0, 2.5, 4.0])));
}

#[test]
fn broadcast_transpose_insert_axis_and_dim_value() {
    let mut b = B::new("shape_ops");
    let (n, d) = (b.sym("n"), b.sym("d"));
    let x = b.param("x", ElemTy::I32, &[n, d]);
    let t = b.node(Op::Transpose(x, vec![1, 0]), ElemTy::I32, &[d, n]);
    let row = b.param("row", ElemTy::I32, &[d]);
    let e = b.node(Op::InsertAxis(row, 1), ElemTy::I32, &[d, c(1)]);
    let bc = b.node(Op::Broadcast(e), ElemTy::I32, &[d, n]);
    let nv = b.scalar(Op::DimValue(n), ElemTy::I64);
    let p = b.out(&[t, bc, nv]);
    let xa = arr2(&[[1, 2, 3], [4, 5, 6]]);
    let got = run(&p, &[Value::I32(xa.clone().into_dyn()), Value::I32(dyn1(&[7, 8, 9]))]).unwrap();
    let mut want_t = ndarray::Array2::<i32>::zeros((3, 2));
    let mut want_b = ndarray::Array2::<i32>::zeros((3, 2));
    for i in 0..2 {
        for j in 0..3 {
            want_t[[j, i]] = xa[[i, j]];
            want_b[[j, i]] = [7, 8, 9][j];
        }
    }
    assert_eq!(got[0], Value::I32(want_t.into_dyn()));
    assert!(matches!(&got[0], Value::I32(a) if a.is_standard_layout()), "outputs come back row-major");
    assert_eq!(got[1], Value::I32(want_b.into_dyn()));
    assert_eq!(got[2], Value::I64(ndarray::arr0(2).into_dyn()));
}

#[test]
fn non_contiguous_inputs_are_indexed_by_their_strides() {
    // x arrives as the transpose of a row-major [3, 2] array: shape [2, 3], column-major.
    let base = arr2(&[[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let xt = base.clone().reversed_axes().into_dyn();
    assert!(!xt.is_standard_layout());
    let mut b = B::new("strided");
    let (n, d) = (b.sym("n"), b.sym("d"));
    let x = b.param("x", ElemTy::F32, &[n, d]);
    let s = b.node(Op::Reduce { op: ReduceOp::Sum, arg: x, axes: vec![1] }, ElemTy::F32, &[n]);
    let (i, j) = (b.index(0), b.index(1));
    let ld = b.scalar(Op::Load { array: x, indices: vec![i, j] }, ElemTy::F32);
    let two = b.lit(Literal::Float(2.0), ElemTy::F32);
    let body = b.scalar(Op::Binary(BinOp::Mul, ld, two), ElemTy::F32);
    let g = b.node(Op::Generate { vars: vec![VarId(0), VarId(1)], extents: vec![n, d], body }, ElemTy::F32, &[n, d]);
    let neg = b.node(Op::Unary(UnOp::Neg, x), ElemTy::F32, &[n, d]);
    let p = b.out(&[s, g, neg]);
    let got = run(&p, &[Value::F32(xt)]).unwrap();
    // Plain loops over the logical [2, 3] array x[i][j] = base[j][i].
    let mut sums = vec![0.0f32; 2];
    let mut twice = ndarray::Array2::<f32>::zeros((2, 3));
    let mut negs = ndarray::Array2::<f32>::zeros((2, 3));
    for i in 0..2 {
        for j in 0..3 {
            sums[i] += base[[j, i]];
            twice[[i, j]] = base[[j, i]] * 2.0;
            negs[[i, j]] = -base[[j, i]];
        }
    }
    assert_eq!(got[0], Value::F32(dyn1(&sums)));
    assert_eq!(got[1], Value::F32(twice.into_dyn()));
    assert_eq!(got[2], Value::F32(negs.into_dyn()));
}

/// `reduce(op, x, axes)` over an f32 parameter of the given symbolic rank.
fn reduce_program(op: ReduceOp, elem: ElemTy, rank: usize, axes: &[u32]) -> Program {
    let mut b = B::new("red");
    let dims: Vec<Dim> = (0..rank).map(|k| b.sym(&format!("n{k}"))).collect();
    let x = b.param("x", elem, &dims);
    let out: Vec<Dim> = (0..rank).filter(|k| !axes.contains(&(*k as u32))).map(|k| dims[k]).collect();
    let out_elem = if op.is_arg() { ElemTy::I64 } else { elem };
    let r = b.node(Op::Reduce { op, arg: x, axes: axes.to_vec() }, out_elem, &out);
    b.out(&[r])
}

#[test]
fn reductions_over_axes_of_a_3d_array_match_loops() {
    let (n0, n1, n2) = (3, 4, 5);
    let data = lcg(7, n0 * n1 * n2);
    let x = ArrayD::from_shape_vec(IxDyn(&[n0, n1, n2]), data).unwrap();
    for op in ReduceOp::ALL {
        // Reduce axes [0, 2]: output indexed by axis 1, domain row-major over (axis 0, axis 2).
        let got = run(&reduce_program(op, ElemTy::F32, 3, &[0, 2]), &[Value::F32(x.clone())]).unwrap();
        let mut vals = Vec::new();
        let mut idxs = Vec::new();
        for j in 0..n1 {
            let dom: Vec<f32> = (0..n0).flat_map(|i| (0..n2).map(move |k| (i, k))).map(|(i, k)| x[[i, j, k]]).collect();
            let (mut best, mut bi) = (dom[0], 0i64);
            for (t, &v) in dom.iter().enumerate() {
                let better = if op == ReduceOp::ArgMin { v < best } else { v > best };
                if better {
                    best = v;
                    bi = t as i64;
                }
            }
            idxs.push(bi);
            vals.push(match op {
                // A float sum folds each run of the innermost reduced axis (`n2 < 64`
                // elements: one block) from zero, then the runs' totals in order.
                ReduceOp::Sum => {
                    dom.chunks(n2).map(|r| r.iter().fold(0.0f32, |a, &v| a + v)).fold(0.0f32, |a, v| a + v)
                }
                ReduceOp::Prod => dom.iter().fold(1.0f32, |a, &v| a * v),
                ReduceOp::Min => dom.iter().fold(f32::INFINITY, |a, &v| a.min(v)),
                ReduceOp::Max => dom.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v)),
                _ => 0.0,
            });
        }
        if op.is_arg() {
            assert_eq!(got[0], Value::I64(dyn1(&idxs)), "{op:?}");
        } else {
            assert_eq!(got[0], Value::F32(dyn1(&vals)), "{op:?}");
        }
    }
    // Reducing every axis gives a scalar; reducing none is the identity.
    let got = run(&reduce_program(ReduceOp::Sum, ElemTy::F32, 3, &[0, 1, 2]), &[Value::F32(x.clone())]).unwrap();
    let flat: Vec<f32> = x.iter().copied().collect();
    let total = flat.chunks(n2).map(|r| r.iter().fold(0.0f32, |a, &v| a + v)).fold(0.0f32, |a, v| a + v);
    assert_eq!(got[0], Value::F32(ndarray::arr0(total).into_dyn()));
    let got = run(&reduce_program(ReduceOp::Max, ElemTy::F32, 3, &[]), &[Value::F32(x.clone())]).unwrap();
    assert_eq!(got[0], Value::F32(x));
}

#[test]
fn integer_reductions_wrap_and_arg_reductions_take_the_first_occurrence() {
    let x = dyn1(&[i32::MAX, 1, 5, -3, 5, -3]);
    let run1 = |op| run(&reduce_program(op, ElemTy::I32, 1, &[0]), &[Value::I32(x.clone())]).unwrap().remove(0);
    assert_eq!(run1(ReduceOp::Sum), Value::I32(ndarray::arr0(i32::MAX.wrapping_add(5)).into_dyn()));
    assert_eq!(run1(ReduceOp::Prod), Value::I32(ndarray::arr0(i32::MAX.wrapping_mul(225)).into_dyn()));
    assert_eq!(run1(ReduceOp::Min), Value::I32(ndarray::arr0(-3).into_dyn()));
    assert_eq!(run1(ReduceOp::ArgMin), Value::I64(ndarray::arr0(3).into_dyn()));
    assert_eq!(run1(ReduceOp::ArgMax), Value::I64(ndarray::arr0(0).into_dyn()));
    let xu = dyn1(&[3u32, 9, 9, 0]);
    let got = run(&reduce_program(ReduceOp::ArgMax, ElemTy::U32, 1, &[0]), &[Value::U32(xu.clone())]).unwrap();
    assert_eq!(got[0], Value::I64(ndarray::arr0(1).into_dyn()));
    let got = run(&reduce_program(ReduceOp::Sum, ElemTy::U32, 1, &[0]), &[Value::U32(xu)]).unwrap();
    assert_eq!(got[0], Value::U32(ndarray::arr0(21).into_dyn()));
    let got =
        run(&reduce_program(ReduceOp::Sum, ElemTy::I64, 2, &[1]), &[Value::I64(arr2(&[[1, 2], [3, 4]]).into_dyn())])
            .unwrap();
    assert_eq!(got[0], Value::I64(dyn1(&[3, 7])));
    let err = run(&reduce_program(ReduceOp::Sum, ElemTy::BOOL, 1, &[0]), &[Value::Bool(dyn1(&[true]))]).unwrap_err();
    assert!(matches!(err, InterpError::Unsupported { .. }), "{err}");
}

#[test]
fn bool_reductions_are_all_any_and_first_true_or_false() {
    let rows = arr2(&[[false, true, true], [true, true, true], [false, false, false]]).into_dyn();
    let run2 = |op| run(&reduce_program(op, ElemTy::BOOL, 2, &[1]), &[Value::Bool(rows.clone())]).unwrap().remove(0);
    let (mut all, mut any, mut first_true, mut first_false) = (vec![], vec![], vec![], vec![]);
    for r in rows.outer_iter() {
        all.push(r.iter().all(|&b| b));
        any.push(r.iter().any(|&b| b));
        first_true.push(r.iter().position(|&b| b).unwrap_or(0) as i64);
        first_false.push(r.iter().position(|&b| !b).unwrap_or(0) as i64);
    }
    assert_eq!(run2(ReduceOp::Min), Value::Bool(dyn1(&all)));
    assert_eq!(run2(ReduceOp::Max), Value::Bool(dyn1(&any)));
    assert_eq!(run2(ReduceOp::ArgMax), Value::I64(dyn1(&first_true)));
    assert_eq!(run2(ReduceOp::ArgMin), Value::I64(dyn1(&first_false)));
    // Over an empty domain: all() is true, any() is false.
    let empty = Value::Bool(ArrayD::from_elem(IxDyn(&[0]), false));
    let got = run(&reduce_program(ReduceOp::Min, ElemTy::BOOL, 1, &[0]), std::slice::from_ref(&empty)).unwrap();
    assert_eq!(got[0], Value::Bool(ndarray::arr0(true).into_dyn()));
    let got = run(&reduce_program(ReduceOp::Max, ElemTy::BOOL, 1, &[0]), &[empty]).unwrap();
    assert_eq!(got[0], Value::Bool(ndarray::arr0(false).into_dyn()));
}

#[test]
fn f32_sums_accumulate_sequentially_in_f32() {
    // In f64, or summed pairwise, this is 4; sequentially in f32 the ones vanish into 1e8.
    let xs = [1e8f32, 1.0, 1.0, 1.0, 1.0, -1e8];
    let got = run(&reduce_program(ReduceOp::Sum, ElemTy::F32, 1, &[0]), &[Value::F32(dyn1(&xs))]).unwrap();
    let mut acc = 0.0f32;
    for x in xs {
        acc += x;
    }
    assert_eq!(acc, 0.0);
    assert_eq!(got[0], Value::F32(ndarray::arr0(acc).into_dyn()));
}

#[test]
fn nan_propagates_through_min_max_and_arg_reductions_pick_the_first_nan() {
    let x = dyn1(&[3.0f64, f64::NAN, -1.0, f64::NAN, -5.0]);
    let run1 = |op| run(&reduce_program(op, ElemTy::F64, 1, &[0]), &[Value::F64(x.clone())]).unwrap().remove(0);
    assert!(f64s(&run1(ReduceOp::Min))[[]].is_nan());
    assert!(f64s(&run1(ReduceOp::Max))[[]].is_nan());
    assert!(f64s(&run1(ReduceOp::Sum))[[]].is_nan());
    assert_eq!(run1(ReduceOp::ArgMin), Value::I64(ndarray::arr0(1).into_dyn()));
    assert_eq!(run1(ReduceOp::ArgMax), Value::I64(ndarray::arr0(1).into_dyn()));
    // The same rules in a range reduction: argmin over l of x[l].
    for (op, want) in [(ReduceOp::ArgMin, 1i64), (ReduceOp::Min, -1)] {
        let mut b = B::new("rr");
        let n = b.sym("n");
        let xp = b.param("x", ElemTy::F64, &[n]);
        let l = b.index(0);
        let ld = b.scalar(Op::Load { array: xp, indices: vec![l] }, ElemTy::F64);
        let out_elem = if op.is_arg() { ElemTy::I64 } else { ElemTy::F64 };
        let r = b.scalar(Op::RangeReduce { op, vars: vec![VarId(0)], extents: vec![n], body: ld }, out_elem);
        let p = b.out(&[r]);
        let got = run(&p, &[Value::F64(x.clone())]).unwrap();
        match op {
            ReduceOp::ArgMin => assert_eq!(got[0], Value::I64(ndarray::arr0(want).into_dyn())),
            _ => assert!(f64s(&got[0])[[]].is_nan()),
        }
    }
}

#[test]
fn empty_reductions_give_identities_and_empty_arg_reductions_fail() {
    let empty32 = Value::F32(ArrayD::zeros(IxDyn(&[0])));
    let want32 = [
        (ReduceOp::Sum, 0.0f32),
        (ReduceOp::Prod, 1.0),
        (ReduceOp::Min, f32::INFINITY),
        (ReduceOp::Max, f32::NEG_INFINITY),
    ];
    for (op, w) in want32 {
        let got = run(&reduce_program(op, ElemTy::F32, 1, &[0]), std::slice::from_ref(&empty32)).unwrap();
        assert_eq!(got[0], scalar_f32(w), "{op:?}");
    }
    let empty_i = Value::I32(ArrayD::zeros(IxDyn(&[0])));
    let want_i = [(ReduceOp::Sum, 0), (ReduceOp::Prod, 1), (ReduceOp::Min, i32::MAX), (ReduceOp::Max, i32::MIN)];
    for (op, w) in want_i {
        let got = run(&reduce_program(op, ElemTy::I32, 1, &[0]), std::slice::from_ref(&empty_i)).unwrap();
        assert_eq!(got[0], Value::I32(ndarray::arr0(w).into_dyn()), "{op:?}");
    }
    for op in [ReduceOp::ArgMin, ReduceOp::ArgMax] {
        let err = run(&reduce_program(op, ElemTy::F32, 1, &[0]), std::slice::from_ref(&empty32)).unwrap_err();
        assert_eq!(err, InterpError::EmptyArgReduce { node: "v1".into() });
    }
    // [3, 0] reduced over axis 1: three empty domains.
    let x = Value::F32(ArrayD::zeros(IxDyn(&[3, 0])));
    let got = run(&reduce_program(ReduceOp::Max, ElemTy::F32, 2, &[1]), std::slice::from_ref(&x)).unwrap();
    assert_eq!(got[0], Value::F32(dyn1(&[f32::NEG_INFINITY; 3])));
    // [0, 3] reduced over axis 1: no outputs, so even argmin is fine.
    let x = Value::F32(ArrayD::zeros(IxDyn(&[0, 3])));
    let got = run(&reduce_program(ReduceOp::ArgMin, ElemTy::F32, 2, &[1]), std::slice::from_ref(&x)).unwrap();
    assert_eq!(got[0], Value::I64(ArrayD::zeros(IxDyn(&[0]))));
    // An empty range reduction.
    let mut b = B::new("rr_empty");
    let n = b.sym("n");
    let xp = b.param("x", ElemTy::I64, &[n]);
    let l = b.index(0);
    let ld = b.scalar(Op::Load { array: xp, indices: vec![l] }, ElemTy::I64);
    let s =
        b.scalar(Op::RangeReduce { op: ReduceOp::Min, vars: vec![VarId(0)], extents: vec![n], body: ld }, ElemTy::I64);
    let a = b.scalar(
        Op::RangeReduce { op: ReduceOp::ArgMax, vars: vec![VarId(0)], extents: vec![n], body: ld },
        ElemTy::I64,
    );
    let p = b.out(&[s]);
    let empty64 = Value::I64(ArrayD::zeros(IxDyn(&[0])));
    assert_eq!(run(&p, std::slice::from_ref(&empty64)).unwrap()[0], Value::I64(ndarray::arr0(i64::MAX).into_dyn()));
    let mut p2 = p.clone();
    p2.outputs = vec![a];
    let err = run(&p2, &[empty64]).unwrap_err();
    assert_eq!(err, InterpError::EmptyArgReduce { node: a.to_string() });
}

#[test]
fn zero_and_one_length_dims() {
    // Elementwise ops and generates over [0, d] and [1, d]; broadcasting [1] against [0].
    for n in [0usize, 1] {
        let mut b = B::new("small");
        let (ns, d) = (b.sym("n"), b.sym("d"));
        let x = b.param("x", ElemTy::F32, &[ns, d]);
        let y = b.param("y", ElemTy::F32, &[c(1)]);
        let z = b.node(Op::Binary(BinOp::Add, x, y), ElemTy::F32, &[ns, d]);
        let (i, j) = (b.index(0), b.index(1));
        let ld = b.scalar(Op::Load { array: x, indices: vec![i, j] }, ElemTy::F32);
        let g = b.node(
            Op::Generate { vars: vec![VarId(0), VarId(1)], extents: vec![ns, d], body: ld },
            ElemTy::F32,
            &[ns, d],
        );
        let p = b.out(&[z, g]);
        let xa = ArrayD::from_shape_vec(IxDyn(&[n, 2]), (0..2 * n).map(|v| v as f32).collect()).unwrap();
        let got = run(&p, &[Value::F32(xa.clone()), Value::F32(dyn1(&[0.5]))]).unwrap();
        assert_eq!(got[0], Value::F32(xa.mapv(|v| v + 0.5)), "n = {n}");
        assert_eq!(got[1], Value::F32(xa), "n = {n}");
    }
}

/// `Generate(i in 0..m) x[[idx[i]]]`: a gather of `x: f32[n]` by `idx: <elem>[m]`.
fn gather_program(idx_elem: ElemTy) -> Program {
    let mut b = B::new("gather");
    let (n, m) = (b.sym("n"), b.sym("m"));
    let x = b.param("x", ElemTy::F32, &[n]);
    let idx = b.param("idx", idx_elem, &[m]);
    let i = b.index(0);
    let k = b.scalar(Op::Load { array: idx, indices: vec![i] }, idx_elem);
    let ld = b.scalar(Op::Load { array: x, indices: vec![k] }, ElemTy::F32);
    let g = b.node(Op::Generate { vars: vec![VarId(0)], extents: vec![m], body: ld }, ElemTy::F32, &[m]);
    b.out(&[g])
}

#[test]
fn gathers_in_range_read_and_out_of_range_fail() {
    let x = [10.0f32, 11.0, 12.0, 13.0];
    let ids = [3i64, 0, 0, 2];
    let want: Vec<f32> = ids.iter().map(|&k| x[k as usize]).collect();
    let got = run(&gather_program(ElemTy::I64), &[Value::F32(dyn1(&x)), Value::I64(dyn1(&ids))]).unwrap();
    assert_eq!(got[0], Value::F32(dyn1(&want)));
    let got = run(&gather_program(ElemTy::I32), &[Value::F32(dyn1(&x)), Value::I32(dyn1(&[1, 1]))]).unwrap();
    assert_eq!(got[0], Value::F32(dyn1(&[11.0, 11.0])));
    let got = run(&gather_program(ElemTy::U32), &[Value::F32(dyn1(&x)), Value::U32(dyn1(&[2]))]).unwrap();
    assert_eq!(got[0], Value::F32(dyn1(&[12.0])));

    let err = run(&gather_program(ElemTy::I64), &[Value::F32(dyn1(&x)), Value::I64(dyn1(&[0, 4]))]).unwrap_err();
    assert_eq!(err, InterpError::IndexOutOfBounds { array: "x".into(), axis: 0, index: 4, len: 4 });
    assert_eq!(err.to_string(), "index 4 is out of range for axis 0 of `x` (length 4)");
    let err = run(&gather_program(ElemTy::I32), &[Value::F32(dyn1(&x)), Value::I32(dyn1(&[-1]))]).unwrap_err();
    assert_eq!(err, InterpError::IndexOutOfBounds { array: "x".into(), axis: 0, index: -1, len: 4 });
    let err = run(&gather_program(ElemTy::U32), &[Value::F32(dyn1(&x)), Value::U32(dyn1(&[u32::MAX]))]).unwrap_err();
    assert_eq!(err, InterpError::IndexOutOfBounds { array: "x".into(), axis: 0, index: u32::MAX as i64, len: 4 });
    // Gathering from an empty array with no indices is fine; with one it fails.
    let empty = Value::F32(ArrayD::zeros(IxDyn(&[0])));
    let got = run(&gather_program(ElemTy::I64), &[empty.clone(), Value::I64(ArrayD::zeros(IxDyn(&[0])))]).unwrap();
    assert_eq!(got[0], Value::F32(ArrayD::zeros(IxDyn(&[0]))));
    let err = run(&gather_program(ElemTy::I64), &[empty, Value::I64(dyn1(&[0]))]).unwrap_err();
    assert!(matches!(err, InterpError::IndexOutOfBounds { len: 0, .. }), "{err}");
}

#[test]
fn second_axis_out_of_range_names_the_axis_and_a_non_param_array_by_node() {
    let mut b = B::new("axis1");
    let (n, d) = (b.sym("n"), b.sym("d"));
    let x = b.param("x", ElemTy::F32, &[n, d]);
    let y = b.node(Op::Unary(UnOp::Abs, x), ElemTy::F32, &[n, d]);
    let zero = b.lit(Literal::Int(0), ElemTy::I64);
    let dv = b.scalar(Op::DimValue(d), ElemTy::I64);
    let ld = b.scalar(Op::Load { array: y, indices: vec![zero, dv] }, ElemTy::F32);
    let p = b.out(&[ld]);
    let err = run(&p, &[Value::F32(ArrayD::zeros(IxDyn(&[2, 3])))]).unwrap_err();
    assert_eq!(err, InterpError::IndexOutOfBounds { array: y.to_string(), axis: 1, index: 3, len: 3 });
}

#[test]
fn select_in_a_body_is_lazy_and_guards_a_gather() {
    // shifted[j] = if j > 0 { x[[j - 1]] } else { 0.0 }; plus a constant-index load of x[[5]]
    // (out of range for n = 3) in a branch never taken: neither may fail.
    let mut b = B::new("shift");
    let n = b.sym("n");
    let x = b.param("x", ElemTy::F32, &[n]);
    let j = b.index(0);
    let zero_i = b.lit(Literal::Int(0), ElemTy::I64);
    let one_i = b.lit(Literal::Int(1), ElemTy::I64);
    let five = b.lit(Literal::Int(5), ElemTy::I64);
    let cond = b.scalar(Op::Binary(BinOp::Gt, j, zero_i), ElemTy::BOOL);
    let jm1 = b.scalar(Op::Binary(BinOp::Sub, j, one_i), ElemTy::I64);
    let ld = b.scalar(Op::Load { array: x, indices: vec![jm1] }, ElemTy::F32);
    let bad = b.scalar(Op::Load { array: x, indices: vec![five] }, ElemTy::F32);
    let zero_f = b.lit(Literal::Float(0.0), ElemTy::F32);
    let never = b.scalar(Op::Binary(BinOp::Lt, j, zero_i), ElemTy::BOOL);
    let guarded = b.scalar(Op::Select(never, bad, zero_f), ElemTy::F32);
    let body_inner = b.scalar(Op::Select(cond, ld, zero_f), ElemTy::F32);
    let body = b.scalar(Op::Binary(BinOp::Add, body_inner, guarded), ElemTy::F32);
    let g = b.node(Op::Generate { vars: vec![VarId(0)], extents: vec![n], body }, ElemTy::F32, &[n]);
    let p = b.out(&[g]);
    let xs = [1.0f32, 2.0, 3.0];
    let got = run(&p, &[Value::F32(dyn1(&xs))]).unwrap();
    let want: Vec<f32> = (0..3).map(|j| if j > 0 { xs[j - 1] } else { 0.0 }).collect();
    assert_eq!(got[0], Value::F32(dyn1(&want)));
    // Taking the bad load as an output does fail.
    let mut p2 = p.clone();
    p2.outputs = vec![bad];
    let err = run(&p2, &[Value::F32(dyn1(&xs))]).unwrap_err();
    assert_eq!(err, InterpError::IndexOutOfBounds { array: "x".into(), axis: 0, index: 5, len: 3 });
}

#[test]
fn casts_follow_rust_as() {
    let cast = |from: ElemTy, to: ElemTy, v: Value| {
        let mut b = B::new("cast");
        let n = b.sym("n");
        let x = b.param("x", from, &[n]);
        let y = b.node(Op::Cast(x), to, &[n]);
        run(&b.out(&[y]), &[v]).unwrap().remove(0)
    };
    let fs = [f32::NAN, 1e10, -1e10, -1.7, 2.9, f32::INFINITY, f32::NEG_INFINITY, 0.0];
    let got = cast(ElemTy::F32, ElemTy::I32, Value::F32(dyn1(&fs)));
    assert_eq!(got, Value::I32(dyn1(&[0, i32::MAX, i32::MIN, -1, 2, i32::MAX, i32::MIN, 0])));
    let got = cast(ElemTy::F32, ElemTy::U32, Value::F32(dyn1(&fs)));
    assert_eq!(got, Value::U32(dyn1(&[0, u32::MAX, 0, 0, 2, u32::MAX, 0, 0])));
    let got = cast(ElemTy::F32, ElemTy::BOOL, Value::F32(dyn1(&fs)));
    assert_eq!(got, Value::Bool(dyn1(&[true, true, true, true, true, true, true, false])));
    let got = cast(ElemTy::BOOL, ElemTy::F64, Value::Bool(dyn1(&[true, false])));
    assert_eq!(got, Value::F64(dyn1(&[1.0, 0.0])));
    let got = cast(ElemTy::BOOL, ElemTy::I64, Value::Bool(dyn1(&[true, false])));
    assert_eq!(got, Value::I64(dyn1(&[1, 0])));
    let got = cast(ElemTy::I32, ElemTy::U32, Value::I32(dyn1(&[-1, 5])));
    assert_eq!(got, Value::U32(dyn1(&[u32::MAX, 5])));
    let got = cast(ElemTy::I64, ElemTy::I32, Value::I64(dyn1(&[1 << 32 | 7, -1])));
    assert_eq!(got, Value::I32(dyn1(&[7, -1])));
    let got = cast(ElemTy::U32, ElemTy::BOOL, Value::U32(dyn1(&[0, 2])));
    assert_eq!(got, Value::Bool(dyn1(&[false, true])));
    // i64 -> f32 rounds once, directly (through f64 it would round twice).
    let big = (1i64 << 53) + (1 << 29) + 1;
    let got = cast(ElemTy::I64, ElemTy::F32, Value::I64(dyn1(&[big])));
    assert_eq!(got, Value::F32(dyn1(&[big as f32])));
    assert_ne!(big as f32, (big as f64) as f32, "the input must distinguish the two roundings");
    let got = cast(ElemTy::F64, ElemTy::F32, Value::F64(dyn1(&[0.1, 1e300])));
    assert_eq!(got, Value::F32(dyn1(&[0.1f64 as f32, f32::INFINITY])));
}

#[test]
fn nearest_centroid_kernel_matches_a_plain_loop() {
    // nearest(x: f32[n, d], c: f32[k, d]) -> (i64[n], f32[n]):
    //   dist = from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)))
    //   (dist.argmin_axis(1), dist.min_axis(1))
    let mut b = B::new("nearest");
    let (n, d, k) = (b.sym("n"), b.sym("d"), b.sym("k"));
    let x = b.param("x", ElemTy::F32, &[n, d]);
    let cp = b.param("c", ElemTy::F32, &[k, d]);
    let (i, j, l) = (b.index(0), b.index(1), b.index(2));
    let xl = b.scalar(Op::Load { array: x, indices: vec![i, l] }, ElemTy::F32);
    let cl = b.scalar(Op::Load { array: cp, indices: vec![j, l] }, ElemTy::F32);
    let diff = b.scalar(Op::Binary(BinOp::Sub, xl, cl), ElemTy::F32);
    let sq = b.scalar(Op::Unary(UnOp::PowI(2), diff), ElemTy::F32);
    let sum =
        b.scalar(Op::RangeReduce { op: ReduceOp::Sum, vars: vec![VarId(2)], extents: vec![d], body: sq }, ElemTy::F32);
    let dist =
        b.node(Op::Generate { vars: vec![VarId(0), VarId(1)], extents: vec![n, k], body: sum }, ElemTy::F32, &[n, k]);
    let am = b.node(Op::Reduce { op: ReduceOp::ArgMin, arg: dist, axes: vec![1] }, ElemTy::I64, &[n]);
    let mn = b.node(Op::Reduce { op: ReduceOp::Min, arg: dist, axes: vec![1] }, ElemTy::F32, &[n]);
    let p = b.out(&[am, mn]);

    let (nn, kk, dd) = (300, 7, 5);
    let xs = ndarray::Array2::from_shape_vec((nn, dd), lcg(1, nn * dd)).unwrap();
    let cs = ndarray::Array2::from_shape_vec((kk, dd), lcg(2, kk * dd)).unwrap();
    let got = run(&p, &[Value::F32(xs.clone().into_dyn()), Value::F32(cs.clone().into_dyn())]).unwrap();

    let mut labels = vec![0i64; nn];
    let mut mins = vec![0.0f32; nn];
    for r in 0..nn {
        let mut best = f32::INFINITY;
        let mut arg = 0;
        for q in 0..kk {
            let mut acc = 0.0f32;
            for t in 0..dd {
                let e = xs[[r, t]] - cs[[q, t]];
                acc += e * e;
            }
            if acc < best {
                best = acc;
                arg = q as i64;
            }
        }
        labels[r] = arg;
        mins[r] = best;
    }
    assert_eq!(got[0], Value::I64(dyn1(&labels)));
    assert_eq!(got[1], Value::F32(dyn1(&mins)));
    // Several distinct labels, so the test cannot pass by accident with a constant answer.
    assert!(labels.iter().collect::<std::collections::BTreeSet<_>>().len() > 3);
}

#[test]
fn matmul_comprehension_with_a_loop_invariant_inner_operand() {
    // out[i, j] = sum_l a[i, l] * b[l, j] + s[i], where s[i] is a body node that depends on i
    // only: checks that cached body values are refreshed when (only) the outer variable moves.
    let mut b = B::new("matmul");
    let (n, m, kd) = (b.sym("n"), b.sym("m"), b.sym("k"));
    let a = b.param("a", ElemTy::F64, &[n, kd]);
    let bb = b.param("b", ElemTy::F64, &[kd, m]);
    let s = b.param("s", ElemTy::F64, &[n]);
    let (i, j, l) = (b.index(0), b.index(1), b.index(2));
    let al = b.scalar(Op::Load { array: a, indices: vec![i, l] }, ElemTy::F64);
    let bl = b.scalar(Op::Load { array: bb, indices: vec![l, j] }, ElemTy::F64);
    let prod = b.scalar(Op::Binary(BinOp::Mul, al, bl), ElemTy::F64);
    let si = b.scalar(Op::Load { array: s, indices: vec![i] }, ElemTy::F64);
    let dot = b.scalar(
        Op::RangeReduce { op: ReduceOp::Sum, vars: vec![VarId(2)], extents: vec![kd], body: prod },
        ElemTy::F64,
    );
    let body = b.scalar(Op::Binary(BinOp::Add, dot, si), ElemTy::F64);
    let g = b.node(Op::Generate { vars: vec![VarId(0), VarId(1)], extents: vec![n, m], body }, ElemTy::F64, &[n, m]);
    let p = b.out(&[g]);
    let (nn, mm, kk) = (4, 3, 5);
    let av: Vec<f64> = lcg(3, nn * kk).into_iter().map(f64::from).collect();
    let bv: Vec<f64> = lcg(4, kk * mm).into_iter().map(f64::from).collect();
    let sv: Vec<f64> = (0..nn).map(|v| v as f64 * 10.0).collect();
    let aa = ndarray::Array2::from_shape_vec((nn, kk), av).unwrap();
    let ba = ndarray::Array2::from_shape_vec((kk, mm), bv).unwrap();
    let got = run(&p, &[Value::F64(aa.clone().into_dyn()), Value::F64(ba.clone().into_dyn()), Value::F64(dyn1(&sv))])
        .unwrap();
    let mut want = ndarray::Array2::<f64>::zeros((nn, mm));
    for r in 0..nn {
        for q in 0..mm {
            let mut acc = 0.0;
            for t in 0..kk {
                acc += aa[[r, t]] * ba[[t, q]];
            }
            want[[r, q]] = acc + sv[r];
        }
    }
    assert_eq!(got[0], Value::F64(want.into_dyn()));
}

#[test]
fn bind_errors_are_typed() {
    let p =
        binary_program(BinOp::Add, ElemTy::F32, &[Dim::Sym(SymId(0))], &[Dim::Sym(SymId(0))], &[Dim::Sym(SymId(0))]);
    let mut p = p;
    p.syms = vec!["n".into()];
    let a3 = Value::F32(ArrayD::zeros(IxDyn(&[3])));
    let a4 = Value::F32(ArrayD::zeros(IxDyn(&[4])));
    let err = run(&p, &[a3.clone(), a4]).unwrap_err();
    assert!(
        matches!(&err, InterpError::Bind(BindError::Dim { param, axis: 0, expected: 3, .. }) if param == "y"),
        "{err}"
    );
    let err = run(&p, std::slice::from_ref(&a3)).unwrap_err();
    assert!(matches!(err, InterpError::Bind(BindError::ArgCount { expected: 2, got: 1, .. })), "{err}");
    let err = run(&p, &[a3.clone(), Value::F32(ArrayD::zeros(IxDyn(&[3, 1])))]).unwrap_err();
    assert!(matches!(err, InterpError::Bind(BindError::Rank { expected: 1, .. })), "{err}");
    let err = run(&p, &[a3, Value::F64(ArrayD::zeros(IxDyn(&[3])))]).unwrap_err();
    assert!(matches!(err, InterpError::Bind(BindError::DType { got: DType::F64, .. })), "{err}");
}

#[test]
fn generic_programs_are_instantiated_first() {
    let mut b = B::new("axpy");
    let n = b.sym("n");
    let a = b.param("a", ElemTy::Float, &[]);
    let x = b.param("x", ElemTy::Float, &[n]);
    let ax = b.node(Op::Binary(BinOp::Mul, a, x), ElemTy::Float, &[n]);
    let one = b.lit(Literal::Float(0.1), ElemTy::Float);
    let y = b.node(Op::Binary(BinOp::Add, ax, one), ElemTy::Float, &[n]);
    let p = b.out(&[y]);
    let err = run(&p, &[scalar_f32(2.0), Value::F32(dyn1(&[1.0]))]).unwrap_err();
    assert!(matches!(err, InterpError::Generic(_)), "{err}");
    // F = f32 inferred from the arguments: the literal 0.1 is rounded to f32.
    let got = run_generic(&p, None, &[scalar_f32(2.0), Value::F32(dyn1(&[1.0, 3.0]))]).unwrap();
    assert_eq!(got[0], Value::F32(dyn1(&[2.0f32 + 0.1f32, 6.0f32 + 0.1f32])));
    let a64 = Value::F64(ndarray::arr0(2.0).into_dyn());
    let got = run_generic(&p, Some(DType::F64), &[a64.clone(), Value::F64(dyn1(&[1.0]))]).unwrap();
    assert_eq!(got[0], Value::F64(dyn1(&[2.1])));
    // Explicit F = f64 with f32 arguments is a bind error; F = i32 is refused.
    let err = run_generic(&p, Some(DType::F64), &[scalar_f32(2.0), Value::F32(dyn1(&[1.0]))]).unwrap_err();
    assert!(matches!(err, InterpError::Bind(BindError::DType { .. })), "{err}");
    let err = run_generic(&p, Some(DType::I32), &[a64, Value::F64(dyn1(&[1.0]))]).unwrap_err();
    assert!(matches!(err, InterpError::Generic(_)), "{err}");
}

#[test]
fn malformed_programs_are_errors_not_panics() {
    // An operand that comes after its user.
    let mut p = Program::new("bad");
    p.push(Op::Unary(UnOp::Neg, NodeId(1)), Type::scalar(ElemTy::F32));
    p.push(Op::Const(Literal::Float(1.0)), Type::scalar(ElemTy::F32));
    p.outputs = vec![NodeId(0)];
    assert!(matches!(run(&p, &[]), Err(InterpError::Malformed { .. })));
    // An index variable outside its binder.
    let mut p = Program::new("bad_var");
    let i = p.push(Op::Index(VarId(0)), Type::scalar(ElemTy::I64));
    let g = p.push(
        Op::Generate { vars: vec![VarId(1)], extents: vec![Dim::Const(2)], body: i },
        Type::array(ElemTy::I64, vec![Dim::Const(2)]),
    );
    p.outputs = vec![g];
    assert!(matches!(run(&p, &[]), Err(InterpError::Malformed { .. })));
    // Shapes that do not broadcast, and a bad transpose permutation.
    let p = binary_program(BinOp::Add, ElemTy::F32, &[c(3)], &[c(2)], &[c(3)]);
    let err = run(&p, &[Value::F32(ArrayD::zeros(IxDyn(&[3]))), Value::F32(ArrayD::zeros(IxDyn(&[2])))]).unwrap_err();
    assert!(matches!(err, InterpError::Malformed { .. }), "{err}");
    let mut b = B::new("bad_perm");
    let x = b.param("x", ElemTy::F32, &[c(2), c(2)]);
    let t = b.node(Op::Transpose(x, vec![0, 0]), ElemTy::F32, &[c(2), c(2)]);
    let err = run(&b.out(&[t]), &[Value::F32(ArrayD::zeros(IxDyn(&[2, 2])))]).unwrap_err();
    assert!(matches!(err, InterpError::Malformed { .. }), "{err}");
    // A node whose declared type disagrees with what it computes.
    let mut b = B::new("bad_type");
    let x = b.param("x", ElemTy::F32, &[c(2)]);
    let y = b.node(Op::Unary(UnOp::Neg, x), ElemTy::F64, &[c(2)]);
    let err = run(&b.out(&[y]), &[Value::F32(ArrayD::zeros(IxDyn(&[2])))]).unwrap_err();
    assert!(matches!(err, InterpError::Malformed { .. }), "{err}");
}

#[test]
fn iota_and_shadowed_index_variables() {
    // g[i] = i + sum(0..3, |i| i): the inner binder shadows the outer `i` and restores it.
    let mut b = B::new("iota");
    let n = b.sym("n");
    let x = b.param("x", ElemTy::I64, &[n]);
    let i = b.index(0);
    let inner = b
        .scalar(Op::RangeReduce { op: ReduceOp::Sum, vars: vec![VarId(0)], extents: vec![c(3)], body: i }, ElemTy::I64);
    // The same `Index` node is read inside and outside the inner binder.
    let body = b.scalar(Op::Binary(BinOp::Add, inner, i), ElemTy::I64);
    let g = b.node(Op::Generate { vars: vec![VarId(0)], extents: vec![n], body }, ElemTy::I64, &[n]);
    let out = b.node(Op::Binary(BinOp::Add, g, x), ElemTy::I64, &[n]);
    let p = b.out(&[out]);
    let got = run(&p, &[Value::I64(dyn1(&[100, 200, 300, 400]))]).unwrap();
    let want: Vec<i64> = (0..4).map(|i| i + (0..3).sum::<i64>() + [100, 200, 300, 400][i as usize]).collect();
    assert_eq!(got[0], Value::I64(dyn1(&want)));
}

const NEAREST_TEXT: &str = "
kernel nearest(x: f32[n, d], c: f32[k, d]) -> (i64[n], f32[n]) {
  v0: f32[n, d] = param 0
  v1: f32[k, d] = param 1
  v2: i64[] = index i0
  v3: i64[] = index i1
  v4: i64[] = index i2
  v5: f32[] = load v0 [v2, v4]
  v6: f32[] = load v1 [v3, v4]
  v7: f32[] = binary sub v5 v6
  v8: f32[] = unary powi.2 v7
  v9: f32[] = range_reduce sum (i2 < d) v8
  v10: f32[n, k] = generate (i0 < n, i1 < k) v9
  v11: i64[n] = reduce argmin v10 axes [1]
  v12: f32[n] = reduce min v10 axes [1]
  return v11, v12
}
";

#[test]
fn nearest_from_text_runs_on_transposed_inputs() {
    let p = kiln_ir::parse::parse_program(NEAREST_TEXT).unwrap();
    // x arrives column-major; c is a 1-row matrix so every label is 0.
    let (nn, dd) = (9, 4);
    let xs = ndarray::Array2::from_shape_vec((dd, nn), lcg(5, nn * dd)).unwrap().reversed_axes();
    let cs = ndarray::Array2::from_shape_vec((1, dd), lcg(6, dd)).unwrap();
    let got = run(&p, &[Value::F32(xs.clone().into_dyn()), Value::F32(cs.clone().into_dyn())]).unwrap();
    let mins: Vec<f32> = (0..nn)
        .map(|r| (0..dd).fold(0.0f32, |acc, t| acc + (xs[[r, t]] - cs[[0, t]]) * (xs[[r, t]] - cs[[0, t]])))
        .collect();
    assert_eq!(got[0], Value::I64(ArrayD::zeros(IxDyn(&[nn]))));
    assert_eq!(got[1], Value::F32(dyn1(&mins)));
}

/// Shape and bitwise elements of a value in row-major order (NaN-safe, layout-blind), for
/// comparing two runs.
fn fingerprint(v: &Value) -> String {
    let elems: Vec<String> = match v {
        Value::F32(a) => a.iter().map(|x| x.to_bits().to_string()).collect(),
        Value::F64(a) => a.iter().map(|x| x.to_bits().to_string()).collect(),
        other => with_value!(other, a => a.iter().map(|x| format!("{x:?}")).collect()),
    };
    format!("{:?} {:?} {}", v.dtype(), v.shape(), elems.join(","))
}

/// The same array with column-major strides (a different memory layout, same logical content).
fn column_major(v: &Value) -> Value {
    fn go<T: Clone>(a: &ArrayD<T>) -> ArrayD<T> {
        a.view().reversed_axes().as_standard_layout().into_owned().reversed_axes()
    }
    match v {
        Value::F32(a) => Value::F32(go(a)),
        Value::F64(a) => Value::F64(go(a)),
        Value::I32(a) => Value::I32(go(a)),
        Value::I64(a) => Value::I64(go(a)),
        Value::U32(a) => Value::U32(go(a)),
        Value::Bool(a) => Value::Bool(go(a)),
    }
}

#[test]
fn random_verified_programs_run_deterministically_with_declared_output_types() {
    use kiln_ir::testgen::{random_args, random_program};
    let mut strided = 0;
    for seed in 0..400 {
        let p = random_program(seed);
        kiln_ir::verify::verify(&p).unwrap_or_else(|e| panic!("seed {seed}: generator made an invalid program: {e}"));
        let args = random_args(&p, seed);
        let got = run(&p, &args).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{p}"));
        assert_eq!(got.len(), p.outputs.len(), "seed {seed}");
        let shapes: Vec<(DType, &[usize])> = args.iter().map(|a| (a.dtype(), a.shape())).collect();
        let syms = kiln_ir::bind(&p, None, &shapes).unwrap();
        for (v, o) in got.iter().zip(&p.outputs) {
            let ty = &p.node(*o).ty;
            let shape: Vec<usize> = ty.shape.iter().map(|&d| kiln_ir::shapes::dim_value(d, &syms)).collect();
            assert_eq!(ElemTy::Concrete(v.dtype()), ty.elem, "seed {seed}: output {o} dtype");
            assert_eq!(v.shape(), shape.as_slice(), "seed {seed}: output {o} shape");
        }
        // A second run, and a run on column-major copies of the arguments, agree bit for bit.
        let again = run(&p, &args).unwrap();
        let cm: Vec<Value> = args.iter().map(column_major).collect();
        strided += cm.iter().filter(|a| with_value!(a, x => !x.is_standard_layout())).count();
        let on_cm = run(&p, &cm).unwrap_or_else(|e| panic!("seed {seed} (column-major args): {e}"));
        for ((a, b), c) in got.iter().zip(&again).zip(&on_cm) {
            assert_eq!(fingerprint(a), fingerprint(b), "seed {seed}: two runs differ");
            assert_eq!(fingerprint(a), fingerprint(c), "seed {seed}: column-major arguments change the result");
        }
    }
    assert!(strided > 50, "too few arguments were actually strided ({strided})");
}
