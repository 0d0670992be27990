//! Regression errors: mean squared and mean absolute error, one kernel for both.

use crate::data::{check_len, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;

/// The mean squared and the mean absolute residual.
#[kernel(crate = kiln_runtime)]
fn residual_means<F: Float>(y: Array1<F>, p: Array1<F>) -> (F, F) {
    let r = &y - &p;
    (r.powi(2).mean(), r.abs().mean())
}

/// `(mse, mae)` of two target vectors of equal, non-zero length.
fn means<F: Real, A: Vector<F>, B: Vector<F>>(metric: &str, y_true: &A, y_pred: &B) -> Result<(f64, f64)> {
    let n = y_true.length()?;
    check_len("y_pred", y_pred.length()?, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape(format!("{metric} of zero samples")));
    }
    let (mse, mae) = residual_means::tensors::<F>(y_true.arg(), y_pred.arg())?;
    Ok((mse.item()?.to_f64(), mae.item()?.to_f64()))
}

/// The mean of the squared residuals (`mean_squared_error`).
///
/// # Errors
/// Lengths differ, or no samples.
pub fn mean_squared_error<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    Ok(means("mean_squared_error", y_true, y_pred)?.0)
}

/// The mean of the absolute residuals (`mean_absolute_error`).
///
/// # Errors
/// Lengths differ, or no samples.
pub fn mean_absolute_error<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    Ok(means("mean_absolute_error", y_true, y_pred)?.1)
}
