//! The array IR text format: golden text of hand-built kernels, exact round trips (floats,
//! symbols, generic kernels, random programs), parse errors with positions, a parser that
//! never panics, and the random program/argument generators' guarantees.

use kiln_ir::parse::parse_program;
use kiln_ir::testgen::{random_args, random_program, SYM_VALUES};
use kiln_ir::verify::verify;
use kiln_ir::{bind, BinOp, Dim, ElemTy, Literal, NodeId, Op, Param, Program, ReduceOp, Type, UnOp, Value, VarId};
use proptest::prelude::*;

/// DESIGN.md's `nearest`: argmin and min over `k` of squared distances, no `n*k*d` temporary.
fn nearest() -> Program {
    let mut p = Program::new("nearest");
    let (n, d, k) = (Dim::Sym(p.sym("n")), Dim::Sym(p.sym("d")), Dim::Sym(p.sym("k")));
    let f32s = |shape: Vec<Dim>| Type::array(ElemTy::F32, shape);
    p.params.push(Param { name: "x".into(), ty: f32s(vec![n, d]) });
    p.params.push(Param { name: "c".into(), ty: f32s(vec![k, d]) });
    let x = p.push(Op::Param(0), f32s(vec![n, d]));
    let c = p.push(Op::Param(1), f32s(vec![k, d]));
    let (i, j, l) = (VarId(0), VarId(1), VarId(2));
    let idx = Type::scalar(ElemTy::I64);
    let vi = p.push(Op::Index(i), idx.clone());
    let vj = p.push(Op::Index(j), idx.clone());
    let vl = p.push(Op::Index(l), idx);
    let xe = p.push(Op::Load { array: x, indices: vec![vi, vl] }, f32s(vec![]));
    let ce = p.push(Op::Load { array: c, indices: vec![vj, vl] }, f32s(vec![]));
    let diff = p.push(Op::Binary(BinOp::Sub, xe, ce), f32s(vec![]));
    let sq = p.push(Op::Unary(UnOp::PowI(2), diff), f32s(vec![]));
    let sum = p.push(Op::RangeReduce { op: ReduceOp::Sum, vars: vec![l], extents: vec![d], body: sq }, f32s(vec![]));
    let dist = p.push(Op::Generate { vars: vec![i, j], extents: vec![n, k], body: sum }, f32s(vec![n, k]));
    let am = p.push(Op::Reduce { op: ReduceOp::ArgMin, arg: dist, axes: vec![1] }, Type::array(ElemTy::I64, vec![n]));
    let mn = p.push(Op::Reduce { op: ReduceOp::Min, arg: dist, axes: vec![1] }, f32s(vec![n]));
    p.outputs = vec![am, mn];
    p
}

const NEAREST_TEXT: &str = "\
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

/// DESIGN.md's generic `standardize`: `(x - mean) / std` along axis 0.
fn standardize() -> Program {
    let mut p = Program::new("standardize");
    let (n, d) = (Dim::Sym(p.sym("n")), Dim::Sym(p.sym("d")));
    let f = |shape: Vec<Dim>| Type::array(ElemTy::Float, shape);
    p.params.push(Param { name: "x".into(), ty: f(vec![n, d]) });
    let x = p.push(Op::Param(0), f(vec![n, d]));
    let sum = p.push(Op::Reduce { op: ReduceOp::Sum, arg: x, axes: vec![0] }, f(vec![d]));
    let len = p.push(Op::DimValue(n), Type::scalar(ElemTy::I64));
    let lenf = p.push(Op::Cast(len), f(vec![]));
    let mean = p.push(Op::Binary(BinOp::Div, sum, lenf), f(vec![d]));
    let centered = p.push(Op::Binary(BinOp::Sub, x, mean), f(vec![n, d]));
    let sq = p.push(Op::Unary(UnOp::PowI(2), centered), f(vec![n, d]));
    let ss = p.push(Op::Reduce { op: ReduceOp::Sum, arg: sq, axes: vec![0] }, f(vec![d]));
    let var = p.push(Op::Binary(BinOp::Div, ss, lenf), f(vec![d]));
    let std = p.push(Op::Unary(UnOp::Sqrt, var), f(vec![d]));
    let out = p.push(Op::Binary(BinOp::Div, centered, std), f(vec![n, d]));
    p.outputs = vec![out];
    p
}

const STANDARDIZE_TEXT: &str = "\
kernel standardize<F>(x: F[n, d]) -> F[n, d] {
  v0: F[n, d] = param 0
  v1: F[d] = reduce sum v0 axes [0]
  v2: i64[] = dim n
  v3: F[] = cast v2
  v4: F[d] = binary div v1 v3
  v5: F[n, d] = binary sub v0 v4
  v6: F[n, d] = unary powi.2 v5
  v7: F[d] = reduce sum v6 axes [0]
  v8: F[d] = binary div v7 v3
  v9: F[d] = unary sqrt v8
  v10: F[n, d] = binary div v5 v9
  return v10
}
";

#[test]
fn nearest_prints_expected_text_and_round_trips() {
    let p = nearest();
    assert_eq!(verify(&p), Ok(()));
    assert_eq!(p.to_string(), NEAREST_TEXT);
    assert_eq!(parse_program(NEAREST_TEXT), Ok(p));
}

#[test]
fn generic_kernel_is_marked_and_round_trips() {
    let p = standardize();
    assert_eq!(verify(&p), Ok(()));
    assert_eq!(p.to_string(), STANDARDIZE_TEXT);
    let back: Program = STANDARDIZE_TEXT.parse().expect("standardize parses");
    assert!(back.is_generic());
    assert_eq!(back, p);
    // Instantiating keeps the program valid and drops the `<F>` marker.
    let f64_text = p.instantiate(kiln_ir::DType::F64).to_string();
    assert!(f64_text.starts_with("kernel standardize(x: f64[n, d]) -> f64[n, d] {"), "{f64_text}");
}

/// `kernel c() -> T[] { v0 = const <lit> }` for one literal.
fn const_program(elem: ElemTy, lit: Literal) -> Program {
    let mut p = Program::new("c");
    let v = p.push(Op::Const(lit), Type::scalar(elem));
    p.outputs = vec![v];
    p
}

fn const_of(p: &Program) -> Literal {
    match &p.nodes[0].op {
        Op::Const(l) => *l,
        other => panic!("expected a const, got {other:?}"),
    }
}

#[test]
fn float_constants_round_trip_bit_exactly() {
    let values = [
        0.1,
        -0.0,
        1.0,
        1e300,
        -2.5e-8,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        1.0 / 3.0,
        f32::MAX as f64,
        0.1f32 as f64,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for x in values {
        let text = const_program(ElemTy::F64, Literal::Float(x)).to_string();
        let back = parse_program(&text).unwrap_or_else(|e| panic!("{x:?}: {e}\n{text}"));
        match const_of(&back) {
            Literal::Float(y) => assert_eq!(y.to_bits(), x.to_bits(), "{x:?} printed as {text}"),
            other => panic!("{x:?} came back as {other:?}"),
        }
    }
    let nan = parse_program(&const_program(ElemTy::F32, Literal::Float(f64::NAN)).to_string()).expect("NaN parses");
    assert!(matches!(const_of(&nan), Literal::Float(y) if y.is_nan()));
}

#[test]
fn literal_kinds_survive_printing() {
    let cases = [
        (ElemTy::I64, Literal::Int(2), "const 2\n"),
        (ElemTy::F64, Literal::Float(2.0), "const 2.0\n"),
        (ElemTy::I64, Literal::Int(i64::MIN), "const -9223372036854775808\n"),
        (ElemTy::BOOL, Literal::Bool(false), "const false\n"),
        (ElemTy::F32, Literal::Float(f64::NEG_INFINITY), "const -inf\n"),
    ];
    for (elem, lit, line) in cases {
        let p = const_program(elem, lit);
        let text = p.to_string();
        assert!(text.contains(line), "{text}");
        assert_eq!(parse_program(&text), Ok(p));
    }
}

#[test]
fn constant_dims_print_as_numbers() {
    let mut p = Program::new("k");
    let n = Dim::Sym(p.sym("n"));
    let ty = Type::array(ElemTy::U32, vec![Dim::Const(3), n, Dim::Const(1)]);
    p.params.push(Param { name: "a".into(), ty: ty.clone() });
    let a = p.push(Op::Param(0), ty);
    p.outputs = vec![a];
    let text = p.to_string();
    assert_eq!(text, "kernel k(a: u32[3, n, 1]) -> u32[3, n, 1] {\n  v0: u32[3, n, 1] = param 0\n  return v0\n}\n");
    assert_eq!(parse_program(&text), Ok(p));
}

#[test]
fn unused_and_reordered_symbols_round_trip_through_a_syms_line() {
    // A symbol no type mentions.
    let mut p = Program::new("k");
    let n = Dim::Sym(p.sym("n"));
    p.sym("unused");
    p.params.push(Param { name: "a".into(), ty: Type::array(ElemTy::F32, vec![n]) });
    let a = p.push(Op::Param(0), Type::array(ElemTy::F32, vec![n]));
    p.outputs = vec![a];
    let text = p.to_string();
    assert!(text.contains("\n  syms n, unused\n"), "{text}");
    assert_eq!(parse_program(&text), Ok(p));

    // Symbols declared in another order than the text mentions them.
    let mut q = Program::new("k");
    let (d, n) = (Dim::Sym(q.sym("d")), Dim::Sym(q.sym("n")));
    q.params.push(Param { name: "x".into(), ty: Type::array(ElemTy::F32, vec![n, d]) });
    let x = q.push(Op::Param(0), Type::array(ElemTy::F32, vec![n, d]));
    q.outputs = vec![x];
    let text = q.to_string();
    assert!(text.contains("\n  syms d, n\n"), "{text}");
    assert_eq!(parse_program(&text), Ok(q));

    // The usual case needs no `syms` line.
    assert!(!nearest().to_string().contains("syms"));
}

#[test]
fn zero_outputs_and_scalar_params_round_trip() {
    let mut p = Program::new("nothing");
    p.params.push(Param { name: "a".into(), ty: Type::scalar(ElemTy::F64) });
    p.push(Op::Param(0), Type::scalar(ElemTy::F64));
    let text = p.to_string();
    assert_eq!(text, "kernel nothing(a: f64[]) -> () {\n  v0: f64[] = param 0\n  return\n}\n");
    assert_eq!(parse_program(&text), Ok(p));
}

#[test]
fn comments_and_free_layout_are_accepted() {
    let text = "// the identity\nkernel id(a: i32[n]) -> i32[n] { v0: i32[n] = param 0 // in\n return v0 }";
    let p = parse_program(text).expect("parses");
    assert_eq!(p.params[0].ty, Type::array(ElemTy::I32, vec![Dim::Sym(kiln_ir::SymId(0))]));
    assert_eq!(p.outputs, vec![NodeId(0)]);
}

/// Parse `text`, expecting an error at `line`:`col` whose message contains `needle`.
fn parse_err(text: &str, line: u32, col: u32, needle: &str) {
    match parse_program(text) {
        Ok(p) => panic!("expected an error, parsed {p:?}"),
        Err(e) => {
            assert_eq!((e.line, e.col), (line, col), "{e}");
            assert!(e.message.contains(needle), "message `{}` lacks `{needle}`", e.message);
            assert!(e.to_string().starts_with(&format!("line {line}, column {col}: ")), "{e}");
        }
    }
}

#[test]
fn parse_errors_say_where_and_what_was_expected() {
    let head = "kernel k(x: f32[n]) -> f32[n] {\n";
    parse_err(&format!("{head}  v0: f32[n] param 0\n  return v0\n}}"), 2, 14, "expected `=`, found `param`");
    parse_err(&format!("{head}  v1: f32[n] = param 0\n  return v1\n}}"), 2, 3, "expected `v0`");
    parse_err(
        &format!("{head}  v0: f32[n] = unary neg v1\n  return v0\n}}"),
        2,
        26,
        "`v1` is used before it is defined",
    );
    parse_err(&format!("{head}  v0: f32[n] = frobnicate v1\n  return v0\n}}"), 2, 16, "expected an operation");
    parse_err(&format!("{head}  v0: f32[n] = unary cube v0\n  return v0\n}}"), 2, 22, "expected a unary op");
    parse_err(&format!("{head}  v0: f32[n] = param 99999999999\n  return v0\n}}"), 2, 22, "not an integer in range");
    parse_err(&format!("{head}  v0: f16[n] = param 0\n  return v0\n}}"), 2, 7, "expected an element type");
    parse_err(&format!("{head}  v0: f32[n] = param 0\n  return v0\n}} extra"), 4, 3, "expected end of input");
    parse_err(&format!("{head}  v0: f32[n] = param 0\n  return v0\n"), 4, 1, "expected `}`, found end of input");
    parse_err(&format!("{head}  v0: f32[n] = param 0 $\n  return v0\n}}"), 2, 24, "unexpected character `$`");
    parse_err(&format!("{head}  v0: f32[m] = param 0\n  return v0\n}}"), 3, 3, "output 0 is declared `f32[n]`");
    parse_err(&format!("{head}  v0: f32[n] = param 0\n  return v0, v0\n}}"), 3, 3, "declares 1 outputs");
    parse_err(&format!("{head}  syms m\n  v0: f32[n] = param 0\n  return v0\n}}"), 1, 17, "symbol `n` is not declared");
    parse_err("kernel k(x: F[n]) -> F[n] {\n  v0: F[n] = param 0\n  return v0\n}", 1, 13, "not marked `<F>`");
    parse_err(
        "kernel k() -> () {\n  v0: i64[] = const 99999999999999999999\n  return\n}",
        2,
        21,
        "does not fit in i64",
    );
    parse_err("kernel k() -> () {\n  v0: f32[] = const -nan\n  return\n}", 2, 22, "expected `inf` after `-`");
    parse_err("", 1, 1, "expected `kernel`, found end of input");
}

/// Apply a few byte-level edits (delete, duplicate, replace with a grammar character) to a
/// valid text, keeping it valid UTF-8.
fn mutate(text: &str, edits: &[(usize, usize, u8)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let alphabet: Vec<char> = "v0123456789[](){}<>,:=.- \nFfi_".chars().collect();
    for &(pos, kind, c) in edits {
        if chars.is_empty() {
            break;
        }
        let pos = pos % chars.len();
        match kind % 3 {
            0 => {
                chars.remove(pos);
            }
            1 => chars.insert(pos, chars[pos]),
            _ => chars[pos] = alphabet[c as usize % alphabet.len()],
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_verify_and_round_trip(seed in any::<u64>()) {
        let p = random_program(seed);
        let text = p.to_string();
        prop_assert!(verify(&p).is_ok(), "{}\n{}", verify(&p).unwrap_err(), text);
        let back = parse_program(&text);
        prop_assert_eq!(back.as_ref(), Ok(&p), "{}", text);
        prop_assert_eq!(back.map(|b| b.to_string()), Ok(text));
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = parse_program(&text);
    }

    #[test]
    fn parser_verifier_and_printer_never_panic_on_mutated_programs(
        seed in any::<u64>(),
        edits in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 1..4),
    ) {
        let text = mutate(&random_program(seed).to_string(), &edits);
        if let Ok(p) = parse_program(&text) {
            // Whatever parses can be verified and printed without panicking.
            let _ = verify(&p);
            let _ = p.to_string();
        }
    }

    #[test]
    fn random_args_bind_and_keep_gathers_in_range(seed in any::<u64>(), arg_seed in any::<u64>()) {
        let p = random_program(seed);
        let args = random_args(&p, arg_seed);
        let sigs: Vec<(kiln_ir::DType, &[usize])> = args.iter().map(|a| (a.dtype(), a.shape())).collect();
        let syms = bind(&p, None, &sigs);
        prop_assert!(syms.is_ok(), "{:?}", syms);
        let syms = syms.unwrap_or_default();
        for (i, s) in syms.iter().enumerate() {
            // Derived symbols (slice lengths) are computed from the others, not drawn.
            let derived = p.derived.iter().any(|d| d.sym.0 as usize == i);
            prop_assert!(derived || SYM_VALUES.contains(s), "symbol value {}", s);
        }
        // Every gather index parameter holds values below the length of each axis it indexes.
        for n in &p.nodes {
            let Op::Load { array, indices } = &n.op else { continue };
            for (axis, ix) in indices.iter().enumerate() {
                let Op::Load { array: src, .. } = &p.nodes[ix.index()].op else { continue };
                let Op::Param(pi) = p.nodes[src.index()].op else { continue };
                let len = match p.nodes[array.index()].ty.shape[axis] {
                    Dim::Const(c) => c as i64,
                    Dim::Sym(s) => syms[s.0 as usize] as i64,
                };
                let values: Vec<i64> = match &args[pi as usize] {
                    Value::I64(a) => a.iter().copied().collect(),
                    Value::I32(a) => a.iter().map(|&x| x as i64).collect(),
                    other => { prop_assert!(false, "gather index of dtype {:?}", other.dtype()); vec![] }
                };
                prop_assert!(values.iter().all(|&v| (0..len).contains(&v)), "{:?} not below {}", values, len);
            }
        }
    }
}

#[test]
fn random_programs_cover_every_kind_of_op_and_zero_lengths() {
    let mut seen = std::collections::BTreeSet::new();
    let mut zero_sym = false;
    let mut multi_output = false;
    for seed in 0..300 {
        let p = random_program(seed);
        multi_output |= p.outputs.len() > 1;
        for n in &p.nodes {
            let kind = match &n.op {
                Op::Param(_) => "param",
                Op::Const(_) => "const",
                Op::DimValue(_) => "dim",
                Op::Index(_) => "index",
                Op::Unary(..) => "unary",
                Op::Binary(_, a, b) if p.nodes[a.index()].ty.shape != p.nodes[b.index()].ty.shape => "broadcasting",
                Op::Binary(..) => "binary",
                Op::Select(..) => "select",
                Op::MulAdd(..) => "mul_add",
                Op::Cast(_) => "cast",
                Op::Broadcast(_) => "broadcast",
                Op::Transpose(..) => "transpose",
                Op::InsertAxis(..) => "insert_axis",
                Op::Slice(..) => "slice",
                Op::Reduce { .. } => "reduce",
                Op::Scan { .. } => "scan",
                Op::Sort { .. } => "sort",
                Op::TopK { .. } => "topk",
                Op::Load { indices, .. }
                    if indices.iter().any(|i| matches!(p.nodes[i.index()].op, Op::Load { .. })) =>
                {
                    "gather"
                }
                Op::Load { .. } => "load",
                Op::Generate { .. } => "generate",
                Op::RangeReduce { .. } => "range_reduce",
            };
            seen.insert(kind);
        }
        let args = random_args(&p, seed);
        zero_sym |= args.iter().any(|a| a.shape().contains(&0));
    }
    let all = [
        "param",
        "const",
        "dim",
        "index",
        "unary",
        "binary",
        "broadcasting",
        "select",
        "mul_add",
        "cast",
        "broadcast",
        "transpose",
        "insert_axis",
        "slice",
        "reduce",
        "scan",
        "load",
        "gather",
        "generate",
        "range_reduce",
    ];
    for k in all {
        assert!(seen.contains(k), "no random program has a {k} node");
    }
    assert!(zero_sym, "no random argument has a 0-length axis");
    assert!(multi_output, "no random program has several outputs");
}

#[test]
fn random_programs_are_deterministic_and_varied() {
    assert_eq!(random_program(7), random_program(7));
    assert_eq!(random_args(&random_program(7), 3), random_args(&random_program(7), 3));
    let texts: std::collections::BTreeSet<String> = (0..50).map(|s| random_program(s).to_string()).collect();
    assert!(texts.len() > 45, "only {} distinct programs in 50 seeds", texts.len());
}
