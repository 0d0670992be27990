//! `sample_weight` for LinearRegression and Ridge (`fit_weighted`): parity with scikit-learn
//! (fixtures from `cargo xtask fixtures`) in f64 and f32, on host arrays and on the CUDA
//! simulator, and scikit-learn's own checks (`test_base.py` / `test_ridge.py`: integer weights
//! equal repeated rows, bad weights refused).

use crate::common::{assert_allclose, expected, input, rtol};
use kiln_estimators::datasets::load_npy_as;
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Axis, Ix0, Ix1};

enum Est {
    Ridge(RidgeParams),
    Ols(LinearRegressionParams),
}

fn case<F: Real>(fx: &str, est: Est, device: Option<Device>) {
    let x = input::<F>("reg_x");
    let t = load_npy_as::<F, Ix1>(crate::common::fixture("input_reg_y.npy")).unwrap();
    let w = load_npy_as::<F, Ix1>(crate::common::fixture("input_reg_w.npy")).unwrap();
    let tol = rtol::<F>();
    let coef_w = expected::<Ix1>(&format!("{fx}.coef_"));
    let icpt_w = expected::<Ix0>(&format!("{fx}.intercept_")).into_scalar();
    let pred_w = expected::<Ix1>(&format!("{fx}.predict"));
    let scale = pred_w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (coef, icpt, pred): (Array1<F>, F, Array1<F>) = match device {
        None => match est {
            Est::Ridge(p) => {
                let m = p.fit_weighted(&x, &t, &w).unwrap();
                (m.coef().clone(), m.intercept(), m.predict(&x).unwrap())
            }
            Est::Ols(p) => {
                let m = p.fit_weighted(&x, &t, &w).unwrap();
                (m.coef().clone(), m.intercept(), m.predict(&x).unwrap())
            }
        },
        Some(dev) => {
            let on = |a: &Array1<F>| Tensor::from_array(a, dev).unwrap();
            let (xt, tt, wt) = (Tensor::from_array(&x, dev).unwrap(), on(&t), on(&w));
            let (c, i, p) = match est {
                Est::Ridge(p) => {
                    let m = p.fit_weighted(&xt, &tt, &wt).unwrap();
                    (m.coef().clone(), m.intercept(), m.predict(&xt).unwrap())
                }
                Est::Ols(p) => {
                    let m = p.fit_weighted(&xt, &tt, &wt).unwrap();
                    (m.coef().clone(), m.intercept(), m.predict(&xt).unwrap())
                }
            };
            assert_eq!(c.device(), dev, "the model stays on the data's device");
            (c.to_array::<Ix1>().unwrap(), i, p.to_array::<Ix1>().unwrap())
        }
    };
    let coef_atol = coef_w.iter().fold(0.0f64, |m, v| m.max(v.abs())) * tol;
    assert_allclose(&coef, &coef_w, tol, coef_atol, &format!("{fx} coef_"));
    let i = icpt.to_f64();
    assert!((i - icpt_w).abs() <= tol * icpt_w.abs() + scale * tol, "{fx} intercept_ {i} vs {icpt_w}");
    assert_allclose(&pred, &pred_w, tol, scale * tol, &format!("{fx} predict"));
}

fn all_cases<F: Real>(device: Option<Device>) {
    case::<F>("ridge_weighted_reg", Est::Ridge(Ridge::params().alpha(1.0)), device);
    case::<F>("ridge_weighted_no_intercept_reg", Est::Ridge(Ridge::params().alpha(10.0).fit_intercept(false)), device);
    case::<F>("linear_regression_weighted_reg", Est::Ols(LinearRegression::params()), device);
}

#[test]
fn weighted_least_squares_match_scikit_learn() {
    all_cases::<f64>(None);
    all_cases::<f32>(None);
}

#[test]
fn weighted_least_squares_match_scikit_learn_on_cuda_sim() {
    all_cases::<f64>(Some(Device::CudaSim));
    all_cases::<f32>(Some(Device::CudaSim));
}

/// The API line.
#[test]
fn ridge_fit_weighted_api_line() -> Result<(), EstimatorError> {
    let x = array![[0.0f64, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.5]];
    let (t, w) = (array![1.0, 2.0, 5.0, 6.0], array![1.0, 2.0, 1.0, 0.5]);
    let ridge = Ridge::params().alpha(1.0).fit_weighted(&x, &t, &w)?;
    assert_eq!(ridge.coef().len(), 2);
    Ok(())
}

/// scikit-learn's `test_ridge_sample_weights` / `test_linear_regression_sample_weights` idea:
/// integer weights give the fit on the rows repeated that many times; unit weights give the
/// unweighted fit.
#[test]
fn test_sample_weights_equal_repeated_rows() {
    let x = array![[0.5f64, 1.0], [1.0, -0.3], [2.0, 1.2], [3.0, 0.5], [-1.0, 2.0]];
    let t = array![1.0, 2.0, 5.0, 6.0, -0.5];
    let w = array![1.0, 3.0, 2.0, 1.0, 4.0];
    let rows: Vec<usize> = (0..5).flat_map(|i| std::iter::repeat_n(i, w[i] as usize)).collect();
    assert_eq!(rows.len(), 11);
    let (xr, tr): (Array2<f64>, Array1<f64>) = (x.select(Axis(0), &rows), t.select(Axis(0), &rows));
    let close = |a: &Array1<f64>, b: &Array1<f64>| a.iter().zip(b.iter()).all(|(u, v)| (u - v).abs() < 1e-10);
    for alpha in [0.0, 0.5, 3.0] {
        let wf = Ridge::params().alpha(alpha).fit_weighted(&x, &t, &w).unwrap();
        let rf = Ridge::params().alpha(alpha).fit(&xr, &tr).unwrap();
        assert!(close(wf.coef(), rf.coef()), "alpha {alpha}: {} vs {}", wf.coef(), rf.coef());
        assert!((wf.intercept() - rf.intercept()).abs() < 1e-10);
    }
    let wf = LinearRegression::params().fit_weighted(&x, &t, &w).unwrap();
    let rf = LinearRegression::params().fit(&xr, &tr).unwrap();
    assert!(close(wf.coef(), rf.coef()) && (wf.intercept() - rf.intercept()).abs() < 1e-10);
    let ones = Array1::from_elem(5, 1.0);
    let a = Ridge::params().fit_weighted(&x, &t, &ones).unwrap();
    let b = Ridge::params().fit(&x, &t).unwrap();
    assert!(close(a.coef(), b.coef()));
}

/// Bad weights are typed errors: another length, NaN, negative (scikit-learn's
/// `_check_sample_weight`).
#[test]
fn bad_sample_weights() {
    let x = array![[0.0f64, 1.0], [1.0, 0.0], [2.0, 1.0]];
    let t = array![1.0, 2.0, 5.0];
    let r = Ridge::params();
    assert!(matches!(r.fit_weighted(&x, &t, &array![1.0, 2.0]), Err(EstimatorError::Shape(_))));
    assert!(matches!(r.fit_weighted(&x, &t, &array![1.0, f64::NAN, 1.0]), Err(EstimatorError::NonFinite { .. })));
    let err = LinearRegression::params().fit_weighted(&x, &t, &array![1.0, -1.0, 1.0]).unwrap_err();
    assert!(err.to_string().contains("Negative values in data passed to `sample_weight`"), "{err}");
}

/// Ridge with `alpha = 0` on more features than samples (4 x 5): scikit-learn returns the
/// minimum-norm least-squares solution (its kernel or SVD solver), where kiln used to refuse
/// the singular system. f64 and f32, host and CUDA simulator.
fn wide_case<F: Real>(fx: &str, fit_intercept: bool, device: Option<Device>) {
    let x = input::<F>("reg_x").slice_axis(Axis(0), ndarray::Slice::from(..4)).to_owned();
    let t = load_npy_as::<F, Ix1>(crate::common::fixture("input_reg_y.npy")).unwrap();
    let t = t.slice_axis(Axis(0), ndarray::Slice::from(..4)).to_owned();
    let p = Ridge::params().alpha(0.0).fit_intercept(fit_intercept);
    let (coef, icpt, pred) = match device {
        None => {
            let m = p.fit(&x, &t).unwrap();
            (m.coef().clone(), m.intercept(), m.predict(&x).unwrap())
        }
        Some(dev) => {
            let (xt, tt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&t, dev).unwrap());
            let m = p.fit(&xt, &tt).unwrap();
            (m.coef().to_array::<Ix1>().unwrap(), m.intercept(), m.predict(&xt).unwrap().to_array::<Ix1>().unwrap())
        }
    };
    let tol = rtol::<F>();
    let coef_w = expected::<Ix1>(&format!("{fx}.coef_"));
    let scale = coef_w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&coef, &coef_w, tol, scale * tol, &format!("{fx} coef_"));
    let icpt_w = expected::<Ix0>(&format!("{fx}.intercept_")).into_scalar();
    assert!((icpt.to_f64() - icpt_w).abs() <= tol * (icpt_w.abs() + scale), "{fx} intercept_ {icpt} vs {icpt_w}");
    let pred_w = expected::<Ix1>(&format!("{fx}.predict"));
    let pscale = pred_w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&pred, &pred_w, tol, pscale * tol, &format!("{fx} predict"));
}

#[test]
fn ridge_alpha0_wide_matches_scikit_learn() {
    for dev in [None, Some(Device::CudaSim)] {
        wide_case::<f64>("ridge_alpha0_wide", true, dev);
        wide_case::<f64>("ridge_alpha0_wide_no_intercept", false, dev);
        wide_case::<f32>("ridge_alpha0_wide", true, dev);
        wide_case::<f32>("ridge_alpha0_wide_no_intercept", false, dev);
    }
}
