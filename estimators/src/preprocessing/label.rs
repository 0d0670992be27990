//! Target encoders: `LabelEncoder` (labels to `0..n_classes`) and `LabelBinarizer` (labels to
//! one-vs-all indicator columns), scikit-learn's `sklearn.preprocessing` label transformers for
//! integer labels.
//!
//! The classes are found on the host (a sorted, deduplicated copy of `y`, as scikit-learn's
//! `unique` does); encoding, decoding and binarizing are kernels over the n samples that run
//! where `y` lives and return their result there. Unseen labels are found by a kernel too;
//! only the error path copies them to the host to name them.

use crate::data::{Mat, Matrix, Storage, Vect, Vector};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::Device;
use ndarray::Array1;

/// The index of each label among the sorted `classes` (how many classes are smaller), and the
/// fewest times any label occurs among them (0 when some label is unseen).
#[kernel(crate = kiln_runtime)]
fn encode_labels(y: Array1<i64>, classes: Array1<i64>) -> (Array1<i64>, i64) {
    let n = y.len();
    let k = classes.len();
    let idx = Array1::from_shape_fn(n, |i| sum(0..k, |c| select(classes[[c]] < y[[i]], 1, 0)));
    let found = Array1::from_shape_fn(n, |i| sum(0..k, |c| select(classes[[c]] == y[[i]], 1, 0)));
    (idx, found.min())
}

/// The smallest and largest code.
#[kernel(crate = kiln_runtime)]
fn code_bounds(y: Array1<i64>) -> (i64, i64) {
    (y.min(), y.max())
}

/// `classes[y]` (every code already checked to be in range).
#[kernel(crate = kiln_runtime)]
fn decode_labels(y: Array1<i64>, classes: Array1<i64>) -> Array1<i64> {
    let n = y.len();
    Array1::from_shape_fn(n, |i| classes[[y[[i]]]])
}

/// `pos` where `y[i] == cols[c]`, `neg` elsewhere (n x len(cols)).
#[kernel(crate = kiln_runtime)]
fn indicator(y: Array1<i64>, cols: Array1<i64>, neg: i64, pos: i64) -> Array2<i64> {
    let n = y.len();
    let k = cols.len();
    Array2::from_shape_fn((n, k), |(i, c)| select(y[[i]] == cols[[c]], pos, neg))
}

/// The class of each row's largest score (the first on ties), the index clamped to the last class.
#[kernel(crate = kiln_runtime)]
fn argmax_classes<F: Float>(y: Array2<F>, classes: Array1<i64>) -> Array1<i64> {
    let best = y.argmax_axis(Axis(1));
    let n = best.len();
    let k = classes.len();
    Array1::from_shape_fn(n, |i| classes[[select(best[[i]] < k, best[[i]], k - 1)]])
}

/// `classes[hi]` where the score in column `col` exceeds `threshold`, else `classes[0]`.
#[kernel(crate = kiln_runtime)]
fn threshold_classes<F: Float>(y: Array2<F>, classes: Array1<i64>, col: i64, threshold: F, hi: i64) -> Array1<i64> {
    let n = y.nrows();
    Array1::from_shape_fn(n, |i| classes[[select(y[[i, col]] > threshold, hi, 0)]])
}

/// The sorted distinct values (scikit-learn's `unique` of integer labels).
pub(crate) fn unique(values: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = values.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Labels listed like scikit-learn's messages: `[-3, 5, 7]`.
pub(crate) fn list(labels: &[i64]) -> String {
    let items: Vec<String> = labels.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// The error for labels outside the fitted classes: the distinct unseen labels, sorted.
fn unseen(mut labels: Vec<i64>) -> EstimatorError {
    labels.sort_unstable();
    labels.dedup();
    EstimatorError::InvalidTarget(format!("y contains previously unseen labels: {}", list(&labels)))
}

/// An empty 1-D result where `S` keeps things (scikit-learn returns an empty array for empty input).
fn empty<S: Storage>(device: Device) -> Result<S::Vec<i64>> {
    S::vec_from_host(Array1::zeros(0), device)
}

/// Hyper-parameters of [`LabelEncoder`] (it has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelEncoderParams;

/// A fitted label encoder: the sorted distinct labels (`classes_`), kept where `y` lived.
#[derive(Debug, Clone)]
pub struct LabelEncoder<S: Storage> {
    classes: S::Vec<i64>,
    host: Vec<i64>,
    device: Device,
}

crate::relocate!([] LabelEncoder<@> { classes: vec[c], host: list[c], device: device });

impl LabelEncoder<crate::data::Host> {
    /// The (empty) hyper-parameters.
    pub fn params() -> LabelEncoderParams {
        LabelEncoderParams
    }
}

impl LabelEncoderParams {
    /// Record the sorted distinct labels of `y` (an empty `y` gives no classes, as in
    /// scikit-learn).
    ///
    /// # Errors
    /// `y` not 1-D; kernel or device errors.
    pub fn fit<Y: Vector<i64>>(&self, y: &Y) -> Result<LabelEncoder<Y::Storage>> {
        y.length()?;
        let host = unique(y.to_host()?);
        let device = y.device();
        Ok(LabelEncoder { classes: Y::Storage::vec_from_host(Array1::from(host.clone()), device)?, host, device })
    }

    /// Fit, then encode the same labels.
    ///
    /// # Errors
    /// As [`LabelEncoderParams::fit`].
    pub fn fit_transform<Y: Vector<i64>>(&self, y: &Y) -> Result<Vect<Y::Storage, i64>> {
        self.fit(y)?.transform(y)
    }
}

impl<S: Storage> LabelEncoder<S> {
    /// The sorted distinct labels seen when fitting (`classes_`).
    pub fn classes(&self) -> &S::Vec<i64> {
        &self.classes
    }

    /// Each label's index in [`LabelEncoder::classes`] (`0..n_classes`), where `y` lives.
    ///
    /// # Errors
    /// A label not seen when fitting (scikit-learn's "y contains previously unseen labels");
    /// `y` on another device than the model.
    pub fn transform<Y: Vector<i64>>(&self, y: &Y) -> Result<Vect<Y::Storage, i64>> {
        if y.length()? == 0 {
            return empty::<Y::Storage>(y.device());
        }
        let (idx, fewest) = encode_labels::tensors(y.arg(), S::vec_arg(&self.classes))?;
        if fewest.item()? == 0 {
            let known = &self.host;
            return Err(unseen(y.to_host()?.iter().copied().filter(|v| known.binary_search(v).is_err()).collect()));
        }
        Y::Storage::vec(idx)
    }

    /// The label of each code (`classes_[y]`), where `y` lives.
    ///
    /// # Errors
    /// A code outside `0..n_classes` (scikit-learn's "y contains previously unseen labels");
    /// `y` on another device than the model.
    pub fn inverse_transform<Y: Vector<i64>>(&self, y: &Y) -> Result<Vect<Y::Storage, i64>> {
        if y.length()? == 0 {
            return empty::<Y::Storage>(y.device());
        }
        let (lo, hi) = code_bounds::tensors(y.arg())?;
        let k = self.host.len() as i64;
        if lo.item()? < 0 || hi.item()? >= k {
            return Err(unseen(y.to_host()?.iter().copied().filter(|v| !(0..k).contains(v)).collect()));
        }
        Y::Storage::vec(decode_labels::tensors(y.arg(), S::vec_arg(&self.classes))?)
    }

    /// The device the classes live on (the default device for host labels).
    pub fn device(&self) -> Device {
        self.device
    }
}

/// What `y` looked like when a [`LabelBinarizer`] was fitted (scikit-learn's `y_type_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum TargetType {
    /// At most two distinct labels (`"binary"`): one output column.
    Binary,
    /// Three or more distinct labels (`"multiclass"`): one column per class.
    Multiclass,
}

/// Hyper-parameters of [`LabelBinarizer`] (scikit-learn's defaults: `neg_label = 0`,
/// `pos_label = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabelBinarizerParams {
    neg_label: i64,
    pos_label: i64,
}

impl Default for LabelBinarizerParams {
    fn default() -> Self {
        LabelBinarizerParams { neg_label: 0, pos_label: 1 }
    }
}

/// A fitted label binarizer: the sorted classes (`classes_`, kept where `y` lived), the target
/// type and the two output values.
#[derive(Debug, Clone)]
pub struct LabelBinarizer<S: Storage> {
    classes: S::Vec<i64>,
    host: Vec<i64>,
    y_type: TargetType,
    params: LabelBinarizerParams,
    device: Device,
}

crate::relocate!([] LabelBinarizer<@> { classes: vec[c], host: list[c], y_type, params, device: device });

impl LabelBinarizer<crate::data::Host> {
    /// The default hyper-parameters: `neg_label = 0`, `pos_label = 1`.
    pub fn params() -> LabelBinarizerParams {
        LabelBinarizerParams::default()
    }
}

impl LabelBinarizerParams {
    /// The value of the other classes' cells (`neg_label`).
    pub fn neg_label(mut self, neg_label: i64) -> Self {
        self.neg_label = neg_label;
        self
    }

    /// The value of a sample's own class cell (`pos_label`, greater than `neg_label`).
    pub fn pos_label(mut self, pos_label: i64) -> Self {
        self.pos_label = pos_label;
        self
    }

    /// Record the sorted classes of `y` and whether it is binary or multiclass.
    ///
    /// # Errors
    /// `neg_label >= pos_label`; an empty or not 1-D `y`; device errors.
    pub fn fit<Y: Vector<i64>>(&self, y: &Y) -> Result<LabelBinarizer<Y::Storage>> {
        if self.neg_label >= self.pos_label {
            return Err(EstimatorError::param(
                "LabelBinarizer",
                "neg_label",
                format!("strictly less than pos_label={}", self.pos_label),
                self.neg_label,
            ));
        }
        if y.length()? == 0 {
            return Err(EstimatorError::InvalidTarget("y has 0 samples".into()));
        }
        let host = unique(y.to_host()?);
        let y_type = if host.len() <= 2 { TargetType::Binary } else { TargetType::Multiclass };
        let device = y.device();
        let classes = Y::Storage::vec_from_host(Array1::from(host.clone()), device)?;
        Ok(LabelBinarizer { classes, host, y_type, params: *self, device })
    }

    /// Fit, then binarize the same labels.
    ///
    /// # Errors
    /// As [`LabelBinarizerParams::fit`].
    pub fn fit_transform<Y: Vector<i64>>(&self, y: &Y) -> Result<Mat<Y::Storage, i64>> {
        self.fit(y)?.transform(y)
    }
}

impl<S: Storage> LabelBinarizer<S> {
    /// The sorted classes seen when fitting (`classes_`).
    pub fn classes(&self) -> &S::Vec<i64> {
        &self.classes
    }

    /// Binary (at most two classes) or multiclass (`y_type_`).
    pub fn y_type(&self) -> TargetType {
        self.y_type
    }

    /// The value of the other classes' cells (`neg_label`).
    pub fn neg_label(&self) -> i64 {
        self.params.neg_label
    }

    /// The value of a sample's own class cell (`pos_label`).
    pub fn pos_label(&self) -> i64 {
        self.params.pos_label
    }

    /// One column per class (`pos_label` in a sample's own class, `neg_label` elsewhere; a
    /// label not among the classes gets a row of `neg_label`), or, for two classes, the one
    /// column of the second class. As in scikit-learn, the layout follows the labels given:
    /// with one fitted class, binary labels give a column of `neg_label`; with one or two
    /// fitted classes, labels of three or more distinct values give one column per class.
    ///
    /// # Errors
    /// An empty or not 1-D `y`; `y` on another device than the model.
    pub fn transform<Y: Vector<i64>>(&self, y: &Y) -> Result<Mat<Y::Storage, i64>> {
        if y.length()? == 0 {
            return Err(EstimatorError::InvalidTarget("y has 0 samples".into()));
        }
        let (neg, pos) = (self.params.neg_label, self.params.pos_label);
        let k = self.host.len();
        // scikit-learn decides the layout by the type of the y given (at most two distinct
        // values: binary); only one or two classes need that count.
        let y_binary = k > 2 || unique(y.to_host()?).len() <= 2;
        let z = match (k, y_binary) {
            (1, true) => {
                let cols = S::vec_from_host(Array1::from(vec![self.host[0]]), self.device)?;
                indicator::tensors(y.arg(), S::vec_arg(&cols), neg, neg)?
            }
            (2, true) => {
                let cols = S::vec_from_host(Array1::from(vec![self.host[1]]), self.device)?;
                indicator::tensors(y.arg(), S::vec_arg(&cols), neg, pos)?
            }
            _ => indicator::tensors(y.arg(), S::vec_arg(&self.classes), neg, pos)?,
        };
        Y::Storage::mat(z)
    }

    /// The labels back from indicator scores `y` (n x columns): for multiclass, the class of
    /// each row's largest score; for binary, the second class where the score exceeds the
    /// midpoint of `neg_label` and `pos_label`, else the first.
    ///
    /// # Errors
    /// As [`LabelBinarizer::inverse_transform_threshold`].
    pub fn inverse_transform<F: Real, X: Matrix<F>>(&self, y: &X) -> Result<Vect<X::Storage, i64>> {
        let mid = (self.params.pos_label as f64 + self.params.neg_label as f64) / 2.0;
        self.inverse_transform_threshold(y, mid)
    }

    /// [`LabelBinarizer::inverse_transform`] with the binary case's `threshold` given (0 for
    /// a `decision_function`, 0.5 for probabilities); multiclass ignores it.
    ///
    /// # Errors
    /// `y` not 2-D, or, for binary, with no column or more than two (two columns with one
    /// fitted class); `y` on another device than the model.
    pub fn inverse_transform_threshold<F: Real, X: Matrix<F>>(
        &self,
        y: &X,
        threshold: f64,
    ) -> Result<Vect<X::Storage, i64>> {
        let (n, cols) = y.dims()?;
        let k = self.host.len();
        if self.y_type == TargetType::Multiclass {
            if cols == 0 {
                return Err(EstimatorError::Shape(format!("y has shape ({n}, 0): no score columns")));
            }
            return X::Storage::vec(argmax_classes::tensors::<F>(y.arg(), S::vec_arg(&self.classes))?);
        }
        if cols == 0 || cols > 2 {
            return Err(EstimatorError::Shape(format!("output_type='binary', but y.shape = ({n}, {cols})")));
        }
        if cols == 2 && k == 1 {
            return Err(EstimatorError::Shape(format!(
                "y has 2 columns but the binarizer was fitted with a single class ({})",
                self.host[0]
            )));
        }
        let (col, hi) = (cols as i64 - 1, if k == 1 { 0 } else { 1 });
        let z = threshold_classes::tensors::<F>(y.arg(), S::vec_arg(&self.classes), col, F::from_f64(threshold), hi)?;
        X::Storage::vec(z)
    }
}
