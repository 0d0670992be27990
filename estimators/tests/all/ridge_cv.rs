//! RidgeCV: parity with scikit-learn (fixtures from `cargo xtask fixtures`) for the default
//! grid, custom grids, R² scoring, no intercept, "svd" mode and the Gram (n <= d) mode, in f64
//! and f32, on the default device and on the CUDA simulator; and scikit-learn's own tests
//! (`linear_model/tests/test_ridge.py`) that apply.

use crate::common::{assert_allclose, expected, fixture, input, rtol};
use kiln_estimators::datasets::load_npy_as;
use kiln_estimators::prelude::*;
use ndarray::{array, s, Array1, Array2, Ix0, Ix1, Ix2};

fn target<F: Real>(name: &str) -> Array1<F> {
    load_npy_as::<F, Ix1>(fixture(&format!("input_{name}.npy"))).unwrap()
}

fn fixtures() -> Vec<(&'static str, bool, RidgeCVParams)> {
    let p = RidgeCV::params;
    vec![
        ("ridge_cv_default_reg", false, p()),
        ("ridge_cv_alphas_reg", false, p().alphas(vec![1e-3, 1e-2, 0.1, 1.0, 10.0]).store_cv_results(true)),
        ("ridge_cv_r2_reg", false, p().alphas(vec![1e-2, 1.0, 100.0]).scoring(RidgeScoring::R2).store_cv_results(true)),
        ("ridge_cv_nointercept_reg", false, p().fit_intercept(false).alphas(vec![0.5, 5.0, 50.0])),
        ("ridge_cv_svd_reg", false, p().gcv_mode(GcvMode::Svd).alphas(vec![1e-2, 1.0, 100.0]).store_cv_results(true)),
        ("ridge_cv_gram_wide", true, p().alphas(vec![1e-3, 0.1, 10.0]).store_cv_results(true)),
        ("ridge_cv_gram_nointercept_wide", true, p().fit_intercept(false).alphas(vec![1e-3, 0.1, 10.0])),
        ("ridge_cv_kfold_reg", false, p().alphas(vec![0.0, 1.0, 100.0, 1000.0]).cv(5)),
    ]
}

fn case<F: Real>(fx: &str, wide: bool, params: &RidgeCVParams, device: Option<Device>) {
    let (x, t) = if wide {
        // reg_x's first 80 rows as a 16 x 25 matrix (as make_fixtures.py builds it).
        let x = input::<F>("reg_x").slice(s![..80, ..]).iter().copied().collect::<Vec<F>>();
        (Array2::from_shape_vec((16, 25), x).unwrap(), target::<F>("reg_y").slice(s![..16]).to_owned())
    } else {
        (input::<F>("reg_x"), target::<F>("reg_y"))
    };
    let (alpha, score, coef, intercept, pred, cv) = match device {
        Some(dev) => {
            let (xt, tt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&t, dev).unwrap());
            let m = params.fit(&xt, &tt).unwrap();
            assert_eq!(m.coef().device(), dev, "{fx}: the model stays on the data's device");
            let pred = m.predict(&xt).unwrap().to_array::<Ix1>().unwrap();
            let coef = m.coef().to_array::<Ix1>().unwrap();
            (m.alpha(), m.best_score(), coef, m.intercept(), pred, m.cv_results().cloned())
        }
        None => {
            let m = params.fit(&x, &t).unwrap();
            let pred = m.predict(&x).unwrap();
            (m.alpha(), m.best_score(), m.coef().clone(), m.intercept(), pred, m.cv_results().cloned())
        }
    };
    let tol = rtol::<F>();
    assert_eq!(alpha, expected::<Ix0>(&format!("{fx}.alpha_")).into_scalar(), "{fx} alpha_");
    let sw = expected::<Ix0>(&format!("{fx}.best_score_")).into_scalar();
    assert!((score - sw).abs() <= tol * sw.abs(), "{fx} best_score_: {score} vs scikit-learn {sw}");
    let cw = expected::<Ix1>(&format!("{fx}.coef_"));
    let big = |a: &Array1<f64>| a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&coef, &cw, tol, tol * big(&cw), &format!("{fx} coef_"));
    let iw = expected::<Ix0>(&format!("{fx}.intercept_")).into_scalar();
    let scale = big(&cw).max(iw.abs()).max(1.0);
    assert!((intercept.to_f64() - iw).abs() <= tol * scale, "{fx} intercept_: {intercept} vs {iw}");
    let pw = expected::<Ix1>(&format!("{fx}.predict"));
    assert_allclose(&pred, &pw, tol, tol * big(&pw), &format!("{fx} predict"));
    if let Some(cv) = cv {
        let cvw = expected::<Ix2>(&format!("{fx}.cv_results_"));
        let top = cvw.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert_allclose(&cv, &cvw, tol, tol * top, &format!("{fx} cv_results_"));
    }
}

#[test]
fn ridge_cv_matches_scikit_learn() {
    for (fx, wide, params) in fixtures() {
        case::<f64>(fx, wide, &params, None);
        case::<f32>(fx, wide, &params, None);
    }
}

#[test]
fn ridge_cv_matches_scikit_learn_on_devices() {
    for (fx, wide, params) in fixtures() {
        case::<f64>(fx, wide, &params, Some(Device::CudaSim));
        case::<f32>(fx, wide, &params, Some(Device::CudaSim));
        case::<f64>(fx, wide, &params, Some(Device::Interp));
    }
}

/// Brute-force leave-one-out: refit Ridge without each sample in turn.
fn loo_errors(x: &Array2<f64>, t: &Array1<f64>, alpha: f64, fit_intercept: bool) -> Array1<f64> {
    let n = x.nrows();
    Array1::from_shape_fn(n, |i| {
        let keep: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        let (xs, ts) = (x.select(ndarray::Axis(0), &keep), t.select(ndarray::Axis(0), &keep));
        let m = Ridge::params().alpha(alpha).fit_intercept(fit_intercept).fit(&xs, &ts).unwrap();
        let p = m.predict(&x.slice(s![i..i + 1, ..]).to_owned()).unwrap();
        (t[i] - p[0]).powi(2)
    })
}

#[test]
fn ridge_gcv_vs_ridge_loo_cv() {
    // test_ridge_gcv_vs_ridge_loo_cv: the GCV errors are the brute-force leave-one-out errors,
    // in both modes, with and without an intercept.
    let x = input::<f64>("reg_x").slice(s![..30, ..]).to_owned();
    let t = target::<f64>("reg_y").slice(s![..30]).to_owned();
    let wide = input::<f64>("kernel_test").slice(s![..12, ..8]).to_owned();
    let tw = t.slice(s![..12]).to_owned();
    for (x, t) in [(&x, &t), (&wide, &tw)] {
        for intercept in [true, false] {
            for mode in [GcvMode::Auto, GcvMode::Svd] {
                let alphas = vec![1e-2, 1.0, 30.0];
                let p = RidgeCV::params().alphas(alphas.clone()).fit_intercept(intercept).gcv_mode(mode);
                let m = p.store_cv_results(true).fit(x, t).unwrap();
                let cv = m.cv_results().unwrap();
                for (a, &alpha) in alphas.iter().enumerate() {
                    let want = loo_errors(x, t, alpha, intercept);
                    let top = want.iter().fold(0.0f64, |m, v| m.max(*v));
                    assert_allclose(&cv.column(a).to_owned(), &want, 1e-6, 1e-9 * top, "GCV = leave-one-out");
                }
                let best = (0..alphas.len())
                    .max_by(|&a, &b| (-cv.column(a).mean().unwrap()).total_cmp(&-cv.column(b).mean().unwrap()))
                    .unwrap();
                assert_eq!(m.alpha(), alphas[best]);
                // The model at the chosen alpha is Ridge's.
                let r = Ridge::params().alpha(m.alpha()).fit_intercept(intercept).fit(x, t).unwrap();
                assert_allclose(m.coef(), &r.coef().clone(), 1e-7, 1e-9, "coef_ = Ridge(alpha_).coef_");
            }
        }
    }
}

#[test]
fn ridgecv_alphas_validation() {
    // test_ridgecv_alphas_validation: alphas must be > 0 for leave-one-out.
    let x = input::<f64>("reg_x");
    let t = target::<f64>("reg_y");
    for alphas in [vec![1.0, -1.0, -100.0], vec![-0.1, -1.0, -10.0], vec![0.0, 1.0], vec![f64::NAN], vec![]] {
        let e = RidgeCV::params().alphas(alphas).fit(&x, &t).unwrap_err();
        assert!(matches!(e, EstimatorError::InvalidParameter { name: "alphas", .. }), "{e}");
    }
    let e = RidgeCV::params().alphas(vec![1.0, -1.0]).fit(&x, &t).unwrap_err().to_string();
    assert!(e.contains("alphas[1] == -1"), "{e}");
}

#[test]
fn ridgecv_bad_input() {
    let x = input::<f64>("reg_x");
    let t = target::<f64>("reg_y");
    let p = RidgeCV::params();
    assert!(matches!(p.fit(&x, &t.slice(s![..10]).to_owned()), Err(EstimatorError::Shape(_))));
    let mut bad = t.clone();
    bad[3] = f64::NAN;
    assert!(matches!(p.fit(&x, &bad), Err(EstimatorError::NonFinite { .. })));
    let mut badx = x.clone();
    badx[[0, 0]] = f64::INFINITY;
    assert!(matches!(p.fit(&badx, &t), Err(EstimatorError::NonFinite { .. })));
    let m = p.fit(&x, &t).unwrap();
    assert!(matches!(m.predict(&array![[1.0f64]]), Err(EstimatorError::FeatureCountMismatch { .. })));
}

#[test]
fn ridge_gcv_constant_target_and_store_cv_results_shape() {
    // test_ridgecv_store_cv_results (shape) and a constant target: zero errors, score 0.
    let x = input::<f64>("reg_x");
    let t = Array1::from_elem(x.nrows(), 3.0);
    let m = RidgeCV::params().store_cv_results(true).fit(&x, &t).unwrap();
    assert_eq!(m.cv_results().unwrap().dim(), (x.nrows(), 3));
    assert!(m.best_score().abs() < 1e-20, "{}", m.best_score());
    assert!((m.intercept() - 3.0).abs() < 1e-12);
    assert!(RidgeCV::params().fit(&x, &t).unwrap().cv_results().is_none());
}

#[test]
fn ridgecv_cv_validation() {
    // test_ridgecv_alphas_zero-like checks with cv, and cv!=None with store_cv_results.
    let x = input::<f64>("reg_x");
    let t = target::<f64>("reg_y");
    let e = RidgeCV::params().cv(5).store_cv_results(true).fit(&x, &t).unwrap_err().to_string();
    assert!(e.contains("cv!=None and store_cv_results=True are incompatible"), "{e}");
    assert!(matches!(
        RidgeCV::params().alphas(vec![-1.0]).cv(5).fit(&x, &t),
        Err(EstimatorError::InvalidParameter { .. })
    ));
    // More folds than samples, and fewer than two.
    let e = RidgeCV::params().cv(500).fit(&x, &t).unwrap_err().to_string();
    assert!(e.contains("greater than the number of samples"), "{e}");
    assert!(RidgeCV::params().cv(1).fit(&x, &t).is_err());
    // alpha = 0 is allowed with folds (scikit-learn's min_val 0, boundary included).
    assert!(RidgeCV::params().alphas(vec![0.0, 1.0]).cv(3).fit(&x, &t).is_ok());
}

#[test]
fn ridgecv_splitter_equals_cv_int() {
    // cv=<splitter>: an unshuffled KFold(4) is what cv=4 means.
    let x = input::<f64>("reg_x");
    let t = target::<f64>("reg_y");
    let p = RidgeCV::params().alphas(vec![0.1, 10.0, 1000.0]);
    let a = p.clone().cv(4).fit(&x, &t).unwrap();
    let b = p.fit_with_splitter(&x, &t, kiln_estimators::model_selection::KFold::new(4)).unwrap();
    assert_eq!((a.alpha(), a.best_score()), (b.alpha(), b.best_score()));
    assert_eq!(a.coef(), b.coef());
}

#[test]
fn ridgecv_in_a_pipeline_after_splines() {
    // The host-array face (Pipeline, cross_val_score): splines then RidgeCV, scored by R².
    use kiln_estimators::traits::{Estimator, Model, TransformerParams};
    let x = input::<f64>("reg_x");
    let t = target::<f64>("reg_y");
    let (_, z) = TransformerParams::<f64>::fit_transform_dyn(&SplineTransformer::params(), &x).unwrap();
    let m = Estimator::<f64>::fit_dyn(&RidgeCV::params(), &z, Some(&t)).unwrap();
    assert_eq!(m.predict_dyn(&z).unwrap(), m.ridge().predict(&z).unwrap());
    let r2 = m.score_dyn(&z, Some(&t)).unwrap();
    assert!(r2 > 0.5 && r2 <= 1.0, "{r2}");
}

#[test]
fn ridge_best_score_and_modes_agree() {
    // test_ridge_best_score: best_score_ is minus the chosen alpha's mean squared leave-one-out
    // error; and (test_ridge_gcv_equivalence-like) the Gram and singular-vector modes agree.
    let x = input::<f64>("reg_x");
    let t = target::<f64>("reg_y");
    let alphas = vec![1e-2, 1.0, 10.0, 1000.0];
    let p = RidgeCV::params().alphas(alphas.clone()).store_cv_results(true);
    let svd = p.clone().gcv_mode(GcvMode::Svd).fit(&x, &t).unwrap();
    let cv = svd.cv_results().unwrap();
    let means: Vec<f64> = (0..alphas.len()).map(|a| cv.column(a).mean().unwrap()).collect();
    let best = (0..alphas.len()).min_by(|&a, &b| means[a].total_cmp(&means[b])).unwrap();
    assert_eq!(svd.alpha(), alphas[best]);
    // (The column is a strided view: its sum may associate differently.)
    assert!((svd.best_score() + means[best]).abs() <= 1e-14 * means[best], "{} vs {}", svd.best_score(), -means[best]);
    // Fewer samples than features: the Gram mode by default, the singular vectors on request.
    let wide = x.slice(s![..12, ..]).t().to_owned(); // 5 x 12
    let tw = t.slice(s![..5]).to_owned();
    let gram = p.clone().fit(&wide, &tw).unwrap();
    let svdw = p.gcv_mode(GcvMode::Svd).fit(&wide, &tw).unwrap();
    assert_allclose(gram.cv_results().unwrap(), svdw.cv_results().unwrap(), 1e-8, 1e-12, "gram vs svd");
    assert_eq!(gram.alpha(), svdw.alpha());
    assert_allclose(gram.coef(), svdw.coef(), 1e-8, 1e-12, "gram vs svd coef_");
}
