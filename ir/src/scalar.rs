//! What every scalar op computes: the one definition of kiln's element semantics.
//!
//! Each unary op, binary op (comparisons included), cast and reduction step is defined here
//! once per dtype, by the [`Elem`] impls in `elem`; a [`Scalar`] is one value of any dtype and
//! dispatches to them. Everything in kiln that computes an element calls this module: the
//! array interpreter ([`crate::interp`]: whole arrays through [`Elem`], comprehension bodies
//! through [`Scalar`]), the loop interpreter ([`crate::loop_interp`]) and constant folding
//! ([`crate::passes::simplify`]), so a folded constant is what the interpreters compute. The
//! backends are tested against the interpreters, so against this: integers and bools
//! exactly, floats within per-dtype tolerances (each backend takes `exp`, `sin`, ... from its
//! own libm or polynomial), any NaN matching any NaN and `-0.0` matching `0.0`.
//!
//! The rules:
//! * Float math is IEEE 754 in the element's own precision (`f32::exp` on an `f32`);
//!   `rsqrt(x)` is `1 / sqrt(x)` and `sigmoid(x)` is `1 / (1 + exp(-x))`. Which NaN an
//!   arithmetic op on two NaNs returns (sign, payload) is the hardware's choice, as in IEEE.
//! * Float `min`/`max` are NaN when either operand is NaN: the first NaN operand itself, as
//!   numpy's `minimum` returns it; otherwise the first operand wins ties (`min(-0.0, 0.0)` is
//!   `-0.0`). They are comparisons, not `f32::min`, whose pick between `-0.0` and `0.0`
//!   differs between debug and release builds.
//! * Integer arithmetic wraps; `x / 0` and `x % 0` are 0 and `MIN / -1` is `MIN` (kernels
//!   never trap); `abs(MIN)` is `MIN`. `neg` is defined on signed types only.
//! * On bool, `min`/`mul` are `and` and `max`/`add` are `or`: the loop IR's reductions of bool
//!   (`all`/`any`) combine with them. The array IR has no elementwise arithmetic on bool (its
//!   verifier and interpreter refuse it).
//! * Comparisons follow IEEE: every comparison with NaN is false except `ne`.
//! * Casts are Rust's `as`: float -> integer truncates and saturates (NaN -> 0), integer ->
//!   float rounds to nearest; to bool is `!= 0`, from bool is 0 or 1.
//! * `select(c, a, b)` is `a` where `c` is true, else `b`; the interpreters evaluate only the
//!   chosen operand, so a guarded load never reads out of range.
//! * Reductions fold their domain in row-major order from the identity of `reduce_identity`
//!   with the binary op of `reduce_step` (`Acc` adds `argmin`/`argmax`: first occurrence of
//!   the extreme, or of the first NaN); float sums fold in the blocked order of
//!   `crate::loops::blocked_sum` instead (`Acc::blocked`).

mod elem;
mod reduce;

pub(crate) use elem::{compare, Elem};
pub(crate) use reduce::Acc;

use crate::program::{BinOp, Literal, ReduceOp, UnOp};
use crate::types::DType;
use std::fmt;

/// One value of one of kiln's dtypes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    F32(f32),
    F64(f64),
    I32(i32),
    I64(i64),
    U32(u32),
    Bool(bool),
}

/// Apply the same generic expression to whichever element a [`Scalar`] holds.
macro_rules! with_scalar {
    ($s:expr, $x:ident => $e:expr) => {
        match $s {
            $crate::scalar::Scalar::F32($x) => $e,
            $crate::scalar::Scalar::F64($x) => $e,
            $crate::scalar::Scalar::I32($x) => $e,
            $crate::scalar::Scalar::I64($x) => $e,
            $crate::scalar::Scalar::U32($x) => $e,
            $crate::scalar::Scalar::Bool($x) => $e,
        }
    };
}
pub(crate) use with_scalar;

/// Evaluate a generic expression with the type alias `$t` set to the Rust type of a dtype.
macro_rules! with_dtype {
    ($dt:expr, $t:ident => $e:expr) => {
        match $dt {
            $crate::types::DType::F32 => {
                type $t = f32;
                $e
            }
            $crate::types::DType::F64 => {
                type $t = f64;
                $e
            }
            $crate::types::DType::I32 => {
                type $t = i32;
                $e
            }
            $crate::types::DType::I64 => {
                type $t = i64;
                $e
            }
            $crate::types::DType::U32 => {
                type $t = u32;
                $e
            }
            $crate::types::DType::Bool => {
                type $t = bool;
                $e
            }
        }
    };
}
pub(crate) use with_dtype;

impl Scalar {
    pub fn dtype(self) -> DType {
        match self {
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
            Scalar::I32(_) => DType::I32,
            Scalar::I64(_) => DType::I64,
            Scalar::U32(_) => DType::U32,
            Scalar::Bool(_) => DType::Bool,
        }
    }

    /// The array IR literal `lit` as a value of type `dtype` (Rust `as` conversion).
    pub fn from_literal(lit: Literal, dtype: DType) -> Scalar {
        let s = match lit {
            Literal::Float(f) => Scalar::F64(f),
            Literal::Int(i) => Scalar::I64(i),
            Literal::Bool(b) => Scalar::Bool(b),
        };
        s.cast(dtype)
    }

    /// The value as an array IR literal (floats widen to f64 exactly).
    pub fn to_literal(self) -> Literal {
        match self {
            Scalar::F32(v) => Literal::Float(f64::from(v)),
            Scalar::F64(v) => Literal::Float(v),
            Scalar::I32(v) => Literal::Int(i64::from(v)),
            Scalar::I64(v) => Literal::Int(v),
            Scalar::U32(v) => Literal::Int(i64::from(v)),
            Scalar::Bool(v) => Literal::Bool(v),
        }
    }

    /// Zero (false) of `dtype`: the identity of `sum`.
    pub fn zero(dtype: DType) -> Scalar {
        with_dtype!(dtype, T => T::zero().scalar())
    }

    /// One (true) of `dtype`: the identity of `prod`.
    pub fn one(dtype: DType) -> Scalar {
        with_dtype!(dtype, T => T::one().scalar())
    }

    /// The largest value of `dtype` (+inf for floats, true for bool): the identity of `min`.
    pub fn max_value(dtype: DType) -> Scalar {
        with_dtype!(dtype, T => T::highest().scalar())
    }

    /// The smallest value of `dtype` (-inf for floats, false for bool): the identity of `max`.
    pub fn min_value(dtype: DType) -> Scalar {
        with_dtype!(dtype, T => T::lowest().scalar())
    }

    /// The value a reduction `op` over elements of `dtype` starts from (and gives over an
    /// empty domain): 0 for `sum`, 1 for `prod`, the largest value for `min`/`argmin`, the
    /// smallest for `max`/`argmax`.
    pub fn reduce_identity(op: ReduceOp, dtype: DType) -> Scalar {
        with_dtype!(dtype, T => reduce::identity::<T>(op).scalar())
    }

    /// The binary op that folds one more element into a `sum`/`prod`/`min`/`max` accumulator
    /// (`acc = step(acc, x)`); `None` for `argmin`/`argmax`, which also track an index.
    pub fn reduce_step(op: ReduceOp) -> Option<BinOp> {
        reduce::step(op)
    }

    /// The value's bits widened to u64: a float's IEEE bits, an integer's two's complement,
    /// 0 or 1 for bool. Two values of one dtype are the same value iff their bits are equal
    /// (unlike `==`, which has `-0.0 == 0.0` and `NaN != NaN`).
    pub fn to_bits(self) -> u64 {
        match self {
            Scalar::F32(x) => u64::from(x.to_bits()),
            Scalar::F64(x) => x.to_bits(),
            Scalar::I32(x) => u64::from(x as u32),
            Scalar::I64(x) => x as u64,
            Scalar::U32(x) => u64::from(x),
            Scalar::Bool(x) => u64::from(x),
        }
    }

    /// The value as i64 (floats truncate and saturate, bool is 0/1).
    pub fn as_i64(self) -> i64 {
        match self.cast(DType::I64) {
            Scalar::I64(v) => v,
            _ => 0,
        }
    }

    /// The value as bool (`!= 0`).
    pub fn as_bool(self) -> bool {
        match self.cast(DType::Bool) {
            Scalar::Bool(b) => b,
            _ => false,
        }
    }

    /// The value as an `i64` index, for integer dtypes only (`None` for floats and bool).
    pub(crate) fn as_index(self) -> Option<i64> {
        match self {
            Scalar::I32(x) => Some(i64::from(x)),
            Scalar::I64(x) => Some(x),
            Scalar::U32(x) => Some(i64::from(x)),
            Scalar::F32(_) | Scalar::F64(_) | Scalar::Bool(_) => None,
        }
    }

    /// The same bits read as `dtype` (Rust's `to_bits`/`from_bits`): a float and an integer of
    /// one width (`f32` with `u32` or `i32`, `f64` with `i64`). `None` for any other pair.
    pub fn bitcast(self, dtype: DType) -> Option<Scalar> {
        Some(match (self, dtype) {
            (Scalar::F32(x), DType::U32) => Scalar::U32(x.to_bits()),
            (Scalar::F32(x), DType::I32) => Scalar::I32(x.to_bits() as i32),
            (Scalar::U32(x), DType::F32) => Scalar::F32(f32::from_bits(x)),
            (Scalar::I32(x), DType::F32) => Scalar::F32(f32::from_bits(x as u32)),
            (Scalar::F64(x), DType::I64) => Scalar::I64(x.to_bits() as i64),
            (Scalar::I64(x), DType::F64) => Scalar::F64(f64::from_bits(x as u64)),
            _ => return None,
        })
    }

    /// Whether [`Scalar::bitcast`] is defined from `from` to `to`.
    pub fn bitcast_defined(from: DType, to: DType) -> bool {
        Scalar::zero(from).bitcast(to).is_some()
    }

    /// Rust `as` conversion to `dtype` (float -> int saturates, NaN -> 0); to bool is `!= 0`.
    pub fn cast(self, dtype: DType) -> Scalar {
        with_scalar!(self, x => with_dtype!(dtype, T => x.to::<T>().scalar()))
    }

    /// Apply a unary op. `None` when the op is not defined on this dtype.
    pub fn unary(self, op: UnOp) -> Option<Scalar> {
        fn go<T: Elem>(op: UnOp, x: T) -> Option<Scalar> {
            T::supports_unary(op).then(|| T::unary(op, x).scalar())
        }
        with_scalar!(self, x => go(op, x))
    }

    /// Apply a binary op to two values of the same dtype (a comparison gives a bool). `None`
    /// when the dtypes differ or the op is not defined on them.
    pub fn binary(op: BinOp, a: Scalar, b: Scalar) -> Option<Scalar> {
        fn go<T: Elem>(op: BinOp, a: T, b: T) -> Option<Scalar> {
            if op.is_comparison() {
                return Some(Scalar::Bool(compare(op, a, b)));
            }
            T::supports_binary(op).then(|| T::binary(op, a, b).scalar())
        }
        match (a, b) {
            (Scalar::F32(x), Scalar::F32(y)) => go(op, x, y),
            (Scalar::F64(x), Scalar::F64(y)) => go(op, x, y),
            (Scalar::I32(x), Scalar::I32(y)) => go(op, x, y),
            (Scalar::I64(x), Scalar::I64(y)) => go(op, x, y),
            (Scalar::U32(x), Scalar::U32(y)) => go(op, x, y),
            (Scalar::Bool(x), Scalar::Bool(y)) => go(op, x, y),
            _ => None,
        }
    }

    /// `a * b + c` rounded once (`f32::mul_add` / `f64::mul_add`, correctly rounded); `None`
    /// unless all three are floats of one type.
    pub fn mul_add(a: Scalar, b: Scalar, c: Scalar) -> Option<Scalar> {
        match (a, b, c) {
            (Scalar::F32(x), Scalar::F32(y), Scalar::F32(z)) => Some(Scalar::F32(x.mul_add(y, z))),
            (Scalar::F64(x), Scalar::F64(y), Scalar::F64(z)) => Some(Scalar::F64(x.mul_add(y, z))),
            _ => None,
        }
    }

    /// Whether [`Scalar::unary`] defines `op` on `dtype`.
    pub fn unary_defined(op: UnOp, dtype: DType) -> bool {
        with_dtype!(dtype, T => T::supports_unary(op))
    }

    /// Whether [`Scalar::binary`] defines `op` on two operands of `dtype`.
    pub fn binary_defined(op: BinOp, dtype: DType) -> bool {
        op.is_comparison() || with_dtype!(dtype, T => T::supports_binary(op))
    }

    /// Parse the value part of a loop IR constant (`1.5`, `-inf`, `NaN`, `true`) as `dtype`.
    pub fn parse(dtype: DType, text: &str) -> Option<Scalar> {
        Some(match dtype {
            DType::F32 => Scalar::F32(text.parse().ok()?),
            DType::F64 => Scalar::F64(text.parse().ok()?),
            DType::I32 => Scalar::I32(text.parse().ok()?),
            DType::I64 => Scalar::I64(text.parse().ok()?),
            DType::U32 => Scalar::U32(text.parse().ok()?),
            DType::Bool => Scalar::Bool(text.parse().ok()?),
        })
    }
}

/// Loop IR text of a constant: `f32:1.5`, `i64:-3`, `bool:true`. Floats print with Rust's
/// shortest round-tripping form, so parsing the text gives back the same bits (NaN payloads
/// aside).
impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::F32(v) => write!(f, "f32:{v:?}"),
            Scalar::F64(v) => write!(f, "f64:{v:?}"),
            Scalar::I32(v) => write!(f, "i32:{v}"),
            Scalar::I64(v) => write!(f, "i64:{v}"),
            Scalar::U32(v) => write!(f, "u32:{v}"),
            Scalar::Bool(v) => write!(f, "bool:{v}"),
        }
    }
}

#[cfg(test)]
mod tests;
