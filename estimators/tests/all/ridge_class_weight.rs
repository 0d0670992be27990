//! RidgeClassifier / RidgeClassifierCV with `class_weight`, sample weights and `cv` folds, and
//! RidgeCV with sample weights: parity with scikit-learn (fixtures from `cargo xtask
//! fixtures`, `ridge_class_weight_fixtures` and `ridge_cv_weighted_fixtures`) in f64 and f32, on
//! host arrays and on the CUDA simulator, and scikit-learn's own tests
//! (`linear_model/tests/test_ridge.py`: test_class_weights, test_class_weight_vs_sample_weight,
//! test_class_weights_cv, the classifier-with-cv cases).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::metrics::Average;
use kiln_estimators::model_selection::{KFold, Scorer};
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Ix0, Ix1, Ix2};

fn max_abs<D: ndarray::Dimension>(a: &ndarray::Array<f64, D>) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// A 1-D float input fixture (`input_<name>.npy`) as `F`.
fn vector<F: Real>(name: &str) -> Array1<F> {
    kiln_estimators::datasets::load_npy_as::<f64, Ix1>(crate::common::fixture(&format!("input_{name}.npy")))
        .unwrap_or_else(|e| panic!("input {name}: {e}"))
        .mapv(F::from_f64)
}

/// What a fitted classifier shows, as host arrays.
struct Got<F> {
    classes: Array1<i64>,
    coef: Array2<F>,
    intercept: Array1<F>,
    decision: Array2<F>,
    predict: Array1<i64>,
    score: f64,
    cv: Option<(f64, f64)>,
}

fn compare<F: Real>(fx: &str, got: Got<F>, device: Option<Device>) {
    let tol = rtol::<F>();
    let what = |a: &str| format!("{fx} {a} ({device:?})");
    let coef_w = expected::<Ix2>(&format!("{fx}.coef_"));
    let dec_w = expected::<Ix2>(&format!("{fx}.decision_function"));
    let icpt_w = expected::<Ix1>(&format!("{fx}.intercept_"));
    assert_eq!(got.classes, ints::<Ix1>(&format!("{fx}.classes_")), "{}", what("classes_"));
    assert_allclose(&got.coef, &coef_w, tol, max_abs(&coef_w) * tol, &what("coef_"));
    assert_allclose(&got.intercept, &icpt_w, tol, max_abs(&icpt_w) * tol + 1e-14, &what("intercept_"));
    assert_allclose(&got.decision, &dec_w, tol, max_abs(&dec_w) * tol, &what("decision_function"));
    assert_eq!(got.predict, ints::<Ix1>(&format!("{fx}.predict")), "{}", what("predict"));
    assert_eq!(got.score, expected::<Ix0>(&format!("{fx}.score")).into_scalar(), "{}", what("score"));
    if let Some((alpha, best)) = got.cv {
        assert_eq!(alpha, expected::<Ix0>(&format!("{fx}.alpha_")).into_scalar(), "{}", what("alpha_"));
        let want = expected::<Ix0>(&format!("{fx}.best_score_")).into_scalar();
        assert!((best - want).abs() <= tol * want.abs(), "{}: {best} vs {want}", what("best_score_"));
    }
}

/// How a case is fitted: the classifier or the CV variant, with or without `sample_weight`.
enum Fit {
    Clf(RidgeClassifierParams),
    Cv(RidgeClassifierCVParams),
}

fn case<F: Real>(fx: &str, data: &str, fit: &Fit, weighted: bool, device: Option<Device>) {
    let x = input::<F>(&format!("{data}_x"));
    let y = ints::<Ix1>(&format!("input_{data}_y"));
    let w: Array1<F> =
        if weighted { vector(&format!("{data}_w")) } else { Array1::from_elem(y.len(), F::from_f64(1.0)) };
    let got = match device {
        None => {
            let (m, cv) = match fit {
                Fit::Clf(p) if weighted => (p.fit_weighted(&x, &y, &w).unwrap(), None),
                Fit::Clf(p) => (p.fit(&x, &y).unwrap(), None),
                Fit::Cv(p) => {
                    let m = if weighted { p.fit_weighted(&x, &y, &w).unwrap() } else { p.fit(&x, &y).unwrap() };
                    let cv = Some((m.alpha(), m.best_score()));
                    (m.classifier().clone(), cv)
                }
            };
            Got {
                classes: m.classes().clone(),
                coef: m.coef().clone(),
                intercept: m.intercept().clone(),
                decision: m.decision_function(&x).unwrap(),
                predict: m.predict(&x).unwrap(),
                score: m.score(&x, &y).unwrap(),
                cv,
            }
        }
        Some(dev) => {
            let (xt, yt, wt) = (
                Tensor::from_array(&x, dev).unwrap(),
                Tensor::from_array(&y, dev).unwrap(),
                Tensor::from_array(&w, dev).unwrap(),
            );
            let (m, cv) = match fit {
                Fit::Clf(p) if weighted => (p.fit_weighted(&xt, &yt, &wt).unwrap(), None),
                Fit::Clf(p) => (p.fit(&xt, &yt).unwrap(), None),
                Fit::Cv(p) => {
                    let m = if weighted { p.fit_weighted(&xt, &yt, &wt).unwrap() } else { p.fit(&xt, &yt).unwrap() };
                    let cv = Some((m.alpha(), m.best_score()));
                    (m.classifier().clone(), cv)
                }
            };
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
                cv,
            }
        }
    };
    compare(fx, got, device);
}

fn cases() -> Vec<(&'static str, &'static str, Fit, bool)> {
    let alphas = vec![0.01, 0.1, 1.0, 10.0, 100.0];
    let map = || Some(ClassWeight::Map(vec![(0, 1.0), (1, 3.0)]));
    let bal = || Some(ClassWeight::Balanced);
    let clf = RidgeClassifier::params;
    let cv = || RidgeClassifierCV::params().alphas(alphas.clone());
    vec![
        ("rc_balanced_clf3_imb", "clf3_imb", Fit::Clf(clf().class_weight(bal())), false),
        ("rc_map_clf2", "clf2", Fit::Clf(clf().alpha(0.5).class_weight(map())), false),
        ("rc_balanced_sw_clf3_imb", "clf3_imb", Fit::Clf(clf().class_weight(bal())), true),
        ("rc_sw_no_intercept_clf2", "clf2", Fit::Clf(clf().alpha(2.0).fit_intercept(false)), true),
        ("rccv_cv5_clf3", "clf3", Fit::Cv(cv().cv(5)), false),
        ("rccv_cv3_balanced_clf3_imb", "clf3_imb", Fit::Cv(cv().cv(3).class_weight(bal())), false),
        ("rccv_cv4_sw_clf2", "clf2", Fit::Cv(cv().cv(4)), true),
        ("rccv_gcv_balanced_clf3_imb", "clf3_imb", Fit::Cv(cv().class_weight(bal())), false),
        ("rccv_gcv_map_clf2", "clf2", Fit::Cv(cv().class_weight(map())), false),
        ("rccv_gcv_sw_clf2", "clf2", Fit::Cv(cv()), true),
        ("rccv_gcv_balanced_sw_clf3_imb", "clf3_imb", Fit::Cv(cv().class_weight(bal())), true),
    ]
}

fn all_cases<F: Real>(device: Option<Device>) {
    for (fx, data, fit, weighted) in cases() {
        case::<F>(fx, data, &fit, weighted, device);
    }
}

#[test]
fn ridge_classifier_weights_match_scikit_learn() {
    all_cases::<f64>(None);
    all_cases::<f32>(None);
}

#[test]
fn ridge_classifier_weights_match_scikit_learn_on_cuda_sim() {
    all_cases::<f64>(Some(Device::CudaSim));
    all_cases::<f32>(Some(Device::CudaSim));
}

/// RidgeCV with sample weights: leave-one-out in the cov and gram modes, scored by the squared
/// error and by R², without an intercept, and with 5 folds.
fn ridge_cv_case<F: Real>(fx: &str, params: RidgeCVParams, rows: Option<usize>, device: Option<Device>) {
    let tol = rtol::<F>();
    let mut x = input::<F>("reg_x");
    let (mut t, mut w) = (vector::<F>("reg_y"), vector::<F>("reg_w"));
    if let Some(r) = rows {
        x = x.slice(ndarray::s![..r, ..]).to_owned();
        t = t.slice(ndarray::s![..r]).to_owned();
        w = w.slice(ndarray::s![..r]).to_owned();
    }
    let (coef, intercept, alpha, best, pred) = match device {
        None => {
            let m = params.fit_weighted(&x, &t, &w).unwrap();
            (m.coef().clone(), m.intercept(), m.alpha(), m.best_score(), m.predict(&x).unwrap())
        }
        Some(dev) => {
            let (xt, tt, wt) = (
                Tensor::from_array(&x, dev).unwrap(),
                Tensor::from_array(&t, dev).unwrap(),
                Tensor::from_array(&w, dev).unwrap(),
            );
            let m = params.fit_weighted(&xt, &tt, &wt).unwrap();
            let p = m.predict(&xt).unwrap();
            assert_eq!(p.device(), dev);
            (
                m.coef().to_array::<Ix1>().unwrap(),
                m.intercept(),
                m.alpha(),
                m.best_score(),
                p.to_array::<Ix1>().unwrap(),
            )
        }
    };
    let what = |a: &str| format!("{fx} {a} ({device:?})");
    let coef_w = expected::<Ix1>(&format!("{fx}.coef_"));
    assert_allclose(&coef, &coef_w, tol, max_abs(&coef_w) * tol, &what("coef_"));
    let icpt = expected::<Ix0>(&format!("{fx}.intercept_")).into_scalar();
    assert!((intercept.to_f64() - icpt).abs() <= tol * (icpt.abs() + max_abs(&coef_w)), "{}", what("intercept_"));
    assert_eq!(alpha, expected::<Ix0>(&format!("{fx}.alpha_")).into_scalar(), "{}", what("alpha_"));
    let b = expected::<Ix0>(&format!("{fx}.best_score_")).into_scalar();
    assert!((best - b).abs() <= tol * b.abs(), "{}: {best} vs {b}", what("best_score_"));
    let pw = expected::<Ix1>(&format!("{fx}.predict"));
    assert_allclose(&pred, &pw, tol, max_abs(&pw) * tol, &what("predict"));
}

fn ridge_cv_cases<F: Real>(device: Option<Device>) {
    let p = || RidgeCV::params().alphas(vec![0.01, 0.1, 1.0, 10.0, 100.0]);
    ridge_cv_case::<F>("ridge_cv_weighted_reg", p(), None, device);
    ridge_cv_case::<F>("ridge_cv_weighted_r2_reg", p().scoring(RidgeScoring::R2), None, device);
    ridge_cv_case::<F>("ridge_cv_weighted_no_intercept_reg", p().fit_intercept(false), None, device);
    ridge_cv_case::<F>("ridge_cv_weighted_gram_reg", p(), Some(4), device);
    ridge_cv_case::<F>("ridge_cv_weighted_cv5_reg", p().cv(5), None, device);
}

#[test]
fn ridge_cv_weighted_matches_scikit_learn() {
    ridge_cv_cases::<f64>(None);
    ridge_cv_cases::<f32>(None);
}

#[test]
fn ridge_cv_weighted_matches_scikit_learn_on_cuda_sim() {
    ridge_cv_cases::<f64>(Some(Device::CudaSim));
    ridge_cv_cases::<f32>(Some(Device::CudaSim));
}

fn toy() -> (Array2<f64>, Array1<i64>) {
    (array![[-1.0, -1.0], [-1.0, 0.0], [-0.8, -1.0], [1.0, 1.0], [1.0, 0.0]], array![1, 1, 1, -1, -1])
}

/// scikit-learn's `test_class_weights`: a small weight on class 1 rotates the hyperplane;
/// "balanced" handles negative labels; "balanced" equals no weights on balanced labels.
#[test]
fn test_class_weights() {
    let (x, y) = toy();
    let q = array![[0.2, -1.0]];
    let fit = |cw: Option<ClassWeight>| RidgeClassifier::params().class_weight(cw).fit(&x, &y).unwrap();
    assert_eq!(fit(None).predict(&q).unwrap(), array![1]);
    assert_eq!(fit(Some(ClassWeight::Map(vec![(1, 0.001)]))).predict(&q).unwrap(), array![-1]);
    assert_eq!(fit(Some(ClassWeight::Balanced)).predict(&q).unwrap(), array![1]);
    let x = array![[-1.0, -1.0], [-1.0, 0.0], [-0.8, -1.0], [1.0, 1.0]];
    let y = array![1i64, 1, -1, -1];
    let reg = RidgeClassifier::params().fit(&x, &y).unwrap();
    let rega = RidgeClassifier::params().class_weight(Some(ClassWeight::Balanced)).fit(&x, &y).unwrap();
    assert_eq!(rega.n_classes(), 2);
    assert_allclose(rega.coef(), reg.coef(), 0.0, 1e-6, "balanced coef_");
    assert_allclose(rega.intercept(), reg.intercept(), 0.0, 1e-6, "balanced intercept_");
}

/// scikit-learn's `test_class_weight_vs_sample_weight`, for RidgeClassifier and
/// RidgeClassifierCV: "balanced" has no effect on balanced iris; a class weight of 100 equals
/// sample weights of 100 on that class; class and sample weights multiply.
#[test]
fn test_class_weight_vs_sample_weight() {
    let iris = kiln_estimators::datasets::load_iris();
    let (x, y) = (iris.data, iris.target);
    let sw: Array1<f64> = y.mapv(|c| if c == 1 { 100.0 } else { 1.0 });
    let cw = || Some(ClassWeight::Map(vec![(0, 1.0), (1, 100.0), (2, 1.0)]));
    let close = |a: &Array2<f64>, b: &Array2<f64>, what: &str| assert_allclose(a, b, 0.0, 1.5e-7, what);
    // RidgeClassifier.
    let p = RidgeClassifier::params;
    let plain = p().fit(&x, &y).unwrap();
    close(p().class_weight(Some(ClassWeight::Balanced)).fit(&x, &y).unwrap().coef(), plain.coef(), "balanced");
    let by_sw = p().fit_weighted(&x, &y, &sw).unwrap();
    close(p().class_weight(cw()).fit(&x, &y).unwrap().coef(), by_sw.coef(), "class vs sample weight");
    let sq = p().fit_weighted(&x, &y, &sw.mapv(|v| v * v)).unwrap();
    close(p().class_weight(cw()).fit_weighted(&x, &y, &sw).unwrap().coef(), sq.coef(), "multiplicative");
    // RidgeClassifierCV.
    let q = RidgeClassifierCV::params;
    let plain = q().fit(&x, &y).unwrap();
    close(q().class_weight(Some(ClassWeight::Balanced)).fit(&x, &y).unwrap().coef(), plain.coef(), "CV balanced");
    let by_sw = q().fit_weighted(&x, &y, &sw).unwrap();
    close(q().class_weight(cw()).fit(&x, &y).unwrap().coef(), by_sw.coef(), "CV class vs sample weight");
    let sq = q().fit_weighted(&x, &y, &sw.mapv(|v| v * v)).unwrap();
    close(q().class_weight(cw()).fit_weighted(&x, &y, &sw).unwrap().coef(), sq.coef(), "CV multiplicative");
}

/// scikit-learn's `test_class_weights_cv`: with a small weight on class 1 the CV classifier's
/// prediction at (-0.2, 2) turns to -1.
#[test]
fn test_class_weights_cv() {
    let (x, y) = toy();
    RidgeClassifierCV::params().alphas(vec![0.01, 0.1, 1.0]).fit(&x, &y).unwrap();
    let m = RidgeClassifierCV::params()
        .class_weight(Some(ClassWeight::Map(vec![(1, 0.001)])))
        .alphas(vec![0.01, 0.1, 1.0, 10.0])
        .fit(&x, &y)
        .unwrap();
    assert_eq!(m.predict(&array![[-0.2, 2.0]]).unwrap(), array![-1]);
}

/// scikit-learn's `test_ridge_classifier_with_scoring` / the `cv=KFold(5)` part of
/// `test_ridge_classifier_cv` on iris: fits and predicts with 5 plain folds (iris is sorted by
/// class, so each fold misses part of a class) and with stratified folds, at least 80% right.
#[test]
fn test_ridge_classifier_cv_with_folds() {
    let iris = kiln_estimators::datasets::load_iris();
    let (x, y) = (iris.data, iris.target);
    let m = RidgeClassifierCV::params().fit_with_splitter(&x, &y, KFold::new(5)).unwrap();
    let acc = m.score(&x, &y).unwrap();
    assert!(acc >= 0.8, "{acc}");
    let m = RidgeClassifierCV::params().cv(5).fit(&x, &y).unwrap();
    assert!(m.score(&x, &y).unwrap() > 0.79);
    assert!((0.0..=1.0).contains(&m.best_score()), "best_score_ is a mean accuracy: {}", m.best_score());
}

/// Bad class weights and weights: a map naming a label that is not a class while leaving a
/// class out (scikit-learn's message), a negative class weight, negative sample weights,
/// weights of another length, `class_weight` set by scikit-learn's name.
#[test]
fn ridge_class_weight_bad_input() {
    let (x, y) = toy();
    let p = RidgeClassifier::params;
    let err = p().class_weight(Some(ClassWeight::Map(vec![(7, 2.0)]))).fit(&x, &y).unwrap_err();
    assert!(err.to_string().contains("are not in class_weight"), "{err}");
    // Every class named: extra labels are ignored, as scikit-learn does.
    p().class_weight(Some(ClassWeight::Map(vec![(1, 2.0), (-1, 1.0), (7, 2.0)]))).fit(&x, &y).unwrap();
    let err = p().class_weight(Some(ClassWeight::Map(vec![(1, -2.0)]))).fit(&x, &y).unwrap_err();
    assert!(matches!(err, EstimatorError::InvalidParameter { name: "class_weight", .. }), "{err}");
    let neg = array![1.0, -1.0, 1.0, 1.0, 1.0];
    assert!(p().fit_weighted(&x, &y, &neg).is_err());
    assert!(RidgeClassifierCV::params().fit_weighted(&x, &y, &neg).is_err());
    assert!(p().fit_weighted(&x, &y, &array![1.0, 1.0]).is_err());
    let mut q = RidgeClassifierCV::params();
    q.set_param("class_weight", "balanced".into()).unwrap();
    assert_eq!(q, RidgeClassifierCV::params().class_weight(Some(ClassWeight::Balanced)));
    q.set_param("cv", 3usize.into()).unwrap();
    assert_eq!(q, RidgeClassifierCV::params().class_weight(Some(ClassWeight::Balanced)).cv(3));
    assert!(RidgeCV::params().fit_weighted(&x, &array![1.0, 2.0, 3.0, 4.0, 5.0], &Array1::<f64>::zeros(5)).is_err());
}

/// Brute-force leave-one-out squared errors of the {-1, 1} column `t`: each sample left out of
/// a kiln Ridge fit, then predicted.
fn brute_loo(x: &Array2<f64>, t: &Array1<f64>, alpha: f64) -> Array1<f64> {
    let n = x.nrows();
    (0..n)
        .map(|i| {
            let keep: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            let m = Ridge::params()
                .alpha(alpha)
                .fit(&x.select(ndarray::Axis(0), &keep), &t.select(ndarray::Axis(0), &keep))
                .unwrap();
            let p = m.predict(&x.select(ndarray::Axis(0), &[i])).unwrap()[0];
            (t[i] - p).powi(2)
        })
        .collect()
}

/// scikit-learn's `test_ridge_classifier_cv_store_cv_results` (scoring None, 1-D y): the shape
/// is n_samples x n_targets x n_alphas (one target for two classes, one per class for three),
/// and each value is the column's leave-one-out squared error (against brute force); `cv` with
/// `store_cv_results` is refused.
#[test]
fn test_ridge_classifier_cv_store_cv_results() {
    let (x, y) = toy();
    let alphas = vec![1e-1, 1e0, 1e1];
    let r = RidgeClassifierCV::params().alphas(alphas.clone()).store_cv_results(true);
    let m = r.fit(&x, &y).unwrap();
    let res = m.cv_results().unwrap();
    assert_eq!(res.dim(), (5, 1, 3));
    let t: Array1<f64> = y.mapv(|c| if c == 1 { 1.0 } else { -1.0 });
    for (a, &alpha) in alphas.iter().enumerate() {
        let want = brute_loo(&x, &t, alpha);
        for i in 0..5 {
            assert!(
                (res[[i, 0, a]] - want[i]).abs() <= 1e-9 * want[i].max(1.0),
                "{i} {a}: {} vs {}",
                res[[i, 0, a]],
                want[i]
            );
        }
    }
    let y3 = ndarray::array![0i64, 1, 2, 1, 0];
    assert_eq!(r.fit(&x, &y3).unwrap().cv_results().unwrap().dim(), (5, 3, 3));
    assert!(RidgeClassifierCV::params().fit(&x, &y).unwrap().cv_results().is_none());
    let err = r.cv(2).fit(&x, &y).unwrap_err();
    assert!(err.to_string().contains("cv!=None and store_cv_results=True are incompatible"), "{err}");
}

/// RidgeClassifierCV with a `scoring` scorer against scikit-learn: leave-one-out (GCV) scored
/// by accuracy (with the leave-one-out decision values as `cv_results_`), macro F1 and, without
/// an intercept, the Matthews coefficient; 5 stratified folds scored by balanced accuracy, and
/// 4 folds of two classes by ROC AUC of the decision values.
fn scoring_case<F: Real>(fx: &str, data: &str, params: RidgeClassifierCVParams, device: Option<Device>) {
    let tol = rtol::<F>();
    let x = input::<F>(&format!("{data}_x"));
    let y = ints::<Ix1>(&format!("input_{data}_y"));
    let (coef, intercept, predict, alpha, best, cv_results) = match device {
        None => {
            let m = params.fit(&x, &y).unwrap();
            let c = m.classifier();
            (
                c.coef().clone(),
                c.intercept().clone(),
                c.predict(&x).unwrap(),
                m.alpha(),
                m.best_score(),
                m.cv_results().cloned(),
            )
        }
        Some(dev) => {
            let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
            let m = params.fit(&xt, &yt).unwrap();
            let c = m.classifier();
            assert_eq!(c.coef().device(), dev, "the model stays on the data's device");
            (
                c.coef().to_array::<Ix2>().unwrap(),
                c.intercept().to_array::<Ix1>().unwrap(),
                c.predict(&xt).unwrap().to_array::<Ix1>().unwrap(),
                m.alpha(),
                m.best_score(),
                m.cv_results().cloned(),
            )
        }
    };
    let what = |a: &str| format!("{fx} {a} ({device:?})");
    let coef_w = expected::<Ix2>(&format!("{fx}.coef_"));
    let icpt_w = expected::<Ix1>(&format!("{fx}.intercept_"));
    assert_allclose(&coef, &coef_w, tol, max_abs(&coef_w) * tol, &what("coef_"));
    assert_allclose(&intercept, &icpt_w, tol, max_abs(&icpt_w) * tol + 1e-14, &what("intercept_"));
    assert_eq!(predict, ints::<Ix1>(&format!("{fx}.predict")), "{}", what("predict"));
    assert_eq!(alpha, expected::<Ix0>(&format!("{fx}.alpha_")).into_scalar(), "{}", what("alpha_"));
    let want = expected::<Ix0>(&format!("{fx}.best_score_")).into_scalar();
    assert!((best - want).abs() <= tol * want.abs(), "{}: {best} vs {want}", what("best_score_"));
    if crate::common::fixture(&format!("{fx}.cv_results_.npy")).exists() {
        let want = expected::<ndarray::Ix3>(&format!("{fx}.cv_results_"));
        let got = cv_results.expect("store_cv_results");
        assert_allclose(&got, &want, tol, max_abs(&want) * tol, &what("cv_results_"));
    } else {
        assert!(cv_results.is_none(), "{}", what("no cv_results_ unless asked"));
    }
}

fn scoring_cases<F: Real>(device: Option<Device>) {
    let s = |name: &str| Some(Scorer::from_name(name).unwrap());
    let cv = || RidgeClassifierCV::params().alphas(vec![0.01, 0.1, 1.0, 10.0, 100.0]);
    scoring_case::<F>("rccv_gcv_accuracy_clf3", "clf3", cv().scoring(s("accuracy")).store_cv_results(true), device);
    scoring_case::<F>("rccv_gcv_f1_macro_clf3", "clf3", cv().scoring(s("f1_macro")), device);
    let mcc = cv().scoring(s("matthews_corrcoef")).fit_intercept(false);
    scoring_case::<F>("rccv_gcv_mcc_no_intercept_clf3", "clf3", mcc, device);
    let bacc = cv().scoring(s("balanced_accuracy")).cv(5);
    scoring_case::<F>("rccv_cv5_balanced_accuracy_clf3", "clf3", bacc, device);
    scoring_case::<F>("rccv_cv4_roc_auc_clf2", "clf2", cv().scoring(s("roc_auc")).cv(4), device);
}

#[test]
fn ridge_classifier_cv_scoring_matches_scikit_learn() {
    scoring_cases::<f64>(None);
    scoring_cases::<f32>(None);
}

#[test]
fn ridge_classifier_cv_scoring_matches_scikit_learn_on_cuda_sim() {
    scoring_cases::<f64>(Some(Device::CudaSim));
    scoring_cases::<f32>(Some(Device::CudaSim));
}

/// The leave-one-out decision values of sample `i` for every alpha, by refitting
/// RidgeClassifier without it (brute force, independent of the GCV shortcut): n x cols x alphas.
fn brute_force_loo(x: &Array2<f64>, y: &Array1<i64>, alphas: &[f64]) -> ndarray::Array3<f64> {
    let n = x.nrows();
    let mut out: Option<ndarray::Array3<f64>> = None;
    for i in 0..n {
        let keep: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        let (xr, yr) = (x.select(ndarray::Axis(0), &keep), y.select(ndarray::Axis(0), &keep));
        for (a, &alpha) in alphas.iter().enumerate() {
            let m = RidgeClassifier::params().alpha(alpha).fit(&xr, &yr).unwrap();
            let d = m.decision_function(&x.slice(ndarray::s![i..i + 1, ..]).to_owned()).unwrap();
            let o = out.get_or_insert_with(|| ndarray::Array3::zeros((n, d.ncols(), alphas.len())));
            for c in 0..d.ncols() {
                o[[i, c, a]] = d[[0, c]];
            }
        }
    }
    out.unwrap()
}

/// scikit-learn's `test_ridge_classifier_cv_store_cv_results` and `test_ridgecv_store_cv_results`
/// with a scorer (its `scoring` parametrisation): `cv_results_` holds each sample's
/// leave-one-out decision values, checked against refitting without the sample; `best_score_`
/// is the scorer's score of the classes they predict (the sign for two classes, the largest
/// column for three) and `alpha_` the first best. (For two classes scikit-learn 1.9 scores the
/// argmax of its single column, the same class for every sample, so every alpha scores 1.0
/// there: kiln scores the sign, see the README.)
#[test]
fn test_ridge_classifier_cv_store_cv_results_scoring() {
    let alphas = [0.01, 0.5, 5.0, 50.0];
    for data in ["clf2", "clf3"] {
        let x = input::<f64>(&format!("{data}_x")).slice(ndarray::s![..60, ..]).to_owned();
        let y = ints::<Ix1>(&format!("input_{data}_y")).slice(ndarray::s![..60]).to_owned();
        let loo = brute_force_loo(&x, &y, &alphas);
        let classes: Vec<i64> = y.iter().copied().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        for name in ["accuracy", "f1_macro", "balanced_accuracy"] {
            let scorer = Scorer::from_name(name).unwrap();
            let m = RidgeClassifierCV::params()
                .alphas(alphas.to_vec())
                .scoring(Some(scorer))
                .store_cv_results(true)
                .fit(&x, &y)
                .unwrap();
            let got = m.cv_results().unwrap();
            assert_allclose(got, &loo, 1e-7, 1e-10, &format!("{data} {name} cv_results_"));
            let mut best = (0, f64::NEG_INFINITY);
            for a in 0..alphas.len() {
                let pred: Array1<i64> = (0..x.nrows())
                    .map(|i| {
                        if loo.shape()[1] == 1 {
                            classes[usize::from(loo[[i, 0, a]] > 0.0)]
                        } else {
                            let row = loo.slice(ndarray::s![i, .., a]);
                            let top = (0..row.len()).fold(0, |b, c| if row[c] > row[b] { c } else { b });
                            classes[top]
                        }
                    })
                    .collect();
                let score = match name {
                    "accuracy" => kiln_estimators::metrics::accuracy_score(&y, &pred).unwrap(),
                    "f1_macro" => kiln_estimators::metrics::f1_score(&y, &pred, Average::Macro).unwrap(),
                    _ => kiln_estimators::metrics::balanced_accuracy_score(&y, &pred, false).unwrap(),
                };
                if score > best.1 {
                    best = (a, score);
                }
            }
            assert_eq!(m.alpha(), alphas[best.0], "{data} {name} alpha_");
            assert!((m.best_score() - best.1).abs() < 1e-12, "{data} {name}: {} vs {}", m.best_score(), best.1);
        }
    }
}

/// `scoring` that RidgeClassifierCV cannot honour is refused with a typed error: a regression
/// scorer, a scorer of probabilities (scikit-learn: `_IdentityClassifier has none of the
/// following attributes: predict_proba`), decision-value scorers with leave-one-out, and a
/// scorer with class or sample weights (kiln's scorers take none); set_param takes a name.
#[test]
fn ridge_classifier_cv_scoring_bad_input() {
    let x = input::<f64>("clf3_x");
    let y = ints::<Ix1>("input_clf3_y");
    let s = |name: &str| Some(Scorer::from_name(name).unwrap());
    let cv = || RidgeClassifierCV::params();
    let err = cv().scoring(s("r2")).fit(&x, &y).unwrap_err();
    assert!(matches!(err, EstimatorError::InvalidTarget(_)), "{err}");
    for (params, what) in [
        (cv().scoring(s("neg_log_loss")), "predict_proba"),
        (cv().scoring(s("neg_log_loss")).cv(3), "predict_proba"),
        (cv().scoring(s("roc_auc_ovr")), "predict_proba"),
        (cv().scoring(s("top_k_accuracy")), "decision_function"),
        (cv().scoring(s("accuracy")).class_weight(Some(ClassWeight::Balanced)), "sample weights"),
    ] {
        let err = params.fit(&x, &y).unwrap_err();
        assert!(matches!(err, EstimatorError::NotAvailable(_)), "{err}");
        assert!(err.to_string().contains(what), "{err}");
    }
    let w = Array1::from_elem(x.nrows(), 1.0);
    let err = cv().scoring(s("accuracy")).fit_weighted(&x, &y, &w).unwrap_err();
    assert!(err.to_string().contains("sample weights"), "{err}");
    let mut p = cv();
    p.set_param("scoring", "f1_macro".into()).unwrap();
    assert_eq!(p, cv().scoring(s("f1_macro")));
    assert!(p.set_param("scoring", "f7".into()).is_err());
}

/// RidgeCV with a registry scorer (`RidgeScoring::Scorer`) against scikit-learn: leave-one-out
/// scored by the mean absolute error (with the leave-one-out predictions as `cv_results_`) and,
/// without an intercept, the max error; 5 folds scored by explained variance.
fn ridge_cv_scoring_case<F: Real>(fx: &str, params: RidgeCVParams, device: Option<Device>) {
    let tol = rtol::<F>();
    let (x, t) = (input::<F>("reg_x"), vector::<F>("reg_y"));
    let (coef, intercept, alpha, best, pred, cv_results) = match device {
        None => {
            let m = params.fit(&x, &t).unwrap();
            (
                m.coef().clone(),
                m.intercept(),
                m.alpha(),
                m.best_score(),
                m.predict(&x).unwrap(),
                m.cv_results().cloned(),
            )
        }
        Some(dev) => {
            let (xt, tt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&t, dev).unwrap());
            let m = params.fit(&xt, &tt).unwrap();
            let pred = m.predict(&xt).unwrap();
            assert_eq!(pred.device(), dev);
            let coef = m.coef().to_array::<Ix1>().unwrap();
            (coef, m.intercept(), m.alpha(), m.best_score(), pred.to_array::<Ix1>().unwrap(), m.cv_results().cloned())
        }
    };
    let what = |a: &str| format!("{fx} {a} ({device:?})");
    let coef_w = expected::<Ix1>(&format!("{fx}.coef_"));
    assert_allclose(&coef, &coef_w, tol, max_abs(&coef_w) * tol, &what("coef_"));
    let icpt = expected::<Ix0>(&format!("{fx}.intercept_")).into_scalar();
    let scale = max_abs(&coef_w).max(icpt.abs());
    assert!((intercept.to_f64() - icpt).abs() <= tol * scale + 1e-12, "{}: {intercept} vs {icpt}", what("intercept_"));
    assert_eq!(alpha, expected::<Ix0>(&format!("{fx}.alpha_")).into_scalar(), "{}", what("alpha_"));
    let want = expected::<Ix0>(&format!("{fx}.best_score_")).into_scalar();
    assert!((best - want).abs() <= tol * want.abs(), "{}: {best} vs {want}", what("best_score_"));
    let pred_w = expected::<Ix1>(&format!("{fx}.predict"));
    assert_allclose(&pred, &pred_w, tol, max_abs(&pred_w) * tol, &what("predict"));
    if crate::common::fixture(&format!("{fx}.cv_results_.npy")).exists() {
        let want = expected::<Ix2>(&format!("{fx}.cv_results_"));
        let got = cv_results.expect("store_cv_results");
        assert_allclose(&got, &want, tol, max_abs(&want) * tol, &what("cv_results_"));
    }
}

fn ridge_cv_scoring_cases<F: Real>(device: Option<Device>) {
    let s = |name: &str| RidgeScoring::Scorer(Scorer::from_name(name).unwrap());
    let cv = || RidgeCV::params().alphas(vec![100.0, 10.0, 1.0, 0.1, 0.01]);
    ridge_cv_scoring_case::<F>(
        "rcv_gcv_mae_reg",
        cv().scoring(s("neg_mean_absolute_error")).store_cv_results(true),
        device,
    );
    let max_error = cv().scoring(s("neg_max_error")).fit_intercept(false);
    ridge_cv_scoring_case::<F>("rcv_gcv_max_error_no_intercept_reg", max_error, device);
    ridge_cv_scoring_case::<F>("rcv_cv5_explained_variance_reg", cv().scoring(s("explained_variance")).cv(5), device);
}

#[test]
fn ridge_cv_scoring_matches_scikit_learn() {
    ridge_cv_scoring_cases::<f64>(None);
    ridge_cv_scoring_cases::<f32>(None);
}

#[test]
fn ridge_cv_scoring_matches_scikit_learn_on_cuda_sim() {
    ridge_cv_scoring_cases::<f64>(Some(Device::CudaSim));
    ridge_cv_scoring_cases::<f32>(Some(Device::CudaSim));
}

/// A classification scorer for RidgeCV is a typed error, so is a registry scorer with sample
/// weights (leave-one-out and folds).
#[test]
fn ridge_cv_scoring_bad_input() {
    let (x, t) = (input::<f64>("reg_x"), vector::<f64>("reg_y"));
    let s = |name: &str| RidgeScoring::Scorer(Scorer::from_name(name).unwrap());
    let err = RidgeCV::params().scoring(s("accuracy")).fit(&x, &t).unwrap_err();
    assert!(matches!(err, EstimatorError::InvalidTarget(_)), "{err}");
    let w = Array1::from_elem(x.nrows(), 1.0);
    for p in [RidgeCV::params(), RidgeCV::params().cv(3)] {
        let err = p.scoring(s("neg_mean_absolute_error")).fit_weighted(&x, &t, &w).unwrap_err();
        assert!(matches!(err, EstimatorError::NotAvailable(_)), "{err}");
    }
    // set_param by scikit-learn's names: the default's name, "r2", any other registry name.
    let mut p = RidgeCV::params();
    p.set_param("scoring", "neg_max_error".into()).unwrap();
    assert_eq!(p, RidgeCV::params().scoring(s("neg_max_error")));
    p.set_param("scoring", "r2".into()).unwrap();
    assert_eq!(p, RidgeCV::params().scoring(RidgeScoring::R2));
    assert!(p.set_param("scoring", "no_such_scorer".into()).is_err());
}

/// scikit-learn's `test_ridge_loo_cv_asym_scoring`: with the asymmetric "explained_variance"
/// scorer, leave-one-out by GCV and by `cv = n_samples` folds (each of one sample, whose
/// explained variance is 1 whatever alpha) choose the same alpha and the same model, on 10 x 5
/// data with an offset and noise (0.1 here: like scikit-learn's own data, this makes the
/// smallest alpha GCV's best, which the test relies on; with unit noise on this data both kiln
/// and scikit-learn's GCV choose 0.1). GCV's best score is scikit-learn's on the same numbers
/// (computed by scikit-learn 1.9.1 from this generator).
#[test]
fn test_ridge_loo_cv_asym_scoring() {
    let mut state = 7u64;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal = move || {
        let (u1, u2) = (uniform(), uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let (n, d) = (10, 5);
    let offsets: Vec<f64> = (0..d).map(|_| 30.0 * normal()).collect();
    let x = Array2::from_shape_fn((n, d), |(_, j)| normal() + offsets[j]);
    let w: Vec<f64> = (0..d).map(|_| 10.0 * normal()).collect();
    let y: Array1<f64> = (0..n).map(|i| (0..d).map(|j| x[[i, j]] * w[j]).sum::<f64>() + 5.0 + 0.1 * normal()).collect();
    let alphas = vec![1e-3, 0.1, 1.0, 10.0, 1e3];
    let scoring = RidgeScoring::Scorer(Scorer::from_name("explained_variance").unwrap());
    let p = || RidgeCV::params().alphas(alphas.clone()).scoring(scoring);
    let loo = p().cv(n).fit(&x, &y).unwrap();
    let gcv = p().fit(&x, &y).unwrap();
    assert_eq!(loo.best_score(), 1.0, "one-sample folds explain all their variance");
    assert_eq!(gcv.alpha(), loo.alpha());
    assert_eq!(gcv.alpha(), 1e-3);
    assert!((gcv.best_score() - 0.9998692332282919).abs() < 1e-9, "{}", gcv.best_score());
    assert_allclose(gcv.coef(), loo.coef(), 1e-3, 0.0, "coef_");
    assert!((gcv.intercept() - loo.intercept()).abs() <= 1e-3 * loo.intercept().abs(), "intercept_");
}

/// scikit-learn's `test_ridge_cv_results_predictions` (one target): the leave-one-out
/// predictions RidgeCV keeps as `cv_results_` with a scorer are on the original scale and equal
/// a brute-force leave-one-out of Ridge, tall (50 x 10) and wide (10 x 50), with and without an
/// intercept and sample weights (every other sample 0.5), in the eigen and svd modes. The
/// weighted cases score by "r2" (kiln's registry scorers take no weights; the stored
/// predictions are the same).
#[test]
fn test_ridge_cv_results_predictions() {
    use kiln_estimators::datasets::make_regression;
    let alphas: Vec<f64> = (0..5).map(|i| 10f64.powf(-5.0 + 3.0 * i as f64)).collect();
    for (n, d) in [(50usize, 10usize), (10, 50)] {
        let (x, y, _) = make_regression::<f64>(n, d, d.min(10), 1.0, 0).unwrap();
        for weighted in [false, true] {
            let sw: Array1<f64> = (0..n).map(|i| if i % 2 == 0 { 0.5 } else { 1.0 }).collect();
            for fit_intercept in [false, true] {
                for mode in [GcvMode::Svd, GcvMode::Eigen] {
                    let scoring = if weighted {
                        RidgeScoring::R2
                    } else {
                        RidgeScoring::Scorer(Scorer::from_name("neg_mean_squared_error").unwrap())
                    };
                    let p = RidgeCV::params()
                        .alphas(alphas.clone())
                        .gcv_mode(mode)
                        .fit_intercept(fit_intercept)
                        .scoring(scoring)
                        .store_cv_results(true);
                    let m = if weighted { p.fit_weighted(&x, &y, &sw) } else { p.fit(&x, &y) }.unwrap();
                    let mut want = Array2::<f64>::zeros((n, alphas.len()));
                    for i in 0..n {
                        let keep: Vec<usize> = (0..n).filter(|&j| j != i).collect();
                        let (xr, yr) = (x.select(ndarray::Axis(0), &keep), y.select(ndarray::Axis(0), &keep));
                        for (a, &alpha) in alphas.iter().enumerate() {
                            let r = Ridge::params().alpha(alpha).fit_intercept(fit_intercept);
                            let fitted = if weighted {
                                r.fit_weighted(&xr, &yr, &sw.select(ndarray::Axis(0), &keep))
                            } else {
                                r.fit(&xr, &yr)
                            }
                            .unwrap();
                            want[[i, a]] = fitted.predict(&x.slice(ndarray::s![i..i + 1, ..]).to_owned()).unwrap()[0];
                        }
                    }
                    let what = format!("{n}x{d} weighted {weighted} intercept {fit_intercept} {mode:?}");
                    assert_allclose(m.cv_results().unwrap(), &want, 1e-6, 1e-9 * max_abs(&want), &what);
                }
            }
        }
    }
}

/// scikit-learn's `test_regularization_limits_ridge_gcv` (dense, f64 and f32): with a single
/// alpha of 1e-16 RidgeCV recovers LinearRegression's coefficients and intercept, with 1e16
/// zero coefficients and the mean of y as intercept (or 0 without one), tall, square and wide X,
/// both modes, to atol 1e-10 (f64) / 1e-5 (f32, against f64 references on the f32-rounded
/// data). Before kiln took the svd mode's leave-one-out and coefficients as scikit-learn 1.9
/// does (no 1 / alpha), alpha 1e-16 on tall X gave coefficients of -4e4.
#[test]
fn test_regularization_limits_ridge_gcv() {
    use kiln_estimators::datasets::MakeRegression;
    fn limits<F: Real>(n: usize, d: usize) {
        let (x, y, _) = MakeRegression::new(n).n_features(d).noise(0.0).bias(10.0).seed(42).build::<f64>().unwrap();
        // The references are f64 fits of the data as F holds it (f32 rounding of X and y alone
        // moves the square case's minimum-norm solution by about 1e-5).
        let (x, y) = (x.mapv(|v| F::from_f64(v).to_f64()), y.mapv(|v| F::from_f64(v).to_f64()));
        let atol = if std::mem::size_of::<F>() == 4 { 1e-5 } else { 1e-10 };
        for alpha in [1e-16, 1e16] {
            for fit_intercept in [true, false] {
                let (coef_w, icpt_w) = if alpha < 1.0 {
                    let lr = LinearRegression::params().fit_intercept(fit_intercept).fit(&x, &y).unwrap();
                    (lr.coef().clone(), lr.intercept())
                } else {
                    (Array1::zeros(d), if fit_intercept { y.mean().unwrap() } else { 0.0 })
                };
                for mode in [GcvMode::Svd, GcvMode::Eigen] {
                    let m = RidgeCV::params()
                        .alphas(vec![alpha])
                        .gcv_mode(mode)
                        .fit_intercept(fit_intercept)
                        .fit(&x.mapv(F::from_f64), &y.mapv(F::from_f64))
                        .unwrap();
                    let what = format!("{n}x{d} alpha {alpha} intercept {fit_intercept} {mode:?}");
                    let coef = m.coef().mapv(|v| v.to_f64());
                    assert_allclose(&coef, &coef_w, 0.0, atol, &format!("{what} coef_"));
                    let icpt = m.intercept().to_f64();
                    assert!((icpt - icpt_w).abs() <= atol, "{what} intercept_ {icpt} vs {icpt_w}");
                }
            }
        }
    }
    for (n, d) in [(100, 50), (50, 50), (50, 100)] {
        limits::<f64>(n, d);
        limits::<f32>(n, d);
    }
}

/// scikit-learn's `test_regularization_limits_ridge_classifier_gcv` (dense, f64): RidgeClassifierCV
/// with a single alpha is Ridge on the {-1, 1} targets: 1e16 gives zero coefficients and the
/// mean target as intercept (tall, square, wide), 1e-16 LinearRegression's fit on wide X
/// (scikit-learn marks tall and square X as expected failures there).
#[test]
fn test_regularization_limits_ridge_classifier_gcv() {
    use kiln_estimators::datasets::make_classification;
    for (n, d) in [(100usize, 50usize), (50, 50), (50, 100)] {
        let (x, y) = make_classification::<f64>(n, d, 2, 2, 2, 42).unwrap();
        let t: Array1<f64> = y.mapv(|v| if v == 1 { 1.0 } else { -1.0 });
        for fit_intercept in [true, false] {
            for alpha in [1e-16, 1e16] {
                if alpha < 1.0 && d <= n {
                    continue;
                }
                let (coef_w, icpt_w) = if alpha < 1.0 {
                    let lr = LinearRegression::params().fit_intercept(fit_intercept).fit(&x, &t).unwrap();
                    (lr.coef().clone(), lr.intercept())
                } else {
                    (Array1::zeros(d), if fit_intercept { t.mean().unwrap() } else { 0.0 })
                };
                let m =
                    RidgeClassifierCV::params().alphas(vec![alpha]).fit_intercept(fit_intercept).fit(&x, &y).unwrap();
                let what = format!("{n}x{d} alpha {alpha} intercept {fit_intercept}");
                let c = m.classifier();
                assert_allclose(&c.coef().row(0).to_owned(), &coef_w, 0.0, 1e-10, &format!("{what} coef_"));
                assert!(
                    (c.intercept()[0] - icpt_w).abs() <= 1e-10,
                    "{what} intercept_ {} vs {icpt_w}",
                    c.intercept()[0]
                );
            }
        }
    }
}

/// scikit-learn's `test_ridge_gcv_cv_results_not_stored` and `test_ridge_best_score` (RidgeCV
/// and RidgeClassifierCV on 6 samples): without `store_cv_results` there are no `cv_results_`,
/// and `best_score_` is a finite number with leave-one-out and with 3 folds.
#[test]
fn test_ridge_gcv_cv_results_not_stored() {
    let x = input::<f64>("clf3_x").slice(ndarray::s![..6, ..]).to_owned();
    let t = vector::<f64>("reg_y").slice(ndarray::s![..6]).to_owned();
    let y = array![0i64, 1, 0, 1, 0, 1];
    let rcv = RidgeCV::params().fit(&x, &t).unwrap();
    assert!(rcv.cv_results().is_none());
    let ccv = RidgeClassifierCV::params().fit(&x, &y).unwrap();
    assert!(ccv.cv_results().is_none());
    for folds in [None, Some(3)] {
        let r = match folds {
            Some(k) => RidgeCV::params().cv(k).fit(&x, &t).unwrap(),
            None => RidgeCV::params().fit(&x, &t).unwrap(),
        };
        assert!(r.best_score().is_finite(), "RidgeCV {folds:?}");
        let c = match folds {
            Some(k) => RidgeClassifierCV::params().cv(k).fit(&x, &y).unwrap(),
            None => RidgeClassifierCV::params().fit(&x, &y).unwrap(),
        };
        assert!(c.best_score().is_finite(), "RidgeClassifierCV {folds:?}");
    }
}
