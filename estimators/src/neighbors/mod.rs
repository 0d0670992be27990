//! Nearest neighbours by brute force: [`NearestNeighbors`] (`kneighbors`, `radius_neighbors`),
//! [`KNeighborsClassifier`] and [`KNeighborsRegressor`], scikit-learn's `algorithm="brute"`.
//!
//! A k-nearest search is one kernel per metric (`kernels.rs`). For manhattan, chebyshev,
//! minkowski and cosine it is a distance comprehension over queries x training rows followed
//! by `smallest_k_axis(Axis(1), k)`, which keeps the `k` nearest of each query in one pass over
//! the training rows without ever storing the n x m distances; euclidean runs by blocks of
//! queries (below). Either way a search holds at most [`GEMM_BLOCK`] distances besides its
//! n x k results and the inputs. A radius search has results as large as its matches: it computes
//! the distances of a block of queries at a time (at most [`RADIUS_BLOCK`] distances) and keeps
//! the matches on the host.
//!
//! Ties: neighbours at equal distances come in ascending training index (the selection is
//! stable). scikit-learn's `argpartition`-based selection orders exact ties arbitrarily; results
//! agree wherever distances are distinct.
//!
//! Euclidean distances are expanded as scikit-learn's brute search expands them,
//! `|q|^2 - 2 q.x + |x|^2` (so a point's distance to itself may be ~1e-8 rather than 0, as in
//! scikit-learn), the products of a block of queries as one vendor GEMM (a `rows x m` buffer,
//! at most [`GEMM_BLOCK`] elements), then selected in one pass over the block; the selection
//! compares squared distances, as scikit-learn does. The other metrics are summed directly
//! over the differences, fused into the selection.

mod kernels;
mod predict;

pub use predict::{
    KNeighborsClassifier, KNeighborsClassifierParams, KNeighborsRegressor, KNeighborsRegressorParams, Weights,
};

use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_runtime::{Device, Tensor};
use ndarray::{Array1, Array2, Axis, Ix1, Ix2, Slice};
use std::marker::PhantomData;

/// The most distances a radius search holds at once (queries are processed in blocks of
/// `RADIUS_BLOCK / n_samples_fit` rows, at least one).
pub const RADIUS_BLOCK: usize = 1 << 22;

/// The most squared distances a euclidean k-nearest search holds at once (32 MiB of f32):
/// queries are processed in blocks of `GEMM_BLOCK / n_samples_fit` rows, at least one, as
/// scikit-learn's brute search works in chunks. Smaller blocks repack the training rows for
/// the GEMM more often (2^21 was ~15% slower at 100k x 32 training rows, k = 10).
pub const GEMM_BLOCK: usize = 1 << 23;

/// A distance between rows, scikit-learn's `metric` names (its default is `"minkowski"` with
/// `p = 2`, the euclidean distance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DistanceMetric {
    /// `"minkowski"`: `(sum |x - y|^p)^(1/p)` with the estimator's `p` (1: manhattan, 2:
    /// euclidean, infinity: chebyshev).
    #[default]
    Minkowski,
    /// `"euclidean"` (`"l2"`): the L2 distance.
    Euclidean,
    /// `"manhattan"` (`"cityblock"`, `"l1"`): the L1 distance.
    Manhattan,
    /// `"chebyshev"` (`"infinity"`): the largest absolute difference.
    Chebyshev,
    /// `"cosine"`: `1 - x.y / (|x| |y|)`, clipped to `[0, 2]` (a zero row has distance 1).
    Cosine,
}

impl DistanceMetric {
    /// The metric of one of scikit-learn's names (`"minkowski"`, `"euclidean"`, `"l2"`,
    /// `"manhattan"`, `"cityblock"`, `"l1"`, `"chebyshev"`, `"infinity"`, `"cosine"`).
    ///
    /// # Errors
    /// Any other name ([`EstimatorError::InvalidParameter`]).
    pub fn from_name(estimator: &'static str, name: &str) -> Result<Self> {
        Ok(match name {
            "minkowski" => Self::Minkowski,
            "euclidean" | "l2" => Self::Euclidean,
            "manhattan" | "cityblock" | "l1" => Self::Manhattan,
            "chebyshev" | "infinity" => Self::Chebyshev,
            "cosine" => Self::Cosine,
            _ => {
                return Err(EstimatorError::param(
                    estimator,
                    "metric",
                    "a str among {'chebyshev', 'cityblock', 'cosine', 'euclidean', 'infinity', 'l1', 'l2', \
                     'manhattan', 'minkowski'}",
                    format!("'{name}'"),
                ))
            }
        })
    }
}

/// `metric` by scikit-learn's names (as [`DistanceMetric::from_name`]) in a parameter grid.
impl crate::model_selection::FromParam for DistanceMetric {
    fn from_param(v: &crate::model_selection::ParamValue) -> std::result::Result<DistanceMetric, String> {
        let err = "a str among {'chebyshev', 'cityblock', 'cosine', 'euclidean', 'infinity', 'l1', 'l2', 'manhattan', \
                   'minkowski'}";
        match v {
            crate::model_selection::ParamValue::Str(s) => DistanceMetric::from_name("", s).map_err(|_| err.to_string()),
            _ => Err(err.into()),
        }
    }
}

/// The metric a search runs (scikit-learn's `effective_metric_`): minkowski with `p` 1, 2 or
/// infinity is manhattan, euclidean or chebyshev.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum EffectiveMetric {
    /// The L2 distance.
    Euclidean,
    /// The L1 distance.
    Manhattan,
    /// The L-infinity distance.
    Chebyshev,
    /// The Lp distance of another `p`.
    Minkowski(f64),
    /// The cosine distance.
    Cosine,
}

/// What every neighbour estimator's parameters share: `n_neighbors`, `metric`, `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Search {
    pub(crate) n_neighbors: usize,
    pub(crate) metric: DistanceMetric,
    pub(crate) p: f64,
}

impl Search {
    pub(crate) fn new(n_neighbors: usize) -> Self {
        Search { n_neighbors, metric: DistanceMetric::Minkowski, p: 2.0 }
    }

    /// The hyper-parameters checked as scikit-learn's `fit` checks them, and the metric to run.
    fn effective(&self, estimator: &'static str) -> Result<EffectiveMetric> {
        if self.n_neighbors == 0 {
            return Err(EstimatorError::param(estimator, "n_neighbors", "an int in the range [1, inf)", 0));
        }
        if self.p.is_nan() || self.p <= 0.0 {
            return Err(EstimatorError::param(estimator, "p", "a float in the range (0.0, inf]", self.p));
        }
        Ok(match self.metric {
            DistanceMetric::Euclidean => EffectiveMetric::Euclidean,
            DistanceMetric::Manhattan => EffectiveMetric::Manhattan,
            DistanceMetric::Chebyshev => EffectiveMetric::Chebyshev,
            DistanceMetric::Cosine => EffectiveMetric::Cosine,
            DistanceMetric::Minkowski if self.p == 1.0 => EffectiveMetric::Manhattan,
            DistanceMetric::Minkowski if self.p == 2.0 => EffectiveMetric::Euclidean,
            DistanceMetric::Minkowski if self.p == f64::INFINITY => EffectiveMetric::Chebyshev,
            DistanceMetric::Minkowski => EffectiveMetric::Minkowski(self.p),
        })
    }

    /// The training data checked and kept where it lives.
    pub(crate) fn fit<F: Real, X: Matrix<F>>(&self, estimator: &'static str, x: &X) -> Result<Index<F, X::Storage>> {
        let metric = self.effective(estimator)?;
        let (n, d) = check_x(estimator, x, 1)?;
        let fit_x = X::Storage::mat(kernels::copy::tensors::<F>(x.arg())?)?;
        Ok(Index {
            estimator,
            fit_x,
            device: x.device(),
            n_samples_fit: n,
            n_features: d,
            n_neighbors: self.n_neighbors,
            metric,
            _f: PhantomData,
        })
    }
}

/// The fitted part every neighbour estimator shares: the training rows (scikit-learn's
/// `_fit_X`), where they were fitted, and the search's metric.
#[derive(Debug, Clone)]
pub(crate) struct Index<F: Real, S: Storage> {
    estimator: &'static str,
    fit_x: S::Mat<F>,
    device: Device,
    n_samples_fit: usize,
    n_features: usize,
    n_neighbors: usize,
    metric: EffectiveMetric,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] Index<F, @> { estimator: name, fit_x: mat[n, d], n_samples_fit: size[n], device: device, n_features: size[d], n_neighbors, metric, _f });

impl<F: Real, S: Storage> Index<F, S> {
    /// The `k` nearest training rows of every row of `q` (nearest first): distances and
    /// indices as kernel outputs.
    fn search<'a>(
        &'a self,
        q: kiln_runtime::TensorArg<'a>,
        n: usize,
        k: usize,
        device: Device,
    ) -> Result<(Tensor<F>, Tensor<i64>)> {
        let x = S::mat_arg(&self.fit_x);
        Ok(match self.metric {
            EffectiveMetric::Euclidean => self.euclidean(q, n, k, device, GEMM_BLOCK)?,
            EffectiveMetric::Manhattan => kernels::knn_manhattan::tensors::<F>(q, x, k)?,
            EffectiveMetric::Chebyshev => kernels::knn_chebyshev::tensors::<F>(q, x, k)?,
            EffectiveMetric::Minkowski(p) => kernels::knn_minkowski::tensors::<F>(q, x, k, F::from_f64(p))?,
            EffectiveMetric::Cosine => {
                kernels::knn_cosine::tensors::<F>(q, x, k, crate::preprocessing::zero_scale_threshold::<F>())?
            }
        })
    }

    /// The euclidean search of the `n` rows of `q`, as scikit-learn's brute search runs it:
    /// blocks of at most `block` ([`GEMM_BLOCK`]) distances (`rows` queries x every training row), each
    /// block's products one vendor GEMM and its selection one pass over the block
    /// ([`kernels::knn_euclidean_gemm`]); the blocks' `k` nearest are gathered on the host and
    /// returned on `device`.
    fn euclidean<'a>(
        &'a self,
        q: kiln_runtime::TensorArg<'a>,
        n: usize,
        k: usize,
        device: Device,
        block: usize,
    ) -> Result<(Tensor<F>, Tensor<i64>)> {
        let nx = kernels::sq_norms::tensors::<F>(S::mat_arg(&self.fit_x))?;
        let rows = (block / self.n_samples_fit.max(1)).max(1);
        let mut dist = Array2::from_elem((n, k), F::from_f64(0.0));
        let mut at = Array2::from_elem((n, k), 0i64);
        let mut lo = 0;
        while lo < n {
            let hi = (lo + rows).min(n);
            // The block as a buffer of its own: the GEMM's operand (a copy of `rows x d`).
            let block = kernels::rows::tensors::<F>(q.clone(), lo, hi)?;
            let (d, a) = kernels::knn_euclidean_gemm::tensors::<F>(
                kiln_runtime::tensor_arg::<F, Ix2>(&block),
                S::mat_arg(&self.fit_x),
                kiln_runtime::tensor_arg::<F, Ix1>(&nx),
                k,
            )?;
            if lo == 0 && hi == n {
                return Ok((d, a));
            }
            dist.slice_axis_mut(Axis(0), Slice::from(lo..hi)).assign(&d.into_array::<Ix2>()?);
            at.slice_axis_mut(Axis(0), Slice::from(lo..hi)).assign(&a.into_array::<Ix2>()?);
            lo = hi;
        }
        Ok((Tensor::from_owned(dist, &device)?, Tensor::from_owned(at, &device)?))
    }

    /// scikit-learn's checks of `n_neighbors` at query time.
    fn check_k(&self, k: usize, n_queries: usize, query_is_train: bool) -> Result<()> {
        if k == 0 {
            return Err(EstimatorError::param(self.estimator, "n_neighbors", "an int in the range [1, inf)", 0));
        }
        let needed = if query_is_train { k + 1 } else { k };
        if needed > self.n_samples_fit {
            let ineq = if query_is_train { "n_neighbors < n_samples_fit" } else { "n_neighbors <= n_samples_fit" };
            return Err(EstimatorError::TooFewSamples(format!(
                "Expected {ineq}, but n_neighbors = {k}, n_samples_fit = {}, n_samples = {n_queries}",
                self.n_samples_fit
            )));
        }
        Ok(())
    }

    /// A query checked as scikit-learn's `validate_data(reset=False)` checks it: at least one
    /// row, the fit's feature count, finite. Returns its number of rows.
    fn check_query<X: Matrix<F>>(&self, q: &X) -> Result<usize> {
        let (n, d) = q.dims()?;
        if n == 0 {
            return Err(EstimatorError::EmptyInput {
                estimator: self.estimator,
                n_samples: 0,
                n_features: d,
                min_samples: 1,
            });
        }
        check_fitted_x(self.estimator, self.n_features, q)
    }

    /// `kneighbors(q, k)`: the `k` nearest training rows of each row of `q`.
    pub(crate) fn kneighbors<X: Matrix<F>>(&self, q: &X, k: usize) -> Result<(Tensor<F>, Tensor<i64>)> {
        let n = self.check_query(q)?;
        self.check_k(k, n, false)?;
        self.search(q.arg(), n, k, q.device())
    }

    /// `kneighbors(None, k)`: the `k` nearest other training rows of each training row (the
    /// `k + 1` nearest, less the row itself, or less the first when `k + 1` duplicates hide it).
    pub(crate) fn kneighbors_train(&self, k: usize) -> Result<(Tensor<F>, Tensor<i64>)> {
        self.check_k(k, self.n_samples_fit, true)?;
        let (dist, at) = self.search(S::mat_arg(&self.fit_x), self.n_samples_fit, k + 1, self.device)?;
        Ok(kernels::drop_self::tensors::<F>(
            kiln_runtime::tensor_arg::<F, Ix2>(&dist),
            kiln_runtime::tensor_arg::<i64, Ix2>(&at),
        )?)
    }

    /// Distances from rows `start..start + len` of `q` to every training row.
    fn block<'a>(&'a self, q: kiln_runtime::TensorArg<'a>, start: usize, len: usize) -> Result<Tensor<F>> {
        let x = S::mat_arg(&self.fit_x);
        Ok(match self.metric {
            EffectiveMetric::Euclidean => kernels::dist_euclidean::tensors::<F>(q, x, start, len)?,
            EffectiveMetric::Manhattan => kernels::dist_manhattan::tensors::<F>(q, x, start, len)?,
            EffectiveMetric::Chebyshev => kernels::dist_chebyshev::tensors::<F>(q, x, start, len)?,
            EffectiveMetric::Minkowski(p) => kernels::dist_minkowski::tensors::<F>(q, x, start, len, F::from_f64(p))?,
            EffectiveMetric::Cosine => {
                kernels::dist_cosine::tensors::<F>(q, x, start, len, crate::preprocessing::zero_scale_threshold::<F>())?
            }
        })
    }

    /// Every training row within `radius` of each of the `n` rows of `q` (in ascending index,
    /// or nearest first when `sort`), less the row itself when `query_is_train`.
    fn radius<'a>(
        &'a self,
        q: kiln_runtime::TensorArg<'a>,
        n: usize,
        radius: f64,
        sort: bool,
        query_is_train: bool,
    ) -> Result<RadiusResult<F>> {
        if radius.is_nan() || radius < 0.0 {
            return Err(EstimatorError::param(self.estimator, "radius", "a float in the range [0.0, inf)", radius));
        }
        let m = self.n_samples_fit;
        let rows = (RADIUS_BLOCK / m.max(1)).max(1);
        let (mut dists, mut inds) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut start = 0;
        while start < n {
            let len = rows.min(n - start);
            let block = self.block(q.clone(), start, len)?.into_array::<Ix2>()?;
            for (r, row) in block.outer_iter().enumerate() {
                let me = start + r;
                let mut hits: Vec<(F, i64)> = row
                    .iter()
                    .enumerate()
                    .filter(|&(j, v)| v.to_f64() <= radius && !(query_is_train && j == me))
                    .map(|(j, &v)| (v, j as i64))
                    .collect();
                if sort {
                    hits.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
                }
                dists.push(hits.iter().map(|h| h.0).collect::<Array1<F>>());
                inds.push(hits.iter().map(|h| h.1).collect::<Array1<i64>>());
            }
            start += len;
        }
        Ok((dists, inds))
    }
}

/// What a radius search returns: per query row, the distances and the indices of its
/// neighbours (scikit-learn's two object arrays of arrays), on the host.
pub type RadiusResult<F> = (Vec<Array1<F>>, Vec<Array1<i64>>);

/// Hyper-parameters of [`NearestNeighbors`] (scikit-learn's defaults: `n_neighbors = 5`,
/// `radius = 1.0`, `metric = "minkowski"`, `p = 2`).
#[derive(Debug, Clone, PartialEq)]
pub struct NearestNeighborsParams {
    search: Search,
    radius: f64,
}

/// Unsupervised nearest neighbours: the training rows, searched by brute force (scikit-learn's
/// `NearestNeighbors(algorithm="brute")`).
#[derive(Debug, Clone)]
pub struct NearestNeighbors<F: Real, S: Storage> {
    index: Index<F, S>,
    radius: f64,
}

crate::relocate!([F: Real] NearestNeighbors<F, @> { index: model, radius });

impl NearestNeighbors<f64, crate::data::Host> {
    /// `n_neighbors` neighbours per query by default (scikit-learn's default is 5); radius 1,
    /// the euclidean metric.
    pub fn params(n_neighbors: usize) -> NearestNeighborsParams {
        NearestNeighborsParams { search: Search::new(n_neighbors), radius: 1.0 }
    }
}

impl NearestNeighborsParams {
    /// The number of neighbours of [`NearestNeighbors::kneighbors`] (`n_neighbors`, at least 1).
    pub fn n_neighbors(mut self, n_neighbors: usize) -> Self {
        self.search.n_neighbors = n_neighbors;
        self
    }

    /// The default radius of [`NearestNeighbors::radius_neighbors`] (`radius`, at least 0).
    pub fn radius(mut self, radius: f64) -> Self {
        self.radius = radius;
        self
    }

    /// The distance (`metric`, default minkowski).
    pub fn metric(mut self, metric: DistanceMetric) -> Self {
        self.search.metric = metric;
        self
    }

    /// The power of the minkowski metric (`p`, greater than 0, infinity allowed; default 2).
    pub fn p(mut self, p: f64) -> Self {
        self.search.p = p;
        self
    }

    /// Keep `x` as the rows to search.
    ///
    /// # Errors
    /// `n_neighbors` 0, `p` not greater than 0, `radius` negative or NaN; empty or non-finite X.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<NearestNeighbors<F, X::Storage>> {
        if self.radius.is_nan() || self.radius < 0.0 {
            return Err(EstimatorError::param(
                "NearestNeighbors",
                "radius",
                "a float in the range [0.0, inf)",
                self.radius,
            ));
        }
        Ok(NearestNeighbors { index: self.search.fit("NearestNeighbors", x)?, radius: self.radius })
    }
}

crate::model_selection::set_params!(NearestNeighborsParams, "NearestNeighbors" { "n_neighbors" => n_neighbors: usize, "radius" => radius: f64, "metric" => metric: DistanceMetric, "p" => p: f64 });

impl<F: Real, S: Storage> NearestNeighbors<F, S> {
    /// The distances to and indices of the `n_neighbors` nearest training rows of each row of
    /// `q`, nearest first (n_queries x n_neighbors each), on `q`'s device.
    ///
    /// # Errors
    /// `n_neighbors` above the number of training rows; a different feature count than at fit
    /// time; NaN or infinity in `q`; `q` on another device than the model.
    pub fn kneighbors<X: Matrix<F>>(&self, q: &X) -> Result<(Mat<X::Storage, F>, Mat<X::Storage, i64>)> {
        self.kneighbors_n(q, self.index.n_neighbors)
    }

    /// [`NearestNeighbors::kneighbors`] with another number of neighbours.
    ///
    /// # Errors
    /// As [`NearestNeighbors::kneighbors`]; `n_neighbors` 0.
    pub fn kneighbors_n<X: Matrix<F>>(
        &self,
        q: &X,
        n_neighbors: usize,
    ) -> Result<(Mat<X::Storage, F>, Mat<X::Storage, i64>)> {
        let (d, i) = self.index.kneighbors(q, n_neighbors)?;
        Ok((X::Storage::mat(d)?, X::Storage::mat(i)?))
    }

    /// scikit-learn's `kneighbors()` without a query: the `n_neighbors` nearest training rows
    /// of each training row, the row itself excluded.
    ///
    /// # Errors
    /// `n_neighbors` not below the number of training rows.
    pub fn kneighbors_train(&self) -> Result<(S::Mat<F>, S::Mat<i64>)> {
        self.kneighbors_train_n(self.index.n_neighbors)
    }

    /// [`NearestNeighbors::kneighbors_train`] with another number of neighbours.
    ///
    /// # Errors
    /// As [`NearestNeighbors::kneighbors_train`]; `n_neighbors` 0.
    pub fn kneighbors_train_n(&self, n_neighbors: usize) -> Result<(S::Mat<F>, S::Mat<i64>)> {
        let (d, i) = self.index.kneighbors_train(n_neighbors)?;
        Ok((S::mat(d)?, S::mat(i)?))
    }

    /// The training rows within the fitted radius of each row of `q` (distance `<= radius`),
    /// in ascending index: per row, distances and indices (on the host: their lengths differ).
    ///
    /// # Errors
    /// As [`NearestNeighbors::kneighbors`], less the `n_neighbors` check.
    pub fn radius_neighbors<X: Matrix<F>>(&self, q: &X) -> Result<RadiusResult<F>> {
        self.radius_neighbors_with(q, self.radius, false)
    }

    /// [`NearestNeighbors::radius_neighbors`] with another `radius`; nearest first when
    /// `sort_results` (ties in ascending index).
    ///
    /// # Errors
    /// As [`NearestNeighbors::radius_neighbors`]; `radius` negative or NaN.
    pub fn radius_neighbors_with<X: Matrix<F>>(
        &self,
        q: &X,
        radius: f64,
        sort_results: bool,
    ) -> Result<RadiusResult<F>> {
        let n = self.index.check_query(q)?;
        self.index.radius(q.arg(), n, radius, sort_results, false)
    }

    /// scikit-learn's `radius_neighbors()` without a query: for each training row, the other
    /// training rows within `radius`.
    ///
    /// # Errors
    /// `radius` negative or NaN.
    pub fn radius_neighbors_train(&self, radius: f64, sort_results: bool) -> Result<RadiusResult<F>> {
        self.index.radius(S::mat_arg(&self.index.fit_x), self.index.n_samples_fit, radius, sort_results, true)
    }

    /// The training rows (`_fit_X`).
    pub fn fit_x(&self) -> &S::Mat<F> {
        &self.index.fit_x
    }

    /// The number of training rows (`n_samples_fit_`).
    pub fn n_samples_fit(&self) -> usize {
        self.index.n_samples_fit
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.index.n_features
    }

    /// The metric searches run (`effective_metric_`).
    pub fn effective_metric(&self) -> EffectiveMetric {
        self.index.metric
    }
}

/// The fused k-nearest search kernels, one per metric but euclidean, for inspection
/// (`kernel.loops(dtype)`, `kiln inspect`): each is a distance comprehension fused into
/// `smallest_k_axis`, so its loop program holds the n x k selections and never an n x m
/// distance buffer.
pub fn search_kernels() -> [(&'static str, &'static kiln_runtime::Kernel); 4] {
    [
        ("manhattan", kernels::knn_manhattan::kernel()),
        ("chebyshev", kernels::knn_chebyshev::kernel()),
        ("minkowski", kernels::knn_minkowski::kernel()),
        ("cosine", kernels::knn_cosine::kernel()),
    ]
}

/// The euclidean k-nearest search kernel of one block of queries, for inspection: the block's
/// products `q x^T` as one vendor GEMM into a `n x m` buffer (`n`: the block's queries, at most
/// [`GEMM_BLOCK`] `/ m` of them), then one selection pass over it.
pub fn euclidean_search_kernel() -> &'static kiln_runtime::Kernel {
    kernels::knn_euclidean_gemm::kernel()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of a few queries (gathered on the host, returned on the query's device) give
    /// the one-block search's neighbours and distances (within rounding), and a plain-Rust search's neighbours.
    #[test]
    fn euclidean_blocks_agree_with_one_block() {
        let x = Array2::from_shape_fn((50, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 * 0.37 + i as f64 * 0.013);
        let q = Array2::from_shape_fn((23, 3), |(i, j)| ((i * 5 + j * 2) % 13) as f64 * 0.29 + j as f64 * 0.1);
        let index = Search::new(4).fit("NearestNeighbors", &x).unwrap();
        let (d1, a1) = index.euclidean(q.arg(), 23, 4, q.device(), 50 * 23).unwrap();
        let (d2, a2) = index.euclidean(q.arg(), 23, 4, q.device(), 50 * 5).unwrap();
        let (d1, a1) = (d1.into_array::<Ix2>().unwrap(), a1.into_array::<Ix2>().unwrap());
        assert_eq!(a1, a2.into_array::<Ix2>().unwrap());
        // The GEMM of a smaller block may round its products differently (last bits).
        let close =
            |a: &Array2<f64>, b: &Array2<f64>| a.iter().zip(b).all(|(u, v)| (u - v).abs() <= 1e-12 * v.abs().max(1.0));
        assert!(close(&d2.into_array::<Ix2>().unwrap(), &d1));
        for i in 0..23 {
            let mut all: Vec<(f64, usize)> =
                (0..50).map(|j| ((0..3).map(|l| (q[[i, l]] - x[[j, l]]).powi(2)).sum::<f64>(), j)).collect();
            all.sort_by(|a, b| a.partial_cmp(b).unwrap());
            for t in 0..4 {
                assert_eq!(a1[[i, t]], all[t].1 as i64, "query {i} neighbour {t}");
                assert!((d1[[i, t]] - all[t].0.sqrt()).abs() <= 1e-12 * all[t].0.sqrt().max(1.0));
            }
        }
        let sim = Device::CudaSim;
        let (xt, qt) = (Tensor::from_array(&x, &sim).unwrap(), Tensor::from_array(&q, &sim).unwrap());
        let index = Search::new(4).fit("NearestNeighbors", &xt).unwrap();
        let (d3, a3) = index.euclidean(qt.arg(), 23, 4, qt.device(), 50 * 5).unwrap();
        assert_eq!((d3.device(), a3.device()), (sim, sim));
        assert_eq!(a3.into_array::<Ix2>().unwrap(), a1);
        assert!(close(&d3.into_array::<Ix2>().unwrap(), &d1));
    }
}
