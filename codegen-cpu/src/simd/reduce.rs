//! Vectorized reduction loops: a serial loop (`for` or `for .. from .. to ..`) whose body is
//! a straight line of `let`s feeding accumulators, `acc = op(acc, x)` with `op` one of `add`,
//! `mul`, `min`, `max`, and whose varying loads move with stride 1 along the loop variable.
//!
//! The vector version keeps [`UNROLL`] independent 128-bit accumulators per `mut` (so four
//! additions are in flight instead of one chain), each starting at the reduction's identity:
//! 1. while `UNROLL` vectors fit, vector `u` of each accumulator takes the elements
//!    `j + u*lanes ..` of the iteration;
//! 2. while one vector fits, vector 0 takes the next `lanes` elements;
//! 3. the vectors are combined in a fixed tree, `(a0 op a1) op (a2 op a3)`, then their lanes
//!    `(l0 op l1) op (l2 op l3)`, and the result is folded into the scalar accumulator once;
//! 4. the scalar loop runs the remaining `< lanes` iterations in order.
//!
//! The float summation order thus differs from the scalar loop's, but it depends only on the
//! loop's bounds: it is the same for every run and every split of the parallel domain.
//! Integer results are exact (wrapping arithmetic is associative). The vector version runs
//! only when every varying access has stride 1 (checked when the loop is entered); otherwise
//! the whole loop is scalar. Arg reductions (`select`-based) and loops with `if`s, stores,
//! checks or nested loops stay scalar.

use super::{vec_type, Plan, Planner, Vec_, UNROLL};
use crate::kernel::Lower;
use crate::CpuError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, Value};
use cranelift_frontend::Variable;
use kiln_ir::loops::{Expr, Scalar, Stmt, Var};
use kiln_ir::{BinOp, DType};
use std::collections::HashSet;

/// One accumulator of a reduction loop.
#[derive(Clone, Debug)]
pub(crate) struct Acc {
    pub var: Var,
    pub op: BinOp,
    pub ty: DType,
}

/// What [`plan`] decided for one reduction loop.
#[derive(Clone, Debug)]
pub(crate) struct ReducePlan {
    /// The element plan: loop variable as the inner index, lane width, contiguous accesses.
    pub plan: Plan,
    pub accs: Vec<Acc>,
}

/// Whether `op` on `ty` has a 128-bit vector instruction on x64 that the reduction may use.
fn vector_op(op: BinOp, ty: DType) -> bool {
    match ty {
        DType::F32 | DType::F64 => matches!(op, BinOp::Add | BinOp::Mul | BinOp::Min | BinOp::Max),
        DType::I32 | DType::U32 => matches!(op, BinOp::Add | BinOp::Mul | BinOp::Min | BinOp::Max),
        DType::I64 => op == BinOp::Add,
        DType::Bool => false,
    }
}

/// The accumulator and folded value of `acc = op(acc, x)`, if the statement has that form.
fn fold(s: &Stmt) -> Option<(Var, BinOp, &Expr)> {
    let Stmt::Assign { var, value: Expr::Binary(op, a, x) } = s else { return None };
    (**a == Expr::Var(*var)).then_some((*var, *op, &**x))
}

/// Decide whether the loop over `var` with `body` gets a vector version.
pub(crate) fn plan(l: &Lower<'_, '_>, var: Var, body: &[Stmt]) -> Option<ReducePlan> {
    let mut accs: Vec<Acc> = vec![];
    for s in body {
        match s {
            Stmt::Let { .. } => {}
            Stmt::Assign { .. } => {
                let (acc, op, _) = fold(s)?;
                let ty = l.vars.get(&acc)?.1;
                if !vector_op(op, ty) || accs.iter().any(|a| a.var == acc) {
                    return None;
                }
                accs.push(Acc { var: acc, op, ty });
            }
            _ => return None,
        }
    }
    let width = accs.first()?.ty.size();
    if accs.iter().any(|a| a.ty.size() != width) {
        return None;
    }
    let acc_vars: HashSet<Var> = accs.iter().map(|a| a.var).collect();
    let reads_acc = |e: &Expr| {
        let mut r = false;
        e.for_each_var(&mut |v| r |= acc_vars.contains(&v));
        r
    };
    let mut p = Planner::for_loop(l, var, width);
    for s in body {
        match s {
            Stmt::Let { var, ty, value } => {
                if value.has_check() || reads_acc(value) {
                    return None;
                }
                if p.plan.varies(value) {
                    p.check(value)?;
                    if !p.fits(*ty) {
                        return None;
                    }
                    p.plan.varying.insert(*var);
                }
                p.types.insert(*var, *ty);
            }
            _ => {
                let (_, _, x) = fold(s)?;
                if x.has_check() || reads_acc(x) {
                    return None;
                }
                p.check(x)?;
                if !p.fits(p.ty(x)?) || p.ty(x)? == DType::Bool {
                    return None;
                }
            }
        }
    }
    // Without a contiguous access there is nothing to gain (and the stride check would be
    // vacuous): uniform bodies stay scalar.
    if p.plan.contiguous.is_empty() {
        return None;
    }
    Some(ReducePlan { plan: p.plan, accs })
}

/// The loop IR variables one copy of a blocked reduction rebinds (its `j` and accumulator),
/// swapped into [`Lower::vars`] while that copy's code is emitted. Empty for a plain loop.
pub(crate) type Binds = Vec<(Var, (Variable, DType))>;

/// Point [`Lower::vars`] at the variables of one copy.
pub(crate) fn bind(l: &mut Lower<'_, '_>, binds: &Binds) {
    for (v, e) in binds {
        l.vars.insert(*v, *e);
    }
}

/// Emit the vector part of a reduction loop into the current block. `cv` holds the loop
/// variable (the first iteration on entry), `hi` is the loop's end; control ends in `tail`
/// (the scalar loop's head) with `cv` at the first iteration left to the scalar loop.
pub(crate) fn vector_loop(
    l: &mut Lower<'_, '_>,
    rp: &ReducePlan,
    body: &[Stmt],
    cv: Variable,
    hi: Value,
    tail: Block,
) -> Result<(), CpuError> {
    vector_loop_copies(l, rp, body, cv, hi, tail, &[vec![]])
}

/// [`vector_loop`] for several copies of the same reduction loop sharing one loop counter
/// (a blocked contraction: `copies[g]` binds the reduction to column `j + g`). Each copy keeps
/// its own [`UNROLL`] accumulators and does exactly the operations, in exactly the order, of a
/// loop of its own; only the loop control and the loads they share (Cranelift merges repeated
/// loads with no store in between) are emitted once.
pub(crate) fn vector_loop_copies(
    l: &mut Lower<'_, '_>,
    rp: &ReducePlan,
    body: &[Stmt],
    cv: Variable,
    hi: Value,
    tail: Block,
    copies: &[Binds],
) -> Result<(), CpuError> {
    let plan = &rp.plan;
    let lanes = plan.lanes();
    // Enter the vector loops only with stride 1 everywhere and at least one full vector.
    let ok = super::stride_check(l, plan);
    let lo = l.b.use_var(cv);
    let first = l.b.ins().iadd_imm_s(lo, lanes);
    let enough = l.b.ins().icmp(IntCC::SignedLessThanOrEqual, first, hi);
    let go = l.b.ins().band(ok, enough);
    let vpre = l.b.create_block();
    l.b.ins().brif(go, vpre, &[], tail, &[]);
    l.b.switch_to_block(vpre);

    let mut vs = vec![];
    for binds in copies {
        bind(l, binds);
        let mut v = Vec_::new(plan);
        for s in body {
            match s {
                Stmt::Let { var, .. } if !plan.varying.contains(var) => l.stmts(std::slice::from_ref(s))?,
                Stmt::Let { value, .. } => v.hoist(l, value)?,
                _ => match fold(s) {
                    Some((_, _, x)) => v.hoist(l, x)?,
                    None => return Err(CpuError::Unsupported("statement in a vector reduction".into())),
                },
            }
        }
        vs.push(v);
    }
    // UNROLL vector accumulators per `mut` and copy, at the identity.
    let mut vaccs: Vec<Vec<Vec<Variable>>> = vec![];
    for _ in copies {
        let mut vacc: Vec<Vec<Variable>> = vec![];
        for a in &rp.accs {
            let vt = vec_type(a.ty, plan.width);
            let id = identity(l, a);
            let splat = l.b.ins().splat(vt, id);
            let vars: Vec<Variable> = (0..UNROLL)
                .map(|_| {
                    let var = l.b.declare_var(vt);
                    l.b.def_var(var, splat);
                    var
                })
                .collect();
            vacc.push(vars);
        }
        vaccs.push(vacc);
    }
    let v4head = l.b.create_block();
    let v4body = l.b.create_block();
    let v1head = l.b.create_block();
    let v1body = l.b.create_block();
    let done = l.b.create_block();
    l.b.ins().jump(v4head, &[]);
    for (head, blk, next, n) in [(v4head, v4body, v1head, UNROLL), (v1head, v1body, done, 1)] {
        l.b.switch_to_block(head);
        let j = l.b.use_var(cv);
        let t = l.b.ins().iadd_imm_s(j, n * lanes);
        let fits = l.b.ins().icmp(IntCC::SignedLessThanOrEqual, t, hi);
        l.b.ins().brif(fits, blk, &[], next, &[]);
        l.b.switch_to_block(blk);
        let j = l.b.use_var(cv);
        for u in 0..n {
            for ((binds, v), vacc) in copies.iter().zip(&mut vs).zip(&vaccs) {
                bind(l, binds);
                v.vars.clear();
                copy(l, v, rp, vacc, body, j, u)?;
            }
        }
        let j1 = l.b.ins().iadd_imm_s(j, n * lanes);
        l.b.def_var(cv, j1);
        l.b.ins().jump(head, &[]);
    }
    // Combine in a fixed order and fold into the scalar accumulators once.
    l.b.switch_to_block(done);
    for ((binds, v), vacc) in copies.iter().zip(&vs).zip(&vaccs) {
        bind(l, binds);
        for (a, vars) in rp.accs.iter().zip(vacc) {
            let vals: Vec<Value> = vars.iter().map(|x| l.b.use_var(*x)).collect();
            let v = tree(l, v, a, &vals)?;
            let lanes_v: Vec<Value> = (0..lanes as u8).map(|k| l.b.ins().extractlane(v, k)).collect();
            let h = scalar_tree(l, a, &lanes_v)?;
            let Some(&(sv, _)) = l.vars.get(&a.var) else {
                return Err(CpuError::Unsupported(format!("accumulator {} out of scope", a.var)));
            };
            let cur = l.b.use_var(sv);
            let (r, _) = l.binary(a.op, cur, h, a.ty)?;
            l.b.def_var(sv, r);
        }
    }
    l.b.ins().jump(tail, &[]);
    Ok(())
}

/// Copy `u` of the body: lets of the elements `j + u*lanes ..`, folded into vector `u`.
fn copy(
    l: &mut Lower<'_, '_>,
    v: &mut Vec_<'_>,
    rp: &ReducePlan,
    vacc: &[Vec<Variable>],
    body: &[Stmt],
    j: Value,
    u: i64,
) -> Result<(), CpuError> {
    for s in body {
        match s {
            Stmt::Let { var, value, .. } if rp.plan.varying.contains(var) => {
                let r = v.vx(l, value, j, u)?;
                v.vars.insert((*var, u), r);
            }
            Stmt::Let { .. } => {}
            _ => {
                let Some((acc, _, x)) = fold(s) else {
                    return Err(CpuError::Unsupported("statement in a vector reduction".into()));
                };
                let Some(k) = rp.accs.iter().position(|a| a.var == acc) else {
                    return Err(CpuError::Unsupported(format!("unplanned accumulator {acc}")));
                };
                let (xv, _) = v.vexpr(l, x, j, u)?;
                let a = &rp.accs[k];
                let slot = vacc[k][u as usize];
                let cur = l.b.use_var(slot);
                let (r, _) = v.binary(l, a.op, cur, xv, a.ty)?;
                l.b.def_var(slot, r);
            }
        }
    }
    Ok(())
}

/// `(x0 op x1) op (x2 op x3)` over vectors (or `x0` alone).
fn tree(l: &mut Lower<'_, '_>, v: &Vec_<'_>, a: &Acc, xs: &[Value]) -> Result<Value, CpuError> {
    pairwise(xs, &mut |x, y| Ok(v.binary(l, a.op, x, y, a.ty)?.0))
}

/// The same tree over scalar lanes.
fn scalar_tree(l: &mut Lower<'_, '_>, a: &Acc, xs: &[Value]) -> Result<Value, CpuError> {
    pairwise(xs, &mut |x, y| Ok(l.binary(a.op, x, y, a.ty)?.0))
}

/// Reduce `xs` (a power of two long) by combining neighbours level by level.
fn pairwise(xs: &[Value], f: &mut impl FnMut(Value, Value) -> Result<Value, CpuError>) -> Result<Value, CpuError> {
    let mut level = xs.to_vec();
    while level.len() > 1 {
        let mut next = vec![];
        for pair in level.chunks(2) {
            next.push(match *pair {
                [x, y] => f(x, y)?,
                _ => pair[0],
            });
        }
        level = next;
    }
    level.first().copied().ok_or_else(|| CpuError::Unsupported("empty reduction tree".into()))
}

/// The identity of an accumulator's op, as a scalar of its type.
fn identity(l: &mut Lower<'_, '_>, a: &Acc) -> Value {
    let c = match a.op {
        BinOp::Add => Scalar::zero(a.ty),
        BinOp::Mul => Scalar::one(a.ty),
        BinOp::Min => Scalar::max_value(a.ty),
        _ => Scalar::min_value(a.ty),
    };
    l.constant(c).0
}

/// Columns per block of a blocked contraction ([`block_plan`]): two copies of a reduction
/// keep `2 * UNROLL` vector accumulators live, which fits the 16 xmm registers with room for
/// the loaded operands.
pub const BLOCK: i64 = 2;

/// A serial loop over `j` whose body starts with a vectorizable reduction that reads `j`:
/// `mut acc = init; for l < e { ..; acc = op(acc, f(j, l)) }; rest..`. This is the GEMM shape
/// `out[i, j] = reduce_l f(a[i, l], b[j, l])` with its consumer (`nearest`'s argmin over `j`).
pub(crate) struct BlockPlan<'s> {
    acc: Var,
    ty: DType,
    init: &'s Expr,
    lvar: Var,
    extent: kiln_ir::Dim,
    rbody: &'s [Stmt],
    rest: &'s [Stmt],
    rp: ReducePlan,
}

/// Whether any statement of `body` (recursively) is a store, or assigns a variable in `read`.
fn writes(body: &[Stmt], read: &HashSet<Var>) -> bool {
    body.iter().any(|s| {
        s.any(&mut |s| match s {
            Stmt::Store { .. } => true,
            Stmt::Assign { var, .. } => read.contains(var),
            _ => false,
        })
    })
}

/// Decide whether the serial loop over `var` with `body` is blocked (see [`BlockPlan`]).
/// Blocking evaluates the reductions of columns `j .. j + BLOCK` before the `rest` of column
/// `j`, so `rest` may not store nor assign anything the reduction reads.
pub(crate) fn block_plan<'s>(l: &mut Lower<'_, '_>, var: Var, body: &'s [Stmt]) -> Option<BlockPlan<'s>> {
    let [Stmt::Mut { var: acc, ty, init }, Stmt::For { var: lvar, extent, body: rbody }, rest @ ..] = body else {
        return None;
    };
    if init.has_check() {
        return None;
    }
    let mut read = HashSet::new();
    init.for_each_var(&mut |v| {
        read.insert(v);
    });
    let mut reads_j = false;
    for s in rbody {
        let (Stmt::Let { value, .. } | Stmt::Assign { value, .. }) = s else { return None };
        value.for_each_var(&mut |v| {
            reads_j |= v == var;
            read.insert(v);
        });
    }
    if !reads_j || writes(rest, &read) {
        return None;
    }
    // The planner reads the accumulator's type from the variables in scope.
    let placeholder = l.b.declare_var(crate::kernel::clif_type(*ty));
    let saved = l.vars.insert(*acc, (placeholder, *ty));
    let rp = plan(l, *lvar, rbody);
    match saved {
        Some(e) => l.vars.insert(*acc, e),
        None => l.vars.remove(acc),
    };
    let rp = rp?;
    if rp.accs.len() != 1 || rp.accs[0].var != *acc {
        return None;
    }
    Some(BlockPlan { acc: *acc, ty: *ty, init, lvar: *lvar, extent: *extent, rbody, rest, rp })
}

/// Emit the blocked part of the loop over `var` (counter `cv`, end `hi`): while `BLOCK`
/// columns fit, their reductions run together in one vector loop ([`vector_loop_copies`])
/// and one scalar tail, then `rest` runs for each column in order. Control ends in the current
/// block with `cv` at the first column left to the plain loop.
pub(crate) fn blocked_loop(
    l: &mut Lower<'_, '_>,
    bp: &BlockPlan<'_>,
    var: Var,
    cv: Variable,
    hi: Value,
) -> Result<(), CpuError> {
    let i64t = cranelift_codegen::ir::types::I64;
    let bhead = l.b.create_block();
    let bbody = l.b.create_block();
    let bexit = l.b.create_block();
    l.b.ins().jump(bhead, &[]);
    l.b.switch_to_block(bhead);
    let j = l.b.use_var(cv);
    let t = l.b.ins().iadd_imm_s(j, BLOCK);
    let fits = l.b.ins().icmp(IntCC::SignedLessThanOrEqual, t, hi);
    l.b.ins().brif(fits, bbody, &[], bexit, &[]);

    l.b.switch_to_block(bbody);
    let j = l.b.use_var(cv);
    let mut copies: Vec<Binds> = vec![];
    for g in 0..BLOCK {
        let jg = l.b.ins().iadd_imm_s(j, g);
        let jv = l.b.declare_var(i64t);
        l.b.def_var(jv, jg);
        l.vars.insert(var, (jv, DType::I64));
        let (iv, it) = l.expr(bp.init)?;
        if it != bp.ty {
            return Err(CpuError::Unsupported(format!("`mut {}: {}` given a value of type {it}", bp.acc, bp.ty)));
        }
        let av = l.b.declare_var(crate::kernel::clif_type(bp.ty));
        l.b.def_var(av, iv);
        copies.push(vec![(var, (jv, DType::I64)), (bp.acc, (av, bp.ty))]);
    }
    // The reduction loop of every copy: vector part, then the scalar tail, copy by copy.
    let lc = l.b.declare_var(i64t);
    l.vars.insert(bp.lvar, (lc, DType::I64));
    let zero = l.b.ins().iconst(i64t, 0);
    l.b.def_var(lc, zero);
    let lhi = l.dim(bp.extent);
    let lhead = l.b.create_block();
    vector_loop_copies(l, &bp.rp, bp.rbody, lc, lhi, lhead, &copies)?;
    let lbody = l.b.create_block();
    let lafter = l.b.create_block();
    l.b.switch_to_block(lhead);
    let i = l.b.use_var(lc);
    let c = l.b.ins().icmp(IntCC::SignedLessThan, i, lhi);
    l.b.ins().brif(c, lbody, &[], lafter, &[]);
    l.b.switch_to_block(lbody);
    for binds in &copies {
        bind(l, binds);
        l.stmts(bp.rbody)?;
    }
    let i = l.b.use_var(lc);
    let i1 = l.b.ins().iadd_imm_s(i, 1);
    l.b.def_var(lc, i1);
    l.b.ins().jump(lhead, &[]);
    // The consumers, column by column in order.
    l.b.switch_to_block(lafter);
    for binds in &copies {
        bind(l, binds);
        l.stmts(bp.rest)?;
    }
    let j = l.b.use_var(cv);
    let j1 = l.b.ins().iadd_imm_s(j, BLOCK);
    l.b.def_var(cv, j1);
    l.b.ins().jump(bhead, &[]);
    l.b.switch_to_block(bexit);
    l.vars.insert(var, (cv, DType::I64));
    Ok(())
}
