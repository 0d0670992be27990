//! Splitting samples: `train_test_split`, `KFold`, `StratifiedKFold` — scikit-learn's index
//! orders exactly when not shuffling (tested against its fixtures); shuffles use kiln's own
//! seeded generator, so shuffled splits are reproducible but not scikit-learn's.

use crate::datasets::Xoshiro256;
use crate::error::{EstimatorError, Result};
use kiln_runtime::Element;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// One split: the training rows and the test rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// A target that can be stratified on: class labels are, real-valued targets are not.
pub trait Target: Element {
    /// The class label, or `None` for a continuous target.
    fn label(self) -> Option<i64>;
}

impl Target for i64 {
    fn label(self) -> Option<i64> {
        Some(self)
    }
}
impl Target for f32 {
    fn label(self) -> Option<i64> {
        None
    }
}
impl Target for f64 {
    fn label(self) -> Option<i64> {
        None
    }
}

/// A cross-validation strategy.
pub trait Splitter: Send + Sync {
    /// The folds of `n` samples with targets `y` (used by stratified splitters).
    ///
    /// # Errors
    /// Too few samples for the number of splits; a stratified split of a continuous target.
    fn folds<T: Target>(&self, y: ArrayView1<'_, T>) -> Result<Vec<Fold>>;
}

/// `n_splits` of `splitter` (the caller's name, for the message) is at least 2 and at most `n`.
fn check_splits(splitter: &'static str, n_splits: usize, n: usize) -> Result<()> {
    if n_splits < 2 {
        return Err(EstimatorError::param(splitter, "n_splits", "an int in the range [2, inf)", n_splits));
    }
    if n_splits > n {
        return Err(EstimatorError::TooFewSamples(format!(
            "cannot have number of splits n_splits={n_splits} greater than the number of samples: n_samples={n}"
        )));
    }
    Ok(())
}

/// The folds whose test sets are given by `test_fold[i]` (the split holding sample i).
fn folds_from_assignment(test_fold: &[usize], n_splits: usize) -> Vec<Fold> {
    (0..n_splits)
        .map(|k| {
            let (test, train): (Vec<usize>, Vec<usize>) = (0..test_fold.len()).partition(|&i| test_fold[i] == k);
            Fold { train, test }
        })
        .collect()
}

/// K consecutive folds (scikit-learn's `KFold`): the first `n % k` folds get one extra sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KFold {
    n_splits: usize,
    shuffle: bool,
    seed: u64,
}

impl KFold {
    /// `n_splits` folds, not shuffled (scikit-learn's default is 5).
    pub fn new(n_splits: usize) -> KFold {
        KFold { n_splits, shuffle: false, seed: 0 }
    }

    /// Shuffle the samples before splitting (with [`KFold::seed`]).
    pub fn shuffle(mut self, yes: bool) -> KFold {
        self.shuffle = yes;
        self
    }

    /// The seed of the shuffle.
    pub fn seed(mut self, seed: u64) -> KFold {
        self.seed = seed;
        self
    }

    /// `test_fold[i]`: the split whose test set holds sample `i`.
    ///
    /// # Errors
    /// `n_splits < 2` or more splits than samples.
    pub fn test_folds(&self, n: usize) -> Result<Vec<usize>> {
        check_splits("KFold", self.n_splits, n)?;
        let mut order: Vec<usize> = (0..n).collect();
        if self.shuffle {
            Xoshiro256::new(self.seed).shuffle(&mut order);
        }
        let mut test_fold = vec![0; n];
        let (base, extra) = (n / self.n_splits, n % self.n_splits);
        let mut start = 0;
        for k in 0..self.n_splits {
            let size = base + usize::from(k < extra);
            for &i in &order[start..start + size] {
                test_fold[i] = k;
            }
            start += size;
        }
        Ok(test_fold)
    }
}

impl Splitter for KFold {
    fn folds<T: Target>(&self, y: ArrayView1<'_, T>) -> Result<Vec<Fold>> {
        Ok(folds_from_assignment(&self.test_folds(y.len())?, self.n_splits))
    }
}

/// Folds that keep each class's proportion (scikit-learn's `StratifiedKFold`, its allocation
/// algorithm: classes in order of first appearance, samples of each class dealt to folds in
/// the order scikit-learn deals them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StratifiedKFold {
    n_splits: usize,
    shuffle: bool,
    seed: u64,
}

impl StratifiedKFold {
    /// `n_splits` stratified folds, not shuffled.
    pub fn new(n_splits: usize) -> StratifiedKFold {
        StratifiedKFold { n_splits, shuffle: false, seed: 0 }
    }

    /// Shuffle each class's samples before dealing them to folds.
    pub fn shuffle(mut self, yes: bool) -> StratifiedKFold {
        self.shuffle = yes;
        self
    }

    /// The seed of the shuffle.
    pub fn seed(mut self, seed: u64) -> StratifiedKFold {
        self.seed = seed;
        self
    }

    /// `test_fold[i]` for class labels `y`.
    ///
    /// # Errors
    /// `n_splits < 2`, more splits than samples, or more splits than members of every class.
    pub fn test_folds(&self, y: &[i64]) -> Result<Vec<usize>> {
        let (n, k) = (y.len(), self.n_splits);
        check_splits("StratifiedKFold", k, n)?;
        // Classes encoded in order of first appearance (scikit-learn's `class_perm[y_inv]`).
        let mut classes: Vec<i64> = Vec::new();
        let encoded: Vec<usize> = y
            .iter()
            .map(|&c| match classes.iter().position(|&d| d == c) {
                Some(p) => p,
                None => {
                    classes.push(c);
                    classes.len() - 1
                }
            })
            .collect();
        let n_classes = classes.len();
        let mut counts = vec![0usize; n_classes];
        for &e in &encoded {
            counts[e] += 1;
        }
        if counts.iter().all(|&c| c < k) {
            return Err(EstimatorError::TooFewSamples(format!(
                "n_splits={k} cannot be greater than the number of members in each class"
            )));
        }
        // How many of each class each fold gets — scikit-learn deals the sorted
        // encoded labels round-robin: fold f takes y_order[f::k].
        let mut y_order = encoded.clone();
        y_order.sort_unstable();
        // Kept per class: allocation[c][f].
        let mut allocation = vec![vec![0usize; k]; n_classes];
        for (i, &c) in y_order.iter().enumerate() {
            allocation[c][i % k] += 1;
        }
        let mut rng = Xoshiro256::new(self.seed);
        let mut test_fold = vec![0usize; n];
        for (c, per_fold) in allocation.iter().enumerate() {
            let mut folds_for_class: Vec<usize> =
                per_fold.iter().enumerate().flat_map(|(f, &m)| std::iter::repeat_n(f, m)).collect();
            if self.shuffle {
                rng.shuffle(&mut folds_for_class);
            }
            let members = (0..n).filter(|&i| encoded[i] == c);
            for (i, f) in members.zip(folds_for_class) {
                test_fold[i] = f;
            }
        }
        Ok(test_fold)
    }
}

impl Splitter for StratifiedKFold {
    fn folds<T: Target>(&self, y: ArrayView1<'_, T>) -> Result<Vec<Fold>> {
        let labels: Option<Vec<i64>> = y.iter().map(|v| v.label()).collect();
        let labels = labels.ok_or_else(|| {
            EstimatorError::Shape("StratifiedKFold needs class labels (i64 targets), not a continuous target".into())
        })?;
        Ok(folds_from_assignment(&self.test_folds(&labels)?, self.n_splits))
    }
}

/// Splitting options of [`train_test_split`] (scikit-learn's defaults: a quarter for testing,
/// shuffled).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainTestSplit {
    test_size: f64,
    shuffle: bool,
    seed: u64,
}

impl Default for TrainTestSplit {
    fn default() -> Self {
        TrainTestSplit { test_size: 0.25, shuffle: true, seed: 0 }
    }
}

impl TrainTestSplit {
    /// The fraction of samples for the test set, in (0, 1).
    pub fn test_size(mut self, fraction: f64) -> Self {
        self.test_size = fraction;
        self
    }

    /// Shuffle before splitting (default true).
    pub fn shuffle(mut self, yes: bool) -> Self {
        self.shuffle = yes;
        self
    }

    /// The seed of the shuffle.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The training and test rows of `n` samples: `ceil(test_size * n)` test rows, like
    /// scikit-learn.
    ///
    /// # Errors
    /// `test_size` outside (0, 1), or a split leaving either side empty.
    pub fn indices(&self, n: usize) -> Result<Fold> {
        if !(self.test_size > 0.0 && self.test_size < 1.0) {
            return Err(EstimatorError::param(
                "train_test_split",
                "test_size",
                "a float in the range (0.0, 1.0)",
                self.test_size,
            ));
        }
        let n_test = (self.test_size * n as f64).ceil() as usize;
        if n_test == 0 || n_test >= n {
            return Err(EstimatorError::TooFewSamples(format!(
                "with n_samples={n} and test_size={}, the resulting train set would be empty",
                self.test_size
            )));
        }
        let mut order: Vec<usize> = (0..n).collect();
        if self.shuffle {
            Xoshiro256::new(self.seed).shuffle(&mut order);
        }
        let test = order[n - n_test..].to_vec();
        let train = order[..n - n_test].to_vec();
        Ok(Fold { train, test })
    }

    /// Split `x` and `y` into `(x_train, x_test, y_train, y_test)`.
    ///
    /// # Errors
    /// As [`TrainTestSplit::indices`]; `y` of another length than `x`.
    pub fn split<F: Element, T: Element>(
        &self,
        x: ArrayView2<'_, F>,
        y: ArrayView1<'_, T>,
    ) -> Result<(Array2<F>, Array2<F>, Array1<T>, Array1<T>)> {
        crate::data::check_len("y", y.len(), x.nrows())?;
        let f = self.indices(x.nrows())?;
        Ok((
            x.select(Axis(0), &f.train),
            x.select(Axis(0), &f.test),
            y.select(Axis(0), &f.train),
            y.select(Axis(0), &f.test),
        ))
    }
}

/// `train_test_split(x, y, test_size, seed)`: shuffled, `ceil(test_size * n)` test rows.
///
/// # Errors
/// As [`TrainTestSplit::split`].
pub fn train_test_split<F: Element, T: Element>(
    x: ArrayView2<'_, F>,
    y: ArrayView1<'_, T>,
    test_size: f64,
    seed: u64,
) -> Result<(Array2<F>, Array2<F>, Array1<T>, Array1<T>)> {
    TrainTestSplit::default().test_size(test_size).seed(seed).split(x, y)
}
