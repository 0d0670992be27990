//! The `schedule` pass: decides, for every node, whether it is inlined into its consumers or
//! materialized in a buffer, and which strategy each reduction gets. The result is a separate,
//! printable [`Schedule`]; `build_loops` follows it, and no schedule changes results.
//!
//! Default schedule: every elementwise and index-map node is inlined; reductions are computed
//! inside the consumer's loop. A node is materialized when it is an output, or when it contains
//! a (not yet materialized) reduction and inlining it would evaluate it more than once per
//! element: it has several uses, or a consumer expands it (a broadcast, a gather, a use inside
//! a comprehension body), or a consumer that is itself evaluated repeatedly. Recomputing
//! elementwise values is fine, recomputing reductions is not.

use crate::program::{NodeId, Op, Program};
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

/// How a reduction is computed. Only the serial strategy exists so far; the two-phase split
/// (tiny outputs) and tiled contractions (GEMM-shaped reductions) come with later backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReduceStrategy {
    /// A serial loop inside the consumer's parallel domain, in row-major order.
    Serial,
}

/// The schedule of one program: a placement for every node and a strategy for every reduction.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub placement: Vec<Placement>,
    /// Reduction nodes (`Reduce` and `RangeReduce`) in node order.
    pub reductions: Vec<(NodeId, ReduceStrategy)>,
}

impl Schedule {
    pub fn placement(&self, id: NodeId) -> Placement {
        self.placement.get(id.index()).copied().unwrap_or(Placement::Inline)
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
                }
            }
            f.write_str("\n")?;
        }
        Ok(())
    }
}

/// Whether consumer `u` evaluates operand `x` more than once per element of `x`.
fn expands(p: &Program, free: &[Vec<crate::program::VarId>], u: NodeId, x: NodeId) -> bool {
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

/// The default schedule of `p` (a verified, concrete program).
pub fn schedule(p: &Program) -> Schedule {
    let n = p.nodes.len();
    let free = p.free_vars();
    let uses = p.use_counts();
    let is_red = |i: usize| matches!(p.nodes[i].op, Op::Reduce { .. } | Op::RangeReduce { .. });
    let is_output = |i: usize| p.outputs.contains(&NodeId(i as u32));
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
        } else if free[i].is_empty() && (is_output(i) || (contains[i] && repeated[i])) {
            Placement::Materialize
        } else {
            Placement::Inline
        };
        for x in p.nodes[i].op.operands() {
            if (placement[i] == Placement::Inline && repeated[i]) || expands(p, &free, id, x) {
                repeated[x.index()] = true;
            }
        }
    }
    // Forward: a materialized node whose reductions all sit behind other materialized nodes
    // is cheap to recompute, so it is inlined again (`x - mean` once `mean` is a buffer).
    let mut has_reduction = vec![false; n];
    let mut reductions = vec![];
    for i in 0..n {
        if is_red(i) {
            reductions.push((NodeId(i as u32), ReduceStrategy::Serial));
        }
        has_reduction[i] = is_red(i)
            || p.nodes[i]
                .op
                .operands()
                .iter()
                .any(|o| placement[o.index()] == Placement::Inline && has_reduction[o.index()]);
        if placement[i] == Placement::Materialize && !is_output(i) && !has_reduction[i] {
            placement[i] = Placement::Inline;
        }
    }
    Schedule { placement, reductions }
}
