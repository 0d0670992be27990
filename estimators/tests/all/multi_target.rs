//! Ridge and LinearRegression with several targets (`fit_multi`, an n x n_targets y): parity
//! with scikit-learn's 2-D-y fits (fixtures), in f64 and f32, on the default device and the
//! CUDA simulator; each column equals the single-target fit; bad input is a typed error.

use crate::common::{assert_allclose, expected, fixture, input, rtol};
use kiln_estimators::datasets::load_npy_as;
use kiln_estimators::linear_model::MultiTargetLinearModel;
use kiln_estimators::prelude::*;
use ndarray::{s, Array1, Array2, Axis, Ix1, Ix2};

/// reg_y and `0.5 * reg_y + reg_x[:, 0]` side by side (as make_fixtures.py builds them).
fn targets<F: Real>(x: &Array2<F>) -> Array2<F> {
    let y = load_npy_as::<F, Ix1>(fixture("input_reg_y.npy")).unwrap();
    let second = Array1::from_shape_fn(y.len(), |i| F::from_f64(0.5 * y[i].to_f64() + x[[i, 0]].to_f64()));
    ndarray::stack(Axis(1), &[y.view(), second.view()]).unwrap()
}

/// The fitted attributes and the prediction on `x`, on the host.
fn parts<F: Real, S: Storage, P: kiln_estimators::linear_model::EstimatorName>(
    m: &MultiTargetLinearModel<F, S, P>,
    pred: Array2<F>,
    to_host: impl Fn(&S::Mat<F>) -> Array2<F>,
    vec_host: impl Fn(&S::Vec<F>) -> Array1<F>,
) -> (Array2<F>, Array1<F>, Array2<F>) {
    (to_host(m.coef()), vec_host(m.intercept()), pred)
}

fn case<F: Real>(device: Option<Device>) {
    let x = input::<F>("reg_x");
    let y = targets(&x);
    let tol = rtol::<F>();
    let cases = [
        ("ridge_multi_reg", Some(1.0), true),
        ("ridge_multi_nointercept_reg", Some(10.0), false),
        ("linear_regression_multi_reg", None, true),
        ("linear_regression_multi_nointercept_reg", None, false),
    ];
    for (fx, alpha, intercept) in cases {
        let (coef, b, pred) = match (alpha, device) {
            (Some(a), None) => {
                let m = Ridge::params().alpha(a).fit_intercept(intercept).fit_multi(&x, &y).unwrap();
                parts(&m, m.predict(&x).unwrap(), |c| c.clone(), |v| v.clone())
            }
            (None, None) => {
                let m = LinearRegression::params().fit_intercept(intercept).fit_multi(&x, &y).unwrap();
                parts(&m, m.predict(&x).unwrap(), |c| c.clone(), |v| v.clone())
            }
            (a, Some(dev)) => {
                let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
                let back = |t: &Tensor<F>| t.to_array::<Ix2>().unwrap();
                let back1 = |t: &Tensor<F>| t.to_array::<Ix1>().unwrap();
                if let Some(a) = a {
                    let m = Ridge::params().alpha(a).fit_intercept(intercept).fit_multi(&xt, &yt).unwrap();
                    assert_eq!(m.coef().device(), dev);
                    parts(&m, back(&m.predict(&xt).unwrap()), back, back1)
                } else {
                    let m = LinearRegression::params().fit_intercept(intercept).fit_multi(&xt, &yt).unwrap();
                    parts(&m, back(&m.predict(&xt).unwrap()), back, back1)
                }
            }
        };
        let cw = expected::<Ix2>(&format!("{fx}.coef_"));
        assert_allclose(&coef, &cw, tol, 0.0, &format!("{fx} coef_"));
        // scikit-learn's intercept_ is the scalar 0.0 without an intercept; kiln keeps one 0
        // per target.
        let bw = if intercept { expected::<Ix1>(&format!("{fx}.intercept_")) } else { Array1::zeros(2) };
        let scale = cw.iter().chain(bw.iter()).fold(1.0f64, |m, v| m.max(v.abs()));
        assert_allclose(&b, &bw, tol, tol * scale, &format!("{fx} intercept_"));
        // As in the single-target tests: f32 predictions cancel near 0 on some rows.
        let pw = expected::<Ix2>(&format!("{fx}.predict"));
        let big = pw.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let atol = if tol > 1e-6 { tol * big } else { 0.0 };
        assert_allclose(&pred, &pw, tol, atol, &format!("{fx} predict"));
    }
}

#[test]
fn multi_target_matches_scikit_learn() {
    case::<f64>(None);
    case::<f32>(None);
}

#[test]
fn multi_target_matches_scikit_learn_on_cuda_sim() {
    case::<f64>(Some(Device::CudaSim));
    case::<f32>(Some(Device::CudaSim));
}

#[test]
fn multi_target_columns_equal_single_target_fits() {
    let x = input::<f64>("reg_x");
    let y = targets(&x);
    let multi = Ridge::params().alpha(3.0).fit_multi(&x, &y).unwrap();
    let ols = LinearRegression::params().fit_multi(&x, &y).unwrap();
    for k in 0..2 {
        let t = y.column(k).to_owned();
        let one = Ridge::params().alpha(3.0).fit(&x, &t).unwrap();
        assert_allclose(&multi.coef().row(k).to_owned(), one.coef(), 1e-12, 0.0, "ridge column");
        assert!((multi.intercept()[k] - one.intercept()).abs() <= 1e-12 * one.intercept().abs().max(1.0));
        let one = LinearRegression::params().fit(&x, &t).unwrap();
        assert_allclose(&ols.coef().row(k).to_owned(), one.coef(), 1e-12, 0.0, "ols column");
    }
}

#[test]
fn multi_target_bad_input() {
    let x = input::<f64>("reg_x");
    let y = targets(&x);
    let short = y.slice(s![..10, ..]).to_owned();
    assert!(matches!(Ridge::params().fit_multi(&x, &short), Err(EstimatorError::Shape(_))));
    let mut bad = y.clone();
    bad[[4, 1]] = f64::NAN;
    assert!(matches!(LinearRegression::params().fit_multi(&x, &bad), Err(EstimatorError::NonFinite { what: "y" })));
    assert!(matches!(
        Ridge::params().alpha(-1.0).fit_multi(&x, &y),
        Err(EstimatorError::InvalidParameter { name: "alpha", .. })
    ));
    let none = Array2::<f64>::zeros((x.nrows(), 0));
    assert!(matches!(Ridge::params().fit_multi(&x, &none), Err(EstimatorError::Shape(_))));
    let m = Ridge::params().fit_multi(&x, &y).unwrap();
    assert!(matches!(m.predict(&ndarray::array![[1.0f64]]), Err(EstimatorError::FeatureCountMismatch { .. })));
}
