//! Distances between the rows of two matrices (`pairwise_distances`): one kernel per metric.
//!
//! Euclidean distances are summed directly over the differences (scikit-learn expands
//! `|x|^2 - 2 x.y + |y|^2`, which loses digits to cancellation; the direct sum is the more
//! accurate of the two and agrees with it within its tolerance). Cosine distances follow
//! scikit-learn: rows normalized (zero rows left as they are), `1 - similarity` clipped to
//! `[0, 2]`, and an exact 0 on the diagonal of a matrix against itself.

use crate::data::{check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
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
    let (_, dx) = check_x("pairwise_distances", x, 1)?;
    let same = y.is_none();
    let y = match y {
        Some(y) => {
            let (_, dy) = check_x("pairwise_distances", y, 1)?;
            if dx != dy {
                return Err(EstimatorError::Shape(format!(
                    "incompatible dimension for X and Y matrices: X.shape[1] == {dx} while Y.shape[1] == {dy}"
                )));
            }
            y
        }
        None => x,
    };
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
