//! Running a compiled program on host [`Value`]s, serially: the call's frame (symbol binding,
//! sizes, zeroed room for empty buffers; [`kiln_ir::loops::Frame`]), its host memory, the
//! argument pack, and flag reporting.
//!
//! This is the whole contract of [`CpuProgram::run`] made safe in one function; the runtime
//! adds thread splitting and caching around the same steps. A `gemm` kernel runs as a vendor
//! call ([`crate::vendor`]) on as many rayon threads as the other kernels have chunks.

use crate::{ArgPack, BufDesc, CpuError, CpuProgram};
use kiln_ir::loops::{Flag, Frame, HostMemory, LoopProgram};
use kiln_ir::Value;

/// Run every kernel of `lp` (compiled into `p`) in order over its whole domain, on `args`
/// (one value per parameter, any strides), and return the outputs in standard layout.
///
/// # Errors
/// [`CpuError::Frame`] when the arguments do not match the parameters (count, dtype,
/// rank, a dimension disagreeing with a symbol or constant, a size that overflows),
/// [`CpuError::WrongProgram`] when `p` has a different number of kernels; [`CpuError::OutOfMemory`] when an output or temporary
/// cannot be allocated; [`CpuError::Flag`] for the first error flag a kernel raised.
pub fn run_program(p: &CpuProgram, lp: &LoopProgram, args: &[Value]) -> Result<Vec<Value>, CpuError> {
    run_program_chunked(p, lp, args, 1)
}

/// [`run_program`], calling each kernel on `chunks` consecutive sub-ranges of its domain one
/// after another (as a parallel runtime would, serially): the result must not depend on it.
/// A `gemm` kernel is one library call on `chunks` rayon threads instead.
///
/// # Errors
/// As [`run_program`].
pub fn run_program_chunked(
    p: &CpuProgram,
    lp: &LoopProgram,
    args: &[Value],
    chunks: usize,
) -> Result<Vec<Value>, CpuError> {
    if p.kernels() != lp.kernels.len() {
        return Err(CpuError::WrongProgram { program: lp.name.clone(), expected: lp.kernels.len(), got: p.kernels() });
    }
    let frame = Frame::of_values(lp, args)?;
    let mem = HostMemory::new(&frame, args)?;
    let descs: Vec<BufDesc> =
        mem.ptrs.iter().zip(&mem.strides).map(|(p, s)| BufDesc { ptr: *p, strides: s.as_ptr() }).collect();
    let mut flags = vec![0u32; Flag::ALL.len()];
    let pack = ArgPack { bufs: descs.as_ptr(), syms: frame.syms.as_ptr(), flags: flags.as_mut_ptr() };
    for (ki, &len) in frame.lens.iter().enumerate() {
        // Every buffer descriptor points into a live array of the buffer's dtype whose
        // shape equals the buffer's dimensions under `frame.syms` (inputs bound against the
        // parameters by `Frame::of_values`, the others allocated so by `HostMemory`) with its
        // own strides, or, for a buffer with no elements, at the zeroed room `HostMemory`
        // allocated for the accesses a failed index check makes; outputs and temporaries are
        // owned by `mem`, inputs are never stored to (a loop IR invariant); `frame.syms` has
        // one value per symbol, `flags` one per flag, and `0..len` is the domain.
        if let Some(step) = crate::vendor::gemm_step(&lp.kernels[ki]) {
            // SAFETY: see above; the step's output is an output or temporary `mem` owns, which
            // the verifier keeps apart from its operands (no kernel reads what it writes).
            unsafe { crate::vendor::run_gemm(lp, &step, &descs, &frame.syms, chunks)? };
            continue;
        }
        let chunks = chunks.max(1) as i64;
        for c in 0..chunks {
            let (lo, hi) =
                (len / chunks * c + (len % chunks).min(c), len / chunks * (c + 1) + (len % chunks).min(c + 1));
            // SAFETY: see above; `lo..hi` lies in `0..len`.
            unsafe { p.run(ki, &pack, lo, hi) };
        }
        if let Some(f) = Flag::raised(flags.iter().copied()) {
            return Err(CpuError::Flag(f));
        }
    }
    Ok(mem.outputs(lp)?)
}
