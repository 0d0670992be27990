//! Tables sized by hyper-parameters, allocated fallibly: the element count is checked
//! arithmetic and the memory is reserved with `try_reserve_exact`, so a size that cannot be
//! satisfied is [`EstimatorError::OutOfMemory`] (like numpy's `MemoryError`), never an abort.

use crate::error::{EstimatorError, Result};
use ndarray::Array2;

/// A `rows x cols` array of `T::default()`, or [`EstimatorError::OutOfMemory`] naming `what`,
/// the shape and the bytes when the count overflows or the memory cannot be reserved.
pub(crate) fn try_zeros<T: Clone + Default>(rows: usize, cols: usize, what: &'static str) -> Result<Array2<T>> {
    let size = std::mem::size_of::<T>() as u128;
    let oom = || EstimatorError::OutOfMemory {
        what,
        shape: vec![rows, cols],
        bytes: (rows as u128).saturating_mul(cols as u128).saturating_mul(size),
    };
    let len = rows.checked_mul(cols).filter(|&n| (n as u128) * size <= isize::MAX as u128).ok_or_else(oom)?;
    let mut data = Vec::new();
    data.try_reserve_exact(len).map_err(|_| oom())?;
    data.resize(len, T::default());
    // `len` is `rows * cols`, checked above.
    Ok(Array2::from_shape_vec((rows, cols), data).unwrap_or_else(|_| unreachable!("rows * cols elements")))
}
