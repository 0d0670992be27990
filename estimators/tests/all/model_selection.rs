//! Model selection: KFold / StratifiedKFold against scikit-learn's fold assignments,
//! train_test_split sizes, and cross-validation / grid search driving a toy estimator whose
//! scores are recomputed here by plain loops.

use crate::common;

use crate::common::fixture;
use kiln_estimators::datasets::load_npy_as;
use kiln_estimators::model_selection::{
    cross_val_score, CandidateResult, GridSearchCV, KFold, ParamGrid, Splitter, StratifiedKFold, TrainTestSplit,
};
use kiln_estimators::pipeline::Pipeline;
use kiln_estimators::prelude::*;
use kiln_estimators::{EstimatorError, Result};
use ndarray::{array, Array1, Array2, Axis, Ix1};

fn test_folds(name: &str) -> Vec<usize> {
    load_npy_as::<i64, Ix1>(fixture(&format!("{name}.test_fold.npy"))).unwrap().iter().map(|&v| v as usize).collect()
}

#[test]
fn kfold_matches_scikit_learn() {
    for n in [23, 25] {
        assert_eq!(KFold::new(5).test_folds(n).unwrap(), test_folds(&format!("kfold5_n{n}")), "n = {n}");
    }
    let folds = KFold::new(5).folds(Array1::<f64>::zeros(23).view()).unwrap();
    assert_eq!(folds.len(), 5);
    assert_eq!(folds[0].test, (0..5).collect::<Vec<_>>());
    assert_eq!(folds[4].test, (19..23).collect::<Vec<_>>());
    assert!(folds.iter().all(|f| f.train.len() + f.test.len() == 23));
    // Shuffled: still a partition, reproducible from the seed.
    let a = KFold::new(4).shuffle(true).seed(7).test_folds(30).unwrap();
    assert_eq!(a, KFold::new(4).shuffle(true).seed(7).test_folds(30).unwrap());
    let mut sizes = [0; 4];
    a.iter().for_each(|&k| sizes[k] += 1);
    assert_eq!(sizes, [8, 8, 7, 7]);
    assert!(KFold::new(1).test_folds(10).is_err());
    assert!(KFold::new(11).test_folds(10).unwrap_err().to_string().contains("n_splits=11"));
}

#[test]
fn stratified_kfold_matches_scikit_learn() {
    let y = load_npy_as::<i64, Ix1>(fixture("input_stratified_y.npy")).unwrap();
    assert_eq!(StratifiedKFold::new(5).test_folds(y.as_slice().unwrap()).unwrap(), test_folds("stratified_kfold5"));
    let e = StratifiedKFold::new(3).folds(array![0.5f64, 1.5, 2.5].view()).unwrap_err();
    assert!(e.to_string().contains("class labels"), "{e}");
    let e = StratifiedKFold::new(4).test_folds(&[0, 0, 1, 1, 2]).unwrap_err();
    assert!(e.to_string().contains("number of members in each class"), "{e}");
}

#[test]
fn train_test_split_sizes_and_rows() {
    let x = Array2::from_shape_fn((10, 2), |(i, j)| (i * 10 + j) as f64);
    let y = Array1::from_shape_fn(10, |i| i as i64);
    let (xtr, xte, ytr, yte) = TrainTestSplit::default().seed(3).split(x.view(), y.view()).unwrap();
    assert_eq!((xtr.nrows(), xte.nrows(), ytr.len(), yte.len()), (7, 3, 7, 3), "ceil(0.25 * 10) = 3 test rows");
    for (row, label) in xte.rows().into_iter().zip(&yte) {
        assert_eq!(row[0], (*label * 10) as f64, "rows and labels stay paired");
    }
    let mut all: Vec<i64> = ytr.iter().chain(&yte).copied().collect();
    all.sort();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
    let (_, xte, _, _) = TrainTestSplit::default().shuffle(false).test_size(0.2).split(x.view(), y.view()).unwrap();
    assert_eq!(xte.column(0).to_vec(), vec![80.0, 90.0], "unshuffled: the last rows");
    assert!(TrainTestSplit::default().test_size(1.5).split(x.view(), y.view()).is_err());
    assert!(TrainTestSplit::default().split(x.view(), y.slice(ndarray::s![..9])).is_err());
}

/// A toy regressor: predicts `w * mean(y_train)` (w a hyper-parameter), enough to check that
/// cross-validation fits on the training rows and scores on the test rows.
#[derive(Debug, Clone, Copy)]
struct ScaledMean(f64);

#[derive(Debug)]
struct ScaledMeanModel(f64);

impl Estimator<f64> for ScaledMean {
    type Target = f64;
    type Model = ScaledMeanModel;
    fn fit_dyn(&self, _x: &Array2<f64>, y: Option<&Array1<f64>>) -> Result<ScaledMeanModel> {
        let y = kiln_estimators::traits::require_y("ScaledMean", y)?;
        Ok(ScaledMeanModel(self.0 * y.mean().unwrap_or(0.0)))
    }
}

impl Model<f64> for ScaledMeanModel {
    type Target = f64;
    fn predict_dyn(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        Ok(Array1::from_elem(x.nrows(), self.0))
    }
    fn score_dyn(&self, x: &Array2<f64>, y: Option<&Array1<f64>>) -> Result<f64> {
        let y = kiln_estimators::traits::require_y("ScaledMean", y)?;
        kiln_estimators::metrics::r2_score(y, &self.predict_dyn(x)?)
    }
}

/// R² of predicting `c` for `y`, by hand.
fn r2_const(y: &[f64], c: f64) -> f64 {
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let res: f64 = y.iter().map(|v| (v - c).powi(2)).sum();
    let tot: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    1.0 - res / tot
}

#[test]
fn cross_validation_and_grid_search_fit_on_train_and_score_on_test() {
    let n = 20;
    let x = Array2::<f64>::zeros((n, 3));
    let y = Array1::from_shape_fn(n, |i| ((i * 7) % 11) as f64 + 0.5 * i as f64);
    let scores = cross_val_score(&ScaledMean(1.0), &x, &y, &KFold::new(4)).unwrap();
    for (k, s) in scores.iter().enumerate() {
        let test: Vec<usize> = (k * 5..k * 5 + 5).collect();
        let train: Vec<f64> = (0..n).filter(|i| !test.contains(i)).map(|i| y[i]).collect();
        let c = train.iter().sum::<f64>() / train.len() as f64;
        let yt: Vec<f64> = test.iter().map(|&i| y[i]).collect();
        assert!((s - r2_const(&yt, c)).abs() < 1e-12, "fold {k}: {s} vs {}", r2_const(&yt, c));
    }
    // The search scores each candidate like cross_val_score, picks the best mean, refits it.
    let candidates: Vec<ScaledMean> = [0.0, 0.5, 1.0, 1.5].iter().map(|&w| ScaledMean(w)).collect();
    let search = GridSearchCV::from_candidates(candidates.clone(), KFold::new(4)).fit(&x, &y).unwrap();
    let means: Vec<f64> =
        candidates.iter().map(|c| cross_val_score(c, &x, &y, &KFold::new(4)).unwrap().mean().unwrap()).collect();
    let best = (0..4).fold(0, |b, i| if means[i] > means[b] { i } else { b });
    assert_eq!(search.best_index(), Some(best));
    assert_eq!(search.cv_results().len(), 4);
    assert!((search.best_score() - means[best]).abs() < 1e-12);
    let refit = search.best_estimator().unwrap().0;
    assert!((refit - candidates[best].0 * y.mean().unwrap()).abs() < 1e-12, "refit on all data");
    assert!(GridSearchCV::from_candidates(Vec::<ScaledMean>::new(), KFold::new(4)).fit(&x, &y).is_err());
}

#[test]
fn a_pipeline_scales_then_fits_and_is_searchable() {
    // The toy model ignores x, so a scaler step must leave predictions unchanged while the
    // pipeline still fits and transforms through it.
    let x = Array2::from_shape_fn((12, 2), |(i, j)| (i + j) as f64);
    let y = Array1::from_shape_fn(12, |i| (i % 5) as f64);
    let pipe = Pipeline::new().then(StandardScaler::params()).finish(ScaledMean(1.0));
    let fitted = pipe.fit(&x, &y).unwrap();
    let z = fitted.transform(&x).unwrap();
    assert!(z.mean_axis(Axis(0)).unwrap().iter().all(|m| m.abs() < 1e-12), "the scaler step ran");
    assert_eq!(fitted.predict(&x).unwrap(), Array1::from_elem(12, y.mean().unwrap()));
    let grid: Vec<_> =
        [0.5, 1.0].iter().map(|&w| Pipeline::new().then(StandardScaler::params()).finish(ScaledMean(w))).collect();
    let search = GridSearchCV::from_candidates(grid, KFold::new(3)).fit(&x, &y).unwrap();
    assert_eq!(search.cv_results().len(), 2);
}

#[test]
fn cross_val_score_of_ridge_matches_scikit_learn() {
    let x = common::input::<f64>("reg_x");
    let y = load_npy_as::<f64, Ix1>(fixture("input_reg_y.npy")).unwrap();
    let scores = cross_val_score(&Ridge::params().alpha(1.0), &x, &y, &KFold::new(5)).unwrap();
    common::assert_allclose(&scores, &common::expected::<Ix1>("cross_val_score_ridge_reg.scores"), 1e-7, 0.0, "scores");
}

/// Every candidate's fold scores (rtol 1e-7) and the best index are scikit-learn's (`fx`).
fn check_search(fx: &str, results: &[CandidateResult], best_index: usize) {
    let want = common::expected::<ndarray::Ix2>(&format!("{fx}.split_test_scores"));
    assert_eq!(results.len(), want.nrows(), "{fx}: candidates");
    for (c, r) in results.iter().enumerate() {
        let got = Array1::from(r.split_scores.clone());
        common::assert_allclose(&got, &want.row(c).to_owned(), 1e-7, 0.0, &format!("{fx} candidate {c} fold scores"));
    }
    let best = common::expected::<ndarray::Ix0>(&format!("{fx}.best_index_")).into_scalar();
    assert_eq!(best_index as f64, best, "{fx}: best_index_");
}

/// A real pipeline (StandardScaler -> PCA -> Ridge) grid-searched over Ridge's alpha with 5
/// folds: every fold's R², the best candidate and the refitted pipeline's predictions are
/// scikit-learn's (rtol 1e-7).
#[test]
fn a_scaler_pca_ridge_pipeline_searches_like_scikit_learn() {
    let x = common::input::<f64>("reg_x");
    let y = load_npy_as::<f64, Ix1>(fixture("input_reg_y.npy")).unwrap();
    let fx = "grid_search_scaler_pca_ridge_reg";
    let grid: Vec<_> = [0.1, 10.0, 1000.0]
        .iter()
        .map(|&alpha| {
            Pipeline::new().then(StandardScaler::params()).then(Pca::params(3)).finish(Ridge::params().alpha(alpha))
        })
        .collect();
    let search = GridSearchCV::from_candidates(grid, KFold::new(5)).fit(&x, &y).unwrap();
    check_search(fx, search.cv_results(), search.best_index().unwrap());
    let pred = search.predict(&x).unwrap();
    common::assert_allclose(&pred, &common::expected::<Ix1>(&format!("{fx}.predict")), 1e-7, 0.0, "refit predict");
    // The same search written with named parameters.
    let pipe = Pipeline::new().then(StandardScaler::params()).then(Pca::params(3)).finish(Ridge::params());
    let grid = ParamGrid::new().add("ridge__alpha", [0.1, 10.0, 1000.0]);
    let search = GridSearchCV::new(&pipe, grid, KFold::new(5)).unwrap().fit(&x, &y).unwrap();
    check_search(fx, search.cv_results(), search.best_index().unwrap());
    assert_eq!(search.cv_results()[1].params.to_string(), "{'ridge__alpha': 10.0}");
    let pred = search.predict(&x).unwrap();
    common::assert_allclose(&pred, &common::expected::<Ix1>(&format!("{fx}.predict")), 1e-7, 0.0, "refit predict");
}

/// A pipeline ending in an unsupervised estimator (StandardScaler -> KMeans from explicit
/// centers), grid-searched over max_iter with 3 folds and scored by minus the held-out
/// inertia, as scikit-learn's GridSearchCV scores KMeans: the same fold scores, best candidate
/// and refitted labels.
#[test]
fn a_scaler_kmeans_pipeline_searches_like_scikit_learn() {
    let x = common::input::<f64>("blobs_x");
    let init = common::input::<f64>("blobs_scaled_kmeans_init");
    let fx = "grid_search_scaler_kmeans_blobs";
    let grid: Vec<_> = [1, 300]
        .iter()
        .map(|&m| {
            Pipeline::new().then(StandardScaler::params()).finish(KMeans::params(4).init(init.clone()).max_iter(m))
        })
        .collect();
    // One `fit` for unsupervised searches: no targets, `&()`.
    let search = GridSearchCV::from_candidates(grid.clone(), KFold::new(3)).fit(&x, &()).unwrap();
    check_search(fx, search.cv_results(), search.best_index().unwrap());
    let labels = search.predict(&x).unwrap();
    let want = load_npy_as::<i64, Ix1>(fixture(&format!("{fx}.predict.npy"))).unwrap();
    assert_eq!(labels, want, "refit labels");
    // The same scores through cross_val_score.
    let scores = cross_val_score(&grid[1], &x, &(), &KFold::new(3)).unwrap();
    assert_eq!(scores.to_vec(), search.cv_results()[1].split_scores);
}

/// A pipeline of transformers only is a transformer: the same output as applying its fitted
/// steps by hand.
#[test]
fn a_pipeline_of_transformers_is_a_transformer() {
    let x = common::input::<f64>("iris_x");
    let pipe = Pipeline::new().then(StandardScaler::params()).finish(Pca::params(2));
    let z = pipe.fit_transformer(&x).unwrap().transform(&x).unwrap();
    let scaled = StandardScaler::params().fit(&x).unwrap().transform(&x).unwrap();
    let by_hand = Pca::params(2).fit(&scaled).unwrap().transform(&scaled).unwrap();
    // Bit for bit, whichever code (a kernel's tier-0 build for its first small calls, or the
    // optimized one) ran each step.
    assert_eq!(z, by_hand);
    // fit_transform (each step's X checked once, by its fit) gives the same.
    let (fitted, z2) = TransformerParams::<f64>::fit_transform_dyn(&pipe, &x).unwrap();
    assert_eq!(z2, by_hand);
    assert_eq!(pipe.fit_transform(&x).unwrap(), by_hand);
    assert_eq!(fitted.transform_dyn(&x).unwrap(), by_hand);
    // A step's transform still checks X after the fit.
    let mut bad = x.clone();
    bad[[3, 1]] = f64::NAN;
    assert!(matches!(fitted.transform_dyn(&bad), Err(EstimatorError::NonFinite { .. })));
}
