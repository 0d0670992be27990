//! Front-end tests: the kernels of DESIGN.md and the language surface lower to the expected
//! nodes and types, and every error class is reported with a message and the span of the
//! offending code.

use kiln_dsl::{parse_file, parse_kernel, DslError};
use kiln_ir::{BinOp, Dim, ElemTy, Op, Program, ReduceOp, Type, UnOp};

fn lower(src: &str) -> Program {
    let item: syn::ItemFn = syn::parse_str(src).expect("test source is valid Rust");
    match parse_kernel(&item) {
        Ok(p) => p,
        Err(errs) => panic!("unexpected errors: {:?}", errs.iter().map(|e| e.message.clone()).collect::<Vec<_>>()),
    }
}

fn errors(src: &str) -> Vec<DslError> {
    let item: syn::ItemFn = syn::parse_str(src).expect("test source is valid Rust");
    match parse_kernel(&item) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => e,
    }
}

/// The first error's message and the source text its span covers.
fn first_error(src: &str) -> (String, String) {
    let e = errors(src).remove(0);
    let text = e.span.source_text().unwrap_or_default();
    (e.message, text)
}

fn sym(p: &Program, name: &str) -> Dim {
    let i = p.syms.iter().position(|s| s == name).unwrap_or_else(|| panic!("no symbol `{name}` in {:?}", p.syms));
    Dim::Sym(kiln_ir::SymId(i as u32))
}

fn count_ops(p: &Program, f: impl Fn(&Op) -> bool) -> usize {
    p.nodes.iter().filter(|n| f(&n.op)).count()
}

#[test]
fn axpby_lowers_to_two_muls_and_an_add() {
    let p = lower(
        "fn axpby(a: f32, x: Array1<f32>, b: f32, y: Array1<f32>) -> Array1<f32> {
            a * x + b * y
        }",
    );
    assert_eq!(p.name, "axpby");
    assert_eq!(p.params.len(), 4);
    assert_eq!(p.params[0].ty, Type::scalar(ElemTy::F32));
    // x and y meet in a broadcast: their lengths are unified into one symbol.
    assert_eq!(p.params[1].ty.shape, p.params[3].ty.shape);
    assert_eq!(p.syms.len(), 1);
    let out = p.node(p.outputs[0]);
    assert!(matches!(out.op, Op::Binary(BinOp::Add, _, _)));
    assert_eq!(out.ty, Type::array(ElemTy::F32, vec![Dim::Sym(kiln_ir::SymId(0))]));
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Binary(BinOp::Mul, _, _))), 2);
}

#[test]
fn standardize_is_generic_and_broadcasts_the_statistics() {
    let p = lower(
        "fn standardize<F: Float>(x: Array2<F>) -> Array2<F> {
            let mean = x.mean_axis(Axis(0));
            let std = ((&x - &mean).powi(2)).mean_axis(Axis(0)).sqrt();
            (x - mean) / std
        }",
    );
    assert!(p.is_generic());
    assert_eq!(p.params[0].ty.elem, ElemTy::Float);
    assert_eq!(p.syms, vec!["x_0".to_string(), "x_1".to_string()]);
    let out = p.node(p.outputs[0]);
    assert!(matches!(out.op, Op::Binary(BinOp::Div, _, _)));
    assert_eq!(out.ty.shape, vec![sym(&p, "x_0"), sym(&p, "x_1")]);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Reduce { op: ReduceOp::Sum, axes, .. } if axes == &[0])), 2);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Unary(UnOp::PowI(2), _))), 1);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Unary(UnOp::Sqrt, _))), 1);
    // mean = sum / cast(dim x_0)
    assert_eq!(count_ops(&p, |o| matches!(o, Op::DimValue(d) if *d == sym(&p, "x_0"))), 2);
}

#[test]
fn nearest_uses_a_comprehension_and_names_the_dims() {
    let p = lower(
        "fn nearest(x: Array2<f32>, c: Array2<f32>) -> (Array1<i64>, Array1<f32>) {
            let (n, d) = x.dim();
            let (k, _) = c.dim();
            // index comprehension: no n*k*d temporary is ever built
            let dist = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
            (dist.argmin_axis(Axis(1)), dist.min_axis(Axis(1)))
        }",
    );
    assert_eq!(p.syms, vec!["n".to_string(), "d".to_string(), "k".to_string()]);
    // c's second axis is indexed by `l` from `0..d`: unified with d.
    assert_eq!(p.params[1].ty.shape, vec![sym(&p, "k"), sym(&p, "d")]);
    assert_eq!(p.outputs.len(), 2);
    assert_eq!(p.node(p.outputs[0]).ty, Type::array(ElemTy::I64, vec![sym(&p, "n")]));
    assert_eq!(p.node(p.outputs[1]).ty, Type::array(ElemTy::F32, vec![sym(&p, "n")]));
    let gen = p.nodes.iter().find(|n| matches!(n.op, Op::Generate { .. })).expect("a Generate node");
    assert_eq!(gen.ty.shape, vec![sym(&p, "n"), sym(&p, "k")]);
    let Op::Generate { body, .. } = gen.op else { unreachable!() };
    assert!(matches!(p.node(body).op, Op::RangeReduce { op: ReduceOp::Sum, .. }));
    // No array of rank 3 anywhere: the n*k*d temporary is never built.
    assert!(p.nodes.iter().all(|n| n.ty.rank() <= 2));
}

#[test]
fn float_literals_adopt_the_other_operand_type() {
    for t in ["f32", "f64"] {
        let p = lower(&format!("fn k(x: Array1<{t}>) -> Array1<{t}> {{ 2.0 * x + 1 }}"));
        let consts: Vec<_> = p.nodes.iter().filter(|n| matches!(n.op, Op::Const(_))).collect();
        assert_eq!(consts.len(), 2);
        assert!(consts.iter().all(|n| n.ty.elem.to_string() == t));
    }
    let p = lower("fn k<F: Float>(x: Array1<F>) -> Array1<F> { 2.0 * 3.0 * x }");
    let c: Vec<_> = p.nodes.iter().filter(|n| matches!(n.op, Op::Const(_))).collect();
    assert_eq!(c.len(), 1, "literal arithmetic is folded");
    assert_eq!(c[0].op, Op::Const(kiln_ir::Literal::Float(6.0)));
    assert_eq!(c[0].ty.elem, ElemTy::Float);
}

#[test]
fn dims_are_values_and_casts_work() {
    let p = lower(
        "fn k(x: Array2<f64>) -> f64 {
            let (n, d) = x.dim();
            x.sum() / ((n * d) as f64)
        }",
    );
    let out = p.node(p.outputs[0]);
    assert_eq!(out.ty, Type::scalar(ElemTy::F64));
    assert_eq!(count_ops(&p, |o| matches!(o, Op::DimValue(_))), 2);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Cast(_))), 1);
}

#[test]
fn if_else_and_select_map_to_select() {
    let p = lower(
        "fn relu(x: Array1<f32>, t: f32) -> (Array1<f32>, Array1<f32>) {
            let a = if x > t { x } else { 0.0 };
            let b = select(x.abs() <= 1.0 && x != 0.0, x, -x);
            (a, b)
        }",
    );
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Select(..))), 2);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Binary(BinOp::And, _, _))), 1);
    for o in &p.outputs {
        assert_eq!(p.node(*o).ty.elem, ElemTy::F32);
        assert_eq!(p.node(*o).ty.rank(), 1);
    }
}

#[test]
fn math_methods_and_functions_are_the_same_ops() {
    let p = lower(
        "fn k(x: Array1<f32>, y: Array1<f32>) -> Array1<f32> {
            let a = x.exp() + exp(x) + x.ln() + ln(y) + x.log1p() + x.sqrt() + x.rsqrt() + x.sin() + cos(x);
            let b = x.tanh() + sigmoid(x) + x.floor() + ceil(x) + x.powi(-2) + x.powf(y) + x.min(y) + max(x, y);
            a + b + x.clamp(0.0, 1.0) + clamp(x, -1.0, 1.0)
        }",
    );
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Unary(UnOp::Exp, _))), 2);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Unary(UnOp::PowI(-2), _))), 1);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Binary(BinOp::Pow, _, _))), 1);
    // min(y), max(x, y), and one of each in both clamps.
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Binary(BinOp::Min, _, _))), 3);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Binary(BinOp::Max, _, _))), 3);
}

#[test]
fn dot_covers_all_rank_combinations() {
    let p = lower(
        "fn k(a: Array2<f32>, b: Array2<f32>, v: Array1<f32>, w: Array1<f32>) -> (Array2<f32>, Array1<f32>, Array1<f32>, f32) {
            (a.dot(&b), a.dot(&v), dot(w, b), v.dot(&w))
        }",
    );
    let shapes: Vec<usize> = p.outputs.iter().map(|o| p.node(*o).ty.rank()).collect();
    assert_eq!(shapes, vec![2, 1, 1, 0]);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::RangeReduce { op: ReduceOp::Sum, .. })), 4);
    // a: [a_0, a_1], b: [a_1, b_1] after unification; v and w share a's columns too.
    assert_eq!(p.params[1].ty.shape[0], p.params[0].ty.shape[1]);
    assert_eq!(p.params[2].ty.shape[0], p.params[0].ty.shape[1]);
    assert_eq!(p.params[3].ty.shape[0], p.params[1].ty.shape[0]);
}

#[test]
fn transpose_insert_axis_and_whole_reductions() {
    let p = lower(
        "fn k(x: Array2<f64>) -> (Array2<f64>, Array3<f64>, f64, f64, i64, f64, f64, Array1<f64>, Array1<f64>) {
            (x.t(), x.insert_axis(Axis(1)), x.mean(), x.var(1.0), x.argmax(), x.logsumexp(), x.std(0.0),
             x.var_axis(Axis(1), 1.0), x.logsumexp_axis(Axis(0)))
        }",
    );
    let t = p.node(p.outputs[0]);
    assert!(matches!(&t.op, Op::Transpose(_, perm) if perm == &[1, 0]));
    assert_eq!(t.ty.shape, vec![sym(&p, "x_1"), sym(&p, "x_0")]);
    assert_eq!(p.node(p.outputs[1]).ty.shape, vec![sym(&p, "x_0"), Dim::Const(1), sym(&p, "x_1")]);
    assert_eq!(p.node(p.outputs[4]).ty.elem, ElemTy::I64);
    assert_eq!(p.node(p.outputs[7]).ty.shape, vec![sym(&p, "x_0")]);
    assert_eq!(p.node(p.outputs[8]).ty.shape, vec![sym(&p, "x_1")]);
    // logsumexp: a max, and a select that guards non-finite maxima.
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Reduce { op: ReduceOp::Max, .. })), 2);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Select(..))), 2);
}

#[test]
fn gathers_and_range_reductions() {
    let p = lower(
        "fn k(x: Array2<f32>, idx: Array1<i64>, w: ArrayView1<u32>) -> (Array2<f32>, Array1<i64>, Array1<u32>) {
            let (_, d) = x.dim();
            let m = idx.len();
            let g = Array2::from_shape_fn((m, d), |(i, j)| x[[idx[i], j]]);
            let a = Array1::from_shape_fn(m, |i| argmax(0..d, |l| x[[idx[[i]], l]]));
            let s = Array1::from_shape_fn(m, |i| { let t = w[i] * 2; t + prod(0..3, |_| 1u32) });
            (g, a, s)
        }",
    );
    // idx[i] with i in 0..m and w[i] with i in 0..m: idx and w have the same length.
    assert_eq!(p.params[1].ty.shape, p.params[2].ty.shape);
    assert_eq!(p.node(p.outputs[1]).ty.elem, ElemTy::I64);
    assert_eq!(p.node(p.outputs[2]).ty.elem, ElemTy::U32);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::RangeReduce { op: ReduceOp::ArgMax, .. })), 1);
    assert_eq!(
        count_ops(
            &p,
            |o| matches!(o, Op::RangeReduce { op: ReduceOp::Prod, extents, .. } if extents == &[Dim::Const(3)])
        ),
        1
    );
    // x's rows are gathered: its first axis is not tied to m.
    assert_ne!(p.params[0].ty.shape[0], p.params[1].ty.shape[0]);
}

#[test]
fn constant_dims_fix_symbols() {
    let p = lower(
        "fn k(x: Array1<f32>) -> Array1<f32> {
            let y = Array1::from_shape_fn(3, |i| x[[i]] * 2.0);
            y + x
        }",
    );
    assert_eq!(p.params[0].ty.shape, vec![Dim::Const(3)]);
    assert!(p.syms.is_empty());
}

#[test]
fn mapv_casts_elementwise_and_scalar_params_work() {
    let p = lower("fn k(x: Array1<i32>, s: u32, z: Array0<bool>) -> Array1<f64> { x.mapv(|v| v as f64) }");
    assert_eq!(p.params[1].ty, Type::scalar(ElemTy::U32));
    assert_eq!(p.params[2].ty, Type::scalar(ElemTy::BOOL));
    let out = p.node(p.outputs[0]);
    assert!(matches!(out.op, Op::Generate { .. }));
    assert_eq!(out.ty.elem, ElemTy::F64);
}

#[test]
fn parse_file_finds_kernels_with_positions() {
    let src = "use kiln::prelude::*;\n\n#[kernel]\nfn good(x: Array1<f32>) -> Array1<f32> { x + 1.0 }\n\n\
               mod inner {\n    #[kiln::kernel]\n    fn bad(x: Array1<f32>) -> Array1<f32> {\n        frob(x)\n    }\n}\n\
               fn helper() {}\n";
    let ks = parse_file(src).expect("valid Rust");
    assert_eq!(ks.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), vec!["good", "bad"]);
    assert!(ks[0].result.is_ok());
    let errs = ks[1].result.as_ref().expect_err("bad kernel");
    assert_eq!(errs[0].message, "cannot find function `frob` in kiln kernels");
    assert_eq!(errs[0].line_col(), (9, 9));
    let err = parse_file("fn broken( {").expect_err("syntax error");
    assert!(matches!(err, kiln_dsl::FileError::Syntax { line: 1, .. }), "{err:?}");
}

// ---- errors: message and span ----

#[test]
fn error_unknown_function_and_method() {
    let (m, s) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { frobnicate(x) }");
    assert_eq!((m.as_str(), s.as_str()), ("cannot find function `frobnicate` in kiln kernels", "frobnicate"));
    let (m, s) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { x.frob() }");
    assert_eq!((m.as_str(), s.as_str()), ("no method named `frob` found for `Array1<f32>` in kiln kernels", "frob"));
}

#[test]
fn error_wrong_arity() {
    let (m, s) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { x.exp(2.0) }");
    assert_eq!(m, "this method takes 0 arguments but 1 argument was supplied");
    assert_eq!(s, "exp");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { select(x > 0.0, x) }");
    assert_eq!(m, "this function takes 3 arguments but 2 arguments were supplied");
}

#[test]
fn error_dtype_mismatch() {
    let (m, s) = first_error("fn k(x: Array1<f32>, y: Array1<f64>) -> Array1<f32> { x + y }");
    assert_eq!(m, "mismatched types: `f32` and `f64` (convert one side with `as f32` or `as f64`)");
    assert_eq!(s, "+");
    let (m, s) = first_error("fn k(x: Array1<i32>) -> Array1<i32> { x.exp() }");
    assert_eq!(m, "`exp` needs a float type, found `i32` (convert with `as f32` / `as f64`)");
    assert_eq!(s, "exp");
    let (m, _) = first_error("fn k(x: Array1<i32>) -> Array1<i32> { x * 1.5 }");
    assert_eq!(m, "mismatched types: expected `i32`, found floating-point number");
}

#[test]
fn error_rank_mismatch_and_return_type() {
    let (m, s) = first_error("fn k(x: Array2<f32>) -> Array1<f32> { x * 2.0 }");
    assert_eq!(m, "mismatched return type: expected `Array1<f32>`, found `Array2<f32>`");
    assert_eq!(s, "x * 2.0");
    let (m, _) = first_error("fn k(x: Array3<f32>) -> Array1<f32> { x.nrows() as f32 }");
    assert_eq!(m, "rank mismatch: `nrows()` needs a 2-d array, found `Array3<f32>`");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> (Array1<f32>, f32) { x }");
    assert_eq!(m, "mismatched return type: expected a tuple of 2 values");
}

#[test]
fn error_shapes_cannot_broadcast() {
    let (m, s) = first_error(
        "fn k(x: Array1<f32>) -> Array2<f32> {
            let n = x.len();
            Array2::from_shape_fn((n, 3), |(i, j)| x[[i]]) + Array2::from_shape_fn((n, 4), |(i, j)| x[[i]])
        }",
    );
    assert_eq!(m, "shapes [n, 3] and [n, 4] cannot be broadcast together");
    assert_eq!(s, "+");
}

#[test]
fn error_unsupported_syntax() {
    let (m, s) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { for i in 0..3 {} x }");
    assert!(m.starts_with("unsupported syntax: loops are not supported"), "{m}");
    assert_eq!(s, "for");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { match 1 { _ => x } }");
    assert!(m.starts_with("unsupported syntax: `match`"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { let f = |v: f32| v; x }");
    assert!(m.starts_with("unsupported closure"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { let mut y = x; y }");
    assert!(m.starts_with("mutation is not supported"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { x.iter().sum() }");
    assert_eq!(m, "no method named `iter` found for `Array1<f32>` in kiln kernels");
}

#[test]
fn error_subscripts_and_indices() {
    let (m, s) = first_error(
        "fn k(x: Array2<f32>) -> Array1<f32> { let (n, _) = x.dim(); Array1::from_shape_fn(n, |i| x[[i, 0, 1]]) }",
    );
    assert_eq!(m, "wrong number of indices: `Array2<f32>` has 2 axes, but 3 indices were given");
    assert_eq!(s, "x[[i, 0, 1]]");
    let (m, s) = first_error(
        "fn k(x: Array1<f32>) -> Array1<f32> { let n = x.len(); Array1::from_shape_fn(n, |i| x[[x[[i]]]]) }",
    );
    assert_eq!(m, "array index must be an integer scalar, found `f32`");
    assert_eq!(s, "x[[i]]");
}

#[test]
fn error_signature_problems() {
    let (m, s) = first_error("fn k(x: Vec<f32>) -> f32 { 1.0 }");
    assert!(m.starts_with("unsupported parameter type `Vec<f32>`"), "{m}");
    assert_eq!(s, "Vec<f32>");
    let (m, s) = first_error("fn k<F: Copy>(x: Array1<F>) -> Array1<F> { x }");
    assert_eq!(m, "unsupported generic bound on `F`: a kernel's type parameter must be `F: Float`");
    assert_eq!(s, "Copy");
    let (m, _) = first_error("fn k(x: Array1<f32>) { }");
    assert!(m.starts_with("a kernel must return a value"), "{m}");
}

#[test]
fn error_axis_out_of_range_and_unknown_variable() {
    let (m, s) = first_error("fn k(x: Array2<f32>) -> Array1<f32> { x.sum_axis(Axis(2)) }");
    assert_eq!(m, "axis 2 is out of range for an array of rank 2 (valid axes: 0..2)");
    assert_eq!(s, "Axis(2)");
    let (m, s) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { x + y }");
    assert_eq!((m.as_str(), s.as_str()), ("cannot find value `y` in this kernel", "y"));
}

#[test]
fn one_error_per_mistake_not_per_use() {
    let errs = errors(
        "fn k(x: Array1<f32>) -> Array1<f32> {
            let a = x.frob();
            let b = a + 1.0;
            let c = x.blah();
            a + b + c
        }",
    );
    let msgs: Vec<_> = errs.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        msgs,
        vec![
            "no method named `frob` found for `Array1<f32>` in kiln kernels",
            "no method named `blah` found for `Array1<f32>` in kiln kernels"
        ]
    );
}

#[test]
fn scalar_parameters_and_size_arithmetic_are_extents() {
    let p = lower(
        "fn k(labels: Array1<i64>, k: i64, m: usize) -> (Array2<f32>, Array1<f32>, Array1<i64>) {
            let n = labels.len();
            let a = Array2::from_shape_fn((n, k as usize), |(i, j)| if labels[i] == j as i64 { 1.0f32 } else { 0.0f32 });
            let b = Array1::from_shape_fn(2 * m + n / 2 - 1, |i| i as f32);
            let c = Array1::from_shape_fn(3 - 1, |i| i as i64);
            (a, b, c)
        }",
    );
    let defs: Vec<String> = p.derived.iter().map(|d| d.def.text(&|x| x.display(&p).to_string())).collect();
    assert_eq!(defs[0], "param p1", "{defs:?}");
    assert_eq!(defs[1], "param p2", "{defs:?}");
    assert!(defs.contains(&"mul 2 m".to_string()) && defs.contains(&"div n 2".to_string()), "{defs:?}");
    // Constant arithmetic folds to a constant extent.
    assert_eq!(p.node(p.outputs[2]).ty.shape, vec![Dim::Const(2)]);
    assert_eq!(kiln_ir::parse::parse_program(&p.to_string()).unwrap(), p, "the text round-trips");
}

#[test]
fn error_extents_say_which_rule_refuses_them() {
    let rule = "an extent is computed from array dimensions";
    for (src, why, at) in [
        (
            "fn k(x: Array1<f32>) -> Array1<f32> { Array1::from_shape_fn(x[0] as i64 as usize, |i| 1.0f32) }",
            "it is read from an array",
            "x[0] as i64 as usize",
        ),
        (
            "fn k(x: Array1<f32>, s: f32) -> Array1<f32> { Array1::from_shape_fn(s as i64, |i| s) }",
            "is not a size",
            "s as i64",
        ),
        (
            "fn k(x: Array1<f32>) -> Array1<f32> { Array1::from_shape_fn(1 - 2, |i| 1.0f32) }",
            "`-1` is negative",
            "1 - 2",
        ),
        (
            "fn k(x: Array1<f32>) -> Array1<f32> { let n = x.len(); Array1::from_shape_fn(n % 2, |i| 1.0f32) }",
            "`rem` is not size arithmetic",
            "n % 2",
        ),
    ] {
        let (msg, text) = first_error(src);
        assert!(msg.contains(why) && msg.contains(rule), "{src}: {msg}");
        assert_eq!(text, at, "{src}");
    }
    let (msg, _) =
        first_error("fn k(x: Array1<f32>) -> Array1<f32> { Array1::from_shape_fn(x.len(), |i| x[i] as usize) }");
    assert!(msg.contains("`as usize` makes an index or an extent from an integer scalar, found `f32`"), "{msg}");
}

#[test]
fn reduction_bounds_may_depend_on_an_outer_index() {
    let p = lower(
        "fn k(x: Array1<f32>) -> Array1<f32> {
            let n = x.len();
            Array1::from_shape_fn(n, |i| sum(0..i + 1, |j| x[j]) + max(0..=i, |j| x[j]) + sum(i..n, |j| x[j]))
        }",
    );
    // Each range loops over `0..n` and guards its body with a lazy select.
    let ranges: Vec<&Op> = p.nodes.iter().map(|n| &n.op).filter(|op| matches!(op, Op::RangeReduce { .. })).collect();
    assert_eq!(ranges.len(), 3);
    for op in ranges {
        let Op::RangeReduce { extents, body, .. } = op else { unreachable!() };
        assert_eq!(extents, &vec![sym(&p, "n")], "{p}");
        assert!(matches!(p.node(*body).op, Op::Select(..)), "{p}");
    }
    // `0..=n`: a computed extent `n + 1`.
    let p = lower("fn k(x: Array1<f32>) -> f32 { let n = x.len(); sum(0..=n, |j| j as f32) }");
    let defs: Vec<String> = p.derived.iter().map(|d| d.def.text(&|x| x.display(&p).to_string())).collect();
    assert_eq!(defs, vec!["add n 1".to_string()]);
}

#[test]
fn error_reduction_bounds_that_are_refused() {
    let (msg, text) = first_error(
        "fn k(x: Array1<f32>) -> Array1<i64> { let n = x.len(); Array1::from_shape_fn(n, |i| argmax(0..i + 1, |j| x[j])) }",
    );
    assert!(msg.contains("`argmax` needs a range `0..n` of one size"), "{msg}");
    assert_eq!(text, "0..i + 1");
    let (msg, text) =
        first_error("fn k(x: Array1<f32>) -> Array1<f32> { let n = x.len(); Array1::from_shape_fn(n, |i| sum(0..i * i, |j| x[j])) }");
    assert!(msg.contains("this range end is refused") && msg.contains("`0..i + 1`"), "{msg}");
    assert_eq!(text, "i * i");
}

#[test]
fn scans_lower_to_scan_nodes_of_the_operand_type() {
    let p = lower(
        "fn k(x: Array2<f32>, y: Array1<i64>) -> (Array2<f32>, Array2<f32>, Array1<i64>, Array1<i64>) {
            (x.cumsum(Axis(0)), x.cumprod(Axis(1)), y.cummax(Axis(0)), y.cummin(Axis(0)))
        }",
    );
    let ops: Vec<(ReduceOp, u32)> = p
        .nodes
        .iter()
        .filter_map(|n| match n.op {
            Op::Scan { op, axis, .. } => Some((op, axis)),
            _ => None,
        })
        .collect();
    assert_eq!(ops, [(ReduceOp::Sum, 0), (ReduceOp::Prod, 1), (ReduceOp::Max, 0), (ReduceOp::Min, 0)]);
    assert_eq!(p.node(p.outputs[0]).ty, p.params[0].ty);
    assert_eq!(p.node(p.outputs[2]).ty, p.params[1].ty);
}

#[test]
fn bad_scans_are_errors_with_spans() {
    let (m, s) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { x.cumsum(Axis(1)) }");
    assert!(m.contains("axis 1 is out of range for an array of rank 1"), "{m}");
    assert_eq!(s, "Axis(1)");
    let (m, _) = first_error("fn k(x: Array1<bool>) -> Array1<bool> { x.cummax(Axis(0)) }");
    assert!(m.contains("cannot scan `bool` values with `cummax`"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { x.cumulative_sum(Axis(0)) }");
    assert!(m.contains("`cumsum`"), "{m}");
}

#[test]
fn bincount_is_a_checked_one_hot_count() {
    let p = lower("fn k(l: Array1<i64>, w: Array1<f32>) -> (Array1<i64>, Array1<f32>) { (bincount(&l, 4), bincount_weighted(&l, &w, 4)) }");
    assert_eq!(p.node(p.outputs[0]).ty, Type::array(ElemTy::I64, vec![Dim::Const(4)]));
    assert_eq!(p.node(p.outputs[1]).ty, Type::array(ElemTy::F32, vec![Dim::Const(4)]));
    // The labels' and the weights' lengths are one symbol.
    assert_eq!(p.params[0].ty.shape, p.params[1].ty.shape);
    assert_eq!(count_ops(&p, |o| matches!(o, Op::RangeReduce { op: ReduceOp::Sum, .. })), 2);
}

#[test]
fn bad_bincounts_are_errors_with_spans() {
    let (m, s) = first_error("fn k(l: Array1<f32>) -> Array1<i64> { bincount(&l, 3) }");
    assert!(m.contains("`bincount` counts a 1-d array of integer labels, found `Array1<f32>`"), "{m}");
    assert_eq!(s, "&l");
    let (m, s) = first_error("fn k(l: Array1<i64>) -> Array1<i64> { bincount(&l, -2) }");
    assert!(m.contains("extent `-2` is negative"), "{m}");
    assert_eq!(s, "-2");
    let (m, _) = first_error("fn k(l: Array1<i64>, w: Array2<f32>) -> Array1<f32> { bincount_weighted(&l, &w, 2) }");
    assert!(m.contains("weights are a 1-d numeric array"), "{m}");
}

#[test]
fn sorts_lower_to_sort_nodes() {
    let p =
        lower("fn k(x: Array2<f32>) -> (Array2<f32>, Array2<i64>) { (x.sort_axis(Axis(1)), x.argsort_axis(Axis(0))) }");
    assert_eq!(p.node(p.outputs[0]).ty, p.params[0].ty);
    assert_eq!(p.node(p.outputs[1]).ty.elem, ElemTy::I64);
    assert!(matches!(p.node(p.outputs[1]).op, Op::Sort { axis: 0, indices: true, .. }));
    let (m, _) = first_error("fn k(x: Array1<bool>) -> Array1<bool> { x.sort_axis(Axis(0)) }");
    assert!(m.contains("cannot sort `bool` values with `sort_axis`"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<i64> { x.argsort() }");
    assert!(m.contains("`argsort_axis(Axis(k))`"), "{m}");
}

#[test]
fn median_and_quantile_errors_name_the_rule() {
    let (m, s) = first_error("fn k(x: Array2<f32>) -> Array1<f32> { x.quantile_axis(Axis(0), 1.5) }");
    assert!(m.contains("the quantile 1.5 is not in 0..=1"), "{m}");
    assert_eq!(s, "1.5");
    let (m, _) = first_error("fn k(x: Array2<i64>) -> Array1<f64> { x.median_axis(Axis(0)) }");
    assert!(m.contains("`median_axis` needs a float array"), "{m}");
    let p = lower("fn k<F: Float>(x: Array2<F>) -> (Array1<F>, F) { (x.median_axis(Axis(1)), x.sum_axis(Axis(0)).quantile_axis(Axis(0), 0.25)) }");
    assert_eq!(count_ops(&p, |o| matches!(o, Op::Sort { indices: false, .. })), 2);
}

#[test]
fn topk_gives_values_and_indices() {
    let p = lower(
        "fn k(x: Array2<f32>) -> (Array2<f32>, Array2<i64>) { let (v, i) = x.largest_k_axis(Axis(1), 4); (v, i) }",
    );
    assert!(matches!(p.node(p.outputs[0]).op, Op::TopK { largest: true, indices: false, k: Dim::Const(4), .. }));
    assert!(matches!(p.node(p.outputs[1]).op, Op::TopK { largest: true, indices: true, .. }));
    let (m, _) = first_error("fn k(x: Array2<f32>) -> (Array2<f32>, Array2<i64>) { x.smallest_k_axis(Axis(1), -1) }");
    assert!(m.contains("extent `-1` is negative"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { x.topk(3) }");
    assert!(m.contains("smallest_k_axis"), "{m}");
}

#[test]
fn constructors_reshapes_and_joins_are_comprehensions() {
    let p = lower("fn k(x: Array2<f64>) -> Array2<f64> { let (n, d) = x.dim(); Array2::zeros((n, d)) + concatenate![Axis(0), x] }");
    assert!(count_ops(&p, |o| matches!(o, Op::Generate { .. })) >= 2);
    let p = lower("fn k(a: Array1<f32>, b: Array1<f32>, c: Array1<f32>) -> Array1<f32> { a.mul_add(&b, &c) }");
    assert_eq!(count_ops(&p, |o| matches!(o, Op::MulAdd(..))), 1);
    // A reshape of constants that cannot hold is refused at compile time, naming both counts.
    let (m, _) = first_error(
        "fn k(x: Array1<f64>) -> Array2<f64> { let y = Array1::from_elem(5, 1.0); y.into_shape_with_order((2, 3)).unwrap() }",
    );
    assert!(m.contains("cannot reshape") && m.contains("5 elements") && m.contains("6 elements"), "{m}");
    // `unwrap` only applies to the methods ndarray makes fallible.
    let (m, s) = first_error("fn k(x: Array1<f64>) -> f64 { x.sum().unwrap() }");
    assert!(m.contains("`unwrap` applies only to"), "{m}");
    assert_eq!(s, "unwrap");
    // Joined arrays must agree off the axis.
    let (m, _) = first_error("fn k(x: Array2<f64>) -> Array2<f64> { let y = Array2::zeros((2, 3)); let z = Array2::zeros((2, 4)); concatenate![Axis(0), y, z] }");
    assert!(m.contains("cannot be joined by `concatenate!` along axis 0"), "{m}");
    // `mul_add` is float-only; an integer operand is told so.
    let (m, _) = first_error("fn k(x: Array1<i64>) -> Array1<i64> { x.mul_add(&x, &x) }");
    assert!(m.contains("`mul_add` needs float operands"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f64>) -> Array1<f64> { x.fma(&x, &x) }");
    assert!(m.contains("`mul_add`"), "{m}");
}

#[test]
fn array_literals_take_the_kernels_types_and_refuse_bad_forms() {
    // Unsuffixed floats take the kernel's float type; the shape is the literal's.
    let p = lower("fn k(x: Array2<f32>) -> Array2<f32> { &x + &array![[1.0, 2.0], [3.0, 4.0]] }");
    let lit = p.nodes.iter().find(|n| matches!(n.op, Op::Generate { .. })).expect("a comprehension");
    assert_eq!(lit.ty, Type::array(ElemTy::F32, vec![Dim::Const(2), Dim::Const(2)]));
    // Integers are i64 unless a typed element says otherwise; a generic kernel's floats are F.
    let p = lower("fn k(x: Array1<i64>) -> Array1<i64> { &x + &array![1, 2, 3] }");
    assert_eq!(p.node(p.outputs[0]).ty.elem, ElemTy::I64);
    let p = lower("fn k<F: Float>(x: Array1<F>) -> Array1<F> { &x * &array![0.5, 2.0] }");
    assert_eq!(p.node(p.outputs[0]).ty.elem, ElemTy::Float);
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { &x + &array![] }");
    assert!(m.contains("empty `array![]`"), "{m}");
    let (m, _) = first_error("fn k(x: Array2<f32>) -> Array2<f32> { &x + &array![[1.0, 2.0], 3.0] }");
    assert!(m.contains("mixed rows and elements"), "{m}");
    let (m, _) = first_error("fn k(x: Array3<i64>) -> Array3<i64> { &x + &array![[[1], [2]], [3, 4]] }");
    assert!(m.contains("mixed rows and elements") || m.contains("inconsistent"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { &x + &array![x, x] }");
    assert!(m.contains("must be scalars"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { &x + &[1.0, 2.0] }");
    assert!(m.contains("write `array![a, b]`"), "{m}");
}

#[test]
fn join_functions_are_the_macros() {
    let forms = [
        "ndarray::concatenate(Axis(0), &[x.view(), y.view()]).unwrap()",
        "concatenate(Axis(0), &[x.view(), y.view()]).expect(\"fits\")",
        "ndarray::concatenate(Axis(0), &[x.view(), y.view()])",
        "concatenate![Axis(0), x, y]",
    ];
    let text = |p: &Program| p.to_string();
    let want = text(&lower(&format!("fn k(x: Array2<f64>, y: Array2<f64>) -> Array2<f64> {{ {} }}", forms[3])));
    for f in &forms[..3] {
        let p = lower(&format!("fn k(x: Array2<f64>, y: Array2<f64>) -> Array2<f64> {{ {f} }}"));
        assert_eq!(text(&p), want, "{f}");
    }
    let p = lower("fn k(x: Array1<f32>, y: Array1<f32>) -> Array2<f32> { ndarray::stack(Axis(1), &[x.view(), y.view()]).unwrap() }");
    assert_eq!(p.node(p.outputs[0]).ty.shape[1], Dim::Const(2));
    let (m, _) = first_error("fn k(x: Array1<f32>, y: Array1<f32>) -> Array1<f32> { concatenate(Axis(0), x) }");
    assert!(m.contains("must be written out as a slice"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>, y: Array1<f32>) -> Array1<f32> { concatenate(Axis(0), &[]) }");
    assert!(m.contains("at least one array"), "{m}");
    let (m, _) = first_error("fn k(x: Array1<f32>) -> Array1<f32> { other::concatenate(Axis(0), &[x.view()]) }");
    assert!(m.contains("cannot find function"), "{m}");
}
