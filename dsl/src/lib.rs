//! kiln-dsl: the kernel front end. It turns one Rust function written in kiln's subset of Rust
//! (ndarray's vocabulary, as the README's examples show) into a typed, verified
//! [`kiln_ir::Program`].
//!
//! The `#[kernel]` macro and the `kiln` CLI both call this crate, so a kernel means the same
//! thing whether it is compiled into a crate or inspected from a file.
//!
//! Type checking happens while nodes are built: every node gets its type at once and every
//! error carries the span of the user code that caused it. Errors are collected (a failed
//! `let` poisons its name so one mistake is reported once, not at every later use).
//!
//! Modules in the order data flows: [`sig`] (the signature), `build` (the node builder: types,
//! shape symbols and their union-find), `expr` (expressions and statements), `calls` (methods,
//! functions, reductions and their desugarings), `extent` (sizes: dimensions, scalars and their
//! arithmetic), `slice` (`s![]` and `slice_axis`).
//!
//! Literal typing: a float literal takes the float type of the other operand (`2.0 * x` works
//! for `f32`, `f64` and a generic `F`); an integer literal takes the other operand's type,
//! integer or float (so `x * 2` is accepted for a float `x`, unlike Rust, as in numpy). A
//! literal with nothing to adopt is `f64` or `i64`.

#![forbid(unsafe_code)]

mod build;
mod calls;
mod constructors;
mod consts;
mod expr;
mod extent;
mod hints;
mod scans;
mod scatter;
pub mod sig;
mod slice;
mod sorts;

use proc_macro2::Span;
use std::fmt;

pub use sig::{kernel_signature, KernelSig, ParamSig, TyKind, TySig};

/// A user error in a kernel: the span of the offending code and a rustc-like message.
#[derive(Clone, Debug)]
pub struct DslError {
    pub span: Span,
    pub message: String,
}

impl DslError {
    pub fn new(span: Span, message: impl Into<String>) -> DslError {
        DslError { span, message: message.into() }
    }

    /// 1-based line and 1-based column of the start of the span (meaningful when the tokens
    /// came from [`parse_file`]; inside a proc-macro the compiler renders the span itself).
    pub fn line_col(&self) -> (usize, usize) {
        let start = self.span.start();
        (start.line, start.column + 1)
    }
}

impl fmt::Display for DslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DslError {}

/// Why a source file could not be read as Rust at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file is not valid Rust syntax. `line` and `col` are 1-based.
    #[error("{line}:{col}: syntax error: {message}")]
    Syntax { line: usize, col: usize, message: String },
}

/// One `#[kernel]` function found in a source file, with the result of its front end.
#[derive(Debug)]
pub struct KernelSource {
    pub name: String,
    pub result: Result<kiln_ir::Program, Vec<DslError>>,
}

/// Run the front end on one kernel function: signature, body, type and shape checking,
/// verification.
///
/// # Errors
/// Every user error found, each with the span of the offending code. A program the verifier
/// rejects is reported as an `internal error` (a bug in this crate, not in the kernel).
pub fn parse_kernel(item: &syn::ItemFn) -> Result<kiln_ir::Program, Vec<DslError>> {
    let sig = kernel_signature(item)?;
    let program = expr::lower_kernel(item, &sig)?;
    if let Err(e) = kiln_ir::verify::verify(&program) {
        let msg = format!("internal error: the kiln front end built an invalid program for `{}`: {e}", program.name);
        return Err(vec![DslError::new(item.sig.ident.span(), msg)]);
    }
    Ok(program)
}

/// Find every function carrying `#[kernel]` or `#[kiln::kernel]` in a Rust source file (inline
/// modules included) and run the front end on each, in source order.
///
/// # Errors
/// [`FileError::Syntax`] when the file does not parse as Rust. Errors inside a kernel are in
/// that kernel's [`KernelSource::result`].
pub fn parse_file(source: &str) -> Result<Vec<KernelSource>, FileError> {
    let file = syn::parse_file(source).map_err(|e| {
        let start = e.span().start();
        FileError::Syntax { line: start.line, col: start.column + 1, message: e.to_string() }
    })?;
    let mut out = Vec::new();
    collect_kernels(&file.items, &mut out);
    Ok(out)
}

fn collect_kernels(items: &[syn::Item], out: &mut Vec<KernelSource>) {
    for item in items {
        match item {
            syn::Item::Fn(f) if f.attrs.iter().any(is_kernel_attr) => {
                out.push(KernelSource { name: f.sig.ident.to_string(), result: parse_kernel(f) });
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect_kernels(items, out);
                }
            }
            _ => {}
        }
    }
}

/// `#[kernel]`, `#[kernel(...)]`, `#[kiln::kernel]` or `#[::kiln::kernel]`.
pub fn is_kernel_attr(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    matches!(segs.iter().map(String::as_str).collect::<Vec<_>>().as_slice(), ["kernel"] | ["kiln", "kernel"])
}
