//! The `loops` pass: builds the [`LoopProgram`] of a program under a [`Schedule`].
//!
//! Every materialized node gets one kernel whose domain is the node's shape; its body is the
//! node's *scalar expression at the domain index*, built by [`Builder::expr`], which inlines
//! recursively: index maps (broadcast, transpose, insert_axis, slice) become index rewrites,
//! reductions become serial loops over accumulators emitted as statements before their use,
//! gathers become checked indices, and materialized nodes become loads from their buffer.
//! Adjacent kernels over the same domain are merged when the second reads nothing the first
//! writes. Sibling reductions the schedule fused ([`Schedule::fused`], `nearest`'s `argmin` and
//! `min` of one row of distances) are built as one loop with one accumulator each, in one
//! kernel: the shared operand is evaluated once per point and consumed at once.

use super::schedule::{contraction_host, one_hot, OneHot, Placement, ReduceStrategy, Schedule};
use crate::loops::{BufId, BufKind, Buffer, Expr, Flag, Kernel, LoopProgram, Scalar, Stmt, Var};
use crate::program::{AxisSlice, BinOp, NodeId, Op, Program, ReduceOp, SliceBound, SliceRange, VarId};
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
            let host = contraction_host(p, *id, &free).ok_or_else(|| format!("two-phase {id} is no contraction"))?;
            let Op::Generate { vars, extents, .. } = &p.node(host).op else {
                return Err(format!("{host} hosts {id} but is no generate"));
            };
            shape.extend(extents.iter().copied());
            outer = vars.iter().copied().zip(extents.iter().copied()).collect();
            if scatter {
                hot = Some(one_hot(p, *id, host, &free).ok_or_else(|| format!("scatter {id} is no one-hot sum"))?);
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
    };
    for (i, n) in p.nodes.iter().enumerate() {
        let id = NodeId(i as u32);
        if let Some(k) = b.partial_kernel(id)? {
            lp.kernels.push(k);
        }
        let Some(targets) = stores.get(&id) else { continue };
        b.cache = vec![HashMap::new()];
        let domain: Vec<(Var, Dim)> = n.ty.shape.iter().map(|d| (b.var(Some(*d)), *d)).collect();
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
            lp.kernels.push(Kernel { name: String::new(), domain, body });
            continue;
        }
        // A parameter output copies its input; anything else is computed here.
        let value =
            if matches!(n.op, Op::Param(_)) { b.expr(id, &idx, &mut body)? } else { b.node(id, &idx, &mut body)? };
        for t in targets {
            body.push(Stmt::Store { buf: *t, idx: idx.clone(), value: value.clone() });
        }
        lp.kernels.push(Kernel { name: String::new(), domain, body });
    }
    lp.kernels = merge_kernels(std::mem::take(&mut lp.kernels));
    for (k, kernel) in lp.kernels.iter_mut().enumerate() {
        kernel.name = format!("{}_k{k}", p.name);
    }
    Ok(lp)
}

fn dtype(t: &Type) -> Result<DType, String> {
    match t.elem {
        ElemTy::Concrete(d) => Ok(d),
        ElemTy::Float => Err("generic type `F` reached loop construction".into()),
    }
}

/// Merge each kernel into the previous one when their domains have the same extents and it
/// reads no buffer the previous one writes.
fn merge_kernels(kernels: Vec<Kernel>) -> Vec<Kernel> {
    let mut out: Vec<Kernel> = vec![];
    for mut k in kernels {
        if let Some(prev) = out.last_mut() {
            let same =
                prev.domain.len() == k.domain.len() && prev.domain.iter().zip(&k.domain).all(|(a, b)| a.1 == b.1);
            let (mut pr, mut pw, mut kr, mut kw) = (vec![], vec![], vec![], vec![]);
            crate::loops::buffer_accesses(&prev.body, &mut pr, &mut pw);
            crate::loops::buffer_accesses(&k.body, &mut kr, &mut kw);
            if same && !kr.iter().any(|b| pw.contains(b)) {
                let map: HashMap<Var, Var> = k.domain.iter().zip(&prev.domain).map(|(a, b)| (a.0, b.0)).collect();
                let f = |v: Var| map.get(&v).copied().unwrap_or(v);
                for st in &mut k.body {
                    st.map_vars(&f);
                }
                prev.body.extend(k.body);
                continue;
            }
        }
        out.push(k);
    }
    out
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
}

type R<T> = Result<T, String>;

impl Builder<'_> {
    fn var(&mut self, range: Option<Dim>) -> Var {
        let v = Var(self.next_var);
        self.next_var += 1;
        if let Some(d) = range {
            self.ranges.insert(v, d);
        }
        v
    }

    fn dtype(&self, id: NodeId) -> R<DType> {
        dtype(&self.p.node(id).ty)
    }

    /// Bind `value` to a fresh `let` (no-op for variables and constants).
    fn bind(&mut self, value: Expr, ty: DType, out: &mut Vec<Stmt>) -> Expr {
        if matches!(value, Expr::Var(_) | Expr::Const(_)) {
            return value;
        }
        let range = match &value {
            Expr::Check(_, d) => Some(*d),
            _ => None,
        };
        let var = self.var(range);
        out.push(Stmt::Let { var, ty, value });
        Expr::Var(var)
    }

    /// `e` as an index provably inside `0..d`: as is when it already is, else checked.
    fn checked(&mut self, e: Expr, d: Dim, out: &mut Vec<Stmt>) -> Expr {
        let proven = match &e {
            Expr::Var(v) => self.ranges.get(v) == Some(&d),
            Expr::Const(Scalar::I64(k)) => matches!(d, Dim::Const(c) if *k >= 0 && (*k as u64) < c),
            _ => false,
        };
        if proven {
            return e;
        }
        self.bind(Expr::Check(Box::new(e), d), DType::I64, out)
    }

    /// Index into operand `x` for an element `idx` of a node of shape `shape` (numpy
    /// broadcasting, right-aligned).
    fn broadcast_idx(&mut self, x: NodeId, shape: &[Dim], idx: &[Expr], out: &mut Vec<Stmt>) -> R<Vec<Expr>> {
        let xs = self.p.node(x).ty.shape.clone();
        let off = shape.len().checked_sub(xs.len()).ok_or_else(|| format!("{x} has a larger rank than its user"))?;
        let mut r = vec![];
        for (a, od) in xs.iter().enumerate() {
            let (t, td) = (a + off, shape[a + off]);
            if *od == td {
                r.push(idx[t].clone());
            } else if od.is_one() {
                r.push(Expr::i64(0));
            } else {
                // A symbolic dimension that is 1 or equal at run time.
                let one = Expr::binary(BinOp::Eq, Expr::Dim(*od), Expr::i64(1));
                let sel = Expr::Select(Box::new(one), Box::new(Expr::i64(0)), Box::new(idx[t].clone()));
                r.push(self.checked(sel, *od, out));
            }
        }
        Ok(r)
    }

    /// The value of node `id` at index `idx`: a load when it lives in a buffer.
    fn expr(&mut self, id: NodeId, idx: &[Expr], out: &mut Vec<Stmt>) -> R<Expr> {
        if let Some(b) = self.buf_of.get(&id) {
            return Ok(Expr::Load { buf: *b, idx: idx.to_vec() });
        }
        let op = &self.p.node(id).op;
        let memo = self.uses[id.index()] > 1 || matches!(op, Op::Reduce { .. } | Op::RangeReduce { .. });
        if !memo {
            return self.node(id, idx, out);
        }
        let bound: Vec<Option<&Var>> = self.free[id.index()].iter().map(|v| self.env.get(v)).collect();
        let key = format!("{id}|{idx:?}|{bound:?}");
        if let Some(e) = self.cache.iter().rev().find_map(|c| c.get(&key)) {
            return Ok(e.clone());
        }
        let e = self.node(id, idx, out)?;
        let e = self.bind(e, self.dtype(id)?, out);
        if let Some(c) = self.cache.last_mut() {
            c.insert(key, e.clone());
        }
        Ok(e)
    }

    /// Build `f` into a fresh statement block with its own cache scope.
    fn block<T>(&mut self, f: impl FnOnce(&mut Self, &mut Vec<Stmt>) -> R<T>) -> R<(T, Vec<Stmt>)> {
        let mut body = vec![];
        self.cache.push(HashMap::new());
        let r = f(self, &mut body);
        self.cache.pop();
        Ok((r?, body))
    }

    /// The value of node `id` at `idx`, computed (never loaded from its own buffer).
    fn node(&mut self, id: NodeId, idx: &[Expr], out: &mut Vec<Stmt>) -> R<Expr> {
        let p = self.p;
        let n = p.node(id);
        let dt = self.dtype(id)?;
        let shape = &n.ty.shape;
        Ok(match &n.op {
            Op::Param(_) => return self.expr(id, idx, out),
            Op::Const(l) => Expr::Const(Scalar::from_literal(*l, dt)),
            Op::DimValue(d) => Expr::Dim(*d),
            Op::Index(v) => Expr::Var(*self.env.get(v).ok_or_else(|| format!("{id}: index {v} is not bound"))?),
            Op::Unary(u, a) => {
                let i = self.broadcast_idx(*a, shape, idx, out)?;
                Expr::Unary(*u, Box::new(self.expr(*a, &i, out)?))
            }
            Op::Binary(b, x, y) => {
                let i = self.broadcast_idx(*x, shape, idx, out)?;
                let ex = self.expr(*x, &i, out)?;
                let j = self.broadcast_idx(*y, shape, idx, out)?;
                Expr::binary(*b, ex, self.expr(*y, &j, out)?)
            }
            Op::Cast(a) => {
                let i = self.broadcast_idx(*a, shape, idx, out)?;
                Expr::Cast(dt, Box::new(self.expr(*a, &i, out)?))
            }
            Op::Broadcast(a) => {
                let i = self.broadcast_idx(*a, shape, idx, out)?;
                self.expr(*a, &i, out)?
            }
            Op::Select(c, a, b) => {
                let i = self.broadcast_idx(*c, shape, idx, out)?;
                let cond = self.expr(*c, &i, out)?;
                let (ea, sa) = self.block(|s, o| {
                    let i = s.broadcast_idx(*a, shape, idx, o)?;
                    s.expr(*a, &i, o)
                })?;
                let (eb, sb) = self.block(|s, o| {
                    let i = s.broadcast_idx(*b, shape, idx, o)?;
                    s.expr(*b, &i, o)
                })?;
                if sa.is_empty() && sb.is_empty() {
                    Expr::Select(Box::new(cond), Box::new(ea), Box::new(eb))
                } else {
                    // Only the chosen branch may run: its statements can raise flags.
                    let r = self.var(None);
                    out.push(Stmt::Mut { var: r, ty: dt, init: Expr::Const(Scalar::zero(dt)) });
                    let mut then = sa;
                    then.push(Stmt::Assign { var: r, value: ea });
                    let mut els = sb;
                    els.push(Stmt::Assign { var: r, value: eb });
                    out.push(Stmt::If { cond, then, els });
                    Expr::Var(r)
                }
            }
            Op::Transpose(a, perm) => {
                let mut i = vec![Expr::i64(0); perm.len()];
                for (k, &pk) in perm.iter().enumerate() {
                    *i.get_mut(pk as usize).ok_or_else(|| format!("{id}: bad permutation"))? = idx[k].clone();
                }
                self.expr(*a, &i, out)?
            }
            Op::InsertAxis(a, axis) => {
                let mut i = idx.to_vec();
                if (*axis as usize) < i.len() {
                    i.remove(*axis as usize);
                }
                self.expr(*a, &i, out)?
            }
            Op::Slice(a, axes) => {
                let i = self.slice_idx(id, *a, axes, idx, out)?;
                self.expr(*a, &i, out)?
            }
            Op::Reduce { op, .. } | Op::RangeReduce { op, .. } if self.partials.contains_key(&id) => {
                self.combine(id, *op, dt, idx, out)?
            }
            Op::Reduce { .. } | Op::RangeReduce { .. } => {
                let (acc, best, elem) = self.reduce_parts(id, idx, None, out)?;
                self.finish(dt, elem, acc, best, out)
            }
            Op::Load { array, indices } => {
                let ashape = p.node(*array).ty.shape.clone();
                let mut i = vec![];
                for (k, ix) in indices.iter().enumerate() {
                    let mut e = self.expr(*ix, &[], out)?;
                    if self.dtype(*ix)? != DType::I64 {
                        e = Expr::Cast(DType::I64, Box::new(e));
                    }
                    let d = *ashape.get(k).ok_or_else(|| format!("{id}: too many indices"))?;
                    i.push(self.checked(e, d, out));
                }
                self.expr(*array, &i, out)?
            }
            Op::Generate { vars, extents, body } => {
                let mut saved = vec![];
                for (k, v) in vars.iter().enumerate() {
                    // `checked` makes the index provably inside `0..extents[k]`.
                    let lv = match self.checked(idx[k].clone(), extents[k], out) {
                        Expr::Var(v) => v,
                        e => {
                            let v = self.var(Some(extents[k]));
                            out.push(Stmt::Let { var: v, ty: DType::I64, value: e });
                            v
                        }
                    };
                    saved.push((*v, self.env.insert(*v, lv)));
                }
                let r = self.expr(*body, &[], out);
                self.restore(saved);
                r?
            }
        })
    }

    /// The operand index of slice node `id` for its element `idx`: on each range axis
    /// `first + step * i` (ndarray's rule; `first` is the last selected element for a negative
    /// step), on each index axis the index, both counted from the end when negative. Every
    /// index is checked against its axis unless provably inside it: binding rejected slices out
    /// of range already, and the check keeps the loop program safe on its own.
    fn slice_idx(
        &mut self,
        id: NodeId,
        a: NodeId,
        axes: &[AxisSlice],
        idx: &[Expr],
        out: &mut Vec<Stmt>,
    ) -> R<Vec<Expr>> {
        let shape = self.p.node(a).ty.shape.clone();
        let mut res = idx.iter();
        let mut i = vec![];
        for (s, &d) in axes.iter().zip(&shape) {
            let e = match s {
                AxisSlice::Index(b) => self.abs_bound(*b, d),
                AxisSlice::Range(r) => {
                    let x = res.next().cloned().ok_or_else(|| format!("{id}: slice result has too few axes"))?;
                    if *r == SliceRange::FULL {
                        x
                    } else {
                        let start = r.start.map_or(Expr::i64(0), |b| self.abs_bound(b, d));
                        let first = if r.step > 0 {
                            start
                        } else {
                            let end = r.end.map_or(Expr::Dim(d), |b| self.abs_bound(b, d));
                            Expr::binary(BinOp::Sub, Expr::binary(BinOp::Max, end, start), Expr::i64(1))
                        };
                        let walk = if r.step == 1 { x } else { Expr::binary(BinOp::Mul, Expr::i64(r.step), x) };
                        match first {
                            Expr::Const(Scalar::I64(0)) => walk,
                            first => Expr::binary(BinOp::Add, first, walk),
                        }
                    }
                }
            };
            i.push(self.checked(e, d, out));
        }
        Ok(i)
    }

    /// A slice bound as an absolute `i64` position on an axis of length `d` (negative values
    /// count from the end).
    fn abs_bound(&mut self, b: SliceBound, d: Dim) -> Expr {
        match b {
            SliceBound::Const(c) if c >= 0 => Expr::i64(c),
            SliceBound::Const(c) => Expr::binary(BinOp::Add, Expr::Dim(d), Expr::i64(c)),
            SliceBound::Param(k) => {
                let buf = self.param_bufs.get(k as usize).copied().unwrap_or(BufId(k));
                let mut v = Expr::Load { buf, idx: vec![] };
                let elem = self.p.params.get(k as usize).map(|q| q.ty.elem);
                if elem != Some(ElemTy::I64) {
                    v = Expr::Cast(DType::I64, Box::new(v));
                }
                let neg = Expr::binary(BinOp::Lt, v.clone(), Expr::i64(0));
                let from_end = Expr::binary(BinOp::Add, Expr::Dim(d), v.clone());
                Expr::Select(Box::new(neg), Box::new(from_end), Box::new(v))
            }
        }
    }

    fn restore(&mut self, saved: Vec<(VarId, Option<Var>)>) {
        for (v, old) in saved.into_iter().rev() {
            match old {
                Some(o) => self.env.insert(v, o),
                None => self.env.remove(&v),
            };
        }
    }

    /// The loops of reduction node `id` (a `Reduce` or `RangeReduce`) at output index `idx`:
    /// the whole box, or with `chunk = Some((c, chunks))` only chunk `c` of its outermost
    /// axis. Returns the accumulator, the arg index (arg reductions) and the element type.
    fn reduce_parts(
        &mut self,
        id: NodeId,
        idx: &[Expr],
        chunk: Option<(Expr, u32)>,
        out: &mut Vec<Stmt>,
    ) -> R<(Var, Option<Var>, DType)> {
        let p = self.p;
        match &p.node(id).op {
            Op::Reduce { op, arg, axes } => {
                let ashape = p.node(*arg).ty.shape.clone();
                let extents: Vec<Dim> = axes.iter().map(|&a| ashape[a as usize]).collect();
                let elem = self.dtype(*arg)?;
                let (acc, best) = self.reduce_loops(*op, elem, &extents, chunk, out, |s, vars, o| {
                    let (mut kept, mut red) = (idx.iter(), vars.iter());
                    let mut i = vec![];
                    for a in 0..ashape.len() {
                        let e = if axes.contains(&(a as u32)) {
                            red.next().map(|v| Expr::Var(*v))
                        } else {
                            kept.next().cloned()
                        };
                        i.push(e.ok_or_else(|| format!("{id}: reduce axes do not match the operand's rank"))?);
                    }
                    s.expr(*arg, &i, o)
                })?;
                Ok((acc, best, elem))
            }
            Op::RangeReduce { op, vars, extents, body } => {
                let elem = self.dtype(*body)?;
                let (acc, best) = self.reduce_loops(*op, elem, extents, chunk, out, |s, lvars, o| {
                    let saved: Vec<_> = vars.iter().zip(lvars).map(|(v, lv)| (*v, s.env.insert(*v, *lv))).collect();
                    let r = s.expr(*body, &[], o);
                    s.restore(saved);
                    r
                })?;
                Ok((acc, best, elem))
            }
            _ => Err(format!("{id} is not a reduction")),
        }
    }

    /// The first kernel of a two-phase reduction `id` (`None` for any other node): over
    /// `chunks x output`, each point reduces its chunk into the partials.
    fn partial_kernel(&mut self, id: NodeId) -> R<Option<Kernel>> {
        let Some(part) = self.partials.get(&id) else { return Ok(None) };
        if let Some(hot) = part.hot {
            return self.scatter_kernel(id, hot).map(Some);
        }
        let (val, pidx, chunks, outer) = (part.val, part.idx, part.chunks, part.outer.clone());
        self.cache = vec![HashMap::new()];
        let c = self.var(Some(Dim::Const(u64::from(chunks))));
        let mut domain = vec![(c, Dim::Const(u64::from(chunks)))];
        let rank = self.p.node(id).ty.shape.len();
        for d in self.p.node(id).ty.shape.clone() {
            domain.push((self.var(Some(d)), d));
        }
        // The comprehension's variables stand for the trailing domain variables.
        let mut saved = vec![];
        for (v, d) in &outer {
            let lv = self.var(Some(*d));
            domain.push((lv, *d));
            saved.push((*v, self.env.insert(*v, lv)));
        }
        let idx: Vec<Expr> = domain.iter().map(|(v, _)| Expr::Var(*v)).collect();
        let mut body = vec![];
        let r = self.reduce_parts(id, &idx[1..=rank], Some((Expr::Var(c), chunks)), &mut body);
        self.restore(saved);
        let (acc, best, _) = r?;
        body.push(Stmt::Store { buf: val, idx: idx.clone(), value: Expr::Var(acc) });
        if let (Some(pi), Some(b)) = (pidx, best) {
            body.push(Stmt::Store { buf: pi, idx, value: Expr::Var(b) });
        }
        Ok(Some(Kernel { name: String::new(), domain, body }))
    }

    /// The first kernel of scatter `id` ([`ReduceStrategy::Scatter`]), over the chunks: zero
    /// this chunk's partials, then for each of its rows `i`, in order, with `t = g(i)` in
    /// `0..extent`, add `v(i, ..)` to the partials of output row `t`:
    ///
    /// ```text
    /// kernel (c < chunks) {
    ///   for j < k { for l < d { store p[c, j, l] = 0 } }
    ///   for i < n from c*n/chunks to (c+1)*n/chunks {
    ///     let t = g(i)
    ///     if and(ge(t, 0), lt(t, dim(k))) {
    ///       let tj = check(t, k)
    ///       for l < d { store p[c, tj, l] = add(load p[c, tj, l], v(i, l)) }
    ///     }
    ///   }
    /// }
    /// ```
    /// Each point reads and writes only its own chunk's partials.
    fn scatter_kernel(&mut self, id: NodeId, hot: OneHot) -> R<Kernel> {
        let part = self.partials.get(&id).ok_or_else(|| format!("{id} has no partials"))?;
        let (val, chunks, outer) = (part.val, part.chunks, part.outer.clone());
        let Op::RangeReduce { vars, extents, .. } = &self.p.node(id).op else {
            return Err(format!("scatter {id} is no range reduction"));
        };
        let (row, rows) = match (vars.as_slice(), extents.as_slice()) {
            ([v], [e]) => (*v, *e),
            _ => return Err(format!("scatter {id} reduces over more than one variable")),
        };
        let elem = self.dtype(id)?;
        let zero = Expr::Const(Scalar::zero(elem));
        self.cache = vec![HashMap::new()];
        let cd = Dim::Const(u64::from(chunks));
        let c = self.var(Some(cd));
        // Zero this chunk's partials.
        let zvars: Vec<Var> = outer.iter().map(|(_, d)| self.var(Some(*d))).collect();
        let mut zidx = vec![Expr::Var(c)];
        zidx.extend(zvars.iter().map(|v| Expr::Var(*v)));
        let mut zero_loops = vec![Stmt::Store { buf: val, idx: zidx, value: zero }];
        for (v, (_, d)) in zvars.iter().zip(&outer).rev() {
            zero_loops = vec![Stmt::For { var: *v, extent: *d, body: zero_loops }];
        }
        let mut body = zero_loops;
        // The rows of chunk `c`.
        let i = self.var(Some(rows));
        let saved = vec![(row, self.env.insert(row, i))];
        let r = self.block(|s, o| {
            let t = s.expr(hot.target, &[], o)?;
            let t = s.bind(t, DType::I64, o);
            let extent = outer.iter().find(|(v, _)| *v == hot.var).map(|(_, d)| *d);
            let extent = extent.ok_or_else(|| format!("scatter {id}: its variable is not the comprehension's"))?;
            let hit = Expr::binary(
                BinOp::And,
                Expr::binary(BinOp::Ge, t.clone(), Expr::i64(0)),
                Expr::binary(BinOp::Lt, t.clone(), Expr::Dim(extent)),
            );
            let (_, then) = s.block(|s, o| {
                let tj = s.checked(t.clone(), extent, o);
                // The other comprehension variables run over their extents.
                let mut lvars = vec![];
                let mut saved = vec![];
                for (v, d) in &outer {
                    if *v != hot.var {
                        let lv = s.var(Some(*d));
                        lvars.push((lv, *d));
                        saved.push((*v, s.env.insert(*v, lv)));
                    }
                }
                let inner = s.block(|s, o| {
                    let x = s.expr(hot.value, &[], o)?;
                    let mut at = vec![Expr::Var(c)];
                    let mut rest = lvars.iter();
                    for (v, _) in &outer {
                        at.push(if *v == hot.var {
                            tj.clone()
                        } else {
                            Expr::Var(rest.next().map(|l| l.0).unwrap_or(c))
                        });
                    }
                    let sum = Expr::binary(BinOp::Add, Expr::Load { buf: val, idx: at.clone() }, x);
                    o.push(Stmt::Store { buf: val, idx: at, value: sum });
                    Ok(())
                });
                s.restore(saved);
                let (_, mut stmts) = inner?;
                for (lv, d) in lvars.iter().rev() {
                    stmts = vec![Stmt::For { var: *lv, extent: *d, body: stmts }];
                }
                o.extend(stmts);
                Ok(())
            })?;
            o.push(Stmt::If { cond: hit, then, els: vec![] });
            Ok(())
        });
        self.restore(saved);
        let (_, rows_body) = r?;
        let bound = |c: Expr| {
            let n = Expr::i64(i64::from(chunks));
            Expr::binary(BinOp::Div, Expr::binary(BinOp::Mul, c, Expr::Dim(rows)), n)
        };
        let next = Expr::binary(BinOp::Add, Expr::Var(c), Expr::i64(1));
        body.push(Stmt::ForRange {
            var: i,
            extent: rows,
            start: bound(Expr::Var(c)),
            end: bound(next),
            body: rows_body,
        });
        Ok(Kernel { name: String::new(), domain: vec![(c, cd)], body })
    }

    /// The second phase of two-phase reduction `id` at output index `idx`: reduce its partials
    /// in chunk order. Arg reductions combine (value, index) pairs with the serial loop's rule
    /// (a later chunk wins only when strictly better, or with the first NaN), skipping empty
    /// chunks, so first occurrences and NaNs come out as in one serial loop.
    fn combine(&mut self, id: NodeId, op: ReduceOp, result: DType, idx: &[Expr], out: &mut Vec<Stmt>) -> R<Expr> {
        let part = self.partials.get(&id).ok_or_else(|| format!("{id} has no partials"))?;
        let (val, pidx, chunks) = (part.val, part.idx, Dim::Const(u64::from(part.chunks)));
        let mut outer = vec![];
        for (v, _) in &part.outer {
            let lv = self.env.get(v).ok_or_else(|| format!("{id}: comprehension index {v} is not bound"))?;
            outer.push(Expr::Var(*lv));
        }
        let elem = match &self.p.node(id).op {
            Op::Reduce { arg, .. } => self.dtype(*arg)?,
            Op::RangeReduce { body, .. } => self.dtype(*body)?,
            _ => return Err(format!("{id} is not a reduction")),
        };
        let acc = self.var(None);
        out.push(Stmt::Mut { var: acc, ty: elem, init: Expr::Const(Scalar::reduce_identity(op, elem)) });
        let best = if op.is_arg() {
            let b = self.var(None);
            out.push(Stmt::Mut { var: b, ty: DType::I64, init: Expr::i64(-1) });
            Some(b)
        } else {
            None
        };
        let c = self.var(Some(chunks));
        let mut at = vec![Expr::Var(c)];
        at.extend(idx.iter().cloned());
        at.extend(outer);
        let x = self.var(None);
        let mut inner = vec![Stmt::Let { var: x, ty: elem, value: Expr::Load { buf: val, idx: at.clone() } }];
        match (best, pidx) {
            (Some(b), Some(pi)) => {
                let i = self.var(None);
                inner.push(Stmt::Let { var: i, ty: DType::I64, value: Expr::Load { buf: pi, idx: at } });
                let nonempty = Expr::binary(BinOp::Ge, Expr::Var(i), Expr::i64(0));
                self.arg_step(op, elem, Expr::Var(x), Expr::Var(i), acc, b, Some(nonempty), true, &mut inner);
            }
            _ => inner.push(Stmt::Assign { var: acc, value: Expr::binary(fold_op(op), Expr::Var(acc), Expr::Var(x)) }),
        }
        out.push(Stmt::For { var: c, extent: chunks, body: inner });
        Ok(self.finish(result, elem, acc, best, out))
    }

    /// The statements of one arg-reduction step: take `(x, i)` over `(acc, best)` when it is
    /// strictly better or the first NaN, or (with `first`, when `best` starts at -1) the
    /// first seen; and `guard` holds, when given. Without `first`, `best` starts at the
    /// first index and `acc` at the fold's identity: a first element that is not taken
    /// equals the identity, so the first index is already the answer.
    #[allow(clippy::too_many_arguments)]
    fn arg_step(
        &mut self,
        op: ReduceOp,
        elem: DType,
        x: Expr,
        i: Expr,
        acc: Var,
        b: Var,
        guard: Option<Expr>,
        first: bool,
        inner: &mut Vec<Stmt>,
    ) {
        let a = Expr::Var(acc);
        if !first && guard.is_none() {
            // The same rule as its complement, which takes fewer operations: keep `(acc, best)`
            // when `x` is not better (`x >= acc` for argmin, false when `x` is NaN) or `acc`
            // is already NaN.
            let cmp = if op == ReduceOp::ArgMin { BinOp::Ge } else { BinOp::Le };
            let mut keep_e = Expr::binary(cmp, x.clone(), a.clone());
            if elem.is_float() {
                keep_e = Expr::binary(BinOp::Or, keep_e, Expr::binary(BinOp::Ne, a.clone(), a.clone()));
            }
            let keep = self.var(None);
            inner.push(Stmt::Let { var: keep, ty: DType::Bool, value: keep_e });
            let k = || Box::new(Expr::Var(keep));
            inner.push(Stmt::Assign { var: acc, value: Expr::Select(k(), Box::new(a), Box::new(x)) });
            inner.push(Stmt::Assign { var: b, value: Expr::Select(k(), Box::new(Expr::Var(b)), Box::new(i)) });
            return;
        }
        let cmp = if op == ReduceOp::ArgMin { BinOp::Lt } else { BinOp::Gt };
        let mut better = Expr::binary(cmp, x.clone(), a.clone());
        if elem.is_float() {
            // NaN wins: the first NaN is taken, and nothing replaces it.
            let x_nan = Expr::binary(BinOp::Ne, x.clone(), x.clone());
            let a_num = Expr::binary(BinOp::Eq, a.clone(), a.clone());
            better = Expr::binary(BinOp::Or, better, Expr::binary(BinOp::And, x_nan, a_num));
        }
        let mut take_e = if first {
            Expr::binary(BinOp::Or, Expr::binary(BinOp::Eq, Expr::Var(b), Expr::i64(-1)), better)
        } else {
            better
        };
        if let Some(g) = guard {
            take_e = Expr::binary(BinOp::And, g, take_e);
        }
        let take = self.var(None);
        inner.push(Stmt::Let { var: take, ty: DType::Bool, value: take_e });
        let t = || Box::new(Expr::Var(take));
        inner.push(Stmt::Assign { var: acc, value: Expr::Select(t(), Box::new(x), Box::new(a)) });
        inner.push(Stmt::Assign { var: b, value: Expr::Select(t(), Box::new(i), Box::new(Expr::Var(b))) });
    }

    /// The value of a finished reduction: the arg index (raising the empty flag when nothing
    /// was seen), or the accumulator cast to the result type.
    fn finish(&mut self, result: DType, elem: DType, acc: Var, best: Option<Var>, out: &mut Vec<Stmt>) -> Expr {
        if let Some(b) = best {
            if self.whole.contains(&b) {
                return Expr::Var(b);
            }
            let empty = Expr::binary(BinOp::Lt, Expr::Var(b), Expr::i64(0));
            let then = vec![Stmt::Flag(Flag::EmptyArgReduce), Stmt::Assign { var: b, value: Expr::i64(0) }];
            out.push(Stmt::If { cond: empty, then, els: vec![] });
            return Expr::Var(b);
        }
        if result != elem {
            return Expr::Cast(result, Box::new(Expr::Var(acc)));
        }
        Expr::Var(acc)
    }

    /// A serial reduction over the box `extents` in row-major order (with `chunk`, only that
    /// chunk of the outermost axis); `body` builds the value at the loop variables. Returns the
    /// accumulator and, for arg reductions, the index variable (-1 when nothing was seen).
    fn reduce_loops(
        &mut self,
        op: ReduceOp,
        elem: DType,
        extents: &[Dim],
        chunk: Option<(Expr, u32)>,
        out: &mut Vec<Stmt>,
        body: impl FnOnce(&mut Self, &[Var], &mut Vec<Stmt>) -> R<Expr>,
    ) -> R<(Var, Option<Var>)> {
        let accs = self.reduce_loops_multi(&[op], elem, extents, chunk, out, body)?;
        accs.first().copied().ok_or_else(|| "a reduction loop without an accumulator".to_string())
    }

    /// [`Self::reduce_loops`] for several reductions of the same values: one loop evaluates
    /// `body` once per point and folds it into one accumulator per op, in the order of `ops`.
    /// Each accumulator sees the same values in the same order as in a loop of its own.
    fn reduce_loops_multi(
        &mut self,
        ops: &[ReduceOp],
        elem: DType,
        extents: &[Dim],
        chunk: Option<(Expr, u32)>,
        out: &mut Vec<Stmt>,
        body: impl FnOnce(&mut Self, &[Var], &mut Vec<Stmt>) -> R<Expr>,
    ) -> R<Vec<(Var, Option<Var>)>> {
        let mut accs = vec![];
        for &op in ops {
            let acc = self.var(None);
            out.push(Stmt::Mut { var: acc, ty: elem, init: Expr::Const(Scalar::reduce_identity(op, elem)) });
            let best = if op.is_arg() {
                let b = self.var(None);
                // A chunk's partial may be empty (-1, which the combine skips); a whole range
                // starts at its first index and is checked for emptiness after the loop.
                let init = if chunk.is_some() { -1 } else { 0 };
                out.push(Stmt::Mut { var: b, ty: DType::I64, init: Expr::i64(init) });
                if chunk.is_none() {
                    self.whole.insert(b);
                }
                Some(b)
            } else {
                None
            };
            accs.push((acc, best));
        }
        let vars: Vec<Var> = extents.iter().map(|d| self.var(Some(*d))).collect();
        let (x, mut inner) = self.block(|s, o| {
            let x = body(s, &vars, o)?;
            Ok(s.bind(x, elem, o))
        })?;
        for (&op, &(acc, best)) in ops.iter().zip(&accs) {
            match best {
                Some(b) => {
                    let mut flat = vars.first().map_or(Expr::i64(0), |v| Expr::Var(*v));
                    for (v, d) in vars.iter().zip(extents).skip(1) {
                        flat = Expr::binary(BinOp::Add, Expr::binary(BinOp::Mul, flat, Expr::Dim(*d)), Expr::Var(*v));
                    }
                    self.arg_step(op, elem, x.clone(), flat, acc, b, None, chunk.is_some(), &mut inner);
                }
                None => {
                    inner.push(Stmt::Assign { var: acc, value: Expr::binary(fold_op(op), Expr::Var(acc), x.clone()) })
                }
            }
        }
        let mut stmts = inner;
        for (k, (v, d)) in vars.iter().zip(extents).enumerate().rev() {
            stmts = match (&chunk, k) {
                (Some((c, n)), 0) => {
                    let bound = |c: Expr| {
                        let n = Expr::i64(i64::from(*n));
                        Expr::binary(BinOp::Div, Expr::binary(BinOp::Mul, c, Expr::Dim(*d)), n)
                    };
                    let next = Expr::binary(BinOp::Add, c.clone(), Expr::i64(1));
                    vec![Stmt::ForRange { var: *v, extent: *d, start: bound(c.clone()), end: bound(next), body: stmts }]
                }
                _ => vec![Stmt::For { var: *v, extent: *d, body: stmts }],
            };
        }
        out.extend(stmts);
        if chunk.is_none() && accs.iter().any(|(_, b)| b.is_some()) {
            // An empty range: flag it (the index stays 0, as `finish` leaves it).
            let mut empty: Option<Expr> = None;
            for d in extents {
                let e = match d {
                    Dim::Const(c) if *c > 0 => continue,
                    Dim::Const(_) => Expr::Const(Scalar::Bool(true)),
                    _ => Expr::binary(BinOp::Eq, Expr::Dim(*d), Expr::i64(0)),
                };
                empty = Some(match empty {
                    Some(x) => Expr::binary(BinOp::Or, x, e),
                    None => e,
                });
            }
            if let Some(cond) = empty {
                out.push(Stmt::If { cond, then: vec![Stmt::Flag(Flag::EmptyArgReduce)], els: vec![] });
            }
        }
        Ok(accs)
    }

    /// The values at output index `idx` of a fused group of sibling reductions (`Reduce`
    /// nodes of one operand over the same axes): one loop, one accumulator per sibling.
    fn fused_reduce(&mut self, group: &[NodeId], idx: &[Expr], out: &mut Vec<Stmt>) -> R<Vec<Expr>> {
        let p = self.p;
        let first = *group.first().ok_or("an empty fused group")?;
        let Op::Reduce { arg, axes, .. } = &p.node(first).op else {
            return Err(format!("fused {first} is not an array reduction"));
        };
        let (arg, axes) = (*arg, axes.clone());
        let mut ops = vec![];
        for g in group {
            match &p.node(*g).op {
                Op::Reduce { op, arg: a, axes: x } if *a == arg && *x == axes => ops.push(*op),
                _ => return Err(format!("fused {g} does not reduce {arg} over the same axes")),
            }
        }
        let ashape = p.node(arg).ty.shape.clone();
        let extents: Vec<Dim> = axes
            .iter()
            .map(|&a| ashape.get(a as usize).copied().ok_or_else(|| format!("{first}: reduce axis out of range")))
            .collect::<R<_>>()?;
        let elem = self.dtype(arg)?;
        let accs = self.reduce_loops_multi(&ops, elem, &extents, None, out, |s, vars, o| {
            let (mut kept, mut red) = (idx.iter(), vars.iter());
            let mut i = vec![];
            for a in 0..ashape.len() {
                let e =
                    if axes.contains(&(a as u32)) { red.next().map(|v| Expr::Var(*v)) } else { kept.next().cloned() };
                i.push(e.ok_or_else(|| format!("{first}: reduce axes do not match the operand's rank"))?);
            }
            s.expr(arg, &i, o)
        })?;
        let mut values = vec![];
        for (g, (acc, best)) in group.iter().zip(accs) {
            let dt = self.dtype(*g)?;
            values.push(self.finish(dt, elem, acc, best, out));
        }
        Ok(values)
    }
}

/// The binary op folding one element into a non-arg reduction's accumulator.
fn fold_op(op: ReduceOp) -> BinOp {
    match op {
        ReduceOp::Sum => BinOp::Add,
        ReduceOp::Prod => BinOp::Mul,
        ReduceOp::Min | ReduceOp::ArgMin => BinOp::Min,
        ReduceOp::Max | ReduceOp::ArgMax => BinOp::Max,
    }
}
