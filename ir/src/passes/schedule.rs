//! The `schedule` pass: decides, for every node, whether it is inlined into its consumers or
//! materialized in a buffer, and which strategy each reduction gets. The result is a separate,
//! printable [`Schedule`]; `build_loops` follows it, and no schedule changes results.
//!
//! Default schedule: every elementwise and index-map node is inlined; reductions are computed
//! inside the consumer's loop. A node is materialized when it is an output, or when it contains
//! a (not yet materialized) reduction and inlining it would evaluate it more than once per
//! element: it has several uses, or a consumer expands it (a broadcast, a gather, a use inside
//! a comprehension body), or a consumer that is itself evaluated repeatedly. Recomputing
//! elementwise values is fine, recomputing reductions is not; so such a node whose reductions
//! all end up in other buffers is inlined again, except when a contraction over the rows reads
//! it: that reads each element once per output column, and the node stays a buffer
//! (`contraction_operands`).
//!
//! Reductions are serial loops, except array-level reductions with a tiny output over a large
//! domain, and contractions over the rows (a `range_reduce` over the long axis that is the
//! whole body of a comprehension with a small domain: `x.t().dot(&r)`, Gram matrices,
//! gradients), which get the two-phase split ([`ReduceStrategy::TwoPhase`]). A contraction
//! over the rows of a one-hot product, `sum(0..n, |i| select(labels[i] == j, v(i, ..), 0))`
//! (per-cluster sums and counts), becomes a scatter ([`ReduceStrategy::Scatter`]): each row
//! adds its value to the one output row its label names, instead of a select per output.
//!
//! A plain matrix product — `sum_l A[b?, i, l] * B[b?, l, j]` as the whole body of a
//! comprehension, over float buffers (inputs or materialized values, transposed or not,
//! batched or not) and nothing else inside the sum — is given to a vendor GEMM
//! ([`ReduceStrategy::Gemm`]): its comprehension is materialized into a kernel of its own, and
//! an epilogue (`a.dot(&b) * 2.0 + c`) becomes a generated kernel reading the product. This
//! decision comes before the two-phase split (a Gram matrix `x.t().dot(&x)` is a GEMM). A
//! plain product that is also a contraction over the rows (a Gram matrix, a gradient
//! `r.t().dot(&x)`: a small output summed over the long axis) is a split-K GEMM
//! ([`ReduceStrategy::GemmSplitK`]): a library call parallel over its output would run it on
//! one thread, so the backend cuts the rows into one chunk per thread instead.
//! Integer products and every fused form keep generated loops.
//!
//! A scan (`cumsum`, ...) is always materialized: its two kernels (chunk totals, then each chunk
//! folded from its carry; see [`crate::program::Op::Scan`]) read its operand twice per element,
//! so an operand holding a reduction is materialized too.
//!
//! Sibling reductions — serial, array-level output reductions of the same operand over the
//! same axes, like `nearest`'s `argmin_axis(Axis(1))` and `min_axis(Axis(1))` — are *fused*:
//! one loop over the reduced axes evaluates the operand once per point and feeds every
//! sibling's accumulator ([`Schedule::fused`]). Their shared operand then counts as used once,
//! so it is inlined into that loop instead of materialized (no `[n, k]` distance buffer).

use crate::program::{BinOp, NodeId, Op, Program, ReduceOp, VarId};
use crate::types::Dim;
use std::fmt;

/// Where a node's values live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placement {
    /// A kernel parameter: already in its input buffer.
    Input,
    /// Recomputed inside each consumer (also every node of a comprehension body).
    Inline,
    /// Computed once by its own kernel into a buffer (an output or a temporary).
    Materialize,
}

/// How a reduction is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReduceStrategy {
    /// A serial loop inside the consumer's parallel domain, in row-major order.
    Serial,
    /// A two-phase parallel split for a tiny output over a large reduction domain: a first
    /// kernel over `chunks x output` reduces chunk `c` of the outermost reduction axis (rows
    /// `c*e/chunks .. (c+1)*e/chunks`, in order) into a temporary of partials; the consumer
    /// then reduces the `chunks` partials of each output element in chunk order. The order of
    /// every float operation depends only on the extents and `chunks`, a constant of the
    /// schedule, never on the thread count. For a contraction inside a comprehension the
    /// output is the comprehension's domain: partials `[chunks, domain..]`, the first kernel
    /// over `(c, domain..)` with `c` outermost (each thread keeps one chunk of rows in cache
    /// for many outputs), the combine inside the comprehension's own kernel.
    TwoPhase { chunks: u32 },
    /// A one-hot contraction over the rows ([`one_hot`]): `out[j, ..] = sum_i select(g(i) ==
    /// j, v(i, ..), 0)`. A first kernel over `chunks` zeroes its partials `[chunks, domain..]`,
    /// then walks chunk `c` of the rows in order, adding `v(i, ..)` to the partials of output
    /// row `g(i)` (rows whose `g(i)` is outside `0..extent` match no output and are skipped);
    /// the combine is the two-phase one. Each partial adds the same non-zero terms in the same
    /// order as the select would, and adding the select's `+0` to a sum that starts at `+0`
    /// never changes it, so the results are bitwise those of `TwoPhase`, with `n x d` work
    /// instead of `n x k x d`.
    Scatter { chunks: u32 },
    /// A plain matrix product ([`plain_product`]): `C[b?, i, j] = sum_l A[b?, i, l] *
    /// B[b?, l, j]` over float arrays, with nothing else inside the sum. Its comprehension is
    /// materialized into its own kernel with the `gemm` hint, whose body is the serial loop
    /// nest (the interpreter's reference) and which a backend runs as one vendor GEMM call;
    /// a consumer (an epilogue) reads the product's buffer. The call may reorder each
    /// element's sum over `l`, so results agree with the loops within rounding, and are
    /// the same from run to run for a given thread count and device.
    Gemm,
    /// A [`Gemm`](Self::Gemm) product that is also a contraction over the rows (what would
    /// otherwise be [`TwoPhase`](Self::TwoPhase): `x.t().dot(&x)`, `r.t().dot(&x)`). Its
    /// kernel gets the `gemm_split_k` hint: a backend cuts the summed axis into one chunk per
    /// thread, runs each chunk as a single-threaded library call into its own partial and sums
    /// the partials in chunk order (see [`crate::loops::split_k_chunks`]), so results are the
    /// same from run to run for a given thread count and device.
    GemmSplitK,
}

/// The number of chunks of every two-phase reduction: enough to keep any core count of today
/// busy, few enough that the combine is negligible.
pub const TWO_PHASE_CHUNKS: u32 = 64;

/// The number of chunks of a scatter: few, since each chunk keeps partials for the whole
/// output (`[chunks, k, d]`), enough to share the rows among the cores.
pub const SCATTER_CHUNKS: u32 = 16;

/// Reduction boxes with a constant size below this stay serial even when their output is tiny.
const TWO_PHASE_MIN_ELEMS: u64 = 1 << 14;

/// The schedule of one program: a placement for every node and a strategy for every reduction.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub placement: Vec<Placement>,
    /// Reduction nodes (`Reduce` and `RangeReduce`) in node order.
    pub reductions: Vec<(NodeId, ReduceStrategy)>,
    /// Groups of sibling reductions (two or more, in node order) computed by one loop in one
    /// kernel: the same operand, the same axes, every one a serial array-level output.
    pub fused: Vec<Vec<NodeId>>,
    /// The contractions over the rows (two-phase or scatter reductions inside a
    /// comprehension), in node order: what the schedule found when it chose their strategy,
    /// so that `build_loops` follows it instead of looking again.
    pub(crate) contractions: Vec<(NodeId, Contraction)>,
    /// Whether each node's kernel (when it has one) runs reduction loops per point: the node
    /// is a reduction, or reads one that is inlined into it.
    pub(crate) loops: Vec<bool>,
    /// The comprehensions whose whole body is a [`ReduceStrategy::Gemm`] (or
    /// [`ReduceStrategy::GemmSplitK`], `true`) product, in node order: each one's kernel gets
    /// the `gemm` (`gemm_split_k`) hint.
    pub(crate) gemms: Vec<(NodeId, bool)>,
}

/// A contraction over the rows (see [`contraction_host`]) that the schedule splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Contraction {
    /// The comprehension whose whole body the contraction is.
    pub host: NodeId,
    /// For a scatter: the one-hot product it computes.
    pub hot: Option<OneHot>,
}

impl Schedule {
    pub fn placement(&self, id: NodeId) -> Placement {
        self.placement.get(id.index()).copied().unwrap_or(Placement::Inline)
    }

    /// The contraction over the rows that reduction `id` is, if the schedule split one.
    pub(crate) fn contraction(&self, id: NodeId) -> Option<Contraction> {
        self.contractions.iter().find(|(n, _)| *n == id).map(|(_, c)| *c)
    }

    /// Whether node `id` is the comprehension of a [`ReduceStrategy::Gemm`] product
    /// (`Some(false)`) or of a [`ReduceStrategy::GemmSplitK`] one (`Some(true)`).
    pub(crate) fn is_gemm(&self, id: NodeId) -> Option<bool> {
        self.gemms.iter().find(|(n, _)| *n == id).map(|(_, split)| *split)
    }

    /// Whether the kernel of node `id` runs reduction loops per point.
    pub(crate) fn runs_loops(&self, id: NodeId) -> bool {
        self.loops.get(id.index()).copied().unwrap_or(false)
    }

    /// The fused group `id` belongs to, if any.
    pub fn fused_group(&self, id: NodeId) -> Option<&[NodeId]> {
        self.fused.iter().find(|g| g.contains(&id)).map(|g| g.as_slice())
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, pl) in self.placement.iter().enumerate() {
            let what = match pl {
                Placement::Input => "input",
                Placement::Inline => "inline",
                Placement::Materialize => "materialize",
            };
            write!(f, "v{i} {what}")?;
            if let Some((_, s)) = self.reductions.iter().find(|(n, _)| n.index() == i) {
                match s {
                    ReduceStrategy::Serial => f.write_str(", reduce serial")?,
                    ReduceStrategy::TwoPhase { chunks } => write!(f, ", reduce two_phase {chunks}")?,
                    ReduceStrategy::Scatter { chunks } => write!(f, ", reduce scatter {chunks}")?,
                    ReduceStrategy::Gemm => f.write_str(", reduce gemm")?,
                    ReduceStrategy::GemmSplitK => f.write_str(", reduce gemm_split_k")?,
                }
            }
            f.write_str("\n")?;
        }
        for g in &self.fused {
            let ids: Vec<String> = g.iter().map(|n| n.to_string()).collect();
            writeln!(f, "fuse {}", ids.join(" "))?;
        }
        Ok(())
    }
}

/// Contractions whose reduction box is a constant get the two-phase split only when their
/// output (the comprehension's domain, also a constant) has at most this many elements.
const TWO_PHASE_MAX_CONTRACTION_OUT: u64 = 1 << 12;

/// The strategy of reduction node `id`: two-phase when it is array-level (not inside a
/// comprehension body), its output is tiny and its reduction box is not known to be small.
/// "Tiny" is read from the program alone: a rank-0 result (`x.sum()`, `sum(0..n, ..)`), or a
/// rank-1 result of reducing axis 0 of a rank-2 operand (column statistics of an `[n, d]`
/// matrix: `mean_axis(Axis(0))`), where rows are the long axis by convention.
///
/// A `range_reduce` inside a comprehension is two-phase only when it is a *contraction over
/// the rows* (see [`contraction_host`]); then its partials are indexed by the chunk and the
/// comprehension's domain, and the contraction is returned with the strategy.
fn strategy(p: &Program, id: NodeId, free: &[Vec<VarId>]) -> (ReduceStrategy, Option<Contraction>) {
    if !free[id.index()].is_empty() {
        let Some(host) = contraction_host(p, id, free) else { return (ReduceStrategy::Serial, None) };
        let hot = one_hot(p, id, host, free);
        let strategy = match hot {
            Some(_) => ReduceStrategy::Scatter { chunks: SCATTER_CHUNKS },
            None => ReduceStrategy::TwoPhase { chunks: TWO_PHASE_CHUNKS },
        };
        return (strategy, Some(Contraction { host, hot }));
    }
    let n = p.node(id);
    let (extents, tiny): (Vec<Dim>, bool) = match &n.op {
        Op::Reduce { arg, axes, .. } => {
            let shape = &p.node(*arg).ty.shape;
            let ext = axes.iter().filter_map(|a| shape.get(*a as usize).copied()).collect();
            let columns = shape.len() == 2 && axes.as_slice() == [0];
            (ext, n.ty.shape.is_empty() || columns)
        }
        Op::RangeReduce { extents, .. } => (extents.clone(), n.ty.shape.is_empty()),
        _ => return (ReduceStrategy::Serial, None),
    };
    let small = extents.iter().try_fold(1u64, |acc, d| match d {
        Dim::Const(c) => acc.checked_mul(*c),
        Dim::Sym(_) => None,
    });
    if !tiny || extents.is_empty() || small.is_some_and(|c| c < TWO_PHASE_MIN_ELEMS) {
        return (ReduceStrategy::Serial, None);
    }
    (ReduceStrategy::TwoPhase { chunks: TWO_PHASE_CHUNKS }, None)
}

/// The row symbols of `p`: those that are the first axis of some rank-2 parameter and the
/// second axis of none (`n` of `x: [n, d]`, not `d` of a `w: [d, k]` beside it).
fn row_syms(p: &Program) -> Vec<Dim> {
    let rank2 = || p.params.iter().filter(|q| q.ty.shape.len() == 2).map(|q| &q.ty.shape);
    let mut rows: Vec<Dim> =
        rank2().map(|s| s[0]).filter(|d| matches!(d, Dim::Sym(_)) && !rank2().any(|s| s[1] == *d)).collect();
    rows.dedup();
    rows
}

/// The comprehension whose whole body is `range_reduce` node `id`, when `id` is a
/// *contraction over the rows* that gets the two-phase split: `dot`'s lowering
/// `generate (i, j) (range_reduce sum (l < n) ..)` or a user `from_shape_fn((a, b), |(i, j)|
/// sum(0..n, |l| ..))`. The rule: `id` is a non-arg `range_reduce` used once, as the whole
/// body of an array-level `generate` that binds every variable free in it, and either
/// - its outermost extent is a symbol that is no extent of the `generate` (the output does
///   not span the long axis) and either a row symbol (see [`row_syms`]) or the range of an
///   integer one-hot sum (`bincount`: integer sums give the same bits in any order), or
/// - its box is a constant of at least `TWO_PHASE_MIN_ELEMS` elements and the `generate`'s
///   domain a constant of at most `TWO_PHASE_MAX_CONTRACTION_OUT`.
///
/// Everything else inside a comprehension (the distances of `nearest`, reducing `d`) stays a
/// serial loop.
fn contraction_host(p: &Program, id: NodeId, free: &[Vec<VarId>]) -> Option<NodeId> {
    let Op::RangeReduce { op, extents, .. } = &p.node(id).op else { return None };
    if op.is_arg() || extents.is_empty() || p.use_counts()[id.index()] != 1 {
        return None;
    }
    let host = p.nodes.iter().position(|n| matches!(n.op, Op::Generate { body, .. } if body == id))?;
    let Op::Generate { vars, extents: gext, .. } = &p.nodes[host].op else { return None };
    if !free[host].is_empty() || !free[id.index()].iter().all(|v| vars.contains(v)) {
        return None;
    }
    let konst = |ds: &[Dim]| {
        ds.iter().try_fold(1u64, |acc, d| match d {
            Dim::Const(c) => acc.checked_mul(*c),
            Dim::Sym(_) => None,
        })
    };
    let long = matches!(extents[0], Dim::Sym(_)) && !gext.contains(&extents[0]);
    let rows = long && (row_syms(p).contains(&extents[0]) || int_one_hot(p, id, NodeId(host as u32), free));
    let consts = konst(extents).is_some_and(|c| c >= TWO_PHASE_MIN_ELEMS)
        && konst(gext).is_some_and(|c| c <= TWO_PHASE_MAX_CONTRACTION_OUT);
    (rows || consts).then_some(NodeId(host as u32))
}

/// The comprehension whose whole body is `range_reduce` node `id`, when `id` is a *plain
/// matrix product* that a vendor GEMM computes ([`ReduceStrategy::Gemm`]): a float `sum`
/// over one variable `l`, used once, as the whole body of an array-level `generate` over
/// `(i, j)` or `(b, i, j)` that is stored once, whose body is `A[..] * B[..]` (either order),
/// where each factor loads an array that is a buffer (an input or a materialized value,
/// possibly through transposes) at bare index variables, one per axis, each axis as long as
/// its variable's extent: A at `i`, `l` and optionally `b`, B at `l`, `j` and optionally `b`.
/// Anything else inside the sum (a prologue, a distance, a one-hot select) keeps generated
/// loops.
fn plain_product(p: &Program, id: NodeId, free: &[Vec<VarId>], placement: &[Placement]) -> Option<NodeId> {
    use crate::types::{DType, ElemTy};
    let Op::RangeReduce { op: ReduceOp::Sum, vars, extents, body } = &p.node(id).op else { return None };
    let ([l], [kd]) = (vars.as_slice(), extents.as_slice()) else { return None };
    let float = matches!(p.node(id).ty.elem, ElemTy::Concrete(DType::F32 | DType::F64));
    if !float || p.use_counts()[id.index()] != 1 {
        return None;
    }
    let host = p.nodes.iter().position(|n| matches!(n.op, Op::Generate { body, .. } if body == id))?;
    let Op::Generate { vars: gvars, extents: gext, .. } = &p.nodes[host].op else { return None };
    let stored = p.outputs.iter().filter(|o| o.index() == host).count();
    if !free[host].is_empty() || stored > 1 {
        return None;
    }
    let (batch, i, j) = match gvars.as_slice() {
        [i, j] => (None, *i, *j),
        [b, i, j] => (Some(*b), *i, *j),
        _ => return None,
    };
    let Op::Binary(BinOp::Mul, x, y) = p.node(*body).op else { return None };
    let extent = |v: VarId| if v == *l { Some(*kd) } else { gvars.iter().position(|g| *g == v).map(|k| gext[k]) };
    let buffer = |mut a: NodeId| loop {
        match (placement[a.index()], &p.node(a).op) {
            (Placement::Input | Placement::Materialize, _) => return true,
            (Placement::Inline, Op::Transpose(inner, _)) => a = *inner,
            _ => return false,
        }
    };
    let operand = |n: NodeId, row: VarId, col: VarId| {
        let Op::Load { array, indices } = &p.node(n).op else { return false };
        let shape = &p.node(*array).ty.shape;
        let mut seen = vec![];
        for (axis, ix) in indices.iter().enumerate() {
            let Op::Index(v) = p.node(*ix).op else { return false };
            let known = v == row || v == col || Some(v) == batch;
            if !known || seen.contains(&v) || extent(v).is_none() || shape.get(axis).copied() != extent(v) {
                return false;
            }
            seen.push(v);
        }
        seen.contains(&row) && seen.contains(&col) && buffer(*array)
    };
    let plain = (operand(x, i, *l) && operand(y, *l, j)) || (operand(y, i, *l) && operand(x, *l, j));
    plain.then_some(NodeId(host as u32))
}

/// A one-hot contraction: what [`ReduceStrategy::Scatter`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OneHot {
    /// The comprehension variable the rows are matched against (`j`).
    pub var: VarId,
    /// The row's target, an `i64` depending on the row variable alone (`labels[i]`).
    pub target: NodeId,
    /// The value a matching row adds (`x[i, l]`; not depending on `var`).
    pub value: NodeId,
}

/// Whether contraction `id` (hosted by comprehension `host`, see [`contraction_host`]) is a
/// one-hot product: a `sum` over one row variable `i` of `select(g(i) == j, v, 0)` (either
/// side of the `==`), with `j` a variable of `host`, `g` an `i64` of `i` alone and `v` free
/// of `j`.
fn one_hot(p: &Program, id: NodeId, host: NodeId, free: &[Vec<VarId>]) -> Option<OneHot> {
    let Op::RangeReduce { op: crate::program::ReduceOp::Sum, vars, body, .. } = &p.node(id).op else { return None };
    let Op::Generate { vars: gvars, .. } = &p.node(host).op else { return None };
    let [i] = vars.as_slice() else { return None };
    let Op::Select(cond, value, zero) = p.node(*body).op else { return None };
    use crate::program::Literal;
    let is_zero = matches!(&p.node(zero).op, Op::Const(Literal::Float(0.0) | Literal::Int(0)))
        && !p.node(value).ty.elem.is_bool();
    let Op::Binary(crate::program::BinOp::Eq, a, b) = p.node(cond).op else { return None };
    let index_var = |n: NodeId| match p.node(n).op {
        Op::Index(v) if gvars.contains(&v) => Some(v),
        _ => None,
    };
    let (var, target) = match (index_var(a), index_var(b)) {
        (Some(v), _) => (v, b),
        (None, Some(v)) => (v, a),
        (None, None) => return None,
    };
    let target_ok = free[target.index()].iter().all(|v| v == i)
        && p.node(target).ty.shape.is_empty()
        && p.node(target).ty.elem == crate::types::ElemTy::I64;
    (is_zero && target_ok && !free[value.index()].contains(&var)).then_some(OneHot { var, target, value })
}

/// The array-level values the body of a contraction over the rows reads, directly or through
/// layout views (a transpose, a broadcast, an inserted axis, a slice: the views themselves are
/// not marked), by node.
///
/// The contraction reads each of their elements once per output column (`r.t().dot(&x)` reads
/// `r[i, j]` once per feature): inlined, a value computed from reductions (residuals
/// `exp(z - lse) - y`, centered data `x - mean`) would be recomputed that many times, so
/// [`schedule`] keeps such a value in its buffer, written once, instead of re-inlining it. The
/// contraction then loads plain buffers, and every other reader of the value (a column sum
/// beside it) reads that buffer too. Values the backward pass did not materialize (no
/// reduction behind them, read once) are unaffected.
fn contraction_operands(p: &Program, free: &[Vec<VarId>], contractions: &[(NodeId, Contraction)]) -> Vec<bool> {
    let mut read = vec![false; p.nodes.len()];
    let mut seen = vec![false; p.nodes.len()];
    let mut stack: Vec<NodeId> = contractions
        .iter()
        .filter_map(|(id, _)| match p.node(*id).op {
            Op::RangeReduce { body, .. } => Some(body),
            _ => None,
        })
        .collect();
    while let Some(x) = stack.pop() {
        if std::mem::replace(&mut seen[x.index()], true) {
            continue;
        }
        let op = &p.node(x).op;
        let view = matches!(op, Op::Broadcast(_) | Op::Transpose(..) | Op::InsertAxis(..) | Op::Slice(..));
        if view || !free[x.index()].is_empty() {
            // A view is read through (it stays inline: a copy of it would gain nothing).
            stack.extend(op.operands());
        } else {
            read[x.index()] = true;
        }
    }
    read
}

/// Whether range reduction `id` in `host` is a one-hot sum of integers (a count).
fn int_one_hot(p: &Program, id: NodeId, host: NodeId, free: &[Vec<VarId>]) -> bool {
    one_hot(p, id, host, free).is_some_and(|h| p.node(h.value).ty.elem.is_int())
}

/// Whether consumer `u` evaluates operand `x` more than once per element of `x`.
fn expands(p: &Program, free: &[Vec<VarId>], u: NodeId, x: NodeId) -> bool {
    let (un, xn) = (p.node(u), p.node(x));
    if free[x.index()].is_empty() && (!free[u.index()].is_empty() || !un.op.bound_vars().is_empty()) {
        // An array-level value used inside a loop body is evaluated once per iteration.
        return !matches!(xn.op, Op::Param(_) | Op::Const(_) | Op::DimValue(_));
    }
    match &un.op {
        Op::Broadcast(_) | Op::Binary(..) | Op::Select(..) => xn.ty.shape != un.ty.shape,
        Op::Load { array, .. } => *array == x,
        _ => false,
    }
}

/// The sibling reduction groups of `p` (see the module documentation): for every operand
/// whose users are all serial, array-level `Reduce` outputs over the same axes, those users,
/// when there are at least two. Outputs listed twice stay unfused (they are already one node).
fn sibling_groups(p: &Program, free: &[Vec<VarId>]) -> Vec<Vec<NodeId>> {
    let n = p.nodes.len();
    let mut users: Vec<Vec<NodeId>> = vec![vec![]; n];
    for (i, node) in p.nodes.iter().enumerate() {
        for o in node.op.operands() {
            users[o.index()].push(NodeId(i as u32));
        }
    }
    let mut groups = vec![];
    for (x, us) in users.iter().enumerate() {
        if us.len() < 2 || p.outputs.contains(&NodeId(x as u32)) {
            continue;
        }
        let axes_of = |u: NodeId| match &p.node(u).op {
            Op::Reduce { axes, .. } => Some(axes.clone()),
            _ => None,
        };
        let Some(axes) = axes_of(us[0]) else { continue };
        let ok = us.iter().all(|&u| {
            axes_of(u).as_ref() == Some(&axes)
                && free[u.index()].is_empty()
                && p.outputs.iter().filter(|o| **o == u).count() == 1
                && strategy(p, u, free).0 == ReduceStrategy::Serial
        });
        let mut g = us.clone();
        g.dedup();
        if ok && g.len() == us.len() {
            groups.push(g);
        }
    }
    groups
}

/// Whether node `i`'s kernel runs reduction loops: it is a reduction, or one of its operands
/// is inlined and does (`has` answers for the nodes before `i`).
fn runs_reduction(p: &Program, placement: &[Placement], has: &[bool], i: usize) -> bool {
    matches!(p.nodes[i].op, Op::Reduce { .. } | Op::RangeReduce { .. })
        || p.nodes[i].op.operands().iter().any(|o| placement[o.index()] == Placement::Inline && has[o.index()])
}

/// The default schedule of `p` (a verified, concrete program).
pub fn schedule(p: &Program) -> Schedule {
    let n = p.nodes.len();
    let free = p.free_vars();
    let fused = sibling_groups(p, &free);
    let mut uses = p.use_counts();
    // A top-k kernel evaluates each element of its operand once, in one pass over the lane, so
    // an operand used only by top-k nodes (the values and the positions of one selection) is
    // recomputed by each instead of materialized: a distance comprehension never becomes an
    // `n x m` buffer.
    for (i, count) in uses.iter_mut().enumerate() {
        let users: Vec<&Op> =
            p.nodes.iter().map(|n| &n.op).filter(|op| op.operands().contains(&NodeId(i as u32))).collect();
        let outputs = p.outputs.iter().filter(|o| o.index() == i).count();
        if *count > 1 && outputs == 0 && users.iter().all(|op| matches!(op, Op::TopK { .. })) {
            *count = 1;
        }
    }
    for g in &fused {
        // The fused loop evaluates the shared operand once per point.
        if let Some(Op::Reduce { arg, .. }) = g.first().map(|u| &p.node(*u).op) {
            uses[arg.index()] = 1;
        }
    }
    let is_red = |i: usize| matches!(p.nodes[i].op, Op::Reduce { .. } | Op::RangeReduce { .. });
    let is_output = |i: usize| p.outputs.contains(&NodeId(i as u32));
    // A scan is computed by its own two kernels, which evaluate its operand twice per element;
    // a sort by its own kernel, which reads its operand many times.
    let is_scan = |i: usize| matches!(p.nodes[i].op, Op::Scan { .. } | Op::Sort { .. });
    let is_topk = |i: usize| matches!(p.nodes[i].op, Op::TopK { .. });
    // Forward: which nodes contain a reduction at all.
    let mut contains = vec![false; n];
    for i in 0..n {
        contains[i] = is_red(i) || p.nodes[i].op.operands().iter().any(|o| contains[o.index()]);
    }
    // Backward: would inlining evaluate a node more than once per element? Users are placed
    // first, so a materialized user stops the propagation.
    let mut placement = vec![Placement::Inline; n];
    let mut repeated: Vec<bool> = uses.iter().map(|&c| c > 1).collect();
    for i in (0..n).rev() {
        let id = NodeId(i as u32);
        placement[i] = if matches!(p.nodes[i].op, Op::Param(_)) {
            Placement::Input
        } else if free[i].is_empty() && (is_output(i) || is_scan(i) || is_topk(i) || (contains[i] && repeated[i])) {
            Placement::Materialize
        } else {
            Placement::Inline
        };
        for x in p.nodes[i].op.operands() {
            if (placement[i] == Placement::Inline && repeated[i]) || expands(p, &free, id, x) || is_scan(i) {
                repeated[x.index()] = true;
            }
        }
    }
    let mut reductions = vec![];
    let mut contractions = vec![];
    for i in (0..n).filter(|&i| is_red(i)) {
        let (strategy, contraction) = strategy(p, NodeId(i as u32), &free);
        reductions.push((NodeId(i as u32), strategy));
        contractions.extend(contraction.map(|c| (NodeId(i as u32), c)));
    }
    let contracted = contraction_operands(p, &free, &contractions);
    // Forward: a materialized node whose reductions all sit behind other materialized nodes
    // is cheap to recompute, so it is inlined again (`x - mean` once `mean` is a buffer) —
    // unless a contraction over the rows reads it (see `contraction_operands`).
    let mut has_reduction = vec![false; n];
    for i in 0..n {
        has_reduction[i] = runs_reduction(p, &placement, &has_reduction, i);
        if placement[i] == Placement::Materialize
            && !is_output(i)
            && !is_scan(i)
            && !is_topk(i)
            && !has_reduction[i]
            && !contracted[i]
        {
            placement[i] = Placement::Inline;
        }
    }
    // Plain products go to a vendor GEMM: their comprehension gets its own kernel, and a
    // consumer reading it no longer runs its reduction loops. One that is a contraction over
    // the rows (the two-phase split chose it above) runs split-K.
    let mut gemms = vec![];
    for (id, strategy) in &mut reductions {
        if let Some(host) = plain_product(p, *id, &free, &placement) {
            let split = matches!(strategy, ReduceStrategy::TwoPhase { .. });
            *strategy = if split { ReduceStrategy::GemmSplitK } else { ReduceStrategy::Gemm };
            contractions.retain(|(n, _)| n != id);
            placement[host.index()] = Placement::Materialize;
            gemms.push((host, split));
        }
    }
    if !gemms.is_empty() {
        for i in 0..n {
            has_reduction[i] = runs_reduction(p, &placement, &has_reduction, i);
        }
    }
    Schedule { placement, reductions, fused, contractions, loops: has_reduction, gemms }
}
