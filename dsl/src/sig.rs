//! The kernel signature: parameters, return type and the optional generic float parameter.
//!
//! The macro needs the signature as the user spelled it (to write the generated function's
//! argument types), the front end needs it as IR types; both read it from here so they agree.

use crate::DslError;
use kiln_ir::{DType, ElemTy};
use proc_macro2::Span;
use syn::spanned::Spanned;

/// A kernel's signature, checked.
#[derive(Clone, Debug)]
pub struct KernelSig {
    /// The generic float parameter (`F` in `fn k<F: Float>`), if any.
    pub generic: Option<syn::Ident>,
    pub params: Vec<ParamSig>,
    /// The returned values (one unless the return type is a tuple).
    pub ret: Vec<TySig>,
    /// True when the return type is written as a tuple.
    pub ret_tuple: bool,
}

/// One parameter: its name and type.
#[derive(Clone, Debug)]
pub struct ParamSig {
    pub name: syn::Ident,
    pub ty: TySig,
}

/// A parameter or return type: element type and kind.
#[derive(Clone, Debug)]
pub struct TySig {
    pub elem: ElemTy,
    pub kind: TyKind,
    /// Span of the type as written.
    pub span: Span,
    /// A `usize` scalar parameter (a size or an index, like `k: usize`): an `i64` in the IR,
    /// converted when the kernel is called.
    pub usize: bool,
}

impl TySig {
    /// Rank of the IR value (0 for scalars and `Array0`).
    pub fn rank(&self) -> usize {
        match self.kind {
            TyKind::Scalar => 0,
            TyKind::Array(r) => r,
        }
    }
}

/// A bare scalar (`a: f32`) or an n-d array (`Array2<f32>`, `ArrayView2<f32>`, `Array0<f32>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TyKind {
    Scalar,
    Array(usize),
}

const ELEM_LIST: &str = "f32, f64, i32, i64, u32, bool";

/// Check a kernel function's signature.
///
/// # Errors
/// Every problem found: unsupported qualifiers (`async`, `unsafe`, ...), generic parameters
/// other than one `F: Float`, parameter patterns other than a plain name, unsupported
/// parameter or return types, a missing return type.
pub fn kernel_signature(item: &syn::ItemFn) -> Result<KernelSig, Vec<DslError>> {
    let mut errors = Vec::new();
    let s = &item.sig;
    if let Some(t) = &s.asyncness {
        errors.push(DslError::new(t.span, "a kernel cannot be `async`"));
    }
    if let Some(t) = &s.unsafety {
        errors.push(DslError::new(t.span, "a kernel cannot be `unsafe`"));
    }
    if let Some(t) = &s.constness {
        errors.push(DslError::new(t.span, "a kernel cannot be `const`"));
    }
    if let Some(a) = &s.abi {
        errors.push(DslError::new(a.span(), "a kernel cannot declare an ABI"));
    }
    if let Some(v) = &s.variadic {
        errors.push(DslError::new(v.span(), "a kernel cannot be variadic"));
    }
    let generic = generic_param(&s.generics, &mut errors);
    let mut params = Vec::new();
    for input in &s.inputs {
        match input {
            syn::FnArg::Receiver(r) => errors.push(DslError::new(r.span(), "a kernel cannot take `self`")),
            syn::FnArg::Typed(pt) => {
                let name = match &*pt.pat {
                    syn::Pat::Ident(pi) if pi.mutability.is_some() => {
                        errors.push(DslError::new(pi.span(), "mutation is not supported in kernels: remove `mut`"));
                        continue;
                    }
                    syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
                    other => {
                        errors.push(DslError::new(other.span(), "kernel parameters must be plain names"));
                        continue;
                    }
                };
                match parse_type(&pt.ty, generic.as_ref(), "parameter") {
                    Ok(ty) => params.push(ParamSig { name, ty }),
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    let (ret, ret_tuple) = match &s.output {
        syn::ReturnType::Default => {
            errors.push(DslError::new(
                s.ident.span(),
                "a kernel must return a value: add a return type such as `-> Array1<f32>`",
            ));
            (Vec::new(), false)
        }
        syn::ReturnType::Type(_, ty) => match &**ty {
            syn::Type::Tuple(t) if !t.elems.is_empty() => {
                let mut v = Vec::new();
                for el in &t.elems {
                    match parse_type(el, generic.as_ref(), "return") {
                        Ok(ty) => v.push(ty),
                        Err(e) => errors.push(e),
                    }
                }
                (v, true)
            }
            other => match parse_type(other, generic.as_ref(), "return") {
                Ok(ty) => (vec![ty], false),
                Err(e) => {
                    errors.push(e);
                    (Vec::new(), false)
                }
            },
        },
    };
    if errors.is_empty() {
        Ok(KernelSig { generic, params, ret, ret_tuple })
    } else {
        Err(errors)
    }
}

/// The one allowed generic parameter: `F: Float` (the bound may be a path ending in `Float`).
fn generic_param(g: &syn::Generics, errors: &mut Vec<DslError>) -> Option<syn::Ident> {
    if let Some(w) = &g.where_clause {
        errors.push(DslError::new(w.span(), "`where` clauses are not supported in kernels: write `<F: Float>`"));
    }
    let mut found = None;
    for p in &g.params {
        match p {
            syn::GenericParam::Type(tp) => {
                if found.is_some() {
                    errors.push(DslError::new(tp.ident.span(), "a kernel takes at most one generic float parameter"));
                    continue;
                }
                let ok = tp.bounds.len() == 1
                    && matches!(tp.bounds.first(), Some(syn::TypeParamBound::Trait(tb))
                        if tb.path.segments.last().is_some_and(|s| s.ident == "Float" && s.arguments.is_none()));
                if !ok || tp.default.is_some() {
                    let span = if tp.bounds.is_empty() { tp.ident.span() } else { tp.bounds.span() };
                    errors.push(DslError::new(
                        span,
                        format!(
                            "unsupported generic bound on `{}`: a kernel's type parameter must be `{}: Float`",
                            tp.ident, tp.ident
                        ),
                    ));
                }
                found = Some(tp.ident.clone());
            }
            other => errors.push(DslError::new(
                other.span(),
                "unsupported generic parameter: a kernel takes only one type parameter `F: Float`",
            )),
        }
    }
    found
}

fn elem_of(ty: &syn::Type, generic: Option<&syn::Ident>) -> Option<ElemTy> {
    let syn::Type::Path(tp) = ty else { return None };
    let id = tp.path.get_ident()?;
    if generic.is_some_and(|g| g == id) {
        return Some(ElemTy::Float);
    }
    DType::from_name(&id.to_string()).map(ElemTy::Concrete)
}

/// True for the type `usize` (sizes and indices: a scalar parameter or the target of a cast).
pub(crate) fn is_usize(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(tp) if tp.qself.is_none() && tp.path.is_ident("usize"))
}

/// Parse an element type used in a cast (`as f32`, `as F`).
pub(crate) fn parse_elem(ty: &syn::Type, generic: Option<&syn::Ident>) -> Result<ElemTy, DslError> {
    elem_of(ty, generic).ok_or_else(|| {
        DslError::new(ty.span(), format!("unsupported type `{}`: expected one of {ELEM_LIST}", quote::quote!(#ty)))
    })
}

/// Parse a type annotation of a `let` (same forms as a return type).
pub(crate) fn kernel_type(ty: &syn::Type, generic: Option<&syn::Ident>) -> Result<TySig, DslError> {
    parse_type(ty, generic, "annotated")
}

fn parse_type(ty: &syn::Type, generic: Option<&syn::Ident>, what: &str) -> Result<TySig, DslError> {
    let span = ty.span();
    if let Some(elem) = elem_of(ty, generic) {
        return Ok(TySig { elem, kind: TyKind::Scalar, span, usize: false });
    }
    if what == "parameter" && is_usize(ty) {
        return Ok(TySig { elem: ElemTy::I64, kind: TyKind::Scalar, span, usize: true });
    }
    let unsupported = || {
        let mut g = generic.map(|g| format!(" or {g}")).unwrap_or_default();
        if what == "parameter" {
            g.push_str(", or `usize` for a size");
        }
        DslError::new(
            span,
            format!(
                "unsupported {what} type `{}`: expected a scalar ({ELEM_LIST}{g}) or `Array0..3<T>`{}",
                quote::quote!(#ty).to_string().replace(" < ", "<").replace(" >", ">"),
                if what == "parameter" { " / `ArrayView0..3<T>`" } else { "" }
            ),
        )
    };
    let syn::Type::Path(tp) = ty else { return Err(unsupported()) };
    if tp.qself.is_some() {
        return Err(unsupported());
    }
    let Some(last) = tp.path.segments.last() else { return Err(unsupported()) };
    let name = last.ident.to_string();
    let (base, rank) = match name
        .strip_prefix("ArrayView")
        .map(|r| ("ArrayView", r))
        .or(name.strip_prefix("Array").map(|r| ("Array", r)))
    {
        Some((b, r)) => match r.parse::<usize>() {
            Ok(k) if k <= 3 => (b, k),
            _ => return Err(unsupported()),
        },
        None => return Err(unsupported()),
    };
    if base == "ArrayView" && what == "return" {
        return Err(DslError::new(span, "a kernel returns owned arrays: write `Array` instead of `ArrayView`"));
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return Err(unsupported()) };
    let mut elem = None;
    for a in &args.args {
        match a {
            syn::GenericArgument::Lifetime(_) if base == "ArrayView" => {}
            syn::GenericArgument::Type(t) if elem.is_none() => {
                elem = Some(elem_of(t, generic).ok_or_else(|| {
                    DslError::new(
                        t.span(),
                        format!("unsupported element type `{}`: expected one of {ELEM_LIST}", quote::quote!(#t)),
                    )
                })?)
            }
            _ => return Err(unsupported()),
        }
    }
    let elem = elem.ok_or_else(unsupported)?;
    Ok(TySig { elem, kind: TyKind::Array(rank), span, usize: false })
}
