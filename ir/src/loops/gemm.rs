//! The vendor GEMM step: what a kernel with the `gemm` hint ([`super::KernelHint::Gemm`])
//! computes, read from its body by [`GemmStep::of`].
//!
//! The schedule gives a plain matrix product `C[b?, i, j] = sum_l A[b?, i, l] * B[b?, l, j]`
//! to a library call, but the loop IR keeps the product's reference loop nest as the kernel's
//! body, so that the interpreter (and any backend without a vendor call) runs it as it stands,
//! and the verifier's index proofs cover every element the call touches. The body has one
//! shape, which this module reads back (and the verifier requires of every `gemm` kernel):
//!
//! ```text
//! kernel mm_k0 (v0 < m, v1 < n) gemm {        // or (vb < batch, v0 < m, v1 < n)
//!   mut v2: f32 = f32:0.0
//!   for v3 < k {
//!     let v4: f32 = mul(load a[v0, v3], load b[v3, v1])   // any order of each load's axes
//!     v2 = add(v2, v4)                                     // (or the product in place of v4;
//!                                                          // or loads `let`-bound first)
//!   }
//!   store out0[v0, v1] = v2
//! }
//! ```
//!
//! Every index is a bare domain or loop variable, so each operand is its buffer viewed with
//! one run-time stride per role (batch, row, column): transposed operands and strided views
//! need no copy, and a batch axis an operand lacks has stride 0. The loop order above (each
//! element's sum over `l` in order from 0) is the reference; a library call may reorder the
//! sum, which is the one way its results may differ.
//!
//! A `gemm_split_k` kernel ([`super::KernelHint::GemmSplitK`]) has the same body; the schedule
//! marks it because it is a contraction over the rows (a small `m x n` output summed over a
//! long `k`), which a CPU library call, parallel over the output only, would run on one
//! thread. [`GemmStep::split_k`] tells a backend to cut `k` instead ([`split_k_chunks`]): each
//! chunk of `k` one single-threaded call into its own partial, the partials summed in chunk
//! order, so results depend on the extents and the chunk count (the thread count) only.

use super::{BufId, Expr, Kernel, Scalar, Stmt, Var};
use crate::program::BinOp;
use crate::types::{DType, Dim};

/// The role of one axis of a GEMM operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmAxis {
    /// The batch axis (`b`).
    Batch,
    /// The operand's row axis: `i` for A and C, `l` for B.
    Row,
    /// The operand's column axis: `l` for A, `j` for B and C.
    Col,
}

/// One operand of a GEMM step: a buffer and the role of each of its axes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GemmOperand {
    pub buf: BufId,
    /// One role per buffer axis, each role at most once (row and column exactly once).
    pub axes: Vec<GemmAxis>,
}

impl GemmOperand {
    /// The element strides `[batch, row, column]` of this operand, given its buffer's
    /// run-time strides (one per axis); 0 for a batch axis the buffer lacks.
    pub fn strides(&self, buf_strides: &[i64]) -> [i64; 3] {
        let mut out = [0i64; 3];
        for (role, s) in self.axes.iter().zip(buf_strides) {
            out[*role as usize] = *s;
        }
        out
    }
}

/// What a `gemm` kernel computes: `C[b, i, j] = sum_{l < k} A[b, i, l] * B[b, l, j]` for
/// every `b < batch`, `i < m`, `j < n`, in `dtype` (`f32` or `f64`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GemmStep {
    pub dtype: DType,
    /// The batch extent; `None` for a single product.
    pub batch: Option<Dim>,
    pub m: Dim,
    pub n: Dim,
    pub k: Dim,
    pub a: GemmOperand,
    pub b: GemmOperand,
    pub c: GemmOperand,
    /// Whether the schedule asks for a split-K run (the kernel's hint is `gemm_split_k`).
    pub split_k: bool,
}

/// The fewest `k` steps a split-K chunk gets: below this a chunk's call is mostly overhead.
pub const SPLIT_K_MIN_CHUNK: i64 = 1024;

/// The largest output (`m * n` elements per batch element) a split-K run keeps a partial of
/// per extra chunk; a larger output has work enough to parallelise over, and the library
/// call does that instead.
pub const SPLIT_K_MAX_OUT: i64 = 1 << 20;

/// The number of chunks a split-K step with extents `[batch, m, n, k]` runs on `threads`
/// threads: `threads` when `k` gives every chunk at least [`SPLIT_K_MIN_CHUNK`] steps and the
/// output is at most [`SPLIT_K_MAX_OUT`] elements, else as many as `k` allows, and 1 (no
/// split: one call, parallel over the output) when that is fewer than two. Depends on the
/// extents and `threads` only, so results are the same from run to run for a thread count.
pub fn split_k_chunks([_, m, n, k]: [i64; 4], threads: usize) -> usize {
    let by_k = (k / SPLIT_K_MIN_CHUNK).max(1);
    if m.saturating_mul(n) > SPLIT_K_MAX_OUT {
        return 1;
    }
    (threads as i64).min(by_k).max(1) as usize
}

/// The `k` range `[lo, hi)` of chunk `c` of `chunks` over `k` steps: contiguous, in order,
/// sizes differing by at most one, covering `0..k` exactly.
pub fn split_k_range(k: i64, chunks: usize, c: usize) -> (i64, i64) {
    let (q, r) = (k / chunks as i64, k % chunks as i64);
    let at = |c: i64| q * c + r.min(c);
    (at(c as i64), at(c as i64 + 1))
}

impl GemmStep {
    /// The GEMM step kernel `k`'s body spells (see the module documentation), or why it spells
    /// none. Reads the body (the hint only for [`GemmStep::split_k`]); whether the hint asks for
    /// a vendor call is the caller's business.
    ///
    /// # Errors
    /// A description of the first departure from the one shape.
    pub fn of(k: &Kernel) -> Result<GemmStep, String> {
        let (vb, (vi, m), (vj, n)) = match k.domain.as_slice() {
            [i, j] => (None, *i, *j),
            [b, i, j] => (Some(*b), *i, *j),
            _ => return Err("a `gemm` kernel's domain is (m, n) or (batch, m, n)".into()),
        };
        let [Stmt::Mut { var: acc, ty, init: Expr::Const(zero) }, Stmt::For { var: vl, extent: kd, body }, Stmt::Store { buf, idx, value: Expr::Var(stored) }] =
            k.body.as_slice()
        else {
            return Err("a `gemm` kernel's body is `mut acc = 0`, one `for` over k and one store of acc".into());
        };
        if !matches!(ty, DType::F32 | DType::F64) || *zero != Scalar::zero(*ty) || stored != acc {
            return Err("a `gemm` kernel accumulates from a float zero and stores its accumulator".into());
        }
        // `let`s of loads (an operand shared with another consumer), then the product, added.
        let Some((Stmt::Assign { var, value: Expr::Binary(BinOp::Add, x, y) }, lets)) = body.split_last() else {
            return Err("a `gemm` kernel's loop adds one product to its accumulator".into());
        };
        let mut bound: Vec<(Var, &Expr)> = vec![];
        for s in lets {
            let Stmt::Let { var, value, .. } = s else {
                return Err("a `gemm` kernel's loop holds only `let`s before its one update".into());
            };
            if !matches!(value, Expr::Load { .. } | Expr::Binary(BinOp::Mul, ..)) || value.has_check() {
                return Err("a `gemm` kernel's loop `let`s only loads and the product".into());
            }
            bound.push((*var, value));
        }
        let resolve = |e: &'_ Expr| -> Option<Expr> {
            match e {
                Expr::Var(v) => bound.iter().find(|(b, _)| b == v).map(|(_, e)| (*e).clone()),
                e => Some(e.clone()),
            }
        };
        if var != acc || **x != Expr::Var(*acc) {
            return Err("a `gemm` kernel's loop adds one product to its accumulator".into());
        }
        let Some(Expr::Binary(BinOp::Mul, x, y)) = resolve(y) else {
            return Err("a `gemm` kernel's product is `mul(load a[..], load b[..])`".into());
        };
        let (Some(x), Some(y)) = (resolve(&x), resolve(&y)) else {
            return Err("a `gemm` kernel's product is `mul(load a[..], load b[..])`".into());
        };
        let (x, y) = (&x, &y);
        let vars = Vars { b: vb.map(|(v, _)| v), i: vi, j: vj, l: *vl };
        let (a, b) = match (vars.operand(x, Side::A), vars.operand(y, Side::B)) {
            (Some(a), Some(b)) => (a, b),
            _ => match (vars.operand(y, Side::A), vars.operand(x, Side::B)) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err("a `gemm` kernel's operands are loads indexed by (b?, i, l) and (b?, l, j)".into()),
            },
        };
        let c = vars
            .indexed(*buf, idx, Side::C)
            .ok_or("a `gemm` kernel stores at every (b?, i, j) of its domain, one variable per axis")?;
        let split_k = k.hint == super::KernelHint::GemmSplitK;
        Ok(GemmStep { dtype: *ty, batch: vb.map(|(_, d)| d), m, n, k: *kd, a, b, c, split_k })
    }

    /// The step kernel `k` is when a backend should make it a vendor call: its hint is `gemm`
    /// or `gemm_split_k` and its dtype one that GEMM libraries have (`f32`, `f64`); `None`
    /// runs its loops.
    pub fn vendor(k: &Kernel) -> Option<GemmStep> {
        if !k.hint.is_gemm() {
            return None;
        }
        GemmStep::of(k).ok().filter(|g| matches!(g.dtype, DType::F32 | DType::F64))
    }

    /// Whether the product is symmetric, `C = A * A^T` (`x.t().dot(&x)`, `x.dot(&x.t())`): A
    /// and B are the same buffer read with rows and columns swapped (B's row axis is A's
    /// column axis and the other way round; the batch axis, if any, the same), so `C[i, j]`
    /// and `C[j, i]` are the same sum and a backend may compute one triangle and mirror it,
    /// as BLAS's `syrk` does. Read from the body like the rest of the step, so every backend
    /// sees the same answer.
    pub fn symmetric(&self) -> bool {
        let swapped = |x: &GemmAxis| match x {
            GemmAxis::Row => GemmAxis::Col,
            GemmAxis::Col => GemmAxis::Row,
            GemmAxis::Batch => GemmAxis::Batch,
        };
        self.a.buf == self.b.buf
            && self.m == self.n
            && self.a.axes.len() == self.b.axes.len()
            && self.a.axes.iter().zip(&self.b.axes).all(|(a, b)| swapped(a) == *b)
    }

    /// The extents `[batch, m, n, k]` under symbol values `syms` (batch 1 for a single
    /// product).
    pub fn extents(&self, syms: &[i64]) -> [i64; 4] {
        let len = |d: Dim| super::dim_len(d, syms);
        [self.batch.map_or(1, len), len(self.m), len(self.n), len(self.k)]
    }
}

/// Which operand a load is read as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
    C,
}

/// The variables of a `gemm` kernel: domain `(b?, i, j)` and the loop's `l`.
struct Vars {
    b: Option<Var>,
    i: Var,
    j: Var,
    l: Var,
}

impl Vars {
    /// The role of variable `v` in operand `side`, if it has one there.
    fn role(&self, v: Var, side: Side) -> Option<GemmAxis> {
        let (row, col) = match side {
            Side::A => (self.i, self.l),
            Side::B => (self.l, self.j),
            Side::C => (self.i, self.j),
        };
        if Some(v) == self.b {
            Some(GemmAxis::Batch)
        } else if v == row {
            Some(GemmAxis::Row)
        } else if v == col {
            Some(GemmAxis::Col)
        } else {
            None
        }
    }

    /// The operand a load (or store, `side` C) of `buf` at `idx` is, when every index is a
    /// variable with a role, no role repeats, and row and column both appear (C: the batch
    /// too, when there is one).
    fn indexed(&self, buf: BufId, idx: &[Expr], side: Side) -> Option<GemmOperand> {
        let mut axes = vec![];
        for e in idx {
            let Expr::Var(v) = e else { return None };
            let role = self.role(*v, side)?;
            if axes.contains(&role) {
                return None;
            }
            axes.push(role);
        }
        let needs_batch = side == Side::C && self.b.is_some();
        let complete = axes.contains(&GemmAxis::Row)
            && axes.contains(&GemmAxis::Col)
            && (!needs_batch || axes.contains(&GemmAxis::Batch));
        complete.then_some(GemmOperand { buf, axes })
    }

    fn operand(&self, e: &Expr, side: Side) -> Option<GemmOperand> {
        match e {
            Expr::Load { buf, idx } => self.indexed(*buf, idx, side),
            _ => None,
        }
    }
}
