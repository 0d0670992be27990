//! kiln-macros: the `#[kernel]` attribute, a thin shell over the `kiln-dsl` front end.
//!
//! The front end runs at compile time, so every kernel error is a `compile_error!` with the
//! span of the user's code. A kernel that checks becomes two items: a module holding the
//! kernel handle (built once from the canonical IR text embedded in the expansion) and a
//! function with the user's name that validates its arguments and calls the kernel.
//!
//! On errors the user's signature is re-emitted with a body of `unimplemented!()` beside the
//! `compile_error!`s (CubeCL style), so calls to the kernel elsewhere do not add a cascade of
//! "cannot find function" errors.

#![forbid(unsafe_code)]

mod expand;

use proc_macro::TokenStream;

/// Compile a Rust function in kiln's kernel subset into a kiln kernel.
///
/// `#[kernel]` uses the facade at `::kiln`; `#[kernel(crate = path)]` names another path.
#[proc_macro_attribute]
pub fn kernel(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::kernel(attr.into(), item.into()).into()
}
