//! LinearDiscriminantAnalysis's `lsqr` and `eigen` solvers with shrinkage: parity with
//! scikit-learn (fixtures from `cargo xtask fixtures`, `lda_solver_fixtures`) in f64 and f32, on
//! host arrays and on the CUDA simulator, and scikit-learn's own tests
//! (`sklearn/tests/test_discriminant_analysis.py`) for the solvers other than svd.

use crate::common::{assert_allclose, expected, fixture, input, ints, rtol};
use crate::discriminant_analysis::{align_signs, check_log_proba, scale_atol};
use kiln_estimators::data::Host;
use kiln_estimators::prelude::*;
use kiln_estimators::preprocessing::StandardScaler;
use ndarray::{array, s, Array1, Array2, Axis, Ix0, Ix1, Ix2};

/// The fitted attributes and predictions of one model (host arrays), whatever it was fitted on.
struct Seen<F: Real> {
    classes: Array1<i64>,
    means: Array2<F>,
    priors: Array1<F>,
    coef: Array2<F>,
    intercept: Array1<F>,
    covariance: Array2<F>,
    scalings: Option<Array2<F>>,
    ratio: Option<Array1<F>>,
    decision: Array2<F>,
    proba: Array2<F>,
    log_proba: Array2<F>,
    predict: Array1<i64>,
    transform: Option<Array2<F>>,
    score: f64,
}

fn seen_host<F: Real>(m: &LinearDiscriminantAnalysis<F, Host>, x: &Array2<F>, y: &Array1<i64>) -> Seen<F> {
    Seen {
        classes: m.classes().clone(),
        means: m.means().clone(),
        priors: m.priors().clone(),
        coef: m.coef().clone(),
        intercept: m.intercept().clone(),
        covariance: m.covariance().expect("lsqr and eigen keep covariance_").clone(),
        scalings: m.scalings().cloned(),
        ratio: m.explained_variance_ratio().cloned(),
        decision: m.decision_function(x).unwrap(),
        proba: m.predict_proba(x).unwrap(),
        log_proba: m.predict_log_proba(x).unwrap(),
        predict: m.predict(x).unwrap(),
        transform: (m.solver() == LdaSolver::Eigen).then(|| m.transform(x).unwrap()),
        score: m.score(x, y).unwrap(),
    }
}

fn seen_device<F: Real>(
    m: &LinearDiscriminantAnalysis<F, OnDevice>,
    x: &Tensor<F>,
    y: &Tensor<i64>,
    dev: Device,
) -> Seen<F> {
    let b2 = |t: &Tensor<F>| {
        assert_eq!(t.device(), dev, "results stay on the data's device");
        t.to_array::<Ix2>().unwrap()
    };
    let b1 = |t: &Tensor<F>| t.to_array::<Ix1>().unwrap();
    Seen {
        classes: m.classes().to_array::<Ix1>().unwrap(),
        means: b2(m.means()),
        priors: b1(m.priors()),
        coef: b2(m.coef()),
        intercept: b1(m.intercept()),
        covariance: b2(m.covariance().expect("lsqr and eigen keep covariance_")),
        scalings: m.scalings().map(b2),
        ratio: m.explained_variance_ratio().map(b1),
        decision: b2(&m.decision_function(x).unwrap()),
        proba: b2(&m.predict_proba(x).unwrap()),
        log_proba: b2(&m.predict_log_proba(x).unwrap()),
        predict: m.predict(x).unwrap().to_array::<Ix1>().unwrap(),
        transform: (m.solver() == LdaSolver::Eigen).then(|| b2(&m.transform(x).unwrap())),
        score: m.score(x, y).unwrap(),
    }
}

fn solver_case<F: Real>(
    fx: &str,
    x_name: &str,
    y_name: &str,
    params: LinearDiscriminantAnalysisParams,
    device: Option<Device>,
) {
    let x = input::<F>(x_name);
    let y = ints::<Ix1>(&format!("input_{y_name}"));
    let tol = rtol::<F>();
    let e1 = |attr: &str| expected::<Ix1>(&format!("{fx}.{attr}"));
    let e2 = |attr: &str| expected::<Ix2>(&format!("{fx}.{attr}"));
    let got = match device {
        None => {
            let m = params.fit(&x, &y).unwrap();
            assert!(m.xbar().is_none(), "{fx}: xbar_ is the svd solver's");
            seen_host(&m, &x, &y)
        }
        Some(dev) => {
            let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
            let m = params.fit(&xt, &yt).unwrap();
            seen_device(&m, &xt, &yt, dev)
        }
    };
    let what = |a: &str| format!("{fx} {a} ({device:?})");
    assert_eq!(got.classes, ints::<Ix1>(&format!("{fx}.classes_")), "{}", what("classes_"));
    assert_allclose(&got.means, &e2("means_"), tol, scale_atol::<F>(&e2("means_")) * 1e-3, &what("means_"));
    assert_allclose(&got.priors, &e1("priors_"), tol, 0.0, &what("priors_"));
    let cov_w = e2("covariance_");
    assert_allclose(&got.covariance, &cov_w, tol, scale_atol::<F>(&cov_w), &what("covariance_"));
    let coef_w = e2("coef_");
    assert_allclose(&got.coef, &coef_w, tol, scale_atol::<F>(&coef_w), &what("coef_"));
    let icpt = e1("intercept_");
    let icpt_atol = icpt.iter().fold(0.0f64, |a, v| a.max(v.abs())) * tol;
    assert_allclose(&got.intercept, &icpt, tol, icpt_atol, &what("intercept_"));
    let dec_w = e2("decision_function");
    let dec_atol = scale_atol::<F>(&dec_w);
    assert_allclose(&got.decision, &dec_w, tol, dec_atol, &what("decision_function"));
    assert_allclose(&got.proba, &e2("predict_proba"), tol, 1e-12, &what("predict_proba"));
    check_log_proba(&got.log_proba, &e2("predict_log_proba"), tol, dec_atol, &what("predict_log_proba"));
    assert_eq!(got.predict, ints::<Ix1>(&format!("{fx}.predict")), "{}", what("predict"));
    assert_eq!(got.score, expected::<Ix0>(&format!("{fx}.score")).into_scalar(), "{}", what("score"));
    if fixture(&format!("{fx}.scalings_.npy")).exists() {
        // Only the leading directions (distinct eigenvalues) are defined up to sign.
        let evr = e1("explained_variance_ratio_");
        let m = evr.len();
        assert_allclose(got.ratio.as_ref().unwrap(), &evr, tol, 1e-12, &what("explained_variance_ratio_"));
        let scal_w = e2("scalings_").slice(s![.., ..m]).to_owned();
        let scal = got.scalings.as_ref().unwrap();
        assert_eq!(scal.dim(), (x.ncols(), x.ncols()), "{}", what("scalings_ shape"));
        let lead = scal.slice(s![.., ..m]).to_owned();
        assert_allclose(&align_signs(&lead, &scal_w), &scal_w, tol, scale_atol::<F>(&scal_w), &what("scalings_"));
        // Every column (also of the zero eigenvalues) is normalized as scipy's eigh(Sb, Sw):
        // V^T Sw V = I, with scikit-learn's Sw.
        let v = scal.mapv(|a| a.to_f64());
        let vtv = v.t().dot(&cov_w).dot(&v);
        let eye = Array2::<f64>::eye(x.ncols());
        assert_allclose(&vtv, &eye, 0.0, 50.0 * tol, &what("scalings_^T covariance_ scalings_"));
        let tr_w = e2("transform");
        let tr = got.transform.as_ref().unwrap();
        assert_allclose(&align_signs(tr, &tr_w), &tr_w, tol, scale_atol::<F>(&tr_w), &what("transform"));
    } else {
        assert!(got.scalings.is_none() && got.ratio.is_none(), "{}", what("lsqr has no scalings_"));
    }
}

fn solver_cases<F: Real>(device: Option<Device>) {
    let p = LinearDiscriminantAnalysis::params;
    let (lsqr, eigen) = (p().solver(LdaSolver::Lsqr), p().solver(LdaSolver::Eigen));
    let auto = Some(Shrinkage::Auto);
    solver_case::<F>("lda_lsqr_iris", "iris_x", "iris_y", lsqr.clone(), device);
    solver_case::<F>("lda_lsqr_auto_iris", "iris_x", "iris_y", lsqr.clone().shrinkage(auto), device);
    solver_case::<F>(
        "lda_lsqr_shrink_priors_clf3",
        "clf3_x",
        "clf3_y",
        lsqr.clone().shrinkage(Some(Shrinkage::Fixed(0.43))).priors(vec![0.2, 0.5, 0.3]),
        device,
    );
    solver_case::<F>("lda_lsqr_auto_clf2", "clf2_x", "clf2_y", lsqr.clone().shrinkage(auto), device);
    solver_case::<F>("lda_lsqr_const_blobs", "blobs_const_x", "blobs_y", lsqr.clone(), device);
    solver_case::<F>("lda_lsqr_auto_const_blobs", "blobs_const_x", "blobs_y", lsqr.shrinkage(auto), device);
    solver_case::<F>("lda_eigen_iris", "iris_x", "iris_y", eigen.clone(), device);
    solver_case::<F>("lda_eigen_auto_blobs", "blobs_x", "blobs_y", eigen.clone().shrinkage(auto), device);
    solver_case::<F>(
        "lda_eigen_shrink_n1_clf3",
        "clf3_x",
        "clf3_y",
        eigen.clone().shrinkage(Some(Shrinkage::Fixed(0.2))).n_components(1),
        device,
    );
    solver_case::<F>("lda_eigen_auto_clf2", "clf2_x", "clf2_y", eigen.clone().shrinkage(auto), device);
    solver_case::<F>("lda_eigen_auto_const_blobs", "blobs_const_x", "blobs_y", eigen.clone().shrinkage(auto), device);
    solver_case::<F>("lda_eigen_priors_blobs", "blobs_x", "blobs_y", eigen.priors(vec![0.1, 0.2, 0.3, 0.4]), device);
}

#[test]
fn lda_solvers_match_scikit_learn() {
    solver_cases::<f64>(None);
    solver_cases::<f32>(None);
}

#[test]
fn lda_solvers_match_scikit_learn_on_cuda_sim() {
    solver_cases::<f64>(Some(Device::CudaSim));
    solver_cases::<f32>(Some(Device::CudaSim));
}

// scikit-learn's toy data of test_discriminant_analysis.py.
fn toy() -> (Array2<f64>, Array1<i64>) {
    (array![[-2.0, -1.0], [-1.0, -1.0], [-1.0, -2.0], [1.0, 1.0], [1.0, 2.0], [2.0, 1.0]], array![1, 1, 1, 2, 2, 2])
}

/// scikit-learn's `solver_shrinkage` list.
fn solver_shrinkage() -> Vec<LinearDiscriminantAnalysisParams> {
    let p = LinearDiscriminantAnalysis::params;
    let mut out = vec![p()];
    for solver in [LdaSolver::Lsqr, LdaSolver::Eigen] {
        out.push(p().solver(solver));
        for shrinkage in [Shrinkage::Auto, Shrinkage::Fixed(0.0), Shrinkage::Fixed(0.43)] {
            out.push(p().solver(solver).shrinkage(Some(shrinkage)));
        }
    }
    out
}

/// A fixed pseudo-random stream in [0, 1) (a plain LCG: scikit-learn's tests draw from numpy).
fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// scikit-learn's `test_lda_predict`, every solver and shrinkage of its list: the toy problem
/// and its one-feature version are separated, probabilities agree with the log-probabilities,
/// three classes on the toy data cannot all be separated; shrinkage with the svd solver is
/// refused (scikit-learn's `NotImplementedError`).
#[test]
fn test_lda_predict() {
    let (x, y) = toy();
    let x1 = array![[-2.0f64], [-1.0], [-1.0], [1.0], [1.0], [2.0]];
    for clf in solver_shrinkage() {
        assert_eq!(clf.fit(&x, &y).unwrap().predict(&x).unwrap(), y, "{clf:?}");
        let m = clf.fit(&x1, &y).unwrap();
        assert_eq!(m.predict(&x1).unwrap(), y, "{clf:?}");
        let p = m.predict_proba(&x1).unwrap();
        let from_p: Array1<i64> = p.column(1).iter().map(|&v| if v > 0.5 { 2 } else { 1 }).collect();
        assert_eq!(from_p, y, "{clf:?}");
        let lp = m.predict_log_proba(&x1).unwrap();
        assert!(lp.iter().zip(p.iter()).all(|(l, p)| (l.exp() - p).abs() <= 1e-6 + 1e-6 * p), "{clf:?}");
        let y3 = array![1, 1, 2, 2, 3, 3];
        let pred3 = clf.fit(&x, &y3).unwrap().predict(&x).unwrap();
        assert!(pred3 != y3, "LDA shouldn't be able to separate those ({clf:?})");
    }
    let err = LinearDiscriminantAnalysis::params().shrinkage(Some(Shrinkage::Auto)).fit(&x, &y).unwrap_err();
    assert!(matches!(err, EstimatorError::NotAvailable(_)), "{err}");
    assert!(err.to_string().contains("shrinkage not supported with 'svd' solver"), "{err}");
}

/// A sample of the normal distribution with mean `mean` and covariance `cov` (2 x 2), by
/// Box-Muller and the covariance's Cholesky factor.
fn normal2(next: &mut impl FnMut() -> f64, mean: [f64; 2], cov: [[f64; 2]; 2]) -> [f64; 2] {
    let (u1, u2) = (1.0 - next(), next());
    let r = (-2.0 * u1.ln()).sqrt();
    let (z1, z2) = (r * (2.0 * std::f64::consts::PI * u2).cos(), r * (2.0 * std::f64::consts::PI * u2).sin());
    let l11 = cov[0][0].sqrt();
    let l21 = cov[1][0] / l11;
    let l22 = (cov[1][1] - l21 * l21).sqrt();
    [mean[0] + l11 * z1, mean[1] + l21 * z1 + l22 * z2]
}

/// scikit-learn's `test_lda_predict_proba`: on 90,000 draws of Gaussian classes sharing a
/// covariance, every solver estimates the means and covariance, and its probabilities at a
/// sample are those of the true model (The Elements of Statistical Learning, 4.4.5) to 1e-2.
#[test]
fn test_lda_predict_proba() {
    let centers = [[0.0, 0.0], [-10.0, 40.0], [-30.0, 30.0]];
    let cov = [[10.0, 10.0], [10.0, 100.0]];
    for n_classes in [2usize, 3] {
        let per = 90_000 / 3;
        let mut next = lcg(42);
        let n = per * n_classes;
        let mut x = Array2::<f64>::zeros((n, 2));
        let y: Array1<i64> = (0..n).map(|i| (i / per) as i64).collect();
        for i in 0..n {
            let v = normal2(&mut next, centers[i / per], cov);
            x[[i, 0]] = v[0];
            x[[i, 1]] = v[1];
        }
        // The true model's probabilities, against the last class.
        let det = cov[0][0] * cov[1][1] - cov[0][1] * cov[1][0];
        let prec = [[cov[1][1] / det, -cov[0][1] / det], [-cov[1][0] / det, cov[0][0] / det]];
        let sample = [-22.0, 22.0];
        let last = centers[n_classes - 1];
        let disc: Vec<f64> = (0..n_classes - 1)
            .map(|c| {
                let diff = [centers[c][0] - last[0], centers[c][1] - last[1]];
                let alpha = [prec[0][0] * diff[0] + prec[0][1] * diff[1], prec[1][0] * diff[0] + prec[1][1] * diff[1]];
                let mid = [centers[c][0] + last[0], centers[c][1] + last[1]];
                let alpha0 = -0.5 * (mid[0] * alpha[0] + mid[1] * alpha[1]);
                (alpha0 + sample[0] * alpha[0] + sample[1] * alpha[1]).exp()
            })
            .collect();
        let denom = 1.0 + disc.iter().sum::<f64>();
        let mut want: Vec<f64> = disc.iter().map(|v| v / denom).collect();
        want.push(1.0 / denom);
        for solver in [LdaSolver::Svd, LdaSolver::Lsqr, LdaSolver::Eigen] {
            let m = LinearDiscriminantAnalysis::params().solver(solver).store_covariance(true).fit(&x, &y).unwrap();
            for (c, center) in centers.iter().enumerate().take(n_classes) {
                for (j, v) in center.iter().enumerate() {
                    assert!((m.means()[[c, j]] - v).abs() < 1e-1, "{solver:?} means_ {}", m.means());
                }
            }
            let got_cov = m.covariance().unwrap();
            for a in 0..2 {
                for b in 0..2 {
                    assert!((got_cov[[a, b]] - cov[a][b]).abs() < 1.0, "{solver:?} covariance_ {got_cov}");
                }
            }
            let p = m.predict_proba(&array![[sample[0], sample[1]]]).unwrap();
            for (c, w) in want.iter().enumerate() {
                assert!((p[[0, c]] - w).abs() < 1e-2, "{solver:?} {n_classes} classes: {p} vs {want:?}");
            }
        }
    }
}

/// scikit-learn's `test_lda_coefs`: the three solvers' coefficients agree (to 6 decimals) on
/// two blobs of 1000 samples (kiln's `make_blobs`, its own random stream).
#[test]
fn test_lda_coefs() {
    let (x, y) = kiln_estimators::datasets::make_blobs::<f64>(1000, 2, 2, 1.0, 11).unwrap();
    let coef = |solver| LinearDiscriminantAnalysis::params().solver(solver).fit(&x, &y).unwrap().coef().clone();
    let (svd, lsqr, eigen) = (coef(LdaSolver::Svd), coef(LdaSolver::Lsqr), coef(LdaSolver::Eigen));
    for (a, b) in [(&svd, &lsqr), (&svd, &eigen), (&eigen, &lsqr)] {
        assert!(a.iter().zip(b.iter()).all(|(u, v)| (u - v).abs() < 1.5e-6), "{a} vs {b}");
    }
}

/// scikit-learn's `test_lda_transform`: `n_components = 1` gives one column with the svd and
/// eigen solvers; lsqr cannot transform (scikit-learn's `NotImplementedError`).
#[test]
fn test_lda_transform() {
    let (x, y) = toy();
    for solver in [LdaSolver::Svd, LdaSolver::Eigen] {
        let m = LinearDiscriminantAnalysis::params().solver(solver).n_components(1).fit(&x, &y).unwrap();
        assert_eq!(m.transform(&x).unwrap().ncols(), 1, "{solver:?}");
    }
    let m = LinearDiscriminantAnalysis::params().solver(LdaSolver::Lsqr).n_components(1).fit(&x, &y).unwrap();
    let err = m.transform(&x).unwrap_err();
    assert!(matches!(err, EstimatorError::NotAvailable(_)), "{err}");
    assert!(err.to_string().contains("transform not implemented for 'lsqr'"), "{err}");
}

/// scikit-learn's `test_lda_solver_agreement`: svd and eigen transform alike up to sign, and the
/// three solvers' decision functions agree.
#[test]
fn test_lda_solver_agreement() {
    let (x, y) = toy();
    let fit = |solver| LinearDiscriminantAnalysis::params().solver(solver).n_components(1).fit(&x, &y).unwrap();
    let (svd, eigen, lsqr) = (fit(LdaSolver::Svd), fit(LdaSolver::Eigen), fit(LdaSolver::Lsqr));
    let (ts, te) = (svd.transform(&x).unwrap(), eigen.transform(&x).unwrap());
    assert_allclose(&ts.mapv(f64::abs), &te.mapv(f64::abs), 1e-7, 0.0, "|transform| svd vs eigen");
    let ds = svd.decision_function(&x).unwrap();
    assert_allclose(&eigen.decision_function(&x).unwrap(), &ds, 1e-7, 1e-12, "decision eigen vs svd");
    assert_allclose(&lsqr.decision_function(&x).unwrap(), &ds, 1e-7, 1e-12, "decision lsqr vs svd");
}

/// scikit-learn's `test_lda_explained_variance_ratio`: the eigen solver's ratios sum to 1, there
/// are `n_classes - 1` of them, and they are the svd solver's.
#[test]
fn test_lda_explained_variance_ratio() {
    let mut next = lcg(0);
    let x = Array2::from_shape_fn((40, 20), |_| (next() - 0.5) * 200.0);
    let y: Array1<i64> = (0..40).map(|_| (next() * 3.0) as i64).collect();
    let eigen = LinearDiscriminantAnalysis::params().solver(LdaSolver::Eigen).fit(&x, &y).unwrap();
    let re = eigen.explained_variance_ratio().unwrap().clone();
    assert_eq!(re.len(), 2);
    assert!((re.sum() - 1.0).abs() < 1e-3, "{re}");
    let svd = LinearDiscriminantAnalysis::params().fit(&x, &y).unwrap();
    let rs = svd.explained_variance_ratio().unwrap();
    assert!(rs.iter().zip(re.iter()).all(|(a, b)| (a - b).abs() < 1.5e-6), "{rs} vs {re}");
}

/// scikit-learn's `test_lda_orthogonality` with the eigen solver: four classes in a kite; the
/// long diagonal maps to the first component, the short one to the second, and the
/// within-class scatter to the identity.
#[test]
fn test_lda_orthogonality() {
    let means = array![[0.0, 0.0, -1.0], [0.0, 2.0, 0.0], [0.0, -2.0, 0.0], [0.0, 0.0, 5.0]];
    let scatter =
        array![[0.1, 0.0, 0.0], [-0.1, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, -0.1, 0.0], [0.0, 0.0, 0.1], [0.0, 0.0, -0.1]];
    let x = Array2::from_shape_fn((24, 3), |(i, j)| means[[i / 6, j]] + scatter[[i % 6, j]]);
    let y: Array1<i64> = (0..24).map(|i| (i / 6) as i64).collect();
    let m = LinearDiscriminantAnalysis::params().solver(LdaSolver::Eigen).fit(&x, &y).unwrap();
    let mt = m.transform(&means).unwrap();
    let unit = |v: Array1<f64>| {
        let norm = v.dot(&v).sqrt();
        v / norm
    };
    let d1 = unit(&mt.row(3) - &mt.row(0));
    let d2 = unit(&mt.row(2) - &mt.row(1));
    let t = m.transform(&scatter).unwrap();
    let out = t.ncols();
    let tc = &t - &t.mean_axis(Axis(0)).unwrap();
    let cov = tc.t().dot(&tc) / t.nrows() as f64;
    for a in 0..out {
        for b in 0..out {
            let want = if a == b { 1.0 } else { 0.0 };
            assert!((cov[[a, b]] - want).abs() < 1.5e-7, "cov[{a}, {b}] = {}", cov[[a, b]]);
        }
    }
    assert!((d1[0].abs() - 1.0).abs() < 1.5e-7, "{d1}");
    assert!((d2[1].abs() - 1.0).abs() < 1.5e-7, "{d2}");
}

/// scikit-learn's `test_lda_scaling` with every solver: features on scales 1, 100 and 10000
/// are still separated.
#[test]
fn test_lda_scaling() {
    let mut next = lcg(1234);
    let scale = [1.0, 100.0, 10000.0];
    let x = Array2::from_shape_fn((200, 3), |(i, j)| {
        let shift = match (j, i < 100) {
            (0, true) => -10.0,
            (0, false) => 10.0,
            _ => 0.0,
        };
        (next() * 2.0 - 1.0 + shift) * scale[j]
    });
    let y: Array1<i64> = (0..200).map(|i| if i < 100 { -1 } else { 1 }).collect();
    for solver in [LdaSolver::Svd, LdaSolver::Lsqr, LdaSolver::Eigen] {
        let m = LinearDiscriminantAnalysis::params().solver(solver).fit(&x, &y).unwrap();
        assert_eq!(m.score(&x, &y).unwrap(), 1.0, "{solver:?}");
    }
}

/// scikit-learn's `test_lda_store_covariance` (lsqr and eigen): the covariance is always kept,
/// with or without `store_covariance`, and is the prior-weighted class covariance.
#[test]
fn test_lda_store_covariance() {
    let x6 = array![
        [0.0f64, 0.0],
        [-2.0, -2.0],
        [-2.0, -1.0],
        [-1.0, -1.0],
        [-1.0, -2.0],
        [1.0, 3.0],
        [1.0, 2.0],
        [2.0, 1.0],
        [2.0, 2.0]
    ];
    let y6 = array![1, 1, 1, 1, 1, 2, 2, 2, 2];
    let want = array![[0.422222, 0.088889], [0.088889, 0.533333]];
    for solver in [LdaSolver::Lsqr, LdaSolver::Eigen] {
        for store in [false, true] {
            let m = LinearDiscriminantAnalysis::params().solver(solver).store_covariance(store).fit(&x6, &y6).unwrap();
            let cov = m.covariance().expect("covariance_ is always set");
            assert!(cov.iter().zip(want.iter()).all(|(g, w)| (g - w).abs() < 1e-6), "{solver:?} {cov}");
        }
    }
}

/// The rows of `x` whose label is `c`.
fn rows_of(x: &Array2<f64>, y: &Array1<i64>, c: i64) -> Array2<f64> {
    let idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == c).collect();
    x.select(Axis(0), &idx)
}

/// The prior-weighted sum of `cov_of(rows of class c)` over the classes 0..3, priors the class
/// frequencies.
fn weighted_class_cov(x: &Array2<f64>, y: &Array1<i64>, cov_of: impl Fn(&Array2<f64>) -> Array2<f64>) -> Array2<f64> {
    let d = x.ncols();
    let mut total = Array2::<f64>::zeros((d, d));
    for c in 0..3 {
        let xc = rows_of(x, y, c);
        total += &(cov_of(&xc) * (xc.nrows() as f64 / y.len() as f64));
    }
    total
}

/// scikit-learn's `test_lda_shrinkage`: `shrinkage = 0.5` gives the covariance of
/// `covariance_estimator=ShrunkCovariance(shrinkage=0.5)` (here: kiln's ShrunkCovariance fitted
/// on each class, weighted by the priors), for ten draws.
#[test]
fn test_lda_shrinkage() {
    for seed in 0..10 {
        let mut next = lcg(seed);
        let x = Array2::from_shape_fn((100, 10), |_| next());
        let y: Array1<i64> = (0..100).map(|_| (next() * 3.0) as i64).collect();
        let m = LinearDiscriminantAnalysis::params()
            .solver(LdaSolver::Lsqr)
            .shrinkage(Some(Shrinkage::Fixed(0.5)))
            .store_covariance(true)
            .fit(&x, &y)
            .unwrap();
        let want = weighted_class_cov(&x, &y, |xc| {
            ShrunkCovariance::params().shrinkage(0.5).fit(xc).unwrap().covariance().clone()
        });
        assert_allclose(m.covariance().unwrap(), &want, 1e-7, 1e-15, &format!("seed {seed} covariance_"));
        for c in 0..3 {
            let mean = rows_of(&x, &y, c).mean_axis(Axis(0)).unwrap();
            let got = m.means().row(c as usize).to_owned();
            assert_allclose(&got, &mean, 1e-7, 0.0, "means_");
        }
    }
}

/// scikit-learn's `test_lda_ledoitwolf`: `shrinkage = "auto"` gives the covariance of a
/// Ledoit-Wolf estimate on the standardized class data, scaled back (here: kiln's
/// StandardScaler and LedoitWolf on each class, weighted by the priors).
#[test]
fn test_lda_ledoitwolf() {
    let mut next = lcg(0);
    let x = Array2::from_shape_fn((100, 10), |_| next());
    let y: Array1<i64> = (0..100).map(|_| (next() * 3.0) as i64).collect();
    let m = LinearDiscriminantAnalysis::params()
        .solver(LdaSolver::Lsqr)
        .shrinkage(Some(Shrinkage::Auto))
        .store_covariance(true)
        .fit(&x, &y)
        .unwrap();
    let standardized_ledoit_wolf = |xc: &Array2<f64>| {
        let sc = StandardScaler::params().fit(xc).unwrap();
        let s = LedoitWolf::params().fit(&sc.transform(xc).unwrap()).unwrap().covariance().clone();
        let scale = sc.scale();
        Array2::from_shape_fn(s.dim(), |(a, b)| scale[a] * s[[a, b]] * scale[b])
    };
    let want = weighted_class_cov(&x, &y, standardized_ledoit_wolf);
    assert_allclose(m.covariance().unwrap(), &want, 1e-7, 1e-15, "covariance_");
}

/// scikit-learn's `test_lda_dimension_warning` with the lsqr and eigen solvers: `n_components`
/// up to `min(n_features, n_classes - 1)` fits, above it is refused.
#[test]
fn test_lda_dimension_warning() {
    let mut next = lcg(0);
    for n_features in [3usize, 5] {
        for n_classes in [5usize, 3] {
            let x = Array2::from_shape_fn((10, n_features), |_| next() - 0.5);
            let y: Array1<i64> = (0..10).map(|i| (i % n_classes) as i64).collect();
            let max_components = n_features.min(n_classes - 1);
            for solver in [LdaSolver::Lsqr, LdaSolver::Eigen] {
                let p = || LinearDiscriminantAnalysis::params().solver(solver).shrinkage(Some(Shrinkage::Auto));
                for c in [max_components - 1, max_components] {
                    p().n_components(c).fit(&x, &y).unwrap();
                }
                for c in [max_components + 1, n_features.max(n_classes - 1) + 1] {
                    let err = p().n_components(c).fit(&x, &y).unwrap_err();
                    assert!(err.to_string().contains("n_components cannot be larger than"), "{err}");
                }
            }
        }
    }
}

/// scikit-learn's `test_lda_numeric_consistency_float32_float64` (and `test_lda_dtype_match`:
/// an f32 fit keeps f32 coefficients): every solver and shrinkage, f32 and f64 agree to 1e-6.
#[test]
fn test_lda_numeric_consistency_float32_float64() {
    let (x, y) = toy();
    for clf in solver_shrinkage() {
        let c64 = clf.fit(&x, &y).unwrap().coef().clone();
        let c32: Array2<f32> = clf.fit(&x.mapv(|v| v as f32), &y).unwrap().coef().clone();
        assert_allclose(&c32, &c64, 1e-6, 0.0, &format!("{clf:?} f32 coef_"));
    }
}

/// scikit-learn's `test_raises_value_error_on_same_number_of_classes_and_samples`, every
/// solver.
#[test]
fn test_raises_value_error_on_same_number_of_classes_and_samples() {
    let x = array![[0.5, 0.6], [0.6, 0.5]];
    for solver in [LdaSolver::Svd, LdaSolver::Lsqr, LdaSolver::Eigen] {
        let err = LinearDiscriminantAnalysis::params().solver(solver).fit(&x, &array![0i64, 1]).unwrap_err();
        assert!(err.to_string().contains("The number of samples must be more"), "{err}");
    }
}

/// Bad input for the solvers: a shrinkage outside [0, 1] or NaN; the eigen solver on data whose
/// within-class covariance is singular (a feature constant within every class: scipy's eigh
/// raises there, shrinkage mends it); `set_param` by scikit-learn's names and values.
#[test]
fn lda_solver_bad_input() {
    let (x, y) = toy();
    let p = || LinearDiscriminantAnalysis::params().solver(LdaSolver::Lsqr);
    for s in [-0.1, 1.5, f64::NAN] {
        let err = p().shrinkage(Some(Shrinkage::Fixed(s))).fit(&x, &y).unwrap_err();
        assert!(matches!(err, EstimatorError::InvalidParameter { name: "shrinkage", .. }), "{err}");
    }
    // scikit-learn's X2: zero variance in the second feature.
    let x2 = array![
        [-3.0, 0.0],
        [-2.0, 0.0],
        [-1.0, 0.0],
        [-1.0, 0.0],
        [0.0, 0.0],
        [1.0, 0.0],
        [1.0, 0.0],
        [2.0, 0.0],
        [3.0, 0.0]
    ];
    let y6 = array![1i64, 1, 1, 1, 1, 2, 2, 2, 2];
    let eigen = || LinearDiscriminantAnalysis::params().solver(LdaSolver::Eigen);
    assert!(matches!(eigen().fit(&x2, &y6), Err(EstimatorError::Linalg(_))));
    let m = eigen().shrinkage(Some(Shrinkage::Auto)).fit(&x2, &y6).unwrap();
    assert!(m.coef().iter().all(|v: &f64| v.is_finite()));
    // lsqr takes the minimum-norm solution: the constant feature gets no weight.
    let m = p().fit(&x2, &y6).unwrap();
    assert_eq!(m.coef()[[0, 1]], 0.0, "{}", m.coef());
    let mut q = LinearDiscriminantAnalysis::params();
    q.set_param("solver", "eigen".into()).unwrap();
    q.set_param("shrinkage", "auto".into()).unwrap();
    assert_eq!(q, eigen().shrinkage(Some(Shrinkage::Auto)));
    q.set_param("shrinkage", 0.25.into()).unwrap();
    assert_eq!(q, eigen().shrinkage(Some(Shrinkage::Fixed(0.25))));
    assert!(q.set_param("solver", "cholesky".into()).is_err());
}

fn covariance_estimator_cases<F: Real>(device: Option<Device>) {
    let p = LinearDiscriminantAnalysis::params;
    let (lsqr, eigen) = (p().solver(LdaSolver::Lsqr), p().solver(LdaSolver::Eigen));
    solver_case::<F>("lda_lsqr_oas_iris", "iris_x", "iris_y", lsqr.clone().covariance_estimator(Oas::params()), device);
    solver_case::<F>(
        "lda_lsqr_lw_clf3",
        "clf3_x",
        "clf3_y",
        lsqr.clone().covariance_estimator(LedoitWolf::params()),
        device,
    );
    let centered = ShrunkCovariance::params().shrinkage(0.3).assume_centered(true);
    solver_case::<F>("lda_lsqr_shrunk_centered_clf2", "clf2_x", "clf2_y", lsqr.covariance_estimator(centered), device);
    let emp = eigen.clone().covariance_estimator(EmpiricalCovariance::params());
    solver_case::<F>("lda_eigen_emp_blobs", "blobs_x", "blobs_y", emp, device);
    solver_case::<F>(
        "lda_eigen_oas_clf2",
        "clf2_x",
        "clf2_y",
        eigen.clone().covariance_estimator(Oas::params()),
        device,
    );
    let lw = eigen.covariance_estimator(LedoitWolf::params());
    solver_case::<F>("lda_eigen_lw_const_blobs", "blobs_const_x", "blobs_y", lw, device);
}

/// `covariance_estimator` (OAS, LedoitWolf, ShrunkCovariance with `assume_centered`,
/// EmpiricalCovariance) with the lsqr and eigen solvers against scikit-learn's fixtures.
#[test]
fn lda_covariance_estimator_matches_scikit_learn() {
    covariance_estimator_cases::<f64>(None);
    covariance_estimator_cases::<f32>(None);
}

#[test]
fn lda_covariance_estimator_matches_scikit_learn_on_cuda_sim() {
    covariance_estimator_cases::<f64>(Some(Device::CudaSim));
    covariance_estimator_cases::<f32>(Some(Device::CudaSim));
}

/// scikit-learn's `test_lda_shrinkage` itself: `shrinkage = 0.5` and
/// `covariance_estimator=ShrunkCovariance(shrinkage=0.5)` give the same means and covariance
/// (ten draws); and LedoitWolf / OAS as covariance estimators give the prior-weighted sum of
/// the estimators fitted on each class's rows.
#[test]
fn test_lda_shrinkage_covariance_estimator() {
    for seed in 0..10 {
        let mut next = lcg(seed);
        let x = Array2::from_shape_fn((100, 10), |_| next());
        let y: Array1<i64> = (0..100).map(|_| (next() * 3.0) as i64).collect();
        let lsqr = || LinearDiscriminantAnalysis::params().solver(LdaSolver::Lsqr).store_covariance(true);
        let c1 = lsqr().shrinkage(Some(Shrinkage::Fixed(0.5))).fit(&x, &y).unwrap();
        let c2 = lsqr().covariance_estimator(ShrunkCovariance::params().shrinkage(0.5)).fit(&x, &y).unwrap();
        assert_allclose(c2.means(), c1.means(), 1e-7, 0.0, &format!("seed {seed} means_"));
        assert_allclose(
            c2.covariance().unwrap(),
            c1.covariance().unwrap(),
            1e-7,
            1e-15,
            &format!("seed {seed} covariance_"),
        );
        let lw = lsqr().covariance_estimator(LedoitWolf::params()).fit(&x, &y).unwrap();
        let want = weighted_class_cov(&x, &y, |xc| LedoitWolf::params().fit(xc).unwrap().covariance().clone());
        assert_allclose(lw.covariance().unwrap(), &want, 1e-7, 1e-15, &format!("seed {seed} LedoitWolf covariance_"));
        let oas = lsqr().covariance_estimator(Oas::params()).fit(&x, &y).unwrap();
        let want = weighted_class_cov(&x, &y, |xc| Oas::params().fit(xc).unwrap().covariance().clone());
        assert_allclose(oas.covariance().unwrap(), &want, 1e-7, 1e-15, &format!("seed {seed} OAS covariance_"));
    }
}

/// scikit-learn's `test_lda_predict`, its covariance_estimator part: a shrinkage and a
/// covariance estimator together are refused (a shrinkage of 0 is no shrinkage and allowed), so
/// is a covariance estimator with the svd solver, with scikit-learn's wording; the estimator's
/// own hyper-parameters are checked. (Its last case, a KMeans as covariance estimator, cannot
/// be written in kiln: only covariance estimators convert into `CovarianceEstimator`.)
#[test]
fn test_lda_predict_covariance_estimator_errors() {
    let (x, y) = toy();
    let p = || LinearDiscriminantAnalysis::params().solver(LdaSolver::Lsqr);
    for s in [Shrinkage::Fixed(0.1), Shrinkage::Auto] {
        let err = p().shrinkage(Some(s)).covariance_estimator(ShrunkCovariance::params()).fit(&x, &y).unwrap_err();
        assert!(matches!(err, EstimatorError::InvalidParameter { name: "shrinkage", .. }), "{err}");
        let msg = "covariance_estimator and shrinkage parameters are not None. Only one of the two can be set.";
        assert!(err.to_string().contains(msg), "{err}");
    }
    let m = p().shrinkage(Some(Shrinkage::Fixed(0.0))).covariance_estimator(Oas::params()).fit(&x, &y).unwrap();
    assert_eq!(m.predict(&x).unwrap(), y);
    let err = LinearDiscriminantAnalysis::params().covariance_estimator(LedoitWolf::params()).fit(&x, &y).unwrap_err();
    assert!(matches!(err, EstimatorError::InvalidParameter { name: "covariance_estimator", .. }), "{err}");
    assert!(err.to_string().contains("covariance estimator is not supported with svd"), "{err}");
    let err = p().covariance_estimator(ShrunkCovariance::params().shrinkage(1.5)).fit(&x, &y).unwrap_err();
    assert!(matches!(err, EstimatorError::InvalidParameter { name: "shrinkage", .. }), "{err}");
    let err = p().covariance_estimator(LedoitWolf::params().block_size(0)).fit(&x, &y).unwrap_err();
    assert!(matches!(err, EstimatorError::InvalidParameter { name: "block_size", .. }), "{err}");
    // Every solver/estimator pair separates the toy data.
    for solver in [LdaSolver::Lsqr, LdaSolver::Eigen] {
        for est in [
            CovarianceEstimator::from(EmpiricalCovariance::params()),
            ShrunkCovariance::params().into(),
            LedoitWolf::params().into(),
            Oas::params().into(),
        ] {
            let m = LinearDiscriminantAnalysis::params().solver(solver).covariance_estimator(est).fit(&x, &y).unwrap();
            assert_eq!(m.predict(&x).unwrap(), y, "{solver:?} {est:?}");
        }
    }
}
