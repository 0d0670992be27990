//! Regression metrics: mean squared and mean absolute error (one kernel for both), explained
//! variance, the D² scores (pinball / absolute error, Tweedie), and their `sample_weight`
//! forms. Every pass over the samples is a kernel; d2_pinball's quantile sorts on the host.

use crate::data::{check_len, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::{Tensor, TensorArg};
use ndarray::{Array1, Ix1};

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

/// Weighted means of the residual terms: squared and absolute residuals, the squared deviation
/// of the residuals from their weighted mean (explained variance's numerator) and of `y` from
/// its weighted mean (its denominator).
#[kernel(crate = kiln_runtime)]
fn weighted_residual_means<F: Float>(y: Array1<F>, p: Array1<F>, w: Array1<F>) -> (F, F, F, F) {
    let sw = w.sum();
    let r = &y - &p;
    let r_mean = (&r * &w).sum() / sw;
    let y_mean = (&y * &w).sum() / sw;
    (
        (r.powi(2) * &w).sum() / sw,
        (r.abs() * &w).sum() / sw,
        ((&r - r_mean).powi(2) * &w).sum() / sw,
        ((&y - y_mean).powi(2) * &w).sum() / sw,
    )
}

/// The weighted mean pinball loss of `p` and of the constant `q` (`alpha` the quantile level).
#[kernel(crate = kiln_runtime)]
fn pinball_means<F: Float>(y: Array1<F>, p: Array1<F>, w: Array1<F>, q: F, alpha: F) -> (F, F) {
    let sw = w.sum();
    let d = &y - &p;
    let loss = select(d >= 0.0, d * alpha, d * (alpha - 1.0));
    let dq = &y - q;
    let loss_q = select(dq >= 0.0, dq * alpha, dq * (alpha - 1.0));
    ((loss * &w).sum() / sw, (loss_q * &w).sum() / sw)
}

/// The smallest `y`, the smallest `p`, and the weighted mean of `y`.
#[kernel(crate = kiln_runtime)]
fn tweedie_bounds<F: Float>(y: Array1<F>, p: Array1<F>, w: Array1<F>) -> (F, F, F) {
    (y.min(), p.min(), (&y * &w).sum() / w.sum())
}

/// The weighted mean Tweedie deviance of `p` and of the constant `m` for `power`
/// (0 normal, 1 Poisson, 2 gamma, otherwise the general form).
#[kernel(crate = kiln_runtime)]
fn tweedie_means<F: Float>(y: Array1<F>, p: Array1<F>, w: Array1<F>, m: F, power: F) -> (F, F) {
    let sw = w.sum();
    let n = y.len();
    let dev = Array1::from_shape_fn(n, |i| {
        let t = y[[i]];
        let u = p[[i]];
        let general = 2.0
            * (t.max(0.0).powf(2.0 - power) / ((1.0 - power) * (2.0 - power))
                - t * u.powf(1.0 - power) / (1.0 - power)
                + u.powf(2.0 - power) / (2.0 - power));
        // t ln(t / u) - t + u as t ln(1 + d) - (t - u), and ln(u / t) + t / u - 1 as
        // d - ln(1 + d), with d = (t - u) / u: no cancellation of terms near 1 when u is near t.
        let d = (t - u) / u;
        let poisson = 2.0 * (select(t == 0.0, 0.0, t * d.ln_1p()) - (t - u));
        let gamma = 2.0 * (d - d.ln_1p());
        select(power == 0.0, (t - u).powi(2), select(power == 1.0, poisson, select(power == 2.0, gamma, general)))
    });
    let dev_m = Array1::from_shape_fn(n, |i| {
        let t = y[[i]];
        let general = 2.0
            * (t.max(0.0).powf(2.0 - power) / ((1.0 - power) * (2.0 - power))
                - t * m.powf(1.0 - power) / (1.0 - power)
                + m.powf(2.0 - power) / (2.0 - power));
        let d = (t - m) / m;
        let poisson = 2.0 * (select(t == 0.0, 0.0, t * d.ln_1p()) - (t - m));
        let gamma = 2.0 * (d - d.ln_1p());
        select(power == 0.0, (t - m).powi(2), select(power == 1.0, poisson, select(power == 2.0, gamma, general)))
    });
    ((dev * &w).sum() / sw, (dev_m * &w).sum() / sw)
}

/// Unit weights beside `like` (on its device).
fn unit_weights<F: Real, V: Vector<F>>(like: &V) -> Result<Tensor<F>> {
    Ok(Tensor::from_owned(Array1::from_elem(like.length()?, F::from_f64(1.0)), like.device())?)
}

/// Checks the weights given (length, finite, not negative, not summing to 0); without weights,
/// unit weights beside `y`, which [`warg`] then passes.
fn weights_of<F: Real, V: Vector<F>, W: Vector<F>>(y: &V, w: Option<&W>) -> Result<Option<Tensor<F>>> {
    match w {
        None => Ok(Some(unit_weights(y)?)),
        Some(w) => {
            check_len("sample_weight", w.length()?, y.length()?)?;
            let (lo, total) = weight_bounds::tensors::<F>(w.arg())?;
            let (lo, total) = (lo.item()?.to_f64(), total.item()?.to_f64());
            if !total.is_finite() || lo.is_nan() {
                return Err(EstimatorError::NonFinite { what: "sample_weight" });
            }
            if lo < 0.0 {
                return Err(EstimatorError::InvalidTarget("Negative values in sample_weight are not allowed.".into()));
            }
            if total == 0.0 {
                return Err(EstimatorError::InvalidTarget("Weights sum to zero, can't be normalized".into()));
            }
            Ok(None)
        }
    }
}

/// The weights as a kernel argument: those given, else the unit weights of [`weights_of`].
fn warg<'a, F: Real, W: Vector<F>>(given: Option<&'a W>, unit: &'a Option<Tensor<F>>) -> TensorArg<'a> {
    match (given, unit) {
        (Some(w), _) => w.arg(),
        (None, Some(t)) => kiln_runtime::tensor_arg::<F, Ix1>(t),
        (None, None) => unreachable!("weights_of returns unit weights when none are given"),
    }
}

/// The smallest weight and the sum of the weights.
#[kernel(crate = kiln_runtime)]
fn weight_bounds<F: Float>(w: Array1<F>) -> (F, F) {
    (w.min(), w.sum())
}

/// Finite inputs of equal length, at least `min` samples; the y's length.
fn check_targets<F: Real, A: Vector<F>, B: Vector<F>>(
    metric: &str,
    y_true: &A,
    y_pred: &B,
    min: usize,
) -> Result<usize> {
    let n = y_true.length()?;
    check_len("y_pred", y_pred.length()?, n)?;
    if n < min {
        return Err(EstimatorError::Shape(if min == 2 {
            format!("{metric} is not well-defined with less than two samples.")
        } else {
            format!("{metric} of zero samples")
        }));
    }
    let (sy, sp) = finite_probe::tensors::<F>(y_true.arg(), y_pred.arg())?;
    if sy.item()?.to_f64().is_nan() {
        return Err(EstimatorError::NonFinite { what: "y_true" });
    }
    if sp.item()?.to_f64().is_nan() {
        return Err(EstimatorError::NonFinite { what: "y_pred" });
    }
    Ok(n)
}

/// NaN exactly when `y` (first) or `p` (second) holds NaN or infinity.
#[kernel(crate = kiln_runtime)]
fn finite_probe<F: Float>(y: Array1<F>, p: Array1<F>) -> (F, F) {
    ((y * 0.0).sum(), (p * 0.0).sum())
}

/// scikit-learn's `force_finite` fraction: 1 for a zero numerator, 0 for a zero denominator
/// alone, `1 - num / den` otherwise.
fn explained_fraction(num: f64, den: f64) -> f64 {
    if num == 0.0 {
        1.0
    } else if den == 0.0 {
        0.0
    } else {
        1.0 - num / den
    }
}

fn weighted_means<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    metric: &str,
    y_true: &A,
    y_pred: &B,
    sample_weight: Option<&W>,
    min: usize,
) -> Result<[f64; 4]> {
    check_targets(metric, y_true, y_pred, min)?;
    let w = weights_of(y_true, sample_weight)?;
    let (a, b, c, d) = weighted_residual_means::tensors::<F>(y_true.arg(), y_pred.arg(), warg(sample_weight, &w))?;
    Ok([a.item()?.to_f64(), b.item()?.to_f64(), c.item()?.to_f64(), d.item()?.to_f64()])
}

/// The fraction of the variance of `y_true` explained by `y_pred`, the residuals' mean not
/// counted against it (`explained_variance_score`): `1 - Var(y - p) / Var(y)`; 1 for a
/// perfect prediction and 0 for an imperfect one of a constant `y_true` (scikit-learn's
/// `force_finite=True`).
///
/// # Errors
/// Lengths differ, no samples, NaN or infinity.
pub fn explained_variance_score<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    let [_, _, num, den] = weighted_means::<F, A, B, A>("explained_variance_score", y_true, y_pred, None, 1)?;
    Ok(explained_fraction(num, den))
}

/// [`explained_variance_score`] with `sample_weight`.
///
/// # Errors
/// As [`explained_variance_score`]; weights of another length, negative, not finite, or
/// summing to zero.
pub fn explained_variance_score_weighted<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
) -> Result<f64> {
    let [_, _, num, den] = weighted_means("explained_variance_score", y_true, y_pred, Some(sample_weight), 1)?;
    Ok(explained_fraction(num, den))
}

/// [`super::r2_score`] with `sample_weight`.
///
/// # Errors
/// As [`explained_variance_score_weighted`]; fewer than two samples.
pub fn r2_score_weighted<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
) -> Result<f64> {
    let [mse, _, _, var] = weighted_means("R^2 score", y_true, y_pred, Some(sample_weight), 2)?;
    Ok(explained_fraction(mse, var))
}

/// [`mean_squared_error`] with `sample_weight` (the weighted mean).
///
/// # Errors
/// As [`explained_variance_score_weighted`].
pub fn mean_squared_error_weighted<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
) -> Result<f64> {
    Ok(weighted_means("mean_squared_error", y_true, y_pred, Some(sample_weight), 1)?[0])
}

/// [`mean_absolute_error`] with `sample_weight` (the weighted mean).
///
/// # Errors
/// As [`explained_variance_score_weighted`].
pub fn mean_absolute_error_weighted<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
) -> Result<f64> {
    Ok(weighted_means("mean_absolute_error", y_true, y_pred, Some(sample_weight), 1)?[1])
}

/// The fraction of pinball loss explained, against the constant `alpha`-quantile of `y_true`
/// (`d2_pinball_score`): `1 - pinball(y, p) / pinball(y, quantile_alpha(y))`, the quantile
/// scikit-learn's weighted "averaged inverted CDF". The quantile needs `y_true` sorted: it is
/// found on the host (a copy of `y_true`); the losses are a kernel.
///
/// # Errors
/// Lengths differ; fewer than two samples ("D^2 score is not well-defined with less than two
/// samples."; scikit-learn warns and returns NaN); NaN or infinity; `alpha` outside `[0, 1]`.
pub fn d2_pinball_score<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B, alpha: f64) -> Result<f64> {
    d2_pinball::<F, A, B, A>(y_true, y_pred, None, alpha)
}

/// [`d2_pinball_score`] with `sample_weight`.
///
/// # Errors
/// As [`d2_pinball_score`]; weights of another length, negative, not finite, or summing to 0.
pub fn d2_pinball_score_weighted<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
    alpha: f64,
) -> Result<f64> {
    d2_pinball(y_true, y_pred, Some(sample_weight), alpha)
}

/// The fraction of absolute error explained, against the median of `y_true`
/// (`d2_absolute_error_score`, [`d2_pinball_score`] at `alpha = 0.5`).
///
/// # Errors
/// As [`d2_pinball_score`].
pub fn d2_absolute_error_score<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    d2_pinball::<F, A, B, A>(y_true, y_pred, None, 0.5)
}

/// [`d2_absolute_error_score`] with `sample_weight`.
///
/// # Errors
/// As [`d2_pinball_score_weighted`].
pub fn d2_absolute_error_score_weighted<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
) -> Result<f64> {
    d2_pinball(y_true, y_pred, Some(sample_weight), 0.5)
}

fn d2_pinball<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: Option<&W>,
    alpha: f64,
) -> Result<f64> {
    if !(0.0..=1.0).contains(&alpha) {
        return Err(EstimatorError::param("d2_pinball_score", "alpha", "a float in the range [0, 1]", alpha));
    }
    check_targets("D^2 score", y_true, y_pred, 2)?;
    let w = weights_of(y_true, sample_weight)?;
    let y = y_true.to_host()?.mapv(|v| v.to_f64());
    let hw = match sample_weight {
        Some(w) => w.to_host()?.mapv(|v| v.to_f64()),
        None => Array1::from_elem(y.len(), 1.0),
    };
    let eps = if std::mem::size_of::<F>() == 4 { f64::from(f32::EPSILON) } else { f64::EPSILON };
    let q = averaged_weighted_percentile(&y, &hw, alpha * 100.0, eps);
    let (num, den) = pinball_means::tensors::<F>(
        y_true.arg(),
        y_pred.arg(),
        warg(sample_weight, &w),
        F::from_f64(q),
        F::from_f64(alpha),
    )?;
    Ok(explained_fraction(num.item()?.to_f64(), den.item()?.to_f64()))
}

/// scikit-learn's `_weighted_percentile(average=True)` of one column: the weighted "averaged
/// inverted CDF" (with unit weights numpy's `averaged_inverted_cdf`).
pub(crate) fn averaged_weighted_percentile(y: &Array1<f64>, w: &Array1<f64>, rank: f64, eps: f64) -> f64 {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| y[a].total_cmp(&y[b]));
    let mut cdf = Vec::with_capacity(idx.len());
    let mut acc = 0.0;
    for &i in &idx {
        acc += w[i];
        cdf.push(acc);
    }
    let mut target = rank / 100.0 * acc;
    if target == 0.0 {
        target = f64::from_bits(1); // nextafter(0, 1)
    }
    let max_idx = idx.len() - 1;
    let at = cdf.partition_point(|&c| c < target).min(max_idx);
    if cdf[at] - target > eps {
        return y[idx[at]];
    }
    let mut next = (at + 1).min(max_idx);
    if w[idx[next]] == 0.0 {
        // The next sample with weight: the first cdf entry past this one.
        let after = cdf.partition_point(|&c| c <= cdf[at]);
        next = if after > max_idx { at } else { after };
    }
    (y[idx[at]] + y[idx[next]]) / 2.0
}

/// The fraction of Tweedie deviance explained, against the (weighted) mean of `y_true`
/// (`d2_tweedie_score`): `power` 0 is R², 1 Poisson, 2 gamma.
///
/// # Errors
/// Lengths differ; fewer than two samples; NaN or infinity; `power` in `(0, 1)`
/// ([`EstimatorError::InvalidParameter`]); targets outside the power's domain
/// ([`EstimatorError::InvalidTarget`], scikit-learn's wording).
pub fn d2_tweedie_score<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B, power: f64) -> Result<f64> {
    d2_tweedie::<F, A, B, A>(y_true, y_pred, None, power)
}

/// [`d2_tweedie_score`] with `sample_weight`.
///
/// # Errors
/// As [`d2_tweedie_score`]; weights of another length, negative, not finite, or summing to 0.
pub fn d2_tweedie_score_weighted<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: &W,
    power: f64,
) -> Result<f64> {
    d2_tweedie(y_true, y_pred, Some(sample_weight), power)
}

fn d2_tweedie<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: Option<&W>,
    power: f64,
) -> Result<f64> {
    let (num, den) = tweedie(y_true, y_pred, sample_weight, power, 2)?;
    Ok(explained_fraction(num, den))
}

/// The (weighted) mean Tweedie deviance of `y_pred` and of the constant mean of `y_true`, after
/// the power's domain checks; at least `min` samples.
fn tweedie<F: Real, A: Vector<F>, B: Vector<F>, W: Vector<F>>(
    y_true: &A,
    y_pred: &B,
    sample_weight: Option<&W>,
    power: f64,
    min: usize,
) -> Result<(f64, f64)> {
    if power.is_nan() || (power > 0.0 && power < 1.0) {
        return Err(EstimatorError::param(
            "d2_tweedie_score",
            "power",
            "a float in the range (-inf, 0.0] or [1.0, inf)",
            power,
        ));
    }
    check_targets(if min == 2 { "D^2 score" } else { "mean_tweedie_deviance" }, y_true, y_pred, min)?;
    let w = weights_of(y_true, sample_weight)?;
    let (y_min, p_min, mean) = tweedie_bounds::tensors::<F>(y_true.arg(), y_pred.arg(), warg(sample_weight, &w))?;
    let (y_min, p_min, mean) = (y_min.item()?.to_f64(), p_min.item()?.to_f64(), mean.item()?);
    let msg = format!("Mean Tweedie deviance error with power={power} can only be used on ");
    let bad = if power < 0.0 {
        (p_min <= 0.0).then_some("strictly positive y_pred.")
    } else if power == 0.0 {
        None
    } else if power < 2.0 {
        (y_min < 0.0 || p_min <= 0.0).then_some("non-negative y and strictly positive y_pred.")
    } else {
        (y_min <= 0.0 || p_min <= 0.0).then_some("strictly positive y and y_pred.")
    };
    if let Some(what) = bad {
        return Err(EstimatorError::InvalidTarget(format!("{msg}{what}")));
    }
    let (num, den) =
        tweedie_means::tensors::<F>(y_true.arg(), y_pred.arg(), warg(sample_weight, &w), mean, F::from_f64(power))?;
    Ok((num.item()?.to_f64(), den.item()?.to_f64()))
}

// ---- The remaining regression losses of scikit-learn's scorers (`neg_max_error`,
// `neg_median_absolute_error`, `neg_mean_squared_log_error`,
// `neg_mean_absolute_percentage_error`, `neg_mean_poisson_deviance`, `neg_mean_gamma_deviance`).

/// The largest absolute residual, the mean squared difference of `ln(1 + y)` and `ln(1 + p)`,
/// the mean absolute percentage error (`|y - p| / max(|y|, eps)`) and the smallest `y` and `p`
/// (the log error's domain).
#[kernel(crate = kiln_runtime)]
fn residual_extremes<F: Float>(y: Array1<F>, p: Array1<F>, eps: F) -> (F, F, F, F, F) {
    let r = (&y - &p).abs();
    let lr = (y.ln_1p() - p.ln_1p()).powi(2).mean();
    let pct = (&r / y.abs().max(eps)).mean();
    (r.max(), lr, pct, y.min(), p.min())
}

/// `[max |y - p|, mean (ln(1+y) - ln(1+p))^2, MAPE, min y, min p]` after the usual checks.
fn extremes<F: Real, A: Vector<F>, B: Vector<F>>(metric: &str, y_true: &A, y_pred: &B) -> Result<[f64; 5]> {
    check_targets(metric, y_true, y_pred, 1)?;
    let (a, b, c, d, e) = residual_extremes::tensors::<F>(y_true.arg(), y_pred.arg(), F::from_f64(f64::EPSILON))?;
    Ok([a.item()?.to_f64(), b.item()?.to_f64(), c.item()?.to_f64(), d.item()?.to_f64(), e.item()?.to_f64()])
}

/// The largest absolute residual (`max_error`).
///
/// # Errors
/// Lengths differ, no samples, NaN or infinity.
pub fn max_error<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    Ok(extremes("max_error", y_true, y_pred)?[0])
}

/// The mean of `|y - p| / max(|y|, eps)` (`mean_absolute_percentage_error`; `eps` is f64's
/// machine epsilon, as scikit-learn's): a fraction, not a percentage.
///
/// # Errors
/// Lengths differ, no samples, NaN or infinity.
pub fn mean_absolute_percentage_error<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    Ok(extremes("mean_absolute_percentage_error", y_true, y_pred)?[2])
}

/// The mean squared difference of `ln(1 + y)` and `ln(1 + p)` (`mean_squared_log_error`).
///
/// # Errors
/// Lengths differ, no samples, NaN or infinity; a value at or below -1 in either input
/// ([`EstimatorError::InvalidTarget`], scikit-learn's wording).
pub fn mean_squared_log_error<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    let [_, msle, _, y_min, p_min] = extremes("mean_squared_log_error", y_true, y_pred)?;
    if y_min <= -1.0 || p_min <= -1.0 {
        return Err(EstimatorError::InvalidTarget(
            "Mean Squared Logarithmic Error cannot be used when targets contain values less than or equal to -1."
                .into(),
        ));
    }
    Ok(msle)
}

/// The square root of [`mean_squared_log_error`] (`root_mean_squared_log_error`).
///
/// # Errors
/// As [`mean_squared_log_error`].
pub fn root_mean_squared_log_error<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    Ok(mean_squared_log_error(y_true, y_pred)?.sqrt())
}

/// The median of the absolute residuals (`median_absolute_error`; numpy's median: the mean of
/// the two middle values for an even count). The median needs the residuals sorted: they are
/// sorted on the host (a copy of both inputs), like d2_pinball's quantile.
///
/// # Errors
/// Lengths differ, no samples, NaN or infinity.
pub fn median_absolute_error<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    let n = check_targets("median_absolute_error", y_true, y_pred, 1)?;
    let (y, p) = (y_true.to_host()?, y_pred.to_host()?);
    let mut r: Vec<f64> = y.iter().zip(&p).map(|(a, b)| (a.to_f64() - b.to_f64()).abs()).collect();
    r.sort_by(f64::total_cmp);
    Ok(if n % 2 == 1 { r[n / 2] } else { (r[n / 2 - 1] + r[n / 2]) / 2.0 })
}

/// The mean Tweedie deviance of `y_pred` for `power` (`mean_tweedie_deviance`): 0 the squared
/// error, 1 Poisson, 2 gamma.
///
/// # Errors
/// As [`d2_tweedie_score`] (the same domain checks and wording), except that one sample is
/// enough.
pub fn mean_tweedie_deviance<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B, power: f64) -> Result<f64> {
    Ok(tweedie::<F, A, B, A>(y_true, y_pred, None, power, 1)?.0)
}

/// The mean Poisson deviance (`mean_poisson_deviance`: `y_true >= 0`, `y_pred > 0`).
///
/// # Errors
/// As [`mean_tweedie_deviance`].
pub fn mean_poisson_deviance<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    mean_tweedie_deviance(y_true, y_pred, 1.0)
}

/// The mean gamma deviance (`mean_gamma_deviance`: both strictly positive).
///
/// # Errors
/// As [`mean_tweedie_deviance`].
pub fn mean_gamma_deviance<F: Real, A: Vector<F>, B: Vector<F>>(y_true: &A, y_pred: &B) -> Result<f64> {
    mean_tweedie_deviance(y_true, y_pred, 2.0)
}
