//! Model selection on any device (issue 18): the splitters' index sets against scikit-learn's
//! for the same seed, named parameters, scorers, cross_validate / cross_val_predict, grid and
//! randomized searches on host arrays and on `Device::CudaSim` / `Device::Cpu` tensors, and
//! ports of scikit-learn's `test_split.py`, `test_search.py` and `test_validation.py`.

use crate::common;
use kiln_estimators::model_selection::{
    cross_val_predict, cross_val_score, cross_validate, CvOptions, Dist, ErrorScore, Fold, GridSearchCV, GroupKFold,
    KFold, LeaveOneOut, ParamDistributions, ParamGrid, ParamValue, RandomizedSearchCV, Refit, RepeatedKFold,
    RepeatedStratifiedKFold, Scoring, SetParams, ShuffleSplit, Splitter, StratifiedKFold, StratifiedShuffleSplit,
    TimeSeriesSplit, TrainTestSplit,
};
use kiln_estimators::pipeline::Pipeline;
use kiln_estimators::prelude::*;
use ndarray::{Array1, Array2, Ix0, Ix1, Ix2};

fn ints1(name: &str) -> Vec<usize> {
    common::ints::<Ix1>(name).iter().map(|&v| v as usize).collect()
}

/// scikit-learn's splits of fixture `fx` (`<i>_train`, `<i>_test`).
fn sk_splits(fx: &str) -> Vec<Fold> {
    let n = common::ints::<Ix0>(&format!("{fx}.n_splits")).into_scalar() as usize;
    (0..n).map(|i| Fold { train: ints1(&format!("{fx}.{i}_train")), test: ints1(&format!("{fx}.{i}_test")) }).collect()
}

fn stratified_y() -> Vec<i64> {
    common::ints::<Ix1>("input_stratified_y").to_vec()
}

/// Every splitter's index sets, in scikit-learn's order, for the same integer seed.
#[test]
fn splitters_match_scikit_learn_index_sets() {
    let y = stratified_y();
    let groups = common::ints::<Ix1>("input_ms_groups").to_vec();
    let cases: Vec<(&str, Box<dyn Fn() -> kiln_estimators::Result<Vec<Fold>>>)> = vec![
        ("ms_shuffle_split_n23", Box::new(|| ShuffleSplit::new(3).test_size(0.2).seed(0).split(23, None, None))),
        (
            "ms_shuffle_split_sizes_n30",
            Box::new(|| ShuffleSplit::new(4).test_count(7).train_size(0.5).seed(42).split(30, None, None)),
        ),
        (
            "ms_stratified_shuffle_split",
            Box::new(|| StratifiedShuffleSplit::new(3).test_size(0.3).seed(1).split(47, Some(&y), None)),
        ),
        (
            "ms_stratified_shuffle_split_ties",
            Box::new(|| StratifiedShuffleSplit::new(5).test_size(0.5).seed(0).split(47, Some(&y), None)),
        ),
        ("ms_kfold_shuffle_n23", Box::new(|| KFold::new(4).shuffle(true).seed(3).split(23, None, None))),
        (
            "ms_stratified_kfold_shuffle",
            Box::new(|| StratifiedKFold::new(4).shuffle(true).seed(2).split(47, Some(&y), None)),
        ),
        ("ms_repeated_kfold_n17", Box::new(|| RepeatedKFold::new(3, 2).seed(5).split(17, None, None))),
        (
            "ms_repeated_stratified_kfold",
            Box::new(|| RepeatedStratifiedKFold::new(3, 2).seed(7).split(47, Some(&y), None)),
        ),
        ("ms_group_kfold", Box::new(|| GroupKFold::new(3).split(30, None, Some(&groups)))),
        ("ms_time_series_split_n20", Box::new(|| TimeSeriesSplit::new(4).split(20, None, None))),
        (
            "ms_time_series_split_gap_n20",
            Box::new(|| TimeSeriesSplit::new(3).max_train_size(6).test_size(3).gap(2).split(20, None, None)),
        ),
        ("ms_leave_one_out_n5", Box::new(|| LeaveOneOut.split(5, None, None))),
    ];
    for (fx, split) in cases {
        assert_eq!(split().unwrap(), sk_splits(fx), "{fx}");
    }
    // train_test_split draws as scikit-learn's ShuffleSplit does.
    let f = TrainTestSplit::default().test_size(0.25).seed(3).indices(10).unwrap();
    assert_eq!(f.train, ints1("ms_train_test_split_n10.train"));
    assert_eq!(f.test, ints1("ms_train_test_split_n10.test"));
}

// Ported from sklearn/model_selection/tests/test_split.py::test_shuffle_split: a float and an
// int test size of the same count give the same splits; the default test size is 0.1.
#[test]
fn test_shuffle_split() {
    let a = ShuffleSplit::new(10).test_size(0.2).seed(0).split(10, None, None).unwrap();
    let b = ShuffleSplit::new(10).test_count(2).seed(0).split(10, None, None).unwrap();
    assert_eq!(a, b);
    for f in &a {
        assert_eq!((f.train.len(), f.test.len()), (8, 2));
        let mut all: Vec<usize> = f.train.iter().chain(&f.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }
    // test_shuffle_split_default_test_size
    let d = ShuffleSplit::new(10).split(10, None, None).unwrap();
    assert!(d.iter().all(|f| f.test.len() == 1));
}

// Ported from test_split.py::test_shuffle_split_errors / test_train_test_split_errors.
#[test]
fn test_shuffle_split_errors() {
    assert!(ShuffleSplit::new(3).test_size(1.0).split(10, None, None).is_err());
    assert!(ShuffleSplit::new(3).test_count(10).split(10, None, None).is_err());
    assert!(ShuffleSplit::new(3).test_size(0.6).train_size(0.6).split(10, None, None).is_err());
    assert!(ShuffleSplit::new(3).test_count(8).train_count(3).split(10, None, None).is_err());
    let e = ShuffleSplit::new(3).test_size(0.1).train_size(0.05).split(10, None, None).unwrap_err();
    assert!(e.to_string().contains("train set will be empty"), "{e}");
}

// Ported from test_split.py::test_stratified_shuffle_split_init and
// test_stratified_shuffle_split_respects_test_size / _iter (class proportions kept).
#[test]
fn test_stratified_shuffle_split() {
    // A class of one member.
    let e = StratifiedShuffleSplit::new(3).test_size(0.2).split(6, Some(&[0, 1, 1, 1, 2, 2]), None).unwrap_err();
    assert!(e.to_string().contains("only 1 member"), "{e}");
    // Fewer test rows than classes.
    let y = [0, 0, 1, 1, 2, 2];
    assert!(StratifiedShuffleSplit::new(3).test_count(2).split(6, Some(&y), None).is_err());
    assert!(StratifiedShuffleSplit::new(3).train_count(2).split(6, Some(&y), None).is_err());
    // A continuous target cannot be stratified.
    assert!(StratifiedShuffleSplit::new(3).split(6, None, None).is_err());
    let y: Vec<i64> = (0..60).map(|i| [1, 1, 1, 2, 2, 3][i % 6]).collect();
    for f in StratifiedShuffleSplit::new(6).test_size(0.5).seed(0).split(60, Some(&y), None).unwrap() {
        assert_eq!((f.train.len(), f.test.len()), (30, 30));
        for c in 1..=3 {
            let total = y.iter().filter(|&&v| v == c).count();
            let tr = f.train.iter().filter(|&&i| y[i] == c).count();
            assert!(((tr as f64) - total as f64 / 2.0).abs() <= 1.0, "class {c}: {tr} of {total}");
        }
        assert!(f.train.iter().all(|i| !f.test.contains(i)), "overlap");
    }
}

// Ported from test_split.py::test_group_kfold: no group on both sides, folds balanced.
#[test]
fn test_group_kfold() {
    let groups: Vec<i64> = (0..300).map(|i| (i * 7 % 23) as i64).collect();
    let folds = GroupKFold::new(3).split(300, None, Some(&groups)).unwrap();
    for f in &folds {
        for &i in &f.test {
            assert!(f.train.iter().all(|&j| groups[j] != groups[i]), "group {} on both sides", groups[i]);
        }
    }
    let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
    assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 13, "{sizes:?}");
    let e = GroupKFold::new(3).split(4, None, None).unwrap_err();
    assert!(e.to_string().contains("'groups' parameter should not be None"), "{e}");
    let e = GroupKFold::new(4).split(6, None, Some(&[0, 0, 1, 1, 2, 2])).unwrap_err();
    assert!(e.to_string().contains("greater than the number of groups: 3"), "{e}");
}

// Ported from test_split.py::test_time_series_cv, _max_train_size, _test_size, _gap.
#[test]
fn test_time_series_cv() {
    let f = TimeSeriesSplit::new(2).split(7, None, None).unwrap();
    assert_eq!(f[0], Fold { train: vec![0, 1, 2], test: vec![3, 4] });
    assert_eq!(f[1], Fold { train: vec![0, 1, 2, 3, 4], test: vec![5, 6] });
    let f = TimeSeriesSplit::new(3).max_train_size(3).split(9, None, None).unwrap();
    assert_eq!(f[2].train, vec![4, 5, 6]);
    let f = TimeSeriesSplit::new(3).test_size(2).split(10, None, None).unwrap();
    assert_eq!(f[0], Fold { train: (0..4).collect(), test: vec![4, 5] });
    let f = TimeSeriesSplit::new(2).gap(2).split(10, None, None).unwrap();
    assert_eq!(f[0], Fold { train: vec![0, 1], test: vec![4, 5, 6] });
    let e = TimeSeriesSplit::new(3).test_size(2).gap(3).split(9, None, None).unwrap_err();
    assert!(e.to_string().contains("Too many splits"), "{e}");
    assert!(TimeSeriesSplit::new(6).split(5, None, None).is_err());
}

// Ported from test_split.py::test_repeated_kfold_determinstic_split and
// test_get_n_splits_for_repeated_kfold / test_leave_one_out.
#[test]
fn test_repeated_kfold_and_leave_one_out() {
    let a = RepeatedKFold::new(2, 2).seed(258173307).split(5, None, None).unwrap();
    assert_eq!(a.len(), 4);
    assert_eq!(a, RepeatedKFold::new(2, 2).seed(258173307).split(5, None, None).unwrap());
    assert_ne!(a[0], a[2], "each repeat shuffles anew");
    assert_eq!(RepeatedStratifiedKFold::new(3, 4).split(12, Some(&[0, 1].repeat(6)), None).unwrap().len(), 12);
    assert!(RepeatedKFold::new(2, 0).split(5, None, None).is_err());
    let loo = LeaveOneOut.split(3, None, None).unwrap();
    assert_eq!(loo[1], Fold { train: vec![0, 2], test: vec![1] });
    assert!(LeaveOneOut.split(1, None, None).unwrap_err().to_string().contains("n_samples=1"));
}

/// The tuning workload's data, small (fixture inputs), as `F`.
fn tuning_data<F: Real>() -> (Array2<F>, Array1<F>) {
    let x = common::input::<F>("ms_tuning_x");
    let y = kiln_estimators::datasets::load_npy_as::<F, Ix1>(common::fixture("input_ms_tuning_y.npy")).unwrap();
    (x, y)
}

fn tuning_pipeline<F: Real>() -> Pipeline<F, RidgeCVParams> {
    let alphas: Vec<f64> = (-6..=6).map(|e| 10f64.powi(e)).collect();
    Pipeline::new::<F>()
        .then(SplineTransformer::params())
        .then(Nystroem::params().n_components(40).seed(0))
        .finish(RidgeCV::params().alphas(alphas))
}

fn tuning_grid() -> ParamGrid {
    ParamGrid::new()
        .add("splinetransformer__n_knots", [5, 10])
        .add("splinetransformer__degree", [2, 3])
        .add("nystroem__kernel", ["rbf", "poly"])
        .add("nystroem__gamma", [0.05, 0.5])
        .add("nystroem__degree", [2])
}

/// SplineTransformer -> Nystroem -> RidgeCV searched over named parameters on 3 ShuffleSplit
/// splits with two scorers, refit by R²: every split's test and training R², the test MSE,
/// the ranks, the best candidate and the refitted predictions are scikit-learn's — on host
/// arrays and on `CudaSim` tensors (where only the scores come back), f64 rtol 1e-7.
fn tuning_search_case<F: Real>(device: Option<Device>) {
    let fx = "ms_tuning_grid_search";
    let (x, y) = tuning_data::<F>();
    let pipe = tuning_pipeline::<F>();
    let search = GridSearchCV::new(&pipe, tuning_grid(), ShuffleSplit::new(3).test_size(0.2).seed(0))
        .unwrap()
        .scoring(Scoring::names(&["r2", "neg_mean_squared_error"]).unwrap())
        .refit(Refit::Metric("r2".into()))
        .return_train_score(true);
    let check = |results: &[kiln_estimators::model_selection::CandidateResult], best: usize, what: &str| {
        let want_r2 = common::expected::<Ix2>(&format!("{fx}.split_test_r2"));
        let want_tr = common::expected::<Ix2>(&format!("{fx}.split_train_r2"));
        let want_mse = common::expected::<Ix2>(&format!("{fx}.split_test_neg_mean_squared_error"));
        let ranks = common::ints::<Ix1>(&format!("{fx}.rank_test_r2"));
        assert_eq!(results.len(), 16);
        let tol = common::rtol::<F>();
        for (c, r) in results.iter().enumerate() {
            let r2 = r.metric("r2").unwrap();
            let mse = r.metric("neg_mean_squared_error").unwrap();
            let w = format!("{what} candidate {c} ({})", r.params);
            common::assert_allclose(
                &Array1::from(r2.split_test_scores.clone()),
                &want_r2.row(c).to_owned(),
                tol,
                0.0,
                &w,
            );
            common::assert_allclose(&Array1::from(r.split_scores.clone()), &want_r2.row(c).to_owned(), tol, 0.0, &w);
            let tr = Array1::from(r2.split_train_scores.clone().unwrap());
            common::assert_allclose(&tr, &want_tr.row(c).to_owned(), tol, 0.0, &w);
            let m = Array1::from(mse.split_test_scores.clone());
            common::assert_allclose(&m, &want_mse.row(c).to_owned(), tol, 0.0, &w);
            if tol < 1e-6 {
                assert_eq!(r.rank_test_score as i64, ranks[c], "{w}: rank");
            }
            assert_eq!(r.fit_times.len(), 3);
            assert!(r.fit_times.iter().all(|t| *t >= 0.0));
        }
        let best_sk = common::ints::<Ix0>(&format!("{fx}.best_index_")).into_scalar() as usize;
        if tol < 1e-6 {
            assert_eq!(best, best_sk, "{what}: best_index_");
        }
    };
    match device {
        None => {
            let s = search.fit(&x, &y).unwrap();
            check(s.cv_results(), s.best_index().unwrap(), "host");
            assert_eq!(s.splits(), sk_splits_shuffle(200).as_slice());
            let pred = s.predict(&x).unwrap();
            check_predict(&pred, fx);
        }
        Some(d) => {
            let xt = Tensor::from_array(&x, &d).unwrap();
            // y on the host follows X to its device.
            let s = search.fit(&xt, &y).unwrap();
            check(s.cv_results(), s.best_index().unwrap(), &format!("{d:?}"));
            let pred: Tensor<F> = s.predict(&xt).unwrap();
            assert_eq!(pred.device(), d, "the refitted model predicts on the data's device");
            check_predict(&pred.to_array::<Ix1>().unwrap(), fx);
        }
    }
}

/// The refitted pipeline's predictions against scikit-learn's: rtol 1e-7 (f64) of the
/// predictions' scale (some predictions are near 0, where a relative test is meaningless).
fn check_predict<F: Real>(pred: &Array1<F>, fx: &str) {
    let want = common::expected::<Ix1>(&format!("{fx}.predict"));
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let tol = common::rtol::<F>();
    common::assert_allclose(pred, &want, tol, tol * scale, "refitted predict");
}

/// ShuffleSplit(3, test_size=0.2, random_state=0) of 200 rows as scikit-learn draws them.
fn sk_splits_shuffle(n: usize) -> Vec<Fold> {
    ShuffleSplit::new(3).test_size(0.2).seed(0).split(n, None, None).unwrap()
}

#[test]
fn the_tuning_pipeline_searches_like_scikit_learn_on_host_arrays() {
    tuning_search_case::<f64>(None);
}

#[test]
fn the_tuning_pipeline_searches_like_scikit_learn_on_cuda_sim_tensors() {
    tuning_search_case::<f64>(Some(Device::CudaSim));
}

/// A randomized search over named parameters and distributions is reproducible from its seed,
/// draws within the distributions, and gives the same scores on host arrays and on `Cpu`
/// tensors (f64: rtol 1e-7 of each other).
#[test]
fn randomized_search_is_reproducible_and_device_independent() {
    let (x, y) = tuning_data::<f64>();
    let space = ParamDistributions::new()
        .choice("splinetransformer__n_knots", [5, 10, 20])
        .choice("splinetransformer__degree", [2, 3])
        .choice("nystroem__kernel", ["rbf", "poly"])
        .add("nystroem__gamma", Dist::loguniform(1e-2, 1.0))
        .choice("nystroem__degree", [2, 3])
        .add("nystroem__n_components", Dist::randint(10, 41));
    let search = RandomizedSearchCV::new(&tuning_pipeline::<f64>(), space, ShuffleSplit::new(3).test_size(0.2).seed(0))
        .n_iter(6)
        .seed(7);
    let a = search.candidates().unwrap();
    let b = search.candidates().unwrap();
    assert_eq!(a.len(), 6);
    assert_eq!(a.iter().map(|c| c.0.clone()).collect::<Vec<_>>(), b.iter().map(|c| c.0.clone()).collect::<Vec<_>>());
    for (p, _) in &a {
        match p.get("nystroem__gamma").unwrap() {
            ParamValue::Float(g) => assert!((1e-2..1.0).contains(g), "{g}"),
            v => panic!("gamma {v}"),
        }
        match p.get("nystroem__n_components").unwrap() {
            ParamValue::Int(k) => assert!((10..41).contains(k)),
            v => panic!("n_components {v}"),
        }
        // Names in sorted order, as scikit-learn's ParameterSampler draws them.
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }
    let other = RandomizedSearchCV::new(
        &tuning_pipeline::<f64>(),
        ParamDistributions::new().add("nystroem__gamma", Dist::uniform(0.1, 0.2)),
        KFold::new(3),
    )
    .n_iter(3)
    .seed(8)
    .candidates()
    .unwrap();
    assert!(other
        .iter()
        .all(|(p, _)| matches!(p.get("nystroem__gamma"), Some(ParamValue::Float(g)) if (0.1..0.3).contains(g))));
    let host = search.clone().scoring(Scoring::named("r2").unwrap()).fit(&x, &y).unwrap();
    let xt = Tensor::from_array(&x, &Device::Cpu).unwrap();
    let yt = Tensor::from_array(&y, &Device::Cpu).unwrap();
    let dev = search.scoring(Scoring::named("r2").unwrap()).verbose(2).fit(&xt, &yt).unwrap();
    for (h, d) in host.cv_results().iter().zip(dev.cv_results()) {
        assert_eq!(h.params, d.params);
        common::assert_allclose(
            &Array1::from(d.split_scores.clone()),
            &Array1::from(h.split_scores.clone()),
            1e-7,
            1e-12,
            "cpu tensors vs host",
        );
    }
    assert_eq!(host.best_index(), dev.best_index());
    // best_params prints by name.
    let shown = host.best_params().unwrap().to_string();
    assert!(shown.starts_with("{'nystroem__degree': ") && shown.contains("'splinetransformer__n_knots': "), "{shown}");
}

/// An f32 search runs on CudaSim tensors as on host arrays: the same candidates, the same
/// scores (f32's rtol 1e-4). (The tuning pipeline itself is not used here: in f32 its Nystroem
/// normalization of a nearly singular kernel matrix and RidgeCV's alphas down to 1e-6 amplify
/// rounding, so the two devices' summation orders move R² by ~1e-3; the f64 tests above carry
/// the parity with scikit-learn.)
#[test]
fn an_f32_search_runs_on_cuda_sim_as_on_host() {
    let d = kiln_estimators::datasets::load_diabetes();
    let x = d.data.mapv(|v| v as f32);
    let y = d.target.mapv(|v| v as f32);
    let pipe = Pipeline::new::<f32>().then(StandardScaler::params()).then(Pca::params(5)).finish(Ridge::params());
    let grid = ParamGrid::new().add("pca__n_components", [3, 8]).add("ridge__alpha", [0.1, 10.0]);
    let search = GridSearchCV::new(&pipe, grid, ShuffleSplit::new(3).test_size(0.2).seed(0))
        .unwrap()
        .scoring(Scoring::named("neg_root_mean_squared_error").unwrap());
    let host = search.fit(&x, &y).unwrap();
    let xt = Tensor::from_array(&x, &Device::CudaSim).unwrap();
    let yt = Tensor::from_array(&y, &Device::CudaSim).unwrap();
    let sim = search.fit(&xt, &yt).unwrap();
    assert_eq!(host.cv_results().len(), 4);
    for (h, d) in host.cv_results().iter().zip(sim.cv_results()) {
        assert!(h.mean_test_score < -40.0 && h.mean_test_score > -80.0, "{}: {}", h.params, h.mean_test_score);
        let (h, d) = (Array1::from(h.split_scores.clone()), Array1::from(d.split_scores.clone()));
        common::assert_allclose(&d, &h, 1e-4, 0.0, "f32 CudaSim vs host");
    }
    assert_eq!(host.best_index(), sim.best_index());
}

// Ported from test_search.py::test_parameter_grid: sizes and scikit-learn's order.
#[test]
fn test_parameter_grid() {
    let g = ParamGrid::new().add("foo", [4]).candidates().unwrap();
    assert_eq!(g.len(), 1);
    let g = ParamGrid::new().add("foo", [0, 1]).add("bar", ["x", "y", "z"]).candidates().unwrap();
    assert_eq!(g.len(), 6);
    // Sorted names, the last varying fastest.
    assert_eq!(g[0].to_string(), "{'bar': 'x', 'foo': 0}");
    assert_eq!(g[1].to_string(), "{'bar': 'x', 'foo': 1}");
    assert_eq!(g[5].to_string(), "{'bar': 'z', 'foo': 1}");
    assert_eq!(ParamGrid::new().candidates().unwrap().len(), 1, "an empty grid is one candidate");
    assert!(ParamGrid::new().add::<i64>("foo", []).candidates().is_err());
}

// Ported from test_search.py::test_parameters_sampler_replacement: lists only, the draws are
// without replacement and at most the grid's size.
#[test]
fn test_parameters_sampler_replacement() {
    let space = ParamDistributions::new().choice("first", [1, 2, 3]).choice("second", ["a", "b", "c"]);
    let s = space.sample(10, 0).unwrap();
    assert_eq!(s.len(), 9);
    for i in 0..s.len() {
        for j in 0..i {
            assert_ne!(s[i], s[j]);
        }
    }
    assert_eq!(space.sample(7, 0).unwrap().len(), 7);
    // With a distribution, n_iter draws (with replacement).
    let space = space.add("third", Dist::uniform(0.0, 1.0));
    assert_eq!(space.sample(20, 0).unwrap().len(), 20);
    assert!(ParamDistributions::new().add("x", Dist::loguniform(0.0, 1.0)).sample(2, 0).is_err());
}

/// Parameters by scikit-learn name on estimators and through pipelines: unknown names and
/// values of the wrong kind are typed errors worded like scikit-learn's.
#[test]
fn named_parameters_set_and_route() {
    let mut n = Nystroem::params();
    n.set_param("gamma", ParamValue::Float(0.5)).unwrap();
    n.set_param("kernel", "poly".into()).unwrap();
    n.set_param("n_components", 10.into()).unwrap();
    assert_eq!(n, Nystroem::params().gamma(0.5).kernel(Kernel::Poly).n_components(10));
    let e = n.set_param("gama", ParamValue::Float(0.5)).unwrap_err();
    assert!(e.to_string().contains("Invalid parameter 'gama' for estimator Nystroem"), "{e}");
    let e = n.set_param("kernel", "rbff".into()).unwrap_err();
    assert!(e.to_string().contains("kernel"), "{e}");
    let e = n.set_param("n_components", ParamValue::Float(2.5)).unwrap_err();
    assert!(matches!(e, EstimatorError::UnknownParameter(_)), "{e}");
    let mut km = KMeans::params(3);
    km.set_param("n_clusters", 5.into()).unwrap();
    km.set_param("random_state", 4.into()).unwrap();
    assert_eq!(km, KMeans::params(5).seed(4));
    let pipe = tuning_pipeline::<f64>();
    assert_eq!(pipe.step_names(), vec!["splinetransformer", "nystroem", "ridgecv"]);
    let names = pipe.param_names();
    for n in ["splinetransformer__n_knots", "nystroem__gamma", "ridgecv__alphas", "nystroem"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    let p2 = pipe.with_param("ridgecv__alphas", vec![0.5, 2.0].into()).unwrap();
    assert_eq!(p2.final_estimator(), &RidgeCV::params().alphas(vec![0.5, 2.0]));
    let e = pipe.with_param("ridge__alpha", 1.0.into()).unwrap_err();
    assert!(e.to_string().contains("Invalid parameter 'ridge__alpha' for estimator Pipeline"), "{e}");
    let e = pipe.with_param("nystroem__bogus", 1.0.into()).unwrap_err();
    assert!(e.to_string().contains("'bogus'"), "{e}");
    // Repeated step names are numbered as make_pipeline numbers them.
    let twice =
        Pipeline::new::<f64>().then(StandardScaler::params()).then(StandardScaler::params()).finish(Ridge::params());
    assert_eq!(twice.step_names(), vec!["standardscaler-1", "standardscaler-2", "ridge"]);
}

/// A choice among whole steps: the Nystroem step replaced by a differently configured one is
/// searched like setting its parameters.
#[test]
fn a_search_chooses_among_whole_steps() {
    let (x, y) = tuning_data::<f64>();
    let pipe = tuning_pipeline::<f64>();
    let poly = Nystroem::params().kernel(Kernel::Poly).degree(2.0).gamma(0.05).n_components(40).seed(0);
    let grid = ParamGrid::new().add("nystroem", [ParamValue::step::<f64>(poly)]);
    let by_step = GridSearchCV::new(&pipe, grid, KFold::new(3)).unwrap().fit(&x, &y).unwrap();
    let grid =
        ParamGrid::new().add("nystroem__kernel", ["poly"]).add("nystroem__degree", [2]).add("nystroem__gamma", [0.05]);
    let by_name = GridSearchCV::new(&pipe, grid, KFold::new(3)).unwrap().fit(&x, &y).unwrap();
    assert_eq!(by_step.cv_results()[0].split_scores, by_name.cv_results()[0].split_scores);
    assert!(pipe.with_param("ridgecv", ParamValue::step::<f64>(StandardScaler::params())).is_err());
}

// Ported from test_search.py::test_refit_callable_multi_metric / test_no_refit: several scorers
// need a refit metric; Refit::No keeps the results and no best estimator.
#[test]
fn test_multimetric_refit() {
    let d = kiln_estimators::datasets::load_diabetes();
    let grid = || ParamGrid::new().add("alpha", [0.1, 10.0]);
    let many = Scoring::names(&["r2", "neg_mean_absolute_error"]).unwrap();
    let e = GridSearchCV::new(&Ridge::params(), grid(), KFold::new(3))
        .unwrap()
        .scoring(many.clone())
        .fit(&d.data, &d.target);
    assert!(e.unwrap_err().to_string().contains("multi-metric scoring"));
    let s = GridSearchCV::new(&Ridge::params(), grid(), KFold::new(3))
        .unwrap()
        .scoring(many.clone())
        .refit(Refit::No)
        .fit(&d.data, &d.target)
        .unwrap();
    assert!(s.best_estimator().is_none() && s.best_index().is_none());
    assert_eq!(s.cv_results()[0].metrics.len(), 2);
    let s = GridSearchCV::new(&Ridge::params(), grid(), KFold::new(3))
        .unwrap()
        .scoring(many)
        .refit(Refit::Metric("neg_mean_absolute_error".into()))
        .fit(&d.data, &d.target)
        .unwrap();
    let maes: Vec<f64> =
        s.cv_results().iter().map(|r| r.metric("neg_mean_absolute_error").unwrap().mean_test_score).collect();
    let best = if maes[1] > maes[0] { 1 } else { 0 };
    assert_eq!(s.best_index(), Some(best));
    assert!(s.best_estimator().is_some());
    let e = GridSearchCV::new(&Ridge::params(), grid(), KFold::new(3))
        .unwrap()
        .refit(Refit::Metric("r3".into()))
        .fit(&d.data, &d.target);
    assert!(e.is_err());
}

// Ported from test_search.py::test_search_cv_results_rank_tie_breaking: equal means share the
// smallest rank, and the first of them is the best.
#[test]
fn test_search_cv_results_rank_tie_breaking() {
    let d = kiln_estimators::datasets::load_iris();
    let grid = ParamGrid::new().add("var_smoothing", [1e-9, 1e-9, 1.0]);
    let s = GridSearchCV::new(&GaussianNB::params(), grid, StratifiedKFold::new(3))
        .unwrap()
        .fit(&d.data, &d.target)
        .unwrap();
    let r = s.cv_results();
    assert_eq!(r[0].mean_test_score, r[1].mean_test_score);
    assert_eq!((r[0].rank_test_score, r[1].rank_test_score), (1, 1));
    assert_eq!(r[2].rank_test_score, 3);
    assert_eq!(s.best_index(), Some(0));
}

/// Scorer names: the available ones score, the ones whose metric kiln lacks are a typed
/// "not available" error, unknown names another.
#[test]
fn scorers_by_name() {
    assert!(Scoring::named("roc_auc").is_ok());
    assert!(matches!(Scoring::named("adjusted_rand_score"), Err(EstimatorError::NotAvailable(_))));
    let e = Scoring::named("rand_score").unwrap_err();
    assert_eq!(e.to_string(), "scoring 'rand_score' is not available");
    assert!(matches!(Scoring::named("r3"), Err(EstimatorError::UnknownParameter(_))));
    assert!(Scoring::names(&["r2", "r2"]).is_err());
    // A classification scorer on a regressor is an error, not a number.
    let d = kiln_estimators::datasets::load_diabetes();
    let e = cross_validate(
        &Ridge::params(),
        &d.data,
        &d.target,
        &KFold::new(3),
        &CvOptions::new().scoring(Scoring::named("accuracy").unwrap()).error_score(ErrorScore::Raise),
    );
    assert!(e.is_err());
}

// Ported from test_validation.py::test_cross_validate: several scorers, training scores, fit
// and score times; each test score equals the metric of a model fitted on that split by hand.
#[test]
fn test_cross_validate() {
    let d = kiln_estimators::datasets::load_diabetes();
    let (x, y) = (&d.data, &d.target);
    let cv = KFold::new(4);
    let opts = CvOptions::new()
        .scoring(
            Scoring::names(&["r2", "neg_mean_squared_error", "neg_root_mean_squared_error", "neg_mean_absolute_error"])
                .unwrap(),
        )
        .return_train_score(true);
    let r = cross_validate(&Ridge::params().alpha(0.5), x, y, &cv, &opts).unwrap();
    assert_eq!(r.fit_time.len(), 4);
    assert_eq!(r.score_time.len(), 4);
    for (k, f) in cv.folds(y.view()).unwrap().iter().enumerate() {
        let xtr = x.select(ndarray::Axis(0), &f.train);
        let ytr = y.select(ndarray::Axis(0), &f.train);
        let xte = x.select(ndarray::Axis(0), &f.test);
        let yte = y.select(ndarray::Axis(0), &f.test);
        let m = Ridge::params().alpha(0.5).fit(&xtr, &ytr).unwrap();
        let p = m.predict(&xte).unwrap();
        let mse = p.iter().zip(&yte).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / yte.len() as f64;
        let mae = p.iter().zip(&yte).map(|(a, b)| (a - b).abs()).sum::<f64>() / yte.len() as f64;
        let mean = yte.mean().unwrap();
        let r2 = 1.0 - mse * yte.len() as f64 / yte.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        assert!(close(r.test("r2").unwrap()[k], r2));
        assert!(close(r.test("neg_mean_squared_error").unwrap()[k], -mse));
        assert!(close(r.test("neg_root_mean_squared_error").unwrap()[k], -mse.sqrt()));
        assert!(close(r.test("neg_mean_absolute_error").unwrap()[k], -mae));
        let ptr = m.predict(&xtr).unwrap();
        let tr_mse = ptr.iter().zip(&ytr).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / ytr.len() as f64;
        assert!(close(r.train("neg_mean_squared_error").unwrap()[k], -tr_mse));
    }
    // Without return_train_score there are no training scores.
    let r = cross_validate(&Ridge::params(), x, y, &cv, &CvOptions::new()).unwrap();
    assert!(r.train_scores.is_none());
    assert_eq!(r.test("score").unwrap().to_vec(), cross_val_score(&Ridge::params(), x, y, &cv).unwrap().to_vec());
}

// Ported from test_validation.py::test_cross_val_predict: each sample predicted by the model
// that held it out; LeaveOneOut and KFold agree with fits by hand; not a partition is an error.
#[test]
fn test_cross_val_predict() {
    let d = kiln_estimators::datasets::load_diabetes();
    let (x, y) = (d.data.slice(ndarray::s![..60, ..]).to_owned(), d.target.slice(ndarray::s![..60]).to_owned());
    let p = cross_val_predict(&Ridge::params(), &x, &y, &KFold::new(3)).unwrap();
    for f in KFold::new(3).folds(y.view()).unwrap() {
        let m =
            Ridge::params().fit(&x.select(ndarray::Axis(0), &f.train), &y.select(ndarray::Axis(0), &f.train)).unwrap();
        let want = m.predict(&x.select(ndarray::Axis(0), &f.test)).unwrap();
        for (&i, w) in f.test.iter().zip(&want) {
            assert!((p[i] - w).abs() <= 1e-9 * w.abs().max(1.0));
        }
    }
    let loo = cross_val_predict(
        &Ridge::params(),
        &x.slice(ndarray::s![..10, ..]).to_owned(),
        &y.slice(ndarray::s![..10]).to_owned(),
        &LeaveOneOut,
    )
    .unwrap();
    assert_eq!(loo.len(), 10);
    let e = cross_val_predict(&Ridge::params(), &x, &y, &ShuffleSplit::new(2).test_size(0.3)).unwrap_err();
    assert!(e.to_string().contains("partitions"), "{e}");
    // On CudaSim tensors: the predictions stay on the device and equal the host ones.
    let xt = Tensor::from_array(&x, &Device::CudaSim).unwrap();
    let pt: Tensor<f64> = cross_val_predict(&Ridge::params(), &xt, &y, &KFold::new(3)).unwrap();
    assert_eq!(pt.device(), Device::CudaSim);
    common::assert_allclose(&pt.to_array::<Ix1>().unwrap(), &p, 1e-7, 1e-12, "CudaSim cross_val_predict");
}

// Ported from test_validation.py::test_cross_val_score_predict_groups: a group splitter
// without groups is an error; with groups, no group is split.
#[test]
fn test_cross_val_score_groups() {
    let d = kiln_estimators::datasets::load_iris();
    let e =
        cross_validate(&GaussianNB::params(), &d.data, &d.target, &GroupKFold::new(3), &CvOptions::new()).unwrap_err();
    assert!(e.to_string().contains("groups"), "{e}");
    let groups: Vec<i64> = (0..150).map(|i| i % 5).collect();
    let r = cross_validate(
        &GaussianNB::params(),
        &d.data,
        &d.target,
        &GroupKFold::new(5),
        &CvOptions::new().groups(groups),
    )
    .unwrap();
    assert_eq!(r.test("score").unwrap().len(), 5);
}

/// Classification through the same tools: stratified splits from labels on a device (read
/// back only to compute the folds), accuracy and f1_macro scorers, LogisticRegression in a
/// pipeline on host and CudaSim giving the same scores.
#[test]
fn a_classifier_pipeline_cross_validates_on_host_and_cuda_sim() {
    let d = kiln_estimators::datasets::load_iris();
    let pipe = Pipeline::new::<f64>().then(StandardScaler::params()).finish(LogisticRegression::params());
    let opts = CvOptions::new().scoring(Scoring::names(&["accuracy", "f1_macro"]).unwrap());
    let host = cross_validate(&pipe, &d.data, &d.target, &StratifiedShuffleSplit::new(3).test_size(0.3).seed(0), &opts)
        .unwrap();
    let xt = Tensor::from_array(&d.data, &Device::CudaSim).unwrap();
    let yt = Tensor::from_array(&d.target, &Device::CudaSim).unwrap();
    let dev = cross_validate(&pipe, &xt, &yt, &StratifiedShuffleSplit::new(3).test_size(0.3).seed(0), &opts).unwrap();
    for name in ["accuracy", "f1_macro"] {
        let (h, g) = (host.test(name).unwrap(), dev.test(name).unwrap());
        assert!(h.iter().all(|s| *s > 0.8), "{name}: {h:?}");
        for (a, b) in h.iter().zip(g) {
            assert!((a - b).abs() <= 1e-9, "{name}: host {a} vs CudaSim {b}");
        }
    }
}

/// A failing candidate scores NaN (scikit-learn's error_score=nan) and ranks last; with
/// ErrorScore::Raise the search fails; when every fit fails the search fails.
#[test]
fn failing_fits_score_nan_or_raise() {
    let d = kiln_estimators::datasets::load_diabetes();
    let grid = ParamGrid::new().add("alpha", [-1.0, 1.0]);
    let s = GridSearchCV::new(&Ridge::params(), grid.clone(), KFold::new(3)).unwrap().fit(&d.data, &d.target).unwrap();
    assert!(s.cv_results()[0].mean_test_score.is_nan());
    assert_eq!(s.cv_results()[0].rank_test_score, 2);
    assert_eq!(s.best_index(), Some(1));
    let e = GridSearchCV::new(&Ridge::params(), grid, KFold::new(3))
        .unwrap()
        .error_score(ErrorScore::Raise)
        .fit(&d.data, &d.target);
    assert!(e.is_err());
    let all_bad = ParamGrid::new().add("alpha", [-1.0]);
    let e = GridSearchCV::new(&Ridge::params(), all_bad, KFold::new(3)).unwrap().fit(&d.data, &d.target).unwrap_err();
    assert!(e.to_string().contains("All the 3 fits failed"), "{e}");
}

/// A supervised estimator without y is a typed error; y of another length too.
#[test]
fn missing_or_mismatched_targets_are_errors() {
    let d = kiln_estimators::datasets::load_diabetes();
    let e = cross_val_score(&Ridge::params(), &d.data, &(), &KFold::new(3)).unwrap_err();
    assert!(e.to_string().contains("requires y to be passed"), "{e}");
    let short = d.target.slice(ndarray::s![..100]).to_owned();
    assert!(cross_val_score(&Ridge::params(), &d.data, &short, &KFold::new(3)).is_err());
}
