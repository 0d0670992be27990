//! Sorts along an axis: `x.sort_axis(Axis(a))` and `x.argsort_axis(Axis(a))` (numpy's
//! `np.sort(x, axis=a)` and `np.argsort(x, axis=a, kind="stable")`, named like ndarray's axis
//! methods), each one [`Op::Sort`]: stable, ascending, NaN last.

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
