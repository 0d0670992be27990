//! Scalar expressions of nodes at an index: fresh variables and `let`s, checked indices,
//! broadcasting, loads from materialized nodes, and the inlining of every element-wise op and
//! index map (broadcast, transpose, insert_axis, slice, gather) into index rewrites.

use super::{dtype, Builder, R};
use crate::loops::{BufId, Expr, Scalar, Stmt, Var};
use crate::program::{AxisSlice, BinOp, NodeId, Op, SliceBound, SliceRange, VarId};
use crate::types::{DType, Dim, ElemTy};
use std::collections::HashMap;

impl Builder<'_> {
    pub(super) fn var(&mut self, range: Option<Dim>) -> Var {
        let v = Var(self.next_var);
        self.next_var += 1;
        if let Some(d) = range {
            self.ranges.insert(v, d);
        }
        v
    }

    pub(super) fn dtype(&self, id: NodeId) -> R<DType> {
        dtype(&self.p.node(id).ty)
    }

    /// Bind `value` to a fresh `let` (no-op for variables and constants).
    pub(super) fn bind(&mut self, value: Expr, ty: DType, out: &mut Vec<Stmt>) -> Expr {
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
    pub(super) fn checked(&mut self, e: Expr, d: Dim, out: &mut Vec<Stmt>) -> Expr {
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
    pub(super) fn broadcast_idx(
        &mut self,
        x: NodeId,
        shape: &[Dim],
        idx: &[Expr],
        out: &mut Vec<Stmt>,
    ) -> R<Vec<Expr>> {
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
    pub(super) fn expr(&mut self, id: NodeId, idx: &[Expr], out: &mut Vec<Stmt>) -> R<Expr> {
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
    pub(super) fn block<T>(&mut self, f: impl FnOnce(&mut Self, &mut Vec<Stmt>) -> R<T>) -> R<(T, Vec<Stmt>)> {
        let mut body = vec![];
        self.cache.push(HashMap::new());
        let r = f(self, &mut body);
        self.cache.pop();
        Ok((r?, body))
    }

    /// The value of node `id` at `idx`, computed (never loaded from its own buffer).
    pub(super) fn node(&mut self, id: NodeId, idx: &[Expr], out: &mut Vec<Stmt>) -> R<Expr> {
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
            Op::MulAdd(a, b, c) => {
                let mut es = Vec::with_capacity(3);
                for x in [*a, *b, *c] {
                    let i = self.broadcast_idx(x, shape, idx, out)?;
                    es.push(Box::new(self.expr(x, &i, out)?));
                }
                let [ea, eb, ec]: [Box<Expr>; 3] = es.try_into().map_err(|_| format!("{id}: mul_add operands"))?;
                Expr::MulAdd(ea, eb, ec)
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
            Op::Scan { .. } | Op::Sort { .. } | Op::TopK { .. } => {
                return Err(format!("{id} is built by its own kernels, never inlined"))
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
    pub(super) fn slice_idx(
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
    pub(super) fn abs_bound(&mut self, b: SliceBound, d: Dim) -> Expr {
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

    pub(super) fn restore(&mut self, saved: Vec<(VarId, Option<Var>)>) {
        for (v, old) in saved.into_iter().rev() {
            match old {
                Some(o) => self.env.insert(v, o),
                None => self.env.remove(&v),
            };
        }
    }
}
