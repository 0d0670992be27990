//! Binding shape symbols from the shapes of a call's arguments, and checking that every
//! argument has the rank, dtype and dimensions its parameter declares.
//!
//! Every backend runs this before anything executes: it is what makes the symbolic shapes
//! of a kernel concrete and what guarantees generated code never indexes past an input.

use crate::program::Program;
use crate::types::{DType, Dim, ElemTy};
use thiserror::Error;

/// Why a call's arguments do not fit a kernel's signature.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BindError {
    #[error("kernel `{kernel}` takes {expected} arguments, got {got}")]
    ArgCount { kernel: String, expected: usize, got: usize },
    #[error("parameter `{param}` of `{kernel}` expects {expected}, got {got}")]
    DType { kernel: String, param: String, expected: String, got: DType },
    #[error("parameter `{param}` of `{kernel}` expects rank {expected} ({decl}), got an array of shape {got:?}")]
    Rank { kernel: String, param: String, expected: usize, decl: String, got: Vec<usize> },
    #[error("parameter `{param}` of `{kernel}` has shape {got:?}, but its axis {axis} must be {expected} ({why})")]
    Dim { kernel: String, param: String, axis: usize, expected: usize, got: Vec<usize>, why: String },
}

/// The concrete value of every shape symbol of one call, indexed by [`crate::SymId`].
pub type SymValues = Vec<usize>;

/// Check `args` (dtype and shape of each argument, in parameter order) against the
/// signature of `program` and return the value of each shape symbol.
///
/// `float` is the dtype the generic float `F` stands for, if the program is generic.
pub fn bind(program: &Program, float: Option<DType>, args: &[(DType, &[usize])]) -> Result<SymValues, BindError> {
    let kernel = &program.name;
    if args.len() != program.params.len() {
        return Err(BindError::ArgCount { kernel: kernel.clone(), expected: program.params.len(), got: args.len() });
    }
    let mut values: Vec<Option<(usize, String)>> = vec![None; program.syms.len()];
    for (param, (dtype, shape)) in program.params.iter().zip(args) {
        let expected = match (param.ty.elem, float) {
            (ElemTy::Concrete(d), _) => Some(d),
            (ElemTy::Float, Some(f)) => Some(f),
            (ElemTy::Float, None) => None,
        };
        let ok = match expected {
            Some(d) => d == *dtype,
            None => dtype.is_float(),
        };
        if !ok {
            let expected = expected.map(|d| d.to_string()).unwrap_or_else(|| "a float type (f32 or f64)".into());
            return Err(BindError::DType { kernel: kernel.clone(), param: param.name.clone(), expected, got: *dtype });
        }
        if shape.len() != param.ty.rank() {
            return Err(BindError::Rank {
                kernel: kernel.clone(),
                param: param.name.clone(),
                expected: param.ty.rank(),
                decl: shape_text(program, &param.ty.shape),
                got: shape.to_vec(),
            });
        }
        for (axis, (dim, &len)) in param.ty.shape.iter().zip(shape.iter()).enumerate() {
            match *dim {
                Dim::Const(c) if c as usize != len => {
                    return Err(BindError::Dim {
                        kernel: kernel.clone(),
                        param: param.name.clone(),
                        axis,
                        expected: c as usize,
                        got: shape.to_vec(),
                        why: "fixed by the kernel".into(),
                    })
                }
                Dim::Const(_) => {}
                Dim::Sym(s) => match &values[s.0 as usize] {
                    Some((v, from)) if *v != len => {
                        return Err(BindError::Dim {
                            kernel: kernel.clone(),
                            param: param.name.clone(),
                            axis,
                            expected: *v,
                            got: shape.to_vec(),
                            why: format!("`{}` = {} from {}", program.sym_name(s), v, from),
                        })
                    }
                    Some(_) => {}
                    None => {
                        values[s.0 as usize] = Some((len, format!("parameter `{}`", param.name)));
                    }
                },
            }
        }
    }
    // Symbols no parameter binds cannot occur in a verified program; give them 0 defensively.
    Ok(values.into_iter().map(|v| v.map(|(n, _)| n).unwrap_or(0)).collect())
}

/// The concrete length of a dimension under `syms`.
pub fn dim_value(dim: Dim, syms: &[usize]) -> usize {
    match dim {
        Dim::Const(c) => c as usize,
        Dim::Sym(s) => syms[s.0 as usize],
    }
}

/// `[n, 3]`-style text of a symbolic shape.
pub fn shape_text(program: &Program, shape: &[Dim]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|d| match d {
            Dim::Const(c) => c.to_string(),
            Dim::Sym(s) => program.sym_name(*s).to_string(),
        })
        .collect();
    format!("[{}]", dims.join(", "))
}
