//! `cross_val_score` and `GridSearchCV`.
//!
//! A grid is a list of candidate hyper-parameter objects (each a complete estimator or
//! pipeline), typically built with iterators over the values to try; this keeps every
//! candidate fully typed, where scikit-learn sets parameters by name.

use super::split::{Splitter, Target};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::traits::{Clusterer, Predictor, SupervisedParams, UnsupervisedParams};
use ndarray::{Array1, ArrayView1, ArrayView2, Axis};

/// The scores of a fitted model on each fold's test rows, each fold fitted fresh by `fit_score`
/// (train rows, test rows).
fn fold_scores(
    folds: &[super::split::Fold],
    mut fit_score: impl FnMut(&[usize], &[usize]) -> Result<f64>,
) -> Result<Array1<f64>> {
    let scores = folds.iter().map(|f| fit_score(&f.train, &f.test)).collect::<Result<Vec<f64>>>()?;
    Ok(Array1::from(scores))
}

/// The score of `params` on each fold of `cv` (its default score: accuracy for classifiers, R²
/// for regressors), fitting a fresh model per fold.
///
/// # Errors
/// Whatever splitting, fitting or scoring rejects; `y` of another length than `x`.
pub fn cross_val_score<F: Real, P: SupervisedParams<F>, C: Splitter>(
    params: &P,
    x: ArrayView2<'_, F>,
    y: ArrayView1<'_, P::Target>,
    cv: &C,
) -> Result<Array1<f64>>
where
    P::Target: Target,
{
    crate::data::check_len("y", y.len(), x.nrows())?;
    fold_scores(&cv.folds(y)?, |train, test| {
        let model = params.fit_host(x.select(Axis(0), train).view(), y.select(Axis(0), train).view())?;
        model.score_host(x.select(Axis(0), test).view(), y.select(Axis(0), test).view())
    })
}

/// [`cross_val_score`] of an unsupervised estimator (or a pipeline ending in one): its score
/// on each fold's test rows (KMeans: the opposite of their inertia). The folds are those `cv`
/// makes for `n` samples of one class (a stratified splitter then splits like its plain one).
///
/// # Errors
/// Whatever splitting, fitting or scoring rejects.
pub fn cross_val_score_unsupervised<F: Real, P: UnsupervisedParams<F>, C: Splitter>(
    params: &P,
    x: ArrayView2<'_, F>,
    cv: &C,
) -> Result<Array1<f64>> {
    let one_class = Array1::<i64>::zeros(x.nrows());
    fold_scores(&cv.folds(one_class.view())?, |train, test| {
        params.fit_host(x.select(Axis(0), train).view())?.score_host(x.select(Axis(0), test).view())
    })
}

/// The cross-validation scores of one candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateResult {
    /// The score on each fold.
    pub split_scores: Vec<f64>,
    /// Their mean (`mean_test_score`).
    pub mean_test_score: f64,
    /// Their population standard deviation (`std_test_score`).
    pub std_test_score: f64,
}

/// An exhaustive search over candidates with cross-validation, refitting the best on all data
/// (scikit-learn's `GridSearchCV(refit=True)`; ties go to the first candidate, as there).
///
/// The README shows a search over a StandardScaler -> PCA -> LogisticRegression pipeline.
#[derive(Debug, Clone)]
pub struct GridSearchCV<P, C> {
    candidates: Vec<P>,
    cv: C,
}

/// A fitted search: every candidate's scores and the best candidate refitted on all the data.
#[derive(Debug)]
pub struct GridSearchResult<P, M> {
    results: Vec<CandidateResult>,
    best_index: usize,
    best_params: P,
    best_model: M,
}

impl<P, C: Splitter> GridSearchCV<P, C> {
    /// Search `candidates` with the folds of `cv`.
    pub fn new(candidates: Vec<P>, cv: C) -> Self {
        GridSearchCV { candidates, cv }
    }

    /// Cross-validate every candidate, then refit the best on all of `x`, `y`.
    ///
    /// # Errors
    /// No candidates; whatever a candidate's fit or score rejects.
    pub fn fit<F: Real>(
        &self,
        x: ArrayView2<'_, F>,
        y: ArrayView1<'_, P::Target>,
    ) -> Result<GridSearchResult<P, P::Model>>
    where
        P: SupervisedParams<F> + Clone,
        P::Target: Target,
    {
        let (results, best_index) = self.search(|p| cross_val_score(p, x, y, &self.cv))?;
        let best_params = self.candidates[best_index].clone();
        let best_model = best_params.fit_host(x, y)?;
        Ok(GridSearchResult { results, best_index, best_params, best_model })
    }

    /// [`GridSearchCV::fit`] for unsupervised candidates (KMeans, or pipelines ending in it),
    /// scored by [`cross_val_score_unsupervised`] (for KMeans: the lowest held-out inertia wins).
    ///
    /// # Errors
    /// No candidates; whatever a candidate's fit or score rejects.
    pub fn fit_unsupervised<F: Real>(&self, x: ArrayView2<'_, F>) -> Result<GridSearchResult<P, P::Model>>
    where
        P: UnsupervisedParams<F> + Clone,
    {
        let (results, best_index) = self.search(|p| cross_val_score_unsupervised(p, x, &self.cv))?;
        let best_params = self.candidates[best_index].clone();
        let best_model = best_params.fit_host(x)?;
        Ok(GridSearchResult { results, best_index, best_params, best_model })
    }

    /// Every candidate's fold scores and the index of the best (the first of the best mean;
    /// NaN scores never win).
    fn search(&self, mut scores_of: impl FnMut(&P) -> Result<Array1<f64>>) -> Result<(Vec<CandidateResult>, usize)> {
        if self.candidates.is_empty() {
            return Err(EstimatorError::param("GridSearchCV", "param_grid", "a non-empty list of candidates", "[]"));
        }
        let mut results = Vec::with_capacity(self.candidates.len());
        for p in &self.candidates {
            let scores = scores_of(p)?;
            let mean = scores.mean().unwrap_or(f64::NAN);
            let std = scores.std(0.0);
            results.push(CandidateResult { split_scores: scores.to_vec(), mean_test_score: mean, std_test_score: std });
        }
        let best_index = results
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.mean_test_score.is_nan())
            .fold(None, |best: Option<(usize, f64)>, (i, r)| match best {
                Some((_, s)) if s >= r.mean_test_score => best,
                _ => Some((i, r.mean_test_score)),
            })
            .map(|(i, _)| i)
            .ok_or_else(|| EstimatorError::Shape("every candidate scored NaN".into()))?;
        Ok((results, best_index))
    }
}

impl<P, M> GridSearchResult<P, M> {
    /// Every candidate's scores, in candidate order (`cv_results_`).
    pub fn cv_results(&self) -> &[CandidateResult] {
        &self.results
    }

    /// The index of the best candidate (`best_index_`).
    pub fn best_index(&self) -> usize {
        self.best_index
    }

    /// The best candidate's mean cross-validation score (`best_score_`).
    pub fn best_score(&self) -> f64 {
        self.results[self.best_index].mean_test_score
    }

    /// The best candidate (`best_params_`).
    pub fn best_params(&self) -> &P {
        &self.best_params
    }

    /// The best candidate refitted on all the data (`best_estimator_`).
    pub fn best_estimator(&self) -> &M {
        &self.best_model
    }
}

impl<F: Real, P: Send + Sync, M: Predictor<F>> Predictor<F> for GridSearchResult<P, M> {
    type Target = M::Target;
    fn predict_host(&self, x: ArrayView2<'_, F>) -> Result<Array1<M::Target>> {
        self.best_model.predict_host(x)
    }
    fn score_host(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, M::Target>) -> Result<f64> {
        self.best_model.score_host(x, y)
    }
}

impl<P: Send + Sync, M: Clusterer<F>, F: Real> Clusterer<F> for GridSearchResult<P, M> {
    fn predict_host(&self, x: ArrayView2<'_, F>) -> Result<Array1<i64>> {
        self.best_model.predict_host(x)
    }
    fn score_host(&self, x: ArrayView2<'_, F>) -> Result<f64> {
        self.best_model.score_host(x)
    }
}
