//! Datasets: scikit-learn's bundled toy datasets, `.npy` / `.csv` loaders and seeded generators.
//!
//! * [`load_iris`], [`load_wine`], [`load_breast_cancer`], [`load_digits`], [`load_diabetes`]:
//!   scikit-learn's own copies, exported once by `cargo xtask fixtures` to `estimators/data/*.npy`
//!   and embedded in the library, so they load with no file access and no network.
//! * [`load_npy`], [`load_npy_as`], [`load_csv`]: arrays from files, converted to the requested
//!   element type (an f64 file reads as f32 or f64; integer files read as labels or floats).
//!   The parity tests read scikit-learn's fixtures in `tests/fixtures` with these.
//! * [`MakeBlobs`], [`MakeClassification`], [`MakeRegression`] (and the shorthands [`make_blobs`],
//!   [`make_classification`], [`make_regression`]): scikit-learn's generators, ported in spirit.
//!   They are seeded with [`Xoshiro256`], kiln's own small generator, so a seed gives the same
//!   data on every platform and forever (a dependency upgrade cannot change it). The values
//!   differ from scikit-learn's (another random stream); the distributions are the same.
//! * [`make_tuning_data`]: the regression data of kiln's tuning workload (issue 18).
//!
//! Everything is generic over [`Real`] (f32 and f64). Generators compute in f64 and round once,
//! so the f32 dataset of a seed is the f64 one rounded.

mod bundled;
mod files;
mod generators;
mod npy_header;
mod rng;
mod tuning;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use bundled::{load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine, Dataset};
pub use files::{load_csv, load_npy, load_npy_as, NpyElement};
pub use generators::{make_blobs, make_classification, make_regression, MakeBlobs, MakeClassification, MakeRegression};
pub use npy_header::{check_npy, NpyFormatError, NpyHeader};
pub use rng::Xoshiro256;
pub use tuning::make_tuning_data;

/// The float types datasets are produced in: f32 and f64.
///
/// A local trait (kiln-runtime's `Float` is a marker without arithmetic): it adds the exact
/// conversions the loaders and generators need on top of the kernel element type.
pub trait Real:
    kiln_runtime::Float
    + NpyElement
    + FromStr
    + PartialOrd
    + fmt::Display
    + Default
    + serde::Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The nearest value of this type (rounding for f32).
    fn from_f64(v: f64) -> Self;
    /// The value as f64 (exact).
    fn to_f64(self) -> f64;
    /// Half the distance from 1 to the next value of this type: the largest relative error of
    /// one rounded operation.
    const UNIT_ROUNDOFF: f64;
}

impl Real for f32 {
    const UNIT_ROUNDOFF: f64 = f32::EPSILON as f64 / 2.0;
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// What can go wrong loading or generating a dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The file cannot be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a `.npy` array of a supported element type.
    #[error("{} is not a readable .npy array: {reason}", path.display())]
    Npy {
        /// The file.
        path: PathBuf,
        /// What ndarray-npy reported, or which element types were tried.
        reason: String,
    },
    /// The array has another number of dimensions than asked for.
    #[error("{} holds a {found}-dimensional array, expected {expected} dimensions", path.display())]
    Rank {
        /// The file.
        path: PathBuf,
        /// The dimensions asked for.
        expected: usize,
        /// The dimensions in the file.
        found: usize,
    },
    /// A stored value has no exact equivalent in the requested element type (a fractional or
    /// non-finite float read as i64, an integer out of i64's range).
    #[error("{}: value {value} at flat index {index} is not representable as {dtype}", path.display())]
    Unrepresentable {
        /// The file.
        path: PathBuf,
        /// The value, printed.
        value: String,
        /// Its position in the flattened (C order) array.
        index: usize,
        /// The requested element type.
        dtype: &'static str,
    },
    /// A CSV data line has another number of fields than the first data line.
    #[error("{}: line {line} has {found} fields, expected {expected} like the first data line", path.display())]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: usize,
        /// Fields in the first data line.
        expected: usize,
        /// Fields in this line.
        found: usize,
    },
    /// A CSV field is not a number.
    #[error("{}: line {line}, column {column}: `{field}` is not a number", path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The field as written (trimmed).
        field: String,
    },
    /// The CSV file has no data line.
    #[error("{} has no data rows", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A generator parameter is out of its domain.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter, as scikit-learn names it.
        name: &'static str,
        /// What is wrong, with the value.
        reason: String,
    },
}

/// The result of this module's functions.
pub type Result<T> = std::result::Result<T, DatasetError>;
