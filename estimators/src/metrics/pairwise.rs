//! Distances between the rows of two matrices (`pairwise_distances`): one kernel per metric;
//! and the pairwise kernels (`rbf_kernel`, ..., `pairwise_kernels`), the kernels Nystroem
//! approximates (`kernel_approximation/kernels.rs`, one definition for both) plus the chi²
//! kernels.
//!
//! Euclidean distances are summed directly over the differences (scikit-learn expands
//! `|x|^2 - 2 x.y + |y|^2`, which loses digits to cancellation; the direct sum is the more
//! accurate of the two and agrees with it within its tolerance). Cosine distances follow
//! scikit-learn: rows normalized (zero rows left as they are), `1 - similarity` clipped to
//! `[0, 2]`, and an exact 0 on the diagonal of a matrix against itself.

use crate::data::{check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::kernel_approximation::kernels::{chi2, smallest, Resolved};
use crate::kernel_approximation::Kernel;
use kiln_macros::kernel;

/// `sqrt(sum_l (x[i, l] - y[j, l])^2)`.
#[kernel(crate = kiln_runtime)]
fn euclidean<F: Float>(x: Array2<F>, y: Array2<F>) -> Array2<F> {
    let (n, d) = x.dim();
    let (m, _) = y.dim();
    Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| (x[[i, l]] - y[[j, l]]).powi(2)).sqrt())
}

/// `sum_l |x[i, l] - y[j, l]|`.
#[kernel(crate = kiln_runtime)]
fn manhattan<F: Float>(x: Array2<F>, y: Array2<F>) -> Array2<F> {
    let (n, d) = x.dim();
    let (m, _) = y.dim();
    Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| (x[[i, l]] - y[[j, l]]).abs()))
}

/// `1 - cos(x_i, y_j)` clipped to `[0, 2]`; 0 on the diagonal when `same > 0` (X against itself).
#[kernel(crate = kiln_runtime)]
fn cosine<F: Float>(x: Array2<F>, y: Array2<F>, tiny: F, same: i64) -> Array2<F> {
    let (n, d) = x.dim();
    let (m, _) = y.dim();
    let nx = x.powi(2).sum_axis(Axis(1)).sqrt();
    let ny = y.powi(2).sum_axis(Axis(1)).sqrt();
    let xn = &x / select(nx < tiny, 1.0, nx).insert_axis(Axis(1));
    let yn = &y / select(ny < tiny, 1.0, ny).insert_axis(Axis(1));
    Array2::from_shape_fn((n, m), |(i, j)| {
        if same > 0 && i == j {
            0.0
        } else {
            (1.0 - sum(0..d, |l| xn[[i, l]] * yn[[j, l]])).clamp(0.0, 2.0)
        }
    })
}

/// A distance between rows (scikit-learn's `metric` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `"euclidean"`: the L2 distance.
    Euclidean,
    /// `"cosine"`: one minus the cosine similarity.
    Cosine,
    /// `"manhattan"` (`"cityblock"`, `"l1"`): the L1 distance.
    Manhattan,
}

/// The `n_x x n_y` matrix of distances between the rows of `x` and those of `y` (`x` against
/// itself when `y` is `None`), on the inputs' device (ndarray in, ndarray out; tensors in,
/// tensor out).
///
/// # Errors
/// Empty or non-finite inputs; different feature counts; inputs on different devices.
pub fn pairwise_distances<F: Real, X: Matrix<F>>(x: &X, y: Option<&X>, metric: Metric) -> Result<Mat<X::Storage, F>> {
    let same = y.is_none();
    let y = check_xy("pairwise_distances", x, y)?;
    let out = match metric {
        Metric::Euclidean => euclidean::tensors(x.arg(), y.arg())?,
        Metric::Manhattan => manhattan::tensors(x.arg(), y.arg())?,
        Metric::Cosine => {
            let tiny = crate::preprocessing::zero_scale_threshold::<F>();
            cosine::tensors(x.arg(), y.arg(), tiny, i64::from(same))?
        }
    };
    X::Storage::mat(out)
}

/// Checks `x` and `y` (finite, non-empty, as many features) and returns `y`, or `x` when `y`
/// is `None`.
fn check_xy<'a, F: Real, X: Matrix<F>>(what: &'static str, x: &'a X, y: Option<&'a X>) -> Result<&'a X> {
    let (_, dx) = check_x(what, x, 1)?;
    match y {
        Some(y) => {
            let (_, dy) = check_x(what, y, 1)?;
            if dx != dy {
                return Err(EstimatorError::Shape(format!(
                    "Incompatible dimension for X and Y matrices: X.shape[1] == {dx} while Y.shape[1] == {dy}"
                )));
            }
            Ok(y)
        }
        None => Ok(x),
    }
}

/// A kernel between rows (scikit-learn's `pairwise_kernels` metric names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairwiseKernel {
    /// `"linear"`: `<x, y>`.
    Linear,
    /// `"poly"` / `"polynomial"`: `(gamma <x, y> + coef0) ^ degree`.
    Polynomial,
    /// `"sigmoid"`: `tanh(gamma <x, y> + coef0)`.
    Sigmoid,
    /// `"rbf"`: `exp(-gamma |x - y|^2)`.
    Rbf,
    /// `"laplacian"`: `exp(-gamma |x - y|_1)`.
    Laplacian,
    /// `"cosine"`: `<x, y> / (|x| |y|)`.
    Cosine,
    /// `"chi2"`: `exp(-gamma sum (x - y)^2 / (x + y))`.
    Chi2,
    /// `"additive_chi2"`: `-sum (x - y)^2 / (x + y)`.
    AdditiveChi2,
}

/// The parameters of [`pairwise_kernels`]; `None` takes scikit-learn's default: `gamma`
/// `1 / n_features` (1 for chi2), `degree` 3, `coef0` 1. Parameters a kernel does not take are
/// ignored (scikit-learn's `filter_params=True`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct KernelParams {
    /// The scale of rbf, laplacian, poly, sigmoid and chi2.
    pub gamma: Option<f64>,
    /// The degree of poly.
    pub degree: Option<f64>,
    /// The offset of poly and sigmoid.
    pub coef0: Option<f64>,
}

/// The kernel `metric` between the rows of `x` and those of `y` (`x` against itself when
/// `y` is `None`), `n_x x n_y`, on the inputs' device (`pairwise_kernels`).
///
/// # Errors
/// Empty or non-finite inputs; different feature counts; a negative `gamma`, a `degree` below
/// 1 or NaN parameters (chi2: `gamma` must be positive); negative values in X or Y for the chi²
/// kernels ("X contains negative values."); inputs on different devices.
pub fn pairwise_kernels<F: Real, X: Matrix<F>>(
    x: &X,
    y: Option<&X>,
    metric: PairwiseKernel,
    params: KernelParams,
) -> Result<Mat<X::Storage, F>> {
    let name = "pairwise_kernels";
    let same = y.is_none();
    let y = check_xy(name, x, y)?;
    let (_, d) = x.dims()?;
    let chi = matches!(metric, PairwiseKernel::Chi2 | PairwiseKernel::AdditiveChi2);
    if let Some(g) = params.gamma {
        let bad = if metric == PairwiseKernel::Chi2 { g.is_nan() || g <= 0.0 } else { g.is_nan() || g < 0.0 };
        if bad {
            let range = if metric == PairwiseKernel::Chi2 { "(0.0, inf)" } else { "[0.0, inf)" };
            return Err(EstimatorError::param(name, "gamma", format!("a float in the range {range} or None"), g));
        }
    }
    if let Some(c) = params.coef0.filter(|c| !c.is_finite()) {
        return Err(EstimatorError::param(name, "coef0", "a float in the range (-inf, inf)", c));
    }
    if let Some(g) = params.degree.filter(|g| g.is_nan() || *g < 1.0) {
        return Err(EstimatorError::param(name, "degree", "a float in the range [1.0, inf)", g));
    }
    let out = if chi {
        for (what, m) in [("X", x), ("Y", y)] {
            if (what == "X" || !same) && smallest::tensors::<F>(m.arg())?.item()?.to_f64() < 0.0 {
                return Err(EstimatorError::InvalidTarget(format!("{what} contains negative values.")));
            }
        }
        let gamma = F::from_f64(params.gamma.unwrap_or(1.0));
        chi2::tensors::<F>(x.arg(), y.arg(), gamma, i64::from(metric == PairwiseKernel::Chi2))?
    } else {
        let kernel = match metric {
            PairwiseKernel::Linear => Kernel::Linear,
            PairwiseKernel::Polynomial => Kernel::Poly,
            PairwiseKernel::Sigmoid => Kernel::Sigmoid,
            PairwiseKernel::Rbf => Kernel::Rbf,
            PairwiseKernel::Laplacian => Kernel::Laplacian,
            _ => Kernel::Cosine,
        };
        let resolved = Resolved {
            kernel,
            gamma: params.gamma.unwrap_or(1.0 / d as f64),
            coef0: params.coef0.unwrap_or(1.0),
            degree: params.degree.unwrap_or(3.0),
        };
        resolved.between(x, y.arg())?
    };
    X::Storage::mat(out)
}

/// `<x, y>` for every pair of rows (`linear_kernel`).
///
/// # Errors
/// As [`pairwise_kernels`].
pub fn linear_kernel<F: Real, X: Matrix<F>>(x: &X, y: Option<&X>) -> Result<Mat<X::Storage, F>> {
    pairwise_kernels(x, y, PairwiseKernel::Linear, KernelParams::default())
}

/// `(gamma <x, y> + coef0) ^ degree` (`polynomial_kernel`; `gamma` `None` is `1 / n_features`).
///
/// # Errors
/// As [`pairwise_kernels`].
pub fn polynomial_kernel<F: Real, X: Matrix<F>>(
    x: &X,
    y: Option<&X>,
    degree: f64,
    gamma: Option<f64>,
    coef0: f64,
) -> Result<Mat<X::Storage, F>> {
    pairwise_kernels(x, y, PairwiseKernel::Polynomial, KernelParams { gamma, degree: Some(degree), coef0: Some(coef0) })
}

/// `tanh(gamma <x, y> + coef0)` (`sigmoid_kernel`; `gamma` `None` is `1 / n_features`).
///
/// # Errors
/// As [`pairwise_kernels`].
pub fn sigmoid_kernel<F: Real, X: Matrix<F>>(
    x: &X,
    y: Option<&X>,
    gamma: Option<f64>,
    coef0: f64,
) -> Result<Mat<X::Storage, F>> {
    pairwise_kernels(x, y, PairwiseKernel::Sigmoid, KernelParams { gamma, coef0: Some(coef0), degree: None })
}

/// `exp(-gamma |x - y|^2)` (`rbf_kernel`; `gamma` `None` is `1 / n_features`).
///
/// # Errors
/// As [`pairwise_kernels`].
pub fn rbf_kernel<F: Real, X: Matrix<F>>(x: &X, y: Option<&X>, gamma: Option<f64>) -> Result<Mat<X::Storage, F>> {
    pairwise_kernels(x, y, PairwiseKernel::Rbf, KernelParams { gamma, ..KernelParams::default() })
}

/// `exp(-gamma |x - y|_1)` (`laplacian_kernel`; `gamma` `None` is `1 / n_features`).
///
/// # Errors
/// As [`pairwise_kernels`].
pub fn laplacian_kernel<F: Real, X: Matrix<F>>(x: &X, y: Option<&X>, gamma: Option<f64>) -> Result<Mat<X::Storage, F>> {
    pairwise_kernels(x, y, PairwiseKernel::Laplacian, KernelParams { gamma, ..KernelParams::default() })
}

/// `<x, y> / (|x| |y|)`, zero rows left unscaled (`cosine_similarity`).
///
/// # Errors
/// As [`pairwise_kernels`].
pub fn cosine_similarity<F: Real, X: Matrix<F>>(x: &X, y: Option<&X>) -> Result<Mat<X::Storage, F>> {
    pairwise_kernels(x, y, PairwiseKernel::Cosine, KernelParams::default())
}

/// `-sum (x - y)^2 / (x + y)` over the features where `x + y` is not 0 (`additive_chi2_kernel`).
///
/// # Errors
/// As [`pairwise_kernels`]; negative values in X or Y.
pub fn additive_chi2_kernel<F: Real, X: Matrix<F>>(x: &X, y: Option<&X>) -> Result<Mat<X::Storage, F>> {
    pairwise_kernels(x, y, PairwiseKernel::AdditiveChi2, KernelParams::default())
}

/// `exp(-gamma sum (x - y)^2 / (x + y))` (`chi2_kernel`, `gamma` > 0, scikit-learn's default 1).
///
/// # Errors
/// As [`additive_chi2_kernel`]; `gamma` not positive.
pub fn chi2_kernel<F: Real, X: Matrix<F>>(x: &X, y: Option<&X>, gamma: f64) -> Result<Mat<X::Storage, F>> {
    pairwise_kernels(x, y, PairwiseKernel::Chi2, KernelParams { gamma: Some(gamma), ..KernelParams::default() })
}
