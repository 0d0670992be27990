//! scikit-learn's toy datasets, embedded in the library.
//!
//! The files in `estimators/data` are written by `cargo xtask fixtures` from scikit-learn's
//! bundled copies (`x` as float64, `y` as int64 labels or float64 for diabetes, and a `.tsv`
//! with the feature names on its first line and the class names on its second).

use ndarray::{Array1, Array2};
use ndarray_npy::ReadNpyExt;

/// A dataset: samples in the rows of `data`, one target per sample.
///
/// `T` is `i64` for classification (class labels `0..n_classes`) and the float type for
/// regression. Produced by the `load_*` functions; `into_f32` gives the f32 version.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<F = f64, T = i64> {
    /// The samples, `(n_samples, n_features)`.
    pub data: Array2<F>,
    /// The target of each sample, `(n_samples,)`.
    pub target: Array1<T>,
    /// One name per column of `data`, as scikit-learn names them.
    pub feature_names: Vec<String>,
    /// The name of each class label (`target_names[k]` for label `k`); empty for regression.
    pub target_names: Vec<String>,
}

impl<F, T> Dataset<F, T> {
    /// Rows of `data`.
    pub fn n_samples(&self) -> usize {
        self.data.nrows()
    }

    /// Columns of `data`.
    pub fn n_features(&self) -> usize {
        self.data.ncols()
    }
}

impl Dataset<f64, i64> {
    /// The same dataset with the data rounded to f32 (labels unchanged).
    pub fn into_f32(self) -> Dataset<f32, i64> {
        Dataset {
            data: self.data.mapv(|v| v as f32),
            target: self.target,
            feature_names: self.feature_names,
            target_names: self.target_names,
        }
    }
}

impl Dataset<f64, f64> {
    /// The same dataset with the data and the targets rounded to f32.
    pub fn into_f32(self) -> Dataset<f32, f32> {
        Dataset {
            data: self.data.mapv(|v| v as f32),
            target: self.target.mapv(|v| v as f32),
            feature_names: self.feature_names,
            target_names: self.target_names,
        }
    }
}

/// The embedded files of one dataset.
struct Embedded {
    name: &'static str,
    x: &'static [u8],
    y: &'static [u8],
    names: &'static str,
}

macro_rules! embedded {
    ($name:literal) => {
        Embedded {
            name: $name,
            x: include_bytes!(concat!("../../data/", $name, "_x.npy")),
            y: include_bytes!(concat!("../../data/", $name, "_y.npy")),
            names: include_str!(concat!("../../data/", $name, "_names.tsv")),
        }
    };
}

impl Embedded {
    /// Parses the embedded files. They are written by `cargo xtask fixtures` and each loader
    /// is tested, so a failure here is a bug in the repository, never in user input.
    fn load<T: ndarray_npy::ReadableElement>(&self) -> Dataset<f64, T> {
        let name = self.name;
        let data = Array2::<f64>::read_npy(self.x)
            .unwrap_or_else(|e| panic!("bundled {name}_x.npy is not a 2-D f64 array: {e}"));
        let target = Array1::<T>::read_npy(self.y)
            .unwrap_or_else(|e| panic!("bundled {name}_y.npy has not the target type: {e}"));
        let mut lines = self.names.lines();
        let mut split = || -> Vec<String> {
            lines.next().unwrap_or("").split('\t').filter(|s| !s.is_empty()).map(str::to_string).collect()
        };
        let feature_names = split();
        let target_names = split();
        Dataset { data, target, feature_names, target_names }
    }
}

/// Iris (Fisher, 1936): 150 flowers x 4 measurements in cm, 3 species of 50.
pub fn load_iris() -> Dataset<f64, i64> {
    embedded!("iris").load()
}

/// Wine recognition: 178 wines x 13 chemical measurements, 3 cultivars (59, 71, 48).
pub fn load_wine() -> Dataset<f64, i64> {
    embedded!("wine").load()
}

/// Breast cancer Wisconsin (diagnostic): 569 tumours x 30 features; 212 malignant (label 0),
/// 357 benign (label 1).
pub fn load_breast_cancer() -> Dataset<f64, i64> {
    embedded!("breast_cancer").load()
}

/// Optical digits: 1797 images of 8x8 pixels (values 0 to 16) flattened to 64 features,
/// labels 0 to 9 (about 180 each).
pub fn load_digits() -> Dataset<f64, i64> {
    embedded!("digits").load()
}

/// Diabetes: 442 patients x 10 baseline variables (mean-centred and scaled as scikit-learn
/// ships them), target a disease progression measure one year later (25 to 346).
pub fn load_diabetes() -> Dataset<f64, f64> {
    embedded!("diabetes").load()
}
