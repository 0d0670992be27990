//! The traits that let estimators be composed (Pipeline, cross-validation, GridSearchCV) on host
//! data, whatever their concrete types: transformers, supervised estimators (classifiers and
//! regressors) and unsupervised ones (clusterers). Each estimator keeps its own inherent, generic
//! `fit` / `transform` / `predict` (ndarray or tensors); these traits are the object-safe,
//! host-array face the model-selection tools drive.

use crate::datasets::Real;
use crate::error::Result;
use kiln_runtime::Element;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// Hyper-parameters of a transformer (a scaler, PCA, ...): fit on host data.
pub trait TransformerParams<F: Real>: Send + Sync {
    /// Fit on `x` and return the fitted transformer.
    ///
    /// # Errors
    /// Whatever the estimator's own `fit` rejects.
    fn fit_host(&self, x: ArrayView2<'_, F>) -> Result<Box<dyn Transformer<F>>>;

    /// Fit on `x` and transform it (a pipeline's step). Estimators whose fit has checked `x`
    /// transform it without checking it again.
    ///
    /// # Errors
    /// Whatever the estimator's own `fit` or `transform` rejects.
    #[allow(clippy::type_complexity)]
    fn fit_transform_host(&self, x: ArrayView2<'_, F>) -> Result<(Box<dyn Transformer<F>>, Array2<F>)> {
        let t = self.fit_host(x)?;
        let z = t.transform_host(x)?;
        Ok((t, z))
    }
}

/// A fitted transformer.
pub trait Transformer<F: Real>: Send + Sync {
    /// Transform `x`.
    ///
    /// # Errors
    /// Whatever the estimator's own `transform` rejects.
    fn transform_host(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>>;
}

/// Hyper-parameters of a supervised estimator (classifier or regressor): fit on host data.
pub trait SupervisedParams<F: Real>: Send + Sync {
    /// The target type: `i64` class labels for classifiers, `F` for regressors.
    type Target: Element;
    /// The fitted model.
    type Model: Predictor<F, Target = Self::Target>;
    /// Fit on `x`, `y`.
    ///
    /// # Errors
    /// Whatever the estimator's own `fit` rejects.
    fn fit_host(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, Self::Target>) -> Result<Self::Model>;
}

/// A fitted supervised model.
pub trait Predictor<F: Real>: Send + Sync {
    /// See [`SupervisedParams::Target`].
    type Target: Element;
    /// Predict targets for `x`.
    ///
    /// # Errors
    /// Whatever the estimator's own `predict` rejects.
    fn predict_host(&self, x: ArrayView2<'_, F>) -> Result<Array1<Self::Target>>;
    /// scikit-learn's default `score`: mean accuracy for classifiers
    /// ([`crate::metrics::accuracy_score`]), R² for regressors ([`crate::metrics::r2_score`]).
    ///
    /// # Errors
    /// Whatever `predict` or the metric rejects.
    fn score_host(&self, x: ArrayView2<'_, F>, y: ArrayView1<'_, Self::Target>) -> Result<f64>;
}

/// Hyper-parameters of an unsupervised estimator whose fitted model labels rows (a clusterer:
/// KMeans): fit on host data without targets.
pub trait UnsupervisedParams<F: Real>: Send + Sync {
    /// The fitted model.
    type Model: Clusterer<F>;
    /// Fit on `x`.
    ///
    /// # Errors
    /// Whatever the estimator's own `fit` rejects.
    fn fit_host(&self, x: ArrayView2<'_, F>) -> Result<Self::Model>;
}

/// A fitted clusterer.
pub trait Clusterer<F: Real>: Send + Sync {
    /// The cluster of each row of `x`.
    ///
    /// # Errors
    /// Whatever the estimator's own `predict` rejects.
    fn predict_host(&self, x: ArrayView2<'_, F>) -> Result<Array1<i64>>;
    /// scikit-learn's `score` of a clusterer (KMeans: the opposite of the inertia of `x` on
    /// the fitted centers), so higher is better, as model selection expects.
    ///
    /// # Errors
    /// Whatever the estimator rejects.
    fn score_host(&self, x: ArrayView2<'_, F>) -> Result<f64>;
}

/// Implements [`TransformerParams`] and [`Transformer`] for an estimator whose inherent `fit`
/// and `transform` take any [`crate::data::Matrix`]: the host-array face is just those called
/// on a view. `host_transformer!(Params => Fitted<F, Host>)`; with `, unchecked` the fitted
/// type's `transform_unchecked` (no second check of X) serves `fit_transform_host`.
macro_rules! host_transformer {
    ($params:ty => $fitted:ty, unchecked) => {
        $crate::traits::host_transformer!(@impl $params => $fitted,
            fn fit_transform_host(
                &self,
                x: ::ndarray::ArrayView2<'_, F>,
            ) -> $crate::Result<(Box<dyn $crate::traits::Transformer<F>>, ::ndarray::Array2<F>)> {
                let t = self.fit(&x)?;
                let z = t.transform_unchecked(&x)?;
                Ok((Box::new(t), z))
            }
        );
    };
    ($params:ty => $fitted:ty) => {
        $crate::traits::host_transformer!(@impl $params => $fitted,);
    };
    (@impl $params:ty => $fitted:ty, $($extra:item)*) => {
        impl<F: $crate::datasets::Real> $crate::traits::TransformerParams<F> for $params {
            fn fit_host(
                &self,
                x: ::ndarray::ArrayView2<'_, F>,
            ) -> $crate::Result<Box<dyn $crate::traits::Transformer<F>>> {
                Ok(Box::new(self.fit(&x)?))
            }
            $($extra)*
        }

        impl<F: $crate::datasets::Real> $crate::traits::Transformer<F> for $fitted {
            fn transform_host(&self, x: ::ndarray::ArrayView2<'_, F>) -> $crate::Result<::ndarray::Array2<F>> {
                self.transform(&x)
            }
        }
    };
}
pub(crate) use host_transformer;
