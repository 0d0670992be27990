//! RidgeClassifier and RidgeClassifierCV: parity with scikit-learn (fixtures from `cargo
//! xtask fixtures`) in f64 and f32, on host arrays and on the CUDA simulator, and scikit-learn's
//! own tests (`linear_model/tests/test_ridge.py`, the classifier cases that apply).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::prelude::*;
use ndarray::{array, Array2, Ix0, Ix1, Ix2};

fn max_abs(a: &Array2<f64>) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// The fitted attributes every case compares, as host arrays.
struct Got<F> {
    classes: ndarray::Array1<i64>,
    coef: Array2<F>,
    intercept: ndarray::Array1<F>,
    decision: Array2<F>,
    predict: ndarray::Array1<i64>,
    score: f64,
}

fn compare<F: Real>(fx: &str, got: Got<F>) {
    let tol = rtol::<F>();
    let coef_w = expected::<Ix2>(&format!("{fx}.coef_"));
    let dec_w = expected::<Ix2>(&format!("{fx}.decision_function"));
    let icpt_w = expected::<Ix1>(&format!("{fx}.intercept_"));
    assert_eq!(got.classes, ints::<Ix1>(&format!("{fx}.classes_")), "{fx} classes_");
    assert_allclose(&got.coef, &coef_w, tol, max_abs(&coef_w) * tol, &format!("{fx} coef_"));
    let icpt_atol = icpt_w.iter().fold(0.0f64, |m, v| m.max(v.abs())) * tol + 1e-14;
    assert_allclose(&got.intercept, &icpt_w, tol, icpt_atol, &format!("{fx} intercept_"));
    assert_allclose(&got.decision, &dec_w, tol, max_abs(&dec_w) * tol, &format!("{fx} decision_function"));
    assert_eq!(got.predict, ints::<Ix1>(&format!("{fx}.predict")), "{fx} predict");
    assert_eq!(got.score, expected::<Ix0>(&format!("{fx}.score")).into_scalar(), "{fx} score");
}

fn clf_case<F: Real>(fx: &str, data: &str, params: RidgeClassifierParams, device: Option<Device>) {
    let x = input::<F>(&format!("{}_x", data.trim_end_matches("_binary")));
    let y = ints::<Ix1>(&format!("input_{data}_y"));
    let got = match device {
        None => {
            let m = params.fit(&x, &y).unwrap();
            Got {
                classes: m.classes().clone(),
                coef: m.coef().clone(),
                intercept: m.intercept().clone(),
                decision: m.decision_function(&x).unwrap(),
                predict: m.predict(&x).unwrap(),
                score: m.score(&x, &y).unwrap(),
            }
        }
        Some(dev) => {
            let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
            let m = params.fit(&xt, &yt).unwrap();
            assert_eq!(m.coef().device(), dev, "the model stays on the data's device");
            let dec = m.decision_function(&xt).unwrap();
            assert_eq!(dec.device(), dev);
            Got {
                classes: m.classes().to_array::<Ix1>().unwrap(),
                coef: m.coef().to_array::<Ix2>().unwrap(),
                intercept: m.intercept().to_array::<Ix1>().unwrap(),
                decision: dec.to_array::<Ix2>().unwrap(),
                predict: m.predict(&xt).unwrap().to_array::<Ix1>().unwrap(),
                score: m.score(&xt, &yt).unwrap(),
            }
        }
    };
    compare(fx, got);
}

fn cv_case<F: Real>(fx: &str, data: &str, params: RidgeClassifierCVParams, device: Option<Device>) {
    let x = input::<F>(&format!("{data}_x"));
    let y = ints::<Ix1>(&format!("input_{data}_y"));
    let alpha = expected::<Ix0>(&format!("{fx}.alpha_")).into_scalar();
    let best = expected::<Ix0>(&format!("{fx}.best_score_")).into_scalar();
    let check_cv = |a: f64, b: f64| {
        assert_eq!(a, alpha, "{fx} alpha_");
        assert!((b - best).abs() <= rtol::<F>() * best.abs(), "{fx} best_score_ {b} vs {best}");
    };
    let got = match device {
        None => {
            let m = params.fit(&x, &y).unwrap();
            check_cv(m.alpha(), m.best_score());
            Got {
                classes: m.classes().clone(),
                coef: m.coef().clone(),
                intercept: m.intercept().clone(),
                decision: m.decision_function(&x).unwrap(),
                predict: m.predict(&x).unwrap(),
                score: m.score(&x, &y).unwrap(),
            }
        }
        Some(dev) => {
            let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
            let m = params.fit(&xt, &yt).unwrap();
            check_cv(m.alpha(), m.best_score());
            assert_eq!(m.coef().device(), dev, "the model stays on the data's device");
            Got {
                classes: m.classes().to_array::<Ix1>().unwrap(),
                coef: m.coef().to_array::<Ix2>().unwrap(),
                intercept: m.intercept().to_array::<Ix1>().unwrap(),
                decision: m.decision_function(&xt).unwrap().to_array::<Ix2>().unwrap(),
                predict: m.predict(&xt).unwrap().to_array::<Ix1>().unwrap(),
                score: m.score(&xt, &yt).unwrap(),
            }
        }
    };
    compare(fx, got);
}

fn all_cases<F: Real>(device: Option<Device>) {
    let p = RidgeClassifier::params;
    clf_case::<F>("ridge_classifier_iris", "iris", p(), device);
    clf_case::<F>("ridge_classifier_blobs_binary", "blobs_binary", p().alpha(0.5), device);
    // clf2's fifth feature is an exact combination of others (X^T X has condition number
    // ~4e16): scikit-learn's own f32 fit differs from its f64 one by 1.6e-4 of the largest
    // coefficient there, more than the f32 tolerance, so that case runs in f64 only.
    if std::mem::size_of::<F>() == 8 {
        clf_case::<F>("ridge_classifier_clf2", "clf2", p().alpha(0.5), device);
    }
    clf_case::<F>("ridge_classifier_blobs_no_intercept", "blobs", p().alpha(3.0).fit_intercept(false), device);
    let cv = RidgeClassifierCV::params;
    cv_case::<F>("ridge_classifier_cv_clf3", "clf3", cv().alphas(vec![0.1, 1.0, 10.0, 100.0]), device);
    cv_case::<F>("ridge_classifier_cv_clf2", "clf2", cv().alphas(vec![0.01, 0.1, 1.0, 10.0]), device);
}

#[test]
fn ridge_classifier_matches_scikit_learn() {
    all_cases::<f64>(None);
    all_cases::<f32>(None);
}

#[test]
fn ridge_classifier_matches_scikit_learn_on_cuda_sim() {
    all_cases::<f64>(Some(Device::CudaSim));
    all_cases::<f32>(Some(Device::CudaSim));
}

/// scikit-learn's `_test_ridge_classifiers` (dense, GCV): on iris both classifiers have one
/// coefficient row per class and predict at least 79% of the training labels.
#[test]
fn test_ridge_classifiers() {
    let x = input::<f64>("iris_x");
    let y = ints::<Ix1>("input_iris_y");
    let m = RidgeClassifier::params().fit(&x, &y).unwrap();
    assert_eq!(m.coef().dim(), (3, 4));
    assert!(m.score(&x, &y).unwrap() > 0.79);
    let m = RidgeClassifierCV::params().fit(&x, &y).unwrap();
    assert_eq!(m.coef().dim(), (3, 4));
    assert!(m.score(&x, &y).unwrap() > 0.79);
}

/// scikit-learn's `test_class_weights` (its `class_weight=None` part): the point (0.2, -1) is
/// of class 1. RidgeClassifierCV picks alpha 0.1 there and (as scikit-learn 1.9 does, decision
/// value -0.0579) puts the point in class -1.
#[test]
fn test_class_weights_none() {
    let x = array![[-1.0f64, -1.0], [-1.0, 0.0], [-0.8, -1.0], [1.0, 1.0], [1.0, 0.0]];
    let y = array![1i64, 1, 1, -1, -1];
    let m = RidgeClassifier::params().fit(&x, &y).unwrap();
    assert_eq!(m.predict(&array![[0.2, -1.0]]).unwrap(), array![1]);
    let m = RidgeClassifierCV::params().fit(&x, &y).unwrap();
    assert_eq!(m.alpha(), 0.1);
    let dec = m.decision_function(&array![[0.2, -1.0]]).unwrap();
    assert!((dec[[0, 0]] - -0.05789046).abs() < 1e-7, "{dec}");
    assert_eq!(m.predict(&array![[0.2, -1.0]]).unwrap(), array![-1]);
}

/// A single class is coded as a column of -1 (scikit-learn's `LabelBinarizer`): every row is
/// predicted as that class. Bad input is a typed error.
#[test]
fn ridge_classifier_single_class_and_bad_input() {
    let x = array![[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]];
    let m = RidgeClassifier::params().fit(&x, &array![7i64, 7, 7]).unwrap();
    assert_eq!(m.predict(&x).unwrap(), array![7, 7, 7]);
    assert!(matches!(
        RidgeClassifier::params().alpha(-1.0).fit(&x, &array![0i64, 1, 1]),
        Err(EstimatorError::InvalidParameter { .. })
    ));
    assert!(matches!(RidgeClassifier::params().fit(&x, &array![0i64, 1]), Err(EstimatorError::Shape(_))));
    assert!(matches!(
        RidgeClassifierCV::params().alphas(vec![0.0]).fit(&x, &array![0i64, 1, 1]),
        Err(EstimatorError::InvalidParameter { .. })
    ));
    let mut xn = x.clone();
    xn[[1, 1]] = f64::INFINITY;
    assert!(matches!(RidgeClassifier::params().fit(&xn, &array![0i64, 1, 1]), Err(EstimatorError::NonFinite { .. })));
}
