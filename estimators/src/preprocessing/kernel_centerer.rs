//! `KernelCenterer`: center a kernel matrix as if the samples behind it had been centered in
//! the kernel's feature space (scikit-learn's `KernelCenterer`).
//!
//! Fitting is one kernel over the square training kernel `K` (its column means `K_fit_rows_`
//! and their mean `K_fit_all_`); transform is one kernel over a test kernel (n_test x n_fit):
//! `K - K_fit_rows_ - row means + K_fit_all_`, in scikit-learn's operation order.

use crate::data::{check_finite, check_fitted_x, check_x_shape, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use std::marker::PhantomData;

/// The column means of `k` (sum over rows divided by `n`) and their mean.
#[kernel(crate = kiln_runtime)]
fn kernel_fit_means<F: Float>(k: Array2<F>, n: F) -> (Array1<F>, F) {
    let rows = k.sum_axis(Axis(0)) / n;
    let all = rows.sum() / n;
    (rows, all)
}

/// `k - rows - (row sums of k / n_fit) + all`.
#[kernel(crate = kiln_runtime)]
fn center_kernel<F: Float>(k: Array2<F>, rows: Array1<F>, all: F, n_fit: F) -> Array2<F> {
    let cols = k.sum_axis(Axis(1)) / n_fit;
    (k - rows) - cols.insert_axis(Axis(1)) + all
}

/// Hyper-parameters of [`KernelCenterer`] (it has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KernelCentererParams;

/// A fitted kernel centerer: the training kernel's column means (`K_fit_rows_`, kept where it
/// was fitted) and their mean (`K_fit_all_`).
#[derive(Debug, Clone)]
pub struct KernelCenterer<F: Real, S: Storage> {
    k_fit_rows: S::Vec<F>,
    k_fit_all: F,
    n_fit: usize,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] KernelCenterer<F, @> { k_fit_rows: vec[n], k_fit_all, n_fit: size[n], _f });

impl KernelCenterer<f64, crate::data::Host> {
    /// The (empty) hyper-parameters.
    pub fn params() -> KernelCentererParams {
        KernelCentererParams
    }
}

impl KernelCentererParams {
    /// Fit on a square training kernel matrix `k` (n_samples x n_samples).
    ///
    /// # Errors
    /// An empty, non-square or non-finite `k`; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, k: &X) -> Result<KernelCenterer<F, X::Storage>> {
        let (n, d) = check_x_shape("KernelCenterer", k, 1)?;
        check_finite(k)?;
        if n != d {
            return Err(EstimatorError::Shape(format!(
                "kernel matrix must be a square matrix. input is a {n}x{d} matrix."
            )));
        }
        let (rows, all) = kernel_fit_means::tensors::<F>(k.arg(), F::from_f64(n as f64))?;
        Ok(KernelCenterer { k_fit_rows: X::Storage::vec(rows)?, k_fit_all: all.item()?, n_fit: n, _f: PhantomData })
    }

    /// Fit, then center the same kernel.
    ///
    /// # Errors
    /// As [`KernelCentererParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, k: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked K (shape and finiteness): no second pass over it.
        self.fit(k)?.transform_unchecked(k)
    }
}

impl<F: Real, S: Storage> KernelCenterer<F, S> {
    /// The column means of the training kernel (`K_fit_rows_`).
    pub fn k_fit_rows(&self) -> &S::Vec<F> {
        &self.k_fit_rows
    }

    /// The mean of [`KernelCenterer::k_fit_rows`] (`K_fit_all_`).
    pub fn k_fit_all(&self) -> F {
        self.k_fit_all
    }

    /// The number of columns of the training kernel (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_fit
    }

    /// Center a kernel `k` between test samples (rows) and the training samples (columns).
    ///
    /// # Errors
    /// `k` with another number of columns than the training kernel; NaN or infinity in `k`;
    /// `k` on another device than the model.
    pub fn transform<X: Matrix<F>>(&self, k: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("KernelCenterer", self.n_fit, k)?;
        self.transform_unchecked(k)
    }

    /// [`KernelCenterer::transform`] of a `k` already checked.
    fn transform_unchecked<X: Matrix<F>>(&self, k: &X) -> Result<Mat<X::Storage, F>> {
        let z = center_kernel::tensors::<F>(
            k.arg(),
            S::vec_arg(&self.k_fit_rows),
            self.k_fit_all,
            F::from_f64(self.n_fit as f64),
        )?;
        X::Storage::mat(z)
    }
}

crate::traits::host_transformer!(KernelCentererParams => KernelCenterer<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(KernelCentererParams, "KernelCenterer" {});
