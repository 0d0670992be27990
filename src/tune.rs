//! The tuning workload: kiln's main job (`cargo run --release`) and `kiln tune`.
//!
//! scikit-learn's array-API work was driven by one workload: tuning the hyper-parameters of a
//! pipeline where the data lives. This module is that workload written with kiln's estimators
//! and model selection: `SplineTransformer -> Nystroem -> RidgeCV` (13 alphas, logspace
//! -6..6), searched by [`RandomizedSearchCV`] over named parameters (scikit-learn's
//! `make_pipeline` names) with [`ShuffleSplit`] splits, scored by R², on `Tensor`s of the
//! device asked for: folds are gathered there, every step fits and predicts there, and only
//! scores come back.
//!
//! ```
//! use kiln::estimators::datasets::make_tuning_data;
//! use kiln::tune::{Tuning, TuneReport};
//!
//! let (x, y) = make_tuning_data::<f64>(300, 0);
//! let report: TuneReport = Tuning::new().n_iter(2).seed(1).run(&x, &y, kiln::Device::Cpu)?;
//! assert_eq!(report.candidates.len(), 2);
//! assert_eq!(report.splits.len(), 3);
//! println!("{}", report.best_params);
//! # Ok::<(), kiln::estimators::EstimatorError>(())
//! ```

use kiln_estimators::datasets::Real;
use kiln_estimators::kernel_approximation::Nystroem;
use kiln_estimators::linear_model::{RidgeCV, RidgeCVParams};
use kiln_estimators::model_selection::{
    Dist, ParamDistributions, ParamValue, RandomizedSearchCV, Scoring, ShuffleSplit,
};
use kiln_estimators::pipeline::Pipeline;
use kiln_estimators::preprocessing::SplineTransformer;
use kiln_estimators::Result;
use kiln_runtime::{Device, Tensor};
use ndarray::{Array1, Array2};
use serde::Serialize;
use std::collections::BTreeMap;

/// RidgeCV's alphas in the workload: `np.logspace(-6, 6, 13)`.
pub fn alphas() -> Vec<f64> {
    (-6..=6).map(|e| 10f64.powi(e)).collect()
}

/// The workload's pipeline before any parameter is set: `make_pipeline(SplineTransformer(),
/// Nystroem(random_state=0), RidgeCV(alphas=np.logspace(-6, 6, 13)))`.
pub fn pipeline<F: Real>() -> Pipeline<F, RidgeCVParams> {
    Pipeline::new()
        .then(SplineTransformer::params())
        .then(Nystroem::params().seed(0))
        .finish(RidgeCV::params().alphas(alphas()))
}

/// The search space, by scikit-learn's `make_pipeline` names: n_knots in {5, 10, 20, 50},
/// spline degree {2, 3}, kernel {rbf, poly}, gamma loguniform on [1e-4, 1e-1], Nystroem degree
/// {2, 3}, n_components in {10, 30, 100, 300}.
pub fn space() -> ParamDistributions {
    ParamDistributions::new()
        .choice("splinetransformer__n_knots", [5, 10, 20, 50])
        .choice("splinetransformer__degree", [2, 3])
        .choice("nystroem__kernel", ["rbf", "poly"])
        .add("nystroem__gamma", Dist::loguniform(1e-4, 1e-1))
        .choice("nystroem__degree", [2, 3])
        .choice("nystroem__n_components", [10, 30, 100, 300])
}

/// How to run the workload: candidates drawn, splits, seed, progress.
#[derive(Debug, Clone)]
pub struct Tuning {
    n_iter: usize,
    n_splits: usize,
    test_size: f64,
    seed: u64,
    verbose: u8,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { n_iter: 30, n_splits: 3, test_size: 0.2, seed: 0, verbose: 0 }
    }
}

/// One candidate of a finished search, as `kiln tune --out` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct TunedCandidate {
    /// Its parameters by `make_pipeline` name.
    pub params: BTreeMap<String, serde_json::Value>,
    /// R² on each split's test rows.
    pub split_scores: Vec<f64>,
    /// Their mean.
    pub mean_score: f64,
    /// The rank of the mean, 1 the best.
    pub rank: usize,
    /// The fit time of each split, seconds.
    pub fit_seconds: Vec<f64>,
    /// The score time of each split, seconds.
    pub score_seconds: Vec<f64>,
}

/// One split's rows.
#[derive(Debug, Clone, Serialize)]
pub struct TunedSplit {
    /// The rows fitted on.
    pub train: Vec<usize>,
    /// The rows scored.
    pub test: Vec<usize>,
}

/// A finished search: what `kiln tune --out` writes as JSON (see [`TuneReport::to_json`]).
#[derive(Debug, Clone, Serialize)]
pub struct TuneReport {
    /// The device the search ran on.
    pub device: String,
    /// The float type of the data (`f32` or `f64`).
    pub dtype: String,
    /// Rows and features of X.
    pub shape: [usize; 2],
    /// The splits, in order.
    pub splits: Vec<TunedSplit>,
    /// The candidates, in the order they were drawn.
    pub candidates: Vec<TunedCandidate>,
    /// The index of the best candidate.
    pub best_index: usize,
    /// Its parameters by name.
    pub best_params: String,
    /// Its mean R².
    pub best_score: f64,
    /// The whole search (every candidate on every split, without the refit), seconds.
    pub seconds: f64,
    /// Seconds spent in each step of the search and its refit, added up over every fit
    /// (`"SplineTransformer.fit_transform"`, `"Nystroem.transform"`, `"RidgeCV.fit"`,
    /// `"RidgeCV.predict"`, `"scoring"`, `"fold gathers"`, ...): the per-step breakdown from
    /// the `tracing` spans. Filled when kiln's subscriber
    /// ([`kiln_runtime::install_stderr_subscriber`], which the binaries install) is the one
    /// installed, else empty.
    pub step_seconds: BTreeMap<String, f64>,
}

impl TuneReport {
    /// The per-step breakdown as printable lines (slowest first, with its share of the
    /// total); empty when no step times were recorded.
    pub fn step_table(&self) -> Vec<String> {
        let total: f64 = self.step_seconds.values().sum();
        let mut rows: Vec<(&String, &f64)> = self.step_seconds.iter().collect();
        rows.sort_by(|a, b| b.1.total_cmp(a.1));
        rows.iter()
            .map(|(k, s)| format!("{k:<34} {s:>9.3} s  {:>5.1}%", 100.0 * **s / total.max(f64::MIN_POSITIVE)))
            .collect()
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of numbers and strings cannot fail; non-finite scores
        // (a failed fit's NaN) are written as null.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

fn json_value(v: &ParamValue) -> serde_json::Value {
    match v {
        ParamValue::Int(i) => (*i).into(),
        ParamValue::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
        ParamValue::Bool(b) => (*b).into(),
        ParamValue::Str(s) => s.clone().into(),
        ParamValue::Floats(f) => f
            .iter()
            .map(|x| serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, Into::into))
            .collect::<Vec<_>>()
            .into(),
        other => other.to_string().into(),
    }
}

impl Tuning {
    /// The workload's defaults: 30 candidates, 3 splits holding out 20%, seed 0, silent.
    pub fn new() -> Tuning {
        Tuning::default()
    }

    /// How many candidates to draw (`n_iter`).
    pub fn n_iter(mut self, n: usize) -> Self {
        self.n_iter = n;
        self
    }

    /// How many shuffle splits.
    pub fn n_splits(mut self, n: usize) -> Self {
        self.n_splits = n;
        self
    }

    /// The seed of the candidates' draw and of the splits.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Progress reports (scikit-learn's `verbose`: 0 silent, 1 a progress bar on a terminal
    /// and `tracing` events otherwise, 2 each fit).
    pub fn verbose(mut self, level: u8) -> Self {
        self.verbose = level;
        self
    }

    /// Run the search on `x`, `y` moved to `device` (y follows X there).
    ///
    /// # Errors
    /// Whatever moving the data, splitting or searching rejects (a candidate whose fit fails
    /// scores NaN, as scikit-learn's `error_score=np.nan`).
    pub fn run<F: Real>(&self, x: &Array2<F>, y: &Array1<F>, device: Device) -> Result<TuneReport> {
        let xt = Tensor::from_array(x, &device)?;
        kiln_runtime::reset_step_seconds();
        let cv = ShuffleSplit::new(self.n_splits).test_size(self.test_size).seed(self.seed);
        let search = RandomizedSearchCV::new(&pipeline::<F>(), space(), cv)
            .n_iter(self.n_iter)
            .seed(self.seed)
            .scoring(Scoring::named("r2")?)
            .verbose(self.verbose)
            .fit(&xt, y)?;
        let candidates = search
            .cv_results()
            .iter()
            .map(|c| TunedCandidate {
                params: c.params.iter().map(|(k, v)| (k.clone(), json_value(v))).collect(),
                split_scores: c.split_scores.clone(),
                mean_score: c.mean_test_score,
                rank: c.rank_test_score,
                fit_seconds: c.fit_times.clone(),
                score_seconds: c.score_times.clone(),
            })
            .collect();
        let splits =
            search.splits().iter().map(|f| TunedSplit { train: f.train.clone(), test: f.test.clone() }).collect();
        let best_index = search.best_index().unwrap_or(0);
        Ok(TuneReport {
            device: device.to_string(),
            dtype: std::any::type_name::<F>().to_string(),
            shape: [x.nrows(), x.ncols()],
            splits,
            candidates,
            best_index,
            best_params: search.best_params().map(ToString::to_string).unwrap_or_default(),
            best_score: search.best_score(),
            seconds: search.seconds(),
            step_seconds: kiln_runtime::step_seconds().into_iter().map(|(k, (s, _))| (k, s)).collect(),
        })
    }
}
