//! Cross-validation (`cross_validate`, `cross_val_score`, `cross_val_predict`) and the
//! searches (`GridSearchCV`, `RandomizedSearchCV`) on host arrays or on tensors of any device.
//!
//! With tensors, each split's rows are gathered once on the device by a kernel, every candidate
//! fits and predicts there, y follows X to its device, and only the scores (scalars) come
//! back. Candidates are an estimator (or pipeline) with parameters set by scikit-learn name
//! from a [`ParamGrid`] or [`ParamDistributions`], or a list of fully typed candidates.

use super::params::{ParamDistributions, ParamGrid, Params, SetParams};
use super::progress::Progress;
use super::scoring::{score_model, Responses, Scoring};
use super::split::{Fold, Splitter, Target};
use crate::data::Storage;
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::traits::{require_y, Estimator, Input, Model, Place, TargetInput};
use ndarray::Array1;
use std::time::Instant;

/// The target type of estimator `P` on place `S`.
type Tgt<F, S, P> = <P as Estimator<F, S>>::Target;

/// One split's data, on its place.
struct SplitData<F: Real, S: Place, T: Target> {
    x_train: S::Mat<F>,
    x_test: S::Mat<F>,
    y_train: Option<S::Vec<T>>,
    y_test: Option<S::Vec<T>>,
}

/// Every split's rows gathered once (by a kernel on the device for tensors).
fn gather_splits<F: Real, S: Place, T: Target>(
    x: &S::Mat<F>,
    y: Option<&S::Vec<T>>,
    folds: &[Fold],
) -> Result<Vec<SplitData<F, S, T>>> {
    let _span = crate::pipeline::step_span("fold gathers");
    folds
        .iter()
        .map(|f| {
            Ok(SplitData {
                x_train: S::take_rows(x, &f.train)?,
                x_test: S::take_rows(x, &f.test)?,
                y_train: y.map(|y| S::take(y, &f.train)).transpose()?,
                y_test: y.map(|y| S::take(y, &f.test)).transpose()?,
            })
        })
        .collect()
}

/// The folds of `cv` for `n` rows; a y on a device is read back only when the splitter
/// stratifies on its labels.
fn make_folds<S: Place, T: Target, C: Splitter>(
    cv: &C,
    n: usize,
    y: Option<&S::Vec<T>>,
    groups: Option<&[i64]>,
) -> Result<Vec<Fold>> {
    if let Some(y) = y {
        crate::data::check_len("y", S::n_elems(y), n)?;
    }
    let labels = match (cv.needs_labels(), y) {
        (true, Some(y)) => S::vec_host(y)?.iter().map(|v| v.label()).collect::<Option<Vec<i64>>>(),
        _ => None,
    };
    let folds = cv.split(n, labels.as_deref(), groups)?;
    if folds.is_empty() {
        return Err(EstimatorError::TooFewSamples("the cross-validation strategy made no splits".into()));
    }
    Ok(folds)
}

/// The scores of a fitted model on `x`, `y`: one per scorer of `scoring` (its own score for
/// [`Scoring::Default`]; named scorers share one prediction).
fn scores_of<F: Real, S: Place, M: Model<F, S>>(
    m: &M,
    x: &S::Mat<F>,
    y: Option<&S::Vec<M::Target>>,
    scoring: &Scoring,
) -> Result<Vec<f64>> {
    match scoring {
        Scoring::Default => Ok(vec![m.score_dyn(x, y)?]),
        Scoring::One(s) => {
            let y = require_y("the scorer", y)?;
            Ok(vec![score_model(*s, m, x, y, &mut Responses::default())?])
        }
        Scoring::Many(v) => {
            let y = require_y("the scorer", y)?;
            let mut cache = Responses::default();
            v.iter().map(|s| score_model(*s, m, x, y, &mut cache)).collect()
        }
    }
}

/// What a fit that fails does to a search (scikit-learn's `error_score`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ErrorScore {
    /// Its scores are NaN, a warning is logged, the search goes on (scikit-learn's default);
    /// the search fails only when every fit failed.
    #[default]
    Nan,
    /// The search fails with the fit's error (`error_score="raise"`).
    Raise,
}

/// One fit of one candidate on one split.
struct FitRecord {
    test: Vec<f64>,
    train: Option<Vec<f64>>,
    fit_time: f64,
    score_time: f64,
}

/// Options shared by cross-validation and the searches.
#[derive(Debug, Clone, Default)]
struct Options {
    scoring: Scoring,
    return_train_score: bool,
    verbose: u8,
    error_score: ErrorScore,
    groups: Option<Vec<i64>>,
}

/// Fit and score every candidate on every split.
fn evaluate<F: Real, S: Place, P: Estimator<F, S>>(
    what: &str,
    candidates: &[&P],
    splits: &[SplitData<F, S, P::Target>],
    opts: &Options,
) -> Result<Vec<Vec<FitRecord>>> {
    let n_scores = opts.scoring.keys().len();
    let mut progress = Progress::new(opts.verbose, what, candidates.len(), splits.len());
    let mut first_error: Option<EstimatorError> = None;
    let mut failed = 0usize;
    let mut out = Vec::with_capacity(candidates.len());
    for (c, p) in candidates.iter().enumerate() {
        let mut per_split = Vec::with_capacity(splits.len());
        for (s, d) in splits.iter().enumerate() {
            let t0 = Instant::now();
            let fitted = p.fit_dyn(&d.x_train, d.y_train.as_ref());
            let fit_time = t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            let scored = fitted.and_then(|m| {
                let test = scores_of(&m, &d.x_test, d.y_test.as_ref(), &opts.scoring)?;
                let score_time = t1.elapsed().as_secs_f64();
                let train = if opts.return_train_score {
                    Some(scores_of(&m, &d.x_train, d.y_train.as_ref(), &opts.scoring)?)
                } else {
                    None
                };
                Ok((test, train, score_time))
            });
            let rec = match scored {
                Ok((test, train, score_time)) => FitRecord { test, train, fit_time, score_time },
                Err(e) => {
                    if opts.error_score == ErrorScore::Raise {
                        progress.finish();
                        return Err(e);
                    }
                    tracing::warn!(
                        target: "kiln::model_selection",
                        "{what}: the fit of candidate {} on split {} failed and is scored NaN: {e}",
                        c + 1,
                        s + 1
                    );
                    failed += 1;
                    first_error.get_or_insert(e);
                    FitRecord {
                        test: vec![f64::NAN; n_scores],
                        train: opts.return_train_score.then(|| vec![f64::NAN; n_scores]),
                        fit_time,
                        score_time: 0.0,
                    }
                }
            };
            progress.fit_done(c, s, rec.test[0], rec.train.as_ref().map(|t| t[0]), rec.fit_time + rec.score_time);
            per_split.push(rec);
        }
        out.push(per_split);
    }
    let total = progress.done();
    progress.finish();
    if failed == total && total > 0 {
        let e = first_error.map_or_else(String::new, |e| e.to_string());
        return Err(EstimatorError::Shape(format!("All the {total} fits failed. The first error: {e}")));
    }
    Ok(out)
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let a = Array1::from(v.to_vec());
    (a.mean().unwrap_or(f64::NAN), a.std(0.0))
}

/// Ranks as scikit-learn's `rankdata(-means, method="min")`, NaN means ranked last.
fn ranks(means: &[f64]) -> Vec<usize> {
    let finite_min = means.iter().copied().filter(|m| !m.is_nan()).fold(f64::INFINITY, f64::min);
    let m: Vec<f64> = means.iter().map(|&v| if v.is_nan() { finite_min - 1.0 } else { v }).collect();
    m.iter()
        .map(|&v| {
            if v.is_nan() {
                // Every mean is NaN.
                1
            } else {
                1 + m.iter().filter(|&&o| o > v).count()
            }
        })
        .collect()
}

/// The scores of one candidate under one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricResult {
    /// The metric's name (`"score"` for a single metric).
    pub name: String,
    /// The test score on each split (`split{i}_test_{name}`).
    pub split_test_scores: Vec<f64>,
    /// Their mean (`mean_test_{name}`).
    pub mean_test_score: f64,
    /// Their population standard deviation (`std_test_{name}`).
    pub std_test_score: f64,
    /// The rank of the mean among candidates, 1 the best (`rank_test_{name}`).
    pub rank_test_score: usize,
    /// The training scores on each split, when asked for (`return_train_score`).
    pub split_train_scores: Option<Vec<f64>>,
    /// Their mean.
    pub mean_train_score: Option<f64>,
    /// Their population standard deviation.
    pub std_train_score: Option<f64>,
}

/// Everything a search knows about one candidate (a row of scikit-learn's `cv_results_`).
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateResult {
    /// Its parameters by name (`params`).
    pub params: Params,
    /// The test score on each split under the refit metric (or the single metric).
    pub split_scores: Vec<f64>,
    /// Their mean (`mean_test_score`).
    pub mean_test_score: f64,
    /// Their population standard deviation (`std_test_score`).
    pub std_test_score: f64,
    /// The rank of the mean, 1 the best (`rank_test_score`).
    pub rank_test_score: usize,
    /// Every metric's scores (one entry, `"score"`, for a single metric).
    pub metrics: Vec<MetricResult>,
    /// The fit time on each split, seconds.
    pub fit_times: Vec<f64>,
    /// The score time on each split, seconds.
    pub score_times: Vec<f64>,
    /// `mean_fit_time`.
    pub mean_fit_time: f64,
    /// `std_fit_time`.
    pub std_fit_time: f64,
    /// `mean_score_time`.
    pub mean_score_time: f64,
    /// `std_score_time`.
    pub std_score_time: f64,
}

impl CandidateResult {
    /// The scores under metric `name`.
    pub fn metric(&self, name: &str) -> Option<&MetricResult> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

/// Which metric picks the best candidate and whether it is refitted on all the data
/// (scikit-learn's `refit`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Refit {
    /// Refit the best candidate of the single metric (`refit=True`, the default).
    #[default]
    Best,
    /// Refit the best candidate by this metric (multi-metric scoring names one).
    Metric(String),
    /// Refit nothing (`refit=False`): no best estimator.
    No,
}

/// Assemble `cv_results` and the best index (under `refit`).
fn summarize(
    params: Vec<Params>,
    records: &[Vec<FitRecord>],
    scoring: &Scoring,
    refit: &Refit,
    return_train: bool,
) -> Result<(Vec<CandidateResult>, Option<usize>)> {
    let keys = scoring.keys();
    let primary = match (refit, scoring.is_multimetric()) {
        (Refit::Metric(name), _) => keys.iter().position(|k| k == name).ok_or_else(|| {
            EstimatorError::UnknownParameter(format!(
                "refit must be one of the scorer names {keys:?} (or Refit::No); got '{name}'"
            ))
        })?,
        (Refit::Best, true) => {
            return Err(EstimatorError::UnknownParameter(
                "For multi-metric scoring, the parameter refit must be set to a scorer key or a callable to refit \
                 an estimator with the best parameter setting on the whole data and make the best_* attributes \
                 available for that metric. If this is not needed, refit should be set to False explicitly. True \
                 was passed."
                    .into(),
            ))
        }
        _ => 0,
    };
    let per_metric_means: Vec<Vec<f64>> = (0..keys.len())
        .map(|k| records.iter().map(|r| mean_std(&r.iter().map(|f| f.test[k]).collect::<Vec<_>>()).0).collect())
        .collect();
    let per_metric_ranks: Vec<Vec<usize>> = per_metric_means.iter().map(|m| ranks(m)).collect();
    let mut results = Vec::with_capacity(records.len());
    for (c, (r, p)) in records.iter().zip(params).enumerate() {
        let metrics: Vec<MetricResult> = keys
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let test: Vec<f64> = r.iter().map(|f| f.test[k]).collect();
                let (mean, std) = mean_std(&test);
                let train: Option<Vec<f64>> =
                    if return_train { r.iter().map(|f| f.train.as_ref().map(|t| t[k])).collect() } else { None };
                let tr = train.as_ref().map(|t| mean_std(t));
                MetricResult {
                    name: name.clone(),
                    split_test_scores: test,
                    mean_test_score: mean,
                    std_test_score: std,
                    rank_test_score: per_metric_ranks[k][c],
                    mean_train_score: tr.map(|t| t.0),
                    std_train_score: tr.map(|t| t.1),
                    split_train_scores: train,
                }
            })
            .collect();
        let fit_times: Vec<f64> = r.iter().map(|f| f.fit_time).collect();
        let score_times: Vec<f64> = r.iter().map(|f| f.score_time).collect();
        let (mean_fit_time, std_fit_time) = mean_std(&fit_times);
        let (mean_score_time, std_score_time) = mean_std(&score_times);
        let m = &metrics[primary];
        results.push(CandidateResult {
            params: p,
            split_scores: m.split_test_scores.clone(),
            mean_test_score: m.mean_test_score,
            std_test_score: m.std_test_score,
            rank_test_score: m.rank_test_score,
            metrics,
            fit_times,
            score_times,
            mean_fit_time,
            std_fit_time,
            mean_score_time,
            std_score_time,
        });
    }
    let best = match refit {
        Refit::No if scoring.is_multimetric() => None,
        _ => {
            // The first candidate of rank 1 (scikit-learn's argmin of the ranks).
            let b = results.iter().position(|r| r.rank_test_score == 1);
            if results.iter().all(|r| r.mean_test_score.is_nan()) {
                return Err(EstimatorError::Shape("every candidate scored NaN".into()));
            }
            b
        }
    };
    Ok((results, best))
}

/// A fitted search: every candidate's results, the splits, and the best candidate refitted on
/// all the data (on the data's place: tensors on their device).
#[derive(Debug)]
pub struct SearchResult<P, M> {
    results: Vec<CandidateResult>,
    best_index: Option<usize>,
    best_candidate: Option<P>,
    best_model: Option<M>,
    folds: Vec<Fold>,
    scorers: Vec<String>,
    seconds: f64,
    refit_seconds: f64,
}

impl<P, M> SearchResult<P, M> {
    /// Every candidate's results, in candidate order (`cv_results_`).
    pub fn cv_results(&self) -> &[CandidateResult] {
        &self.results
    }

    /// The index of the best candidate (`best_index_`); `None` with multi-metric scoring and
    /// `Refit::No`.
    pub fn best_index(&self) -> Option<usize> {
        self.best_index
    }

    /// The best candidate's mean test score (`best_score_`; NaN without a best index).
    pub fn best_score(&self) -> f64 {
        self.best_index.map_or(f64::NAN, |i| self.results[i].mean_test_score)
    }

    /// The best candidate's parameters by name (`best_params_`, printable:
    /// `{'nystroem__gamma': 0.1, ...}`).
    pub fn best_params(&self) -> Option<&Params> {
        self.best_index.map(|i| &self.results[i].params)
    }

    /// The best candidate's hyper-parameters (the estimator with `best_params` set).
    pub fn best_candidate(&self) -> Option<&P> {
        self.best_candidate.as_ref()
    }

    /// The best candidate refitted on all the data (`best_estimator_`); `None` with
    /// `Refit::No`.
    pub fn best_estimator(&self) -> Option<&M> {
        self.best_model.as_ref()
    }

    /// The splits every candidate was evaluated on.
    pub fn splits(&self) -> &[Fold] {
        &self.folds
    }

    /// The scorer names (`"score"` for a single metric).
    pub fn scorer_names(&self) -> &[String] {
        &self.scorers
    }

    /// Seconds the whole search took (evaluation and refit).
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Seconds the refit took (`refit_time_`).
    pub fn refit_seconds(&self) -> f64 {
        self.refit_seconds
    }

    fn model(&self) -> Result<&M> {
        self.best_model.as_ref().ok_or_else(|| {
            EstimatorError::Shape("this search was not refitted (refit=False): it has no best estimator".into())
        })
    }

    /// Predict with the best estimator.
    ///
    /// # Errors
    /// No refit; whatever the model rejects.
    pub fn predict<F: Real, X: Input<F>>(&self, x: &X) -> Result<<X::Place as Storage>::Vec<M::Target>>
    where
        M: Model<F, X::Place>,
    {
        self.model()?.predict_dyn(&*x.placed()?)
    }

    /// The best estimator's score on `x`, `y` (its default score; `&()` as y for a
    /// clusterer).
    ///
    /// # Errors
    /// No refit; whatever the model rejects.
    pub fn score<F: Real, X: Input<F>, Y: TargetInput<X::Place, M::Target>>(&self, x: &X, y: &Y) -> Result<f64>
    where
        M: Model<F, X::Place>,
    {
        let xp = x.placed()?;
        let yp = y.follow(X::Place::device_of(&xp))?;
        self.model()?.score_dyn(&xp, yp.as_deref())
    }
}

/// Build the candidate with `params` set on a copy of `base`.
fn with_params<P: SetParams + Clone>(base: &P, params: &Params) -> Result<P> {
    let mut c = base.clone();
    for (n, v) in params.iter() {
        c.set_param(n, v.clone())?;
    }
    Ok(c)
}

/// Evaluate `candidates` and refit the best (the shared body of both searches).
#[allow(clippy::type_complexity)]
fn run_search<F, X, Y, P, C>(
    what: &str,
    candidates: Vec<(Params, P)>,
    cv: &C,
    opts: &Options,
    refit: &Refit,
    x: &X,
    y: &Y,
) -> Result<SearchResult<P, P::Model>>
where
    F: Real,
    X: Input<F>,
    P: Estimator<F, X::Place> + Clone,
    Y: TargetInput<X::Place, Tgt<F, X::Place, P>>,
    C: Splitter,
{
    let t0 = Instant::now();
    if candidates.is_empty() {
        return Err(EstimatorError::param("GridSearchCV", "param_grid", "a non-empty list of candidates", "[]"));
    }
    let xp = x.placed()?;
    let device = X::Place::device_of(&xp);
    let yp = y.follow(device)?;
    let n = X::Place::n_rows(&xp);
    let folds = make_folds::<X::Place, _, _>(cv, n, yp.as_deref(), opts.groups.as_deref())?;
    let splits = gather_splits::<F, X::Place, _>(&xp, yp.as_deref(), &folds)?;
    let refs: Vec<&P> = candidates.iter().map(|(_, p)| p).collect();
    let records = evaluate(what, &refs, &splits, opts)?;
    drop(splits);
    let (params, cands): (Vec<Params>, Vec<P>) = candidates.into_iter().unzip();
    let (results, best_index) = summarize(params, &records, &opts.scoring, refit, opts.return_train_score)?;
    let t1 = Instant::now();
    let (best_candidate, best_model) = match (best_index, refit) {
        (Some(b), Refit::Best | Refit::Metric(_)) => {
            let p = cands[b].clone();
            let m = p.fit_dyn(&xp, yp.as_deref())?;
            (Some(p), Some(m))
        }
        (Some(b), Refit::No) => (Some(cands[b].clone()), None),
        (None, _) => (None, None),
    };
    let refit_seconds = t1.elapsed().as_secs_f64();
    Ok(SearchResult {
        results,
        best_index,
        best_candidate,
        best_model,
        folds,
        scorers: opts.scoring.keys(),
        seconds: t0.elapsed().as_secs_f64(),
        refit_seconds,
    })
}

macro_rules! search_options {
    ($t:ident) => {
        impl<P, C> $t<P, C> {
            /// What candidates are scored by (default: the estimator's own score).
            pub fn scoring(mut self, scoring: Scoring) -> Self {
                self.opts.scoring = scoring;
                self
            }
            /// Which metric picks the best candidate, and whether it is refitted.
            pub fn refit(mut self, refit: Refit) -> Self {
                self.refit = refit;
                self
            }
            /// Also score each fit on its training rows (`return_train_score`).
            pub fn return_train_score(mut self, yes: bool) -> Self {
                self.opts.return_train_score = yes;
                self
            }
            /// Progress reports (scikit-learn's `verbose`: 0 silent, 1 progress, 2 each fit, 3
            /// also training scores).
            pub fn verbose(mut self, level: u8) -> Self {
                self.opts.verbose = level;
                self
            }
            /// What a failing fit does (default NaN scores, as scikit-learn).
            pub fn error_score(mut self, e: ErrorScore) -> Self {
                self.opts.error_score = e;
                self
            }
            /// The samples' groups, for group splitters ([`super::GroupKFold`]).
            pub fn groups(mut self, groups: Vec<i64>) -> Self {
                self.opts.groups = Some(groups);
                self
            }
        }
    };
}

/// An exhaustive search over candidates with cross-validation, refitting the best on all data
/// (scikit-learn's `GridSearchCV`; ties go to the first candidate, as there).
///
/// ```
/// use kiln_estimators::prelude::*;
/// use kiln_estimators::model_selection::{GridSearchCV, KFold, ParamGrid};
/// use kiln_estimators::pipeline::Pipeline;
/// # fn demo() -> Result<(), EstimatorError> {
/// let d = kiln_estimators::datasets::load_diabetes();
/// let pipe = Pipeline::new().then(StandardScaler::params()).finish(Ridge::params());
/// let grid = ParamGrid::new().add("ridge__alpha", [0.1, 1.0, 10.0]);
/// let search = GridSearchCV::new(&pipe, grid, KFold::new(3))?.fit(&d.data, &d.target)?;
/// assert_eq!(search.cv_results().len(), 3);
/// println!("best {} ({:.3})", search.best_params().unwrap(), search.best_score());
/// # Ok(()) }
/// # demo().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct GridSearchCV<P, C> {
    candidates: Vec<(Params, P)>,
    cv: C,
    opts: Options,
    refit: Refit,
}

search_options!(GridSearchCV);

impl<P, C: Splitter> GridSearchCV<P, C> {
    /// Search every combination of `grid` set on copies of `estimator` (scikit-learn names:
    /// `step__param` for pipelines).
    ///
    /// # Errors
    /// An empty list of values; a name the estimator does not have.
    pub fn new(estimator: &P, grid: ParamGrid, cv: C) -> Result<Self>
    where
        P: SetParams + Clone,
    {
        let candidates = grid
            .candidates()?
            .into_iter()
            .map(|p| Ok((p.clone(), with_params(estimator, &p)?)))
            .collect::<Result<_>>()?;
        Ok(GridSearchCV { candidates, cv, opts: Options::default(), refit: Refit::Best })
    }

    /// Search a list of fully typed candidates (their `params` in the results are empty).
    pub fn from_candidates(candidates: Vec<P>, cv: C) -> Self {
        GridSearchCV {
            candidates: candidates.into_iter().map(|p| (Params::default(), p)).collect(),
            cv,
            opts: Options::default(),
            refit: Refit::Best,
        }
    }

    /// The candidates, with their parameters by name.
    pub fn candidates(&self) -> &[(Params, P)] {
        &self.candidates
    }

    /// Cross-validate every candidate on `x` (host array or tensor) and `y` (moved to `x`'s
    /// place; `&()` for unsupervised estimators), then refit the best on all of it.
    ///
    /// # Errors
    /// No candidates; bad splits; whatever a candidate's fit or score rejects (with
    /// [`ErrorScore::Raise`], or when every fit fails).
    #[allow(clippy::type_complexity)]
    pub fn fit<F: Real, X: Input<F>, Y: TargetInput<X::Place, Tgt<F, X::Place, P>>>(
        &self,
        x: &X,
        y: &Y,
    ) -> Result<SearchResult<P, <P as Estimator<F, X::Place>>::Model>>
    where
        P: Estimator<F, X::Place> + Clone,
    {
        run_search("GridSearchCV", self.candidates.clone(), &self.cv, &self.opts, &self.refit, x, y)
    }
}

/// A search over `n_iter` candidates drawn from parameter distributions (scikit-learn's
/// `RandomizedSearchCV`), reproducible from `seed`.
///
/// ```
/// use kiln_estimators::prelude::*;
/// use kiln_estimators::model_selection::{Dist, ParamDistributions, RandomizedSearchCV, Scoring, ShuffleSplit};
/// use kiln_estimators::pipeline::Pipeline;
/// # fn demo() -> Result<(), EstimatorError> {
/// let d = kiln_estimators::datasets::load_diabetes();
/// let pipe = Pipeline::new()
///     .then(SplineTransformer::params())
///     .then(Nystroem::params().n_components(30))
///     .finish(RidgeCV::params());
/// let space = ParamDistributions::new()
///     .choice("splinetransformer__n_knots", [4, 5, 6])
///     .choice("nystroem__kernel", ["rbf", "poly"])
///     .add("nystroem__gamma", Dist::loguniform(1e-3, 1e-1));
/// let search = RandomizedSearchCV::new(&pipe, space, ShuffleSplit::new(3).test_size(0.2))
///     .n_iter(4)
///     .seed(0)
///     .scoring(Scoring::named("r2")?)
///     .fit(&d.data, &d.target)?;
/// assert_eq!(search.cv_results().len(), 4);
/// println!("best {} ({:.3})", search.best_params().unwrap(), search.best_score());
/// # Ok(()) }
/// # demo().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct RandomizedSearchCV<P, C> {
    estimator: P,
    space: ParamDistributions,
    n_iter: usize,
    seed: u64,
    cv: C,
    opts: Options,
    refit: Refit,
}

search_options!(RandomizedSearchCV);

impl<P: SetParams + Clone, C: Splitter> RandomizedSearchCV<P, C> {
    /// Draw candidates for `estimator` from `space` (10 by default, seed 0).
    pub fn new(estimator: &P, space: ParamDistributions, cv: C) -> Self {
        RandomizedSearchCV {
            estimator: estimator.clone(),
            space,
            n_iter: 10,
            seed: 0,
            cv,
            opts: Options::default(),
            refit: Refit::Best,
        }
    }

    /// How many candidates to draw (`n_iter`).
    pub fn n_iter(mut self, n: usize) -> Self {
        self.n_iter = n;
        self
    }

    /// The seed of the draws (scikit-learn's integer `random_state`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The drawn candidates, with their parameters by name.
    ///
    /// # Errors
    /// An invalid distribution; a name the estimator does not have; a seed of 2^32 or more.
    pub fn candidates(&self) -> Result<Vec<(Params, P)>> {
        let seed = super::split::seed32("RandomizedSearchCV", self.seed)?;
        self.space
            .sample(self.n_iter, seed)?
            .into_iter()
            .map(|p| Ok((p.clone(), with_params(&self.estimator, &p)?)))
            .collect()
    }

    /// Draw the candidates, cross-validate each on `x` (host array or tensor) and `y` (moved to
    /// `x`'s place; `&()` for unsupervised estimators), then refit the best on all of it.
    ///
    /// # Errors
    /// As [`RandomizedSearchCV::candidates`] and [`GridSearchCV::fit`].
    #[allow(clippy::type_complexity)]
    pub fn fit<F: Real, X: Input<F>, Y: TargetInput<X::Place, Tgt<F, X::Place, P>>>(
        &self,
        x: &X,
        y: &Y,
    ) -> Result<SearchResult<P, <P as Estimator<F, X::Place>>::Model>>
    where
        P: Estimator<F, X::Place>,
    {
        run_search("RandomizedSearchCV", self.candidates()?, &self.cv, &self.opts, &self.refit, x, y)
    }
}

/// Options of [`cross_validate`]: scoring, training scores, progress, groups.
#[derive(Debug, Clone, Default)]
pub struct CvOptions {
    opts: Options,
}

impl CvOptions {
    /// scikit-learn's defaults: the estimator's own score, no training scores, silent.
    pub fn new() -> CvOptions {
        CvOptions::default()
    }
    /// What each split is scored by.
    pub fn scoring(mut self, scoring: Scoring) -> Self {
        self.opts.scoring = scoring;
        self
    }
    /// Also score each fit on its training rows.
    pub fn return_train_score(mut self, yes: bool) -> Self {
        self.opts.return_train_score = yes;
        self
    }
    /// Progress reports (see [`GridSearchCV::verbose`]).
    pub fn verbose(mut self, level: u8) -> Self {
        self.opts.verbose = level;
        self
    }
    /// The samples' groups, for group splitters.
    pub fn groups(mut self, groups: Vec<i64>) -> Self {
        self.opts.groups = Some(groups);
        self
    }
    /// What a failing fit does (default NaN scores and a warning, as scikit-learn;
    /// [`ErrorScore::Raise`] makes it an error).
    pub fn error_score(mut self, e: ErrorScore) -> Self {
        self.opts.error_score = e;
        self
    }
}

/// What [`cross_validate`] returns: per split, each metric's test (and training) score and the
/// fit and score times.
#[derive(Debug, Clone, PartialEq)]
pub struct CvResult {
    /// `(metric name, score per split)`: `"score"` for a single metric (`test_score`).
    pub test_scores: Vec<(String, Vec<f64>)>,
    /// The same on the training rows, when asked for (`train_score`).
    pub train_scores: Option<Vec<(String, Vec<f64>)>>,
    /// Seconds each fit took (`fit_time`).
    pub fit_time: Vec<f64>,
    /// Seconds each scoring took (`score_time`).
    pub score_time: Vec<f64>,
}

impl CvResult {
    /// The test scores under metric `name` (`"score"` for a single metric).
    pub fn test(&self, name: &str) -> Option<&[f64]> {
        self.test_scores.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
    /// The training scores under metric `name`.
    pub fn train(&self, name: &str) -> Option<&[f64]> {
        self.train_scores.as_ref()?.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

/// Evaluate `estimator` by cross-validation (scikit-learn's `cross_validate`) on `x` (host
/// array or tensor) and `y` (moved to `x`'s place; `&()` for unsupervised estimators).
///
/// # Errors
/// Bad splits; whatever the estimator's fit or scoring rejects.
pub fn cross_validate<F, X, Y, P, C>(estimator: &P, x: &X, y: &Y, cv: &C, options: &CvOptions) -> Result<CvResult>
where
    F: Real,
    X: Input<F>,
    P: Estimator<F, X::Place>,
    Y: TargetInput<X::Place, Tgt<F, X::Place, P>>,
    C: Splitter,
{
    let opts = options.opts.clone();
    let xp = x.placed()?;
    let yp = y.follow(X::Place::device_of(&xp))?;
    let folds = make_folds::<X::Place, _, _>(cv, X::Place::n_rows(&xp), yp.as_deref(), opts.groups.as_deref())?;
    let splits = gather_splits::<F, X::Place, _>(&xp, yp.as_deref(), &folds)?;
    let records = evaluate("cross_validate", &[estimator], &splits, &opts)?;
    let r = &records[0];
    let keys = opts.scoring.keys();
    let test_scores =
        keys.iter().enumerate().map(|(k, n)| (n.clone(), r.iter().map(|f| f.test[k]).collect())).collect();
    let train_scores = opts.return_train_score.then(|| {
        keys.iter()
            .enumerate()
            .map(|(k, n)| (n.clone(), r.iter().map(|f| f.train.as_ref().map_or(f64::NAN, |t| t[k])).collect()))
            .collect()
    });
    Ok(CvResult {
        test_scores,
        train_scores,
        fit_time: r.iter().map(|f| f.fit_time).collect(),
        score_time: r.iter().map(|f| f.score_time).collect(),
    })
}

/// The estimator's default score on each split (scikit-learn's `cross_val_score`): accuracy
/// for classifiers, R² for regressors, the opposite of the inertia for KMeans.
///
/// # Errors
/// As [`cross_validate`]; a failing fit is an error.
pub fn cross_val_score<F, X, Y, P, C>(estimator: &P, x: &X, y: &Y, cv: &C) -> Result<Array1<f64>>
where
    F: Real,
    X: Input<F>,
    P: Estimator<F, X::Place>,
    Y: TargetInput<X::Place, Tgt<F, X::Place, P>>,
    C: Splitter,
{
    let r = cross_validate(estimator, x, y, cv, &CvOptions::new().error_score(ErrorScore::Raise))?;
    Ok(Array1::from(r.test_scores.into_iter().next().map(|(_, v)| v).unwrap_or_default()))
}

/// Each sample's prediction by the model fitted on the splits that held it out (scikit-learn's
/// `cross_val_predict`), on `x`'s place. The test sets of `cv` must partition the samples.
///
/// # Errors
/// Test sets that do not partition the samples; whatever the estimator rejects.
pub fn cross_val_predict<F, X, Y, P, C>(
    estimator: &P,
    x: &X,
    y: &Y,
    cv: &C,
) -> Result<<X::Place as Storage>::Vec<Tgt<F, X::Place, P>>>
where
    F: Real,
    X: Input<F>,
    P: Estimator<F, X::Place>,
    Y: TargetInput<X::Place, Tgt<F, X::Place, P>>,
    C: Splitter,
{
    let xp = x.placed()?;
    let device = X::Place::device_of(&xp);
    let yp = y.follow(device)?;
    let n = X::Place::n_rows(&xp);
    let folds = make_folds::<X::Place, _, _>(cv, n, yp.as_deref(), None)?;
    let mut seen = vec![false; n];
    for f in &folds {
        for &i in &f.test {
            if std::mem::replace(&mut seen[i], true) {
                return Err(EstimatorError::Shape("cross_val_predict only works for partitions".into()));
            }
        }
    }
    if seen.iter().any(|s| !s) {
        return Err(EstimatorError::Shape("cross_val_predict only works for partitions".into()));
    }
    let splits = gather_splits::<F, X::Place, _>(&xp, yp.as_deref(), &folds)?;
    let mut out: Vec<Option<Tgt<F, X::Place, P>>> = vec![None; n];
    for (f, d) in folds.iter().zip(&splits) {
        let m = estimator.fit_dyn(&d.x_train, d.y_train.as_ref())?;
        let p = X::Place::vec_host(&m.predict_dyn(&d.x_test)?)?;
        for (&i, &v) in f.test.iter().zip(p.iter()) {
            out[i] = Some(v);
        }
    }
    let fill = out.iter().flatten().next().copied();
    let host: Array1<Tgt<F, X::Place, P>> = out
        .into_iter()
        .map(|v| v.or(fill))
        .collect::<Option<_>>()
        .ok_or_else(|| EstimatorError::Shape("cross_val_predict: a sample got no prediction".into()))?;
    <X::Place as Storage>::vec_from_host(host, device)
}
