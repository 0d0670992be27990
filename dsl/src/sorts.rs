//! Sorts along an axis: `x.sort_axis(Axis(a))` and `x.argsort_axis(Axis(a))` (numpy's
//! `np.sort(x, axis=a)` and `np.argsort(x, axis=a, kind="stable")`, named like ndarray's axis
//! methods), each one [`Op::Sort`]: stable, ascending, NaN last; and `median_axis` /
//! `quantile_axis`, read from the sorted lanes.

use crate::build::{Builder, R};
use crate::expr::push_elementwise;
use kiln_ir::{ElemTy, NodeId, Op, Type};
use proc_macro2::Span;

/// Whether `name` is a sort method, and whether it returns positions.
pub(crate) fn sort_by_name(name: &str) -> Option<bool> {
    match name {
        "sort_axis" => Some(false),
        "argsort_axis" => Some(true),
        _ => None,
    }
}

/// The sort node of `x` along `axis` (already checked against the rank).
pub(crate) fn sort(b: &mut Builder, x: NodeId, axis: u32, indices: bool, name: &str, span: Span) -> R<NodeId> {
    let ty = b.ty(x).clone();
    if ty.elem.is_bool() {
        return Err(b.err(span, format!("cannot sort `bool` values with `{name}`: cast them first")));
    }
    let elem = if indices { ElemTy::I64 } else { ty.elem };
    push_elementwise(b, Op::Sort { arg: x, axis, indices }, Type::array(elem, ty.shape), span)
}

/// `x.median_axis(Axis(a))` (`q = None`; numpy's `np.median(x, axis=a)`: the middle element, or
/// the mean `(a + b) / 2` of the two middle ones) or `x.quantile_axis(Axis(a), q)` (numpy's
/// `np.quantile(x, q, axis=a)`, linear: `a + (b - a) * t` below `t = 0.5`, `b - (b - a) * (1 - t)`
/// from it, as numpy's `_lerp`), read from the sorted lanes. A lane holding a NaN gives NaN (it
/// sorts last); an empty lane, or a `q` outside `0..=1` given at run time, reads outside the
/// lane: the index-out-of-range error.
pub(crate) fn quantile(
    b: &mut Builder,
    x: NodeId,
    axis: u32,
    q: Option<(crate::build::Val, Span)>,
    name: &str,
    span: Span,
) -> R<NodeId> {
    use crate::build::Val;
    use kiln_ir::{BinOp, Literal, UnOp};
    let ty = b.ty(x).clone();
    if !ty.elem.is_float() {
        let t = b.type_text(&ty);
        return Err(b.err(span, format!("`{name}` needs a float array, found `{t}` (cast it first)")));
    }
    let f = ty.elem;
    let s = sort(b, x, axis, false, name, span)?;
    let i64t = Type::scalar(ElemTy::I64);
    let ft = Type::scalar(f);
    let n = b.push(Op::DimValue(ty.shape[axis as usize]), i64t.clone());
    let int = |b: &mut Builder, v: i64| b.konst(Literal::Int(v), ElemTy::I64);
    let flt = |b: &mut Builder, v: f64| b.konst(Literal::Float(v), f);
    let bin = |b: &mut Builder, op: BinOp, l: NodeId, r: NodeId| {
        let t = if op.is_comparison() { Type::scalar(ElemTy::BOOL) } else { b.ty(l).clone() };
        b.push(Op::Binary(op, l, r), t)
    };
    // The output's index variables: every axis but `axis`.
    let vars: Vec<_> = (0..ty.rank() - 1).map(|_| b.new_var()).collect();
    let ivs: Vec<NodeId> = vars.iter().map(|v| b.push(Op::Index(*v), i64t.clone())).collect();
    let at = |b: &mut Builder, k: NodeId| {
        let mut idx = ivs.clone();
        idx.insert(axis as usize, k);
        b.push(Op::Load { array: s, indices: idx }, ft.clone())
    };
    let one = int(b, 1);
    let last_i = bin(b, BinOp::Sub, n, one);
    let value = match q {
        None => {
            let two = int(b, 2);
            let lo_i = bin(b, BinOp::Div, last_i, two);
            let hi_i = bin(b, BinOp::Div, n, two);
            let (lo, hi) = (at(b, lo_i), at(b, hi_i));
            let sum = bin(b, BinOp::Add, lo, hi);
            let two_f = flt(b, 2.0);
            let mean = bin(b, BinOp::Div, sum, two_f);
            let odd = bin(b, BinOp::Eq, lo_i, hi_i);
            b.push(Op::Select(odd, lo, mean), ft.clone())
        }
        Some((qv, qspan)) => {
            let qf = match qv {
                Val::Lit(Literal::Float(v)) if !(0.0..=1.0).contains(&v) => {
                    return Err(b.err(qspan, format!("`{name}`: the quantile {v} is not in 0..=1")));
                }
                Val::Lit(Literal::Float(v)) => flt(b, v),
                v => {
                    let id = crate::expr::node_of(b, v, qspan)?;
                    if b.ty(id).rank() != 0 || !b.ty(id).elem.is_float() {
                        let t = b.type_text(&b.ty(id).clone());
                        return Err(b.err(qspan, format!("`{name}`: the quantile must be a float scalar, found `{t}`")));
                    }
                    if b.ty(id).elem != f {
                        b.push(Op::Cast(id), ft.clone())
                    } else {
                        id
                    }
                }
            };
            let last_f = b.push(Op::Cast(last_i), ft.clone());
            let pos = bin(b, BinOp::Mul, qf, last_f);
            let fl = b.push(Op::Unary(UnOp::Floor, pos), ft.clone());
            let ce = b.push(Op::Unary(UnOp::Ceil, pos), ft.clone());
            let lo_i = b.push(Op::Cast(fl), i64t.clone());
            let hi_i = b.push(Op::Cast(ce), i64t.clone());
            let t = bin(b, BinOp::Sub, pos, fl);
            let (lo, hi) = (at(b, lo_i), at(b, hi_i));
            let diff = bin(b, BinOp::Sub, hi, lo);
            let dt = bin(b, BinOp::Mul, diff, t);
            let below = bin(b, BinOp::Add, lo, dt);
            let one_f = flt(b, 1.0);
            let rest = bin(b, BinOp::Sub, one_f, t);
            let dr = bin(b, BinOp::Mul, diff, rest);
            let above = bin(b, BinOp::Sub, hi, dr);
            let half = flt(b, 0.5);
            let upper = bin(b, BinOp::Ge, t, half);
            b.push(Op::Select(upper, above, below), ft.clone())
        }
    };
    // A NaN sorts last: the lane's answer is then NaN, as numpy's.
    let last = at(b, last_i);
    let nan = bin(b, BinOp::Ne, last, last);
    let body = b.push(Op::Select(nan, last, value), ft);
    if vars.is_empty() {
        return Ok(body);
    }
    let extents: Vec<_> = ty.shape.iter().enumerate().filter(|(k, _)| *k != axis as usize).map(|(_, d)| *d).collect();
    Ok(b.push(Op::Generate { vars, extents: extents.clone(), body }, Type::array(f, extents)))
}

/// `x.smallest_k_axis(Axis(a), k)` / `x.largest_k_axis(Axis(a), k)`: `(values, indices)`, the
/// first `k` of each lane's stable sort along `a` (ascending or descending; ties by the smaller
/// position, NaN last), numpy's `argsort(x, kind="stable")[..k]` (of `-x` for the largest).
/// Two [`Op::TopK`] nodes; the schedule lets each recompute an operand only they use, so a
/// distance comprehension is never stored whole.
pub(crate) fn topk(
    b: &mut Builder,
    x: NodeId,
    axis: u32,
    k: &syn::Expr,
    name: &str,
    span: Span,
) -> R<crate::build::Val> {
    use crate::build::Val;
    use syn::spanned::Spanned;
    let ty = b.ty(x).clone();
    if ty.elem.is_bool() {
        return Err(b.err(span, format!("cannot select from `bool` values with `{name}`: cast them first")));
    }
    let kv = crate::expr::lower_expr(b, k)?;
    let k_dim = crate::extent::extent_of(b, kv, k.span())?;
    let largest = name == "largest_k_axis";
    let mut shape = ty.shape.clone();
    shape[axis as usize] = k_dim;
    let op = |indices| Op::TopK { arg: x, axis, k: k_dim, largest, indices };
    let values = push_elementwise(b, op(false), Type::array(ty.elem, shape.clone()), span)?;
    let indices = push_elementwise(b, op(true), Type::array(ElemTy::I64, shape), span)?;
    Ok(Val::Tuple(vec![(Val::Node(values), span), (Val::Node(indices), span)]))
}
