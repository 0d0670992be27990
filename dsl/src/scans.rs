//! Scans along an axis: `x.cumsum(Axis(a))` (numpy's name), `x.cumprod(Axis(a))` (ndarray's),
//! `x.cummax(Axis(a))` and `x.cummin(Axis(a))` (numpy's `maximum.accumulate` /
//! `minimum.accumulate`, named like the first two), each one [`Op::Scan`].

use crate::build::{Builder, R};
use crate::expr::push_elementwise;
use kiln_ir::{NodeId, Op, ReduceOp};
use proc_macro2::Span;

/// The fold of scan method `name`, when it is one.
pub(crate) fn scan_by_name(name: &str) -> Option<ReduceOp> {
    Some(match name {
        "cumsum" => ReduceOp::Sum,
        "cumprod" => ReduceOp::Prod,
        "cummin" => ReduceOp::Min,
        "cummax" => ReduceOp::Max,
        _ => return None,
    })
}

/// The scan node `op` of `x` along `axis` (already checked against the rank): same type as `x`.
pub(crate) fn scan(b: &mut Builder, op: ReduceOp, x: NodeId, axis: u32, name: &str, span: Span) -> R<NodeId> {
    let ty = b.ty(x).clone();
    if ty.elem.is_bool() {
        return Err(b.err(span, format!("cannot scan `bool` values with `{name}`: cast them first")));
    }
    push_elementwise(b, Op::Scan { op, arg: x, axis }, ty, span)
}
