//! [`KNeighborsClassifier`] and [`KNeighborsRegressor`]: a k-nearest search (`Index`), then one
//! kernel that weighs the neighbours' labels (votes, probabilities) or targets (their mean).

use super::{DistanceMetric, Index, Search};
use crate::data::{check_len, Host, Mat, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::Result;
use crate::preprocessing::label::unique;
use kiln_runtime::{tensor_arg, Tensor};
use ndarray::{Array1, Ix2};

/// How neighbours are weighted (scikit-learn's `weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Weights {
    /// `"uniform"`: every neighbour counts the same.
    #[default]
    Uniform,
    /// `"distance"`: by the inverse of its distance (neighbours at distance 0, when a query has
    /// any, count alone and equally).
    Distance,
}

impl Weights {
    fn flag(self) -> i64 {
        i64::from(self == Weights::Distance)
    }
}

/// The shared builder methods of the two estimators' parameters.
macro_rules! search_params {
    ($t:ty) => {
        impl $t {
            /// The number of neighbours (`n_neighbors`, at least 1).
            pub fn n_neighbors(mut self, n_neighbors: usize) -> Self {
                self.search.n_neighbors = n_neighbors;
                self
            }

            /// How neighbours are weighted (`weights`, default uniform).
            pub fn weights(mut self, weights: Weights) -> Self {
                self.weights = weights;
                self
            }

            /// The distance (`metric`, default minkowski).
            pub fn metric(mut self, metric: DistanceMetric) -> Self {
                self.search.metric = metric;
                self
            }

            /// The power of the minkowski metric (`p`, greater than 0, infinity allowed;
            /// default 2).
            pub fn p(mut self, p: f64) -> Self {
                self.search.p = p;
                self
            }
        }
    };
}

/// Hyper-parameters of [`KNeighborsClassifier`] (scikit-learn's defaults but `n_neighbors`,
/// its default 5: uniform weights, minkowski with `p = 2`).
#[derive(Debug, Clone, PartialEq)]
pub struct KNeighborsClassifierParams {
    search: Search,
    weights: Weights,
}
search_params!(KNeighborsClassifierParams);

/// A k-nearest-neighbours classifier: the training rows and labels, searched by brute force.
#[derive(Debug, Clone)]
pub struct KNeighborsClassifier<F: Real, S: Storage> {
    index: Index<F, S>,
    y: S::Vec<i64>,
    classes: S::Vec<i64>,
    n_classes: usize,
    weights: Weights,
}

crate::relocate!([F: Real] KNeighborsClassifier<F, @> { index: model, y: vec, classes: vec[c], n_classes: size[c], weights });

impl KNeighborsClassifier<f64, Host> {
    /// A classifier voting among `n_neighbors` neighbours (scikit-learn's default is 5).
    pub fn params(n_neighbors: usize) -> KNeighborsClassifierParams {
        KNeighborsClassifierParams { search: Search::new(n_neighbors), weights: Weights::Uniform }
    }
}

impl KNeighborsClassifierParams {
    /// Keep `x` and its integer labels `y` (`classes` sorted ascending).
    ///
    /// # Errors
    /// `n_neighbors` 0, `p` not greater than 0; empty or non-finite X; `y` of another length
    /// than X's rows.
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<i64>>(
        &self,
        x: &X,
        y: &Y,
    ) -> Result<KNeighborsClassifier<F, X::Storage>> {
        let index = self.search.fit("KNeighborsClassifier", x)?;
        check_len("y", y.length()?, index.n_samples_fit)?;
        let classes = unique(y.to_host()?);
        let device = x.device();
        Ok(KNeighborsClassifier {
            index,
            y: X::Storage::vec_from_host(y.to_host()?, device)?,
            n_classes: classes.len(),
            classes: X::Storage::vec_from_host(Array1::from(classes), device)?,
            weights: self.weights,
        })
    }
}

impl<F: Real, S: Storage> KNeighborsClassifier<F, S> {
    /// The class labels, sorted (`classes_`).
    pub fn classes(&self) -> &S::Vec<i64> {
        &self.classes
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The number of training rows (`n_samples_fit_`).
    pub fn n_samples_fit(&self) -> usize {
        self.index.n_samples_fit
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.index.n_features
    }

    /// The distances to and indices of the `n_neighbors` nearest training rows of each row of
    /// `q`, nearest first (as [`super::NearestNeighbors::kneighbors`]).
    ///
    /// # Errors
    /// `n_neighbors` above the number of training rows; a different feature count than at fit
    /// time; NaN or infinity in `q`; `q` on another device than the model.
    pub fn kneighbors<X: Matrix<F>>(&self, q: &X) -> Result<(Mat<X::Storage, F>, Mat<X::Storage, i64>)> {
        let (d, i) = self.index.kneighbors(q, self.index.n_neighbors)?;
        Ok((X::Storage::mat(d)?, X::Storage::mat(i)?))
    }

    fn run<X: Matrix<F>>(&self, q: &X) -> Result<(Tensor<F>, Tensor<i64>)> {
        let (dist, at) = self.index.kneighbors(q, self.index.n_neighbors)?;
        Ok(super::kernels::vote::tensors::<F>(
            tensor_arg::<F, Ix2>(&dist),
            tensor_arg::<i64, Ix2>(&at),
            S::vec_arg(&self.y),
            S::vec_arg(&self.classes),
            self.weights.flag(),
        )?)
    }

    /// Class probabilities (n x n_classes, columns in [`KNeighborsClassifier::classes`] order):
    /// the neighbours' weighted votes, normalized.
    ///
    /// # Errors
    /// As [`KNeighborsClassifier::kneighbors`].
    pub fn predict_proba<X: Matrix<F>>(&self, q: &X) -> Result<Mat<X::Storage, F>> {
        X::Storage::mat(self.run(q)?.0)
    }

    /// The class with the most (weighted) votes among each row's neighbours; the smallest
    /// such class on a tie.
    ///
    /// # Errors
    /// As [`KNeighborsClassifier::kneighbors`].
    pub fn predict<X: Matrix<F>>(&self, q: &X) -> Result<Vect<X::Storage, i64>> {
        X::Storage::vec(self.run(q)?.1)
    }

    /// Mean accuracy on `q` against `y` (scikit-learn's classifier `score`).
    ///
    /// # Errors
    /// As [`KNeighborsClassifier::predict`]; `y` of another length than `q`'s rows.
    pub fn score<X: Matrix<F>, Y: Vector<i64>>(&self, q: &X, y: &Y) -> Result<f64>
    where
        Vect<X::Storage, i64>: Vector<i64>,
    {
        let p = self.predict(q)?;
        crate::metrics::accuracy_score(y, &p)
    }
}

/// Hyper-parameters of [`KNeighborsRegressor`] (scikit-learn's defaults but `n_neighbors`,
/// its default 5: uniform weights, minkowski with `p = 2`).
#[derive(Debug, Clone, PartialEq)]
pub struct KNeighborsRegressorParams {
    search: Search,
    weights: Weights,
}
search_params!(KNeighborsRegressorParams);

/// A k-nearest-neighbours regressor: the training rows and targets, searched by brute force.
#[derive(Debug, Clone)]
pub struct KNeighborsRegressor<F: Real, S: Storage> {
    index: Index<F, S>,
    y: S::Vec<F>,
    weights: Weights,
}

crate::relocate!([F: Real] KNeighborsRegressor<F, @> { index: model, y: vec, weights });

impl KNeighborsRegressor<f64, Host> {
    /// A regressor averaging `n_neighbors` neighbours (scikit-learn's default is 5).
    pub fn params(n_neighbors: usize) -> KNeighborsRegressorParams {
        KNeighborsRegressorParams { search: Search::new(n_neighbors), weights: Weights::Uniform }
    }
}

impl KNeighborsRegressorParams {
    /// Keep `x` and its targets `y`.
    ///
    /// # Errors
    /// `n_neighbors` 0, `p` not greater than 0; empty or non-finite X or y; `y` of another
    /// length than X's rows.
    pub fn fit<F: Real, X: Matrix<F>, Y: Vector<F>>(&self, x: &X, y: &Y) -> Result<KNeighborsRegressor<F, X::Storage>> {
        let index = self.search.fit("KNeighborsRegressor", x)?;
        check_len("y", y.length()?, index.n_samples_fit)?;
        let yh = y.to_host()?;
        if !yh.iter().all(|v| v.to_f64().is_finite()) {
            return Err(crate::error::EstimatorError::NonFinite { what: "y" });
        }
        Ok(KNeighborsRegressor { index, y: X::Storage::vec_from_host(yh, x.device())?, weights: self.weights })
    }
}

impl<F: Real, S: Storage> KNeighborsRegressor<F, S> {
    /// The number of training rows (`n_samples_fit_`).
    pub fn n_samples_fit(&self) -> usize {
        self.index.n_samples_fit
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.index.n_features
    }

    /// The distances to and indices of the `n_neighbors` nearest training rows of each row of
    /// `q`, nearest first (as [`super::NearestNeighbors::kneighbors`]).
    ///
    /// # Errors
    /// `n_neighbors` above the number of training rows; a different feature count than at fit
    /// time; NaN or infinity in `q`; `q` on another device than the model.
    pub fn kneighbors<X: Matrix<F>>(&self, q: &X) -> Result<(Mat<X::Storage, F>, Mat<X::Storage, i64>)> {
        let (d, i) = self.index.kneighbors(q, self.index.n_neighbors)?;
        Ok((X::Storage::mat(d)?, X::Storage::mat(i)?))
    }

    /// The (weighted) mean target of each row's neighbours.
    ///
    /// # Errors
    /// As [`KNeighborsRegressor::kneighbors`].
    pub fn predict<X: Matrix<F>>(&self, q: &X) -> Result<Vect<X::Storage, F>> {
        let (dist, at) = self.index.kneighbors(q, self.index.n_neighbors)?;
        X::Storage::vec(super::kernels::regress::tensors::<F>(
            tensor_arg::<F, Ix2>(&dist),
            tensor_arg::<i64, Ix2>(&at),
            S::vec_arg(&self.y),
            self.weights.flag(),
        )?)
    }

    /// The coefficient of determination R^2 of the predictions on `q` against `y`.
    ///
    /// # Errors
    /// As [`KNeighborsRegressor::predict`]; `y` of another length than `q`'s rows.
    pub fn score<X: Matrix<F>, Y: Vector<F>>(&self, q: &X, y: &Y) -> Result<f64>
    where
        Vect<X::Storage, F>: Vector<F>,
    {
        let p = self.predict(q)?;
        crate::metrics::r2_score(y, &p)
    }
}

crate::traits::supervised!(KNeighborsClassifierParams => KNeighborsClassifier, i64, predict_proba);
crate::traits::supervised!(KNeighborsRegressorParams => KNeighborsRegressor, F);
crate::model_selection::set_params!(KNeighborsClassifierParams, "KNeighborsClassifier" { "n_neighbors" => n_neighbors: usize, "weights" => weights: Weights, "metric" => metric: DistanceMetric, "p" => p: f64 });
crate::model_selection::set_params!(KNeighborsRegressorParams, "KNeighborsRegressor" { "n_neighbors" => n_neighbors: usize, "weights" => weights: Weights, "metric" => metric: DistanceMetric, "p" => p: f64 });

/// `weights` by scikit-learn's names (`"uniform"`, `"distance"`) in a parameter grid.
impl crate::model_selection::FromParam for Weights {
    fn from_param(v: &crate::model_selection::ParamValue) -> std::result::Result<Weights, String> {
        match v {
            crate::model_selection::ParamValue::Str(s) if s == "uniform" => Ok(Weights::Uniform),
            crate::model_selection::ParamValue::Str(s) if s == "distance" => Ok(Weights::Distance),
            _ => Err("a str among {'distance', 'uniform'}".into()),
        }
    }
}
