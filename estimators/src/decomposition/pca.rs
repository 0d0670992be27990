//! `Pca`: principal component analysis (scikit-learn's `PCA`), with the full, covariance-eigh
//! and randomized solvers (and scikit-learn 1.9's `"auto"` choice between them), and
//! `n_components` as a count, an explained-variance fraction or Minka's MLE.
//!
//! Every pass over the n samples is a kernel: the mean and the Gram matrix `X^T X` for
//! covariance-eigh, the range-finding products for the randomized solver, and transform /
//! inverse_transform. The d x d (or l x l) eigendecompositions run on the host in f64 through
//! `faer`. Components follow scikit-learn 1.9's sign convention (`svd_flip` with
//! `u_based_decision=False`: the largest-magnitude entry of each component is positive).

use super::linalg::{eigh_descending, svd_flip_rows, svd_right};
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

/// `x - mean`: the centred data the full solver decomposes.
#[kernel(crate = kiln_runtime)]
fn center<F: Float>(x: Array2<F>, mean: Array1<F>) -> Array2<F> {
    &x - &mean
}

/// The per-feature mean (the full solver's first pass).
#[kernel(crate = kiln_runtime)]
fn column_mean<F: Float>(x: Array2<F>) -> Array1<F> {
    x.mean_axis(Axis(0))
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
    /// The thin SVD of the centred X (scikit-learn's `"full"`, LAPACK's `gesdd` there): the
    /// mean and the centring run as kernels, the SVD of the n x d centred matrix on the host
    /// in f64 (`faer`), so it suits the small problems scikit-learn's `"auto"` sends to it.
    Full,
    /// scikit-learn 1.9's `"auto"`: covariance-eigh when `n_features <= 1000` and
    /// `n_samples >= 10 n_features`; else full when `max(n_samples, n_features) <= 500`, for
    /// `"mle"` or a variance fraction; else randomized (seed 0, 10 oversamples, 4 iterations)
    /// when `n_components < 0.8 min(n_samples, n_features)`; else full.
    Auto,
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

/// How many components PCA keeps (scikit-learn's `n_components`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PcaComponents {
    /// Exactly this many (an int; `min(n_samples, n_features)` is scikit-learn's `None`).
    Count(usize),
    /// As many as it takes for the explained variance ratio to exceed this fraction in
    /// `(0, 1)` (a float; full and covariance-eigh solvers only).
    Fraction(f64),
    /// Minka's maximum-likelihood estimate of the dimension (`"mle"`; full and
    /// covariance-eigh solvers, `n_samples >= n_features`).
    Mle,
}

impl From<usize> for PcaComponents {
    fn from(k: usize) -> Self {
        PcaComponents::Count(k)
    }
}

impl From<f64> for PcaComponents {
    fn from(f: f64) -> Self {
        PcaComponents::Fraction(f)
    }
}

/// Hyper-parameters of [`Pca`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PcaParams {
    n_components: PcaComponents,
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
    n_components: usize,
    solver: SvdSolver,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] Pca<F, @> { components: mat[k, d], explained_variance: vec[k], explained_variance_ratio: vec[k], singular_values: vec[k], mean: vec[d], scale: vec[k], noise_variance, n_samples, n_features: size[d], n_components: size[k], solver, _f });

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
        PcaParams { n_components: PcaComponents::Count(n_components), whiten: false, solver: SvdSolver::CovarianceEigh }
    }
}

impl PcaParams {
    /// How many components to keep: a count (`usize`), an explained-variance fraction in
    /// `(0, 1)` (`f64`) or [`PcaComponents::Mle`] (`n_components`).
    pub fn n_components(mut self, n_components: impl Into<PcaComponents>) -> Self {
        self.n_components = n_components.into();
        self
    }

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
        let solver = resolve_solver(self.solver, self.n_components, n, d);
        if matches!(solver, SvdSolver::Randomized { .. }) {
            check_finite(x)?;
        }
        let (mean, spectrum, k) = match solver {
            SvdSolver::CovarianceEigh | SvdSolver::Full | SvdSolver::Auto => {
                let bad_count = |k: usize| {
                    EstimatorError::param(
                        "PCA",
                        "n_components",
                        format!("between 0 and min(n_samples, n_features)={}", n.min(d)),
                        k,
                    )
                };
                match self.n_components {
                    PcaComponents::Count(k) if k == 0 || k > n.min(d) => return Err(bad_count(k)),
                    PcaComponents::Fraction(f) if !(f > 0.0 && f < 1.0) => {
                        return Err(EstimatorError::param("PCA", "n_components", "a float in the range (0, 1)", f))
                    }
                    PcaComponents::Mle if n < d => {
                        return Err(EstimatorError::Shape(
                            "n_components='mle' is only supported if n_samples >= n_features".into(),
                        ))
                    }
                    _ => {}
                }
                let (mean, all) =
                    if solver == SvdSolver::Full { full_spectrum(x, n)? } else { covariance_spectrum(x, n, d)? };
                let k = chosen_components(self.n_components, &all.explained_variance, all.total_variance, n);
                (mean, truncate(all, k, n.min(d)), k)
            }
            SvdSolver::Randomized { n_oversamples, n_iter, seed } => {
                let k = match self.n_components {
                    PcaComponents::Count(k) if k >= 1 && k <= n.min(d) => k,
                    PcaComponents::Count(k) => {
                        return Err(EstimatorError::param(
                            "PCA",
                            "n_components",
                            format!("between 1 and min(n_samples, n_features)={}", n.min(d)),
                            k,
                        ))
                    }
                    other => {
                        return Err(EstimatorError::param(
                            "PCA",
                            "n_components",
                            "an int with svd_solver='randomized' (not a string or a float)",
                            match other {
                                PcaComponents::Mle => "'mle'".to_string(),
                                PcaComponents::Fraction(f) => f.to_string(),
                                PcaComponents::Count(c) => c.to_string(),
                            },
                        ))
                    }
                };
                let (mean, spectrum) = randomized_spectrum(x, n, d, k, n_oversamples, n_iter, seed)?;
                (mean, spectrum, k)
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
            n_components: k,
            solver,
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

/// scikit-learn 1.9's `"auto"` policy (`PCA._fit`), resolved against the data's shape; other
/// solvers as given.
fn resolve_solver(solver: SvdSolver, k: PcaComponents, n: usize, d: usize) -> SvdSolver {
    if solver != SvdSolver::Auto {
        return solver;
    }
    if d <= 1000 && n >= 10 * d {
        SvdSolver::CovarianceEigh
    } else if n.max(d) <= 500 || k == PcaComponents::Mle {
        SvdSolver::Full
    } else {
        match k {
            PcaComponents::Count(c) if c >= 1 && (c as f64) < 0.8 * n.min(d) as f64 => SvdSolver::randomized(0),
            _ => SvdSolver::Full,
        }
    }
}

/// The full solver: the mean (a kernel), the centred X (a kernel), and the thin SVD of the
/// centred n x d matrix on the host in f64; every one of the `min(n, d)` components.
fn full_spectrum<F: Real, X: Matrix<F>>(x: &X, n: usize) -> Result<(Vect<X::Storage, F>, Spectrum)> {
    let mean = column_mean::tensors::<F>(x.arg())?;
    let m = mean.to_array::<Ix1>()?;
    check_finite_unless(x, m.iter().all(|v| v.to_f64().is_finite()))?;
    let centred = center::tensors::<F>(x.arg(), kiln_runtime::tensor_arg::<F, Ix1>(&mean))?;
    let c = centred.to_array::<Ix2>()?.mapv(|v| v.to_f64());
    let (s, mut vt) = svd_right(&c)?;
    svd_flip_rows(&mut vt);
    let ev = s.mapv(|v| v * v / (n - 1) as f64);
    let spectrum = Spectrum { components: vt, total_variance: ev.sum(), explained_variance: ev, noise_variance: 0.0 };
    Ok((X::Storage::vec(mean)?, spectrum))
}

/// The number of components kept: the count, the first `k` whose cumulated explained
/// variance ratio exceeds the fraction (numpy's `searchsorted(side="right") + 1`), or
/// Minka's MLE (`_infer_dimension`).
fn chosen_components(k: PcaComponents, ev: &Array1<f64>, total: f64, n: usize) -> usize {
    match k {
        PcaComponents::Count(c) => c,
        PcaComponents::Fraction(f) => {
            let mut cum = 0.0;
            let mut count = 0;
            for &v in ev {
                cum += v / total;
                if cum <= f {
                    count += 1;
                } else {
                    break;
                }
            }
            (count + 1).min(ev.len())
        }
        PcaComponents::Mle => infer_dimension(ev.as_slice().expect("a fresh array"), n),
    }
}

/// `ln Gamma(m / 2)` for a positive integer `m`, by `Gamma(x + 1) = x Gamma(x)` from
/// `Gamma(1) = 1` or `Gamma(1/2) = sqrt(pi)` (the only arguments Minka's criterion needs).
fn ln_gamma_half(m: usize) -> f64 {
    let (mut x, mut acc) = if m.is_multiple_of(2) { (1.0, 0.0) } else { (0.5, 0.5 * std::f64::consts::PI.ln()) };
    let target = m as f64 / 2.0;
    while x < target {
        acc += x.ln();
        x += 1.0;
    }
    acc
}

/// scikit-learn's `_assess_dimension`: the log-likelihood of rank `rank` under Minka's model.
fn assess_dimension(spectrum: &[f64], rank: usize, n: usize) -> f64 {
    let d = spectrum.len();
    let eps = 1e-15;
    if spectrum[rank - 1] < eps {
        return f64::NEG_INFINITY;
    }
    let pi = std::f64::consts::PI;
    let nf = n as f64;
    let mut pu = -(rank as f64) * 2f64.ln();
    for i in 1..=rank {
        pu += ln_gamma_half(d - i + 1) - pi.ln() * (d - i + 1) as f64 / 2.0;
    }
    let pl: f64 = spectrum[..rank].iter().map(|v| v.ln()).sum();
    let pl = -pl * nf / 2.0;
    let v = eps.max(spectrum[rank..].iter().sum::<f64>() / (d - rank) as f64);
    let pv = -v.ln() * nf * (d - rank) as f64 / 2.0;
    let m = (d * rank) as f64 - rank as f64 * (rank as f64 + 1.0) / 2.0;
    let pp = (2.0 * pi).ln() * (m + rank as f64) / 2.0;
    let mut pa = 0.0;
    let tail = |j: usize| if j >= rank { v } else { spectrum[j] };
    for i in 0..rank {
        for j in i + 1..d {
            pa += ((spectrum[i] - spectrum[j]) * (1.0 / tail(j) - 1.0 / tail(i))).ln() + nf.ln();
        }
    }
    pu + pl + pv + pp - pa / 2.0 - rank as f64 * nf.ln() / 2.0
}

/// scikit-learn's `_infer_dimension`: the rank in `1..d` of largest likelihood (the first on
/// ties, as `argmax`; 0 when every likelihood is `-inf`, as there).
fn infer_dimension(spectrum: &[f64], n: usize) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for rank in 1..spectrum.len() {
        let ll = assess_dimension(spectrum, rank, n);
        if ll > best.1 {
            best = (rank, ll);
        }
    }
    best.0
}

/// Keep the first `k` of all the components; the noise variance is the mean of the discarded
/// explained variances (0 when `k = min(n, d)`).
fn truncate(all: Spectrum, k: usize, full: usize) -> Spectrum {
    let ev = &all.explained_variance;
    let noise_variance =
        if k < full { ev.slice_axis(ndarray::Axis(0), ndarray::Slice::from(k..)).mean().unwrap_or(0.0) } else { 0.0 };
    Spectrum {
        components: all.components.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..k)).to_owned(),
        explained_variance: ev.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..k)).to_owned(),
        total_variance: all.total_variance,
        noise_variance,
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
        self.n_components
    }

    /// The solver the fit used (`"auto"` resolved as scikit-learn 1.9 resolves it; the
    /// `_fit_svd_solver` attribute).
    pub fn fit_svd_solver(&self) -> SvdSolver {
        self.solver
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
        check_fitted_x("PCA", self.n_components, z)?;
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
crate::model_selection::set_params!(PcaParams, "PCA" { "n_components" => n_components: usize, "whiten" => whiten: bool });
