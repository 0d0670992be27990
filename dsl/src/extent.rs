//! Extents: the sizes of comprehension axes and reduction ranges (`from_shape_fn((n, k as
//! usize), ..)`, `sum(0..d * d, ..)`).
//!
//! An extent is a dimension of a parameter, a non-negative integer literal, an integer scalar
//! parameter (`k as usize`, or `k: usize`), or `+ - * /` of extents (`n - 1`, `2 * k`, `n / 2`).
//! Scalar and computed extents become derived shape symbols ([`kiln_ir::SymDef`]), so the one
//! binder computes them at the call with checked arithmetic: a negative or overflowing extent
//! is a typed error naming the expression, never a wrapped size.

use crate::build::{const_extent, Builder, Val, R};
use kiln_ir::{BinOp, Dim, DimOp, Literal, NodeId, Op, SymDef};
use proc_macro2::Span;

/// The rule every refusal states.
const RULE: &str = "an extent is computed from array dimensions (`n` from `let (n, d) = x.dim()`), integer \
                    literals and integer scalar parameters (`k as usize`) with `+ - * /`";

/// The extent `v` (at `span`) as a dimension, or an error saying why it is refused.
pub(crate) fn extent_of(b: &mut Builder, v: Val, span: Span) -> R<Dim> {
    let r = match v {
        Val::Dim(d) => Ok(d),
        Val::Lit(Literal::Int(i)) if i >= 0 => Ok(Dim::Const(i as u64)),
        Val::Lit(Literal::Int(i)) => Err(format!("extent `{i}` is negative")),
        Val::Lit(_) => Err("a float or `bool` literal is not a size".into()),
        Val::Node(id) => node_extent(b, id, span),
        Val::Dims(_) | Val::Tuple(_) => Err("a tuple is not one size".into()),
    };
    r.map_err(|why| b.err(span, format!("this extent is refused: {why}; {RULE}")))
}

/// The extent computed by node `id`, or why it is not one.
fn node_extent(b: &mut Builder, id: NodeId, span: Span) -> Result<Dim, String> {
    let node = b.prog.node(id).clone();
    match node.op {
        Op::Index(_) => return Err("it depends on an index variable, so it is not one size for the whole range".into()),
        Op::Load { .. } => return Err("it is read from an array, so it is not known before the kernel runs".into()),
        _ => {}
    }
    if node.ty.rank() != 0 {
        return Err(format!("an array (`{}`) is not a size", b.type_text(&node.ty)));
    }
    if !node.ty.elem.is_int() {
        return Err(format!("a `{}` value is not a size", b.elem_text(node.ty.elem)));
    }
    match node.op {
        Op::DimValue(d) => Ok(d),
        Op::Const(Literal::Int(i)) => u64::try_from(i).map(Dim::Const).map_err(|_| format!("extent `{i}` is negative")),
        Op::Param(k) => {
            let name = b.prog.params.get(k as usize).map_or_else(|| format!("p{k}"), |p| p.name.clone());
            Ok(b.derived_def(SymDef::Param(k), name, span))
        }
        // `k as usize`, `(n as i64)`: an integer conversion keeps the value (a negative one is
        // refused when the extent is bound).
        Op::Cast(a) => node_extent(b, a, span),
        Op::Binary(op, x, y) => {
            let op = match op {
                BinOp::Add => DimOp::Add,
                BinOp::Sub => DimOp::Sub,
                BinOp::Mul => DimOp::Mul,
                BinOp::Div => DimOp::Div,
                other => return Err(format!("`{}` is not size arithmetic (only `+ - * /` are)", other.name())),
            };
            let dx = node_extent(b, x, span)?;
            let dy = node_extent(b, y, span)?;
            arith(b, op, dx, dy, span)
        }
        _ => Err("it is computed from array values, so it is not known before the kernel runs".into()),
    }
}

/// `a op b` as a dimension: folded when both are constants, the operand itself for `+ 0`,
/// `- 0`, `* 1` and `/ 1`, a derived symbol otherwise.
fn arith(b: &mut Builder, op: DimOp, x: Dim, y: Dim, span: Span) -> Result<Dim, String> {
    let (x, y) = (b.resolve(x), b.resolve(y));
    match (x, y) {
        (Dim::Const(p), Dim::Const(q)) => return const_extent(op, p, q).map(Dim::Const),
        (d, Dim::Const(0)) if matches!(op, DimOp::Add | DimOp::Sub) => return Ok(d),
        (Dim::Const(0), d) if op == DimOp::Add => return Ok(d),
        (d, Dim::Const(1)) if matches!(op, DimOp::Mul | DimOp::Div) => return Ok(d),
        (Dim::Const(1), d) if op == DimOp::Mul => return Ok(d),
        _ => {}
    }
    // Symbol names are identifiers: a constant operand is named `len2`, as slices name theirs.
    let mut part = |d: Dim| match d {
        Dim::Const(c) => format!("len{c}"),
        d => b.dim_text(d),
    };
    let name = format!("{}_{}_{}", part(x), op.name(), part(y));
    Ok(b.derived_def(SymDef::Arith(op, x, y), name, span))
}
