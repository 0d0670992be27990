//! `KMeans`: k-means clustering with Lloyd's algorithm (scikit-learn's `KMeans`,
//! `algorithm="lloyd"`), seeded by greedy k-means++, by `"random"` rows or by explicit
//! initial centers.
//!
//! With explicit centers the run is deterministic and reproduces scikit-learn's labels,
//! centers and `n_iter_`; k-means++ draws from kiln's own seeded generator, so its runs differ
//! from scikit-learn's draw for draw but reach comparable inertia. `"random"` draws its rows
//! with numpy's `RandomState(seed).choice` exactly as scikit-learn does, so a seed gives
//! scikit-learn's runs. With `n_init > 1` the run of lowest inertia is kept (`n_init="auto"`:
//! 1 run for k-means++ and explicit centers, 10 for `"random"`).
//!
//! `fit_weighted` takes scikit-learn's `sample_weight`: the centers are weighted means, the
//! inertia a weighted sum, k-means++ draws proportionally to weight (times squared distance for
//! the candidates) and `"random"` draws rows with `p = w / w.sum()`, as scikit-learn 1.9.

use super::lloyd::{lloyd, nearest, scaled_tol, weighted_inertia, Run, SampleWeights};
use super::plusplus::{kmeans_plusplus_weighted, rows_of};
use crate::data::{check_x, Mat, Matrix, Storage, Vect};
use crate::datasets::{Real, Xoshiro256};
use crate::error::{EstimatorError, Result};
use crate::random_state::RandomState;
use kiln_macros::kernel;
use kiln_runtime::Device;
use ndarray::Array2;

/// The Euclidean distance of every point to every center (`transform`).
#[kernel(crate = kiln_runtime)]
fn center_distances<F: Float>(x: Array2<F>, c: Array2<F>) -> Array2<F> {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)).sqrt())
}

/// Hyper-parameters of [`KMeans`] (scikit-learn's defaults: k-means++ with one initialization,
/// `max_iter = 300`, `tol = 1e-4`; the seed defaults to 0).
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    n_clusters: usize,
    /// `None` is scikit-learn's `"auto"`.
    n_init: Option<usize>,
    /// `init="random"`: rows drawn as numpy's `choice` draws them.
    random_init: bool,
    max_iter: usize,
    tol: f64,
    seed: u64,
    /// Explicit initial centers (k x d), kept in f64 (exact for f32 input too).
    init: Option<Array2<f64>>,
}

/// A fitted k-means model: the centers, the training labels and inertia, kept where it was
/// fitted (ndarray arrays for ndarray input, tensors on the device for tensor input).
#[derive(Debug, Clone)]
pub struct KMeans<F: Real, S: Storage> {
    centers: S::Mat<F>,
    labels: S::Vec<i64>,
    inertia: f64,
    n_iter: usize,
    n_features: usize,
}

crate::relocate!([F: Real] KMeans<F, @> { centers: mat[k, d], labels: vec, inertia, n_iter, n_features: size[d] });

impl KMeans<f64, crate::data::Host> {
    /// Cluster into `n_clusters` groups, with the defaults of [`KMeansParams`].
    pub fn params(n_clusters: usize) -> KMeansParams {
        KMeansParams { n_clusters, n_init: None, random_init: false, max_iter: 300, tol: 1e-4, seed: 0, init: None }
    }
}

impl KMeansParams {
    /// How many initializations to run, keeping the lowest inertia (`n_init`; ignored with
    /// explicit centers, which give one deterministic run).
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = Some(n_init);
        self
    }

    /// scikit-learn's `n_init="auto"` (the default): one run for k-means++ and explicit
    /// centers, 10 for `"random"`.
    pub fn n_init_auto(mut self) -> Self {
        self.n_init = None;
        self
    }

    /// `init="random"`: each run starts from `n_clusters` distinct rows of X drawn with
    /// numpy's `RandomState(seed).choice(n_samples, n_clusters, replace=False, p=...)`, the
    /// generator shared by the runs, as scikit-learn draws them (the seed must be below 2^32).
    pub fn init_random(mut self) -> Self {
        self.random_init = true;
        self.init = None;
        self
    }

    /// The most Lloyd iterations per run (`max_iter`).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Relative tolerance on the center shift, scaled by the mean feature variance (`tol`).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// The seed of k-means++ (`random_state`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Start from these centers (n_clusters x n_features) instead of k-means++ (`init`).
    pub fn init<T: Real>(mut self, centers: Array2<T>) -> Self {
        self.random_init = false;
        self.init = Some(centers.mapv(|v| v.to_f64()));
        self
    }

    /// Cluster `x`.
    ///
    /// # Errors
    /// Invalid hyper-parameters (`n_clusters`, `n_init` or `max_iter` of 0, a negative or
    /// non-finite `tol`); empty or non-finite X; `n_clusters > n_samples`; initial centers of
    /// the wrong shape or not finite; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<KMeans<F, X::Storage>> {
        self.fit_inner(x, None)
    }

    /// Cluster `x` with per-sample weights `w` (`sample_weight`: finite, non-negative, one per
    /// row, not all 0): weighted centers and inertia, weighted seeding.
    ///
    /// # Errors
    /// As [`KMeansParams::fit`]; `w` of another length than X's rows, non-finite, negative or
    /// all zero.
    pub fn fit_weighted<F: Real, X: Matrix<F>, W: crate::data::Vector<F>>(
        &self,
        x: &X,
        w: &W,
    ) -> Result<KMeans<F, X::Storage>> {
        let (n, _) = check_x("KMeans", x, 1)?;
        crate::linear_model::check_weights(w, n)?;
        let host = w.to_host()?;
        if host.iter().all(|v| v.to_f64() == 0.0) {
            return Err(EstimatorError::InvalidTarget("the sample weights are all zero".into()));
        }
        let dev = X::Storage::vec_from_host(host.clone(), x.device())?;
        self.fit_inner(x, Some(&SampleWeights { host, dev }))
    }

    fn fit_inner<F: Real, X: Matrix<F>>(
        &self,
        x: &X,
        w: Option<&SampleWeights<F, X::Storage>>,
    ) -> Result<KMeans<F, X::Storage>> {
        self.check_params()?;
        let (n, d) = check_x("KMeans", x, 1)?;
        let k = self.n_clusters;
        if n < k {
            return Err(EstimatorError::TooFewSamples(format!("n_samples={n} should be >= n_clusters={k}.")));
        }
        let tol = scaled_tol(x, self.tol)?;
        let best = match &self.init {
            Some(init) => {
                let init = self.check_init(init, d)?;
                lloyd(x, init, self.max_iter, tol, w)?
            }
            None if self.random_init => {
                let mut rng = RandomState::new(self.seed as u32);
                // `p = sample_weight / sample_weight.sum()` in X's dtype (unit weights: 1 / n).
                let weights: Vec<f64> = match w {
                    Some(w) => {
                        let total = w.host.iter().fold(F::from_f64(0.0), |a, v| F::from_f64(a.to_f64() + v.to_f64()));
                        w.host.iter().map(|v| F::from_f64(v.to_f64() / total.to_f64()).to_f64()).collect()
                    }
                    None => vec![1.0 / n as f64; n],
                };
                let mut best: Option<Run<F, X::Storage>> = None;
                for _ in 0..self.n_init.unwrap_or(10) {
                    let init = rows_of(x, &rng.choice_weighted(&weights, k))?;
                    let run = lloyd(x, init, self.max_iter, tol, w)?;
                    // scikit-learn keeps the earlier run when a lower inertia comes from the
                    // same clustering with permuted labels (`_is_same_clustering`).
                    let better = match &best {
                        None => true,
                        Some(b) => {
                            run.inertia < b.inertia && !same_clustering::<X::Storage>(&run.labels, &b.labels, k)?
                        }
                    };
                    if better {
                        best = Some(run);
                    }
                }
                best.ok_or_else(|| EstimatorError::param("KMeans", "n_init", "at least 1", 0))?
            }
            None => {
                let mut rng = Xoshiro256::new(self.seed);
                let mut best: Option<Run<F, X::Storage>> = None;
                for _ in 0..self.n_init.unwrap_or(1) {
                    let (init, _) = kmeans_plusplus_weighted(x, k, &mut rng, w.map(|w| &w.host))?;
                    let run = lloyd(x, init, self.max_iter, tol, w)?;
                    if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                        best = Some(run);
                    }
                }
                best.ok_or_else(|| EstimatorError::param("KMeans", "n_init", "at least 1", 0))?
            }
        };
        Ok(KMeans {
            centers: X::Storage::mat_from_host(best.centers, x.device())?,
            labels: best.labels,
            inertia: best.inertia,
            n_iter: best.n_iter,
            n_features: d,
        })
    }

    /// Fit, then return the training labels.
    ///
    /// # Errors
    /// As [`KMeansParams::fit`].
    pub fn fit_predict<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, i64>> {
        Ok(self.fit(x)?.labels)
    }

    fn check_params(&self) -> Result<()> {
        let positive = |name: &'static str, v: usize| {
            if v == 0 {
                Err(EstimatorError::param("KMeans", name, "an int in the range [1, inf)", v))
            } else {
                Ok(())
            }
        };
        positive("n_clusters", self.n_clusters)?;
        positive("n_init", self.n_init.unwrap_or(1))?;
        positive("max_iter", self.max_iter)?;
        if self.random_init && self.seed >= 1 << 32 {
            return Err(EstimatorError::param(
                "KMeans",
                "random_state",
                "an int in the range [0, 4294967295] (numpy's seed)",
                self.seed,
            ));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(EstimatorError::param("KMeans", "tol", "a float in the range [0.0, inf)", self.tol));
        }
        Ok(())
    }

    /// scikit-learn's `_validate_center_shape`, and finite values.
    fn check_init<F: Real>(&self, init: &Array2<f64>, d: usize) -> Result<Array2<F>> {
        let (k, cd) = init.dim();
        if k != self.n_clusters {
            return Err(EstimatorError::Shape(format!(
                "The shape of the initial centers ({k}, {cd}) does not match the number of clusters {}.",
                self.n_clusters
            )));
        }
        if cd != d {
            return Err(EstimatorError::Shape(format!(
                "The shape of the initial centers ({k}, {cd}) does not match the number of features of the data {d}."
            )));
        }
        if init.iter().any(|v| !v.is_finite()) {
            return Err(EstimatorError::NonFinite { what: "init" });
        }
        Ok(init.mapv(F::from_f64))
    }
}

/// scikit-learn's `_is_same_clustering`: whether two labelings are the same partition up to a
/// permutation of the cluster ids.
fn same_clustering<S: Storage>(a: &Vect<S, i64>, b: &Vect<S, i64>, k: usize) -> Result<bool> {
    let (a, b) = (S::vec_to_host(a)?, S::vec_to_host(b)?);
    let mut mapping = vec![-1i64; k];
    for (&x, &y) in a.iter().zip(b.iter()) {
        let slot = &mut mapping[x as usize];
        if *slot == -1 {
            *slot = y;
        } else if *slot != y {
            return Ok(false);
        }
    }
    Ok(true)
}

impl<F: Real, S: Storage> KMeans<F, S> {
    /// The cluster centers, one per row (`cluster_centers_`).
    pub fn centers(&self) -> &S::Mat<F> {
        &self.centers
    }

    /// The cluster of each training sample (`labels_`).
    pub fn labels(&self) -> &S::Vec<i64> {
        &self.labels
    }

    /// The sum of squared distances of the training samples to their centers (`inertia_`).
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// The Lloyd iterations of the kept run (`n_iter_`).
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The device the centers live on.
    pub fn device(&self) -> Device {
        S::vec_device(&self.labels)
    }

    /// The nearest center of each row of `x` (ndarray in, `Array1<i64>` out; tensor in,
    /// `Tensor<i64>` out on its device).
    ///
    /// # Errors
    /// A different feature count than at fit time; non-finite X; `x` on another device.
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, i64>> {
        self.check_input(x)?;
        Ok(nearest::<F, X>(x, S::mat_arg(&self.centers))?.0)
    }

    /// The sum of squared distances of the rows of `x` to their nearest centers (scikit-learn's
    /// `-score`).
    ///
    /// # Errors
    /// As [`KMeans::predict`].
    pub fn inertia_of<X: Matrix<F>>(&self, x: &X) -> Result<f64> {
        self.check_input(x)?;
        Ok(nearest::<F, X>(x, S::mat_arg(&self.centers))?.1)
    }

    /// The weighted sum of squared distances of the rows of `x` to their nearest centers,
    /// `sum_i w_i ||x_i - c||^2` (scikit-learn's `-score(x, sample_weight=w)`).
    ///
    /// # Errors
    /// As [`KMeans::predict`]; `w` of another length than X's rows, non-finite or negative.
    pub fn inertia_of_weighted<X: Matrix<F>, W: crate::data::Vector<F>>(&self, x: &X, w: &W) -> Result<f64> {
        let n = crate::data::check_fitted_x("KMeans", self.n_features, x)?;
        crate::linear_model::check_weights(w, n)?;
        let labels = nearest::<F, X>(x, S::mat_arg(&self.centers))?.0;
        weighted_inertia::<F, X>(x, S::mat_arg(&self.centers), X::Storage::vec_arg(&labels), w.arg())
    }

    /// The Euclidean distance of each row of `x` to each center (n x n_clusters, `transform`).
    ///
    /// # Errors
    /// As [`KMeans::predict`].
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        self.check_input(x)?;
        X::Storage::mat(center_distances::tensors::<F>(x.arg(), S::mat_arg(&self.centers))?)
    }

    fn check_input<X: Matrix<F>>(&self, x: &X) -> Result<()> {
        crate::data::check_fitted_x("KMeans", self.n_features, x).map(drop)
    }
}

crate::traits::host_transformer!(KMeansParams => KMeans<F, crate::data::Host>);

crate::traits::clusterer!(KMeansParams => KMeans);
crate::model_selection::set_params!(KMeansParams, "KMeans" { "n_clusters" = n_clusters: usize, "n_init" => n_init: usize, "max_iter" => max_iter: usize, "tol" => tol: f64, "random_state" => seed: u64 });
