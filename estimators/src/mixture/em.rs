//! The EM steps of [`super::GaussianMixture`], as scikit-learn's `_gaussian_mixture.py` does them.
//!
//! Every step over the n samples is a kiln kernel: the E-step (the weighted log-density of each
//! row under each component, its log-sum-exp over the components, the responsibilities and
//! their mean log-likelihood) and the M-step sums (`resp^T X`, the per-component weighted
//! covariances). The k x d x d algebra between them (Cholesky factors, their inverses, log
//! determinants) runs on the host in f64 through `faer`.
//!
//! The E-step has two forms. Full and tied covariances use the precision Cholesky factors
//! `L_c` as scikit-learn does (`||x L_c - mu_c L_c||^2`): the k factors side by side are one
//! d x (k d) matrix, so `X L` is one matrix product for all components. Diagonal and spherical
//! covariances use `sum_j (x_j - mu_cj)^2 p_cj` with the precisions `p = L^2`.

use super::CovarianceType;
use crate::data::{Matrix, OnDevice, Storage};
use crate::datasets::Real;
use crate::decomposition::linalg::{cholesky, inverse_lower_transposed};
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::{Tensor, TensorArg};
use ndarray::{Array1, Array2, Array3, ArrayD, Axis, Ix1, Ix2, Ix3, IxDyn};

/// Full or tied covariances: the weighted log-density `bias_c - ||x L_c - mu_c L_c||^2 / 2` of
/// every row and component (`lflat` holds the k factors side by side, d x (k d); `mul` row c is
/// `mu_c L_c`; `bias_c` is `log w_c + log det L_c - d log(2 pi) / 2`), then the
/// responsibilities, the log-likelihood of each row, its mean and the most likely component.
#[kernel(crate = kiln_runtime)]
fn estep_full<F: Float>(
    x: Array2<F>,
    lflat: Array2<F>,
    mul: Array2<F>,
    bias: Array1<F>,
) -> (Array2<F>, Array1<F>, F, Array1<i64>) {
    let n = x.nrows();
    let k = mul.nrows();
    let d = mul.ncols();
    let y = x.dot(&lflat);
    let wlp = Array2::from_shape_fn((n, k), |(i, c)| {
        bias[[c]] - 0.5 * sum(0..d, |j| (y[[i, c * d + j]] - mul[[c, j]]).powi(2))
    });
    let lse = wlp.logsumexp_axis(Axis(1));
    let resp = (&wlp - lse.insert_axis(Axis(1))).exp();
    (resp, lse.clone(), lse.mean(), wlp.argmax_axis(Axis(1)))
}

/// Diagonal and spherical covariances: the weighted log-density
/// `bias_c - sum_j (x_j - mu_cj)^2 p_cj / 2` (`p` the precisions, k x d), then as
/// [`estep_full`].
#[kernel(crate = kiln_runtime)]
fn estep_diag<F: Float>(
    x: Array2<F>,
    means: Array2<F>,
    prec: Array2<F>,
    bias: Array1<F>,
) -> (Array2<F>, Array1<F>, F, Array1<i64>) {
    let n = x.nrows();
    let k = means.nrows();
    let d = means.ncols();
    let wlp = Array2::from_shape_fn((n, k), |(i, c)| {
        bias[[c]] - 0.5 * sum(0..d, |j| (x[[i, j]] - means[[c, j]]).powi(2) * prec[[c, j]])
    });
    let lse = wlp.logsumexp_axis(Axis(1));
    let resp = (&wlp - lse.insert_axis(Axis(1))).exp();
    (resp, lse.clone(), lse.mean(), wlp.argmax_axis(Axis(1)))
}

/// The M-step of full covariances: `nk = sum_i resp_ic + 10 eps`, the means `resp^T X / nk`
/// and per component `sum_i resp_ic (x_i - mu_c)(x_i - mu_c)^T / nk_c` (reg_covar is added on
/// the host), as `Z_c^T Z_c` with `Z_c = sqrt(resp_c) (X - mu_c)`: a batched matrix product
/// (one vendor GEMM call per component).
#[kernel(crate = kiln_runtime)]
fn mstep_full<F: Float>(x: Array2<F>, resp: Array2<F>, eps10: F) -> (Array1<F>, Array2<F>, Array3<F>) {
    let n = x.nrows();
    let d = x.ncols();
    let k = resp.ncols();
    let nk = resp.sum_axis(Axis(0)) + eps10;
    let means = resp.t().dot(&x) / nk.insert_axis(Axis(1));
    let z = Array3::from_shape_fn((k, n, d), |(c, i, a)| resp[[i, c]].sqrt() * (x[[i, a]] - means[[c, a]]));
    let cov = Array3::from_shape_fn((k, d, d), |(c, a, b)| sum(0..n, |i| z[[c, i, a]] * z[[c, i, b]]));
    let scaled = Array3::from_shape_fn((k, d, d), |(c, a, b)| cov[[c, a, b]] / nk[[c]]);
    (nk, means, scaled)
}

/// The M-step of a tied covariance, in scikit-learn's form: `(X^T X - sum_c nk_c mu_c mu_c^T)
/// / sum(nk)`.
#[kernel(crate = kiln_runtime)]
fn mstep_tied<F: Float>(x: Array2<F>, resp: Array2<F>, eps10: F) -> (Array1<F>, Array2<F>, Array2<F>) {
    let d = x.ncols();
    let k = resp.ncols();
    let nk = resp.sum_axis(Axis(0)) + eps10;
    let means = resp.t().dot(&x) / nk.insert_axis(Axis(1));
    let avg_x2 = x.t().dot(&x);
    let avg_means2 = Array2::from_shape_fn((d, d), |(a, b)| sum(0..k, |c| nk[[c]] * means[[c, a]] * means[[c, b]]));
    let cov = (avg_x2 - avg_means2) / nk.sum();
    (nk, means, cov)
}

/// The M-step of diagonal (and spherical) covariances, in scikit-learn's form:
/// `resp^T (X * X) / nk - mu^2` per component and feature.
#[kernel(crate = kiln_runtime)]
fn mstep_diag<F: Float>(x: Array2<F>, resp: Array2<F>, eps10: F) -> (Array1<F>, Array2<F>, Array2<F>) {
    let nk = resp.sum_axis(Axis(0)) + eps10;
    let means = resp.t().dot(&x) / nk.insert_axis(Axis(1));
    let avg_x2 = resp.t().dot(&(&x * &x)) / nk.insert_axis(Axis(1));
    let cov = avg_x2 - means.powi(2);
    (nk, means, cov)
}

/// scikit-learn's message when a covariance is not positive definite.
pub(super) fn ill_defined<F: Real>() -> EstimatorError {
    let mut msg = String::from(
        "Fitting the mixture model failed because some components have ill-defined empirical covariance \
         (for instance caused by singleton or collapsed samples). Try to decrease the number of components, \
         increase reg_covar, or scale the input data.",
    );
    if std::mem::size_of::<F>() == 4 {
        msg.push_str(" The numerical accuracy can also be improved by passing float64 data instead of float32.");
    }
    EstimatorError::Linalg(msg)
}

/// The mixture's parameters on the host, in f64: scikit-learn's `weights_`, `means_`,
/// `covariances_` (absent when the start came from `precisions_init` alone) and
/// `precisions_cholesky_`, shaped per covariance type (full k x d x d, tied d x d, diag k x d,
/// spherical k).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct State {
    pub(super) weights: Array1<f64>,
    pub(super) means: Array2<f64>,
    pub(super) covariances: Option<ArrayD<f64>>,
    pub(super) prec_chol: ArrayD<f64>,
}

/// `_compute_precision_cholesky`: the precision Cholesky factors of `cov`.
pub(super) fn precision_cholesky<F: Real>(cov: &ArrayD<f64>, ct: CovarianceType) -> Result<ArrayD<f64>> {
    match ct {
        CovarianceType::Full => {
            let k = cov.shape()[0];
            let d = cov.shape()[1];
            let mut out = Array3::<f64>::zeros((k, d, d));
            for c in 0..k {
                let a = cov.index_axis(Axis(0), c).to_owned().into_dimensionality::<Ix2>().map_err(shape_bug)?;
                let l = cholesky(&a).ok_or_else(ill_defined::<F>)?;
                out.index_axis_mut(Axis(0), c).assign(&inverse_lower_transposed(&l));
            }
            Ok(out.into_dyn())
        }
        CovarianceType::Tied => {
            let a = cov.clone().into_dimensionality::<Ix2>().map_err(shape_bug)?;
            let l = cholesky(&a).ok_or_else(ill_defined::<F>)?;
            Ok(inverse_lower_transposed(&l).into_dyn())
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            if cov.iter().any(|&v| v.is_nan() || v <= 0.0) {
                return Err(ill_defined::<F>());
            }
            Ok(cov.mapv(|v| 1.0 / v.sqrt()))
        }
    }
}

/// `_compute_precision_cholesky_from_precisions`: for full and tied, the upper factor `U` with
/// `P = U U^T` (the Cholesky factor of P with rows and columns reversed, reversed back); the
/// square roots otherwise.
pub(super) fn precision_cholesky_from_precisions(p: &ArrayD<f64>, ct: CovarianceType) -> Result<ArrayD<f64>> {
    let flipped_chol = |a: Array2<f64>| -> Result<Array2<f64>> {
        let d = a.nrows();
        let f = Array2::from_shape_fn((d, d), |(i, j)| a[[d - 1 - i, d - 1 - j]]);
        let l = cholesky(&f).ok_or_else(|| {
            EstimatorError::param(
                "GaussianMixture",
                "precisions_init",
                "symmetric, positive-definite",
                "a matrix that is not",
            )
        })?;
        Ok(Array2::from_shape_fn((d, d), |(i, j)| l[[d - 1 - i, d - 1 - j]]))
    };
    match ct {
        CovarianceType::Full => {
            let (k, d) = (p.shape()[0], p.shape()[1]);
            let mut out = Array3::<f64>::zeros((k, d, d));
            for c in 0..k {
                let a = p.index_axis(Axis(0), c).to_owned().into_dimensionality::<Ix2>().map_err(shape_bug)?;
                out.index_axis_mut(Axis(0), c).assign(&flipped_chol(a)?);
            }
            Ok(out.into_dyn())
        }
        CovarianceType::Tied => {
            Ok(flipped_chol(p.clone().into_dimensionality::<Ix2>().map_err(shape_bug)?)?.into_dyn())
        }
        CovarianceType::Diag | CovarianceType::Spherical => Ok(p.mapv(f64::sqrt)),
    }
}

fn shape_bug(e: ndarray::ShapeError) -> EstimatorError {
    EstimatorError::Shape(format!("internal shape mismatch: {e}"))
}

/// `precisions_`: `L L^T` per factor for full and tied, the squares otherwise.
pub(super) fn precisions_of(prec_chol: &ArrayD<f64>, ct: CovarianceType) -> ArrayD<f64> {
    let outer = |l: ndarray::ArrayView2<'_, f64>| l.dot(&l.t());
    match ct {
        CovarianceType::Full => {
            let k = prec_chol.shape()[0];
            let views: Vec<Array2<f64>> = (0..k)
                .map(|c| {
                    let l = prec_chol.index_axis(Axis(0), c);
                    let l =
                        l.into_dimensionality::<Ix2>().unwrap_or_else(|_| unreachable!("full factors are k x d x d"));
                    outer(l)
                })
                .collect();
            let v: Vec<_> = views.iter().map(|a| a.view()).collect();
            ndarray::stack(Axis(0), &v).unwrap_or_else(|_| unreachable!("equal shapes")).into_dyn()
        }
        CovarianceType::Tied => {
            let l =
                prec_chol.view().into_dimensionality::<Ix2>().unwrap_or_else(|_| unreachable!("tied factor is d x d"));
            outer(l).into_dyn()
        }
        CovarianceType::Diag | CovarianceType::Spherical => prec_chol.mapv(|v| v * v),
    }
}

/// What the E-step kernel of a mixture reads, where the data lives.
#[derive(Debug, Clone)]
pub(super) enum EStep<F: Real, S: Storage> {
    /// Full and tied: the factors side by side (d x k d), `mu_c L_c` (k x d), the biases.
    Full { lflat: S::Mat<F>, mul: S::Mat<F>, bias: S::Vec<F> },
    /// Diagonal and spherical: the means, the precisions (k x d), the biases.
    Diag { means: S::Mat<F>, prec: S::Mat<F>, bias: S::Vec<F> },
}

/// The E-step's outputs: responsibilities (n x k), per-row log-likelihood, its mean, the most
/// likely component.
pub(super) type EStepOut<F> = (Tensor<F>, Tensor<F>, Tensor<F>, Tensor<i64>);

/// Moves with the model: each operand to the new storage (see [`crate::relocate`]).
impl<F: Real, S: Storage> crate::relocate::Relocate for EStep<F, S> {
    type At<T: crate::traits::Place> = EStep<F, T>;
    fn relocate<T: crate::traits::Place>(&self, d: kiln_runtime::Device) -> Result<EStep<F, T>> {
        use crate::relocate::{mat, vec};
        Ok(match self {
            EStep::Full { lflat, mul, bias } => EStep::Full {
                lflat: mat::<S, T, F>(lflat, d)?,
                mul: mat::<S, T, F>(mul, d)?,
                bias: vec::<S, T, F>(bias, d)?,
            },
            EStep::Diag { means, prec, bias } => EStep::Diag {
                means: mat::<S, T, F>(means, d)?,
                prec: mat::<S, T, F>(prec, d)?,
                bias: vec::<S, T, F>(bias, d)?,
            },
        })
    }
}

/// [`EStep`] as written and read: host arrays.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
enum EStepRepr<M, V> {
    Full { lflat: M, mul: M, bias: V },
    Diag { means: M, prec: M, bias: V },
}

impl<F: Real, S: Storage> serde::Serialize for EStep<F, S> {
    fn serialize<Ser: serde::Serializer>(&self, ser: Ser) -> std::result::Result<Ser::Ok, Ser::Error> {
        use crate::relocate::Relocate;
        let host = self
            .relocate::<crate::data::Host>(kiln_runtime::Device::default_device())
            .map_err(serde::ser::Error::custom)?;
        match &host {
            EStep::Full { lflat, mul, bias } => EStepRepr::Full { lflat, mul, bias }.serialize(ser),
            EStep::Diag { means, prec, bias } => EStepRepr::Diag { means, prec, bias }.serialize(ser),
        }
    }
}

impl<'de, F: Real> serde::Deserialize<'de> for EStep<F, crate::data::Host> {
    fn deserialize<De: serde::Deserializer<'de>>(de: De) -> std::result::Result<Self, De::Error> {
        let repr = EStepRepr::<Array2<F>, Array1<F>>::deserialize(de)?;
        let (EStepRepr::Full { lflat: m1, mul: m2, bias } | EStepRepr::Diag { means: m1, prec: m2, bias }) = &repr;
        let check = || -> Result<()> {
            crate::relocate::check_finite(m1, "estep")?;
            crate::relocate::check_finite(m2, "estep")?;
            crate::relocate::check_finite(bias, "estep")?;
            if m2.nrows() != bias.len() {
                return Err(EstimatorError::Persist(
                    "inconsistent attributes: the E-step operands disagree on the number of components".into(),
                ));
            }
            Ok(())
        };
        check().map_err(serde::de::Error::custom)?;
        Ok(match repr {
            EStepRepr::Full { lflat, mul, bias } => EStep::Full { lflat, mul, bias },
            EStepRepr::Diag { means, prec, bias } => EStep::Diag { means, prec, bias },
        })
    }
}

impl<F: Real, S: Storage> EStep<F, S> {
    /// The operands of the E-step for `state`, moved to `device`.
    pub(super) fn new(state: &State, ct: CovarianceType, device: kiln_runtime::Device) -> Result<Self> {
        let (k, d) = state.means.dim();
        let half_log_2pi = 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
        let log_w = state.weights.mapv(f64::ln);
        let to_f2 = |a: Array2<f64>| S::mat_from_host(a.mapv(F::from_f64), device);
        let to_f1 = |a: Array1<f64>| S::vec_from_host(a.mapv(F::from_f64), device);
        match ct {
            CovarianceType::Full | CovarianceType::Tied => {
                let factor = |c: usize| -> Result<Array2<f64>> {
                    let v = if ct == CovarianceType::Full {
                        state.prec_chol.index_axis(Axis(0), c)
                    } else {
                        state.prec_chol.view()
                    };
                    v.to_owned().into_dimensionality::<Ix2>().map_err(shape_bug)
                };
                let mut lflat = Array2::<f64>::zeros((d, k * d));
                let mut mul = Array2::<f64>::zeros((k, d));
                let mut bias = Array1::<f64>::zeros(k);
                for c in 0..k {
                    let l = factor(c)?;
                    lflat.slice_axis_mut(Axis(1), ndarray::Slice::from(c * d..(c + 1) * d)).assign(&l);
                    mul.row_mut(c).assign(&state.means.row(c).dot(&l));
                    let log_det: f64 = (0..d).map(|j| l[[j, j]].ln()).sum();
                    bias[c] = log_w[c] + log_det - half_log_2pi;
                }
                Ok(EStep::Full { lflat: to_f2(lflat)?, mul: to_f2(mul)?, bias: to_f1(bias)? })
            }
            CovarianceType::Diag | CovarianceType::Spherical => {
                let pc = if ct == CovarianceType::Diag {
                    state.prec_chol.clone().into_dimensionality::<Ix2>().map_err(shape_bug)?
                } else {
                    let p = state.prec_chol.clone().into_dimensionality::<Ix1>().map_err(shape_bug)?;
                    Array2::from_shape_fn((k, d), |(c, _)| p[c])
                };
                let bias = Array1::from_shape_fn(k, |c| {
                    let log_det: f64 = pc.row(c).iter().map(|v| v.ln()).sum();
                    log_w[c] + log_det - half_log_2pi
                });
                Ok(EStep::Diag {
                    means: to_f2(state.means.clone())?,
                    prec: to_f2(pc.mapv(|v| v * v))?,
                    bias: to_f1(bias)?,
                })
            }
        }
    }

    /// Runs the E-step on `x`.
    pub(super) fn run<X: Matrix<F>>(&self, x: &X) -> Result<EStepOut<F>> {
        Ok(match self {
            EStep::Full { lflat, mul, bias } => {
                estep_full::tensors::<F>(x.arg(), S::mat_arg(lflat), S::mat_arg(mul), S::vec_arg(bias))?
            }
            EStep::Diag { means, prec, bias } => {
                estep_diag::tensors::<F>(x.arg(), S::mat_arg(means), S::mat_arg(prec), S::vec_arg(bias))?
            }
        })
    }
}

/// `_estimate_gaussian_parameters`: `nk`, the means and the covariances (reg_covar added) from
/// the responsibilities `resp` (n x k, on x's device).
pub(super) fn mstep<'a, F: Real, X: Matrix<F>>(
    x: &'a X,
    resp: TensorArg<'a>,
    ct: CovarianceType,
    reg_covar: f64,
) -> Result<(Array1<f64>, Array2<f64>, ArrayD<f64>)> {
    let eps10 = F::from_f64(10.0 * 2.0 * F::UNIT_ROUNDOFF);
    let f1 = |t: Tensor<F>| -> Result<Array1<f64>> { Ok(t.to_array::<Ix1>()?.mapv(|v| v.to_f64())) };
    let f2 = |t: Tensor<F>| -> Result<Array2<f64>> { Ok(t.to_array::<Ix2>()?.mapv(|v| v.to_f64())) };
    let add_diag = |mut a: Array2<f64>| {
        a.diag_mut().mapv_inplace(|v| v + reg_covar);
        a
    };
    Ok(match ct {
        CovarianceType::Full => {
            let (nk, means, cov) = mstep_full::tensors::<F>(x.arg(), resp, eps10)?;
            let mut cov = cov.to_array::<Ix3>()?.mapv(|v| v.to_f64());
            for mut m in cov.outer_iter_mut() {
                m.diag_mut().mapv_inplace(|v| v + reg_covar);
            }
            (f1(nk)?, f2(means)?, cov.into_dyn())
        }
        CovarianceType::Tied => {
            let (nk, means, cov) = mstep_tied::tensors::<F>(x.arg(), resp, eps10)?;
            (f1(nk)?, f2(means)?, add_diag(f2(cov)?).into_dyn())
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            let (nk, means, cov) = mstep_diag::tensors::<F>(x.arg(), resp, eps10)?;
            let cov = f2(cov)?.mapv(|v| v + reg_covar);
            let cov = if ct == CovarianceType::Diag {
                cov.into_dyn()
            } else {
                cov.mean_axis(Axis(1)).unwrap_or_else(|| unreachable!("d >= 1")).into_dyn()
            };
            (f1(nk)?, f2(means)?, cov)
        }
    })
}

/// A host matrix as a kernel argument on `device` (kept alive by the caller).
pub(super) fn upload<F: Real>(a: Array2<F>, device: kiln_runtime::Device) -> Result<Tensor<F>> {
    OnDevice::mat_from_host(a, device)
}

/// An empty `ArrayD` of the shape scikit-learn gives a covariance type's parameters.
pub(super) fn param_shape(ct: CovarianceType, k: usize, d: usize) -> IxDyn {
    match ct {
        CovarianceType::Full => IxDyn(&[k, d, d]),
        CovarianceType::Tied => IxDyn(&[d, d]),
        CovarianceType::Diag => IxDyn(&[k, d]),
        CovarianceType::Spherical => IxDyn(&[k]),
    }
}
