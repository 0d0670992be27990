//! `TargetEncoder`: each integer-coded category replaced by a shrunk mean of the target over
//! the samples of that category (scikit-learn's `sklearn.preprocessing.TargetEncoder`).
//!
//! Fitting finds each feature's categories on the host as [`OneHotEncoder`] does (the same
//! `column_categories`), decides the target type (`"continuous"`, `"binary"`, `"multiclass"`,
//! scikit-learn's `type_of_target` rules for numbers) and encodes y as one column (continuous:
//! y itself; binary: the index of its class) or one indicator column per class (multiclass).
//! The codes become category positions by [`OneHotEncoder`]'s lookup kernel (`-1` for a code
//! that is not a category), and one kernel computes, for every fold at once, the per-category
//! counts, target sums and squared deviations (scatter-adds over the rows), the fold's target
//! mean and variance, and the encodings: with `smooth = "auto"` the empirical-Bayes blend
//! `lambda * mean_c + (1 - lambda) * mean` with `lambda = var * n_c / (var * n_c + ssd_c / n_c)`
//! (scikit-learn's `_fit_encoding_fast_auto_smooth`), with a float `smooth` the blend
//! `(smooth * mean + sum_c) / (smooth + n_c)` (`_fit_encoding_fast`); a category without
//! samples (or a NaN blend) gets the mean. `fit` runs it with one fold holding every sample;
//! `fit_transform` also runs it over the cross-fitting folds (a sample is encoded by the
//! encodings of the folds it is not in: scikit-learn's `KFold(shuffle=True)` for a continuous
//! target, `StratifiedKFold(shuffle=True)` otherwise, numpy's shuffles reproduced exactly) and
//! gathers each sample's encoding from its own fold's table. Unknown codes are encoded as the
//! target mean (in `fit_transform`, the last fold's, as scikit-learn's loop leaves it); when
//! fitting, scikit-learn counts such a code as the feature's first category, and so does kiln.
//!
//! [`OneHotEncoder`]: crate::preprocessing::OneHotEncoder

use crate::data::{Mat, Matrix, Storage, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::model_selection::{KFold, Splitter, StratifiedKFold};
use crate::preprocessing::onehot::{column_categories, ohe_lookup};
use kiln_macros::kernel;
use kiln_runtime::{tensor_arg, Device, Tensor};
use ndarray::{Array1, Array2, Ix1, Ix2, Ix3};
use std::sync::Arc;

/// The encodings of every fold (`fold[i]`: the fold whose test set holds sample `i`, `-1` for
/// a sample in no test set; fold `f` is fitted on the samples with `fold[i] != f`) and every
/// output column `e` (feature `feat[e]`, target column `tcol[e]`), per category position (`m`:
/// the position of each code among its feature's categories, `-1` for an unknown code), and
/// each fold's target means. `auto > 0` selects the empirical-Bayes shrinkage, else `smooth`.
#[kernel(crate = kiln_runtime)]
#[allow(clippy::too_many_arguments)]
fn te_fit<F: Float>(
    m: Array2<i64>,
    y: Array2<F>,
    fold: Array1<i64>,
    folds: Array1<i64>,
    cats: Array2<i64>,
    feat: Array1<i64>,
    tcol: Array1<i64>,
    smooth: F,
    auto: i64,
) -> (Array3<F>, Array2<F>) {
    let n = m.nrows();
    let dm = m.ncols();
    // scikit-learn's fit counts an unknown code (its ordinal is 0 with a False mask) as the
    // feature's first category.
    let m0 = Array2::from_shape_fn((n, dm), |(i, j)| select(m[[i, j]] >= 0, m[[i, j]], 0));
    let t = y.ncols();
    let kf = folds.len();
    let ne = feat.len();
    let w = cats.ncols();
    let ntr = Array1::from_shape_fn(kf, |f| sum(0..n, |i| select(fold[[i]] != f, 1, 0)) as F);
    let ymean =
        Array2::from_shape_fn((kf, t), |(f, q)| sum(0..n, |i| select(fold[[i]] != f, y[[i, q]], 0.0)) / ntr[[f]]);
    let yvar = Array2::from_shape_fn((kf, t), |(f, q)| {
        sum(0..n, |i| select(fold[[i]] != f, (y[[i, q]] - ymean[[f, q]]).powi(2), 0.0)) / ntr[[f]]
    });
    let cnt = Array3::from_shape_fn((kf, ne, w), |(f, e, c)| {
        sum(0..n, |i| select(fold[[i]] != f && m0[[i, feat[[e]] as usize]] == c, 1, 0)) as F
    });
    let s = Array3::from_shape_fn((kf, ne, w), |(f, e, c)| {
        sum(0..n, |i| select(fold[[i]] != f && m0[[i, feat[[e]] as usize]] == c, y[[i, tcol[[e]] as usize]], 0.0))
    });
    let mu = Array3::from_shape_fn((kf, ne, w), |(f, e, c)| s[[f, e, c]] / cnt[[f, e, c]]);
    let ssd = Array3::from_shape_fn((kf, ne, w), |(f, e, c)| {
        sum(0..n, |i| {
            select(
                fold[[i]] != f && m0[[i, feat[[e]] as usize]] == c,
                (y[[i, tcol[[e]] as usize]] - mu[[f, e, c]]).powi(2),
                0.0,
            )
        })
    });
    let ym = Array2::from_shape_fn((kf, ne), |(f, e)| ymean[[f, tcol[[e]] as usize]]);
    let yv = Array2::from_shape_fn((kf, ne), |(f, e)| yvar[[f, tcol[[e]] as usize]]);
    let den =
        Array3::from_shape_fn((kf, ne, w), |(f, e, c)| yv[[f, e]] * cnt[[f, e, c]] + ssd[[f, e, c]] / cnt[[f, e, c]]);
    let lam = Array3::from_shape_fn((kf, ne, w), |(f, e, c)| yv[[f, e]] * cnt[[f, e, c]] / den[[f, e, c]]);
    let enc = Array3::from_shape_fn((kf, ne, w), |(f, e, c)| {
        select(
            auto > 0,
            select(
                cnt[[f, e, c]] > 0.0 && den[[f, e, c]] != 0.0,
                lam[[f, e, c]] * mu[[f, e, c]] + (1.0 - lam[[f, e, c]]) * ym[[f, e]],
                ym[[f, e]],
            ),
            select(
                cnt[[f, e, c]] + smooth > 0.0,
                (smooth * ym[[f, e]] + s[[f, e, c]]) / (smooth + cnt[[f, e, c]]),
                ym[[f, e]],
            ),
        )
    });
    (enc, ymean)
}

/// Cross-fitted output: sample `i`'s column `e` is fold `fold[i]`'s encoding of its category.
/// An unknown code gets the target mean of fold `last`: scikit-learn's loop over the folds
/// writes each fold's mean into every unknown row, so the last fold's stays.
#[kernel(crate = kiln_runtime)]
fn te_crossfit<F: Float>(
    m: Array2<i64>,
    fold: Array1<i64>,
    enc: Array3<F>,
    ymean: Array2<F>,
    feat: Array1<i64>,
    tcol: Array1<i64>,
    last: i64,
) -> Array2<F> {
    let n = m.nrows();
    let ne = feat.len();
    Array2::from_shape_fn((n, ne), |(i, e)| {
        select(
            m[[i, feat[[e]] as usize]] >= 0,
            enc[[
                fold[[i]] as usize,
                e,
                select(m[[i, feat[[e]] as usize]] >= 0, m[[i, feat[[e]] as usize]], 0) as usize,
            ]],
            ymean[[last as usize, tcol[[e]] as usize]],
        )
    })
}

/// The encoding of new codes: column `e` is the fitted encoding of the sample's category of
/// feature `feat[e]`, the target mean of column `tcol[e]` for an unknown code.
#[kernel(crate = kiln_runtime)]
fn te_transform<F: Float>(
    m: Array2<i64>,
    enc: Array2<F>,
    mean: Array1<F>,
    feat: Array1<i64>,
    tcol: Array1<i64>,
) -> Array2<F> {
    let n = m.nrows();
    let ne = feat.len();
    Array2::from_shape_fn((n, ne), |(i, e)| {
        select(
            m[[i, feat[[e]] as usize]] >= 0,
            enc[[e, select(m[[i, feat[[e]] as usize]] >= 0, m[[i, feat[[e]] as usize]], 0) as usize]],
            mean[[tcol[[e]] as usize]],
        )
    })
}

/// The kind of target a [`TargetEncoder`] encodes (`target_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetEncoderType {
    /// Inferred from y as scikit-learn's `type_of_target` does for numbers (`"auto"`): a
    /// non-integral value makes it continuous, else at most two distinct values binary, else
    /// multiclass.
    #[default]
    Auto,
    /// A real-valued target (`"continuous"`).
    Continuous,
    /// Two classes (`"binary"`): y's classes are encoded 0 / 1 in sorted order.
    Binary,
    /// Three or more classes (`"multiclass"`): one output column per feature and class.
    Multiclass,
}

/// The shrinkage of the category means toward the target mean (`smooth`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Smooth {
    /// The empirical-Bayes estimate (`"auto"`, scikit-learn's default).
    #[default]
    Auto,
    /// A fixed weight of the global mean (a float >= 0).
    Value(f64),
}

impl From<f64> for Smooth {
    fn from(v: f64) -> Self {
        Smooth::Value(v)
    }
}

/// The cross-fitting folds of `fit_transform` (`cv`).
#[derive(Clone)]
pub enum TargetEncoderCv {
    /// This many folds (an int, scikit-learn's default 5): `KFold` for a continuous target,
    /// `StratifiedKFold` otherwise, shuffled by `shuffle` / `seed`.
    Folds(usize),
    /// A splitter whose test sets must cover every sample exactly once.
    Splitter(Arc<dyn Splitter>),
}

impl std::fmt::Debug for TargetEncoderCv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetEncoderCv::Folds(k) => write!(f, "Folds({k})"),
            TargetEncoderCv::Splitter(_) => write!(f, "Splitter(..)"),
        }
    }
}

/// Hyper-parameters of [`TargetEncoder`] (scikit-learn's defaults: categories "auto",
/// target_type "auto", smooth "auto", 5 shuffled folds). scikit-learn 1.9 shuffles its folds
/// with `random_state=None` by default (a fresh seed each call); kiln's default seed is 0, so a
/// fit is reproducible.
#[derive(Debug, Clone)]
pub struct TargetEncoderParams {
    categories: Option<Vec<Vec<i64>>>,
    target_type: TargetEncoderType,
    smooth: Smooth,
    cv: TargetEncoderCv,
    shuffle: bool,
    seed: u64,
}

impl Default for TargetEncoderParams {
    fn default() -> Self {
        TargetEncoderParams {
            categories: None,
            target_type: TargetEncoderType::Auto,
            smooth: Smooth::Auto,
            cv: TargetEncoderCv::Folds(5),
            shuffle: true,
            seed: 0,
        }
    }
}

/// A fitted target encoder. Categories, classes, encodings and target means are kept on the
/// host (they are small, as scikit-learn's lists); the tables `transform` reads are kept where
/// the codes lived (`S`).
#[derive(Debug, Clone)]
pub struct TargetEncoder<F: Real, S: Storage> {
    categories: Vec<Array1<i64>>,
    target_type: TargetEncoderType,
    classes: Option<Vec<F>>,
    encodings: Vec<Array1<F>>,
    target_mean: Vec<F>,
    cats_table: S::Mat<i64>,
    pos_table: S::Mat<i64>,
    unknown_table: S::Vec<i64>,
    feat_table: S::Vec<i64>,
    tcol_table: S::Vec<i64>,
    enc_table: S::Mat<F>,
    mean_table: S::Vec<F>,
    device: Device,
}

impl TargetEncoder<f64, crate::data::Host> {
    /// The default hyper-parameters.
    pub fn params() -> TargetEncoderParams {
        TargetEncoderParams::default()
    }
}

/// What a fit prepared: the fitted encoder, the codes' category positions, the encoded target
/// and the class labels the folds stratify on.
struct Prepared<F: Real, S: Storage> {
    model: TargetEncoder<F, S>,
    m: Tensor<i64>,
    y2: Tensor<F>,
    labels: Option<Vec<i64>>,
}

impl TargetEncoderParams {
    /// The categories of each feature, sorted and distinct (`categories`; default "auto": the
    /// codes seen when fitting). Codes outside them are treated as unknown.
    pub fn categories(mut self, categories: Vec<Vec<i64>>) -> Self {
        self.categories = Some(categories);
        self
    }

    /// The kind of target (`target_type`, default inferred).
    pub fn target_type(mut self, target_type: TargetEncoderType) -> Self {
        self.target_type = target_type;
        self
    }

    /// The shrinkage (`smooth`): [`Smooth::Auto`] or a float >= 0 (`.smooth(5.0)`).
    pub fn smooth(mut self, smooth: impl Into<Smooth>) -> Self {
        self.smooth = smooth.into();
        self
    }

    /// The number of cross-fitting folds of `fit_transform` (`cv`, an int >= 2).
    pub fn cv(mut self, n_splits: usize) -> Self {
        self.cv = TargetEncoderCv::Folds(n_splits);
        self
    }

    /// A splitter for the cross-fitting folds of `fit_transform` (`cv` given as a
    /// cross-validation generator); its test sets must cover every sample exactly once.
    pub fn cv_splitter(mut self, splitter: impl Splitter + 'static) -> Self {
        self.cv = TargetEncoderCv::Splitter(Arc::new(splitter));
        self
    }

    /// Whether an int `cv` shuffles the samples before splitting (`shuffle`, default true).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// The seed of an int `cv`'s shuffle (`random_state`, default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn validate(&self) -> Result<()> {
        if let Smooth::Value(v) = self.smooth {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(EstimatorError::param(
                    "TargetEncoder",
                    "smooth",
                    "a str among {'auto'} or a float in the range [0, inf)",
                    v,
                ));
            }
        }
        if let TargetEncoderCv::Folds(k) = self.cv {
            if k < 2 {
                return Err(EstimatorError::param(
                    "TargetEncoder",
                    "cv",
                    "k-fold cross-validation requires at least one train/test split by setting n_splits=2 or more",
                    k,
                ));
            }
        }
        Ok(())
    }

    /// Find the categories of each feature of `codes` (integer codes, n_samples x n_features)
    /// and learn each category's encoding from all of `y` (`fit`; scikit-learn discourages it
    /// for the training data, where [`TargetEncoderParams::fit_transform`]'s cross-fitting
    /// avoids leaking the target).
    ///
    /// # Errors
    /// Bad hyper-parameters; empty codes; y of another length than the codes ("Found input
    /// variables with inconsistent numbers of samples"); NaN or infinite y; a multiclass target
    /// with fewer than 3 classes; given categories of the wrong count, unsorted or duplicated;
    /// y on another device than the codes; kernel errors.
    pub fn fit<F: Real, X: Matrix<i64>, Y: Vector<F>>(&self, codes: &X, y: &Y) -> Result<TargetEncoder<F, X::Storage>> {
        Ok(self.prepare(codes, y)?.model)
    }

    /// Fit on all of `codes`, `y`, and encode `codes` by cross-fitting (`fit_transform`): each
    /// sample is encoded by the encodings learnt on the folds it is not in, so its own target
    /// never enters its encoding. Returns the fitted encoder and the encoded codes
    /// (n_samples x n_features, or n_features x n_classes columns for a multiclass target,
    /// grouped by feature).
    ///
    /// # Errors
    /// As [`TargetEncoderParams::fit`]; a splitter's errors (more folds than samples, or than
    /// the members of every class for a stratified split); a splitter whose test sets do not
    /// cover every sample exactly once.
    pub fn fit_transform<F: Real, X: Matrix<i64>, Y: Vector<F>>(
        &self,
        codes: &X,
        y: &Y,
    ) -> Result<(TargetEncoder<F, X::Storage>, Mat<X::Storage, F>)> {
        let Prepared { model, m, y2, labels } = self.prepare(codes, y)?;
        let n = labels.as_ref().map_or(y2.shape()[0], Vec::len);
        let test_fold: Vec<usize> = match &self.cv {
            TargetEncoderCv::Folds(k) => match &labels {
                None => KFold::new(*k).shuffle(self.shuffle).seed(self.seed).test_folds(n)?,
                Some(l) => StratifiedKFold::new(*k).shuffle(self.shuffle).seed(self.seed).test_folds(l)?,
            },
            TargetEncoderCv::Splitter(s) => {
                let folds = s.split(n, labels.as_deref(), None)?;
                let mut assigned = vec![usize::MAX; n];
                let mut seen = vec![0usize; n];
                for (k, fold) in folds.iter().enumerate() {
                    for &i in &fold.test {
                        if i < n {
                            seen[i] += 1;
                            assigned[i] = k;
                        }
                    }
                }
                if seen.iter().any(|&c| c != 1) {
                    return Err(EstimatorError::InvalidParameter {
                        estimator: "TargetEncoder",
                        name: "cv",
                        expected: "a splitter with non-overlapping validation folds".into(),
                        got: "Validation indices from `cv` must cover each sample index exactly once with no overlap. \
                              Pass a splitter with non-overlapping validation folds as `cv` or refer to the docs for \
                              other options."
                            .into(),
                    });
                }
                assigned
            }
        };
        let n_folds = test_fold.iter().copied().max().map_or(1, |k| k + 1);
        let device = model.device;
        let fold = Tensor::from_owned(test_fold.iter().map(|&k| k as i64).collect::<Array1<i64>>(), device)?;
        let folds = Tensor::from_owned(Array1::from_iter(0..n_folds as i64), device)?;
        let (enc, ymean) = te_fit::tensors::<F>(
            tensor_arg::<i64, Ix2>(&m),
            tensor_arg::<F, Ix2>(&y2),
            tensor_arg::<i64, Ix1>(&fold),
            tensor_arg::<i64, Ix1>(&folds),
            X::Storage::mat_arg(&model.cats_table),
            X::Storage::vec_arg(&model.feat_table),
            X::Storage::vec_arg(&model.tcol_table),
            self.smooth_value::<F>(),
            i64::from(self.smooth == Smooth::Auto),
        )?;
        let out = te_crossfit::tensors::<F>(
            tensor_arg::<i64, Ix2>(&m),
            tensor_arg::<i64, Ix1>(&fold),
            tensor_arg::<F, Ix3>(&enc),
            tensor_arg::<F, Ix2>(&ymean),
            X::Storage::vec_arg(&model.feat_table),
            X::Storage::vec_arg(&model.tcol_table),
            n_folds as i64 - 1,
        )?;
        Ok((model, X::Storage::mat(out)?))
    }

    fn smooth_value<F: Real>(&self) -> F {
        match self.smooth {
            Smooth::Auto => F::from_f64(0.0),
            Smooth::Value(v) => F::from_f64(v),
        }
    }

    /// Categories, target type, encoded target, category positions and the encodings learnt
    /// from every sample.
    fn prepare<F: Real, X: Matrix<i64>, Y: Vector<F>>(&self, codes: &X, y: &Y) -> Result<Prepared<F, X::Storage>> {
        self.validate()?;
        let (n, d) = codes.dims()?;
        let ny = y.length()?;
        if ny != n {
            return Err(EstimatorError::Shape(format!(
                "Found input variables with inconsistent numbers of samples: [{n}, {ny}]"
            )));
        }
        if n == 0 || d == 0 {
            return Err(EstimatorError::EmptyInput {
                estimator: "TargetEncoder",
                n_samples: n,
                n_features: d,
                min_samples: 1,
            });
        }
        let device = codes.device();
        if y.device() != device {
            return Err(EstimatorError::Device(format!("y is on {:?} but the codes are on {device:?}", y.device())));
        }
        if let Some(given) = &self.categories {
            if given.len() != d {
                return Err(EstimatorError::Shape(
                    "Shape mismatch: if categories is an array, it has to be of shape (n_features,).".into(),
                ));
            }
        }
        // Categories, as OneHotEncoder finds them (unknown codes are ignored when fitting).
        let host = codes.to_host()?;
        let mut categories = Vec::with_capacity(d);
        for (j, column) in host.columns().into_iter().enumerate() {
            let mut sorted: Vec<i64> = column.to_vec();
            sorted.sort_unstable();
            let given = self.categories.as_ref().map(|g| g[j].as_slice());
            categories.push(column_categories("TargetEncoder", j, &sorted, given, false)?);
        }
        // The target: its type, classes and encoded columns.
        let yh = y.to_host()?;
        if let Some(v) = yh.iter().find(|v| !v.to_f64().is_finite()) {
            let what = if v.to_f64().is_nan() { "NaN" } else { "infinity or a value too large for dtype('float64')" };
            return Err(EstimatorError::InvalidTarget(format!("Input y contains {what}.")));
        }
        let mut classes: Vec<F> = yh.to_vec();
        classes.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        classes.dedup();
        let target_type = match self.target_type {
            TargetEncoderType::Auto => {
                if yh.iter().any(|v| v.to_f64() != v.to_f64().round()) {
                    TargetEncoderType::Continuous
                } else if classes.len() <= 2 {
                    TargetEncoderType::Binary
                } else {
                    TargetEncoderType::Multiclass
                }
            }
            t => t,
        };
        let index_of = |v: F| classes.partition_point(|c| *c < v);
        let (y2, classes, labels): (Array2<F>, Option<Vec<F>>, Option<Vec<i64>>) = match target_type {
            TargetEncoderType::Continuous | TargetEncoderType::Auto => {
                (yh.clone().insert_axis(ndarray::Axis(1)), None, None)
            }
            TargetEncoderType::Binary => {
                let idx: Vec<i64> = yh.iter().map(|&v| index_of(v) as i64).collect();
                let col = Array2::from_shape_fn((n, 1), |(i, _)| F::from_f64(idx[i] as f64));
                (col, Some(classes.clone()), Some(idx))
            }
            TargetEncoderType::Multiclass => {
                if classes.len() < 3 {
                    return Err(EstimatorError::InvalidTarget(format!(
                        "target_type='multiclass' needs at least 3 classes; y has {}",
                        classes.len()
                    )));
                }
                let idx: Vec<i64> = yh.iter().map(|&v| index_of(v) as i64).collect();
                let k = classes.len();
                let onehot =
                    Array2::from_shape_fn((n, k), |(i, c)| F::from_f64(f64::from(u8::from(idx[i] == c as i64))));
                (onehot, Some(classes.clone()), Some(idx))
            }
        };
        let t = y2.ncols();
        // Device tables: padded categories, their positions, and the output columns.
        let width = categories.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut cats = Array2::from_elem((d, width), i64::MAX);
        let mut pos = Array2::from_elem((d, width), -1i64);
        for (j, c) in categories.iter().enumerate() {
            for (p, &v) in c.iter().enumerate() {
                cats[[j, p]] = v;
                pos[[j, p]] = p as i64;
            }
        }
        let feat: Array1<i64> = (0..d * t).map(|e| (e / t) as i64).collect();
        let tcol: Array1<i64> = (0..d * t).map(|e| (e % t) as i64).collect();
        let cats_table = X::Storage::mat_from_host(cats, device)?;
        let pos_table = X::Storage::mat_from_host(pos, device)?;
        let unknown_table = X::Storage::vec_from_host(Array1::from_elem(d, -1i64), device)?;
        let feat_table = X::Storage::vec_from_host(feat, device)?;
        let tcol_table = X::Storage::vec_from_host(tcol, device)?;
        let (m, _, _) = ohe_lookup::tensors(
            codes.arg(),
            X::Storage::mat_arg(&cats_table),
            X::Storage::mat_arg(&pos_table),
            X::Storage::vec_arg(&unknown_table),
        )?;
        let y2 = Tensor::from_owned(y2, device)?;
        // The encodings from every sample: one fold holding none of them.
        let fold = Tensor::from_owned(Array1::from_elem(n, -1i64), device)?;
        let folds = Tensor::from_owned(Array1::from_elem(1, 0i64), device)?;
        let (enc, ymean) = te_fit::tensors::<F>(
            tensor_arg::<i64, Ix2>(&m),
            tensor_arg::<F, Ix2>(&y2),
            tensor_arg::<i64, Ix1>(&fold),
            tensor_arg::<i64, Ix1>(&folds),
            X::Storage::mat_arg(&cats_table),
            X::Storage::vec_arg(&feat_table),
            X::Storage::vec_arg(&tcol_table),
            self.smooth_value::<F>(),
            i64::from(self.smooth == Smooth::Auto),
        )?;
        let enc3 = enc.to_array::<Ix3>()?;
        let enc_host: Array2<F> = enc3.index_axis_move(ndarray::Axis(0), 0);
        let mean_host: Array1<F> = ymean.to_array::<Ix2>()?.row(0).to_owned();
        let encodings: Vec<Array1<F>> =
            (0..d * t).map(|e| enc_host.row(e).iter().take(categories[e / t].len()).copied().collect()).collect();
        let model = TargetEncoder {
            categories: categories.into_iter().map(Array1::from).collect(),
            target_type,
            classes,
            encodings,
            target_mean: mean_host.to_vec(),
            enc_table: X::Storage::mat_from_host(enc_host, device)?,
            mean_table: X::Storage::vec_from_host(mean_host, device)?,
            cats_table,
            pos_table,
            unknown_table,
            feat_table,
            tcol_table,
            device,
        };
        Ok(Prepared { model, m, y2, labels })
    }
}

impl<F: Real, S: Storage> TargetEncoder<F, S> {
    /// The categories of each feature, sorted (`categories_`).
    pub fn categories(&self) -> &[Array1<i64>] {
        &self.categories
    }

    /// The target type used (`target_type_`; never `Auto`).
    pub fn target_type(&self) -> TargetEncoderType {
        self.target_type
    }

    /// The sorted class labels of a binary or multiclass target (`classes_`; `None` for a
    /// continuous one).
    pub fn classes(&self) -> Option<&[F]> {
        self.classes.as_deref()
    }

    /// The encoding of each category of each feature (`encodings_`), learnt from all of y; for
    /// a multiclass target one per feature and class, grouped by feature (f0 c0, f0 c1, ..).
    pub fn encodings(&self) -> &[Array1<F>] {
        &self.encodings
    }

    /// The target mean (`target_mean_`): one value, or one per class for a multiclass target
    /// (the fraction of each class).
    pub fn target_mean(&self) -> &[F] {
        &self.target_mean
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.categories.len()
    }

    /// The number of output columns (n_features, times n_classes for a multiclass target).
    pub fn n_features_out(&self) -> usize {
        self.encodings.len()
    }

    /// The names of the output columns (`get_feature_names_out`): the input names
    /// (`x0, x1, ..` unless `input_features` names them), `"{feature}_{class}"` for a
    /// multiclass target.
    ///
    /// # Errors
    /// `input_features` of another length than the feature count.
    pub fn get_feature_names_out(&self, input_features: Option<&[&str]>) -> Result<Vec<String>> {
        let d = self.categories.len();
        if let Some(names) = input_features {
            if names.len() != d {
                return Err(EstimatorError::Shape(format!(
                    "input_features should have length equal to number of features ({d}), got {}",
                    names.len()
                )));
            }
        }
        let name = |j: usize| input_features.map_or_else(|| format!("x{j}"), |f| f[j].to_string());
        Ok(match (&self.classes, self.target_type) {
            (Some(classes), TargetEncoderType::Multiclass) => (0..d)
                .flat_map(|j| classes.iter().map(move |c| (j, *c)))
                .map(|(j, c)| format!("{}_{}", name(j), c.to_f64()))
                .collect(),
            _ => (0..d).map(name).collect(),
        })
    }

    /// Encode `codes` with the encodings learnt from all of y (`transform`); a code that is
    /// not a category of its feature gets the target mean. Returns the encodings where `codes`
    /// live.
    ///
    /// # Errors
    /// A different feature count than at fit time; codes on another device than the model;
    /// kernel errors.
    pub fn transform<X: Matrix<i64>>(&self, codes: &X) -> Result<Mat<X::Storage, F>> {
        let (_, d) = codes.dims()?;
        crate::data::check_features("TargetEncoder", self.categories.len(), d)?;
        if codes.device() != self.device {
            return Err(EstimatorError::Device(format!(
                "the input is on {:?} but the TargetEncoder was fitted on {:?}",
                codes.device(),
                self.device
            )));
        }
        let (m, _, _) = ohe_lookup::tensors(
            codes.arg(),
            S::mat_arg(&self.cats_table),
            S::mat_arg(&self.pos_table),
            S::vec_arg(&self.unknown_table),
        )?;
        let out = te_transform::tensors::<F>(
            tensor_arg::<i64, Ix2>(&m),
            S::mat_arg(&self.enc_table),
            S::vec_arg(&self.mean_table),
            S::vec_arg(&self.feat_table),
            S::vec_arg(&self.tcol_table),
        )?;
        X::Storage::mat(out)
    }
}
