//! `GaussianNB`: Gaussian naive Bayes, per-class feature means and variances, scikit-learn's
//! `GaussianNB` (with its `var_smoothing`: the largest feature variance of X times
//! `var_smoothing` is added to every variance, `epsilon_`).
//!
//! Fitting is one kernel over X and y: class counts, means (`theta_`) and variances (`var_`,
//! the two-pass population variance as numpy's `var` computes it), and `epsilon_`. Prediction is
//! one kernel: the joint log-likelihood of every sample and class, its log-softmax, the
//! probabilities and the most likely class. The classes are found on the host (a sorted,
//! deduplicated copy of y, as scikit-learn's `unique_values`); priors are tiny host vectors.

use crate::data::{check_fitted_x, check_len, check_x, Host, Mat, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::Tensor;
use ndarray::{Array1, ArrayView1, ArrayView2, Ix1};
use std::marker::PhantomData;

/// Per class `classes[c]`: the sample count, the feature means and the feature variances plus
/// `epsilon`; and `epsilon = var_smoothing * max(var(X, axis=0))`.
#[kernel(crate = kiln_runtime)]
fn gnb_fit<F: Float>(
    x: Array2<F>,
    y: Array1<i64>,
    classes: Array1<i64>,
    var_smoothing: F,
) -> (Array2<F>, Array2<F>, Array1<F>, F) {
    let n = x.nrows();
    let d = x.ncols();
    let k = classes.len();
    let mean = x.mean_axis(Axis(0));
    let epsilon = var_smoothing * (&x - &mean).powi(2).mean_axis(Axis(0)).max();
    let count = Array1::from_shape_fn(k, |c| sum(0..n, |i| (y[[i]] == classes[[c]]) as F));
    let theta = Array2::from_shape_fn((k, d), |(c, j)| {
        sum(0..n, |i| select(y[[i]] == classes[[c]], x[[i, j]], 0.0)) / count[[c]]
    });
    let var = Array2::from_shape_fn((k, d), |(c, j)| {
        sum(0..n, |i| select(y[[i]] == classes[[c]], (x[[i, j]] - theta[[c, j]]).powi(2), 0.0)) / count[[c]] + epsilon
    });
    (theta, var, count, epsilon)
}

/// The joint log-likelihood `log P(c) + log P(x | c)` (n x k) in scikit-learn's operation
/// order, the log-probabilities (its log-softmax), the probabilities and the most likely class.
#[kernel(crate = kiln_runtime)]
fn gnb_predict<F: Float>(
    x: Array2<F>,
    theta: Array2<F>,
    var: Array2<F>,
    prior: Array1<F>,
    classes: Array1<i64>,
) -> (Array2<F>, Array2<F>, Array2<F>, Array1<i64>) {
    let n = x.nrows();
    let d = x.ncols();
    let k = theta.nrows();
    let norm = Array1::from_shape_fn(k, |c| -0.5 * sum(0..d, |j| (6.283185307179586 * var[[c, j]]).ln()));
    let jll = Array2::from_shape_fn((n, k), |(i, c)| {
        prior[[c]].ln() + (norm[[c]] - 0.5 * sum(0..d, |j| (x[[i, j]] - theta[[c, j]]).powi(2) / var[[c, j]]))
    });
    let lse = jll.logsumexp_axis(Axis(1));
    let log_proba = &jll - lse.insert_axis(Axis(1));
    let best = jll.argmax_axis(Axis(1));
    let labels = Array1::from_shape_fn(n, |i| classes[[best[[i]]]]);
    (jll, log_proba.clone(), log_proba.exp(), labels)
}

/// Hyper-parameters of [`GaussianNB`] (scikit-learn's defaults: no `priors`, priors from the
/// class frequencies; `var_smoothing = 1e-9`).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianNBParams {
    priors: Option<Vec<f64>>,
    var_smoothing: f64,
}

/// A fitted Gaussian naive Bayes classifier: per class the count, prior, feature means and
/// variances, kept where it was fitted.
#[derive(Debug, Clone)]
pub struct GaussianNB<F: Real, S: Storage> {
    classes: S::Vec<i64>,
    theta: S::Mat<F>,
    var: S::Mat<F>,
    class_count: S::Vec<F>,
    class_prior: S::Vec<F>,
    epsilon: F,
    n_classes: usize,
    n_features: usize,
    _f: PhantomData<F>,
}

impl GaussianNB<f64, Host> {
    /// scikit-learn's defaults: no `priors`, `var_smoothing = 1e-9`.
    pub fn params() -> GaussianNBParams {
        GaussianNBParams { priors: None, var_smoothing: 1e-9 }
    }
}

impl GaussianNBParams {
    /// The prior probability of each class, in sorted class order (`priors`: non-negative,
    /// summing to 1); by default the class frequencies of y.
    pub fn priors(mut self, priors: Vec<f64>) -> Self {
        self.priors = Some(priors);
        self
    }

    /// The fraction of the largest feature variance added to every variance for stability
    /// (`var_smoothing`, at least 0).
    pub fn var_smoothing(mut self, var_smoothing: f64) -> Self {
        self.var_smoothing = var_smoothing;
        self
    }

    /// The priors checked against `k` classes, in scikit-learn's order: one per class, summing
    /// to 1 (numpy's `isclose`: within 1e-8 + 1e-5), none negative.
    fn checked_priors(&self, k: usize) -> Result<Option<&[f64]>> {
        let Some(p) = self.priors.as_deref() else { return Ok(None) };
        let bad = |expected: String| EstimatorError::param("GaussianNB", "priors", expected, format!("{p:?}"));
        if p.len() != k {
            return Err(bad(format!("one value per class ({k} classes)")));
        }
        let total: f64 = p.iter().sum();
        let close = (total - 1.0).abs() <= 1e-8 + 1e-5;
        if !close {
            return Err(bad(format!("values whose sum is 1 (sum {total})")));
        }
        if p.iter().any(|&v| v < 0.0) {
            return Err(bad("non-negative".into()));
        }
        Ok(Some(p))
    }

    /// Fit on `x` with integer class labels `y` (any values; `classes` sorted ascending).
    ///
    /// # Errors
    /// `var_smoothing` negative or not finite; empty or non-finite X; `y` of another length
    /// than X's rows; priors of another length than the classes, not summing to 1 or negative;
    /// kernel errors (including `y` on another device than `x`).
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<GaussianNB<F, X::Storage>> {
        if !(self.var_smoothing >= 0.0 && self.var_smoothing.is_finite()) {
            return Err(EstimatorError::param(
                "GaussianNB",
                "var_smoothing",
                "a float in the range [0.0, inf)",
                self.var_smoothing,
            ));
        }
        let (n, d) = check_x("GaussianNB", x, 1)?;
        check_len("y", y.length()?, n)?;
        let mut classes = y.to_host()?.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let k = classes.len();
        let priors = self.checked_priors(k)?;
        let device = x.device();
        let classes = X::Storage::vec_from_host(Array1::from(classes), device)?;
        let (theta, var, count, epsilon) =
            gnb_fit::tensors::<F>(x.arg(), y.arg(), X::Storage::vec_arg(&classes), F::from_f64(self.var_smoothing))?;
        let count_host = count.to_array::<Ix1>()?;
        let prior = match priors {
            Some(p) => Array1::from_iter(p.iter().map(|&v| F::from_f64(v))),
            None => {
                // scikit-learn's class_count_ / sum(class_count_): the counts are whole numbers,
                // exact in f64.
                let total: f64 = count_host.iter().map(|c| c.to_f64()).sum();
                count_host.mapv(|c| F::from_f64(c.to_f64() / total))
            }
        };
        Ok(GaussianNB {
            classes,
            theta: X::Storage::mat(theta)?,
            var: X::Storage::mat(var)?,
            class_count: X::Storage::vec(count)?,
            class_prior: X::Storage::vec_from_host(prior, device)?,
            epsilon: epsilon.item()?,
            n_classes: k,
            n_features: d,
            _f: PhantomData,
        })
    }
}

impl<F: Real, S: Storage> GaussianNB<F, S> {
    /// The class labels, sorted (`classes_`).
    pub fn classes(&self) -> &S::Vec<i64> {
        &self.classes
    }

    /// The number of training samples of each class (`class_count_`).
    pub fn class_count(&self) -> &S::Vec<F> {
        &self.class_count
    }

    /// The prior probability of each class (`class_prior_`).
    pub fn class_prior(&self) -> &S::Vec<F> {
        &self.class_prior
    }

    /// The feature means per class (`theta_`, n_classes x n_features).
    pub fn theta(&self) -> &S::Mat<F> {
        &self.theta
    }

    /// The feature variances per class, `epsilon_` included (`var_`, n_classes x n_features).
    pub fn var(&self) -> &S::Mat<F> {
        &self.var
    }

    /// What was added to every variance: `var_smoothing` times the largest feature variance
    /// of the training X (`epsilon_`).
    pub fn epsilon(&self) -> F {
        self.epsilon
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The joint log-likelihood, log-probabilities, probabilities and labels of `x`, after the
    /// checks every prediction makes.
    fn run<X: Matrix<F>>(&self, x: &X) -> Result<(Tensor<F>, Tensor<F>, Tensor<F>, Tensor<i64>)> {
        check_fitted_x("GaussianNB", self.n_features, x)?;
        Ok(gnb_predict::tensors::<F>(
            x.arg(),
            S::mat_arg(&self.theta),
            S::mat_arg(&self.var),
            S::vec_arg(&self.class_prior),
            S::vec_arg(&self.classes),
        )?)
    }

    /// `log P(c) + log P(x | c)` for every row and class (`predict_joint_log_proba`).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn predict_joint_log_proba<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.run(x)?.0)
    }

    /// Class log-probabilities (n x n_classes, columns in [`GaussianNB::classes`] order).
    ///
    /// # Errors
    /// As [`GaussianNB::predict_joint_log_proba`].
    pub fn predict_log_proba<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.run(x)?.1)
    }

    /// Class probabilities (n x n_classes, columns in [`GaussianNB::classes`] order).
    ///
    /// # Errors
    /// As [`GaussianNB::predict_joint_log_proba`].
    pub fn predict_proba<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.run(x)?.2)
    }

    /// The most likely class of each row.
    ///
    /// # Errors
    /// As [`GaussianNB::predict_joint_log_proba`].
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, i64>> {
        X::Storage::vec(self.run(x)?.3)
    }

    /// Mean accuracy on `x` against `y` (scikit-learn's classifier `score`).
    ///
    /// # Errors
    /// As [`GaussianNB::predict`]; `y` of another length than X's rows.
    pub fn score<X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<f64>
    where
        Vect<X::Storage, i64>: Vector<i64>,
    {
        let p = self.predict(x)?;
        crate::metrics::accuracy_score(y, &p)
    }
}

impl<F: Real> crate::traits::SupervisedParams<F> for GaussianNBParams {
    type Target = i64;
    type Model = GaussianNB<F, Host>;
    fn fit_host(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, i64>) -> Result<Self::Model> {
        self.fit(&x, &y)
    }
}

impl<F: Real> crate::traits::Predictor<F> for GaussianNB<F, Host> {
    type Target = i64;
    fn predict_host(&self, x: ArrayView2<'_, F>) -> Result<ndarray::Array1<i64>> {
        self.predict(&x)
    }
    fn score_host(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, i64>) -> Result<f64> {
        self.score(&x, &y)
    }
}
