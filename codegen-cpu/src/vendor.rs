//! Vendor calls: a kernel the schedule gave to a library ([`KernelHint::Gemm`]) runs as one
//! call of the `gemm` crate (runtime-dispatched AVX2 / AVX-512 FMA micro-kernels, the engine
//! of faer's `matmul`) instead of its generated loops.
//!
//! The call takes every operand as it lies in memory: each operand's row and column strides
//! (and batch stride) are its buffer's run-time strides on the axes [`GemmStep`] names, so a
//! transposed operand or a strided view needs no copy. A batched product is one call per
//! batch element, in order. The library reorders each element's sum over `k` (blocked,
//! fused multiply-adds), so results differ from the loops' by rounding only; for a given
//! thread count they are the same from run to run.

use crate::{BufDesc, CpuError};
use kiln_ir::loops::{GemmOperand, GemmStep, Kernel, LoopProgram};
use kiln_ir::DType;

/// The GEMM step kernel `k` is, when the schedule gave it to a vendor call (its hint) and
/// `gemm` has its dtype (`f32`, `f64`); `None` runs the generated loops.
pub fn gemm_step(k: &Kernel) -> Option<GemmStep> {
    GemmStep::vendor(k)
}

/// Run `step` (a kernel of `lp`) as `gemm::gemm` calls on the buffers `bufs` under symbol
/// values `syms`, spreading each call over `threads` rayon threads (1: the calling thread).
///
/// # Errors
/// [`CpuError::Unsupported`] for a dtype `gemm` lacks (only `f32` and `f64` steps are built).
///
/// # Safety
/// `bufs` holds one descriptor per buffer of `lp`, each pointing at live memory of the
/// buffer's dtype whose shape is the buffer's dimensions under `syms`, with as many strides
/// as the buffer has axes (what [`crate::CpuProgram::run`] requires of an argument pack); the
/// step's output buffer is written by no one else during the call and overlaps no operand.
pub unsafe fn run_gemm(
    lp: &LoopProgram,
    step: &GemmStep,
    bufs: &[BufDesc],
    syms: &[i64],
    threads: usize,
) -> Result<(), CpuError> {
    let [batch, m, n, k] = step.extents(syms);
    if batch <= 0 || m <= 0 || n <= 0 {
        // Nothing to write; operand pointers may be an empty buffer's room.
        return Ok(());
    }
    let view = |op: &GemmOperand| {
        let d = bufs[op.buf.index()];
        let rank = lp.buffer(op.buf).shape.len();
        // SAFETY: the caller guarantees `rank` strides behind every descriptor.
        let strides = unsafe { std::slice::from_raw_parts(d.strides, rank) };
        (d.ptr, op.strides(strides))
    };
    let (a, b, c) = (view(&step.a), view(&step.b), view(&step.c));
    let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    let dims = (m as usize, n as usize, k as usize);
    // SAFETY (both arms): the caller's contract; every element the calls touch is one the
    // step's loop nest indexes, which the loop IR verifier proved inside its buffer.
    match step.dtype {
        // SAFETY: see "SAFETY (both arms)" above.
        DType::F32 => unsafe { call::<f32>(dims, batch, a, b, c, par, 1.0) },
        // SAFETY: see "SAFETY (both arms)" above.
        DType::F64 => unsafe { call::<f64>(dims, batch, a, b, c, par, 1.0) },
        t => return Err(CpuError::Unsupported(format!("a gemm step over {t}"))),
    }
    Ok(())
}

/// A buffer's first element and its `[batch, row, column]` strides in elements.
type View = (*mut u8, [i64; 3]);

/// `C[b] = A[b] * B[b]` for every `b < batch`, one `gemm::gemm` call each, overwriting C.
///
/// # Safety
/// As [`run_gemm`], with `T` the buffers' element type.
unsafe fn call<T: Copy + Default + 'static>(
    (m, n, k): (usize, usize, usize),
    batch: i64,
    a: View,
    b: View,
    c: View,
    par: gemm::Parallelism,
    one: T,
) {
    for p in 0..batch as isize {
        let at = |v: &View| v.0.cast::<T>().wrapping_offset(p * v.1[0] as isize);
        // SAFETY: `at` stays inside each buffer for `p < batch` (a batch stride of 0 for an
        // operand without the axis); `read_dst = false` makes C write-only (dst := lhs * rhs,
        // zeros when k = 0, without reading A or B).
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                at(&c),
                c.1[2] as isize,
                c.1[1] as isize,
                false,
                at(&a),
                a.1[2] as isize,
                a.1[1] as isize,
                at(&b),
                b.1[2] as isize,
                b.1[1] as isize,
                T::default(),
                one,
                false,
                false,
                false,
                par,
            )
        };
    }
}
