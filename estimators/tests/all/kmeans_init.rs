//! KMeans `init="random"` and `n_init="auto"`: scikit-learn's runs reproduced from the same
//! seed (numpy's `RandomState.choice` draws), f64 and f32, host and CUDA simulator; ports of
//! `sklearn/cluster/tests/test_k_means.py`.

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::prelude::*;
use kiln_estimators::EstimatorError;
use ndarray::{Array1, Ix0, Ix1, Ix2};

fn random_case<F: Real>(data: &str, k: usize, seed: u64, n_init: Option<usize>, dev: Option<Device>) {
    let fx = format!("kmeans_random_{data}");
    let x = input::<F>(&format!("{data}_x"));
    let mut p = KMeans::params(k).init_random().seed(seed);
    if let Some(n) = n_init {
        p = p.n_init(n);
    }
    let (labels, centers, inertia, n_iter) = match dev {
        None => {
            let m = p.fit(&x).unwrap();
            (m.labels().clone(), m.centers().clone(), m.inertia(), m.n_iter())
        }
        Some(dev) => {
            let m = p.fit(&Tensor::from_array(&x, dev).unwrap()).unwrap();
            assert_eq!(m.centers().device(), dev);
            let labels = m.labels().to_array::<Ix1>().unwrap();
            (labels, m.centers().to_array::<Ix2>().unwrap(), m.inertia(), m.n_iter())
        }
    };
    assert_eq!(labels, ints::<Ix1>(&format!("{fx}.labels_")), "{fx} labels_");
    assert_eq!(n_iter as i64, ints::<Ix0>(&format!("{fx}.n_iter_")).into_scalar(), "{fx} n_iter_");
    assert_allclose(&centers, &expected::<Ix2>(&format!("{fx}.cluster_centers_")), rtol::<F>(), 0.0, &fx);
    let want = expected::<Ix0>(&format!("{fx}.inertia_")).into_scalar();
    assert!((inertia - want).abs() <= rtol::<F>() * want, "{fx} inertia_ {inertia} vs {want}");
}

// scikit-learn's KMeans(init="random", n_init="auto", random_state=0) on blobs (10 runs) and
// KMeans(init="random", n_init=2, random_state=3) on iris.
#[test]
fn kmeans_random_init_matches_scikit_learn() {
    random_case::<f64>("blobs", 4, 0, None, None);
    random_case::<f32>("blobs", 4, 0, None, None);
    random_case::<f64>("iris", 3, 3, Some(2), None);
    random_case::<f32>("iris", 3, 3, Some(2), None);
    random_case::<f64>("blobs", 4, 0, None, Some(Device::CudaSim));
    random_case::<f32>("iris", 3, 3, Some(2), Some(Device::CudaSim));
}

// Port of test_k_means.py::test_n_init_auto: "auto" is 10 runs for "random" (the same model as
// n_init=10), 1 for k-means++ (the same model as n_init=1).
#[test]
fn test_n_init_auto() {
    let x = input::<f64>("blobs_x");
    let auto = KMeans::params(4).init_random().seed(5).n_init_auto().fit(&x).unwrap();
    let ten = KMeans::params(4).init_random().seed(5).n_init(10).fit(&x).unwrap();
    assert_eq!(auto.labels(), ten.labels());
    assert_eq!(auto.inertia(), ten.inertia());
    let pp = KMeans::params(4).seed(5).n_init_auto().fit(&x).unwrap();
    let one = KMeans::params(4).seed(5).n_init(1).fit(&x).unwrap();
    assert_eq!(pp.labels(), one.labels());
    assert_eq!(pp.inertia(), one.inertia());
}

// Port of test_k_means.py::test_n_init: more random initializations never give a larger
// inertia (max_iter = 1 so each run stops at its first step).
#[test]
fn test_n_init() {
    let x = input::<f64>("blobs_x");
    let mut previous = f64::INFINITY;
    for n_init in [1, 5, 10] {
        let m = KMeans::params(4).init_random().n_init(n_init).seed(42).max_iter(1).fit(&x).unwrap();
        assert!(m.inertia() <= previous, "{n_init}: {} > {previous}", m.inertia());
        previous = m.inertia();
    }
}

// Port of test_k_means.py::test_all_init (the "random" and ndarray cases; _check_fitted_model:
// labels in range, every cluster used, predict agrees with labels_).
#[test]
fn test_all_init() {
    let x = input::<f64>("blobs_x");
    let init = x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..4)).to_owned();
    for p in [KMeans::params(4).init_random().n_init(10).seed(42), KMeans::params(4).init(init)] {
        let m = p.fit(&x).unwrap();
        let labels = m.labels();
        let mut used = [false; 4];
        labels.iter().for_each(|&l| used[l as usize] = true);
        assert!(used.iter().all(|&u| u), "every cluster has samples");
        assert_eq!(&m.predict(&x).unwrap(), labels);
        assert_eq!(m.centers().dim(), (4, x.ncols()));
    }
}

// The random rows are distinct rows of X (numpy's choice without replacement): with as many
// clusters as samples every sample is its own center at zero inertia.
#[test]
fn kmeans_random_init_draws_distinct_rows() {
    let x = input::<f64>("iris_x").slice_axis(ndarray::Axis(0), ndarray::Slice::from(..12)).to_owned();
    let m = KMeans::params(12).init_random().seed(1).fit(&x).unwrap();
    assert_eq!(m.inertia(), 0.0);
    let mut labels: Vec<i64> = m.labels().to_vec();
    labels.sort_unstable();
    assert_eq!(Array1::from(labels), Array1::from_iter(0..12i64));
}

// Bad hyper-parameters stay typed errors: n_init = 0, a seed numpy refuses.
#[test]
fn kmeans_random_init_bad_params() {
    let x = input::<f64>("iris_x");
    let e = KMeans::params(3).init_random().n_init(0).fit(&x);
    assert!(matches!(e, Err(EstimatorError::InvalidParameter { .. })), "{e:?}");
    let e = KMeans::params(3).init_random().seed(1 << 40).fit(&x);
    assert!(matches!(e, Err(EstimatorError::InvalidParameter { .. })), "{e:?}");
}
