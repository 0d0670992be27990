//! LinearDiscriminantAnalysis: parity with scikit-learn (fixtures from `cargo xtask fixtures`)
//! in f64 and f32, on host arrays and on the CUDA simulator, and scikit-learn's own tests
//! (`tests/test_discriminant_analysis.py`, the svd-solver cases).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::data::Host;
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Axis, Ix0, Ix1, Ix2};

/// Each column of `got` negated where its dot product with `want`'s is negative: the
/// columns of `scalings_` and `transform` are singular vectors, whose sign LAPACK and faer
/// choose independently.
pub(crate) fn align_signs<F: Real>(got: &Array2<F>, want: &Array2<f64>) -> Array2<F> {
    let mut out = got.clone();
    for (mut g, w) in out.axis_iter_mut(Axis(1)).zip(want.axis_iter(Axis(1))) {
        let dot: f64 = g.iter().zip(w.iter()).map(|(a, b)| a.to_f64() * b).sum();
        if dot < 0.0 {
            g.mapv_inplace(|v| F::from_f64(-v.to_f64()));
        }
    }
    out
}

/// The largest magnitude in `a` times a few unit roundoffs of `F`: the absolute error of
/// values computed as sums of terms of that size (decision values, projections).
pub(crate) fn scale_atol<F: Real>(a: &Array2<f64>) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs())) * rtol::<F>()
}

/// Log-probabilities against scikit-learn's (f64): in f32 a probability below the smallest
/// normal number is 0 or subnormal (the CUDA simulator flushes it to 0, whose log scikit-learn's
/// `predict_log_proba` takes as that of the smallest normal): there the log-probability is only
/// checked to lie between the log of the smallest subnormal f32 (or scikit-learn's, if lower)
/// and the log of the smallest normal f32 (a subnormal has too few bits for more).
pub(crate) fn check_log_proba<F: Real>(got: &Array2<F>, want: &Array2<f64>, tol: f64, atol: f64, what: &str) {
    let floor = if std::mem::size_of::<F>() == 4 { f64::from(f32::MIN_POSITIVE).ln() } else { f64::NEG_INFINITY };
    assert_eq!(got.dim(), want.dim(), "{what}: shape");
    for ((i, g), w) in got.indexed_iter().zip(want.iter()) {
        let g = g.to_f64();
        if *w < floor {
            let lowest = w.min(f64::from(f32::from_bits(1)).ln());
            assert!(
                g >= lowest - atol - tol * w.abs() && g <= floor * (1.0 - tol),
                "{what}{i:?}: {g} vs scikit-learn {w}"
            );
        } else {
            assert!((g - w).abs() <= atol + tol * w.abs(), "{what}{i:?}: {g} vs scikit-learn {w}");
        }
    }
}

fn lda_case<F: Real>(
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
    let score = expected::<Ix0>(&format!("{fx}.score")).into_scalar();
    let predict = ints::<Ix1>(&format!("{fx}.predict"));
    let (coef_w, scal_w, tr_w, dec_w) = (e2("coef_"), e2("scalings_"), e2("transform"), e2("decision_function"));
    let (coef_atol, tr_atol, dec_atol) = (scale_atol::<F>(&coef_w), scale_atol::<F>(&tr_w), scale_atol::<F>(&dec_w));
    let scal_atol = scale_atol::<F>(&scal_w);
    let logp_w = e2("predict_log_proba");
    // Log-probabilities near 0 are differences of decision values: their error is absolute.
    let logp_atol = dec_atol;
    let check = |m: &LinearDiscriminantAnalysis<F, Host>, what: &str| {
        assert_eq!(m.classes(), &ints::<Ix1>(&format!("{fx}.classes_")), "{what} classes_");
        assert_allclose(m.means(), &e2("means_"), tol, 0.0, "means_");
        assert_allclose(m.priors(), &e1("priors_"), tol, 0.0, "priors_");
        assert_allclose(m.xbar().unwrap(), &e1("xbar_"), tol, 1e-12, "xbar_");
        assert_allclose(m.coef(), &coef_w, tol, coef_atol, "coef_");
        let icpt = e1("intercept_");
        let icpt_atol = icpt.iter().fold(0.0f64, |a, v| a.max(v.abs())) * tol;
        assert_allclose(m.intercept(), &icpt, tol, icpt_atol, "intercept_");
        assert_allclose(&align_signs(m.scalings().unwrap(), &scal_w), &scal_w, tol, scal_atol, "scalings_");
        let evr = e1("explained_variance_ratio_");
        assert_allclose(m.explained_variance_ratio().unwrap(), &evr, tol, 1e-12, "explained_variance_ratio_");
        if crate::common::fixture(&format!("{fx}.covariance_.npy")).exists() {
            let cov = m.covariance().expect("store_covariance");
            assert_allclose(cov, &e2("covariance_"), tol, 1e-12, "covariance_");
        } else {
            assert!(m.covariance().is_none());
        }
    };
    match device {
        None => {
            let m = params.fit(&x, &y).unwrap();
            check(&m, fx);
            assert_eq!(m.predict(&x).unwrap(), predict, "{fx} predict");
            assert_allclose(&m.decision_function(&x).unwrap(), &dec_w, tol, dec_atol, "decision_function");
            assert_allclose(&m.predict_proba(&x).unwrap(), &e2("predict_proba"), tol, 1e-12, "predict_proba");
            check_log_proba(&m.predict_log_proba(&x).unwrap(), &logp_w, tol, logp_atol, "predict_log_proba");
            let z = m.transform(&x).unwrap();
            assert_allclose(&align_signs(&z, &tr_w), &tr_w, tol, tr_atol, "transform");
            assert_eq!(m.score(&x, &y).unwrap(), score, "{fx} score");
        }
        Some(dev) => {
            let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
            let m = params.fit(&xt, &yt).unwrap();
            assert_eq!(m.coef().device(), dev, "the model stays on the data's device");
            let back = |t: &Tensor<F>| t.to_array::<Ix2>().unwrap();
            assert_allclose(&back(m.means()), &e2("means_"), tol, 0.0, "device means_");
            assert_allclose(&back(m.coef()), &coef_w, tol, coef_atol, "device coef_");
            assert_allclose(
                &align_signs(&back(m.scalings().unwrap()), &scal_w),
                &scal_w,
                tol,
                scal_atol,
                "device scalings_",
            );
            assert_eq!(m.predict(&xt).unwrap().to_array::<Ix1>().unwrap(), predict, "{fx} device predict");
            let p = m.predict_proba(&xt).unwrap();
            assert_eq!(p.device(), dev);
            assert_allclose(&back(&p), &e2("predict_proba"), tol, 1e-12, "device predict_proba");
            let lp = back(&m.predict_log_proba(&xt).unwrap());
            check_log_proba(&lp, &logp_w, tol, logp_atol, "device predict_log_proba");
            let dec = back(&m.decision_function(&xt).unwrap());
            assert_allclose(&dec, &dec_w, tol, dec_atol, "device decision_function");
            let z = back(&m.transform(&xt).unwrap());
            assert_allclose(&align_signs(&z, &tr_w), &tr_w, tol, tr_atol, "device transform");
            assert_eq!(m.score(&xt, &yt).unwrap(), score, "{fx} device score");
        }
    }
}

fn all_cases<F: Real>(device: Option<Device>) {
    let p = LinearDiscriminantAnalysis::params;
    lda_case::<F>("lda_iris", "iris_x", "iris_y", p(), device);
    lda_case::<F>("lda_clf2", "clf2_x", "clf2_y", p(), device);
    lda_case::<F>(
        "lda_priors_clf3",
        "clf3_x",
        "clf3_y",
        p().priors(vec![0.2, 0.5, 0.3]).store_covariance(true),
        device,
    );
    lda_case::<F>("lda_n1_blobs", "blobs_x", "blobs_y", p().n_components(1).store_covariance(true), device);
    lda_case::<F>("lda_const_blobs", "blobs_const_x", "blobs_y", p(), device);
    lda_case::<F>("lda_unnormalized_priors_blobs", "blobs_x", "blobs_y", p().priors(vec![1.0, 2.0, 3.0, 4.0]), device);
}

#[test]
fn lda_matches_scikit_learn() {
    all_cases::<f64>(None);
    all_cases::<f32>(None);
}

#[test]
fn lda_matches_scikit_learn_on_cuda_sim() {
    all_cases::<f64>(Some(Device::CudaSim));
    all_cases::<f32>(Some(Device::CudaSim));
}

/// The API line of the issue.
#[test]
fn lda_api_line() -> Result<(), EstimatorError> {
    let x = input::<f64>("iris_x");
    let y = ints::<Ix1>("input_iris_y");
    let lda = LinearDiscriminantAnalysis::params().fit(&x, &y)?;
    let (p, z) = (lda.predict_proba(&x)?, lda.transform(&x)?);
    assert_eq!(p.dim(), (150, 3));
    assert_eq!(z.dim(), (150, 2));
    Ok(())
}

// scikit-learn's toy data of test_discriminant_analysis.py.
fn toy() -> (Array2<f64>, Array1<i64>) {
    (array![[-2.0, -1.0], [-1.0, -1.0], [-1.0, -2.0], [1.0, 1.0], [1.0, 2.0], [2.0, 1.0]], array![1, 1, 1, 2, 2, 2])
}

/// scikit-learn's `test_lda_predict` (svd solver): the toy problem and its one-feature version
/// are separated, probabilities agree with the log-probabilities, and three classes on the
/// toy data cannot all be separated.
#[test]
fn test_lda_predict() {
    let (x, y) = toy();
    let clf = LinearDiscriminantAnalysis::params();
    assert_eq!(clf.fit(&x, &y).unwrap().predict(&x).unwrap(), y);
    let x1 = array![[-2.0f64], [-1.0], [-1.0], [1.0], [1.0], [2.0]];
    let m = clf.fit(&x1, &y).unwrap();
    assert_eq!(m.predict(&x1).unwrap(), y);
    let p = m.predict_proba(&x1).unwrap();
    let from_p: Array1<i64> = p.column(1).iter().map(|&v| if v > 0.5 { 2 } else { 1 }).collect();
    assert_eq!(from_p, y);
    let lp = m.predict_log_proba(&x1).unwrap();
    assert!(lp.iter().zip(p.iter()).all(|(l, p)| (l.exp() - p).abs() <= 1e-6 + 1e-6 * p));
    let y3 = array![1, 1, 2, 2, 3, 3];
    let pred3 = clf.fit(&x, &y3).unwrap().predict(&x).unwrap();
    assert!(pred3 != y3, "LDA shouldn't be able to separate those");
}

/// scikit-learn's `test_lda_priors`: negative priors are refused; priors that do not sum to 1
/// are renormalized.
#[test]
fn test_lda_priors() {
    let (x, y) = toy();
    let err = LinearDiscriminantAnalysis::params().priors(vec![0.5, -0.5]).fit(&x, &y).unwrap_err();
    assert!(err.to_string().contains("priors must be non-negative"), "{err}");
    LinearDiscriminantAnalysis::params().priors(vec![0.5, 0.5]).fit(&x, &y).unwrap();
    let m = LinearDiscriminantAnalysis::params().priors(vec![0.5, 0.6]).fit(&x, &y).unwrap();
    let want = [0.5 / 1.1, 0.6 / 1.1];
    assert!(m.priors().iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12), "{}", m.priors());
}

/// scikit-learn's `test_lda_transform`: `n_components = 1` gives one column.
#[test]
fn test_lda_transform() {
    let (x, y) = toy();
    let m = LinearDiscriminantAnalysis::params().n_components(1).fit(&x, &y).unwrap();
    assert_eq!(m.transform(&x).unwrap().ncols(), 1);
}

/// scikit-learn's `test_lda_explained_variance_ratio` (svd part): the ratios sum to 1 and there
/// are `n_classes - 1` of them. The data is a fixed pseudo-random draw (a plain LCG here).
#[test]
fn test_lda_explained_variance_ratio() {
    let mut state = 12345u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = Array2::from_shape_fn((40, 20), |_| (next() - 0.5) * 200.0);
    let y: Array1<i64> = (0..40).map(|_| (next() * 3.0) as i64).collect();
    let m = LinearDiscriminantAnalysis::params().fit(&x, &y).unwrap();
    let r = m.explained_variance_ratio().unwrap();
    assert_eq!(r.len(), 2);
    assert!((r.sum() - 1.0).abs() < 1e-3, "{r}");
}

/// scikit-learn's `test_lda_orthogonality`: four classes in a kite; the long diagonal maps to
/// the first component, the short one to the second, and the within-class scatter to the
/// identity.
#[test]
fn test_lda_orthogonality() {
    let means = array![[0.0, 0.0, -1.0], [0.0, 2.0, 0.0], [0.0, -2.0, 0.0], [0.0, 0.0, 5.0]];
    let scatter =
        array![[0.1, 0.0, 0.0], [-0.1, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, -0.1, 0.0], [0.0, 0.0, 0.1], [0.0, 0.0, -0.1]];
    let x = Array2::from_shape_fn((24, 3), |(i, j)| means[[i / 6, j]] + scatter[[i % 6, j]]);
    let y: Array1<i64> = (0..24).map(|i| (i / 6) as i64).collect();
    let m = LinearDiscriminantAnalysis::params().fit(&x, &y).unwrap();
    let mt = m.transform(&means).unwrap();
    let unit = |v: Array1<f64>| {
        let norm = v.dot(&v).sqrt();
        v / norm
    };
    let d1 = unit(&mt.row(3) - &mt.row(0));
    let d2 = unit(&mt.row(2) - &mt.row(1));
    let t = m.transform(&scatter).unwrap();
    let out = t.ncols();
    let mean = t.mean_axis(Axis(0)).unwrap();
    let tc = &t - &mean;
    let cov = tc.t().dot(&tc) / t.nrows() as f64;
    for a in 0..out {
        for b in 0..out {
            let want = if a == b { 1.0 } else { 0.0 };
            assert!((cov[[a, b]] - want).abs() < 1e-7, "cov[{a}, {b}] = {}", cov[[a, b]]);
        }
    }
    assert!((d1[0].abs() - 1.0).abs() < 1e-7, "{d1}");
    assert!((d2[1].abs() - 1.0).abs() < 1e-7, "{d2}");
}

/// scikit-learn's `test_lda_scaling`: features on scales 1, 100 and 10000 are still separated.
#[test]
fn test_lda_scaling() {
    let mut state = 1234u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let scale = [1.0, 100.0, 10000.0];
    let x = Array2::from_shape_fn((200, 3), |(i, j)| {
        let shift = if j == 0 {
            if i < 100 {
                -10.0
            } else {
                10.0
            }
        } else {
            0.0
        };
        (next() + shift) * scale[j]
    });
    let y: Array1<i64> = (0..200).map(|i| if i < 100 { -1 } else { 1 }).collect();
    let m = LinearDiscriminantAnalysis::params().fit(&x, &y).unwrap();
    assert_eq!(m.score(&x, &y).unwrap(), 1.0);
}

/// scikit-learn's `test_lda_store_covariance` (svd part): no covariance by default; with
/// `store_covariance` the prior-weighted class covariance.
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
    assert!(LinearDiscriminantAnalysis::params().fit(&x6, &y6).unwrap().covariance().is_none());
    let m = LinearDiscriminantAnalysis::params().store_covariance(true).fit(&x6, &y6).unwrap();
    let want = array![[0.422222, 0.088889], [0.088889, 0.533333]];
    let cov = m.covariance().unwrap();
    assert!(cov.iter().zip(want.iter()).all(|(g, w)| (g - w).abs() < 1e-6), "{cov}");
}

/// scikit-learn's `test_lda_dimension_warning`: `n_components` up to `min(n_features,
/// n_classes - 1)` fits, above it is refused.
#[test]
fn test_lda_dimension_warning() {
    let mut state = 0u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for n_features in [3usize, 5] {
        for n_classes in [5usize, 3] {
            let x = Array2::from_shape_fn((10, n_features), |_| next() - 0.5);
            let y: Array1<i64> = (0..10).map(|i| (i % n_classes) as i64).collect();
            let max_components = n_features.min(n_classes - 1);
            for c in [max_components - 1, max_components] {
                if c > 0 {
                    LinearDiscriminantAnalysis::params().n_components(c).fit(&x, &y).unwrap();
                }
            }
            LinearDiscriminantAnalysis::params().fit(&x, &y).unwrap();
            for c in [max_components + 1, n_features.max(n_classes - 1) + 1] {
                let err = LinearDiscriminantAnalysis::params().n_components(c).fit(&x, &y).unwrap_err();
                assert!(err.to_string().contains("n_components cannot be larger than"), "{err}");
            }
        }
    }
}

/// scikit-learn's `test_lda_numeric_consistency_float32_float64`: f32 and f64 fits agree.
#[test]
fn test_lda_numeric_consistency_float32_float64() {
    let (x, y) = toy();
    let c64 = LinearDiscriminantAnalysis::params().fit(&x, &y).unwrap().coef().clone();
    let c32 = LinearDiscriminantAnalysis::params().fit(&x.mapv(|v| v as f32), &y).unwrap().coef().clone();
    assert_allclose(&c32, &c64, 1e-6, 0.0, "f32 coef_");
}

/// scikit-learn's `test_raises_value_error_on_same_number_of_classes_and_samples`.
#[test]
fn test_raises_value_error_on_same_number_of_classes_and_samples() {
    let x = array![[0.5, 0.6], [0.6, 0.5]];
    let err = LinearDiscriminantAnalysis::params().fit(&x, &array![0i64, 1]).unwrap_err();
    assert!(err.to_string().contains("The number of samples must be more"), "{err}");
}

/// Bad input is a typed error: NaN in X, y of another length, a bad tol, n_components 0,
/// priors of the wrong length, a feature count that differs at predict time, data constant
/// within every class (scikit-learn fails there too).
#[test]
fn lda_bad_input() {
    let (x, y) = toy();
    let p = LinearDiscriminantAnalysis::params;
    let mut xn = x.clone();
    xn[[0, 0]] = f64::NAN;
    assert!(matches!(p().fit(&xn, &y), Err(EstimatorError::NonFinite { .. })));
    assert!(matches!(p().fit(&x, &array![1i64, 2]), Err(EstimatorError::Shape(_))));
    assert!(matches!(p().tol(-1.0).fit(&x, &y), Err(EstimatorError::InvalidParameter { .. })));
    assert!(matches!(p().n_components(0).fit(&x, &y), Err(EstimatorError::InvalidParameter { .. })));
    assert!(matches!(p().priors(vec![1.0]).fit(&x, &y), Err(EstimatorError::InvalidParameter { .. })));
    let m = p().fit(&x, &y).unwrap();
    assert!(matches!(m.predict(&array![[1.0, 2.0, 3.0]]), Err(EstimatorError::FeatureCountMismatch { .. })));
    let flat = array![[0.0, 1.0], [0.0, 1.0], [1.0, 2.0], [1.0, 2.0]];
    assert!(p().fit(&flat, &array![0i64, 0, 1, 1]).is_err());
}

/// The README's example for this job's estimators, as written there (`kiln::estimators` is
/// `kiln_estimators`).
#[test]
fn readme_example() -> Result<(), EstimatorError> {
    let iris = kiln_estimators::datasets::load_iris();
    let (x, y): (Array2<f64>, Array1<i64>) = (iris.data, iris.target);
    let lda = LinearDiscriminantAnalysis::params().fit(&x, &y)?; // y: &Array1<i64>
    let (p, z) = (lda.predict_proba(&x)?, lda.transform(&x)?);
    assert_eq!((p.dim(), z.dim()), ((150, 3), (150, 2)));
    let rc = RidgeClassifierCV::params().alphas(vec![0.1, 1.0, 10.0]).fit(&x, &y)?;
    println!("alpha {} score {} accuracy {}", rc.alpha(), rc.best_score(), rc.score(&x, &y)?);
    let counts = x.column(0).mapv(|v| (v - 4.0).round().max(0.0)); // non-negative targets
    let pr = PoissonRegressor::params().alpha(0.1).fit(&x, &counts)?;
    println!("D^2 {}", pr.score(&x, &counts)?);
    Ok(())
}
