//! The other cross-validation splitters of scikit-learn: `ShuffleSplit`,
//! `StratifiedShuffleSplit`, `GroupKFold`, `TimeSeriesSplit`, `RepeatedKFold`,
//! `RepeatedStratifiedKFold` and `LeaveOneOut`, with scikit-learn's index sets for the same
//! integer seed (numpy's legacy `RandomState` draws, in scikit-learn's order).

use super::split::{check_splits, folds_from_assignment, need_labels, seed32, Fold, KFold, Splitter, StratifiedKFold};
use crate::error::{EstimatorError, Result};
use crate::random_state::RandomState;

/// A train or test size: a fraction of the samples in (0, 1) or a number of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Size {
    /// A fraction in (0, 1): `ceil(f * n)` test rows, `floor(f * n)` train rows.
    Fraction(f64),
    /// A number of rows in [1, n).
    Count(usize),
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Size::Fraction(v) => write!(f, "{v}"),
            Size::Count(c) => write!(f, "{c}"),
        }
    }
}

fn show(s: Option<Size>) -> String {
    s.map_or("None".into(), |s| s.to_string())
}

/// scikit-learn's `_validate_shuffle_split`: `(n_train, n_test)` of `n` samples.
fn shuffle_sizes(n: usize, test: Option<Size>, train: Option<Size>, default_test: f64) -> Result<(usize, usize)> {
    let test = if test.is_none() && train.is_none() { Some(Size::Fraction(default_test)) } else { test };
    let bad = |s: Option<Size>| match s {
        Some(Size::Count(c)) => c >= n || c == 0,
        Some(Size::Fraction(f)) => !(f > 0.0 && f < 1.0),
        None => false,
    };
    if bad(test) {
        return Err(EstimatorError::param(
            "ShuffleSplit",
            "test_size",
            format!("either positive and smaller than the number of samples {n} or a float in the (0, 1) range"),
            show(test),
        ));
    }
    if bad(train) {
        return Err(EstimatorError::param(
            "ShuffleSplit",
            "train_size",
            format!("either positive and smaller than the number of samples {n} or a float in the (0, 1) range"),
            show(train),
        ));
    }
    if let (Some(Size::Fraction(a)), Some(Size::Fraction(b))) = (test, train) {
        if a + b > 1.0 {
            return Err(EstimatorError::param(
                "ShuffleSplit",
                "test_size",
                "such that the sum of test_size and train_size is in the (0, 1) range. Reduce test_size and/or train_size",
                a + b,
            ));
        }
    }
    let count = |s: Size, ceil: bool| match s {
        Size::Fraction(f) if ceil => (f * n as f64).ceil() as usize,
        Size::Fraction(f) => (f * n as f64).floor() as usize,
        Size::Count(c) => c,
    };
    let (n_train, n_test) = match (train, test) {
        (None, Some(t)) => {
            let t = count(t, true);
            (n - t, t)
        }
        (Some(r), None) => {
            let r = count(r, false);
            (r, n - r)
        }
        (Some(r), Some(t)) => (count(r, false), count(t, true)),
        (None, None) => unreachable!("a default test size is set above"),
    };
    if n_train + n_test > n {
        return Err(EstimatorError::TooFewSamples(format!(
            "The sum of train_size and test_size = {}, should be smaller than the number of samples {n}. Reduce \
             test_size and/or train_size.",
            n_train + n_test
        )));
    }
    if n_train == 0 {
        return Err(EstimatorError::TooFewSamples(format!(
            "With n_samples={n}, test_size={} and train_size={}, the resulting train set will be empty. Adjust any \
             of the aforementioned parameters.",
            show(test),
            show(train)
        )));
    }
    Ok((n_train, n_test))
}

macro_rules! sizes_builder {
    ($t:ident) => {
        impl $t {
            /// The test set's size as a fraction of the samples (scikit-learn's float
            /// `test_size`).
            pub fn test_size(mut self, fraction: f64) -> Self {
                self.test = Some(Size::Fraction(fraction));
                self
            }
            /// The test set's size as a number of samples (an int `test_size`).
            pub fn test_count(mut self, n: usize) -> Self {
                self.test = Some(Size::Count(n));
                self
            }
            /// The training set's size as a fraction of the samples (default: the rest).
            pub fn train_size(mut self, fraction: f64) -> Self {
                self.train = Some(Size::Fraction(fraction));
                self
            }
            /// The training set's size as a number of samples.
            pub fn train_count(mut self, n: usize) -> Self {
                self.train = Some(Size::Count(n));
                self
            }
            /// The seed (scikit-learn's integer `random_state`; default 0).
            pub fn seed(mut self, seed: u64) -> Self {
                self.seed = seed;
                self
            }
        }
    };
}

/// Random permutation cross-validation (scikit-learn's `ShuffleSplit`): each split draws a
/// fresh permutation; its first `n_test` rows are the test set, the next `n_train` the
/// training set. Default: 10 splits, a test size of 0.1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShuffleSplit {
    n_splits: usize,
    test: Option<Size>,
    train: Option<Size>,
    seed: u64,
}

impl ShuffleSplit {
    /// `n_splits` random splits.
    pub fn new(n_splits: usize) -> ShuffleSplit {
        ShuffleSplit { n_splits, test: None, train: None, seed: 0 }
    }
}
sizes_builder!(ShuffleSplit);

impl Splitter for ShuffleSplit {
    fn split(&self, n: usize, _: Option<&[i64]>, _: Option<&[i64]>) -> Result<Vec<Fold>> {
        if self.n_splits == 0 {
            return Err(EstimatorError::param("ShuffleSplit", "n_splits", "an int in the range [1, inf)", 0));
        }
        let (n_train, n_test) = shuffle_sizes(n, self.test, self.train, 0.1)?;
        let mut rng = RandomState::new(seed32("ShuffleSplit", self.seed)?);
        Ok((0..self.n_splits)
            .map(|_| {
                let p = rng.permutation(n);
                Fold { train: p[n_test..n_test + n_train].to_vec(), test: p[..n_test].to_vec() }
            })
            .collect())
    }
}

/// scikit-learn's `_approximate_mode`: how many of each class `n_draws` draws take, ties in
/// the remainders broken by `rng` (numpy's legacy `choice` without replacement).
fn approximate_mode(counts: &[usize], n_draws: usize, rng: &mut RandomState) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    let continuous: Vec<f64> = counts.iter().map(|&c| c as f64 / total as f64 * n_draws as f64).collect();
    let mut floored: Vec<f64> = continuous.iter().map(|c| c.floor()).collect();
    let mut need = (n_draws as f64 - floored.iter().sum::<f64>()) as i64;
    if need > 0 {
        let remainder: Vec<f64> = continuous.iter().zip(&floored).map(|(c, f)| c - f).collect();
        let mut values = remainder.clone();
        values.sort_by(|a, b| b.total_cmp(a));
        values.dedup();
        for v in values {
            let inds: Vec<usize> = (0..remainder.len()).filter(|&i| remainder[i] == v).collect();
            let add_now = inds.len().min(need as usize);
            let chosen = rng.permutation(inds.len());
            for &c in &chosen[..add_now] {
                floored[inds[c]] += 1.0;
            }
            need -= add_now as i64;
            if need == 0 {
                break;
            }
        }
    }
    floored.into_iter().map(|f| f as usize).collect()
}

/// Random splits that keep each class's proportion (scikit-learn's `StratifiedShuffleSplit`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StratifiedShuffleSplit {
    n_splits: usize,
    test: Option<Size>,
    train: Option<Size>,
    seed: u64,
}

impl StratifiedShuffleSplit {
    /// `n_splits` stratified random splits.
    pub fn new(n_splits: usize) -> StratifiedShuffleSplit {
        StratifiedShuffleSplit { n_splits, test: None, train: None, seed: 0 }
    }
}
sizes_builder!(StratifiedShuffleSplit);

impl Splitter for StratifiedShuffleSplit {
    fn split(&self, n: usize, labels: Option<&[i64]>, _: Option<&[i64]>) -> Result<Vec<Fold>> {
        let y = need_labels("StratifiedShuffleSplit", labels)?;
        if self.n_splits == 0 {
            return Err(EstimatorError::param("StratifiedShuffleSplit", "n_splits", "an int in the range [1, inf)", 0));
        }
        crate::data::check_len("y", y.len(), n)?;
        let (n_train, n_test) = shuffle_sizes(n, self.test, self.train, 0.1)?;
        let mut classes: Vec<i64> = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        // The members of each class in increasing order (a stable argsort of the codes).
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
        for (i, v) in y.iter().enumerate() {
            let c = classes.binary_search(v).unwrap_or_default();
            members[c].push(i);
        }
        let counts: Vec<usize> = members.iter().map(Vec::len).collect();
        let few: Vec<i64> = classes.iter().zip(&counts).filter(|(_, &c)| c < 2).map(|(&k, _)| k).collect();
        if !few.is_empty() {
            return Err(EstimatorError::InvalidTarget(format!(
                "The least populated classes in y have only 1 member, which is too few. The minimum number of groups \
                 for any class cannot be less than 2. Classes with too few members are: {few:?}"
            )));
        }
        if n_train < classes.len() {
            return Err(EstimatorError::TooFewSamples(format!(
                "The train_size = {n_train} should be greater or equal to the number of classes = {}",
                classes.len()
            )));
        }
        if n_test < classes.len() {
            return Err(EstimatorError::TooFewSamples(format!(
                "The test_size = {n_test} should be greater or equal to the number of classes = {}",
                classes.len()
            )));
        }
        let mut rng = RandomState::new(seed32("StratifiedShuffleSplit", self.seed)?);
        let mut folds = Vec::with_capacity(self.n_splits);
        for _ in 0..self.n_splits {
            let n_i = approximate_mode(&counts, n_train, &mut rng);
            let left: Vec<usize> = counts.iter().zip(&n_i).map(|(c, k)| c - k).collect();
            let t_i = approximate_mode(&left, n_test, &mut rng);
            let (mut train, mut test) = (Vec::with_capacity(n_train), Vec::with_capacity(n_test));
            for (c, m) in members.iter().enumerate() {
                let perm = rng.permutation(m.len());
                let shuffled: Vec<usize> = perm.iter().map(|&p| m[p]).collect();
                train.extend_from_slice(&shuffled[..n_i[c]]);
                test.extend_from_slice(&shuffled[n_i[c]..n_i[c] + t_i[c]]);
            }
            rng.shuffle(&mut train);
            rng.shuffle(&mut test);
            folds.push(Fold { train, test });
        }
        Ok(folds)
    }
    fn needs_labels(&self) -> bool {
        true
    }
}

/// K folds of non-overlapping groups (scikit-learn's `GroupKFold` without shuffling): the
/// largest groups first, each to the lightest fold so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupKFold {
    n_splits: usize,
}

impl GroupKFold {
    /// `n_splits` folds (scikit-learn's default: 5).
    pub fn new(n_splits: usize) -> GroupKFold {
        GroupKFold { n_splits }
    }
}

impl Splitter for GroupKFold {
    fn split(&self, n: usize, _: Option<&[i64]>, groups: Option<&[i64]>) -> Result<Vec<Fold>> {
        let groups = groups
            .ok_or_else(|| EstimatorError::UnknownParameter("The 'groups' parameter should not be None.".into()))?;
        crate::data::check_len("groups", groups.len(), n)?;
        check_splits("GroupKFold", self.n_splits, n)?;
        let mut unique: Vec<i64> = groups.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if self.n_splits > unique.len() {
            return Err(EstimatorError::TooFewSamples(format!(
                "Cannot have number of splits n_splits={} greater than the number of groups: {}.",
                self.n_splits,
                unique.len()
            )));
        }
        let idx: Vec<usize> = groups.iter().map(|g| unique.binary_search(g).unwrap_or_default()).collect();
        let mut per_group = vec![0usize; unique.len()];
        for &g in &idx {
            per_group[g] += 1;
        }
        // np.argsort(kind="stable")[::-1]: by count, descending; ties latest group first.
        let mut order: Vec<usize> = (0..unique.len()).collect();
        order.sort_by_key(|&g| per_group[g]);
        order.reverse();
        let mut per_fold = vec![0usize; self.n_splits];
        let mut group_fold = vec![0usize; unique.len()];
        for g in order {
            let lightest = (0..self.n_splits).min_by_key(|&f| (per_fold[f], f)).unwrap_or(0);
            per_fold[lightest] += per_group[g];
            group_fold[g] = lightest;
        }
        let test_fold: Vec<usize> = idx.iter().map(|&g| group_fold[g]).collect();
        Ok(folds_from_assignment(&test_fold, self.n_splits))
    }
}

/// Time-series cross-validation (scikit-learn's `TimeSeriesSplit`): each test set follows its
/// training set in time; training sets grow (up to `max_train_size`), `gap` rows left out
/// between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSeriesSplit {
    n_splits: usize,
    max_train_size: Option<usize>,
    test_size: Option<usize>,
    gap: usize,
}

impl TimeSeriesSplit {
    /// `n_splits` splits (scikit-learn's default: 5).
    pub fn new(n_splits: usize) -> TimeSeriesSplit {
        TimeSeriesSplit { n_splits, max_train_size: None, test_size: None, gap: 0 }
    }
    /// The most training rows (the latest ones).
    pub fn max_train_size(mut self, n: usize) -> Self {
        self.max_train_size = Some(n);
        self
    }
    /// The rows of each test set (default `n / (n_splits + 1)`).
    pub fn test_size(mut self, n: usize) -> Self {
        self.test_size = Some(n);
        self
    }
    /// Rows left out between each training set and its test set.
    pub fn gap(mut self, n: usize) -> Self {
        self.gap = n;
        self
    }
}

impl Splitter for TimeSeriesSplit {
    fn split(&self, n: usize, _: Option<&[i64]>, _: Option<&[i64]>) -> Result<Vec<Fold>> {
        let k = self.n_splits;
        if k < 2 {
            return Err(EstimatorError::param("TimeSeriesSplit", "n_splits", "an int in the range [2, inf)", k));
        }
        let n_folds = k + 1;
        let test_size = self.test_size.unwrap_or(n / n_folds);
        if n_folds > n {
            return Err(EstimatorError::TooFewSamples(format!(
                "Cannot have number of folds={n_folds} greater than the number of samples={n}."
            )));
        }
        if n as i64 - self.gap as i64 - (test_size * k) as i64 <= 0 {
            return Err(EstimatorError::TooFewSamples(format!(
                "Too many splits={k} for number of samples={n} with test_size={test_size} and gap={}.",
                self.gap
            )));
        }
        Ok((0..k)
            .map(|s| {
                let test_start = n - k * test_size + s * test_size;
                let train_end = test_start - self.gap;
                let train_start = match self.max_train_size {
                    Some(m) if m > 0 && m < train_end => train_end - m,
                    _ => 0,
                };
                Fold { train: (train_start..train_end).collect(), test: (test_start..test_start + test_size).collect() }
            })
            .collect())
    }
}

/// [`KFold`] repeated `n_repeats` times, each shuffled anew by one generator (scikit-learn's
/// `RepeatedKFold`; defaults 5 splits, 10 repeats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatedKFold {
    n_splits: usize,
    n_repeats: usize,
    seed: u64,
}

impl RepeatedKFold {
    /// `n_splits` folds, `n_repeats` times.
    pub fn new(n_splits: usize, n_repeats: usize) -> RepeatedKFold {
        RepeatedKFold { n_splits, n_repeats, seed: 0 }
    }
    /// The seed (scikit-learn's integer `random_state`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

fn check_repeats(name: &'static str, n_repeats: usize) -> Result<()> {
    if n_repeats == 0 {
        return Err(EstimatorError::param(name, "n_repeats", "an int in the range [1, inf)", 0));
    }
    Ok(())
}

impl Splitter for RepeatedKFold {
    fn split(&self, n: usize, _: Option<&[i64]>, _: Option<&[i64]>) -> Result<Vec<Fold>> {
        check_repeats("RepeatedKFold", self.n_repeats)?;
        let mut rng = RandomState::new(seed32("RepeatedKFold", self.seed)?);
        let kf = KFold::new(self.n_splits).shuffle(true);
        let mut folds = Vec::new();
        for _ in 0..self.n_repeats {
            folds.extend(folds_from_assignment(&kf.test_folds_with(n, &mut rng)?, self.n_splits));
        }
        Ok(folds)
    }
}

/// [`StratifiedKFold`] repeated `n_repeats` times, each shuffled anew (scikit-learn's
/// `RepeatedStratifiedKFold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatedStratifiedKFold {
    n_splits: usize,
    n_repeats: usize,
    seed: u64,
}

impl RepeatedStratifiedKFold {
    /// `n_splits` stratified folds, `n_repeats` times.
    pub fn new(n_splits: usize, n_repeats: usize) -> RepeatedStratifiedKFold {
        RepeatedStratifiedKFold { n_splits, n_repeats, seed: 0 }
    }
    /// The seed (scikit-learn's integer `random_state`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

impl Splitter for RepeatedStratifiedKFold {
    fn split(&self, _n: usize, labels: Option<&[i64]>, _: Option<&[i64]>) -> Result<Vec<Fold>> {
        check_repeats("RepeatedStratifiedKFold", self.n_repeats)?;
        let y = need_labels("RepeatedStratifiedKFold", labels)?;
        let mut rng = RandomState::new(seed32("RepeatedStratifiedKFold", self.seed)?);
        let skf = StratifiedKFold::new(self.n_splits).shuffle(true);
        let mut folds = Vec::new();
        for _ in 0..self.n_repeats {
            folds.extend(folds_from_assignment(&skf.test_folds_with(y, &mut rng)?, self.n_splits));
        }
        Ok(folds)
    }
    fn needs_labels(&self) -> bool {
        true
    }
}

/// Each sample once as the test set (scikit-learn's `LeaveOneOut`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaveOneOut;

impl Splitter for LeaveOneOut {
    fn split(&self, n: usize, _: Option<&[i64]>, _: Option<&[i64]>) -> Result<Vec<Fold>> {
        if n <= 1 {
            return Err(EstimatorError::TooFewSamples(format!("Cannot perform LeaveOneOut with n_samples={n}.")));
        }
        Ok((0..n).map(|i| Fold { train: (0..n).filter(|&j| j != i).collect(), test: vec![i] }).collect())
    }
}
