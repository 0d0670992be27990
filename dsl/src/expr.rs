//! Lowering of the kernel body: statements (`let` and a final expression), operators,
//! literals, names, casts, `if`/`else`, indexing, and the checks every value gets.
//!
//! Methods, free functions, reductions and comprehensions are in `calls`.

use crate::build::{Binding, Builder, Fail, Val, R};
use crate::sig::{KernelSig, TyKind, TySig};
use crate::DslError;
use kiln_ir::{BinOp, Dim, ElemTy, Literal, NodeId, Op, Param, Program, Type, UnOp};
use proc_macro2::Span;
use syn::spanned::Spanned;

/// Lower a kernel whose signature has been checked.
pub(crate) fn lower_kernel(item: &syn::ItemFn, sig: &KernelSig) -> Result<Program, Vec<DslError>> {
    let mut b = Builder::new(&item.sig.ident.to_string(), sig.generic.clone());
    b.default_elem = sig.ret.first().map_or(ElemTy::F64, |r| r.elem);
    for (k, p) in sig.params.iter().enumerate() {
        let name = p.name.to_string();
        let shape: Vec<Dim> = (0..p.ty.rank()).map(|a| Dim::Sym(b.new_sym(format!("{name}_{a}")))).collect();
        let ty = Type::array(p.ty.elem, shape);
        b.prog.params.push(Param { name: name.clone(), ty: ty.clone() });
        let id = b.push(Op::Param(k as u32), ty);
        b.bind(&name, Binding::Val(Val::Node(id)));
    }
    let result = lower_block_stmts(&mut b, &item.block.stmts, item.block.span());
    let outputs = match result {
        Ok((val, span)) => check_return(&mut b, val, span, sig),
        Err(Fail) => None,
    };
    if outputs.is_some() && b.errors.is_empty() {
        b.settle_derived();
    }
    match outputs {
        Some(outs) if b.errors.is_empty() => Ok(b.finish(outs)),
        _ => {
            if b.errors.is_empty() {
                b.errors
                    .push(DslError::new(item.sig.ident.span(), "internal error: lowering failed without a message"));
            }
            Err(b.errors)
        }
    }
}

/// Check the final value against the declared return type and produce the output nodes.
fn check_return(b: &mut Builder, val: Val, span: Span, sig: &KernelSig) -> Option<Vec<NodeId>> {
    let parts: Vec<(Val, Span)> = match (val, sig.ret_tuple) {
        (Val::Tuple(v), true) if v.len() == sig.ret.len() => v,
        (Val::Tuple(v), true) => {
            b.err(
                span,
                format!("mismatched return type: expected a tuple of {} values, found {}", sig.ret.len(), v.len()),
            );
            return None;
        }
        (Val::Tuple(v), false) => {
            b.err(span, format!("mismatched return type: expected one value, found a tuple of {}", v.len()));
            return None;
        }
        (v, true) => {
            b.err(span, format!("mismatched return type: expected a tuple of {} values", sig.ret.len()));
            let _ = v;
            return None;
        }
        (v, false) => vec![(v, span)],
    };
    let mut outs = Vec::new();
    for ((v, sp), want) in parts.into_iter().zip(&sig.ret) {
        if let Ok(id) = return_value(b, v, sp, want) {
            outs.push(id);
        }
    }
    (outs.len() == sig.ret.len()).then_some(outs)
}

fn return_value(b: &mut Builder, v: Val, span: Span, want: &TySig) -> R<NodeId> {
    let id = match v {
        Val::Lit(l) => {
            check_lit_fits(b, l, want.elem, span)?;
            b.konst(l, want.elem)
        }
        v => node_of(b, v, span)?,
    };
    let ty = b.ty(id).clone();
    let want_ty = match want.kind {
        TyKind::Scalar => b.elem_text(want.elem),
        TyKind::Array(r) => format!("Array{r}<{}>", b.elem_text(want.elem)),
    };
    if ty.elem != want.elem || ty.rank() != want.rank() {
        let found = b.type_text(&ty);
        return Err(b.err(span, format!("mismatched return type: expected `{want_ty}`, found `{found}`")));
    }
    if b.has_free_vars(id) {
        return Err(b.err(span, "internal error: returned value depends on an index variable"));
    }
    Ok(id)
}

/// Lower a block's statements: `let`s, then the final expression. Returns the value and the
/// span of the expression that produced it.
pub(crate) fn lower_block_stmts(b: &mut Builder, stmts: &[syn::Stmt], block_span: Span) -> R<(Val, Span)> {
    let Some((last, init)) = stmts.split_last() else {
        return Err(b.err(block_span, "a kernel block must end with an expression"));
    };
    let mut failed = false;
    for s in init {
        if lower_stmt(b, s).is_err() {
            failed = true;
        }
    }
    let v = match last {
        syn::Stmt::Expr(e, None) => lower_expr(b, e).map(|v| (v, e.span())),
        // `concatenate![..]` as the block's value parses as a macro statement.
        syn::Stmt::Macro(m) if m.semi_token.is_none() => {
            crate::constructors::lower_macro(b, &m.mac).map(|v| (v, m.span()))
        }
        other => {
            let r = lower_stmt(b, other);
            let span = match other {
                syn::Stmt::Local(l) => l.semi_token.span,
                syn::Stmt::Expr(_, Some(semi)) => semi.span,
                _ => other.span(),
            };
            if r.is_ok() {
                Err(b.err(span, "a kernel block must end with an expression (remove the trailing `;`)"))
            } else {
                Err(Fail)
            }
        }
    };
    if failed {
        // Later statements may be fine, but the value is unusable.
        return v.and(Err(Fail));
    }
    v
}

fn lower_stmt(b: &mut Builder, s: &syn::Stmt) -> R<()> {
    match s {
        syn::Stmt::Local(l) => {
            let Some(init) = &l.init else {
                return Err(b.err(l.span(), "a `let` in a kernel needs a value"));
            };
            if let Some((_, d)) = &init.diverge {
                return Err(b.err(d.span(), "`let ... else` is not supported in kernels"));
            }
            let (pat, ann) = match &l.pat {
                syn::Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
                p => (p, None),
            };
            let v = lower_expr(b, &init.expr);
            match v {
                Ok(v) => {
                    let v = match ann {
                        Some(t) => check_annotation(b, v, t, init.expr.span())?,
                        None => v,
                    };
                    bind_pattern(b, pat, v)
                }
                Err(Fail) => {
                    poison_pattern(b, pat);
                    Err(Fail)
                }
            }
        }
        syn::Stmt::Expr(e, _) => {
            // Lowering reports the specific problem (a loop, an assignment, ...) when there is one.
            lower_expr(b, e)?;
            Err(b
                .err(e.span(), "unsupported statement: a kernel body holds only `let` bindings and a final expression"))
        }
        syn::Stmt::Item(i) => Err(b.err(i.span(), "items (fn, struct, use, ...) are not supported inside a kernel")),
        syn::Stmt::Macro(m) => {
            lower_macro_stmt(b, m)?;
            Err(b
                .err(m.span(), "unsupported statement: a kernel body holds only `let` bindings and a final expression"))
        }
    }
}

fn lower_macro_stmt(b: &mut Builder, m: &syn::StmtMacro) -> R<Val> {
    crate::constructors::lower_macro(b, &m.mac)
}

fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp as B;
    matches!(
        op,
        B::AddAssign(_)
            | B::SubAssign(_)
            | B::MulAssign(_)
            | B::DivAssign(_)
            | B::RemAssign(_)
            | B::BitXorAssign(_)
            | B::BitAndAssign(_)
            | B::BitOrAssign(_)
            | B::ShlAssign(_)
            | B::ShrAssign(_)
    )
}

/// `let x: Array1<f32> = ...`: the annotation must agree with the value.
fn check_annotation(b: &mut Builder, v: Val, t: &syn::Type, span: Span) -> R<Val> {
    let generic = b.generic.clone();
    let want = match crate::sig::kernel_type(t, generic.as_ref()) {
        Ok(w) => w,
        Err(e) => {
            b.errors.push(e);
            return Err(Fail);
        }
    };
    return_value(b, v, span, &want).map(Val::Node)
}

fn bind_pattern(b: &mut Builder, pat: &syn::Pat, v: Val) -> R<()> {
    match pat {
        syn::Pat::Ident(pi) => {
            if pi.mutability.is_some() {
                return Err(b.err(pi.span(), "mutation is not supported in kernels: remove `mut`"));
            }
            if pi.by_ref.is_some() || pi.subpat.is_some() {
                return Err(b.err(pi.span(), "unsupported pattern: bind a plain name"));
            }
            let name = pi.ident.to_string();
            if let Val::Dim(d) = &v {
                b.name_dim(*d, &name);
            }
            b.bind(&name, Binding::Val(v));
            Ok(())
        }
        syn::Pat::Wild(_) => Ok(()),
        syn::Pat::Tuple(pt) => {
            let parts: Vec<Val> = match v {
                Val::Dims(ds) => ds.into_iter().map(Val::Dim).collect(),
                Val::Tuple(vs) => vs.into_iter().map(|(v, _)| v).collect(),
                _ => return Err(b.err(pt.span(), "mismatched types: this pattern is a tuple, the value is not")),
            };
            if parts.len() != pt.elems.len() {
                return Err(b.err(
                    pt.span(),
                    format!(
                        "mismatched types: expected a tuple with {} elements, found one with {} elements",
                        parts.len(),
                        pt.elems.len()
                    ),
                ));
            }
            let mut res = Ok(());
            for (p, v) in pt.elems.iter().zip(parts) {
                if bind_pattern(b, p, v).is_err() {
                    res = Err(Fail);
                }
            }
            res
        }
        syn::Pat::Paren(p) => bind_pattern(b, &p.pat, v),
        other => Err(b.err(other.span(), "unsupported pattern: a kernel `let` binds a name or a tuple of names")),
    }
}

fn poison_pattern(b: &mut Builder, pat: &syn::Pat) {
    match pat {
        syn::Pat::Ident(pi) => b.bind(&pi.ident.to_string(), Binding::Poison),
        syn::Pat::Tuple(pt) => pt.elems.iter().for_each(|p| poison_pattern(b, p)),
        syn::Pat::Paren(p) => poison_pattern(b, &p.pat),
        syn::Pat::Type(p) => poison_pattern(b, &p.pat),
        _ => {}
    }
}

/// Lower one expression.
pub(crate) fn lower_expr(b: &mut Builder, e: &syn::Expr) -> R<Val> {
    use syn::Expr as E;
    match e {
        E::Paren(p) => lower_expr(b, &p.expr),
        E::Group(g) => lower_expr(b, &g.expr),
        E::Reference(r) => {
            if r.mutability.is_some() {
                return Err(b.err(r.span(), "mutation is not supported in kernels: `&mut` is not allowed"));
            }
            lower_expr(b, &r.expr)
        }
        E::Lit(l) => lower_lit(b, &l.lit),
        E::Path(p) => lower_path(b, p),
        E::Binary(bin) => lower_binary(b, bin),
        E::Unary(u) => lower_unary(b, u),
        E::Cast(c) => lower_cast(b, c),
        E::If(i) => lower_if(b, i),
        E::Block(bl) if bl.label.is_none() => lower_block(b, &bl.block),
        E::Tuple(t) => {
            let mut v = Vec::new();
            for el in &t.elems {
                v.push((lower_expr(b, el)?, el.span()));
            }
            Ok(Val::Tuple(v))
        }
        E::Index(ix) => lower_index(b, ix),
        E::MethodCall(mc) => crate::calls::lower_method(b, mc),
        E::Call(c) => crate::calls::lower_call(b, c),
        E::Closure(c) => Err(b.err(
            c.span(),
            "unsupported closure: closures are only allowed as the last argument of `from_shape_fn`, `mapv` and range reductions like `sum(0..n, |i| ...)`",
        )),
        E::ForLoop(_) | E::While(_) | E::Loop(_) => Err(b.err(
            loop_keyword_span(e),
            "unsupported syntax: loops are not supported in kernels; use `from_shape_fn`, `sum(0..n, |i| ...)` or array operations",
        )),
        E::Match(m) => Err(b.err(m.match_token.span, "unsupported syntax: `match` is not supported in kernels; use `if`/`else` or `select`")),
        E::Assign(_) => Err(b.err(e.span(), "mutation is not supported in kernels: bind a new name with `let`")),
        E::Macro(m) => crate::constructors::lower_macro(b, &m.mac),
        E::Return(r) => Err(b.err(r.return_token.span, "unsupported syntax: `return` is not supported in kernels; end the body with the value")),
        E::Field(f) => Err(b.err(f.span(), "unsupported syntax: field access is not supported in kernels")),
        E::Range(r) => Err(b.err(r.span(), "a range is only allowed as the first argument of a range reduction like `sum(0..n, |i| ...)`")),
        E::Array(a) => Err(b.err(a.span(), "array literals `[a, b]` are not supported in kernels (write `array![a, b]`)")),
        other => Err(b.err(other.span(), "unsupported syntax in a kernel")),
    }
}

fn loop_keyword_span(e: &syn::Expr) -> Span {
    match e {
        syn::Expr::ForLoop(f) => f.for_token.span,
        syn::Expr::While(w) => w.while_token.span,
        syn::Expr::Loop(l) => l.loop_token.span,
        other => other.span(),
    }
}

pub(crate) fn lower_block(b: &mut Builder, block: &syn::Block) -> R<Val> {
    b.push_scope();
    let r = lower_block_stmts(b, &block.stmts, block.span());
    b.pop_scope();
    r.map(|(v, _)| v)
}

fn lower_lit(b: &mut Builder, lit: &syn::Lit) -> R<Val> {
    match lit {
        syn::Lit::Float(f) => {
            let v: f64 = f.base10_parse().map_err(|e| b.err(f.span(), e.to_string()))?;
            match f.suffix() {
                "" => Ok(Val::Lit(Literal::Float(v))),
                "f32" => Ok(Val::Node(b.konst(Literal::Float(v), ElemTy::F32))),
                "f64" => Ok(Val::Node(b.konst(Literal::Float(v), ElemTy::F64))),
                s => Err(b.err(f.span(), format!("unsupported literal suffix `{s}`"))),
            }
        }
        syn::Lit::Int(i) => {
            let v: i64 = i.base10_parse().map_err(|e| b.err(i.span(), format!("integer literal out of range: {e}")))?;
            match i.suffix() {
                // `2usize` is a size or an index: an untyped integer, as `as usize` makes one.
                "" | "usize" => Ok(Val::Lit(Literal::Int(v))),
                s => match kiln_ir::DType::from_name(s) {
                    Some(d) if d.is_float() => Ok(Val::Node(b.konst(Literal::Float(v as f64), d.into()))),
                    Some(d) if d.is_int() => Ok(Val::Node(b.konst(Literal::Int(v), d.into()))),
                    _ => Err(b.err(i.span(), format!("unsupported literal suffix `{s}`"))),
                },
            }
        }
        syn::Lit::Bool(v) => Ok(Val::Node(b.konst(Literal::Bool(v.value), ElemTy::BOOL))),
        other => Err(b.err(other.span(), "unsupported literal: kernels use numbers and booleans")),
    }
}

fn lower_path(b: &mut Builder, p: &syn::ExprPath) -> R<Val> {
    let Some(id) = p.path.get_ident() else {
        let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some((lit, elem)) = crate::consts::path_constant(&segs) {
            return Ok(Val::Node(b.konst(lit, elem)));
        }
        let text = quote::quote!(#p).to_string().replace(' ', "");
        return Err(b.err(p.span(), format!("cannot find value `{text}` in this kernel")));
    };
    let name = id.to_string();
    match b.lookup(&name).cloned() {
        Some(Binding::Val(v)) => Ok(v),
        Some(Binding::Index { var, .. }) => Ok(Val::Node(b.push(Op::Index(var), Type::scalar(ElemTy::I64)))),
        Some(Binding::Poison) => Err(Fail),
        None => Err(b.err(id.span(), format!("cannot find value `{name}` in this kernel"))),
    }
}

/// Turn a value into a node; literals get their default type (`f64`, `i64`).
pub(crate) fn node_of(b: &mut Builder, v: Val, span: Span) -> R<NodeId> {
    match v {
        Val::Node(id) => Ok(id),
        Val::Lit(l) => {
            let elem = match l {
                Literal::Float(_) => ElemTy::F64,
                Literal::Int(_) => ElemTy::I64,
                Literal::Bool(_) => ElemTy::BOOL,
            };
            Ok(b.konst(l, elem))
        }
        Val::Dim(d) => Ok(b.push(Op::DimValue(d), Type::scalar(ElemTy::I64))),
        Val::Dims(_) => Err(b.err(span, "mismatched types: expected a value, found the tuple returned by `dim()`")),
        Val::Tuple(_) => Err(b.err(span, "mismatched types: expected a value, found a tuple")),
    }
}

fn check_lit_fits(b: &mut Builder, l: Literal, elem: ElemTy, span: Span) -> R<()> {
    let ok = match l {
        Literal::Float(_) => elem.is_float(),
        Literal::Int(_) => elem.is_int() || elem.is_float(),
        Literal::Bool(_) => elem.is_bool(),
    };
    if ok {
        return Ok(());
    }
    let what = match l {
        Literal::Float(_) => "floating-point number",
        Literal::Int(_) => "integer",
        Literal::Bool(_) => "`bool`",
    };
    let e = b.elem_text(elem);
    Err(b.err(span, format!("mismatched types: expected `{e}`, found {what}")))
}

/// Bring two operands to one element type (literals adopt the other side's type).
pub(crate) fn unify_operands(
    b: &mut Builder,
    x: Val,
    xs: Span,
    y: Val,
    ys: Span,
    op_span: Span,
) -> R<(NodeId, NodeId)> {
    match (x, y) {
        (Val::Lit(l), other) if !matches!(other, Val::Lit(_)) => {
            let n = node_of(b, other, ys)?;
            let elem = b.ty(n).elem;
            check_lit_fits(b, l, elem, xs)?;
            Ok((b.konst(l, elem), n))
        }
        (other, Val::Lit(l)) if !matches!(other, Val::Lit(_)) => {
            let n = node_of(b, other, xs)?;
            let elem = b.ty(n).elem;
            check_lit_fits(b, l, elem, ys)?;
            Ok((n, b.konst(l, elem)))
        }
        (x, y) => {
            let (nx, ny) = (node_of(b, x, xs)?, node_of(b, y, ys)?);
            let (ex, ey) = (b.ty(nx).elem, b.ty(ny).elem);
            if ex != ey {
                let (tx, ty) = (b.elem_text(ex), b.elem_text(ey));
                return Err(b.err(
                    op_span,
                    format!("mismatched types: `{tx}` and `{ty}` (convert one side with `as {tx}` or `as {ty}`)"),
                ));
            }
            Ok((nx, ny))
        }
    }
}

/// The shape of an elementwise result over `ids`, or an error naming both shapes.
pub(crate) fn broadcast_all(b: &mut Builder, ids: &[NodeId], span: Span) -> R<Vec<Dim>> {
    let mut shape: Vec<Dim> = Vec::new();
    for &id in ids {
        let s = b.ty(id).shape.clone();
        match b.broadcast(&shape, &s) {
            Ok(out) => shape = out,
            Err(()) => {
                let (ta, tb) = (b.shape_text(&shape), b.shape_text(&s));
                return Err(b.err(span, format!("shapes {ta} and {tb} cannot be broadcast together")));
            }
        }
    }
    Ok(shape)
}

/// Push an elementwise node after checking it is not an array depending on index variables.
pub(crate) fn push_elementwise(b: &mut Builder, op: Op, ty: Type, span: Span) -> R<NodeId> {
    let id = b.push(op, ty);
    check_no_free_array(b, id, span)?;
    Ok(id)
}

/// An array-valued node may not depend on comprehension index variables.
pub(crate) fn check_no_free_array(b: &mut Builder, id: NodeId, span: Span) -> R<()> {
    if b.ty(id).rank() > 0 && b.has_free_vars(id) {
        return Err(b.err(
            span,
            "an array cannot depend on a closure's index variable: index arrays (`x[[i, j]]`) to get scalars inside the closure",
        ));
    }
    Ok(())
}

fn binop_of(op: &syn::BinOp) -> Option<(BinOp, bool)> {
    use syn::BinOp as B;
    // The flag marks the short-circuit operators `&&` and `||`, which are bool-only.
    Some(match op {
        B::Add(_) => (BinOp::Add, false),
        B::Sub(_) => (BinOp::Sub, false),
        B::Mul(_) => (BinOp::Mul, false),
        B::Div(_) => (BinOp::Div, false),
        B::Rem(_) => (BinOp::Rem, false),
        B::And(_) => (BinOp::And, true),
        B::Or(_) => (BinOp::Or, true),
        B::BitAnd(_) => (BinOp::And, false),
        B::BitOr(_) => (BinOp::Or, false),
        B::BitXor(_) => (BinOp::Xor, false),
        B::Shl(_) => (BinOp::Shl, false),
        B::Shr(_) => (BinOp::Shr, false),
        B::Eq(_) => (BinOp::Eq, false),
        B::Ne(_) => (BinOp::Ne, false),
        B::Lt(_) => (BinOp::Lt, false),
        B::Le(_) => (BinOp::Le, false),
        B::Gt(_) => (BinOp::Gt, false),
        B::Ge(_) => (BinOp::Ge, false),
        _ => return None,
    })
}

fn lower_binary(b: &mut Builder, bin: &syn::ExprBinary) -> R<Val> {
    let op_span = bin.op.span();
    if is_compound_assign(&bin.op) {
        return Err(b.err(bin.span(), "mutation is not supported in kernels: bind a new name with `let`"));
    }
    let Some((op, short)) = binop_of(&bin.op) else {
        return Err(b.err(op_span, "unsupported operator in a kernel"));
    };
    let x = lower_expr(b, &bin.left);
    let y = lower_expr(b, &bin.right);
    let (x, y) = (x?, y?);
    // Literal arithmetic is folded so `2.0 * 3.0 * x` still adopts `x`'s type.
    if let (Val::Lit(l), Val::Lit(r)) = (&x, &y) {
        if let Some(v) = fold(op, *l, *r) {
            return Ok(Val::Lit(v));
        }
    }
    if op.is_shift() {
        return shift_or_binary(b, op, x, bin.left.span(), y, bin.right.span(), op_span);
    }
    binary(b, op, short, x, bin.left.span(), y, bin.right.span(), op_span)
}

/// A binary node whose integer right operand may have another integer type than the left, as
/// Rust's shifts allow (`x << k` with `x: i64`, `k: u32`): the amount is converted first.
pub(crate) fn shift_or_binary(b: &mut Builder, op: BinOp, x: Val, xs: Span, y: Val, ys: Span, span: Span) -> R<Val> {
    let y = match (&x, &y, op.is_shift()) {
        (Val::Lit(_), _, _) | (_, Val::Lit(_), _) | (_, _, false) => y,
        _ => {
            let (nx, ny) = (node_of(b, x.clone(), xs)?, node_of(b, y, ys)?);
            let (ex, ey) = (b.ty(nx).elem, b.ty(ny).elem);
            if ex.is_int() && ey.is_int() && ex != ey {
                cast(b, Val::Node(ny), ex, ys, span)?
            } else {
                Val::Node(ny)
            }
        }
    };
    binary(b, op, false, x, xs, y, ys, span)
}

fn fold(op: BinOp, l: Literal, r: Literal) -> Option<Literal> {
    match (l, r) {
        (Literal::Float(a), Literal::Float(c)) => match op {
            BinOp::Add => Some(Literal::Float(a + c)),
            BinOp::Sub => Some(Literal::Float(a - c)),
            BinOp::Mul => Some(Literal::Float(a * c)),
            BinOp::Div => Some(Literal::Float(a / c)),
            _ => None,
        },
        (Literal::Int(a), Literal::Int(c)) => match op {
            BinOp::Add => a.checked_add(c).map(Literal::Int),
            BinOp::Sub => a.checked_sub(c).map(Literal::Int),
            BinOp::Mul => a.checked_mul(c).map(Literal::Int),
            _ => None,
        },
        _ => None,
    }
}

/// A type-checked binary node. `short` marks `&&`/`||` (bool only).
pub(crate) fn binary(
    b: &mut Builder,
    op: BinOp,
    short: bool,
    x: Val,
    xs: Span,
    y: Val,
    ys: Span,
    span: Span,
) -> R<Val> {
    let (nx, ny) = unify_operands(b, x, xs, y, ys, span)?;
    let elem = b.ty(nx).elem;
    let et = b.elem_text(elem);
    let ok = match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem | BinOp::Min | BinOp::Max => !elem.is_bool(),
        _ if op.float_only() => elem.is_float(),
        _ if op.is_shift() => elem.is_int(),
        BinOp::And | BinOp::Or if short => elem.is_bool(),
        BinOp::And | BinOp::Or | BinOp::Xor => elem.is_bool() || elem.is_int(),
        _ => true,
    };
    if !ok {
        let msg = match op {
            BinOp::Pow => format!("`powf` needs a float type, found `{et}`"),
            _ if op.float_only() => format!("`{}` needs a float type, found `{et}`", op.name()),
            _ if op.is_shift() => {
                format!("`{}` needs integer operands, found `{et}`", if op == BinOp::Shl { "<<" } else { ">>" })
            }
            BinOp::And | BinOp::Or if short => {
                format!("`{}` needs `bool` operands, found `{et}`", if op == BinOp::And { "&&" } else { "||" })
            }
            _ => format!("cannot apply `{}` to `{et}`", op.name()),
        };
        return Err(b.err(span, msg));
    }
    let shape = broadcast_all(b, &[nx, ny], span)?;
    let out_elem = if op.is_comparison() { ElemTy::BOOL } else { elem };
    push_elementwise(b, Op::Binary(op, nx, ny), Type::array(out_elem, shape), span).map(Val::Node)
}

fn lower_unary(b: &mut Builder, u: &syn::ExprUnary) -> R<Val> {
    let span = u.op.span();
    match u.op {
        syn::UnOp::Deref(_) => lower_expr(b, &u.expr),
        syn::UnOp::Neg(_) => match lower_expr(b, &u.expr)? {
            Val::Lit(Literal::Float(f)) => Ok(Val::Lit(Literal::Float(-f))),
            Val::Lit(Literal::Int(i)) => Ok(Val::Lit(Literal::Int(-i))),
            v => unary(b, UnOp::Neg, v, u.expr.span(), span),
        },
        syn::UnOp::Not(_) => {
            let v = lower_expr(b, &u.expr)?;
            unary(b, UnOp::Not, v, u.expr.span(), span)
        }
        _ => Err(b.err(span, "unsupported unary operator in a kernel")),
    }
}

/// A type-checked unary node.
pub(crate) fn unary(b: &mut Builder, op: UnOp, v: Val, vs: Span, span: Span) -> R<Val> {
    let id = node_of(b, v, vs)?;
    let ty = b.ty(id).clone();
    let et = b.elem_text(ty.elem);
    let ok = match op {
        UnOp::Neg | UnOp::Abs => {
            ty.elem.is_float() || matches!(ty.elem, ElemTy::Concrete(d) if d.is_int() && d.is_signed())
        }
        UnOp::Not => ty.elem.is_bool() || ty.elem.is_int(),
        UnOp::CountOnes => ty.elem.is_int(),
        _ => ty.elem.is_float(),
    };
    if !ok {
        let msg = match op {
            UnOp::Neg => format!("cannot apply unary operator `-` to type `{et}`"),
            UnOp::Not => format!("cannot apply unary operator `!` to type `{et}`"),
            UnOp::Abs => format!("`abs` needs a signed type, found `{et}`"),
            UnOp::CountOnes => format!("`count_ones` needs an integer type, found `{et}`"),
            op => format!("`{}` needs a float type, found `{et}` (convert with `as f32` / `as f64`)", op.name()),
        };
        return Err(b.err(span, msg));
    }
    push_elementwise(b, Op::Unary(op, id), ty, span).map(Val::Node)
}

fn lower_cast(b: &mut Builder, c: &syn::ExprCast) -> R<Val> {
    if crate::sig::is_usize(&c.ty) {
        let v = lower_expr(b, &c.expr)?;
        return as_usize(b, v, c.expr.span(), c.span());
    }
    let generic = b.generic.clone();
    let elem = match crate::sig::parse_elem(&c.ty, generic.as_ref()) {
        Ok(e) => e,
        Err(e) => {
            b.errors.push(e);
            return Err(Fail);
        }
    };
    let v = lower_expr(b, &c.expr)?;
    cast(b, v, elem, c.expr.span(), c.span())
}

/// `v as usize`: an index or an extent. Dimensions and integer literals stay what they are;
/// an integer scalar becomes an `i64` (a negative one is out of range as an index and refused
/// as an extent when the kernel is called, where Rust's `as usize` would wrap it).
fn as_usize(b: &mut Builder, v: Val, vs: Span, span: Span) -> R<Val> {
    match v {
        Val::Dim(_) | Val::Lit(Literal::Int(_)) => Ok(v),
        v => {
            let id = node_of(b, v, vs)?;
            let ty = b.ty(id).clone();
            if !ty.elem.is_int() || ty.rank() != 0 {
                let t = b.type_text(&ty);
                return Err(
                    b.err(span, format!("`as usize` makes an index or an extent from an integer scalar, found `{t}`"))
                );
            }
            cast(b, Val::Node(id), ElemTy::I64, vs, span)
        }
    }
}

/// `v as elem`; a no-op when the type already matches.
pub(crate) fn cast(b: &mut Builder, v: Val, elem: ElemTy, vs: Span, span: Span) -> R<Val> {
    if let Val::Lit(l) = v {
        let lit = match (l, elem.is_float(), elem.is_bool()) {
            (Literal::Float(f), false, false) => Literal::Int(f as i64),
            (Literal::Int(i), true, _) => Literal::Float(i as f64),
            (Literal::Bool(x), false, false) => Literal::Int(x as i64),
            (Literal::Bool(x), true, _) => Literal::Float(x as i64 as f64),
            (l, _, true) if !matches!(l, Literal::Bool(_)) => {
                return Err(b.err(span, "cannot cast a number as `bool`: compare it instead (`x != 0`)"));
            }
            (l, _, _) => l,
        };
        return Ok(Val::Node(b.konst(lit, elem)));
    }
    let id = node_of(b, v, vs)?;
    let ty = b.ty(id).clone();
    if ty.elem == elem {
        return Ok(Val::Node(id));
    }
    if elem.is_bool() {
        return Err(b.err(span, "cannot cast a number as `bool`: compare it instead (`x != 0`)"));
    }
    push_elementwise(b, Op::Cast(id), Type::array(elem, ty.shape), span).map(Val::Node)
}

fn lower_if(b: &mut Builder, i: &syn::ExprIf) -> R<Val> {
    let Some((_, els)) = &i.else_branch else {
        return Err(b.err(i.if_token.span, "an `if` in a kernel is an expression and needs an `else` branch"));
    };
    if let syn::Expr::Let(l) = &*i.cond {
        return Err(b.err(l.span(), "unsupported syntax: `if let` is not supported in kernels"));
    }
    let c = lower_expr(b, &i.cond);
    let t = lower_block(b, &i.then_branch);
    let e = lower_expr(b, els);
    let (c, t, e) = (c?, t?, e?);
    select(b, c, i.cond.span(), t, i.then_branch.span(), e, els.span(), i.if_token.span)
}

/// `select(cond, a, b)`: a lazy elementwise choice with broadcasting.
pub(crate) fn select(b: &mut Builder, c: Val, cs: Span, t: Val, ts: Span, e: Val, es: Span, span: Span) -> R<Val> {
    let c = node_of(b, c, cs)?;
    if !b.ty(c).elem.is_bool() {
        let found = b.elem_text(b.ty(c).elem);
        return Err(b.err(cs, format!("mismatched types: expected `bool` condition, found `{found}`")));
    }
    let (nt, ne) = unify_operands(b, t, ts, e, es, span)?;
    let shape = broadcast_all(b, &[c, nt, ne], span)?;
    let elem = b.ty(nt).elem;
    push_elementwise(b, Op::Select(c, nt, ne), Type::array(elem, shape), span).map(Val::Node)
}

fn lower_index(b: &mut Builder, ix: &syn::ExprIndex) -> R<Val> {
    let arr = lower_expr(b, &ix.expr)?;
    let arr = node_of(b, arr, ix.expr.span())?;
    let subs: Vec<&syn::Expr> = match &*ix.index {
        syn::Expr::Array(a) => a.elems.iter().collect(),
        syn::Expr::Tuple(t) => t.elems.iter().collect(),
        syn::Expr::Range(r) => {
            return Err(b.err(r.span(), "slicing is not supported in kernels yet: index single elements"))
        }
        e => vec![e],
    };
    load(b, arr, ix.expr.span(), &subs, ix.span())
}

/// `arr[[s0, s1, ..]]`: one element. A bare index variable used as the subscript of an axis
/// unifies that axis with the variable's range, so the load is provably in range.
pub(crate) fn load(b: &mut Builder, arr: NodeId, arr_span: Span, subs: &[&syn::Expr], span: Span) -> R<Val> {
    let ty = b.ty(arr).clone();
    if ty.rank() == 0 {
        let t = b.type_text(&ty);
        return Err(b.err(arr_span, format!("cannot index into a value of type `{t}`")));
    }
    if b.has_free_vars(arr) {
        return Err(b.err(arr_span, "internal error: indexing an array that depends on an index variable"));
    }
    if subs.len() != ty.rank() {
        let t = b.type_text(&ty);
        return Err(b.err(
            span,
            format!("wrong number of indices: `{t}` has {} axes, but {} indices were given", ty.rank(), subs.len()),
        ));
    }
    let mut idx = Vec::new();
    let mut failed = false;
    for (axis, s) in subs.iter().enumerate() {
        if let syn::Expr::Path(p) = s {
            if let Some(Binding::Index { extent, .. }) =
                p.path.get_ident().and_then(|id| b.lookup(&id.to_string())).cloned()
            {
                let d = ty.shape[axis];
                if let (Dim::Const(_), Dim::Const(_)) = (b.resolve(d), b.resolve(extent)) {
                    // Two constants: nothing to unify; the run-time check covers it.
                } else {
                    let _ = b.unify(d, extent);
                }
            }
        }
        let v = match lower_expr(b, s) {
            Ok(v) => v,
            Err(Fail) => {
                failed = true;
                continue;
            }
        };
        let n = match v {
            Val::Lit(Literal::Int(i)) if i >= 0 => b.konst(Literal::Int(i), ElemTy::I64),
            v => match node_of(b, v, s.span()) {
                Ok(n) => n,
                Err(Fail) => {
                    failed = true;
                    continue;
                }
            },
        };
        let st = b.ty(n).clone();
        if !st.elem.is_int() || st.rank() != 0 {
            let t = b.type_text(&st);
            b.err(s.span(), format!("array index must be an integer scalar, found `{t}`"));
            failed = true;
            continue;
        }
        idx.push(n);
    }
    if failed {
        return Err(Fail);
    }
    Ok(Val::Node(b.push(Op::Load { array: arr, indices: idx }, Type::scalar(ty.elem))))
}
