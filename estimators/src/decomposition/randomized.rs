//! PCA's randomized solver (Halko, Martinsson and Tropp, as scikit-learn's `randomized_svd`):
//! power iterations on `l = n_components + n_oversamples` random directions.
//!
//! The products with the centred X (n x d) are kernels, so the n-sized thin matrices never
//! leave the device. They are orthonormalised without a QR of the n x l matrix: the l x l Gram
//! matrix `Y^T Y` (a kernel) is eigendecomposed on the host and `Y` is multiplied by
//! `V diag(1/sqrt(lambda))` (a kernel), dropping directions of negligible variance, so
//! rank-deficient X is fine. Doing it twice restores the orthogonality a single Gram pass loses
//! (the idea of CholeskyQR2).

use super::linalg::{eigh_descending, svd_flip_rows, svd_right};
use super::pca::Spectrum;
use crate::data::{Mat, Matrix, Storage, Vect};
use crate::datasets::{Real, Xoshiro256};
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::Device;
use ndarray::{Array1, Array2, Ix1, Ix2};

/// Per-feature mean and sum of squared deviations (for the total variance).
#[kernel(crate = kiln_runtime)]
fn mean_and_squares<F: Float>(x: Array2<F>) -> (Array1<F>, Array1<F>) {
    let mean = x.mean_axis(Axis(0));
    let ss = (&x - &mean).powi(2).sum_axis(Axis(0));
    (mean, ss)
}

/// `(x - mean) @ m`: n x l.
#[kernel(crate = kiln_runtime)]
fn centred_dot<F: Float>(x: Array2<F>, mean: Array1<F>, m: Array2<F>) -> Array2<F> {
    (&x - &mean).dot(&m)
}

/// `(x - mean)^T @ q`: d x l.
#[kernel(crate = kiln_runtime)]
fn centred_tdot<F: Float>(x: Array2<F>, mean: Array1<F>, q: Array2<F>) -> Array2<F> {
    (&x - &mean).t().dot(&q)
}

/// `y^T @ y`: the l x l Gram matrix.
#[kernel(crate = kiln_runtime)]
fn gram<F: Float>(y: Array2<F>) -> Array2<F> {
    y.t().dot(&y)
}

/// `y @ w`.
#[kernel(crate = kiln_runtime)]
fn matmul<F: Float>(y: Array2<F>, w: Array2<F>) -> Array2<F> {
    y.dot(&w)
}

/// The randomized solver: the mean (kept like the model's attributes) and the spectrum on the
/// host.
pub(super) fn randomized_spectrum<F: Real, X: Matrix<F>>(
    x: &X,
    n: usize,
    d: usize,
    k: usize,
    n_oversamples: usize,
    n_iter: usize,
    seed: u64,
) -> Result<(Vect<X::Storage, F>, Spectrum)> {
    let device = x.device();
    let (mean, ss) = mean_and_squares::tensors::<F>(x.arg())?;
    let total_variance = ss.to_array::<Ix1>()?.iter().map(|v| v.to_f64()).sum::<f64>() / (n - 1) as f64;
    let mean = X::Storage::vec(mean)?;
    // X_c @ m and X_c^T @ m, kept where X lives (host arrays for host input).
    let dot = |m: &Mat<X::Storage, F>| -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(centred_dot::tensors::<F>(x.arg(), X::Storage::vec_arg(&mean), X::Storage::mat_arg(m))?)
    };
    let tdot = |m: &Mat<X::Storage, F>| -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(centred_tdot::tensors::<F>(x.arg(), X::Storage::vec_arg(&mean), X::Storage::mat_arg(m))?)
    };
    let orth = |y: &Mat<X::Storage, F>| -> Result<Mat<X::Storage, F>> {
        orthonormalize::<F, X::Storage>(&orthonormalize::<F, X::Storage>(y, device)?, device)
    };

    let mut rng = Xoshiro256::new(seed);
    // X_c's range has at most min(n, d) dimensions: more random directions than that span
    // nothing more (and a huge `n_oversamples` would overflow or exhaust memory).
    let l = k.saturating_add(n_oversamples).min(n.min(d));
    let omega = Array2::from_shape_fn((d, l), |_| F::from_f64(rng.normal()));
    let mut q = orth(&dot(&X::Storage::mat_from_host(omega, device)?)?)?;
    for _ in 0..n_iter {
        let z = orth(&tdot(&q)?)?;
        q = orth(&dot(&z)?)?;
    }
    // B = Q^T X_c (r x d), small: its SVD gives the components.
    let b = X::Storage::mat_to_host(&tdot(&q)?)?.mapv(|v| v.to_f64()).reversed_axes();
    if b.nrows() < k {
        return Err(EstimatorError::Linalg(format!(
            "the randomized range finder found {} directions of non-negligible variance, fewer than n_components={k}",
            b.nrows()
        )));
    }
    let (s, mut vt) = svd_right(&b)?;
    svd_flip_rows(&mut vt);
    let explained_variance = s.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..k)).mapv(|v| v * v / (n - 1) as f64);
    let kept: f64 = explained_variance.sum();
    let noise_variance = if k < n.min(d) { ((total_variance - kept) / (n.min(d) - k) as f64).max(0.0) } else { 0.0 };
    let spectrum = Spectrum {
        components: vt.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..k)).to_owned(),
        explained_variance,
        total_variance,
        noise_variance,
    };
    Ok((mean, spectrum))
}

/// An orthonormal basis of the columns of `y` (n x l -> n x r, r <= l): `y V diag(1/sqrt(lambda))`
/// over the eigenpairs of `y^T y` whose variance is not negligible.
fn orthonormalize<F: Real, S: Storage>(y: &S::Mat<F>, device: Device) -> Result<S::Mat<F>> {
    let g = gram::tensors::<F>(S::mat_arg(y))?.to_array::<Ix2>()?.mapv(|v| v.to_f64());
    let (values, vectors) = eigh_descending(&g)?;
    // Below this the direction is rounding noise of the float type (squared singular values).
    let eps = if std::mem::size_of::<F>() == 4 { f64::from(f32::EPSILON) } else { f64::EPSILON };
    let top = values.first().copied().unwrap_or(0.0);
    let r = values.iter().take_while(|&&v| v > top * eps * 100.0 && v > 0.0).count();
    let scale: Array1<f64> = values.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..r)).mapv(|v| 1.0 / v.sqrt());
    let w = Array2::from_shape_fn((vectors.nrows(), r), |(i, j)| F::from_f64(vectors[[i, j]] * scale[j]));
    let w = S::mat_from_host(w, device)?;
    S::mat(matmul::tensors::<F>(S::mat_arg(y), S::mat_arg(&w))?)
}
