//! The tuning workload (`kiln::tune`, the main job and `kiln tune`), against scikit-learn.
//!
//! Issue 18's exact case: with `n_components` at least the training rows, Nystroem uses every
//! training row on both sides, so kiln's search and scikit-learn's compute the same kernel
//! ridge fits and their R² must agree within 1e-6 (f64) and 1e-3 (f32), candidate by candidate
//! and split by split (`tune_exact_grid_search{,_f32}`, made by
//! `tests/fixtures/make_fixtures.py`: GridSearchCV over the same named grid,
//! ShuffleSplit(3, test_size=0.2, random_state=0), on the data cast to each float type).
//!
//! In f32 only the candidates whose fit is well-conditioned enough to have one answer in f32
//! are compared: those where scikit-learn's own f32 and f64 searches agree within 1e-4. The
//! others have a kernel matrix whose pseudo-inverse square root amplifies rounding: rbf at
//! gamma = 0.1 is nearly all ones on the spline features, and the polynomial kernel of spline
//! features is rank-deficient (each feature's basis sums to one), so scikit-learn's f32 search
//! differs from its f64 one by up to 4e-2 R² there (and from one run to the next: its BLAS
//! threads change the rounding).

use kiln::estimators::datasets::{load_npy_as, Real};
use kiln::estimators::model_selection::{GridSearchCV, ParamGrid, Refit, Scoring, ShuffleSplit};
use kiln::ndarray::{Array1, Array2, Ix1, Ix2};
use kiln::tune::{self, Tuning};
use kiln::{Device, Tensor};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn load<D: kiln::ndarray::Dimension>(file: &str) -> kiln::ndarray::Array<f64, D> {
    load_npy_as::<f64, D>(fixtures().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Compare kiln's search in `F` on `device` with scikit-learn's `fixture`, on the candidates
/// `keep(row)` selects (rows in the fixture's order), within `tol`.
fn exact_case<F: Real>(device: Device, tol: f64, fixture: &str, keep: impl Fn(usize) -> bool) {
    let x: Array2<F> = load::<Ix2>("input_tune_exact_x.npy").mapv(F::from_f64);
    let y: Array1<F> = load::<Ix1>("input_tune_exact_y.npy").mapv(F::from_f64);
    let knots = load_npy_as::<i64, Ix1>(fixtures().join(format!("{fixture}.n_knots.npy"))).unwrap();
    let rbf = load_npy_as::<i64, Ix1>(fixtures().join(format!("{fixture}.kernel_is_rbf.npy"))).unwrap();
    let gamma = load::<Ix1>(&format!("{fixture}.gamma.npy"));
    let split = load::<Ix2>(&format!("{fixture}.split_test_r2.npy"));
    let mean = load::<Ix1>(&format!("{fixture}.mean_test_score.npy"));
    let grid = ParamGrid::new()
        .add("splinetransformer__n_knots", [5, 10])
        .add("splinetransformer__degree", [3])
        .add("nystroem__kernel", ["rbf", "poly"])
        .add("nystroem__gamma", [0.1, 1.0])
        .add("nystroem__degree", [2])
        .add("nystroem__n_components", [300]);
    let xt = Tensor::from_array(&x, &device).unwrap();
    let search = GridSearchCV::new(&tune::pipeline::<F>(), grid, ShuffleSplit::new(3).test_size(0.2).seed(0))
        .unwrap()
        .scoring(Scoring::named("r2").unwrap())
        .refit(Refit::No)
        .fit(&xt, &y)
        .unwrap();
    assert_eq!(search.cv_results().len(), 8);
    let mut compared = 0;
    for c in search.cv_results() {
        let k = c.params.get("splinetransformer__n_knots").unwrap().to_string();
        let kernel = c.params.get("nystroem__kernel").unwrap().to_string();
        let g: f64 = c.params.get("nystroem__gamma").unwrap().to_string().parse().unwrap();
        let row = (0..8)
            .find(|&i| knots[i].to_string() == k && (rbf[i] == 1) == kernel.contains("rbf") && gamma[i] == g)
            .unwrap_or_else(|| panic!("no scikit-learn candidate for {}", c.params));
        if !keep(row) {
            continue;
        }
        compared += 1;
        for (s, (&got, &want)) in c.split_scores.iter().zip(split.row(row)).enumerate() {
            assert!((got - want).abs() <= tol, "{device} {}: split {s} R2 {got} vs scikit-learn {want}", c.params);
        }
        assert!(
            (c.mean_test_score - mean[row]).abs() <= tol,
            "{device} {}: mean R2 {} vs scikit-learn {}",
            c.params,
            c.mean_test_score,
            mean[row]
        );
    }
    assert_eq!(compared, (0..8).filter(|&i| keep(i)).count());
}

#[test]
fn the_exact_case_agrees_with_scikit_learn_f64() {
    exact_case::<f64>(Device::Cpu, 1e-6, "tune_exact_grid_search", |_| true);
}

#[test]
fn the_exact_case_agrees_with_scikit_learn_f32() {
    let f64s = load::<Ix1>("tune_exact_grid_search.mean_test_score.npy");
    let f32s = load::<Ix1>("tune_exact_grid_search_f32.mean_test_score.npy");
    let conditioned = |i: usize| (f64s[i] - f32s[i]).abs() <= 1e-4;
    assert!((0..8).filter(|&i| conditioned(i)).count() >= 2, "too few well-conditioned candidates: {f64s} {f32s}");
    exact_case::<f32>(Device::Cpu, 1e-3, "tune_exact_grid_search_f32", conditioned);
}

#[test]
fn the_exact_case_agrees_with_scikit_learn_on_the_cuda_simulator() {
    exact_case::<f64>(Device::CudaSim, 1e-6, "tune_exact_grid_search", |_| true);
}

#[test]
fn a_report_names_every_candidate_and_split_and_serializes() {
    let (x, y) = kiln::estimators::datasets::make_tuning_data::<f64>(400, 1);
    let r = Tuning::new().n_iter(3).seed(2).run(&x, &y, Device::Cpu).unwrap();
    assert_eq!((r.candidates.len(), r.splits.len(), r.shape), (3, 3, [400, 2]));
    for s in &r.splits {
        assert_eq!((s.train.len(), s.test.len()), (320, 80));
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..400).collect::<Vec<_>>(), "train and test partition the rows");
    }
    let names = [
        "nystroem__degree",
        "nystroem__gamma",
        "nystroem__kernel",
        "nystroem__n_components",
        "splinetransformer__degree",
        "splinetransformer__n_knots",
    ];
    for c in &r.candidates {
        assert_eq!(c.params.keys().map(String::as_str).collect::<Vec<_>>(), names);
        assert_eq!(c.split_scores.len(), 3);
        let mean = c.split_scores.iter().sum::<f64>() / 3.0;
        assert!((mean - c.mean_score).abs() < 1e-12);
        let g = c.params["nystroem__gamma"].as_f64().unwrap();
        assert!((1e-4..=1e-1).contains(&g), "gamma {g} outside the loguniform range");
    }
    let best = r.candidates.iter().map(|c| c.mean_score).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(r.candidates[r.best_index].mean_score, best);
    assert_eq!(r.best_score, best);
    // The JSON `kiln tune --out` writes: the keys.
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    for key in ["splits", "candidates", "best_index", "best_params", "best_score", "seconds", "device"] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
    assert_eq!(v["splits"][0]["train"].as_array().unwrap().len(), 320);
    assert_eq!(v["candidates"][0]["split_scores"].as_array().unwrap().len(), 3);
    // The same seed draws the same candidates and splits.
    let again = Tuning::new().n_iter(3).seed(2).run(&x, &y, Device::Cpu).unwrap();
    let params = |r: &tune::TuneReport| r.candidates.iter().map(|c| c.params.clone()).collect::<Vec<_>>();
    assert_eq!(params(&again), params(&r));
    assert_eq!(
        again.splits.iter().map(|s| s.test.clone()).collect::<Vec<_>>(),
        r.splits.iter().map(|s| s.test.clone()).collect::<Vec<_>>()
    );
}
