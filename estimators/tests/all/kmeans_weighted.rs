//! KMeans with `sample_weight` (`fit_weighted`, `inertia_of_weighted`): parity with
//! scikit-learn (fixtures from `cargo xtask fixtures`, `kmeans_weighted_fixtures`: explicit
//! initial centers, and `init="random"` whose numpy draws kiln reproduces) in f64 and f32, on
//! host arrays and on the CUDA simulator; ports of `sklearn/cluster/tests/test_k_means.py`'s
//! weighted tests.

use crate::common::{assert_allclose, expected, fixture, input, ints, rtol};
use kiln_estimators::prelude::*;
use ndarray::{Array1, Array2, Axis, Ix0, Ix1, Ix2};

/// A 1-D float input fixture (`input_<name>.npy`) as `F`.
fn vector<F: Real>(name: &str) -> Array1<F> {
    kiln_estimators::datasets::load_npy_as::<f64, Ix1>(fixture(&format!("input_{name}.npy")))
        .unwrap_or_else(|e| panic!("input {name}: {e}"))
        .mapv(F::from_f64)
}

fn case<F: Real>(fx: &str, data: &str, params: KMeansParams, device: Option<Device>) {
    let x = input::<F>(&format!("{data}_x"));
    let w = vector::<F>(&format!("{data}_kw"));
    let (labels, centers, inertia, n_iter, score) = match device {
        None => {
            let m = params.fit_weighted(&x, &w).unwrap();
            let score = -m.inertia_of_weighted(&x, &w).unwrap();
            (m.labels().clone(), m.centers().clone(), m.inertia(), m.n_iter(), score)
        }
        Some(dev) => {
            let (xt, wt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&w, dev).unwrap());
            let m = params.fit_weighted(&xt, &wt).unwrap();
            assert_eq!(m.centers().device(), dev, "the model stays on the data's device");
            let score = -m.inertia_of_weighted(&xt, &wt).unwrap();
            (
                m.labels().to_array::<Ix1>().unwrap(),
                m.centers().to_array::<Ix2>().unwrap(),
                m.inertia(),
                m.n_iter(),
                score,
            )
        }
    };
    let tol = rtol::<F>();
    let what = |a: &str| format!("{fx} {a} ({device:?}, {} bytes)", std::mem::size_of::<F>());
    assert_eq!(labels, ints::<Ix1>(&format!("{fx}.labels_")), "{}", what("labels_"));
    assert_eq!(n_iter as i64, ints::<Ix0>(&format!("{fx}.n_iter_")).into_scalar(), "{}", what("n_iter_"));
    let cw = expected::<Ix2>(&format!("{fx}.cluster_centers_"));
    let scale = cw.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&centers, &cw, tol, scale * tol, &what("cluster_centers_"));
    let want = expected::<Ix0>(&format!("{fx}.inertia_")).into_scalar();
    assert!((inertia - want).abs() <= tol * want, "{}: {inertia} vs {want}", what("inertia_"));
    let want = expected::<Ix0>(&format!("{fx}.score")).into_scalar();
    assert!((score - want).abs() <= tol * want.abs(), "{}: {score} vs {want}", what("score"));
}

fn all_cases<F: Real>(device: Option<Device>) {
    for (data, k, seed, n_init) in [("blobs", 4usize, 0u64, 3usize), ("iris", 3, 3, 2)] {
        let init = input::<f64>(&format!("{data}_kmeans_init"));
        case::<F>(&format!("kmeans_weighted_init_{data}"), data, KMeans::params(k).init(init), device);
        let random = KMeans::params(k).init_random().seed(seed).n_init(n_init);
        case::<F>(&format!("kmeans_weighted_random_{data}"), data, random, device);
    }
}

#[test]
fn kmeans_weighted_matches_scikit_learn() {
    all_cases::<f64>(None);
    all_cases::<f32>(None);
}

#[test]
fn kmeans_weighted_matches_scikit_learn_on_cuda_sim() {
    all_cases::<f64>(Some(Device::CudaSim));
    all_cases::<f32>(Some(Device::CudaSim));
}

/// A fixed pseudo-random stream in [0, 1) (a plain LCG: scikit-learn's tests draw from numpy).
fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// scikit-learn's test data: 100 points around 3 centers in 5 dimensions (kiln's make_blobs).
fn blobs() -> (Array2<f64>, Array2<f64>) {
    let (x, _) = kiln_estimators::datasets::make_blobs::<f64>(100, 3, 5, 1.0, 42).unwrap();
    let centers = x.select(Axis(0), &[0, 1, 2]);
    (x, centers)
}

/// Centers sorted by their coordinates (scikit-learn's `_sort_centers`).
fn sorted(c: &Array2<f64>) -> Vec<Vec<f64>> {
    let mut rows: Vec<Vec<f64>> = c.rows().into_iter().map(|r| r.to_vec()).collect();
    rows.sort_by(|a, b| {
        a.iter().zip(b).map(|(u, v)| u.total_cmp(v)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    });
    rows
}

/// scikit-learn's `test_weighted_vs_repeated`: integer weights equal repeating the rows (from
/// the same initial centers): the same labels (repeated), inertia and centers.
#[test]
fn test_weighted_vs_repeated() {
    let (x, init) = blobs();
    for seed in 0..3 {
        let mut next = lcg(seed);
        let w: Array1<f64> = (0..x.nrows()).map(|_| 1.0 + (next() * 4.0).floor()).collect();
        let rows: Vec<usize> = (0..x.nrows()).flat_map(|i| std::iter::repeat_n(i, w[i] as usize)).collect();
        let x_repeat = x.select(Axis(0), &rows);
        let p = KMeans::params(3).init(init.clone());
        let weighted = p.fit_weighted(&x, &w).unwrap();
        let repeated = p.fit(&x_repeat).unwrap();
        let repeated_labels: Array1<i64> = rows.iter().map(|&i| weighted.labels()[i]).collect();
        assert_eq!(repeated.labels(), &repeated_labels);
        assert!((weighted.inertia() - repeated.inertia()).abs() <= 1e-7 * repeated.inertia());
        let (a, b) = (sorted(weighted.centers()), sorted(repeated.centers()));
        for (ra, rb) in a.iter().zip(&b) {
            assert!(ra.iter().zip(rb).all(|(u, v)| (u - v).abs() <= 1e-7 * v.abs().max(1.0)), "{a:?} vs {b:?}");
        }
    }
}

/// scikit-learn's `test_unit_weights_vs_no_weights`: unit weights give the unweighted fit
/// (k-means++ and `"random"`).
#[test]
fn test_unit_weights_vs_no_weights() {
    let (x, _) = blobs();
    let ones = Array1::<f64>::ones(x.nrows());
    for seed in 0..3 {
        for p in [KMeans::params(3).seed(seed).n_init(1), KMeans::params(3).init_random().seed(seed).n_init(1)] {
            let none = p.fit(&x).unwrap();
            let unit = p.fit_weighted(&x, &ones).unwrap();
            assert_eq!(none.labels(), unit.labels());
            assert_allclose(unit.centers(), none.centers(), 1e-7, 1e-12, "centers");
        }
    }
}

/// scikit-learn's `test_scaled_weights`: scaling every weight by 0.5 changes nothing.
#[test]
fn test_scaled_weights() {
    let (x, _) = blobs();
    for seed in 0..3 {
        let mut next = lcg(seed + 10);
        let w: Array1<f64> = (0..x.nrows()).map(|_| next()).collect();
        for p in [KMeans::params(3).seed(seed).n_init(1), KMeans::params(3).init_random().seed(seed).n_init(1)] {
            let orig = p.fit_weighted(&x, &w).unwrap();
            let scaled = p.fit_weighted(&x, &(&w * 0.5)).unwrap();
            assert_eq!(orig.labels(), scaled.labels());
            assert_allclose(scaled.centers(), orig.centers(), 1e-7, 1e-12, "centers");
        }
    }
}

/// scikit-learn's `test_sample_weight_unchanged` (the weights are borrowed, so this checks the
/// fit runs on them) and bad weights: negative, NaN, of another length, all zero.
#[test]
fn kmeans_sample_weight_bad_input() {
    let x = ndarray::array![[1.0f64], [2.0], [4.0]];
    let w = ndarray::array![0.5, 0.2, 0.3];
    KMeans::params(2).seed(0).fit_weighted(&x, &w).unwrap();
    assert_eq!(w, ndarray::array![0.5, 0.2, 0.3]);
    let p = KMeans::params(2);
    assert!(p.fit_weighted(&x, &ndarray::array![0.5, -0.2, 0.3]).is_err());
    assert!(p.fit_weighted(&x, &ndarray::array![0.5, f64::NAN, 0.3]).is_err());
    assert!(p.fit_weighted(&x, &ndarray::array![0.5, 0.2]).is_err());
    assert!(p.fit_weighted(&x, &ndarray::array![0.0, 0.0, 0.0]).is_err());
    let m = p.fit(&x).unwrap();
    assert!(m.inertia_of_weighted(&x, &ndarray::array![1.0]).is_err());
    // Weighted score: unit weights give the unweighted inertia.
    let unit = m.inertia_of_weighted(&x, &ndarray::array![1.0, 1.0, 1.0]).unwrap();
    assert!((unit - m.inertia_of(&x).unwrap()).abs() <= 1e-12);
}
