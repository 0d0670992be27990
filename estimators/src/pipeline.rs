//! `Pipeline`: transformers applied in order, ending in any estimator (scikit-learn's
//! `Pipeline`). Fitting fits each transformer on the output of the previous one; predicting
//! transforms through every fitted step. A pipeline is the kind of estimator its last step is:
//! a [`SupervisedParams`] when it ends in a classifier or regressor, an [`UnsupervisedParams`]
//! when it ends in a clusterer, a [`TransformerParams`] when it ends in a transformer. So it
//! can be cross-validated and grid-searched like the estimator it ends in.
//!
//! ```
//! use kiln_estimators::prelude::*;
//! use kiln_estimators::pipeline::Pipeline;
//! # fn demo() -> Result<(), EstimatorError> {
//! let x = kiln_estimators::datasets::load_iris().data;
//! let pipe = Pipeline::new().then(StandardScaler::params()).finish(KMeans::params(3).seed(0));
//! let fitted = UnsupervisedParams::fit_host(&pipe, x.view())?;
//! let labels = fitted.predict_host(x.view())?;
//! assert_eq!(labels.len(), 150);
//! // A pipeline of transformers only is a transformer.
//! let scale_then_pca = Pipeline::new().then(StandardScaler::params()).finish(Pca::params(2));
//! let z = TransformerParams::fit_host(&scale_then_pca, x.view())?.transform_host(x.view())?;
//! assert_eq!(z.dim(), (150, 2));
//! # Ok(()) }
//! # demo().unwrap();
//! ```

use crate::datasets::Real;
use crate::error::Result;
use crate::traits::{Clusterer, Predictor, SupervisedParams, Transformer, TransformerParams, UnsupervisedParams};
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

    /// End the pipeline with its final estimator: supervised, unsupervised or a transformer.
    pub fn finish<E>(self, last: E) -> Pipeline<F, E> {
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

impl<F: Real, E> Pipeline<F, E> {
    /// Fit and apply every transformer step in order: the fitted steps and the output of the
    /// last (`None`: no steps, the input itself).
    fn fit_steps(&self, x: ArrayView2<'_, F>) -> Result<(Vec<Box<dyn Transformer<F>>>, Option<Array2<F>>)> {
        let mut fitted = Vec::with_capacity(self.steps.len());
        let mut current: Option<Array2<F>> = None;
        for step in &self.steps {
            let (t, z) = step.fit_transform_host(current.as_ref().map_or(x, |a| a.view()))?;
            current = Some(z);
            fitted.push(t);
        }
        Ok((fitted, current))
    }

    /// The final estimator's hyper-parameters.
    pub fn final_estimator(&self) -> &E {
        &self.last
    }
}

impl<F: Real, E: SupervisedParams<F>> Pipeline<F, E> {
    /// Fit every step in order on host data.
    ///
    /// # Errors
    /// Whatever a step's fit or transform rejects.
    pub fn fit(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, E::Target>) -> Result<FittedPipeline<F, E::Model>> {
        let (steps, current) = self.fit_steps(x)?;
        let model = self.last.fit_host(current.as_ref().map_or(x, |a| a.view()), y)?;
        Ok(FittedPipeline { steps, model })
    }
}

impl<F: Real, M> FittedPipeline<F, M> {
    /// `x` through every fitted transformer.
    ///
    /// # Errors
    /// Whatever a step's transform rejects.
    pub fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let mut current: Option<Array2<F>> = None;
        for step in &self.steps {
            current = Some(step.transform_host(current.as_ref().map_or(x, |a| a.view()))?);
        }
        Ok(current.unwrap_or_else(|| x.to_owned()))
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

impl<F: Real, E: UnsupervisedParams<F>> UnsupervisedParams<F> for Pipeline<F, E> {
    type Model = FittedPipeline<F, E::Model>;
    fn fit_host(&self, x: ArrayView2<'_, F>) -> Result<Self::Model> {
        let (steps, current) = self.fit_steps(x)?;
        let model = self.last.fit_host(current.as_ref().map_or(x, |a| a.view()))?;
        Ok(FittedPipeline { steps, model })
    }
}

impl<F: Real, M: Clusterer<F>> Clusterer<F> for FittedPipeline<F, M> {
    fn predict_host(&self, x: ArrayView2<'_, F>) -> Result<Array1<i64>> {
        self.model.predict_host(self.transform(x)?.view())
    }
    fn score_host(&self, x: ArrayView2<'_, F>) -> Result<f64> {
        self.model.score_host(self.transform(x)?.view())
    }
}

impl<F: Real, E: TransformerParams<F>> TransformerParams<F> for Pipeline<F, E> {
    fn fit_host(&self, x: ArrayView2<'_, F>) -> Result<Box<dyn Transformer<F>>> {
        let (mut steps, current) = self.fit_steps(x)?;
        steps.push(self.last.fit_host(current.as_ref().map_or(x, |a| a.view()))?);
        Ok(Box::new(FittedPipeline { steps, model: () }))
    }

    fn fit_transform_host(&self, x: ArrayView2<'_, F>) -> Result<(Box<dyn Transformer<F>>, Array2<F>)> {
        let (mut steps, current) = self.fit_steps(x)?;
        let (t, z) = self.last.fit_transform_host(current.as_ref().map_or(x, |a| a.view()))?;
        steps.push(t);
        Ok((Box::new(FittedPipeline { steps, model: () }), z))
    }
}

/// A fitted pipeline of transformers only (its last step among them): a transformer.
impl<F: Real> Transformer<F> for FittedPipeline<F, ()> {
    fn transform_host(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.transform(x)
    }
}
