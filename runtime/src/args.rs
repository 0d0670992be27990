//! Kernel arguments: ndarray arrays, views and scalars of kiln's dtypes, type-erased into
//! [`Arg`] so one call path serves every signature, and the typed conversions back.

use crate::error::{Error, Result};
use kiln_ir::{DType, Value};
use ndarray::{Array, ArrayBase, ArrayD, ArrayView, CowArray, Data, Dimension, IxDyn};

/// One argument of a kernel call: a borrowed or owned n-d array (a scalar is 0-d).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Arg<'a> {
    F32(CowArray<'a, f32, IxDyn>),
    F64(CowArray<'a, f64, IxDyn>),
    I32(CowArray<'a, i32, IxDyn>),
    I64(CowArray<'a, i64, IxDyn>),
    U32(CowArray<'a, u32, IxDyn>),
    Bool(CowArray<'a, bool, IxDyn>),
}

macro_rules! with_arg {
    ($v:expr, $a:ident => $e:expr) => {
        match $v {
            Arg::F32($a) => $e,
            Arg::F64($a) => $e,
            Arg::I32($a) => $e,
            Arg::I64($a) => $e,
            Arg::U32($a) => $e,
            Arg::Bool($a) => $e,
        }
    };
}
pub(crate) use with_arg;

impl<'a> Arg<'a> {
    pub fn dtype(&self) -> DType {
        match self {
            Arg::F32(_) => DType::F32,
            Arg::F64(_) => DType::F64,
            Arg::I32(_) => DType::I32,
            Arg::I64(_) => DType::I64,
            Arg::U32(_) => DType::U32,
            Arg::Bool(_) => DType::Bool,
        }
    }

    pub fn shape(&self) -> &[usize] {
        with_arg!(self, a => a.shape())
    }

    /// The value of an integer scalar (a 0-d i32, i64 or u32 array): what slice bounds given
    /// by scalar parameters need at bind time.
    pub fn as_index(&self) -> Option<i64> {
        match self {
            Arg::I64(a) if a.ndim() == 0 => a.first().copied(),
            Arg::I32(a) if a.ndim() == 0 => a.first().map(|&v| i64::from(v)),
            Arg::U32(a) if a.ndim() == 0 => a.first().map(|&v| i64::from(v)),
            _ => None,
        }
    }

    /// An owned copy as a [`Value`] (keeps the logical layout; strides are not required to
    /// be standard).
    pub fn to_value(&self) -> Value {
        match self {
            Arg::F32(a) => Value::F32(a.to_owned()),
            Arg::F64(a) => Value::F64(a.to_owned()),
            Arg::I32(a) => Value::I32(a.to_owned()),
            Arg::I64(a) => Value::I64(a.to_owned()),
            Arg::U32(a) => Value::U32(a.to_owned()),
            Arg::Bool(a) => Value::Bool(a.to_owned()),
        }
    }

    /// Borrow an owned [`Value`] as an argument.
    pub fn from_value(v: &'a Value) -> Arg<'a> {
        match v {
            Value::F32(a) => Arg::F32(a.view().into()),
            Value::F64(a) => Arg::F64(a.view().into()),
            Value::I32(a) => Arg::I32(a.view().into()),
            Value::I64(a) => Arg::I64(a.view().into()),
            Value::U32(a) => Arg::U32(a.view().into()),
            Value::Bool(a) => Arg::Bool(a.view().into()),
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// The element types kiln kernels accept: f32, f64, i32, i64, u32, bool.
pub trait Element: Copy + Send + Sync + std::fmt::Debug + 'static + sealed::Sealed {
    const DTYPE: DType;
    #[doc(hidden)]
    fn wrap(a: CowArray<'_, Self, IxDyn>) -> Arg<'_>;
    #[doc(hidden)]
    fn unwrap(v: Value) -> Option<ArrayD<Self>>;
    #[doc(hidden)]
    fn into_value(a: ArrayD<Self>) -> Value;
    #[doc(hidden)]
    fn view_value(v: &Value) -> Option<ndarray::ArrayViewD<'_, Self>>;
    #[doc(hidden)]
    fn wrap_out(a: ndarray::ArrayViewMutD<'_, Self>) -> OutArg<'_>;
}

/// The float element types, the instantiations of a generic `fn k<F: Float>` kernel.
pub trait Float: Element {}

macro_rules! element {
    ($t:ty, $variant:ident, $dtype:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$dtype;
            fn wrap(a: CowArray<'_, Self, IxDyn>) -> Arg<'_> {
                Arg::$variant(a)
            }
            fn unwrap(v: Value) -> Option<ArrayD<Self>> {
                match v {
                    Value::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn into_value(a: ArrayD<Self>) -> Value {
                Value::$variant(a)
            }
            fn view_value(v: &Value) -> Option<ndarray::ArrayViewD<'_, Self>> {
                match v {
                    Value::$variant(a) => Some(a.view()),
                    _ => None,
                }
            }
            fn wrap_out(a: ndarray::ArrayViewMutD<'_, Self>) -> OutArg<'_> {
                OutArg::$variant(a)
            }
        }
    };
}
element!(f32, F32, F32);
element!(f64, F64, F64);
element!(i32, I32, I32);
element!(i64, I64, I64);
element!(u32, U32, U32);
element!(bool, Bool, Bool);
impl Float for f32 {}
impl Float for f64 {}

/// What a kernel's array parameter of element type `T` and dimension `D` accepts:
/// `&Array`, `ArrayView`, `&ArrayView` (any strides, including transposed and stepped views).
pub trait IntoArg<'a, T: Element, D: Dimension> {
    fn into_arg(self) -> Arg<'a>;
}

impl<'a, T: Element, D: Dimension, S: Data<Elem = T>> IntoArg<'a, T, D> for &'a ArrayBase<S, D> {
    fn into_arg(self) -> Arg<'a> {
        T::wrap(CowArray::from(self.view().into_dyn()))
    }
}

impl<'a, T: Element, D: Dimension> IntoArg<'a, T, D> for ArrayView<'a, T, D> {
    fn into_arg(self) -> Arg<'a> {
        T::wrap(CowArray::from(self.into_dyn()))
    }
}

/// Type-erase an array argument (used by `#[kernel]` expansions).
pub fn array_arg<'a, T: Element, D: Dimension>(a: impl IntoArg<'a, T, D>) -> Arg<'a> {
    a.into_arg()
}

/// Type-erase a scalar argument as a 0-d array (used by `#[kernel]` expansions).
pub fn scalar_arg<'a, T: Element>(v: T) -> Arg<'a> {
    T::wrap(CowArray::from(ndarray::arr0(v).into_dyn()))
}

/// Take the next output as an array of `T` and dimension `D` (used by `#[kernel]` expansions).
pub fn take_array<T: Element, D: Dimension>(outs: &mut std::vec::IntoIter<Value>) -> Result<Array<T, D>> {
    let v = outs.next().ok_or_else(|| output_error("nothing".into(), T::DTYPE, D::NDIM))?;
    let got = format!("{}{:?}", v.dtype(), v.shape());
    let a = T::unwrap(v).ok_or_else(|| output_error(got.clone(), T::DTYPE, D::NDIM))?;
    a.into_dimensionality::<D>().map_err(|_| output_error(got, T::DTYPE, D::NDIM))
}

/// Take the next output as a scalar of `T` (used by `#[kernel]` expansions).
pub fn take_scalar<T: Element>(outs: &mut std::vec::IntoIter<Value>) -> Result<T> {
    let a = take_array::<T, ndarray::Ix0>(outs)?;
    Ok(a.into_scalar())
}

fn output_error(got: String, dtype: DType, rank: Option<usize>) -> Error {
    Error::OutputType {
        got,
        expected: format!("{dtype} of rank {}", rank.map(|r| r.to_string()).unwrap_or_else(|| "any".into())),
    }
}

/// A caller's array a kernel writes its one output into instead of allocating a new one
/// (`NAME::into`, numpy's `out=`): a mutable view of any layout, strided or reversed.
pub enum OutArg<'a> {
    F32(ndarray::ArrayViewMutD<'a, f32>),
    F64(ndarray::ArrayViewMutD<'a, f64>),
    I32(ndarray::ArrayViewMutD<'a, i32>),
    I64(ndarray::ArrayViewMutD<'a, i64>),
    U32(ndarray::ArrayViewMutD<'a, u32>),
    Bool(ndarray::ArrayViewMutD<'a, bool>),
}

macro_rules! with_out {
    ($v:expr, $a:ident => $e:expr) => {
        match $v {
            OutArg::F32($a) => $e,
            OutArg::F64($a) => $e,
            OutArg::I32($a) => $e,
            OutArg::I64($a) => $e,
            OutArg::U32($a) => $e,
            OutArg::Bool($a) => $e,
        }
    };
}

impl OutArg<'_> {
    pub fn dtype(&self) -> DType {
        match self {
            OutArg::F32(_) => DType::F32,
            OutArg::F64(_) => DType::F64,
            OutArg::I32(_) => DType::I32,
            OutArg::I64(_) => DType::I64,
            OutArg::U32(_) => DType::U32,
            OutArg::Bool(_) => DType::Bool,
        }
    }

    pub fn shape(&self) -> &[usize] {
        with_out!(self, a => a.shape())
    }

    /// The address of element `[0, 0, ..]` and the strides in elements.
    pub(crate) fn raw(&mut self) -> (*mut u8, Vec<i64>) {
        with_out!(self, a => (a.as_mut_ptr() as *mut u8, a.strides().iter().map(|s| *s as i64).collect()))
    }

    /// Set every element to zero (false).
    pub(crate) fn zero(&mut self) {
        match self {
            OutArg::F32(a) => a.fill(0.0),
            OutArg::F64(a) => a.fill(0.0),
            OutArg::I32(a) => a.fill(0),
            OutArg::I64(a) => a.fill(0),
            OutArg::U32(a) => a.fill(0),
            OutArg::Bool(a) => a.fill(false),
        }
    }

    /// Copy a computed output into the view; false when its dtype or shape differs.
    pub(crate) fn assign(&mut self, v: &Value) -> bool {
        fn put<T: Element>(out: &mut ndarray::ArrayViewMutD<'_, T>, v: &Value) -> bool {
            match T::view_value(v) {
                Some(a) if a.shape() == out.shape() => {
                    out.assign(&a);
                    true
                }
                _ => false,
            }
        }
        with_out!(self, a => put(a, v))
    }
}

/// Type-erase the output view of `NAME::into` (used by `#[kernel]` expansions).
pub fn out_arg<T: Element, D: Dimension>(a: ndarray::ArrayViewMut<'_, T, D>) -> OutArg<'_> {
    T::wrap_out(a.into_dyn())
}
