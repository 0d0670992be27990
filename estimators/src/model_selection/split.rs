//! Splitting samples: `train_test_split` and scikit-learn's cross-validation splitters —
//! `KFold`, `StratifiedKFold`, `ShuffleSplit`, `StratifiedShuffleSplit`, `GroupKFold`,
//! `TimeSeriesSplit`, `RepeatedKFold`, `RepeatedStratifiedKFold`, `LeaveOneOut`. Shuffles draw
//! from numpy's legacy `RandomState` ([`crate::random_state`]) exactly as scikit-learn does
//! with an integer `random_state`, so a kiln seed gives scikit-learn's index sets (tested
//! against its fixtures).

use super::scoring::Scorer;
use crate::data::Vector;
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::random_state::RandomState;
use kiln_runtime::{Element, Tensor};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Ix1};

/// One split: the training rows and the test rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// The rows to fit on.
    pub train: Vec<usize>,
    /// The rows to score on.
    pub test: Vec<usize>,
}

mod kernels {
    use kiln_macros::kernel;

    /// The elements of `v` at `idx`.
    #[kernel(crate = kiln_runtime)]
    pub fn gather_reals<F: Float>(v: Array1<F>, idx: Array1<i64>) -> Array1<F> {
        Array1::from_shape_fn(idx.len(), |i| v[[idx[[i]]]])
    }

    /// The labels of `v` at `idx`.
    #[kernel(crate = kiln_runtime)]
    pub fn gather_labels(v: Array1<i64>, idx: Array1<i64>) -> Array1<i64> {
        Array1::from_shape_fn(idx.len(), |i| v[[idx[[i]]]])
    }
}

/// What an estimator predicts and is scored against: `i64` class (or cluster) labels, or a
/// real-valued target (`f32`, `f64`). Labels can be stratified on; reals cannot.
pub trait Target: Element {
    /// The score of an estimator predicting this (scikit-learn's `score`): accuracy for
    /// labels, R² for reals.
    const DEFAULT_SCORER: Scorer;
    /// The class label, or `None` for a continuous target.
    fn label(self) -> Option<i64>;
    /// The elements of `v` at `idx`, gathered by a kernel on `v`'s device.
    ///
    /// # Errors
    /// Kernel errors.
    fn gather(v: &Tensor<Self>, idx: &Tensor<i64>) -> Result<Tensor<Self>>;
    /// `scorer(y_true, y_pred)`, wherever they live.
    ///
    /// # Errors
    /// The metric's errors; a scorer for the other kind of target.
    fn score_with<A: Vector<Self>, B: Vector<Self>>(scorer: Scorer, y_true: &A, y_pred: &B) -> Result<f64>;
    /// `scorer(y_true, response)` for a scorer of class probabilities or decision values
    /// (`n x n_classes`, or `n x 1` decision values of two classes), wherever they live.
    ///
    /// # Errors
    /// The metric's errors; a continuous target ([`EstimatorError::InvalidTarget`]).
    fn score_response<F: Real, A: Vector<Self>, P: crate::data::Matrix<F>>(
        scorer: Scorer,
        y_true: &A,
        response: &P,
    ) -> Result<f64>;
}

impl Target for i64 {
    const DEFAULT_SCORER: Scorer = Scorer::Accuracy;
    fn label(self) -> Option<i64> {
        Some(self)
    }
    fn gather(v: &Tensor<i64>, idx: &Tensor<i64>) -> Result<Tensor<i64>> {
        Ok(kernels::gather_labels::tensors(
            kiln_runtime::tensor_arg::<i64, Ix1>(v),
            kiln_runtime::tensor_arg::<i64, Ix1>(idx),
        )?)
    }
    fn score_with<A: Vector<i64>, B: Vector<i64>>(scorer: Scorer, y_true: &A, y_pred: &B) -> Result<f64> {
        use crate::metrics::{
            accuracy_score, balanced_accuracy_score, f1_score, jaccard_score, matthews_corrcoef, precision_score,
            recall_score,
        };
        match scorer {
            Scorer::Accuracy => accuracy_score(y_true, y_pred),
            Scorer::BalancedAccuracy => balanced_accuracy_score(y_true, y_pred, false),
            Scorer::MatthewsCorrcoef => matthews_corrcoef(y_true, y_pred),
            Scorer::Jaccard | Scorer::JaccardMacro | Scorer::JaccardMicro | Scorer::JaccardWeighted => {
                jaccard_score(y_true, y_pred, scorer.average().unwrap_or_default())
            }
            Scorer::F1 | Scorer::F1Macro | Scorer::F1Micro | Scorer::F1Weighted => {
                f1_score(y_true, y_pred, scorer.average().unwrap_or_default())
            }
            Scorer::Precision | Scorer::PrecisionMacro | Scorer::PrecisionMicro | Scorer::PrecisionWeighted => {
                precision_score(y_true, y_pred, scorer.average().unwrap_or_default())
            }
            Scorer::Recall | Scorer::RecallMacro | Scorer::RecallMicro | Scorer::RecallWeighted => {
                recall_score(y_true, y_pred, scorer.average().unwrap_or_default())
            }
            _ if scorer.response_method() != super::ResponseMethod::Predict => Err(EstimatorError::InvalidTarget(
                format!("scoring '{}' scores class probabilities or decision values, not labels", scorer.name()),
            )),
            _ => Err(scorer.wrong_target(true)),
        }
    }
    fn score_response<F: Real, A: Vector<i64>, P: crate::data::Matrix<F>>(
        scorer: Scorer,
        y_true: &A,
        response: &P,
    ) -> Result<f64> {
        super::score_labels_response(scorer, y_true, response)
    }
}

/// Real-valued targets (f32, f64): scored by R² by default, never stratified.
impl<F: Real> Target for F {
    const DEFAULT_SCORER: Scorer = Scorer::R2;
    fn label(self) -> Option<i64> {
        None
    }
    fn gather(v: &Tensor<F>, idx: &Tensor<i64>) -> Result<Tensor<F>> {
        Ok(kernels::gather_reals::tensors::<F>(
            kiln_runtime::tensor_arg::<F, Ix1>(v),
            kiln_runtime::tensor_arg::<i64, Ix1>(idx),
        )?)
    }
    fn score_with<A: Vector<F>, B: Vector<F>>(scorer: Scorer, y_true: &A, y_pred: &B) -> Result<f64> {
        use crate::metrics::{
            d2_absolute_error_score, explained_variance_score, max_error, mean_absolute_error,
            mean_absolute_percentage_error, mean_gamma_deviance, mean_poisson_deviance, mean_squared_error,
            mean_squared_log_error, median_absolute_error, r2_score, root_mean_squared_log_error,
        };
        match scorer {
            Scorer::ExplainedVariance => explained_variance_score::<F, _, _>(y_true, y_pred),
            Scorer::NegMaxError => Ok(-max_error::<F, _, _>(y_true, y_pred)?),
            Scorer::NegMedianAbsoluteError => Ok(-median_absolute_error::<F, _, _>(y_true, y_pred)?),
            Scorer::NegMeanAbsolutePercentageError => Ok(-mean_absolute_percentage_error::<F, _, _>(y_true, y_pred)?),
            Scorer::NegMeanSquaredLogError => Ok(-mean_squared_log_error::<F, _, _>(y_true, y_pred)?),
            Scorer::NegRootMeanSquaredLogError => Ok(-root_mean_squared_log_error::<F, _, _>(y_true, y_pred)?),
            Scorer::NegMeanPoissonDeviance => Ok(-mean_poisson_deviance::<F, _, _>(y_true, y_pred)?),
            Scorer::NegMeanGammaDeviance => Ok(-mean_gamma_deviance::<F, _, _>(y_true, y_pred)?),
            Scorer::D2AbsoluteErrorScore => d2_absolute_error_score::<F, _, _>(y_true, y_pred),
            Scorer::R2 => r2_score::<F, _, _>(y_true, y_pred),
            Scorer::NegMeanSquaredError => Ok(-mean_squared_error::<F, _, _>(y_true, y_pred)?),
            Scorer::NegRootMeanSquaredError => Ok(-mean_squared_error::<F, _, _>(y_true, y_pred)?.sqrt()),
            Scorer::NegMeanAbsoluteError => Ok(-mean_absolute_error::<F, _, _>(y_true, y_pred)?),
            _ => Err(scorer.wrong_target(false)),
        }
    }
    fn score_response<G: Real, A: Vector<F>, P: crate::data::Matrix<G>>(
        scorer: Scorer,
        _y_true: &A,
        _response: &P,
    ) -> Result<f64> {
        Err(scorer.wrong_target(false))
    }
}

/// A cross-validation strategy: the folds of `n` samples, given class labels (stratified
/// splitters need them) and group labels (group splitters need them).
pub trait Splitter: Send + Sync {
    /// The folds of `n` samples. `labels` are the class labels of y when y holds labels
    /// (`None` for a continuous target or no y); `groups` the samples' groups, if any.
    ///
    /// # Errors
    /// Too few samples for the number of splits; bad parameters; a stratified split without
    /// class labels; a group split without groups.
    fn split(&self, n: usize, labels: Option<&[i64]>, groups: Option<&[i64]>) -> Result<Vec<Fold>>;

    /// Whether [`Splitter::split`] reads the class labels (then a y on a device is read back
    /// to the host to compute the folds).
    fn needs_labels(&self) -> bool {
        false
    }

    /// The folds of the samples of `y` (stratified on its labels when it holds labels).
    ///
    /// # Errors
    /// As [`Splitter::split`].
    fn folds<T: Target>(&self, y: ArrayView1<'_, T>) -> Result<Vec<Fold>>
    where
        Self: Sized,
    {
        let labels: Option<Vec<i64>> = y.iter().map(|v| v.label()).collect();
        self.split(y.len(), labels.as_deref(), None)
    }
}

/// A seed scikit-learn accepts as `random_state` (below 2^32).
pub(super) fn seed32(splitter: &'static str, seed: u64) -> Result<u32> {
    u32::try_from(seed)
        .map_err(|_| EstimatorError::param(splitter, "random_state", "an int in the range [0, 4294967295]", seed))
}

/// The class labels a stratified splitter needs.
pub(super) fn need_labels<'a>(splitter: &'static str, labels: Option<&'a [i64]>) -> Result<&'a [i64]> {
    labels.ok_or_else(|| {
        EstimatorError::InvalidTarget(format!(
            "Supported target types are: ('binary', 'multiclass'). Got 'continuous' instead. ({splitter} needs i64 \
             class labels)"
        ))
    })
}

/// `n_splits` of `splitter` (the caller's name, for the message) is at least 2 and at most `n`.
pub(super) fn check_splits(splitter: &'static str, n_splits: usize, n: usize) -> Result<()> {
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
pub(super) fn folds_from_assignment(test_fold: &[usize], n_splits: usize) -> Vec<Fold> {
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
        let mut rng = RandomState::new(seed32("KFold", self.seed)?);
        self.test_folds_with(n, &mut rng)
    }

    /// [`KFold::test_folds`] shuffled (when shuffling) by `rng`, which RepeatedKFold shares
    /// across its repeats, as scikit-learn does.
    pub(super) fn test_folds_with(&self, n: usize, rng: &mut RandomState) -> Result<Vec<usize>> {
        check_splits("KFold", self.n_splits, n)?;
        let mut order: Vec<usize> = (0..n).collect();
        if self.shuffle {
            rng.shuffle(&mut order);
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
    fn split(&self, n: usize, _: Option<&[i64]>, _: Option<&[i64]>) -> Result<Vec<Fold>> {
        Ok(folds_from_assignment(&self.test_folds(n)?, self.n_splits))
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
        let mut rng = RandomState::new(seed32("StratifiedKFold", self.seed)?);
        self.test_folds_with(y, &mut rng)
    }

    /// [`StratifiedKFold::test_folds`] shuffled by `rng` (shared across repeats).
    pub(super) fn test_folds_with(&self, y: &[i64], rng: &mut RandomState) -> Result<Vec<usize>> {
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
    fn split(&self, _n: usize, labels: Option<&[i64]>, _: Option<&[i64]>) -> Result<Vec<Fold>> {
        let labels = need_labels("StratifiedKFold", labels)?;
        Ok(folds_from_assignment(&self.test_folds(labels)?, self.n_splits))
    }
    fn needs_labels(&self) -> bool {
        true
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
        if self.shuffle {
            // scikit-learn's ShuffleSplit: the test rows first in the permutation.
            let order = RandomState::new(seed32("train_test_split", self.seed)?).permutation(n);
            return Ok(Fold { train: order[n_test..].to_vec(), test: order[..n_test].to_vec() });
        }
        let order: Vec<usize> = (0..n).collect();
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
