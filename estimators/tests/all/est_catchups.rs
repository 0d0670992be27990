//! Issue 17 catch-ups (branch est): `LogisticRegression::fit_weighted` and
//! `StandardScaler::fit_weighted` against scikit-learn fixtures (f64 and f32, host and CUDA
//! simulator) and scikit-learn's sample_weight tests; `set_params` of the neighbours estimators
//! (grid search over `n_neighbors` / `weights` / `p` against scikit-learn's `GridSearchCV`).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::datasets::load_npy_as;
use kiln_estimators::model_selection::{GridSearchCV, KFold, ParamGrid, ParamValue, SetParams};
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Axis, Ix0, Ix1, Ix2};

fn weights<F: Real>(name: &str) -> Array1<F> {
    load_npy_as::<F, Ix1>(crate::common::fixture(&format!("input_{name}.npy"))).unwrap()
}

/// Weighted logistic regression. f64: run to a gradient of 1e-10 (the relative-decrease rule
/// off) and compare with the exact weighted minimizer (`exact_*`, Newton's method in the
/// fixture script) at rtol 1e-7; f32: scikit-learn's own weighted fit at rtol 1e-4.
fn logistic_case<F: Real>(fx: &str, rows: std::ops::Range<usize>, c: f64, device: Option<Device>) {
    let (x, y) = if rows.start == 0 {
        (input::<F>("iris_x"), ints::<Ix1>("input_iris_y"))
    } else {
        (input::<F>("iris_vv_x"), ints::<Ix1>("input_iris_vv_y"))
    };
    let w: Array1<F> = weights::<F>("iris_w").slice(ndarray::s![rows]).to_owned();
    let f32_data = rtol::<F>() > 1e-6;
    let p = LogisticRegression::params().c(c);
    let p = if f32_data { p.tol(1e-8).max_iter(10000) } else { p.tol(1e-10).ftol(0.0).max_iter(10000) };
    let (coef, intercept, proba) = match device {
        None => {
            let m = p.fit_weighted(&x, &y, &w).unwrap();
            assert!(m.converged() || f32_data, "{fx}: not converged");
            (m.coef().clone(), m.intercept().clone(), m.predict_proba(&x).unwrap())
        }
        Some(dev) => {
            let xt = Tensor::from_array(&x, dev).unwrap();
            let m = p
                .fit_weighted(&xt, &Tensor::from_array(&y, dev).unwrap(), &Tensor::from_array(&w, dev).unwrap())
                .unwrap();
            assert!(m.converged() || f32_data, "{fx}: not converged");
            (
                m.coef().to_array::<Ix2>().unwrap(),
                m.intercept().to_array::<Ix1>().unwrap(),
                m.predict_proba(&xt).unwrap().to_array::<Ix2>().unwrap(),
            )
        }
    };
    let tol = rtol::<F>();
    let prefix = if f32_data { "" } else { "exact_" };
    assert_allclose(&coef, &expected::<Ix2>(&format!("{fx}.{prefix}coef_")), tol, 0.0, &format!("{fx} coef_"));
    assert_allclose(
        &intercept,
        &expected::<Ix1>(&format!("{fx}.{prefix}intercept_")),
        tol,
        0.0,
        &format!("{fx} intercept_"),
    );
    let p_atol = if f32_data { 1e-6 } else { 2.0 * f64::EPSILON };
    let want_p = expected::<Ix2>(&format!("{fx}.{prefix}predict_proba"));
    assert_allclose(&proba, &want_p, tol, p_atol, &format!("{fx} predict_proba"));
}

fn logistic_all<F: Real>(device: Option<Device>) {
    logistic_case::<F>("logistic_weighted_iris", 0..150, 1.0, device);
    logistic_case::<F>("logistic_weighted_iris_vv", 50..150, 0.5, device);
}

#[test]
fn logistic_fit_weighted_matches_scikit_learn() {
    logistic_all::<f64>(None);
    logistic_all::<f32>(None);
}

#[test]
fn logistic_fit_weighted_matches_scikit_learn_on_cuda_sim() {
    logistic_all::<f64>(Some(Device::CudaSim));
    logistic_all::<f32>(Some(Device::CudaSim));
}

// Port of test_logistic.py::test_logistic_regression_sample_weights ("single", lbfgs): integer
// weights (0 included) fit as the rows repeated that many times; unit weights as no weights.
#[test]
fn test_logistic_regression_sample_weights() {
    let d = kiln_estimators::datasets::load_iris();
    let (x, y) = (d.data, d.target);
    let sw: Array1<f64> = (0..x.nrows()).map(|i| ((i * 7 + 3) % 5) as f64).collect();
    let reps: Vec<usize> = (0..x.nrows()).flat_map(|i| std::iter::repeat_n(i, sw[i] as usize)).collect();
    let (xr, yr) = (x.select(Axis(0), &reps), y.select(Axis(0), &reps));
    let p = LogisticRegression::params().fit_intercept(false).tol(1e-8).max_iter(1000);
    let a = p.fit_weighted(&x, &y, &sw).unwrap();
    let b = p.fit(&xr, &yr).unwrap();
    let want = b.coef().mapv(|v| v);
    assert_allclose(a.coef(), &want, 1e-4, 1e-6, "weighted vs repeated coef_");
    let ones = Array1::from_elem(x.nrows(), 1.0);
    let a = p.fit_weighted(&x, &y, &ones).unwrap();
    let b = p.fit(&x, &y).unwrap();
    assert_allclose(a.coef(), &b.coef().clone(), 1e-12, 0.0, "unit weights vs none");
}

// Bad sample weights are typed errors (scikit-learn's `_check_sample_weight`).
#[test]
fn logistic_bad_sample_weights() {
    let x = array![[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]];
    let y = array![0i64, 0, 1, 1];
    let p = LogisticRegression::params();
    let e = p.fit_weighted(&x, &y, &array![1.0, 1.0]).unwrap_err();
    assert!(e.to_string().contains("inconsistent numbers of samples"), "{e}");
    let e = p.fit_weighted(&x, &y, &array![1.0, f64::NAN, 1.0, 1.0]).unwrap_err();
    assert!(matches!(e, EstimatorError::NonFinite { .. }), "{e}");
    let e = p.fit_weighted(&x, &y, &array![1.0, -1.0, 1.0, 1.0]).unwrap_err();
    assert!(e.to_string().contains("Negative values"), "{e}");
}

fn scaler_case<F: Real>(fx: &str, with_mean: bool, device: Option<Device>) {
    let x = input::<F>("reg_x");
    let w = weights::<F>("reg_w");
    let p = StandardScaler::params().with_mean(with_mean);
    let (mean, var, scale, z, seen) = match device {
        None => {
            let m = p.fit_weighted(&x, &w).unwrap();
            (
                m.mean().clone(),
                m.var().clone(),
                m.scale().clone(),
                m.transform(&x).unwrap(),
                m.weighted_n_samples_seen(),
            )
        }
        Some(dev) => {
            let xt = Tensor::from_array(&x, dev).unwrap();
            let m = p.fit_weighted(&xt, &Tensor::from_array(&w, dev).unwrap()).unwrap();
            let z = m.transform(&xt).unwrap();
            assert_eq!(z.device(), dev);
            (
                m.mean().to_array::<Ix1>().unwrap(),
                m.var().to_array::<Ix1>().unwrap(),
                m.scale().to_array::<Ix1>().unwrap(),
                z.to_array::<Ix2>().unwrap(),
                m.weighted_n_samples_seen(),
            )
        }
    };
    let tol = rtol::<F>();
    assert_allclose(&mean, &expected::<Ix1>(&format!("{fx}.mean_")), tol, 0.0, &format!("{fx} mean_"));
    assert_allclose(&var, &expected::<Ix1>(&format!("{fx}.var_")), tol, 0.0, &format!("{fx} var_"));
    assert_allclose(&scale, &expected::<Ix1>(&format!("{fx}.scale_")), tol, 0.0, &format!("{fx} scale_"));
    // Centered values near 0 are compared at the data's scale.
    assert_allclose(&z, &expected::<Ix2>(&format!("{fx}.transform")), tol, tol, &format!("{fx} transform"));
    let want_seen = expected::<Ix0>(&format!("{fx}.n_samples_seen_")).into_scalar();
    assert!((seen - want_seen).abs() <= tol * want_seen, "{fx} n_samples_seen_: {seen} vs {want_seen}");
}

#[test]
fn standard_scaler_fit_weighted_matches_scikit_learn() {
    for dev in [None, Some(Device::CudaSim)] {
        scaler_case::<f64>("standard_scaler_weighted_reg", true, dev);
        scaler_case::<f32>("standard_scaler_weighted_reg", true, dev);
        scaler_case::<f64>("standard_scaler_weighted_no_mean_reg", false, dev);
        scaler_case::<f32>("standard_scaler_weighted_no_mean_reg", false, dev);
    }
}

// Port of test_data.py::test_standard_scaler_sample_weight (dense, finite cases): weights
// fit as repeated rows.
#[test]
fn test_standard_scaler_sample_weight() {
    let cases: [(Array2<f64>, Array2<f64>, Array1<f64>); 2] = [
        (
            array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
            array![[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
            array![2.0, 1.0],
        ),
        (
            array![[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]],
            array![[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]],
            array![1.0, 3.0],
        ),
    ];
    let x_test = array![[1.5, 2.5, 3.5], [3.5, 4.5, 5.5]];
    for (xw, x, sw) in cases {
        let a = StandardScaler::params().fit_weighted(&xw, &sw).unwrap();
        let b = StandardScaler::params().fit(&x).unwrap();
        assert_allclose(a.mean(), &b.mean().clone(), 1e-7, 1e-12, "mean_");
        assert_allclose(a.var(), &b.var().clone(), 1e-7, 1e-12, "var_");
        assert_allclose(&a.transform(&x_test).unwrap(), &b.transform(&x_test).unwrap(), 1e-7, 1e-12, "transform");
        assert_eq!(a.weighted_n_samples_seen(), sw.sum());
    }
    let e = StandardScaler::params().fit_weighted(&array![[1.0], [2.0]], &array![1.0]).unwrap_err();
    assert!(e.to_string().contains("inconsistent numbers of samples"), "{e}");
}

/// The neighbours estimators take their parameters by scikit-learn name.
#[test]
fn knn_set_params() {
    let mut p = KNeighborsClassifier::params(5);
    assert_eq!(p.estimator_name(), "KNeighborsClassifier");
    assert_eq!(p.param_names(), vec!["n_neighbors", "weights", "metric", "p"]);
    p.set_param("n_neighbors", ParamValue::Int(3)).unwrap();
    p.set_param("weights", ParamValue::Str("distance".into())).unwrap();
    p.set_param("metric", ParamValue::Str("manhattan".into())).unwrap();
    assert_eq!(p, KNeighborsClassifier::params(3).weights(Weights::Distance).metric(DistanceMetric::Manhattan));
    assert!(p.set_param("weights", ParamValue::Str("gaussian".into())).is_err());
    assert!(p.set_param("metric", ParamValue::Str("hamming".into())).is_err());
    assert!(p.set_param("leaf_size", ParamValue::Int(3)).is_err());
    let mut r = KNeighborsRegressor::params(5);
    r.set_param("p", ParamValue::Float(1.0)).unwrap();
    assert_eq!(r, KNeighborsRegressor::params(5).p(1.0));
    let mut n = NearestNeighbors::params(5);
    n.set_param("radius", ParamValue::Float(2.0)).unwrap();
    n.set_param("n_neighbors", ParamValue::Int(2)).unwrap();
    assert_eq!(n, NearestNeighbors::params(2).radius(2.0));
}

/// A grid search over n_neighbors x weights x p on iris jittered by 1e-3 (no tied distances;
/// KFold 5 shuffled, seed 0): every
/// candidate's fold scores against scikit-learn's GridSearchCV, on host arrays and on the
/// CUDA simulator.
#[test]
fn knn_grid_search_matches_scikit_learn() {
    let x = input::<f64>("iris_jitter_x");
    let y = ints::<Ix1>("input_iris_y");
    let grid =
        ParamGrid::new().add("n_neighbors", [1, 5, 15]).add("weights", ["uniform", "distance"]).add("p", [1.0, 2.0]);
    let search =
        GridSearchCV::new(&KNeighborsClassifier::params(5), grid, KFold::new(5).shuffle(true).seed(0)).unwrap();
    let want = expected::<Ix2>("knn_grid_iris.split_test_score");
    let host = search.fit(&x, &y).unwrap();
    let (xt, yt) = (Tensor::from_array(&x, Device::CudaSim).unwrap(), Tensor::from_array(&y, Device::CudaSim).unwrap());
    let sim = search.fit(&xt, &yt).unwrap();
    for fitted in [host.cv_results(), sim.cv_results()] {
        assert_eq!(fitted.len(), want.nrows());
        for (c, r) in fitted.iter().enumerate() {
            let got = Array1::from(r.split_scores.clone());
            assert_allclose(&got, &want.row(c).to_owned(), 1e-12, 0.0, &format!("candidate {c} ({})", r.params));
        }
    }
}

/// `GaussianMixture::sample(300)` of the fitted models of four seeded fixtures: the component
/// of every sample is scikit-learn's, and so are the samples of the diagonal and spherical
/// models; for full and tied covariances (an SVD factor whose signs may differ from LAPACK's)
/// each sample's Mahalanobis norm under its component is scikit-learn's (the same standard
/// normal draws). f64 and f32, host and CUDA simulator.
fn gmm_sample_case<F: Real>(fx: &str, data: &str, params: GaussianMixtureParams, device: Option<Device>) {
    let x = input::<F>(data);
    let (xs, ys, means, precs, ct) = match device {
        None => {
            let m = params.fit(&x).unwrap();
            let (xs, ys) = m.sample(300).unwrap();
            (xs, ys, m.means().clone(), m.precisions().clone(), m.covariance_type())
        }
        Some(dev) => {
            let m = params.fit(&Tensor::from_array(&x, dev).unwrap()).unwrap();
            let (xs, ys) = m.sample(300).unwrap();
            assert_eq!(xs.device(), dev);
            (
                xs.to_array::<Ix2>().unwrap(),
                ys.to_array::<Ix1>().unwrap(),
                m.means().to_array::<Ix2>().unwrap(),
                m.precisions().clone(),
                m.covariance_type(),
            )
        }
    };
    let sample_fx = fx.replace("gmm_", "gmm_sample_");
    assert_eq!(ys, ints::<Ix1>(&format!("{sample_fx}.y")), "{fx} ({device:?}): sample labels");
    let tol = rtol::<F>();
    match ct {
        CovarianceType::Diag | CovarianceType::Spherical => {
            // Samples are mean + z * sqrt(var): compared at the data's scale.
            assert_allclose(&xs, &expected::<Ix2>(&format!("{sample_fx}.X")), tol, tol, &format!("{fx} sample X"));
        }
        CovarianceType::Full | CovarianceType::Tied => {
            let d = xs.ncols();
            let maha: Array1<f64> = (0..xs.nrows())
                .map(|i| {
                    let j = ys[i] as usize;
                    let r: Vec<f64> = (0..d).map(|f| xs[[i, f]].to_f64() - means[[j, f]].to_f64()).collect();
                    let p = |a: usize, b: usize| -> f64 {
                        if ct == CovarianceType::Full {
                            precs[[j, a, b]].to_f64()
                        } else {
                            precs[[a, b]].to_f64()
                        }
                    };
                    (0..d).map(|a| (0..d).map(|b| r[a] * p(a, b) * r[b]).sum::<f64>()).sum()
                })
                .collect();
            let want = expected::<Ix1>(&format!("{sample_fx}.mahalanobis"));
            // The squared norm of d standard normals: compared at its expected size d.
            assert_allclose(&maha, &want, tol, tol * d as f64, &format!("{fx} sample Mahalanobis norms"));
        }
    }
}

#[test]
fn gaussian_mixture_sample_matches_scikit_learn() {
    let g = GaussianMixture::params;
    let cases = [
        ("gmm_full_random_blobs", "blobs_x", g(4).init_params(MixtureInit::Random).seed(0)),
        (
            "gmm_tied_random_from_data_blobs",
            "blobs_x",
            g(4).covariance_type(CovarianceType::Tied).init_params(MixtureInit::RandomFromData).seed(1),
        ),
        (
            "gmm_diag_random_iris",
            "iris_x",
            g(3).covariance_type(CovarianceType::Diag).init_params(MixtureInit::Random).seed(2),
        ),
        (
            "gmm_spherical_random_from_data_iris",
            "iris_x",
            g(3).covariance_type(CovarianceType::Spherical).init_params(MixtureInit::RandomFromData).seed(3),
        ),
    ];
    // f64 only: f32 EM fits end at other parameters than scikit-learn's f64 ones (the f32
    // mixture parity tests check single steps), so their samples are checked by `test_sample`.
    for (fx, data, p) in &cases {
        for dev in [None, Some(Device::CudaSim)] {
            gmm_sample_case::<f64>(fx, data, p.clone(), dev);
        }
    }
    let m = GaussianMixture::params(2).seed(0).fit(&input::<f64>("iris_x")).unwrap();
    assert!(m.sample(0).is_err());
}

/// Weighted PoissonRegressor (fixtures fitted with `tol = 1e-10`, so both L-BFGS runs end at
/// the minimizer), as the unweighted parity tests compare them.
fn poisson_case<F: Real>(fx: &str, params: PoissonRegressorParams, device: Option<Device>) {
    let x = input::<F>("reg_x");
    let y = weights::<F>("poisson_y");
    let w = weights::<F>("reg_w");
    let tol = rtol::<F>();
    let coef_w = expected::<Ix1>(&format!("{fx}.coef_"));
    let icpt_w = expected::<Ix0>(&format!("{fx}.intercept_")).into_scalar();
    let pred_w = expected::<Ix1>(&format!("{fx}.predict"));
    let coef_atol = coef_w.iter().fold(0.0f64, |m, v| m.max(v.abs())) * tol;
    let (coef, intercept, pred) = match device {
        None => {
            let m = params.fit_weighted(&x, &y, &w).unwrap();
            (m.coef().clone(), m.intercept(), m.predict(&x).unwrap())
        }
        Some(dev) => {
            let xt = Tensor::from_array(&x, dev).unwrap();
            let m = params
                .fit_weighted(&xt, &Tensor::from_array(&y, dev).unwrap(), &Tensor::from_array(&w, dev).unwrap())
                .unwrap();
            (m.coef().to_array::<Ix1>().unwrap(), m.intercept(), m.predict(&xt).unwrap().to_array::<Ix1>().unwrap())
        }
    };
    assert_allclose(&coef, &coef_w, tol, coef_atol, &format!("{fx} coef_"));
    let i = intercept.to_f64();
    assert!((i - icpt_w).abs() <= tol * icpt_w.abs() + coef_atol, "{fx} intercept_ {i} vs {icpt_w}");
    assert_allclose(&pred, &pred_w, tol, 0.0, &format!("{fx} predict"));
}

#[test]
fn poisson_fit_weighted_matches_scikit_learn() {
    let p = || PoissonRegressor::params().tol(1e-10).max_iter(1000);
    for dev in [None, Some(Device::CudaSim)] {
        poisson_case::<f64>("poisson_weighted_alpha1", p().alpha(1.0), dev);
        poisson_case::<f32>("poisson_weighted_alpha1", p().alpha(1.0), dev);
        poisson_case::<f64>("poisson_weighted_no_intercept", p().alpha(0.1).fit_intercept(false), dev);
        poisson_case::<f32>("poisson_weighted_no_intercept", p().alpha(0.1).fit_intercept(false), dev);
    }
}

// Port of test_glm.py::test_glm_sample_weight_consistency (lbfgs, Poisson): unit weights are
// no weights, integer weights are repeated rows, and weights scaled by a constant give the same
// fit.
#[test]
fn test_glm_sample_weight_consistency() {
    let x = input::<f64>("reg_x");
    let y = weights::<f64>("poisson_y");
    let p = PoissonRegressor::params().alpha(0.5).tol(1e-12).max_iter(1000);
    let base = p.fit(&x, &y).unwrap();
    let ones = p.fit_weighted(&x, &y, &Array1::from_elem(x.nrows(), 1.0)).unwrap();
    assert_allclose(ones.coef(), &base.coef().clone(), 1e-12, 0.0, "unit weights coef_");
    let sw: Array1<f64> = (0..x.nrows()).map(|i| ((i * 5 + 1) % 3) as f64).collect();
    let reps: Vec<usize> = (0..x.nrows()).flat_map(|i| std::iter::repeat_n(i, sw[i] as usize)).collect();
    let a = p.fit_weighted(&x, &y, &sw).unwrap();
    let b = p.fit(&x.select(Axis(0), &reps), &y.select(Axis(0), &reps)).unwrap();
    assert_allclose(a.coef(), &b.coef().clone(), 1e-6, 1e-9, "weights vs repeated rows coef_");
    assert!((a.intercept() - b.intercept()).abs() < 1e-6);
    let c = p.fit_weighted(&x, &y, &sw.mapv(|v| 2.5 * v)).unwrap();
    assert_allclose(c.coef(), &a.coef().clone(), 1e-6, 1e-9, "scaled weights coef_");
}

// Port of test_gaussian_mixture.py::test_sample (on iris rather than RandomData): 20000
// samples have each component's mean and covariance to one decimal, and every size keeps its
// shape.
#[test]
fn test_sample() {
    sample_moments::<f64>(None);
    sample_moments::<f32>(None);
    sample_moments::<f32>(Some(Device::CudaSim));
}

fn sample_moments<F: Real>(device: Option<Device>) {
    let x = input::<F>("iris_x");
    for ct in [CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical] {
        let p = GaussianMixture::params(3).covariance_type(ct).seed(0);
        let (xs, ys, means, cov, sizes) = match device {
            None => {
                let m = p.fit(&x).unwrap();
                assert!(m.sample(0).unwrap_err().to_string().contains("Invalid value for 'n_samples'"));
                let (xs, ys) = m.sample(20000).unwrap();
                let sizes: Vec<usize> = (1..100).map(|s| m.sample(s).unwrap().0.nrows()).collect();
                (xs, ys, m.means().clone(), m.covariances().clone(), sizes)
            }
            Some(dev) => {
                let m = p.fit(&Tensor::from_array(&x, dev).unwrap()).unwrap();
                let (xs, ys) = m.sample(20000).unwrap();
                assert_eq!(xs.device(), dev);
                let sizes: Vec<usize> = (1..100).map(|s| m.sample(s).unwrap().0.shape()[0]).collect();
                (
                    xs.to_array::<Ix2>().unwrap(),
                    ys.to_array::<Ix1>().unwrap(),
                    m.means().to_array::<Ix2>().unwrap(),
                    m.covariances().clone(),
                    sizes,
                )
            }
        };
        assert_eq!(sizes, (1..100).collect::<Vec<usize>>());
        let xs = xs.mapv(|v| v.to_f64());
        let means = means.mapv(|v| v.to_f64());
        let cov = cov.mapv(|v| v.to_f64());
        assert_eq!(xs.dim(), (20000, 4));
        for k in 0..3 {
            let rows: Vec<usize> = (0..20000).filter(|&i| ys[i] == k as i64).collect();
            let sub = xs.select(Axis(0), &rows);
            let mean = sub.mean_axis(Axis(0)).unwrap();
            for f in 0..4 {
                assert!((mean[f] - means[[k, f]]).abs() < 0.15, "{ct:?} mean {k} {f}");
            }
            let c = sub.t().dot(&sub.mapv(|v| v)) / rows.len() as f64
                - Array2::from_shape_fn((4, 4), |(a, b)| mean[a] * mean[b]);
            let c = c * (rows.len() as f64 / (rows.len() as f64 - 1.0));
            for a in 0..4 {
                for b in 0..4 {
                    let want = match ct {
                        CovarianceType::Full => cov[[k, a, b]],
                        CovarianceType::Tied => cov[[a, b]],
                        CovarianceType::Diag if a == b => cov[[k, a]],
                        CovarianceType::Spherical if a == b => cov[[k]],
                        _ => continue,
                    };
                    assert!((c[[a, b]] - want).abs() < 0.15, "{ct:?} covariance {k} {a} {b}: {} vs {want}", c[[a, b]]);
                }
            }
        }
    }
}

/// Ridge and LinearRegression with several targets and sample weights (`fit_multi_weighted`)
/// against scikit-learn, f64 and f32, host and CUDA simulator; each column equals the
/// single-target weighted fit.
fn multi_weighted_case<F: Real>(device: Option<Device>) {
    let x = input::<F>("reg_x");
    let w = weights::<F>("reg_w");
    let y1 = weights::<F>("reg_y");
    let second = Array1::from_shape_fn(y1.len(), |i| F::from_f64(0.5 * y1[i].to_f64() + x[[i, 0]].to_f64()));
    let y = ndarray::stack(Axis(1), &[y1.view(), second.view()]).unwrap();
    let tol = rtol::<F>();
    for (fx, ridge) in [("ridge_multi_weighted_reg", true), ("linear_regression_multi_weighted_nointercept_reg", false)]
    {
        let (coef, b, pred) = match device {
            None if ridge => {
                let m = Ridge::params().alpha(1.0).fit_multi_weighted(&x, &y, &w).unwrap();
                (m.coef().clone(), m.intercept().clone(), m.predict(&x).unwrap())
            }
            None => {
                let m = LinearRegression::params().fit_intercept(false).fit_multi_weighted(&x, &y, &w).unwrap();
                (m.coef().clone(), m.intercept().clone(), m.predict(&x).unwrap())
            }
            Some(dev) => {
                let (xt, yt, wt) = (
                    Tensor::from_array(&x, dev).unwrap(),
                    Tensor::from_array(&y, dev).unwrap(),
                    Tensor::from_array(&w, dev).unwrap(),
                );
                let (c, b, p) = if ridge {
                    let m = Ridge::params().alpha(1.0).fit_multi_weighted(&xt, &yt, &wt).unwrap();
                    (m.coef().clone(), m.intercept().clone(), m.predict(&xt).unwrap())
                } else {
                    let m = LinearRegression::params().fit_intercept(false).fit_multi_weighted(&xt, &yt, &wt).unwrap();
                    (m.coef().clone(), m.intercept().clone(), m.predict(&xt).unwrap())
                };
                assert_eq!(c.device(), dev);
                (c.to_array::<Ix2>().unwrap(), b.to_array::<Ix1>().unwrap(), p.to_array::<Ix2>().unwrap())
            }
        };
        let cw = expected::<Ix2>(&format!("{fx}.coef_"));
        assert_allclose(&coef, &cw, tol, 0.0, &format!("{fx} coef_"));
        let bw = if ridge { expected::<Ix1>(&format!("{fx}.intercept_")) } else { Array1::zeros(2) };
        let scale = cw.iter().chain(bw.iter()).fold(1.0f64, |m, v| m.max(v.abs()));
        assert_allclose(&b, &bw, tol, tol * scale, &format!("{fx} intercept_"));
        let pw = expected::<Ix2>(&format!("{fx}.predict"));
        let big = pw.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let atol = if tol > 1e-6 { tol * big } else { 0.0 };
        assert_allclose(&pred, &pw, tol, atol, &format!("{fx} predict"));
    }
}

#[test]
fn multi_target_fit_weighted_matches_scikit_learn() {
    for dev in [None, Some(Device::CudaSim)] {
        multi_weighted_case::<f64>(dev);
        multi_weighted_case::<f32>(dev);
    }
    // Column j is the single-target weighted fit of column j.
    let x = input::<f64>("reg_x");
    let w = weights::<f64>("reg_w");
    let y1 = weights::<f64>("reg_y");
    let y2 = y1.mapv(|v| 2.0 - v);
    let y = ndarray::stack(Axis(1), &[y1.view(), y2.view()]).unwrap();
    let multi = Ridge::params().alpha(0.5).fit_multi_weighted(&x, &y, &w).unwrap();
    for (j, col) in [y1, y2].iter().enumerate() {
        let single = Ridge::params().alpha(0.5).fit_weighted(&x, col, &w).unwrap();
        assert_allclose(&multi.coef().row(j).to_owned(), &single.coef().clone(), 1e-12, 1e-14, "column coef_");
        assert!((multi.intercept()[j] - single.intercept()).abs() < 1e-10);
    }
    assert!(Ridge::params().fit_multi_weighted(&x, &y, &w.slice(ndarray::s![..10]).to_owned()).is_err());
}
