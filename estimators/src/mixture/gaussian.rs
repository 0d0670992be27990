//! `GaussianMixture`: a mixture of Gaussians fitted by expectation-maximization, scikit-learn's
//! `GaussianMixture` (covariance types full, tied, diag and spherical; initialization from
//! k-means, k-means++, random responsibilities or random samples, or from given weights, means
//! and precisions; `n_init` restarts keeping the best lower bound).
//!
//! The EM steps are in [`super::em`]. Initialization draws with numpy's legacy `RandomState`
//! (`random_state.rs`) exactly as scikit-learn does for `"random"` and `"random_from_data"`, so
//! a seed gives scikit-learn's start and fit; `"kmeans"` runs kiln's [`KMeans`] (one
//! initialization, the same seed) and `"k-means++"` kiln's k-means++ seeding, whose draws are
//! kiln's own.

use super::em::{
    ill_defined, mstep, param_shape, precision_cholesky, precision_cholesky_from_precisions, precisions_of, upload,
    EStep, State,
};
use crate::cluster::plusplus::{kmeans_plusplus, NumpyDraws};
use crate::cluster::KMeans;
use crate::data::{check_fitted_x, check_x, Host, Mat, Matrix, OnDevice, Storage, Vect};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::random_state::RandomState;
use kiln_runtime::Device;
use ndarray::{Array, Array1, Array2, ArrayD, Dimension, Ix2};
use std::str::FromStr;

#[path = "sample.rs"]
mod sample;

const NAME: &str = "GaussianMixture";

/// The form of each component's covariance (`covariance_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CovarianceType {
    /// Each component its own general covariance matrix (`"full"`, the default).
    Full,
    /// All components share one general covariance matrix (`"tied"`).
    Tied,
    /// Each component its own diagonal covariance (`"diag"`).
    Diag,
    /// Each component its own single variance (`"spherical"`).
    Spherical,
}

impl FromStr for CovarianceType {
    type Err = EstimatorError;
    /// scikit-learn's strings: `"full"`, `"tied"`, `"diag"`, `"spherical"`.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "full" => CovarianceType::Full,
            "tied" => CovarianceType::Tied,
            "diag" => CovarianceType::Diag,
            "spherical" => CovarianceType::Spherical,
            _ => {
                return Err(EstimatorError::param(
                    NAME,
                    "covariance_type",
                    "a str among {'diag', 'full', 'spherical', 'tied'}",
                    format!("'{s}'"),
                ))
            }
        })
    }
}

/// How the responsibilities that start EM are drawn (`init_params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MixtureInit {
    /// One-hot responsibilities from a k-means clustering (`"kmeans"`, the default).
    KMeans,
    /// One-hot responsibilities of the k-means++ seeds (`"k-means++"`).
    KMeansPlusPlus,
    /// Uniform random responsibilities, normalized per row (`"random"`).
    Random,
    /// One randomly chosen sample per component (`"random_from_data"`).
    RandomFromData,
}

impl FromStr for MixtureInit {
    type Err = EstimatorError;
    /// scikit-learn's strings: `"kmeans"`, `"k-means++"`, `"random"`, `"random_from_data"`.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "kmeans" => MixtureInit::KMeans,
            "k-means++" => MixtureInit::KMeansPlusPlus,
            "random" => MixtureInit::Random,
            "random_from_data" => MixtureInit::RandomFromData,
            _ => {
                return Err(EstimatorError::param(
                    NAME,
                    "init_params",
                    "a str among {'k-means++', 'kmeans', 'random', 'random_from_data'}",
                    format!("'{s}'"),
                ))
            }
        })
    }
}

/// Hyper-parameters of [`GaussianMixture`] (scikit-learn's defaults: full covariances,
/// `tol = 1e-3`, `reg_covar = 1e-6`, `max_iter = 100`, `n_init = 1`, `init_params = "kmeans"`;
/// the seed defaults to 0).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GaussianMixtureParams {
    n_components: usize,
    covariance_type: CovarianceType,
    tol: f64,
    reg_covar: f64,
    max_iter: usize,
    n_init: usize,
    init_params: MixtureInit,
    weights_init: Option<Array1<f64>>,
    means_init: Option<Array2<f64>>,
    precisions_init: Option<ArrayD<f64>>,
    seed: u64,
}

/// A fitted Gaussian mixture: weights and means kept where it was fitted, the k x d x d
/// covariance algebra on the host.
#[derive(Debug, Clone)]
pub struct GaussianMixture<F: Real, S: Storage> {
    weights: S::Vec<F>,
    means: S::Mat<F>,
    covariances: ArrayD<F>,
    precisions: ArrayD<F>,
    precisions_cholesky: ArrayD<F>,
    converged: bool,
    n_iter: usize,
    lower_bound: f64,
    lower_bounds: Vec<f64>,
    estep: EStep<F, S>,
    state: State,
    params: GaussianMixtureParams,
    n_features: usize,
}

crate::relocate!([F: Real] GaussianMixture<F, @> { weights: vec[k], means: mat[k, d], covariances, precisions, precisions_cholesky, converged, n_iter, lower_bound, lower_bounds, estep: model, state, params, n_features: size[d] });

impl GaussianMixture<f64, Host> {
    /// A mixture of `n_components` Gaussians, with the defaults of [`GaussianMixtureParams`].
    pub fn params(n_components: usize) -> GaussianMixtureParams {
        GaussianMixtureParams {
            n_components,
            covariance_type: CovarianceType::Full,
            tol: 1e-3,
            reg_covar: 1e-6,
            max_iter: 100,
            n_init: 1,
            init_params: MixtureInit::KMeans,
            weights_init: None,
            means_init: None,
            precisions_init: None,
            seed: 0,
        }
    }
}

/// How one EM run ended.
struct Run {
    state: State,
    lower_bound: f64,
    lower_bounds: Vec<f64>,
    n_iter: usize,
    converged: bool,
}

impl GaussianMixtureParams {
    /// The covariance form of the components (`covariance_type`).
    pub fn covariance_type(mut self, covariance_type: CovarianceType) -> Self {
        self.covariance_type = covariance_type;
        self
    }

    /// EM stops when the lower bound (the mean log-likelihood) changes by less than `tol`.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Added to the diagonal of every covariance (`reg_covar`, at least 0).
    pub fn reg_covar(mut self, reg_covar: f64) -> Self {
        self.reg_covar = reg_covar;
        self
    }

    /// The most EM iterations per initialization (`max_iter`; 0 keeps the initialization).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// How many initializations to run, keeping the one of largest lower bound (`n_init`).
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// How the starting responsibilities are drawn (`init_params`).
    pub fn init_params(mut self, init: MixtureInit) -> Self {
        self.init_params = init;
        self
    }

    /// The starting weights (`weights_init`, n_components values in [0, 1] summing to 1).
    pub fn weights_init<T: Real>(mut self, weights: Array1<T>) -> Self {
        self.weights_init = Some(weights.mapv(|v| v.to_f64()));
        self
    }

    /// The starting means (`means_init`, n_components x n_features).
    pub fn means_init<T: Real>(mut self, means: Array2<T>) -> Self {
        self.means_init = Some(means.mapv(|v| v.to_f64()));
        self
    }

    /// The starting precisions (`precisions_init`, inverse covariances): n_components x
    /// n_features x n_features for full, n_features x n_features for tied, n_components x
    /// n_features for diag, n_components for spherical.
    pub fn precisions_init<T: Real, D: Dimension>(mut self, precisions: Array<T, D>) -> Self {
        self.precisions_init = Some(precisions.mapv(|v| v.to_f64()).into_dyn());
        self
    }

    /// The seed of the initialization (`random_state`, below 2^32 as numpy requires).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Fit the mixture to `x` by EM.
    ///
    /// # Errors
    /// Invalid hyper-parameters (`n_components` or `n_init` of 0, negative or non-finite `tol`
    /// or `reg_covar`, a seed of 2^32 or more); fewer than 2 samples or non-finite X;
    /// `n_components > n_samples`; initial weights, means or precisions of the wrong shape or
    /// values; a component whose covariance is not positive definite (scikit-learn's
    /// "ill-defined empirical covariance" message); kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<GaussianMixture<F, X::Storage>> {
        let (n, d) = self.check(x)?;
        let device = x.device();
        let mut rng = RandomState::new(self.seed as u32);
        let mut best: Option<Run> = None;
        for _ in 0..self.n_init {
            let start = self.initialize(x, n, d, &mut rng)?;
            let run = self.em(x, start, f64::NEG_INFINITY, self.max_iter)?;
            // scikit-learn keeps the first run and every later one of larger lower bound.
            if best.as_ref().is_none_or(|b| run.lower_bound > b.lower_bound) {
                best = Some(run);
            }
        }
        let best = best.ok_or_else(|| EstimatorError::param(NAME, "n_init", "an int in the range [1, inf)", 0))?;
        GaussianMixture::from_run(best, self.clone(), d, device)
    }

    /// Fit, then return the most likely component of each training row (`fit_predict`).
    ///
    /// # Errors
    /// As [`GaussianMixtureParams::fit`].
    pub fn fit_predict<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, i64>> {
        let m = self.fit(x)?;
        X::Storage::vec(m.estep.run(x)?.3)
    }

    /// The checks of scikit-learn's `fit_predict` and `_check_parameters`.
    fn check<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<(usize, usize)> {
        let k = self.n_components;
        let positive = |name: &'static str, v: usize| {
            if v == 0 {
                Err(EstimatorError::param(NAME, name, "an int in the range [1, inf)", v))
            } else {
                Ok(())
            }
        };
        positive("n_components", k)?;
        positive("n_init", self.n_init)?;
        let nonneg = |name: &'static str, v: f64| {
            if v >= 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(EstimatorError::param(NAME, name, "a float in the range [0.0, inf)", v))
            }
        };
        nonneg("tol", self.tol)?;
        nonneg("reg_covar", self.reg_covar)?;
        if self.seed > u64::from(u32::MAX) {
            return Err(EstimatorError::param(NAME, "random_state", "an int in the range [0, 4294967295]", self.seed));
        }
        let (n, d) = check_x(NAME, x, 2)?;
        if n < k {
            return Err(EstimatorError::TooFewSamples(format!(
                "Expected n_samples >= n_components but got n_components = {k}, n_samples = {n}"
            )));
        }
        if let Some(w) = &self.weights_init {
            check_shape(w.shape(), &[k], "weights")?;
            let (lo, hi) = w.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            if !(lo >= 0.0 && hi <= 1.0) {
                return Err(EstimatorError::param(
                    NAME,
                    "weights_init",
                    "in the range [0, 1]",
                    format!("max value {hi:.5}, min value {lo:.5}"),
                ));
            }
            let atol = if std::mem::size_of::<F>() == 4 { 1e-6 } else { 1e-8 };
            let total: f64 = w.sum();
            if (1.0 - total).abs() > atol {
                return Err(EstimatorError::param(
                    NAME,
                    "weights_init",
                    "normalized",
                    format!("sum(weights) = {total:.5}"),
                ));
            }
        }
        if let Some(m) = &self.means_init {
            check_shape(m.shape(), &[k, d], "means")?;
            if m.iter().any(|v| !v.is_finite()) {
                return Err(EstimatorError::NonFinite { what: "means_init" });
            }
        }
        if let Some(p) = &self.precisions_init {
            let ct = self.covariance_type;
            let name = match ct {
                CovarianceType::Full => "full precision",
                CovarianceType::Tied => "tied precision",
                CovarianceType::Diag => "diag precision",
                CovarianceType::Spherical => "spherical precision",
            };
            check_shape(p.shape(), param_shape(ct, k, d).slice(), name)?;
            if p.iter().any(|v| !v.is_finite()) {
                return Err(EstimatorError::NonFinite { what: "precisions_init" });
            }
            match ct {
                CovarianceType::Diag | CovarianceType::Spherical => {
                    if p.iter().any(|&v| v <= 0.0) {
                        return Err(EstimatorError::param(NAME, "precisions_init", "positive", format!("'{name}'")));
                    }
                }
                CovarianceType::Full | CovarianceType::Tied => {
                    let to2 = |m: ndarray::ArrayViewD<'_, f64>| {
                        m.to_owned().into_dimensionality::<Ix2>().map_err(|e| EstimatorError::Shape(e.to_string()))
                    };
                    let mats: Vec<Array2<f64>> = if ct == CovarianceType::Full {
                        p.outer_iter().map(to2).collect::<Result<_>>()?
                    } else {
                        vec![to2(p.view())?]
                    };
                    for m in &mats {
                        let symmetric =
                            m.indexed_iter().all(|((i, j), &v)| (v - m[[j, i]]).abs() <= 1e-8 + 1e-5 * m[[j, i]].abs());
                        if !symmetric || crate::decomposition::linalg::eigh_descending(m)?.0.iter().any(|&e| e <= 0.0) {
                            return Err(EstimatorError::param(
                                NAME,
                                "precisions_init",
                                "symmetric, positive-definite",
                                format!("'{name}' that is not"),
                            ));
                        }
                    }
                }
            }
        }
        Ok((n, d))
    }

    /// scikit-learn's `_initialize_parameters` and `_initialize`: the starting parameters.
    fn initialize<F: Real, X: Matrix<F>>(&self, x: &X, n: usize, d: usize, rng: &mut RandomState) -> Result<State> {
        let k = self.n_components;
        let ct = self.covariance_type;
        let all_given = self.weights_init.is_some() && self.means_init.is_some() && self.precisions_init.is_some();
        let from_resp = if all_given {
            None
        } else {
            let mut resp = Array2::from_elem((n, k), F::from_f64(0.0));
            match self.init_params {
                MixtureInit::KMeans => {
                    let km = KMeans::params(k).n_init(1).seed(u64::from(rng.next_u32())).fit(x)?;
                    let labels = <X::Storage as Storage>::vec_to_host(km.labels())?;
                    for (i, &l) in labels.iter().enumerate() {
                        resp[[i, l as usize]] = F::from_f64(1.0);
                    }
                }
                MixtureInit::KMeansPlusPlus => {
                    let mut draws = NumpyDraws::<F> { rng, _f: std::marker::PhantomData };
                    for (c, i) in kmeans_plusplus(x, k, &mut draws)?.1.into_iter().enumerate() {
                        resp[[i, c]] = F::from_f64(1.0);
                    }
                }
                MixtureInit::Random => {
                    let u = Array2::from_shape_simple_fn((n, k), || rng.random_sample());
                    // numpy: uniform draws in f64, cast to X's dtype, then each row divided by
                    // its sum in that dtype.
                    let uf = u.mapv(F::from_f64);
                    for (mut row, urow) in resp.rows_mut().into_iter().zip(uf.rows()) {
                        // f32 sums and quotients are exact when done in f64 and rounded.
                        let total = urow.iter().fold(F::from_f64(0.0), |a, &b| F::from_f64(a.to_f64() + b.to_f64()));
                        row.assign(&urow.mapv(|v| F::from_f64(v.to_f64() / total.to_f64())));
                    }
                }
                MixtureInit::RandomFromData => {
                    for (c, &i) in rng.permutation(n)[..k].iter().enumerate() {
                        resp[[i, c]] = F::from_f64(1.0);
                    }
                }
            }
            let resp = upload(resp, x.device())?;
            Some(mstep(x, OnDevice::mat_arg(&resp), ct, self.reg_covar)?)
        };
        let (weights, means, covariances) = match from_resp {
            Some((nk, means, cov)) => (Some(nk / n as f64), Some(means), Some(cov)),
            None => (None, None, None),
        };
        let weights = self.weights_init.clone().or(weights).unwrap_or_else(|| unreachable!("from resp"));
        let means = self.means_init.clone().or(means).unwrap_or_else(|| unreachable!("from resp"));
        let (covariances, prec_chol) = match &self.precisions_init {
            None => {
                let cov = covariances.unwrap_or_else(|| unreachable!("from resp"));
                let pc = precision_cholesky::<F>(&cov, ct)?;
                (Some(cov), pc)
            }
            Some(p) => (None, precision_cholesky_from_precisions(p, ct)?),
        };
        let _ = d;
        Ok(State { weights, means, covariances, prec_chol })
    }

    /// EM from `state` for at most `max_iter` iterations (scikit-learn's inner loop of
    /// `fit_predict`), starting from the lower bound `lower_bound`.
    fn em<F: Real, X: Matrix<F>>(&self, x: &X, mut state: State, mut lower_bound: f64, max_iter: usize) -> Result<Run> {
        let ct = self.covariance_type;
        let device = x.device();
        let mut lower_bounds = Vec::new();
        let mut converged = false;
        let mut n_iter = 0;
        for it in 1..=max_iter {
            n_iter = it;
            let prev = lower_bound;
            let estep = EStep::<F, OnDevice>::new(&state, ct, device)?;
            let (resp, _, mean_lpn, _) = estep.run(x)?;
            let (nk, means, cov) = mstep(x, OnDevice::mat_arg(&resp), ct, self.reg_covar)?;
            let total = nk.sum();
            let prec_chol = precision_cholesky::<F>(&cov, ct)?;
            state = State { weights: nk / total, means, covariances: Some(cov), prec_chol };
            lower_bound = mean_lpn.item()?.to_f64();
            if !lower_bound.is_finite() {
                return Err(ill_defined::<F>());
            }
            lower_bounds.push(lower_bound);
            if (lower_bound - prev).abs() < self.tol {
                converged = true;
                break;
            }
        }
        Ok(Run { state, lower_bound, lower_bounds, n_iter, converged })
    }
}

/// scikit-learn's `_check_shape`.
fn check_shape(got: &[usize], want: &[usize], name: &str) -> Result<()> {
    if got != want {
        let tuple = |s: &[usize]| match s {
            [a] => format!("({a},)"),
            _ => format!("({})", s.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")),
        };
        return Err(EstimatorError::Shape(format!(
            "The parameter '{name}' should have the shape of {}, but got {}",
            tuple(want),
            tuple(got)
        )));
    }
    Ok(())
}

impl<F: Real, S: Storage> GaussianMixture<F, S> {
    fn from_run(run: Run, params: GaussianMixtureParams, d: usize, device: Device) -> Result<Self> {
        let ct = params.covariance_type;
        let k = params.n_components;
        let s = &run.state;
        let covariances = s.covariances.clone().unwrap_or_else(|| ArrayD::zeros(param_shape(ct, k, d)));
        Ok(GaussianMixture {
            weights: S::vec_from_host(s.weights.mapv(F::from_f64), device)?,
            means: S::mat_from_host(s.means.mapv(F::from_f64), device)?,
            covariances: covariances.mapv(F::from_f64),
            precisions: precisions_of(&s.prec_chol, ct).mapv(F::from_f64),
            precisions_cholesky: s.prec_chol.mapv(F::from_f64),
            converged: run.converged,
            n_iter: run.n_iter,
            lower_bound: run.lower_bound,
            lower_bounds: run.lower_bounds,
            estep: EStep::new(s, ct, device)?,
            state: run.state,
            params,
            n_features: d,
        })
    }

    /// Continue EM from the fitted parameters on `x` (scikit-learn's `warm_start=True` refit:
    /// one run from where the last fit stopped, starting from its lower bound, at most
    /// `max_iter` more iterations).
    ///
    /// # Errors
    /// As [`GaussianMixtureParams::fit`]; a different feature count than the first fit.
    pub fn warm_fit<X: Matrix<F, Storage = S>>(&mut self, x: &X) -> Result<()> {
        let (_, d) = self.params.check(x)?;
        crate::data::check_features(NAME, self.n_features, d)?;
        let run = self.params.em(x, self.state.clone(), self.lower_bound, self.params.max_iter)?;
        *self = GaussianMixture::from_run(run, self.params.clone(), d, x.device())?;
        Ok(())
    }

    /// The weight of each component (`weights_`).
    pub fn weights(&self) -> &S::Vec<F> {
        &self.weights
    }

    /// The mean of each component (`means_`, n_components x n_features).
    pub fn means(&self) -> &S::Mat<F> {
        &self.means
    }

    /// The covariances (`covariances_`), shaped by the covariance type: full n_components x
    /// n_features x n_features, tied n_features x n_features, diag n_components x n_features,
    /// spherical n_components. Kept on the host (small dense algebra); zeros when the fit ran
    /// no EM iteration from `precisions_init`.
    pub fn covariances(&self) -> &ArrayD<F> {
        &self.covariances
    }

    /// The precisions, inverses of the covariances (`precisions_`), shaped as
    /// [`GaussianMixture::covariances`].
    pub fn precisions(&self) -> &ArrayD<F> {
        &self.precisions
    }

    /// The Cholesky factors of the precisions (`precisions_cholesky_`: upper triangular `U`
    /// with `precision = U U^T` for full and tied, square roots for diag and spherical).
    pub fn precisions_cholesky(&self) -> &ArrayD<F> {
        &self.precisions_cholesky
    }

    /// Whether the best initialization's EM met `tol` within `max_iter` (`converged_`).
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// The EM iterations of the best initialization (`n_iter_`).
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// The best initialization's final lower bound: the mean log-likelihood of the training
    /// data (`lower_bound_`).
    pub fn lower_bound(&self) -> f64 {
        self.lower_bound
    }

    /// The lower bound after each EM iteration of the best initialization (`lower_bounds_`).
    pub fn lower_bounds(&self) -> &[f64] {
        &self.lower_bounds
    }

    /// The covariance type fitted.
    pub fn covariance_type(&self) -> CovarianceType {
        self.params.covariance_type
    }

    /// The number of components.
    pub fn n_components(&self) -> usize {
        self.params.n_components
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn run<X: Matrix<F>>(&self, x: &X) -> Result<super::em::EStepOut<F>> {
        check_fitted_x(NAME, self.n_features, x)?;
        self.estep.run(x)
    }

    /// The most likely component of each row of `x`.
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, i64>> {
        X::Storage::vec(self.run(x)?.3)
    }

    /// The posterior probability of each component for each row (n x n_components,
    /// `predict_proba`).
    ///
    /// # Errors
    /// As [`GaussianMixture::predict`].
    pub fn predict_proba<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.run(x)?.0)
    }

    /// The log-likelihood of each row under the mixture (`score_samples`).
    ///
    /// # Errors
    /// As [`GaussianMixture::predict`].
    pub fn score_samples<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, F>> {
        X::Storage::vec(self.run(x)?.1)
    }

    /// The mean log-likelihood of the rows of `x` (`score`).
    ///
    /// # Errors
    /// As [`GaussianMixture::predict`].
    pub fn score<X: Matrix<F>>(&self, x: &X) -> Result<f64> {
        Ok(self.run(x)?.2.item()?.to_f64())
    }

    /// The number of free parameters of the model (scikit-learn's `_n_parameters`).
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.params.n_components, self.n_features);
        let cov = match self.params.covariance_type {
            CovarianceType::Full => k * d * (d + 1) / 2,
            CovarianceType::Tied => d * (d + 1) / 2,
            CovarianceType::Diag => k * d,
            CovarianceType::Spherical => k,
        };
        cov + d * k + k - 1
    }

    /// The Bayesian information criterion on `x` (lower is better, `bic`).
    ///
    /// # Errors
    /// As [`GaussianMixture::predict`].
    pub fn bic<X: Matrix<F>>(&self, x: &X) -> Result<f64> {
        let n = x.dims()?.0 as f64;
        Ok(-2.0 * self.score(x)? * n + self.n_parameters() as f64 * n.ln())
    }

    /// The Akaike information criterion on `x` (lower is better, `aic`).
    ///
    /// # Errors
    /// As [`GaussianMixture::predict`].
    pub fn aic<X: Matrix<F>>(&self, x: &X) -> Result<f64> {
        let n = x.dims()?.0 as f64;
        Ok(-2.0 * self.score(x)? * n + 2.0 * self.n_parameters() as f64)
    }
}

crate::traits::clusterer!(GaussianMixtureParams => GaussianMixture, score);
crate::model_selection::set_params!(GaussianMixtureParams, "GaussianMixture" {
    "tol" => tol: f64,
    "reg_covar" => reg_covar: f64,
    "max_iter" => max_iter: usize,
    "n_init" => n_init: usize,
    "random_state" => seed: u64,
});
