//! LogisticRegression catch-ups: no penalty (`penalty(None)` / `C = inf`), `decision_function`
//! and `predict_log_proba`, against scikit-learn fixtures in f64 and f32, on host arrays and on
//! the CUDA simulator.

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::prelude::*;
use ndarray::{Array1, Array2, Ix1, Ix2};

/// Unpenalized fit on versicolor against virginica. f64: run to a gradient of 1e-10 (the
/// relative-decrease rule off) and compare with the exact minimizer (`exact_*`, Newton's method
/// in the fixture script) at rtol 1e-7; f32: scikit-learn's own fit at rtol 1e-4 (as the
/// penalized logistic parity tests do).
fn no_penalty_case<F: Real>(params: LogisticRegressionParams, device: Option<Device>) {
    let fx = "logistic_no_penalty_iris_vv";
    let x = input::<F>("iris_vv_x");
    let y = ints::<Ix1>("input_iris_vv_y");
    let f32_data = rtol::<F>() > 1e-6;
    let params = if f32_data { params.tol(1e-8).max_iter(10000) } else { params.tol(1e-10).ftol(0.0).max_iter(10000) };
    let (coef, intercept, proba, dec, logp) = match device {
        None => {
            let m = params.fit(&x, &y).unwrap();
            assert!(m.converged() || f32_data);
            let (p, d, l) =
                (m.predict_proba(&x).unwrap(), m.decision_function(&x).unwrap(), m.predict_log_proba(&x).unwrap());
            (m.coef().clone(), m.intercept().clone(), p, d, l)
        }
        Some(dev) => {
            let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
            let m = params.fit(&xt, &yt).unwrap();
            assert!(m.converged() || f32_data);
            let d = m.decision_function(&xt).unwrap();
            assert_eq!(d.device(), dev);
            (
                m.coef().to_array::<Ix2>().unwrap(),
                m.intercept().to_array::<Ix1>().unwrap(),
                m.predict_proba(&xt).unwrap().to_array::<Ix2>().unwrap(),
                d.to_array::<Ix2>().unwrap(),
                m.predict_log_proba(&xt).unwrap().to_array::<Ix2>().unwrap(),
            )
        }
    };
    let tol = rtol::<F>();
    let prefix = if f32_data { "" } else { "exact_" };
    let want_coef = expected::<Ix2>(&format!("{fx}.{prefix}coef_"));
    assert_allclose(&coef, &want_coef, tol, 0.0, &format!("{fx} {prefix}coef_"));
    let want_b = expected::<Ix1>(&format!("{fx}.{prefix}intercept_"));
    assert_allclose(&intercept, &want_b, tol, 0.0, &format!("{fx} {prefix}intercept_"));
    // The reference's first column is `1 - p` (scikit-learn's binary form): its absolute error
    // is an ulp of 1, which is all a tiny probability there can be compared to.
    let p_atol = if f32_data { 1e-6 } else { 2.0 * f64::EPSILON };
    let want_p = expected::<Ix2>(&format!("{fx}.{prefix}predict_proba"));
    assert_allclose(&proba, &want_p, tol, p_atol, &format!("{fx} predict_proba"));
    check_scores(&x, &coef, &intercept, &proba, &dec, &logp, fx);
}

/// `decision_function` is `X coef^T + intercept` (a plain loop over the fitted coefficients)
/// and `predict_log_proba` the log of `predict_proba` (its log-softmax form: equal within
/// rounding where the probabilities are not tiny).
fn check_scores<F: Real>(
    x: &Array2<F>,
    coef: &Array2<F>,
    intercept: &Array1<F>,
    proba: &Array2<F>,
    dec: &Array2<F>,
    logp: &Array2<F>,
    what: &str,
) {
    let tol = rtol::<F>();
    let (n, k) = (x.nrows(), coef.nrows());
    let want = Array2::from_shape_fn((n, k), |(i, c)| {
        intercept[c].to_f64() + (0..x.ncols()).map(|j| x[[i, j]].to_f64() * coef[[c, j]].to_f64()).sum::<f64>()
    });
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(dec, &want, tol, scale * tol, &format!("{what} decision_function"));
    let lp = proba.mapv(|p| p.to_f64().ln());
    assert_allclose(logp, &lp, tol, scale * tol, &format!("{what} predict_log_proba"));
}

#[test]
fn logistic_no_penalty_matches_scikit_learn() {
    for p in [LogisticRegression::params().penalty(None), LogisticRegression::params().c(f64::INFINITY)] {
        no_penalty_case::<f64>(p, None);
        no_penalty_case::<f32>(p, None);
    }
}

#[test]
fn logistic_no_penalty_matches_scikit_learn_on_cuda_sim() {
    no_penalty_case::<f64>(LogisticRegression::params().penalty(None), Some(Device::CudaSim));
    no_penalty_case::<f32>(LogisticRegression::params().penalty(None), Some(Device::CudaSim));
}

/// scikit-learn's decision_function and predict_log_proba on iris (C = 1), against kiln's f64
/// fit at scikit-learn's tol; their coefficients differ by up to 2.2e-5 (scikit-learn's
/// L-BFGS-B stops on its relative-decrease rule, see the penalized parity tests), so the scores
/// are compared at 1e-4 of the largest decision value.
#[test]
fn logistic_scores_match_scikit_learn() {
    let x = input::<f64>("iris_x");
    let y = ints::<Ix1>("input_iris_y");
    let m = LogisticRegression::params().tol(1e-8).max_iter(1000).fit(&x, &y).unwrap();
    let want = expected::<Ix2>("logistic_scores_iris.decision_function");
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&m.decision_function(&x).unwrap(), &want, 0.0, 1e-4 * scale, "decision_function");
    let want = expected::<Ix2>("logistic_scores_iris.predict_log_proba");
    assert_allclose(&m.predict_log_proba(&x).unwrap(), &want, 0.0, 1e-4 * scale, "predict_log_proba");
    let (p, d, l) = (m.predict_proba(&x).unwrap(), m.decision_function(&x).unwrap(), m.predict_log_proba(&x).unwrap());
    check_scores(&x, m.coef(), m.intercept(), &p, &d, &l, "iris");
}

/// `C` must be positive (infinity allowed: no penalty); NaN is refused.
#[test]
fn logistic_c_range() {
    let x = input::<f64>("iris_vv_x");
    let y = ints::<Ix1>("input_iris_vv_y");
    for c in [0.0, -1.0, f64::NAN] {
        assert!(matches!(LogisticRegression::params().c(c).fit(&x, &y), Err(EstimatorError::InvalidParameter { .. })));
    }
}
