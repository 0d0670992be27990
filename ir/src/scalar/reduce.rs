//! Reductions as folds of the binary ops: each one's identity, its step, and [`Acc`], the
//! accumulator the array interpreter folds a domain with.
//!
//! `sum`/`prod`/`min`/`max` fold with `add`/`mul`/`min`/`max` from their identity, so a
//! reduction computes exactly what the loop IR's `acc = min(acc, x)` computes, NaN rules
//! included (the first NaN stays). `argmin`/`argmax` also keep the index of the first
//! occurrence of the extreme, or of the first NaN (numpy).

use super::Elem;
use crate::loops::SUM_BLOCK;
use crate::program::{BinOp, ReduceOp};

/// The value a reduction starts from: what it gives over an empty domain.
pub(super) fn identity<T: Elem>(op: ReduceOp) -> T {
    match op {
        ReduceOp::Sum => T::zero(),
        ReduceOp::Prod => T::one(),
        ReduceOp::Min | ReduceOp::ArgMin => T::highest(),
        ReduceOp::Max | ReduceOp::ArgMax => T::lowest(),
    }
}

/// The binary op that folds one element into the accumulator (`None` for the arg-reductions).
pub(super) fn step(op: ReduceOp) -> Option<BinOp> {
    match op {
        ReduceOp::Sum => Some(BinOp::Add),
        ReduceOp::Prod => Some(BinOp::Mul),
        ReduceOp::Min => Some(BinOp::Min),
        ReduceOp::Max => Some(BinOp::Max),
        ReduceOp::ArgMin | ReduceOp::ArgMax => None,
    }
}

/// A sequential reduction in row-major order of its domain, in the element type.
pub(crate) struct Acc<T> {
    op: ReduceOp,
    val: T,
    /// Index of the current arg-extreme, `None` until the first element.
    arg: Option<i64>,
    count: i64,
    seen_nan: bool,
    /// A float sum in the blocked order of [`crate::loops::blocked_sum`]: the innermost
    /// axis's length, the position in it, and the block, group and supergroup partials.
    blocked: Option<(usize, usize, [T; 3])>,
}

impl<T: Elem> Acc<T> {
    pub(crate) fn new(op: ReduceOp) -> Acc<T> {
        Acc { op, val: identity(op), arg: None, count: 0, seen_nan: false, blocked: None }
    }

    /// A reduction over a box whose innermost axis has `row` elements, folded in row-major
    /// order: a float `sum` in the blocked order of [`crate::loops::blocked_sum`] (blocks of
    /// [`SUM_BLOCK`] elements, groups of 64 blocks, supergroups of 64 groups, at absolute
    /// positions along the row; the total runs on across rows), anything else as [`Acc::new`].
    pub(crate) fn blocked(op: ReduceOp, row: usize) -> Acc<T> {
        let mut a = Acc::new(op);
        if op == ReduceOp::Sum && T::DTYPE.is_float() {
            a.blocked = Some((row, 0, [T::zero(); 3]));
        }
        a
    }

    /// Fold the partial of `level` of a blocked sum into the level above (into the total
    /// above the last), and restart it from zero.
    fn close(&mut self, level: usize) {
        let Some((_, _, parts)) = &mut self.blocked else { return };
        let x = parts[level];
        match parts.get_mut(level + 1) {
            Some(up) => *up = T::binary(BinOp::Add, *up, x),
            None => self.val = T::binary(BinOp::Add, self.val, x),
        }
        parts[level] = T::zero();
    }

    fn push_blocked(&mut self, x: T) {
        let Some((row, pos, _)) = self.blocked else { return };
        let b = SUM_BLOCK as usize;
        if pos > 0 && pos.is_multiple_of(b) {
            self.close(0);
            if pos.is_multiple_of(b * b) {
                self.close(1);
                if pos.is_multiple_of(b * b * b) {
                    self.close(2);
                }
            }
        }
        let next = pos + 1;
        if let Some((_, p, parts)) = &mut self.blocked {
            parts[0] = T::binary(BinOp::Add, parts[0], x);
            *p = if next == row { 0 } else { next };
        }
        if next == row {
            self.close(0);
            self.close(1);
            self.close(2);
        }
    }

    pub(crate) fn push(&mut self, x: T) {
        // Each step is `T::binary` with the op of [`step`], spelled out per op so that each
        // arm compiles to the bare operation.
        match self.op {
            ReduceOp::Sum if self.blocked.is_some() => self.push_blocked(x),
            ReduceOp::Sum => self.val = T::binary(BinOp::Add, self.val, x),
            ReduceOp::Prod => self.val = T::binary(BinOp::Mul, self.val, x),
            ReduceOp::Min => self.val = T::binary(BinOp::Min, self.val, x),
            ReduceOp::Max => self.val = T::binary(BinOp::Max, self.val, x),
            ReduceOp::ArgMin | ReduceOp::ArgMax if self.seen_nan => {}
            ReduceOp::ArgMin | ReduceOp::ArgMax => {
                let better = match self.op {
                    ReduceOp::ArgMin => x < self.val,
                    _ => x > self.val,
                };
                if x.is_nan_elem() {
                    self.seen_nan = true;
                    self.arg = Some(self.count);
                } else if self.arg.is_none() || better {
                    self.val = x;
                    self.arg = Some(self.count);
                }
            }
        }
        self.count += 1;
    }

    /// The result of a `Sum`/`Prod`/`Min`/`Max` reduction.
    pub(crate) fn value(&self) -> T {
        self.val
    }

    /// The result of an `ArgMin`/`ArgMax` reduction; `None` over an empty domain.
    pub(crate) fn index(&self) -> Option<i64> {
        self.arg
    }
}
