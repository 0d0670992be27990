//! Methods and free functions: elementwise math, reductions along axes and over whole arrays
//! (with `mean`, `var`/`std` and `logsumexp` desugared into primitive ops), `dot`, `.t()`,
//! `insert_axis`, shape queries (`dim`, `len`, ...), `mapv`, `from_shape_fn` comprehensions
//! and range reductions `sum(0..n, |i| ...)`.

use crate::build::{Binding, Builder, Val, R};
use crate::expr::{binary, cast, check_no_free_array, lower_expr, node_of, push_elementwise, select, unary};
use kiln_ir::{BinOp, Dim, ElemTy, Literal, NodeId, Op, ReduceOp, Type, UnOp, VarId};
use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;

type Args = Punctuated<syn::Expr, syn::Token![,]>;

fn unop_by_name(name: &str) -> Option<UnOp> {
    Some(match name {
        "exp" => UnOp::Exp,
        "ln" => UnOp::Ln,
        "log1p" | "ln_1p" => UnOp::Log1p,
        "exp_m1" => UnOp::Expm1,
        "exp2" => UnOp::Exp2,
        "log2" => UnOp::Log2,
        "log10" => UnOp::Log10,
        "tan" => UnOp::Tan,
        "atan" => UnOp::Atan,
        "sinh" => UnOp::Sinh,
        "cosh" => UnOp::Cosh,
        "asinh" => UnOp::Asinh,
        "acosh" => UnOp::Acosh,
        "atanh" => UnOp::Atanh,
        "cbrt" => UnOp::Cbrt,
        "round" => UnOp::Round,
        "trunc" => UnOp::Trunc,
        "signum" => UnOp::Signum,
        // Not in stable std: C99 libm's names (nightly std's `f64::erf`, the `libm` crate).
        "erf" => UnOp::Erf,
        "erfc" => UnOp::Erfc,
        "sqrt" => UnOp::Sqrt,
        "rsqrt" => UnOp::Rsqrt,
        "abs" => UnOp::Abs,
        "sin" => UnOp::Sin,
        "cos" => UnOp::Cos,
        "tanh" => UnOp::Tanh,
        "sigmoid" => UnOp::Sigmoid,
        "floor" => UnOp::Floor,
        "ceil" => UnOp::Ceil,
        _ => return None,
    })
}

fn reduce_by_name(name: &str) -> Option<ReduceOp> {
    Some(match name {
        "sum" => ReduceOp::Sum,
        "prod" => ReduceOp::Prod,
        "min" => ReduceOp::Min,
        "max" => ReduceOp::Max,
        "argmin" => ReduceOp::ArgMin,
        "argmax" => ReduceOp::ArgMax,
        _ => return None,
    })
}

/// The number of arguments each method takes (`min`/`max` take 0 or 1).
fn method_arity(name: &str) -> Option<&'static [usize]> {
    Some(match name {
        n if unop_by_name(n).is_some() => &[0],
        "min" | "max" => &[0, 1],
        "sum" | "prod" | "argmin" | "argmax" | "mean" | "logsumexp" | "t" | "reversed_axes" | "dim" | "len"
        | "nrows" | "ncols" | "view" | "to_owned" | "clone" | "into_owned" | "recip" | "fract" | "is_nan"
        | "is_finite" | "is_infinite" | "count_ones" | "wrapping_neg" | "wrapping_abs" => &[0],
        "atan2" | "hypot" | "rem_euclid" | "wrapping_add" | "wrapping_sub" | "wrapping_mul" | "wrapping_shl"
        | "wrapping_shr" => &[1],
        "powi" | "powf" | "var" | "std" | "dot" | "insert_axis" | "len_of" | "mapv" | "sum_axis" | "prod_axis"
        | "min_axis" | "max_axis" | "argmin_axis" | "argmax_axis" | "mean_axis" | "logsumexp_axis" | "slice" => &[1],
        n if crate::scans::scan_by_name(n).is_some() || crate::sorts::sort_by_name(n).is_some() => &[1],
        "median_axis" | "row" | "column" | "into_shape_with_order" | "to_shape" | "product_axis" | "expect" => &[1],
        "product" | "unwrap" => &[0],
        "diff" => &[2],
        "smallest_k_axis" | "largest_k_axis" => &[2],
        "quantile_axis" | "mul_add" => &[2],
        "clamp" | "var_axis" | "std_axis" | "slice_axis" => &[2],
        _ => return None,
    })
}

fn arity_error(b: &mut Builder, span: Span, want: usize, got: usize, what: &str) -> crate::build::Fail {
    let s = |n: usize| if n == 1 { "argument" } else { "arguments" };
    b.err(
        span,
        format!(
            "this {what} takes {want} {} but {got} {} supplied",
            s(want),
            if got == 1 { "argument was" } else { "arguments were" }
        ),
    )
}

/// `receiver.method(args)`.
pub(crate) fn lower_method(b: &mut Builder, mc: &syn::ExprMethodCall) -> R<Val> {
    let name = mc.method.to_string();
    let mspan = mc.method.span();
    if let Some(t) = &mc.turbofish {
        return Err(b.err(t.span(), "unsupported syntax: turbofish (`::<T>`) on a method; use `as T` casts"));
    }
    if name == "unwrap" || name == "expect" {
        return unwrap(b, mc, &name, mspan);
    }
    let recv = lower_expr(b, &mc.receiver)?;
    let rspan = mc.receiver.span();
    let x = match recv {
        Val::Dims(_) | Val::Tuple(_) => {
            return Err(b.err(mspan, format!("no method named `{name}` found for a tuple in kiln kernels")));
        }
        v => node_of(b, v, rspan)?,
    };
    let ty = b.ty(x).clone();
    let Some(arities) = method_arity(&name) else {
        let t = b.type_text(&ty);
        let hint = crate::hints::suggestion(&name);
        return Err(b.err(mspan, format!("no method named `{name}` found for `{t}` in kiln kernels{hint}")));
    };
    let args = &mc.args;
    if !arities.contains(&args.len()) {
        return Err(arity_error(b, mspan, arities[0], args.len(), "method"));
    }
    let span = mc.span();
    if let Some(op) = unop_by_name(&name) {
        return unary(b, op, Val::Node(x), rspan, mspan);
    }
    if let Some(v) = float_method(b, &name, x, rspan, args, mspan)? {
        return Ok(v);
    }
    match name.as_str() {
        "powi" => powi(b, Val::Node(x), rspan, &args[0], mspan),
        "powf" | "min" | "max" if args.len() == 1 => {
            let op = match name.as_str() {
                "powf" => BinOp::Pow,
                "min" => BinOp::Min,
                _ => BinOp::Max,
            };
            let y = lower_expr(b, &args[0])?;
            binary(b, op, false, Val::Node(x), rspan, y, args[0].span(), mspan)
        }
        "clamp" => {
            let lo = lower_expr(b, &args[0])?;
            let hi = lower_expr(b, &args[1])?;
            clamp(b, Val::Node(x), rspan, lo, args[0].span(), hi, args[1].span(), mspan)
        }
        "sum" | "prod" | "min" | "max" | "argmin" | "argmax" => {
            let op = reduce_by_name(&name).ok_or_else(|| b.err(mspan, "internal error: unknown reduction"))?;
            let axes = all_axes(b, x, &name, mspan)?;
            reduce(b, op, x, axes, mspan).map(Val::Node)
        }
        "mean" => {
            let axes = all_axes(b, x, &name, mspan)?;
            mean(b, x, &axes, mspan).map(Val::Node)
        }
        "logsumexp" => {
            let axes = all_axes(b, x, &name, mspan)?;
            logsumexp(b, x, &axes, mspan).map(Val::Node)
        }
        "var" | "std" => {
            let axes = all_axes(b, x, &name, mspan)?;
            let ddof = ddof_literal(b, &args[0])?;
            var(b, x, &axes, ddof, name == "std", mspan).map(Val::Node)
        }
        "product" => {
            let axes = all_axes(b, x, &name, mspan)?;
            reduce(b, ReduceOp::Prod, x, axes, mspan).map(Val::Node)
        }
        "product_axis" => {
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            reduce(b, ReduceOp::Prod, x, vec![k], mspan).map(Val::Node)
        }
        "row" | "column" => crate::constructors::row_or_column(b, x, &name, &args[0], mspan),
        "into_shape_with_order" | "to_shape" => crate::constructors::reshape(b, x, &name, &args[0], mspan),
        "diff" => {
            let Some(n) = usize_literal(&args[0]) else {
                return Err(b.err(args[0].span(), "the order `n` of `diff(n, Axis(a))` must be an integer literal"));
            };
            let k = axis_arg(b, &args[1], ty.rank(), false)?;
            crate::constructors::diff(b, x, n, k, mspan)
        }
        "sum_axis" | "prod_axis" | "min_axis" | "max_axis" | "argmin_axis" | "argmax_axis" => {
            let base = name.trim_end_matches("_axis");
            let op = reduce_by_name(base).ok_or_else(|| b.err(mspan, "internal error: unknown reduction"))?;
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            reduce(b, op, x, vec![k], mspan).map(Val::Node)
        }
        n if crate::scans::scan_by_name(n).is_some() => {
            let op = crate::scans::scan_by_name(n).ok_or_else(|| b.err(mspan, "internal error: unknown scan"))?;
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            crate::scans::scan(b, op, x, k, n, mspan).map(Val::Node)
        }
        n if crate::sorts::sort_by_name(n).is_some() => {
            let indices = n == "argsort_axis";
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            crate::sorts::sort(b, x, k, indices, n, mspan).map(Val::Node)
        }
        "smallest_k_axis" | "largest_k_axis" => {
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            crate::sorts::topk(b, x, k, &args[1], &name, mspan)
        }
        "median_axis" | "quantile_axis" => {
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            let q = match args.get(1) {
                Some(e) => Some((lower_expr(b, e)?, e.span())),
                None => None,
            };
            crate::sorts::quantile(b, x, k, q, &name, mspan).map(Val::Node)
        }
        "mean_axis" => {
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            mean(b, x, &[k], mspan).map(Val::Node)
        }
        "logsumexp_axis" => {
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            logsumexp(b, x, &[k], mspan).map(Val::Node)
        }
        "var_axis" | "std_axis" => {
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            let ddof = ddof_literal(b, &args[1])?;
            var(b, x, &[k], ddof, name == "std_axis", mspan).map(Val::Node)
        }
        "dot" => {
            let y = lower_expr(b, &args[0])?;
            let y = node_of(b, y, args[0].span())?;
            dot(b, x, y, mspan)
        }
        "t" | "reversed_axes" => {
            if ty.rank() < 2 {
                return Ok(Val::Node(x));
            }
            let perm: Vec<u32> = (0..ty.rank() as u32).rev().collect();
            let shape = perm.iter().map(|&a| ty.shape[a as usize]).collect();
            push_elementwise(b, Op::Transpose(x, perm), Type::array(ty.elem, shape), mspan).map(Val::Node)
        }
        "insert_axis" => {
            let k = axis_arg(b, &args[0], ty.rank(), true)?;
            let mut shape = ty.shape.clone();
            shape.insert(k as usize, Dim::Const(1));
            push_elementwise(b, Op::InsertAxis(x, k), Type::array(ty.elem, shape), mspan).map(Val::Node)
        }
        "dim" => match ty.rank() {
            0 => Err(no_dims(b, &ty, mspan, &name)),
            1 => Ok(Val::Dim(ty.shape[0])),
            _ => Ok(Val::Dims(ty.shape.clone())),
        },
        "len" if ty.rank() == 1 => Ok(Val::Dim(ty.shape[0])),
        "len" => {
            let t = b.type_text(&ty);
            Err(b.err(
                mspan,
                format!("`len()` is supported on 1-d arrays only, found `{t}`: use `dim()` or `len_of(Axis(k))`"),
            ))
        }
        "nrows" | "ncols" if ty.rank() == 2 => Ok(Val::Dim(ty.shape[usize::from(name == "ncols")])),
        "nrows" | "ncols" => {
            let t = b.type_text(&ty);
            Err(b.err(mspan, format!("rank mismatch: `{name}()` needs a 2-d array, found `{t}`")))
        }
        "len_of" => {
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            Ok(Val::Dim(ty.shape[k as usize]))
        }
        "view" | "to_owned" | "clone" | "into_owned" => Ok(Val::Node(x)),
        "slice" => crate::slice::lower_slice(b, x, &args[0], mspan),
        "slice_axis" => {
            let k = axis_arg(b, &args[0], ty.rank(), false)?;
            crate::slice::lower_slice_axis(b, x, k, &args[1], mspan)
        }
        "mapv" => mapv(b, x, &args[0], span),
        _ => {
            let t = b.type_text(&ty);
            Err(b.err(mspan, format!("no method named `{name}` found for `{t}` in kiln kernels")))
        }
    }
}

fn no_dims(b: &mut Builder, ty: &Type, span: Span, name: &str) -> crate::build::Fail {
    let t = b.type_text(ty);
    b.err(span, format!("rank mismatch: `{name}()` needs an array, found `{t}`"))
}

/// `f(args)` for a free function or `ArrayN::from_shape_fn`.
pub(crate) fn lower_call(b: &mut Builder, c: &syn::ExprCall) -> R<Val> {
    let syn::Expr::Path(p) = &*c.func else {
        return Err(b.err(c.func.span(), "unsupported call: only named functions can be called in kernels"));
    };
    let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    let fspan = p.span();
    if segs.len() == 2 && crate::constructors::is_constructor(&segs[1].ident.to_string()) {
        return crate::constructors::lower_constructor(b, segs[0], &segs[1].ident.to_string(), &c.args, fspan);
    }
    if segs.len() == 2 && segs[1].ident == "from_shape_fn" {
        return from_shape_fn(b, segs[0], &c.args, fspan, c.span());
    }
    if segs.len() == 2 && b.generic.as_ref().is_some_and(|g| segs[0].ident == *g) {
        return generic_constant(b, &segs[1].ident.to_string(), &c.args, fspan);
    }
    if let Some(name) = crate::constructors::join_function(&p.path) {
        return crate::constructors::lower_join_call(b, name, c);
    }
    let text = quote::quote!(#p).to_string().replace(' ', "");
    let Some(id) = p.path.get_ident() else {
        let hint = crate::hints::path_suggestion(&text);
        return Err(b.err(fspan, format!("cannot find function `{text}` in kiln kernels{hint}")));
    };
    let name = id.to_string();
    let args = &c.args;
    let want = |n: usize, b: &mut Builder| -> R<()> {
        if args.len() == n {
            Ok(())
        } else {
            Err(arity_error(b, fspan, n, args.len(), "function"))
        }
    };
    if let Some(op) = unop_by_name(&name) {
        want(1, b)?;
        let x = lower_expr(b, &args[0])?;
        return unary(b, op, x, args[0].span(), fspan);
    }
    let is_range = args.first().is_some_and(|a| matches!(a, syn::Expr::Range(_)));
    match name.as_str() {
        "sum" | "prod" | "min" | "max" | "argmin" | "argmax" if is_range => {
            want(2, b)?;
            let op = reduce_by_name(&name).ok_or_else(|| b.err(fspan, "internal error: unknown reduction"))?;
            range_reduce(b, op, &args[0], &args[1])
        }
        "min" | "max" => {
            want(2, b)?;
            let x = lower_expr(b, &args[0]);
            let y = lower_expr(b, &args[1]);
            let op = if name == "min" { BinOp::Min } else { BinOp::Max };
            binary(b, op, false, x?, args[0].span(), y?, args[1].span(), fspan)
        }
        "sum" | "prod" | "argmin" | "argmax" => {
            want(2, b)?;
            Err(b.err(args[0].span(), format!("expected a range `0..n` as the first argument of `{name}`")))
        }
        "powi" => {
            want(2, b)?;
            let x = lower_expr(b, &args[0])?;
            powi(b, x, args[0].span(), &args[1], fspan)
        }
        "powf" => {
            want(2, b)?;
            let x = lower_expr(b, &args[0]);
            let y = lower_expr(b, &args[1]);
            binary(b, BinOp::Pow, false, x?, args[0].span(), y?, args[1].span(), fspan)
        }
        "clamp" => {
            want(3, b)?;
            let x = lower_expr(b, &args[0]);
            let lo = lower_expr(b, &args[1]);
            let hi = lower_expr(b, &args[2]);
            clamp(b, x?, args[0].span(), lo?, args[1].span(), hi?, args[2].span(), fspan)
        }
        "select" => {
            want(3, b)?;
            let cnd = lower_expr(b, &args[0]);
            let t = lower_expr(b, &args[1]);
            let e = lower_expr(b, &args[2]);
            select(b, cnd?, args[0].span(), t?, args[1].span(), e?, args[2].span(), fspan)
        }
        "dot" => {
            want(2, b)?;
            let x = lower_expr(b, &args[0]);
            let y = lower_expr(b, &args[1]);
            let x = node_of(b, x?, args[0].span())?;
            let y = node_of(b, y?, args[1].span())?;
            dot(b, x, y, fspan)
        }
        "bincount" => {
            want(2, b)?;
            crate::scatter::bincount(b, &args[0], None, &args[1], fspan)
        }
        "bincount_weighted" => {
            want(3, b)?;
            crate::scatter::bincount(b, &args[0], Some(&args[1]), &args[2], fspan)
        }
        "Axis" => Err(b.err(fspan, "`Axis(k)` is only allowed as the argument of an axis method like `sum_axis`")),
        _ => {
            let hint = crate::hints::suggestion(&name);
            Err(b.err(fspan, format!("cannot find function `{name}` in kiln kernels{hint}")))
        }
    }
}

/// `F::infinity()` and num-traits' other `Float` constructors in a generic kernel.
fn generic_constant(b: &mut Builder, name: &str, args: &Args, span: Span) -> R<Val> {
    let g = b.elem_text(ElemTy::Float);
    if let Some((v32, v64)) = crate::consts::per_type_generic_constant(name) {
        if !args.is_empty() {
            return Err(arity_error(b, span, 0, args.len(), "function"));
        }
        // `select((PROBE - 1) == 0, v32, v64)`: the probe rounds to 1 only in f32.
        let f = Type::scalar(ElemTy::Float);
        let probe = b.konst(Literal::Float(crate::consts::F32_PROBE), ElemTy::Float);
        let one = b.konst(Literal::Float(1.0), ElemTy::Float);
        let zero = b.konst(Literal::Float(0.0), ElemTy::Float);
        let d = b.push(Op::Binary(BinOp::Sub, probe, one), f.clone());
        let is_f32 = b.push(Op::Binary(BinOp::Eq, d, zero), Type::scalar(ElemTy::BOOL));
        let a = b.konst(Literal::Float(v32), ElemTy::Float);
        let c = b.konst(Literal::Float(v64), ElemTy::Float);
        return Ok(Val::Node(b.push(Op::Select(is_f32, a, c), f)));
    }
    let Some(v) = crate::consts::generic_float_constant(name) else {
        return Err(b.err(
            span,
            format!("cannot find function `{g}::{name}` in kiln kernels (supported: `infinity`, `neg_infinity`, `nan`, `zero`, `one`, `neg_zero`, `epsilon`, `max_value`, `min_value`, `min_positive_value`)"),
        ));
    };
    if !args.is_empty() {
        return Err(arity_error(b, span, 0, args.len(), "function"));
    }
    Ok(Val::Node(b.konst(Literal::Float(v), ElemTy::Float)))
}

fn clamp(b: &mut Builder, x: Val, xs: Span, lo: Val, ls: Span, hi: Val, hs: Span, span: Span) -> R<Val> {
    let m = binary(b, BinOp::Max, false, x, xs, lo, ls, span)?;
    binary(b, BinOp::Min, false, m, xs, hi, hs, span)
}

/// The std methods that are compositions of other ops or binary ops (`atan2`, `hypot`), and
/// integer `count_ones`, `rem_euclid` and the `wrapping_*` arithmetic; `None` for any other
/// name. Every composition is exact: it computes what Rust's method computes, bit for bit.
fn float_method(b: &mut Builder, name: &str, x: NodeId, xs: Span, args: &Args, span: Span) -> R<Option<Val>> {
    let lit = |f: f64| Val::Lit(Literal::Float(f));
    let arg = |b: &mut Builder, k: usize| lower_expr(b, &args[k]).map(|v| (v, args[k].span()));
    let bin = |b: &mut Builder, op: BinOp, x: Val, y: Val| binary(b, op, false, x, xs, y, xs, span);
    let x = Val::Node(x);
    Ok(Some(match name {
        "atan2" | "hypot" => {
            let op = if name == "atan2" { BinOp::Atan2 } else { BinOp::Hypot };
            let (y, ys) = arg(b, 0)?;
            binary(b, op, false, x, xs, y, ys, span)?
        }
        "mul_add" => {
            let (y, ys) = arg(b, 0)?;
            let (z, zs) = arg(b, 1)?;
            mul_add(b, x, xs, y, ys, z, zs, span)?
        }
        // `1 / x`, as std defines `recip`.
        "recip" => {
            let n = node_of(b, x.clone(), xs)?;
            require_float(b, n, name, span)?;
            bin(b, BinOp::Div, lit(1.0), x)?
        }
        // `x - x.trunc()`, as std defines `fract`.
        "fract" => {
            let t = unary(b, UnOp::Trunc, x.clone(), xs, span)?;
            bin(b, BinOp::Sub, x, t)?
        }
        // NaN is the only value unequal to itself; `abs` maps both infinities to +inf.
        "is_nan" => {
            let n = node_of(b, x.clone(), xs)?;
            require_float(b, n, name, span)?;
            bin(b, BinOp::Ne, x.clone(), x)?
        }
        "is_finite" | "is_infinite" => {
            let n = node_of(b, x.clone(), xs)?;
            require_float(b, n, name, span)?;
            let a = unary(b, UnOp::Abs, x, xs, span)?;
            let op = if name == "is_finite" { BinOp::Lt } else { BinOp::Eq };
            bin(b, op, a, lit(f64::INFINITY))?
        }
        // Rust's `count_ones` returns `u32` whatever the operand's type.
        "count_ones" => {
            let c = unary(b, UnOp::CountOnes, x, xs, span)?;
            cast(b, c, ElemTy::Concrete(kiln_ir::DType::U32), xs, span)?
        }
        // kiln's integer arithmetic wraps already.
        "wrapping_add" | "wrapping_sub" | "wrapping_mul" | "wrapping_shl" | "wrapping_shr" => {
            let op = match name {
                "wrapping_add" => BinOp::Add,
                "wrapping_sub" => BinOp::Sub,
                "wrapping_mul" => BinOp::Mul,
                "wrapping_shl" => BinOp::Shl,
                _ => BinOp::Shr,
            };
            let (y, ys) = arg(b, 0)?;
            let n = node_of(b, x.clone(), xs)?;
            require_int(b, n, name, span)?;
            crate::expr::shift_or_binary(b, op, x, xs, y, ys, span)?
        }
        "wrapping_neg" | "wrapping_abs" => {
            let n = node_of(b, x.clone(), xs)?;
            require_int(b, n, name, span)?;
            unary(b, if name == "wrapping_neg" { UnOp::Neg } else { UnOp::Abs }, x, xs, span)?
        }
        // `r = x % y; if r < 0 { r + |y| } else { r }`, as std defines `rem_euclid` (for floats
        // and integers alike; an integer `rem_euclid(0)` is 0 like kiln's `% 0`).
        "rem_euclid" => {
            let (y, ys) = arg(b, 0)?;
            let r = binary(b, BinOp::Rem, false, x, xs, y.clone(), ys, span)?;
            let rn = node_of(b, r.clone(), xs)?;
            let elem = b.ty(rn).elem;
            if matches!(elem, ElemTy::Concrete(d) if d.is_int() && !d.is_signed()) {
                return Ok(Some(r));
            }
            let ay = match y {
                Val::Lit(Literal::Int(i)) => Val::Lit(Literal::Int(i.wrapping_abs())),
                Val::Lit(Literal::Float(f)) => lit(f.abs()),
                y => unary(b, UnOp::Abs, y, ys, span)?,
            };
            let zero = if elem.is_float() { lit(0.0) } else { Val::Lit(Literal::Int(0)) };
            let neg = bin(b, BinOp::Lt, r.clone(), zero)?;
            let up = bin(b, BinOp::Add, r.clone(), ay)?;
            select(b, neg, xs, up, xs, r, xs, span)?
        }
        _ => return Ok(None),
    }))
}

/// `a.mul_add(b, c)`: `a * b + c` rounded once. Scalars make one [`Op::MulAdd`] node; arrays
/// (numpy broadcasting) a comprehension whose element is the `MulAdd` of the operands'
/// elements.
#[allow(clippy::too_many_arguments)]
fn mul_add(b: &mut Builder, x: Val, xs: Span, y: Val, ys: Span, z: Val, zs: Span, span: Span) -> R<Val> {
    let (xn, yn) = crate::expr::unify_operands(b, x, xs, y, ys, span)?;
    let (xn, zn) = crate::expr::unify_operands(b, Val::Node(xn), xs, z, zs, span)?;
    let ops = [xn, yn, zn];
    let elem = b.ty(xn).elem;
    if !elem.is_float() {
        let t = b.elem_text(elem);
        return Err(
            b.err(span, format!("`mul_add` needs float operands, found `{t}` (integers have no fused multiply-add)"))
        );
    }
    for (&n, s) in ops.iter().zip([xs, ys, zs]) {
        if b.ty(n).elem != elem {
            let (w, f) = (b.elem_text(elem), b.elem_text(b.ty(n).elem));
            return Err(b.err(s, format!("mismatched types: `mul_add` expected `{w}`, found `{f}`")));
        }
    }
    let shape = crate::expr::broadcast_all(b, &ops, span)?;
    if shape.is_empty() {
        return Ok(Val::Node(b.push(Op::MulAdd(xn, yn, zn), Type::scalar(elem))));
    }
    let vars: Vec<VarId> = shape.iter().map(|_| b.new_var()).collect();
    let mut elems = Vec::with_capacity(3);
    for &n in &ops {
        let t = b.ty(n).clone();
        if t.rank() == 0 {
            elems.push(n);
            continue;
        }
        let skip = shape.len() - t.rank();
        let mut idx = Vec::with_capacity(t.rank());
        for (a, &d) in t.shape.iter().enumerate() {
            let out = shape[skip + a];
            let (rd, ro) = (b.resolve(d), b.resolve(out));
            idx.push(if rd == Dim::Const(1) && ro != Dim::Const(1) {
                b.konst(Literal::Int(0), ElemTy::I64)
            } else {
                b.push(Op::Index(vars[skip + a]), Type::scalar(ElemTy::I64))
            });
        }
        elems.push(b.push(Op::Load { array: n, indices: idx }, Type::scalar(elem)));
    }
    let body = b.push(Op::MulAdd(elems[0], elems[1], elems[2]), Type::scalar(elem));
    let id = b.push(Op::Generate { vars, extents: shape.clone(), body }, Type::array(elem, shape));
    check_no_free_array(b, id, span)?;
    Ok(Val::Node(id))
}

fn require_int(b: &mut Builder, x: NodeId, what: &str, span: Span) -> R<()> {
    if b.ty(x).elem.is_int() {
        return Ok(());
    }
    let t = b.elem_text(b.ty(x).elem);
    Err(b.err(span, format!("`{what}` needs an integer type, found `{t}`")))
}

/// `x.powi(n)`: a literal exponent is the `powi` op (repeated multiplication); any other
/// integer exponent computes `x.powf(n as F)` (the exponent converted exactly for |n| < 2^24).
fn powi(b: &mut Builder, x: Val, xs: Span, e: &syn::Expr, span: Span) -> R<Val> {
    if let Some(n) = powi_literal(e) {
        return unary(b, UnOp::PowI(n), x, xs, span);
    }
    let xn = node_of(b, x, xs)?;
    require_float(b, xn, "powi", span)?;
    let n = lower_expr(b, e)?;
    let nn = node_of(b, n, e.span())?;
    if !b.ty(nn).elem.is_int() {
        let t = b.elem_text(b.ty(nn).elem);
        return Err(b.err(
            e.span(),
            format!("the exponent of `powi` must be an integer, found `{t}` (use `powf` for float exponents)"),
        ));
    }
    let elem = b.ty(xn).elem;
    let nf = cast(b, Val::Node(nn), elem, e.span(), span)?;
    binary(b, BinOp::Pow, false, Val::Node(xn), xs, nf, e.span(), span)
}

/// The exponent of `powi` when it is an integer literal, possibly negated.
fn powi_literal(e: &syn::Expr) -> Option<i32> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse::<i32>().ok(),
        syn::Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. }) => match &**expr {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse::<i32>().ok().map(|v| -v),
            _ => None,
        },
        _ => None,
    }
}

/// A non-negative integer literal (the order of `diff`).
fn usize_literal(e: &syn::Expr) -> Option<u64> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse::<u64>().ok(),
        _ => None,
    }
}

/// The methods whose ndarray result is an `Option` or a `Result` that kernels unwrap.
const FALLIBLE: &[&str] = &["mean", "mean_axis", "into_shape_with_order", "to_shape"];

/// `x.mean().unwrap()`, `x.mean_axis(Axis(0)).expect("..")`,
/// `x.into_shape_with_order((a, b)).unwrap()`: ndarray returns `Option`/`Result` here; in a
/// kernel the value is the receiver's (a mean of nothing is NaN, a reshape of the wrong size
/// is a typed error at the call).
fn unwrap(b: &mut Builder, mc: &syn::ExprMethodCall, name: &str, span: Span) -> R<Val> {
    let inner = match &*mc.receiver {
        syn::Expr::MethodCall(r) if FALLIBLE.contains(&r.method.to_string().as_str()) => Some(r),
        // `ndarray::concatenate(..)` / `stack(..)` return a `Result` too.
        syn::Expr::Call(c) if matches!(&*c.func, syn::Expr::Path(p) if crate::constructors::join_function(&p.path).is_some()) => None,
        _ => {
            return Err(b.err(
                span,
                format!("`{name}` applies only to the `Option` or `Result` that `mean()`, `mean_axis(..)`, `into_shape_with_order(..)`, `to_shape(..)`, `concatenate(..)` and `stack(..)` return"),
            ))
        }
    };
    let want = usize::from(name == "expect");
    if mc.args.len() != want {
        return Err(arity_error(b, span, want, mc.args.len(), "method"));
    }
    if let Some(a) = mc.args.first() {
        if !matches!(a, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(_), .. })) {
            return Err(b.err(a.span(), "the message of `expect` must be a string literal"));
        }
    }
    match inner {
        Some(r) => lower_method(b, r),
        None => lower_expr(b, &mc.receiver),
    }
}

/// The `ddof` of `var`/`std`: a numeric literal (ndarray takes a float).
fn ddof_literal(b: &mut Builder, e: &syn::Expr) -> R<f64> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. }) => f.base10_parse::<f64>().ok(),
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse::<u32>().ok().map(f64::from),
        _ => None,
    }
    .ok_or_else(|| b.err(e.span(), "`ddof` must be a number literal like `0.0` or `1.0`"))
}

/// `Axis(k)` with a literal `k`, checked against the rank (`insert` allows `k == rank`).
pub(crate) fn axis_arg(b: &mut Builder, e: &syn::Expr, rank: usize, insert: bool) -> R<u32> {
    let k = match e {
        syn::Expr::Call(c) if matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Axis")) => {
            match c.args.first() {
                Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. })) if c.args.len() == 1 => {
                    i.base10_parse::<u32>().ok()
                }
                _ => None,
            }
        }
        _ => None,
    };
    let Some(k) = k else {
        return Err(b.err(e.span(), "expected `Axis(k)` with an integer literal `k`"));
    };
    let limit = if insert { rank + 1 } else { rank };
    if k as usize >= limit {
        return Err(
            b.err(e.span(), format!("axis {k} is out of range for an array of rank {rank} (valid axes: 0..{limit})"))
        );
    }
    Ok(k)
}

fn all_axes(b: &mut Builder, x: NodeId, name: &str, span: Span) -> R<Vec<u32>> {
    let ty = b.ty(x).clone();
    if ty.rank() == 0 {
        let t = b.type_text(&ty);
        return Err(b.err(span, format!("rank mismatch: `{name}()` reduces an array, found `{t}`")));
    }
    Ok((0..ty.rank() as u32).collect())
}

/// A primitive reduction node over sorted `axes`.
fn reduce(b: &mut Builder, op: ReduceOp, x: NodeId, axes: Vec<u32>, span: Span) -> R<NodeId> {
    let ty = b.ty(x).clone();
    if ty.elem.is_bool() {
        return Err(b.err(span, format!("cannot reduce `bool` values with `{}`: cast them first", op.name())));
    }
    let shape: Vec<Dim> =
        ty.shape.iter().enumerate().filter(|(a, _)| !axes.contains(&(*a as u32))).map(|(_, d)| *d).collect();
    let elem = if op.is_arg() { ElemTy::I64 } else { ty.elem };
    push_elementwise(b, Op::Reduce { op, arg: x, axes }, Type::array(elem, shape), span)
}

/// A binary node whose operands are known to be compatible (built by a desugaring).
fn raw_bin(b: &mut Builder, op: BinOp, x: NodeId, y: NodeId) -> NodeId {
    let (tx, ty) = (b.ty(x).clone(), b.ty(y).clone());
    let shape = b.broadcast(&tx.shape, &ty.shape).unwrap_or(tx.shape);
    let elem = if op.is_comparison() { ElemTy::BOOL } else { tx.elem };
    b.push(Op::Binary(op, x, y), Type::array(elem, shape))
}

/// The number of elements over `axes`, as a scalar of `elem`.
fn count(b: &mut Builder, x: NodeId, axes: &[u32], elem: ElemTy) -> NodeId {
    let shape = b.ty(x).shape.clone();
    let mut acc: Option<NodeId> = None;
    for &a in axes {
        let d = b.push(Op::DimValue(shape[a as usize]), Type::scalar(ElemTy::I64));
        acc = Some(match acc {
            None => d,
            Some(p) => raw_bin(b, BinOp::Mul, p, d),
        });
    }
    let n = acc.unwrap_or_else(|| b.konst(Literal::Int(1), ElemTy::I64));
    if elem == ElemTy::I64 {
        n
    } else {
        b.push(Op::Cast(n), Type::scalar(elem))
    }
}

fn require_float(b: &mut Builder, x: NodeId, what: &str, span: Span) -> R<()> {
    let e = b.ty(x).elem;
    if e.is_float() {
        return Ok(());
    }
    let t = b.elem_text(e);
    Err(b.err(span, format!("`{what}` needs a float array, found `{t}` elements (convert with `as f64`)")))
}

/// `mean` = sum / count (NaN over an empty axis, like numpy).
fn mean(b: &mut Builder, x: NodeId, axes: &[u32], span: Span) -> R<NodeId> {
    if b.ty(x).elem.is_bool() {
        return Err(b.err(span, "cannot take the mean of `bool` values: cast them first"));
    }
    let s = reduce(b, ReduceOp::Sum, x, axes.to_vec(), span)?;
    let elem = b.ty(x).elem;
    let n = count(b, x, axes, elem);
    Ok(raw_bin(b, BinOp::Div, s, n))
}

/// Put the reduced `axes` back as length-1 axes so a statistic broadcasts against its input.
fn keep_dims(b: &mut Builder, m: NodeId, axes: &[u32], rank: usize) -> NodeId {
    if axes.len() == rank {
        return m; // a scalar broadcasts as it is
    }
    let mut cur = m;
    for &a in axes {
        let mut ty = b.ty(cur).clone();
        ty.shape.insert(a as usize, Dim::Const(1));
        cur = b.push(Op::InsertAxis(cur, a), ty);
    }
    cur
}

/// Two-pass variance: mean of squared deviations from the mean, divided by `count - ddof`.
fn var(b: &mut Builder, x: NodeId, axes: &[u32], ddof: f64, std: bool, span: Span) -> R<NodeId> {
    require_float(b, x, if std { "std" } else { "var" }, span)?;
    let rank = b.ty(x).rank();
    let elem = b.ty(x).elem;
    let m = mean(b, x, axes, span)?;
    let mb = keep_dims(b, m, axes, rank);
    let diff = raw_bin(b, BinOp::Sub, x, mb);
    let sq = raw_bin(b, BinOp::Mul, diff, diff);
    let s = reduce(b, ReduceOp::Sum, sq, axes.to_vec(), span)?;
    let n = count(b, x, axes, elem);
    let dd = b.konst(Literal::Float(ddof), elem);
    let denom = raw_bin(b, BinOp::Sub, n, dd);
    let v = raw_bin(b, BinOp::Div, s, denom);
    if std {
        let ty = b.ty(v).clone();
        Ok(b.push(Op::Unary(UnOp::Sqrt, v), ty))
    } else {
        Ok(v)
    }
}

/// `max + ln(sum(exp(x - max)))`. A max that is not finite (all `-inf`, an `inf`, a NaN) is
/// replaced by 0 before subtracting, so an all `-inf` slice gives `-inf` and an `inf` gives
/// `inf`, like scipy, instead of `inf - inf = NaN`.
fn logsumexp(b: &mut Builder, x: NodeId, axes: &[u32], span: Span) -> R<NodeId> {
    require_float(b, x, "logsumexp", span)?;
    let rank = b.ty(x).rank();
    let elem = b.ty(x).elem;
    let m = reduce(b, ReduceOp::Max, x, axes.to_vec(), span)?;
    // `m - m != 0` is true exactly for +-inf and NaN.
    let mm = raw_bin(b, BinOp::Sub, m, m);
    let zero = b.konst(Literal::Float(0.0), elem);
    let not_finite = raw_bin(b, BinOp::Ne, mm, zero);
    let mty = b.ty(m).clone();
    let safe = b.push(Op::Select(not_finite, zero, m), mty.clone());
    let sb = keep_dims(b, safe, axes, rank);
    let d = raw_bin(b, BinOp::Sub, x, sb);
    let dty = b.ty(d).clone();
    let e = b.push(Op::Unary(UnOp::Exp, d), dty);
    let s = reduce(b, ReduceOp::Sum, e, axes.to_vec(), span)?;
    let l = b.push(Op::Unary(UnOp::Ln, s), mty);
    Ok(raw_bin(b, BinOp::Add, safe, l))
}

/// `a.dot(b)` for matrix and vector operands, as a comprehension with a sum over the shared
/// axis: `out[i, j] = sum(0..k, |l| a[[i, l]] * b[[l, j]])`.
fn dot(b: &mut Builder, x: NodeId, y: NodeId, span: Span) -> R<Val> {
    let (tx, ty) = (b.ty(x).clone(), b.ty(y).clone());
    if tx.elem != ty.elem {
        let (a, c) = (b.elem_text(tx.elem), b.elem_text(ty.elem));
        return Err(b.err(span, format!("mismatched types: `dot` of `{a}` and `{c}` arrays")));
    }
    if tx.elem.is_bool() {
        return Err(b.err(span, "cannot take `dot` of `bool` arrays"));
    }
    let (rx, ry) = (tx.rank(), ty.rank());
    if !(1..=2).contains(&rx) || !(1..=2).contains(&ry) {
        let (a, c) = (b.type_text(&tx), b.type_text(&ty));
        return Err(b.err(span, format!("rank mismatch: `dot` takes 1-d or 2-d arrays, found `{a}` and `{c}`")));
    }
    let kx = tx.shape[rx - 1];
    let ky = ty.shape[0];
    if b.unify(kx, ky).is_err() {
        let (a, c) = (b.shape_text(&tx.shape), b.shape_text(&ty.shape));
        return Err(b.err(span, format!("shapes {a} and {c} are not aligned for `dot`")));
    }
    let l = b.new_var();
    let mut out_vars = Vec::new();
    let mut out_ext = Vec::new();
    let idx = |b: &mut Builder, v: VarId| b.push(Op::Index(v), Type::scalar(ElemTy::I64));
    let i = (rx == 2).then(|| b.new_var());
    let j = (ry == 2).then(|| b.new_var());
    let li = idx(b, l);
    let xi = match i {
        Some(i) => {
            out_vars.push(i);
            out_ext.push(tx.shape[0]);
            vec![idx(b, i), li]
        }
        None => vec![li],
    };
    let xl = b.push(Op::Load { array: x, indices: xi }, Type::scalar(tx.elem));
    let li2 = idx(b, l);
    let yi = match j {
        Some(j) => {
            out_vars.push(j);
            out_ext.push(ty.shape[1]);
            vec![li2, idx(b, j)]
        }
        None => vec![li2],
    };
    let yl = b.push(Op::Load { array: y, indices: yi }, Type::scalar(ty.elem));
    let prod = b.push(Op::Binary(BinOp::Mul, xl, yl), Type::scalar(tx.elem));
    let s = b.push(
        Op::RangeReduce { op: ReduceOp::Sum, vars: vec![l], extents: vec![kx], body: prod },
        Type::scalar(tx.elem),
    );
    if out_vars.is_empty() {
        return Ok(Val::Node(s));
    }
    let out = b.push(Op::Generate { vars: out_vars, extents: out_ext.clone(), body: s }, Type::array(tx.elem, out_ext));
    Ok(Val::Node(out))
}

/// The names a closure binds to its index variables, checked against the expected count.
fn closure_names(b: &mut Builder, c: &syn::ExprClosure, rank: usize, what: &str) -> R<Vec<Option<syn::Ident>>> {
    if c.inputs.len() != 1 {
        return Err(b.err(c.inputs.span(), format!("the closure of `{what}` takes one argument")));
    }
    let strip = |p: &syn::Pat| -> syn::Pat {
        match p {
            syn::Pat::Type(t) => (*t.pat).clone(),
            p => p.clone(),
        }
    };
    let pat = strip(&c.inputs[0]);
    let single = |p: &syn::Pat| -> Option<Option<syn::Ident>> {
        match p {
            syn::Pat::Ident(pi) if pi.mutability.is_none() && pi.subpat.is_none() => Some(Some(pi.ident.clone())),
            syn::Pat::Wild(_) => Some(None),
            _ => None,
        }
    };
    let names = match (&pat, rank) {
        (syn::Pat::Tuple(t), r) if r != 1 || t.elems.len() == 1 => {
            t.elems.iter().map(single).collect::<Option<Vec<_>>>()
        }
        (p, 1) => single(p).map(|n| vec![n]),
        _ => None,
    };
    match names {
        Some(n) if n.len() == rank => Ok(n),
        _ => {
            let want = if rank == 1 { "`|i|`".to_string() } else { format!("a tuple of {rank} names like `|(i, j)|`") };
            Err(b.err(pat.span(), format!("the closure of `{what}` must take {want}")))
        }
    }
}

/// Lower a closure body with the given index variables in scope; the result must be a scalar.
fn closure_body(
    b: &mut Builder,
    c: &syn::ExprClosure,
    names: &[Option<syn::Ident>],
    binds: Vec<Binding>,
    elem: Option<ElemTy>,
    what: &str,
) -> R<NodeId> {
    b.push_scope();
    for (n, bind) in names.iter().zip(binds) {
        if let Some(n) = n {
            b.bind(&n.to_string(), bind);
        }
    }
    let r = lower_expr(b, &c.body);
    b.pop_scope();
    let v = r?;
    let bspan = c.body.span();
    let id = match (v, elem) {
        (Val::Lit(l), Some(e)) => cast(b, Val::Lit(l), e, bspan, bspan).and_then(|v| node_of(b, v, bspan))?,
        (v, _) => node_of(b, v, bspan)?,
    };
    let ty = b.ty(id).clone();
    if ty.rank() != 0 {
        let t = b.type_text(&ty);
        return Err(b.err(bspan, format!("the closure of `{what}` must return a scalar, found `{t}`")));
    }
    if let Some(e) = elem {
        if ty.elem != e {
            let (w, f) = (b.elem_text(e), b.elem_text(ty.elem));
            return Err(b.err(bspan, format!("mismatched types: expected `{w}`, found `{f}`")));
        }
    }
    Ok(id)
}

/// `sum(0..n, |i| body)` and the other range reductions.
fn range_reduce(b: &mut Builder, op: ReduceOp, range: &syn::Expr, body: &syn::Expr) -> R<Val> {
    let syn::Expr::Range(r) = range else {
        return Err(b.err(range.span(), "expected a range `0..n`"));
    };
    let bounds = crate::extent::reduce_range(b, r)?;
    if bounds.guarded() && op.is_arg() {
        return Err(b.err(
            r.span(),
            format!(
                "`{}` needs a range `0..n` of one size: bounds that depend on an index are not supported",
                op.name()
            ),
        ));
    }
    let extent = bounds.extent;
    let syn::Expr::Closure(c) = body else {
        return Err(
            b.err(body.span(), format!("expected a closure `|i| ...` as the second argument of `{}`", op.name()))
        );
    };
    let names = closure_names(b, c, 1, op.name())?;
    let var = b.new_var();
    let body = closure_body(b, c, &names, vec![Binding::Index { var, extent }], None, op.name())?;
    let bty = b.ty(body).clone();
    if bty.elem.is_bool() {
        return Err(b.err(c.body.span(), format!("cannot reduce `bool` values with `{}`: cast them first", op.name())));
    }
    let elem = if op.is_arg() { ElemTy::I64 } else { bty.elem };
    let body = crate::extent::guard_body(b, &bounds, op, var, body);
    Ok(Val::Node(b.push(Op::RangeReduce { op, vars: vec![var], extents: vec![extent], body }, Type::scalar(elem))))
}

/// `ArrayN::from_shape_fn(shape, |(i, j, ..)| body)`.
fn from_shape_fn(b: &mut Builder, ty_seg: &syn::PathSegment, args: &Args, fspan: Span, span: Span) -> R<Val> {
    let tname = ty_seg.ident.to_string();
    let (rank, elem) = crate::constructors::array_type(b, ty_seg)?;
    if args.len() != 2 {
        return Err(arity_error(b, fspan, 2, args.len(), "function"));
    }
    let sspan = args[0].span();
    let extents = crate::constructors::shape_extents(b, &args[0])?;
    let rank = rank.unwrap_or(extents.len());
    if extents.len() != rank {
        return Err(b.err(
            sspan,
            format!(
                "rank mismatch: `{tname}::from_shape_fn` needs a shape with {rank} dimensions, found {}",
                extents.len()
            ),
        ));
    }
    let syn::Expr::Closure(c) = &args[1] else {
        return Err(
            b.err(args[1].span(), "expected a closure `|(i, j)| ...` as the second argument of `from_shape_fn`")
        );
    };
    let names = closure_names(b, c, rank, "from_shape_fn")?;
    let vars: Vec<VarId> = (0..rank).map(|_| b.new_var()).collect();
    let binds = vars.iter().zip(&extents).map(|(&var, &extent)| Binding::Index { var, extent }).collect();
    let body = closure_body(b, c, &names, binds, elem, "from_shape_fn")?;
    let belem = b.ty(body).elem;
    let id = b.push(Op::Generate { vars, extents: extents.clone(), body }, Type::array(belem, extents));
    check_no_free_array(b, id, span)?;
    Ok(Val::Node(id))
}

/// `x.mapv(|v| body)`: a comprehension over `x`'s shape whose `v` is `x`'s element.
fn mapv(b: &mut Builder, x: NodeId, f: &syn::Expr, span: Span) -> R<Val> {
    let ty = b.ty(x).clone();
    if ty.rank() == 0 {
        let t = b.type_text(&ty);
        return Err(b.err(span, format!("rank mismatch: `mapv` needs an array, found `{t}`")));
    }
    let syn::Expr::Closure(c) = f else {
        return Err(b.err(f.span(), "expected a closure `|v| ...` as the argument of `mapv`"));
    };
    let names = closure_names(b, c, 1, "mapv")?;
    let vars: Vec<VarId> = (0..ty.rank()).map(|_| b.new_var()).collect();
    let idx: Vec<NodeId> = vars.iter().map(|&v| b.push(Op::Index(v), Type::scalar(ElemTy::I64))).collect();
    let elem = b.push(Op::Load { array: x, indices: idx }, Type::scalar(ty.elem));
    let body = closure_body(b, c, &names, vec![Binding::Val(Val::Node(elem))], None, "mapv")?;
    let belem = b.ty(body).elem;
    let id = b.push(Op::Generate { vars, extents: ty.shape.clone(), body }, Type::array(belem, ty.shape));
    check_no_free_array(b, id, span)?;
    Ok(Val::Node(id))
}
