//! Nearest neighbours: parity with scikit-learn's brute-force `NearestNeighbors`,
//! `KNeighborsClassifier` and `KNeighborsRegressor` (fixtures from `cargo xtask fixtures`:
//! fitted on the first 150 rows of an input, queried with the last 50) in f64 and f32, on the
//! default device and on the CUDA simulator; scikit-learn's own tests from
//! `sklearn/neighbors/tests/test_neighbors.py` that apply to brute force; bad input.
//!
//! Tolerances: scikit-learn's euclidean distances come from `|x|^2 - 2 x.y + |y|^2` (kiln sums
//! the squared differences directly); both are within a few ulps of `|x|^2 + |y|^2` relative to
//! the distance, far inside rtol 1e-7 for these distances (all above 0.1 with norms below 30).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::data::Host;
use kiln_estimators::neighbors::*;
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Axis, Ix0, Ix1, Ix2, Slice};

fn rows<T: Clone>(a: &Array2<T>, r: std::ops::Range<usize>) -> Array2<T> {
    a.slice_axis(Axis(0), Slice::from(r)).to_owned()
}

fn split<F: Real>(data: &str) -> (Array2<F>, Array2<F>) {
    let x = input::<F>(&format!("{data}_x"));
    (rows(&x, 0..150), rows(&x, 150..x.nrows()))
}

const METRICS: [(&str, DistanceMetric, f64, f64); 5] = [
    ("euclidean", DistanceMetric::Minkowski, 2.0, 2.5),
    ("manhattan", DistanceMetric::Manhattan, 2.0, 5.0),
    ("chebyshev", DistanceMetric::Chebyshev, 2.0, 2.0),
    ("minkowski3", DistanceMetric::Minkowski, 3.0, 2.5),
    ("cosine", DistanceMetric::Cosine, 2.0, 0.02),
];

fn host<T: kiln_runtime::Element>(t: &Tensor<T>) -> Array2<T> {
    t.to_array::<Ix2>().unwrap()
}

fn nearest_case<F: Real>(device: Option<Device>) {
    let (train, query) = split::<F>("blobs");
    let tol = rtol::<F>();
    for (tag, metric, p, radius) in METRICS {
        let fx = format!("nearest_neighbors_{tag}_blobs");
        let e2 = |attr: &str| expected::<Ix2>(&format!("{fx}.{attr}"));
        let i2 = |attr: &str| ints::<Ix2>(&format!("{fx}.{attr}"));
        let params = NearestNeighbors::params(5).metric(metric).p(p).radius(radius);
        let (dist, ind, tdist, tind, (rd, ri)) = match device {
            None => {
                let m = params.fit(&train).unwrap();
                let (d, i) = m.kneighbors(&query).unwrap();
                let (td, ti) = m.kneighbors_train().unwrap();
                (d, i, td, ti, m.radius_neighbors_with(&query, radius, true).unwrap())
            }
            Some(dev) => {
                let (t, q) = (Tensor::from_array(&train, dev).unwrap(), Tensor::from_array(&query, dev).unwrap());
                let m = params.fit(&t).unwrap();
                assert_eq!(m.fit_x().device(), dev, "the model stays on the data's device");
                let (d, i) = m.kneighbors(&q).unwrap();
                assert_eq!((d.device(), i.device()), (dev, dev));
                let (td, ti) = m.kneighbors_train().unwrap();
                (host(&d), host(&i), host(&td), host(&ti), m.radius_neighbors_with(&q, radius, true).unwrap())
            }
        };
        assert_eq!(ind, i2("kneighbors_ind"), "{fx} kneighbors indices");
        // A cosine distance is `1 - s` for a similarity `s` in [-1, 1]: its rounding is a few
        // ulps of 1 in absolute terms, which is large relative to a distance near 0 (1e-3 here).
        let atol = if tag == "cosine" { 16.0 * F::UNIT_ROUNDOFF } else { 0.0 };
        assert_allclose(&dist, &e2("kneighbors_dist"), tol, atol, &format!("{fx} kneighbors distances"));
        assert_eq!(tind, i2("kneighbors_train_ind"), "{fx} kneighbors() indices");
        assert_allclose(&tdist, &e2("kneighbors_train_dist"), tol, atol, &format!("{fx} kneighbors() distances"));
        let counts: Array1<i64> = ri.iter().map(|r| r.len() as i64).collect();
        assert_eq!(counts, ints::<Ix1>(&format!("{fx}.radius_counts")), "{fx} radius counts");
        let flat_i: Array1<i64> = ri.iter().flatten().copied().collect();
        let flat_d: Array1<F> = rd.iter().flatten().copied().collect();
        assert_eq!(flat_i, ints::<Ix1>(&format!("{fx}.radius_ind")), "{fx} radius indices");
        assert_allclose(&flat_d, &expected::<Ix1>(&format!("{fx}.radius_dist")), tol, atol, "radius distances");
    }
}

#[test]
fn nearest_neighbors_matches_scikit_learn_f64() {
    nearest_case::<f64>(None);
}

#[test]
fn nearest_neighbors_matches_scikit_learn_f32() {
    nearest_case::<f32>(None);
}

#[test]
fn nearest_neighbors_matches_scikit_learn_on_cuda_sim() {
    nearest_case::<f64>(Some(Device::CudaSim));
    nearest_case::<f32>(Some(Device::CudaSim));
}

const CLASSIFIERS: [(&str, usize, Weights, DistanceMetric); 4] = [
    ("uniform", 5, Weights::Uniform, DistanceMetric::Minkowski),
    ("distance", 5, Weights::Distance, DistanceMetric::Minkowski),
    ("manhattan_distance", 5, Weights::Distance, DistanceMetric::Manhattan),
    ("k9_cosine", 9, Weights::Uniform, DistanceMetric::Cosine),
];

fn classifier_case<F: Real>(device: Option<Device>) {
    let (train, query) = split::<F>("clf3");
    let y = ints::<Ix1>("input_clf3_y");
    let (ytrain, yquery) =
        (y.slice_axis(Axis(0), Slice::from(0..150)).to_owned(), y.slice_axis(Axis(0), Slice::from(150..)).to_owned());
    for (tag, k, weights, metric) in CLASSIFIERS {
        let fx = format!("kneighbors_classifier_{tag}_clf3");
        let params = KNeighborsClassifier::params(k).weights(weights).metric(metric);
        let (classes, pred, proba, score) = match device {
            None => {
                let m = params.fit(&train, &ytrain).unwrap();
                (
                    m.classes().clone(),
                    m.predict(&query).unwrap(),
                    m.predict_proba(&query).unwrap(),
                    m.score(&query, &yquery).unwrap(),
                )
            }
            Some(dev) => {
                let t = |a: &Array2<F>| Tensor::from_array(a, dev).unwrap();
                let (yt, yq) = (Tensor::from_array(&ytrain, dev).unwrap(), Tensor::from_array(&yquery, dev).unwrap());
                let m = params.fit(&t(&train), &yt).unwrap();
                let p = m.predict_proba(&t(&query)).unwrap();
                assert_eq!(p.device(), dev);
                (
                    m.classes().to_array::<Ix1>().unwrap(),
                    m.predict(&t(&query)).unwrap().to_array::<Ix1>().unwrap(),
                    host(&p),
                    m.score(&t(&query), &yq).unwrap(),
                )
            }
        };
        assert_eq!(classes, ints::<Ix1>(&format!("{fx}.classes_")), "{fx} classes_");
        assert_eq!(pred, ints::<Ix1>(&format!("{fx}.predict")), "{fx} predict");
        assert_allclose(&proba, &expected::<Ix2>(&format!("{fx}.predict_proba")), rtol::<F>(), 0.0, &fx);
        assert_eq!(score, expected::<Ix0>(&format!("{fx}.score")).into_scalar(), "{fx} score");
    }
}

#[test]
fn kneighbors_classifier_matches_scikit_learn() {
    classifier_case::<f64>(None);
    classifier_case::<f32>(None);
}

#[test]
fn kneighbors_classifier_matches_scikit_learn_on_cuda_sim() {
    classifier_case::<f64>(Some(Device::CudaSim));
    classifier_case::<f32>(Some(Device::CudaSim));
}

const REGRESSORS: [(&str, usize, Weights, f64); 3] = [
    ("uniform", 5, Weights::Uniform, 2.0),
    ("distance", 5, Weights::Distance, 2.0),
    ("minkowski3_distance", 7, Weights::Distance, 3.0),
];

fn regressor_case<F: Real>(device: Option<Device>) {
    let (train, query) = split::<F>("reg");
    let y = crate::common::expected::<Ix1>("input_reg_y").mapv(F::from_f64);
    let (ytrain, yquery) =
        (y.slice_axis(Axis(0), Slice::from(0..150)).to_owned(), y.slice_axis(Axis(0), Slice::from(150..)).to_owned());
    for (tag, k, weights, p) in REGRESSORS {
        let fx = format!("kneighbors_regressor_{tag}_reg");
        let params = KNeighborsRegressor::params(k).weights(weights).p(p);
        let (pred, score) = match device {
            None => {
                let m = params.fit(&train, &ytrain).unwrap();
                (m.predict(&query).unwrap(), m.score(&query, &yquery).unwrap())
            }
            Some(dev) => {
                let t = |a: &Array2<F>| Tensor::from_array(a, dev).unwrap();
                let (yt, yq) = (Tensor::from_array(&ytrain, dev).unwrap(), Tensor::from_array(&yquery, dev).unwrap());
                let m = params.fit(&t(&train), &yt).unwrap();
                let pr = m.predict(&t(&query)).unwrap();
                assert_eq!(pr.device(), dev);
                (pr.to_array::<Ix1>().unwrap(), m.score(&t(&query), &yq).unwrap())
            }
        };
        let tol = rtol::<F>();
        assert_allclose(&pred, &expected::<Ix1>(&format!("{fx}.predict")), tol, 0.0, &fx);
        let want = expected::<Ix0>(&format!("{fx}.score")).into_scalar();
        assert!((score - want).abs() <= tol * want.abs(), "{fx} score {score} vs {want}");
    }
}

#[test]
fn kneighbors_regressor_matches_scikit_learn() {
    regressor_case::<f64>(None);
    regressor_case::<f32>(None);
}

#[test]
fn kneighbors_regressor_matches_scikit_learn_on_cuda_sim() {
    regressor_case::<f64>(Some(Device::CudaSim));
    regressor_case::<f32>(Some(Device::CudaSim));
}

/// Plain-Rust brute force: every distance, sorted stably (ties by index).
fn brute(train: &Array2<f64>, q: &Array2<f64>, k: usize) -> (Array2<f64>, Array2<i64>) {
    let (mut d, mut i) = (Array2::zeros((q.nrows(), k)), Array2::zeros((q.nrows(), k)));
    for (r, row) in q.outer_iter().enumerate() {
        let mut all: Vec<(f64, usize)> = train
            .outer_iter()
            .enumerate()
            .map(|(j, t)| (row.iter().zip(t.iter()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt(), j))
            .collect();
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        for t in 0..k {
            d[[r, t]] = all[t].0;
            i[[r, t]] = all[t].1 as i64;
        }
    }
    (d, i)
}

/// A small deterministic generator (scikit-learn's tests use `RandomState(0).rand`).
fn uniform(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    Array2::from_shape_fn((n, d), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        2.0 * ((s >> 11) as f64 / (1u64 << 53) as f64) - 1.0
    })
}

// test_unsupervised_kneighbors: kneighbors agrees with an independent brute-force search, with
// and without distances, for larger k and a longer training set than the fixtures'.
#[test]
fn test_unsupervised_kneighbors() {
    let (x, q) = (uniform(300, 6, 1), uniform(40, 6, 2));
    for k in [1, 7, 20] {
        let m = NearestNeighbors::params(k).fit(&x).unwrap();
        let (d, i) = m.kneighbors(&q).unwrap();
        let (wd, wi) = brute(&x, &q, k);
        assert_eq!(i, wi, "k = {k}");
        assert_allclose(&d, &wd, 1e-12, 0.0, "distances");
    }
}

// test_kneighbors_classifier (uniform and distance weights; labels as i64).
#[test]
fn test_kneighbors_classifier() {
    let x = uniform(40, 5, 3);
    let y: Array1<i64> = x.outer_iter().map(|r| i64::from(r.iter().map(|v| v * v).sum::<f64>() < 0.5)).collect();
    let eps = uniform(1, 5, 4) * 1e-5;
    let q = rows(&x, 0..10) + &eps;
    for w in [Weights::Uniform, Weights::Distance] {
        let m = KNeighborsClassifier::params(5).weights(w).fit(&x, &y).unwrap();
        assert_eq!(m.predict(&q).unwrap(), y.slice_axis(Axis(0), Slice::from(0..10)), "{w:?}");
    }
}

// test_kneighbors_classifier_predict_proba
#[test]
fn test_kneighbors_classifier_predict_proba() {
    let x =
        array![[0.0, 2.0, 0.0], [0.0, 2.0, 1.0], [2.0, 0.0, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 1.0]];
    let y = array![4i64, 4, 5, 5, 1, 1];
    let cls = KNeighborsClassifier::params(3).p(1.0).fit(&x, &y).unwrap();
    let real =
        array![[0.0, 2.0, 1.0], [1.0, 2.0, 0.0], [1.0, 0.0, 2.0], [0.0, 1.0, 2.0], [2.0, 1.0, 0.0], [2.0, 1.0, 0.0]]
            / 3.0;
    assert_eq!(cls.predict_proba(&x).unwrap(), real);
    let cls = KNeighborsClassifier::params(2).p(1.0).weights(Weights::Distance).fit(&x, &y).unwrap();
    let p = cls.predict_proba(&array![[0.0, 2.0, 0.0], [2.0, 2.0, 2.0]]).unwrap();
    assert_allclose(&p, &array![[0.0, 1.0, 0.0], [0.0, 0.4, 0.6]], 1e-7, 0.0, "distance-weighted proba");
}

// test_neighbors_regressors_zero_distance (the k-neighbours half)
#[test]
fn test_neighbors_regressors_zero_distance() {
    let x = array![[1.0, 1.0], [1.0, 1.0], [2.0, 2.0], [2.5, 2.5]];
    let y = array![1.0, 1.5, 2.0, 0.0];
    let z = array![[1.1, 1.1], [2.0, 2.0]];
    for (w, want) in [(Weights::Uniform, array![1.25, 1.0]), (Weights::Distance, array![1.25, 2.0])] {
        let m = KNeighborsRegressor::params(2).weights(w).fit(&x, &y).unwrap();
        assert_allclose(&m.predict(&z).unwrap(), &want, 1e-12, 0.0, &format!("{w:?}"));
    }
}

// test_radius_neighbors_boundary_handling: a point at exactly the radius is a neighbour.
#[test]
fn test_radius_neighbors_boundary_handling() {
    let x = array![[1.5], [3.0], [3.01]];
    let nn = NearestNeighbors::params(1).radius(3.0).fit(&x).unwrap();
    let (_, ind) = nn.radius_neighbors(&array![[0.0]]).unwrap();
    assert_eq!(ind, vec![array![0i64, 1]]);
}

// test_query_equidistant_kth_nn: of equidistant candidates for the k-th place, the first wins.
#[test]
fn test_query_equidistant_kth_nn() {
    let pts = array![[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]];
    let nn = NearestNeighbors::params(5).fit(&pts).unwrap();
    let (_, ind) = nn.kneighbors_n(&array![[0.0, 0.0]], 2).unwrap();
    assert_eq!(ind, array![[0i64, 1]]);
}

// test_radius_neighbors_sort_results (radius inf, every metric)
#[test]
fn test_radius_neighbors_sort_results() {
    let x = uniform(10, 4, 42).mapv(|v| v.abs());
    for (_, metric, p, _) in METRICS {
        let m = NearestNeighbors::params(5).metric(metric).p(p).fit(&x).unwrap();
        let (dist, ind) = m.radius_neighbors_with(&x, f64::INFINITY, true).unwrap();
        for (d, i) in dist.iter().zip(&ind) {
            assert_eq!(d.len(), 10);
            assert!(d.windows(2).into_iter().all(|w| w[0] <= w[1]), "{metric:?}: {d}");
            let mut sorted = i.to_vec();
            sorted.sort();
            assert_eq!(sorted, (0..10).collect::<Vec<i64>>());
        }
    }
}

// test_kneighbors_regressor
#[test]
fn test_kneighbors_regressor() {
    let x = uniform(40, 5, 5);
    let mut y: Array1<f64> = x.outer_iter().map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt()).collect();
    let top = y.iter().cloned().fold(0.0, f64::max);
    y /= top;
    let q = rows(&x, 0..10) + &(uniform(1, 5, 6) * 1e-5);
    for w in [Weights::Uniform, Weights::Distance] {
        let m = KNeighborsRegressor::params(3).weights(w).fit(&x, &y).unwrap();
        let p = m.predict(&q).unwrap();
        for (a, b) in p.iter().zip(y.iter()) {
            assert!((a - b).abs() < 0.3, "{w:?}: {a} vs {b}");
        }
    }
}

// test_neighbors_iris
#[test]
fn test_neighbors_iris() {
    let iris = kiln_estimators::datasets::load_iris();
    let (x, y) = (iris.data, iris.target);
    let clf = KNeighborsClassifier::params(1).fit(&x, &y).unwrap();
    assert_eq!(clf.predict(&x).unwrap(), y);
    let clf = KNeighborsClassifier::params(9).fit(&x, &y).unwrap();
    assert!(clf.score(&x, &y).unwrap() > 0.95);
    let rgs = KNeighborsRegressor::params(5).fit(&x, &y.mapv(|v| v as f64)).unwrap();
    let p = rgs.predict(&x).unwrap();
    let hits = p.iter().zip(y.iter()).filter(|(a, b)| a.round() as i64 == **b).count();
    assert!(hits as f64 / 150.0 > 0.95);
}

// test_dtype_convert (labels 0..15 of the identity rows)
#[test]
fn test_dtype_convert() {
    let x = Array2::<f64>::eye(15);
    let y: Array1<i64> = (0..15).map(|v| v * 3 + 1).collect();
    let m = KNeighborsClassifier::params(1).fit(&x, &y).unwrap();
    assert_eq!(m.predict(&x).unwrap(), y);
}

// test_k_and_radius_neighbors_train_is_not_query
#[test]
fn test_k_and_radius_neighbors_train_is_not_query() {
    let nn = NearestNeighbors::params(1).fit(&array![[0.0], [1.0]]).unwrap();
    let (d, i) = nn.kneighbors(&array![[2.0], [1.0]]).unwrap();
    assert_eq!(d, array![[1.0], [0.0]]);
    assert_eq!(i, array![[1i64], [1]]);
    let (d, i) = nn.radius_neighbors_with(&array![[2.0], [1.0]], 1.5, false).unwrap();
    assert_eq!(d, vec![array![1.0], array![1.0, 0.0]]);
    assert_eq!(i, vec![array![1i64], array![0, 1]]);
}

// test_k_and_radius_neighbors_X_None
#[test]
fn test_k_and_radius_neighbors_x_none() {
    let nn = NearestNeighbors::params(1).fit(&array![[0.0], [1.0]]).unwrap();
    let (d, i) = nn.kneighbors_train().unwrap();
    assert_eq!(d, array![[1.0], [1.0]]);
    assert_eq!(i, array![[1i64], [0]]);
    let (d, i) = nn.radius_neighbors_train(1.5, false).unwrap();
    assert_eq!(d, vec![array![1.0], array![1.0]]);
    assert_eq!(i, vec![array![1i64], array![0]]);
    let nn = NearestNeighbors::params(2).fit(&array![[0.0, 1.0], [0.0, 1.0], [1.0, 1.0]]).unwrap();
    let (_, i) = nn.kneighbors_train().unwrap();
    let mut graph = Array2::<f64>::zeros((3, 3));
    for ((r, _), &j) in i.indexed_iter() {
        graph[[r, j as usize]] = 1.0;
    }
    assert_eq!(graph, array![[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]);
}

// test_k_and_radius_neighbors_duplicates
#[test]
fn test_k_and_radius_neighbors_duplicates() {
    let nn = NearestNeighbors::params(1).fit(&array![[0.0], [1.0], [3.0]]).unwrap();
    let (d, i) = nn.kneighbors(&array![[0.0], [1.0], [3.0]]).unwrap();
    assert_eq!((d, i), (Array2::zeros((3, 1)), array![[0i64], [1], [2]]));
    let (d, i) = nn.radius_neighbors_with(&array![[0.0], [1.0]], 1.5, false).unwrap();
    assert_eq!(d, vec![array![0.0, 1.0], array![1.0, 0.0]]);
    assert_eq!(i, vec![array![0i64, 1], array![0, 1]]);
    // More duplicates than neighbours: the first duplicate is masked instead of the row.
    let nn = NearestNeighbors::params(1).fit(&Array2::<f64>::ones((3, 1))).unwrap();
    let (d, i) = nn.kneighbors_train().unwrap();
    assert_eq!(d, Array2::<f64>::zeros((3, 1)));
    assert_eq!(i, array![[1i64], [0], [1]]);
}

// test_nearest_neighbours_works_with_p_less_than_1
#[test]
fn test_nearest_neighbours_works_with_p_less_than_1() {
    let x = array![[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]];
    let nn = NearestNeighbors::params(3).p(0.5).fit(&x).unwrap();
    let (_, i) = nn.radius_neighbors_with(&rows(&x, 0..1), 4.0, false).unwrap();
    assert_eq!(i, vec![array![0i64, 1, 2]]);
    let (_, i) = nn.kneighbors(&rows(&x, 0..1)).unwrap();
    assert_eq!(i, array![[0i64, 1, 2]]);
}

// test_neighbors_digits: integer-valued pixels give the same score as floats (f32 and f64).
#[test]
fn test_neighbors_digits() {
    let digits = kiln_estimators::datasets::load_digits();
    let (x, y) = (digits.data, digits.target);
    let cut = x.nrows() * 8 / 10;
    let (tr, te) = (rows(&x, 0..cut), rows(&x, cut..x.nrows()));
    let (ytr, yte) =
        (y.slice_axis(Axis(0), Slice::from(0..cut)).to_owned(), y.slice_axis(Axis(0), Slice::from(cut..)).to_owned());
    let a = KNeighborsClassifier::params(1).fit(&tr, &ytr).unwrap().score(&te, &yte).unwrap();
    let b = KNeighborsClassifier::params(1)
        .fit(&tr.mapv(|v| v as f32), &ytr)
        .unwrap()
        .score(&te.mapv(|v| v as f32), &yte)
        .unwrap();
    assert_eq!(a, b);
}

/// The k-nearest kernel never stores the n x m distances: its loop program's only 2-d
/// temporaries are the n x k selections.
#[test]
fn knn_search_holds_no_distance_matrix() {
    for (name, k) in search_kernels() {
        let text = k.loops(Some(kiln_runtime::DType::F64)).unwrap().to_string();
        // `sym n` is the query rows, `sym m` the training rows (`temp t: f64[1, n, k]`).
        let temps: Vec<&str> = text.lines().map(str::trim).filter(|l| l.starts_with("temp ")).collect();
        assert!(temps.iter().any(|l| l.ends_with("[1, n, k]")), "{name}: the selection's buffers\n{text}");
        for line in temps {
            let dims: Vec<&str> = line[line.find('[').unwrap() + 1..line.len() - 1].split(", ").collect();
            assert!(!(dims.contains(&"n") && dims.contains(&"m")), "{name} stores distances: {line}");
        }
        assert_eq!(text.matches(" sort {").count(), 1, "{name}: one selection pass\n{text}");
    }
    // Euclidean: a block's products are one vendor GEMM into its one n x m buffer, then one
    // selection pass over it.
    let text = euclidean_search_kernel().loops(Some(kiln_runtime::DType::F64)).unwrap().to_string();
    let temps: Vec<&str> = text.lines().map(str::trim).filter(|l| l.starts_with("temp ")).collect();
    let blocks = temps.iter().filter(|l| l.contains("n, m]") || l.contains("m, n]")).count();
    assert_eq!(blocks, 1, "euclidean: one block of products\n{text}");
    assert_eq!(text.matches(" gemm {").count(), 1, "euclidean: one vendor GEMM\n{text}");
    assert_eq!(text.matches(" sort {").count(), 1, "euclidean: one selection pass\n{text}");
    let (x, q) = (uniform(500, 8, 7), uniform(300, 8, 8));
    let (d, i) = NearestNeighbors::params(3).fit(&x).unwrap().kneighbors(&q).unwrap();
    assert_eq!((d.dim(), i.dim()), ((300, 3), (300, 3)));
}

#[test]
fn bad_input_is_a_typed_error() {
    let x = array![[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]];
    let y = array![0i64, 1, 1];
    let err = |r: Result<(), EstimatorError>| r.expect_err("an error").to_string();
    // n_neighbors > n_samples_fit
    let nn = NearestNeighbors::params(4).fit(&x).unwrap();
    assert_eq!(
        err(nn.kneighbors(&x).map(|_| ())),
        "Expected n_neighbors <= n_samples_fit, but n_neighbors = 4, n_samples_fit = 3, n_samples = 3"
    );
    let nn3 = NearestNeighbors::params(3).fit(&x).unwrap();
    assert_eq!(
        err(nn3.kneighbors_train().map(|_| ())),
        "Expected n_neighbors < n_samples_fit, but n_neighbors = 3, n_samples_fit = 3, n_samples = 3"
    );
    let m = KNeighborsClassifier::params(5).fit(&x, &y).unwrap();
    assert!(matches!(m.predict(&x), Err(EstimatorError::TooFewSamples(_))));
    // n_neighbors 0, at fit and at query time
    assert!(matches!(
        NearestNeighbors::params(0).fit(&x),
        Err(EstimatorError::InvalidParameter { name: "n_neighbors", .. })
    ));
    assert!(matches!(
        KNeighborsRegressor::params(0).fit(&x, &array![1.0, 2.0, 3.0]),
        Err(EstimatorError::InvalidParameter { .. })
    ));
    assert!(matches!(nn3.kneighbors_n(&x, 0), Err(EstimatorError::InvalidParameter { name: "n_neighbors", .. })));
    // p <= 0 or NaN, unknown metric, negative radius
    for p in [0.0, -1.0, f64::NAN] {
        assert!(
            matches!(NearestNeighbors::params(1).p(p).fit(&x), Err(EstimatorError::InvalidParameter { name: "p", .. })),
            "p = {p}"
        );
    }
    assert!(matches!(
        DistanceMetric::from_name("NearestNeighbors", "wminkowski"),
        Err(EstimatorError::InvalidParameter { name: "metric", .. })
    ));
    assert_eq!(DistanceMetric::from_name("NearestNeighbors", "cityblock").unwrap(), DistanceMetric::Manhattan);
    assert!(matches!(
        NearestNeighbors::params(1).radius(-1.0).fit(&x),
        Err(EstimatorError::InvalidParameter { name: "radius", .. })
    ));
    assert!(matches!(nn3.radius_neighbors_with(&x, f64::NAN, false), Err(EstimatorError::InvalidParameter { .. })));
    // mismatched features, NaN, empty fit data, y of another length
    assert!(matches!(nn3.kneighbors(&array![[0.0, 1.0, 2.0]]), Err(EstimatorError::FeatureCountMismatch { .. })));
    assert!(matches!(nn3.kneighbors(&array![[0.0, f64::NAN]]), Err(EstimatorError::NonFinite { .. })));
    assert!(matches!(nn3.radius_neighbors(&array![[f64::INFINITY, 0.0]]), Err(EstimatorError::NonFinite { .. })));
    assert!(matches!(NearestNeighbors::params(1).fit(&array![[0.0, f64::NAN]]), Err(EstimatorError::NonFinite { .. })));
    assert!(matches!(
        NearestNeighbors::params(1).fit(&Array2::<f64>::zeros((0, 2))),
        Err(EstimatorError::EmptyInput { .. })
    ));
    assert!(matches!(KNeighborsClassifier::params(1).fit(&x, &array![0i64, 1]), Err(EstimatorError::Shape(_))));
    assert!(matches!(
        KNeighborsRegressor::params(1).fit(&x, &array![0.0, f64::NAN, 1.0]),
        Err(EstimatorError::NonFinite { what: "y" })
    ));
    let _: Option<KNeighborsClassifier<f64, Host>> = None;
}

/// The README's nearest-neighbours example (the API lines), as a test of this crate.
#[test]
fn readme_example() -> Result<(), EstimatorError> {
    let iris = kiln_estimators::datasets::load_iris();
    let (x, y): (Array2<f64>, Array1<i64>) = (iris.data, iris.target);
    let knn = KNeighborsClassifier::params(5).weights(Weights::Distance).fit(&x, &y)?;
    assert!(knn.score(&x, &y)? > 0.95);
    let (dist, idx) = NearestNeighbors::params(10).fit(&x)?.kneighbors(&x)?;
    assert_eq!((dist.dim(), idx[[0, 0]]), ((150, 10), 0));
    let reg = KNeighborsRegressor::params(3).metric(DistanceMetric::Manhattan).fit(&x, &y.mapv(|v| v as f64))?;
    assert_eq!(reg.predict(&x)?.len(), 150);
    let xt = Tensor::from_array(&x, Device::CudaSim)?;
    let knn_dev = KNeighborsClassifier::params(5).fit(&xt, &Tensor::from_array(&y, Device::CudaSim)?)?;
    assert_eq!(knn_dev.predict_proba(&xt)?.device(), Device::CudaSim);
    Ok(())
}
