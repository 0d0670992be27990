//! `Pca`: principal component analysis (scikit-learn's `PCA`), with the covariance-eigh and
//! randomized solvers.
//!
//! Every pass over the n samples is a kernel: the mean and the Gram matrix `X^T X` for
//! covariance-eigh, the range-finding products for the randomized solver, and transform /
//! inverse_transform. The d x d (or l x l) eigendecompositions run on the host in f64 through
//! `faer`. Components follow scikit-learn 1.9's sign convention (`svd_flip` with
//! `u_based_decision=False`: the largest-magnitude entry of each component is positive).

use super::linalg::{eigh_descending, svd_flip_rows};
use super::randomized::randomized_spectrum;
use crate::data::{check_finite, check_finite_unless, check_fitted_x, check_x_shape, Mat, Matrix, Storage, Vect};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::Device;
use ndarray::{Array1, Array2, Ix1, Ix2};
use std::marker::PhantomData;

/// Per-feature mean and the uncentred Gram matrix `X^T X`; the host centres it (`X^T X - n m
/// m^T`, in f64), as scikit-learn's covariance-eigh solver does. The product is a contraction
/// over the rows: two-phase partials whose inner loop carries vectors of columns through them.
#[kernel(crate = kiln_runtime)]
fn mean_and_gram<F: Float>(x: Array2<F>) -> (Array1<F>, Array2<F>) {
    (x.mean_axis(Axis(0)), x.t().dot(&x))
}

/// `((x - mean) @ components^T) / scale` (scale is 1 without whitening).
#[kernel(crate = kiln_runtime)]
fn project<F: Float>(x: Array2<F>, mean: Array1<F>, components: Array2<F>, scale: Array1<F>) -> Array2<F> {
    (&x - &mean).dot(&components.t()) / scale
}

/// `(z * scale) @ components + mean`: the inverse of [`project`] within the kept components.
#[kernel(crate = kiln_runtime)]
fn reconstruct<F: Float>(z: Array2<F>, mean: Array1<F>, components: Array2<F>, scale: Array1<F>) -> Array2<F> {
    (&z * &scale).dot(&components) + mean
}

/// How PCA finds the principal axes (scikit-learn's `svd_solver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SvdSolver {
    /// Eigendecomposition of the d x d covariance matrix (scikit-learn's `"covariance_eigh"`):
    /// one pass over X, exact, best when n_samples >> n_features.
    CovarianceEigh,
    /// Randomized range finding (Halko et al., scikit-learn's `"randomized"`): `n_iter` power
    /// iterations on `n_components + n_oversamples` random directions drawn from `seed`.
    Randomized {
        /// Extra random directions beyond `n_components` (scikit-learn's default: 10).
        n_oversamples: usize,
        /// Power iterations (scikit-learn's `"auto"` picks 4, or 7 for very few components).
        n_iter: usize,
        /// Seed of the random directions.
        seed: u64,
    },
}

impl SvdSolver {
    /// The randomized solver with scikit-learn's defaults (10 oversamples, 4 power iterations).
    pub fn randomized(seed: u64) -> Self {
        SvdSolver::Randomized { n_oversamples: 10, n_iter: 4, seed }
    }
}

/// Hyper-parameters of [`Pca`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PcaParams {
    n_components: usize,
    whiten: bool,
    solver: SvdSolver,
}

/// A fitted PCA: the principal axes and their variances, kept where it was fitted (ndarray
/// arrays for ndarray input, tensors on the device for tensor input).
#[derive(Debug, Clone)]
pub struct Pca<F: Real, S: Storage> {
    components: S::Mat<F>,
    explained_variance: S::Vec<F>,
    explained_variance_ratio: S::Vec<F>,
    singular_values: S::Vec<F>,
    mean: S::Vec<F>,
    /// What transform divides by: `sqrt(explained_variance)` when whitening, else ones.
    scale: S::Vec<F>,
    noise_variance: f64,
    n_samples: usize,
    n_features: usize,
    params: PcaParams,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] Pca<F, @> { components: mat[k, d], explained_variance: vec[k], explained_variance_ratio: vec[k], singular_values: vec[k], mean: vec[d], scale: vec[k], noise_variance, n_samples, n_features: size[d], params, _f });

/// What a solver finds, on the host in f64: the kept components (rows, sign-flipped), their
/// variances, the total variance of X and the noise variance.
pub(super) struct Spectrum {
    pub components: Array2<f64>,
    pub explained_variance: Array1<f64>,
    pub total_variance: f64,
    pub noise_variance: f64,
}

impl Pca<f64, crate::data::Host> {
    /// Keep `n_components` principal components; no whitening, the covariance-eigh solver.
    pub fn params(n_components: usize) -> PcaParams {
        PcaParams { n_components, whiten: false, solver: SvdSolver::CovarianceEigh }
    }
}

impl PcaParams {
    /// Scale the projections to unit variance (`whiten`).
    pub fn whiten(mut self, yes: bool) -> Self {
        self.whiten = yes;
        self
    }

    /// The solver (`svd_solver`).
    pub fn svd_solver(mut self, solver: SvdSolver) -> Self {
        self.solver = solver;
        self
    }

    /// Find the principal axes of `x`.
    ///
    /// # Errors
    /// Fewer than 2 samples, non-finite X, `n_components` outside `1..=min(n_samples,
    /// n_features)`; a failed eigendecomposition; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Pca<F, X::Storage>> {
        // The covariance solver's first kernel sums every element: it checks for NaN and
        // infinity with them (`check_finite_unless`).
        let (n, d) = check_x_shape("PCA", x, 2)?;
        if !matches!(self.solver, SvdSolver::CovarianceEigh) {
            check_finite(x)?;
        }
        let k = self.n_components;
        if k == 0 || k > n.min(d) {
            return Err(EstimatorError::param(
                "PCA",
                "n_components",
                format!("between 1 and min(n_samples, n_features)={}", n.min(d)),
                k,
            ));
        }
        let (mean, spectrum) = match self.solver {
            SvdSolver::CovarianceEigh => covariance_spectrum(x, n, k)?,
            SvdSolver::Randomized { n_oversamples, n_iter, seed } => {
                randomized_spectrum(x, n, d, k, n_oversamples, n_iter, seed)?
            }
        };
        let Spectrum { components, explained_variance: ev, total_variance, noise_variance } = spectrum;
        let ratio = ev.mapv(|v| if total_variance > 0.0 { v / total_variance } else { 0.0 });
        let singular = ev.mapv(|v| (v * (n - 1) as f64).sqrt());
        // scikit-learn clips the whitening scale at the float type's epsilon.
        let eps = if std::mem::size_of::<F>() == 4 { f64::from(f32::EPSILON) } else { f64::EPSILON };
        let scale = if self.whiten { ev.mapv(|v| v.sqrt().max(eps)) } else { Array1::ones(k) };
        let device = x.device();
        let vec = |a: Array1<f64>| X::Storage::vec_from_host(a.mapv(F::from_f64), device);
        Ok(Pca {
            components: X::Storage::mat_from_host(components.mapv(F::from_f64), device)?,
            explained_variance: vec(ev)?,
            explained_variance_ratio: vec(ratio)?,
            singular_values: vec(singular)?,
            mean,
            scale: vec(scale)?,
            noise_variance,
            n_samples: n,
            n_features: d,
            params: *self,
            _f: PhantomData,
        })
    }

    /// Fit, then project the same data.
    ///
    /// # Errors
    /// As [`PcaParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked X (shape and finiteness): no second pass over it.
        self.fit(x)?.transform_unchecked(x)
    }
}

/// The covariance-eigh solver: the mean and scatter in one kernel, eigh of the d x d
/// covariance on the host.
fn covariance_spectrum<F: Real, X: Matrix<F>>(x: &X, n: usize, k: usize) -> Result<(Vect<X::Storage, F>, Spectrum)> {
    let (mean, gram) = mean_and_gram::tensors::<F>(x.arg())?;
    let m = mean.to_array::<Ix1>()?.mapv(|v| v.to_f64());
    check_finite_unless(x, m.iter().all(|v| v.is_finite()))?;
    let gram = gram.to_array::<Ix2>()?;
    let cov =
        Array2::from_shape_fn(gram.dim(), |(i, j)| (gram[[i, j]].to_f64() - n as f64 * m[i] * m[j]) / (n - 1) as f64);
    let (mut values, vectors) = eigh_descending(&cov)?;
    values.mapv_inplace(|v| v.max(0.0));
    let mut vt = vectors.t().to_owned();
    svd_flip_rows(&mut vt);
    let d = values.len();
    // scikit-learn averages the discarded eigenvalues of the covariance (all d of them).
    let noise_variance = if k < n.min(d) {
        values.slice_axis(ndarray::Axis(0), ndarray::Slice::from(k..)).mean().unwrap_or(0.0)
    } else {
        0.0
    };
    let spectrum = Spectrum {
        components: vt.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..k)).to_owned(),
        explained_variance: values.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..k)).to_owned(),
        total_variance: values.sum(),
        noise_variance,
    };
    Ok((X::Storage::vec(mean)?, spectrum))
}

impl<F: Real, S: Storage> Pca<F, S> {
    /// The principal axes, one per row, by decreasing variance (`components_`).
    pub fn components(&self) -> &S::Mat<F> {
        &self.components
    }

    /// The variance along each component, with `n_samples - 1` (`explained_variance_`).
    pub fn explained_variance(&self) -> &S::Vec<F> {
        &self.explained_variance
    }

    /// The fraction of the total variance along each component (`explained_variance_ratio_`).
    pub fn explained_variance_ratio(&self) -> &S::Vec<F> {
        &self.explained_variance_ratio
    }

    /// The singular values of the centred X for each component (`singular_values_`).
    pub fn singular_values(&self) -> &S::Vec<F> {
        &self.singular_values
    }

    /// The per-feature mean (`mean_`).
    pub fn mean(&self) -> &S::Vec<F> {
        &self.mean
    }

    /// The estimated noise covariance (`noise_variance_`, Tipping and Bishop's probabilistic
    /// PCA): the mean variance of the discarded directions, 0 when none are discarded.
    pub fn noise_variance(&self) -> f64 {
        self.noise_variance
    }

    /// The number of components kept (`n_components_`).
    pub fn n_components(&self) -> usize {
        self.params.n_components
    }

    /// The number of samples seen when fitting (`n_samples_`).
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// Project `x` on the principal axes (n x n_components; whitened when fitted so).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("PCA", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    /// [`Pca::transform`] of an `x` already checked.
    fn transform_unchecked<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let z =
            project::tensors(x.arg(), S::vec_arg(&self.mean), S::mat_arg(&self.components), S::vec_arg(&self.scale))?;
        X::Storage::mat(z)
    }

    /// Map projections back to feature space (`inverse_transform`): exact for data in the
    /// span of the kept components.
    ///
    /// # Errors
    /// `z` without `n_components` columns; NaN or infinity in `z`; `z` on another device than
    /// the model.
    pub fn inverse_transform<X: Matrix<F>>(&self, z: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("PCA", self.params.n_components, z)?;
        let x = reconstruct::tensors(
            z.arg(),
            S::vec_arg(&self.mean),
            S::mat_arg(&self.components),
            S::vec_arg(&self.scale),
        )?;
        X::Storage::mat(x)
    }

    /// The device the model's attributes live on.
    pub fn device(&self) -> Device {
        S::vec_device(&self.mean)
    }
}

crate::traits::host_transformer!(PcaParams => Pca<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(PcaParams, "PCA" { "n_components" = n_components: usize, "whiten" => whiten: bool });
