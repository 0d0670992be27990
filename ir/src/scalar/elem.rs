//! The per-dtype tables of [`super`]'s semantics: what one element type does under every op.
//!
//! Generic code (the array interpreter's whole-array loops through `Zip`, reductions) works on
//! `T: Elem` directly, without a [`Scalar`] per element; [`Scalar`]'s methods dispatch here.

use super::Scalar;
use crate::program::{BinOp, UnOp};
use crate::types::DType;
use crate::value::Value;
use ndarray::ArrayD;

/// A comparison, per IEEE for floats (every comparison with NaN is false except `ne`).
pub(crate) fn compare<T: PartialOrd>(op: BinOp, a: T, b: T) -> bool {
    match op {
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        BinOp::Ge => a >= b,
        // Not a comparison: callers dispatch on `BinOp::is_comparison` first.
        _ => false,
    }
}

/// What one dtype does under every op. `unary`/`binary` are total functions so they can run
/// inside `Zip` without a `Result` per element; callers check `supports_*` once per node
/// first, and the arms for unsupported ops only return the operand.
pub(crate) trait Elem: Copy + PartialOrd + std::fmt::Debug + bytemuck::Zeroable + 'static {
    const DTYPE: DType;
    /// Wrap an array of this dtype into a [`Value`].
    fn wrap(a: ArrayD<Self>) -> Value;
    fn scalar(self) -> Scalar;
    /// The element if `s` has this dtype.
    fn from_scalar(s: Scalar) -> Option<Self>;
    fn supports_unary(op: UnOp) -> bool;
    fn unary(op: UnOp, x: Self) -> Self;
    /// Whether the non-comparison binary op `op` is defined on this dtype.
    fn supports_binary(op: BinOp) -> bool;
    fn binary(op: BinOp, a: Self, b: Self) -> Self;
    fn is_nan_elem(self) -> bool;
    /// 0 (false): the identity of `sum`.
    fn zero() -> Self;
    /// 1 (true): the identity of `prod`.
    fn one() -> Self;
    /// -inf for floats, the type's minimum for integers, false: the identity of `max`.
    fn lowest() -> Self;
    /// +inf for floats, the type's maximum for integers, true: the identity of `min`.
    fn highest() -> Self;
    /// Rust `as` conversion into `U` (through `U`'s `from_*`).
    fn to<U: Elem>(self) -> U;
    fn from_f32(x: f32) -> Self;
    fn from_f64(x: f64) -> Self;
    fn from_i32(x: i32) -> Self;
    fn from_i64(x: i64) -> Self;
    fn from_u32(x: u32) -> Self;
    fn from_bool(x: bool) -> Self;
}

/// The `to` and `from_*` methods of a numeric type: Rust `as` for every numeric source.
macro_rules! numeric_casts {
    ($t:ty, $from_self:ident) => {
        fn to<U: Elem>(self) -> U {
            U::$from_self(self)
        }
        fn from_f32(x: f32) -> Self {
            x as $t
        }
        fn from_f64(x: f64) -> Self {
            x as $t
        }
        fn from_i32(x: i32) -> Self {
            x as $t
        }
        fn from_i64(x: i64) -> Self {
            x as $t
        }
        fn from_u32(x: u32) -> Self {
            x as $t
        }
        fn from_bool(x: bool) -> Self {
            u8::from(x) as $t
        }
    };
}

/// `erf`/`erfc` are not in stable std: they come from the `libm` crate (a port of musl's C99
/// libm, the functions glibc, CUDA and the backends' libm calls implement).
macro_rules! float_elem {
    ($t:ident, $variant:ident, $from_self:ident, $erf:path, $erfc:path) => {
        // `x as f32` on an `f32` is the identity; the macro writes every pair uniformly.
        #[allow(clippy::unnecessary_cast)]
        impl Elem for $t {
            const DTYPE: DType = DType::$variant;
            fn wrap(a: ArrayD<Self>) -> Value {
                Value::$variant(a)
            }
            fn scalar(self) -> Scalar {
                Scalar::$variant(self)
            }
            fn from_scalar(s: Scalar) -> Option<Self> {
                match s {
                    Scalar::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn supports_unary(op: UnOp) -> bool {
                op != UnOp::Not && !op.int_only()
            }
            fn unary(op: UnOp, x: Self) -> Self {
                match op {
                    UnOp::Neg => -x,
                    UnOp::Abs => x.abs(),
                    UnOp::Exp => x.exp(),
                    UnOp::Ln => x.ln(),
                    UnOp::Log1p => x.ln_1p(),
                    UnOp::Sqrt => x.sqrt(),
                    UnOp::Rsqrt => 1.0 / x.sqrt(),
                    UnOp::Sin => x.sin(),
                    UnOp::Cos => x.cos(),
                    UnOp::Tanh => x.tanh(),
                    UnOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
                    UnOp::Floor => x.floor(),
                    UnOp::Ceil => x.ceil(),
                    UnOp::PowI(n) => x.powi(n),
                    UnOp::Tan => x.tan(),
                    UnOp::Atan => x.atan(),
                    UnOp::Sinh => x.sinh(),
                    UnOp::Cosh => x.cosh(),
                    UnOp::Asinh => x.asinh(),
                    UnOp::Acosh => x.acosh(),
                    UnOp::Atanh => x.atanh(),
                    UnOp::Cbrt => x.cbrt(),
                    UnOp::Expm1 => x.exp_m1(),
                    UnOp::Exp2 => x.exp2(),
                    UnOp::Log2 => x.log2(),
                    UnOp::Log10 => x.log10(),
                    UnOp::Round => x.round(),
                    UnOp::Trunc => x.trunc(),
                    UnOp::Erf => $erf(x),
                    UnOp::Erfc => $erfc(x),
                    UnOp::Signum => x.signum(),
                    UnOp::Not | UnOp::CountOnes => x,
                }
            }
            fn supports_binary(op: BinOp) -> bool {
                !op.is_logical() && !op.is_comparison() && !op.is_shift()
            }
            fn binary(op: BinOp, a: Self, b: Self) -> Self {
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Rem => a % b,
                    BinOp::Pow => a.powf(b),
                    BinOp::Atan2 => a.atan2(b),
                    BinOp::Hypot => a.hypot(b),
                    // The first NaN operand if there is one (numpy `minimum`), else the
                    // smaller; on ties the first operand wins.
                    BinOp::Min | BinOp::Max if a.is_nan() => a,
                    BinOp::Min | BinOp::Max if b.is_nan() => b,
                    BinOp::Min => {
                        if b < a {
                            b
                        } else {
                            a
                        }
                    }
                    BinOp::Max => {
                        if b > a {
                            b
                        } else {
                            a
                        }
                    }
                    _ => a,
                }
            }
            fn is_nan_elem(self) -> bool {
                self.is_nan()
            }
            fn zero() -> Self {
                0.0
            }
            fn one() -> Self {
                1.0
            }
            fn lowest() -> Self {
                $t::NEG_INFINITY
            }
            fn highest() -> Self {
                $t::INFINITY
            }
            numeric_casts!($t, $from_self);
        }
    };
}

float_elem!(f32, F32, from_f32, libm::erff, libm::erfcf);
float_elem!(f64, F64, from_f64, libm::erf, libm::erfc);

macro_rules! int_elem {
    ($t:ident, $variant:ident, $from_self:ident, $abs:path) => {
        #[allow(clippy::unnecessary_cast)]
        impl Elem for $t {
            const DTYPE: DType = DType::$variant;
            fn wrap(a: ArrayD<Self>) -> Value {
                Value::$variant(a)
            }
            fn scalar(self) -> Scalar {
                Scalar::$variant(self)
            }
            fn from_scalar(s: Scalar) -> Option<Self> {
                match s {
                    Scalar::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn supports_unary(op: UnOp) -> bool {
                match op {
                    UnOp::Neg => Self::DTYPE.is_signed(),
                    UnOp::Not | UnOp::Abs | UnOp::CountOnes => true,
                    _ => false,
                }
            }
            fn unary(op: UnOp, x: Self) -> Self {
                match op {
                    UnOp::Neg => x.wrapping_neg(),
                    UnOp::Not => !x,
                    UnOp::Abs => $abs(x),
                    // At most 64, so the count fits every integer type.
                    UnOp::CountOnes => x.count_ones() as $t,
                    _ => x,
                }
            }
            fn supports_binary(op: BinOp) -> bool {
                !op.is_comparison() && !op.float_only()
            }
            fn binary(op: BinOp, a: Self, b: Self) -> Self {
                match op {
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::Mul => a.wrapping_mul(b),
                    // Kernels never trap: `x / 0` and `x % 0` are 0; `MIN / -1` wraps to MIN.
                    BinOp::Div if b == 0 => 0,
                    BinOp::Div => a.wrapping_div(b),
                    BinOp::Rem if b == 0 => 0,
                    BinOp::Rem => a.wrapping_rem(b),
                    BinOp::Min => a.min(b),
                    BinOp::Max => a.max(b),
                    BinOp::And => a & b,
                    BinOp::Or => a | b,
                    BinOp::Xor => a ^ b,
                    // The amount's low bits only (`wrapping_sh*` masks by the bit width).
                    BinOp::Shl => a.wrapping_shl(b as u32),
                    BinOp::Shr => a.wrapping_shr(b as u32),
                    _ => a,
                }
            }
            fn is_nan_elem(self) -> bool {
                false
            }
            fn zero() -> Self {
                0
            }
            fn one() -> Self {
                1
            }
            fn lowest() -> Self {
                $t::MIN
            }
            fn highest() -> Self {
                $t::MAX
            }
            numeric_casts!($t, $from_self);
        }
    };
}

int_elem!(i32, I32, from_i32, i32::wrapping_abs);
int_elem!(i64, I64, from_i64, i64::wrapping_abs);
int_elem!(u32, U32, from_u32, std::convert::identity);

impl Elem for bool {
    const DTYPE: DType = DType::Bool;
    fn wrap(a: ArrayD<Self>) -> Value {
        Value::Bool(a)
    }
    fn scalar(self) -> Scalar {
        Scalar::Bool(self)
    }
    fn from_scalar(s: Scalar) -> Option<Self> {
        match s {
            Scalar::Bool(x) => Some(x),
            _ => None,
        }
    }
    fn supports_unary(op: UnOp) -> bool {
        op == UnOp::Not
    }
    fn unary(op: UnOp, x: Self) -> Self {
        match op {
            UnOp::Not => !x,
            _ => x,
        }
    }
    /// The logical ops, and `min`/`mul` as `and`, `max`/`add` as `or` (false < true): the
    /// steps of the loop IR's bool reductions.
    fn supports_binary(op: BinOp) -> bool {
        op.is_logical() || matches!(op, BinOp::Min | BinOp::Max | BinOp::Add | BinOp::Mul)
    }
    fn binary(op: BinOp, a: Self, b: Self) -> Self {
        match op {
            BinOp::And | BinOp::Min | BinOp::Mul => a && b,
            BinOp::Or | BinOp::Max | BinOp::Add => a || b,
            BinOp::Xor => a != b,
            _ => a,
        }
    }
    fn is_nan_elem(self) -> bool {
        false
    }
    fn zero() -> Self {
        false
    }
    fn one() -> Self {
        true
    }
    fn lowest() -> Self {
        false
    }
    fn highest() -> Self {
        true
    }
    fn to<U: Elem>(self) -> U {
        U::from_bool(self)
    }
    fn from_f32(x: f32) -> Self {
        x != 0.0
    }
    fn from_f64(x: f64) -> Self {
        x != 0.0
    }
    fn from_i32(x: i32) -> Self {
        x != 0
    }
    fn from_i64(x: i64) -> Self {
        x != 0
    }
    fn from_u32(x: u32) -> Self {
        x != 0
    }
    fn from_bool(x: bool) -> Self {
        x
    }
}
