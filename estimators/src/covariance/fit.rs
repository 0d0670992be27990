//! The three covariance estimators: one fitted core ([`Fitted`]: location, covariance,
//! precision) and per estimator its hyper-parameters and the shrinkage it applies.

use crate::data::{check_fitted_x, check_x, Host, Matrix, Storage, Vect};
use crate::datasets::Real;
use crate::decomposition::linalg::{eigh_descending, svd};
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use ndarray::{Array1, Array2, Ix2};
use std::marker::PhantomData;

/// The column means of `x`.
#[kernel(crate = kiln_runtime)]
fn location<F: Float>(x: Array2<F>) -> Array1<F> {
    x.mean_axis(Axis(0))
}

/// With `z = x - loc`: `z^T z / n` and `sum_i (sum_j z_ij^2)^2` (the sum of every entry of
/// `(z^2)^T z^2`, Ledoit-Wolf's `beta_`).
#[kernel(crate = kiln_runtime)]
fn scatter<F: Float>(x: Array2<F>, loc: Array1<F>, n: F) -> (Array2<F>, F) {
    let z = x - loc;
    let cov = z.t().dot(&z) / n;
    let beta = z.powi(2).sum_axis(Axis(1)).powi(2).sum();
    (cov, beta)
}

/// The squared Mahalanobis distance of each row of `x` from `loc` under `precision`.
#[kernel(crate = kiln_runtime)]
fn mahalanobis_sq<F: Float>(x: Array2<F>, loc: Array1<F>, precision: Array2<F>) -> Array1<F> {
    let z = x - loc;
    (z.dot(&precision) * &z).sum_axis(Axis(1))
}

/// What the estimators share, computed by [`moments`]: the location and the scatter of X.
pub(crate) struct Moments<F: Real, S: Storage> {
    loc: S::Vec<F>,
    cov: Array2<f64>,
    beta: f64,
    n: usize,
}

/// The location (zeros with `assume_centered`) and the scatter of `x` about it.
fn moments<F: Real, X: Matrix<F>>(
    estimator: &'static str,
    x: &X,
    assume_centered: bool,
) -> Result<Moments<F, X::Storage>> {
    let (n, d) = check_x(estimator, x, 1)?;
    let loc = if assume_centered {
        X::Storage::vec_from_host(Array1::from_elem(d, F::from_f64(0.0)), x.device())?
    } else {
        X::Storage::vec(location::tensors::<F>(x.arg())?)?
    };
    let (cov, beta) = scatter::tensors::<F>(x.arg(), X::Storage::vec_arg(&loc), F::from_f64(n as f64))?;
    let cov = cov.to_array::<Ix2>()?.mapv(|v: F| v.to_f64());
    Ok(Moments { loc, cov, beta: beta.item()?.to_f64(), n })
}

/// `(1 - shrinkage) * cov + shrinkage * mu * I` with `mu = trace(cov) / d` (scikit-learn's
/// `shrunk_covariance`; LinearDiscriminantAnalysis shrinks with it too).
pub(crate) fn shrink(cov: &Array2<f64>, shrinkage: f64) -> Array2<f64> {
    let d = cov.nrows();
    let mu = cov.diag().sum() / d as f64;
    let mut out = cov.mapv(|v| (1.0 - shrinkage) * v);
    out.diag_mut().mapv_inplace(|v| v + shrinkage * mu);
    out
}

/// scikit-learn's `ledoit_wolf_shrinkage` of `n` centered samples `Z` given by their scatter
/// `cov = Z^T Z / n` and `beta = sum_i (sum_j z_ij^2)^2` (LinearDiscriminantAnalysis's
/// `shrinkage="auto"` calls it on standardized class data).
pub(crate) fn ledoit_wolf_shrinkage_of(cov: &Array2<f64>, beta: f64, n: usize) -> f64 {
    let d = cov.nrows();
    if d == 1 {
        return 0.0;
    }
    let (n, df) = (n as f64, d as f64);
    let trace_sum = cov.diag().sum();
    let mu = trace_sum / df;
    // scikit-learn's delta_ (the sum of squared entries of Z^T Z) over n^2.
    let delta_ = cov.iter().map(|v| v * v).sum::<f64>();
    let beta = 1.0 / (df * n) * (beta / n - delta_);
    let delta = (delta_ - 2.0 * mu * trace_sum + df * mu * mu) / df;
    let beta = beta.min(delta);
    if beta == 0.0 {
        0.0
    } else {
        beta / delta
    }
}

/// scikit-learn's Oracle Approximating Shrinkage coefficient of the covariance `cov` of `n`
/// samples.
fn oas_shrinkage_of(cov: &Array2<f64>, n: usize) -> f64 {
    let d = cov.nrows();
    if d == 1 {
        return 0.0;
    }
    let (n, df) = (n as f64, d as f64);
    let alpha = cov.iter().map(|v| v * v).sum::<f64>() / (df * df);
    let mu = cov.diag().sum() / df;
    let mu_squared = mu * mu;
    let num = alpha + mu_squared;
    let den = (n + 1.0) * (alpha - mu_squared / df);
    if den == 0.0 {
        1.0
    } else {
        (num / den).min(1.0)
    }
}

/// scipy's `pinvh`: the pseudo-inverse of the symmetric `a` through its eigendecomposition,
/// eigenvalues at most `d * eps * max |eigenvalue|` treated as zero; and the log-determinant of
/// that pseudo-inverse as scikit-learn's `fast_logdet` reads it (minus infinity unless it is
/// positive definite).
fn pinvh(a: &Array2<f64>, eps: f64) -> Result<(Array2<f64>, f64)> {
    let d = a.nrows();
    let (w, v) = eigh_descending(a)?;
    let largest = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let cutoff = d as f64 * eps * largest;
    let inv: Array1<f64> = w.mapv(|s| if s.abs() > cutoff { 1.0 / s } else { 0.0 });
    let precision = (&v * &inv).dot(&v.t());
    let logdet = if inv.iter().all(|&s| s > 0.0) { inv.iter().map(|s| s.ln()).sum() } else { f64::NEG_INFINITY };
    Ok((precision, logdet))
}

/// A fitted covariance model: the location (`location_`), the covariance (`covariance_`) and
/// its pseudo-inverse (`precision_`), kept where it was fitted.
#[derive(Debug, Clone)]
struct Fitted<F: Real, S: Storage> {
    location: S::Vec<F>,
    covariance: S::Mat<F>,
    precision: S::Mat<F>,
    precision_host: Array2<f64>,
    logdet_precision: f64,
    store_precision: bool,
    /// The weight of the scaled identity (0 for the empirical covariance).
    shrinkage: f64,
    n_features: usize,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] Fitted<F, @> { location: vec[d], covariance: mat[d, d], precision: mat[d, d], precision_host, logdet_precision, store_precision, shrinkage, n_features: size[d], _f });

impl<F: Real, S: Storage> Fitted<F, S> {
    fn new(m: Moments<F, S>, shrinkage: f64, store_precision: bool, device: kiln_runtime::Device) -> Result<Self> {
        let cov = if shrinkage == 0.0 { m.cov.clone() } else { shrink(&m.cov, shrinkage) };
        let eps = 2.0 * F::UNIT_ROUNDOFF;
        let (precision_host, logdet_precision) = pinvh(&cov, eps)?;
        let to_f = |a: &Array2<f64>| a.mapv(F::from_f64);
        Ok(Fitted {
            location: m.loc,
            covariance: S::mat_from_host(to_f(&cov), device)?,
            precision: S::mat_from_host(to_f(&precision_host), device)?,
            precision_host,
            logdet_precision,
            store_precision,
            shrinkage,
            n_features: cov.nrows(),
            _f: PhantomData,
        })
    }

    fn mahalanobis<X: Matrix<F>>(&self, estimator: &'static str, x: &X) -> Result<Vect<X::Storage, F>> {
        check_fitted_x(estimator, self.n_features, x)?;
        let z = mahalanobis_sq::tensors::<F>(x.arg(), S::vec_arg(&self.location), S::mat_arg(&self.precision))?;
        X::Storage::vec(z)
    }

    fn error_norm(&self, comp_cov: &Array2<f64>, norm: ErrorNorm, scaling: bool, squared: bool) -> Result<f64> {
        let d = self.n_features;
        if comp_cov.dim() != (d, d) {
            return Err(EstimatorError::Shape(format!(
                "comp_cov has shape {:?}, but the covariance is {d} x {d}",
                comp_cov.dim()
            )));
        }
        let error = comp_cov - &S::mat_to_host(&self.covariance)?.mapv(|v| v.to_f64());
        let squared_norm = match norm {
            ErrorNorm::Frobenius => error.iter().map(|v| v * v).sum::<f64>(),
            ErrorNorm::Spectral => svd(&error.t().dot(&error))?.1.iter().fold(0.0f64, |m, &v| m.max(v)),
        };
        let squared_norm = if scaling { squared_norm / d as f64 } else { squared_norm };
        Ok(if squared { squared_norm } else { squared_norm.sqrt() })
    }

    fn score<X: Matrix<F>>(&self, estimator: &'static str, x: &X) -> Result<f64> {
        let n = check_fitted_x(estimator, self.n_features, x)?;
        if n == 0 {
            return Err(EstimatorError::EmptyInput {
                estimator,
                n_samples: 0,
                n_features: self.n_features,
                min_samples: 1,
            });
        }
        let (cov, _) = scatter::tensors::<F>(x.arg(), S::vec_arg(&self.location), F::from_f64(n as f64))?;
        let cov = cov.to_array::<Ix2>()?;
        let p = &self.precision_host;
        let d = self.n_features as f64;
        let fit: f64 = cov.iter().zip(p.iter()).map(|(c, q)| c.to_f64() * q).sum();
        Ok((-fit + self.logdet_precision - d * (2.0 * std::f64::consts::PI).ln()) / 2.0)
    }
}

/// The norm [`EmpiricalCovariance::error_norm`] measures a covariance error with (`norm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorNorm {
    /// The Frobenius norm (`"frobenius"`, the default).
    #[default]
    Frobenius,
    /// The spectral norm (`"spectral"`).
    Spectral,
}

/// Defines a fitted covariance estimator type over [`Fitted`] with scikit-learn's attributes
/// and methods.
macro_rules! covariance_model {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name<F: Real, S: Storage> {
            fitted: Fitted<F, S>,
        }

        crate::relocate!([F: Real] $name<F, @> { fitted: model });

        impl<F: Real, S: Storage> $name<F, S> {
            /// The estimated location (`location_`): the column means, or zeros with
            /// `assume_centered`.
            pub fn location(&self) -> &S::Vec<F> {
                &self.fitted.location
            }

            /// The estimated covariance matrix (`covariance_`, d x d).
            pub fn covariance(&self) -> &S::Mat<F> {
                &self.fitted.covariance
            }

            /// The pseudo-inverse of the covariance (`precision_`), or `None` when fitted with
            /// `store_precision(false)` (as scikit-learn's `None`).
            pub fn precision(&self) -> Option<&S::Mat<F>> {
                self.fitted.store_precision.then_some(&self.fitted.precision)
            }

            /// The pseudo-inverse of the covariance, whether stored or not (`get_precision`).
            pub fn get_precision(&self) -> &S::Mat<F> {
                &self.fitted.precision
            }

            /// The number of features seen when fitting (`n_features_in_`).
            pub fn n_features_in(&self) -> usize {
                self.fitted.n_features
            }

            /// The squared Mahalanobis distance of each row of `x` from the location under the
            /// precision (`mahalanobis`), where `x` lives.
            ///
            /// # Errors
            /// A different feature count than at fit time; NaN or infinity in `x`; `x` on
            /// another device than the model.
            pub fn mahalanobis<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, F>> {
                self.fitted.mahalanobis($label, x)
            }

            /// The Gaussian log-likelihood of `x` (centered on the fitted location) under the
            /// fitted precision (`score`): `(-tr(C P) + log det P - d log 2 pi) / 2` with `C`
            /// the scatter of `x`; minus infinity when the precision is singular.
            ///
            /// # Errors
            /// As [`Self::mahalanobis`]; an empty `x`.
            pub fn score<X: Matrix<F>>(&self, x: &X) -> Result<f64> {
                self.fitted.score($label, x)
            }

            /// The distance between `comp_cov` and the fitted covariance (`error_norm`): the
            /// squared Frobenius norm of the difference, or its squared spectral norm (the
            /// largest singular value of `E^T E`, as scikit-learn computes it), divided by the
            /// number of features with `scaling`, its square root unless `squared`.
            /// scikit-learn's defaults are `ErrorNorm::Frobenius`, `true`, `true`.
            ///
            /// # Errors
            /// `comp_cov` not d x d; the SVD failing (NaN input).
            pub fn error_norm(&self, comp_cov: &Array2<f64>, norm: ErrorNorm, scaling: bool, squared: bool) -> Result<f64> {
                self.fitted.error_norm(comp_cov, norm, scaling, squared)
            }
        }
    };
}

covariance_model!(
    /// A fitted maximum-likelihood covariance estimator (scikit-learn's `EmpiricalCovariance`).
    EmpiricalCovariance,
    "EmpiricalCovariance"
);
covariance_model!(
    /// A fitted covariance estimator shrunk by a given weight (scikit-learn's
    /// `ShrunkCovariance`).
    ShrunkCovariance,
    "ShrunkCovariance"
);
covariance_model!(
    /// A fitted Ledoit-Wolf shrunk covariance estimator (scikit-learn's `LedoitWolf`).
    LedoitWolf,
    "LedoitWolf"
);
covariance_model!(
    /// A fitted Oracle Approximating Shrinkage covariance estimator (scikit-learn's `OAS`; kiln
    /// spells acronyms as Rust does, like [`crate::decomposition::Pca`]).
    Oas,
    "OAS"
);

impl<F: Real, S: Storage> ShrunkCovariance<F, S> {
    /// The weight of the scaled identity in the shrunk covariance (`shrinkage`).
    pub fn shrinkage(&self) -> f64 {
        self.fitted.shrinkage
    }
}

impl<F: Real, S: Storage> LedoitWolf<F, S> {
    /// The weight of the scaled identity in the shrunk covariance (`shrinkage_`, in [0, 1]).
    pub fn shrinkage(&self) -> f64 {
        self.fitted.shrinkage
    }
}

impl<F: Real, S: Storage> Oas<F, S> {
    /// The weight of the scaled identity in the shrunk covariance (`shrinkage_`, in [0, 1]).
    pub fn shrinkage(&self) -> f64 {
        self.fitted.shrinkage
    }
}

/// Defines the hyper-parameters of a covariance estimator: `store_precision` and
/// `assume_centered` (scikit-learn's defaults: true and false), and its `fit`, which calls the
/// type's own `check` and `shrinkage_of` (the weight of the scaled identity).
macro_rules! covariance_params {
    ($(#[$doc:meta])* $params:ident => $name:ident, $label:literal $(, $extra:ident: $ety:ty = $edef:expr)*) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $params {
            store_precision: bool,
            assume_centered: bool,
            $($extra: $ety,)*
        }

        impl $name<f64, Host> {
            /// scikit-learn's defaults: `store_precision = true`, `assume_centered = false`.
            pub fn params() -> $params {
                $params { store_precision: true, assume_centered: false, $($extra: $edef,)* }
            }
        }

        impl $params {
            /// Whether to keep the precision matrix (`store_precision`).
            pub fn store_precision(mut self, yes: bool) -> Self {
                self.store_precision = yes;
                self
            }

            /// Whether the data are already centered: the location is then zero
            /// (`assume_centered`).
            pub fn assume_centered(mut self, yes: bool) -> Self {
                self.assume_centered = yes;
                self
            }

            /// Fit on `x` (n_samples x n_features).
            ///
            /// # Errors
            /// Invalid hyper-parameters; empty or non-finite X; the eigensolver failing;
            /// kernel errors.
            pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<$name<F, X::Storage>> {
                self.check()?;
                let m = moments($label, x, self.assume_centered)?;
                let shrinkage = self.shrinkage_of(&m.cov, m.beta, m.n);
                let fitted = Fitted::new(m, shrinkage, self.store_precision, x.device())?;
                Ok($name { fitted })
            }
        }
    };
}

covariance_params!(
    /// Hyper-parameters of [`EmpiricalCovariance`].
    EmpiricalCovarianceParams => EmpiricalCovariance, "EmpiricalCovariance"
);
covariance_params!(
    /// Hyper-parameters of [`ShrunkCovariance`] (scikit-learn's default `shrinkage = 0.1`).
    ShrunkCovarianceParams => ShrunkCovariance, "ShrunkCovariance", shrinkage: f64 = 0.1
);
covariance_params!(
    /// Hyper-parameters of [`LedoitWolf`]; `block_size` (scikit-learn's memory knob, at least
    /// 1) is checked and does not change results.
    LedoitWolfParams => LedoitWolf, "LedoitWolf", block_size: usize = 1000
);
covariance_params!(
    /// Hyper-parameters of [`Oas`].
    OasParams => Oas, "OAS"
);

impl EmpiricalCovarianceParams {
    fn check(&self) -> Result<()> {
        Ok(())
    }

    fn shrinkage_of(&self, _: &Array2<f64>, _: f64, _: usize) -> f64 {
        0.0
    }
}

impl ShrunkCovarianceParams {
    /// The weight of the scaled identity in the shrunk covariance (`shrinkage`, in [0, 1]):
    /// `(1 - shrinkage) * cov + shrinkage * trace(cov) / d * I`.
    pub fn shrinkage(mut self, shrinkage: f64) -> Self {
        self.shrinkage = shrinkage;
        self
    }

    fn check(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.shrinkage) {
            let s = self.shrinkage;
            return Err(EstimatorError::param("ShrunkCovariance", "shrinkage", "a float in the range [0, 1]", s));
        }
        Ok(())
    }

    fn shrinkage_of(&self, _: &Array2<f64>, _: f64, _: usize) -> f64 {
        self.shrinkage
    }
}

impl OasParams {
    fn check(&self) -> Result<()> {
        Ok(())
    }

    fn shrinkage_of(&self, cov: &Array2<f64>, _: f64, n: usize) -> f64 {
        oas_shrinkage_of(cov, n)
    }
}

impl LedoitWolfParams {
    /// The block size scikit-learn splits the covariance computation in (`block_size`, at
    /// least 1); kiln's kernels need no blocking, so it only is validated.
    pub fn block_size(mut self, block_size: usize) -> Self {
        self.block_size = block_size;
        self
    }

    fn check(&self) -> Result<()> {
        if self.block_size == 0 {
            return Err(EstimatorError::param("LedoitWolf", "block_size", "an int in the range [1, inf)", 0));
        }
        Ok(())
    }

    fn shrinkage_of(&self, cov: &Array2<f64>, beta: f64, n: usize) -> f64 {
        ledoit_wolf_shrinkage_of(cov, beta, n)
    }
}

/// A covariance estimator's hyper-parameters, as another estimator takes them to estimate
/// covariances with (LinearDiscriminantAnalysis's `covariance_estimator`): any of
/// [`EmpiricalCovariance`], [`ShrunkCovariance`], [`LedoitWolf`] and [`Oas`]'s params, through
/// `From` (`.covariance_estimator(Oas::params())`). The estimate is what the estimator's own
/// `fit` would leave in `covariance_`: the same shrinkage, from the same scatter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CovarianceEstimator {
    /// [`EmpiricalCovariance`]: the maximum-likelihood covariance.
    Empirical(EmpiricalCovarianceParams),
    /// [`ShrunkCovariance`]: shrunk by a given weight.
    Shrunk(ShrunkCovarianceParams),
    /// [`LedoitWolf`]: shrunk by the Ledoit-Wolf weight.
    LedoitWolf(LedoitWolfParams),
    /// [`Oas`]: shrunk by the Oracle Approximating Shrinkage weight.
    Oas(OasParams),
}

impl From<EmpiricalCovarianceParams> for CovarianceEstimator {
    fn from(p: EmpiricalCovarianceParams) -> Self {
        CovarianceEstimator::Empirical(p)
    }
}

impl From<ShrunkCovarianceParams> for CovarianceEstimator {
    fn from(p: ShrunkCovarianceParams) -> Self {
        CovarianceEstimator::Shrunk(p)
    }
}

impl From<LedoitWolfParams> for CovarianceEstimator {
    fn from(p: LedoitWolfParams) -> Self {
        CovarianceEstimator::LedoitWolf(p)
    }
}

impl From<OasParams> for CovarianceEstimator {
    fn from(p: OasParams) -> Self {
        CovarianceEstimator::Oas(p)
    }
}

impl CovarianceEstimator {
    /// The estimator's own hyper-parameter checks (those its `fit` makes).
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            CovarianceEstimator::Empirical(p) => p.check(),
            CovarianceEstimator::Shrunk(p) => p.check(),
            CovarianceEstimator::LedoitWolf(p) => p.check(),
            CovarianceEstimator::Oas(p) => p.check(),
        }
    }

    /// Whether the estimator takes the data as centered (its location is then zero).
    pub(crate) fn assume_centered(&self) -> bool {
        match self {
            CovarianceEstimator::Empirical(p) => p.assume_centered,
            CovarianceEstimator::Shrunk(p) => p.assume_centered,
            CovarianceEstimator::LedoitWolf(p) => p.assume_centered,
            CovarianceEstimator::Oas(p) => p.assume_centered,
        }
    }

    /// Whether the estimate needs `beta` (Ledoit-Wolf's sum of squared row norms squared).
    pub(crate) fn needs_beta(&self) -> bool {
        matches!(self, CovarianceEstimator::LedoitWolf(_))
    }

    /// The estimator's `covariance_` for `n` samples `Z` (centered on its location) given by
    /// their scatter `cov = Z^T Z / n` and `beta = sum_i (sum_j z_ij^2)^2` (read only by
    /// Ledoit-Wolf).
    pub(crate) fn covariance_of(&self, cov: &Array2<f64>, beta: f64, n: usize) -> Array2<f64> {
        let shrinkage = match self {
            CovarianceEstimator::Empirical(p) => p.shrinkage_of(cov, beta, n),
            CovarianceEstimator::Shrunk(p) => p.shrinkage_of(cov, beta, n),
            CovarianceEstimator::LedoitWolf(p) => p.shrinkage_of(cov, beta, n),
            CovarianceEstimator::Oas(p) => p.shrinkage_of(cov, beta, n),
        };
        if shrinkage == 0.0 {
            cov.clone()
        } else {
            shrink(cov, shrinkage)
        }
    }
}
