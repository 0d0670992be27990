//! Two-phase reductions (`TwoPhase` and `Scatter` of [`crate::passes::ReduceStrategy`]): the first
//! kernel, which reduces each chunk into its partials (or scatters each chunk's rows into
//! them), and the second phase, which combines the partials in chunk order.

use super::reduce::fold_op;
use super::{Builder, R};
use crate::loops::{Expr, Kernel, KernelHint, Scalar, Stmt, Var};
use crate::passes::schedule::OneHot;
use crate::program::{BinOp, NodeId, Op, ReduceOp};
use crate::types::{DType, Dim};
use std::collections::HashMap;

impl Builder<'_> {
    /// The first kernel of a two-phase reduction `id` (`None` for any other node): over
    /// `chunks x output`, each point reduces its chunk into the partials.
    pub(super) fn partial_kernel(&mut self, id: NodeId) -> R<Option<Kernel>> {
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
        self.par_rank = Some(super::par_rank(&domain[1..]));
        let r = self.reduce_parts(id, &idx[1..=rank], Some((Expr::Var(c), chunks)), &mut body);
        self.par_rank = None;
        self.restore(saved);
        let (acc, best, _) = r?;
        body.push(Stmt::Store { buf: val, idx: idx.clone(), value: Expr::Var(acc) });
        if let (Some(pi), Some(b)) = (pidx, best) {
            body.push(Stmt::Store { buf: pi, idx, value: Expr::Var(b) });
        }
        Ok(Some(Kernel { name: String::new(), domain, hint: KernelHint::TwoPhase, body }))
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
    pub(super) fn scatter_kernel(&mut self, id: NodeId, hot: OneHot) -> R<Kernel> {
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
        Ok(Kernel { name: String::new(), domain: vec![(c, cd)], hint: KernelHint::Scatter, body })
    }

    /// The second phase of two-phase reduction `id` at output index `idx`: reduce its partials
    /// in chunk order. Arg reductions combine (value, index) pairs with the serial loop's rule
    /// (a later chunk wins only when strictly better, or with the first NaN), skipping empty
    /// chunks, so first occurrences and NaNs come out as in one serial loop.
    pub(super) fn combine(
        &mut self,
        id: NodeId,
        op: ReduceOp,
        result: DType,
        idx: &[Expr],
        out: &mut Vec<Stmt>,
    ) -> R<Expr> {
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
}
