//! `RidgeClassifier` and `RidgeClassifierCV`: ridge regression on the classes coded as
//! targets in {-1, 1}, scikit-learn's `LabelBinarizer(pos_label=1, neg_label=-1)` (one column
//! for two classes, the second class positive; one column per class otherwise).
//!
//! The coded targets are one kernel over y; the regression is [`Ridge`]'s several-target fit
//! (one Gram system, one Cholesky solve per column) or, for the CV variant, [`RidgeCV`]'s
//! leave-one-out (GCV) fit per column with the squared errors of all columns summed to choose
//! one alpha for every column, as scikit-learn's `_RidgeGCV` scores a 2-D target (the mean of
//! the squared leave-one-out errors over samples and columns). Prediction is a kernel: the
//! decision values and, from them, the class (the sign for two classes, the largest otherwise).
//!
//! `class_weight` (and `fit_weighted`'s sample weights, which it multiplies, as scikit-learn's
//! `_prepare_data`) weights the ridge fits: [`Ridge`]'s weighted several-target fit, and
//! [`RidgeCV`]'s weighted leave-one-out (rows scaled by `sqrt(w)`). With `cv` (k stratified
//! folds or any splitter) the CV variant is scikit-learn's `GridSearchCV` of `RidgeClassifier`
//! over the alphas, scored by accuracy, the weights going to each fold's fit and score.

use super::least_squares::MultiTargetLinearModel;
use super::{Ridge, RidgeCV, RidgeParams};
use crate::data::{check_fitted_x, check_len, check_x_shape, Host, Mat, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::model_selection::{ResponseMethod, Scorer, Splitter, StratifiedKFold, Target};
use crate::preprocessing::label::unique;
use kiln_macros::kernel;
use kiln_runtime::{Device, Tensor};
use ndarray::{Array1, Array2, Array3, Axis};

/// The targets of every class in `codes` (n x len(codes)): 1 where `y` is the class, -1
/// elsewhere.
#[kernel(crate = kiln_runtime)]
fn pm_one<F: Float>(y: Array1<i64>, codes: Array1<i64>) -> Array2<F> {
    let n = y.len();
    let k = codes.len();
    Array2::from_shape_fn((n, k), |(i, c)| (y[[i]] == codes[[c]]) as F * 2.0 - 1.0)
}

/// The targets of one class (`code[0]`): 1 where `y` is it, -1 elsewhere.
#[kernel(crate = kiln_runtime)]
fn pm_one_column<F: Float>(y: Array1<i64>, code: Array1<i64>) -> Array1<F> {
    let n = y.len();
    Array1::from_shape_fn(n, |i| (y[[i]] == code[[0]]) as F * 2.0 - 1.0)
}

/// The decision values `X coef^T + intercept` (one row of `coef` per class; for two classes a
/// zero first row and scikit-learn's one row second, so that the second class wins exactly
/// where its decision value is positive) and the class of the largest value (the first among
/// equals).
#[kernel(crate = kiln_runtime)]
fn ridge_clf_predict<F: Float>(
    x: Array2<F>,
    coef: Array2<F>,
    intercept: Array1<F>,
    classes: Array1<i64>,
) -> (Array2<F>, Array1<i64>) {
    let n = x.nrows();
    let scores = x.dot(&coef.t()) + &intercept;
    let best = scores.argmax_axis(Axis(1));
    (scores, Array1::from_shape_fn(n, |i| classes[[best[[i]]]]))
}

/// The last column of `s` (n x 1): the binary decision value.
#[kernel(crate = kiln_runtime)]
fn last_column<F: Float>(s: Array2<F>) -> Array2<F> {
    let n = s.nrows();
    let k = s.ncols();
    Array2::from_shape_fn((n, 1), |(i, _c)| s[[i, k - 1]])
}

/// Weights of the classes in a classifier's fit (scikit-learn's `class_weight`): each sample's
/// weight is multiplied by its class's.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassWeight {
    /// `"balanced"`: `n_samples / (n_classes * count(class))`, inversely proportional to the
    /// class frequencies.
    Balanced,
    /// `{class: weight}`: the given classes' weights, 1 for the others.
    Map(Vec<(i64, f64)>),
}

/// scikit-learn's `compute_sample_weight(class_weight, y)`: each sample's class weight, for the
/// labels `y` whose sorted distinct values are `classes`.
///
/// # Errors
/// A map that leaves a class out while naming a label that is not a class (scikit-learn's
/// "The classes, [..], are not in class_weight"); a weight that is negative or not finite.
pub(crate) fn class_sample_weight(
    name: &'static str,
    cw: &ClassWeight,
    y: &[i64],
    classes: &[i64],
) -> Result<Array1<f64>> {
    let per_class: Vec<f64> = match cw {
        ClassWeight::Balanced => {
            let mut counts = vec![0usize; classes.len()];
            for l in y {
                if let Ok(c) = classes.binary_search(l) {
                    counts[c] += 1;
                }
            }
            counts.iter().map(|&c| y.len() as f64 / (classes.len() as f64 * c as f64)).collect()
        }
        ClassWeight::Map(map) => {
            if let Some((c, w)) = map.iter().find(|(_, w)| !(*w >= 0.0 && w.is_finite())) {
                return Err(EstimatorError::param(
                    name,
                    "class_weight",
                    "non-negative finite weights",
                    format!("{c}: {w}"),
                ));
            }
            let lookup = |c: i64| map.iter().rev().find(|(k, _)| *k == c).map(|(_, w)| *w);
            let unweighted: Vec<i64> = classes.iter().copied().filter(|&c| lookup(c).is_none()).collect();
            let named = map.iter().map(|(k, _)| *k).collect::<std::collections::BTreeSet<_>>().len();
            if !unweighted.is_empty() && classes.len() - unweighted.len() != named {
                return Err(EstimatorError::InvalidTarget(format!(
                    "The classes, {unweighted:?}, are not in class_weight"
                )));
            }
            classes.iter().map(|&c| lookup(c).unwrap_or(1.0)).collect()
        }
    };
    Ok(y.iter().map(|l| classes.binary_search(l).map_or(1.0, |c| per_class[c])).collect())
}

/// The sample weights of a fit: `sample_weight` (checked) times the class weights, on
/// `device`; `None` when there are neither.
fn fit_weights<F: Real, W: Vector<F>>(
    name: &'static str,
    class_weight: Option<&ClassWeight>,
    w: Option<&W>,
    labels: &[i64],
    classes: &[i64],
) -> Result<Option<Array1<F>>> {
    let n = labels.len();
    let base = match w {
        Some(w) => {
            super::check_weights(w, n)?;
            Some(w.to_host()?.mapv(|v| v.to_f64()))
        }
        None => None,
    };
    let cw = class_weight.map(|cw| class_sample_weight(name, cw, labels, classes)).transpose()?;
    Ok(match (base, cw) {
        (None, None) => None,
        (Some(b), None) => Some(b.mapv(F::from_f64)),
        (None, Some(c)) => Some(c.mapv(F::from_f64)),
        (Some(b), Some(c)) => Some((b * c).mapv(F::from_f64)),
    })
}

/// scikit-learn's `accuracy_score(y, pred, sample_weight=w)`: the weight of the right
/// predictions over the total weight.
fn weighted_accuracy<F: Real>(y: &Array1<i64>, pred: &Array1<i64>, w: &Array1<F>) -> f64 {
    let total: f64 = w.iter().map(|v| v.to_f64()).sum();
    let right: f64 = y.iter().zip(pred).zip(w).filter(|((a, b), _)| a == b).map(|(_, v)| v.to_f64()).sum();
    right / total
}

/// Hyper-parameters of [`RidgeClassifier`] (scikit-learn's defaults: `alpha = 1`,
/// `fit_intercept = true`, no class weights).
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeClassifierParams {
    alpha: f64,
    fit_intercept: bool,
    class_weight: Option<ClassWeight>,
}

/// Hyper-parameters of [`RidgeClassifierCV`] (scikit-learn's defaults: alphas `[0.1, 1, 10]`,
/// an intercept, leave-one-out by GCV, no class weights).
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeClassifierCVParams {
    alphas: Vec<f64>,
    fit_intercept: bool,
    class_weight: Option<ClassWeight>,
    cv: Option<usize>,
    store_cv_results: bool,
    scoring: Option<Scorer>,
}

/// A fitted ridge classifier: the classes and one ridge regression per coded column, kept
/// where it was fitted.
#[derive(Debug, Clone)]
pub struct RidgeClassifier<F: Real, S: Storage> {
    classes: S::Vec<i64>,
    coef: S::Mat<F>,
    intercept: S::Vec<F>,
    /// `coef` / `intercept` as the prediction kernel reads them (a zero first row for two
    /// classes).
    full_coef: S::Mat<F>,
    full_intercept: S::Vec<F>,
    n_classes: usize,
    n_features: usize,
    alpha: f64,
    best_score: Option<f64>,
}

crate::relocate!([F: Real] RidgeClassifier<F, @> { classes: vec[c], coef: mat[k, d], intercept: vec[k], full_coef: mat[c, d], full_intercept: vec[c], n_classes: size[c], n_features: size[d], alpha, best_score });

/// A fitted `RidgeClassifierCV`: the [`RidgeClassifier`] fitted with the alpha leave-one-out
/// chose (its methods through `Deref`), with [`RidgeClassifierCV::alpha`] and
/// [`RidgeClassifierCV::best_score`].
#[derive(Debug, Clone)]
pub struct RidgeClassifierCV<F: Real, S: Storage> {
    inner: RidgeClassifier<F, S>,
    cv_results: Option<Array3<f64>>,
}

crate::relocate!([F: Real] RidgeClassifierCV<F, @> { inner: model, cv_results });

impl<F: Real, S: Storage> std::ops::Deref for RidgeClassifierCV<F, S> {
    type Target = RidgeClassifier<F, S>;
    fn deref(&self) -> &RidgeClassifier<F, S> {
        &self.inner
    }
}

impl RidgeClassifierCV<f64, Host> {
    /// scikit-learn's defaults (alphas `[0.1, 1, 10]`, an intercept).
    pub fn params() -> RidgeClassifierCVParams {
        RidgeClassifierCVParams {
            alphas: vec![0.1, 1.0, 10.0],
            fit_intercept: true,
            class_weight: None,
            cv: None,
            store_cv_results: false,
            scoring: None,
        }
    }
}

impl<F: Real, S: Storage> RidgeClassifierCV<F, S> {
    /// The alpha leave-one-out chose (`alpha_`).
    pub fn alpha(&self) -> f64 {
        self.inner.alpha
    }

    /// The score of that alpha (`best_score_`): leave-one-out, the negative mean squared error
    /// of the coded targets over every sample and column (weighted when fitted with weights),
    /// or the `scoring` scorer's score of the leave-one-out class predictions; with `cv`, the
    /// mean (weighted) accuracy, or the scorer's mean score, over the test folds.
    pub fn best_score(&self) -> f64 {
        self.inner.best_score.unwrap_or(f64::NAN)
    }

    /// The classifier fitted with the chosen alpha.
    pub fn classifier(&self) -> &RidgeClassifier<F, S> {
        &self.inner
    }

    /// With `store_cv_results` (leave-one-out only): each sample's squared leave-one-out error
    /// of each coded class column for each alpha, `n_samples x n_columns x n_alphas`
    /// (`cv_results_`; one column for two classes); with a `scoring` scorer, each sample's
    /// leave-one-out prediction of each coded column instead, as scikit-learn stores them.
    pub fn cv_results(&self) -> Option<&Array3<f64>> {
        self.cv_results.as_ref()
    }
}

impl RidgeClassifier<f64, Host> {
    /// scikit-learn's defaults (`alpha = 1`, an intercept).
    pub fn params() -> RidgeClassifierParams {
        RidgeClassifierParams { alpha: 1.0, fit_intercept: true, class_weight: None }
    }
}

/// The classes of `y` and the coded classes: the second of two (its column is positive), or
/// every class of more; none for a single class (its column is all -1, as scikit-learn's
/// `LabelBinarizer` codes it).
fn classes_of<Y: Vector<i64>>(name: &'static str, x_rows: usize, y: &Y) -> Result<(Vec<i64>, Vec<i64>)> {
    check_len("y", y.length()?, x_rows)?;
    let classes = unique(y.to_host()?);
    let codes = match classes.len() {
        0 => return Err(EstimatorError::EmptyInput { estimator: name, n_samples: 0, n_features: 0, min_samples: 1 }),
        1 => vec![],
        2 => vec![classes[1]],
        _ => classes.clone(),
    };
    Ok((classes, codes))
}

impl RidgeClassifierParams {
    /// The L2 penalty strength (`alpha`, at least 0).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Whether to fit an (unpenalized) intercept (`fit_intercept`).
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// Weights of the classes (`class_weight`: `None`, the default, [`ClassWeight::Balanced`]
    /// or a map).
    pub fn class_weight(mut self, class_weight: Option<ClassWeight>) -> Self {
        self.class_weight = class_weight;
        self
    }

    /// Fit one ridge regression per coded class column of `y` (integer labels, any values).
    ///
    /// # Errors
    /// As [`RidgeParams::fit_multi`] (a bad `alpha`, empty or non-finite X); `y` of another
    /// length than X's rows; a bad `class_weight`; kernel errors (including `y` on another
    /// device than `x`).
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<RidgeClassifier<F, X::Storage>> {
        self.fit_inner(x, y, None::<&Array1<F>>)
    }

    /// [`RidgeClassifierParams::fit`] with per-sample weights `w` (`sample_weight`: finite,
    /// non-negative, one per row of `x`), multiplied by the class weights.
    ///
    /// # Errors
    /// As [`RidgeClassifierParams::fit`]; `w` of another length than X's rows, non-finite or
    /// negative.
    pub fn fit_weighted<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        w: &W,
    ) -> Result<RidgeClassifier<F, X::Storage>> {
        self.fit_inner(x, y, Some(w))
    }

    fn fit_inner<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        w: Option<&W>,
    ) -> Result<RidgeClassifier<F, X::Storage>> {
        let name = "RidgeClassifier";
        let (n, _) = check_x_shape(name, x, 1)?;
        let (classes, codes) = classes_of(name, n, y)?;
        let device = x.device();
        let labels = y.to_host()?;
        let sw = fit_weights::<F, W>(
            name,
            self.class_weight.as_ref(),
            w,
            labels.as_slice().unwrap_or(&labels.to_vec()),
            &classes,
        )?;
        let targets = coded_targets::<F, Y>(y, &codes, n, device)?;
        let ridge = Ridge::params().alpha(self.alpha).fit_intercept(self.fit_intercept);
        let model = match sw {
            Some(sw) => ridge.fit_multi_weighted(x, &targets, &Tensor::from_owned(sw, device)?)?,
            None => ridge.fit_multi(x, &targets)?,
        };
        finish(model, classes, self.alpha, None, device)
    }
}

/// The coded targets, n x max(1, len(codes)), on `device`.
fn coded_targets<F: Real, Y: Vector<i64>>(y: &Y, codes: &[i64], n: usize, device: Device) -> Result<Tensor<F>> {
    if codes.is_empty() {
        return Ok(Tensor::from_owned(Array2::from_elem((n, 1), F::from_f64(-1.0)), device)?);
    }
    let codes = Tensor::from_owned(Array1::from(codes.to_vec()), device)?;
    Ok(pm_one::tensors::<F>(y.arg(), &codes)?)
}

/// The classes the leave-one-out predictions `per_column[c][[i, a]]` of alpha `a` give:
/// for one column the second class where it is positive, else the largest column (the first
/// of equals, numpy's argmax).
fn loo_labels(per_column: &[Array2<f64>], a: usize, classes: &[i64]) -> Array1<i64> {
    let n = per_column[0].nrows();
    (0..n)
        .map(|i| {
            if per_column.len() == 1 {
                return classes[usize::from(per_column[0][[i, a]] > 0.0).min(classes.len() - 1)];
            }
            let mut best = 0;
            for (c, col) in per_column.iter().enumerate() {
                if col[[i, a]] > per_column[best][[i, a]] {
                    best = c;
                }
            }
            classes[best]
        })
        .collect()
}

/// The fitted classifier from the several-target ridge fit.
fn finish<F: Real, S: Storage>(
    model: MultiTargetLinearModel<F, S, RidgeParams>,
    classes: Vec<i64>,
    alpha: f64,
    best_score: Option<f64>,
    device: Device,
) -> Result<RidgeClassifier<F, S>> {
    let coef = S::mat_to_host(model.coef())?;
    let intercept = S::vec_to_host(model.intercept())?;
    assemble(coef, intercept, classes, alpha, best_score, device)
}

/// The classifier from its host coefficients (one row per coded column).
fn assemble<F: Real, S: Storage>(
    coef: Array2<F>,
    intercept: Array1<F>,
    classes: Vec<i64>,
    alpha: f64,
    best_score: Option<f64>,
    device: Device,
) -> Result<RidgeClassifier<F, S>> {
    let (n_classes, n_features) = (classes.len(), coef.ncols());
    let (full_coef, full_intercept) = if n_classes == 2 {
        let mut full = Array2::from_elem((2, n_features), F::from_f64(0.0));
        full.row_mut(1).assign(&coef.row(0));
        (full, Array1::from(vec![F::from_f64(0.0), intercept[0]]))
    } else {
        (coef.clone(), intercept.clone())
    };
    Ok(RidgeClassifier {
        classes: S::vec_from_host(Array1::from(classes), device)?,
        coef: S::mat_from_host(coef, device)?,
        intercept: S::vec_from_host(intercept, device)?,
        full_coef: S::mat_from_host(full_coef, device)?,
        full_intercept: S::vec_from_host(full_intercept, device)?,
        n_classes,
        n_features,
        alpha,
        best_score,
    })
}

impl RidgeClassifierCVParams {
    /// The alphas to try (`alphas`, positive).
    pub fn alphas(mut self, alphas: Vec<f64>) -> Self {
        self.alphas = alphas;
        self
    }

    /// Whether to fit an (unpenalized) intercept (`fit_intercept`).
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// Weights of the classes (`class_weight`: `None`, the default, [`ClassWeight::Balanced`]
    /// or a map).
    pub fn class_weight(mut self, class_weight: Option<ClassWeight>) -> Self {
        self.class_weight = class_weight;
        self
    }

    /// Keep every sample's squared leave-one-out error of every class column for every alpha
    /// ([`RidgeClassifierCV::cv_results`], `store_cv_results`; leave-one-out only).
    pub fn store_cv_results(mut self, yes: bool) -> Self {
        self.store_cv_results = yes;
        self
    }

    /// How alphas are compared (`scoring`): `None` (the default: leave-one-out, the squared
    /// error of the coded targets; `cv`, the accuracy) or a scorer of scikit-learn's
    /// registry (`Scorer::from_name("f1_macro")?`). Leave-one-out scores the class each
    /// sample's leave-one-out decision values predict (the largest column; for two classes the
    /// sign of the one column), so the scorer must score predicted labels; with `cv` it scores
    /// each fold's `predict` or `decision_function`. Scorers take no sample weights here:
    /// a scorer with `class_weight` or sample weights is refused.
    pub fn scoring(mut self, scoring: Option<Scorer>) -> Self {
        self.scoring = scoring;
        self
    }

    /// The `scoring` scorer, checked: a classification scorer of labels (leave-one-out) or
    /// of labels or decision values (`cv`), and no weights.
    fn checked_scorer(&self, weighted: bool, gcv: bool) -> Result<Option<Scorer>> {
        let Some(s) = self.scoring else { return Ok(None) };
        if !s.is_classification() {
            return Err(s.wrong_target(true));
        }
        let method = s.response_method();
        if method == ResponseMethod::PredictProba || (gcv && method != ResponseMethod::Predict) {
            let attr = if method == ResponseMethod::PredictProba { "predict_proba" } else { "decision_function" };
            return Err(EstimatorError::NotAvailable(format!(
                "scoring '{}' needs {attr}: RidgeClassifierCV scores {} (scikit-learn's _IdentityClassifier \
                 has none of the following attributes: predict_proba)",
                s.name(),
                if gcv { "the leave-one-out predicted labels" } else { "predict or decision_function" },
            )));
        }
        if weighted {
            return Err(EstimatorError::NotAvailable(format!(
                "scoring '{}' with class_weight or sample weights: kiln's scorers take no sample weights (scoring \
                 None weights the squared errors or the accuracy)",
                s.name()
            )));
        }
        Ok(Some(s))
    }

    /// Choose alpha by `n_splits` stratified folds instead of leave-one-out (`cv=k`:
    /// scikit-learn's `StratifiedKFold(k)` for a classifier, unshuffled).
    pub fn cv(mut self, n_splits: usize) -> Self {
        self.cv = Some(n_splits);
        self
    }

    /// Choose alpha by leave-one-out on the coded class columns (the mean squared error over
    /// every sample and column; the first of equal alphas), or by the `cv` folds, then fit
    /// every column with it.
    ///
    /// # Errors
    /// As [`RidgeCV`]'s fit (no alphas, an alpha not positive, or negative with `cv`; empty or
    /// non-finite X); `y` of another length than X's rows; a bad `class_weight`; `cv` below 2
    /// or above a class's number of samples; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<RidgeClassifierCV<F, X::Storage>> {
        self.fit_inner(x, y, None::<&Array1<F>>)
    }

    /// [`RidgeClassifierCVParams::fit`] with per-sample weights `w` (`sample_weight`),
    /// multiplied by the class weights: they weight the leave-one-out errors (scikit-learn's
    /// `_RidgeGCV`), or each fold's fit and accuracy with `cv`.
    ///
    /// # Errors
    /// As [`RidgeClassifierCVParams::fit`]; `w` of another length than X's rows, non-finite or
    /// negative.
    pub fn fit_weighted<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        w: &W,
    ) -> Result<RidgeClassifierCV<F, X::Storage>> {
        self.fit_inner(x, y, Some(w))
    }

    /// Choose alpha by the folds of `splitter` (scikit-learn's `cv=<splitter>`): a
    /// `GridSearchCV` of `RidgeClassifier` over the alphas scored by accuracy (the first of
    /// equal mean scores), the best refitted on all the data. The folds' fits run on the host
    /// (X and y are copied there); the refitted model is kept where X lives.
    ///
    /// # Errors
    /// As [`RidgeClassifierCVParams::fit`], and whatever the splitter rejects.
    pub fn fit_with_splitter<F: Real, X: Matrix<F>, Y: Vector<i64>, C: Splitter>(
        &self,
        x: &X,
        y: &Y,
        splitter: C,
    ) -> Result<RidgeClassifierCV<F, X::Storage>> {
        let labels = y.to_host()?;
        let (classes, _) = classes_of("RidgeClassifierCV", check_x_shape("RidgeClassifierCV", x, 1)?.0, y)?;
        let sw = fit_weights::<F, Array1<F>>(
            "RidgeClassifierCV",
            self.class_weight.as_ref(),
            None,
            &labels.to_vec(),
            &classes,
        )?;
        self.grid_search(x, y, sw, splitter)
    }

    /// [`RidgeClassifierCVParams::fit_with_splitter`] with per-sample weights `w` (times the
    /// class weights) for each fold's fit and accuracy.
    ///
    /// # Errors
    /// As [`RidgeClassifierCVParams::fit_weighted`], and whatever the splitter rejects.
    pub fn fit_weighted_with_splitter<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>, C: Splitter>(
        &self,
        x: &X,
        y: &Y,
        w: &W,
        splitter: C,
    ) -> Result<RidgeClassifierCV<F, X::Storage>> {
        let labels = y.to_host()?;
        let (classes, _) = classes_of("RidgeClassifierCV", check_x_shape("RidgeClassifierCV", x, 1)?.0, y)?;
        let sw =
            fit_weights::<F, W>("RidgeClassifierCV", self.class_weight.as_ref(), Some(w), &labels.to_vec(), &classes)?;
        self.grid_search(x, y, sw, splitter)
    }

    /// scikit-learn's `GridSearchCV(RidgeClassifier(fit_intercept), {"alpha": alphas}, cv)`
    /// with the sample weights `sw` routed to every fit.
    fn grid_search<F: Real, X: Matrix<F>, Y: Vector<i64>, C: Splitter>(
        &self,
        x: &X,
        y: &Y,
        sw: Option<Array1<F>>,
        splitter: C,
    ) -> Result<RidgeClassifierCV<F, X::Storage>> {
        let name = "RidgeClassifierCV";
        super::ridge_cv::check_alphas(name, &self.alphas, true, self.store_cv_results)?;
        let scorer = self.checked_scorer(sw.is_some(), false)?;
        let (n, _) = check_x_shape(name, x, 1)?;
        check_len("y", y.length()?, n)?;
        let (xh, yh) = (x.to_host()?, y.to_host()?);
        let folds = splitter.split(n, Some(yh.as_slice().unwrap_or(&yh.to_vec())), None)?;
        let clf = |alpha: f64| RidgeClassifier::params().alpha(alpha).fit_intercept(self.fit_intercept);
        let fit_rows = |alpha: f64, idx: &[usize]| {
            let (xr, yr) = (xh.select(Axis(0), idx), yh.select(Axis(0), idx));
            match &sw {
                Some(w) => clf(alpha).fit_weighted(&xr, &yr, &w.select(Axis(0), idx)),
                None => clf(alpha).fit(&xr, &yr),
            }
        };
        let mut best = (0, f64::NEG_INFINITY);
        for (i, &alpha) in self.alphas.iter().enumerate() {
            let mut total = 0.0;
            for fold in &folds {
                let m = fit_rows(alpha, &fold.train)?;
                let (xt, yt) = (xh.select(Axis(0), &fold.test), yh.select(Axis(0), &fold.test));
                // scikit-learn's search passes the weights to the scorer too: the weighted
                // accuracy.
                total += match (&sw, scorer) {
                    (_, Some(s)) if s.response_method() == ResponseMethod::Predict => {
                        i64::score_with(s, &yt, &m.predict(&xt)?)?
                    }
                    (_, Some(s)) => i64::score_response(s, &yt, &m.decision_function(&xt)?)?,
                    (Some(w), None) => weighted_accuracy(&yt, &m.predict(&xt)?, &w.select(Axis(0), &fold.test)),
                    (None, None) => m.score(&xt, &yt)?,
                };
            }
            let mean = total / folds.len() as f64;
            if i == 0 || mean > best.1 {
                best = (i, mean);
            }
        }
        let alpha = self.alphas[best.0];
        let m = fit_rows(alpha, &(0..n).collect::<Vec<_>>())?;
        let classes = m.classes.to_vec();
        let inner = assemble(m.coef, m.intercept, classes, alpha, Some(best.1), x.device())?;
        Ok(RidgeClassifierCV { inner, cv_results: None })
    }

    fn fit_inner<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        w: Option<&W>,
    ) -> Result<RidgeClassifierCV<F, X::Storage>> {
        let (n, _) = check_x_shape("RidgeClassifierCV", x, 1)?;
        let (classes, codes) = classes_of("RidgeClassifierCV", n, y)?;
        let labels = y.to_host()?.to_vec();
        let sw = fit_weights::<F, W>("RidgeClassifierCV", self.class_weight.as_ref(), w, &labels, &classes)?;
        if let Some(k) = self.cv {
            return self.grid_search(x, y, sw, StratifiedKFold::new(k));
        }
        let scorer = self.checked_scorer(sw.is_some(), true)?;
        let device = x.device();
        let sw = sw.map(|w| Tensor::from_owned(w, device)).transpose()?;
        // With a scorer, RidgeCV's "r2" mode keeps the leave-one-out predictions (in the coded
        // targets' scale) as its cv_results; otherwise the squared errors.
        let mode = if scorer.is_some() { super::RidgeScoring::R2 } else { super::RidgeScoring::NegMeanSquaredError };
        let cv = RidgeCV::params()
            .alphas(self.alphas.clone())
            .fit_intercept(self.fit_intercept)
            .store_cv_results(true)
            .scoring(mode);
        let columns: Vec<Tensor<F>> = if codes.is_empty() {
            vec![Tensor::from_owned(Array1::from_elem(n, F::from_f64(-1.0)), device)?]
        } else {
            codes
                .iter()
                .map(|&c| {
                    let code = Tensor::from_owned(Array1::from(vec![c]), device)?;
                    Ok(pm_one_column::tensors::<F>(y.arg(), &code)?)
                })
                .collect::<Result<_>>()?
        };
        let mut total: Option<Array2<f64>> = None;
        let mut per_column: Vec<Array2<f64>> = Vec::new();
        let mut single = None;
        for t in &columns {
            let fitted = match &sw {
                Some(w) => cv.fit_weighted(x, t, w)?,
                None => cv.fit(x, t)?,
            };
            let sq = fitted.cv_results().expect("store_cv_results is set").clone();
            if self.store_cv_results || scorer.is_some() {
                per_column.push(sq.clone());
            }
            total = Some(match total {
                Some(acc) => acc + sq,
                None => sq,
            });
            single = Some(fitted);
        }
        let total = total.expect("at least one column");
        let scale = (n * columns.len()) as f64;
        let scores: Vec<f64> = match scorer {
            None => total.axis_iter(Axis(1)).map(|col| -col.sum() / scale).collect(),
            Some(s) => {
                let truth = y.to_host()?;
                (0..self.alphas.len())
                    .map(|a| {
                        let pred = loo_labels(&per_column, a, &classes);
                        i64::score_with(s, &truth, &pred)
                    })
                    .collect::<Result<_>>()?
            }
        };
        let mut best = 0;
        for (a, &s) in scores.iter().enumerate() {
            if s > scores[best] {
                best = a;
            }
        }
        let alpha = self.alphas[best];
        let cv_results = self.store_cv_results.then(|| {
            let (na, nc) = (self.alphas.len(), per_column.len());
            Array3::from_shape_fn((n, nc, na), |(i, c, a)| per_column[c][[i, a]])
        });
        if columns.len() == 1 {
            // One column: RidgeCV's own leave-one-out solution, as scikit-learn's.
            let fitted = single.expect("one column");
            let ridge = fitted.ridge();
            let coef = X::Storage::vec_to_host(ridge.coef())?.insert_axis(Axis(0));
            let intercept = Array1::from(vec![ridge.intercept()]);
            let inner = assemble(coef, intercept, classes, alpha, Some(scores[best]), device)?;
            return Ok(RidgeClassifierCV { inner, cv_results });
        }
        let targets = coded_targets::<F, Y>(y, &codes, n, device)?;
        let ridge = Ridge::params().alpha(alpha).fit_intercept(self.fit_intercept);
        let model = match &sw {
            Some(w) => ridge.fit_multi_weighted(x, &targets, w)?,
            None => ridge.fit_multi(x, &targets)?,
        };
        Ok(RidgeClassifierCV { inner: finish(model, classes, alpha, Some(scores[best]), device)?, cv_results })
    }
}

impl<F: Real, S: Storage> RidgeClassifier<F, S> {
    /// The class labels, sorted (`classes_`).
    pub fn classes(&self) -> &S::Vec<i64> {
        &self.classes
    }

    /// The coefficients (`coef_`: one row for two classes, else one per class).
    pub fn coef(&self) -> &S::Mat<F> {
        &self.coef
    }

    /// The intercepts (`intercept_`, one per row of `coef_`).
    pub fn intercept(&self) -> &S::Vec<F> {
        &self.intercept
    }

    /// The penalty the columns were fitted with (`alpha`).
    pub fn fitted_alpha(&self) -> f64 {
        self.alpha
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn run<X: Matrix<F>>(&self, x: &X) -> Result<(Tensor<F>, Tensor<i64>)> {
        check_fitted_x("RidgeClassifier", self.n_features, x)?;
        Ok(ridge_clf_predict::tensors::<F>(
            x.arg(),
            S::mat_arg(&self.full_coef),
            S::vec_arg(&self.full_intercept),
            S::vec_arg(&self.classes),
        )?)
    }

    /// `X coef^T + intercept` (`decision_function`): n x n_classes, or n x 1 for two classes
    /// (scikit-learn returns that one column as a vector).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn decision_function<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let scores = self.run(x)?.0;
        if self.n_classes == 2 {
            return X::Storage::mat(last_column::tensors::<F>(&scores)?);
        }
        X::Storage::mat(scores)
    }

    /// The predicted class of each row.
    ///
    /// # Errors
    /// As [`RidgeClassifier::decision_function`].
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, i64>> {
        X::Storage::vec(self.run(x)?.1)
    }

    /// Mean accuracy on `x` against `y` (scikit-learn's classifier `score`).
    ///
    /// # Errors
    /// As [`RidgeClassifier::predict`]; `y` of another length than X's rows.
    pub fn score<X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<f64>
    where
        Vect<X::Storage, i64>: Vector<i64>,
    {
        let p = self.predict(x)?;
        crate::metrics::accuracy_score(y, &p)
    }
}

crate::traits::supervised!(RidgeClassifierParams => RidgeClassifier, i64, decision_function);
crate::traits::supervised!(RidgeClassifierCVParams => RidgeClassifierCV, i64, decision_function);
/// `class_weight="balanced"` (a map or scikit-learn's `None` are set with the builders).
impl crate::model_selection::FromParam for Option<ClassWeight> {
    fn from_param(v: &crate::model_selection::ParamValue) -> std::result::Result<Self, String> {
        match v {
            crate::model_selection::ParamValue::Str(s) if s == "balanced" => Ok(Some(ClassWeight::Balanced)),
            _ => Err("a str among {'balanced'}".into()),
        }
    }
}

/// `scoring`: a scorer name of scikit-learn's registry (scikit-learn's `None` is set with
/// [`RidgeClassifierCVParams::scoring`]).
impl crate::model_selection::FromParam for Option<Scorer> {
    fn from_param(v: &crate::model_selection::ParamValue) -> std::result::Result<Self, String> {
        match v {
            crate::model_selection::ParamValue::Str(s) => Scorer::from_name(s).map(Some).map_err(|e| e.to_string()),
            _ => Err("a str among the scorer names (sklearn.metrics.get_scorer_names())".into()),
        }
    }
}

crate::model_selection::set_params!(RidgeClassifierParams, "RidgeClassifier" { "alpha" => alpha: f64, "fit_intercept" => fit_intercept: bool, "class_weight" => class_weight: Option<ClassWeight> });
crate::model_selection::set_params!(RidgeClassifierCVParams, "RidgeClassifierCV" { "alphas" => alphas: Vec<f64>, "fit_intercept" => fit_intercept: bool, "cv" => cv: usize, "class_weight" => class_weight: Option<ClassWeight>, "store_cv_results" => store_cv_results: bool, "scoring" => scoring: Option<Scorer> });
