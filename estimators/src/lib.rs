//! kiln-estimators: scikit-learn's core estimators written as kiln kernels, one source for
//! every device.
//!
//! Host code does the iterations, convergence tests and small dense algebra; every step that
//! touches all n samples is a `#[kernel]`, called through its `tensors` entry point so it runs
//! where the data lives (see [`data`]). Models fitted on ndarray input keep ndarray attributes;
//! models fitted on [`kiln_runtime::Tensor`]s keep tensors on that device.
//!
//! ```
//! use kiln_estimators::prelude::*;
//! let x = ndarray::array![[1.0f64, 10.0], [3.0, 10.0], [5.0, 10.0]];
//! let scaler = StandardScaler::params().fit(&x)?;
//! assert_eq!(scaler.mean(), &ndarray::array![3.0, 10.0]);
//! let z = scaler.transform(&x)?;
//! assert!((z[[0, 0]] + 1.224744871391589).abs() < 1e-12);
//! # Ok::<(), kiln_estimators::EstimatorError>(())
//! ```

#![forbid(unsafe_code)]

mod alloc;
pub mod cluster;
pub mod covariance;
pub mod data;
pub mod datasets;
pub mod decomposition;
pub mod discriminant_analysis;
mod error;
pub mod kernel_approximation;
pub mod linear_model;
pub mod metrics;
pub mod mixture;
pub mod model_selection;
pub mod naive_bayes;
pub mod neighbors;
pub mod pipeline;
pub mod preprocessing;
mod random_state;
pub mod relocate;
pub mod traits;

pub use datasets::Real;
pub use error::{EstimatorError, Result};

/// `use kiln_estimators::prelude::*;` (or `kiln::estimators::prelude::*`): the estimators,
/// the input traits and the device types.
pub mod prelude {
    pub use crate::cluster::{KMeans, KMeansParams};
    pub use crate::covariance::{
        CovarianceEstimator, EmpiricalCovariance, EmpiricalCovarianceParams, ErrorNorm, LedoitWolf, LedoitWolfParams,
        Oas, OasParams, ShrunkCovariance, ShrunkCovarianceParams,
    };
    pub use crate::data::{Host, Matrix, OnDevice, Storage, Vector};
    pub use crate::decomposition::{Pca, PcaComponents, PcaParams, SvdSolver};
    pub use crate::discriminant_analysis::{
        LdaSolver, LinearDiscriminantAnalysis, LinearDiscriminantAnalysisParams, Shrinkage,
    };
    pub use crate::kernel_approximation::{Kernel, Nystroem, NystroemParams};
    pub use crate::linear_model::{
        ClassWeight, RidgeClassifier, RidgeClassifierCV, RidgeClassifierCVParams, RidgeClassifierParams,
    };
    pub use crate::linear_model::{GcvMode, RidgeCV, RidgeCVParams, RidgeScoring};
    pub use crate::linear_model::{
        LinearRegression, LinearRegressionParams, LogisticRegression, LogisticRegressionParams, Ridge, RidgeParams,
    };
    pub use crate::linear_model::{Penalty, PoissonRegressor, PoissonRegressorParams};
    pub use crate::mixture::{CovarianceType, GaussianMixture, GaussianMixtureParams, MixtureInit};
    pub use crate::model_selection::SetParams;
    pub use crate::naive_bayes::{GaussianNB, GaussianNBParams};
    pub use crate::neighbors::{
        DistanceMetric, KNeighborsClassifier, KNeighborsClassifierParams, KNeighborsRegressor,
        KNeighborsRegressorParams, NearestNeighbors, NearestNeighborsParams, Weights,
    };
    pub use crate::preprocessing::{
        Binarizer, BinarizerParams, KernelCenterer, KernelCentererParams, LabelBinarizer, LabelBinarizerParams,
        LabelEncoder, LabelEncoderParams, TargetType,
    };
    pub use crate::preprocessing::{DropCategory, HandleUnknown, MinFrequency, OneHotEncoder, OneHotEncoderParams};
    pub use crate::preprocessing::{Extrapolation, SplineKnots, SplineTransformer, SplineTransformerParams};
    pub use crate::preprocessing::{FunctionTransformer, FunctionTransformerParams};
    pub use crate::preprocessing::{
        MaxAbsScaler, MaxAbsScalerParams, MinMaxScaler, MinMaxScalerParams, Norm, Normalizer, NormalizerParams,
        PolynomialFeatures, PolynomialFeaturesParams,
    };
    pub use crate::preprocessing::{OutputDistribution, QuantileTransformer, QuantileTransformerParams};
    pub use crate::preprocessing::{Smooth, TargetEncoder, TargetEncoderCv, TargetEncoderParams, TargetEncoderType};
    pub use crate::preprocessing::{StandardScaler, StandardScalerParams};
    pub use crate::relocate::{Persist, Relocate};
    pub use crate::traits::{Estimator, Model, Transformer, TransformerParams};
    pub use crate::{EstimatorError, Real};
    pub use kiln_runtime::{Device, Tensor};
}
