//! The traits that let estimators be composed (Pipeline, cross-validation, GridSearchCV,
//! RandomizedSearchCV) whatever their concrete types, on host arrays or on tensors of any
//! device: transformers, and estimators that are fitted on X (and y, for supervised ones) and
//! then predict and score.
//!
//! Each estimator keeps its own inherent, generic `fit` / `transform` / `predict` (ndarray or
//! tensors); these traits are the object-safe face the model-selection tools drive, one
//! implementation per [`Place`] (where the data lives: [`Host`] ndarray arrays or [`OnDevice`]
//! tensors). An estimator gets them with one macro line in its own file:
//!
//! - `crate::traits::host_transformer!(PcaParams => Pca<F, crate::data::Host>, unchecked);`
//!   for a transformer (`, unchecked`: its fitted type has `transform_unchecked`, which serves
//!   `fit_transform` without a second check of X);
//! - `crate::traits::supervised!(RidgeParams => Ridge, F);` for a regressor (target `F`, scored
//!   by R²) or `crate::traits::supervised!(GaussianNBParams => GaussianNB, i64);` for a
//!   classifier (scored by accuracy);
//! - `crate::traits::clusterer!(KMeansParams => KMeans);` for a clusterer (y ignored, scored by
//!   the opposite of its `inertia_of`);
//! - `crate::model_selection::set_params!(...)` for its parameters by scikit-learn name (see
//!   [`crate::model_selection::SetParams`]).

use crate::data::{Host, OnDevice, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::model_selection::{Scorer, SetParams, Target};
use kiln_runtime::{Device, Element, Tensor};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Ix1, Ix2};
use std::borrow::Cow;

/// Where data lives for the model-selection tools: [`Host`] (ndarray arrays, gathered by
/// `select`) or [`OnDevice`] (tensors, gathered by a kernel on their device).
pub trait Place: Storage {
    /// The number of rows of a matrix.
    fn n_rows<F: Element>(x: &Self::Mat<F>) -> usize;
    /// The length of a vector.
    fn n_elems<T: Element>(v: &Self::Vec<T>) -> usize;
    /// The device a matrix lives on (the default device for host arrays).
    fn device_of<F: Element>(x: &Self::Mat<F>) -> Device;
    /// The rows of `x` at `idx`, in that order (on a device: a gather kernel there).
    ///
    /// # Errors
    /// Kernel or transfer errors.
    fn take_rows<F: Real>(x: &Self::Mat<F>, idx: &[usize]) -> Result<Self::Mat<F>>;
    /// The elements of `v` at `idx`, in that order (on a device: a gather kernel there).
    ///
    /// # Errors
    /// Kernel or transfer errors.
    fn take<T: Target>(v: &Self::Vec<T>, idx: &[usize]) -> Result<Self::Vec<T>>;
    /// Fit a pipeline step on `x` and transform `x` through it.
    ///
    /// # Errors
    /// Whatever the step rejects.
    #[allow(clippy::type_complexity)]
    fn fit_transform_step<F: Real>(
        step: &dyn Step<F>,
        x: &Self::Mat<F>,
    ) -> Result<(Box<dyn Transformer<F, Self>>, Self::Mat<F>)>;
    /// `scorer(y_true, y_pred)` where both live (only the scalar comes back).
    ///
    /// # Errors
    /// Whatever the metric rejects; a scorer not made for this kind of target.
    fn score_with<T: Target>(scorer: Scorer, y_true: &Self::Vec<T>, y_pred: &Self::Vec<T>) -> Result<f64>;
    /// `scorer(y_true, response)` for a scorer of class probabilities or decision values
    /// (see [`Target::score_response`]), where both live.
    ///
    /// # Errors
    /// Whatever the metric rejects; a continuous target.
    fn score_response<F: Real, T: Target>(
        scorer: Scorer,
        y_true: &Self::Vec<T>,
        response: &Self::Mat<F>,
    ) -> Result<f64>;
    /// A host copy of a vector (cross_val_predict's assembly).
    ///
    /// # Errors
    /// Transfer errors.
    fn vec_host<T: Element>(v: &Self::Vec<T>) -> Result<Array1<T>>;
    /// A fitted transformer (a pipeline's step) moved here (`device` for [`OnDevice`]).
    ///
    /// # Errors
    /// Transfer errors.
    fn adopt<F: Real, P: Place>(t: &dyn Transformer<F, P>, device: Device) -> Result<Box<dyn Transformer<F, Self>>>;
}

fn as_i64(idx: &[usize]) -> Array1<i64> {
    idx.iter().map(|&i| i as i64).collect()
}

impl Place for Host {
    fn n_rows<F: Element>(x: &Array2<F>) -> usize {
        x.nrows()
    }
    fn n_elems<T: Element>(v: &Array1<T>) -> usize {
        v.len()
    }
    fn device_of<F: Element>(_: &Array2<F>) -> Device {
        Device::default_device()
    }
    fn take_rows<F: Real>(x: &Array2<F>, idx: &[usize]) -> Result<Array2<F>> {
        Ok(x.select(Axis(0), idx))
    }
    fn take<T: Target>(v: &Array1<T>, idx: &[usize]) -> Result<Array1<T>> {
        Ok(v.select(Axis(0), idx))
    }
    fn fit_transform_step<F: Real>(
        step: &dyn Step<F>,
        x: &Array2<F>,
    ) -> Result<(Box<dyn Transformer<F, Host>>, Array2<F>)> {
        TransformerParams::<F, Host>::fit_transform_dyn(step, x)
    }
    fn score_with<T: Target>(scorer: Scorer, y_true: &Array1<T>, y_pred: &Array1<T>) -> Result<f64> {
        T::score_with(scorer, y_true, y_pred)
    }
    fn score_response<F: Real, T: Target>(scorer: Scorer, y_true: &Array1<T>, response: &Array2<F>) -> Result<f64> {
        T::score_response(scorer, y_true, response)
    }
    fn vec_host<T: Element>(v: &Array1<T>) -> Result<Array1<T>> {
        Ok(v.clone())
    }
    fn adopt<F: Real, P: Place>(t: &dyn Transformer<F, P>, _: Device) -> Result<Box<dyn Transformer<F, Host>>> {
        t.to_host_dyn()
    }
}

impl Place for OnDevice {
    fn n_rows<F: Element>(x: &Tensor<F>) -> usize {
        x.shape().first().copied().unwrap_or(0)
    }
    fn n_elems<T: Element>(v: &Tensor<T>) -> usize {
        v.shape().first().copied().unwrap_or(0)
    }
    fn device_of<F: Element>(x: &Tensor<F>) -> Device {
        x.device()
    }
    fn take_rows<F: Real>(x: &Tensor<F>, idx: &[usize]) -> Result<Tensor<F>> {
        let idx = Tensor::from_owned(as_i64(idx), x.device())?;
        Ok(crate::kernel_approximation::kernels::take_rows::tensors::<F>(
            kiln_runtime::tensor_arg::<F, Ix2>(x),
            kiln_runtime::tensor_arg::<i64, Ix1>(&idx),
        )?)
    }
    fn take<T: Target>(v: &Tensor<T>, idx: &[usize]) -> Result<Tensor<T>> {
        let idx = Tensor::from_owned(as_i64(idx), v.device())?;
        T::gather(v, &idx)
    }
    fn fit_transform_step<F: Real>(
        step: &dyn Step<F>,
        x: &Tensor<F>,
    ) -> Result<(Box<dyn Transformer<F, OnDevice>>, Tensor<F>)> {
        TransformerParams::<F, OnDevice>::fit_transform_dyn(step, x)
    }
    fn score_with<T: Target>(scorer: Scorer, y_true: &Tensor<T>, y_pred: &Tensor<T>) -> Result<f64> {
        T::score_with(scorer, y_true, y_pred)
    }
    fn score_response<F: Real, T: Target>(scorer: Scorer, y_true: &Tensor<T>, response: &Tensor<F>) -> Result<f64> {
        T::score_response(scorer, y_true, response)
    }
    fn vec_host<T: Element>(v: &Tensor<T>) -> Result<Array1<T>> {
        Ok(v.to_array::<Ix1>()?)
    }
    fn adopt<F: Real, P: Place>(
        t: &dyn Transformer<F, P>,
        device: Device,
    ) -> Result<Box<dyn Transformer<F, OnDevice>>> {
        t.to_device_dyn(device)
    }
}

/// An X the model-selection tools take: `Array2<F>`, an `ArrayView2<F>` (copied once) or a
/// rank-2 `Tensor<F>` on any device.
pub trait Input<F: Real> {
    /// Where it lives.
    type Place: Place;
    /// The data as its place keeps it.
    ///
    /// # Errors
    /// A tensor that is not 2-D.
    fn placed(&self) -> Result<Cow<'_, <Self::Place as Storage>::Mat<F>>>;
}

impl<F: Real> Input<F> for Array2<F> {
    type Place = Host;
    fn placed(&self) -> Result<Cow<'_, Array2<F>>> {
        Ok(Cow::Borrowed(self))
    }
}

impl<F: Real> Input<F> for ArrayView2<'_, F> {
    type Place = Host;
    fn placed(&self) -> Result<Cow<'_, Array2<F>>> {
        Ok(Cow::Owned(self.to_owned()))
    }
}

impl<F: Real> Input<F> for Tensor<F> {
    type Place = OnDevice;
    fn placed(&self) -> Result<Cow<'_, Tensor<F>>> {
        crate::data::Matrix::<F>::dims(self)?;
        Ok(Cow::Borrowed(self))
    }
}

/// A y the model-selection tools take, moved to where X lives (scikit-learn's "everything
/// follows X"): `Array1<T>`, an `ArrayView1<T>`, a rank-1 `Tensor<T>` on any device, or `()`
/// for no y (unsupervised estimators).
pub trait TargetInput<S: Place, T: Target> {
    /// The targets where X lives (`device`), or `None` for `()`.
    ///
    /// # Errors
    /// A tensor that is not 1-D; transfer errors.
    fn follow(&self, device: Device) -> Result<Option<Cow<'_, S::Vec<T>>>>;
}

impl<T: Target> TargetInput<Host, T> for Array1<T> {
    fn follow(&self, _: Device) -> Result<Option<Cow<'_, Array1<T>>>> {
        Ok(Some(Cow::Borrowed(self)))
    }
}

impl<T: Target> TargetInput<OnDevice, T> for Array1<T> {
    fn follow(&self, device: Device) -> Result<Option<Cow<'_, Tensor<T>>>> {
        Ok(Some(Cow::Owned(Tensor::from_array(self, device)?)))
    }
}

impl<T: Target> TargetInput<Host, T> for ArrayView1<'_, T> {
    fn follow(&self, _: Device) -> Result<Option<Cow<'_, Array1<T>>>> {
        Ok(Some(Cow::Owned(self.to_owned())))
    }
}

impl<T: Target> TargetInput<OnDevice, T> for ArrayView1<'_, T> {
    fn follow(&self, device: Device) -> Result<Option<Cow<'_, Tensor<T>>>> {
        Ok(Some(Cow::Owned(Tensor::from_array(self, device)?)))
    }
}

impl<T: Target> TargetInput<Host, T> for Tensor<T> {
    fn follow(&self, _: Device) -> Result<Option<Cow<'_, Array1<T>>>> {
        crate::data::Vector::<T>::length(self)?;
        Ok(Some(Cow::Owned(self.to_array::<Ix1>()?)))
    }
}

impl<T: Target> TargetInput<OnDevice, T> for Tensor<T> {
    fn follow(&self, device: Device) -> Result<Option<Cow<'_, Tensor<T>>>> {
        crate::data::Vector::<T>::length(self)?;
        if Tensor::device(self) == device {
            Ok(Some(Cow::Borrowed(self)))
        } else {
            Ok(Some(Cow::Owned(self.to_device(device)?)))
        }
    }
}

impl<S: Place, T: Target> TargetInput<S, T> for () {
    fn follow(&self, _: Device) -> Result<Option<Cow<'_, S::Vec<T>>>> {
        Ok(None)
    }
}

/// Hyper-parameters of a transformer (a scaler, PCA, ...): fit on data of place `S`.
pub trait TransformerParams<F: Real, S: Place = Host>: Send + Sync {
    /// Fit on `x` and return the fitted transformer.
    ///
    /// # Errors
    /// Whatever the estimator's own `fit` rejects.
    fn fit_dyn(&self, x: &S::Mat<F>) -> Result<Box<dyn Transformer<F, S>>>;

    /// Fit on `x` and transform it (a pipeline's step). Estimators whose fit has checked `x`
    /// transform it without checking it again.
    ///
    /// # Errors
    /// Whatever the estimator's own `fit` or `transform` rejects.
    #[allow(clippy::type_complexity)]
    fn fit_transform_dyn(&self, x: &S::Mat<F>) -> Result<(Box<dyn Transformer<F, S>>, S::Mat<F>)> {
        let t = self.fit_dyn(x)?;
        let z = t.transform_dyn(x)?;
        Ok((t, z))
    }
}

/// A fitted transformer.
pub trait Transformer<F: Real, S: Place = Host>: Send + Sync {
    /// Transform `x`.
    ///
    /// # Errors
    /// Whatever the estimator's own `transform` rejects.
    fn transform_dyn(&self, x: &S::Mat<F>) -> Result<S::Mat<F>>;
    /// The fitted transformer with its attributes on the host ([`crate::relocate::Relocate`]).
    ///
    /// # Errors
    /// Transfer errors.
    fn to_host_dyn(&self) -> Result<Box<dyn Transformer<F, Host>>>;
    /// The fitted transformer with its attributes as tensors on `device`.
    ///
    /// # Errors
    /// Transfer errors.
    fn to_device_dyn(&self, device: Device) -> Result<Box<dyn Transformer<F, OnDevice>>>;
    /// The fitted transformer as saved-model JSON ([`crate::relocate::Persist::to_json`]), to
    /// save a pipeline.
    ///
    /// # Errors
    /// Transfer errors; a transformer that cannot be saved (`FunctionTransformer`).
    fn to_json_dyn(&self) -> Result<String>;
}

/// Hyper-parameters of an estimator that is fitted on X (and y, for supervised ones:
/// classifiers and regressors; clusterers ignore y, as scikit-learn's `fit(X, y=None)`), then
/// predicts and scores. One trait for supervised and unsupervised estimators, so a search or a
/// pipeline has one `fit`.
pub trait Estimator<F: Real, S: Place = Host>: Send + Sync {
    /// What it predicts: `i64` class or cluster labels, or `F` for regressors.
    type Target: Target;
    /// The fitted model.
    type Model: Model<F, S, Target = Self::Target>;
    /// Fit on `x` and `y` (`None`: no targets given).
    ///
    /// # Errors
    /// Whatever the estimator's own `fit` rejects; no `y` for a supervised estimator.
    fn fit_dyn(&self, x: &S::Mat<F>, y: Option<&S::Vec<Self::Target>>) -> Result<Self::Model>;
}

/// A fitted model of an [`Estimator`].
pub trait Model<F: Real, S: Place = Host>: Send + Sync {
    /// See [`Estimator::Target`].
    type Target: Target;
    /// Predict for `x`.
    ///
    /// # Errors
    /// Whatever the estimator's own `predict` rejects.
    fn predict_dyn(&self, x: &S::Mat<F>) -> Result<S::Vec<Self::Target>>;
    /// scikit-learn's default `score`: mean accuracy for classifiers, R² for regressors, the
    /// opposite of the inertia for KMeans (higher is better, as model selection expects).
    ///
    /// # Errors
    /// Whatever `predict` or the metric rejects; no `y` for a supervised model.
    fn score_dyn(&self, x: &S::Mat<F>, y: Option<&S::Vec<Self::Target>>) -> Result<f64>;
    /// Class probabilities for `x` (`n x n_classes`, columns in the sorted order of the
    /// classes), or `None` when the model has no `predict_proba` (regressors, some
    /// classifiers): scorers such as `"neg_log_loss"` need it.
    fn predict_proba_dyn(&self, _x: &S::Mat<F>) -> Option<Result<S::Mat<F>>> {
        None
    }
    /// Decision values for `x` (`n x n_classes`, or `n x 1` for two classes), or `None` when
    /// the model has no `decision_function`: `"roc_auc"`, `"average_precision"` and
    /// `"top_k_accuracy"` read them, else the probabilities.
    fn decision_function_dyn(&self, _x: &S::Mat<F>) -> Option<Result<S::Mat<F>>> {
        None
    }
}

/// What a pipeline's transformer step is: a transformer on host arrays and on tensors, with
/// its parameters settable by name (every estimator with [`host_transformer!`] and
/// `set_params!`).
pub trait Step<F: Real>:
    TransformerParams<F, Host> + TransformerParams<F, OnDevice> + SetParams + std::fmt::Debug + Send + Sync
{
    /// A boxed copy (to set a parameter of one candidate without touching the others).
    fn clone_step(&self) -> Box<dyn Step<F>>;
}

impl<F: Real, T> Step<F> for T
where
    T: TransformerParams<F, Host>
        + TransformerParams<F, OnDevice>
        + SetParams
        + std::fmt::Debug
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn clone_step(&self) -> Box<dyn Step<F>> {
        Box::new(self.clone())
    }
}

/// The error of a supervised estimator fitted or scored without y (scikit-learn's wording).
pub fn require_y<T>(estimator: &'static str, y: Option<T>) -> Result<T> {
    y.ok_or_else(|| EstimatorError::Shape(format!("{estimator} requires y to be passed, but the target y is None")))
}

/// Implements [`TransformerParams`] and [`Transformer`] on host arrays and on tensors for an
/// estimator whose inherent `fit` and `transform` take any [`crate::data::Matrix`].
/// `host_transformer!(Params => Fitted<F, crate::data::Host>)` (or `Fitted` for a fitted type
/// without storage); with `, unchecked` the fitted type's `transform_unchecked` (no second
/// check of X) serves `fit_transform_dyn`.
macro_rules! host_transformer {
    ($params:ty => $fitted:ident<F, crate::data::Host> $(, $unchecked:ident)?) => {
        $crate::traits::host_transformer!(@place $params => $fitted<F, $crate::data::Host>, $crate::data::Host $(, $unchecked)?);
        $crate::traits::host_transformer!(@place $params => $fitted<F, $crate::data::OnDevice>, $crate::data::OnDevice $(, $unchecked)?);
    };
    ($params:ty => $fitted:ident $(, $unchecked:ident)?) => {
        $crate::traits::host_transformer!(@place $params => $fitted, $crate::data::Host $(, $unchecked)?);
        $crate::traits::host_transformer!(@place $params => $fitted, $crate::data::OnDevice $(, $unchecked)?);
    };
    (@place $params:ty => $fitted:ty, $place:ty, unchecked) => {
        $crate::traits::host_transformer!(@impl $params => $fitted, $place,
            fn fit_transform_dyn(
                &self,
                x: &$crate::data::Mat<$place, F>,
            ) -> $crate::Result<(Box<dyn $crate::traits::Transformer<F, $place>>, $crate::data::Mat<$place, F>)> {
                let t = self.fit(x)?;
                let z = t.transform_unchecked(x)?;
                Ok((Box::new(t), z))
            }
        );
    };
    (@place $params:ty => $fitted:ty, $place:ty) => {
        $crate::traits::host_transformer!(@impl $params => $fitted, $place,);
    };
    (@impl $params:ty => $fitted:ty, $place:ty, $($extra:item)*) => {
        impl<F: $crate::datasets::Real> $crate::traits::TransformerParams<F, $place> for $params {
            fn fit_dyn(
                &self,
                x: &$crate::data::Mat<$place, F>,
            ) -> $crate::Result<Box<dyn $crate::traits::Transformer<F, $place>>> {
                Ok(Box::new(self.fit(x)?))
            }
            $($extra)*
        }

        impl<F: $crate::datasets::Real> $crate::traits::Transformer<F, $place> for $fitted {
            fn transform_dyn(&self, x: &$crate::data::Mat<$place, F>) -> $crate::Result<$crate::data::Mat<$place, F>> {
                self.transform(x)
            }
            fn to_host_dyn(&self) -> $crate::Result<Box<dyn $crate::traits::Transformer<F, $crate::data::Host>>> {
                Ok(Box::new($crate::relocate::Relocate::to_host(self)?))
            }
            fn to_device_dyn(
                &self,
                device: ::kiln_runtime::Device,
            ) -> $crate::Result<Box<dyn $crate::traits::Transformer<F, $crate::data::OnDevice>>> {
                Ok(Box::new($crate::relocate::Relocate::to_device(self, &device)?))
            }
            fn to_json_dyn(&self) -> $crate::Result<String> {
                $crate::relocate::Persist::to_json(self)
            }
        }
    };
}
pub(crate) use host_transformer;

/// Implements [`Estimator`] and [`Model`] on host arrays and on tensors for a supervised
/// estimator whose inherent `fit(x, y)` and `predict(x)` take any [`crate::data::Matrix`] /
/// [`crate::data::Vector`]: `supervised!(RidgeParams => Ridge, F)` for a regressor (scored by
/// R²), `supervised!(GaussianNBParams => GaussianNB, i64)` for a classifier (scored by
/// accuracy). `Fitted` names the fitted type (or an alias) taking `<F, Storage>`. A classifier
/// with inherent `predict_proba(x)` / `decision_function(x)` lists them after the target
/// (`supervised!(LogisticRegressionParams => LogisticRegression, i64, predict_proba,
/// decision_function)`) so that the scorers reading them can score it.
macro_rules! supervised {
    ($params:ty => $fitted:ident, $target:ident $(, $method:ident)*) => {
        $crate::traits::supervised!(@place $params => $fitted, $target, $crate::data::Host $(, $method)*);
        $crate::traits::supervised!(@place $params => $fitted, $target, $crate::data::OnDevice $(, $method)*);
    };
    (@method predict_proba, $place:ty) => {
        fn predict_proba_dyn(
            &self,
            x: &$crate::data::Mat<$place, F>,
        ) -> Option<$crate::Result<$crate::data::Mat<$place, F>>> {
            Some(self.predict_proba(x))
        }
    };
    (@method decision_function, $place:ty) => {
        fn decision_function_dyn(
            &self,
            x: &$crate::data::Mat<$place, F>,
        ) -> Option<$crate::Result<$crate::data::Mat<$place, F>>> {
            Some(self.decision_function(x))
        }
    };
    (@place $params:ty => $fitted:ident, $target:ident, $place:ty $(, $method:ident)*) => {
        impl<F: $crate::datasets::Real> $crate::traits::Estimator<F, $place> for $params {
            type Target = $target;
            type Model = $fitted<F, $place>;
            fn fit_dyn(
                &self,
                x: &$crate::data::Mat<$place, F>,
                y: Option<&$crate::data::Vect<$place, $target>>,
            ) -> $crate::Result<Self::Model> {
                self.fit(x, $crate::traits::require_y(stringify!($fitted), y)?)
            }
        }

        impl<F: $crate::datasets::Real> $crate::traits::Model<F, $place> for $fitted<F, $place> {
            type Target = $target;
            fn predict_dyn(&self, x: &$crate::data::Mat<$place, F>) -> $crate::Result<$crate::data::Vect<$place, $target>> {
                self.predict(x)
            }
            fn score_dyn(
                &self,
                x: &$crate::data::Mat<$place, F>,
                y: Option<&$crate::data::Vect<$place, $target>>,
            ) -> $crate::Result<f64> {
                let y = $crate::traits::require_y(stringify!($fitted), y)?;
                let p = self.predict(x)?;
                <$place as $crate::traits::Place>::score_with::<$target>($crate::model_selection::Scorer::default_for::<$target>(), y, &p)
            }
            $($crate::traits::supervised!(@method $method, $place);)*
        }
    };
}
pub(crate) use supervised;

/// Implements [`Estimator`] and [`Model`] on host arrays and on tensors for a clusterer whose
/// inherent `fit(x)`, `predict(x)` and `inertia_of(x)` take any [`crate::data::Matrix`]: y is
/// ignored, the score is the opposite of the inertia. `clusterer!(KMeansParams => KMeans)`;
/// `clusterer!(GaussianMixtureParams => GaussianMixture, score)` for a model scored by its own
/// inherent `score(x)` (GaussianMixture: the mean log-likelihood).
macro_rules! clusterer {
    ($params:ty => $fitted:ident) => {
        $crate::traits::clusterer!(@place $params => $fitted, $crate::data::Host, |m, x| Ok(-m.inertia_of(x)?));
        $crate::traits::clusterer!(@place $params => $fitted, $crate::data::OnDevice, |m, x| Ok(-m.inertia_of(x)?));
    };
    ($params:ty => $fitted:ident, score) => {
        $crate::traits::clusterer!(@place $params => $fitted, $crate::data::Host, |m, x| m.score(x));
        $crate::traits::clusterer!(@place $params => $fitted, $crate::data::OnDevice, |m, x| m.score(x));
    };
    (@place $params:ty => $fitted:ident, $place:ty, |$m:ident, $x:ident| $score:expr) => {
        impl<F: $crate::datasets::Real> $crate::traits::Estimator<F, $place> for $params {
            type Target = i64;
            type Model = $fitted<F, $place>;
            fn fit_dyn(
                &self,
                x: &$crate::data::Mat<$place, F>,
                _y: Option<&$crate::data::Vect<$place, i64>>,
            ) -> $crate::Result<Self::Model> {
                self.fit(x)
            }
        }

        impl<F: $crate::datasets::Real> $crate::traits::Model<F, $place> for $fitted<F, $place> {
            type Target = i64;
            fn predict_dyn(&self, x: &$crate::data::Mat<$place, F>) -> $crate::Result<$crate::data::Vect<$place, i64>> {
                self.predict(x)
            }
            fn score_dyn(
                &self,
                $x: &$crate::data::Mat<$place, F>,
                _y: Option<&$crate::data::Vect<$place, i64>>,
            ) -> $crate::Result<f64> {
                let $m = self;
                $score
            }
        }
    };
}
pub(crate) use clusterer;
