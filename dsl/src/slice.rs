//! Slicing: `x.slice(s![..])` and `x.slice_axis(Axis(k), Slice::from(a..b))`, with
//! ndarray's forms (`..`, `a..`, `..b`, `a..b`, `a..=b`, `;step`, an integer index that drops
//! its axis, negative bounds counting from the end) and bounds that are integer literals or
//! scalar integer parameters.
//!
//! A slice is one [`Op::Slice`] node. Its range axes get the length
//! [`kiln_ir::shapes::slice_dim`] gives: a constant, the operand's own dimension, or a derived
//! symbol ([`Builder::derived_sym`]). Bounds out of range on a constant axis are reported here
//! with the span of the entry; on a symbolic axis they are a typed error when the kernel is
//! called (ndarray panics in both cases).

use crate::build::{Binding, Builder, Val, R};
use crate::expr::push_elementwise;
use kiln_ir::shapes::{resolve_index, slice_dim, SliceDim};
use kiln_ir::{AxisSlice, Dim, NodeId, Op, SliceBound, SliceRange, Type};
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::spanned::Spanned;

/// One parsed entry of `s![]`, with its span.
struct Entry {
    slice: AxisSlice,
    span: Span,
}

/// `x.slice(s![e0, e1, ..])`: one entry per axis of `x`.
pub(crate) fn lower_slice(b: &mut Builder, x: NodeId, arg: &syn::Expr, mspan: Span) -> R<Val> {
    let syn::Expr::Macro(m) = arg else {
        return Err(b.err(arg.span(), "expected `s![..]` as the argument of `slice`"));
    };
    if !m.mac.path.is_ident("s") {
        return Err(b.err(m.mac.path.span(), "expected `s![..]` as the argument of `slice`"));
    }
    let mut entries = vec![];
    for part in split_top(m.mac.tokens.clone(), ',') {
        if part.is_empty() {
            continue;
        }
        entries.push(entry(b, part)?);
    }
    let rank = b.ty(x).rank();
    if entries.len() != rank {
        let t = b.type_text(&b.ty(x).clone());
        return Err(b.err(
            m.span(),
            format!(
                "this `s![]` has {} entr{} but the array is `{t}` of rank {rank}: give one entry per axis",
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" }
            ),
        ));
    }
    push_slice(b, x, entries, mspan)
}

/// `x.slice_axis(Axis(k), Slice::from(range))` (or `Slice::new(start, end, step)`).
pub(crate) fn lower_slice_axis(b: &mut Builder, x: NodeId, k: u32, arg: &syn::Expr, mspan: Span) -> R<Val> {
    let call = match arg {
        syn::Expr::Call(c) => c,
        _ => return Err(b.err(arg.span(), "expected `Slice::from(a..b)` or `Slice::new(start, end, step)`")),
    };
    let name = match &*call.func {
        syn::Expr::Path(p) => p.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::"),
        _ => String::new(),
    };
    let slice = match (name.as_str(), call.args.len()) {
        ("Slice::from", 1) => AxisSlice::Range(range(b, &call.args[0], None)?),
        ("Slice::new", 3) => {
            let start = bound(b, &call.args[0])?;
            let end = option_bound(b, &call.args[1])?;
            let step = step_literal(b, &call.args[2])?;
            AxisSlice::Range(SliceRange { start: Some(start), end, step })
        }
        _ => return Err(b.err(arg.span(), "expected `Slice::from(a..b)` or `Slice::new(start, end, step)`")),
    };
    let rank = b.ty(x).rank();
    let entries = (0..rank)
        .map(|a| Entry {
            slice: if a == k as usize { slice } else { AxisSlice::Range(SliceRange::FULL) },
            span: arg.span(),
        })
        .collect();
    push_slice(b, x, entries, mspan)
}

/// The slice node for `entries` (one per axis of `x`), with its result type.
fn push_slice(b: &mut Builder, x: NodeId, entries: Vec<Entry>, mspan: Span) -> R<Val> {
    let ty = b.ty(x).clone();
    let mut shape = vec![];
    for (axis, (e, &d)) in entries.iter().zip(&ty.shape).enumerate() {
        let d = b.resolve(d);
        match e.slice {
            AxisSlice::Index(SliceBound::Const(i)) => {
                if let Dim::Const(n) = d {
                    if resolve_index(n as usize, i).is_none() {
                        return Err(b.err(e.span, format!("index {i} is out of range for axis {axis} of length {n}")));
                    }
                }
            }
            AxisSlice::Index(SliceBound::Param(_)) => {}
            AxisSlice::Range(r) => match slice_dim(d, &r) {
                Ok(SliceDim::Dim(x)) => shape.push(x),
                Ok(SliceDim::Derived(of, canon)) => shape.push(b.derived_sym(of, canon, e.span)),
                Err(why) => return Err(b.err(e.span, format!("{why} (axis {axis})"))),
            },
        }
    }
    let axes = entries.iter().map(|e| e.slice).collect();
    push_elementwise(b, Op::Slice(x, axes), Type::array(ty.elem, shape), mspan).map(Val::Node)
}

/// Split a token stream at top-level `sep` punctuation.
fn split_top(tokens: TokenStream, sep: char) -> Vec<TokenStream> {
    let mut parts = vec![TokenStream::new()];
    for t in tokens {
        match &t {
            TokenTree::Punct(p) if p.as_char() == sep => parts.push(TokenStream::new()),
            _ => {
                if let Some(last) = parts.last_mut() {
                    last.extend([t]);
                }
            }
        }
    }
    parts
}

/// One `s![]` entry: `range`, `range;step` or an index.
fn entry(b: &mut Builder, tokens: TokenStream) -> R<Entry> {
    let span = tokens.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
    let mut parts = split_top(tokens, ';').into_iter();
    let main = parts.next().unwrap_or_default();
    let step = match parts.next() {
        Some(s) => {
            let e: syn::Expr =
                syn::parse2(s).map_err(|e| b.err(e.span(), "expected an integer literal step after `;`"))?;
            Some(step_literal(b, &e)?)
        }
        None => None,
    };
    if let Some(extra) = parts.next() {
        let sp = extra.into_iter().next().map_or(span, |t| t.span());
        return Err(b.err(sp, "an `s![]` entry has at most one `;step`"));
    }
    let e: syn::Expr = syn::parse2(main).map_err(|e| b.err(e.span(), "expected a range (`a..b`) or an index"))?;
    let span = e.span();
    let slice = match &e {
        syn::Expr::Range(_) => AxisSlice::Range(range(b, &e, step)?),
        _ => {
            if step.is_some() {
                return Err(b.err(span, "an index takes no step: write a range (`a..b;step`)"));
            }
            AxisSlice::Index(bound(b, &e)?)
        }
    };
    Ok(Entry { slice, span })
}

/// `a..b`, `a..=b` and their open forms, with an optional step.
fn range(b: &mut Builder, e: &syn::Expr, step: Option<i64>) -> R<SliceRange> {
    let syn::Expr::Range(r) = e else {
        return Err(b.err(e.span(), "expected a range (`a..b`, `a..`, `..b`, `..`)"));
    };
    let start = match &r.start {
        Some(s) => Some(bound(b, s)?),
        None => None,
    };
    let end = match (&r.end, &r.limits) {
        (None, _) => None,
        (Some(x), syn::RangeLimits::HalfOpen(_)) => Some(bound(b, x)?),
        (Some(x), syn::RangeLimits::Closed(_)) => match bound(b, x)? {
            // As ndarray: `..=-1` runs to the end.
            SliceBound::Const(-1) => None,
            SliceBound::Const(c) => match c.checked_add(1) {
                Some(c) => Some(SliceBound::Const(c)),
                None => return Err(b.err(x.span(), "this inclusive end overflows i64")),
            },
            SliceBound::Param(_) => {
                return Err(b.err(x.span(), "an inclusive end (`..=`) must be an integer literal; use `..` with `k`"))
            }
        },
    };
    Ok(SliceRange { start, end, step: step.unwrap_or(1) })
}

/// `None` or `Some(bound)` (the `end` of `Slice::new`).
fn option_bound(b: &mut Builder, e: &syn::Expr) -> R<Option<SliceBound>> {
    match e {
        syn::Expr::Path(p) if p.path.is_ident("None") => Ok(None),
        syn::Expr::Call(c)
            if matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Some")) && c.args.len() == 1 =>
        {
            Ok(Some(bound(b, &c.args[0])?))
        }
        _ => Err(b.err(e.span(), "expected `None` or `Some(end)`")),
    }
}

/// A nonzero integer literal, possibly negative (a slice step).
fn step_literal(b: &mut Builder, e: &syn::Expr) -> R<i64> {
    match int_literal(e) {
        Some(0) => Err(b.err(e.span(), "a slice step must not be zero")),
        Some(s) => Ok(s),
        None => Err(b.err(e.span(), "a slice step must be an integer literal")),
    }
}

/// The value of an integer literal, `-literal` or a parenthesized one.
fn int_literal(e: &syn::Expr) -> Option<i64> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse::<i64>().ok(),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => int_literal(&u.expr).and_then(i64::checked_neg),
        syn::Expr::Paren(p) => int_literal(&p.expr),
        syn::Expr::Group(g) => int_literal(&g.expr),
        _ => None,
    }
}

/// A start, end or index: an integer literal or the name of a scalar integer parameter.
fn bound(b: &mut Builder, e: &syn::Expr) -> R<SliceBound> {
    if let Some(v) = int_literal(e) {
        return Ok(SliceBound::Const(v));
    }
    if let syn::Expr::Path(p) = e {
        if let Some(id) = p.path.get_ident() {
            let param = match b.lookup(&id.to_string()) {
                Some(Binding::Val(Val::Node(n))) => match &b.prog.node(*n).op {
                    Op::Param(k) if b.ty(*n).is_scalar() && b.ty(*n).elem.is_int() => Some(*k),
                    _ => None,
                },
                _ => None,
            };
            if let Some(k) = param {
                return Ok(SliceBound::Param(k));
            }
            return Err(b.err(
                e.span(),
                format!("slice bound `{id}` must be an integer literal or a scalar integer parameter of the kernel"),
            ));
        }
    }
    Err(b.err(e.span(), "slice bounds must be integer literals or scalar integer parameters of the kernel"))
}
