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

use super::least_squares::MultiTargetLinearModel;
use super::{Ridge, RidgeCV, RidgeParams};
use crate::data::{check_fitted_x, check_len, check_x_shape, Host, Mat, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::preprocessing::label::unique;
use kiln_macros::kernel;
use kiln_runtime::{Device, Tensor};
use ndarray::{Array1, Array2, Axis};

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

/// Hyper-parameters of [`RidgeClassifier`] (scikit-learn's defaults: `alpha = 1`,
/// `fit_intercept = true`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RidgeClassifierParams {
    alpha: f64,
    fit_intercept: bool,
}

/// Hyper-parameters of [`RidgeClassifierCV`] (scikit-learn's defaults: alphas `[0.1, 1, 10]`,
/// an intercept, leave-one-out by GCV).
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeClassifierCVParams {
    alphas: Vec<f64>,
    fit_intercept: bool,
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
}

crate::relocate!([F: Real] RidgeClassifierCV<F, @> { inner: model });

impl<F: Real, S: Storage> std::ops::Deref for RidgeClassifierCV<F, S> {
    type Target = RidgeClassifier<F, S>;
    fn deref(&self) -> &RidgeClassifier<F, S> {
        &self.inner
    }
}

impl RidgeClassifierCV<f64, Host> {
    /// scikit-learn's defaults (alphas `[0.1, 1, 10]`, an intercept).
    pub fn params() -> RidgeClassifierCVParams {
        RidgeClassifierCVParams { alphas: vec![0.1, 1.0, 10.0], fit_intercept: true }
    }
}

impl<F: Real, S: Storage> RidgeClassifierCV<F, S> {
    /// The alpha leave-one-out chose (`alpha_`).
    pub fn alpha(&self) -> f64 {
        self.inner.alpha
    }

    /// The leave-one-out score of that alpha (`best_score_`: the negative mean squared error of
    /// the coded targets over every sample and column).
    pub fn best_score(&self) -> f64 {
        self.inner.best_score.unwrap_or(f64::NAN)
    }

    /// The classifier fitted with the chosen alpha.
    pub fn classifier(&self) -> &RidgeClassifier<F, S> {
        &self.inner
    }
}

impl RidgeClassifier<f64, Host> {
    /// scikit-learn's defaults (`alpha = 1`, an intercept).
    pub fn params() -> RidgeClassifierParams {
        RidgeClassifierParams { alpha: 1.0, fit_intercept: true }
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

    /// Fit one ridge regression per coded class column of `y` (integer labels, any values).
    ///
    /// # Errors
    /// As [`RidgeParams::fit_multi`] (a bad `alpha`, empty or non-finite X); `y` of another
    /// length than X's rows; kernel errors (including `y` on another device than `x`).
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<RidgeClassifier<F, X::Storage>> {
        let (n, _) = check_x_shape("RidgeClassifier", x, 1)?;
        let (classes, codes) = classes_of("RidgeClassifier", n, y)?;
        let device = x.device();
        let targets = coded_targets::<F, Y>(y, &codes, n, device)?;
        let ridge = Ridge::params().alpha(self.alpha).fit_intercept(self.fit_intercept);
        let model = ridge.fit_multi(x, &targets)?;
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

    /// Choose alpha by leave-one-out on the coded class columns (the mean squared error over
    /// every sample and column; the first of equal alphas), then fit every column with it.
    ///
    /// # Errors
    /// As [`RidgeCV`]'s fit (no alphas, an alpha not positive, empty or non-finite X); `y` of
    /// another length than X's rows; kernel errors.
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<RidgeClassifierCV<F, X::Storage>> {
        let (n, _) = check_x_shape("RidgeClassifierCV", x, 1)?;
        let (classes, codes) = classes_of("RidgeClassifierCV", n, y)?;
        let device = x.device();
        let cv = RidgeCV::params().alphas(self.alphas.clone()).fit_intercept(self.fit_intercept).store_cv_results(true);
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
        let mut single = None;
        for t in &columns {
            let fitted = cv.fit(x, t)?;
            let sq = fitted.cv_results().expect("store_cv_results is set").clone();
            total = Some(match total {
                Some(acc) => acc + sq,
                None => sq,
            });
            single = Some(fitted);
        }
        let total = total.expect("at least one column");
        let scale = (n * columns.len()) as f64;
        let scores: Vec<f64> = total.axis_iter(Axis(1)).map(|col| -col.sum() / scale).collect();
        let mut best = 0;
        for (a, &s) in scores.iter().enumerate() {
            if s > scores[best] {
                best = a;
            }
        }
        let alpha = self.alphas[best];
        if columns.len() == 1 {
            // One column: RidgeCV's own leave-one-out solution, as scikit-learn's.
            let fitted = single.expect("one column");
            let ridge = fitted.ridge();
            let coef = X::Storage::vec_to_host(ridge.coef())?.insert_axis(Axis(0));
            let intercept = Array1::from(vec![ridge.intercept()]);
            let inner = assemble(coef, intercept, classes, alpha, Some(scores[best]), device)?;
            return Ok(RidgeClassifierCV { inner });
        }
        let targets = coded_targets::<F, Y>(y, &codes, n, device)?;
        let model = Ridge::params().alpha(alpha).fit_intercept(self.fit_intercept).fit_multi(x, &targets)?;
        Ok(RidgeClassifierCV { inner: finish(model, classes, alpha, Some(scores[best]), device)? })
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
crate::model_selection::set_params!(RidgeClassifierParams, "RidgeClassifier" { "alpha" => alpha: f64, "fit_intercept" => fit_intercept: bool });
crate::model_selection::set_params!(RidgeClassifierCVParams, "RidgeClassifierCV" { "alphas" => alphas: Vec<f64>, "fit_intercept" => fit_intercept: bool });
