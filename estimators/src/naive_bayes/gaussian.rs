//! `GaussianNB`: Gaussian naive Bayes, per-class feature means and variances, scikit-learn's
//! `GaussianNB` (with its `var_smoothing`: the largest feature variance of X times
//! `var_smoothing` is added to every variance, `epsilon_`).
//!
//! Fitting is one kernel over X, y (and the sample weights): per-class weighted counts, means
//! (`theta_`) and variances (`var_`, two-pass, as numpy's `average` computes them), and
//! `epsilon_`; the k x d results are merged on the host into what the model has seen, which for
//! `fit` (and a first `partial_fit`) is nothing, and for later `partial_fit` batches is Chan et
//! al.'s update exactly as scikit-learn's `_update_mean_variance` does it. Prediction is one
//! kernel: the joint log-likelihood of every sample and class, its log-softmax, the
//! probabilities and the most likely class. The classes are found on the host (a sorted,
//! deduplicated copy of y, as scikit-learn's `unique_values`); priors are tiny host vectors.

use crate::data::{
    check_features, check_finite, check_fitted_x, check_len, check_x_shape, Host, Mat, Matrix, Storage, Vect, Vector,
};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::preprocessing::label::{list, unique};
use kiln_macros::kernel;
use kiln_runtime::Tensor;
use ndarray::{Array1, Array2, Ix1, Ix2};
use std::marker::PhantomData;

/// Per class `classes[c]`: the summed weight `w` of its samples, and the weighted feature means
/// and variances (numpy's `average`: `sum(w x) / sum(w)`, then the same of the squared
/// deviations; zeros for a class whose weight is within 1e-8 of 0, as scikit-learn's
/// `isclose(n_new, 0)` leaves it); and `epsilon = var_smoothing * max(var(X, axis=0))`
/// (unweighted, as scikit-learn computes it).
#[kernel(crate = kiln_runtime)]
fn gnb_stats<F: Float>(
    x: Array2<F>,
    y: Array1<i64>,
    classes: Array1<i64>,
    w: Array1<F>,
    var_smoothing: F,
) -> (Array2<F>, Array2<F>, Array1<F>, F) {
    let n = x.nrows();
    let d = x.ncols();
    let k = classes.len();
    let mean = x.mean_axis(Axis(0));
    let epsilon = var_smoothing * (&x - &mean).powi(2).mean_axis(Axis(0)).max();
    let count = Array1::from_shape_fn(k, |c| sum(0..n, |i| select(y[[i]] == classes[[c]], w[[i]], 0.0)));
    let theta = Array2::from_shape_fn((k, d), |(c, j)| {
        select(
            count[[c]].abs() <= 1e-8,
            0.0,
            sum(0..n, |i| select(y[[i]] == classes[[c]], x[[i, j]] * w[[i]], 0.0)) / count[[c]],
        )
    });
    let var = Array2::from_shape_fn((k, d), |(c, j)| {
        select(
            count[[c]].abs() <= 1e-8,
            0.0,
            sum(0..n, |i| select(y[[i]] == classes[[c]], (x[[i, j]] - theta[[c, j]]).powi(2) * w[[i]], 0.0))
                / count[[c]],
        )
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// The hyper-parameters, for later `partial_fit` calls.
    params: GaussianNBParams,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] GaussianNB<F, @> { classes: vec[c], theta: mat[c, d], var: mat[c, d], class_count: vec[c], class_prior: vec[c], epsilon, n_classes: size[c], n_features: size[d], params, _f });

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
        let mut model = self.start(x, y, None)?;
        model.update(x, y, None::<&Array1<F>>)?;
        Ok(model)
    }

    /// [`GaussianNBParams::fit`] with per-sample weights `w` (`sample_weight`; finite, one per
    /// row of `x`, on its device).
    ///
    /// # Errors
    /// As [`GaussianNBParams::fit`]; `w` of another length than X's rows or not finite.
    pub fn fit_weighted<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        w: &W,
    ) -> Result<GaussianNB<F, X::Storage>> {
        let mut model = self.start(x, y, None)?;
        model.update(x, y, Some(w))?;
        Ok(model)
    }

    /// The first `partial_fit` call: fit on a first batch, with every class the model will
    /// see (`classes`, in any order; later batches may only use these).
    ///
    /// # Errors
    /// As [`GaussianNBParams::fit`]; a label of `y` not among `classes`.
    pub fn partial_fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(
        &self,
        x: &X,
        y: &Y,
        classes: &[i64],
    ) -> Result<GaussianNB<F, X::Storage>> {
        let mut model = self.start(x, y, Some(classes))?;
        model.update(x, y, None::<&Array1<F>>)?;
        Ok(model)
    }

    /// [`GaussianNBParams::partial_fit`] with per-sample weights `w`.
    ///
    /// # Errors
    /// As [`GaussianNBParams::partial_fit`] and [`GaussianNBParams::fit_weighted`].
    pub fn partial_fit_weighted<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        classes: &[i64],
        w: &W,
    ) -> Result<GaussianNB<F, X::Storage>> {
        let mut model = self.start(x, y, Some(classes))?;
        model.update(x, y, Some(w))?;
        Ok(model)
    }

    /// A model with the classes (`classes`, or those of `y`) and nothing seen yet: zero means,
    /// variances and counts, as scikit-learn's first `_partial_fit` call starts.
    fn start<F: Real, X: Matrix<F>, Y: Vector<i64>>(
        &self,
        x: &X,
        y: &Y,
        classes: Option<&[i64]>,
    ) -> Result<GaussianNB<F, X::Storage>> {
        if !(self.var_smoothing >= 0.0 && self.var_smoothing.is_finite()) {
            return Err(EstimatorError::param(
                "GaussianNB",
                "var_smoothing",
                "a float in the range [0.0, inf)",
                self.var_smoothing,
            ));
        }
        let (n, d) = check_x_shape("GaussianNB", x, 1)?;
        check_len("y", y.length()?, n)?;
        let classes = match classes {
            Some(c) => unique(c.iter().copied()),
            None => unique(y.to_host()?),
        };
        let k = classes.len();
        let priors = self.checked_priors(k)?;
        let device = x.device();
        let zeros = |r: usize| Array1::from_elem(r, F::from_f64(0.0));
        let prior = priors.map_or_else(|| zeros(k), |p| p.iter().map(|&v| F::from_f64(v)).collect());
        let mat0 = || X::Storage::mat_from_host(Array2::from_elem((k, d), F::from_f64(0.0)), device);
        Ok(GaussianNB {
            classes: X::Storage::vec_from_host(Array1::from(classes), device)?,
            theta: mat0()?,
            var: mat0()?,
            class_count: X::Storage::vec_from_host(zeros(k), device)?,
            class_prior: X::Storage::vec_from_host(prior, device)?,
            epsilon: F::from_f64(0.0),
            n_classes: k,
            n_features: d,
            params: self.clone(),
            _f: PhantomData,
        })
    }
}

impl<F: Real, S: Storage> GaussianNB<F, S> {
    /// Fit on one more batch (`partial_fit`): per class, the batch's count, mean and variance
    /// are merged with what was seen (Chan et al.'s update, as scikit-learn's
    /// `_update_mean_variance`), `epsilon_` is recomputed from this batch, and the priors (when
    /// not given) follow the counts.
    ///
    /// # Errors
    /// A different feature count than before; empty or non-finite X; `y` of another length
    /// than X's rows or with a label not among the classes; kernel errors.
    pub fn partial_fit<X: Matrix<F, Storage = S>, Y: Vector<i64>>(&mut self, x: &X, y: &Y) -> Result<()> {
        self.update(x, y, None::<&Array1<F>>)
    }

    /// [`GaussianNB::partial_fit`] with per-sample weights `w`.
    ///
    /// # Errors
    /// As [`GaussianNB::partial_fit`]; `w` of another length than X's rows or not finite.
    pub fn partial_fit_weighted<X: Matrix<F, Storage = S>, Y: Vector<i64>, W: Vector<F>>(
        &mut self,
        x: &X,
        y: &Y,
        w: &W,
    ) -> Result<()> {
        self.update(x, y, Some(w))
    }

    /// scikit-learn's `_partial_fit` after its first-call set-up: one kernel for the batch's
    /// per-class statistics, then the k x d merge on the host (in f64).
    fn update<X: Matrix<F, Storage = S>, Y: Vector<i64>, W: Vector<F>>(
        &mut self,
        x: &X,
        y: &Y,
        w: Option<&W>,
    ) -> Result<()> {
        let (n, d) = check_x_shape("GaussianNB", x, 1)?;
        check_features("GaussianNB", self.n_features, d)?;
        check_finite(x)?;
        check_len("y", y.length()?, n)?;
        let classes = S::vec_to_host(&self.classes)?.to_vec();
        let unseen: Vec<i64> = unique(y.to_host()?).into_iter().filter(|l| classes.binary_search(l).is_err()).collect();
        if !unseen.is_empty() {
            return Err(EstimatorError::InvalidTarget(format!(
                "the target label(s) {} in y do not exist in the initial classes {}",
                list(&unseen),
                list(&classes)
            )));
        }
        let device = x.device();
        let ones;
        let w_arg = match w {
            Some(w) => {
                check_len("sample_weight", w.length()?, n)?;
                if !w.to_host()?.iter().all(|v| v.to_f64().is_finite()) {
                    return Err(EstimatorError::NonFinite { what: "sample_weight" });
                }
                w.arg()
            }
            None => {
                ones = S::vec_from_host(Array1::from_elem(n, F::from_f64(1.0)), device)?;
                S::vec_arg(&ones)
            }
        };
        let (theta_b, var_b, count_b, eps) = gnb_stats::tensors::<F>(
            x.arg(),
            y.arg(),
            S::vec_arg(&self.classes),
            w_arg,
            F::from_f64(self.params.var_smoothing),
        )?;
        let f64s2 = |a: Array2<F>| a.mapv(|v| v.to_f64());
        let (theta_b, var_b) = (f64s2(theta_b.to_array::<Ix2>()?), f64s2(var_b.to_array::<Ix2>()?));
        let count_b = count_b.to_array::<Ix1>()?.mapv(|v| v.to_f64());
        let mut theta = f64s2(S::mat_to_host(&self.theta)?);
        let old_eps = self.epsilon.to_f64();
        let mut var = S::mat_to_host(&self.var)?.mapv(|v| v.to_f64() - old_eps);
        let mut count = S::vec_to_host(&self.class_count)?.mapv(|v| v.to_f64());
        for c in 0..self.n_classes {
            let (n_new, n_past) = (count_b[c], count[c]);
            // scikit-learn skips a batch class whose weight is close to 0 (numpy's isclose).
            if n_new.abs() > 1e-8 {
                if n_past == 0.0 {
                    theta.row_mut(c).assign(&theta_b.row(c));
                    var.row_mut(c).assign(&var_b.row(c));
                } else {
                    let total = n_past + n_new;
                    for j in 0..d {
                        let (mu, new_mu) = (theta[[c, j]], theta_b[[c, j]]);
                        let ssd = n_past * var[[c, j]]
                            + n_new * var_b[[c, j]]
                            + (n_new * n_past / total) * (mu - new_mu) * (mu - new_mu);
                        theta[[c, j]] = (n_new * new_mu + n_past * mu) / total;
                        var[[c, j]] = ssd / total;
                    }
                }
            }
            count[c] += n_new;
        }
        let eps = eps.item()?;
        let e = eps.to_f64();
        let to_f = |a: &Array2<f64>| a.mapv(F::from_f64);
        self.theta = S::mat_from_host(to_f(&theta), device)?;
        self.var = S::mat_from_host(var.mapv(|v| F::from_f64(v + e)), device)?;
        self.class_count = S::vec_from_host(count.mapv(F::from_f64), device)?;
        if self.params.priors.is_none() {
            let total: f64 = count.sum();
            self.class_prior = S::vec_from_host(count.mapv(|c| F::from_f64(c / total)), device)?;
        }
        self.epsilon = eps;
        Ok(())
    }

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

crate::traits::supervised!(GaussianNBParams => GaussianNB, i64, predict_proba);
crate::model_selection::set_params!(GaussianNBParams, "GaussianNB" { "priors" => priors: Vec<f64>, "var_smoothing" => var_smoothing: f64 });
