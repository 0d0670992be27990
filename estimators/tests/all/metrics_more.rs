//! Metrics of issue 17 against scikit-learn fixtures (`metrics_more_fixtures` in
//! make_fixtures.py), f64 and f32, on host arrays and on the CUDA simulator; ports of
//! scikit-learn's own tests (`metrics/tests/test_ranking.py`, `test_classification.py`,
//! `test_regression.py`, `test_pairwise.py`, `metrics/cluster/tests/test_unsupervised.py`),
//! each named after the test it ports; bad input.

use crate::common::{assert_allclose, expected, fixture, input, rtol};
use kiln_estimators::datasets::{load_npy_as, Real};
use kiln_estimators::metrics::*;
use kiln_estimators::EstimatorError;
use kiln_runtime::{Device, Element, Tensor};
use ndarray::{array, Array1, Array2, Dimension, Ix0, Ix1, Ix2};

fn ints(name: &str) -> Array1<i64> {
    load_npy_as::<i64, Ix1>(fixture(&format!("input_{name}.npy"))).unwrap()
}
fn values<F: Real>(name: &str) -> Array1<F> {
    load_npy_as::<F, Ix1>(fixture(&format!("input_{name}.npy"))).unwrap()
}
fn scalar(name: &str) -> f64 {
    expected::<Ix0>(name).into_scalar()
}
fn sim<T: Element, D: Dimension>(a: &ndarray::Array<T, D>) -> Tensor<T> {
    Tensor::from_array(a, Device::CudaSim).unwrap()
}
fn close(got: f64, name: &str, tol: f64) {
    let want = scalar(name);
    assert!((got - want).abs() <= tol * want.abs() + 1e-15, "{name}: {got} vs scikit-learn {want} (rtol {tol})");
}
fn vec_close(got: &Array1<f64>, name: &str, tol: f64) {
    assert_allclose(got, &expected::<Ix1>(name), tol, 0.0, name);
}

// ---------------------------------------------------------------------------------------
// Ranking curves.

fn curves_case<F: Real>() {
    let y = ints("metric_binary_true");
    let w = values::<F>("metric_weights");
    let tol = rtol::<F>();
    for (tag, s) in [("", values::<F>("metric_binary_score")), ("_ties", values::<F>("metric_binary_score_ties"))] {
        for (drop, key) in [(true, "drop"), (false, "all")] {
            let (fpr, tpr, thr) = roc_curve(&y, &s, drop).unwrap();
            let base = format!("metrics_ranking.roc{tag}_{key}");
            vec_close(&fpr, &format!("{base}_fpr"), tol);
            vec_close(&tpr, &format!("{base}_tpr"), tol);
            assert_eq!(thr[0], f64::INFINITY, "leading +inf threshold");
            let want_thr = expected::<Ix1>(&format!("{base}_thresholds"));
            assert_eq!(want_thr[0], f64::INFINITY);
            assert_allclose(
                &thr.slice(ndarray::s![1..]).to_owned(),
                &want_thr.slice(ndarray::s![1..]).to_owned(),
                tol,
                0.0,
                &base,
            );
            let (p, r, t) = precision_recall_curve(&y, &s, drop).unwrap();
            let base = format!("metrics_ranking.pr{tag}_{key}");
            vec_close(&p, &format!("{base}_precision"), tol);
            vec_close(&r, &format!("{base}_recall"), tol);
            vec_close(&t, &format!("{base}_thresholds"), tol);
        }
        let (fpr, tpr, _) = roc_curve_weighted(&y, &s, &w, true).unwrap();
        vec_close(&fpr, &format!("metrics_ranking.roc{tag}_weighted_fpr"), tol);
        vec_close(&tpr, &format!("metrics_ranking.roc{tag}_weighted_tpr"), tol);
        let (p, r, t) = precision_recall_curve_weighted(&y, &s, &w, false).unwrap();
        vec_close(&p, &format!("metrics_ranking.pr{tag}_weighted_precision"), tol);
        vec_close(&r, &format!("metrics_ranking.pr{tag}_weighted_recall"), tol);
        vec_close(&t, &format!("metrics_ranking.pr{tag}_weighted_thresholds"), tol);
        close(average_precision_score(&y, &s).unwrap(), &format!("metrics_ranking.average_precision{tag}"), tol);
        close(
            average_precision_score_weighted(&y, &s, &w).unwrap(),
            &format!("metrics_ranking.average_precision{tag}_weighted"),
            tol,
        );
        close(roc_auc_score_weighted(&y, &s, &w).unwrap(), &format!("metrics_ranking.roc_auc{tag}_weighted"), tol);
        // Tensors on the simulator: the same curves.
        let (fpr, _, _) = roc_curve(&sim(&y), &sim(&s), true).unwrap();
        vec_close(&fpr, &format!("metrics_ranking.roc{tag}_drop_fpr"), tol);
        close(
            average_precision_score_weighted(&sim(&y), &sim(&s), &sim(&w)).unwrap(),
            &format!("metrics_ranking.average_precision{tag}_weighted"),
            tol,
        );
        // -1/1 labels are the same problem.
        let pm = y.mapv(|v| if v == 0 { -1 } else { 1 });
        close(average_precision_score(&pm, &s).unwrap(), &format!("metrics_ranking.average_precision{tag}"), tol);
    }
    let s = values::<F>("metric_binary_score");
    close(brier_score_loss(&y, &s).unwrap(), "metrics_ranking.brier", tol);
    close(brier_score_loss_weighted(&y, &s, &w).unwrap(), "metrics_ranking.brier_weighted", tol);
    close(brier_score_loss_weighted(&sim(&y), &sim(&s), &sim(&w)).unwrap(), "metrics_ranking.brier_weighted", tol);
}

#[test]
fn ranking_curves_match_scikit_learn() {
    curves_case::<f64>();
    curves_case::<f32>();
}

fn multiclass_auc_case<F: Real>() {
    let y = ints("metric_multi_true");
    let proba = input::<F>("metric_multi_proba");
    for (mc, m) in [(MultiClass::Ovr, "ovr"), (MultiClass::Ovo, "ovo")] {
        for (avg, a) in [(Average::Macro, "macro"), (Average::Weighted, "weighted")] {
            let name = format!("metrics_ranking.roc_auc_{m}_{a}");
            close(roc_auc_score_multiclass(&y, &proba, mc, avg).unwrap(), &name, rtol::<F>());
            close(roc_auc_score_multiclass(&sim(&y), &sim(&proba), mc, avg).unwrap(), &name, rtol::<F>());
        }
    }
}

#[test]
fn multiclass_roc_auc_matches_scikit_learn() {
    multiclass_auc_case::<f64>();
    multiclass_auc_case::<f32>();
}

/// Port of test_ranking.py::test_roc_auc_score_multiclass_error (the cases that apply) and
/// test_multiclass_ovo_roc_auc_toydata / test_multiclass_ovr_roc_auc_toydata.
#[test]
fn test_roc_auc_score_multiclass_error() {
    let y = array![0i64, 1, 0, 2];
    let p = array![[0.1f64, 0.8, 0.1], [0.3, 0.4, 0.3], [0.35, 0.5, 0.15], [0.0, 0.2, 0.8]];
    // The references from the definitions: an AUC is the fraction of (positive, negative)
    // pairs ranked right, ties half; ovo (Hand & Till) averages per pair of classes the two
    // one-way AUCs, ovr each class against the rest.
    let auc = |pos: &[f64], neg: &[f64]| {
        let mut s = 0.0;
        for &a in pos {
            for &b in neg {
                s += if a > b {
                    1.0
                } else if a == b {
                    0.5
                } else {
                    0.0
                };
            }
        }
        s / (pos.len() * neg.len()) as f64
    };
    let col = |c: usize, rows: &[usize]| rows.iter().map(|&i| p[[i, c]]).collect::<Vec<f64>>();
    let members = |c: i64| (0..4).filter(|&i| y[i] == c).collect::<Vec<usize>>();
    let mut pairs = vec![];
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        let (ra, rb) = (members(a as i64), members(b as i64));
        pairs.push((auc(&col(a, &ra), &col(a, &rb)) + auc(&col(b, &rb), &col(b, &ra))) / 2.0);
    }
    let ovo = pairs.iter().sum::<f64>() / 3.0;
    assert!((roc_auc_score_multiclass(&y, &p, MultiClass::Ovo, Average::Macro).unwrap() - ovo).abs() < 1e-15);
    let ovr: f64 = (0..3)
        .map(|c| {
            let (pos, neg): (Vec<usize>, Vec<usize>) = (0..4).partition(|&i| y[i] == c as i64);
            auc(&col(c, &pos), &col(c, &neg))
        })
        .sum::<f64>()
        / 3.0;
    assert!((roc_auc_score_multiclass(&y, &p, MultiClass::Ovr, Average::Macro).unwrap() - ovr).abs() < 1e-15);
    let e = roc_auc_score_multiclass(&y, &p.mapv(|v| v * 2.0), MultiClass::Ovr, Average::Macro).unwrap_err();
    assert!(e.to_string().contains("Target scores need to be probabilities for multiclass roc_auc"), "{e}");
    let e = roc_auc_score_multiclass(&array![0i64, 1, 0, 1], &p, MultiClass::Ovo, Average::Macro).unwrap_err();
    assert!(e.to_string().contains("Number of classes in y_true not equal to the number of columns"), "{e}");
    assert!(roc_auc_score_multiclass(&y, &p, MultiClass::Ovr, Average::Micro).is_err());
}

/// Port of test_ranking.py::test_roc_curve_end_points and test_roc_returns_consistency: the
/// curve starts at (0, 0) with threshold +inf and ends at (1, 1).
#[test]
fn test_roc_curve_end_points() {
    let y = array![0i64, 0, 1, 1, 0, 1, 1, 0, 1, 0];
    let s = array![0.1f64, 0.4, 0.35, 0.8, 0.2, 0.9, 0.55, 0.6, 0.7, 0.3];
    let (fpr, tpr, thr) = roc_curve(&y, &s, true).unwrap();
    assert_eq!((fpr[0], tpr[0]), (0.0, 0.0));
    assert_eq!((fpr[fpr.len() - 1], tpr[tpr.len() - 1]), (1.0, 1.0));
    assert_eq!(thr[0], f64::INFINITY);
    assert!(thr.windows(2).into_iter().all(|w| w[0] > w[1]), "decreasing thresholds {thr}");
}

/// Port of test_ranking.py::test_roc_curve_drop_intermediate.
#[test]
fn test_roc_curve_drop_intermediate() {
    let y = array![0i64, 0, 0, 0, 1, 1];
    let s = array![0.0f64, 0.2, 0.5, 0.6, 0.7, 1.0];
    let (_, _, thr) = roc_curve(&y, &s, true).unwrap();
    assert_eq!(thr.to_vec(), vec![f64::INFINITY, 1.0, 0.7, 0.0]);
    // Repeating scores.
    let y = array![0i64, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    let s = array![0.0f64, 0.1, 0.6, 0.6, 0.7, 0.8, 0.9, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0];
    let (_, _, thr) = roc_curve(&y, &s, true).unwrap();
    assert_eq!(thr.to_vec(), vec![f64::INFINITY, 1.0, 0.9, 0.7, 0.6, 0.0]);
}

/// Port of test_ranking.py::test_roc_curve_fpr_tpr_increasing.
#[test]
fn test_roc_curve_fpr_tpr_increasing() {
    let y = array![0i64, 0, 1, 1, 1];
    let s = array![0.1f64, 0.7, 0.3, 0.4, 0.5];
    let (fpr, tpr, _) = roc_curve_weighted(&y, &s, &Array1::from_elem(5, 0.2f64), true).unwrap();
    assert!(fpr.windows(2).into_iter().all(|w| w[1] >= w[0]), "{fpr}");
    assert!(tpr.windows(2).into_iter().all(|w| w[1] >= w[0]), "{tpr}");
}

/// Port of test_ranking.py::test_roc_curve_one_label: no negatives makes every fpr NaN.
#[test]
fn test_roc_curve_one_label() {
    let y = array![1i64, 1, 1, 1];
    let s = array![0.1f64, 0.5, 0.3, 0.9];
    let (fpr, tpr, _) = roc_curve(&y, &s, true).unwrap();
    assert!(fpr.iter().all(|v| v.is_nan()));
    assert!(tpr.iter().all(|v| !v.is_nan()));
    let (fpr, tpr, _) = roc_curve(&y.mapv(|_| 0i64), &s, true).unwrap();
    assert!(tpr.iter().all(|v| v.is_nan()));
    assert!(fpr.iter().all(|v| !v.is_nan()));
}

/// Port of test_ranking.py::test_roc_curve_toydata (a few of its cases) and
/// test_auc_score_non_binary_class / test_binary_clf_curve_multiclass_error.
#[test]
fn test_roc_curve_toydata() {
    let (fpr, tpr, _) = roc_curve(&array![0i64, 1], &array![0.0f64, 1.0], true).unwrap();
    assert_eq!((fpr.to_vec(), tpr.to_vec()), (vec![0.0, 0.0, 1.0], vec![0.0, 1.0, 1.0]));
    let (fpr, tpr, _) = roc_curve(&array![0i64, 1], &array![1.0f64, 0.0], true).unwrap();
    assert_eq!((fpr.to_vec(), tpr.to_vec()), (vec![0.0, 1.0, 1.0], vec![0.0, 0.0, 1.0]));
    let (fpr, tpr, _) = roc_curve(&array![1i64, 0], &array![1.0f64, 1.0], true).unwrap();
    assert_eq!((fpr.to_vec(), tpr.to_vec()), (vec![0.0, 1.0], vec![0.0, 1.0]));
    assert_eq!(roc_auc_score(&array![0i64, 1], &array![1.0f64, 1.0]).unwrap(), 0.5);
    let e = roc_curve(&array![0i64, 1, 2], &array![0.1f64, 0.2, 0.3], true).unwrap_err();
    assert!(e.to_string().contains("y_true takes value in {0, 1, 2} and pos_label is not specified"), "{e}");
    for e in [
        roc_auc_score(&array![1i64, 1], &array![0.1f64, 0.2]).unwrap_err(),
        roc_auc_score_weighted(&array![0i64, 0], &array![0.1f64, 0.2], &array![1.0f64, 1.0]).unwrap_err(),
    ] {
        assert_eq!(e.to_string(), "Only one class is present in y_true. ROC AUC score is not defined in that case.");
    }
}

/// Port of test_ranking.py::test_precision_recall_curve_toydata (its first cases) and
/// test_average_precision_constant_values.
#[test]
fn test_precision_recall_curve_toydata() {
    let (p, r, t) = precision_recall_curve(&array![0i64, 1], &array![0.0f64, 1.0], false).unwrap();
    assert_eq!((p.to_vec(), r.to_vec(), t.to_vec()), (vec![0.5, 1.0, 1.0], vec![1.0, 1.0, 0.0], vec![0.0, 1.0]));
    let (p, r, _) = precision_recall_curve(&array![0i64, 1], &array![1.0f64, 0.0], false).unwrap();
    assert_eq!((p.to_vec(), r.to_vec()), (vec![0.5, 0.0, 1.0], vec![1.0, 0.0, 0.0]));
    assert_eq!(average_precision_score(&array![0i64, 1], &array![1.0f64, 0.0]).unwrap(), 0.5);
    // test_average_precision_constant_values: a constant score gives the positive fraction.
    let y: Array1<i64> = (0..100).map(|i| i64::from(i % 4 == 0)).collect();
    assert_eq!(average_precision_score(&y, &Array1::<f64>::ones(100)).unwrap(), 0.25);
    // No positives: recall 1 everywhere (scikit-learn warns).
    let (_, r, _) = precision_recall_curve(&array![0i64, 0], &array![0.3f64, 0.6], false).unwrap();
    assert_eq!(r.to_vec(), vec![1.0, 1.0, 0.0]);
}

/// Port of test_ranking.py::test_precision_recall_curve_drop_intermediate.
#[test]
fn test_precision_recall_curve_drop_intermediate() {
    let y = array![0i64, 0, 0, 0, 1, 1];
    let s = array![0.0f64, 0.2, 0.5, 0.6, 0.7, 1.0];
    let (_, _, t) = precision_recall_curve(&y, &s, true).unwrap();
    assert_eq!(t.to_vec(), vec![0.0, 0.7, 1.0]);
    let y = array![0i64, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    let s = array![0.0f64, 0.1, 0.6, 0.6, 0.7, 0.8, 0.9, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0];
    let (_, _, t) = precision_recall_curve(&y, &s, true).unwrap();
    assert_eq!(t.to_vec(), vec![0.0, 0.6, 0.7, 0.8, 0.9, 1.0]);
    // All false keeps only the end points; all true keeps every threshold.
    let s = array![0.0f64, 0.1, 0.2, 0.3];
    let (_, _, t) = precision_recall_curve(&array![0i64, 0, 0, 0], &s, true).unwrap();
    assert_eq!(t.to_vec(), vec![0.0, 0.3]);
    let (_, _, t) = precision_recall_curve(&array![1i64, 1, 1, 1], &s, true).unwrap();
    assert_eq!(t.to_vec(), vec![0.0, 0.1, 0.2, 0.3]);
}

/// Port of test_ranking.py::test_binary_clf_curve_zero_sample_weight (zero weights drop
/// samples) and of the integer-weights-repeat-samples check of test_ranking.py's
/// sample_weight tests.
#[test]
fn test_binary_clf_curve_zero_sample_weight() {
    let y = array![0i64, 0, 1, 1, 1];
    let s = array![0.1f64, 0.2, 0.3, 0.4, 0.5];
    let w = array![1.0f64, 1.0, 1.0, 0.5, 0.0];
    let (fpr, tpr, thr) = roc_curve_weighted(&y, &s, &w, false).unwrap();
    let (y2, s2, w2) = (array![0i64, 0, 1, 1], array![0.1f64, 0.2, 0.3, 0.4], array![1.0f64, 1.0, 1.0, 0.5]);
    let (fpr2, tpr2, thr2) = roc_curve_weighted(&y2, &s2, &w2, false).unwrap();
    assert_eq!((fpr, tpr, thr), (fpr2, tpr2, thr2));
    // Integer weights repeat samples.
    let rep = roc_auc_score(&array![0i64, 0, 1, 1, 1, 0], &array![0.1f64, 0.2, 0.3, 0.3, 0.4, 0.2]).unwrap();
    let wt =
        roc_auc_score_weighted(&array![0i64, 1, 1, 0], &array![0.1f64, 0.3, 0.4, 0.2], &array![1.0f64, 2.0, 1.0, 2.0]);
    assert!((rep - wt.unwrap()).abs() < 1e-15);
}

// ---------------------------------------------------------------------------------------
// Classification.

#[test]
fn classification_scores_match_scikit_learn() {
    let tol = rtol::<f64>();
    let cases = [
        ("binary", ints("metric_binary_true"), ints("metric_binary_pred")),
        ("multi", ints("metric_multi_true"), ints("metric_multi_pred")),
    ];
    for (name, t, p) in &cases {
        let base = format!("metrics_classification_more.{name}");
        close(balanced_accuracy_score(t, p, false).unwrap(), &format!("{base}_balanced_accuracy"), tol);
        close(balanced_accuracy_score(t, p, true).unwrap(), &format!("{base}_balanced_accuracy_adjusted"), tol);
        close(matthews_corrcoef(t, p).unwrap(), &format!("{base}_matthews_corrcoef"), tol);
        close(matthews_corrcoef(&sim(t), &sim(p)).unwrap(), &format!("{base}_matthews_corrcoef"), tol);
        close(
            balanced_accuracy_score(&sim(t), &sim(p), true).unwrap(),
            &format!("{base}_balanced_accuracy_adjusted"),
            tol,
        );
        let mut averages = vec![(Average::Micro, "micro"), (Average::Macro, "macro"), (Average::Weighted, "weighted")];
        if *name == "binary" {
            averages.push((Average::default(), "binary"));
        }
        for (avg, a) in averages {
            for beta in [0.5, 2.0] {
                close(fbeta_score(t, p, beta, avg).unwrap(), &format!("{base}_fbeta{beta:.1}_{a}"), tol);
            }
            close(precision_score(t, p, avg).unwrap(), &format!("{base}_precision_{a}"), tol);
            close(recall_score(t, p, avg).unwrap(), &format!("{base}_recall_{a}"), tol);
            close(f1_score(t, p, avg).unwrap(), &format!("{base}_f1_{a}"), tol);
            close(fbeta_score(&sim(t), &sim(p), 2.0, avg).unwrap(), &format!("{base}_fbeta2.0_{a}"), tol);
        }
        let per = precision_recall_fscore_support(t, p, 2.0).unwrap();
        vec_close(&Array1::from(per.precision), &format!("{base}_prfs_precision"), tol);
        vec_close(&Array1::from(per.recall), &format!("{base}_prfs_recall"), tol);
        vec_close(&Array1::from(per.fbeta), &format!("{base}_prfs_fbeta2"), tol);
        let support = load_npy_as::<i64, Ix1>(fixture(&format!("{base}_prfs_support.npy"))).unwrap();
        assert_eq!(Array1::from(per.support), support);
    }
}

#[test]
fn weighted_classification_scores_match_scikit_learn() {
    let tol = rtol::<f64>();
    let cases = [
        ("binary", ints("metric_binary_true"), ints("metric_binary_pred")),
        ("multi", ints("metric_multi_true"), ints("metric_multi_pred")),
    ];
    let w = values::<f64>("metric_weights");
    let w32 = values::<f32>("metric_weights");
    for (name, t, p) in &cases {
        let base = format!("metrics_classification_weighted.{name}");
        close(balanced_accuracy_score_weighted(t, p, &w, false).unwrap(), &format!("{base}_balanced_accuracy"), tol);
        close(
            balanced_accuracy_score_weighted(t, p, &w, true).unwrap(),
            &format!("{base}_balanced_accuracy_adjusted"),
            tol,
        );
        close(matthews_corrcoef_weighted(t, p, &w).unwrap(), &format!("{base}_matthews_corrcoef"), tol);
        close(
            matthews_corrcoef_weighted(&sim(t), &sim(p), &sim(&w32)).unwrap(),
            &format!("{base}_matthews_corrcoef"),
            rtol::<f32>(),
        );
        let mut averages = vec![(Average::Micro, "micro"), (Average::Macro, "macro"), (Average::Weighted, "weighted")];
        if *name == "binary" {
            averages.push((Average::default(), "binary"));
        }
        for (avg, a) in averages {
            close(precision_score_weighted(t, p, &w, avg).unwrap(), &format!("{base}_precision_{a}"), tol);
            close(recall_score_weighted(t, p, &w, avg).unwrap(), &format!("{base}_recall_{a}"), tol);
            close(f1_score_weighted(t, p, &w, avg).unwrap(), &format!("{base}_f1_{a}"), tol);
            close(fbeta_score_weighted(t, p, &w, 0.5, avg).unwrap(), &format!("{base}_fbeta0.5_{a}"), tol);
            close(
                f1_score_weighted(&sim(t), &sim(p), &sim(&w32), avg).unwrap(),
                &format!("{base}_f1_{a}"),
                rtol::<f32>(),
            );
        }
    }
    // Unit weights are the unweighted scores; integer weights repeat samples.
    let (t, p) = (array![0i64, 1, 2, 2, 1], array![0i64, 2, 2, 1, 1]);
    let ones = Array1::<f64>::ones(5);
    assert_eq!(f1_score_weighted(&t, &p, &ones, Average::Macro).unwrap(), f1_score(&t, &p, Average::Macro).unwrap());
    let rep = matthews_corrcoef(&array![0i64, 1, 1, 2, 2, 1], &array![0i64, 2, 2, 2, 1, 1]).unwrap();
    let wt = matthews_corrcoef_weighted(&t, &p, &array![1.0f64, 2.0, 1.0, 1.0, 1.0]).unwrap();
    assert!((rep - wt).abs() < 1e-15);
    let e = f1_score_weighted(&t, &p, &array![1.0f64, 2.0], Average::Macro).unwrap_err();
    assert!(matches!(e, EstimatorError::Shape(_)), "{e}");
}

/// Port of test_classification.py::test_balanced_accuracy_score_unseen and
/// test_balanced_accuracy_score (adjusted: chance is 0).
#[test]
fn test_balanced_accuracy_score_unseen() {
    // A predicted label absent from y_true is left out of the mean (scikit-learn warns).
    assert_eq!(balanced_accuracy_score(&array![0i64, 0, 0], &array![0i64, 0, 1], false).unwrap(), 2.0 / 3.0);
    // Random-like predictions: adjusted score is (score - 1/k) / (1 - 1/k).
    let t = array![0i64, 1, 2, 0, 1, 2];
    let p = array![0i64, 2, 1, 0, 1, 0];
    let plain = balanced_accuracy_score(&t, &p, false).unwrap();
    let adj = balanced_accuracy_score(&t, &p, true).unwrap();
    assert!((adj - (plain - 1.0 / 3.0) / (2.0 / 3.0)).abs() < 1e-15);
    assert_eq!(balanced_accuracy_score(&t, &t, true).unwrap(), 1.0);
}

/// Port of test_classification.py::test_matthews_corrcoef (and _nan, _against_numpy_corrcoef
/// on a small case).
#[test]
fn test_matthews_corrcoef() {
    let t = array![0i64, 0, 1, 1, 1, 0, 1, 0, 1, 1];
    let p = array![0i64, 1, 1, 1, 0, 0, 1, 0, 1, 0];
    // The Pearson correlation of the 0/1 vectors, computed by hand.
    let (tf, pf) = (t.mapv(|v| v as f64), p.mapv(|v| v as f64));
    let (mt, mp) = (tf.mean().unwrap(), pf.mean().unwrap());
    let cov = ((&tf - mt) * (&pf - mp)).sum();
    let r = cov / (((&tf - mt).mapv(|v| v * v).sum()) * ((&pf - mp).mapv(|v| v * v).sum())).sqrt();
    assert!((matthews_corrcoef(&t, &p).unwrap() - r).abs() < 1e-12);
    assert!((matthews_corrcoef(&t, &t).unwrap() - 1.0).abs() < 1e-15);
    assert!((matthews_corrcoef(&t, &t.mapv(|v| 1 - v)).unwrap() + 1.0).abs() < 1e-15);
    // test_matthews_corrcoef_nan: a constant input gives 0.
    assert_eq!(matthews_corrcoef(&array![0i64, 0], &array![0i64, 1]).unwrap(), 0.0);
    assert_eq!(matthews_corrcoef(&array![0i64, 1], &array![0i64, 0]).unwrap(), 0.0);
}

/// Port of test_classification.py::test_fscore_warnings / test_precision_recall_f_extra_labels
/// edge: beta 0 is precision, beta inf recall; a negative beta is an error.
#[test]
fn test_fbeta_limits() {
    let t = array![0i64, 1, 1, 0, 1];
    let p = array![1i64, 1, 0, 0, 1];
    let b = Average::default();
    assert_eq!(fbeta_score(&t, &p, 0.0, b).unwrap(), precision_score(&t, &p, b).unwrap());
    assert_eq!(fbeta_score(&t, &p, f64::INFINITY, b).unwrap(), recall_score(&t, &p, b).unwrap());
    assert!((fbeta_score(&t, &p, 1.0, b).unwrap() - f1_score(&t, &p, b).unwrap()).abs() < 1e-15);
    assert!(matches!(fbeta_score(&t, &p, -1.0, b), Err(EstimatorError::InvalidParameter { .. })));
    // Micro averages of single-label multiclass data equal the accuracy.
    let (t, p) = (array![0i64, 1, 2, 2, 1], array![0i64, 2, 2, 1, 1]);
    let acc = accuracy_score(&t, &p).unwrap();
    assert!((precision_score(&t, &p, Average::Micro).unwrap() - acc).abs() < 1e-15);
    assert!((f1_score(&t, &p, Average::Micro).unwrap() - acc).abs() < 1e-15);
    let e = f1_score(&t, &p, Average::default()).unwrap_err();
    assert!(e.to_string().contains("Target is multiclass but average='binary'"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Regression.

fn regression_case<F: Real>() {
    let (t, p, w) = (values::<F>("metric_reg_true"), values::<F>("metric_reg_pred"), values::<F>("metric_weights"));
    let tol = rtol::<F>();
    let base = "metrics_regression_more";
    close(explained_variance_score(&t, &p).unwrap(), &format!("{base}.explained_variance"), tol);
    close(explained_variance_score_weighted(&t, &p, &w).unwrap(), &format!("{base}.explained_variance_weighted"), tol);
    close(d2_absolute_error_score(&t, &p).unwrap(), &format!("{base}.d2_absolute_error"), tol);
    close(d2_absolute_error_score_weighted(&t, &p, &w).unwrap(), &format!("{base}.d2_absolute_error_weighted"), tol);
    close(r2_score_weighted(&t, &p, &w).unwrap(), &format!("{base}.r2_weighted"), tol);
    close(mean_squared_error_weighted(&t, &p, &w).unwrap(), &format!("{base}.mean_squared_error_weighted"), tol);
    close(mean_absolute_error_weighted(&t, &p, &w).unwrap(), &format!("{base}.mean_absolute_error_weighted"), tol);
    for alpha in [0.1, 0.25, 0.9] {
        close(d2_pinball_score(&t, &p, alpha).unwrap(), &format!("{base}.d2_pinball_{alpha}"), tol);
        close(
            d2_pinball_score_weighted(&t, &p, &w, alpha).unwrap(),
            &format!("{base}.d2_pinball_{alpha}_weighted"),
            tol,
        );
    }
    let (pos, strict, ppos) =
        (values::<F>("metric_pos_true"), values::<F>("metric_pos_true_strict"), values::<F>("metric_pos_pred"));
    close(d2_tweedie_score(&t, &p, 0.0).unwrap(), &format!("{base}.d2_tweedie_0"), tol);
    close(d2_tweedie_score(&t, &ppos, -1.0).unwrap(), &format!("{base}.d2_tweedie_-1"), tol);
    for power in [1.0, 1.5] {
        close(d2_tweedie_score(&pos, &ppos, power).unwrap(), &format!("{base}.d2_tweedie_{power}"), tol);
        close(
            d2_tweedie_score_weighted(&pos, &ppos, &w, power).unwrap(),
            &format!("{base}.d2_tweedie_{power}_weighted"),
            tol,
        );
    }
    for power in [2.0, 3.0] {
        close(d2_tweedie_score(&strict, &ppos, power).unwrap(), &format!("{base}.d2_tweedie_{power}"), tol);
    }
    // The simulator runs the same kernels.
    let (ts, ps, ws) = (sim(&t), sim(&p), sim(&w));
    close(
        explained_variance_score_weighted(&ts, &ps, &ws).unwrap(),
        &format!("{base}.explained_variance_weighted"),
        tol,
    );
    close(d2_pinball_score(&ts, &ps, 0.9).unwrap(), &format!("{base}.d2_pinball_0.9"), tol);
    close(
        d2_tweedie_score_weighted(&sim(&pos), &sim(&ppos), &ws, 1.5).unwrap(),
        &format!("{base}.d2_tweedie_1.5_weighted"),
        tol,
    );
    close(r2_score_weighted(&ts, &ps, &ws).unwrap(), &format!("{base}.r2_weighted"), tol);
}

#[test]
fn regression_scores_match_scikit_learn() {
    regression_case::<f64>();
    regression_case::<f32>();
}

/// Port of test_regression.py::test_regression_metrics_at_limits (the cases that apply) and
/// test__check_reg_targets / d2 with one sample.
#[test]
fn test_regression_metrics_at_limits() {
    let a = array![0.0f64, 1.0, 2.0];
    assert_eq!(explained_variance_score(&a, &a).unwrap(), 1.0);
    assert_eq!(d2_absolute_error_score(&a, &a).unwrap(), 1.0);
    // Constant y_true, imperfect prediction: 0 (force_finite).
    let c = array![1.0f64, 1.0, 1.0];
    assert_eq!(explained_variance_score(&c, &array![1.0f64, 2.0, 3.0]).unwrap(), 0.0);
    assert_eq!(d2_pinball_score(&c, &array![1.0f64, 2.0, 1.0], 0.3).unwrap(), 0.0);
    let e = d2_absolute_error_score(&array![1.0f64], &array![1.0f64]).unwrap_err();
    assert!(e.to_string().contains("D^2 score is not well-defined with less than two samples."), "{e}");
    let e = d2_tweedie_score(&array![1.0f64, -1.0], &array![1.0f64, 1.0], 1.0).unwrap_err();
    assert!(e.to_string().contains("can only be used on non-negative y and strictly positive y_pred"), "{e}");
    let e = d2_tweedie_score(&array![1.0f64, 1.0], &array![1.0f64, 0.0], 2.0).unwrap_err();
    assert!(e.to_string().contains("strictly positive y and y_pred"), "{e}");
    assert!(matches!(d2_tweedie_score(&a, &a, 0.5), Err(EstimatorError::InvalidParameter { .. })));
    assert!(matches!(d2_pinball_score(&a, &a, 1.5), Err(EstimatorError::InvalidParameter { .. })));
    assert!(matches!(
        explained_variance_score(&a, &array![0.0f64, f64::NAN, 1.0]),
        Err(EstimatorError::NonFinite { .. })
    ));
    let e = explained_variance_score_weighted(&a, &a, &array![0.0f64, 0.0, 0.0]).unwrap_err();
    assert!(e.to_string().contains("Weights sum to zero"), "{e}");
    let e = mean_squared_error_weighted(&a, &a, &array![1.0f64, -1.0, 1.0]).unwrap_err();
    assert!(e.to_string().contains("Negative values in sample_weight"), "{e}");
}

/// Port of test_classification.py::test_brier_score_loss_binary (its value checks).
#[test]
fn test_brier_score_loss() {
    let t = array![0i64, 1, 1, 0, 1, 1];
    let p = array![0.1f64, 0.8, 0.9, 0.3, 1.0, 0.95];
    let want = p.iter().zip(&t).map(|(q, &y)| (y as f64 - q).powi(2)).sum::<f64>() / 6.0;
    assert!((brier_score_loss(&t, &p).unwrap() - want).abs() < 1e-15);
    // Labels other than 0/1: the larger label is positive.
    assert!((brier_score_loss(&t.mapv(|v| v + 2), &p).unwrap() - want).abs() < 1e-15);
    let e = brier_score_loss(&t, &p.mapv(|v| v * 1.1)).unwrap_err();
    assert!(e.to_string().contains("y_prob contains values greater than 1"), "{e}");
    let e = brier_score_loss(&t, &p.mapv(|v| v - 0.2)).unwrap_err();
    assert!(e.to_string().contains("y_prob contains values less than 0"), "{e}");
    let e = brier_score_loss(&array![0i64, 1, 2, 1, 0, 1], &p).unwrap_err();
    assert!(e.to_string().contains("is multiclass but should be binary"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Pairwise kernels.

fn kernels_case<F: Real>() {
    let (a, b) = (input::<F>("pairwise_a"), input::<F>("pairwise_b"));
    let abs = |m: &Array2<F>| m.mapv(|v| F::from_f64(v.to_f64().abs()));
    let (ca, cb) = (abs(&a), abs(&b));
    let tol = rtol::<F>();
    let base = "pairwise_kernels";
    let want = |n: &str| expected::<Ix2>(&format!("{base}.{n}"));
    // rbf values of far-apart rows (1e-55 in f64) underflow f32 to 0: f32 cannot hold them, so
    // f32 compares with an atol of its smallest normal number (f64 with none).
    let atol = if tol > 1e-6 { f64::from(f32::MIN_POSITIVE) } else { 0.0 };
    let check = |got: Array2<F>, n: &str| assert_allclose(&got, &want(n), tol, atol, n);
    let pair = |y: bool| if y { Some(&b) } else { None };
    for (y, suffix) in [(true, ""), (false, "_self")] {
        check(linear_kernel(&a, pair(y)).unwrap(), &format!("linear{suffix}"));
        check(polynomial_kernel(&a, pair(y), 3.0, None, 1.0).unwrap(), &format!("poly{suffix}"));
        check(polynomial_kernel(&a, pair(y), 2.0, Some(0.1), 0.5).unwrap(), &format!("poly_2{suffix}"));
        check(sigmoid_kernel(&a, pair(y), None, 1.0).unwrap(), &format!("sigmoid{suffix}"));
        check(sigmoid_kernel(&a, pair(y), Some(0.01), -0.5).unwrap(), &format!("sigmoid_g{suffix}"));
        check(rbf_kernel(&a, pair(y), None).unwrap(), &format!("rbf{suffix}"));
        check(rbf_kernel(&a, pair(y), Some(0.05)).unwrap(), &format!("rbf_g{suffix}"));
        check(laplacian_kernel(&a, pair(y), None).unwrap(), &format!("laplacian{suffix}"));
        check(cosine_similarity(&a, pair(y)).unwrap(), &format!("cosine{suffix}"));
    }
    check(additive_chi2_kernel(&ca, Some(&cb)).unwrap(), "additive_chi2");
    check(additive_chi2_kernel(&ca, None).unwrap(), "additive_chi2_self");
    check(chi2_kernel(&ca, Some(&cb), 1.0).unwrap(), "chi2");
    check(chi2_kernel(&ca, Some(&cb), 0.1).unwrap(), "chi2_g");
    let params = KernelParams { gamma: Some(0.1), degree: Some(2.0), coef0: Some(0.5) };
    check(pairwise_kernels(&a, Some(&b), PairwiseKernel::Polynomial, params).unwrap(), "pairwise_kernels_poly");
    let g = KernelParams { gamma: Some(0.1), ..KernelParams::default() };
    check(pairwise_kernels(&ca, None, PairwiseKernel::Chi2, g).unwrap(), "pairwise_kernels_chi2_self");
    // On the simulator: tensors in, tensors out.
    for (metric, n, x, y) in [
        (PairwiseKernel::Rbf, "rbf", &a, &b),
        (PairwiseKernel::Laplacian, "laplacian", &a, &b),
        (PairwiseKernel::Sigmoid, "sigmoid", &a, &b),
        (PairwiseKernel::AdditiveChi2, "additive_chi2", &ca, &cb),
    ] {
        let got = pairwise_kernels(&sim(x), Some(&sim(y)), metric, KernelParams::default()).unwrap();
        assert_eq!(got.device(), Device::CudaSim);
        check(got.to_array::<Ix2>().unwrap(), n);
    }
}

#[test]
fn pairwise_kernels_match_scikit_learn() {
    kernels_case::<f64>();
    kernels_case::<f32>();
}

/// Port of test_pairwise.py::test_chi_square_kernel (its value and error checks) and
/// test_kernel_symmetry / test_rbf_kernel (diagonal of ones).
#[test]
fn test_chi_square_kernel() {
    let x = array![[0.3f64, 0.7, 0.1], [0.2, 0.0, 0.9], [0.5, 0.5, 0.0]];
    let y = array![[0.1f64, 0.2, 0.7], [0.6, 0.0, 0.3]];
    let k = additive_chi2_kernel(&x, Some(&y)).unwrap();
    for i in 0..3 {
        for j in 0..2 {
            let mut chi = 0.0;
            for l in 0..3 {
                let s = x[[i, l]] + y[[j, l]];
                if s != 0.0 {
                    chi -= (x[[i, l]] - y[[j, l]]).powi(2) / s;
                }
            }
            assert!((k[[i, j]] - chi).abs() < 1e-15);
            let e = chi2_kernel(&x, Some(&y), 0.3).unwrap()[[i, j]];
            assert!((e - (0.3 * chi).exp()).abs() < 1e-15);
        }
    }
    let own = chi2_kernel(&x, None, 1.0).unwrap();
    assert!(own.diag().iter().all(|&v| v == 1.0), "chi2 of a row with itself is 1");
    assert_eq!(own, own.t());
    let e = additive_chi2_kernel(&array![[-1.0f64, 1.0]], None).unwrap_err();
    assert_eq!(e.to_string(), "X contains negative values.");
    let e = chi2_kernel(&array![[1.0f64, 1.0]], Some(&array![[-1.0f64, 1.0]]), 1.0).unwrap_err();
    assert_eq!(e.to_string(), "Y contains negative values.");
    assert!(matches!(chi2_kernel(&x, None, 0.0), Err(EstimatorError::InvalidParameter { .. })));
    let k = rbf_kernel(&x, None, None).unwrap();
    assert!(k.diag().iter().all(|&v| (v - 1.0).abs() < 1e-15));
    for m in [PairwiseKernel::Rbf, PairwiseKernel::Laplacian, PairwiseKernel::Linear, PairwiseKernel::Cosine] {
        let k = pairwise_kernels(&x, None, m, KernelParams::default()).unwrap();
        assert!(k.iter().zip(k.t().iter()).all(|(p, q)| (p - q).abs() < 1e-15), "{m:?} symmetric");
    }
    let e = rbf_kernel(&x, Some(&array![[1.0f64, 2.0]]), None).unwrap_err();
    assert!(e.to_string().contains("X.shape[1] == 3 while Y.shape[1] == 2"), "{e}");
    assert!(matches!(rbf_kernel(&x, None, Some(-1.0)), Err(EstimatorError::InvalidParameter { .. })));
    assert!(matches!(polynomial_kernel(&x, None, 0.5, None, 1.0), Err(EstimatorError::InvalidParameter { .. })));
}

// ---------------------------------------------------------------------------------------
// Clustering.

fn cluster_case<F: Real>() {
    let tol = rtol::<F>();
    let base = "metrics_cluster";
    let blobs_y = ints("blobs_y");
    for (name, x, y) in [
        ("blobs", input::<F>("blobs_x"), blobs_y.clone()),
        ("iris", input::<F>("iris_x"), ints("iris_y")),
        ("blobs_shifted", input::<F>("blobs_x"), blobs_y.mapv(|v| v * 7 - 3)),
    ] {
        let s = silhouette_samples(&x, &y).unwrap();
        assert_allclose(&s, &expected::<Ix1>(&format!("{base}.{name}_silhouette_samples")), tol, 0.0, name);
        close(silhouette_score(&x, &y).unwrap(), &format!("{base}.{name}_silhouette_score"), tol);
        close(calinski_harabasz_score(&x, &y).unwrap(), &format!("{base}.{name}_calinski_harabasz"), tol);
        close(davies_bouldin_score(&x, &y).unwrap(), &format!("{base}.{name}_davies_bouldin"), tol);
        let (xs, ys) = (sim(&x), sim(&y));
        let s = silhouette_samples(&xs, &ys).unwrap();
        assert_eq!(s.device(), Device::CudaSim);
        assert_allclose(
            &s.to_array::<Ix1>().unwrap(),
            &expected::<Ix1>(&format!("{base}.{name}_silhouette_samples")),
            tol,
            0.0,
            name,
        );
        close(calinski_harabasz_score(&xs, &ys).unwrap(), &format!("{base}.{name}_calinski_harabasz"), tol);
        close(davies_bouldin_score(&xs, &ys).unwrap(), &format!("{base}.{name}_davies_bouldin"), tol);
    }
}

#[test]
fn cluster_metrics_match_scikit_learn() {
    cluster_case::<f64>();
    cluster_case::<f32>();
}

/// Port of test_unsupervised.py::test_correct_labelsize, test_non_encoded_labels,
/// test_cluster_size_1 and the *_score degenerate cases.
#[test]
fn test_correct_labelsize() {
    let x = input::<f64>("iris_x");
    let one = Array1::<i64>::zeros(150);
    let e = silhouette_score(&x, &one).unwrap_err();
    assert_eq!(e.to_string(), "Number of labels is 1. Valid values are 2 to n_samples - 1 (inclusive)");
    let all: Array1<i64> = (0..150).collect();
    let e = silhouette_score(&x, &all).unwrap_err();
    assert_eq!(e.to_string(), "Number of labels is 150. Valid values are 2 to n_samples - 1 (inclusive)");
    for f in [calinski_harabasz_score::<f64, Array2<f64>, Array1<i64>>, davies_bouldin_score] {
        assert!(f(&x, &one).unwrap_err().to_string().contains("Number of labels is 1."));
    }
    // test_non_encoded_labels: labels shifted or scaled give the same scores.
    let y = ints("iris_y");
    let s = silhouette_score(&x, &y).unwrap();
    assert!((silhouette_score(&x, &(y.mapv(|v| v * 2 + 10))).unwrap() - s).abs() < 1e-12);
    // test_cluster_size_1: a sample alone in its cluster scores 0.
    let x1 = array![[0.0f64], [1.0], [1.0], [2.0], [3.0], [3.0]];
    let y1 = array![0i64, 1, 1, 1, 2, 2];
    let ss = silhouette_samples(&x1, &y1).unwrap();
    assert_eq!(ss[0], 0.0);
    // All-equal points: Calinski-Harabasz 1, Davies-Bouldin 0 (test_calinski_harabasz_score /
    // test_davies_bouldin_score's degenerate cases).
    let z = Array2::<f64>::ones((10, 2));
    let yz: Array1<i64> = (0..10).map(|i| i % 2).collect();
    assert_eq!(calinski_harabasz_score(&z, &yz).unwrap(), 1.0);
    assert_eq!(davies_bouldin_score(&z, &yz).unwrap(), 0.0);
    // Equal cluster means: Calinski-Harabasz 0, Davies-Bouldin 0.
    let xm = Array2::from_shape_fn((20, 2), |(i, _)| if i % 2 == 0 { -1.0f64 } else { 1.0 });
    let ym: Array1<i64> = (0..20).map(|i| i64::from(i >= 10)).collect();
    assert_eq!(calinski_harabasz_score(&xm, &ym).unwrap(), 0.0);
    assert_eq!(davies_bouldin_score(&xm, &ym).unwrap(), 0.0);
    // The general case of test_calinski_harabasz_score / test_davies_bouldin_score.
    let corners =
        [[[0.0, 0.0], [1.0, 1.0]], [[3.0, 3.0], [4.0, 4.0]], [[0.0, 4.0], [1.0, 3.0]], [[3.0, 1.0], [4.0, 0.0]]];
    let x4 = Array2::from_shape_fn((40, 2), |(i, j)| corners[i / 10][i % 2][j]);
    let y4: Array1<i64> = (0..40).map(|i| i / 10).collect();
    assert!((calinski_harabasz_score(&x4, &y4).unwrap() - 45.0 * 36.0 / 15.0).abs() < 1e-12);
    assert!((davies_bouldin_score(&x4, &y4).unwrap() - 2.0 * 0.5f64.sqrt() / 3.0).abs() < 1e-12);
    let x5 = array![[0.0f64, 0.0], [2.0, 2.0], [3.0, 3.0], [5.0, 5.0]];
    assert!((davies_bouldin_score(&x5, &array![0i64, 0, 1, 2]).unwrap() - 5.0 / 4.0 / 3.0).abs() < 1e-12);
    // Non-finite X and a length mismatch.
    assert!(matches!(
        silhouette_score(&array![[f64::NAN], [1.0], [2.0]], &array![0i64, 1, 1]),
        Err(EstimatorError::NonFinite { .. })
    ));
    assert!(matches!(silhouette_score(&x1, &array![0i64, 1]), Err(EstimatorError::Shape(_))));
}
