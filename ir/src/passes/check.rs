//! The `check` pass: the program must be concrete (no generic `F`) and pass the array IR
//! verifier before anything is lowered.

use crate::program::Program;
use thiserror::Error;

/// Why a program cannot be lowered.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("kernel `{kernel}` is generic over `F`: instantiate it with f32 or f64 before lowering")]
    Generic { kernel: String },
    #[error("kernel `{kernel}` is not a valid program:\n{errors}")]
    Invalid { kernel: String, errors: String },
}

/// Check that `p` is concrete and verified.
///
/// # Errors
/// [`CheckError::Generic`] for a generic program, [`CheckError::Invalid`] with the verifier's
/// findings otherwise.
pub fn check(p: &Program) -> Result<(), CheckError> {
    if p.is_generic() {
        return Err(CheckError::Generic { kernel: p.name.clone() });
    }
    verify_array(p).map_err(|errors| CheckError::Invalid { kernel: p.name.clone(), errors })
}

/// The array IR verifier, rendered as text.
///
/// FIXME: `crate::verify::verify` is being written; until it lands this checks only the
/// structural invariants lowering relies on (operands before users, valid params and outputs).
fn verify_array(p: &Program) -> Result<(), String> {
    let mut errors = vec![];
    for (i, n) in p.nodes.iter().enumerate() {
        for o in n.op.operands() {
            if o.index() >= i {
                errors.push(format!("v{i} uses {o}, which does not precede it"));
            }
        }
        if let crate::program::Op::Param(k) = n.op {
            if k as usize >= p.params.len() {
                errors.push(format!("v{i} reads parameter #{k}, which does not exist"));
            }
        }
    }
    for o in &p.outputs {
        if o.index() >= p.nodes.len() {
            errors.push(format!("output {o} does not exist"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}
