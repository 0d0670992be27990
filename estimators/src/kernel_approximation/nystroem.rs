//! `Nystroem`: approximate a kernel map from a subset of the training samples (scikit-learn's
//! `Nystroem`).
//!
//! Fitting picks `n_components` samples by numpy's `RandomState(seed).permutation` (so a seed
//! picks the samples scikit-learn's `random_state` picks), gathers them with a kernel where X
//! lives, and computes their kernel matrix there; the normalization, the symmetric inverse
//! square root of that m x m matrix through its SVD (`U diag(1 / sqrt(max(S, 1e-12))) V^T`, as
//! scikit-learn computes it), is host algebra in f64. Transform is two kernels over X: its
//! kernel against the components, then the product with the normalization.

use super::kernels::{project, take_rows, Kernel, Resolved};
use crate::data::{check_fitted_x, check_x, Host, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::decomposition::linalg::svd;
use crate::error::{EstimatorError, Result};
use crate::random_state::RandomState;
use ndarray::{Array1, Ix2};
use std::marker::PhantomData;

/// Hyper-parameters of [`Nystroem`] (scikit-learn's defaults: `kernel = "rbf"`, `gamma`,
/// `coef0` and `degree` unset (the kernel's own defaults: `gamma = 1 / n_features`,
/// `coef0 = 1`, `degree = 3`), `n_components = 100`; the seed defaults to 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NystroemParams {
    kernel: Kernel,
    gamma: Option<f64>,
    coef0: Option<f64>,
    degree: Option<f64>,
    n_components: usize,
    seed: u32,
}

/// A fitted Nystroem approximation: the chosen samples (`components_`), their indices
/// (`component_indices_`) and the normalization (`normalization_`), kept where it was fitted.
#[derive(Debug, Clone)]
pub struct Nystroem<F: Real, S: Storage> {
    components: S::Mat<F>,
    component_indices: Array1<i64>,
    normalization: S::Mat<F>,
    resolved: Resolved,
    n_features: usize,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] Nystroem<F, @> { components: mat[k, d], component_indices, normalization: mat[k, k], resolved, n_features: size[d], _f });

impl Nystroem<f64, Host> {
    /// scikit-learn's defaults (see [`NystroemParams`]).
    pub fn params() -> NystroemParams {
        NystroemParams { kernel: Kernel::Rbf, gamma: None, coef0: None, degree: None, n_components: 100, seed: 0 }
    }
}

impl NystroemParams {
    /// The kernel to approximate (`kernel`).
    pub fn kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// The kernel coefficient of rbf, laplacian, poly and sigmoid (`gamma`, at least 0; by
    /// default `1 / n_features`).
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = Some(gamma);
        self
    }

    /// The constant term of poly and sigmoid (`coef0`; by default 1).
    pub fn coef0(mut self, coef0: f64) -> Self {
        self.coef0 = Some(coef0);
        self
    }

    /// The degree of poly (`degree`, at least 1; by default 3).
    pub fn degree(mut self, degree: f64) -> Self {
        self.degree = Some(degree);
        self
    }

    /// How many training samples span the approximation (`n_components`, at least 1; at most
    /// the number of samples is used).
    pub fn n_components(mut self, n_components: usize) -> Self {
        self.n_components = n_components;
        self
    }

    /// The seed of the sample choice: numpy's `RandomState(seed)`, as scikit-learn's
    /// `random_state=seed` (`random_state`).
    pub fn seed(mut self, seed: u32) -> Self {
        self.seed = seed;
        self
    }

    fn check(&self) -> Result<()> {
        let name = "Nystroem";
        if self.n_components == 0 {
            return Err(EstimatorError::param(name, "n_components", "an int in the range [1, inf)", 0));
        }
        if let Some(g) = self.gamma.filter(|g| g.is_nan() || *g < 0.0) {
            return Err(EstimatorError::param(name, "gamma", "a float in the range [0.0, inf) or None", g));
        }
        if let Some(c) = self.coef0.filter(|c| c.is_nan()) {
            return Err(EstimatorError::param(name, "coef0", "a float in the range (-inf, inf) or None", c));
        }
        if let Some(d) = self.degree.filter(|d| d.is_nan() || *d < 1.0) {
            return Err(EstimatorError::param(name, "degree", "a float in the range [1.0, inf) or None", d));
        }
        Ok(())
    }

    /// The kernel with scikit-learn's defaults for what is unset, for `d` features.
    fn resolve(&self, d: usize) -> Resolved {
        Resolved {
            kernel: self.kernel,
            gamma: self.gamma.unwrap_or(1.0 / d as f64),
            coef0: self.coef0.unwrap_or(1.0),
            degree: self.degree.unwrap_or(3.0),
        }
    }

    /// Choose the components among the rows of `x` and compute the normalization.
    ///
    /// # Errors
    /// Invalid hyper-parameters; empty or non-finite X; more than 2^32 samples; the SVD
    /// failing; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Nystroem<F, X::Storage>> {
        self.check()?;
        let (n, d) = check_x("Nystroem", x, 1)?;
        if u32::try_from(n).is_err() {
            return Err(EstimatorError::TooFewSamples(format!(
                "Nystroem draws its components by numpy's permutation of at most 2^32 - 1 samples; got {n}"
            )));
        }
        // scikit-learn warns and uses every sample when n_components > n_samples.
        let m = self.n_components.min(n);
        let inds: Array1<i64> =
            RandomState::new(self.seed).permutation(n).into_iter().take(m).map(|i| i as i64).collect();
        let device = x.device();
        let placed = X::Storage::vec_from_host(inds.clone(), device)?;
        let basis = take_rows::tensors::<F>(x.arg(), X::Storage::vec_arg(&placed))?;
        let resolved = self.resolve(d);
        let k = resolved.between(&basis, kiln_runtime::tensor_arg::<F, Ix2>(&basis))?;
        let mut k = k.to_array::<Ix2>()?.mapv(|v: F| v.to_f64());
        if resolved.kernel == Kernel::Rbf {
            // euclidean_distances(X, X) sets the diagonal to exactly 0.
            k.diag_mut().fill(1.0);
        }
        let (u, s, vt) = svd(&k)?;
        let inv_sqrt = s.mapv(|v| 1.0 / v.max(1e-12).sqrt());
        let normalization = (&u * &inv_sqrt).dot(&vt).mapv(F::from_f64);
        Ok(Nystroem {
            components: X::Storage::mat(basis)?,
            component_indices: inds,
            normalization: X::Storage::mat_from_host(normalization, device)?,
            resolved,
            n_features: d,
            _f: PhantomData,
        })
    }

    /// Fit, then map the same data.
    ///
    /// # Errors
    /// As [`NystroemParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked X (shape and finiteness): no second pass over it.
        self.fit(x)?.transform_unchecked(x)
    }
}

impl<F: Real, S: Storage> Nystroem<F, S> {
    /// The training samples the approximation is built on (`components_`, m x n_features).
    pub fn components(&self) -> &S::Mat<F> {
        &self.components
    }

    /// The indices of [`Nystroem::components`] among the training rows (`component_indices_`).
    pub fn component_indices(&self) -> &Array1<i64> {
        &self.component_indices
    }

    /// The inverse square root of the components' kernel matrix (`normalization_`, m x m).
    pub fn normalization(&self) -> &S::Mat<F> {
        &self.normalization
    }

    /// The kernel approximated (`kernel`).
    pub fn kernel(&self) -> Kernel {
        self.resolved.kernel
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The approximate kernel features of `x` (n x m): its kernel against the components times
    /// the normalization's transpose.
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("Nystroem", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    /// [`Nystroem::transform`] of an `x` already checked.
    fn transform_unchecked<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let k = self.resolved.between(x, S::mat_arg(&self.components))?;
        let z = project::tensors::<F>(kiln_runtime::tensor_arg::<F, Ix2>(&k), S::mat_arg(&self.normalization))?;
        X::Storage::mat(z)
    }
}

crate::traits::host_transformer!(NystroemParams => Nystroem<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(NystroemParams, "Nystroem" { "kernel" => kernel: Kernel, "gamma" => gamma: f64, "coef0" => coef0: f64, "degree" => degree: f64, "n_components" => n_components: usize, "random_state" => seed: u32 });
