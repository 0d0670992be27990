//! kiln-cpu: the CPU backend. Every kernel of a [`LoopProgram`] is lowered to Cranelift IR
//! (CLIF) and JIT-compiled to native code with `cranelift-jit`, for the host ISA as
//! `cranelift_native` detects it (so AVX/FMA encodings are used where present).
//!
//! # ABI
//!
//! Each loop kernel becomes one native function
//!
//! ```text
//! extern "C" fn(args: *const ArgPack, start: i64, end: i64)
//! ```
//!
//! which runs the points `start..end` of the kernel's parallel domain, flattened row-major
//! (the last domain axis varies fastest). A runtime splits `0..len` into ranges and calls the
//! function once per range, from any number of threads: points are independent by the loop
//! IR's contract.
//!
//! * [`ArgPack::bufs`] points to one [`BufDesc`] per buffer of the [`LoopProgram`], in buffer
//!   order (inputs, outputs and temporaries alike). [`BufDesc::ptr`] is the address of element
//!   `[0, 0, ..]`; [`BufDesc::strides`] holds one stride per axis, in elements (not bytes), of
//!   any sign, so strided and reversed ndarray views need no copy. Rank-0 buffers have no
//!   strides (the pointer may then be anything).
//! * [`ArgPack::syms`] points to the values of the shape symbols, `syms[i]` for symbol `i`.
//! * [`ArgPack::flags`] points to one `u32` per [`Flag`] in [`Flag::ALL`] order; a kernel
//!   stores 1 into `flags[k]` when flag `k` is raised (by `Stmt::Flag` or a failed
//!   `Expr::Check`) and never clears one.
//! * Element types are stored as in Rust: `f32 f64 i32 i64 u32`, and `bool` as one byte that
//!   is 0 or 1.
//!
//! # Semantics
//!
//! Generated code follows `kiln_ir::loops::Scalar` exactly: integer arithmetic wraps, integer
//! `/ 0` and `% 0` yield 0 (and `MIN / -1` wraps) without trapping, casts are Rust `as`
//! (float -> int saturates, NaN -> 0), float `min`/`max` propagate NaN. `exp ln tanh sigmoid
//! sin cos` are polynomial code emitted inline ([`vmath`], with measured error bounds of at
//! most 2 ULP), unless [`CompileOptions::poly_math`] is off; the other transcendental
//! functions call glibc's libm (`log1pf`, `pow`, ...) through imported symbols ([`math`]).
//!
//! # Vectorization
//!
//! The innermost domain axis gets vector loops over 128-bit vectors (f32x4, i32x4, f64x2,
//! i64x2), then a scalar tail ([`simd`]): straight-line bodies (elementwise maps), bodies with
//! serial loops and `mut`s whose lanes keep the scalar loop's order (*ordered* plans:
//! contractions over rows, distances with an argmin), serial map loops (a row update),
//! and the serial reduction loops of reductions ([`simd`]'s `reduce`). Which of these a
//! kernel may take is the schedule's decision, read from its hint ([`simd::Strategies`]);
//! whether one applies, and at what width, is decided from the loop IR. The vector loops run
//! only when every access that moves with the vector axis has stride 1 at run time,
//! otherwise the scalar loop does; inputs read many times down their columns are copied
//! column-major by the runtime instead ([`simd::Plan::repack`], [`repack`]). The module documentation of
//! [`simd`] records what Cranelift does to such loops and why they are shaped as they are.

pub mod cuts;
pub mod math;
pub mod repack;
pub mod run;
pub mod simd;
pub mod tier;
pub mod vendor;
pub mod vmath;

mod jit;
mod kernel;

pub use jit::{compile, compile_with, CompileOptions, CpuProgram};
pub use run::{run_program, run_program_chunked};

use kiln_ir::loops::Flag;
use thiserror::Error;

/// The argument block of every kernel call (see the crate documentation for the ABI).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ArgPack {
    /// One descriptor per buffer of the loop program, in buffer order.
    pub bufs: *const BufDesc,
    /// The value of every shape symbol, in symbol order.
    pub syms: *const i64,
    /// One error flag per [`Flag::ALL`] entry; set to 1 when raised.
    pub flags: *mut u32,
}

/// Where one buffer lives: the address of its first element and its strides in elements.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BufDesc {
    pub ptr: *mut u8,
    /// One stride per axis, in elements (any sign); unused for rank-0 buffers.
    pub strides: *const i64,
}

/// Why a loop program could not be compiled or run on the CPU.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CpuError {
    /// A construct the CPU backend cannot lower (named in the message).
    #[error("cpu backend: unsupported {0}")]
    Unsupported(String),
    /// Cranelift rejected the generated function (a backend bug).
    #[error("cpu backend: cranelift failed on kernel `{kernel}`: {message}")]
    Cranelift { kernel: String, message: String },
    /// The loop program breaks a verifier invariant: a bug in whatever built it, told apart
    /// from [`CpuError::Unsupported`] so it never reads as the user's mistake.
    #[error("cpu backend: the loop program is invalid: {0}")]
    Invalid(#[from] kiln_ir::loops::LoopVerifyErrors),
    /// The arguments given to [`run_program`] do not fit the loop program (count, dtype, rank,
    /// a dimension disagreeing with a symbol, a size that overflows): the shared frame's error.
    #[error("cpu backend: {0}")]
    Frame(kiln_ir::loops::FrameError),
    /// The compiled code given to [`run_program`] is not the loop program's (another number of
    /// kernels).
    #[error("cpu backend: program `{program}` has {expected} kernels, the compiled code {got}")]
    WrongProgram { program: String, expected: usize, got: usize },
    /// A kernel raised an error flag (an index out of range, an empty `argmin`).
    #[error("cpu backend: kernel raised flag `{}`", .0.name())]
    Flag(Flag),
    /// An output or temporary could not be allocated (numpy's `MemoryError`).
    #[error(
        "cpu backend: unable to allocate {} for an array with shape {} ({what})",
        kiln_ir::value::size_text(*.bytes),
        kiln_ir::value::shape_tuple(.shape)
    )]
    OutOfMemory { bytes: usize, shape: Vec<usize>, what: String },
}

impl From<kiln_ir::loops::FrameError> for CpuError {
    fn from(e: kiln_ir::loops::FrameError) -> Self {
        match e {
            kiln_ir::loops::FrameError::OutOfMemory { bytes, shape, what } => {
                CpuError::OutOfMemory { bytes, shape, what }
            }
            e => CpuError::Frame(e),
        }
    }
}
