//! The loop IR: what the backends compile. A [`LoopProgram`] is a list of [`Kernel`]s, each a
//! parallel loop nest (its *domain*, which a backend distributes over threads or GPU blocks)
//! around a body of statements. Buffers are explicit: the inputs (one per parameter, scalars
//! are rank-0 buffers), the outputs, and temporaries the runtime allocates between kernels.
//!
//! Loads and stores index a buffer per axis: `load x[v0, v3]` means
//! `x.ptr[v0 * x.stride0 + v3 * x.stride1]`, with the buffer's run-time strides, so strided
//! ndarray views need no copy. Every index is either provably in range (a loop variable whose
//! extent is the buffer's dimension, or a small constant on a constant axis) or goes through
//! [`Expr::Check`], which records an error flag for the call and yields 0 when out of range:
//! generated code never reads or writes out of bounds. The verifier in [`verify_loops`] checks
//! exactly this, and the rest of the invariants listed in its module.
//!
//! Text form (printed by `Display`, read back by [`parse_loop_program`]):
//!
//! ```text
//! program axpby
//!   sym n
//!   in a: f32[]
//!   in x: f32[n]
//!   out out0: f32[n]
//!   kernel axpby_k0 (v0 < n) {
//!     store out0[v0] = add(mul(load a[], load x[v0]), ...)
//!   }
//! ```
//!
//! A serial loop over a computed sub-range of an axis (one chunk of a two-phase reduction)
//! prints as `for v3 < n from div(mul(v0, dim(n)), i64:64) to ... { .. }`.
//!
//! Traversals go through the helpers of `walk.rs` ([`Expr::children`], [`Expr::walk`],
//! [`Expr::any`], [`Stmt::exprs`], [`Stmt::blocks`], [`Stmt::walk`], [`Stmt::walk_exprs`]):
//! a walk that only recurses and acts at some nodes is written on them, not as its own `match`.

mod blocked;
mod frame;
mod gemm;
mod parse;
mod verify;
mod walk;

pub use crate::scalar::Scalar;
pub use blocked::{blocked_sum, flatten_blocked_sum, sum_levels, BlockedAcc, SUM_BLOCK, SUM_LEVELS};
pub use frame::{row_major_strides, Frame, FrameBuf, FrameError, HostMemory, Room};
pub use gemm::{split_k_chunks, split_k_range, GemmAxis, GemmOperand, GemmStep, SPLIT_K_MAX_OUT, SPLIT_K_MIN_CHUNK};
pub use parse::{parse_loop_program, ParseLoopError};
pub use verify::{verify_loops, LoopVerifyError, LoopVerifyErrors};

use crate::program::{BinOp, UnOp};
use crate::types::{DType, Dim, SymId};
use std::fmt;

/// A scalar variable of the loop IR (domain and loop indices, `let`s, accumulators). Ids are
/// unique in a whole program. Printed `v3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub u32);

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Index of a buffer in [`LoopProgram::buffers`]. Printed by the buffer's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufId(pub u32);

impl BufId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a buffer is for, which decides who allocates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BufKind {
    /// A kernel argument (read only).
    Input,
    /// A result returned to the caller.
    Output,
    /// A temporary between kernels, allocated by the runtime for the call.
    Temp,
}

impl BufKind {
    fn keyword(self) -> &'static str {
        match self {
            BufKind::Input => "in",
            BufKind::Output => "out",
            BufKind::Temp => "temp",
        }
    }
}

/// An n-d buffer with a symbolic shape (rank 0 is a scalar).
#[derive(Clone, Debug, PartialEq)]
pub struct Buffer {
    pub name: String,
    pub kind: BufKind,
    pub dtype: DType,
    pub shape: Vec<Dim>,
}

/// The error flags a kernel can raise; the runtime turns a raised flag into a typed error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flag {
    /// An index (a gather, a reshaped broadcast) was outside its axis.
    IndexOutOfRange,
    /// `argmin`/`argmax` over an empty domain.
    EmptyArgReduce,
}

impl Flag {
    pub const ALL: [Flag; 2] = [Flag::IndexOutOfRange, Flag::EmptyArgReduce];

    pub fn name(self) -> &'static str {
        match self {
            Flag::IndexOutOfRange => "index_out_of_range",
            Flag::EmptyArgReduce => "empty_arg_reduce",
        }
    }
}

/// A scalar expression. Expressions have no side effects except [`Expr::Check`], which may
/// only appear as the whole value of a `let` (so its flag is raised in statement order).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Var(Var),
    Const(Scalar),
    /// The run-time value of a dimension, as `i64`.
    Dim(Dim),
    /// One element of a buffer; one `i64` index per axis, each provably in range.
    Load {
        buf: BufId,
        idx: Vec<Expr>,
    },
    /// `check(e, d)`: `e` (an `i64`) when `0 <= e < d`; otherwise raises
    /// [`Flag::IndexOutOfRange`] and yields 0. Its value is provably in `0..d`.
    Check(Box<Expr>, Dim),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `select(c, a, b)`: both branches are side-effect free, so evaluating both is allowed.
    Select(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `mul_add(a, b, c)`: `a * b + c` rounded once, on floats of one type.
    MulAdd(Box<Expr>, Box<Expr>, Box<Expr>),
    Cast(DType, Box<Expr>),
    /// `bitcast.T(e)`: the bits of `e` read as `T`, a float and an integer of one width
    /// ([`Scalar::bitcast`]: `f32` with `u32`/`i32`, `f64` with `i64`).
    Bitcast(DType, Box<Expr>),
}

impl Expr {
    pub fn i64(v: i64) -> Expr {
        Expr::Const(Scalar::I64(v))
    }

    pub fn binary(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Binary(op, Box::new(a), Box::new(b))
    }

    /// Whether a bounds `check` appears anywhere in this expression (so evaluating it may
    /// raise a flag: it must not be dropped, moved past a branch or run speculatively).
    pub fn has_check(&self) -> bool {
        self.any(&mut |e| matches!(e, Expr::Check(..)))
    }

    /// Whether a load or a bounds `check` appears anywhere in this expression: it is then
    /// evaluated only where it stands (an index is proven in range there, not elsewhere, and
    /// a check raises a flag), never ahead of a loop or for points outside a domain.
    pub fn loads_or_checks(&self) -> bool {
        self.any(&mut |e| matches!(e, Expr::Load { .. } | Expr::Check(..)))
    }

    /// Call `f` on every variable this expression reads.
    pub fn for_each_var(&self, f: &mut impl FnMut(Var)) {
        self.walk(&mut |e| {
            if let Expr::Var(v) = e {
                f(*v)
            }
        })
    }

    /// Whether this expression reads `v`.
    pub fn reads(&self, v: Var) -> bool {
        self.any(&mut |e| *e == Expr::Var(v))
    }

    /// Call `f` on every buffer this expression loads from.
    pub fn for_each_load(&self, f: &mut impl FnMut(BufId)) {
        self.walk(&mut |e| {
            if let Expr::Load { buf, .. } = e {
                f(*buf)
            }
        })
    }

    /// Rename variables through `f`.
    pub fn map_vars(&mut self, f: &impl Fn(Var) -> Var) {
        self.walk_mut(&mut |e| {
            if let Expr::Var(v) = e {
                *v = f(*v)
            }
        })
    }
}

/// A statement of a kernel body.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `let v: T = e`: an immutable variable.
    Let { var: Var, ty: DType, value: Expr },
    /// `mut v: T = e`: a mutable variable (reduction accumulators, `if` results).
    Mut { var: Var, ty: DType, init: Expr },
    /// `v = e` for a `mut` variable.
    Assign { var: Var, value: Expr },
    /// `store b[i, j] = e`.
    Store { buf: BufId, idx: Vec<Expr>, value: Expr },
    /// `for v < extent { .. }`: a serial loop, `v` from 0 up.
    For { var: Var, extent: Dim, body: Vec<Stmt> },
    /// `for v < extent from start to end { .. }`: a serial loop over a computed sub-range,
    /// `v` from `max(start, 0)` up to `min(end, extent)` (exclusive; no iteration when that is
    /// empty). `start` and `end` are `i64` expressions evaluated once, before the first
    /// iteration. The clamp keeps `v` provably inside `0..extent`, so it indexes that axis
    /// without a check. Two-phase reductions use it for one chunk of the reduction range.
    ForRange { var: Var, extent: Dim, start: Expr, end: Expr, body: Vec<Stmt> },
    /// `if c { .. } else { .. }` (`else` omitted when empty).
    If { cond: Expr, then: Vec<Stmt>, els: Vec<Stmt> },
    /// `flag name`: raise an error flag for the call and go on.
    Flag(Flag),
}

impl Stmt {
    /// Call `f` on every buffer this statement (and every statement inside it) loads from,
    /// loop bounds and store indices included, and with `stores` on every buffer it stores to.
    pub fn for_each_buffer(&self, stores: bool, f: &mut impl FnMut(BufId)) {
        self.walk(&mut |s| {
            if let (true, Stmt::Store { buf, .. }) = (stores, s) {
                f(*buf);
            }
            s.exprs().for_each(|e| e.for_each_load(f));
        })
    }

    /// Rename variables (definitions and uses) through `f`.
    pub fn map_vars(&mut self, f: &impl Fn(Var) -> Var) {
        self.walk_mut(&mut |s| {
            if let Some(v) = s.var_mut() {
                *v = f(*v);
            }
            s.exprs_mut().for_each(|e| e.map_vars(f));
        })
    }
}

/// One parallel kernel: every point of `domain` (a row-major loop nest over the extents) runs
/// `body` once, independently of the others.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub name: String,
    pub domain: Vec<(Var, Dim)>,
    /// What the schedule decided this kernel computes; backends choose their mapping by it.
    pub hint: KernelHint,
    pub body: Vec<Stmt>,
}

/// The schedule's decision for one kernel, carried by the loop IR so that backends can read
/// it instead of recognising it (printed after the domain, except `plain`). A kernel merged
/// from several keeps the first hint that is not `plain` ([`KernelHint::merge`]); the
/// verifier checks the shape each hint promises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelHint {
    /// No decision: element-wise kernels (each point computes its values without loops) and
    /// hand-written loop IR that names none.
    #[default]
    Plain,
    /// Each point runs serial reduction loops (a `Serial` reduction, or the combine of a
    /// two-phase one): a GEMM-shaped one is what a backend may tile.
    Serial,
    /// The first kernel of a `TwoPhase` reduction: the first domain axis is the chunk, and each
    /// point reduces its chunk of rows (a `for .. from .. to ..`) into the partials.
    TwoPhase,
    /// The first kernel of a `Scatter` reduction: the domain is the chunks, and each point adds
    /// its chunk of rows (a `for .. from .. to ..`) into its own partials.
    Scatter,
    /// A plain matrix product the schedule gave to a vendor GEMM (the `gemm` crate on the
    /// CPU, cuBLAS on a GPU): the body is the product's reference loop nest in the one shape
    /// [`GemmStep::of`] reads (a `sum` over `k` of `a * b` stored once per point), which the
    /// interpreter runs as it stands and a backend may replace by one library call.
    Gemm,
    /// A [`Gemm`](Self::Gemm) step that is a contraction over the rows (a Gram matrix
    /// `x.t().dot(&x)`, a gradient `r.t().dot(&x)`: a small output summed over a long `k`),
    /// which a backend runs *split-K*: `k` cut into one chunk per thread, each chunk one
    /// single-threaded library call into its own partial, the partials summed in chunk order.
    /// The body is the same reference loop nest as a `gemm` kernel's.
    GemmSplitK,
    /// One of the two kernels of a scan ([`crate::program::Op::Scan`]): the first domain axis is
    /// the chunk of the scanned axis, and each point folds its chunk (a `for .. from .. to ..`)
    /// into the chunk totals (the first kernel), or folds the totals before its chunk into a
    /// carry and then its chunk from the carry, storing every prefix (the second).
    Scan,
    /// The kernel of a sort ([`crate::program::Op::Sort`]): the first domain axis has extent 1
    /// (it indexes the first axis of the position buffers), and each point merge-sorts one lane.
    Sort,
}

impl KernelHint {
    /// The word printed after a kernel's domain (`None` for `plain`, which prints nothing).
    pub fn keyword(self) -> Option<&'static str> {
        match self {
            KernelHint::Plain => None,
            KernelHint::Serial => Some("serial"),
            KernelHint::TwoPhase => Some("two_phase"),
            KernelHint::Scatter => Some("scatter"),
            KernelHint::Gemm => Some("gemm"),
            KernelHint::GemmSplitK => Some("gemm_split_k"),
            KernelHint::Scan => Some("scan"),
            KernelHint::Sort => Some("sort"),
        }
    }

    /// The hint of `word`, as [`Self::keyword`] prints it.
    pub fn from_keyword(word: &str) -> Option<KernelHint> {
        [
            KernelHint::Serial,
            KernelHint::TwoPhase,
            KernelHint::Scatter,
            KernelHint::Gemm,
            KernelHint::GemmSplitK,
            KernelHint::Scan,
            KernelHint::Sort,
        ]
        .into_iter()
        .find(|h| h.keyword() == Some(word))
    }

    /// Whether the kernel is a vendor GEMM step (`gemm` or `gemm_split_k`).
    pub fn is_gemm(self) -> bool {
        matches!(self, KernelHint::Gemm | KernelHint::GemmSplitK)
    }

    /// The hint of a kernel made of one with hint `self` followed by one with `next`: the
    /// first that is not `plain` (its statements come first, which is what the hint describes).
    pub fn merge(self, next: KernelHint) -> KernelHint {
        match self {
            KernelHint::Plain => next,
            h => h,
        }
    }
}

/// A lowered program: buffers and the kernels that run in order, one call after another.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopProgram {
    pub name: String,
    pub syms: Vec<String>,
    /// The input buffer of each parameter, in parameter order.
    pub params: Vec<BufId>,
    pub buffers: Vec<Buffer>,
    pub kernels: Vec<Kernel>,
    /// The output buffer of each result, in order.
    pub outputs: Vec<BufId>,
    /// Symbols computed from others when arguments are bound (slice lengths), in order; a
    /// parameter bound `pK` reads the scalar input of parameter `K`. See
    /// [`crate::program::DerivedSym`].
    pub derived: Vec<crate::program::DerivedSym>,
}

impl LoopProgram {
    pub fn buffer(&self, b: BufId) -> &Buffer {
        &self.buffers[b.index()]
    }

    /// The temporaries the runtime must allocate, in order.
    pub fn temps(&self) -> impl Iterator<Item = (BufId, &Buffer)> {
        self.buffers.iter().enumerate().filter(|(_, b)| b.kind == BufKind::Temp).map(|(i, b)| (BufId(i as u32), b))
    }

    /// Whether running the program stores every element of buffer `b` (an output or a
    /// temporary) before anything could read it: some kernel's top level stores
    /// `b[v0, v1, ..]` at every point of a domain `(v0, v1, ..)` with exactly `b`'s extents
    /// under `syms`, and neither that kernel nor any before it loads `b` (later kernels may:
    /// a temporary a vendor GEMM writes whole, then read by the next kernel). Memory for `b`,
    /// a fresh allocation or a caller's array, then needs no zeroing first.
    pub fn overwrites(&self, b: BufId, syms: &[usize]) -> bool {
        let shape = &self.buffer(b).shape;
        let dim = |d: Dim| crate::shapes::dim_value(d, syms);
        let covers = |k: &Kernel| {
            k.domain.len() == shape.len()
                && k.domain.iter().zip(shape).all(|((_, d), s)| dim(*d) == dim(*s))
                && k.body.iter().any(|s| match s {
                    Stmt::Store { buf, idx, .. } => {
                        *buf == b && idx.iter().zip(&k.domain).all(|(e, (v, _))| *e == Expr::Var(*v))
                    }
                    _ => false,
                })
        };
        for k in &self.kernels {
            let mut loaded = false;
            k.body.iter().for_each(|s| s.for_each_buffer(false, &mut |x| loaded |= x == b));
            if loaded {
                return false;
            }
            if covers(k) {
                return true;
            }
        }
        false
    }

    /// One past the largest variable id in the program (for passes that create variables).
    pub fn next_var(&self) -> u32 {
        let mut m = 0;
        let mut see = |v: Var| m = m.max(v.0 + 1);
        for k in &self.kernels {
            k.domain.iter().for_each(|(v, _)| see(*v));
            for s in &k.body {
                s.walk(&mut |s| {
                    s.var().into_iter().for_each(&mut see);
                    s.exprs().for_each(|e| e.for_each_var(&mut see));
                });
            }
        }
        m
    }

    /// Text of a dimension: the symbol's name or the constant.
    pub fn dim_text(&self, d: Dim) -> String {
        match d {
            Dim::Const(c) => c.to_string(),
            Dim::Sym(SymId(s)) => self.syms.get(s as usize).cloned().unwrap_or_else(|| format!("?{s}")),
        }
    }

    fn write_expr(&self, f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
        match e {
            Expr::Var(v) => write!(f, "{v}"),
            Expr::Const(c) => write!(f, "{c}"),
            Expr::Dim(d) => write!(f, "dim({})", self.dim_text(*d)),
            Expr::Load { buf, idx } => {
                write!(f, "load {}[", self.buffer_name(*buf))?;
                self.write_list(f, idx)?;
                f.write_str("]")
            }
            Expr::Check(e, d) => {
                f.write_str("check(")?;
                self.write_expr(f, e)?;
                write!(f, ", {})", self.dim_text(*d))
            }
            Expr::Unary(op, a) => {
                match op {
                    UnOp::PowI(n) => write!(f, "powi.{n}(")?,
                    op => write!(f, "{}(", op.name())?,
                }
                self.write_expr(f, a)?;
                f.write_str(")")
            }
            Expr::Binary(op, a, b) => {
                write!(f, "{}(", op.name())?;
                self.write_list(f, [&**a, &**b])?;
                f.write_str(")")
            }
            Expr::Select(c, a, b) => {
                f.write_str("select(")?;
                self.write_list(f, [&**c, &**a, &**b])?;
                f.write_str(")")
            }
            Expr::MulAdd(a, b, c) => {
                f.write_str("mul_add(")?;
                self.write_list(f, [&**a, &**b, &**c])?;
                f.write_str(")")
            }
            Expr::Cast(t, a) => {
                write!(f, "cast.{t}(")?;
                self.write_expr(f, a)?;
                f.write_str(")")
            }
            Expr::Bitcast(t, a) => {
                write!(f, "bitcast.{t}(")?;
                self.write_expr(f, a)?;
                f.write_str(")")
            }
        }
    }

    fn write_list<'a>(&self, f: &mut fmt::Formatter<'_>, es: impl IntoIterator<Item = &'a Expr>) -> fmt::Result {
        for (i, e) in es.into_iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            self.write_expr(f, e)?;
        }
        Ok(())
    }

    fn buffer_name(&self, b: BufId) -> String {
        self.buffers.get(b.index()).map(|b| b.name.clone()).unwrap_or_else(|| format!("?b{}", b.0))
    }

    fn write_stmts(&self, f: &mut fmt::Formatter<'_>, body: &[Stmt], depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        for s in body {
            f.write_str(&pad)?;
            match s {
                Stmt::Let { var, ty, value } => {
                    write!(f, "let {var}: {ty} = ")?;
                    self.write_expr(f, value)?;
                }
                Stmt::Mut { var, ty, init } => {
                    write!(f, "mut {var}: {ty} = ")?;
                    self.write_expr(f, init)?;
                }
                Stmt::Assign { var, value } => {
                    write!(f, "{var} = ")?;
                    self.write_expr(f, value)?;
                }
                Stmt::Store { buf, idx, value } => {
                    write!(f, "store {}[", self.buffer_name(*buf))?;
                    self.write_list(f, idx)?;
                    f.write_str("] = ")?;
                    self.write_expr(f, value)?;
                }
                Stmt::For { var, extent, body } => {
                    writeln!(f, "for {var} < {} {{", self.dim_text(*extent))?;
                    self.write_stmts(f, body, depth + 1)?;
                    write!(f, "{pad}}}")?;
                }
                Stmt::ForRange { var, extent, start, end, body } => {
                    write!(f, "for {var} < {} from ", self.dim_text(*extent))?;
                    self.write_expr(f, start)?;
                    f.write_str(" to ")?;
                    self.write_expr(f, end)?;
                    f.write_str(" {\n")?;
                    self.write_stmts(f, body, depth + 1)?;
                    write!(f, "{pad}}}")?;
                }
                Stmt::If { cond, then, els } => {
                    f.write_str("if ")?;
                    self.write_expr(f, cond)?;
                    f.write_str(" {\n")?;
                    self.write_stmts(f, then, depth + 1)?;
                    if !els.is_empty() {
                        writeln!(f, "{pad}}} else {{")?;
                        self.write_stmts(f, els, depth + 1)?;
                    }
                    write!(f, "{pad}}}")?;
                }
                Stmt::Flag(flag) => write!(f, "flag {}", flag.name())?,
            }
            f.write_str("\n")?;
        }
        Ok(())
    }
}

impl fmt::Display for LoopProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "program {}", self.name)?;
        for s in &self.syms {
            writeln!(f, "  sym {s}")?;
        }
        for d in &self.derived {
            let def = d.def.text(&|x| self.dim_text(x));
            writeln!(f, "  derive {} = {def}", self.dim_text(Dim::Sym(d.sym)))?;
        }
        for b in &self.buffers {
            let dims: Vec<String> = b.shape.iter().map(|d| self.dim_text(*d)).collect();
            writeln!(f, "  {} {}: {}[{}]", b.kind.keyword(), b.name, b.dtype, dims.join(", "))?;
        }
        for k in &self.kernels {
            let dom: Vec<String> = k.domain.iter().map(|(v, d)| format!("{v} < {}", self.dim_text(*d))).collect();
            let hint = k.hint.keyword().map(|w| format!(" {w}")).unwrap_or_default();
            writeln!(f, "  kernel {} ({}){hint} {{", k.name, dom.join(", "))?;
            self.write_stmts(f, &k.body, 2)?;
            writeln!(f, "  }}")?;
        }
        Ok(())
    }
}

/// Every buffer `body` loads from (into `reads`) and stores to (into `writes`), in statement
/// order, duplicates kept.
pub fn buffer_accesses(body: &[Stmt], reads: &mut Vec<BufId>, writes: &mut Vec<BufId>) {
    for s in body {
        s.walk(&mut |s| {
            s.exprs().for_each(|e| e.for_each_load(&mut |b| reads.push(b)));
            if let Stmt::Store { buf, .. } = s {
                writes.push(*buf);
            }
        });
    }
}

/// Where a backend points a buffer of shape `shape` that has no elements, as the number of
/// elements of a zeroed block and that block's (row-major) strides; `None` when the shape
/// has no empty axis (or no axis). Why that room suffices: [`Room`].
pub fn empty_room(shape: &[usize]) -> Option<(usize, Vec<i64>)> {
    if shape.is_empty() || !shape.contains(&0) {
        return None;
    }
    let mut strides = vec![0i64; shape.len()];
    let mut step = 1usize;
    for (a, &d) in shape.iter().enumerate().rev() {
        strides[a] = step as i64;
        step = step.saturating_mul(d.max(1));
    }
    Some((step, strides))
}

/// The length of `d` under bound symbol values (0 for a symbol out of range).
pub fn dim_len(d: Dim, syms: &[i64]) -> i64 {
    match d {
        Dim::Const(c) => c as i64,
        Dim::Sym(s) => syms.get(s.0 as usize).copied().unwrap_or(0),
    }
}
