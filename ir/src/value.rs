//! Host values: n-dimensional arrays of every dtype, as the interpreter and the runtime pass
//! them around. Scalars are 0-dimensional arrays.

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
}
