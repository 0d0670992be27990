//! `Pipeline`: transformers applied in order, ending in any estimator (scikit-learn's
//! `Pipeline` as `make_pipeline` builds it). Fitting fits each transformer on the output of the
//! previous one; predicting transforms through every fitted step. A pipeline is the kind of
//! estimator its last step is: an [`Estimator`] (classifier, regressor or clusterer) or a
//! [`TransformerParams`] — on host arrays and on tensors of any device, where every step fits
//! and transforms on the data's device. So it can be cross-validated and searched like the
//! estimator it ends in. Its parameters are named as scikit-learn's `make_pipeline` names them:
//! `step__param` with each step named by its lowercased class name
//! (`splinetransformer__n_knots`, `nystroem__gamma`, `ridgecv__alphas`).
//!
//! ```
//! use kiln_estimators::prelude::*;
//! use kiln_estimators::pipeline::Pipeline;
//! # fn demo() -> Result<(), EstimatorError> {
//! let x = kiln_estimators::datasets::load_iris().data;
//! let pipe = Pipeline::new().then(StandardScaler::params()).finish(KMeans::params(3).seed(0));
//! let fitted = pipe.fit(&x, &())?;
//! let labels = fitted.predict(&x)?;
//! assert_eq!(labels.len(), 150);
//! // A pipeline of transformers only is a transformer.
//! let scale_then_pca = Pipeline::new().then(StandardScaler::params()).finish(Pca::params(2));
//! let z = scale_then_pca.fit_transformer(&x)?.transform(&x)?;
//! assert_eq!(z.dim(), (150, 2));
//! assert_eq!(scale_then_pca.step_names(), vec!["standardscaler", "pca"]);
//! # Ok(()) }
//! # demo().unwrap();
//! ```

use crate::data::Storage;
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::model_selection::{ParamValue, SetParams};
use crate::traits::{Estimator, Input, Model, Place, Step, TargetInput, Transformer, TransformerParams};
use std::sync::Arc;

/// The transformer steps of a pipeline being built.
pub struct PipelineSteps<F: Real> {
    steps: Vec<Arc<dyn Step<F>>>,
}

/// A pipeline's hyper-parameters: its transformer steps and its final estimator.
pub struct Pipeline<F: Real, E> {
    steps: Vec<Arc<dyn Step<F>>>,
    last: E,
}

impl<F: Real, E: Clone> Clone for Pipeline<F, E> {
    fn clone(&self) -> Self {
        Pipeline { steps: self.steps.clone(), last: self.last.clone() }
    }
}

impl<F: Real, E: std::fmt::Debug> std::fmt::Debug for Pipeline<F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pipeline(")?;
        for s in &self.steps {
            write!(f, "{s:?} -> ")?;
        }
        write!(f, "{:?})", self.last)
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
    /// Append a transformer step (any estimator with the transformer traits and named
    /// parameters).
    pub fn then(mut self, step: impl Step<F> + 'static) -> Self {
        self.steps.push(Arc::new(step));
        self
    }

    /// End the pipeline with its final estimator: supervised, unsupervised or a transformer.
    pub fn finish<E>(self, last: E) -> Pipeline<F, E> {
        Pipeline { steps: self.steps, last }
    }
}

/// scikit-learn's `_name_estimators`: lowercased class names, repeated names numbered
/// `name-1`, `name-2`, ...
fn name_steps(raw: &[&str]) -> Vec<String> {
    let lower: Vec<String> = raw.iter().map(|n| n.to_lowercase()).collect();
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    lower
        .iter()
        .map(|n| {
            let total = lower.iter().filter(|m| *m == n).count();
            if total == 1 {
                n.clone()
            } else {
                let k = seen.entry(n).or_insert(0);
                *k += 1;
                format!("{n}-{k}")
            }
        })
        .collect()
}

/// A fitted pipeline: the fitted transformers and the fitted final model, on place `S`.
pub struct FittedPipeline<F: Real, M, S: Place> {
    steps: Vec<Box<dyn Transformer<F, S>>>,
    model: M,
    /// Each fitted transformer's estimator name (for the per-step spans).
    names: Vec<String>,
    /// The final model's estimator name (empty for a pipeline of transformers).
    final_name: String,
}

/// A span of target `"kiln::step"` ([`kiln_runtime::STEP_TARGET`]) named `step`: kiln's
/// subscriber adds up the time spent in it per name (the per-step time breakdown).
pub(crate) fn step_span(step: &str) -> tracing::span::EnteredSpan {
    tracing::info_span!(target: "kiln::step", "step", step).entered()
}

/// The estimator name of a type: its last path segment without generics or a `Params`
/// suffix (`kiln_estimators::linear_model::RidgeCVParams` -> `RidgeCV`).
pub(crate) fn short_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let last = base.rsplit("::").next().unwrap_or(base);
    last.strip_suffix("Params").unwrap_or(last).to_string()
}

/// A fitted pipeline moves as a whole: every fitted step and the final model.
impl<F: Real, M: crate::relocate::Relocate, S: Place> crate::relocate::Relocate for FittedPipeline<F, M, S> {
    type At<T: Place> = FittedPipeline<F, M::At<T>, T>;
    fn relocate<T: Place>(&self, device: kiln_runtime::Device) -> Result<FittedPipeline<F, M::At<T>, T>> {
        let steps = self.steps.iter().map(|s| T::adopt(s.as_ref(), device)).collect::<Result<Vec<_>>>()?;
        Ok(FittedPipeline {
            steps,
            model: self.model.relocate::<T>(device)?,
            names: self.names.clone(),
            final_name: self.final_name.clone(),
        })
    }
}

/// A fitted pipeline as written: each step's saved-model JSON, then the final model.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineRepr<M> {
    steps: Vec<serde_json::Value>,
    model: M,
}

/// Written through the host: every step's attributes, then the final model's.
impl<F: Real, M: serde::Serialize, S: Place> serde::Serialize for FittedPipeline<F, M, S> {
    fn serialize<Ser: serde::Serializer>(&self, ser: Ser) -> std::result::Result<Ser::Ok, Ser::Error> {
        let steps = self
            .steps
            .iter()
            .map(|s| {
                let text = s.to_json_dyn()?;
                serde_json::from_str(&text).map_err(|e| EstimatorError::Persist(e.to_string()))
            })
            .collect::<Result<Vec<serde_json::Value>>>()
            .map_err(serde::ser::Error::custom)?;
        serde::Serialize::serialize(&PipelineRepr { steps, model: &self.model }, ser)
    }
}

/// Read back on the host, each step by the model type its JSON names.
impl<'de, F: Real, M: serde::de::DeserializeOwned> serde::Deserialize<'de> for FittedPipeline<F, M, crate::data::Host> {
    fn deserialize<De: serde::Deserializer<'de>>(de: De) -> std::result::Result<Self, De::Error> {
        let repr = <PipelineRepr<M> as serde::Deserialize>::deserialize(de)?;
        // The names the step spans use: each step's model type as its JSON names it, and the
        // final model's (none for a pipeline of transformers only).
        let names = repr
            .steps
            .iter()
            .map(|v| {
                let model = v.get("model").and_then(|m| m.as_str()).unwrap_or("step");
                model.split('<').next().unwrap_or(model).trim().to_string()
            })
            .collect();
        let steps = repr.steps.into_iter().map(load_step::<F>).collect::<Result<Vec<_>>>();
        let steps = steps.map_err(serde::de::Error::custom)?;
        let final_name = Some(short_name::<M>()).filter(|n| n != "()").unwrap_or_default();
        Ok(FittedPipeline { steps, model: repr.model, names, final_name })
    }
}

/// A saved pipeline step: the fitted transformer its JSON names.
fn load_step<F: Real>(v: serde_json::Value) -> Result<Box<dyn Transformer<F, crate::data::Host>>> {
    use crate::data::Host;
    use crate::preprocessing as pre;
    use crate::relocate::Persist;
    let text = v.to_string();
    let name = v.get("model").and_then(serde_json::Value::as_str).unwrap_or_default();
    Ok(match name.split('<').next().unwrap_or_default() {
        "StandardScaler" => Box::new(pre::StandardScaler::<F, Host>::from_json(&text)?),
        "MinMaxScaler" => Box::new(pre::MinMaxScaler::<F, Host>::from_json(&text)?),
        "MaxAbsScaler" => Box::new(pre::MaxAbsScaler::<F, Host>::from_json(&text)?),
        "PolynomialFeatures" => Box::new(pre::PolynomialFeatures::<F, Host>::from_json(&text)?),
        "SplineTransformer" => Box::new(pre::SplineTransformer::<F, Host>::from_json(&text)?),
        "QuantileTransformer" => Box::new(pre::QuantileTransformer::<F, Host>::from_json(&text)?),
        "KernelCenterer" => Box::new(pre::KernelCenterer::<F, Host>::from_json(&text)?),
        "Binarizer" => Box::new(pre::Binarizer::from_json(&text)?),
        "Normalizer" => Box::new(pre::Normalizer::from_json(&text)?),
        "Pca" => Box::new(crate::decomposition::Pca::<F, Host>::from_json(&text)?),
        "Nystroem" => Box::new(crate::kernel_approximation::Nystroem::<F, Host>::from_json(&text)?),
        "KMeans" => Box::new(crate::cluster::KMeans::<F, Host>::from_json(&text)?),
        "FittedPipeline" => Box::new(FittedPipeline::<F, (), Host>::from_json(&text)?),
        _ => return Err(EstimatorError::Persist(format!("unknown pipeline step {name:?}"))),
    })
}

impl<F: Real, M: std::fmt::Debug, S: Place> std::fmt::Debug for FittedPipeline<F, M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FittedPipeline({} fitted steps, then {:?})", self.steps.len(), self.model)
    }
}

impl<F: Real, E> Pipeline<F, E> {
    /// Fit and apply every transformer step in order: the fitted steps and the output of the
    /// last (`None`: no steps, the input itself).
    #[allow(clippy::type_complexity)]
    fn fit_steps<S: Place>(&self, x: &S::Mat<F>) -> Result<(Vec<Box<dyn Transformer<F, S>>>, Option<S::Mat<F>>)> {
        let mut fitted = Vec::with_capacity(self.steps.len());
        let mut current: Option<S::Mat<F>> = None;
        for step in &self.steps {
            let _span = step_span(&format!("{}.fit_transform", step.estimator_name()));
            let (t, z) = S::fit_transform_step(step.as_ref(), current.as_ref().unwrap_or(x))?;
            current = Some(z);
            fitted.push(t);
        }
        Ok((fitted, current))
    }

    /// The estimator names of the fitted transformers (with the last step's when it is a
    /// transformer too).
    fn fitted_names(&self, with_last: bool) -> Vec<String> {
        let mut names: Vec<String> = self.steps.iter().map(|s| s.estimator_name().to_string()).collect();
        if with_last {
            names.push(short_name::<E>());
        }
        names
    }

    /// The final estimator's hyper-parameters.
    pub fn final_estimator(&self) -> &E {
        &self.last
    }

    /// Fit every step in order on `x` (host array or tensor) and `y` (moved to `x`'s place;
    /// `&()` when the final estimator is unsupervised).
    ///
    /// # Errors
    /// Whatever a step's fit or transform rejects.
    #[allow(clippy::type_complexity)]
    pub fn fit<X: Input<F>, Y: TargetInput<X::Place, <E as Estimator<F, X::Place>>::Target>>(
        &self,
        x: &X,
        y: &Y,
    ) -> Result<FittedPipeline<F, <E as Estimator<F, X::Place>>::Model, X::Place>>
    where
        E: Estimator<F, X::Place>,
    {
        let xp = x.placed()?;
        let yp = y.follow(X::Place::device_of(&xp))?;
        Estimator::<F, X::Place>::fit_dyn(self, &xp, yp.as_deref())
    }

    /// Fit a pipeline of transformers only (its final step a transformer) on `x`.
    ///
    /// # Errors
    /// Whatever a step's fit or transform rejects.
    pub fn fit_transformer<X: Input<F>>(&self, x: &X) -> Result<FittedPipeline<F, (), X::Place>>
    where
        E: TransformerParams<F, X::Place>,
    {
        let xp = x.placed()?;
        let (mut steps, current) = self.fit_steps::<X::Place>(&xp)?;
        let _span = step_span(&format!("{}.fit", short_name::<E>()));
        steps.push(TransformerParams::<F, X::Place>::fit_dyn(&self.last, current.as_ref().unwrap_or(&xp))?);
        Ok(FittedPipeline { steps, model: (), names: self.fitted_names(true), final_name: String::new() })
    }

    /// Fit a pipeline of transformers only on `x` and transform `x` through it.
    ///
    /// # Errors
    /// Whatever a step's fit or transform rejects.
    pub fn fit_transform<X: Input<F>>(&self, x: &X) -> Result<<X::Place as Storage>::Mat<F>>
    where
        E: TransformerParams<F, X::Place>,
    {
        let xp = x.placed()?;
        let (_, z) = TransformerParams::<F, X::Place>::fit_transform_dyn(self, &xp)?;
        Ok(z)
    }
}

impl<F: Real, E: SetParams> Pipeline<F, E> {
    /// The steps' names, as scikit-learn's `make_pipeline` gives them (lowercased class names).
    pub fn step_names(&self) -> Vec<String> {
        let mut raw: Vec<&str> = self.steps.iter().map(|s| s.estimator_name()).collect();
        raw.push(self.last.estimator_name());
        name_steps(&raw)
    }
}

impl<F: Real, E: SetParams> SetParams for Pipeline<F, E> {
    fn estimator_name(&self) -> &'static str {
        "Pipeline"
    }

    fn param_names(&self) -> Vec<String> {
        let names = self.step_names();
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            out.push(n.clone());
            let inner = if i < self.steps.len() { self.steps[i].param_names() } else { self.last.param_names() };
            out.extend(inner.into_iter().map(|p| format!("{n}__{p}")));
        }
        out
    }

    /// `step__param` sets `param` of the step named `step`; `step` alone replaces a
    /// transformer step by a whole estimator ([`ParamValue::step`]).
    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<()> {
        let names = self.step_names();
        let (step, rest) = match name.split_once("__") {
            Some((s, r)) => (s, Some(r)),
            None => (name, None),
        };
        let Some(i) = names.iter().position(|n| n == step) else {
            let valid: Vec<&str> = names.iter().map(String::as_str).collect();
            return Err(crate::model_selection::unknown_param("Pipeline", name, &valid));
        };
        match rest {
            Some(r) if i < self.steps.len() => {
                let mut s = self.steps[i].clone_step();
                s.set_param(r, value)?;
                self.steps[i] = Arc::from(s);
                Ok(())
            }
            Some(r) => self.last.set_param(r, value),
            None => {
                let replacement = match &value {
                    ParamValue::Step(v) if i < self.steps.len() => v.value.downcast_ref::<Arc<dyn Step<F>>>().cloned(),
                    _ => None,
                };
                match replacement {
                    Some(s) => {
                        self.steps[i] = s;
                        Ok(())
                    }
                    None => Err(EstimatorError::UnknownParameter(format!(
                        "the step '{step}' of the Pipeline can only be replaced by a transformer made by \
                         ParamValue::step of the pipeline's float type; got {value}"
                    ))),
                }
            }
        }
    }
}

impl<F: Real, S: Place, E: Estimator<F, S>> Estimator<F, S> for Pipeline<F, E> {
    type Target = E::Target;
    type Model = FittedPipeline<F, E::Model, S>;
    fn fit_dyn(&self, x: &S::Mat<F>, y: Option<&S::Vec<E::Target>>) -> Result<Self::Model> {
        let (steps, current) = self.fit_steps::<S>(x)?;
        let final_name = short_name::<E>();
        let model = {
            let _span = step_span(&format!("{final_name}.fit"));
            Estimator::<F, S>::fit_dyn(&self.last, current.as_ref().unwrap_or(x), y)?
        };
        Ok(FittedPipeline { steps, model, names: self.fitted_names(false), final_name })
    }
}

impl<F: Real, M, S: Place> FittedPipeline<F, M, S> {
    /// `x` through every fitted transformer (`None`: no transformers).
    fn run(&self, x: &S::Mat<F>) -> Result<Option<S::Mat<F>>> {
        let mut current: Option<S::Mat<F>> = None;
        for (step, name) in self.steps.iter().zip(&self.names) {
            let _span = step_span(&format!("{name}.transform"));
            current = Some(step.transform_dyn(current.as_ref().unwrap_or(x))?);
        }
        Ok(current)
    }

    /// `x` through every fitted transformer (for a pipeline of transformers only: its output).
    ///
    /// # Errors
    /// Whatever a step's transform rejects.
    pub fn transform<X: Input<F, Place = S>>(&self, x: &X) -> Result<S::Mat<F>> {
        let xp = x.placed()?;
        Ok(match self.run(&xp)? {
            Some(z) => z,
            None => xp.into_owned(),
        })
    }

    /// The fitted final model.
    pub fn final_model(&self) -> &M {
        &self.model
    }

    /// Predict through the pipeline.
    ///
    /// # Errors
    /// Whatever a step or the final model rejects.
    pub fn predict<X: Input<F, Place = S>>(&self, x: &X) -> Result<S::Vec<M::Target>>
    where
        M: Model<F, S>,
    {
        self.predict_dyn(&*x.placed()?)
    }

    /// The final model's default score on `x` through the pipeline, with `y` (`&()` for a
    /// clusterer).
    ///
    /// # Errors
    /// Whatever a step, the final model or the metric rejects.
    pub fn score<X: Input<F, Place = S>, Y: TargetInput<S, M::Target>>(&self, x: &X, y: &Y) -> Result<f64>
    where
        M: Model<F, S>,
    {
        let xp = x.placed()?;
        let yp = y.follow(S::device_of(&xp))?;
        self.score_dyn(&xp, yp.as_deref())
    }
}

impl<F: Real, S: Place, M: Model<F, S>> Model<F, S> for FittedPipeline<F, M, S> {
    type Target = M::Target;
    fn predict_dyn(&self, x: &S::Mat<F>) -> Result<S::Vec<M::Target>> {
        let z = self.run(x)?;
        let _span = step_span(&format!("{}.predict", self.final_name));
        self.model.predict_dyn(z.as_ref().unwrap_or(x))
    }
    fn score_dyn(&self, x: &S::Mat<F>, y: Option<&S::Vec<M::Target>>) -> Result<f64> {
        let z = self.run(x)?;
        let _span = step_span(&format!("{}.score", self.final_name));
        self.model.score_dyn(z.as_ref().unwrap_or(x), y)
    }
    fn predict_proba_dyn(&self, x: &S::Mat<F>) -> Option<Result<S::Mat<F>>> {
        // The transformers run first; a final model without the method answers None after them.
        match self.run(x) {
            Ok(z) => {
                let _span = step_span(&format!("{}.predict_proba", self.final_name));
                self.model.predict_proba_dyn(z.as_ref().unwrap_or(x))
            }
            Err(e) => Some(Err(e)),
        }
    }
    fn decision_function_dyn(&self, x: &S::Mat<F>) -> Option<Result<S::Mat<F>>> {
        match self.run(x) {
            Ok(z) => {
                let _span = step_span(&format!("{}.decision_function", self.final_name));
                self.model.decision_function_dyn(z.as_ref().unwrap_or(x))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl<F: Real, S: Place, E: TransformerParams<F, S>> TransformerParams<F, S> for Pipeline<F, E> {
    fn fit_dyn(&self, x: &S::Mat<F>) -> Result<Box<dyn Transformer<F, S>>> {
        let (mut steps, current) = self.fit_steps::<S>(x)?;
        let _span = step_span(&format!("{}.fit", short_name::<E>()));
        steps.push(TransformerParams::<F, S>::fit_dyn(&self.last, current.as_ref().unwrap_or(x))?);
        Ok(Box::new(FittedPipeline { steps, model: (), names: self.fitted_names(true), final_name: String::new() }))
    }

    fn fit_transform_dyn(&self, x: &S::Mat<F>) -> Result<(Box<dyn Transformer<F, S>>, S::Mat<F>)> {
        let (mut steps, current) = self.fit_steps::<S>(x)?;
        let (t, z) = {
            let _span = step_span(&format!("{}.fit_transform", short_name::<E>()));
            TransformerParams::<F, S>::fit_transform_dyn(&self.last, current.as_ref().unwrap_or(x))?
        };
        steps.push(t);
        Ok((
            Box::new(FittedPipeline { steps, model: (), names: self.fitted_names(true), final_name: String::new() }),
            z,
        ))
    }
}

/// A fitted pipeline of transformers only (its last step among them): a transformer.
impl<F: Real, S: Place> Transformer<F, S> for FittedPipeline<F, (), S> {
    fn transform_dyn(&self, x: &S::Mat<F>) -> Result<S::Mat<F>> {
        Ok(match self.run(x)? {
            Some(z) => z,
            None => x.clone(),
        })
    }
    fn to_host_dyn(&self) -> Result<Box<dyn Transformer<F, crate::data::Host>>> {
        Ok(Box::new(crate::relocate::Relocate::to_host(self)?))
    }
    fn to_device_dyn(&self, device: kiln_runtime::Device) -> Result<Box<dyn Transformer<F, crate::data::OnDevice>>> {
        Ok(Box::new(crate::relocate::Relocate::to_device(self, &device)?))
    }
    fn to_json_dyn(&self) -> Result<String> {
        crate::relocate::Persist::to_json(self)
    }
}
