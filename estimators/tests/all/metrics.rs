//! Metric parity with scikit-learn (fixtures from `cargo xtask fixtures`), in f64 and f32, on
//! host arrays and on the CUDA simulator through the same metric source; bad input.

use crate::common::{assert_allclose, expected, fixture, input, rtol};
use kiln_estimators::datasets::{load_npy_as, Real};
use kiln_estimators::metrics::*;
use kiln_estimators::EstimatorError;
use kiln_runtime::{Device, Tensor};
use ndarray::{array, Array1, Array2, Ix0, Ix1, Ix2};

fn labels(name: &str) -> Array1<i64> {
    load_npy_as::<i64, Ix1>(fixture(&format!("input_{name}.npy"))).unwrap()
}
fn values<F: Real>(name: &str) -> Array1<F> {
    load_npy_as::<F, Ix1>(fixture(&format!("input_{name}.npy"))).unwrap()
}
fn scalar(name: &str) -> f64 {
    expected::<Ix0>(name).into_scalar()
}
fn counts(name: &str) -> Array2<i64> {
    load_npy_as::<i64, Ix2>(fixture(&format!("{name}.npy"))).unwrap()
}
fn sim<T: kiln_runtime::Element, D: ndarray::Dimension>(a: &ndarray::Array<T, D>) -> Tensor<T> {
    Tensor::from_array(a, Device::CudaSim).unwrap()
}

/// `got` within scikit-learn's relative tolerance of a fixture scalar.
fn close(got: f64, name: &str, tol: f64) {
    let want = scalar(name);
    assert!((got - want).abs() <= tol * want.abs(), "{name}: {got} vs scikit-learn {want} (rtol {tol})");
}

#[test]
fn binary_classification_matches_scikit_learn() {
    let (t, p) = (labels("metric_binary_true"), labels("metric_binary_pred"));
    // Counting metrics are exact ratios of integers: f64's tolerance whatever the score type.
    let tol = rtol::<f64>();
    let bin = Average::default();
    close(accuracy_score(&t, &p).unwrap(), "metrics_binary.accuracy", tol);
    close(precision_score(&t, &p, bin).unwrap(), "metrics_binary.precision", tol);
    close(recall_score(&t, &p, bin).unwrap(), "metrics_binary.recall", tol);
    close(f1_score(&t, &p, bin).unwrap(), "metrics_binary.f1", tol);
    assert_eq!(confusion_matrix(&t, &p, None).unwrap(), counts("metrics_binary.confusion_matrix"));
    // The same kernels on the simulator.
    let (ts, ps) = (sim(&t), sim(&p));
    close(f1_score(&ts, &ps, bin).unwrap(), "metrics_binary.f1", tol);
    assert_eq!(confusion_matrix(&ts, &ps, Some(&[0, 1])).unwrap(), counts("metrics_binary.confusion_matrix"));
}

fn binary_scores_case<F: Real>() {
    let t = labels("metric_binary_true");
    let (s, ties) = (values::<F>("metric_binary_score"), values::<F>("metric_binary_score_ties"));
    let tol = rtol::<F>();
    close(log_loss_binary(&t, &s).unwrap(), "metrics_binary.log_loss", tol);
    close(roc_auc_score(&t, &s).unwrap(), "metrics_binary.roc_auc", tol);
    close(roc_auc_score(&t, &ties).unwrap(), "metrics_binary.roc_auc_ties", tol);
    close(log_loss_binary(&sim(&t), &sim(&s)).unwrap(), "metrics_binary.log_loss", tol);
    close(roc_auc_score(&sim(&t), &sim(&ties)).unwrap(), "metrics_binary.roc_auc_ties", tol);
}

#[test]
fn binary_scores_match_scikit_learn() {
    binary_scores_case::<f64>();
    binary_scores_case::<f32>();
}

#[test]
fn multiclass_classification_matches_scikit_learn() {
    let (t, p) = (labels("metric_multi_true"), labels("metric_multi_pred"));
    let tol = rtol::<f64>();
    close(accuracy_score(&t, &p).unwrap(), "metrics_multiclass.accuracy", tol);
    for (average, name) in [(Average::Macro, "macro"), (Average::Weighted, "weighted")] {
        close(precision_score(&t, &p, average).unwrap(), &format!("metrics_multiclass.precision_{name}"), tol);
        close(recall_score(&t, &p, average).unwrap(), &format!("metrics_multiclass.recall_{name}"), tol);
        close(f1_score(&t, &p, average).unwrap(), &format!("metrics_multiclass.f1_{name}"), tol);
        close(f1_score(&sim(&t), &sim(&p), average).unwrap(), &format!("metrics_multiclass.f1_{name}"), tol);
    }
    let cm = counts("metrics_multiclass.confusion_matrix");
    assert_eq!(confusion_matrix(&t, &p, None).unwrap(), cm);
    assert_eq!(confusion_matrix(&sim(&t), &sim(&p), None).unwrap(), cm);
    let e = precision_score(&t, &p, Average::default()).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidTarget(_)), "{e}");
    assert!(e.to_string().contains("multiclass"), "{e}");
}

fn multiclass_log_loss_case<F: Real>() {
    let t = labels("metric_multi_true");
    let proba = input::<F>("metric_multi_proba");
    close(log_loss(&t, &proba).unwrap(), "metrics_multiclass.log_loss", rtol::<F>());
    close(log_loss(&sim(&t), &sim(&proba)).unwrap(), "metrics_multiclass.log_loss", rtol::<F>());
}

#[test]
fn multiclass_log_loss_matches_scikit_learn() {
    multiclass_log_loss_case::<f64>();
    multiclass_log_loss_case::<f32>();
}

fn regression_case<F: Real>() {
    let (t, p) = (values::<F>("metric_reg_true"), values::<F>("metric_reg_pred"));
    let tol = rtol::<F>();
    close(mean_squared_error(&t, &p).unwrap(), "metrics_regression.mean_squared_error", tol);
    close(mean_absolute_error(&t, &p).unwrap(), "metrics_regression.mean_absolute_error", tol);
    close(r2_score(&t, &p).unwrap(), "metrics_regression.r2", tol);
    close(mean_squared_error(&sim(&t), &sim(&p)).unwrap(), "metrics_regression.mean_squared_error", tol);
}

#[test]
fn regression_metrics_match_scikit_learn() {
    regression_case::<f64>();
    regression_case::<f32>();
}

fn pairwise_case<F: Real>() {
    let (a, b) = (input::<F>("pairwise_a"), input::<F>("pairwise_b"));
    let tol = rtol::<F>();
    for (metric, name) in
        [(Metric::Euclidean, "euclidean"), (Metric::Cosine, "cosine"), (Metric::Manhattan, "manhattan")]
    {
        // f32 cosine distances are `1 - similarity` computed in f32: near-parallel rows cancel
        // to O(1e-3), where the error is a few f32 ulps of 1 (1.2e-7 each) in absolute terms, not
        // relative to the result. f64 needs no atol; the self-distance diagonals are exactly 0.
        let atol = if metric == Metric::Cosine && tol > 1e-6 { 5e-7 } else { 0.0 };
        let want = expected::<Ix2>(&format!("pairwise_distances.{name}"));
        let want_self = expected::<Ix2>(&format!("pairwise_distances.{name}_self"));
        assert_allclose(&pairwise_distances(&a, Some(&b), metric).unwrap(), &want, tol, atol, name);
        let own = pairwise_distances(&a, None, metric).unwrap();
        assert_allclose(&own, &want_self, tol, atol, &format!("{name}_self"));
        assert!(own.diag().iter().all(|&v| v == F::from_f64(0.0)), "{name}: exact 0 on the diagonal");
        let on_sim = pairwise_distances(&sim(&a), Some(&sim(&b)), metric).unwrap();
        assert_eq!(on_sim.device(), Device::CudaSim);
        assert_allclose(&on_sim.to_array::<Ix2>().unwrap(), &want, tol, atol, &format!("cuda-sim {name}"));
    }
}

#[test]
fn pairwise_distances_match_scikit_learn() {
    pairwise_case::<f64>();
    pairwise_case::<f32>();
}

#[test]
fn label_sets_follow_scikit_learn() {
    // Labels spread wider than the device-counted range take the host pass, same answer.
    let t = array![-5i64, 1000, 1000, 7, -5];
    let p = array![-5i64, 1000, 7, 7, 1000];
    assert_eq!(confusion_matrix(&t, &p, None).unwrap(), array![[1, 0, 1], [0, 1, 0], [0, 1, 1]]);
    assert!((precision_score(&t, &p, Average::Macro).unwrap() - (1.0 + 0.5 + 0.5) / 3.0).abs() < 1e-15);
    // Binary scores with only the negative class present: no positives, 0 like scikit-learn.
    assert_eq!(recall_score(&array![0i64, 0], &array![0i64, 0], Average::default()).unwrap(), 0.0);
    // pos_label picks the class scored.
    let (t, p) = (array![0i64, 2, 2, 0], array![0i64, 2, 0, 0]);
    assert!((precision_score(&t, &p, Average::Binary { pos_label: 2 }).unwrap() - 1.0).abs() < 1e-15);
    let e = precision_score(&t, &p, Average::default()).unwrap_err();
    assert!(e.to_string().contains("pos_label=1 is not a valid label"), "{e}");
    // ROC AUC with -1/1 labels and all scores tied: 0.5.
    assert_eq!(roc_auc_score(&array![-1i64, 1, 1, -1], &array![0.3f64, 0.3, 0.3, 0.3]).unwrap(), 0.5);
}

#[test]
fn bad_input_is_a_typed_error() {
    let (t, short) = (array![0i64, 1, 1], array![0i64, 1]);
    let empty = Array1::<i64>::zeros(0);
    for e in [
        precision_score(&t, &short, Average::Macro).unwrap_err(),
        confusion_matrix(&t, &short, None).unwrap_err(),
        roc_auc_score(&t, &array![0.1f64, 0.2]).unwrap_err(),
        log_loss_binary(&t, &array![0.1f64]).unwrap_err(),
        mean_squared_error(&array![1.0f64], &array![1.0f64, 2.0]).unwrap_err(),
    ] {
        assert!(e.to_string().contains("inconsistent numbers of samples"), "{e}");
    }
    for e in [
        f1_score(&empty, &empty, Average::Weighted).unwrap_err(),
        confusion_matrix(&empty, &empty, None).unwrap_err(),
        mean_absolute_error(&Array1::<f32>::zeros(0), &Array1::<f32>::zeros(0)).unwrap_err(),
        roc_auc_score(&empty, &Array1::<f64>::zeros(0)).unwrap_err(),
        log_loss(&empty, &Array2::<f64>::zeros((0, 2))).unwrap_err(),
    ] {
        assert!(e.to_string().contains("zero samples"), "{e}");
    }
    // Labels outside the confusion matrix's explicit labels.
    let e = confusion_matrix(&t, &array![0i64, 2, 1], Some(&[0, 1])).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidTarget(_)), "{e}");
    assert_eq!(e.to_string(), "1 of 3 samples have a true or predicted label outside labels [0, 1]");
    assert!(confusion_matrix(&t, &t, Some(&[])).is_err());
    assert!(confusion_matrix(&t, &t, Some(&[1, 1])).is_err());
    // Probabilities of the wrong shape, or not probabilities.
    let e = log_loss(&t, &array![[0.5f64, 0.3, 0.2], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]).unwrap_err();
    assert!(matches!(e, EstimatorError::Shape(_)), "{e}");
    assert!(e.to_string().contains("different numbers of classes 2, 3"), "{e}");
    let e = log_loss(&t, &array![[0.5f64, 0.6], [0.1, 0.9], [0.2, 0.8]]).unwrap_err();
    assert!(e.to_string().contains("do not sum to one"), "{e}");
    let e = log_loss(&array![1i64, 1], &array![[0.5f64, 0.5], [0.1, 0.9]]).unwrap_err();
    assert!(e.to_string().contains("only one label"), "{e}");
    let one_d = Tensor::from_array(&array![0.5f64, 0.5, 0.5], Device::Cpu).unwrap();
    assert!(matches!(log_loss(&t, &one_d), Err(EstimatorError::Shape(_))));
    // ROC AUC: one class, non-binary labels, non-finite scores.
    let s = array![0.1f64, 0.2, 0.3];
    assert!(roc_auc_score(&array![1i64, 1, 1], &s)
        .unwrap_err()
        .to_string()
        .contains("Only one class is present in y_true. ROC AUC score is not defined in that case."));
    assert!(matches!(roc_auc_score(&array![0i64, 2, 1], &s), Err(EstimatorError::InvalidTarget(_))));
    let nan = array![0.1f64, f64::NAN, 0.3];
    assert!(matches!(roc_auc_score(&t, &nan), Err(EstimatorError::NonFinite { what: "y_score" })));
    // Pairwise: feature counts differ, empty, non-finite.
    let (a, b) = (array![[1.0f64, 2.0]], array![[1.0f64, 2.0, 3.0]]);
    let e = pairwise_distances(&a, Some(&b), Metric::Euclidean).unwrap_err();
    assert!(e.to_string().contains("X.shape[1] == 2 while Y.shape[1] == 3"), "{e}");
    assert!(matches!(
        pairwise_distances(&Array2::<f64>::zeros((0, 2)), None, Metric::Cosine),
        Err(EstimatorError::EmptyInput { .. })
    ));
    assert!(matches!(
        pairwise_distances(&array![[f64::INFINITY]], None, Metric::Manhattan),
        Err(EstimatorError::NonFinite { .. })
    ));
}
