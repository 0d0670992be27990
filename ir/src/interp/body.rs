//! Evaluation of comprehension bodies: the scalar bodies of `Generate` and `RangeReduce`, one
//! iteration at a time (what each op computes is [`crate::scalar`]'s).
//!
//! A body node is evaluated recursively under the current index-variable environment; nodes
//! without free variables are read from their array-level value. `Select` evaluates only the
//! chosen branch. A node's value is cached until one of its free variables is reassigned, so a
//! body shared between several users (or a loop-invariant part of an inner reduction) is
//! computed once per change of the variables it depends on.

use super::{binary_defined, not_defined, reduce_defined, Interp, InterpError};
use crate::program::{NodeId, Op, ReduceOp, VarId};
use crate::scalar::{with_dtype, Acc, Elem, Scalar};
use crate::value::{try_zeros_array, Value};

impl<'a> Interp<'a> {
    /// The value of `id` for the current index variables.
    pub(super) fn scalar(&mut self, id: NodeId) -> Result<Scalar, InterpError> {
        let i = id.index();
        if self.free[i].is_empty() {
            if let Some(s) = self.scalars[i] {
                return Ok(s);
            }
            // Not a rank-0 value that evaluated fine: report why.
            let v = self.val(id)?;
            return Err(self.malformed(id, format!("used as a scalar but has shape {:?}", v.shape())));
        }
        if let (stamp, Some(s)) = self.cache[i] {
            if self.free[i].iter().all(|v| self.env.set_at[v.0 as usize] <= stamp) {
                return Ok(s);
            }
        }
        let s = self.eval_scalar_node(id)?;
        self.cache[i] = (self.env.clock, Some(s));
        Ok(s)
    }

    /// Evaluate a rank-0 node from its operands' scalar values (no caching).
    pub(super) fn eval_scalar_node(&mut self, id: NodeId) -> Result<Scalar, InterpError> {
        let node = self.p.node(id);
        if !node.ty.shape.is_empty() {
            return Err(self.malformed(id, format!("a scalar body node of rank {}", node.ty.rank())));
        }
        let dtype = self.dtype(id);
        match &node.op {
            Op::Const(lit) => Ok(Scalar::from_literal(*lit, dtype)),
            Op::DimValue(d) => Ok(Scalar::I64(self.dim(*d) as i64)),
            Op::Index(v) => match self.env.bound.get(v.0 as usize) {
                Some(true) => Ok(Scalar::I64(self.env.value[v.0 as usize])),
                _ => Err(self.malformed(id, format!("index variable {v} is used outside the node that binds it"))),
            },
            Op::Unary(op, a) => {
                let x = self.scalar(*a)?;
                x.unary(*op).ok_or_else(|| self.unsupported(id, not_defined(op.name(), x.dtype())))
            }
            Op::Binary(op, a, b) => {
                let (x, y) = (self.scalar(*a)?, self.scalar(*b)?);
                if x.dtype() != y.dtype() {
                    return Err(self.malformed(id, format!("`{}` of {} and {}", op.name(), x.dtype(), y.dtype())));
                }
                match Scalar::binary(*op, x, y) {
                    Some(z) if binary_defined(*op, x.dtype()) => Ok(z),
                    _ => Err(self.unsupported(id, not_defined(op.name(), x.dtype()))),
                }
            }
            Op::MulAdd(a, b, c) => {
                let (x, y, z) = (self.scalar(*a)?, self.scalar(*b)?, self.scalar(*c)?);
                Scalar::mul_add(x, y, z).ok_or_else(|| self.unsupported(id, not_defined("mul_add", x.dtype())))
            }
            Op::Select(c, a, b) => match self.scalar(*c)? {
                Scalar::Bool(true) => self.scalar(*a),
                Scalar::Bool(false) => self.scalar(*b),
                c => Err(self.malformed(id, format!("select condition is {}, not bool", c.dtype()))),
            },
            Op::Cast(a) => Ok(self.scalar(*a)?.cast(dtype)),
            Op::Broadcast(a) => self.scalar(*a),
            Op::Load { array, indices } => self.load(id, *array, indices),
            Op::RangeReduce { op, vars, extents, body } => {
                let ext: Vec<usize> = extents.iter().map(|&d| self.dim(d)).collect();
                let (op, vars, body) = (*op, vars.clone(), *body);
                with_dtype!(self.dtype(body), T => self.range_reduce::<T>(id, op, &vars, &ext, body))
            }
            Op::Param(_)
            | Op::Transpose(..)
            | Op::InsertAxis(..)
            | Op::Slice(..)
            | Op::Reduce { .. }
            | Op::Scan { .. }
            | Op::Sort { .. }
            | Op::TopK { .. }
            | Op::Generate { .. } => Err(self.unsupported(id, "this op cannot depend on index variables".into())),
        }
    }

    /// `array[[indices..]]` with every index checked against its axis.
    fn load(&mut self, id: NodeId, array: NodeId, indices: &[NodeId]) -> Result<Scalar, InterpError> {
        // Indices first (they may need `&mut self`), then one look-up of the array.
        let mut ix = vec![0usize; indices.len()];
        let mut negative = None;
        for (axis, &i) in indices.iter().enumerate() {
            let s = self.scalar(i)?;
            let Some(index) = s.as_index() else {
                return Err(self.malformed(id, format!("index {axis} is {}, not an integer", s.dtype())));
            };
            match usize::try_from(index) {
                Ok(u) => ix[axis] = u,
                Err(_) => {
                    negative.get_or_insert((axis, index));
                }
            }
        }
        let v = self.val(array)?;
        let shape = v.shape();
        if shape.len() != indices.len() {
            return Err(self.malformed(id, format!("{} indices into a rank-{} array", indices.len(), shape.len())));
        }
        // The first axis out of range, in axis order, is the one reported.
        let bad = (0..shape.len()).find_map(|axis| match negative {
            Some((a, index)) if a == axis => Some((axis, index)),
            _ if ix[axis] >= shape[axis] => Some((axis, ix[axis] as i64)),
            _ => None,
        });
        if let Some((axis, index)) = bad {
            return Err(InterpError::IndexOutOfBounds { array: self.name(array), axis, index, len: shape[axis] });
        }
        v.get(&ix).ok_or_else(|| self.malformed(id, "load outside the array".into()))
    }

    fn range_reduce<T: Elem>(
        &mut self,
        id: NodeId,
        op: ReduceOp,
        vars: &[VarId],
        ext: &[usize],
        body: NodeId,
    ) -> Result<Scalar, InterpError> {
        if !reduce_defined(op, T::DTYPE) {
            return Err(self.unsupported(id, not_defined(op.name(), T::DTYPE)));
        }
        let mut acc = Acc::<T>::new(op);
        self.for_each_index(id, vars, ext, |me| {
            let s = me.scalar(body)?;
            let x = T::from_scalar(s)
                .ok_or_else(|| me.malformed(body, format!("{} value in a {} body", s.dtype(), T::DTYPE)))?;
            acc.push(x);
            Ok(())
        })?;
        if op.is_arg() {
            acc.index().map(Scalar::I64).ok_or_else(|| InterpError::EmptyArgReduce { node: self.name(id) })
        } else {
            Ok(acc.value().scalar())
        }
    }

    /// Evaluate an array-level `Generate`: its body at every point of `extents`, row-major.
    pub(super) fn generate(&mut self, id: NodeId) -> Result<Value, InterpError> {
        let Op::Generate { vars, extents, body } = &self.p.node(id).op else {
            return Err(self.malformed(id, "not a generate".into()));
        };
        let ext: Vec<usize> = extents.iter().map(|&d| self.dim(d)).collect();
        let (vars, body) = (vars.clone(), *body);
        with_dtype!(self.dtype(body), T => self.generate_typed::<T>(id, &vars, &ext, body))
    }

    fn generate_typed<T: Elem>(
        &mut self,
        id: NodeId,
        vars: &[VarId],
        ext: &[usize],
        body: NodeId,
    ) -> Result<Value, InterpError> {
        // The whole result is allocated before the first point runs: a domain too large for
        // memory fails at once, as the compiled backends' frames do.
        let mut out = try_zeros_array::<T>(ext).map_err(|e| self.alloc_error(id, e))?;
        // Standard layout: memory order is the row-major order the points are visited in.
        let mut slots = out.iter_mut();
        self.for_each_index(id, vars, ext, |me| {
            let s = me.scalar(body)?;
            let x = T::from_scalar(s)
                .ok_or_else(|| me.malformed(body, format!("{} value in a {} body", s.dtype(), T::DTYPE)))?;
            if let Some(slot) = slots.next() {
                *slot = x;
            }
            Ok(())
        })?;
        Ok(T::wrap(out))
    }

    /// Run `f` once per point of the box `0..ext[0] x 0..ext[1] x ..` in row-major order, with
    /// `vars` bound to the point's coordinates; the variables' previous state is restored
    /// afterwards (so a binder may shadow an enclosing one).
    fn for_each_index(
        &mut self,
        id: NodeId,
        vars: &[VarId],
        ext: &[usize],
        mut f: impl FnMut(&mut Self) -> Result<(), InterpError>,
    ) -> Result<(), InterpError> {
        if ext.iter().try_fold(1usize, |n, &e| n.checked_mul(e)).is_none() {
            return Err(self.malformed(id, format!("iteration domain {ext:?} is too large")));
        }
        if vars.iter().any(|v| v.0 as usize >= self.env.value.len()) || vars.len() != ext.len() {
            return Err(self.malformed(id, "binds an unknown index variable".into()));
        }
        let saved: Vec<(i64, bool)> =
            vars.iter().map(|v| (self.env.value[v.0 as usize], self.env.bound[v.0 as usize])).collect();
        let r = if ext.contains(&0) { Ok(()) } else { self.odometer(vars, ext, &mut f) };
        for (v, (value, bound)) in vars.iter().zip(saved) {
            self.env.set(*v, value, bound);
        }
        r
    }

    fn odometer(
        &mut self,
        vars: &[VarId],
        ext: &[usize],
        f: &mut impl FnMut(&mut Self) -> Result<(), InterpError>,
    ) -> Result<(), InterpError> {
        let mut point = vec![0usize; vars.len()];
        for v in vars {
            self.env.set(*v, 0, true);
        }
        loop {
            f(self)?;
            // Advance the last coordinate, carrying leftwards; done when the first overflows.
            let mut k = vars.len();
            loop {
                if k == 0 {
                    return Ok(());
                }
                k -= 1;
                point[k] += 1;
                if point[k] < ext[k] {
                    self.env.set(vars[k], point[k] as i64, true);
                    break;
                }
                point[k] = 0;
                self.env.set(vars[k], 0, true);
            }
        }
    }
}
