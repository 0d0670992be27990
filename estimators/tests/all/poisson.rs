//! PoissonRegressor: parity with scikit-learn (fixtures from `cargo xtask fixtures`, fitted
//! with `tol = 1e-10` so both L-BFGS runs end at the minimizer) in f64 and f32, on host arrays
//! and on the CUDA simulator, and scikit-learn's own tests (`linear_model/_glm/tests/test_glm.py`,
//! the Poisson and lbfgs cases that apply).

use crate::common::{assert_allclose, expected, input, rtol};
use kiln_estimators::datasets::load_npy_as;
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Ix0, Ix1};

fn poisson_y<F: Real>() -> Array1<F> {
    load_npy_as::<F, Ix1>(crate::common::fixture("input_poisson_y.npy")).unwrap()
}

fn case<F: Real>(fx: &str, params: PoissonRegressorParams, device: Option<Device>) {
    let x = input::<F>("reg_x");
    let y = poisson_y::<F>();
    let tol = rtol::<F>();
    let coef_w = expected::<Ix1>(&format!("{fx}.coef_"));
    let icpt_w = expected::<Ix0>(&format!("{fx}.intercept_")).into_scalar();
    let pred_w = expected::<Ix1>(&format!("{fx}.predict"));
    let score_w = expected::<Ix0>(&format!("{fx}.score")).into_scalar();
    let coef_atol = coef_w.iter().fold(0.0f64, |m, v| m.max(v.abs())) * tol;
    let (coef, intercept, pred, score) = match device {
        None => {
            let m = params.fit(&x, &y).unwrap();
            (m.coef().clone(), m.intercept(), m.predict(&x).unwrap(), m.score(&x, &y).unwrap())
        }
        Some(dev) => {
            let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
            let m = params.fit(&xt, &yt).unwrap();
            assert_eq!(m.coef().device(), dev, "the model stays on the data's device");
            let p = m.predict(&xt).unwrap();
            assert_eq!(p.device(), dev);
            (
                m.coef().to_array::<Ix1>().unwrap(),
                m.intercept(),
                p.to_array::<Ix1>().unwrap(),
                m.score(&xt, &yt).unwrap(),
            )
        }
    };
    assert_allclose(&coef, &coef_w, tol, coef_atol, &format!("{fx} coef_"));
    let i = intercept.to_f64();
    assert!((i - icpt_w).abs() <= tol * icpt_w.abs() + coef_atol, "{fx} intercept_ {i} vs {icpt_w}");
    assert_allclose(&pred, &pred_w, tol, 0.0, &format!("{fx} predict"));
    assert!((score - score_w).abs() <= tol * score_w.abs(), "{fx} score {score} vs {score_w}");
}

fn all_cases<F: Real>(device: Option<Device>) {
    let p = || PoissonRegressor::params().tol(1e-10).max_iter(1000);
    case::<F>("poisson_alpha1", p().alpha(1.0), device);
    case::<F>("poisson_alpha001", p().alpha(0.01), device);
    case::<F>("poisson_no_penalty", p().alpha(0.0), device);
    case::<F>("poisson_no_intercept", p().alpha(0.1).fit_intercept(false), device);
}

#[test]
fn poisson_matches_scikit_learn() {
    all_cases::<f64>(None);
    all_cases::<f32>(None);
}

#[test]
fn poisson_matches_scikit_learn_on_cuda_sim() {
    all_cases::<f64>(Some(Device::CudaSim));
    all_cases::<f32>(Some(Device::CudaSim));
}

/// scikit-learn's `test_poisson_glmnet` (its R glmnet reference, lbfgs): alpha = 1 on a tiny
/// problem gives intercept -0.12889386979 and coefficients 0.29019207995, 0.03741173122.
#[test]
fn test_poisson_glmnet() {
    let x = array![[-2.0f64, -1.0, 1.0, 2.0], [0.0, 0.0, 1.0, 1.0]].reversed_axes();
    let y = array![0.0, 1.0, 1.0, 2.0];
    let m = PoissonRegressor::params().alpha(1.0).tol(1e-7).max_iter(300).fit(&x, &y).unwrap();
    assert!((m.intercept() - -0.12889386979).abs() <= 1e-5 * 0.12889386979, "{}", m.intercept());
    let want = [0.29019207995, 0.03741173122];
    assert!(m.coef().iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-5 * w), "{}", m.coef());
}

/// scikit-learn's `test_glm_regression`-style check without penalty: y drawn from
/// exp(X w) exactly (no noise) is fitted back to w.
#[test]
fn poisson_recovers_noise_free_coefficients() {
    let x = Array2::from_shape_fn((50, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5);
    let w = array![0.5, -1.0, 0.25];
    let y = x.dot(&w).mapv(|v| (v + 0.3f64).exp());
    let m = PoissonRegressor::params().alpha(0.0).tol(1e-12).max_iter(1000).fit(&x, &y).unwrap();
    assert!(m.coef().iter().zip(w.iter()).all(|(g, w)| (g - w).abs() < 1e-6), "{}", m.coef());
    assert!((m.intercept() - 0.3).abs() < 1e-6);
    assert!((m.score(&x, &y).unwrap() - 1.0).abs() < 1e-9);
}

/// Negative y is out of the Poisson loss's range (scikit-learn's `test_glm_wrong_y_range`);
/// other bad input is a typed error too.
#[test]
fn test_glm_wrong_y_range() {
    let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    let err = PoissonRegressor::params().fit(&x, &array![-1.0, 2.0, 3.0]).unwrap_err();
    assert!(err.to_string().contains("Some value(s) of y are out of the valid range"), "{err}");
    let p = PoissonRegressor::params;
    assert!(matches!(p().alpha(-1.0).fit(&x, &array![1.0, 2.0, 3.0]), Err(EstimatorError::InvalidParameter { .. })));
    assert!(matches!(p().max_iter(0).fit(&x, &array![1.0, 2.0, 3.0]), Err(EstimatorError::InvalidParameter { .. })));
    assert!(matches!(p().tol(0.0).fit(&x, &array![1.0, 2.0, 3.0]), Err(EstimatorError::InvalidParameter { .. })));
    assert!(matches!(p().fit(&x, &array![1.0, f64::NAN, 3.0]), Err(EstimatorError::NonFinite { .. })));
    assert!(matches!(p().fit(&x, &array![1.0, 3.0]), Err(EstimatorError::Shape(_))));
    let m = p().fit(&x, &array![1.0, 2.0, 3.0]).unwrap();
    assert!(matches!(m.predict(&array![[1.0]]), Err(EstimatorError::FeatureCountMismatch { .. })));
}
