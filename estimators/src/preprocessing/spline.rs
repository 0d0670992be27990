//! `SplineTransformer`: each feature expanded into its B-spline basis (scikit-learn's
//! `sklearn.preprocessing.SplineTransformer`, dense output).
//!
//! The knot vectors are computed at fit on the host, from the data's min/max ("uniform") or
//! percentiles ("quantile") or taken as given, and extended by `degree` knots on each side as
//! scikit-learn extends them. Transform evaluates the basis where the data lives with the
//! Cox–de Boor recursion, one kernel per degree over (rows, features, basis functions): the
//! degree-0 indicators of the knot interval scipy's `find_interval` picks, then each degree from
//! the previous one in the operation order of scipy's `_deBoor_D`, so the values round exactly
//! as scipy's `BSpline.__call__` rounds them. As in scipy the basis is evaluated in f64 (f32 data
//! is widened) and the result converted to X's float type. The extrapolation rows (constant and
//! linear) and the periodic wrap are folded into the first and last kernels.

use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::{Tensor, TensorArg};
use ndarray::{Array1, Array2, Ix2, Ix3};
use std::marker::PhantomData;

/// The point each basis is evaluated at: `x` widened to f64, wrapped into
/// `[lo, lo + period)` as numpy's `%` wraps (`fmod`, then `+ period` for a negative remainder)
/// when `periodic`, or 0 for a zero period.
#[kernel(crate = kiln_runtime)]
fn spline_point<F: Float>(x: Array2<F>, lo: Array1<f64>, period: Array1<f64>, periodic: i64) -> Array2<f64> {
    let (n, d) = x.dim();
    Array2::from_shape_fn((n, d), |(i, f)| {
        let v = x[[i, f]] as f64;
        let r = (v - lo[[f]]) % period[[f]];
        let r = if r < 0.0 { r + period[[f]] } else { r };
        let w = if period[[f]] > 0.0 { lo[[f]] + r } else { 0.0 };
        if periodic > 0 {
            w
        } else {
            v
        }
    })
}

/// The knot interval `ell` of each point: the last `l` in `k..n_coef` with `t[l] <= x` (`k`
/// when none: scipy's `find_interval`), as `k` plus the count of the knots `k + 1 .. n_coef -
/// 1` (`inner[l]`) at or below `x` (the knots are sorted, so the count is the search).
#[kernel(crate = kiln_runtime)]
fn spline_interval(xe: Array2<f64>, t: Array2<f64>, inner: Array1<i64>, k: i64) -> Array2<i64> {
    let (n, d) = xe.dim();
    let nt = inner.len();
    Array2::from_shape_fn((n, d), |(i, f)| {
        sum(0..nt, |l| {
            if inner[[l]] > 0 {
                if t[[f, l]] <= xe[[i, f]] {
                    1
                } else {
                    0
                }
            } else {
                0
            }
        }) + k
    })
}

/// The degree-0 local basis: the one basis function non-zero on the point's interval is 1
/// (entry 0 of `degree + 1`, the length of `width`; entry `a` of the degree-`p` table is
/// basis `ell - p + a`).
#[kernel(crate = kiln_runtime)]
fn spline_local0(ell: Array2<i64>, width: Array1<i64>) -> Array3<f64> {
    let (n, d) = ell.dim();
    let w = width.len();
    Array3::from_shape_fn((n, d, w), |(_i, _f, a)| if a == 0 { 1.0 } else { 0.0 })
}

/// One step of the Cox–de Boor recursion on the `p + 1` basis functions non-zero on the knot
/// interval `ell` (degree `p` from degree `p - 1`; entry `a` is basis `j = ell - p + a`):
/// `B[j] = B'[j] / (t[j+p] - t[j]) * (x - t[j]) + B'[j+1] / (t[j+p+1] - t[j+1]) * (t[j+p+1] - x)`,
/// a term with a zero knot span or a basis outside the previous level's `p` being 0 — scipy's
/// `_deBoor_D`, term for term. Entries past `p` stay 0. Every knot index lies in
/// `0 .. n_knots + 2 degree` since `degree <= ell < n_coef`.
#[kernel(crate = kiln_runtime)]
fn spline_local_step(h: Array3<f64>, xe: Array2<f64>, ell: Array2<i64>, t: Array2<f64>, p: i64) -> Array3<f64> {
    let (n, d, w) = h.dim();
    Array3::from_shape_fn((n, d, w), |(i, f, a)| {
        let x = xe[[i, f]];
        let e = ell[[i, f]];
        let am = if a > 0 { a - 1 } else { 0 };
        let xa = t[[f, e + a - p]];
        let xb = t[[f, e + a]];
        let left = if a > 0 {
            if a <= p {
                if xb == xa {
                    0.0
                } else {
                    h[[i, f, am]] / (xb - xa) * (x - xa)
                }
            } else {
                0.0
            }
        } else {
            0.0
        };
        let ra = t[[f, e + a + 1 - p]];
        let rb = t[[f, e + a + 1]];
        let right = if a < p {
            if rb == ra {
                0.0
            } else {
                h[[i, f, a]] / (rb - ra) * (rb - x)
            }
        } else {
            0.0
        };
        left + right
    })
}

/// The output columns: column `c` is basis `col[c]` (plus basis `col[c] + wrap[c]` when
/// `wrap[c] > 0`, the periodic spline's shared coefficients) of feature `feat[c]`, read from
/// the local table `h` (entry `j - ell + degree` when that lies in `0..=degree`, else 0); rows
/// with `x < xmin` take `below + (x - xmin) * below_slope` and rows with `x > xmax` take
/// `above + (x - xmax) * above_slope` instead (constant and linear extrapolation; infinite
/// bounds for the other modes). `k` is the degree. Converted to X's float type.
#[kernel(crate = kiln_runtime)]
#[allow(clippy::too_many_arguments)]
fn spline_columns<F: Float>(
    x: Array2<F>,
    h: Array3<f64>,
    ell: Array2<i64>,
    feat: Array1<i64>,
    col: Array1<i64>,
    wrap: Array1<i64>,
    bounds: Array2<f64>,
    edge: Array2<f64>,
    k: i64,
) -> Array2<F> {
    let n = x.nrows();
    let c = feat.len();
    Array2::from_shape_fn((n, c), |(i, o)| {
        let f = feat[[o]];
        let j = col[[o]];
        let v = x[[i, f]] as f64;
        let a = j - ell[[i, f]] + k;
        let ai = if a >= 0 {
            if a <= k {
                a
            } else {
                0
            }
        } else {
            0
        };
        let first = if a >= 0 {
            if a <= k {
                h[[i, f, ai]]
            } else {
                0.0
            }
        } else {
            0.0
        };
        let a2 = a + wrap[[o]];
        let a2i = if a2 >= 0 {
            if a2 <= k {
                a2
            } else {
                0
            }
        } else {
            0
        };
        let second = if a2 >= 0 {
            if a2 <= k {
                h[[i, f, a2i]]
            } else {
                0.0
            }
        } else {
            0.0
        };
        let inside = if wrap[[o]] > 0 { first + second } else { first };
        let xmin = bounds[[f, 0]];
        let xmax = bounds[[f, 1]];
        let below = edge[[o, 0]] + (v - xmin) * edge[[o, 1]];
        let above = edge[[o, 2]] + (v - xmax) * edge[[o, 3]];
        let r = if v < xmin {
            below
        } else {
            if v > xmax {
                above
            } else {
                inside
            }
        };
        r as F
    })
}

/// Each feature's minimum and maximum (the range "uniform" knots span), widened to f64.
#[kernel(crate = kiln_runtime)]
fn spline_range<F: Float>(x: Array2<F>) -> (Array1<f64>, Array1<f64>) {
    let xf = x as f64;
    (xf.min_axis(Axis(0)), xf.max_axis(Axis(0)))
}

/// How many elements of `x` lie outside `[bounds[f, 0], bounds[f, 1]]` (as f64).
#[kernel(crate = kiln_runtime)]
fn spline_outside<F: Float>(x: Array2<F>, bounds: Array2<f64>) -> f64 {
    let (n, d) = x.dim();
    sum(0..n, |i| {
        sum(0..d, |f| {
            let v = x[[i, f]] as f64;
            if v < bounds[[f, 0]] {
                1.0
            } else {
                if v > bounds[[f, 1]] {
                    1.0
                } else {
                    0.0
                }
            }
        })
    })
}

/// Where the knots come from (scikit-learn's `knots`).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum SplineKnots {
    /// `n_knots` knots evenly spaced from each feature's minimum to its maximum (`"uniform"`).
    #[default]
    Uniform,
    /// `n_knots` knots at evenly spaced percentiles of each feature (`"quantile"`).
    Quantile,
    /// The sorted base knots themselves, `n_knots x n_features` (an array-like).
    Array(Array2<f64>),
}

/// What the basis does outside the base knots' range (scikit-learn's `extrapolation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Extrapolation {
    /// Values outside the range are an error (`"error"`).
    Error,
    /// The splines' values at the range's ends (`"constant"`, the default).
    #[default]
    Constant,
    /// The splines continued linearly from the range's ends (`"linear"`).
    Linear,
    /// The polynomial pieces continued as they are (`"continue"`).
    Continue,
    /// Periodic splines with the range's length as period (`"periodic"`).
    Periodic,
}

/// Hyper-parameters of [`SplineTransformer`] (scikit-learn's defaults: 5 uniform knots, cubic,
/// constant extrapolation, with the bias column).
#[derive(Debug, Clone, PartialEq)]
pub struct SplineTransformerParams {
    n_knots: usize,
    degree: usize,
    knots: SplineKnots,
    extrapolation: Extrapolation,
    include_bias: bool,
}

/// A fitted spline transformer: the extended knot vectors (the knots of scikit-learn's
/// `bsplines_`) on the host, and the kernels' tables where the model was fitted.
#[derive(Debug, Clone)]
pub struct SplineTransformer<F: Real, S: Storage> {
    knots: Array2<f64>,
    degree: usize,
    extrapolation: Extrapolation,
    n_splines: usize,
    n_features_out: usize,
    lo: S::Vec<f64>,
    period: S::Vec<f64>,
    inner: S::Vec<i64>,
    /// `degree + 1` zeros: the width of the local basis tables.
    width: S::Vec<i64>,
    t: S::Mat<f64>,
    feat: S::Vec<i64>,
    col: S::Vec<i64>,
    wrap: S::Vec<i64>,
    bounds: S::Mat<f64>,
    edge: S::Mat<f64>,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] SplineTransformer<F, @> { knots, degree, extrapolation, n_splines, n_features_out, lo: vec, period: vec, inner: vec, width: vec, t: mat, feat: vec, col: vec, wrap: vec, bounds: mat, edge: mat, _f });

impl SplineTransformer<f64, crate::data::Host> {
    /// The default hyper-parameters: `n_knots = 5`, `degree = 3`, `knots = "uniform"`,
    /// `extrapolation = "constant"`, `include_bias = true`.
    pub fn params() -> SplineTransformerParams {
        SplineTransformerParams {
            n_knots: 5,
            degree: 3,
            knots: SplineKnots::Uniform,
            extrapolation: Extrapolation::Constant,
            include_bias: true,
        }
    }
}

impl SplineTransformerParams {
    /// The number of knots for `"uniform"` and `"quantile"` knots (`n_knots`, at least 2).
    pub fn n_knots(mut self, n_knots: usize) -> Self {
        self.n_knots = n_knots;
        self
    }

    /// The polynomial degree of the splines (`degree`).
    pub fn degree(mut self, degree: usize) -> Self {
        self.degree = degree;
        self
    }

    /// Where the knots go (`knots`).
    pub fn knots(mut self, knots: SplineKnots) -> Self {
        self.knots = knots;
        self
    }

    /// What happens outside the knots' range (`extrapolation`).
    pub fn extrapolation(mut self, extrapolation: Extrapolation) -> Self {
        self.extrapolation = extrapolation;
        self
    }

    /// Whether each feature keeps its last basis function (`include_bias`); without it the
    /// bases no longer sum to one, which avoids a linear dependence with an intercept.
    pub fn include_bias(mut self, yes: bool) -> Self {
        self.include_bias = yes;
        self
    }

    /// Compute the knots of every feature of `x`.
    ///
    /// # Errors
    /// `n_knots < 2`; an explicit knot array with fewer than 2 rows, another column count
    /// than X's, or not strictly increasing; periodic splines with `degree >= n_knots`; fewer
    /// than 2 samples; NaN or infinity in X; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<SplineTransformer<F, X::Storage>> {
        let name = "SplineTransformer";
        if self.n_knots < 2 {
            return Err(EstimatorError::param(name, "n_knots", "an int in the range [2, inf)", self.n_knots));
        }
        let (_, d) = check_x(name, x, 2)?;
        let rows = match &self.knots {
            SplineKnots::Array(k) => k.nrows(),
            _ => self.n_knots,
        };
        check_table_size(rows, self.degree, d)?;
        let base = match &self.knots {
            SplineKnots::Uniform => {
                // Only the range leaves the device: 2 x n_features values.
                let (lo, hi) = spline_range::tensors::<F>(x.arg())?;
                let (lo, hi) = (lo.to_array::<ndarray::Ix1>()?.to_vec(), hi.to_array::<ndarray::Ix1>()?.to_vec());
                linspace(&lo, &hi, self.n_knots)
            }
            SplineKnots::Quantile => quantile_knots(&x.to_host()?, self.n_knots),
            SplineKnots::Array(k) => {
                if k.nrows() < 2 {
                    return Err(EstimatorError::Shape("number of knots, knots.shape[0], must be >= 2".into()));
                }
                if k.ncols() != d {
                    return Err(EstimatorError::Shape("knots.shape[1] == n_features is violated".into()));
                }
                let sorted = (1..k.nrows()).all(|r| (0..d).all(|f| k[[r, f]] - k[[r - 1, f]] > 0.0));
                if !sorted || k.iter().any(|v| !v.is_finite()) {
                    return Err(EstimatorError::Shape("knots must be sorted without duplicates".into()));
                }
                k.clone()
            }
        };
        let n_knots = base.nrows();
        let degree = self.degree;
        let periodic = self.extrapolation == Extrapolation::Periodic;
        if periodic && n_knots <= degree {
            return Err(EstimatorError::param(
                name,
                "degree",
                format!("less than n_knots for periodic splines (n_knots = {n_knots})"),
                degree,
            ));
        }
        let n_splines = if periodic { n_knots - 1 } else { n_knots + degree - 1 };
        let knots = extend_knots(&base, degree, periodic);
        let tables = Tables::new(&knots, degree, n_splines, self.extrapolation, self.include_bias);
        let device = x.device();
        let (st, sv, si) =
            (X::Storage::mat_from_host::<f64>, X::Storage::vec_from_host::<f64>, X::Storage::vec_from_host::<i64>);
        Ok(SplineTransformer {
            degree,
            extrapolation: self.extrapolation,
            n_splines,
            n_features_out: tables.feat.len(),
            lo: sv(tables.lo, device)?,
            period: sv(tables.period, device)?,
            inner: si(tables.inner, device)?,
            width: si(Array1::zeros(degree + 1), device)?,
            t: st(knots.clone(), device)?,
            feat: si(tables.feat, device)?,
            col: si(tables.col, device)?,
            wrap: si(tables.wrap, device)?,
            bounds: st(tables.bounds, device)?,
            edge: st(tables.edge, device)?,
            knots,
            _f: PhantomData,
        })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`SplineTransformerParams::fit`] and [`SplineTransformer::transform`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        self.fit(x)?.transform_unchecked(x)
    }
}

/// The knot tables (`n_knots + 2 degree` knots per feature, four per recursion level, each
/// `n_features` wide) must be countable and allocatable: a huge `n_knots` or `degree` is an
/// [`EstimatorError::OutOfMemory`], not an overflow or an abort.
fn check_table_size(n_knots: usize, degree: usize, d: usize) -> Result<()> {
    let nt = degree.checked_mul(2).and_then(|e| e.checked_add(n_knots));
    let elements = nt.and_then(|nt| nt.checked_mul(d)?.checked_mul(degree.checked_mul(4)?.checked_add(2)?));
    match elements {
        Some(e) if e <= (isize::MAX as usize) / 64 => Ok(()),
        _ => Err(EstimatorError::OutOfMemory {
            what: "SplineTransformer's knot tables",
            shape: vec![d, n_knots, degree],
            bytes: (n_knots as u128 + 2 * degree as u128)
                .saturating_mul(d as u128)
                .saturating_mul(4 * degree as u128 + 2)
                .saturating_mul(8),
        }),
    }
}

/// numpy's `linspace(start, stop, num)` over arrays (one column per feature), rounding as it
/// does: `i * step + start`, or `i / div * delta + start` for every column when some column's
/// step is 0, and the last row exactly `stop`.
fn linspace(start: &[f64], stop: &[f64], num: usize) -> Array2<f64> {
    let d = start.len();
    let delta: Vec<f64> = (0..d).map(|f| stop[f] - start[f]).collect();
    let mut y = Array2::zeros((num, d));
    if num == 0 {
        return y;
    }
    let div = (num - 1) as f64;
    let step: Vec<f64> = delta.iter().map(|&dl| dl / div).collect();
    let any_zero = step.contains(&0.0);
    for i in 0..num {
        for f in 0..d {
            let v = if num == 1 {
                i as f64 * delta[f]
            } else if any_zero {
                i as f64 / div * delta[f]
            } else {
                i as f64 * step[f]
            };
            y[[i, f]] = v + start[f];
        }
    }
    if num > 1 {
        for f in 0..d {
            y[[num - 1, f]] = stop[f];
        }
    }
    y
}

/// `"quantile"` base knots: numpy's `percentile(X, linspace(0, 100, n_knots), axis=0)` with
/// its default linear interpolation (`a + (b - a) * g`, or `b - (b - a) * (1 - g)` for
/// `g >= 0.5`).
fn quantile_knots<F: Real>(x: &Array2<F>, n_knots: usize) -> Array2<f64> {
    let ranks = linspace(&[0.0], &[1.0], n_knots).mapv(|r| 100.0 * r / 100.0);
    let mut out = Array2::zeros((n_knots, x.ncols()));
    for (f, c) in x.columns().into_iter().enumerate() {
        let mut v: Vec<f64> = c.iter().map(|v| v.to_f64()).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        for (r, &q) in ranks.column(0).iter().enumerate() {
            let virt = (n - 1) as f64 * q;
            let below = virt.floor();
            let (prev, next) = if virt >= (n - 1) as f64 {
                (v[n - 1], v[n - 1])
            } else {
                let p = (below.max(0.0)) as usize;
                (v[p], v[(p + 1).min(n - 1)])
            };
            let g = virt - below;
            let diff = next - prev;
            out[[r, f]] = if g >= 0.5 { next - diff * (1.0 - g) } else { prev + diff * g };
        }
    }
    out
}

/// The full knot vectors (`n_knots + 2 degree` rows per feature, returned feature-major):
/// `degree` knots spaced like the first and last base intervals on each side, or the base
/// knots shifted by one period for periodic splines.
fn extend_knots(base: &Array2<f64>, degree: usize, periodic: bool) -> Array2<f64> {
    let (m, d) = base.dim();
    let row = |r: usize| -> Vec<f64> { base.row(r).to_vec() };
    let (head, tail) = if periodic {
        let period: Vec<f64> = (0..d).map(|f| base[[m - 1, f]] - base[[0, f]]).collect();
        let head = Array2::from_shape_fn((degree, d), |(r, f)| base[[m - 1 - degree + r, f]] - period[f]);
        let tail = Array2::from_shape_fn((degree, d), |(r, f)| base[[1 + r, f]] + period[f]);
        (head, tail)
    } else {
        let (first, last) = (row(0), row(m - 1));
        let dist_min: Vec<f64> = (0..d).map(|f| base[[1, f]] - first[f]).collect();
        let dist_max: Vec<f64> = (0..d).map(|f| last[f] - base[[m - 2, f]]).collect();
        let k = degree as f64;
        let hs: Vec<f64> = (0..d).map(|f| first[f] - k * dist_min[f]).collect();
        let he: Vec<f64> = (0..d).map(|f| first[f] - dist_min[f]).collect();
        let ts: Vec<f64> = (0..d).map(|f| last[f] + dist_max[f]).collect();
        let te: Vec<f64> = (0..d).map(|f| last[f] + k * dist_max[f]).collect();
        (linspace(&hs, &he, degree), linspace(&ts, &te, degree))
    };
    let all = ndarray::concatenate(ndarray::Axis(0), &[head.view(), base.view(), tail.view()])
        .expect("the three blocks have the same column count");
    all.reversed_axes().as_standard_layout().to_owned()
}

/// The values (`nu = 0`) or first derivatives (`nu = 1`) at `x` of the `k + 1` basis functions
/// non-zero on knot interval `ell`: scipy's `_deBoor_D`, operation for operation.
fn de_boor(t: &[f64], x: f64, k: usize, ell: usize, nu: usize) -> Vec<f64> {
    let mut h = vec![0.0; k + 1];
    if nu > k {
        // scipy's derivative loop starts at j = 0 and only zeroes h[0].
        return h;
    }
    h[0] = 1.0;
    for j in 1..=k {
        let hh = h[..j].to_vec();
        h[0] = 0.0;
        let derivative = j + nu > k;
        for n in 1..=j {
            let (xb, xa) = (t[ell + n], t[ell + n - j]);
            if xb == xa {
                h[if derivative { nu } else { n }] = 0.0;
                continue;
            }
            if derivative {
                let w = j as f64 * hh[n - 1] / (xb - xa);
                h[n - 1] -= w;
                h[n] = w;
            } else {
                let w = hh[n - 1] / (xb - xa);
                h[n - 1] += w * (xb - x);
                h[n] = w * (x - xa);
            }
        }
    }
    h
}

/// Every basis function of knot vector `t` (degree `k`, `n_splines` output columns,
/// coefficient rows past `n_splines` wrapping to the first columns) at `x`, as scipy's
/// `BSpline(t, c, k)(x, nu)` with the identity-like coefficients scikit-learn builds.
fn basis_at(t: &[f64], x: f64, k: usize, n_splines: usize, nu: usize) -> Vec<f64> {
    let n_coef = t.len() - k - 1;
    let ell = (k + 1..n_coef).take_while(|&l| t[l] <= x).last().unwrap_or(k);
    let h = de_boor(t, x, k, ell, nu);
    let mut out = vec![0.0; n_splines];
    for (a, &v) in h.iter().enumerate() {
        out[(ell - k + a) % n_splines] += v;
    }
    out
}

/// The host-built tables the kernels read.
struct Tables {
    lo: Array1<f64>,
    period: Array1<f64>,
    inner: Array1<i64>,
    feat: Array1<i64>,
    col: Array1<i64>,
    wrap: Array1<i64>,
    bounds: Array2<f64>,
    edge: Array2<f64>,
}

impl Tables {
    fn new(knots: &Array2<f64>, k: usize, n_splines: usize, mode: Extrapolation, include_bias: bool) -> Tables {
        let (d, nt) = knots.dim();
        let n_coef = nt - k - 1;
        let lo = knots.column(k).to_owned();
        let hi = knots.column(n_coef).to_owned();
        let period = &hi - &lo;
        let inner = Array1::from_shape_fn(nt, |l| i64::from(l > k && l < n_coef));
        let per_feature = n_splines - usize::from(!include_bias);
        let c = d * per_feature;
        let feat = Array1::from_shape_fn(c, |o| (o / per_feature) as i64);
        let col = Array1::from_shape_fn(c, |o| (o % per_feature) as i64);
        let wrap = Array1::from_shape_fn(c, |o| {
            let j = o % per_feature;
            if mode == Extrapolation::Periodic && j + n_splines < n_coef {
                n_splines as i64
            } else {
                0
            }
        });
        let clamped = matches!(mode, Extrapolation::Constant | Extrapolation::Linear);
        let bounds = Array2::from_shape_fn((d, 2), |(f, e)| match (clamped || mode == Extrapolation::Error, e) {
            (true, 0) => lo[f],
            (true, _) => hi[f],
            (false, 0) => f64::NEG_INFINITY,
            (false, _) => f64::INFINITY,
        });
        // Per output column: value and slope below the range, value and slope above it.
        let mut edge = Array2::zeros((c, 4));
        if clamped {
            // scikit-learn sets the first and last `degree` columns (`degree + 1` for linear
            // extrapolation of degree 0 or 1).
            let n_edge = if mode == Extrapolation::Linear && k <= 1 { k + 1 } else { k };
            for f in 0..d {
                let t = knots.row(f).to_vec();
                let f_min = basis_at(&t, lo[f], k, n_splines, 0);
                let f_max = basis_at(&t, hi[f], k, n_splines, 0);
                let slope = mode == Extrapolation::Linear;
                let fp_min = if slope { basis_at(&t, lo[f], k, n_splines, 1) } else { vec![0.0; n_splines] };
                let fp_max = if slope { basis_at(&t, hi[f], k, n_splines, 1) } else { vec![0.0; n_splines] };
                for j in 0..n_edge.min(n_splines) {
                    if j < per_feature {
                        let o = f * per_feature + j;
                        edge[[o, 0]] = f_min[j];
                        edge[[o, 1]] = fp_min[j];
                    }
                    let jm = n_splines - 1 - j;
                    if jm < per_feature {
                        let o = f * per_feature + jm;
                        edge[[o, 2]] = f_max[jm];
                        edge[[o, 3]] = fp_max[jm];
                    }
                }
            }
        }
        Tables { lo, period, inner, feat, col, wrap, bounds, edge }
    }
}

impl<F: Real, S: Storage> SplineTransformer<F, S> {
    /// The knot vector of each feature's splines, `n_features x (n_knots + 2 degree)` (the
    /// `t` of scikit-learn's `bsplines_[i]`).
    pub fn knots(&self) -> &Array2<f64> {
        &self.knots
    }

    /// The degree of the splines.
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// The number of basis functions per feature before `include_bias` drops one
    /// (`bsplines_[0].c.shape[1]`).
    pub fn n_splines(&self) -> usize {
        self.n_splines
    }

    /// The number of output columns (`n_features_out_`).
    pub fn n_features_out(&self) -> usize {
        self.n_features_out
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.knots.nrows()
    }

    /// The B-spline basis of every feature of `x`, feature after feature (ndarray in, ndarray
    /// out; tensor in, tensor out on its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; with
    /// `extrapolation = "error"`, values outside the knots' range; `x` on another device than
    /// the model; kernel errors.
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("SplineTransformer", self.n_features_in(), x)?;
        self.transform_unchecked(x)
    }

    /// [`SplineTransformer::transform`] of an `x` already checked.
    fn transform_unchecked<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        if self.extrapolation == Extrapolation::Error {
            let outside = spline_outside::tensors::<F>(x.arg(), S::mat_arg(&self.bounds))?.item()?;
            if outside > 0.0 {
                return Err(EstimatorError::Shape("`X` contains values beyond the limits of the knots".into()));
            }
        }
        let periodic = i64::from(self.extrapolation == Extrapolation::Periodic);
        let xe = spline_point::tensors::<F>(x.arg(), S::vec_arg(&self.lo), S::vec_arg(&self.period), periodic)?;
        let k = self.degree as i64;
        let ell = spline_interval::tensors(arg2(&xe), S::mat_arg(&self.t), S::vec_arg(&self.inner), k)?;
        let mut h = spline_local0::tensors(argi(&ell), S::vec_arg(&self.width))?;
        for p in 1..=k {
            h = spline_local_step::tensors(arg3(&h), arg2(&xe), argi(&ell), S::mat_arg(&self.t), p)?;
        }
        let z = spline_columns::tensors::<F>(
            x.arg(),
            arg3(&h),
            argi(&ell),
            S::vec_arg(&self.feat),
            S::vec_arg(&self.col),
            S::vec_arg(&self.wrap),
            S::mat_arg(&self.bounds),
            S::mat_arg(&self.edge),
            k,
        )?;
        X::Storage::mat(z)
    }
}

/// A 2-D f64 intermediate as a kernel argument.
fn arg2(t: &Tensor<f64>) -> TensorArg<'_> {
    kiln_runtime::tensor_arg::<f64, Ix2>(t)
}

/// The 2-D interval table as a kernel argument.
fn argi(t: &Tensor<i64>) -> TensorArg<'_> {
    kiln_runtime::tensor_arg::<i64, Ix2>(t)
}

/// A 3-D f64 intermediate as a kernel argument.
fn arg3(t: &Tensor<f64>) -> TensorArg<'_> {
    kiln_runtime::tensor_arg::<f64, Ix3>(t)
}

crate::traits::host_transformer!(SplineTransformerParams => SplineTransformer<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(SplineTransformerParams, "SplineTransformer" { "n_knots" => n_knots: usize, "degree" => degree: usize, "knots" => knots: SplineKnots, "extrapolation" => extrapolation: Extrapolation, "include_bias" => include_bias: bool });
