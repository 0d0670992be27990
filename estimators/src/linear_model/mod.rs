//! Linear models (scikit-learn's `sklearn.linear_model`): [`LinearRegression`], [`Ridge`],
//! [`RidgeCV`], [`RidgeClassifier`], [`RidgeClassifierCV`], [`PoissonRegressor`] and
//! [`LogisticRegression`].
//!
//! Every pass over the n samples is a kernel (the Gram system for least squares, the loss and
//! gradient for logistic regression, predictions); the d x d solves and the L-BFGS iterations
//! run on the host in f64.
//!
//! ```
//! use kiln_estimators::prelude::*;
//! use ndarray::array;
//! let x = array![[0.0f64, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]];
//! let t = array![1.0, 2.0, 5.0, 6.0];
//! let ols = LinearRegression::params().fit(&x, &t)?;
//! assert!((ols.coef()[0] - 2.0).abs() < 1e-12 && (ols.intercept() - 0.0).abs() < 1e-12);
//! let ridge = Ridge::params().alpha(1.0).fit(&x, &t)?;
//! let _t_hat = ridge.predict(&x)?;
//! let y = array![0i64, 0, 1, 1];
//! let lr = LogisticRegression::params().c(1.0).max_iter(200).tol(1e-6).fit(&x, &y)?;
//! assert_eq!(lr.predict(&x)?, y);
//! assert_eq!(lr.predict_proba(&x)?.dim(), (4, 2));
//! # Ok::<(), kiln_estimators::EstimatorError>(())
//! ```

mod lbfgs;
mod least_squares;
mod logistic;
mod poisson;
mod ridge_classifier;
mod ridge_cv;

pub use least_squares::MultiTargetLinearModel;
pub use least_squares::{EstimatorName, LinearModel, LinearRegression, LinearRegressionParams, Ridge, RidgeParams};
pub use logistic::{LogisticRegression, LogisticRegressionParams, Penalty};
pub use poisson::{PoissonRegressor, PoissonRegressorParams};
pub use ridge_classifier::{
    ClassWeight, RidgeClassifier, RidgeClassifierCV, RidgeClassifierCVParams, RidgeClassifierParams,
};
pub use ridge_cv::{GcvMode, RidgeCV, RidgeCVParams, RidgeScoring};

pub(crate) use least_squares::check_weights;
