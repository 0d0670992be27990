//! Extents: the sizes of comprehension axes and reduction ranges (`from_shape_fn((n, k as
//! usize), ..)`, `sum(0..d * d, ..)`).
//!
//! An extent is a dimension of a parameter, a non-negative integer literal, an integer scalar
//! parameter (`k as usize`, or `k: usize`), or `+ - * /` of extents (`n - 1`, `2 * k`, `n / 2`).
//! Scalar and computed extents become derived shape symbols ([`kiln_ir::SymDef`]), so the one
//! binder computes them at the call with checked arithmetic: a negative or overflowing extent
//! is a typed error naming the expression, never a wrapped size.

use crate::build::{const_extent, Builder, Val, R};
use crate::expr::{lower_expr, node_of};
use kiln_ir::{BinOp, DType, Dim, DimOp, ElemTy, Literal, NodeId, Op, ReduceOp, SymDef, Type, VarId};
use proc_macro2::Span;
use syn::spanned::Spanned;

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

/// `a op b` of two extents (a constructor's computed size), reported at `span` when refused.
pub(crate) fn extent_arith(b: &mut Builder, op: DimOp, x: Dim, y: Dim, span: Span) -> R<Dim> {
    arith(b, op, x, y, span).map_err(|why| b.err(span, why))
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

/// The range of a reduction `sum(a..b, |j| ..)` or `max(a..=b, |j| ..)`: the loop's extent
/// and, when the bounds are not `0..extent` (they start past 0, or depend on an outer index
/// as in the triangle `0..i + 1`), the `lo <= j < hi` guard that selects the range's points.
pub(crate) struct ReduceRange {
    pub extent: Dim,
    lo: Option<NodeId>,
    hi: Option<NodeId>,
}

impl ReduceRange {
    /// True when the range is narrower than `0..extent` somewhere (a guard selects it).
    pub fn guarded(&self) -> bool {
        self.lo.is_some() || self.hi.is_some()
    }
}

/// Read a reduction range. `0..e` (or `0..=e`) with `e` an extent is the plain range; an end
/// that depends on an outer index runs the loop over `0..E`, `E` a static bound no value of
/// the end exceeds (an outer index `i` is at most its extent minus one), and the guard keeps
/// the points in `a..b`. Loop construction narrows a serial loop to `a..b` (a `ForRange`);
/// elsewhere the guard is an `if` around the body.
pub(crate) fn reduce_range(b: &mut Builder, r: &syn::ExprRange) -> R<ReduceRange> {
    let closed = matches!(r.limits, syn::RangeLimits::Closed(_));
    let Some(end) = r.end.as_deref() else {
        return Err(b.err(r.span(), "a reduction range needs an end: `0..n`"));
    };
    let zero_start = match r.start.as_deref() {
        None => true,
        Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. })) => i.base10_digits() == "0",
        Some(_) => false,
    };
    let lo = match r.start.as_deref() {
        Some(s) if !zero_start => Some(index_node(b, s)?),
        _ => None,
    };
    let ev = lower_expr(b, end)?;
    let espan = end.span();
    let varying = matches!(ev, Val::Node(id) if b.has_free_vars(id));
    if !varying {
        // An end that is one size: the loop's extent itself (only a start may need a guard).
        let e = extent_of(b, ev, espan)?;
        let extent =
            if closed { arith(b, DimOp::Add, e, Dim::Const(1), espan).map_err(|w| b.err(espan, w))? } else { e };
        return Ok(ReduceRange { extent, lo, hi: None });
    }
    let id = node_of(b, ev, espan)?;
    let hi = index_value(b, id, espan)?;
    let (dim, k) = upper(b, hi, espan).map_err(|why| {
        b.err(espan, format!("this range end is refused: {why}; a bound is an extent, or an outer index plus or minus one (`0..i + 1`, `0..=i`, `i..n`)"))
    })?;
    let k = k + i64::from(closed);
    let extent = match (dim, k) {
        (None, k) => Dim::Const(k.max(0) as u64),
        (Some(d), k) if k <= 0 => d,
        (Some(d), k) => arith(b, DimOp::Add, d, Dim::Const(k as u64), espan).map_err(|w| b.err(espan, w))?,
    };
    let hi = if closed {
        let one = b.konst(Literal::Int(1), ElemTy::I64);
        b.push(Op::Binary(BinOp::Add, hi, one), Type::scalar(ElemTy::I64))
    } else {
        hi
    };
    Ok(ReduceRange { extent, lo, hi: Some(hi) })
}

/// A range bound as an `i64` scalar node.
fn index_node(b: &mut Builder, e: &syn::Expr) -> R<NodeId> {
    let v = lower_expr(b, e)?;
    let id = node_of(b, v, e.span())?;
    index_value(b, id, e.span())
}

fn index_value(b: &mut Builder, id: NodeId, span: Span) -> R<NodeId> {
    let ty = b.ty(id).clone();
    if ty.rank() != 0 || !ty.elem.is_int() {
        let t = b.type_text(&ty);
        return Err(b.err(span, format!("a range bound must be an integer scalar, found `{t}`")));
    }
    if ty.elem == ElemTy::I64 {
        return Ok(id);
    }
    Ok(b.push(Op::Cast(id), Type::scalar(ElemTy::I64)))
}

/// A bound on the values of `id`: every value is at most `dim + k` (`dim` absent: at most `k`).
/// An index variable over `0..n` is at most `n - 1`.
fn upper(b: &mut Builder, id: NodeId, span: Span) -> Result<(Option<Dim>, i64), String> {
    let node = b.prog.node(id).clone();
    match node.op {
        Op::Index(v) => match b.var_extent(v) {
            Some(n) => Ok((Some(n), -1)),
            None => Err("its index variable is not in scope".into()),
        },
        Op::Const(Literal::Int(c)) => Ok((None, c)),
        Op::Cast(a) => upper(b, a, span),
        Op::Binary(BinOp::Add, x, y) => {
            let ((dx, kx), (dy, ky)) = (upper(b, x, span)?, upper(b, y, span)?);
            let k = kx.checked_add(ky).ok_or("it overflows")?;
            let d = match (dx, dy) {
                (Some(p), Some(q)) => Some(arith(b, DimOp::Add, p, q, span)?),
                (p, q) => p.or(q),
            };
            Ok((d, k))
        }
        // `i - c`: exact; `a - j` with `j` an index or a size (never negative): at most `a`.
        Op::Binary(BinOp::Sub, x, y) => {
            let (dx, kx) = upper(b, x, span)?;
            match b.prog.node(y).op {
                Op::Const(Literal::Int(c)) => Ok((dx, kx.checked_sub(c).ok_or("it overflows")?)),
                Op::Index(_) | Op::DimValue(_) => Ok((dx, kx)),
                _ => Err("only an index, a dimension or a literal may be subtracted".into()),
            }
        }
        _ if !b.has_free_vars(id) => node_extent(b, id, span).map(|d| (Some(d), 0)),
        _ => Err("only `+` and `-` combine an index with sizes".into()),
    }
}

/// `body` under the range's guard: `select(lo <= j && j < hi, body, identity)`, where the
/// identity of `op` (0, 1, +inf or -inf, an integer type's extreme) leaves the result as the
/// guarded points alone give it. `Select` is lazy, so the body is not evaluated (and cannot
/// index out of range) outside the range.
pub(crate) fn guard_body(b: &mut Builder, r: &ReduceRange, op: ReduceOp, var: VarId, body: NodeId) -> NodeId {
    if !r.guarded() {
        return body;
    }
    let bool_ty = Type::scalar(ElemTy::BOOL);
    let j = b.push(Op::Index(var), Type::scalar(ElemTy::I64));
    let mut conds = vec![];
    if let Some(lo) = r.lo {
        conds.push(b.push(Op::Binary(BinOp::Le, lo, j), bool_ty.clone()));
    }
    if let Some(hi) = r.hi {
        conds.push(b.push(Op::Binary(BinOp::Lt, j, hi), bool_ty.clone()));
    }
    let cond = match conds[..] {
        [c] => c,
        [lo, hi] => b.push(Op::Binary(BinOp::And, lo, hi), bool_ty),
        _ => return body,
    };
    let elem = b.ty(body).elem;
    let identity = identity(op, elem);
    let id = b.konst(identity, elem);
    b.push(Op::Select(cond, body, id), Type::scalar(elem))
}

/// The value that leaves a reduction `op` of `elem` values unchanged.
fn identity(op: ReduceOp, elem: ElemTy) -> Literal {
    let float = elem.is_float();
    let (lo, hi) = match elem {
        ElemTy::Concrete(DType::I32) => (i64::from(i32::MIN), i64::from(i32::MAX)),
        ElemTy::Concrete(DType::U32) => (0, i64::from(u32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    match (op, float) {
        (ReduceOp::Prod, true) => Literal::Float(1.0),
        (ReduceOp::Prod, false) => Literal::Int(1),
        (ReduceOp::Min, true) => Literal::Float(f64::INFINITY),
        (ReduceOp::Min, false) => Literal::Int(hi),
        (ReduceOp::Max, true) => Literal::Float(f64::NEG_INFINITY),
        (ReduceOp::Max, false) => Literal::Int(lo),
        (_, true) => Literal::Float(0.0),
        (_, false) => Literal::Int(0),
    }
}
