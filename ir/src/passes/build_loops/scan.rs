//! Scans ([`Op::Scan`]): the two kernels of the blocked prefix fold. The first folds each chunk
//! of the scanned axis into its total; the second folds the totals before its chunk into a
//! carry, then folds its chunk from the carry and stores every prefix. Both run over
//! `chunks x (the other axes)`, so a long axis is shared among threads and the order of every
//! operation is the one [`Op::Scan`] defines, whatever the thread count.

use super::reduce::fold_op;
use super::{Builder, R};
use crate::loops::{BufId, Expr, Kernel, KernelHint, Scalar, Stmt, Var};
use crate::program::{BinOp, NodeId, Op, SCAN_CHUNKS};
use crate::types::Dim;
use std::collections::HashMap;

impl Builder<'_> {
    /// The kernels of scan `id`, storing its values to `targets` through the chunk totals
    /// `totals` (`[chunks, the other axes..]`):
    ///
    /// ```text
    /// kernel (c < 64, o..) scan {
    ///   mut t = identity
    ///   for j < n from c*n/64 to (c+1)*n/64 { t = op(t, x[o.., j]) }
    ///   store totals[c, o..] = t
    /// }
    /// kernel (c < 64, o..) scan {
    ///   mut a = identity
    ///   for k < 64 from 0 to c { a = op(a, load totals[k, o..]) }
    ///   for j < n from c*n/64 to (c+1)*n/64 { a = op(a, x[o.., j]); store out[o.., j] = a }
    /// }
    /// ```
    pub(super) fn scan_kernels(&mut self, id: NodeId, targets: &[BufId], totals: BufId) -> R<[Kernel; 2]> {
        let p = self.p;
        let Op::Scan { op, arg, axis } = &p.node(id).op else { return Err(format!("{id} is no scan")) };
        let (op, arg, axis) = (*op, *arg, *axis as usize);
        let shape = p.node(id).ty.shape.clone();
        let n = *shape.get(axis).ok_or_else(|| format!("{id}: scan axis {axis} is out of range"))?;
        let elem = self.dtype(id)?;
        let step = fold_op(op);
        let identity = Expr::Const(Scalar::reduce_identity(op, elem));
        // The operand's index: the other axes from the domain, `j` on the scanned axis.
        let at = |outer: &[Var], j: Var| {
            let mut idx: Vec<Expr> = outer.iter().map(|v| Expr::Var(*v)).collect();
            idx.insert(axis, Expr::Var(j));
            idx
        };

        // Kernel 1: each chunk's total.
        self.cache = vec![HashMap::new()];
        let (c, outer, domain) = self.lane_domain(Dim::Const(u64::from(SCAN_CHUNKS)), &shape, axis);
        let mut body = vec![];
        let (acc, _) =
            self.reduce_loops(op, elem, &[n], Some((Expr::Var(c), SCAN_CHUNKS)), &mut body, |s, vars, o| {
                let j = *vars.first().ok_or("a scan loop without a variable")?;
                s.expr(arg, &at(&outer, j), o)
            })?;
        let mut tidx = vec![Expr::Var(c)];
        tidx.extend(outer.iter().map(|v| Expr::Var(*v)));
        body.push(Stmt::Store { buf: totals, idx: tidx, value: Expr::Var(acc) });
        let totals_kernel = Kernel { name: String::new(), domain, hint: KernelHint::Scan, body };

        // Kernel 2: the carry, then the chunk's prefixes.
        self.cache = vec![HashMap::new()];
        let (c, outer, domain) = self.lane_domain(Dim::Const(u64::from(SCAN_CHUNKS)), &shape, axis);
        let chunks = Dim::Const(u64::from(SCAN_CHUNKS));
        let a = self.var(None);
        let mut body = vec![Stmt::Mut { var: a, ty: elem, init: identity }];
        let k = self.var(Some(chunks));
        let mut kidx = vec![Expr::Var(k)];
        kidx.extend(outer.iter().map(|v| Expr::Var(*v)));
        let fold = Expr::binary(step, Expr::Var(a), Expr::Load { buf: totals, idx: kidx });
        body.push(Stmt::ForRange {
            var: k,
            extent: chunks,
            start: Expr::i64(0),
            end: Expr::Var(c),
            body: vec![Stmt::Assign { var: a, value: fold }],
        });
        let j = self.var(Some(n));
        let (x, mut inner) = self.block(|s, o| {
            let x = s.expr(arg, &at(&outer, j), o)?;
            Ok(s.bind(x, elem, o))
        })?;
        inner.push(Stmt::Assign { var: a, value: Expr::binary(step, Expr::Var(a), x) });
        for t in targets {
            inner.push(Stmt::Store { buf: *t, idx: at(&outer, j), value: Expr::Var(a) });
        }
        let next = Expr::binary(BinOp::Add, Expr::Var(c), Expr::i64(1));
        body.push(Stmt::ForRange {
            var: j,
            extent: n,
            start: chunk_bound(Expr::Var(c), n),
            end: chunk_bound(next, n),
            body: inner,
        });
        let prefix_kernel = Kernel { name: String::new(), domain, hint: KernelHint::Scan, body };
        Ok([totals_kernel, prefix_kernel])
    }

    /// A domain over the lanes along `axis`: a first variable of extent `first` (a scan's
    /// chunk, a sort's unit axis), then every axis of `shape` but `axis`. Returns the first
    /// variable, the lane variables and the domain.
    pub(super) fn lane_domain(&mut self, first: Dim, shape: &[Dim], axis: usize) -> (Var, Vec<Var>, Vec<(Var, Dim)>) {
        let c = self.var(Some(first));
        let mut domain = vec![(c, first)];
        let mut outer = vec![];
        for (k, d) in shape.iter().enumerate() {
            if k != axis {
                let v = self.var(Some(*d));
                outer.push(v);
                domain.push((v, *d));
            }
        }
        (c, outer, domain)
    }
}

/// The first index of chunk `c` of an axis of length `n`: `c * n / chunks`, as
/// [`crate::program::scan_chunk`] computes it.
fn chunk_bound(c: Expr, n: Dim) -> Expr {
    let prod = Expr::binary(BinOp::Mul, c, Expr::Dim(n));
    Expr::binary(BinOp::Div, prod, Expr::i64(i64::from(SCAN_CHUNKS)))
}
