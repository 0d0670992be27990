//! The expansion of `#[kernel]`, on `proc_macro2` tokens so it can be unit-tested.

use kiln_dsl::{DslError, KernelSig, TyKind, TySig};
use kiln_ir::ElemTy;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// Expand `#[kernel(attr)] item`. Never panics: a panic in the front end becomes an
/// `internal error` compile error.
pub fn kernel(attr: TokenStream, item: TokenStream) -> TokenStream {
    let krate = match parse_attr(attr) {
        Ok(k) => k,
        Err(e) => return e.to_compile_error(),
    };
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = syn::Error::new(e.span(), format!("#[kernel] applies to a function: {e}")).to_compile_error();
            return quote!(#err #item);
        }
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| expand_checked(&krate, &func)));
    match result {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(errors)) => error_output(&func, &errors),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let errors = vec![DslError::new(
                func.sig.ident.span(),
                format!("internal error: the kiln front end panicked: {msg}"),
            )];
            error_output(&func, &errors)
        }
    }
}

/// `crate = path`, or nothing (`::kiln`).
fn parse_attr(attr: TokenStream) -> syn::Result<syn::Path> {
    if attr.is_empty() {
        return Ok(syn::parse_quote!(::kiln));
    }
    let mut path = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            path = Some(meta.value()?.parse::<syn::Path>()?);
            Ok(())
        } else {
            Err(meta.error("unknown #[kernel] option: expected `crate = path`"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    path.ok_or_else(|| syn::Error::new(Span::call_site(), "expected `crate = path`"))
}

/// The `compile_error!`s and the user's signature with a placeholder body.
fn error_output(func: &syn::ItemFn, errors: &[DslError]) -> TokenStream {
    let errs = errors.iter().map(|e| {
        let msg = &e.message;
        quote_spanned!(e.span=> ::core::compile_error!(#msg);)
    });
    let attrs = func.attrs.iter().filter(|a| !kiln_dsl::is_kernel_attr(a));
    let vis = &func.vis;
    let sig = &func.sig;
    quote! {
        #(#errs)*
        #(#attrs)*
        #[allow(unused_variables, dead_code, unreachable_code)]
        #vis #sig { ::core::unimplemented!() }
    }
}

fn expand_checked(krate: &syn::Path, func: &syn::ItemFn) -> Result<TokenStream, Vec<DslError>> {
    let sig = kiln_dsl::kernel_signature(func)?;
    let program = kiln_dsl::parse_kernel(func)?;
    if let Some(r) = sig.ret.iter().find(|r| r.kind == TyKind::Array(0)) {
        return Err(vec![DslError::new(r.span, "a kernel returns scalars as `T`, not `Array0<T>`")]);
    }
    Ok(emit(krate, func, &sig, &program.to_string()))
}

fn elem_tokens(elem: ElemTy, generic: Option<&syn::Ident>) -> TokenStream {
    match (elem, generic) {
        (ElemTy::Float, Some(g)) => quote!(#g),
        (ElemTy::Concrete(d), _) => {
            let id = format_ident!("{}", d.name());
            quote!(#id)
        }
        // A generic element without a generic parameter cannot come out of the signature.
        (ElemTy::Float, None) => quote!(f64),
    }
}

fn ix(k: &syn::Path, rank: usize) -> TokenStream {
    let id = format_ident!("Ix{}", rank);
    quote!(#k::__macro::#id)
}

fn ret_type(k: &syn::Path, t: &TySig, g: Option<&syn::Ident>) -> TokenStream {
    let e = elem_tokens(t.elem, g);
    match t.kind {
        TyKind::Scalar => e,
        TyKind::Array(r) => {
            let a = format_ident!("Array{}", r);
            quote!(#k::__macro::#a<#e>)
        }
    }
}

fn take(k: &syn::Path, t: &TySig, g: Option<&syn::Ident>) -> TokenStream {
    let e = elem_tokens(t.elem, g);
    match t.kind {
        TyKind::Scalar => quote!(#k::__macro::take_scalar::<#e>(&mut __outs)?),
        TyKind::Array(r) => {
            let d = ix(k, r);
            quote!(#k::__macro::take_array::<#e, #d>(&mut __outs)?)
        }
    }
}

/// The module with the kernel handle and the callable function.
pub fn emit(k: &syn::Path, func: &syn::ItemFn, sig: &KernelSig, ir_text: &str) -> TokenStream {
    let g = sig.generic.as_ref();
    let name = &func.sig.ident;
    let vis = &func.vis;
    let attrs: Vec<_> = func.attrs.iter().filter(|a| !kiln_dsl::is_kernel_attr(a)).collect();
    let (mut params, mut args) = (Vec::new(), Vec::new());
    let (mut tparams, mut targs) = (Vec::new(), Vec::new());
    for p in &sig.params {
        let n = &p.name;
        let e = elem_tokens(p.ty.elem, g);
        match p.ty.kind {
            // A `usize` size is an `i64` scalar in the IR; one past `i64::MAX` saturates, so the
            // call fails with a typed size error rather than wrapping negative.
            TyKind::Scalar if p.ty.usize => {
                let v = quote!(<i64 as ::core::convert::TryFrom<usize>>::try_from(#n).unwrap_or(i64::MAX));
                params.push(quote!(#n: usize));
                args.push(quote!(#k::__macro::scalar_arg(#v)));
                tparams.push(quote!(#n: usize));
                targs.push(quote!(#k::__macro::tensor_scalar(#v)));
            }
            TyKind::Scalar => {
                params.push(quote!(#n: #e));
                args.push(quote!(#k::__macro::scalar_arg(#n)));
                tparams.push(quote!(#n: #e));
                targs.push(quote!(#k::__macro::tensor_scalar(#n)));
            }
            TyKind::Array(r) => {
                let d = ix(k, r);
                params.push(quote!(#n: impl #k::__macro::IntoArg<'kiln, #e, #d>));
                args.push(quote!(#k::__macro::array_arg(#n)));
                tparams.push(quote!(#n: impl #k::__macro::IntoTensorArg<'kiln, #e, #d>));
                targs.push(quote!(#k::__macro::tensor_arg(#n)));
            }
        }
    }
    let trets: Vec<_> = sig
        .ret
        .iter()
        .map(|t| {
            let e = elem_tokens(t.elem, g);
            quote!(#k::__macro::Tensor<#e>)
        })
        .collect();
    let ttakes: Vec<_> = sig
        .ret
        .iter()
        .map(|t| {
            let e = elem_tokens(t.elem, g);
            quote!(#k::__macro::take_tensor::<#e>(&mut __outs)?)
        })
        .collect();
    let (tret_ty, tret_val) = if sig.ret_tuple {
        (quote!((#(#trets,)*)), quote!((#(#ttakes,)*)))
    } else {
        (quote!(#(#trets)*), quote!(#(#ttakes)*))
    };
    let rets: Vec<_> = sig.ret.iter().map(|t| ret_type(k, t, g)).collect();
    let takes: Vec<_> = sig.ret.iter().map(|t| take(k, t, g)).collect();
    let (ret_ty, ret_val) = if sig.ret_tuple {
        (quote!((#(#rets,)*)), quote!((#(#takes,)*)))
    } else {
        (quote!(#(#rets)*), quote!(#(#takes)*))
    };
    let (generics, float) = match g {
        Some(g) => (
            quote!(<'kiln, #g: #k::__macro::Float>),
            quote!(::std::option::Option::Some(<#g as #k::__macro::Element>::DTYPE)),
        ),
        None => (quote!(<'kiln>), quote!(::std::option::Option::None)),
    };
    let doc = format!("The kiln kernel handle of [`{name}`] (its IR, compile caches and inspection).");
    let tdoc = format!(
        "[`{name}`](fn@super::{name}) on tensors: runs on the device the tensors live on and returns tensors there \
         (scalar outputs as one-element tensors). Host arrays may be mixed in only with tensors in host memory."
    );
    // `NAME::into(out, ..)` for a kernel with one array output: stores into the caller's array.
    let into = match (&sig.ret[..], sig.ret_tuple) {
        ([t @ TySig { kind: TyKind::Array(r), .. }], false) => {
            let e = elem_tokens(t.elem, g);
            let d = ix(k, *r);
            let idoc = format!(
                "[`{name}`](fn@super::{name}) writing its output into `out` (the output's shape, any layout) instead of \
                 a new array, like numpy's `out=`: a loop reusing one output skips allocating and first-touching new \
                 memory. On an error `out` may be partly written."
            );
            quote! {
                #[doc = #idoc]
                #[allow(clippy::too_many_arguments)]
                pub fn into #generics (out: #k::__macro::ArrayViewMut<'_, #e, #d>, #(#params),*) -> #k::__macro::Result<()> {
                    let __args = ::std::vec![#(#args),*];
                    kernel().call_into(#float, __args, #k::__macro::out_arg(out))
                }
            }
        }
        _ => quote!(),
    };
    quote! {
        #[doc = #doc]
        #[allow(non_snake_case, dead_code)]
        #vis mod #name {
            /// The kernel handle, built once from the embedded IR text.
            pub fn kernel() -> &'static #k::__macro::Kernel {
                static CELL: #k::__macro::KernelCell = #k::__macro::KernelCell::new(#ir_text);
                CELL.get()
            }

            #[doc = #tdoc]
            #[allow(clippy::needless_question_mark, clippy::too_many_arguments)]
            pub fn tensors #generics (#(#tparams),*) -> #k::__macro::Result<#tret_ty> {
                let __args = ::std::vec![#(#targs),*];
                let mut __outs = kernel().call_tensors(#float, __args)?.into_iter();
                ::std::result::Result::Ok(#tret_val)
            }

            #into
        }
        #(#attrs)*
        #[allow(clippy::needless_question_mark, clippy::too_many_arguments)]
        #vis fn #name #generics (#(#params),*) -> #k::__macro::Result<#ret_ty> {
            let __args = ::std::vec![#(#args),*];
            let mut __outs = #name::kernel().call(#float, __args)?.into_iter();
            ::std::result::Result::Ok(#ret_val)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(src: &str) -> String {
        kernel(TokenStream::new(), src.parse().expect("tokens")).to_string()
    }

    #[test]
    fn axpby_expansion_has_the_documented_shape() {
        let out = expand(
            "/// Scaled sum.\n#[kernel] pub fn axpby(a: f32, x: Array1<f32>, b: f32, y: Array1<f32>) -> Array1<f32> { a * x + b * y }",
        );
        assert!(out.contains("pub mod axpby"), "{out}");
        assert!(out.contains("static CELL : :: kiln :: __macro :: KernelCell = :: kiln :: __macro :: KernelCell :: new (\"kernel axpby"), "{out}");
        assert!(out.contains("pub fn axpby < 'kiln > (a : f32 , x : impl :: kiln :: __macro :: IntoArg < 'kiln , f32 , :: kiln :: __macro :: Ix1 >"), "{out}");
        assert!(out.contains("-> :: kiln :: __macro :: Result < :: kiln :: __macro :: Array1 < f32 > >"), "{out}");
        assert!(out.contains(":: kiln :: __macro :: scalar_arg (a) , :: kiln :: __macro :: array_arg (x)"), "{out}");
        assert!(out.contains("call (:: std :: option :: Option :: None , __args)"), "{out}");
        assert!(out.contains("take_array :: < f32 , :: kiln :: __macro :: Ix1 > (& mut __outs) ?"), "{out}");
        assert!(out.contains("# [doc = \" Scaled sum.\"]"), "{out}");
        assert!(!out.contains("# [kernel]"), "the attribute itself is consumed: {out}");
    }

    #[test]
    fn generic_kernels_keep_their_parameter_and_pass_the_dtype() {
        let out = kernel(
            quote!(crate = my::kiln),
            "fn standardize<F: Float>(x: Array2<F>) -> (Array2<F>, F) { (x.clone(), x.sum()) }"
                .parse()
                .expect("tokens"),
        )
        .to_string();
        assert!(out.contains("fn standardize < 'kiln , F : my :: kiln :: __macro :: Float >"), "{out}");
        assert!(out.contains("Some (< F as my :: kiln :: __macro :: Element > :: DTYPE)"), "{out}");
        assert!(out.contains("take_scalar :: < F > (& mut __outs) ?"), "{out}");
        assert!(
            out.contains("-> my :: kiln :: __macro :: Result < (my :: kiln :: __macro :: Array2 < F > , F ,) >"),
            "{out}"
        );
    }

    #[test]
    fn errors_become_compile_errors_beside_the_signature() {
        let out = expand("#[kernel] fn bad(x: Array1<f32>) -> Array1<f32> { frob(x) }");
        assert!(out.contains("compile_error ! (\"cannot find function `frob` in kiln kernels\")"), "{out}");
        assert!(
            out.contains("fn bad (x : Array1 < f32 >) -> Array1 < f32 > { :: core :: unimplemented ! () }"),
            "{out}"
        );
    }

    #[test]
    fn bad_attribute_is_an_error_not_a_panic() {
        let out = kernel(quote!(krate = x), "fn k(x: f32) -> f32 { x }".parse().expect("tokens")).to_string();
        assert!(out.contains("compile_error"), "{out}");
    }
}
