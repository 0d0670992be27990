//! Scoring by every scikit-learn scorer name that applies to kiln's estimators (issue 18,
//! item 2): `cross_validate` with each scorer on a fixed `KFold(5)` against scikit-learn's
//! `cross_val_score` with the same name, on host arrays and on `CudaSim` tensors, f32 and f64;
//! scorers reading `predict_proba` / `decision_function` (LDA has both, GaussianNB only the
//! probabilities, RidgeClassifier only the decision values); a grid search of a pipeline with
//! several scorers refitted by one; and ports of `sklearn/metrics/tests/test_score_objects.py`.

use crate::common;
use kiln_estimators::metrics::{
    jaccard_score, max_error, mean_absolute_percentage_error, mean_gamma_deviance, mean_poisson_deviance,
    mean_squared_log_error, median_absolute_error, top_k_accuracy_score, Average,
};
use kiln_estimators::model_selection::{
    cross_validate, CvOptions, ErrorScore, GridSearchCV, KFold, ParamGrid, Refit, ResponseMethod, Scorer, Scoring,
    UNAVAILABLE_SCORERS,
};
use kiln_estimators::pipeline::Pipeline;
use kiln_estimators::prelude::*;
use kiln_estimators::traits::Estimator;
use ndarray::{array, Array1, Array2, Ix0, Ix1, Ix2};

/// scikit-learn 1.9's `sklearn.metrics.get_scorer_names()`.
const SKLEARN_SCORER_NAMES: &[&str] = &[
    "accuracy",
    "adjusted_mutual_info_score",
    "adjusted_rand_score",
    "average_precision",
    "balanced_accuracy",
    "completeness_score",
    "d2_absolute_error_score",
    "d2_brier_score",
    "d2_log_loss_score",
    "explained_variance",
    "f1",
    "f1_macro",
    "f1_micro",
    "f1_samples",
    "f1_weighted",
    "fowlkes_mallows_score",
    "homogeneity_score",
    "jaccard",
    "jaccard_macro",
    "jaccard_micro",
    "jaccard_samples",
    "jaccard_weighted",
    "matthews_corrcoef",
    "mutual_info_score",
    "neg_brier_score",
    "neg_log_loss",
    "neg_max_error",
    "neg_mean_absolute_error",
    "neg_mean_absolute_percentage_error",
    "neg_mean_gamma_deviance",
    "neg_mean_poisson_deviance",
    "neg_mean_squared_error",
    "neg_mean_squared_log_error",
    "neg_median_absolute_error",
    "neg_negative_likelihood_ratio",
    "neg_root_mean_squared_error",
    "neg_root_mean_squared_log_error",
    "normalized_mutual_info_score",
    "positive_likelihood_ratio",
    "precision",
    "precision_macro",
    "precision_micro",
    "precision_samples",
    "precision_weighted",
    "r2",
    "rand_score",
    "recall",
    "recall_macro",
    "recall_micro",
    "recall_samples",
    "recall_weighted",
    "roc_auc",
    "roc_auc_ovo",
    "roc_auc_ovo_weighted",
    "roc_auc_ovr",
    "roc_auc_ovr_weighted",
    "top_k_accuracy",
    "v_measure_score",
];

const BINARY: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "matthews_corrcoef",
    "f1",
    "f1_macro",
    "f1_micro",
    "f1_weighted",
    "precision",
    "precision_macro",
    "precision_micro",
    "precision_weighted",
    "recall",
    "recall_macro",
    "recall_micro",
    "recall_weighted",
    "jaccard",
    "jaccard_macro",
    "jaccard_micro",
    "jaccard_weighted",
    "roc_auc",
    "roc_auc_ovr",
    "roc_auc_ovo",
    "roc_auc_ovr_weighted",
    "roc_auc_ovo_weighted",
    "average_precision",
    "neg_log_loss",
    "neg_brier_score",
    "top_k_accuracy",
    "d2_log_loss_score",
];
const MULTICLASS: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "matthews_corrcoef",
    "f1_macro",
    "f1_micro",
    "f1_weighted",
    "precision_macro",
    "precision_micro",
    "precision_weighted",
    "recall_macro",
    "recall_micro",
    "recall_weighted",
    "jaccard_macro",
    "jaccard_micro",
    "jaccard_weighted",
    "roc_auc_ovr",
    "roc_auc_ovo",
    "roc_auc_ovr_weighted",
    "roc_auc_ovo_weighted",
    "average_precision",
    "neg_log_loss",
    "top_k_accuracy",
    "d2_log_loss_score",
];
const PROBA_ONLY: &[&str] = &["roc_auc", "average_precision", "neg_log_loss", "neg_brier_score", "top_k_accuracy"];
const DECISION_ONLY: &[&str] = &["roc_auc", "average_precision", "top_k_accuracy", "accuracy"];
const REGRESSION: &[&str] = &[
    "r2",
    "explained_variance",
    "neg_max_error",
    "neg_median_absolute_error",
    "neg_mean_absolute_error",
    "neg_mean_absolute_percentage_error",
    "neg_mean_squared_error",
    "neg_mean_squared_log_error",
    "neg_root_mean_squared_error",
    "neg_root_mean_squared_log_error",
    "neg_mean_poisson_deviance",
    "neg_mean_gamma_deviance",
    "d2_absolute_error_score",
];

/// Every scorer of `names` by `cross_validate` on `KFold(5)` (all at once: they share each
/// fold's predictions, probabilities and decision values) against scikit-learn's
/// `cross_val_score` with that name, fixture `fx`; on host arrays, or on tensors of `device`.
fn check_scorers<F: Real, P, T>(fx: &str, est: &P, x: &Array2<F>, y: &Array1<T>, names: &[&str], device: Option<Device>)
where
    T: kiln_estimators::model_selection::Target,
    P: Estimator<F, Host, Target = T> + Estimator<F, OnDevice, Target = T>,
{
    let opts = CvOptions::new().scoring(Scoring::names(names).unwrap()).error_score(ErrorScore::Raise);
    let r = match &device {
        None => cross_validate(est, x, y, &KFold::new(5), &opts).unwrap(),
        Some(d) => {
            let xt = Tensor::from_array(x, d).unwrap();
            let yt = Tensor::from_array(y, d).unwrap();
            cross_validate(est, &xt, &yt, &KFold::new(5), &opts).unwrap()
        }
    };
    let tol = common::rtol::<F>();
    for name in names {
        let want = common::expected::<Ix1>(&format!("{fx}.{name}"));
        let got = Array1::from(r.test(name).unwrap().to_vec());
        // Scores that are exactly 0 or 1 in scikit-learn (top_k with two classes) are compared
        // with the same relative tolerance: |got - want| <= rtol * |want|.
        common::assert_allclose(&got, &want, tol, 0.0, &format!("{fx} {name} on {device:?}"));
    }
}

fn lda_case<F: Real>(device: Option<Device>) {
    let lda = LinearDiscriminantAnalysis::params();
    let (x2, y2) = (common::input::<F>("clf2_x"), common::ints::<Ix1>("input_clf2_y"));
    check_scorers("score_lda_clf2", &lda, &x2, &y2, BINARY, device);
    let (x3, y3) = (common::input::<F>("clf3_x"), common::ints::<Ix1>("input_clf3_y"));
    check_scorers("score_lda_clf3", &lda, &x3, &y3, MULTICLASS, device);
}

/// LDA (predict_proba and decision_function) under every classification scorer, binary and
/// three classes, f64 rtol 1e-7 and f32 rtol 1e-4.
#[test]
fn classification_scorers_match_scikit_learn_lda() {
    lda_case::<f64>(None);
    lda_case::<f32>(None);
}

/// The same on `CudaSim` tensors: the responses stay on the device, only the scores return.
#[test]
fn classification_scorers_match_scikit_learn_lda_cudasim() {
    lda_case::<f64>(Some(Device::CudaSim));
    lda_case::<f32>(Some(Device::CudaSim));
}

/// GaussianNB has no decision_function: roc_auc, average_precision and top_k_accuracy fall
/// back to predict_proba as scikit-learn's scorers do. RidgeClassifier has no predict_proba:
/// the decision scorers read its decision values.
#[test]
fn scorers_fall_back_to_the_method_the_model_has() {
    let (x, y) = (common::input::<f64>("clf2_x"), common::ints::<Ix1>("input_clf2_y"));
    for device in [None, Some(Device::CudaSim)] {
        check_scorers("score_gnb_clf2", &GaussianNB::params(), &x, &y, PROBA_ONLY, device);
        check_scorers("score_ridge_classifier_clf2", &RidgeClassifier::params(), &x, &y, DECISION_ONLY, device);
    }
    let x32 = common::input::<f32>("clf2_x");
    check_scorers("score_gnb_clf2", &GaussianNB::params(), &x32, &y, PROBA_ONLY, None);
}

/// LinearRegression under every regression scorer (a strictly positive target, so the log and
/// deviance losses apply), f64 and f32, host and CudaSim.
#[test]
fn regression_scorers_match_scikit_learn() {
    fn case<F: Real>(device: Option<Device>) {
        let x = common::input::<F>("reg_x");
        let y = common::expected::<Ix1>("input_score_reg_pos_y").mapv(F::from_f64);
        check_scorers("score_linreg_reg_pos", &LinearRegression::params(), &x, &y, REGRESSION, device);
    }
    case::<f64>(None);
    case::<f32>(None);
    case::<f64>(Some(Device::CudaSim));
    case::<f32>(Some(Device::CudaSim));
}

/// GridSearchCV of StandardScaler -> GaussianNB over var_smoothing with roc_auc, neg_log_loss
/// and accuracy, refitted by neg_log_loss: every split score, the ranks, the best candidate and
/// the refitted pipeline's probabilities are scikit-learn's; host and CudaSim.
#[test]
fn grid_search_several_scorers_refit_matches_scikit_learn() {
    let fx = "score_grid_search_gnb_clf2";
    let (x, y) = (common::input::<f64>("clf2_x"), common::ints::<Ix1>("input_clf2_y"));
    let pipe = Pipeline::new::<f64>().then(StandardScaler::params()).finish(GaussianNB::params());
    let grid = ParamGrid::new().add("gaussiannb__var_smoothing", [1e-9, 1e-2, 0.3, 3.0]);
    let search = GridSearchCV::new(&pipe, grid, KFold::new(5))
        .unwrap()
        .scoring(Scoring::names(&["roc_auc", "neg_log_loss", "accuracy"]).unwrap())
        .refit(Refit::Metric("neg_log_loss".into()));
    let best = common::ints::<Ix0>(&format!("{fx}.best_index_")).into_scalar() as usize;
    let best_score = common::expected::<Ix0>(&format!("{fx}.best_score_")).into_scalar();
    let proba = common::expected::<Ix2>(&format!("{fx}.predict_proba"));
    let check = |results: &[kiln_estimators::model_selection::CandidateResult], idx: Option<usize>, score: f64| {
        assert_eq!(results.len(), 4);
        for name in ["roc_auc", "neg_log_loss", "accuracy"] {
            let want = common::expected::<Ix2>(&format!("{fx}.split_test_{name}"));
            let ranks = common::ints::<Ix1>(&format!("{fx}.rank_test_{name}"));
            for (c, r) in results.iter().enumerate() {
                let m = r.metric(name).unwrap();
                let got = Array1::from(m.split_test_scores.clone());
                common::assert_allclose(&got, &want.row(c).to_owned(), 1e-7, 0.0, &format!("{name} candidate {c}"));
                assert_eq!(m.rank_test_score as i64, ranks[c], "{name} rank of candidate {c}");
            }
        }
        assert_eq!(idx, Some(best));
        assert!((score - best_score).abs() <= 1e-7 * best_score.abs(), "{score} vs {best_score}");
    };
    let host = search.fit(&x, &y).unwrap();
    check(host.cv_results(), host.best_index(), host.best_score());
    // The refitted pipeline's probabilities through its own steps.
    let z = kiln_estimators::traits::Model::<f64, Host>::predict_proba_dyn(host.best_estimator().unwrap(), &x)
        .unwrap()
        .unwrap();
    common::assert_allclose(&z, &proba, 1e-7, 1e-12, "refitted predict_proba");
    let xt = Tensor::from_array(&x, &Device::CudaSim).unwrap();
    let yt = Tensor::from_array(&y, &Device::CudaSim).unwrap();
    let dev = search.fit(&xt, &yt).unwrap();
    check(dev.cv_results(), dev.best_index(), dev.best_score());
}

/// Every name of scikit-learn's `get_scorer_names()` is either a kiln scorer that reports
/// under that name or listed as unavailable (a typed NotAvailable error); nothing else.
#[test]
fn every_scikit_learn_scorer_name_is_known() {
    for name in SKLEARN_SCORER_NAMES {
        match Scorer::from_name(name) {
            Ok(s) => assert_eq!(s.name(), *name),
            Err(EstimatorError::NotAvailable(m)) => {
                assert!(UNAVAILABLE_SCORERS.contains(name), "{name}");
                assert!(m.contains(name), "{m}");
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
    for name in UNAVAILABLE_SCORERS {
        assert!(SKLEARN_SCORER_NAMES.contains(name), "{name} is not a scikit-learn scorer name");
    }
    // Removed in scikit-learn 1.x: not a valid name (scikit-learn's error wording).
    let e = Scorer::from_name("max_error").unwrap_err();
    assert!(e.to_string().contains("is not a valid scoring value"), "{e}");
}

// Ported from test_score_objects.py::test_classification_binary_scores /
// test_thresholded_scorers: a model without the method a scorer needs is an error naming both
// (scikit-learn raises AttributeError), for a single scorer and inside a multi-metric list.
#[test]
fn test_thresholded_scorers_need_the_method() {
    let d = kiln_estimators::datasets::load_diabetes();
    // A regressor has neither predict_proba nor decision_function...
    for name in ["neg_log_loss", "roc_auc"] {
        let opts = CvOptions::new().scoring(Scoring::named(name).unwrap()).error_score(ErrorScore::Raise);
        let e = cross_validate(&Ridge::params(), &d.data, &d.target, &KFold::new(3), &opts).unwrap_err();
        assert!(matches!(e, EstimatorError::NotAvailable(_)), "{e}");
        assert!(e.to_string().contains(name) && e.to_string().contains("predict_proba"), "{e}");
    }
    // ... and RidgeClassifier has no predict_proba: neg_log_loss names it, roc_auc works.
    let (x, y) = (common::input::<f64>("clf2_x"), common::ints::<Ix1>("input_clf2_y"));
    let opts =
        CvOptions::new().scoring(Scoring::names(&["roc_auc", "neg_log_loss"]).unwrap()).error_score(ErrorScore::Raise);
    let e = cross_validate(&RidgeClassifier::params(), &x, &y, &KFold::new(3), &opts).unwrap_err();
    assert!(matches!(e, EstimatorError::NotAvailable(_)), "{e}");
    assert!(e.to_string().contains("scoring 'neg_log_loss' needs the estimator's predict_proba"), "{e}");
    let opts = CvOptions::new().scoring(Scoring::named("roc_auc").unwrap()).error_score(ErrorScore::Raise);
    let r = cross_validate(&RidgeClassifier::params(), &x, &y, &KFold::new(3), &opts).unwrap();
    assert!(r.test("score").unwrap().iter().all(|s| (0.5..=1.0).contains(s)));
}

// Ported from test_score_objects.py::test_regression_scorers / test_classification_scorer_sign:
// "greater is better": error scorers are the negated losses of the metric functions.
#[test]
fn test_regression_scorer_signs() {
    let y = array![3.0, 5.0, 2.5, 7.0];
    let p = array![2.5, 5.0, 4.0, 8.0];
    assert_eq!(max_error::<f64, _, _>(&y, &p).unwrap(), 1.5);
    assert_eq!(median_absolute_error::<f64, _, _>(&y, &p).unwrap(), 0.75);
    // scikit-learn's docstring examples.
    assert!((mean_squared_log_error::<f64, _, _>(&y, &p).unwrap() - 0.039730122).abs() < 1e-8);
    let yt = array![3.0, -0.5, 2.0, 7.0];
    let yp = array![2.5, 0.0, 2.0, 8.0];
    assert!((mean_absolute_percentage_error::<f64, _, _>(&yt, &yp).unwrap() - 0.3273809523809524).abs() < 1e-12);
    let yt = array![2.0, 0.0, 1.0, 4.0];
    let yp = array![0.5, 0.5, 2.0, 2.0];
    assert!((mean_poisson_deviance::<f64, _, _>(&yt, &yp).unwrap() - 1.4260).abs() < 1e-4);
    let yt = array![2.0, 0.5, 1.0, 4.0];
    assert!((mean_gamma_deviance::<f64, _, _>(&yt, &yp).unwrap() - 1.0568).abs() < 1e-4);
    // A negative target is outside the log error's domain (scikit-learn's wording).
    let e = mean_squared_log_error::<f64, _, _>(&array![-1.0, 2.0], &array![1.0, 2.0]).unwrap_err();
    assert!(e.to_string().contains("less than or equal to -1"), "{e}");
    let e = mean_gamma_deviance::<f64, _, _>(&array![0.0, 2.0], &array![1.0, 2.0]).unwrap_err();
    assert!(e.to_string().contains("strictly positive y and y_pred"), "{e}");
    for s in ["neg_max_error", "neg_mean_squared_log_error", "neg_mean_gamma_deviance", "neg_log_loss"] {
        assert!(Scorer::from_name(s).is_ok());
    }
    assert!(!Scorer::from_name("neg_max_error").unwrap().is_classification());
    assert_eq!(Scorer::from_name("roc_auc").unwrap().response_method(), ResponseMethod::DecisionFunction);
    assert_eq!(Scorer::from_name("neg_log_loss").unwrap().response_method(), ResponseMethod::PredictProba);
    assert_eq!(Scorer::from_name("balanced_accuracy").unwrap().response_method(), ResponseMethod::Predict);
}

// Ported from test_classification.py::test_jaccard_score_validation and
// test_ranking.py::test_top_k_accuracy_score: the docstring values.
#[test]
fn test_jaccard_and_top_k_examples() {
    let yt = array![0i64, 1, 2, 0, 1, 2];
    let yp = array![0i64, 2, 1, 0, 0, 1];
    assert!((jaccard_score(&yt, &yp, Average::Macro).unwrap() - 0.2222222222222222).abs() < 1e-12);
    assert!((jaccard_score(&yt, &yp, Average::Micro).unwrap() - 0.2).abs() < 1e-12);
    assert!((jaccard_score(&yt, &yp, Average::Weighted).unwrap() - 0.2222222222222222).abs() < 1e-12);
    let y = array![0i64, 1, 2, 2];
    let s = array![[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3], [0.7, 0.2, 0.1]];
    assert_eq!(top_k_accuracy_score::<f64, _, _>(&y, &s, 2).unwrap(), 0.75);
    assert_eq!(top_k_accuracy_score::<f64, _, _>(&y, &s, 1).unwrap(), 0.5);
    // Ties rank the later column first (scikit-learn's reversed stable argsort).
    let tied = array![[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]];
    assert_eq!(top_k_accuracy_score::<f64, _, _>(&array![0i64, 1, 2], &tied, 1).unwrap(), 2.0 / 3.0);
    // Binary 1-D scores with k = 1: thresholds 0.5 for probabilities.
    let yb = array![0i64, 1, 1, 0];
    let sb = array![[0.2], [0.7], [0.4], [0.6]];
    assert_eq!(top_k_accuracy_score::<f64, _, _>(&yb, &sb, 1).unwrap(), 0.5);
    assert!(top_k_accuracy_score::<f64, _, _>(&yb, &sb, 0).is_err());
    let e = top_k_accuracy_score::<f64, _, _>(&y, &array![[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], 1);
    assert!(e.unwrap_err().to_string().contains("Number of classes"));
}
