//! Seeded dataset generators after scikit-learn's `make_blobs`, `make_classification` and
//! `make_regression`.
//!
//! Each is a builder with scikit-learn's parameter names and defaults (except the seed: 0
//! rather than fresh entropy, so that every call is reproducible). The algorithms follow
//! scikit-learn's step by step; the random stream is [`Xoshiro256`]'s, so values differ from
//! scikit-learn's while the distributions match. Parameters are checked when building.

use std::collections::HashSet;

use ndarray::{Array1, Array2, Axis, Slice};

use super::{DatasetError, Real, Result, Xoshiro256};

fn invalid(name: &'static str, reason: String) -> DatasetError {
    DatasetError::InvalidParameter { name, reason }
}

fn check_finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(name, format!("must be finite, got {v}")))
    }
}

/// Rows `0..n` reordered by a random permutation.
fn permute_rows(x: &Array2<f64>, perm: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn(x.dim(), |(i, j)| x[[perm[i], j]])
}

fn cast<F: Real>(x: Array2<f64>) -> Array2<F> {
    x.mapv(F::from_f64)
}

/// `n` split into `k` parts as scikit-learn splits samples over centers: `n / k` each, the
/// remainder one each to the first parts.
fn split_evenly(n: usize, k: usize) -> Vec<usize> {
    (0..k).map(|i| n / k + usize::from(i < n % k)).collect()
}

// ---------------------------------------------------------------------------------------
// make_blobs

#[derive(Clone, Debug)]
enum Centers {
    Count(usize),
    Given(Array2<f64>),
}

/// Isotropic gaussian blobs for clustering (`sklearn.datasets.make_blobs`).
///
/// Each center gets `n_samples / centers` samples (the first ones one more when it does not
/// divide), drawn from a normal of standard deviation `cluster_std` around it. Random centers
/// are uniform in `center_box`. Labels are the center index.
///
/// ```
/// use kiln_estimators::datasets::MakeBlobs;
/// let (x, y) = MakeBlobs::new(300).n_features(2).centers(3).cluster_std(0.5).seed(0).build::<f64>()?;
/// assert_eq!(x.dim(), (300, 2));
/// assert_eq!(y.iter().filter(|&&c| c == 2).count(), 100);
/// # Ok::<(), kiln_estimators::datasets::DatasetError>(())
/// ```
#[derive(Clone, Debug)]
pub struct MakeBlobs {
    n_samples: usize,
    n_features: usize,
    centers: Centers,
    cluster_std: Vec<f64>,
    center_box: (f64, f64),
    shuffle: bool,
    seed: u64,
}

impl MakeBlobs {
    /// `n_samples` samples with scikit-learn's defaults: 2 features, 3 centers, `cluster_std`
    /// 1.0, `center_box` (-10, 10), shuffled; seed 0.
    pub fn new(n_samples: usize) -> Self {
        MakeBlobs {
            n_samples,
            n_features: 2,
            centers: Centers::Count(3),
            cluster_std: vec![1.0],
            center_box: (-10.0, 10.0),
            shuffle: true,
            seed: 0,
        }
    }

    /// Features per sample (ignored in favour of the columns of [`MakeBlobs::center_array`]
    /// when it is called after this).
    pub fn n_features(mut self, n_features: usize) -> Self {
        self.n_features = n_features;
        self
    }

    /// The number of random centers.
    pub fn centers(mut self, n_centers: usize) -> Self {
        self.centers = Centers::Count(n_centers);
        self
    }

    /// Explicit centers, one per row; sets `n_features` to their column count.
    pub fn center_array(mut self, centers: Array2<f64>) -> Self {
        self.n_features = centers.ncols();
        self.centers = Centers::Given(centers);
        self
    }

    /// One standard deviation for every blob.
    pub fn cluster_std(mut self, std: f64) -> Self {
        self.cluster_std = vec![std];
        self
    }

    /// One standard deviation per blob (as many as centers).
    pub fn cluster_stds(mut self, stds: &[f64]) -> Self {
        self.cluster_std = stds.to_vec();
        self
    }

    /// The box random centers are drawn from, uniformly in each coordinate.
    pub fn center_box(mut self, low: f64, high: f64) -> Self {
        self.center_box = (low, high);
        self
    }

    /// Whether samples are shuffled (otherwise they come grouped by blob, blob 0 first).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// The seed of the random stream.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The samples `(n_samples, n_features)` and their blob labels.
    ///
    /// # Errors
    /// [`DatasetError::InvalidParameter`] for no centers or features, centers whose column
    /// count is not `n_features`, a `cluster_std` list of the wrong length or a negative or
    /// non-finite standard deviation, and an empty or non-finite `center_box`.
    pub fn build<F: Real>(&self) -> Result<(Array2<F>, Array1<i64>)> {
        let (x, y, _) = self.generate()?;
        Ok((cast(x), y))
    }

    /// As [`MakeBlobs::build`], with the centers used `(n_centers, n_features)`.
    ///
    /// # Errors
    /// As [`MakeBlobs::build`].
    pub fn build_with_centers<F: Real>(&self) -> Result<(Array2<F>, Array1<i64>, Array2<F>)> {
        let (x, y, c) = self.generate()?;
        Ok((cast(x), y, cast(c)))
    }

    fn generate(&self) -> Result<(Array2<f64>, Array1<i64>, Array2<f64>)> {
        let d = self.n_features;
        if d == 0 {
            return Err(invalid("n_features", "must be at least 1, got 0".into()));
        }
        let k = match &self.centers {
            Centers::Count(k) => *k,
            Centers::Given(c) => c.nrows(),
        };
        if k == 0 {
            return Err(invalid("centers", "must be at least 1, got 0".into()));
        }
        if self.cluster_std.len() != 1 && self.cluster_std.len() != k {
            let n = self.cluster_std.len();
            return Err(invalid("cluster_std", format!("has {n} values for {k} centers")));
        }
        if let Some(s) = self.cluster_std.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
            return Err(invalid("cluster_std", format!("must be finite and >= 0, got {s}")));
        }
        let mut rng = Xoshiro256::new(self.seed);
        let centers = match &self.centers {
            Centers::Given(c) => {
                if c.ncols() != d {
                    return Err(invalid("centers", format!("have {} columns but n_features is {d}", c.ncols())));
                }
                if c.iter().any(|v| !v.is_finite()) {
                    return Err(invalid("centers", "must be finite".into()));
                }
                c.clone()
            }
            Centers::Count(_) => {
                let (lo, hi) = self.center_box;
                if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                    return Err(invalid("center_box", format!("must be finite with low < high, got ({lo}, {hi})")));
                }
                Array2::from_shape_simple_fn((k, d), || lo + (hi - lo) * rng.uniform())
            }
        };
        let counts = split_evenly(self.n_samples, k);
        let mut x = Array2::zeros((self.n_samples, d));
        let mut y = Array1::zeros(self.n_samples);
        let mut row = 0;
        for (c, &count) in counts.iter().enumerate() {
            let std = if self.cluster_std.len() == 1 { self.cluster_std[0] } else { self.cluster_std[c] };
            for _ in 0..count {
                for j in 0..d {
                    x[[row, j]] = centers[[c, j]] + std * rng.normal();
                }
                y[row] = c as i64;
                row += 1;
            }
        }
        if self.shuffle {
            let mut perm: Vec<usize> = (0..self.n_samples).collect();
            rng.shuffle(&mut perm);
            x = permute_rows(&x, &perm);
            y = perm.iter().map(|&i| y[i]).collect();
        }
        Ok((x, y, centers))
    }
}

/// `MakeBlobs::new(n_samples).centers(centers).n_features(n_features).cluster_std(cluster_std)
/// .seed(seed).build()`: blobs around random centers in (-10, 10), shuffled.
///
/// # Errors
/// As [`MakeBlobs::build`].
pub fn make_blobs<F: Real>(
    n_samples: usize,
    centers: usize,
    n_features: usize,
    cluster_std: f64,
    seed: u64,
) -> Result<(Array2<F>, Array1<i64>)> {
    MakeBlobs::new(n_samples).centers(centers).n_features(n_features).cluster_std(cluster_std).seed(seed).build()
}

// ---------------------------------------------------------------------------------------
// make_classification

/// A random classification problem (`sklearn.datasets.make_classification`).
///
/// Each class is made of `n_clusters_per_class` gaussian clusters centred on distinct
/// vertices of a hypercube of side `2 * class_sep` in the `n_informative` first features, each
/// cluster with a random covariance (standard normals times a uniform matrix in [-1, 1]).
/// Then `n_redundant` features are random linear combinations of the informative ones,
/// `n_repeated` copy random informative or redundant ones, and the rest are standard normal
/// noise. A fraction `flip_y` of the labels is then redrawn at random. Finally `shift` is
/// added and `scale` multiplies; with `shuffle` both the samples and the features are
/// permuted (without it the features come in the order informative, redundant, repeated,
/// useless, and the samples grouped by cluster, cluster `c` of class `c % n_classes`).
#[derive(Clone, Debug)]
pub struct MakeClassification {
    n_samples: usize,
    n_features: usize,
    n_informative: usize,
    n_redundant: usize,
    n_repeated: usize,
    n_classes: usize,
    n_clusters_per_class: usize,
    weights: Option<Vec<f64>>,
    flip_y: f64,
    class_sep: f64,
    hypercube: bool,
    shift: f64,
    scale: f64,
    shuffle: bool,
    seed: u64,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $t:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, $name: $t) -> Self {
            self.$name = $name;
            self
        }
    };
}

impl MakeClassification {
    /// `n_samples` samples with scikit-learn's defaults: 20 features of which 2 informative
    /// and 2 redundant, 2 classes of 2 clusters, `flip_y` 0.01, `class_sep` 1.0, hypercube,
    /// no shift, scale 1, shuffled; seed 0.
    pub fn new(n_samples: usize) -> Self {
        MakeClassification {
            n_samples,
            n_features: 20,
            n_informative: 2,
            n_redundant: 2,
            n_repeated: 0,
            n_classes: 2,
            n_clusters_per_class: 2,
            weights: None,
            flip_y: 0.01,
            class_sep: 1.0,
            hypercube: true,
            shift: 0.0,
            scale: 1.0,
            shuffle: true,
            seed: 0,
        }
    }

    setter!(/// Total number of features.
        n_features: usize);
    setter!(/// Features that carry the class structure.
        n_informative: usize);
    setter!(/// Features that are random linear combinations of the informative ones.
        n_redundant: usize);
    setter!(/// Features that duplicate random informative or redundant ones.
        n_repeated: usize);
    setter!(/// Number of classes (labels `0..n_classes`).
        n_classes: usize);
    setter!(/// Gaussian clusters per class.
        n_clusters_per_class: usize);
    setter!(/// Fraction of labels redrawn uniformly at random (so some keep their class).
        flip_y: f64);
    setter!(/// Half the side of the hypercube the cluster centers sit on.
        class_sep: f64);
    setter!(/// Centers on hypercube vertices (`true`) or on a random polytope (`false`).
        hypercube: bool);
    setter!(/// Added to every feature after generation.
        shift: f64);
    setter!(/// Multiplies every feature after the shift.
        scale: f64);
    setter!(/// Whether samples and features are permuted.
        shuffle: bool);
    setter!(/// The seed of the random stream.
        seed: u64);

    /// The proportion of samples in each class (`n_classes` values, or `n_classes - 1` and the
    /// last class gets the rest). Default: balanced.
    pub fn weights(mut self, weights: &[f64]) -> Self {
        self.weights = Some(weights.to_vec());
        self
    }

    fn class_weights(&self) -> Result<Vec<f64>> {
        let c = self.n_classes;
        let w = match &self.weights {
            None => return Ok(vec![1.0 / c as f64; c]),
            Some(w) if w.len() == c => w.clone(),
            Some(w) if w.len() + 1 == c => {
                let mut w = w.clone();
                w.push(1.0 - w.iter().sum::<f64>());
                w
            }
            Some(w) => {
                return Err(invalid("weights", format!("has {} values, expected {c} or {}", w.len(), c - 1)));
            }
        };
        if let Some(v) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(invalid("weights", format!("must be finite and >= 0 (the last one 1 - the others), got {v}")));
        }
        Ok(w)
    }

    fn validate(&self) -> Result<Vec<f64>> {
        if self.n_informative == 0 {
            return Err(invalid("n_informative", "must be at least 1, got 0".into()));
        }
        if self.n_classes == 0 {
            return Err(invalid("n_classes", "must be at least 1, got 0".into()));
        }
        if self.n_clusters_per_class == 0 {
            return Err(invalid("n_clusters_per_class", "must be at least 1, got 0".into()));
        }
        let used = self.n_informative + self.n_redundant + self.n_repeated;
        if used > self.n_features {
            return Err(invalid(
                "n_features",
                format!(
                    "number of informative, redundant and repeated features must sum to at most the number of \
                     total features ({used} > {})",
                    self.n_features
                ),
            ));
        }
        let clusters = self.n_classes.saturating_mul(self.n_clusters_per_class);
        if self.n_informative < 64 && clusters > 1usize << self.n_informative {
            return Err(invalid(
                "n_classes",
                format!(
                    "n_classes({}) * n_clusters_per_class({}) must be smaller or equal 2**n_informative({})={}",
                    self.n_classes,
                    self.n_clusters_per_class,
                    self.n_informative,
                    1usize << self.n_informative
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.flip_y) {
            return Err(invalid("flip_y", format!("must be in [0, 1], got {}", self.flip_y)));
        }
        check_finite("class_sep", self.class_sep)?;
        check_finite("shift", self.shift)?;
        check_finite("scale", self.scale)?;
        self.class_weights()
    }

    /// The samples `(n_samples, n_features)` and their class labels.
    ///
    /// # Errors
    /// [`DatasetError::InvalidParameter`] when `n_informative`, `n_classes` or
    /// `n_clusters_per_class` is 0, the informative, redundant and repeated features exceed
    /// `n_features`, the clusters outnumber the `2**n_informative` hypercube vertices,
    /// `flip_y` is outside [0, 1], `class_sep`, `shift` or `scale` is not finite, or the
    /// weights have the wrong length or a negative value.
    pub fn build<F: Real>(&self) -> Result<(Array2<F>, Array1<i64>)> {
        let weights = self.validate()?;
        let (n, d) = (self.n_samples, self.n_features);
        let (n_inf, n_red, n_rep) = (self.n_informative, self.n_redundant, self.n_repeated);
        let n_classes = self.n_classes;
        let n_clusters = n_classes * self.n_clusters_per_class;
        let mut rng = Xoshiro256::new(self.seed);

        // Samples per cluster: the class weight shared by its clusters, the rest round robin.
        let mut counts: Vec<usize> = (0..n_clusters)
            .map(|k| (n as f64 * weights[k % n_classes] / self.n_clusters_per_class as f64) as usize)
            .collect();
        let assigned: usize = counts.iter().sum();
        for i in 0..n.saturating_sub(assigned) {
            counts[i % n_clusters] += 1;
        }

        let mut centroids =
            hypercube(n_clusters, n_inf, &mut rng).mapv(|b| (if b { 1.0 } else { -1.0 }) * self.class_sep);
        if !self.hypercube {
            for mut row in centroids.rows_mut() {
                row *= 2.0 * rng.uniform();
            }
            for mut col in centroids.columns_mut() {
                col *= rng.uniform();
            }
        }

        let mut x = Array2::<f64>::zeros((n, d));
        let mut y = Array1::<i64>::zeros(n);
        x.slice_axis_mut(Axis(1), Slice::from(..n_inf)).mapv_inplace(|_| rng.normal());
        let mut start = 0;
        for (k, &count) in counts.iter().enumerate() {
            let stop = (start + count).min(n);
            y.slice_axis_mut(Axis(0), Slice::from(start..stop)).fill((k % n_classes) as i64);
            let a = Array2::from_shape_simple_fn((n_inf, n_inf), || 2.0 * rng.uniform() - 1.0);
            let block =
                x.slice_axis(Axis(0), Slice::from(start..stop)).slice_axis(Axis(1), Slice::from(..n_inf)).dot(&a)
                    + centroids.row(k);
            x.slice_axis_mut(Axis(0), Slice::from(start..stop))
                .slice_axis_mut(Axis(1), Slice::from(..n_inf))
                .assign(&block);
            start = stop;
        }
        if n_red > 0 {
            let b = Array2::from_shape_simple_fn((n_inf, n_red), || 2.0 * rng.uniform() - 1.0);
            let red = x.slice_axis(Axis(1), Slice::from(..n_inf)).dot(&b);
            x.slice_axis_mut(Axis(1), Slice::from(n_inf..n_inf + n_red)).assign(&red);
        }
        let n_sources = n_inf + n_red;
        for r in 0..n_rep {
            let src = ((n_sources - 1) as f64 * rng.uniform() + 0.5) as usize;
            let col = x.column(src).to_owned();
            x.column_mut(n_sources + r).assign(&col);
        }
        x.slice_axis_mut(Axis(1), Slice::from(n_sources + n_rep..)).mapv_inplace(|_| rng.normal());

        if self.flip_y > 0.0 {
            let flips: Vec<bool> = (0..n).map(|_| rng.uniform() < self.flip_y).collect();
            for (i, _) in flips.iter().enumerate().filter(|(_, &f)| f) {
                y[i] = rng.below(n_classes) as i64;
            }
        }
        x.mapv_inplace(|v| (v + self.shift) * self.scale);

        if self.shuffle {
            let mut perm: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut perm);
            x = permute_rows(&x, &perm);
            y = perm.iter().map(|&i| y[i]).collect();
            let mut cols: Vec<usize> = (0..d).collect();
            rng.shuffle(&mut cols);
            x = Array2::from_shape_fn((n, d), |(i, j)| x[[i, cols[j]]]);
        }
        Ok((cast(x), y))
    }
}

/// `k` distinct random vertices of the `d`-dimensional unit hypercube, one per row.
/// The caller guarantees `k <= 2^d`.
fn hypercube(k: usize, d: usize, rng: &mut Xoshiro256) -> Array2<bool> {
    let mut seen = HashSet::with_capacity(k);
    let mut rows = Vec::with_capacity(k * d);
    while seen.len() < k {
        let v: Vec<bool> = (0..d).map(|_| rng.next_u64() >> 63 == 1).collect();
        if seen.insert(v.clone()) {
            rows.extend(v);
        }
    }
    Array2::from_shape_vec((k, d), rows).unwrap_or_else(|_| unreachable!("k rows of d bits"))
}

/// `MakeClassification::new(n_samples)` with these counts and the other defaults
/// (`flip_y` 0.01, `class_sep` 1, 2 clusters per class, shuffled).
///
/// # Errors
/// As [`MakeClassification::build`].
pub fn make_classification<F: Real>(
    n_samples: usize,
    n_features: usize,
    n_informative: usize,
    n_redundant: usize,
    n_classes: usize,
    seed: u64,
) -> Result<(Array2<F>, Array1<i64>)> {
    MakeClassification::new(n_samples)
        .n_features(n_features)
        .n_informative(n_informative)
        .n_redundant(n_redundant)
        .n_classes(n_classes)
        .seed(seed)
        .build()
}

// ---------------------------------------------------------------------------------------
// make_regression

/// A random linear regression problem (`sklearn.datasets.make_regression`, one target).
///
/// `X` is standard normal; the first `n_informative` coefficients are uniform in [0, 100),
/// the others 0; `y = X coef + bias + noise * N(0, 1)`. With `shuffle` samples and features
/// are permuted (`coef` with them, so `y = X coef + bias` still holds without noise). As in
/// scikit-learn, `n_informative` larger than `n_features` means all features.
#[derive(Clone, Debug)]
pub struct MakeRegression {
    n_samples: usize,
    n_features: usize,
    n_informative: usize,
    bias: f64,
    noise: f64,
    shuffle: bool,
    seed: u64,
}

impl MakeRegression {
    /// `n_samples` samples with scikit-learn's defaults: 100 features, 10 informative, no
    /// bias, no noise, shuffled; seed 0.
    pub fn new(n_samples: usize) -> Self {
        MakeRegression { n_samples, n_features: 100, n_informative: 10, bias: 0.0, noise: 0.0, shuffle: true, seed: 0 }
    }

    setter!(/// Total number of features.
        n_features: usize);
    setter!(/// Features with a non-zero coefficient.
        n_informative: usize);
    setter!(/// Added to every target.
        bias: f64);
    setter!(/// Standard deviation of the gaussian noise added to the targets.
        noise: f64);
    setter!(/// Whether samples and features are permuted.
        shuffle: bool);
    setter!(/// The seed of the random stream.
        seed: u64);

    /// `(x, y, coef)`: samples `(n_samples, n_features)`, targets, and the true coefficients.
    ///
    /// # Errors
    /// [`DatasetError::InvalidParameter`] when `n_features` is 0, `bias` is not finite or
    /// `noise` is negative or not finite.
    pub fn build<F: Real>(&self) -> Result<(Array2<F>, Array1<F>, Array1<F>)> {
        if self.n_features == 0 {
            return Err(invalid("n_features", "must be at least 1, got 0".into()));
        }
        check_finite("bias", self.bias)?;
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(invalid("noise", format!("must be finite and >= 0, got {}", self.noise)));
        }
        let (n, d) = (self.n_samples, self.n_features);
        let n_inf = self.n_informative.min(d);
        let mut rng = Xoshiro256::new(self.seed);
        let mut x = Array2::from_shape_simple_fn((n, d), || rng.normal());
        let mut coef = Array1::<f64>::zeros(d);
        coef.slice_axis_mut(Axis(0), Slice::from(..n_inf)).mapv_inplace(|_| 100.0 * rng.uniform());
        let mut y = x.dot(&coef) + self.bias;
        if self.noise > 0.0 {
            y.mapv_inplace(|v| v + self.noise * rng.normal());
        }
        if self.shuffle {
            let mut perm: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut perm);
            x = permute_rows(&x, &perm);
            y = perm.iter().map(|&i| y[i]).collect();
            let mut cols: Vec<usize> = (0..d).collect();
            rng.shuffle(&mut cols);
            x = Array2::from_shape_fn((n, d), |(i, j)| x[[i, cols[j]]]);
            coef = cols.iter().map(|&j| coef[j]).collect();
        }
        Ok((cast(x), y.mapv(F::from_f64), coef.mapv(F::from_f64)))
    }
}

/// `MakeRegression::new(n_samples).n_features(n_features).n_informative(n_informative)
/// .noise(noise).seed(seed).build()`: `(x, y, coef)`, shuffled, no bias.
///
/// # Errors
/// As [`MakeRegression::build`].
pub fn make_regression<F: Real>(
    n_samples: usize,
    n_features: usize,
    n_informative: usize,
    noise: f64,
    seed: u64,
) -> Result<(Array2<F>, Array1<F>, Array1<F>)> {
    MakeRegression::new(n_samples).n_features(n_features).n_informative(n_informative).noise(noise).seed(seed).build()
}
