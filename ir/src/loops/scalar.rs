//! Typed scalar values and the scalar semantics of every unary, binary and cast operation.
//!
//! One definition serves constant folding (`passes::simplify`), loop IR constants and the loop
//! interpreter, so a folded constant is bit-for-bit what the loop interpreter would compute.
//! Integer arithmetic wraps; integer division and remainder by zero yield 0 (kernels never trap,
//! see [`BinOp::Div`]); float `min`/`max` propagate NaN like numpy.

use crate::program::{BinOp, Literal, UnOp};
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
            Scalar::F32(v) => Literal::Float(v as f64),
            Scalar::F64(v) => Literal::Float(v),
            Scalar::I32(v) => Literal::Int(v as i64),
            Scalar::I64(v) => Literal::Int(v),
            Scalar::U32(v) => Literal::Int(v as i64),
            Scalar::Bool(v) => Literal::Bool(v),
        }
    }

    /// Zero (false) of `dtype`.
    pub fn zero(dtype: DType) -> Scalar {
        Scalar::I64(0).cast(dtype)
    }

    /// One (true) of `dtype`.
    pub fn one(dtype: DType) -> Scalar {
        Scalar::I64(1).cast(dtype)
    }

    /// The largest value of `dtype` (+inf for floats): the identity of `min`.
    pub fn max_value(dtype: DType) -> Scalar {
        match dtype {
            DType::F32 => Scalar::F32(f32::INFINITY),
            DType::F64 => Scalar::F64(f64::INFINITY),
            DType::I32 => Scalar::I32(i32::MAX),
            DType::I64 => Scalar::I64(i64::MAX),
            DType::U32 => Scalar::U32(u32::MAX),
            DType::Bool => Scalar::Bool(true),
        }
    }

    /// The smallest value of `dtype` (-inf for floats): the identity of `max`.
    pub fn min_value(dtype: DType) -> Scalar {
        match dtype {
            DType::F32 => Scalar::F32(f32::NEG_INFINITY),
            DType::F64 => Scalar::F64(f64::NEG_INFINITY),
            DType::I32 => Scalar::I32(i32::MIN),
            DType::I64 => Scalar::I64(i64::MIN),
            DType::U32 => Scalar::U32(0),
            DType::Bool => Scalar::Bool(false),
        }
    }

    /// The value as i64 (floats truncate and saturate, bool is 0/1).
    pub fn as_i64(self) -> i64 {
        match self.cast(DType::I64) {
            Scalar::I64(v) => v,
            _ => 0,
        }
    }

    pub fn as_bool(self) -> bool {
        match self.cast(DType::Bool) {
            Scalar::Bool(b) => b,
            _ => false,
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Scalar::F32(v) => v as f64,
            Scalar::F64(v) => v,
            Scalar::I32(v) => v as f64,
            Scalar::I64(v) => v as f64,
            Scalar::U32(v) => v as f64,
            Scalar::Bool(v) => v as u8 as f64,
        }
    }

    /// Rust `as` conversion to `dtype` (float -> int saturates, NaN -> 0); to bool is `!= 0`.
    pub fn cast(self, dtype: DType) -> Scalar {
        if self.dtype() == dtype {
            return self;
        }
        if dtype == DType::Bool {
            return Scalar::Bool(match self {
                Scalar::F32(v) => v != 0.0,
                Scalar::F64(v) => v != 0.0,
                Scalar::I32(v) => v != 0,
                Scalar::I64(v) => v != 0,
                Scalar::U32(v) => v != 0,
                Scalar::Bool(v) => v,
            });
        }
        // Integers convert exactly through i128, floats through f64 (exact for f32).
        let int: Option<i128> = match self {
            Scalar::I32(v) => Some(v as i128),
            Scalar::I64(v) => Some(v as i128),
            Scalar::U32(v) => Some(v as i128),
            Scalar::Bool(v) => Some(v as i128),
            Scalar::F32(_) | Scalar::F64(_) => None,
        };
        match (int, dtype) {
            (Some(i), DType::I32) => Scalar::I32(i as i32),
            (Some(i), DType::I64) => Scalar::I64(i as i64),
            (Some(i), DType::U32) => Scalar::U32(i as u32),
            (Some(i), DType::F32) => Scalar::F32(i as f32),
            (Some(i), DType::F64) => Scalar::F64(i as f64),
            (None, _) => {
                let f = self.as_f64();
                match (self, dtype) {
                    (Scalar::F32(v), DType::F64) => Scalar::F64(v as f64),
                    (_, DType::F32) => Scalar::F32(f as f32),
                    (Scalar::F32(v), DType::I32) => Scalar::I32(v as i32),
                    (Scalar::F32(v), DType::I64) => Scalar::I64(v as i64),
                    (Scalar::F32(v), DType::U32) => Scalar::U32(v as u32),
                    (_, DType::I32) => Scalar::I32(f as i32),
                    (_, DType::I64) => Scalar::I64(f as i64),
                    (_, DType::U32) => Scalar::U32(f as u32),
                    _ => Scalar::F64(f),
                }
            }
            (Some(i), DType::Bool) => Scalar::Bool(i != 0),
        }
    }

    /// Apply a unary op. `None` when the op is not defined on this dtype.
    pub fn unary(self, op: UnOp) -> Option<Scalar> {
        Some(match (op, self) {
            (UnOp::Neg, Scalar::F32(v)) => Scalar::F32(-v),
            (UnOp::Neg, Scalar::F64(v)) => Scalar::F64(-v),
            (UnOp::Neg, Scalar::I32(v)) => Scalar::I32(v.wrapping_neg()),
            (UnOp::Neg, Scalar::I64(v)) => Scalar::I64(v.wrapping_neg()),
            (UnOp::Not, Scalar::Bool(v)) => Scalar::Bool(!v),
            (UnOp::Not, Scalar::I32(v)) => Scalar::I32(!v),
            (UnOp::Not, Scalar::I64(v)) => Scalar::I64(!v),
            (UnOp::Not, Scalar::U32(v)) => Scalar::U32(!v),
            (UnOp::Abs, Scalar::F32(v)) => Scalar::F32(v.abs()),
            (UnOp::Abs, Scalar::F64(v)) => Scalar::F64(v.abs()),
            (UnOp::Abs, Scalar::I32(v)) => Scalar::I32(v.wrapping_abs()),
            (UnOp::Abs, Scalar::I64(v)) => Scalar::I64(v.wrapping_abs()),
            (UnOp::Abs, Scalar::U32(v)) => Scalar::U32(v),
            (op, Scalar::F32(v)) if op.float_only() => Scalar::F32(float_f32(op, v)),
            (op, Scalar::F64(v)) if op.float_only() => Scalar::F64(float_f64(op, v)),
            _ => return None,
        })
    }

    /// Apply a binary op to two values of the same dtype. `None` when the dtypes differ or the
    /// op is not defined on them.
    pub fn binary(op: BinOp, a: Scalar, b: Scalar) -> Option<Scalar> {
        use std::cmp::Ordering;
        if a.dtype() != b.dtype() {
            return None;
        }
        if op.is_comparison() {
            let ord = match (a, b) {
                (Scalar::F32(x), Scalar::F32(y)) => x.partial_cmp(&y),
                (Scalar::F64(x), Scalar::F64(y)) => x.partial_cmp(&y),
                (Scalar::I32(x), Scalar::I32(y)) => Some(x.cmp(&y)),
                (Scalar::I64(x), Scalar::I64(y)) => Some(x.cmp(&y)),
                (Scalar::U32(x), Scalar::U32(y)) => Some(x.cmp(&y)),
                (Scalar::Bool(x), Scalar::Bool(y)) => Some(x.cmp(&y)),
                _ => None,
            };
            let r = match op {
                BinOp::Eq => ord == Some(Ordering::Equal),
                BinOp::Ne => ord != Some(Ordering::Equal),
                BinOp::Lt => ord == Some(Ordering::Less),
                BinOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                BinOp::Gt => ord == Some(Ordering::Greater),
                _ => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            };
            return Some(Scalar::Bool(r));
        }
        macro_rules! int {
            ($x:expr, $y:expr, $c:path) => {
                Some($c(match op {
                    BinOp::Add => $x.wrapping_add($y),
                    BinOp::Sub => $x.wrapping_sub($y),
                    BinOp::Mul => $x.wrapping_mul($y),
                    BinOp::Div => $x.checked_div($y).unwrap_or(if $y == 0 { 0 } else { $x.wrapping_div($y) }),
                    BinOp::Rem => $x.checked_rem($y).unwrap_or(0),
                    BinOp::Min => $x.min($y),
                    BinOp::Max => $x.max($y),
                    BinOp::And => $x & $y,
                    BinOp::Or => $x | $y,
                    BinOp::Xor => $x ^ $y,
                    _ => return None,
                }))
            };
        }
        macro_rules! flt {
            ($x:expr, $y:expr, $c:path) => {
                Some($c(match op {
                    BinOp::Add => $x + $y,
                    BinOp::Sub => $x - $y,
                    BinOp::Mul => $x * $y,
                    BinOp::Div => $x / $y,
                    BinOp::Rem => $x % $y,
                    BinOp::Pow => $x.powf($y),
                    BinOp::Min if $x.is_nan() || $y.is_nan() => $x + $y,
                    BinOp::Max if $x.is_nan() || $y.is_nan() => $x + $y,
                    BinOp::Min => $x.min($y),
                    BinOp::Max => $x.max($y),
                    _ => return None,
                }))
            };
        }
        match (a, b) {
            (Scalar::F32(x), Scalar::F32(y)) => flt!(x, y, Scalar::F32),
            (Scalar::F64(x), Scalar::F64(y)) => flt!(x, y, Scalar::F64),
            (Scalar::I32(x), Scalar::I32(y)) => int!(x, y, Scalar::I32),
            (Scalar::I64(x), Scalar::I64(y)) => int!(x, y, Scalar::I64),
            (Scalar::U32(x), Scalar::U32(y)) => int!(x, y, Scalar::U32),
            (Scalar::Bool(x), Scalar::Bool(y)) => Some(Scalar::Bool(match op {
                BinOp::And | BinOp::Min | BinOp::Mul => x & y,
                BinOp::Or | BinOp::Max | BinOp::Add => x | y,
                BinOp::Xor => x ^ y,
                _ => return None,
            })),
            _ => None,
        }
    }
}

fn float_f32(op: UnOp, v: f32) -> f32 {
    match op {
        UnOp::Exp => v.exp(),
        UnOp::Ln => v.ln(),
        UnOp::Log1p => v.ln_1p(),
        UnOp::Sqrt => v.sqrt(),
        UnOp::Rsqrt => 1.0 / v.sqrt(),
        UnOp::Sin => v.sin(),
        UnOp::Cos => v.cos(),
        UnOp::Tanh => v.tanh(),
        UnOp::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        UnOp::Floor => v.floor(),
        UnOp::Ceil => v.ceil(),
        UnOp::PowI(n) => v.powi(n),
        UnOp::Neg => -v,
        UnOp::Abs => v.abs(),
        UnOp::Not => v,
    }
}

fn float_f64(op: UnOp, v: f64) -> f64 {
    match op {
        UnOp::Exp => v.exp(),
        UnOp::Ln => v.ln(),
        UnOp::Log1p => v.ln_1p(),
        UnOp::Sqrt => v.sqrt(),
        UnOp::Rsqrt => 1.0 / v.sqrt(),
        UnOp::Sin => v.sin(),
        UnOp::Cos => v.cos(),
        UnOp::Tanh => v.tanh(),
        UnOp::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        UnOp::Floor => v.floor(),
        UnOp::Ceil => v.ceil(),
        UnOp::PowI(n) => v.powi(n),
        UnOp::Neg => -v,
        UnOp::Abs => v.abs(),
        UnOp::Not => v,
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

impl Scalar {
    /// Parse the value part of a constant (`1.5`, `-inf`, `NaN`, `true`) as `dtype`.
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
