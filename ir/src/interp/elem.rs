//! Per-dtype meaning of every elementwise op, cast and reduction step: the one place that says
//! what `add` or `exp` does to an `i32` or an `f32`.
//!
//! The array-level evaluator (whole arrays through `Zip`) and the scalar evaluator (one element
//! of a comprehension body at a time) both call these functions, so the two paths cannot
//! disagree. Float math stays in the element's own precision (`f32::exp` on `f32`), integer
//! arithmetic wraps, and integer division or remainder by zero yields 0.

use crate::program::{BinOp, ReduceOp, UnOp};
use crate::types::DType;
use crate::value::Value;
use ndarray::{ArrayD, IxDyn};

/// One element of any dtype: the value of a scalar-body node for one iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scalar {
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
            Scalar::F32($x) => $e,
            Scalar::F64($x) => $e,
            Scalar::I32($x) => $e,
            Scalar::I64($x) => $e,
            Scalar::U32($x) => $e,
            Scalar::Bool($x) => $e,
        }
    };
}
pub(crate) use with_scalar;

/// Apply a generic expression to the array a [`Value`] holds and wrap the result back into the
/// same variant (for dtype-preserving ops: transpose, broadcast, insert-axis).
macro_rules! map_value {
    ($v:expr, $a:ident => $e:expr) => {
        match $v {
            Value::F32($a) => Value::F32($e),
            Value::F64($a) => Value::F64($e),
            Value::I32($a) => Value::I32($e),
            Value::I64($a) => Value::I64($e),
            Value::U32($a) => Value::U32($e),
            Value::Bool($a) => Value::Bool($e),
        }
    };
}
pub(crate) use map_value;

impl Scalar {
    pub(crate) fn dtype(self) -> DType {
        match self {
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
            Scalar::I32(_) => DType::I32,
            Scalar::I64(_) => DType::I64,
            Scalar::U32(_) => DType::U32,
            Scalar::Bool(_) => DType::Bool,
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

    /// A 0-d array holding this element.
    pub(crate) fn into_value(self) -> Value {
        with_scalar!(self, x => wrap_one(x))
    }

    /// Rust `as` conversion to `to` (bool <-> number as 0/1 and `!= 0`).
    pub(crate) fn cast(self, to: DType) -> Scalar {
        with_scalar!(self, x => cast_elem(x, to))
    }
}

fn wrap_one<T: Elem>(x: T) -> Value {
    T::wrap(ArrayD::from_elem(IxDyn(&[]), x))
}

/// The single element of a 0-d (or any one-element) array, as a [`Scalar`].
pub(crate) fn first_scalar(v: &Value) -> Option<Scalar> {
    crate::with_value!(v, a => a.first().map(|x| x.scalar()))
}

fn cast_elem<S: Elem>(x: S, to: DType) -> Scalar {
    match to {
        DType::F32 => Scalar::F32(x.to()),
        DType::F64 => Scalar::F64(x.to()),
        DType::I32 => Scalar::I32(x.to()),
        DType::I64 => Scalar::I64(x.to()),
        DType::U32 => Scalar::U32(x.to()),
        DType::Bool => Scalar::Bool(x.to()),
    }
}

/// Convert a whole array to `to` with the same rule as [`Scalar::cast`].
pub(crate) fn cast_array<S: Elem>(a: &ArrayD<S>, to: DType) -> Value {
    match to {
        DType::F32 => Value::F32(a.mapv(|x| x.to())),
        DType::F64 => Value::F64(a.mapv(|x| x.to())),
        DType::I32 => Value::I32(a.mapv(|x| x.to())),
        DType::I64 => Value::I64(a.mapv(|x| x.to())),
        DType::U32 => Value::U32(a.mapv(|x| x.to())),
        DType::Bool => Value::Bool(a.mapv(|x| x.to())),
    }
}

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
pub(crate) trait Elem: Copy + PartialOrd + std::fmt::Debug + 'static {
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
    fn supports_reduce(op: ReduceOp) -> bool;
    fn is_nan_elem(self) -> bool;
    fn zero() -> Self;
    fn one() -> Self;
    /// -inf for floats, the type's minimum for integers: the identity of `max`.
    fn lowest() -> Self;
    /// +inf for floats, the type's maximum for integers: the identity of `min`.
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

macro_rules! float_elem {
    ($t:ident, $variant:ident, $from_self:ident) => {
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
                op != UnOp::Not
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
                    UnOp::Not => x,
                }
            }
            fn supports_binary(op: BinOp) -> bool {
                !op.is_logical() && !op.is_comparison()
            }
            fn binary(op: BinOp, a: Self, b: Self) -> Self {
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Rem => a % b,
                    BinOp::Pow => a.powf(b),
                    // NaN if either is NaN (numpy `minimum`); on ties the first operand wins.
                    BinOp::Min if a.is_nan() || b.is_nan() => $t::NAN,
                    BinOp::Min => {
                        if b < a {
                            b
                        } else {
                            a
                        }
                    }
                    BinOp::Max if a.is_nan() || b.is_nan() => $t::NAN,
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
            fn supports_reduce(_op: ReduceOp) -> bool {
                true
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

float_elem!(f32, F32, from_f32);
float_elem!(f64, F64, from_f64);

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
                matches!(op, UnOp::Neg | UnOp::Not | UnOp::Abs)
            }
            fn unary(op: UnOp, x: Self) -> Self {
                match op {
                    UnOp::Neg => x.wrapping_neg(),
                    UnOp::Not => !x,
                    UnOp::Abs => $abs(x),
                    _ => x,
                }
            }
            fn supports_binary(op: BinOp) -> bool {
                !op.is_comparison() && op != BinOp::Pow
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
                    _ => a,
                }
            }
            fn supports_reduce(_op: ReduceOp) -> bool {
                true
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
    fn supports_binary(op: BinOp) -> bool {
        op.is_logical()
    }
    fn binary(op: BinOp, a: Self, b: Self) -> Self {
        match op {
            BinOp::And => a && b,
            BinOp::Or => a || b,
            BinOp::Xor => a != b,
            _ => a,
        }
    }
    /// `min`/`max` are "all"/"any" (false < true); `sum`/`prod` need a cast first.
    fn supports_reduce(op: ReduceOp) -> bool {
        !matches!(op, ReduceOp::Sum | ReduceOp::Prod)
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

/// A sequential reduction in row-major order of its domain, in the element type.
///
/// `Min`/`Max` propagate the first NaN; `ArgMin`/`ArgMax` keep the first occurrence of the
/// extreme, or the index of the first NaN if there is one (numpy).
pub(crate) struct Acc<T> {
    op: ReduceOp,
    val: T,
    /// Index of the current arg-extreme, `None` until the first element.
    arg: Option<i64>,
    count: i64,
    seen_nan: bool,
}

impl<T: Elem> Acc<T> {
    pub(crate) fn new(op: ReduceOp) -> Acc<T> {
        let val = match op {
            ReduceOp::Sum => T::zero(),
            ReduceOp::Prod => T::one(),
            ReduceOp::Min | ReduceOp::ArgMin => T::highest(),
            ReduceOp::Max | ReduceOp::ArgMax => T::lowest(),
        };
        Acc { op, val, arg: None, count: 0, seen_nan: false }
    }

    pub(crate) fn push(&mut self, x: T) {
        match self.op {
            ReduceOp::Sum => self.val = T::binary(BinOp::Add, self.val, x),
            ReduceOp::Prod => self.val = T::binary(BinOp::Mul, self.val, x),
            ReduceOp::Min => {
                if !self.val.is_nan_elem() && (x.is_nan_elem() || x < self.val) {
                    self.val = x;
                }
            }
            ReduceOp::Max => {
                if !self.val.is_nan_elem() && (x.is_nan_elem() || x > self.val) {
                    self.val = x;
                }
            }
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
