//! Serial reductions: the loops of a `Reduce` or `RangeReduce` over its box (or one chunk of
//! it), one accumulator per reduction (several for a fused group of siblings), and the
//! arg-reduction step and finish shared with the two-phase combine.

use super::{Builder, R};
use crate::loops::{blocked_sum, sum_levels, BlockedAcc, Expr, Flag, Scalar, Stmt, Var};
use crate::program::{BinOp, NodeId, Op, ReduceOp, VarId};
use crate::types::{DType, Dim};
use std::collections::HashMap;

impl Builder<'_> {
    /// The loops of reduction node `id` (a `Reduce` or `RangeReduce`) at output index `idx`:
    /// the whole box, or with `chunk = Some((c, chunks))` only chunk `c` of its outermost
    /// axis. Returns the accumulator, the arg index (arg reductions) and the element type.
    pub(super) fn reduce_parts(
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
                let blocked = self.blocks(&[*op], elem);
                let accs =
                    self.reduce_loops_multi(&[*op], elem, &extents, chunk, None, blocked, out, |s, vars, o| {
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
                let (acc, best) = accs.first().copied().ok_or("a reduction loop without an accumulator")?;
                Ok((acc, best, elem))
            }
            Op::RangeReduce { op, vars, extents, body } => {
                let elem = self.dtype(*body)?;
                let interval = match (&chunk, &vars[..]) {
                    (None, [v]) => self.interval(*op, elem, *v, *body),
                    _ => None,
                };
                let (body, bounds) = match interval {
                    Some((lo, hi, x)) => {
                        let lo = lo.map(|n| self.expr(n, &[], out)).transpose()?;
                        let hi = hi.map(|n| self.expr(n, &[], out)).transpose()?;
                        (x, Some((lo, hi)))
                    }
                    None => (*body, None),
                };
                let blocked = self.blocks(&[*op], elem);
                let accs =
                    self.reduce_loops_multi(&[*op], elem, extents, chunk, bounds, blocked, out, |s, lvars, o| {
                        let saved: Vec<_> = vars.iter().zip(lvars).map(|(v, lv)| (*v, s.env.insert(*v, *lv))).collect();
                        let r = s.expr(body, &[], o);
                        s.restore(saved);
                        r
                    })?;
                let (acc, best) = accs.first().copied().ok_or("a reduction loop without an accumulator")?;
                Ok((acc, best, elem))
            }
            _ => Err(format!("{id} is not a reduction")),
        }
    }

    /// Whether reductions `ops` of `elem` values in the kernel being built sum in the blocked
    /// order ([`crate::loops::blocked_sum`]): float sums (all of `ops`), in a kernel whose
    /// parallel domain (the chunk axis of a two-phase partial aside) has at most one axis.
    /// Kernels of two or more axes keep one loop per output: they are the contractions
    /// (matrix products, Gram matrices, distances) that the backends tile and vectorize across
    /// outputs, and their sums run over the feature axis, short next to the rows; so do sums
    /// nested in another reduction's loop.
    fn blocks(&self, ops: &[ReduceOp], elem: DType) -> bool {
        // Only at the kernel's top level: a sum inside another reduction's loop (the squared
        // distance inside `nearest`'s argmin) runs over features, and its loop is part of the
        // outer one's vector plan.
        let top = self.cache.len() == 1;
        top && elem.is_float() && ops.iter().all(|op| *op == ReduceOp::Sum) && self.par_rank.is_some_and(|r| r <= 1)
    }

    /// The interval a one-variable range reduction's body selects: for a body
    /// `select(lo <= v && v < hi, x, identity)` (how the front end writes `sum(0..i + 1, ..)`;
    /// either comparison may be missing), the bounds and `x`. Looping over `lo..hi` only (a
    /// `ForRange`) gives the same bits: a point outside it folds the identity, which leaves
    /// the accumulator as it was. `None` for arg reductions, for another else-value, and for
    /// bounds that read `v` or load (the bounds are evaluated once, before the loop).
    fn interval(
        &self,
        op: ReduceOp,
        elem: DType,
        var: VarId,
        body: NodeId,
    ) -> Option<(Option<NodeId>, Option<NodeId>, NodeId)> {
        let p = self.p;
        let Op::Select(c, x, other) = p.node(body).op else { return None };
        let Op::Const(lit) = p.node(other).op else { return None };
        if op.is_arg() || Scalar::from_literal(lit, elem).to_bits() != Scalar::reduce_identity(op, elem).to_bits() {
            return None;
        }
        let is_var = |n: NodeId| matches!(p.node(n).op, Op::Index(v) if v == var);
        let plain = |n: NodeId| !self.free[n.index()].contains(&var) && !loads(p, n);
        let side = |c: NodeId| match p.node(c).op {
            Op::Binary(BinOp::Le, l, j) if is_var(j) && plain(l) => Some((Some(l), None)),
            Op::Binary(BinOp::Lt, j, h) if is_var(j) && plain(h) => Some((None, Some(h))),
            _ => None,
        };
        let (lo, hi) = match p.node(c).op {
            Op::Binary(BinOp::And, a, b) => match (side(a)?, side(b)?) {
                ((Some(lo), None), (None, Some(hi))) | ((None, Some(hi)), (Some(lo), None)) => (Some(lo), Some(hi)),
                _ => return None,
            },
            _ => side(c)?,
        };
        Some((lo, hi, x))
    }

    /// The statements of one arg-reduction step: take `(x, i)` over `(acc, best)` when it is
    /// strictly better or the first NaN, or (with `first`, when `best` starts at -1) the
    /// first seen; and `guard` holds, when given. Without `first`, `best` starts at the
    /// first index and `acc` at the fold's identity: a first element that is not taken
    /// equals the identity, so the first index is already the answer.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn arg_step(
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
    pub(super) fn finish(
        &mut self,
        result: DType,
        elem: DType,
        acc: Var,
        best: Option<Var>,
        out: &mut Vec<Stmt>,
    ) -> Expr {
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
    pub(super) fn reduce_loops(
        &mut self,
        op: ReduceOp,
        elem: DType,
        extents: &[Dim],
        chunk: Option<(Expr, u32)>,
        out: &mut Vec<Stmt>,
        body: impl FnOnce(&mut Self, &[Var], &mut Vec<Stmt>) -> R<Expr>,
    ) -> R<(Var, Option<Var>)> {
        let accs = self.reduce_loops_multi(&[op], elem, extents, chunk, None, false, out, body)?;
        accs.first().copied().ok_or_else(|| "a reduction loop without an accumulator".to_string())
    }

    /// [`Self::reduce_loops`] for several reductions of the same values: one loop evaluates
    /// `body` once per point and folds it into one accumulator per op, in the order of `ops`.
    /// Each accumulator sees the same values in the same order as in a loop of its own.
    /// `range` narrows the innermost loop (of a one-variable reduction) to `lo..hi`; with
    /// `blocked` (float sums only, see [`Self::blocks`]) the innermost loop becomes the
    /// blocked order's nest ([`crate::loops::blocked_sum`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn reduce_loops_multi(
        &mut self,
        ops: &[ReduceOp],
        elem: DType,
        extents: &[Dim],
        chunk: Option<(Expr, u32)>,
        range: Option<(Option<Expr>, Option<Expr>)>,
        blocked: bool,
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
        // The partials of a blocked sum, per accumulator. A body with a bounds check (a
        // gathered row, `c[labels[i], l]`) keeps one loop: hoisting lifts the check out of a
        // plain loop, under a guard, which leaves the loop vectorizable.
        let levels = extents.last().map_or(0, |d| sum_levels(*d));
        let mut blocks: HashMap<Var, BlockedAcc> = HashMap::new();
        let checks = inner.iter().any(|s| s.any(&mut |st| st.exprs().any(Expr::has_check)));
        if blocked && !extents.is_empty() && !checks {
            for (acc, _) in &accs {
                let parts = (0..levels).map(|_| self.var(None)).collect();
                blocks.insert(*acc, BlockedAcc { acc: *acc, parts, ty: elem });
            }
        }
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
                    // A blocked sum folds into its block's partial.
                    let into = blocks.get(&acc).map_or(acc, |b| b.parts[0]);
                    inner.push(Stmt::Assign { var: into, value: Expr::binary(fold_op(op), Expr::Var(into), x.clone()) })
                }
            }
        }
        let mut stmts = inner;
        let last = vars.len().saturating_sub(1);
        for (k, (v, d)) in vars.iter().zip(extents).enumerate().rev() {
            let bounds = match (&chunk, k) {
                (Some((c, n)), 0) => {
                    let bound = |c: Expr| {
                        let n = Expr::i64(i64::from(*n));
                        Expr::binary(BinOp::Div, Expr::binary(BinOp::Mul, c, Expr::Dim(*d)), n)
                    };
                    let next = Expr::binary(BinOp::Add, c.clone(), Expr::i64(1));
                    Some((bound(c.clone()), bound(next)))
                }
                _ if k == last => {
                    range.clone().map(|(lo, hi)| (lo.unwrap_or(Expr::i64(0)), hi.unwrap_or(Expr::Dim(*d))))
                }
                _ => None,
            };
            stmts = match bounds {
                _ if k == last && !blocks.is_empty() => {
                    let (lo, hi) = bounds.unwrap_or((Expr::i64(0), Expr::Dim(*d)));
                    let loops: Vec<Var> = (0..levels).map(|_| self.var(Some(*d))).collect();
                    let accs: Vec<BlockedAcc> = accs.iter().filter_map(|(a, _)| blocks.get(a).cloned()).collect();
                    vec![blocked_sum(*v, *d, lo, hi, &loops, &accs, stmts)]
                }
                Some((start, end)) => vec![Stmt::ForRange { var: *v, extent: *d, start, end, body: stmts }],
                None => vec![Stmt::For { var: *v, extent: *d, body: stmts }],
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
    pub(super) fn fused_reduce(&mut self, group: &[NodeId], idx: &[Expr], out: &mut Vec<Stmt>) -> R<Vec<Expr>> {
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
        let blocked = self.blocks(&ops, elem);
        let accs = self.reduce_loops_multi(&ops, elem, &extents, None, None, blocked, out, |s, vars, o| {
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
pub(super) fn fold_op(op: ReduceOp) -> BinOp {
    match op {
        ReduceOp::Sum => BinOp::Add,
        ReduceOp::Prod => BinOp::Mul,
        ReduceOp::Min | ReduceOp::ArgMin => BinOp::Min,
        ReduceOp::Max | ReduceOp::ArgMax => BinOp::Max,
    }
}

/// Whether node `n` or anything it is computed from loads from an array.
fn loads(p: &crate::program::Program, n: NodeId) -> bool {
    match &p.node(n).op {
        Op::Load { .. } => true,
        op => op.operands().into_iter().any(|o| loads(p, o)),
    }
}
