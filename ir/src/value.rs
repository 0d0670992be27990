//! Host values: n-dimensional arrays of every dtype, as the interpreter and the runtime pass
//! them around. Scalars are 0-dimensional arrays.

use crate::scalar::{Elem, Scalar};
use crate::types::DType;
use ndarray::{ArrayD, IxDyn};
use thiserror::Error;

/// Why a zeroed array could not be allocated: what numpy reports as `MemoryError` (and, for
/// a size past the address space, `ValueError: array is too big`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AllocError {
    /// Its size in bytes does not fit in `isize` (no allocation can hold it).
    #[error("an array with shape {} of {dtype} is too big: its size in bytes overflows", shape_tuple(.shape))]
    TooLarge { dtype: DType, shape: Vec<usize> },
    /// The allocator could not provide the memory.
    #[error("unable to allocate {} for an array with shape {}", size_text(*.bytes), shape_tuple(.shape))]
    OutOfMemory { bytes: usize, shape: Vec<usize> },
}

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

    /// The size of its elements in bytes.
    pub fn len_bytes(&self) -> usize {
        with_value!(self, a => std::mem::size_of_val(a.as_slice_memory_order().unwrap_or(&[])))
    }

    /// An array of zeros of the given dtype and shape, or why the memory cannot be had:
    /// what every allocation sized by a caller's shapes uses instead of [`Value::zeros`]
    /// (which aborts the process when the allocator fails). The memory comes zeroed from the
    /// allocator, as for [`Value::zeros`], so large arrays are not touched here.
    ///
    /// # Errors
    /// [`AllocError::TooLarge`] when the size overflows, [`AllocError::OutOfMemory`] when the
    /// allocator refuses it.
    pub fn try_zeros(dtype: DType, shape: &[usize]) -> Result<Value, AllocError> {
        crate::scalar::with_dtype!(dtype, T => try_zeros_array::<T>(shape).map(T::wrap))
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

/// [`Value::try_zeros`] for one element type: a standard-layout array of zeros, or why the
/// memory cannot be had. What the interpreter builds every array it computes in.
///
/// # Errors
/// As [`Value::try_zeros`].
pub(crate) fn try_zeros_array<T: Elem>(shape: &[usize]) -> Result<ArrayD<T>, AllocError> {
    let too_large = || AllocError::TooLarge { dtype: T::DTYPE, shape: shape.to_vec() };
    let bytes = byte_size(T::DTYPE, shape).ok_or_else(too_large)?;
    let oom = || AllocError::OutOfMemory { bytes, shape: shape.to_vec() };
    let v = bytemuck::allocation::try_zeroed_vec::<T>(shape.iter().product()).map_err(|_| oom())?;
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|_| too_large())
}

/// The size in bytes of an array of `dtype` with `shape`, when it fits in `isize` (the most
/// any allocation can hold); `None` when the product overflows.
pub fn byte_size(dtype: DType, shape: &[usize]) -> Option<usize> {
    let bytes = shape.iter().try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))?;
    (bytes <= isize::MAX as usize).then_some(bytes)
}

/// A byte count as numpy's `MemoryError` writes it: `14.6 TiB`, `512 bytes`, three
/// significant figures in the largest binary unit that keeps the number below 1024.
pub fn size_text(bytes: usize) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let bits = usize::BITS - bytes.leading_zeros();
    let mut unit = (bits.saturating_sub(1).max(1) / 10) as usize;
    let mut n = bytes as f64 / (1u64 << (unit * 10)) as f64;
    if n.round() >= 1024.0 && unit + 1 < UNITS.len() {
        unit += 1;
        n /= 1024.0;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if n.round() < 1000.0 {
        // Python's `{:#.3g}`: three significant figures, trailing zeros kept.
        let decimals = if (n * 100.0).round() < 1000.0 {
            2
        } else if (n * 10.0).round() < 1000.0 {
            1
        } else {
            0
        };
        let text = format!("{n:.decimals$}");
        if decimals == 0 {
            format!("{text}. {}", UNITS[unit])
        } else {
            format!("{text} {}", UNITS[unit])
        }
    } else {
        format!("{n:.0}. {}", UNITS[unit])
    }
}

/// A shape as numpy prints it: `(2000000, 2000000)`, `(5,)`, `()`.
pub fn shape_tuple(shape: &[usize]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => format!("({})", shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_numpy_writes_them() {
        // numpy 2.x: np.zeros((2000000, 2000000), np.float32) -> "Unable to allocate 14.6 TiB".
        assert_eq!(size_text(2_000_000 * 2_000_000 * 4), "14.6 TiB");
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(1), "1 bytes");
        assert_eq!(size_text(1536), "1.50 KiB");
        assert_eq!(size_text(1023 * 1024 + 1000), "1.00 MiB");
        assert_eq!(size_text(200 << 20), "200. MiB");
        assert_eq!(size_text(9_999 << 10), "9.76 MiB");
        assert_eq!(size_text(10_235 << 10), "10.0 MiB");
        assert_eq!(shape_tuple(&[2_000_000, 2_000_000]), "(2000000, 2000000)");
        assert_eq!(shape_tuple(&[5]), "(5,)");
        assert_eq!(shape_tuple(&[]), "()");
    }

    #[test]
    fn sizes_past_the_address_space_are_errors_not_aborts() {
        assert_eq!(byte_size(DType::F64, &[3, 4]), Some(96));
        assert_eq!(byte_size(DType::F32, &[usize::MAX, 2]), None);
        assert_eq!(byte_size(DType::U32, &[1 << 62]), None);
        let e = Value::try_zeros(DType::F32, &[1 << 40, 1 << 30]).unwrap_err();
        assert!(matches!(e, AllocError::TooLarge { .. }), "{e}");
        // 2^50 bytes: more than any machine this runs on can provide (overcommit or not).
        let e = Value::try_zeros(DType::I64, &[1 << 47]).unwrap_err();
        assert_eq!(e, AllocError::OutOfMemory { bytes: 1 << 50, shape: vec![1 << 47] });
        assert_eq!(e.to_string(), "unable to allocate 1.00 PiB for an array with shape (140737488355328,)");
    }

    #[test]
    fn fallible_zeros_equal_zeros() {
        for dtype in [DType::F32, DType::F64, DType::I32, DType::I64, DType::U32, DType::Bool] {
            for shape in [&[][..], &[0][..], &[3, 0, 2][..], &[2, 3][..]] {
                assert_eq!(Value::try_zeros(dtype, shape).unwrap(), Value::zeros(dtype, shape), "{dtype} {shape:?}");
            }
        }
    }
}
