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
//!
//! A split-K step ([`GemmStep::split_k`]: a contraction over the rows, `x.t().dot(&x)`) runs
//! as [`split_k_chunks`] chunks of `k` on the rayon pool: chunk 0 a single-threaded call
//! into C itself, chunk `c > 0` one into its own zero-initialised partial, then C plus the
//! partials in chunk order. The `gemm` crate parallelises over the output only, which for a
//! small output over many rows is one thread; cutting `k` keeps every thread busy, and the
//! fixed chunking and summation order keep results the same from run to run for a thread
//! count.
//!
//! A symmetric step ([`GemmStep::symmetric`]: `x.t().dot(&x)`, `x.dot(&x.t())`) of at least
//! [`SYRK_MIN`] rows computes one triangle, as BLAS's `syrk` does: C's rows are cut into
//! [`syrk_panels`], and row panel `lo..hi` is one call for columns `0..hi` only (the blocks on
//! and below the diagonal, about half the multiply-adds); the strictly upper triangle is then
//! copied from the lower one, so C is exactly symmetric. A split-K step does the same in
//! every chunk and sums the partials over the lower triangle only.

use crate::{BufDesc, CpuError};
use kiln_ir::loops::{split_k_chunks, split_k_range, GemmOperand, GemmStep, Kernel, LoopProgram};
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
    let chunks = if step.split_k { split_k_chunks([batch, m, n, k], threads) } else { 1 };
    let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    let dims = (m as usize, n as usize, k as usize);
    // One triangle when the product is symmetric and has rows enough for two panels.
    let sym = step.symmetric() && m == n && m as usize >= SYRK_MIN;
    // SAFETY (all arms): the caller's contract; every element the calls touch is one the
    // step's loop nest indexes, which the loop IR verifier proved inside its buffer.
    match (step.dtype, chunks) {
        // SAFETY: see "SAFETY (all arms)" above.
        (DType::F32, 1) => unsafe { call::<f32>(dims, batch, a, b, c, par, sym, 1.0) },
        // SAFETY: see "SAFETY (all arms)" above.
        (DType::F64, 1) => unsafe { call::<f64>(dims, batch, a, b, c, par, sym, 1.0) },
        // SAFETY: see "SAFETY (all arms)" above.
        (DType::F32, _) => unsafe { split_call::<f32>(dims, batch, a, b, c, chunks, sym, 1.0) },
        // SAFETY: see "SAFETY (all arms)" above.
        (DType::F64, _) => unsafe { split_call::<f64>(dims, batch, a, b, c, chunks, sym, 1.0) },
        (t, _) => return Err(CpuError::Unsupported(format!("a gemm step over {t}"))),
    }
    Ok(())
}

/// The fewest rows of a symmetric product computed as one triangle: below it the output is
/// one panel, and the whole product is one call.
pub const SYRK_MIN: usize = 128;

/// The row panels `[lo, hi)` of a symmetric `m x m` product computed as one triangle: about
/// `m / 64` panels (at most 16) of sizes differing by at most one, in order, covering
/// `0..m`. Panel `lo..hi` computes columns `0..hi`: `(panels + 1) / (2 * panels)` of the
/// product's multiply-adds in all.
pub fn syrk_panels(m: usize) -> Vec<(usize, usize)> {
    let p = (m / 64).clamp(1, 16);
    let (q, r) = (m / p, m % p);
    let at = |c: usize| q * c + r.min(c);
    (0..p).map(|c| (at(c), at(c + 1))).collect()
}

/// One `gemm::gemm` call `dst := lhs * rhs` (`m x n`, summed over `k`), each operand as its
/// first element and its `(row, column)` strides in elements.
///
/// # Safety
/// Every element the product indexes lies inside a live buffer of `T`; `dst` overlaps no
/// operand and no one else writes it during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_into<T: Copy + Default + 'static>(
    (m, n, k): (usize, usize, usize),
    dst: (*mut T, isize, isize),
    lhs: (*const T, isize, isize),
    rhs: (*const T, isize, isize),
    par: gemm::Parallelism,
    one: T,
) {
    // SAFETY: the caller's contract; `read_dst = false` makes `dst` write-only.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.0,
            dst.2,
            dst.1,
            false,
            lhs.0,
            lhs.2,
            lhs.1,
            rhs.0,
            rhs.2,
            rhs.1,
            T::default(),
            one,
            false,
            false,
            false,
            par,
        )
    }
}

/// `dst := lhs * rhs` for a symmetric `m x m` product, the panels of [`syrk_panels`]: row
/// panel `lo..hi` one call for columns `0..hi`. Only the lower triangle (with the diagonal)
/// is meaningful afterwards; [`mirror_lower`] completes it.
///
/// # Safety
/// As [`gemm_into`] for the whole `m x m` product.
unsafe fn syrk_lower<T: Copy + Default + 'static>(
    m: usize,
    k: usize,
    dst: (*mut T, isize, isize),
    lhs: (*const T, isize, isize),
    rhs: (*const T, isize, isize),
    par: gemm::Parallelism,
    one: T,
) {
    for (lo, hi) in syrk_panels(m) {
        let d = (dst.0.wrapping_offset(lo as isize * dst.1), dst.1, dst.2);
        let l = (lhs.0.wrapping_offset(lo as isize * lhs.1), lhs.1, lhs.2);
        // SAFETY: rows `lo..hi` and columns `0..hi` of the product lie inside it.
        unsafe { gemm_into((hi - lo, hi, k), d, l, rhs, par, one) };
    }
}

/// Copy the strict lower triangle of the `m x m` matrix at `dst` (row and column strides)
/// onto its strict upper triangle.
///
/// # Safety
/// `dst` is an `m x m` matrix of `T` with these strides that no one else accesses.
unsafe fn mirror_lower<T: Copy>(m: usize, dst: (*mut T, isize, isize)) {
    let (p, rs, cs) = dst;
    for i in 0..m as isize {
        for j in i + 1..m as isize {
            // SAFETY: `(i, j)` and `(j, i)` are elements of the matrix.
            unsafe { *p.offset(i * rs + j * cs) = *p.offset(j * rs + i * cs) };
        }
    }
}

/// A pointer the split-K chunks share across the pool's threads.
#[derive(Clone, Copy)]
struct Shared(*mut u8);
// SAFETY: each chunk writes only its own partial (or C, chunk 0 alone) and reads A and B,
// which no one writes during the call (see `split_call`).
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    /// The pointer (a method, so that a closure captures the whole `Shared`, not its field).
    fn get(self) -> *mut u8 {
        self.0
    }
}

/// `C[b] = A[b] * B[b]` for every `b < batch` as `chunks` (at least 2) split-K calls each: the
/// `k` range of chunk `c` ([`split_k_range`]) one single-threaded call, chunk 0 into C, chunk
/// `c > 0` into partial `c - 1` (row-major `m x n`, owned here), all chunks at once on the
/// rayon pool; then each partial added into C in chunk order.
///
/// # Safety
/// As [`run_gemm`], with `T` the buffers' element type.
#[allow(clippy::too_many_arguments)]
unsafe fn split_call<T>(
    (m, n, k): (usize, usize, usize),
    batch: i64,
    a: View,
    b: View,
    c: View,
    chunks: usize,
    sym: bool,
    one: T,
) where
    T: Copy + Default + std::ops::Add<Output = T> + Send + Sync + 'static,
{
    use rayon::prelude::*;
    let mut partials = vec![T::default(); (chunks - 1) * m * n];
    // Every access to the partials goes through this pointer (until they are dropped).
    let base = Shared(partials.as_mut_ptr().cast());
    let (ap, bp, cp) = (Shared(a.0), Shared(b.0), Shared(c.0));
    for p in 0..batch as isize {
        (0..chunks).into_par_iter().for_each(|ch| {
            let (lo, hi) = split_k_range(k as i64, chunks, ch);
            let (lo, len) = (lo as isize, (hi - lo) as usize);
            // Operands at batch `p`, moved to row `lo` of the summed axis (A's columns, B's
            // rows); the output C at batch `p`, or partial `ch - 1`.
            let at = |ptr: Shared, st: [i64; 3], l: i64| {
                ptr.get().cast::<T>().wrapping_offset(p * st[0] as isize + lo * l as isize)
            };
            let (dst, rs, cs) = if ch == 0 {
                (at(cp, c.1, 0), c.1[1] as isize, c.1[2] as isize)
            } else {
                (base.get().cast::<T>().wrapping_add((ch - 1) * m * n), n as isize, 1)
            };
            let lhs = (at(ap, a.1, a.1[2]).cast_const(), a.1[1] as isize, a.1[2] as isize);
            let rhs = (at(bp, b.1, b.1[1]).cast_const(), b.1[1] as isize, b.1[2] as isize);
            let none = gemm::Parallelism::None;
            // SAFETY: rows `lo..lo + len` of the summed axis lie in `0..k`, so every element
            // read is one the step's loop nest indexes (the caller's contract); `dst` is C at
            // batch `p` (chunk 0 only) or this chunk's own `m x n` partial, written by this
            // call alone.
            unsafe {
                if sym {
                    syrk_lower(m, len, (dst, rs, cs), lhs, rhs, none, one)
                } else {
                    gemm_into((m, n, len), (dst, rs, cs), lhs, rhs, none, one)
                }
            };
        });
        let cb = c.0.cast::<T>().wrapping_offset(p * c.1[0] as isize);
        for i in 0..m {
            // A symmetric product's partials hold the lower triangle only.
            let cols = if sym { i + 1 } else { n };
            for j in 0..cols {
                let e = cb.wrapping_offset(i as isize * c.1[1] as isize + j as isize * c.1[2] as isize);
                // SAFETY: `(i, j)` is an element of C at batch `p` (the caller's contract),
                // which no chunk writes any more; the partials hold `(chunks - 1) * m * n`.
                unsafe {
                    let mut acc = *e;
                    for q in 0..chunks - 1 {
                        acc = acc + *base.get().cast::<T>().add(q * m * n + i * n + j);
                    }
                    *e = acc;
                }
            }
        }
        if sym {
            // SAFETY: C at batch `p` is an `m x m` matrix with these strides, written by no
            // chunk any more.
            unsafe { mirror_lower(m, (cb, c.1[1] as isize, c.1[2] as isize)) };
        }
    }
}

/// A buffer's first element and its `[batch, row, column]` strides in elements.
type View = (*mut u8, [i64; 3]);

/// `C[b] = A[b] * B[b]` for every `b < batch`, one `gemm::gemm` call each, overwriting C.
///
/// # Safety
/// As [`run_gemm`], with `T` the buffers' element type.
#[allow(clippy::too_many_arguments)]
unsafe fn call<T: Copy + Default + 'static>(
    (m, n, k): (usize, usize, usize),
    batch: i64,
    a: View,
    b: View,
    c: View,
    par: gemm::Parallelism,
    sym: bool,
    one: T,
) {
    for p in 0..batch as isize {
        let at = |v: &View| (v.0.cast::<T>().wrapping_offset(p * v.1[0] as isize), v.1[1] as isize, v.1[2] as isize);
        let (dst, lhs, rhs) = (at(&c), at(&a), at(&b));
        let (lhs, rhs) = ((lhs.0.cast_const(), lhs.1, lhs.2), (rhs.0.cast_const(), rhs.1, rhs.2));
        // SAFETY: `at` stays inside each buffer for `p < batch` (a batch stride of 0 for an
        // operand without the axis); C is written only (dst := lhs * rhs, zeros when k = 0,
        // without reading A or B); a symmetric product's upper triangle is copied from its
        // lower one, which the panels computed.
        unsafe {
            if sym {
                syrk_lower(m, k, dst, lhs, rhs, par, one);
                mirror_lower(m, dst);
            } else {
                gemm_into((m, n, k), dst, lhs, rhs, par, one)
            }
        };
    }
}
