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
    Invalid { kernel: String, errors: crate::verify::VerifyErrors },
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
    crate::verify::verify(p).map_err(|errors| CheckError::Invalid { kernel: p.name.clone(), errors })
}
