//! Array constructors and views as ndarray spells them, each lowered to a comprehension
//! ([`Op::Generate`]) over loads of its operands, so they fuse like any `from_shape_fn`:
//!
//! * `Array1::zeros(n)`, `Array2::ones((n, m))`, `Array2::from_elem((n, m), v)`,
//!   `Array1::linspace(a, b, n)` (ndarray's formula: `a + (b - a) / (n - 1) * i`) and
//!   `Array2::eye(n)`;
//! * `x.row(i)`, `x.column(j)` (any integer scalar index, checked at run time like `x[[i, j]]`);
//! * `x.into_shape_with_order((a, b))` / `x.to_shape((a, b))`: a row-major reshape whose
//!   element count must equal the operand's (constants are checked here; other extents when
//!   the kernel is called: a mismatch is a typed error naming both products);
//! * `concatenate![Axis(a), x, y, ..]` and `stack![Axis(a), x, y, ..]` (lazy selects pick the
//!   operand, so no operand is read out of its range);
//! * `x.diff(n, Axis(a))`: ndarray's `n`-th discrete difference.
//!
//! The element type of `zeros`, `ones` and `eye` is the turbofish's (`Array1::<f32>::zeros(n)`)
//! or, without one, the element type of the kernel's (first) return value: a stand-in for
//! rustc's inference, which kernels do not run.

use crate::build::{Builder, Val, R};
use crate::expr::{cast, check_no_free_array, lower_expr, node_of};
use crate::extent::{extent_arith, extent_of};
use kiln_ir::{BinOp, Dim, DimOp, ElemTy, Literal, NodeId, Op, Type, VarId};
use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;

type Args = Punctuated<syn::Expr, syn::Token![,]>;

/// The names `ArrayN::name(..)` this module constructs.
pub(crate) fn is_constructor(name: &str) -> bool {
    matches!(name, "zeros" | "ones" | "from_elem" | "linspace" | "eye")
}

/// The rank (`None` for `Array`) and element type (from a turbofish) that `ArrayN::<T>` names.
pub(crate) fn array_type(b: &mut Builder, seg: &syn::PathSegment) -> R<(Option<usize>, Option<ElemTy>)> {
    let tname = seg.ident.to_string();
    let rank = match tname.as_str() {
        "Array" => None,
        n => match n.strip_prefix("Array").and_then(|r| r.parse::<usize>().ok()) {
            Some(r) if (1..=3).contains(&r) => Some(r),
            _ => {
                return Err(b.err(
                    seg.span(),
                    format!("cannot find type `{tname}` in kiln kernels: use `Array1`, `Array2` or `Array3`"),
                ))
            }
        },
    };
    let elem = match &seg.arguments {
        syn::PathArguments::None => None,
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            syn::GenericArgument::Type(t) => {
                let g = b.generic.clone();
                match crate::sig::parse_elem(t, g.as_ref()) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        b.errors.push(e);
                        return Err(crate::build::Fail);
                    }
                }
            }
            _ => return Err(b.err(a.span(), "expected an element type like `::<f32>`")),
        },
        other => return Err(b.err(other.span(), "expected an element type like `::<f32>`")),
    };
    Ok((rank, elem))
}

/// The extents of a shape argument: `n`, `(n, m)` or the tuple `x.dim()` returns.
pub(crate) fn shape_extents(b: &mut Builder, e: &syn::Expr) -> R<Vec<Dim>> {
    let v = lower_expr(b, e)?;
    let span = e.span();
    match v {
        Val::Dims(ds) => Ok(ds),
        Val::Tuple(vs) => {
            let mut out = Vec::new();
            for (v, s) in vs {
                out.push(extent_of(b, v, s)?);
            }
            Ok(out)
        }
        v => Ok(vec![extent_of(b, v, span)?]),
    }
}

fn check_rank(b: &mut Builder, what: &str, want: Option<usize>, got: usize, span: Span) -> R<()> {
    match want {
        Some(r) if r != got => Err(
            b.err(span, format!("rank mismatch: `{what}` needs a shape with {r} dimension{}, found {got}", plural(r)))
        ),
        _ => Ok(()),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn index(b: &mut Builder, v: VarId) -> NodeId {
    b.push(Op::Index(v), Type::scalar(ElemTy::I64))
}

fn int(b: &mut Builder, i: i64) -> NodeId {
    b.konst(Literal::Int(i), ElemTy::I64)
}

fn i64_bin(b: &mut Builder, op: BinOp, x: NodeId, y: NodeId) -> NodeId {
    let elem = if op.is_comparison() { ElemTy::BOOL } else { ElemTy::I64 };
    b.push(Op::Binary(op, x, y), Type::scalar(elem))
}

fn dim_value(b: &mut Builder, d: Dim) -> NodeId {
    b.push(Op::DimValue(d), Type::scalar(ElemTy::I64))
}

/// A comprehension of `body` over `extents` with index variables `vars`.
fn generate(b: &mut Builder, vars: Vec<VarId>, extents: Vec<Dim>, body: NodeId, span: Span) -> R<Val> {
    let elem = b.ty(body).elem;
    let id = b.push(Op::Generate { vars, extents: extents.clone(), body }, Type::array(elem, extents));
    check_no_free_array(b, id, span)?;
    Ok(Val::Node(id))
}

/// The element type a constructor without a turbofish uses.
fn default_elem(b: &Builder) -> ElemTy {
    b.default_elem
}

/// `ArrayN::zeros(shape)`, `ones`, `from_elem(shape, v)`, `linspace(a, b, n)`, `eye(n)`.
pub(crate) fn lower_constructor(
    b: &mut Builder,
    seg: &syn::PathSegment,
    name: &str,
    args: &Args,
    span: Span,
) -> R<Val> {
    let (rank, elem) = array_type(b, seg)?;
    let tname = seg.ident.to_string();
    let what = format!("{tname}::{name}");
    let want = match name {
        "from_elem" => 2,
        "linspace" => 3,
        _ => 1,
    };
    if args.len() != want {
        let s = |n: usize| if n == 1 { "argument" } else { "arguments" };
        return Err(b.err(
            span,
            format!(
                "this function takes {want} {} but {} {} supplied",
                s(want),
                args.len(),
                if args.len() == 1 { "argument was" } else { "arguments were" }
            ),
        ));
    }
    match name {
        "zeros" | "ones" => {
            let extents = shape_extents(b, &args[0])?;
            check_rank(b, &what, rank, extents.len(), args[0].span())?;
            let elem = elem.unwrap_or_else(|| default_elem(b));
            let v = if name == "zeros" { 0 } else { 1 };
            let lit = if elem.is_bool() { Literal::Bool(v == 1) } else { Literal::Int(v) };
            let body = b.konst(lit, elem);
            let vars = extents.iter().map(|_| b.new_var()).collect();
            generate(b, vars, extents, body, span)
        }
        "from_elem" => {
            let extents = shape_extents(b, &args[0])?;
            check_rank(b, &what, rank, extents.len(), args[0].span())?;
            let v = lower_expr(b, &args[1])?;
            let vspan = args[1].span();
            let v = match (v, elem) {
                (v, Some(e)) => cast_lit(b, v, e, vspan)?,
                (Val::Lit(l), None) => {
                    let d = default_elem(b);
                    let fits = match l {
                        Literal::Float(_) => d.is_float(),
                        Literal::Int(_) => !d.is_bool(),
                        Literal::Bool(_) => d.is_bool(),
                    };
                    if fits {
                        b.konst(l, d)
                    } else {
                        node_of(b, Val::Lit(l), vspan)?
                    }
                }
                (v, None) => node_of(b, v, vspan)?,
            };
            if b.ty(v).rank() != 0 {
                let t = b.type_text(&b.ty(v).clone());
                return Err(b.err(vspan, format!("the element of `{what}` must be a scalar, found `{t}`")));
            }
            if let Some(e) = elem {
                if b.ty(v).elem != e {
                    let (w, f) = (b.elem_text(e), b.elem_text(b.ty(v).elem));
                    return Err(b.err(vspan, format!("mismatched types: expected `{w}`, found `{f}`")));
                }
            }
            let vars = extents.iter().map(|_| b.new_var()).collect();
            generate(b, vars, extents, v, span)
        }
        "eye" => {
            check_rank(b, &what, rank, 2, span)?;
            let n = shape_extents(b, &args[0])?;
            let [n] = n[..] else {
                return Err(b.err(args[0].span(), "`eye` takes one size `n` (the matrix is `n x n`)"));
            };
            let elem = elem.unwrap_or_else(|| default_elem(b));
            if elem.is_bool() {
                return Err(b.err(span, "`eye` needs a numeric element type, found `bool`"));
            }
            let (i, j) = (b.new_var(), b.new_var());
            let (ii, jj) = (index(b, i), index(b, j));
            let diag = i64_bin(b, BinOp::Eq, ii, jj);
            let one = b.konst(Literal::Int(1), elem);
            let zero = b.konst(Literal::Int(0), elem);
            let body = b.push(Op::Select(diag, one, zero), Type::scalar(elem));
            generate(b, vec![i, j], vec![n, n], body, span)
        }
        "linspace" => {
            check_rank(b, &what, rank, 1, span)?;
            linspace(b, elem, args, span)
        }
        _ => Err(b.err(span, format!("internal error: unknown constructor `{name}`"))),
    }
}

/// A literal given the element type `e`; any other value as it is.
fn cast_lit(b: &mut Builder, v: Val, e: ElemTy, span: Span) -> R<NodeId> {
    match v {
        Val::Lit(l) => {
            let v = cast(b, Val::Lit(l), e, span, span)?;
            node_of(b, v, span)
        }
        v => node_of(b, v, span),
    }
}

/// `Array1::linspace(a, b, n)` as ndarray computes it: `a + step * i` with
/// `step = (b - a) / (n - 1)` (0 when `n <= 1`).
fn linspace(b: &mut Builder, elem: Option<ElemTy>, args: &Args, span: Span) -> R<Val> {
    let (sa, sb, sn) = (args[0].span(), args[1].span(), args[2].span());
    let lo = lower_expr(b, &args[0])?;
    let hi = lower_expr(b, &args[1])?;
    let n = lower_expr(b, &args[2])?;
    let n = extent_of(b, n, sn)?;
    // The float type: the turbofish's, else the bounds' (literals adopt the other bound's),
    // else the kernel's return element type.
    let elem = match (elem, &lo, &hi) {
        (Some(e), _, _) => e,
        (None, Val::Lit(_), Val::Lit(_)) => default_elem(b),
        (None, Val::Lit(_), h) => {
            let h = node_of(b, h.clone(), sb)?;
            b.ty(h).elem
        }
        (None, l, _) => {
            let l = node_of(b, l.clone(), sa)?;
            b.ty(l).elem
        }
    };
    if !elem.is_float() {
        let t = b.elem_text(elem);
        return Err(b.err(span, format!("`linspace` needs a float element type, found `{t}`")));
    }
    let lo = cast_lit(b, lo, elem, sa)?;
    let hi = cast_lit(b, hi, elem, sb)?;
    for (x, s) in [(lo, sa), (hi, sb)] {
        let t = b.ty(x).clone();
        if t.rank() != 0 || t.elem != elem {
            let (w, f) = (b.elem_text(elem), b.type_text(&t));
            return Err(b.err(s, format!("mismatched types: `linspace` expected a `{w}` bound, found `{f}`")));
        }
    }
    let nv = dim_value(b, n);
    let one = int(b, 1);
    let steps = i64_bin(b, BinOp::Sub, nv, one);
    let steps_f = b.push(Op::Cast(steps), Type::scalar(elem));
    let width = b.push(Op::Binary(BinOp::Sub, hi, lo), Type::scalar(elem));
    let step = b.push(Op::Binary(BinOp::Div, width, steps_f), Type::scalar(elem));
    let several = i64_bin(b, BinOp::Gt, nv, one);
    let zero = b.konst(Literal::Float(0.0), elem);
    let step = b.push(Op::Select(several, step, zero), Type::scalar(elem));
    let i = b.new_var();
    let ii = index(b, i);
    let fi = b.push(Op::Cast(ii), Type::scalar(elem));
    let off = b.push(Op::Binary(BinOp::Mul, step, fi), Type::scalar(elem));
    let body = b.push(Op::Binary(BinOp::Add, lo, off), Type::scalar(elem));
    generate(b, vec![i], vec![n], body, span)
}

/// An integer scalar index argument as an `i64` node.
fn index_arg(b: &mut Builder, e: &syn::Expr, what: &str) -> R<NodeId> {
    let v = lower_expr(b, e)?;
    let n = match v {
        Val::Lit(Literal::Int(i)) => int(b, i),
        v => node_of(b, v, e.span())?,
    };
    let t = b.ty(n).clone();
    if t.rank() != 0 || !t.elem.is_int() {
        let tt = b.type_text(&t);
        return Err(b.err(e.span(), format!("the index of `{what}` must be an integer scalar, found `{tt}`")));
    }
    if t.elem == ElemTy::I64 {
        Ok(n)
    } else {
        Ok(b.push(Op::Cast(n), Type::scalar(ElemTy::I64)))
    }
}

/// `x.row(i)` / `x.column(j)` of a 2-d array.
pub(crate) fn row_or_column(b: &mut Builder, x: NodeId, name: &str, arg: &syn::Expr, span: Span) -> R<Val> {
    let ty = b.ty(x).clone();
    if ty.rank() != 2 {
        let t = b.type_text(&ty);
        return Err(b.err(span, format!("rank mismatch: `{name}()` needs a 2-d array, found `{t}`")));
    }
    let fixed = index_arg(b, arg, name)?;
    let k = b.new_var();
    let kk = index(b, k);
    let (indices, extent) = if name == "row" { (vec![fixed, kk], ty.shape[1]) } else { (vec![kk, fixed], ty.shape[0]) };
    let body = b.push(Op::Load { array: x, indices }, Type::scalar(ty.elem));
    generate(b, vec![k], vec![extent], body, span)
}

/// The product of `dims` as a dimension (`1` for none).
fn product(b: &mut Builder, dims: &[Dim], span: Span) -> R<Dim> {
    let mut acc = Dim::Const(1);
    for &d in dims {
        acc = extent_arith(b, DimOp::Mul, acc, d, span)?;
    }
    Ok(acc)
}

/// `x.into_shape_with_order(shape)` / `x.to_shape(shape)`: the row-major reshape.
pub(crate) fn reshape(b: &mut Builder, x: NodeId, name: &str, arg: &syn::Expr, span: Span) -> R<Val> {
    let ty = b.ty(x).clone();
    if ty.rank() == 0 {
        let t = b.type_text(&ty);
        return Err(b.err(span, format!("rank mismatch: `{name}` needs an array, found `{t}`")));
    }
    let target = shape_extents(b, arg)?;
    if !(1..=3).contains(&target.len()) {
        return Err(b.err(arg.span(), format!("`{name}` makes arrays of 1 to 3 dimensions, found {}", target.len())));
    }
    let from = product(b, &ty.shape, span)?;
    let to = product(b, &target, arg.span())?;
    let (rf, rt) = (b.resolve(from), b.resolve(to));
    if rf != rt {
        if let (Dim::Const(p), Dim::Const(q)) = (rf, rt) {
            let (s, t) = (b.shape_text(&ty.shape), b.shape_text(&target));
            return Err(b.err(
                arg.span(),
                format!("`{name}` cannot reshape an array of shape {s} ({p} elements) into shape {t} ({q} elements)"),
            ));
        }
        b.require_equal(rf, rt, arg.span());
    }
    // The flat position of the target element, then the operand's indices of that position.
    let vars: Vec<VarId> = target.iter().map(|_| b.new_var()).collect();
    let mut flat: Option<NodeId> = None;
    for (&v, &d) in vars.iter().zip(&target) {
        let iv = index(b, v);
        flat = Some(match flat {
            None => iv,
            Some(f) => {
                let dv = dim_value(b, d);
                let m = i64_bin(b, BinOp::Mul, f, dv);
                i64_bin(b, BinOp::Add, m, iv)
            }
        });
    }
    let Some(flat) = flat else {
        return Err(b.err(span, "internal error: empty reshape"));
    };
    let mut indices = Vec::with_capacity(ty.rank());
    let mut rest = flat;
    for a in (0..ty.rank()).rev() {
        if a == 0 {
            indices.push(rest);
        } else {
            let dv = dim_value(b, ty.shape[a]);
            let r = i64_bin(b, BinOp::Rem, rest, dv);
            indices.push(r);
            rest = i64_bin(b, BinOp::Div, rest, dv);
        }
    }
    indices.reverse();
    let body = b.push(Op::Load { array: x, indices }, Type::scalar(ty.elem));
    generate(b, vars, target, body, span)
}

/// `x.diff(n, Axis(a))`: `n` times the first difference `y[.., k, ..] = x[.., k + 1, ..] -
/// x[.., k, ..]` along axis `a` (the axis shrinks by `n`; shorter than `n` is an error).
pub(crate) fn diff(b: &mut Builder, x: NodeId, n: u64, axis: u32, span: Span) -> R<Val> {
    let ty = b.ty(x).clone();
    if !(ty.elem.is_float() || ty.elem.is_int()) {
        let t = b.elem_text(ty.elem);
        return Err(b.err(span, format!("`diff` needs a numeric array, found `{t}` elements")));
    }
    let mut cur = x;
    for _ in 0..n {
        let shape = b.ty(cur).shape.clone();
        let mut out = shape.clone();
        out[axis as usize] = extent_arith(b, DimOp::Sub, shape[axis as usize], Dim::Const(1), span)?;
        let vars: Vec<VarId> = shape.iter().map(|_| b.new_var()).collect();
        let idx: Vec<NodeId> = vars.iter().map(|&v| index(b, v)).collect();
        let one = int(b, 1);
        let mut next = idx.clone();
        next[axis as usize] = i64_bin(b, BinOp::Add, idx[axis as usize], one);
        let hi = b.push(Op::Load { array: cur, indices: next }, Type::scalar(ty.elem));
        let lo = b.push(Op::Load { array: cur, indices: idx }, Type::scalar(ty.elem));
        let body = b.push(Op::Binary(BinOp::Sub, hi, lo), Type::scalar(ty.elem));
        let Val::Node(id) = generate(b, vars, out, body, span)? else {
            return Err(b.err(span, "internal error: diff"));
        };
        cur = id;
    }
    Ok(Val::Node(cur))
}

/// `concatenate![Axis(a), x, y, ..]`, `stack![Axis(a), x, y, ..]` and `array![..]`.
pub(crate) fn lower_macro(b: &mut Builder, m: &syn::Macro) -> R<Val> {
    let name = m.path.get_ident().map(ToString::to_string).unwrap_or_default();
    let span = m.span();
    if name == "array" {
        return array_literal(b, m);
    }
    if name != "concatenate" && name != "stack" {
        let hint = if name == "s" {
            " (`s![..]` is the argument of `x.slice(..)`)"
        } else {
            " (kernels take `array![..]`, `concatenate![Axis(a), x, y]`, `stack![Axis(a), x, y]` and `s![..]` inside `slice`)"
        };
        return Err(b.err(m.path.span(), format!("the macro `{name}!` is not supported inside a kernel{hint}")));
    }
    let parts = m
        .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        .map_err(|e| b.err(e.span(), format!("expected `{name}![Axis(a), x, y, ..]`: {e}")))?;
    if parts.len() < 2 {
        return Err(b.err(span, format!("`{name}!` needs an axis and at least one array: `{name}![Axis(a), x, y]`")));
    }
    let arrays: Vec<&syn::Expr> = parts.iter().skip(1).collect();
    join(b, &name, &format!("{name}!"), &parts[0], &arrays, span)
}

/// Whether a call's path names ndarray's `concatenate` / `stack` functions (`concatenate`,
/// `ndarray::concatenate`, ..): the function forms of the join macros.
pub(crate) fn join_function(path: &syn::Path) -> Option<&'static str> {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let name = match segs.last()?.as_str() {
        "concatenate" => "concatenate",
        "stack" => "stack",
        _ => return None,
    };
    (segs.len() == 1 || (segs.len() == 2 && segs[0] == "ndarray")).then_some(name)
}

/// `ndarray::concatenate(Axis(a), &[x.view(), y.view()])` and `ndarray::stack(Axis(a), &[..])`:
/// the same join as the macros. ndarray returns a `Result` (an error when the shapes do not
/// fit); in a kernel the shapes are checked when it is built or called, so the value is the
/// array, with or without `.unwrap()` / `.expect("..")`.
pub(crate) fn lower_join_call(b: &mut Builder, name: &str, c: &syn::ExprCall) -> R<Val> {
    let span = c.span();
    let form = format!("{name}(Axis(a), &[x.view(), y.view()])");
    if c.args.len() != 2 {
        return Err(b.err(span, format!("`{name}` takes an axis and a slice of arrays: `{form}`")));
    }
    let list = match &c.args[1] {
        syn::Expr::Reference(r) => &*r.expr,
        e => e,
    };
    let syn::Expr::Array(list) = list else {
        return Err(b.err(c.args[1].span(), format!("the arrays of `{name}` must be written out as a slice: `{form}`")));
    };
    if list.elems.is_empty() {
        return Err(b.err(list.span(), format!("`{name}` needs at least one array: `{form}`")));
    }
    let arrays: Vec<&syn::Expr> = list.elems.iter().collect();
    join(b, name, name, &c.args[0], &arrays, span)
}

/// The join of `arrays` along `axis` (`name` is `concatenate` or `stack`; `what` is how the
/// user spelled it, for messages): lazy selects pick the operand.
fn join(b: &mut Builder, name: &str, what: &str, axis: &syn::Expr, exprs: &[&syn::Expr], span: Span) -> R<Val> {
    let mut arrays = Vec::new();
    for e in exprs {
        let v = lower_expr(b, e)?;
        let id = node_of(b, v, e.span())?;
        arrays.push((id, e.span()));
    }
    let t0 = b.ty(arrays[0].0).clone();
    let rank = t0.rank();
    if rank == 0 {
        let t = b.type_text(&t0);
        return Err(b.err(arrays[0].1, format!("`{what}` joins arrays, found `{t}`")));
    }
    let axis = crate::calls::axis_arg(b, axis, rank, name == "stack")?;
    for &(id, s) in &arrays[1..] {
        let t = b.ty(id).clone();
        if t.elem != t0.elem || t.rank() != rank {
            let (a, c) = (b.type_text(&t0), b.type_text(&t));
            return Err(b.err(s, format!("mismatched types: `{what}` of `{a}` and `{c}`")));
        }
        for k in 0..rank {
            if name == "concatenate" && k == axis as usize {
                continue;
            }
            if b.unify(t0.shape[k], t.shape[k]).is_err() {
                let (p, q) = (b.shape_text(&t0.shape), b.shape_text(&t.shape));
                let why =
                    if name == "stack" { "all arrays must have the same shape" } else { "the other axes must agree" };
                return Err(
                    b.err(s, format!("shapes {p} and {q} cannot be joined by `{what}` along axis {axis}: {why}"))
                );
            }
        }
    }
    let base = b.ty(arrays[0].0).shape.clone();
    let a = axis as usize;
    let mut out = base.clone();
    if name == "concatenate" {
        let mut total = Dim::Const(0);
        for &(id, _) in &arrays {
            let d = b.ty(id).shape[a];
            total = extent_arith(b, DimOp::Add, total, d, span)?;
        }
        out[a] = total;
    } else {
        out.insert(a, Dim::Const(arrays.len() as u64));
    }
    let vars: Vec<VarId> = out.iter().map(|_| b.new_var()).collect();
    let elem = t0.elem;
    // Operands from the last to the first: `select(k < end_0, x_0[..], select(k < end_1, ..))`.
    let mut starts = Vec::with_capacity(arrays.len());
    let mut at = int(b, 0);
    for &(id, _) in &arrays {
        starts.push(at);
        if name == "concatenate" {
            let len = b.ty(id).shape[a];
            let d = dim_value(b, len);
            at = i64_bin(b, BinOp::Add, at, d);
        }
    }
    let mut body: Option<NodeId> = None;
    for (p, &(id, _)) in arrays.iter().enumerate().rev() {
        let k = index(b, vars[a]);
        let mut idx: Vec<NodeId> = Vec::with_capacity(rank);
        for (q, &v) in vars.iter().enumerate() {
            if q == a {
                if name == "concatenate" {
                    idx.push(i64_bin(b, BinOp::Sub, k, starts[p]));
                }
            } else {
                idx.push(index(b, v));
            }
        }
        let load = b.push(Op::Load { array: id, indices: idx }, Type::scalar(elem));
        body = Some(match body {
            None => load,
            Some(later) => {
                let cond = if name == "concatenate" {
                    let end = if p + 1 < starts.len() { starts[p + 1] } else { at };
                    i64_bin(b, BinOp::Lt, k, end)
                } else {
                    let pk = int(b, p as i64);
                    i64_bin(b, BinOp::Eq, k, pk)
                };
                b.push(Op::Select(cond, load, later), Type::scalar(elem))
            }
        });
    }
    let Some(body) = body else {
        return Err(b.err(span, "internal error: empty join"));
    };
    generate(b, vars, out, body, span)
}

/// `array![a, b, ..]`, `array![[a, b], [c, d]]` (any depth): an array of constant shape whose
/// elements are scalar expressions (constants, usually), lowered to a comprehension whose body
/// selects the element by its index (lazily, one select per element). The element type is
/// the first typed element's, which literals adopt; with literals only, floats take the
/// kernel's float type (as `from_elem` does), integers `i64`.
fn array_literal(b: &mut Builder, m: &syn::Macro) -> R<Val> {
    let span = m.span();
    let parts = m
        .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        .map_err(|e| b.err(e.span(), format!("expected `array![a, b, ..]` or `array![[a, b], [c, d]]`: {e}")))?;
    let parts: Vec<&syn::Expr> = parts.iter().collect();
    let mut shape = Vec::new();
    let mut leaves = Vec::new();
    // The rank: the nesting along the first entries; every level must nest alike.
    let mut rank = 1;
    let mut first = parts.first().copied();
    while let Some(syn::Expr::Array(a)) = first {
        rank += 1;
        first = a.elems.first();
    }
    literal_leaves(b, &parts, 0, rank, &mut shape, &mut leaves, span)?;
    if leaves.len() != shape.iter().product::<usize>() {
        return Err(b.err(span, "inconsistent nesting in `array![..]`: every row of a level must have the same depth"));
    }
    let mut vals = Vec::with_capacity(leaves.len());
    for e in &leaves {
        vals.push((lower_expr(b, e)?, e.span()));
    }
    let elem = match vals.iter().find_map(|(v, _)| if let Val::Node(id) = v { Some(*id) } else { None }) {
        Some(id) => b.ty(id).elem,
        None if vals.iter().any(|(v, _)| matches!(v, Val::Lit(Literal::Float(_)))) => {
            let d = default_elem(b);
            if d.is_float() {
                d
            } else {
                ElemTy::F64
            }
        }
        None if vals.iter().all(|(v, _)| matches!(v, Val::Lit(Literal::Bool(_)))) => ElemTy::BOOL,
        None => ElemTy::I64,
    };
    let mut nodes = Vec::with_capacity(vals.len());
    for (v, s) in vals {
        if let Val::Lit(l) = &v {
            let fits = match l {
                Literal::Float(_) => elem.is_float(),
                Literal::Int(_) => !elem.is_bool(),
                Literal::Bool(_) => elem.is_bool(),
            };
            if !fits {
                let what = match l {
                    Literal::Float(_) => "a floating-point number",
                    Literal::Int(_) => "an integer",
                    Literal::Bool(_) => "`bool`",
                };
                let w = b.elem_text(elem);
                return Err(b.err(
                    s,
                    format!(
                        "mismatched types: expected `{w}`, found {what} (every element of `array![..]` has one type)"
                    ),
                ));
            }
        }
        let id = cast_lit(b, v, elem, s)?;
        let t = b.ty(id).clone();
        if t.rank() != 0 {
            let t = b.type_text(&t);
            return Err(b.err(s, format!("the elements of `array![..]` must be scalars, found `{t}`")));
        }
        if t.elem != elem {
            let (w, f) = (b.elem_text(elem), b.elem_text(t.elem));
            return Err(b.err(
                s,
                format!("mismatched types: expected `{w}`, found `{f}` (every element of `array![..]` has one type)"),
            ));
        }
        nodes.push(id);
    }
    let vars: Vec<VarId> = shape.iter().map(|_| b.new_var()).collect();
    let idx: Vec<NodeId> = vars.iter().map(|&v| index(b, v)).collect();
    let body = select_element(b, &idx, &shape, &nodes, elem);
    let extents = shape.iter().map(|n| Dim::Const(*n as u64)).collect();
    generate(b, vars, extents, body, span)
}

/// The leaves of a nested `array!` literal in row-major order, and its shape; rows of one
/// level must have one length, and every entry above the `rank`-th level is a `[..]` row.
fn literal_leaves<'e>(
    b: &mut Builder,
    items: &[&'e syn::Expr],
    depth: usize,
    rank: usize,
    shape: &mut Vec<usize>,
    leaves: &mut Vec<&'e syn::Expr>,
    span: Span,
) -> R<()> {
    if items.is_empty() {
        return Err(b.err(span, "an empty `array![]` has no element type or length to build (use `Array1::zeros(0)`)"));
    }
    let nested = depth + 1 < rank;
    match shape.get(depth) {
        Some(&n) if n != items.len() => {
            return Err(b.err(
                span,
                format!(
                    "inconsistent lengths in `array![..]`: a row of {} element{} where the first has {n}",
                    items.len(),
                    plural(items.len())
                ),
            ))
        }
        Some(_) => {}
        None => shape.push(items.len()),
    }
    for e in items {
        match (e, nested) {
            (syn::Expr::Array(a), true) => {
                let inner: Vec<&syn::Expr> = a.elems.iter().collect();
                literal_leaves(b, &inner, depth + 1, rank, shape, leaves, a.span())?;
            }
            (_, false) if !matches!(e, syn::Expr::Array(_)) => leaves.push(e),
            _ => {
                return Err(b.err(
                    e.span(),
                    "mixed rows and elements in `array![..]`: every entry of a level is a `[..]` row, or none is",
                ))
            }
        }
    }
    Ok(())
}

/// `select(i0 == 0, <row 0>, select(i0 == 1, <row 1>, .. <last row>))`, recursively.
fn select_element(b: &mut Builder, idx: &[NodeId], shape: &[usize], nodes: &[NodeId], elem: ElemTy) -> NodeId {
    let Some((&n, inner)) = shape.split_first() else { return nodes[0] };
    let step = nodes.len() / n.max(1);
    let mut acc = select_element(b, &idx[1..], inner, &nodes[(n - 1) * step..], elem);
    for k in (0..n - 1).rev() {
        let row = select_element(b, &idx[1..], inner, &nodes[k * step..(k + 1) * step], elem);
        let kk = int(b, k as i64);
        let cond = i64_bin(b, BinOp::Eq, idx[0], kk);
        acc = b.push(Op::Select(cond, row, acc), Type::scalar(elem));
    }
    acc
}
