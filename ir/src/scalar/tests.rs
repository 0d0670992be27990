//! The one definition is what every evaluator computes: for every unary op, binary op and cast
//! on special values (zeros of both signs, NaNs of both signs and with a payload, infinities,
//! subnormals, integer extremes), the array interpreter (whole arrays and comprehension
//! bodies), the loop interpreter and constant folding give [`Scalar`]'s bits, and refuse
//! exactly what it leaves undefined.

use super::{Acc, Elem, Scalar};
use crate::interp::{run, InterpError};
use crate::loop_interp::run_loops;
use crate::loops::parse_loop_program;
use crate::passes::simplify;
use crate::{BinOp, DType, Dim, ElemTy, Literal, NodeId, Op, Param, Program, ReduceOp, Type, UnOp, Value, VarId};

fn specials(dt: DType) -> Vec<Scalar> {
    let f = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, 1e10, 3e38, 1e-40, 1e300, f64::INFINITY, f64::NEG_INFINITY];
    let i = [0, 1, -1, 2, -7, 64, i64::MIN, i64::MAX, i64::from(i32::MIN), i64::from(i32::MAX)];
    match dt {
        DType::F32 => f
            .iter()
            .map(|&v| Scalar::F64(v).cast(dt))
            .chain([f32::NAN, -f32::NAN, f32::from_bits(0x7fc1_2345)].map(Scalar::F32))
            .collect(),
        DType::F64 => f
            .iter()
            .copied()
            .chain([f64::NAN, -f64::NAN, f64::from_bits(0x7ff8_0000_dead_0000)])
            .map(Scalar::F64)
            .collect(),
        DType::Bool => vec![Scalar::Bool(false), Scalar::Bool(true)],
        _ => i.iter().map(|&v| Scalar::I64(v).cast(dt)).collect(),
    }
}

/// The exact bits of a value, with its dtype (so NaNs compare by payload and `-0.0 != 0.0`).
fn bits(s: Scalar) -> (DType, u64) {
    (s.dtype(), s.to_bits())
}

fn is_nan(s: Scalar) -> bool {
    matches!(s, Scalar::F32(x) if x.is_nan()) || matches!(s, Scalar::F64(x) if x.is_nan())
}

/// Whether `got` is `want`: the same bits, or any NaN for a NaN of float arithmetic on two
/// NaNs (IEEE leaves open which one's sign and payload the result has; `min`/`max` do not).
fn same(got: Scalar, want: Scalar, arithmetic_on: &[Scalar]) -> bool {
    let two_nans = arithmetic_on.iter().filter(|&&a| is_nan(a)).count() >= 2;
    bits(got) == bits(want) || (two_nans && is_nan(got) && is_nan(want))
}

fn value(dt: DType, xs: &[Scalar]) -> Value {
    let mut v = Value::zeros(dt, &[xs.len()]);
    for (k, x) in xs.iter().enumerate() {
        assert!(v.set(&[k], *x));
    }
    v
}

fn elements(v: &Value) -> Vec<Scalar> {
    (0..v.shape()[0]).map(|k| v.get(&[k]).expect("in range")).collect()
}

/// An elementwise op under test.
#[derive(Clone, Copy, Debug)]
enum Ew {
    Unary(UnOp),
    Binary(BinOp),
    Cast(DType),
}

impl Ew {
    fn op(self, args: &[NodeId]) -> Op {
        match self {
            Ew::Unary(u) => Op::Unary(u, args[0]),
            Ew::Binary(b) => Op::Binary(b, args[0], args[1]),
            Ew::Cast(_) => Op::Cast(args[0]),
        }
    }

    fn arity(self) -> usize {
        if matches!(self, Ew::Binary(_)) {
            2
        } else {
            1
        }
    }

    fn out(self, dt: DType) -> DType {
        match self {
            Ew::Binary(b) if b.is_comparison() => DType::Bool,
            Ew::Cast(to) => to,
            _ => dt,
        }
    }

    /// The definition: [`Scalar`]'s own result.
    fn eval(self, args: &[Scalar]) -> Option<Scalar> {
        match self {
            Ew::Unary(u) => args[0].unary(u),
            Ew::Binary(b) => Scalar::binary(b, args[0], args[1]),
            Ew::Cast(to) => Some(args[0].cast(to)),
        }
    }

    /// Whether the array IR has the op (it has no elementwise arithmetic or min/max on bool).
    fn in_array_ir(self, dt: DType) -> bool {
        match self {
            Ew::Binary(b) => dt != DType::Bool || b.is_logical() || b.is_comparison(),
            _ => true,
        }
    }

    fn loop_text(self) -> String {
        match self {
            Ew::Unary(UnOp::PowI(n)) => format!("powi.{n}"),
            Ew::Unary(u) => u.name().into(),
            Ew::Binary(b) => b.name().into(),
            Ew::Cast(to) => format!("cast.{to}"),
        }
    }
}

/// `out[i] = op(x0[i], ..)` over `n` elements, whole-array or as a comprehension body.
fn array_program(ew: Ew, dt: DType, body: bool) -> Program {
    let mut p = Program::new("ew");
    let n = Dim::Sym(p.sym("n"));
    let elem = |d: DType| ElemTy::Concrete(d);
    let mut args = vec![];
    for k in 0..ew.arity() {
        let ty = Type::array(elem(dt), vec![n]);
        p.params.push(Param { name: format!("x{k}"), ty: ty.clone() });
        args.push(p.push(Op::Param(k as u32), ty));
    }
    let out_ty = Type::array(elem(ew.out(dt)), vec![n]);
    let out = if body {
        let i = p.push(Op::Index(VarId(0)), Type::scalar(ElemTy::I64));
        let loads: Vec<NodeId> =
            args.iter().map(|&a| p.push(Op::Load { array: a, indices: vec![i] }, Type::scalar(elem(dt)))).collect();
        let b = p.push(ew.op(&loads), Type::scalar(elem(ew.out(dt))));
        p.push(Op::Generate { vars: vec![VarId(0)], extents: vec![n], body: b }, out_ty)
    } else {
        p.push(ew.op(&args), out_ty)
    };
    p.outputs = vec![out];
    p
}

/// `op` of constants after `simplify`: `None` when it was not folded.
fn folded(ew: Ew, dt: DType, args: &[Scalar]) -> Option<Scalar> {
    let mut p = Program::new("fold");
    let consts: Vec<NodeId> =
        args.iter().map(|a| p.push(Op::Const(a.to_literal()), Type::scalar(ElemTy::Concrete(dt)))).collect();
    let out = p.push(ew.op(&consts), Type::scalar(ElemTy::Concrete(ew.out(dt))));
    p.outputs = vec![out];
    let s = simplify(&p);
    match s.node(s.outputs[0]).op {
        Op::Const(lit) => Some(Scalar::from_literal(lit, ew.out(dt))),
        _ => None,
    }
}

/// Compare every evaluator with the definition on all argument tuples of specials; returns
/// how many results were compared.
fn check(ew: Ew, dt: DType) -> usize {
    let sp = specials(dt);
    let tuples: Vec<Vec<Scalar>> = match ew.arity() {
        1 => sp.iter().map(|&x| vec![x]).collect(),
        _ => sp.iter().flat_map(|&x| sp.iter().map(move |&y| vec![x, y])).collect(),
    };
    let want: Vec<Option<Scalar>> = tuples.iter().map(|t| ew.eval(t)).collect();
    let defined = want[0].is_some();
    assert!(want.iter().all(|w| w.is_some() == defined), "{ew:?} on {dt}: defined for some values only");
    let what = format!("{ew:?} on {dt}");
    let args: Vec<Value> =
        (0..ew.arity()).map(|k| value(dt, &tuples.iter().map(|t| t[k]).collect::<Vec<_>>())).collect();
    let arithmetic = matches!(ew, Ew::Binary(b) if !b.is_comparison() && !matches!(b, BinOp::Min | BinOp::Max));
    let agree = |got: &[Scalar], path: &str| {
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            let w = w.expect("defined");
            let on: &[Scalar] = if arithmetic { &tuples[k] } else { &[] };
            assert!(same(*g, w, on), "{what}, {path}, args {:?}: got {g:?}, want {w:?}", tuples[k]);
        }
        got.len()
    };
    let mut compared = 0;
    for body in [false, true] {
        let path = if body { "array interpreter (body)" } else { "array interpreter" };
        match run(&array_program(ew, dt, body), &args) {
            Ok(out) => compared += agree(&elements(&out[0]), path),
            Err(e) => {
                assert!(matches!(e, InterpError::Unsupported { .. }), "{what}, {path}: {e}");
                assert!(!defined || !ew.in_array_ir(dt), "{what}, {path}: refused a defined op: {e}");
            }
        }
    }
    let text = format!(
        "program ew\n  sym n\n  in x0: {dt}[n]\n{}  out out0: {}[n]\n  kernel k0 (v0 < n) {{\n    store out0[v0] = {}({})\n  }}\n",
        if ew.arity() == 2 { format!("  in x1: {dt}[n]\n") } else { String::new() },
        ew.out(dt),
        ew.loop_text(),
        if ew.arity() == 2 { "load x0[v0], load x1[v0]" } else { "load x0[v0]" },
    );
    let lp = parse_loop_program(&text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
    match run_loops(&lp, &args) {
        Ok(out) => compared += agree(&elements(&out[0]), "loop interpreter"),
        Err(e) => assert!(!defined, "{what}, loop interpreter: refused a defined op: {e}"),
    }
    let fold: Vec<Option<Scalar>> = tuples.iter().map(|t| folded(ew, dt, t)).collect();
    if defined {
        compared += agree(&fold.iter().map(|f| f.expect("folded")).collect::<Vec<_>>(), "constant folding");
    } else {
        assert!(fold.iter().all(Option::is_none), "{what}: folded an undefined op");
    }
    compared
}

#[test]
fn every_evaluator_computes_the_definition_bit_for_bit() {
    let mut unary: Vec<UnOp> = UnOp::ALL.to_vec();
    unary.extend([UnOp::PowI(-3), UnOp::PowI(0), UnOp::PowI(5)]);
    let mut ops: Vec<Ew> = unary.into_iter().map(Ew::Unary).collect();
    ops.extend(BinOp::ALL.map(Ew::Binary));
    ops.extend(DType::ALL.map(Ew::Cast));
    let (mut compared, mut defined) = (0, 0);
    for dt in DType::ALL {
        for &ew in &ops {
            let n = check(ew, dt);
            compared += n;
            defined += usize::from(n > 0);
        }
    }
    // 6 dtypes x (18 unary + 17 binary + 6 casts), of which about half are defined.
    assert!(defined >= 120, "only {defined} (op, dtype) pairs defined");
    assert!(compared >= 40_000, "only {compared} results compared");
}

#[test]
fn float_min_max_return_the_first_nan_operand_and_the_first_operand_on_ties() {
    // Regression: float `min`/`max` with a NaN operand gave the canonical NaN in the array
    // interpreter but the NaN operand itself in the loop interpreter and constant folding.
    let neg_nan = Scalar::F32(-f32::NAN);
    let payload = Scalar::F64(f64::from_bits(0x7ff8_0000_dead_0000));
    for op in [BinOp::Min, BinOp::Max] {
        let one = Scalar::F32(1.0);
        assert_eq!(Scalar::binary(op, neg_nan, one).map(bits), Some(bits(neg_nan)));
        assert_eq!(Scalar::binary(op, one, neg_nan).map(bits), Some(bits(neg_nan)));
        let nan = Scalar::F32(f32::NAN);
        assert_eq!(Scalar::binary(op, nan, neg_nan).map(bits), Some(bits(nan)));
        assert_eq!(Scalar::binary(op, Scalar::F64(2.0), payload).map(bits), Some(bits(payload)));
        for (a, b) in [(-0.0, 0.0), (0.0, -0.0)] {
            let got = Scalar::binary(op, Scalar::F64(a), Scalar::F64(b));
            assert_eq!(got.map(bits), Some(bits(Scalar::F64(a))), "{op:?}({a:?}, {b:?})");
        }
    }
}

#[test]
fn neg_of_u32_is_not_defined() {
    // Regression: the array interpreter negated u32 (wrapping) though the verifier, the loop
    // interpreter and the backends define `neg` on signed types only.
    assert_eq!(Scalar::U32(3).unary(UnOp::Neg), None);
    let err = run(&array_program(Ew::Unary(UnOp::Neg), DType::U32, false), &[value(DType::U32, &[Scalar::U32(3)])]);
    assert!(matches!(err, Err(InterpError::Unsupported { .. })), "{err:?}");
}

#[test]
fn folding_keeps_the_sign_and_payload_of_nan_constants() {
    // Regression: `simplify` merged constants whose `Debug` text is equal, and every NaN
    // prints as `NaN`, so `neg(NaN)` folded to -NaN became the NaN it negates.
    let mut p = Program::new("nan");
    let f64s = Type::scalar(ElemTy::F64);
    let nan = p.push(Op::Const(Literal::Float(f64::NAN)), f64s.clone());
    let neg = p.push(Op::Unary(UnOp::Neg, nan), f64s);
    p.outputs = vec![nan, neg];
    let s = simplify(&p);
    let lits: Vec<u64> = s
        .outputs
        .iter()
        .map(|o| match s.node(*o).op {
            Op::Const(Literal::Float(f)) => f.to_bits(),
            ref op => panic!("not folded: {op:?}"),
        })
        .collect();
    assert_eq!(lits, [f64::NAN.to_bits(), (-f64::NAN).to_bits()]);
}

#[test]
fn reductions_fold_their_step_from_their_identity() {
    // `Acc` (the array interpreter's reductions) is the loop IR's `acc = step(acc, x)`, NaNs
    // and signed zeros included, wherever the NaN sits in the domain (a sum of several NaNs
    // may carry any of them).
    fn fold_both<T: Elem>(op: ReduceOp, xs: &[Scalar]) -> usize {
        let step = Scalar::reduce_step(op).expect("not an arg-reduction");
        let mut acc = Acc::<T>::new(op);
        let mut want = Scalar::reduce_identity(op, T::DTYPE);
        for &x in xs {
            acc.push(T::from_scalar(x).expect("dtype"));
            want = Scalar::binary(step, want, x).expect("defined");
        }
        let on = if matches!(op, ReduceOp::Sum | ReduceOp::Prod) { xs } else { &[] };
        assert!(same(acc.value().scalar(), want, on), "{op:?} of {xs:?}: {:?}, want {want:?}", acc.value());
        1
    }
    let mut compared = 0;
    for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Min, ReduceOp::Max] {
        for dt in [DType::F32, DType::F64, DType::I32, DType::I64, DType::U32] {
            let sp = specials(dt);
            for rot in 0..sp.len() {
                let xs: Vec<Scalar> = (0..sp.len()).map(|k| sp[(k + rot) % sp.len()]).collect();
                compared += crate::scalar::with_dtype!(dt, T => fold_both::<T>(op, &xs));
            }
        }
    }
    assert!(compared >= 200, "only {compared} reductions compared");
    // Over bool, `min`/`max` are all/any.
    let bools = [Scalar::Bool(true), Scalar::Bool(false), Scalar::Bool(true)];
    assert_eq!(fold_both::<bool>(ReduceOp::Min, &bools), 1);
    assert_eq!(fold_both::<bool>(ReduceOp::Max, &bools), 1);
}

#[test]
fn subtracting_negative_zero_is_not_folded_away() {
    // Regression: `simplify` rewrote `x - c` to `x` when `c == 0`, and `-0.0 == 0.0`, but
    // `-0.0 - -0.0` is `+0.0`.
    let mut p = Program::new("sub");
    let f32s = Type::scalar(ElemTy::F32);
    p.params.push(Param { name: "x".into(), ty: f32s.clone() });
    let x = p.push(Op::Param(0), f32s.clone());
    let c = p.push(Op::Const(Literal::Float(-0.0)), f32s.clone());
    let d = p.push(Op::Binary(BinOp::Sub, x, c), f32s);
    p.outputs = vec![d];
    let arg = Value::from_scalar(Scalar::F32(-0.0));
    for q in [&p, &simplify(&p)] {
        let out = run(q, std::slice::from_ref(&arg)).expect("runs");
        assert_eq!(out[0].first_scalar().map(bits), Some(bits(Scalar::F32(0.0))), "{q}");
    }
}
