//! Scatter-adds: `bincount(&labels, minlength)` and `bincount_weighted(&labels, &weights,
//! minlength)` (numpy's `np.bincount(labels, weights=w, minlength=k)`), desugared into the
//! one-hot comprehension the schedule turns into a scatter:
//!
//! ```text
//! from_shape_fn(k, |j| sum(0..n, |i| select(bins[labels[i]] == j, w[i] (or 1), 0)))
//! ```
//!
//! where `bins = from_shape_fn(k, |u| u)`: loading `bins[labels[i]]` checks the label against
//! `0..k`, so a label out of range (negative, or not below `minlength`) raises the
//! index-out-of-range flag — a typed error at the call — instead of being dropped. Unlike
//! numpy, the result has exactly `minlength` bins (numpy grows it to the largest label + 1):
//! extents are known before a kernel runs.

use crate::build::{Builder, Val, R};
use crate::expr::{lower_expr, node_of};
use crate::extent::extent_of;
use kiln_ir::{BinOp, ElemTy, Literal, NodeId, Op, ReduceOp, Type};
use proc_macro2::Span;
use syn::spanned::Spanned;

/// `bincount(&labels, minlength)` (`weights = None`) or `bincount_weighted(&labels, &weights,
/// minlength)`.
pub(crate) fn bincount(
    b: &mut Builder,
    labels: &syn::Expr,
    weights: Option<&syn::Expr>,
    minlength: &syn::Expr,
    span: Span,
) -> R<Val> {
    let name = if weights.is_some() { "bincount_weighted" } else { "bincount" };
    let lv = lower_expr(b, labels)?;
    let l = node_of(b, lv, labels.span())?;
    let lt = b.ty(l).clone();
    if lt.rank() != 1 || !lt.elem.is_int() {
        let t = b.type_text(&lt);
        return Err(b.err(labels.span(), format!("`{name}` counts a 1-d array of integer labels, found `{t}`")));
    }
    let n = lt.shape[0];
    let w = match weights {
        None => None,
        Some(e) => {
            let wv = lower_expr(b, e)?;
            let w = node_of(b, wv, e.span())?;
            let wt = b.ty(w).clone();
            if wt.rank() != 1 || wt.elem.is_bool() {
                let t = b.type_text(&wt);
                return Err(b.err(e.span(), format!("`{name}` weights are a 1-d numeric array, found `{t}`")));
            }
            if b.unify(n, wt.shape[0]).is_err() {
                let (a, c) = (b.shape_text(&lt.shape), b.shape_text(&wt.shape));
                return Err(b.err(span, format!("`{name}`: the labels {a} and the weights {c} differ in length")));
            }
            Some(w)
        }
    };
    let kv = lower_expr(b, minlength)?;
    let k = extent_of(b, kv, minlength.span())?;
    let i64t = Type::scalar(ElemTy::I64);
    // `bins[u] = u`: loading it at a label checks the label against `0..k`.
    let u = b.new_var();
    let uv = b.push(Op::Index(u), i64t.clone());
    let bins = b.push(Op::Generate { vars: vec![u], extents: vec![k], body: uv }, Type::array(ElemTy::I64, vec![k]));
    let (i, j) = (b.new_var(), b.new_var());
    let iv = b.push(Op::Index(i), i64t.clone());
    let jv = b.push(Op::Index(j), i64t.clone());
    let mut label = b.push(Op::Load { array: l, indices: vec![iv] }, Type::scalar(lt.elem));
    if lt.elem != ElemTy::I64 {
        label = b.push(Op::Cast(label), i64t.clone());
    }
    let target = b.push(Op::Load { array: bins, indices: vec![label] }, i64t);
    let hit = b.push(Op::Binary(BinOp::Eq, target, jv), Type::scalar(ElemTy::BOOL));
    let (value, elem): (NodeId, ElemTy) = match w {
        Some(w) => {
            let elem = b.ty(w).elem;
            (b.push(Op::Load { array: w, indices: vec![iv] }, Type::scalar(elem)), elem)
        }
        None => (b.konst(Literal::Int(1), ElemTy::I64), ElemTy::I64),
    };
    let zero = b.konst(Literal::Int(0), elem);
    let body = b.push(Op::Select(hit, value, zero), Type::scalar(elem));
    let sum = b.push(Op::RangeReduce { op: ReduceOp::Sum, vars: vec![i], extents: vec![n], body }, Type::scalar(elem));
    let out = b.push(Op::Generate { vars: vec![j], extents: vec![k], body: sum }, Type::array(elem, vec![k]));
    Ok(Val::Node(out))
}
