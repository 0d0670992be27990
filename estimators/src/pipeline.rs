//! `Pipeline`: transformers applied in order, ending in a supervised estimator (scikit-learn's
//! `Pipeline`). Fitting fits each transformer on the output of the previous one; predicting
//! transforms through every fitted step. A pipeline is itself a [`SupervisedParams`], so it can
//! be cross-validated and grid-searched like any estimator.
//!
//! ```
//! use kiln_estimators::prelude::*;
//! use kiln_estimators::pipeline::Pipeline;
//! # fn demo<E: SupervisedParams<f64> + Clone>(final_estimator: E) {
//! let pipe = Pipeline::new().then(StandardScaler::params()).finish(final_estimator);
//! # let _ = pipe; }
//! ```

use crate::datasets::Real;
use crate::error::Result;
use crate::traits::{Predictor, SupervisedParams, Transformer, TransformerParams};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use std::sync::Arc;

/// The transformer steps of a pipeline being built.
pub struct PipelineSteps<F: Real> {
    steps: Vec<Arc<dyn TransformerParams<F>>>,
}

/// A pipeline's hyper-parameters: its transformer steps and its final estimator.
pub struct Pipeline<F: Real, E> {
    steps: Vec<Arc<dyn TransformerParams<F>>>,
    last: E,
}

impl<F: Real, E: Clone> Clone for Pipeline<F, E> {
    fn clone(&self) -> Self {
        Pipeline { steps: self.steps.clone(), last: self.last.clone() }
    }
}

impl<F: Real, E: std::fmt::Debug> std::fmt::Debug for Pipeline<F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pipeline({} transformer steps, then {:?})", self.steps.len(), self.last)
    }
}

impl Pipeline<f64, ()> {
    /// An empty pipeline: add transformers with [`PipelineSteps::then`], end with
    /// [`PipelineSteps::finish`].
    #[allow(clippy::new_ret_no_self)]
    pub fn new<F: Real>() -> PipelineSteps<F> {
        PipelineSteps { steps: Vec::new() }
    }
}

impl<F: Real> PipelineSteps<F> {
    /// Append a transformer step.
    pub fn then(mut self, step: impl TransformerParams<F> + 'static) -> Self {
        self.steps.push(Arc::new(step));
        self
    }

    /// End the pipeline with its final estimator.
    pub fn finish<E: SupervisedParams<F>>(self, last: E) -> Pipeline<F, E> {
        Pipeline { steps: self.steps, last }
    }
}

/// A fitted pipeline: the fitted transformers and the fitted final model.
pub struct FittedPipeline<F: Real, M> {
    steps: Vec<Box<dyn Transformer<F>>>,
    model: M,
}

impl<F: Real, M: std::fmt::Debug> std::fmt::Debug for FittedPipeline<F, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FittedPipeline({} fitted steps, then {:?})", self.steps.len(), self.model)
    }
}

impl<F: Real, E: SupervisedParams<F>> Pipeline<F, E> {
    /// Fit every step in order on host data.
    ///
    /// # Errors
    /// Whatever a step's fit or transform rejects.
    pub fn fit(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, E::Target>) -> Result<FittedPipeline<F, E::Model>> {
        let mut fitted = Vec::with_capacity(self.steps.len());
        let mut current: Option<Array2<F>> = None;
        for step in &self.steps {
            let input = current.as_ref().map_or(x, |a| a.view());
            let t = step.fit_host(input)?;
            current = Some(t.transform_host(input)?);
            fitted.push(t);
        }
        let model = self.last.fit_host(current.as_ref().map_or(x, |a| a.view()), y)?;
        Ok(FittedPipeline { steps: fitted, model })
    }

    /// The final estimator's hyper-parameters.
    pub fn final_estimator(&self) -> &E {
        &self.last
    }
}

impl<F: Real, M> FittedPipeline<F, M> {
    /// `x` through every fitted transformer.
    ///
    /// # Errors
    /// Whatever a step's transform rejects.
    pub fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let mut current = x.to_owned();
        for step in &self.steps {
            current = step.transform_host(current.view())?;
        }
        Ok(current)
    }

    /// The fitted final model.
    pub fn final_model(&self) -> &M {
        &self.model
    }
}

impl<F: Real, M: Predictor<F>> FittedPipeline<F, M> {
    /// Predict through the pipeline.
    ///
    /// # Errors
    /// Whatever a step or the final model rejects.
    pub fn predict(&self, x: ArrayView2<'_, F>) -> Result<Array1<M::Target>> {
        self.model.predict_host(self.transform(x)?.view())
    }
}

impl<F: Real, E: SupervisedParams<F>> SupervisedParams<F> for Pipeline<F, E> {
    type Target = E::Target;
    type Model = FittedPipeline<F, E::Model>;
    fn fit_host(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, E::Target>) -> Result<Self::Model> {
        self.fit(x, y)
    }
}

impl<F: Real, M: Predictor<F>> Predictor<F> for FittedPipeline<F, M> {
    type Target = M::Target;
    fn predict_host(&self, x: ArrayView2<'_, F>) -> Result<Array1<M::Target>> {
        self.predict(x)
    }
    fn score_host(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, M::Target>) -> Result<f64> {
        self.model.score_host(self.transform(x)?.view(), y)
    }
}
