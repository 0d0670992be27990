//! KMeans parity with scikit-learn 1.9 (fixtures from `cargo xtask fixtures`): from explicit
//! initial centers the labels, centers and `n_iter_` are scikit-learn's exactly (f64 and f32,
//! and on the CUDA simulator through the same source); with k-means++ the inertia is within 1%.

use crate::common::{assert_allclose, expected, fixture, input, rtol};
use kiln_estimators::datasets::{load_digits, load_npy, Real};
use kiln_estimators::prelude::*;
use kiln_estimators::EstimatorError;
use ndarray::{array, Array1, Array2, Ix0, Ix1, Ix2};

fn scalar_f64(name: &str) -> f64 {
    expected::<Ix0>(name).into_scalar()
}

fn n_iter_of(name: &str) -> usize {
    kiln_estimators::datasets::load_npy_as::<i64, Ix0>(fixture(&format!("{name}.n_iter_.npy"))).unwrap().into_scalar()
        as usize
}

fn labels_of(name: &str) -> Array1<i64> {
    kiln_estimators::datasets::load_npy_as::<i64, Ix1>(fixture(&format!("{name}.labels_.npy"))).unwrap()
}

/// KMeans from the fixture's explicit initial centers (`max_iter` as scikit-learn's run had it):
/// labels, `n_iter` and predict exactly scikit-learn's, centers and inertia at its rtol; on the
/// host, or on `dev` with everything fitted kept there.
fn from_init_case<F: Real>(fx: &str, data: &str, k: usize, max_iter: usize, dev: Option<Device>) {
    let x = input::<F>(&format!("{data}_x"));
    let init = load_npy::<f64>(fixture(&format!("input_{data}_kmeans_init.npy"))).unwrap();
    let params = KMeans::params(k).init(init).max_iter(max_iter);
    let (labels, n_iter, centers, inertia, predicted) = match dev {
        None => {
            let km = params.fit(&x).unwrap();
            let p = km.predict(&x).unwrap();
            (km.labels().clone(), km.n_iter(), km.centers().clone(), km.inertia(), p)
        }
        Some(dev) => {
            let xt = Tensor::from_array(&x, dev).unwrap();
            let km = params.fit(&xt).unwrap();
            assert_eq!(km.centers().device(), dev);
            assert_eq!(km.labels().device(), dev);
            let p = km.predict(&xt).unwrap();
            assert_eq!(p.device(), dev);
            // A host array against a device model is a typed error, not a silent copy.
            let e = km.predict(&x);
            assert!(matches!(e, Err(EstimatorError::Kernel(kiln_runtime::Error::DeviceMismatch { .. }))));
            let labels = km.labels().to_array::<Ix1>().unwrap();
            let centers = km.centers().to_array::<Ix2>().unwrap();
            (labels, km.n_iter(), centers, km.inertia(), p.to_array::<Ix1>().unwrap())
        }
    };
    assert_eq!(labels, labels_of(fx), "{fx} labels_");
    assert_eq!(n_iter, n_iter_of(fx), "{fx} n_iter_");
    let want = expected::<Ix2>(&format!("{fx}.cluster_centers_"));
    assert_allclose(&centers, &want, rtol::<F>(), 0.0, &format!("{fx} cluster_centers_"));
    let want = scalar_f64(&format!("{fx}.inertia_"));
    assert!((inertia - want).abs() <= rtol::<F>() * want, "{fx} inertia_ {inertia} vs {want}");
    assert_eq!(predicted, labels_of(fx), "{fx} predict on the training data");
}

const FROM_INIT: [(&str, &str, usize, usize); 3] = [
    ("kmeans_init_blobs", "blobs", 4, 300),
    ("kmeans_init_iris", "iris", 3, 300),
    // Cut short by max_iter (the run to convergence takes 3).
    ("kmeans_init_maxiter2_blobs", "blobs", 4, 2),
];

#[test]
fn kmeans_from_explicit_centers_matches_scikit_learn_exactly() {
    for (fx, data, k, max_iter) in FROM_INIT {
        from_init_case::<f64>(fx, data, k, max_iter, None);
        from_init_case::<f32>(fx, data, k, max_iter, None);
    }
}

#[test]
fn kmeans_on_cuda_sim_keeps_centers_there() {
    for (fx, data, k, max_iter) in FROM_INIT {
        from_init_case::<f64>(fx, data, k, max_iter, Some(Device::CudaSim));
        from_init_case::<f32>(fx, data, k, max_iter, Some(Device::CudaSim));
    }
    // k-means++ on the simulator too (small data).
    let b = input::<f64>("blobs_x");
    let bt = Tensor::from_array(&b, Device::CudaSim).unwrap();
    let pp = KMeans::params(4).seed(0).fit(&bt).unwrap();
    let want = scalar_f64("kmeans_pp_blobs.inertia_");
    assert!((pp.inertia() - want).abs() <= 0.01 * want, "cuda-sim k-means++ inertia {} vs {want}", pp.inertia());
}

#[test]
fn kmeans_plusplus_reaches_scikit_learns_inertia() {
    let x = input::<f64>("blobs_x");
    let want = scalar_f64("kmeans_pp_blobs.inertia_");
    for seed in 0..3 {
        let km = KMeans::params(4).n_init(1).max_iter(300).tol(1e-4).seed(seed).fit(&x).unwrap();
        assert!((km.inertia() - want).abs() <= 0.01 * want, "blobs seed {seed}: {} vs {want}", km.inertia());
    }
    let x32 = input::<f32>("blobs_x");
    let km = KMeans::params(4).seed(0).fit(&x32).unwrap();
    assert!((km.inertia() - want).abs() <= 0.01 * want, "blobs f32: {} vs {want}", km.inertia());

    let digits = load_digits().data;
    // As many k-means++ starts as scikit-learn's run (n_init=3), the best kept.
    let want = scalar_f64("kmeans_pp3_digits.inertia_");
    let km = KMeans::params(10).n_init(3).seed(0).fit(&digits).unwrap();
    assert!((km.inertia() - want).abs() <= 0.01 * want, "digits: {} vs {want}", km.inertia());
    let km32 = KMeans::params(10).n_init(3).seed(0).fit(&digits.mapv(|v| v as f32)).unwrap();
    assert!((km32.inertia() - want).abs() <= 0.01 * want, "digits f32: {} vs {want}", km32.inertia());
    // The reported inertia is that of the reported labels and centers.
    assert!((km.inertia_of(&digits).unwrap() - km.inertia()).abs() <= 1e-9 * want);
}

#[test]
fn empty_clusters_are_relocated_like_scikit_learn() {
    // Two initial centers far from every point: the second gets no point in the first
    // assignment and is moved to the point farthest from its center (x = 10).
    let x = array![[0.0f64], [1.0], [2.0], [10.0]];
    let km = KMeans::params(2).init(array![[1.0f64], [100.0]]).fit(&x).unwrap();
    assert_eq!(km.centers(), &array![[1.0], [10.0]]);
    assert_eq!(km.labels(), &array![0, 0, 0, 1]);
    assert_eq!(km.inertia(), 2.0);
}

#[test]
fn kmeans_is_a_transformer_of_distances() {
    let x = array![[0.0f64, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]];
    let params: Box<dyn TransformerParams<f64>> = Box::new(KMeans::params(2).init(array![[0.0, 0.0], [4.0, 0.0]]));
    let d = params.fit_dyn(&x).unwrap().transform_dyn(&x).unwrap();
    let want =
        array![[0.5, 4.031128874149275], [0.5, 4.031128874149275], [4.031128874149275, 0.5], [4.031128874149275, 0.5]];
    assert_allclose(&d, &want, 1e-12, 0.0, "distances to the centers");
}

#[test]
fn bad_input_is_a_typed_error() {
    let x = array![[1.0f64, 2.0], [2.0, 0.0], [4.0, 4.0]];
    let e = KMeans::params(4).fit(&x).unwrap_err();
    assert!(matches!(e, EstimatorError::TooFewSamples(_)), "{e}");
    assert_eq!(e.to_string(), "n_samples=3 should be >= n_clusters=4.");
    let e = KMeans::params(0).fit(&x).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidParameter { name: "n_clusters", .. }), "{e}");
    assert!(KMeans::params(2).max_iter(0).fit(&x).is_err());
    assert!(KMeans::params(2).n_init(0).fit(&x).is_err());
    assert!(KMeans::params(2).tol(-1.0).fit(&x).is_err());
    let e = KMeans::params(2).init(Array2::<f64>::zeros((3, 2))).fit(&x).unwrap_err();
    assert_eq!(e.to_string(), "The shape of the initial centers (3, 2) does not match the number of clusters 2.");
    let e = KMeans::params(2).init(Array2::<f64>::zeros((2, 3))).fit(&x).unwrap_err();
    assert!(e.to_string().contains("number of features of the data 2"), "{e}");
    let e = KMeans::params(2).init(array![[0.0f64, f64::NAN], [1.0, 1.0]]).fit(&x).unwrap_err();
    assert!(matches!(e, EstimatorError::NonFinite { what: "init" }), "{e}");
    let mut nan = x.clone();
    nan[[0, 1]] = f64::INFINITY;
    assert!(matches!(KMeans::params(2).fit(&nan), Err(EstimatorError::NonFinite { what: "X" })));
    let km = KMeans::params(2).fit(&x).unwrap();
    let e = km.predict(&array![[1.0f64, 2.0, 3.0]]).unwrap_err();
    assert_eq!(e.to_string(), "X has 3 features, but KMeans is expecting 2 features as input");
    assert!(matches!(km.predict(&array![[f64::NAN, 1.0]]), Err(EstimatorError::NonFinite { .. })));
}
