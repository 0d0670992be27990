//! The `loops` pass: builds the [`LoopProgram`] of a program under a [`Schedule`].
//!
//! Every materialized node gets one kernel whose domain is the node's shape; its body is the
//! node's *scalar expression at the domain index*, built by [`Builder::expr`], which inlines
//! recursively: index maps (broadcast, transpose, insert_axis, slice) become index rewrites,
//! reductions become serial loops over accumulators emitted as statements before their use,
//! gathers become checked indices, and materialized nodes become loads from their buffer.
//! Sibling reductions the schedule fused ([`Schedule::fused`], `nearest`'s `argmin` and
//! `min` of one row of distances) are built as one loop with one accumulator each, in one
//! kernel: the shared operand is evaluated once per point and consumed at once. Adjacent
//! kernels over one domain are merged later, by [`super::fuse`].
//!
//! By concern: this file places buffers and builds one kernel per materialized node;
//! [`expr`] builds element-wise expressions and index maps; [`reduce`] builds serial
//! reductions; [`two_phase`] builds the kernels and combines of two-phase reductions; [`scan`]
//! the two kernels of a scan; [`sort`] the merge-sort kernel of a sort.

mod expr;
mod radix;
mod reduce;
mod scan;
mod sort;
mod two_phase;

use super::schedule::{OneHot, Placement, ReduceStrategy, Schedule};
use crate::loops::{BufId, BufKind, Buffer, Expr, Kernel, KernelHint, LoopProgram, Stmt, Var};
use crate::program::{NodeId, Op, Program, VarId};
use crate::types::{DType, Dim, ElemTy, Type};
use std::collections::{HashMap, HashSet};

/// Lower `p` to loops following `s`. An `Err` is an internal bug (a broken invariant of the
/// verified input), described in words.
pub fn build_loops(p: &Program, s: &Schedule) -> Result<LoopProgram, String> {
    let mut lp = LoopProgram {
        name: p.name.clone(),
        syms: p.syms.clone(),
        params: vec![],
        buffers: vec![],
        kernels: vec![],
        outputs: vec![],
        derived: p.derived.clone(),
    };
    let mut names: Vec<String> = p.params.iter().map(|q| q.name.clone()).collect();
    let mut fresh_name = |base: String| {
        let mut n = base;
        while names.contains(&n) {
            n.push('_');
        }
        names.push(n.clone());
        n
    };
    for q in &p.params {
        lp.params.push(BufId(lp.buffers.len() as u32));
        lp.buffers.push(Buffer {
            name: q.name.clone(),
            kind: BufKind::Input,
            dtype: dtype(&q.ty)?,
            shape: q.ty.shape.clone(),
        });
    }
    // Where each node's stores go: every output slot it fills, else a temporary.
    let mut stores: HashMap<NodeId, Vec<BufId>> = HashMap::new();
    for (k, o) in p.outputs.iter().enumerate() {
        let id = BufId(lp.buffers.len() as u32);
        let ty = &p.node(*o).ty;
        lp.buffers.push(Buffer {
            name: fresh_name(format!("out{k}")),
            kind: BufKind::Output,
            dtype: dtype(ty)?,
            shape: ty.shape.clone(),
        });
        lp.outputs.push(id);
        stores.entry(*o).or_default().push(id);
    }
    let mut buf_of: HashMap<NodeId, BufId> = HashMap::new();
    for (i, n) in p.nodes.iter().enumerate() {
        let id = NodeId(i as u32);
        match (s.placement(id), &n.op) {
            (Placement::Input, Op::Param(k)) => {
                let b = lp.params.get(*k as usize).ok_or_else(|| format!("{id} reads a missing parameter"))?;
                buf_of.insert(id, *b);
            }
            (Placement::Materialize, _) => {
                if let Some(first) = stores.get(&id).and_then(|v| v.first()) {
                    buf_of.insert(id, *first);
                } else {
                    let b = BufId(lp.buffers.len() as u32);
                    lp.buffers.push(Buffer {
                        name: fresh_name(format!("t{i}")),
                        kind: BufKind::Temp,
                        dtype: dtype(&n.ty)?,
                        shape: n.ty.shape.clone(),
                    });
                    stores.insert(id, vec![b]);
                    buf_of.insert(id, b);
                }
            }
            _ => {}
        }
    }
    // The partials of every two-phase reduction: `[chunks, output..]`, plus indices for arg
    // reductions.
    let mut partials: HashMap<NodeId, Partials> = HashMap::new();
    let free = p.free_vars();
    for (id, strat) in &s.reductions {
        let (chunks, scatter) = match *strat {
            ReduceStrategy::TwoPhase { chunks } => (chunks, false),
            ReduceStrategy::Scatter { chunks } => (chunks, true),
            _ => continue,
        };
        let n = p.node(*id);
        let (op, elem) = match &n.op {
            Op::Reduce { op, arg, .. } => (*op, dtype(&p.node(*arg).ty)?),
            Op::RangeReduce { op, body, .. } => (*op, dtype(&p.node(*body).ty)?),
            _ => return Err(format!("{id} has a reduction strategy but is no reduction")),
        };
        let mut shape = vec![Dim::Const(u64::from(chunks))];
        shape.extend(n.ty.shape.iter().copied());
        // A contraction inside a comprehension: one partial per chunk and comprehension point.
        let mut outer = vec![];
        let mut hot = None;
        if !free[id.index()].is_empty() {
            let c = s.contraction(*id).ok_or_else(|| format!("two-phase {id} is no contraction"))?;
            let host = c.host;
            let Op::Generate { vars, extents, .. } = &p.node(host).op else {
                return Err(format!("{host} hosts {id} but is no generate"));
            };
            shape.extend(extents.iter().copied());
            outer = vars.iter().copied().zip(extents.iter().copied()).collect();
            if scatter {
                hot = Some(c.hot.ok_or_else(|| format!("scatter {id} is no one-hot sum"))?);
            }
        }
        if scatter && hot.is_none() {
            return Err(format!("scatter {id} is not inside a comprehension"));
        }
        let mut temp = |name: String, dt: DType| {
            let b = BufId(lp.buffers.len() as u32);
            lp.buffers.push(Buffer { name, kind: BufKind::Temp, dtype: dt, shape: shape.clone() });
            b
        };
        let val = temp(fresh_name(format!("p{}", id.0)), elem);
        let idx = op.is_arg().then(|| temp(fresh_name(format!("p{}_idx", id.0)), DType::I64));
        partials.insert(*id, Partials { val, idx, chunks, outer, hot });
    }
    // The chunk totals of every scan: `[chunks, the other axes..]`.
    let mut scan_totals: HashMap<NodeId, BufId> = HashMap::new();
    for (i, n) in p.nodes.iter().enumerate() {
        if let Op::Scan { axis, .. } = &n.op {
            let mut shape = vec![Dim::Const(u64::from(crate::program::SCAN_CHUNKS))];
            shape.extend(n.ty.shape.iter().enumerate().filter(|(k, _)| *k != *axis as usize).map(|(_, d)| *d));
            let b = BufId(lp.buffers.len() as u32);
            let name = fresh_name(format!("s{i}"));
            lp.buffers.push(Buffer { name, kind: BufKind::Temp, dtype: dtype(&n.ty)?, shape });
            scan_totals.insert(NodeId(i as u32), b);
        }
    }
    // The two position buffers of every sort, then two of its keys: `[1, the other axes.., n]`.
    // With a radix key, its two key buffers and the histograms, of the same shape.
    let mut sort_bufs: HashMap<NodeId, ([BufId; 4], Option<radix::RadixBufs>)> = HashMap::new();
    // Top-k's working values and positions: `[1, the other axes.., k]`.
    let mut topk_bufs: HashMap<NodeId, [BufId; 2]> = HashMap::new();
    for (i, n) in p.nodes.iter().enumerate() {
        if let Op::Sort { arg, axis, .. } = &n.op {
            let ashape = &p.node(*arg).ty.shape;
            let mut shape = vec![Dim::Const(1)];
            shape.extend(ashape.iter().enumerate().filter(|(k, _)| *k != *axis as usize).map(|(_, d)| *d));
            shape.push(*ashape.get(*axis as usize).ok_or_else(|| format!("v{i}: sort axis out of range"))?);
            let key = dtype(&p.node(*arg).ty)?;
            let mut temp = |h: usize, dt: DType| {
                let b = BufId(lp.buffers.len() as u32);
                let name = fresh_name(format!("o{i}_{h}"));
                lp.buffers.push(Buffer { name, kind: BufKind::Temp, dtype: dt, shape: shape.clone() });
                b
            };
            let bufs = [temp(0, DType::I64), temp(1, DType::I64), temp(2, key), temp(3, key)];
            let radix = radix::radix_key(key)
                .map(|(kt, _)| radix::RadixBufs { keys: [temp(4, kt), temp(5, kt)], hist: temp(6, DType::I64) });
            sort_bufs.insert(NodeId(i as u32), (bufs, radix));
        }
        if let Op::TopK { arg, axis, k, .. } = &n.op {
            let ashape = &p.node(*arg).ty.shape;
            let mut shape = vec![Dim::Const(1)];
            shape.extend(ashape.iter().enumerate().filter(|(a, _)| *a != *axis as usize).map(|(_, d)| *d));
            shape.push(*k);
            let mut pair = [BufId(0); 2];
            for (h, (slot, dt)) in pair.iter_mut().zip([dtype(&p.node(*arg).ty)?, DType::I64]).enumerate() {
                *slot = BufId(lp.buffers.len() as u32);
                let name = fresh_name(format!("o{i}_{h}"));
                lp.buffers.push(Buffer { name, kind: BufKind::Temp, dtype: dt, shape: shape.clone() });
            }
            topk_bufs.insert(NodeId(i as u32), pair);
        }
    }
    let mut b = Builder {
        p,
        param_bufs: lp.params.clone(),
        buf_of,
        partials,
        env: HashMap::new(),
        ranges: HashMap::new(),
        cache: vec![],
        next_var: 0,
        uses: p.use_counts(),
        free,
        whole: HashSet::new(),
        par_rank: None,
    };
    for (i, n) in p.nodes.iter().enumerate() {
        let id = NodeId(i as u32);
        b.par_rank = None;
        if let Some(k) = b.partial_kernel(id)? {
            lp.kernels.push(k);
        }
        let Some(targets) = stores.get(&id) else { continue };
        if let Some(bufs) = topk_bufs.get(&id) {
            lp.kernels.push(b.topk_kernel(id, targets, *bufs)?);
            continue;
        }
        if let Some((bufs, radix)) = sort_bufs.get(&id) {
            lp.kernels.push(b.sort_kernel(id, targets, *bufs, *radix)?);
            continue;
        }
        if let Some(totals) = scan_totals.get(&id) {
            lp.kernels.extend(b.scan_kernels(id, targets, *totals)?);
            continue;
        }
        b.cache = vec![HashMap::new()];
        let domain: Vec<(Var, Dim)> = n.ty.shape.iter().map(|d| (b.var(Some(*d)), *d)).collect();
        b.par_rank = Some(par_rank(&domain));
        let idx: Vec<Expr> = domain.iter().map(|(v, _)| Expr::Var(*v)).collect();
        let mut body = vec![];
        if let Some(group) = s.fused_group(id) {
            // The first sibling builds the whole group's kernel; the others are done by then.
            if group.first() != Some(&id) {
                continue;
            }
            let values = b.fused_reduce(group, &idx, &mut body)?;
            for (g, value) in group.iter().zip(values) {
                let ts = stores.get(g).ok_or_else(|| format!("fused reduction {g} has no buffer"))?;
                for t in ts {
                    body.push(Stmt::Store { buf: *t, idx: idx.clone(), value: value.clone() });
                }
            }
            lp.kernels.push(Kernel { name: String::new(), domain, hint: KernelHint::Serial, body });
            continue;
        }
        // A parameter output copies its input; anything else is computed here.
        let value =
            if matches!(n.op, Op::Param(_)) { b.expr(id, &idx, &mut body)? } else { b.node(id, &idx, &mut body)? };
        for t in targets {
            body.push(Stmt::Store { buf: *t, idx: idx.clone(), value: value.clone() });
        }
        let hint = if let Some(split) = s.is_gemm(id) {
            if split {
                KernelHint::GemmSplitK
            } else {
                KernelHint::Gemm
            }
        } else if s.runs_loops(id) {
            KernelHint::Serial
        } else {
            KernelHint::Plain
        };
        lp.kernels.push(Kernel { name: String::new(), domain, hint, body });
    }
    for (k, kernel) in lp.kernels.iter_mut().enumerate() {
        kernel.name = format!("{}_k{k}", p.name);
    }
    Ok(lp)
}

/// The element type of `t`, which lowering has made concrete.
fn dtype(t: &Type) -> Result<DType, String> {
    match t.elem {
        ElemTy::Concrete(d) => Ok(d),
        ElemTy::Float => Err("generic type `F` reached loop construction".into()),
    }
}

/// The temporaries of one two-phase reduction.
struct Partials {
    /// Partial accumulators, `[chunks, output..]`.
    val: BufId,
    /// For `argmin`/`argmax`: the flat index of each partial (-1 for an empty chunk).
    idx: Option<BufId>,
    chunks: u32,
    /// For a contraction inside a comprehension: the comprehension's variables and extents,
    /// the trailing axes of the partials.
    outer: Vec<(VarId, Dim)>,
    /// For a scatter: the one-hot product it computes.
    hot: Option<OneHot>,
}

/// Builds scalar expressions of nodes at given indices, emitting statements as it goes.
struct Builder<'a> {
    p: &'a Program,
    /// The input buffer of each parameter (slice bounds read scalar parameters).
    param_bufs: Vec<BufId>,
    buf_of: HashMap<NodeId, BufId>,
    partials: HashMap<NodeId, Partials>,
    /// The loop variable each bound array IR index variable currently stands for.
    env: HashMap<VarId, Var>,
    /// Variables provably inside `0..d`.
    ranges: HashMap<Var, Dim>,
    /// Already-built values, one map per open statement block (innermost last).
    cache: Vec<HashMap<String, Expr>>,
    next_var: u32,
    uses: Vec<u32>,
    free: Vec<Vec<VarId>>,
    /// Index variables of arg reductions over a whole range: they start at the range's first
    /// index (never -1), and the loop raises the empty flag itself.
    whole: HashSet<Var>,
    /// The rank of the parallel domain of the kernel being built (a two-phase partial's chunk
    /// axis and axes of extent 1 not counted), where its float sums may take the blocked order; `None` in kernels
    /// whose loops keep their own order (scans, sorts, scatters).
    par_rank: Option<usize>,
}

type R<T> = Result<T, String>;

/// The parallel rank of a kernel domain: its axes, those of extent 1 not counted (an
/// `insert_axis` or kept dimension parallelizes nothing: the row sums of
/// `x.sum_axis(Axis(1)).insert_axis(Axis(1))` are blocked like any row sums).
fn par_rank(domain: &[(Var, Dim)]) -> usize {
    domain.iter().filter(|(_, d)| *d != Dim::Const(1)).count()
}
