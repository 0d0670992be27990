//! `QuantileTransformer`: map each feature through its empirical distribution function to a
//! uniform or a standard normal output (scikit-learn's `sklearn.preprocessing.QuantileTransformer`
//! on dense input).
//!
//! Fitting is one kernel: the (optionally subsampled) rows gathered, each column sorted, and
//! the `n_quantiles` percentiles read from the sorted columns with numpy's linear interpolation
//! (`np.percentile`'s virtual indices and its two-sided `_lerp`). Transform is one kernel per
//! element: `np.interp` of the value against the column's quantiles, done in both directions and
//! averaged as scikit-learn does (so repeated quantiles map to the middle of their run), the
//! bounds set exactly, and for the normal output the inverse normal CDF (Acklam's rational
//! approximation refined by one Halley step on `erfc`) clipped where scikit-learn clips it.
//! `inverse_transform` is the same interpolation the other way.

use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::random_state::RandomState;
use kiln_macros::kernel;
use ndarray::{Array1, Ix1};
use std::marker::PhantomData;

/// scikit-learn's `BOUNDS_THRESHOLD`.
const BOUNDS_THRESHOLD: f64 = 1e-7;

/// The quantiles of each column of `x[rows]`: `lerp(sorted[prev[r]], sorted[next[r]],
/// gamma[r])` with numpy's two-sided lerp.
#[kernel(crate = kiln_runtime)]
fn quantiles_of<F: Float>(
    x: Array2<F>,
    rows: Array1<i64>,
    prev: Array1<i64>,
    next: Array1<i64>,
    gamma: Array1<f64>,
) -> Array2<F> {
    let m = rows.len();
    let d = x.ncols();
    let nq = prev.len();
    let sub = Array2::from_shape_fn((m, d), |(s, j)| x[[rows[[s]] as usize, j]]);
    let sorted = sub.sort_axis(Axis(0));
    Array2::from_shape_fn((nq, d), |(r, j)| {
        let a = sorted[[prev[[r]] as usize, j]] as f64;
        let b = sorted[[next[[r]] as usize, j]] as f64;
        let g = gamma[[r]];
        let diff = b - a;
        let v = if g >= 0.5 { b - diff * (1.0 - g) } else { a + diff * g };
        v as F
    })
}

/// The forward map of every element: `0.5 * (interp(x, q, ref) - interp(-x, -q[::-1],
/// -ref[::-1]))` with numpy's `interp`, the bounds set to 0 and 1, and for `normal > 0` the
/// inverse normal CDF clipped to `[clip_lo, clip_hi]`.
#[kernel(crate = kiln_runtime)]
fn quantile_forward<F: Float>(
    x: Array2<F>,
    q: Array2<F>,
    refs: Array1<f64>,
    normal: i64,
    threshold: f64,
    clip_lo: f64,
    clip_hi: f64,
) -> Array2<F> {
    let (n, d) = x.dim();
    let nq = refs.len();
    let at_most =
        Array2::from_shape_fn((n, d), |(i, j)| sum(0..nq, |r| select((q[[r, j]] as f64) <= (x[[i, j]] as f64), 1, 0)));
    let below =
        Array2::from_shape_fn((n, d), |(i, j)| sum(0..nq, |r| select((q[[r, j]] as f64) < (x[[i, j]] as f64), 1, 0)));
    Array2::from_shape_fn((n, d), |(i, j)| {
        let v = x[[i, j]] as f64;
        let lo = q[[0, j]] as f64;
        let hi = q[[nq - 1, j]] as f64;
        // np.interp(v, q, refs): `jj` the last quantile <= v.
        let jj = at_most[[i, j]] - 1;
        let j0 = if jj < 0 { 0 } else { jj };
        let j1 = if j0 + 1 < nq as i64 { j0 + 1 } else { j0 };
        let qa = q[[j0 as usize, j]] as f64;
        let qb = q[[j1 as usize, j]] as f64;
        let ra = refs[[j0 as usize]];
        let rb = refs[[j1 as usize]];
        let up = if jj < 0 {
            refs[[0]]
        } else if jj >= nq as i64 - 1 {
            refs[[nq - 1]]
        } else if v == qa {
            ra
        } else {
            (rb - ra) / (qb - qa) * (v - qa) + ra
        };
        // -np.interp(-v, -q[::-1], -refs[::-1]): `u` the first quantile >= v.
        let u = below[[i, j]];
        let u1 = if u < nq as i64 { u } else { nq as i64 - 1 };
        let u0 = if u1 > 0 { u1 - 1 } else { 0 };
        let qu = q[[u1 as usize, j]] as f64;
        let qp = q[[u0 as usize, j]] as f64;
        let ru = refs[[u1 as usize]];
        let rp = refs[[u0 as usize]];
        let down = if u >= nq as i64 {
            refs[[nq - 1]]
        } else if u == 0 {
            refs[[0]]
        } else if qu == v {
            ru
        } else {
            ru - (ru - rp) / (qu - qp) * (qu - v)
        };
        let mid = 0.5 * (up + down);
        let is_hi = if normal > 0 { v + threshold > hi } else { v == hi };
        let is_lo = if normal > 0 { v - threshold < lo } else { v == lo };
        let p = if is_lo {
            0.0
        } else if is_hi {
            1.0
        } else {
            mid
        };
        // The inverse normal CDF (Acklam), refined by one Halley step.
        let pl = if p < 0.5 { p } else { 1.0 - p };
        let tq = (-2.0 * pl.max(1e-300).ln()).sqrt();
        let tail = (((((-7.784894002430293e-03 * tq - 3.223964580411365e-01) * tq - 2.400758277161838e+00) * tq
            - 2.549732539343734e+00)
            * tq
            + 4.374664141464968e+00)
            * tq
            + 2.938163982698783e+00)
            / ((((7.784695709041462e-03 * tq + 3.224671290700398e-01) * tq + 2.445134137142996e+00) * tq
                + 3.754408661907416e+00)
                * tq
                + 1.0);
        let cq = pl - 0.5;
        let cr = cq * cq;
        let central = (((((-3.969683028665376e+01 * cr + 2.209460984245205e+02) * cr - 2.759285104469687e+02) * cr
            + 1.383577518672690e+02)
            * cr
            - 3.066479806614716e+01)
            * cr
            + 2.506628277459239e+00)
            * cq
            / (((((-5.447609879822406e+01 * cr + 1.615858368580409e+02) * cr - 1.556989798598866e+02) * cr
                + 6.680131188771972e+01)
                * cr
                - 1.328068155288572e+01)
                * cr
                + 1.0);
        let z0 = if pl < 0.02425 { tail } else { central };
        let e = 0.5 * erfc(-z0 / std::f64::consts::SQRT_2) - pl;
        let du = e * (2.0 * std::f64::consts::PI).sqrt() * (z0 * z0 / 2.0).exp();
        let z1 = z0 - du / (1.0 + z0 * du / 2.0);
        let z = if p < 0.5 { z1 } else { -z1 };
        let zz = if p <= 0.0 {
            clip_lo
        } else if p >= 1.0 {
            clip_hi
        } else {
            z.clamp(clip_lo, clip_hi)
        };
        let out = if normal > 0 { zz } else { p };
        out as F
    })
}

/// The inverse map: for `normal > 0` the normal CDF first, then `np.interp(v, ref, q)` with
/// the bounds set to the first and last quantile.
#[kernel(crate = kiln_runtime)]
fn quantile_inverse<F: Float>(x: Array2<F>, q: Array2<F>, refs: Array1<f64>, normal: i64, threshold: f64) -> Array2<F> {
    let (n, d) = x.dim();
    let nq = refs.len();
    let p = Array2::from_shape_fn((n, d), |(i, j)| {
        let v = x[[i, j]] as f64;
        if normal > 0 {
            0.5 * erfc(-v / std::f64::consts::SQRT_2)
        } else {
            v
        }
    });
    let at_most = Array2::from_shape_fn((n, d), |(i, j)| sum(0..nq, |r| select(refs[[r]] <= p[[i, j]], 1, 0)));
    Array2::from_shape_fn((n, d), |(i, j)| {
        let v = p[[i, j]];
        let jj = at_most[[i, j]] - 1;
        let j0 = if jj < 0 { 0 } else { jj };
        let j1 = if j0 + 1 < nq as i64 { j0 + 1 } else { j0 };
        let ra = refs[[j0 as usize]];
        let rb = refs[[j1 as usize]];
        let qa = q[[j0 as usize, j]] as f64;
        let qb = q[[j1 as usize, j]] as f64;
        let lo = q[[0, j]] as f64;
        let hi = q[[nq - 1, j]] as f64;
        let mid = if jj < 0 {
            lo
        } else if jj >= nq as i64 - 1 {
            hi
        } else if v == ra {
            qa
        } else {
            (qb - qa) / (rb - ra) * (v - ra) + qa
        };
        let is_hi = if normal > 0 { v + threshold > 1.0 } else { v == 1.0 };
        let is_lo = if normal > 0 { v - threshold < 0.0 } else { v == 0.0 };
        let out = if is_lo {
            lo
        } else if is_hi {
            hi
        } else {
            mid
        };
        out as F
    })
}

/// The distribution transform maps to (`output_distribution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum OutputDistribution {
    /// Uniform on [0, 1] (`"uniform"`, the default).
    #[default]
    Uniform,
    /// Standard normal (`"normal"`).
    Normal,
}

/// Hyper-parameters of [`QuantileTransformer`] (scikit-learn's defaults: 1000 quantiles,
/// uniform output, subsample 10 000, seed 0 for the subsample).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileTransformerParams {
    n_quantiles: i64,
    output_distribution: OutputDistribution,
    subsample: Option<i64>,
    seed: u32,
}

/// A fitted quantile transformer: the quantiles of each feature (`quantiles_`, n_quantiles x
/// n_features) and the references they map to (`references_`), kept where X lived.
#[derive(Debug, Clone)]
pub struct QuantileTransformer<F: Real, S: Storage> {
    quantiles: S::Mat<F>,
    references: S::Vec<f64>,
    n_quantiles: usize,
    n_features: usize,
    output_distribution: OutputDistribution,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] QuantileTransformer<F, @> { quantiles: mat[q, d], references: vec[q], n_quantiles: size[q], n_features: size[d], output_distribution, _f });

impl QuantileTransformer<f64, crate::data::Host> {
    /// The default hyper-parameters.
    pub fn params() -> QuantileTransformerParams {
        QuantileTransformerParams {
            n_quantiles: 1000,
            output_distribution: OutputDistribution::Uniform,
            subsample: Some(10_000),
            seed: 0,
        }
    }
}

/// scikit-learn's clip bounds of the normal output: `stats.norm.ppf(BOUNDS_THRESHOLD -
/// np.spacing(1))` and `stats.norm.ppf(1 - (BOUNDS_THRESHOLD - np.spacing(1)))` (scipy's values).
const CLIP: (f64, f64) = (-5.199337582605575, 5.19933758270342);

impl QuantileTransformerParams {
    /// The number of quantiles (`n_quantiles`, >= 1; at most the sample count is used).
    pub fn n_quantiles(mut self, n: i64) -> Self {
        self.n_quantiles = n;
        self
    }

    /// The output distribution (`output_distribution`).
    pub fn output_distribution(mut self, d: OutputDistribution) -> Self {
        self.output_distribution = d;
        self
    }

    /// The most rows the quantiles are estimated from (`subsample`, >= 1; `None` for all).
    pub fn subsample(mut self, subsample: Option<i64>) -> Self {
        self.subsample = subsample;
        self
    }

    /// The seed of the row subsample (`random_state`; numpy's `RandomState(seed)`).
    pub fn seed(mut self, seed: u32) -> Self {
        self.seed = seed;
        self
    }

    /// Estimate the quantiles of each feature of `x`.
    ///
    /// # Errors
    /// `n_quantiles` or `subsample` below 1; `n_quantiles > subsample` ("The number of quantiles
    /// cannot be greater than the number of samples used. Got .. quantiles and .. samples.");
    /// empty or non-finite X; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<QuantileTransformer<F, X::Storage>> {
        const E: &str = "QuantileTransformer";
        if self.n_quantiles < 1 {
            return Err(EstimatorError::param(E, "n_quantiles", "an int in the range [1, inf)", self.n_quantiles));
        }
        if let Some(s) = self.subsample {
            if s < 1 {
                return Err(EstimatorError::param(E, "subsample", "an int in the range [1, inf) or None", s));
            }
            if self.n_quantiles > s {
                return Err(EstimatorError::InvalidParameter {
                    estimator: E,
                    name: "n_quantiles",
                    expected: "at most subsample".into(),
                    got: format!(
                        "The number of quantiles cannot be greater than the number of samples used. Got {} quantiles and {s} samples.",
                        self.n_quantiles
                    ),
                });
            }
        }
        let (n, d) = check_x(E, x, 1)?;
        let nq = (self.n_quantiles as usize).min(n).max(1);
        // np.linspace(0, 1, nq): i * step, the last exactly 1.
        let references: Array1<f64> = if nq == 1 {
            Array1::zeros(1)
        } else {
            let step = 1.0 / (nq - 1) as f64;
            Array1::from_shape_fn(nq, |i| if i == nq - 1 { 1.0 } else { i as f64 * step })
        };
        // sklearn.utils.resample(replace=False): the first `subsample` of a permutation.
        let rows: Vec<i64> = match self.subsample {
            Some(s) if (s as usize) < n => {
                RandomState::new(self.seed).permutation(n)[..s as usize].iter().map(|&i| i as i64).collect()
            }
            _ => (0..n as i64).collect(),
        };
        let m = rows.len();
        // np.percentile(col, references * 100): virtual index (m - 1) * (p / 100).
        let (mut prev, mut next, mut gamma) = (Vec::with_capacity(nq), Vec::with_capacity(nq), Vec::with_capacity(nq));
        for &r in references.iter() {
            let vi = (m - 1) as f64 * (r * 100.0 / 100.0);
            let p = vi.floor();
            if vi >= (m - 1) as f64 {
                prev.push(m as i64 - 1);
                next.push(m as i64 - 1);
            } else {
                prev.push(p as i64);
                next.push(p as i64 + 1);
            }
            gamma.push(vi - p);
        }
        let device = x.device();
        let rows_t = kiln_runtime::Tensor::from_owned(Array1::from(rows), device)?;
        let prev_t = kiln_runtime::Tensor::from_owned(Array1::from(prev), device)?;
        let next_t = kiln_runtime::Tensor::from_owned(Array1::from(next), device)?;
        let gamma_t = kiln_runtime::Tensor::from_owned(Array1::from(gamma), device)?;
        let arg1 = |t| kiln_runtime::tensor_arg::<i64, Ix1>(t);
        let quantiles = quantiles_of::tensors::<F>(
            x.arg(),
            arg1(&rows_t),
            arg1(&prev_t),
            arg1(&next_t),
            kiln_runtime::tensor_arg::<f64, Ix1>(&gamma_t),
        )?;
        Ok(QuantileTransformer {
            quantiles: X::Storage::mat(quantiles)?,
            references: X::Storage::vec_from_host(references, device)?,
            n_quantiles: nq,
            n_features: d,
            output_distribution: self.output_distribution,
            _f: PhantomData,
        })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`QuantileTransformerParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        self.fit(x)?.transform_unchecked(x)
    }
}

impl<F: Real, S: Storage> QuantileTransformer<F, S> {
    /// The quantiles of each feature (`quantiles_`, n_quantiles x n_features).
    pub fn quantiles(&self) -> &S::Mat<F> {
        &self.quantiles
    }

    /// The probabilities the quantiles stand for (`references_`, evenly spaced in [0, 1]).
    pub fn references(&self) -> &S::Vec<f64> {
        &self.references
    }

    /// The number of quantiles used (`n_quantiles_`: `n_quantiles` capped at the sample count).
    pub fn n_quantiles(&self) -> usize {
        self.n_quantiles
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// Map `x` through each feature's distribution to the output distribution.
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity; kernel errors.
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("QuantileTransformer", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    fn transform_unchecked<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let normal = i64::from(self.output_distribution == OutputDistribution::Normal);
        let (clip_lo, clip_hi) = CLIP;
        X::Storage::mat(quantile_forward::tensors::<F>(
            x.arg(),
            S::mat_arg(&self.quantiles),
            S::vec_arg(&self.references),
            normal,
            BOUNDS_THRESHOLD,
            clip_lo,
            clip_hi,
        )?)
    }

    /// Map values of the output distribution back to the features' scale.
    ///
    /// # Errors
    /// As [`QuantileTransformer::transform`].
    pub fn inverse_transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("QuantileTransformer", self.n_features, x)?;
        let normal = i64::from(self.output_distribution == OutputDistribution::Normal);
        X::Storage::mat(quantile_inverse::tensors::<F>(
            x.arg(),
            S::mat_arg(&self.quantiles),
            S::vec_arg(&self.references),
            normal,
            BOUNDS_THRESHOLD,
        )?)
    }
}

crate::traits::host_transformer!(QuantileTransformerParams => QuantileTransformer<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(QuantileTransformerParams, "QuantileTransformer" { "n_quantiles" => n_quantiles: i64, "random_state" => seed: u32 });
