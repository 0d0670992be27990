//! Metrics (scikit-learn's `sklearn.metrics`): every pass over the n samples is a kernel, so
//! metrics run on the device the predictions live on. Classification scores finish on the host
//! over the (few) labels; `roc_auc_score` sorts on the host.

mod classification;
mod labels;
mod pairwise;
mod probabilistic;
mod regression;

pub use classification::{confusion_matrix, f1_score, precision_score, recall_score, Average};
pub use pairwise::{pairwise_distances, Metric};
pub use probabilistic::{log_loss, log_loss_binary, roc_auc_score};
pub use regression::{mean_absolute_error, mean_squared_error};

use crate::data::{check_len, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;

#[kernel(crate = kiln_runtime)]
fn count_equal(a: Array1<i64>, b: Array1<i64>) -> i64 {
    select(a == b, 1, 0).sum()
}

/// Residual and total sums of squares.
#[kernel(crate = kiln_runtime)]
fn r2_sums<F: Float>(y: Array1<F>, p: Array1<F>) -> (F, F) {
    let mean = y.mean();
    ((&y - &p).powi(2).sum(), (&y - mean).powi(2).sum())
}

/// The fraction of samples whose predicted label equals the true one.
///
/// # Errors
/// Lengths differ, or no samples.
pub fn accuracy_score<A: Vector<i64>, B: Vector<i64>>(y_true: &A, y_pred: &B) -> Result<f64> {
    let n = y_true.length()?;
    check_len("y_pred", y_pred.length()?, n)?;
    if n == 0 {
        return Err(EstimatorError::Shape("accuracy_score of zero samples".into()));
    }
    let hits = count_equal::tensors(y_true.arg(), y_pred.arg())?.item()?;
    Ok(hits as f64 / n as f64)
}

/// The coefficient of determination R² (1 is perfect; scikit-learn's conventions for a constant
/// `y_true`: 1.0 when the prediction is perfect, else 0.0).
///
/// # Errors
/// Lengths differ, or fewer than two samples.
pub fn r2_score<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    let n = y_true.length()?;
    check_len("y_pred", y_pred.length()?, n)?;
    if n < 2 {
        return Err(EstimatorError::Shape("R^2 score is not well-defined with less than two samples".into()));
    }
    let (ss_res, ss_tot) = r2_sums::tensors::<F>(y_true.arg(), y_pred.arg())?;
    let (ss_res, ss_tot) = (ss_res.item()?.to_f64(), ss_tot.item()?.to_f64());
    if ss_tot == 0.0 {
        return Ok(if ss_res == 0.0 { 1.0 } else { 0.0 });
    }
    Ok(1.0 - ss_res / ss_tot)
}
