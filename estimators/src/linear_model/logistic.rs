//! `LogisticRegression`: L2-penalized logistic regression fitted by L-BFGS (scikit-learn's
//! default `lbfgs` solver), binary (one weight vector, sigmoid) or multinomial (softmax).
//!
//! scikit-learn minimizes `C * sum_i log_loss_i + 0.5 * ||W||^2` (the intercept is not
//! penalized), scaled by `1 / (C n)`; `tol` bounds the largest component of that scaled
//! gradient. This module minimizes the same scaled objective with [`super::lbfgs`], where every
//! evaluation is one kernel pass over X ([`softmax_loss_grad`]) returning the summed loss and
//! its gradient. A binary problem runs through the same kernel as a two-class softmax whose
//! first row of weights is pinned at zero: `log(1 + e^z) - y z` is exactly the softmax loss of
//! the logits `[0, z]`, so both cases share one kernel (and one CUDA compile).

use super::lbfgs::{self, Options};
use crate::data::{check_fitted_x, check_len, check_x, Host, Mat, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use ndarray::{Array1, Array2, Ix1, Ix2};
use std::marker::PhantomData;

/// The one-hot matrix of `y` over the sorted `classes` (n x k).
#[kernel(crate = kiln_runtime)]
fn one_hot<F: Float>(y: Array1<i64>, classes: Array1<i64>) -> Array2<F> {
    let n = y.len();
    let k = classes.len();
    Array2::from_shape_fn((n, k), |(i, j)| (y[[i]] == classes[[j]]) as F)
}

/// The summed softmax cross-entropy of the logits `X W^T + b` against one-hot `y`, and its
/// gradient with respect to `W` (k x d) and `b` (k).
///
/// The loss is summed per row (`lse_i - z_i . y_i`, each term non-negative), never as the
/// difference of two large sums, and in f64 whatever `F` is, as scikit-learn's loss does: the
/// logits and exponentials are `F`, the row's sum of exponentials `s_i`, its log and the
/// residuals `e_ij / s_i - y_ij` are f64. In f32 a well-classified row's `lse_i` is
/// `max + log(1 + tiny)`, and `1 + tiny` rounds to 1: on nearly separable data an f32 loss is
/// biased low and its changes along a search direction are rounding noise, on which L-BFGS's
/// line search spends evaluations and then stops early.
///
/// The residuals `R = P - Y` (n x k) are read by the gradient's contraction `R^T X`, so the
/// schedule keeps them in a buffer (two exponentials per logit per evaluation, not one per feature) that
/// the column sum reads too. The contraction reduces over the rows, so the schedule splits it in
/// 64 row chunks (two-phase, both cores).
#[kernel(crate = kiln_runtime)]
fn softmax_loss_grad<F: Float>(x: Array2<F>, y: Array2<F>, w: Array2<F>, b: Array1<F>) -> (f64, Array2<F>, Array1<F>) {
    let z = x.dot(&w.t()) + b;
    let m = z.max_axis(Axis(1));
    let e = (&z - m.insert_axis(Axis(1))).exp();
    let s = e.mapv(|v| v as f64).sum_axis(Axis(1));
    let zy = (&z * &y).sum_axis(Axis(1));
    let loss = (m.mapv(|v| v as f64) + s.ln() - zy.mapv(|v| v as f64)).sum();
    let r = (e.mapv(|v| v as f64) / s.insert_axis(Axis(1)) - y.mapv(|v| v as f64)).mapv(|v| v as F);
    (loss, r.t().dot(&x), r.sum_axis(Axis(0)))
}

/// [`softmax_loss_grad`] with sample weights `sw`: each row's loss and residuals count
/// `sw[i]` times.
#[kernel(crate = kiln_runtime)]
fn softmax_loss_grad_weighted<F: Float>(
    x: Array2<F>,
    y: Array2<F>,
    sw: Array1<F>,
    w: Array2<F>,
    b: Array1<F>,
) -> (f64, Array2<F>, Array1<F>) {
    let z = x.dot(&w.t()) + b;
    let m = z.max_axis(Axis(1));
    let e = (&z - m.insert_axis(Axis(1))).exp();
    let s = e.mapv(|v| v as f64).sum_axis(Axis(1));
    let zy = (&z * &y).sum_axis(Axis(1));
    let sw = sw.mapv(|v| v as f64);
    let loss = ((m.mapv(|v| v as f64) + s.ln() - zy.mapv(|v| v as f64)) * &sw).sum();
    let r = ((e.mapv(|v| v as f64) / s.insert_axis(Axis(1)) - y.mapv(|v| v as f64)) * sw.insert_axis(Axis(1)))
        .mapv(|v| v as F);
    (loss, r.t().dot(&x), r.sum_axis(Axis(0)))
}

/// The sum of the sample weights.
#[kernel(crate = kiln_runtime)]
fn weight_sum<F: Float>(sw: Array1<F>) -> F {
    sw.sum()
}

/// Class probabilities (softmax of `X W^T + b`) and the most probable class label.
#[kernel(crate = kiln_runtime)]
fn softmax_predict<F: Float>(
    x: Array2<F>,
    w: Array2<F>,
    b: Array1<F>,
    classes: Array1<i64>,
) -> (Array2<F>, Array1<i64>) {
    let z = x.dot(&w.t()) + b;
    let lse = z.logsumexp_axis(Axis(1));
    let p = (&z - lse.insert_axis(Axis(1))).exp();
    let best = z.argmax_axis(Axis(1));
    let n = best.len();
    (p, Array1::from_shape_fn(n, |i| classes[[best[i]]]))
}

/// `X coef^T + intercept` (the decision values) and the log-softmax of the kernel's logits
/// `X W^T + b` (the log-probabilities).
#[kernel(crate = kiln_runtime)]
fn logistic_scores<F: Float>(
    x: Array2<F>,
    coef: Array2<F>,
    intercept: Array1<F>,
    w: Array2<F>,
    b: Array1<F>,
) -> (Array2<F>, Array2<F>) {
    let z = x.dot(&w.t()) + b;
    let lse = z.logsumexp_axis(Axis(1));
    (x.dot(&coef.t()) + intercept, &z - lse.insert_axis(Axis(1)))
}

/// The penalty of [`LogisticRegression`] (scikit-learn's `penalty`; `None` is no penalty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Penalty {
    /// `0.5 ||W||^2`, weighted against the loss by `C` (`"l2"`, the default).
    #[default]
    L2,
}

/// Hyper-parameters of [`LogisticRegression`] (scikit-learn's defaults: `C = 1`,
/// `max_iter = 100`, `tol = 1e-4`, `fit_intercept = true`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticRegressionParams {
    c: f64,
    max_iter: usize,
    tol: f64,
    fit_intercept: bool,
    /// The relative-decrease stopping rule's threshold (None: scikit-learn's).
    ftol: Option<f64>,
    /// `None`: no penalty (as `C = inf`).
    penalty: Option<Penalty>,
}

/// A fitted logistic regression model. `coef` is `n_classes x d` (`1 x d` for two classes, the
/// weights of `classes[1]`), `intercept` has one entry per row of `coef`; both, and `classes`,
/// are kept where the model was fitted.
#[derive(Debug, Clone)]
pub struct LogisticRegression<F: Real, S: Storage> {
    coef: S::Mat<F>,
    intercept: S::Vec<F>,
    classes: S::Vec<i64>,
    /// The kernel's weights: `coef` with a zero row first for binary problems.
    w: S::Mat<F>,
    /// The kernel's intercepts (a leading 0 for binary problems).
    b: S::Vec<F>,
    n_classes: usize,
    n_features: usize,
    n_iter: usize,
    converged: bool,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] LogisticRegression<F, @> { coef: mat[k, d], intercept: vec[k], classes: vec[c], w: mat[c, d], b: vec[c], n_classes: size[c], n_features: size[d], n_iter, converged, _f });

impl LogisticRegression<f64, Host> {
    /// scikit-learn's defaults: `C = 1`, `max_iter = 100`, `tol = 1e-4`, `fit_intercept = true`.
    pub fn params() -> LogisticRegressionParams {
        LogisticRegressionParams {
            c: 1.0,
            max_iter: 100,
            tol: 1e-4,
            fit_intercept: true,
            ftol: None,
            penalty: Some(Penalty::L2),
        }
    }
}

impl LogisticRegressionParams {
    /// Inverse regularization strength (`C`, positive; smaller is stronger; `f64::INFINITY` is
    /// no penalty).
    pub fn c(mut self, c: f64) -> Self {
        self.c = c;
        self
    }

    /// The penalty (`penalty`: `Some(Penalty::L2)` by default; `None` fits without one, the
    /// unpenalized maximum-likelihood model, which does not exist for separable classes: L-BFGS
    /// then stops at `max_iter` with growing weights, as scikit-learn's does).
    pub fn penalty(mut self, penalty: Option<Penalty>) -> Self {
        self.penalty = penalty;
        self
    }

    /// The most L-BFGS iterations (`max_iter`, at least 1).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Stop when every component of the scaled gradient is at most `tol` (`tol`, at least 0).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Whether to fit an (unpenalized) intercept (`fit_intercept`).
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// L-BFGS also stops when an iteration lowers the objective by at most `ftol` relative to
    /// it (scipy's L-BFGS-B `ftol`). scikit-learn fixes it at `64 * f64::EPSILON` for f64 data,
    /// which ends most fits before the gradient reaches a small `tol` (e.g. `1e-8`: a gradient
    /// of ~1e-6 is left, so coefficients are ~1e-7 relative from the minimizer); kiln uses
    /// that by default and 0 for f32 data (whose objective values are too noisy to judge such
    /// decreases). `ftol(0.0)` turns the rule off: the fit then runs until the gradient is
    /// within `tol`, steps stop changing the parameters, or `max_iter`. Not a scikit-learn
    /// parameter.
    pub fn ftol(mut self, ftol: f64) -> Self {
        self.ftol = Some(ftol);
        self
    }

    fn check(&self) -> Result<()> {
        let name = "LogisticRegression";
        if self.c.is_nan() || self.c <= 0.0 {
            return Err(EstimatorError::param(name, "C", "a float in the range (0.0, inf]", self.c));
        }
        if self.max_iter == 0 {
            return Err(EstimatorError::param(name, "max_iter", "an int in the range [1, inf)", self.max_iter));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(EstimatorError::param(name, "tol", "a float in the range [0.0, inf)", self.tol));
        }
        if let Some(ftol) = self.ftol.filter(|f| !(*f >= 0.0 && f.is_finite())) {
            return Err(EstimatorError::param(name, "ftol", "a float in the range [0.0, inf)", ftol));
        }
        Ok(())
    }

    /// Fit on `x` with integer class labels `y` (any values; `classes` sorted ascending).
    ///
    /// # Errors
    /// Invalid hyper-parameters; empty or non-finite X; `y` of another length than X's rows or
    /// with a single class; kernel errors (including `y` on another device than `x`).
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(
        &self,
        x: &X,
        y: &Y,
    ) -> Result<LogisticRegression<F, X::Storage>> {
        self.fit_inner(x, y, None::<&Array1<F>>)
    }

    /// [`LogisticRegressionParams::fit`] with sample weights (`fit(X, y, sample_weight)`): row
    /// `i`'s loss counts `sw[i]` times, and the objective is scaled by `1 / sum(sw)` (the
    /// penalty `1 / (C sum(sw))`), as scikit-learn's.
    ///
    /// # Errors
    /// As [`LogisticRegressionParams::fit`]; `sw` of another length than X's rows, negative or
    /// non-finite.
    pub fn fit_weighted<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        sw: &W,
    ) -> Result<LogisticRegression<F, X::Storage>> {
        self.fit_inner(x, y, Some(sw))
    }

    fn fit_inner<F: Real, X: Matrix<F>, Y: Vector<i64>, W: Vector<F>>(
        &self,
        x: &X,
        y: &Y,
        sw: Option<&W>,
    ) -> Result<LogisticRegression<F, X::Storage>> {
        self.check()?;
        let (n, d) = check_x("LogisticRegression", x, 1)?;
        check_len("y", y.length()?, n)?;
        // scikit-learn's `sw_sum`: the number of rows, or the sum of the weights.
        let sw_sum = match sw {
            None => n as f64,
            Some(w) => {
                super::least_squares::check_weights(w, n)?;
                weight_sum::tensors::<F>(w.arg())?.item()?.to_f64()
            }
        };
        let mut classes = y.to_host()?.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let k = classes.len();
        if k < 2 {
            return Err(EstimatorError::SingleClass { class: classes.first().copied().unwrap_or_default() });
        }
        let device = x.device();
        let classes = X::Storage::vec_from_host(Array1::from(classes), device)?;
        let onehot = one_hot::tensors::<F>(y.arg(), X::Storage::vec_arg(&classes))?;
        // Rows of weights the optimizer moves: one for binary problems (the second softmax row).
        let (rows, k_kernel) = if k == 2 { (1, 2) } else { (k, k) };
        let nb = if self.fit_intercept { rows } else { 0 };
        // No penalty (`penalty=None`, or `C = inf`): 1 / (inf n) is 0.
        let c = if self.penalty.is_none() { f64::INFINITY } else { self.c };
        let (scale, penalty) = (1.0 / sw_sum, 1.0 / (c * sw_sum));
        let unpack = |theta: &[f64]| -> (Array2<F>, Array1<F>) {
            let mut w = Array2::from_elem((k_kernel, d), F::from_f64(0.0));
            let mut b = Array1::from_elem(k_kernel, F::from_f64(0.0));
            let off = k_kernel - rows;
            for r in 0..rows {
                for j in 0..d {
                    w[[off + r, j]] = F::from_f64(theta[r * d + j]);
                }
                if nb > 0 {
                    b[off + r] = F::from_f64(theta[rows * d + r]);
                }
            }
            (w, b)
        };
        let objective = |theta: &[f64]| -> Result<(f64, Vec<f64>)> {
            let (w, b) = unpack(theta);
            let (w, b) = (X::Storage::mat_from_host(w, device)?, X::Storage::vec_from_host(b, device)?);
            let (loss, gw, gb) = match sw {
                None => softmax_loss_grad::tensors::<F>(
                    x.arg(),
                    kiln_runtime::tensor_arg::<F, Ix2>(&onehot),
                    X::Storage::mat_arg(&w),
                    X::Storage::vec_arg(&b),
                )?,
                Some(sw) => softmax_loss_grad_weighted::tensors::<F>(
                    x.arg(),
                    kiln_runtime::tensor_arg::<F, Ix2>(&onehot),
                    sw.arg(),
                    X::Storage::mat_arg(&w),
                    X::Storage::vec_arg(&b),
                )?,
            };
            let (gw, gb) = (gw.to_array::<Ix2>()?, gb.to_array::<Ix1>()?);
            let off = k_kernel - rows;
            let wnorm: f64 = theta[..rows * d].iter().map(|v| v * v).sum();
            let f = scale * loss.item()?.to_f64() + 0.5 * penalty * wnorm;
            let mut g = vec![0.0; rows * d + nb];
            for r in 0..rows {
                for j in 0..d {
                    g[r * d + j] = scale * gw[[off + r, j]].to_f64() + penalty * theta[r * d + j];
                }
                if nb > 0 {
                    g[rows * d + r] = scale * gb[off + r].to_f64();
                }
            }
            Ok((f, g))
        };
        let f32_data = std::mem::size_of::<F>() == 4;
        let ftol = self.ftol.unwrap_or(if f32_data { 0.0 } else { 64.0 * f64::EPSILON });
        let opt = Options {
            max_iter: self.max_iter,
            gtol: self.tol,
            // scikit-learn's `ftol` (64 eps of f64); f32 objective values are too noisy to judge
            // such decreases, so f32 fits stop on the gradient or when steps stop changing the
            // f32 parameters.
            ftol,
            // Past the decrease f64 can resolve (ftol 0 on f64 data), steps are accepted on
            // the gradient within a few ulps of the objective, as f32 fits are within its noise.
            f_noise: if f32_data {
                100.0 * f64::from(f32::EPSILON)
            } else if ftol == 0.0 {
                16.0 * f64::EPSILON
            } else {
                0.0
            },
            x_eps: if f32_data { f64::from(f32::EPSILON) } else { f64::EPSILON },
            memory: 10,
            max_ls: 50,
        };
        let found = lbfgs::minimize(objective, vec![0.0; rows * d + nb], &opt)?;
        let (w, b) = unpack(&found.x);
        let off = k_kernel - rows;
        let coef = w.slice_axis(ndarray::Axis(0), ndarray::Slice::from(off..)).to_owned();
        let intercept = b.slice_axis(ndarray::Axis(0), ndarray::Slice::from(off..)).to_owned();
        Ok(LogisticRegression {
            coef: X::Storage::mat_from_host(coef, device)?,
            intercept: X::Storage::vec_from_host(intercept, device)?,
            classes,
            w: X::Storage::mat_from_host(w, device)?,
            b: X::Storage::vec_from_host(b, device)?,
            n_classes: k,
            n_features: d,
            n_iter: found.n_iter,
            converged: matches!(found.stop, lbfgs::Stop::Gradient | lbfgs::Stop::Decrease),
            _f: PhantomData,
        })
    }
}

impl<F: Real, S: Storage> LogisticRegression<F, S> {
    /// The weights (`coef_`): `n_classes x d`, or `1 x d` for two classes.
    pub fn coef(&self) -> &S::Mat<F> {
        &self.coef
    }

    /// The intercepts (`intercept_`), one per row of [`LogisticRegression::coef`].
    pub fn intercept(&self) -> &S::Vec<F> {
        &self.intercept
    }

    /// The class labels, sorted (`classes_`).
    pub fn classes(&self) -> &S::Vec<i64> {
        &self.classes
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// L-BFGS iterations run (`n_iter_`).
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Whether L-BFGS stopped on `tol` (or on scikit-learn's relative-decrease rule) rather than
    /// on `max_iter` or a failed line search (where scikit-learn warns `ConvergenceWarning`).
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The probabilities and labels of `x`, after the checks every prediction makes.
    fn run<X: Matrix<F>>(&self, x: &X) -> Result<(kiln_runtime::Tensor<F>, kiln_runtime::Tensor<i64>)> {
        check_fitted_x("LogisticRegression", self.n_features, x)?;
        Ok(softmax_predict::tensors::<F>(x.arg(), S::mat_arg(&self.w), S::vec_arg(&self.b), S::vec_arg(&self.classes))?)
    }

    /// Class probabilities (n x n_classes, columns in [`LogisticRegression::classes`] order).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn predict_proba<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.run(x)?.0)
    }

    /// The decision values `X coef^T + intercept` (`decision_function`): n x n_classes, or
    /// n x 1 for two classes (scikit-learn returns that column as a vector).
    ///
    /// # Errors
    /// As [`LogisticRegression::predict_proba`].
    pub fn decision_function<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.scores(x)?.0)
    }

    /// Class log-probabilities (the log-softmax of the logits, which equals scikit-learn's
    /// `log(predict_proba)` wherever the probability is not rounded to 0).
    ///
    /// # Errors
    /// As [`LogisticRegression::predict_proba`].
    pub fn predict_log_proba<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.scores(x)?.1)
    }

    fn scores<X: Matrix<F>>(&self, x: &X) -> Result<(kiln_runtime::Tensor<F>, kiln_runtime::Tensor<F>)> {
        check_fitted_x("LogisticRegression", self.n_features, x)?;
        Ok(logistic_scores::tensors::<F>(
            x.arg(),
            S::mat_arg(&self.coef),
            S::vec_arg(&self.intercept),
            S::mat_arg(&self.w),
            S::vec_arg(&self.b),
        )?)
    }

    /// The most probable class label of each row.
    ///
    /// # Errors
    /// As [`LogisticRegression::predict_proba`].
    pub fn predict<X: Matrix<F>>(&self, x: &X) -> Result<Vect<X::Storage, i64>> {
        X::Storage::vec(self.run(x)?.1)
    }

    /// Mean accuracy on `x` against `y` (scikit-learn's classifier `score`).
    ///
    /// # Errors
    /// As [`LogisticRegression::predict`]; `y` of another length than X's rows.
    pub fn score<X: Matrix<F>, Y: Vector<i64>>(&self, x: &X, y: &Y) -> Result<f64>
    where
        Vect<X::Storage, i64>: Vector<i64>,
    {
        let p = self.predict(x)?;
        crate::metrics::accuracy_score(y, &p)
    }
}

crate::traits::supervised!(LogisticRegressionParams => LogisticRegression, i64, predict_proba, decision_function);
crate::model_selection::set_params!(LogisticRegressionParams, "LogisticRegression" { "C" => c: f64, "max_iter" => max_iter: usize, "tol" => tol: f64, "fit_intercept" => fit_intercept: bool });
