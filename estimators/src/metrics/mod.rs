//! Metrics (scikit-learn's `sklearn.metrics`): every pass over the n samples is a kernel, so
//! metrics run on the device the predictions live on. Classification scores finish on the host
//! over the (few) labels; the ranking curves (`roc_curve`, `precision_recall_curve`,
//! `average_precision_score`, `roc_auc_score`) sort on the host (`ranking.rs` says why).
//! Pairwise kernels and the clustering metrics are kernels over the rows.
//!
//! Where scikit-learn takes `sample_weight`, the weighted form is a second function with the
//! suffix `_weighted` (like the estimators' `fit_weighted`).

mod classification;
mod cluster;
mod labels;
mod pairwise;
mod probabilistic;
mod ranking;
mod regression;

pub use classification::{
    balanced_accuracy_score, balanced_accuracy_score_weighted, confusion_matrix, f1_score, f1_score_weighted,
    fbeta_score, fbeta_score_weighted, jaccard_score, matthews_corrcoef, matthews_corrcoef_weighted,
    precision_recall_fscore_support, precision_score, precision_score_weighted, recall_score, recall_score_weighted,
    Average, PerLabel,
};
pub use cluster::{calinski_harabasz_score, davies_bouldin_score, silhouette_samples, silhouette_score};
pub use pairwise::{
    additive_chi2_kernel, chi2_kernel, cosine_similarity, laplacian_kernel, linear_kernel, pairwise_distances,
    pairwise_kernels, polynomial_kernel, rbf_kernel, sigmoid_kernel, KernelParams, Metric, PairwiseKernel,
};
pub use probabilistic::{
    brier_score_loss, brier_score_loss_weighted, log_loss, log_loss_binary, roc_auc_score, roc_auc_score_multiclass,
    top_k_accuracy_score, MultiClass,
};
pub use ranking::{
    average_precision_score, average_precision_score_weighted, precision_recall_curve, precision_recall_curve_weighted,
    roc_auc_score_weighted, roc_curve, roc_curve_weighted, HostWeights,
};
pub use regression::{
    d2_absolute_error_score, d2_absolute_error_score_weighted, d2_pinball_score, d2_pinball_score_weighted,
    d2_tweedie_score, d2_tweedie_score_weighted, explained_variance_score, explained_variance_score_weighted,
    max_error, mean_absolute_error, mean_absolute_error_weighted, mean_absolute_percentage_error, mean_gamma_deviance,
    mean_poisson_deviance, mean_squared_error, mean_squared_error_weighted, mean_squared_log_error,
    mean_tweedie_deviance, median_absolute_error, r2_score_weighted, root_mean_squared_log_error,
};

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
