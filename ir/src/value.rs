//! Host values: n-dimensional arrays of every dtype, as the interpreter and the runtime pass
//! them around. Scalars are 0-dimensional arrays.

use crate::scalar::{Elem, Scalar};
use crate::types::DType;
use ndarray::{ArrayD, IxDyn};

/// An owned n-d array of one of kiln's dtypes.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    I32(ArrayD<i32>),
    I64(ArrayD<i64>),
    U32(ArrayD<u32>),
    Bool(ArrayD<bool>),
}

/// Apply the same generic expression to whichever array a [`Value`] holds.
#[macro_export]
macro_rules! with_value {
    ($v:expr, $a:ident => $e:expr) => {
        match $v {
            $crate::Value::F32($a) => $e,
            $crate::Value::F64($a) => $e,
            $crate::Value::I32($a) => $e,
            $crate::Value::I64($a) => $e,
            $crate::Value::U32($a) => $e,
            $crate::Value::Bool($a) => $e,
        }
    };
}

/// Apply a generic expression to the array a [`Value`] holds and wrap the result back into the
/// same variant (for dtype-preserving ops: transpose, broadcast, insert-axis).
macro_rules! map_value {
    ($v:expr, $a:ident => $e:expr) => {
        match $v {
            $crate::Value::F32($a) => $crate::Value::F32($e),
            $crate::Value::F64($a) => $crate::Value::F64($e),
            $crate::Value::I32($a) => $crate::Value::I32($e),
            $crate::Value::I64($a) => $crate::Value::I64($e),
            $crate::Value::U32($a) => $crate::Value::U32($e),
            $crate::Value::Bool($a) => $crate::Value::Bool($e),
        }
    };
}
pub(crate) use map_value;

impl Value {
    pub fn dtype(&self) -> DType {
        match self {
            Value::F32(_) => DType::F32,
            Value::F64(_) => DType::F64,
            Value::I32(_) => DType::I32,
            Value::I64(_) => DType::I64,
            Value::U32(_) => DType::U32,
            Value::Bool(_) => DType::Bool,
        }
    }

    pub fn shape(&self) -> &[usize] {
        with_value!(self, a => a.shape())
    }

    /// An array of zeros (false) of the given dtype and shape.
    pub fn zeros(dtype: DType, shape: &[usize]) -> Value {
        let s = IxDyn(shape);
        match dtype {
            DType::F32 => Value::F32(ArrayD::zeros(s)),
            DType::F64 => Value::F64(ArrayD::zeros(s)),
            DType::I32 => Value::I32(ArrayD::zeros(s)),
            DType::I64 => Value::I64(ArrayD::zeros(s)),
            DType::U32 => Value::U32(ArrayD::zeros(s)),
            DType::Bool => Value::Bool(ArrayD::from_elem(s, false)),
        }
    }

    /// A 0-d array holding `s`.
    pub(crate) fn from_scalar(s: Scalar) -> Value {
        fn go<T: Elem>(x: T) -> Value {
            T::wrap(ArrayD::from_elem(IxDyn(&[]), x))
        }
        crate::scalar::with_scalar!(s, x => go(x))
    }

    /// The element at `ix`, or `None` when `ix` is not an index of the array.
    pub(crate) fn get(&self, ix: &[usize]) -> Option<Scalar> {
        with_value!(self, a => a.get(ix).map(|x| x.scalar()))
    }

    /// The first element in logical order (the only one of a 0-d array).
    pub(crate) fn first_scalar(&self) -> Option<Scalar> {
        with_value!(self, a => a.first().map(|x| x.scalar()))
    }

    /// Write `x` at `ix`; false (nothing written) when `ix` is not an index of the array or
    /// `x` has another dtype.
    pub(crate) fn set(&mut self, ix: &[usize], x: Scalar) -> bool {
        fn go<T: Elem>(a: &mut ArrayD<T>, ix: &[usize], x: Scalar) -> bool {
            match (a.get_mut(ix), T::from_scalar(x)) {
                (Some(slot), Some(x)) => {
                    *slot = x;
                    true
                }
                _ => false,
            }
        }
        with_value!(self, a => go(a, ix, x))
    }
}
