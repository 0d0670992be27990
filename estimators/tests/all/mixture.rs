//! GaussianMixture: parity with scikit-learn (fixtures from `cargo xtask fixtures`) in f64 and
//! f32, on the default device and on the CUDA simulator, and scikit-learn's own tests
//! (`sklearn/mixture/tests/test_gaussian_mixture.py`, ported where they apply; each test names
//! the one it ports).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::datasets::load_npy_as;
use kiln_estimators::prelude::*;
use ndarray::{Array1, Array2, ArrayD, Ix0, Ix1, Ix2, IxDyn};

const TYPES: [CovarianceType; 4] =
    [CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical];

fn type_name(ct: CovarianceType) -> &'static str {
    match ct {
        CovarianceType::Full => "full",
        CovarianceType::Tied => "tied",
        CovarianceType::Diag => "diag",
        CovarianceType::Spherical => "spherical",
    }
}

fn any_rank(name: &str) -> ArrayD<f64> {
    load_npy_as::<f64, IxDyn>(crate::common::fixture(&format!("{name}.npy"))).unwrap()
}

fn vec_input(name: &str) -> Array1<f64> {
    load_npy_as::<f64, Ix1>(crate::common::fixture(&format!("input_{name}.npy"))).unwrap()
}

/// What a fitted model reports, on the host, whatever its storage.
struct Seen<F> {
    weights: Array1<F>,
    means: Array2<F>,
    covariances: ArrayD<F>,
    precisions: ArrayD<F>,
    precisions_cholesky: ArrayD<F>,
    converged: bool,
    n_iter: usize,
    lower_bound: f64,
    predict: Array1<i64>,
    predict_proba: Array2<F>,
    score_samples: Array1<F>,
    score: f64,
    bic: f64,
    aic: f64,
}

fn seen<F: Real>(params: &GaussianMixtureParams, x: &Array2<F>, device: Option<Device>) -> Seen<F> {
    match device {
        None => {
            let m = params.fit(x).unwrap();
            Seen {
                weights: m.weights().clone(),
                means: m.means().clone(),
                covariances: m.covariances().clone(),
                precisions: m.precisions().clone(),
                precisions_cholesky: m.precisions_cholesky().clone(),
                converged: m.converged(),
                n_iter: m.n_iter(),
                lower_bound: m.lower_bound(),
                predict: m.predict(x).unwrap(),
                predict_proba: m.predict_proba(x).unwrap(),
                score_samples: m.score_samples(x).unwrap(),
                score: m.score(x).unwrap(),
                bic: m.bic(x).unwrap(),
                aic: m.aic(x).unwrap(),
            }
        }
        Some(dev) => {
            let xt = Tensor::from_array(x, dev).unwrap();
            let m = params.fit(&xt).unwrap();
            assert_eq!(m.means().device(), dev, "the model stays on the data's device");
            let p = m.predict_proba(&xt).unwrap();
            assert_eq!(p.device(), dev);
            Seen {
                weights: m.weights().to_array::<Ix1>().unwrap(),
                means: m.means().to_array::<Ix2>().unwrap(),
                covariances: m.covariances().clone(),
                precisions: m.precisions().clone(),
                precisions_cholesky: m.precisions_cholesky().clone(),
                converged: m.converged(),
                n_iter: m.n_iter(),
                lower_bound: m.lower_bound(),
                predict: m.predict(&xt).unwrap().to_array::<Ix1>().unwrap(),
                predict_proba: p.to_array::<Ix2>().unwrap(),
                score_samples: m.score_samples(&xt).unwrap().to_array::<Ix1>().unwrap(),
                score: m.score(&xt).unwrap(),
                bic: m.bic(&xt).unwrap(),
                aic: m.aic(&xt).unwrap(),
            }
        }
    }
}

/// Compares a fit with scikit-learn's fixture `fx`. `tol` is the relative tolerance of the
/// parameters. Log-likelihoods are sums of d terms of the size of the largest per-row
/// log-density, so they get an absolute tolerance of that scale times `tol` as well
/// (a row's log-likelihood can be near 0); probabilities get `tol` as an absolute floor (a
/// probability near 0 is the exponential of a difference of such terms).
fn check_fit<F: Real>(fx: &str, s: &Seen<F>, tol: f64, exact_iterations: bool) {
    let e = |attr: &str| any_rank(&format!("{fx}.{attr}"));
    let scalar = |attr: &str| expected::<Ix0>(&format!("{fx}.{attr}")).into_scalar();
    assert_allclose(&s.weights, &expected::<Ix1>(&format!("{fx}.weights_")), tol, 0.0, &format!("{fx} weights_"));
    assert_allclose(&s.means, &expected::<Ix2>(&format!("{fx}.means_")), tol, tol, &format!("{fx} means_"));
    let cov = e("covariances_");
    let cov_scale = cov.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&s.covariances, &cov, tol, tol * cov_scale, &format!("{fx} covariances_"));
    let prec = e("precisions_");
    let prec_scale = prec.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&s.precisions, &prec, tol, tol * prec_scale, &format!("{fx} precisions_"));
    let pc = e("precisions_cholesky_");
    let pc_scale = pc.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&s.precisions_cholesky, &pc, tol, tol * pc_scale, &format!("{fx} precisions_cholesky_"));
    if exact_iterations {
        assert_eq!(s.n_iter as i64, ints::<Ix0>(&format!("{fx}.n_iter_")).into_scalar(), "{fx} n_iter_");
        assert_eq!(i64::from(s.converged), ints::<Ix0>(&format!("{fx}.converged_")).into_scalar(), "{fx} converged_");
    }
    let ss = expected::<Ix1>(&format!("{fx}.score_samples"));
    let ll_scale = ss.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&s.score_samples, &ss, tol, tol * ll_scale, &format!("{fx} score_samples"));
    let close = |got: f64, want: f64, what: &str| {
        assert!((got - want).abs() <= tol * want.abs() + tol * ll_scale, "{fx} {what}: {got} vs scikit-learn {want}")
    };
    close(s.lower_bound, scalar("lower_bound_"), "lower_bound_");
    close(s.score, scalar("score"), "score");
    let n = ss.len() as f64;
    close(s.bic, scalar("bic"), "bic");
    close(s.aic, scalar("aic"), "aic");
    let _ = n;
    assert_allclose(
        &s.predict_proba,
        &expected::<Ix2>(&format!("{fx}.predict_proba")),
        tol,
        tol,
        &format!("{fx} proba"),
    );
    assert_eq!(s.predict, ints::<Ix1>(&format!("{fx}.predict")), "{fx} predict");
}

/// The fixtures fitted from scikit-learn's own initialization draws (random responsibilities,
/// random samples, k-means++ with numpy's generator), with their parameters.
fn seeded_cases() -> Vec<(&'static str, &'static str, GaussianMixtureParams)> {
    let g = GaussianMixture::params;
    vec![
        ("gmm_full_random_blobs", "blobs", g(4).init_params(MixtureInit::Random).seed(0)),
        (
            "gmm_tied_random_from_data_blobs",
            "blobs",
            g(4).covariance_type(CovarianceType::Tied).init_params(MixtureInit::RandomFromData).seed(1),
        ),
        (
            "gmm_diag_random_iris",
            "iris",
            g(3).covariance_type(CovarianceType::Diag).init_params(MixtureInit::Random).seed(2),
        ),
        (
            "gmm_spherical_random_from_data_iris",
            "iris",
            g(3).covariance_type(CovarianceType::Spherical).init_params(MixtureInit::RandomFromData).seed(3),
        ),
        ("gmm_full_kmeanspp_iris", "iris", g(3).init_params(MixtureInit::KMeansPlusPlus).seed(0)),
        (
            "gmm_diag_kmeanspp_blobs",
            "blobs",
            g(4).covariance_type(CovarianceType::Diag).init_params(MixtureInit::KMeansPlusPlus).seed(5),
        ),
        (
            "gmm_full_ninit_blobs",
            "blobs",
            g(3).init_params(MixtureInit::RandomFromData).n_init(3).seed(4).reg_covar(1e-3).tol(1e-5),
        ),
        (
            "gmm_tied_maxiter2_iris",
            "iris",
            g(2).covariance_type(CovarianceType::Tied).init_params(MixtureInit::Random).seed(6).max_iter(2),
        ),
    ]
}

/// The fits from a given start (weights, means and precisions of `gmm_start_<type>_*`).
fn start_params(ct: CovarianceType, steps: usize) -> GaussianMixtureParams {
    let t = type_name(ct);
    let prec = any_rank(&format!("input_gmm_start_{t}_precisions"));
    GaussianMixture::params(4)
        .covariance_type(ct)
        .weights_init(vec_input(&format!("gmm_start_{t}_weights")))
        .means_init(input::<f64>(&format!("gmm_start_{t}_means")))
        .precisions_init(prec)
        .max_iter(steps)
        .tol(if steps > 1 { 1e-6 } else { 1e-3 })
}

fn f64_cases(device: Option<Device>) {
    for (fx, data, params) in seeded_cases() {
        let x = input::<f64>(&format!("{data}_x"));
        check_fit(fx, &seen(&params, &x, device), rtol::<f64>(), true);
    }
    let x = input::<f64>("blobs_x");
    for ct in TYPES {
        for steps in [1, 100] {
            let fx = format!("gmm_{}_start_{steps}_blobs", type_name(ct));
            check_fit(&fx, &seen(&start_params(ct, steps), &x, device), rtol::<f64>(), true);
        }
    }
}

/// f32: one EM step from the same start as scikit-learn's float64 fit, compared at f32's
/// tolerance. A whole fit is a chain of up to 100 such steps whose f32 rounding compounds (and
/// can move the iteration at which `tol` is met), so the f32 fit is compared per step.
fn f32_cases(device: Option<Device>) {
    let x = input::<f32>("blobs_x");
    for ct in TYPES {
        let fx = format!("gmm_{}_start_1_blobs", type_name(ct));
        check_fit(&fx, &seen(&start_params(ct, 1), &x, device), rtol::<f32>(), true);
    }
}

#[test]
fn gaussian_mixture_matches_scikit_learn() {
    f64_cases(None);
    f32_cases(None);
}

#[test]
fn gaussian_mixture_matches_scikit_learn_on_cuda_sim() {
    f64_cases(Some(Device::CudaSim));
    f32_cases(Some(Device::CudaSim));
}

/// The API line of the issue.
#[test]
fn gaussian_mixture_api_line() -> Result<(), EstimatorError> {
    let x = input::<f64>("blobs_x");
    let gmm = GaussianMixture::params(3).covariance_type(CovarianceType::Full).seed(0).fit(&x)?;
    let (labels, resp, ll) = (gmm.predict(&x)?, gmm.predict_proba(&x)?, gmm.score(&x)?);
    assert_eq!(labels.len(), 200);
    assert_eq!(resp.dim(), (200, 3));
    for row in resp.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
    let mean = gmm.score_samples(&x)?.mean().unwrap_or(f64::NAN);
    assert!(ll.is_finite() && (ll - mean).abs() <= 1e-12 * mean.abs(), "score {ll} vs mean score_samples {mean}");
    Ok(())
}

/// The k-means++ seeds GaussianMixture draws are scikit-learn's (`kmeans_plusplus` with the
/// same `RandomState`): the responsibilities after `max_iter = 0` are one-hot on those rows, so
/// the means are the seeds.
#[test]
fn kmeans_plusplus_init_is_scikit_learns() {
    for (data, k, seed) in [("iris", 3usize, 0u64), ("blobs", 4, 5)] {
        let x = input::<f64>(&format!("{data}_x"));
        let idx = ints::<Ix1>(&format!("kmeans_plusplus_{data}_{k}_{seed}.indices"));
        let m =
            GaussianMixture::params(k).init_params(MixtureInit::KMeansPlusPlus).seed(seed).max_iter(0).fit(&x).unwrap();
        for (c, &i) in idx.iter().enumerate() {
            let want = x.row(i as usize);
            let got = m.means().row(c);
            for (g, w) in got.iter().zip(want.iter()) {
                assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{data} seed {c}: {g} vs {w}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// scikit-learn's tests (sklearn/mixture/tests/test_gaussian_mixture.py).

use kiln_estimators::datasets::Xoshiro256;

/// `rng.rand(n, d)`-like data from kiln's generator.
fn uniform(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut r = Xoshiro256::new(seed);
    Array2::from_shape_simple_fn((n, d), || r.uniform())
}

/// `rng.randn(n, d)`-like data from kiln's generator.
fn normal(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut r = Xoshiro256::new(seed);
    Array2::from_shape_simple_fn((n, d), || r.normal())
}

/// scikit-learn's `RandomData(np.random.RandomState(0))` (2 components, 2 features, 200 rows).
fn rand_data_x(ct: CovarianceType) -> Array2<f64> {
    input::<f64>(&format!("gmm_rd_{}_x", type_name(ct)))
}

fn rand_data_params(ct: CovarianceType) -> GaussianMixtureParams {
    GaussianMixture::params(2)
        .covariance_type(ct)
        .weights_init(vec_input("gmm_rd_weights"))
        .means_init(input::<f64>("gmm_rd_means"))
        .precisions_init(any_rank(&format!("input_gmm_rd_{}_precisions", type_name(ct))))
}

/// The adjusted Rand index of two labelings (scikit-learn's `adjusted_rand_score`).
fn adjusted_rand_score(a: &Array1<i64>, b: &Array1<i64>) -> f64 {
    use std::collections::HashMap;
    let mut table: HashMap<(i64, i64), f64> = HashMap::new();
    let (mut ra, mut rb): (HashMap<i64, f64>, HashMap<i64, f64>) = (HashMap::new(), HashMap::new());
    for (&x, &y) in a.iter().zip(b.iter()) {
        *table.entry((x, y)).or_default() += 1.0;
        *ra.entry(x).or_default() += 1.0;
        *rb.entry(y).or_default() += 1.0;
    }
    let c2 = |v: f64| v * (v - 1.0) / 2.0;
    let index: f64 = table.values().map(|&v| c2(v)).sum();
    let (sa, sb): (f64, f64) = (ra.values().map(|&v| c2(v)).sum(), rb.values().map(|&v| c2(v)).sum());
    let expected = sa * sb / c2(a.len() as f64);
    (index - expected) / ((sa + sb) / 2.0 - expected)
}

/// Ports `test_gaussian_mixture_attributes`: bad hyper-parameters are typed errors; a good
/// set is kept.
#[test]
fn test_gaussian_mixture_attributes() {
    let x = uniform(10, 2, 0);
    let bad = |p: GaussianMixtureParams, name: &str| match p.fit(&x) {
        Err(EstimatorError::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
        other => panic!("{name}: expected InvalidParameter, got {other:?}"),
    };
    bad(GaussianMixture::params(0), "n_components");
    bad(GaussianMixture::params(2).tol(-0.1), "tol");
    bad(GaussianMixture::params(2).n_init(0), "n_init");
    bad(GaussianMixture::params(2).reg_covar(-0.1), "reg_covar");
    bad(GaussianMixture::params(2).reg_covar(f64::NAN), "reg_covar");
    bad(GaussianMixture::params(2).seed(1 << 32), "random_state");
    let e = "bad_covariance_type".parse::<CovarianceType>().unwrap_err();
    assert!(e.to_string().contains("'covariance_type' parameter of GaussianMixture"), "{e}");
    let e = "bad_method".parse::<MixtureInit>().unwrap_err();
    assert!(e.to_string().contains("'init_params' parameter of GaussianMixture"), "{e}");
    assert_eq!("spherical".parse::<CovarianceType>().unwrap(), CovarianceType::Spherical);
    assert_eq!("k-means++".parse::<MixtureInit>().unwrap(), MixtureInit::KMeansPlusPlus);

    let gmm = GaussianMixture::params(2)
        .tol(1e-4)
        .n_init(3)
        .max_iter(30)
        .reg_covar(1e-1)
        .covariance_type(CovarianceType::Full)
        .init_params(MixtureInit::Random)
        .fit(&x)
        .unwrap();
    assert_eq!(gmm.n_components(), 2);
    assert_eq!(gmm.covariance_type(), CovarianceType::Full);
    assert_eq!(gmm.n_features_in(), 2);
    assert!(gmm.n_iter() <= 30);
}

/// Bad input beyond the hyper-parameters: too few samples, NaN, a feature count that changed.
#[test]
fn gaussian_mixture_bad_input() {
    let x = uniform(10, 2, 1);
    match GaussianMixture::params(11).fit(&x) {
        Err(EstimatorError::TooFewSamples(m)) => {
            assert_eq!(m, "Expected n_samples >= n_components but got n_components = 11, n_samples = 10")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        GaussianMixture::params(1).fit(&uniform(1, 2, 0)),
        Err(EstimatorError::EmptyInput { min_samples: 2, .. })
    ));
    let mut nan = x.clone();
    nan[[3, 1]] = f64::NAN;
    assert!(matches!(GaussianMixture::params(2).fit(&nan), Err(EstimatorError::NonFinite { .. })));
    let m = GaussianMixture::params(2).fit(&x).unwrap();
    assert!(matches!(m.predict(&uniform(4, 3, 0)), Err(EstimatorError::FeatureCountMismatch { .. })));
    assert!(matches!(m.score(&nan), Err(EstimatorError::NonFinite { .. })));
}

/// Ports `test_check_weights`.
#[test]
fn test_check_weights() {
    let x = rand_data_x(CovarianceType::Full);
    let g = || GaussianMixture::params(2);
    match g().weights_init(ndarray::array![0.2, 0.3, 0.5]).fit(&x) {
        Err(EstimatorError::Shape(m)) => {
            assert_eq!(m, "The parameter 'weights' should have the shape of (2,), but got (3,)")
        }
        other => panic!("{other:?}"),
    }
    match g().weights_init(ndarray::array![1.2, 1.7]).fit(&x) {
        Err(e @ EstimatorError::InvalidParameter { .. }) => {
            assert!(e.to_string().contains("in the range [0, 1]"), "{e}");
            assert!(e.to_string().contains("max value 1.70000, min value 1.20000"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    match g().weights_init(ndarray::array![0.2, 0.3]).fit(&x) {
        Err(e @ EstimatorError::InvalidParameter { .. }) => {
            assert!(e.to_string().contains("normalized; got sum(weights) = 0.50000"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // Good weights start the fit: with max_iter = 0 they are the weights.
    let w = vec_input("gmm_rd_weights");
    let m = g().weights_init(w.clone()).max_iter(0).fit(&x).unwrap();
    assert_eq!(m.weights(), &w);
    g().weights_init(w).fit(&x).unwrap();
}

/// Ports `test_check_means`.
#[test]
fn test_check_means() {
    let x = rand_data_x(CovarianceType::Full);
    match GaussianMixture::params(2).means_init(uniform(3, 2, 4)).fit(&x) {
        Err(EstimatorError::Shape(m)) => {
            assert!(m.starts_with("The parameter 'means' should have the shape of "), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let means = input::<f64>("gmm_rd_means");
    let m = GaussianMixture::params(2).means_init(means.clone()).max_iter(0).fit(&x).unwrap();
    assert_eq!(m.means(), &means);
    GaussianMixture::params(2).means_init(means).fit(&x).unwrap();
}

/// Ports `test_check_precisions`.
#[test]
fn test_check_precisions() {
    let (k, d) = (2, 2);
    for ct in TYPES {
        let x = rand_data_x(ct);
        let t = type_name(ct);
        let bad_shape: ArrayD<f64> = match ct {
            CovarianceType::Full => ArrayD::ones(IxDyn(&[k + 1, d, d])),
            CovarianceType::Tied => ArrayD::ones(IxDyn(&[d + 1, d + 1])),
            CovarianceType::Diag => ArrayD::ones(IxDyn(&[k + 1, d])),
            CovarianceType::Spherical => ArrayD::ones(IxDyn(&[k + 1])),
        };
        let g = || GaussianMixture::params(k).covariance_type(ct);
        match g().precisions_init(bad_shape).fit(&x) {
            Err(EstimatorError::Shape(m)) => {
                assert!(m.starts_with(&format!("The parameter '{t} precision' should have the shape of")), "{m}")
            }
            other => panic!("{t}: {other:?}"),
        }
        let mut not_pos = ArrayD::<f64>::ones(IxDyn(&[k, d, d]));
        not_pos[[0, 0, 0]] = -1.0;
        not_pos[[0, 0, 1]] = 0.0;
        not_pos[[0, 1, 0]] = 0.0;
        let (not_positive, words): (ArrayD<f64>, &str) = match ct {
            CovarianceType::Full => (not_pos, "symmetric, positive-definite"),
            CovarianceType::Tied => {
                (not_pos.index_axis(ndarray::Axis(0), 0).to_owned(), "symmetric, positive-definite")
            }
            CovarianceType::Diag => (ArrayD::from_elem(IxDyn(&[k, d]), -1.0), "positive"),
            CovarianceType::Spherical => (ArrayD::from_elem(IxDyn(&[k]), -1.0), "positive"),
        };
        match g().precisions_init(not_positive).fit(&x) {
            Err(e @ EstimatorError::InvalidParameter { .. }) => {
                let m = e.to_string();
                assert!(m.contains(&format!("must be {words}")) && m.contains(&format!("'{t} precision'")), "{m}")
            }
            other => panic!("{t}: {other:?}"),
        }
        let good = any_rank(&format!("input_gmm_rd_{t}_precisions"));
        let m = g().precisions_init(good.clone()).max_iter(0).fit(&x).unwrap();
        assert_allclose(m.precisions(), &good, 1e-12, 1e-12, &format!("{t} precisions_ from precisions_init"));
    }
}

/// Ports `test_gaussian_mixture_predict_predict_proba` and `test_gaussian_mixture_fit_predict`
/// (for RandomData(RandomState(0)), its four max_iter / tol cases).
#[test]
fn test_gaussian_mixture_fit_predict() {
    let y = ints::<Ix1>("input_gmm_rd_y");
    for ct in TYPES {
        let x = rand_data_x(ct);
        for (max_iter, tol) in [(2, 1e-7), (2, 1e-1), (300, 1e-7), (300, 1e-1)] {
            let g = rand_data_params(ct).max_iter(max_iter).tol(tol);
            let m = g.fit(&x).unwrap();
            let pred = m.predict(&x).unwrap();
            assert_eq!(g.fit_predict(&x).unwrap(), pred, "{ct:?} fit_predict = fit.predict");
            let proba = m.predict_proba(&x).unwrap();
            let argmax = proba.rows().into_iter().map(|r| if r[1] > r[0] { 1 } else { 0 }).collect::<Array1<i64>>();
            assert_eq!(argmax, pred, "{ct:?} predict = argmax predict_proba");
            assert!(adjusted_rand_score(&y, &pred) > 0.95, "{ct:?} ARI");
        }
    }
}

/// Ports `test_gaussian_mixture_fit_predict_n_init`.
#[test]
fn test_gaussian_mixture_fit_predict_n_init() {
    let x = normal(1000, 5, 0);
    let g = GaussianMixture::params(5).n_init(5).seed(0);
    assert_eq!(g.fit_predict(&x).unwrap(), g.fit(&x).unwrap().predict(&x).unwrap());
}

/// Ports `test_gaussian_mixture_fit`: 20 k-means initializations without regularization
/// recover the weights, means and precisions the data were drawn from.
#[test]
fn test_gaussian_mixture_fit() {
    let w_true = vec_input("gmm_rd_weights");
    let m_true = input::<f64>("gmm_rd_means");
    for ct in TYPES {
        let x = rand_data_x(ct);
        let g = GaussianMixture::params(2).n_init(20).reg_covar(0.0).covariance_type(ct).fit(&x).unwrap();
        let mut w: Vec<f64> = g.weights().to_vec();
        let mut wt: Vec<f64> = w_true.to_vec();
        w.sort_by(f64::total_cmp);
        wt.sort_by(f64::total_cmp);
        for (a, b) in w.iter().zip(&wt) {
            assert!((a - b).abs() <= 1e-2 + 0.1 * b.abs(), "{ct:?} weights {w:?} vs {wt:?}");
        }
        let order = |m: &Array2<f64>| {
            let mut o: Vec<usize> = (0..m.nrows()).collect();
            o.sort_by(|&a, &b| m[[a, 0]].total_cmp(&m[[b, 0]]));
            o
        };
        let (o1, o2) = (order(g.means()), order(&m_true));
        for (&a, &b) in o1.iter().zip(&o2) {
            for j in 0..2 {
                let (got, want) = (g.means()[[a, j]], m_true[[b, j]]);
                assert!((got - want).abs() <= 1e-2 + 0.1 * want.abs(), "{ct:?} means");
            }
        }
        // Precisions as k full matrices, matched by trace.
        let as_full = |p: &ArrayD<f64>| -> Vec<Array2<f64>> {
            match ct {
                CovarianceType::Full => {
                    p.outer_iter().map(|m| m.into_dimensionality::<Ix2>().unwrap().to_owned()).collect()
                }
                CovarianceType::Tied => vec![p.clone().into_dimensionality::<Ix2>().unwrap(); 2],
                CovarianceType::Diag => {
                    p.outer_iter().map(|r| Array2::from_diag(&r.into_dimensionality::<Ix1>().unwrap())).collect()
                }
                CovarianceType::Spherical => p.iter().map(|&c| Array2::eye(2) * c).collect(),
            }
        };
        let pred = as_full(g.precisions());
        let test = as_full(&any_rank(&format!("input_gmm_rd_{}_precisions", type_name(ct))));
        let by_trace = |v: &Vec<Array2<f64>>| {
            let mut o: Vec<usize> = (0..v.len()).collect();
            o.sort_by(|&a, &b| v[a].diag().sum().total_cmp(&v[b].diag().sum()));
            o
        };
        for (&a, &b) in by_trace(&pred).iter().zip(&by_trace(&test)) {
            // EmpiricalCovariance.error_norm: squared Frobenius norm of the difference / d.
            let err = (&pred[a] - &test[b]).mapv(|v| v * v).sum() / 2.0;
            assert!(err <= 0.15, "{ct:?} precision error norm {err}");
        }
    }
}

/// Ports `test_gaussian_mixture_fit_best_params`: the best of n_init runs scores at least as
/// well as each single run drawn from the same generator sequence.
#[test]
fn test_gaussian_mixture_fit_best_params() {
    for ct in TYPES {
        let x = rand_data_x(ct);
        let g = |n_init: usize| {
            GaussianMixture::params(2)
                .n_init(n_init)
                .reg_covar(0.0)
                .covariance_type(ct)
                .init_params(MixtureInit::Random)
        };
        let best = g(10).seed(3).fit(&x).unwrap();
        let single = g(1).seed(3).fit(&x).unwrap();
        assert!(best.lower_bound() >= single.lower_bound(), "{ct:?}");
        assert!((best.score(&x).unwrap() - best.lower_bound()).abs() < 1e-2, "{ct:?} score near lower bound");
    }
}

/// Ports `test_multiple_init`.
#[test]
fn test_multiple_init() {
    let x = normal(50, 5, 0);
    for ct in TYPES {
        let one = GaussianMixture::params(2).covariance_type(ct).seed(0).fit(&x).unwrap().score(&x).unwrap();
        let five = GaussianMixture::params(2).covariance_type(ct).seed(0).n_init(5).fit(&x).unwrap().score(&x).unwrap();
        assert!(five >= one, "{ct:?}: {five} < {one}");
    }
}

/// Ports `test_gaussian_mixture_n_parameters`.
#[test]
fn test_gaussian_mixture_n_parameters() {
    let x = normal(50, 5, 0);
    for (ct, n) in TYPES.into_iter().zip([41, 26, 21, 13]) {
        assert_eq!(GaussianMixture::params(2).covariance_type(ct).fit(&x).unwrap().n_parameters(), n, "{ct:?}");
    }
}

/// Ports `test_bic_1d_1component`.
#[test]
fn test_bic_1d_1component() {
    let x = normal(100, 1, 0);
    let bic = |ct| GaussianMixture::params(1).covariance_type(ct).fit(&x).unwrap().bic(&x).unwrap();
    let full = bic(CovarianceType::Full);
    for ct in [CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical] {
        assert!((bic(ct) - full).abs() < 1e-7, "{ct:?}");
    }
}

/// Ports `test_gaussian_mixture_aic_bic`: close to the standard Gaussian entropy's values.
#[test]
fn test_gaussian_mixture_aic_bic() {
    let (n, d) = (50usize, 3usize);
    let x = normal(n, d, 0);
    let cov = kiln_estimators::covariance::EmpiricalCovariance::params().fit(&x).unwrap().covariance().clone();
    let logdet = {
        // Cholesky of the 3 x 3 covariance.
        let mut l = Array2::<f64>::zeros((d, d));
        for i in 0..d {
            for j in 0..=i {
                let s: f64 = cov[[i, j]] - (0..j).map(|m| l[[i, m]] * l[[j, m]]).sum::<f64>();
                l[[i, j]] = if i == j { s.sqrt() } else { s / l[[j, j]] };
            }
        }
        2.0 * (0..d).map(|i| l[[i, i]].ln()).sum::<f64>()
    };
    let sgh = 0.5 * (logdet + d as f64 * (1.0 + (2.0 * std::f64::consts::PI).ln()));
    for ct in TYPES {
        let g = GaussianMixture::params(2).covariance_type(ct).max_iter(200).fit(&x).unwrap();
        let p = g.n_parameters() as f64;
        let aic = 2.0 * n as f64 * sgh + 2.0 * p;
        let bic = 2.0 * n as f64 * sgh + (n as f64).ln() * p;
        let bound = d as f64 / (n as f64).sqrt();
        assert!((g.aic(&x).unwrap() - aic) / (n as f64) < bound, "{ct:?} aic");
        assert!((g.bic(&x).unwrap() - bic) / (n as f64) < bound, "{ct:?} bic");
    }
}

/// Ports `test_warm_start`: a warm refit continues where the last fit stopped, so two fits of
/// 1 then 1 iteration equal one fit of 2, and a warm refit of a converged model converges.
#[test]
fn test_warm_start() {
    let x = uniform(500, 2, 0);
    for ct in TYPES {
        let g = || GaussianMixture::params(2).covariance_type(ct).reg_covar(0.0).seed(0).tol(1e-6);
        let two = g().max_iter(2).fit(&x).unwrap();
        let mut warm = g().max_iter(1).fit(&x).unwrap();
        warm.warm_fit(&x).unwrap();
        assert_allclose(warm.weights(), &two.weights().clone(), 1e-12, 0.0, "warm weights");
        assert_allclose(warm.means(), &two.means().clone(), 1e-12, 0.0, "warm means");
        assert_allclose(warm.precisions(), &two.precisions().clone(), 1e-12, 1e-12, "warm precisions");
        assert_eq!(warm.n_iter(), 1);
        let mut long = g().max_iter(5).fit(&x).unwrap();
        for _ in 0..200 {
            if long.converged() {
                break;
            }
            long.warm_fit(&x).unwrap();
        }
        assert!(long.converged(), "{ct:?} warm fits converge");
    }
}

/// Ports `test_score` and `test_score_samples`.
#[test]
fn test_score() {
    let x = rand_data_x(CovarianceType::Full);
    // scikit-learn's test data here is RandomData(scale=7), whose clusters overlap; on the
    // saved RandomData (scale 50) a k-means start is already the optimum, so both fits start
    // from random responsibilities.
    let g = |max_iter| {
        GaussianMixture::params(2).reg_covar(0.0).init_params(MixtureInit::Random).seed(0).max_iter(max_iter)
    };
    let m1 = g(1).fit(&x).unwrap();
    let s = m1.score_samples(&x).unwrap();
    assert_eq!(s.len(), 200);
    assert!((m1.score(&x).unwrap() - s.mean().unwrap()).abs() < 1e-7);
    let m2 = g(100).fit(&x).unwrap();
    assert!(m2.score(&x).unwrap() > m1.score(&x).unwrap());
}

/// Ports `test_monotonic_likelihood`: each EM step (a warm refit of one iteration) without
/// regularization never lowers the training likelihood, until convergence.
#[test]
fn test_monotonic_likelihood() {
    for ct in TYPES {
        let x = rand_data_x(ct);
        let mut g =
            GaussianMixture::params(2).covariance_type(ct).reg_covar(0.0).max_iter(1).tol(1e-7).fit(&x).unwrap();
        let mut current = g.score(&x).unwrap();
        for _ in 0..600 {
            if g.converged() {
                break;
            }
            g.warm_fit(&x).unwrap();
            let next = g.score(&x).unwrap();
            assert!(next >= current - 1e-12, "{ct:?}: {next} < {current}");
            current = next;
        }
        assert!(g.converged(), "{ct:?} converged");
    }
}

/// Ports `test_regularisation`: collapsed samples without reg_covar are scikit-learn's
/// "ill-defined empirical covariance" error; with the default reg_covar the fit succeeds.
#[test]
fn test_regularisation() {
    let x = Array2::from_shape_fn((10, 5), |(i, _)| if i < 5 { 1.0 } else { 0.0 });
    for ct in TYPES {
        match GaussianMixture::params(10).reg_covar(0.0).covariance_type(ct).fit(&x) {
            Err(e @ EstimatorError::Linalg(_)) => assert!(
                e.to_string().contains(
                    "Fitting the mixture model failed because some components have ill-defined empirical covariance \
                     (for instance caused by singleton or collapsed samples). Try to decrease the number of \
                     components, increase reg_covar, or scale the input data."
                ),
                "{e}"
            ),
            other => panic!("{ct:?}: {other:?}"),
        }
        GaussianMixture::params(10).reg_covar(1e-6).covariance_type(ct).fit(&x).unwrap();
    }
    let x32 = x.mapv(|v| v as f32);
    let e = GaussianMixture::params(10).reg_covar(0.0).fit(&x32).unwrap_err();
    assert!(e.to_string().contains("passing float64 data instead of float32"), "{e}");
}

/// Ports `test_fitted_precision_covariance_concistency`.
#[test]
fn test_fitted_precision_covariance_consistency() {
    for ct in TYPES {
        let x = rand_data_x(ct);
        let g = GaussianMixture::params(2).covariance_type(ct).n_init(5).fit(&x).unwrap();
        let (p, c) = (g.precisions(), g.covariances());
        let check = |p: Array2<f64>, c: Array2<f64>| {
            let prod = p.dot(&c);
            assert_allclose(&prod, &Array2::eye(p.nrows()), 0.0, 1e-6, &format!("{ct:?} P C"));
        };
        match ct {
            CovarianceType::Full => {
                for (pm, cm) in p.outer_iter().zip(c.outer_iter()) {
                    check(
                        pm.into_dimensionality::<Ix2>().unwrap().to_owned(),
                        cm.into_dimensionality::<Ix2>().unwrap().to_owned(),
                    );
                }
            }
            CovarianceType::Tied => {
                check(p.clone().into_dimensionality().unwrap(), c.clone().into_dimensionality().unwrap())
            }
            _ => assert_allclose(p, &c.mapv(|v| 1.0 / v), 1e-6, 0.0, "1 / covariances"),
        }
    }
}

/// Ports `test_init_means_not_duplicated` and `test_means_for_all_inits`: every
/// initialization gives distinct means inside the data's range, and converges.
#[test]
fn test_means_for_all_inits() {
    let x = input::<f64>("blobs_x");
    let (lo, hi) = (
        x.fold_axis(ndarray::Axis(0), f64::INFINITY, |a, &b| a.min(b)),
        x.fold_axis(ndarray::Axis(0), f64::NEG_INFINITY, |a, &b| a.max(b)),
    );
    for init in [MixtureInit::KMeans, MixtureInit::KMeansPlusPlus, MixtureInit::Random, MixtureInit::RandomFromData] {
        let start = GaussianMixture::params(4).init_params(init).seed(1).max_iter(0).fit(&x).unwrap();
        let m = start.means();
        for a in 0..4 {
            for b in 0..a {
                assert!(m.row(a) != m.row(b), "{init:?}: duplicated initial means");
            }
        }
        let g = GaussianMixture::params(4).init_params(init).seed(1).fit(&x).unwrap();
        for row in g.means().rows() {
            for j in 0..x.ncols() {
                assert!(row[j] >= lo[j] && row[j] <= hi[j], "{init:?}: mean outside the data");
            }
        }
        assert!(g.converged(), "{init:?} converged");
    }
}

/// Ports `test_max_iter_zero`: no EM step keeps the initialization.
#[test]
fn test_max_iter_zero() {
    let x = rand_data_x(CovarianceType::Full);
    let means = input::<f64>("gmm_rd_means");
    let g = GaussianMixture::params(2).means_init(means.clone()).max_iter(0).tol(1e-6).seed(0).fit(&x).unwrap();
    assert_eq!(g.means(), &means);
    assert_eq!(g.n_iter(), 0);
    assert!(!g.converged());
}

/// Ports `test_gaussian_mixture_precisions_init_diag`: a diagonal start given as diag
/// precisions or as the equivalent full precisions gives the same fit.
#[test]
fn test_gaussian_mixture_precisions_init_diag() {
    let x = rand_data_x(CovarianceType::Diag);
    let diag = any_rank("input_gmm_rd_diag_precisions");
    let full = ArrayD::from_shape_fn(IxDyn(&[2, 2, 2]), |i| if i[1] == i[2] { diag[[i[0], i[1]]] } else { 0.0 });
    let base = || {
        GaussianMixture::params(2).weights_init(vec_input("gmm_rd_weights")).means_init(input::<f64>("gmm_rd_means"))
    };
    let gd = base().covariance_type(CovarianceType::Diag).precisions_init(diag).fit(&x).unwrap();
    let gf = base().covariance_type(CovarianceType::Full).precisions_init(full).max_iter(1).fit(&x).unwrap();
    let gd1 = base()
        .covariance_type(CovarianceType::Diag)
        .precisions_init(any_rank("input_gmm_rd_diag_precisions"))
        .max_iter(1)
        .fit(&x)
        .unwrap();
    // One step from the same diagonal start: the means and weights agree.
    assert_allclose(gf.means(), &gd1.means().clone(), 1e-10, 0.0, "means after one step");
    assert_allclose(gf.weights(), &gd1.weights().clone(), 1e-10, 0.0, "weights after one step");
    assert!(gd.converged());
}

/// Ports `test_gaussian_mixture_single_component_stable`.
#[test]
fn test_gaussian_mixture_single_component_stable() {
    let x = normal(1000, 2, 0);
    GaussianMixture::params(1).fit(&x).unwrap();
}
