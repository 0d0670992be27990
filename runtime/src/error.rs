//! The runtime's error type: everything a call can reject, named so the user can fix it.

use crate::Device;
use kiln_ir::loops::FrameError;
use kiln_ir::value::{shape_tuple, size_text};
use kiln_ir::{BindError, DType};
use thiserror::Error;

/// Result of a kiln call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a kernel could not be built or called.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The arguments do not fit the kernel's signature (count, dtype, rank or shape).
    #[error(transparent)]
    Bind(#[from] BindError),
    /// A gather read an index outside its array.
    #[error("kernel `{kernel}`: index {index} is out of range for axis {axis} of `{array}` (length {len})")]
    IndexOutOfBounds { kernel: String, array: String, axis: usize, index: i64, len: usize },
    /// `argmin`/`argmax` over an empty range.
    #[error("kernel `{kernel}`: argmin/argmax of an empty sequence ({what})")]
    EmptyArgReduce { kernel: String, what: String },
    /// A generic kernel was called without a way to tell what `F` is.
    #[error("kernel `{kernel}` is generic over `F: Float`: give the float dtype (f32 or f64)")]
    NeedsFloatType { kernel: String },
    /// `F` must be f32 or f64.
    #[error("kernel `{kernel}`: `F` must be f32 or f64, not {dtype}")]
    NotAFloat { kernel: String, dtype: DType },
    /// The IR text of a kernel does not parse or verify (a bug in whatever produced it).
    #[error("kernel IR is invalid: {0}")]
    InvalidIr(String),
    /// Lowering array IR to loop IR failed.
    #[error("kernel `{kernel}`: lowering failed: {message}")]
    Lower { kernel: String, message: String },
    /// A backend could not compile the kernel (an unsupported op, a code generator bug).
    #[error("kernel `{kernel}`: the {device} backend failed: {message}")]
    Backend { kernel: String, device: String, message: String },
    /// The device cannot run this yet or at all.
    #[error("device {device} is not available: {why}")]
    DeviceUnavailable { device: Device, why: String },
    /// Arguments on different devices (kiln never copies between devices implicitly).
    #[error("kernel `{kernel}`: {message}")]
    DeviceMismatch { kernel: String, message: String },
    /// An output did not have the type the caller asked for (a bug in generated glue).
    #[error("a kernel output is {got}, expected {expected}")]
    OutputType { got: String, expected: String },
    /// Anything else the interpreter reports.
    #[error("kernel `{kernel}`: {message}")]
    Execution { kernel: String, message: String },

    /// `NAME::into(out, ..)` given an `out` that cannot take the output.
    #[error("kernel `{kernel}`: `out` is {got} but the output is {expected}")]
    OutMismatch { kernel: String, got: String, expected: String },

    /// An output or temporary (host or device memory) could not be allocated: numpy's
    /// `MemoryError`. `what` names the buffer and the kernel.
    #[error("unable to allocate {} for an array with shape {} ({what})", size_text(*.bytes), shape_tuple(.shape))]
    OutOfMemory { bytes: usize, shape: Vec<usize>, what: String },
    /// An output or temporary would have more bytes than an address space holds (its size
    /// overflows): numpy's `ValueError: array is too big`. Nothing was allocated.
    #[error("{what} would have shape {}: its size in bytes overflows", shape_tuple(.shape))]
    TooLarge { shape: Vec<usize>, what: String },
}

impl Error {
    /// The error for a call of kernel `kernel` whose frame could not be built or allocated.
    pub(crate) fn from_frame(kernel: &str, e: FrameError) -> Error {
        match e {
            FrameError::Bind(e) => Error::Bind(e),
            FrameError::OutOfMemory { bytes, shape, what } => Error::OutOfMemory { bytes, shape, what },
            FrameError::TooLarge { shape, what, .. } => Error::TooLarge { shape, what },
            e => Error::Execution { kernel: kernel.into(), message: e.to_string() },
        }
    }
}
