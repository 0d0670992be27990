//! The runtime's error type: everything a call can reject, named so the user can fix it.
//!
//! Three kinds stay apart up to the caller, each a variant to match on: the user's mistake
//! (bad arguments, [`Error::Unsupported`] constructs, invalid IR), a device failure
//! ([`Error::Device`], [`Error::DeviceUnavailable`]: driver, NVRTC, the simulator's tool
//! chain) and a bug in kiln ([`Error::Internal`]: a pass that broke the verifier, generated
//! code its compiler rejects). The failure below the runtime travels typed, as the
//! [`BackendError`] source of those variants; the `From`-style conversions that sort it into
//! a kind all live in this file.

use crate::Device;
use kiln_cpu::CpuError;
use kiln_cuda::nvrtc::CudaError;
use kiln_cuda::{EmitError, SimError};
use kiln_ir::interp::InterpError;
use kiln_ir::loops::{Flag, FrameError};
use kiln_ir::lower::LowerError;
use kiln_ir::parse::ParseError;
use kiln_ir::value::{shape_tuple, size_text};
use kiln_ir::verify::VerifyErrors;
use kiln_ir::{BindError, DType};
use std::sync::Arc;
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
    InvalidIr(#[source] IrError),
    /// The user's kernel uses a construct a backend has no code for (an op on a dtype it
    /// cannot lower, a name that is not a C identifier): a user error, not a bug.
    #[error("kernel `{kernel}`: {source}")]
    Unsupported { kernel: String, source: Arc<BackendError> },
    /// A device failed while building or running the kernel: its driver, NVRTC, the
    /// simulator's C++ compiler or loader, a launch.
    #[error("kernel `{kernel}` on {device}: {source}")]
    Device { kernel: String, device: Device, source: Arc<BackendError> },
    /// A bug in kiln: a lowering pass broke the verifier, a code generator emitted code its
    /// compiler rejects, native code raised a flag the interpreter does not, a runtime
    /// invariant does not hold.
    #[error("kernel `{kernel}`: internal error: {source}")]
    Internal { kernel: String, source: Arc<BackendError> },
    /// The device cannot be opened (no driver, no such GPU) or moved data to or from.
    #[error("device {device} is not available: {source}")]
    DeviceUnavailable { device: Device, source: CudaError },
    /// An argument is not where the call runs (kiln never copies between devices
    /// implicitly): `arg` lives on `found` (`None`: a host array) while the call runs on
    /// `expected`, the device of the argument named `with` (or the device asked for).
    #[error("kernel `{kernel}`: {}", mismatch_text(.arg, .found, .with, .expected))]
    DeviceMismatch { kernel: String, arg: String, found: Option<Device>, with: Option<String>, expected: Device },
    /// An output did not have the type the caller asked for (a bug in generated glue).
    #[error("a kernel output is {got}, expected {expected}")]
    OutputType { got: String, expected: String },
    /// The call cannot run on these arguments for a reason not named above (a domain with
    /// more points than an `i64` counts).
    #[error("kernel `{kernel}`: {source}")]
    Execution { kernel: String, source: Arc<BackendError> },

    /// `NAME::into(out, ..)` given an `out` that cannot take the output.
    #[error("kernel `{kernel}`: `out` is {got} but the output is {expected}")]
    OutMismatch { kernel: String, got: String, expected: String },

    /// An output or temporary (host or device memory) could not be allocated: numpy's
    /// `MemoryError`. `what` names the buffer and the kernel.
    #[error("unable to allocate {} on {device} for an array with shape {} ({what})", size_text(*.bytes), shape_tuple(.shape))]
    OutOfMemory { device: Device, bytes: usize, shape: Vec<usize>, what: String },
    /// An output or temporary would have more bytes than an address space holds (its size
    /// overflows): numpy's `ValueError: array is too big`. Nothing was allocated.
    #[error("{what} would have shape {}: its size in bytes overflows", shape_tuple(.shape))]
    TooLarge { shape: Vec<usize>, what: String },
}

/// The words of [`Error::DeviceMismatch`]: where the argument is, where the call runs, and
/// how to move it.
fn mismatch_text(arg: &str, found: &Option<Device>, with: &Option<String>, expected: &Device) -> String {
    let here = match with {
        Some(w) => format!("`{w}` is on {expected}"),
        None => format!("the call runs on {expected}"),
    };
    match found {
        None => format!(
            "`{arg}` is a host array but {here}: make it a tensor there with \
             `Tensor::from_array(&{arg}, Device::{expected:?})`"
        ),
        Some(d) => format!("`{arg}` is on {d} but {here}: move one with `Tensor::to_device`"),
    }
}

/// Why a kernel's IR text or program was rejected before anything was built from it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IrError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Verify(#[from] VerifyErrors),
}

/// The failure below the runtime, typed: what [`Error::Unsupported`], [`Error::Device`],
/// [`Error::Internal`] and [`Error::Execution`] carry as their source. Shared (`Arc`) because
/// a failed lowering or compile is cached with its instantiation and reported to every call.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BackendError {
    #[error(transparent)]
    Lower(#[from] LowerError),
    #[error(transparent)]
    Cpu(#[from] CpuError),
    #[error(transparent)]
    Emit(#[from] EmitError),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Cuda(#[from] CudaError),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Interp(#[from] InterpError),
    /// Native code raised an error flag that the interpreter, run on the same arguments,
    /// does not raise.
    #[error("the {device} kernel raised `{}`", .flag.name())]
    Flag { device: Device, flag: Flag },
    /// A condition the runtime establishes before it gets here does not hold.
    #[error("{0}")]
    Invariant(String),
}

impl Error {
    /// The error for `source`, a failure of kernel `kernel` on `device` below the runtime,
    /// sorted into its kind: the one place that decides whose fault each backend failure is.
    pub(crate) fn backend(kernel: &str, device: Device, source: impl Into<Arc<BackendError>>) -> Error {
        let source = source.into();
        let kernel = kernel.to_string();
        match &*source {
            // The program was verified when the kernel was built and instantiated to concrete
            // types, so lowering rejecting it is a bug in a pass.
            BackendError::Lower(_) => Error::Internal { kernel, source },
            BackendError::Cpu(CpuError::Unsupported(_))
            | BackendError::Emit(EmitError::BadName { .. } | EmitError::Unsupported { .. })
            | BackendError::Interp(InterpError::Unsupported { .. }) => Error::Unsupported { kernel, source },
            BackendError::Cpu(CpuError::OutOfMemory { bytes, shape, what })
            | BackendError::Sim(SimError::OutOfMemory { bytes, shape, what })
            | BackendError::Frame(FrameError::OutOfMemory { bytes, shape, what })
            | BackendError::Interp(InterpError::OutOfMemory { bytes, shape, what }) => {
                Error::OutOfMemory { device, bytes: *bytes, shape: shape.clone(), what: what.clone() }
            }
            BackendError::Frame(FrameError::TooLarge { shape, what, .. })
            | BackendError::Interp(InterpError::TooLarge { shape, what, .. }) => {
                Error::TooLarge { shape: shape.clone(), what: what.clone() }
            }
            BackendError::Frame(FrameError::Bind(e)) | BackendError::Interp(InterpError::Bind(e)) => {
                Error::Bind(e.clone())
            }
            BackendError::Interp(InterpError::IndexOutOfBounds { array, axis, index, len }) => {
                Error::IndexOutOfBounds { kernel, array: array.clone(), axis: *axis, index: *index, len: *len }
            }
            BackendError::Interp(InterpError::EmptyArgReduce { node }) => {
                Error::EmptyArgReduce { kernel, what: node.clone() }
            }
            BackendError::Frame(FrameError::DomainOverflow { .. }) => Error::Execution { kernel, source },
            // The simulator and `kiln_cpu::run_program` build the call's frame themselves: their
            // failure sorts as the frame's.
            BackendError::Sim(SimError::Frame(e)) | BackendError::Cpu(CpuError::Frame(e)) => {
                Error::backend(&kernel, device, BackendError::Frame(e.clone()))
            }
            BackendError::Sim(
                SimError::NoCompiler { .. } | SimError::Io { .. } | SimError::Load { .. } | SimError::Launch { .. },
            )
            | BackendError::Cuda(_) => Error::Device { kernel, device, source },
            _ => Error::Internal { kernel, source },
        }
    }

    /// The error for a call of kernel `kernel` on `device` whose frame could not be built or
    /// allocated.
    pub(crate) fn from_frame(kernel: &str, device: Device, e: FrameError) -> Error {
        Error::backend(kernel, device, BackendError::from(e))
    }

    /// An internal error of kernel `kernel`: `what` should hold here and does not.
    pub(crate) fn invariant(kernel: &str, what: impl Into<String>) -> Error {
        Error::Internal { kernel: kernel.into(), source: Arc::new(BackendError::Invariant(what.into())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::loops::{LoopVerifyError, LoopVerifyErrors};

    /// The kind `e` is sorted into on `device`, as a word.
    fn kind(device: Device, e: impl Into<BackendError>) -> &'static str {
        match Error::backend("k", device, e.into()) {
            Error::Unsupported { .. } => "user",
            Error::Device { device: d, .. } if d == device => "device",
            Error::Internal { .. } => "internal",
            Error::OutOfMemory { .. } => "memory",
            other => panic!("unexpected kind: {other:?}"),
        }
    }

    #[test]
    fn each_backend_failure_has_one_kind() {
        let invalid = LoopVerifyErrors(vec![LoopVerifyError {
            program: "p".into(),
            location: "kernel k0".into(),
            message: "`x` has rank 1 but is indexed with 2 indices".into(),
        }]);
        assert_eq!(kind(Device::Cpu, CpuError::Unsupported("`neg` on u32".into())), "user");
        assert_eq!(kind(Device::Cpu, CpuError::Invalid(invalid.clone())), "internal");
        assert_eq!(kind(Device::Cpu, CpuError::Cranelift { kernel: "k0".into(), message: "m".into() }), "internal");
        assert_eq!(kind(Device::CudaSim, EmitError::Invalid(invalid)), "internal");
        assert_eq!(kind(Device::CudaSim, EmitError::BadName { what: "kernel", name: "k-0".into() }), "user");
        let no_cxx = SimError::NoCompiler { compiler: "g++".into(), reason: "not found".into() };
        assert_eq!(kind(Device::CudaSim, no_cxx), "device");
        let oom = SimError::OutOfMemory { bytes: 8, shape: vec![2], what: "out0".into() };
        assert_eq!(kind(Device::CudaSim, oom), "memory");
        let too_large = FrameError::TooLarge { what: "out0".into(), dtype: DType::F32, shape: vec![1 << 62, 8] };
        let e = Error::backend("k", Device::CudaSim, BackendError::from(SimError::Frame(too_large)));
        assert!(matches!(e, Error::TooLarge { .. }), "{e:?}");
        assert_eq!(kind(Device::Cuda(1), CudaError::NoCudaDriver), "device");
        let bug = LowerError::Internal { pass: "fuse", kernel: "k".into(), message: "m".into() };
        assert_eq!(kind(Device::Cpu, bug), "internal");
        assert_eq!(kind(Device::Cpu, BackendError::Flag { device: Device::Cpu, flag: Flag::ALL[0] }), "internal");
    }

    #[test]
    fn the_typed_failure_is_the_source() {
        let e = Error::backend("k", Device::Cpu, BackendError::from(CpuError::Unsupported("x".into())));
        let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<Arc<BackendError>>());
        let source = source.expect("the backend failure is the source");
        assert!(matches!(&**source, BackendError::Cpu(CpuError::Unsupported(w)) if w == "x"), "{source:?}");
        assert_eq!(e.to_string(), "kernel `k`: cpu backend: unsupported x");
    }
}
