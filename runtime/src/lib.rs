//! kiln-runtime: where kernels meet data.
//!
//! A [`Kernel`] holds a kernel's array IR and, per instantiation (the dtype of a generic
//! kernel's `F`), its lowered forms, compiled once and shared between threads. A call takes
//! [`Arg`]s (ndarray arrays or views, or scalars), validates every rank, dtype and shape
//! against the signature before anything runs, and dispatches to a [`Device`].

mod args;
mod cpu;
mod cuda;
mod debug;
mod device;
mod error;
mod kernel;
pub mod pool;
mod tensor;

/// Copies of kernel inputs in the layout a CPU vector loop wants (CPU-backend knowledge,
/// defined in `kiln_cpu`; re-exported for the algorithms that copy once and call many times).
pub use kiln_cpu::repack;

pub use args::{array_arg, scalar_arg, Arg, Element, Float, IntoArg};
/// The `KILN_DEBUG` level (0 when unset): what kiln and code built on it report.
pub use debug::level as debug_level;
pub use debug::{install_stderr_subscriber, reset_step_seconds, step_seconds, STEP_TARGET};
pub use device::{with_device, Device};

/// Whether a CUDA driver (`libcuda`) can be loaded here: without one, `Device::Cuda(n)` answers
/// typed errors.
pub fn cuda_available() -> bool {
    kiln_cuda::driver::driver_available()
}

/// The number of CUDA devices (0 without a driver).
pub fn cuda_device_count() -> usize {
    kiln_cuda::driver::device_count()
}
pub use error::{BackendError, Error, IrError, Result};
pub use kernel::{used_kernels, Kernel, KernelCell};
/// The typed failures a [`BackendError`] holds, to match on below an [`Error`]'s kind.
pub use kiln_cpu::CpuError;
pub use kiln_cuda::nvrtc::Arch;
pub use kiln_cuda::nvrtc::CudaError;
pub use kiln_cuda::{EmitError, SimError};
pub use kiln_ir::lower::PassRecord;
pub use kiln_ir::{DType, Value};
pub use pool::PoolAlloc;
pub use tensor::{tensor_arg, tensor_scalar, AnyTensor, IntoTensorArg, Tensor, TensorArg};

/// What `#[kernel]` expansions refer to. Not a stable API: only the macro uses it.
#[doc(hidden)]
pub mod __macro {
    pub use crate::args::{array_arg, out_arg, scalar_arg, take_array, take_scalar, Element, Float, IntoArg};
    pub use crate::tensor::{take_tensor, tensor_arg, tensor_scalar, IntoTensorArg, Tensor};
    pub use crate::{Kernel, KernelCell, Result};
    pub use ndarray::{Array1, Array2, Array3, ArrayViewMut, Ix0, Ix1, Ix2, Ix3};
}
