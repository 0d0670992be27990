//! The verifier: valid programs pass, and each rule listed in `verify.rs`'s module doc
//! rejects a program that breaks it with a message naming the node (or parameter/output).

use kiln_ir::testgen::random_program;
use kiln_ir::verify::{broadcast_shapes, verify, Location};
use kiln_ir::{BinOp, Dim, ElemTy, Literal, NodeId, Op, Param, Program, ReduceOp, SymId, Type, UnOp, VarId};

const N: Dim = Dim::Sym(SymId(0));
const D: Dim = Dim::Sym(SymId(1));
const ONE: Dim = Dim::Const(1);

fn t(elem: ElemTy, shape: &[Dim]) -> Type {
    Type::array(elem, shape.to_vec())
}

fn scalar(elem: ElemTy) -> Type {
    Type::scalar(elem)
}

/// `kernel k(x: f32[n, d], y: f32[d], m: bool[n, d], j: i64[n])` with v0..v3 its params.
fn base() -> Program {
    let mut p = Program::new("k");
    p.sym("n");
    p.sym("d");
    let params = [
        ("x", t(ElemTy::F32, &[N, D])),
        ("y", t(ElemTy::F32, &[D])),
        ("m", t(ElemTy::BOOL, &[N, D])),
        ("j", t(ElemTy::I64, &[N])),
    ];
    for (i, (name, ty)) in params.into_iter().enumerate() {
        p.params.push(Param { name: name.into(), ty: ty.clone() });
        p.push(Op::Param(i as u32), ty);
    }
    p.outputs = vec![NodeId(0)];
    p
}

const X: NodeId = NodeId(0);
const Y: NodeId = NodeId(1);
const M: NodeId = NodeId(2);
const J: NodeId = NodeId(3);

/// `base()` plus one node, output.
fn with(op: Op, ty: Type) -> Program {
    let mut p = base();
    let v = p.push(op, ty);
    p.outputs = vec![v];
    p
}

/// Assert `p` is rejected with an error at `at` whose message contains `needle`.
fn rejects(p: &Program, at: &str, needle: &str) {
    let errs = match verify(p) {
        Ok(()) => panic!("expected a verifier error at {at} ({needle}) for\n{p}"),
        Err(e) => e,
    };
    let hit = errs.0.iter().any(|e| e.location.to_string() == at && e.message.contains(needle));
    assert!(hit, "no error at {at} containing `{needle}`; got:\n{errs}");
    assert!(errs.to_string().contains(&format!("{at}: ")), "{errs}");
}

fn accepts(p: &Program) {
    if let Err(e) = verify(p) {
        panic!("{e}\n{p}");
    }
}

#[test]
fn valid_programs_pass() {
    accepts(&base());
    for seed in 0..100 {
        accepts(&random_program(seed));
    }
    // numpy broadcasting with a length-1 axis: [n, 1] + [d] -> [n, d].
    let mut p = base();
    let col = p.push(Op::InsertAxis(J, 1), t(ElemTy::I64, &[N, ONE]));
    let colf = p.push(Op::Cast(col), t(ElemTy::F32, &[N, ONE]));
    let s = p.push(Op::Binary(BinOp::Add, colf, Y), t(ElemTy::F32, &[N, D]));
    p.outputs = vec![s];
    accepts(&p);
}

#[test]
fn broadcast_shapes_follows_numpy() {
    assert_eq!(broadcast_shapes(&[N, ONE], &[D]), Some(vec![N, D]));
    assert_eq!(broadcast_shapes(&[], &[N]), Some(vec![N]));
    assert_eq!(broadcast_shapes(&[N], &[D]), None);
    assert_eq!(broadcast_shapes(&[Dim::Const(2)], &[Dim::Const(3)]), None);
}

#[test]
fn operands_must_precede_users() {
    let mut p = base();
    p.push(Op::Unary(UnOp::Neg, NodeId(5)), t(ElemTy::F32, &[N, D]));
    p.push(Op::Unary(UnOp::Neg, NodeId(5)), t(ElemTy::F32, &[N, D]));
    rejects(&p, "v4", "operand v5 does not precede its user");
    rejects(&p, "v5", "operand v5 does not precede its user");
}

#[test]
fn params_must_exist_and_match_their_declared_type() {
    rejects(&with(Op::Param(7), scalar(ElemTy::F32)), "v4", "param 7 does not exist");
    rejects(&with(Op::Param(1), t(ElemTy::F32, &[N])), "v4", "param 1 (`y`) gives `f32[d]`");
}

#[test]
fn constants_are_scalars_of_their_literal_kind() {
    rejects(&with(Op::Const(Literal::Float(1.0)), t(ElemTy::F32, &[N])), "v4", "const must be rank 0");
    rejects(&with(Op::Const(Literal::Float(1.0)), scalar(ElemTy::I64)), "v4", "constant 1.0 is not a valid i64");
    rejects(&with(Op::Const(Literal::Int(1)), scalar(ElemTy::F32)), "v4", "constant 1 is not a valid f32");
    rejects(&with(Op::Const(Literal::Int(-1)), scalar(ElemTy::U32)), "v4", "not a valid u32");
    rejects(&with(Op::Const(Literal::Int(1 << 40)), scalar(ElemTy::I32)), "v4", "not a valid i32");
    rejects(&with(Op::Const(Literal::Bool(true)), scalar(ElemTy::I32)), "v4", "not a valid i32");
}

#[test]
fn dim_values_and_indices_are_i64_scalars() {
    rejects(&with(Op::DimValue(N), scalar(ElemTy::I32)), "v4", "dim gives `i64[]`");
    let mut p = base();
    let i = p.push(Op::Index(VarId(0)), scalar(ElemTy::F32));
    p.push(Op::Generate { vars: vec![VarId(0)], extents: vec![N], body: i }, t(ElemTy::F32, &[N]));
    rejects(&p, "v4", "index gives `i64[]`");
}

#[test]
fn unary_ops_respect_their_element_types() {
    rejects(&with(Op::Unary(UnOp::Exp, J), t(ElemTy::I64, &[N])), "v4", "unary exp is not defined on i64");
    rejects(&with(Op::Unary(UnOp::Not, X), t(ElemTy::F32, &[N, D])), "v4", "unary not is not defined on f32");
    rejects(&with(Op::Unary(UnOp::Abs, M), t(ElemTy::BOOL, &[N, D])), "v4", "unary abs is not defined on bool");
    let mut p = base();
    let u = p.push(Op::Cast(J), t(ElemTy::U32, &[N]));
    p.push(Op::Unary(UnOp::Neg, u), t(ElemTy::U32, &[N]));
    rejects(&p, "v5", "unary neg is not defined on u32");
    rejects(&with(Op::Unary(UnOp::Sqrt, X), t(ElemTy::F32, &[D, N])), "v4", "unary sqrt gives `f32[n, d]`");
}

#[test]
fn binary_ops_need_one_element_type_and_broadcastable_shapes() {
    rejects(&with(Op::Binary(BinOp::Add, X, J), t(ElemTy::F32, &[N, D])), "v4", "differ in element type: f32 and i64");
    rejects(&with(Op::Binary(BinOp::Lt, X, Y), t(ElemTy::F32, &[N, D])), "v4", "binary lt gives `bool[n, d]`");
    rejects(&with(Op::Binary(BinOp::And, X, Y), t(ElemTy::F32, &[N, D])), "v4", "binary and is not defined on f32");
    rejects(&with(Op::Binary(BinOp::Add, M, M), t(ElemTy::BOOL, &[N, D])), "v4", "binary add is not defined on bool");
    rejects(&with(Op::Binary(BinOp::Pow, J, J), t(ElemTy::I64, &[N])), "v4", "binary pow is not defined on i64");
    // [n] against [n, d] aligns n with d: no broadcast.
    let mut p = base();
    let jf = p.push(Op::Cast(J), t(ElemTy::F32, &[N]));
    p.push(Op::Binary(BinOp::Mul, X, jf), t(ElemTy::F32, &[N, D]));
    rejects(&p, "v5", "operand shapes [n, d] and [n] do not broadcast");
    rejects(&with(Op::Binary(BinOp::Add, X, Y), t(ElemTy::F32, &[D])), "v4", "binary add gives `f32[n, d]`");
}

#[test]
fn select_needs_a_bool_condition_and_matching_branches() {
    rejects(&with(Op::Select(X, X, Y), t(ElemTy::F32, &[N, D])), "v4", "select condition v0 is f32, not bool");
    rejects(&with(Op::Select(M, X, J), t(ElemTy::F32, &[N, D])), "v4", "select branches differ");
    rejects(&with(Op::Select(M, X, Y), t(ElemTy::F32, &[N])), "v4", "select gives `f32[n, d]`");
}

#[test]
fn casts_keep_the_shape_and_never_produce_bool() {
    rejects(&with(Op::Cast(X), t(ElemTy::BOOL, &[N, D])), "v4", "cast from f32 to bool");
    rejects(&with(Op::Cast(X), t(ElemTy::I32, &[N])), "v4", "cast gives `i32[n, d]`");
}

#[test]
fn broadcast_must_follow_numpy_rules() {
    accepts(&with(Op::Broadcast(Y), t(ElemTy::F32, &[N, D])));
    rejects(&with(Op::Broadcast(X), t(ElemTy::F32, &[D])), "v4", "`f32[n, d]` does not broadcast to `f32[d]`");
    rejects(&with(Op::Broadcast(J), t(ElemTy::I64, &[N, D])), "v4", "does not broadcast");
    rejects(&with(Op::Broadcast(Y), t(ElemTy::F64, &[N, D])), "v4", "broadcast gives `f32[n, d]`");
}

#[test]
fn transpose_needs_a_permutation() {
    accepts(&with(Op::Transpose(X, vec![1, 0]), t(ElemTy::F32, &[D, N])));
    rejects(&with(Op::Transpose(X, vec![0, 0]), t(ElemTy::F32, &[N, N])), "v4", "is not a permutation of 2 axes");
    rejects(&with(Op::Transpose(X, vec![0, 2]), t(ElemTy::F32, &[N, D])), "v4", "not a permutation");
    rejects(&with(Op::Transpose(X, vec![0]), t(ElemTy::F32, &[N])), "v4", "not a permutation");
    rejects(&with(Op::Transpose(X, vec![1, 0]), t(ElemTy::F32, &[N, D])), "v4", "transpose gives `f32[d, n]`");
}

#[test]
fn insert_axis_position_is_in_range() {
    accepts(&with(Op::InsertAxis(X, 2), t(ElemTy::F32, &[N, D, ONE])));
    rejects(&with(Op::InsertAxis(X, 3), t(ElemTy::F32, &[N, D, ONE])), "v4", "position 3 is out of range for rank 2");
    rejects(&with(Op::InsertAxis(X, 0), t(ElemTy::F32, &[N, ONE, D])), "v4", "insert_axis gives `f32[1, n, d]`");
}

#[test]
fn reduce_axes_are_sorted_distinct_in_range_and_dropped() {
    let red = |op, arg, axes: Vec<u32>| Op::Reduce { op, arg, axes };
    accepts(&with(red(ReduceOp::Sum, X, vec![0, 1]), scalar(ElemTy::F32)));
    let needle = "must be strictly increasing and below rank 2";
    rejects(&with(red(ReduceOp::Sum, X, vec![1, 0]), scalar(ElemTy::F32)), "v4", needle);
    rejects(&with(red(ReduceOp::Sum, X, vec![1, 1]), t(ElemTy::F32, &[N])), "v4", needle);
    rejects(&with(red(ReduceOp::Sum, X, vec![2]), t(ElemTy::F32, &[N, D])), "v4", needle);
    rejects(&with(red(ReduceOp::Max, X, vec![0]), t(ElemTy::F32, &[N])), "v4", "reduce max gives `f32[d]`");
    rejects(&with(red(ReduceOp::ArgMin, X, vec![1]), t(ElemTy::F32, &[N])), "v4", "reduce argmin gives `i64[n]`");
    rejects(&with(red(ReduceOp::Sum, M, vec![1]), t(ElemTy::BOOL, &[N])), "v4", "sum is not defined on bool");
    rejects(&with(red(ReduceOp::Prod, M, vec![1]), t(ElemTy::BOOL, &[N])), "v4", "prod is not defined on bool");
    accepts(&with(red(ReduceOp::Max, M, vec![1]), t(ElemTy::BOOL, &[N])));
    accepts(&with(red(ReduceOp::ArgMax, M, vec![1]), t(ElemTy::I64, &[N])));
}

#[test]
fn loads_take_one_integer_scalar_per_axis_from_an_array_level_node() {
    // Outside any binder the indices are plain scalars: a valid load of x[0, 0].
    let mut p = base();
    let z = p.push(Op::Const(Literal::Int(0)), scalar(ElemTy::I64));
    let l = p.push(Op::Load { array: X, indices: vec![z, z] }, scalar(ElemTy::F32));
    p.outputs = vec![l];
    accepts(&p);
    p.push(Op::Load { array: X, indices: vec![z] }, scalar(ElemTy::F32));
    rejects(&p, "v6", "load has 1 indices for an array of rank 2");
    let f = p.push(Op::Const(Literal::Float(0.0)), scalar(ElemTy::F32));
    p.push(Op::Load { array: Y, indices: vec![f] }, scalar(ElemTy::F32));
    rejects(&p, "v8", "load index v7 is `f32[]`, not a rank-0 integer");
    p.push(Op::Load { array: Y, indices: vec![z] }, scalar(ElemTy::F64));
    rejects(&p, "v9", "load gives `f32[]`");

    // Loading from a scalar-body node (one that uses an index variable) is not allowed.
    let mut q = base();
    let i = q.push(Op::Index(VarId(0)), scalar(ElemTy::I64));
    let row = q.push(Op::Load { array: J, indices: vec![i] }, scalar(ElemTy::I64));
    let inner = q.push(Op::Load { array: row, indices: vec![] }, scalar(ElemTy::I64));
    let g = q.push(Op::Generate { vars: vec![VarId(0)], extents: vec![N], body: inner }, t(ElemTy::I64, &[N]));
    q.outputs = vec![g];
    rejects(&q, "v6", "loads from v5, which is not array-level (uses i0)");
}

#[test]
fn binders_have_matching_extents_and_scalar_bodies() {
    let mut p = base();
    let i = p.push(Op::Index(VarId(0)), scalar(ElemTy::I64));
    p.push(Op::Generate { vars: vec![VarId(0)], extents: vec![N, D], body: i }, t(ElemTy::I64, &[N, D]));
    rejects(&p, "v5", "binds 1 variables but gives 2 extents");

    let g = |body| Op::Generate { vars: vec![VarId(0)], extents: vec![N], body };
    rejects(&with(g(Y), t(ElemTy::F32, &[N])), "v4", "body must be rank 0, but it is `f32[d]`");

    let mut p = base();
    let i = p.push(Op::Index(VarId(0)), scalar(ElemTy::I64));
    p.push(g(i), t(ElemTy::I64, &[D]));
    rejects(&p, "v5", "generate gives `i64[n]`");

    let mut p = base();
    let i = p.push(Op::Index(VarId(0)), scalar(ElemTy::I64));
    let rr = |op| Op::RangeReduce { op, vars: vec![VarId(0)], extents: vec![N], body: i };
    p.push(rr(ReduceOp::ArgMax), scalar(ElemTy::F32));
    rejects(&p, "v5", "range_reduce argmax gives `i64[]`");
}

#[test]
fn each_index_variable_is_bound_exactly_once() {
    let mut p = base();
    let i = p.push(Op::Index(VarId(0)), scalar(ElemTy::I64));
    p.push(Op::Generate { vars: vec![VarId(0)], extents: vec![N], body: i }, t(ElemTy::I64, &[N]));
    p.push(Op::Generate { vars: vec![VarId(0)], extents: vec![D], body: i }, t(ElemTy::I64, &[D]));
    rejects(&p, "v6", "binds index variable i0, already bound by v5");

    let mut p = base();
    let i = p.push(Op::Index(VarId(0)), scalar(ElemTy::I64));
    p.push(Op::Generate { vars: vec![VarId(0), VarId(0)], extents: vec![N, N], body: i }, t(ElemTy::I64, &[N, N]));
    rejects(&p, "v5", "binds index variable i0 twice");

    let mut p = base();
    p.push(Op::Index(VarId(3)), scalar(ElemTy::I64));
    rejects(&p, "v4", "index variable i3 is bound by no generate/range_reduce");
}

#[test]
fn index_variables_never_escape_their_binder() {
    // Elementwise on an array with a free variable gives a rank-1 node that uses i0.
    let mut p = base();
    let i = p.push(Op::Index(VarId(0)), scalar(ElemTy::I64));
    p.push(Op::Binary(BinOp::Add, J, i), t(ElemTy::I64, &[N]));
    let ok = p.push(Op::Generate { vars: vec![VarId(0)], extents: vec![N], body: i }, t(ElemTy::I64, &[N]));
    p.outputs = vec![ok, i];
    rejects(&p, "v5", "has rank 1 but uses index variables i0");
    rejects(&p, "output 1", "v4 uses index variables i0 outside their binder");
}

#[test]
fn outputs_must_exist() {
    let mut p = base();
    p.outputs = vec![X, NodeId(40)];
    rejects(&p, "output 1", "v40 does not exist");
}

#[test]
fn symbols_are_in_range_bound_and_named() {
    let mut p = with(Op::DimValue(Dim::Sym(SymId(9))), scalar(ElemTy::I64));
    rejects(&p, "v4", "symbol id 9 is out of range (2 symbols)");
    p.params[0].ty = t(ElemTy::F32, &[Dim::Sym(SymId(5))]);
    rejects(&p, "param 0", "symbol id 5 is out of range");

    let mut p = base();
    let k = Dim::Sym(p.sym("k"));
    p.push(Op::DimValue(k), scalar(ElemTy::I64));
    rejects(&p, "v4", "uses symbol `k`, which no parameter's shape binds");

    let mut p = base();
    p.syms.push("n".into());
    p.syms.push("2x".into());
    rejects(&p, "kernel", "symbol `n` is declared twice");
    rejects(&p, "kernel", "symbol name `2x` is not an identifier");
}

#[test]
fn names_are_identifiers_and_params_distinct() {
    let mut p = base();
    p.name = "my kernel".into();
    p.params[1].name = "x".into();
    p.params[2].name = String::new();
    rejects(&p, "kernel", "kernel name `my kernel` is not an identifier");
    rejects(&p, "param 1", "parameter name `x` is used twice");
    rejects(&p, "param 2", "parameter name `` is not an identifier");
}

#[test]
fn all_errors_are_collected_in_program_order() {
    let mut p = base();
    p.push(Op::Unary(UnOp::Exp, J), t(ElemTy::I64, &[N]));
    p.push(Op::Cast(X), t(ElemTy::BOOL, &[N, D]));
    p.outputs = vec![NodeId(99)];
    let errs = verify(&p).expect_err("three broken rules").0;
    let locs: Vec<Location> = errs.iter().map(|e| e.location.clone()).collect();
    assert_eq!(locs, vec![Location::Node(NodeId(4)), Location::Node(NodeId(5)), Location::Output(0)]);
    let text = verify(&p).expect_err("still broken").to_string();
    assert!(text.starts_with("3 verifier errors:\n  v4: unary exp"), "{text}");
}

#[test]
fn broken_operands_do_not_cascade_or_panic() {
    // A node with a dangling operand is reported once; its users are not re-reported.
    let mut p = base();
    let bad = p.push(Op::Unary(UnOp::Neg, NodeId(77)), t(ElemTy::F32, &[N]));
    let user = p.push(Op::Reduce { op: ReduceOp::Sum, arg: bad, axes: vec![5] }, scalar(ElemTy::F32));
    p.outputs = vec![user];
    let errs = verify(&p).expect_err("dangling operand").0;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].location, Location::Node(NodeId(4)));
}
