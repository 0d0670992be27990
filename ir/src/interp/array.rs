//! Array-level evaluation: nodes without free index variables, computed whole.
//!
//! Elementwise ops broadcast their operands to the node's shape (numpy rules, through
//! ndarray's `broadcast`) and run through `Zip`; reductions over axes copy the operand into
//! row-major order of (kept axes, reduced axes) and fold each row sequentially, so summation
//! order is the row-major order of the reduced domain, as the IR defines it. Scans fold each
//! lane in the blocked order of [`crate::program::Op::Scan`].

use super::{binary_defined, not_defined, reduce_defined, Interp, InterpError};
use crate::program::{scan_chunk, AxisSlice, BinOp, NodeId, Op, ReduceOp, SliceBound, UnOp, SCAN_CHUNKS};
use crate::scalar::{compare, with_dtype, Acc, Elem};
use crate::shapes::{resolve_index, resolve_range};
use crate::types::DType;
use crate::value::{map_value, try_zeros_array, AllocError, Value};
use crate::with_value;
use ndarray::{ArrayD, Axis, IxDyn, Zip};

/// Why an elementwise or structural op could not run; turned into an [`InterpError`] with the
/// node's name by the caller.
enum OpError {
    Unsupported(String),
    Malformed(String),
    EmptyArg,
    Alloc(AllocError),
    /// Position `index` of an axis of length `len` of the operand was asked for.
    OutOfRange {
        axis: usize,
        index: i64,
        len: usize,
    },
}

impl From<AllocError> for OpError {
    fn from(e: AllocError) -> OpError {
        OpError::Alloc(e)
    }
}

impl<'a> Interp<'a> {
    /// Evaluate one array-level node from the values of its operands.
    pub(super) fn eval_array(&mut self, id: NodeId) -> Result<Value, InterpError> {
        let shape = self.shape(id);
        let dtype = self.dtype(id);
        let r = match &self.p.node(id).op {
            Op::Param(k) => match self.args.get(*k as usize) {
                Some(v) => copy(v),
                None => Err(OpError::Malformed(format!("parameter {k} has no argument"))),
            },
            Op::Const(_)
            | Op::DimValue(_)
            | Op::Index(_)
            | Op::Load { .. }
            | Op::RangeReduce { .. }
            | Op::MulAdd(..) => {
                // Rank-0 values: the scalar evaluator defines them (with no variables bound).
                return self.eval_scalar_node(id).map(Value::from_scalar);
            }
            Op::Unary(op, a) => unary(*op, self.val(*a)?),
            Op::Binary(op, a, b) => binary(*op, self.val(*a)?, self.val(*b)?, &shape),
            Op::Select(c, a, b) => select(self.val(*c)?, self.val(*a)?, self.val(*b)?, &shape),
            Op::Cast(a) => with_value!(self.val(*a)?, x => cast_array(x, dtype)),
            Op::Broadcast(a) => broadcast(self.val(*a)?, &shape),
            Op::Transpose(a, perm) => transpose(self.val(*a)?, perm),
            Op::InsertAxis(a, axis) => insert_axis(self.val(*a)?, *axis as usize),
            Op::Slice(a, axes) => {
                let scalars = &self.scalars_of_args;
                slice(self.val(*a)?, axes, scalars)
            }
            Op::Reduce { op, arg, axes } => reduce(*op, self.val(*arg)?, axes),
            Op::Scan { op, arg, axis } => scan(*op, self.val(*arg)?, *axis as usize),
            Op::Sort { arg, axis, indices } => sort(self.val(*arg)?, *axis as usize, *indices),
            Op::TopK { arg, axis, k, largest, indices } => {
                let k = self.dim(*k);
                topk(self.val(*arg)?, *axis as usize, k, *largest, *indices)
            }
            Op::Generate { .. } => return self.generate(id),
        };
        r.map_err(|e| match e {
            OpError::Unsupported(why) => self.unsupported(id, why),
            OpError::Malformed(why) => self.malformed(id, why),
            OpError::EmptyArg => InterpError::EmptyArgReduce { node: self.name(id) },
            OpError::Alloc(e) => self.alloc_error(id, e),
            OpError::OutOfRange { axis, index, len } => {
                let array = self.p.node(id).op.operands().first().map_or_else(|| self.name(id), |a| self.name(*a));
                InterpError::IndexOutOfBounds { array, axis, index, len }
            }
        })
    }
}

fn unary(op: UnOp, v: &Value) -> Result<Value, OpError> {
    fn go<T: Elem>(op: UnOp, a: &ArrayD<T>) -> Result<Value, OpError> {
        if !T::supports_unary(op) {
            return Err(OpError::Unsupported(not_defined(op.name(), T::DTYPE)));
        }
        let mut out = try_zeros_array(a.shape())?;
        Zip::from(&mut out).and(a).for_each(|o, &x| *o = T::unary(op, x));
        Ok(T::wrap(out))
    }
    with_value!(v, a => go(op, a))
}

fn binary(op: BinOp, a: &Value, b: &Value, shape: &[usize]) -> Result<Value, OpError> {
    fn go<T: Elem>(op: BinOp, a: &ArrayD<T>, b: &ArrayD<T>, shape: &[usize]) -> Result<Value, OpError> {
        let (a, b) = (bcast(a, shape)?, bcast(b, shape)?);
        if op.is_comparison() {
            let mut out = try_zeros_array(shape)?;
            Zip::from(&mut out).and(&a).and(&b).for_each(|o, &x, &y| *o = compare(op, x, y));
            return Ok(Value::Bool(out));
        }
        if !binary_defined(op, T::DTYPE) {
            return Err(OpError::Unsupported(not_defined(op.name(), T::DTYPE)));
        }
        let mut out = try_zeros_array(shape)?;
        Zip::from(&mut out).and(&a).and(&b).for_each(|o, &x, &y| *o = T::binary(op, x, y));
        Ok(T::wrap(out))
    }
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => go(op, x, y, shape),
        (Value::F64(x), Value::F64(y)) => go(op, x, y, shape),
        (Value::I32(x), Value::I32(y)) => go(op, x, y, shape),
        (Value::I64(x), Value::I64(y)) => go(op, x, y, shape),
        (Value::U32(x), Value::U32(y)) => go(op, x, y, shape),
        (Value::Bool(x), Value::Bool(y)) => go(op, x, y, shape),
        _ => Err(OpError::Malformed(format!("`{}` of {} and {}", op.name(), a.dtype(), b.dtype()))),
    }
}

fn select(c: &Value, a: &Value, b: &Value, shape: &[usize]) -> Result<Value, OpError> {
    fn go<T: Elem>(c: &ArrayD<bool>, a: &ArrayD<T>, b: &ArrayD<T>, shape: &[usize]) -> Result<Value, OpError> {
        let (c, a, b) = (bcast(c, shape)?, bcast(a, shape)?, bcast(b, shape)?);
        let mut out = try_zeros_array(shape)?;
        Zip::from(&mut out).and(&c).and(&a).and(&b).for_each(|o, &c, &x, &y| *o = if c { x } else { y });
        Ok(T::wrap(out))
    }
    let Value::Bool(c) = c else {
        return Err(OpError::Malformed(format!("select condition is {}, not bool", c.dtype())));
    };
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => go(c, x, y, shape),
        (Value::F64(x), Value::F64(y)) => go(c, x, y, shape),
        (Value::I32(x), Value::I32(y)) => go(c, x, y, shape),
        (Value::I64(x), Value::I64(y)) => go(c, x, y, shape),
        (Value::U32(x), Value::U32(y)) => go(c, x, y, shape),
        (Value::Bool(x), Value::Bool(y)) => go(c, x, y, shape),
        _ => Err(OpError::Malformed(format!("select between {} and {}", a.dtype(), b.dtype()))),
    }
}

/// A standard-layout copy of `view`, allocated fallibly (every array the interpreter computes
/// is built in memory from [`try_zeros_array`]).
fn owned<T: Elem>(view: ndarray::ArrayViewD<'_, T>) -> Result<ArrayD<T>, OpError> {
    let mut out = try_zeros_array(view.shape())?;
    out.assign(&view);
    Ok(out)
}

/// A standard-layout copy of `v` (an argument: the caller's layout may be any).
fn copy(v: &Value) -> Result<Value, OpError> {
    Ok(map_value!(v, a => owned(a.view())?))
}

/// `a` broadcast to `shape` (numpy rules), or why it cannot be.
fn bcast<'v, T>(a: &'v ArrayD<T>, shape: &[usize]) -> Result<ndarray::ArrayViewD<'v, T>, OpError> {
    a.broadcast(IxDyn(shape)).ok_or_else(|| {
        OpError::Malformed(format!("an operand of shape {:?} does not broadcast to {shape:?}", a.shape()))
    })
}

fn broadcast(v: &Value, shape: &[usize]) -> Result<Value, OpError> {
    fn go<T: Elem>(a: &ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>, OpError> {
        owned(bcast(a, shape)?)
    }
    Ok(map_value!(v, a => go(a, shape)?))
}

fn transpose(v: &Value, perm: &[u32]) -> Result<Value, OpError> {
    let perm: Vec<usize> = perm.iter().map(|&k| k as usize).collect();
    let mut sorted = perm.clone();
    sorted.sort_unstable();
    if sorted != (0..v.shape().len()).collect::<Vec<_>>() {
        return Err(OpError::Malformed(format!(
            "{perm:?} is not a permutation of the axes of a rank-{} array",
            v.shape().len()
        )));
    }
    // Result axis k is operand axis perm[k]: exactly ndarray's `permuted_axes`.
    Ok(map_value!(v, a => owned(a.view().permuted_axes(IxDyn(&perm)))?))
}

fn insert_axis(v: &Value, axis: usize) -> Result<Value, OpError> {
    if axis > v.shape().len() {
        return Err(OpError::Malformed(format!("axis {axis} is past the end of a rank-{} array", v.shape().len())));
    }
    Ok(map_value!(v, a => owned(a.view().insert_axis(Axis(axis)))?))
}

/// ndarray's `slice` with the bounds checked first (binding the arguments already rejected
/// every out-of-range slice; a malformed program gets an error here, never a panic).
fn slice(v: &Value, axes: &[AxisSlice], scalars: &[Option<i64>]) -> Result<Value, OpError> {
    fn go<T: Elem>(a: &ArrayD<T>, axes: &[AxisSlice], scalars: &[Option<i64>]) -> Result<ArrayD<T>, OpError> {
        if axes.len() != a.ndim() {
            return Err(OpError::Malformed(format!("{} slice entries for a rank-{} array", axes.len(), a.ndim())));
        }
        let value = |b: SliceBound| match b {
            SliceBound::Const(c) => Ok(c),
            SliceBound::Param(k) => scalars
                .get(k as usize)
                .copied()
                .flatten()
                .ok_or_else(|| OpError::Malformed(format!("slice bound `p{k}` is not an integer scalar argument"))),
        };
        let out_of_range = |k: usize| OpError::Malformed(format!("slice of axis {k} is out of range"));
        let mut view = a.view();
        // Index axes are taken last to first, so the positions of the others do not move.
        for (k, s) in axes.iter().enumerate() {
            if let AxisSlice::Range(r) = s {
                let res = resolve_range(view.shape()[k], r, &value)?.ok_or_else(|| out_of_range(k))?;
                // The same elements as ndarray's `Slice::new(start, end, step)`: first, then
                // every `step` (a negative step walks down from the last element).
                let (lo, hi) = if res.len == 0 {
                    (0, 0)
                } else if res.step > 0 {
                    (res.first, res.first + res.step * (res.len as i64 - 1) + 1)
                } else {
                    (res.first + res.step * (res.len as i64 - 1), res.first + 1)
                };
                view.slice_axis_inplace(
                    Axis(k),
                    ndarray::Slice::new(lo as isize, Some(hi as isize), res.step as isize),
                );
            }
        }
        for (k, s) in axes.iter().enumerate().rev() {
            if let AxisSlice::Index(b) = s {
                let i = resolve_index(view.shape()[k], value(*b)?).ok_or_else(|| out_of_range(k))?;
                view.index_axis_inplace(Axis(k), i);
            }
        }
        owned(view)
    }
    Ok(map_value!(v, a => go(a, axes, scalars)?))
}

fn reduce(op: ReduceOp, v: &Value, axes: &[u32]) -> Result<Value, OpError> {
    let rank = v.shape().len();
    let axes: Vec<usize> = axes.iter().map(|&k| k as usize).collect();
    if axes.windows(2).any(|w| w[0] >= w[1]) || axes.last().is_some_and(|&k| k >= rank) {
        return Err(OpError::Malformed(format!("reduce axes {axes:?} are not sorted, distinct axes of rank {rank}")));
    }
    with_value!(v, a => reduce_typed(op, a, &axes))
}

fn reduce_typed<T: Elem>(op: ReduceOp, a: &ArrayD<T>, axes: &[usize]) -> Result<Value, OpError> {
    if !reduce_defined(op, T::DTYPE) {
        return Err(OpError::Unsupported(not_defined(op.name(), T::DTYPE)));
    }
    let kept: Vec<usize> = (0..a.ndim()).filter(|k| !axes.contains(k)).collect();
    let out_shape: Vec<usize> = kept.iter().map(|&k| a.shape()[k]).collect();
    let red_len: usize = axes.iter().map(|&k| a.shape()[k]).product();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    // `iter` visits the permuted view in logical row-major order whatever the memory layout:
    // each run of `red_len` elements is one output's reduced domain, in row-major order.
    let flat = owned(a.view().permuted_axes(IxDyn(&perm)))?;
    let flat = flat.as_slice().ok_or_else(|| OpError::Malformed("reduction operand copy is not contiguous".into()))?;
    let out_len: usize = out_shape.iter().product();
    let domains = (0..out_len).map(|o| &flat[o * red_len..(o + 1) * red_len]);
    let fold = |d: &[T]| {
        let mut acc = Acc::new(op);
        d.iter().for_each(|&x| acc.push(x));
        acc
    };
    // Both outputs are standard layout: their memory order is the row-major order of
    // `domains`.
    if op.is_arg() {
        let mut out = try_zeros_array::<i64>(&out_shape)?;
        for (o, d) in out.iter_mut().zip(domains) {
            *o = fold(d).index().ok_or(OpError::EmptyArg)?;
        }
        Ok(Value::I64(out))
    } else {
        let mut out = try_zeros_array::<T>(&out_shape)?;
        for (o, d) in out.iter_mut().zip(domains) {
            *o = fold(d).value();
        }
        Ok(T::wrap(out))
    }
}

/// The inclusive prefix fold of `v` along `axis`, in the blocked order [`crate::program::Op::Scan`]
/// defines: chunk totals, their carries in chunk order, then each chunk folded from its carry.
fn scan(op: ReduceOp, v: &Value, axis: usize) -> Result<Value, OpError> {
    if axis >= v.shape().len() {
        return Err(OpError::Malformed(format!("scan axis {axis} is out of range for rank {}", v.shape().len())));
    }
    with_value!(v, a => scan_typed(op, a, axis))
}

fn scan_typed<T: Elem>(op: ReduceOp, a: &ArrayD<T>, axis: usize) -> Result<Value, OpError> {
    let step = crate::scalar::Scalar::reduce_step(op);
    let Some(step) = step.filter(|_| reduce_defined(op, T::DTYPE)) else {
        return Err(OpError::Unsupported(not_defined(&format!("scan {}", op.name()), T::DTYPE)));
    };
    let mut out = owned(a.view())?;
    let n = out.shape()[axis] as u64;
    let chunks: Vec<(usize, usize)> = (0..u64::from(SCAN_CHUNKS))
        .map(|c| {
            let (s, e) = scan_chunk(c, n);
            (s as usize, e as usize)
        })
        .collect();
    for mut lane in out.lanes_mut(Axis(axis)) {
        let mut carry = Acc::<T>::new(op).value();
        for &(start, end) in &chunks {
            let mut total = Acc::<T>::new(op);
            (start..end).for_each(|j| total.push(lane[j]));
            let mut acc = carry;
            for j in start..end {
                acc = T::binary(step, acc, lane[j]);
                lane[j] = acc;
            }
            carry = T::binary(step, carry, total.value());
        }
    }
    Ok(T::wrap(out))
}

/// The stable ascending sort of every lane of `v` along `axis` (NaN last): the sorted values,
/// or with `indices` their original positions.
fn sort(v: &Value, axis: usize, indices: bool) -> Result<Value, OpError> {
    if axis >= v.shape().len() {
        return Err(OpError::Malformed(format!("sort axis {axis} is out of range for rank {}", v.shape().len())));
    }
    with_value!(v, a => sort_typed(a, axis, indices))
}

fn sort_typed<T: Elem>(a: &ArrayD<T>, axis: usize, indices: bool) -> Result<Value, OpError> {
    let n = a.shape()[axis];
    sorted_prefix(a, axis, n, false, indices)
}

/// The first `k` of every lane's stable sort along `axis` (descending with `largest`), NaN
/// after every number: the values, or with `indices` their positions. `k` above the lane's
/// length asks for a position past its end.
fn topk(v: &Value, axis: usize, k: usize, largest: bool, indices: bool) -> Result<Value, OpError> {
    let len =
        v.shape().get(axis).copied().ok_or_else(|| {
            OpError::Malformed(format!("topk axis {axis} is out of range for rank {}", v.shape().len()))
        })?;
    if k > len {
        return Err(OpError::OutOfRange { axis, index: k as i64 - 1, len });
    }
    with_value!(v, a => sorted_prefix(a, axis, k, largest, indices))
}

fn sorted_prefix<T: Elem>(
    a: &ArrayD<T>,
    axis: usize,
    k: usize,
    largest: bool,
    indices: bool,
) -> Result<Value, OpError> {
    // `x` goes before `y`: smaller (larger), or a number before a NaN. Equal keys keep their order.
    let before = |x: T, y: T| (if largest { x > y } else { x < y }) || (y.is_nan_elem() && !x.is_nan_elem());
    let mut shape = a.shape().to_vec();
    shape[axis] = k;
    let mut vals = try_zeros_array::<T>(&shape)?;
    let mut idx = try_zeros_array::<i64>(&shape)?;
    Zip::from(a.lanes(Axis(axis))).and(vals.lanes_mut(Axis(axis))).and(idx.lanes_mut(Axis(axis))).for_each(
        |lane, mut out, mut pos| {
            let mut order: Vec<usize> = (0..lane.len()).collect();
            order.sort_by(|&i, &j| {
                if before(lane[i], lane[j]) {
                    std::cmp::Ordering::Less
                } else if before(lane[j], lane[i]) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            });
            for (t, &i) in order.iter().take(k).enumerate() {
                out[t] = lane[i];
                pos[t] = i as i64;
            }
        },
    );
    Ok(if indices { Value::I64(idx) } else { T::wrap(vals) })
}

/// Convert a whole array to `to` with [`crate::scalar::Scalar::cast`]'s rule.
fn cast_array<S: Elem>(a: &ArrayD<S>, to: DType) -> Result<Value, OpError> {
    with_dtype!(to, T => {
        let mut out = try_zeros_array::<T>(a.shape())?;
        Zip::from(&mut out).and(a).for_each(|o, &x| *o = x.to());
        Ok(T::wrap(out))
    })
}
