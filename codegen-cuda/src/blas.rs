//! GEMM steps on CUDA: a loop-IR `gemm` kernel ([`GemmStep`], row-major by kiln's indexing)
//! mapped onto cuBLAS's column-major `cublas{S,D}gemmStridedBatched` contract, and a host
//! stand-in implementing that contract exactly, which the simulator runs in place of cuBLAS
//! (so the call's transposes, leading dimensions and batch strides are tested without a GPU).
//!
//! The mapping: cuBLAS computes `C' = op(A') op(B')` with column-major matrices. A row-major
//! `C = A B` is the column-major `C^T = B^T A^T`, so the operands swap (`A' = B`, `B' = A`),
//! `m' = n`, `n' = m`, and each operand's row stride becomes its leading dimension. An operand
//! whose column stride is 1 is passed as is (`N`); one whose row stride is 1 (a transposed
//! view) is passed as its transpose's storage (`T`). An operand with neither unit stride (or
//! a negative or too small leading dimension), or an output that is not row-major, has no
//! cuBLAS form ([`blas_gemm`] returns `None`): the step then runs its generated kernel.

use kiln_ir::loops::{BufId, GemmOperand, GemmStep};
use std::ops::{Add, Mul};

/// `cublasOperation_t`: whether an operand is read as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlasOp {
    /// `CUBLAS_OP_N`.
    N,
    /// `CUBLAS_OP_T`.
    T,
}

/// The arguments of one `cublas{S,D}gemmStridedBatched` call (alpha 1, beta 0), with buffers
/// in place of device pointers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlasGemm {
    pub transa: BlasOp,
    pub transb: BlasOp,
    pub m: i32,
    pub n: i32,
    pub k: i32,
    pub a: BufId,
    pub lda: i32,
    pub stride_a: i64,
    pub b: BufId,
    pub ldb: i32,
    pub stride_b: i64,
    pub c: BufId,
    pub ldc: i32,
    pub stride_c: i64,
    pub batch: i32,
}

impl BlasGemm {
    /// This call made on the stand-in ([`gemm_strided_batched`]), alpha `one` and beta zero,
    /// with `a`, `b` and `c` the addresses of buffers `self.a`, `self.b` and `self.c`.
    ///
    /// # Errors
    /// As [`gemm_strided_batched`].
    ///
    /// # Safety
    /// As [`gemm_strided_batched`], for these arguments.
    pub unsafe fn call_standin<T>(&self, a: *const T, b: *const T, c: *mut T, one: T) -> Result<(), BlasStatus>
    where
        T: Copy + Default + PartialEq + Add<Output = T> + Mul<Output = T>,
    {
        let g = self;
        // SAFETY: the caller's contract.
        unsafe {
            gemm_strided_batched(
                g.transa,
                g.transb,
                g.m,
                g.n,
                g.k,
                one,
                a,
                g.lda,
                g.stride_a,
                b,
                g.ldb,
                g.stride_b,
                T::default(),
                c,
                g.ldc,
                g.stride_c,
                g.batch,
            )
        }
    }
}

/// The cuBLAS call computing `step` on buffers with run-time strides `strides` (one list per
/// buffer of the program, in elements) under symbol values `syms`, or `None` when the
/// operands' layout has no cuBLAS form (see the module documentation).
pub fn blas_gemm(step: &GemmStep, strides: &[Vec<i64>], syms: &[i64]) -> Option<BlasGemm> {
    let [batch, m, n, k] = step.extents(syms);
    let of = |op: &GemmOperand| op.strides(strides.get(op.buf.index()).map_or(&[][..], |s| s.as_slice()));
    let int = |x: i64| i32::try_from(x).ok();
    // A' = B (logical k x n, read as op(A') = n x k), B' = A (logical m x k, op(B') = k x m).
    let (transa, lda) = operand(of(&step.b), k, n)?;
    let (transb, ldb) = operand(of(&step.a), m, k)?;
    let c = of(&step.c);
    let (ctrans, ldc) = operand(c, m, n)?;
    if ctrans != BlasOp::N {
        return None;
    }
    Some(BlasGemm {
        transa,
        transb,
        m: int(n)?,
        n: int(m)?,
        k: int(k)?,
        a: step.b.buf,
        lda: int(lda)?,
        stride_a: of(&step.b)[0],
        b: step.a.buf,
        ldb: int(ldb)?,
        stride_b: of(&step.a)[0],
        c: step.c.buf,
        ldc: int(ldc)?,
        stride_c: c[0],
        batch: int(batch)?,
    })
}

/// How a row-major operand of `rows x cols` with strides `[_, row, col]` is passed: `N` with
/// its row stride as leading dimension when its columns are contiguous, `T` with its column
/// stride when its rows are, as long as that leading dimension is at least the contiguous
/// extent (cuBLAS's own requirement, so no two elements share an address). A stride on an
/// axis of length 1 is never used and may be anything.
fn operand([_, rs, cs]: [i64; 3], rows: i64, cols: i64) -> Option<(BlasOp, i64)> {
    let unit_col = cs == 1 || cols <= 1;
    let unit_row = rs == 1 || rows <= 1;
    let ld = |s: i64, extent: i64, other: i64| if other <= 1 { extent.max(1) } else { s };
    if unit_col {
        let ld = ld(rs, cols, rows);
        if ld >= cols.max(1) {
            return Some((BlasOp::N, ld));
        }
    }
    if unit_row {
        let ld = ld(cs, rows, cols);
        if ld >= rows.max(1) {
            return Some((BlasOp::T, ld));
        }
    }
    None
}

/// A cuBLAS status other than success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlasStatus {
    /// `CUBLAS_STATUS_INVALID_VALUE`: a negative extent or batch count, or a leading
    /// dimension below the rows it must span.
    InvalidValue,
}

/// The host stand-in of `cublas{S,D}gemmStridedBatched`, with cuBLAS's column-major contract:
/// for every `p < batch`, `C_p = alpha op(A_p) op(B_p) + beta C_p`, where `X_p` starts
/// `p * stride_x` elements after `x`, element `(i, j)` of a stored matrix is at `i + j * ld`,
/// `op(A)` is `m x k` and `op(B)` is `k x n`. `C` is not read when `beta` is zero. Each
/// element's sum runs over `l` in order from zero.
///
/// # Errors
/// [`BlasStatus::InvalidValue`] as cuBLAS returns it: `m`, `n`, `k` or `batch` negative,
/// `lda < max(1, transa == N ? m : k)`, `ldb < max(1, transb == N ? k : n)` or
/// `ldc < max(1, m)`; nothing is written then.
///
/// # Safety
/// Every element the call reads (`A_p`, `B_p`, and `C_p` when `beta` is not zero) and writes
/// (`C_p`) lies in live memory of type `T`, and no written element is read as `A` or `B`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_strided_batched<T>(
    transa: BlasOp,
    transb: BlasOp,
    m: i32,
    n: i32,
    k: i32,
    alpha: T,
    a: *const T,
    lda: i32,
    stride_a: i64,
    b: *const T,
    ldb: i32,
    stride_b: i64,
    beta: T,
    c: *mut T,
    ldc: i32,
    stride_c: i64,
    batch: i32,
) -> Result<(), BlasStatus>
where
    T: Copy + Default + PartialEq + Add<Output = T> + Mul<Output = T>,
{
    let rows_a = if transa == BlasOp::N { m } else { k };
    let rows_b = if transb == BlasOp::N { k } else { n };
    let bad = m < 0 || n < 0 || k < 0 || batch < 0;
    if bad || lda < rows_a.max(1) || ldb < rows_b.max(1) || ldc < m.max(1) {
        return Err(BlasStatus::InvalidValue);
    }
    let (lda, ldb, ldc) = (lda as isize, ldb as isize, ldc as isize);
    let at = |op: BlasOp, ld: isize, i: isize, j: isize| if op == BlasOp::N { i + j * ld } else { j + i * ld };
    for p in 0..batch as isize {
        let (ap, bp) = (a.wrapping_offset(p * stride_a as isize), b.wrapping_offset(p * stride_b as isize));
        let cp = c.wrapping_offset(p * stride_c as isize);
        for j in 0..n as isize {
            for i in 0..m as isize {
                let mut acc = T::default();
                for l in 0..k as isize {
                    // SAFETY: the caller's contract covers op(A)(i, l) and op(B)(l, j).
                    let (x, y) = unsafe { (*ap.offset(at(transa, lda, i, l)), *bp.offset(at(transb, ldb, l, j))) };
                    acc = acc + x * y;
                }
                // SAFETY: the caller's contract covers C(i, j), read only when beta is not zero.
                unsafe {
                    let out = cp.offset(i + j * ldc);
                    *out = if beta == T::default() { alpha * acc } else { alpha * acc + beta * *out };
                }
            }
        }
    }
    Ok(())
}
