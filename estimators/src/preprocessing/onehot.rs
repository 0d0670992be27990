//! `OneHotEncoder`: integer-coded categorical features to one indicator column per category
//! (scikit-learn's `sklearn.preprocessing.OneHotEncoder` with `sparse_output=False`).
//!
//! Fitting finds each feature's sorted distinct codes on the host (scikit-learn's `_unique`),
//! groups infrequent categories (`min_frequency`, `max_categories`) and decides the dropped
//! column (`drop`) exactly as scikit-learn's `_identify_infrequent` and `_set_drop_idx` do. What
//! a transform needs is two small tables kept where the codes lived: the categories of each
//! feature padded to one width, and the output column each category lands in (-1 for a dropped
//! one). Transform is then two kernels over the rows: a lookup of each code among its feature's
//! categories (the output column, or what an unknown code becomes), and the expansion of those
//! columns into the dense 0/1 matrix in the requested float type. `inverse_transform` is one
//! kernel too (the first largest entry of each feature's block, as scikit-learn's `argmax`).
//!
//! Codes are non-negative integers (category codes). Two negative values stand for what
//! scikit-learn's object output holds where an integer cannot: [`OneHotEncoder::UNKNOWN`]
//! (scikit-learn's `None`, an all-zero block) and [`OneHotEncoder::INFREQUENT`]
//! (`"infrequent_sklearn"`).

use crate::data::{check_features, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::Device;
use ndarray::{Array1, Array2, Ix2};

/// Each code's output column: its position among its feature's (padded, sorted) categories
/// mapped through `colmap`, or `unknown[j]` when the code is not a category. Also the smallest
/// code (negative codes are refused) and the smallest column (-2 marks an unknown code that is
/// an error).
#[kernel(crate = kiln_runtime)]
pub(crate) fn ohe_lookup(
    x: Array2<i64>,
    cats: Array2<i64>,
    colmap: Array2<i64>,
    unknown: Array1<i64>,
) -> (Array2<i64>, i64, i64) {
    let (n, d) = (x.nrows(), x.ncols());
    let k = cats.ncols();
    let below = Array2::from_shape_fn((n, d), |(i, j)| sum(0..k, |c| select(cats[[j, c]] < x[[i, j]], 1, 0)));
    let hits = Array2::from_shape_fn((n, d), |(i, j)| sum(0..k, |c| select(cats[[j, c]] == x[[i, j]], 1, 0)));
    let m = Array2::from_shape_fn((n, d), |(i, j)| {
        select(hits[[i, j]] > 0, colmap[[j, select(below[[i, j]] < k, below[[i, j]], k - 1) as usize]], unknown[[j]])
    });
    (m, x.min(), m.min())
}

/// The dense one-hot matrix: 1 in column `c` of row `i` where row `i`'s code of feature
/// `feat[c]` maps to column `c`.
#[kernel(crate = kiln_runtime)]
fn ohe_expand<F: Float>(m: Array2<i64>, feat: Array1<i64>, col: Array1<i64>) -> Array2<F> {
    let n = m.nrows();
    let k = feat.len();
    Array2::from_shape_fn((n, k), |(i, c)| (m[[i, feat[[c]] as usize]] == col[[c]]) as F)
}

/// The inverse: for each feature, the value at the first largest entry of its block of columns
/// (`block[j, t]` lists the block's columns, -1 past its width; `value[j, t]` the category of
/// each), `zero_value[j]` where the block sums to 0 (a dropped or unknown category), and the
/// count of all-zero blocks whose `zero_value` is -3 (rows that cannot be inverted).
#[kernel(crate = kiln_runtime)]
fn ohe_inverse<F: Float>(
    x: Array2<F>,
    block: Array2<i64>,
    value: Array2<i64>,
    zero_value: Array1<i64>,
) -> (Array2<i64>, i64) {
    let n = x.nrows();
    let (d, w) = (block.nrows(), block.ncols());
    let top = Array2::from_shape_fn((n, d), |(i, j)| {
        max(0..w, |t| {
            select(block[[j, t]] >= 0, x[[i, select(block[[j, t]] >= 0, block[[j, t]], 0) as usize]], F::neg_infinity())
        })
    });
    let total = Array2::from_shape_fn((n, d), |(i, j)| {
        sum(0..w, |t| select(block[[j, t]] >= 0, x[[i, select(block[[j, t]] >= 0, block[[j, t]], 0) as usize]], 0.0))
    });
    let first = Array2::from_shape_fn((n, d), |(i, j)| {
        min(0..w, |t| {
            select(
                block[[j, t]] >= 0 && x[[i, select(block[[j, t]] >= 0, block[[j, t]], 0) as usize]] == top[[i, j]],
                t as i64,
                w as i64,
            )
        })
    });
    let out = Array2::from_shape_fn((n, d), |(i, j)| {
        select(
            total[[i, j]] == 0.0,
            zero_value[[j]],
            value[[j, select(first[[i, j]] < w as i64, first[[i, j]], 0) as usize]],
        )
    });
    let bad = sum(0..n, |i| sum(0..d, |j| select(out[[i, j]] == -3, 1, 0)));
    (out, bad)
}

/// What `transform` does with a code it did not see when fitting (`handle_unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum HandleUnknown {
    /// Refuse it (`"error"`, scikit-learn's default).
    #[default]
    Error,
    /// Encode it as all zeros (`"ignore"`).
    Ignore,
    /// Encode it as the feature's infrequent category when it has one, else as all zeros
    /// (`"infrequent_if_exist"`).
    InfrequentIfExist,
}

/// Which category of each feature gets no column (`drop`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DropCategory {
    /// Keep every category (`None`, scikit-learn's default).
    #[default]
    None,
    /// Drop the first category of every feature (`"first"`).
    First,
    /// Drop the first category of features with exactly two (`"if_binary"`).
    IfBinary,
    /// Drop the given category of each feature (an array of one value per feature).
    Values(Vec<i64>),
}

/// The smallest count a category needs not to be infrequent (`min_frequency`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinFrequency {
    /// An absolute count (an integer >= 1).
    Count(usize),
    /// A fraction of the samples (a float in (0, 1)).
    Fraction(f64),
}

impl From<usize> for MinFrequency {
    fn from(n: usize) -> Self {
        MinFrequency::Count(n)
    }
}
impl From<i32> for MinFrequency {
    fn from(n: i32) -> Self {
        MinFrequency::Count(usize::try_from(n).unwrap_or(0))
    }
}
impl From<f64> for MinFrequency {
    fn from(f: f64) -> Self {
        MinFrequency::Fraction(f)
    }
}

/// Hyper-parameters of [`OneHotEncoder`] (scikit-learn's defaults: categories "auto", no drop,
/// unknown categories an error, no infrequent grouping).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OneHotEncoderParams {
    categories: Option<Vec<Vec<i64>>>,
    drop: DropCategory,
    handle_unknown: HandleUnknown,
    min_frequency: Option<MinFrequency>,
    max_categories: Option<usize>,
}

/// A fitted one-hot encoder. The categories and the grouping are kept on the host (they are
/// small); the lookup tables transform uses are kept where the codes lived (`S`).
#[derive(Debug, Clone)]
pub struct OneHotEncoder<S: Storage> {
    categories: Vec<Array1<i64>>,
    infrequent: Vec<Option<Vec<usize>>>,
    /// Per feature: the group of each category (identity without infrequent categories).
    groups: Vec<Vec<usize>>,
    /// Per feature: the dropped group, after grouping.
    drop_after: Option<Vec<Option<usize>>>,
    n_features_outs: Vec<usize>,
    handle_unknown: HandleUnknown,
    cats_table: S::Mat<i64>,
    colmap_table: S::Mat<i64>,
    unknown_table: S::Vec<i64>,
    feat_table: S::Vec<i64>,
    col_table: S::Vec<i64>,
    device: Device,
}

crate::relocate!([] OneHotEncoder<@> { categories: list[f], infrequent: list[f], groups: list[f], drop_after, n_features_outs: list[f], handle_unknown, cats_table: mat, colmap_table: mat, unknown_table: vec, feat_table: vec, col_table: vec, device: device });

impl OneHotEncoder<crate::data::Host> {
    /// The default hyper-parameters.
    pub fn params() -> OneHotEncoderParams {
        OneHotEncoderParams::default()
    }
}

/// The numpy spelling of a list of integers: `[1 5 7]`.
fn np_list(values: &[i64]) -> String {
    let items: Vec<String> = values.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(" "))
}

/// scikit-learn's `_identify_infrequent`: the indices of the infrequent categories, or `None`.
fn identify_infrequent(
    counts: &[usize],
    n_samples: usize,
    min_frequency: Option<MinFrequency>,
    max_categories: Option<usize>,
) -> Option<Vec<usize>> {
    let mut mask: Vec<bool> = match min_frequency {
        Some(MinFrequency::Count(m)) => counts.iter().map(|&c| c < m).collect(),
        Some(MinFrequency::Fraction(f)) => counts.iter().map(|&c| (c as f64) < n_samples as f64 * f).collect(),
        None => vec![false; counts.len()],
    };
    let n_current = counts.len() - mask.iter().filter(|&&m| m).count() + 1;
    if let Some(max) = max_categories {
        if max < n_current {
            let frequent = max - 1;
            if frequent == 0 {
                mask.iter_mut().for_each(|m| *m = true);
            } else {
                // A stable sort by count keeps the original order among equal counts.
                let mut order: Vec<usize> = (0..counts.len()).collect();
                order.sort_by_key(|&i| counts[i]);
                for &i in &order[..counts.len().saturating_sub(frequent)] {
                    mask[i] = true;
                }
            }
        }
    }
    let out: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
    (!out.is_empty()).then_some(out)
}

impl OneHotEncoderParams {
    /// The categories of each feature, sorted and distinct (`categories`; default "auto": the
    /// codes seen when fitting).
    pub fn categories(mut self, categories: Vec<Vec<i64>>) -> Self {
        self.categories = Some(categories);
        self
    }

    /// Which category of each feature gets no column (`drop`).
    pub fn drop(mut self, drop: DropCategory) -> Self {
        self.drop = drop;
        self
    }

    /// What transform does with codes not seen when fitting (`handle_unknown`).
    pub fn handle_unknown(mut self, handle_unknown: HandleUnknown) -> Self {
        self.handle_unknown = handle_unknown;
        self
    }

    /// Categories seen fewer times are grouped into one infrequent category
    /// (`min_frequency`: a count `>= 1` or a fraction of the samples in (0, 1)).
    pub fn min_frequency(mut self, min_frequency: impl Into<MinFrequency>) -> Self {
        self.min_frequency = Some(min_frequency.into());
        self
    }

    /// At most this many output columns per feature, the infrequent one included
    /// (`max_categories`, >= 1).
    pub fn max_categories(mut self, max_categories: usize) -> Self {
        self.max_categories = Some(max_categories);
        self
    }

    fn validate(&self) -> Result<()> {
        const E: &str = "OneHotEncoder";
        match self.min_frequency {
            Some(MinFrequency::Count(0)) => {
                return Err(EstimatorError::param(
                    E,
                    "min_frequency",
                    "an int in the range [1, inf), a float in the range (0.0, 1.0) or None",
                    0,
                ))
            }
            Some(MinFrequency::Fraction(f)) if !(f > 0.0 && f < 1.0) => {
                return Err(EstimatorError::param(
                    E,
                    "min_frequency",
                    "an int in the range [1, inf), a float in the range (0.0, 1.0) or None",
                    f,
                ))
            }
            _ => {}
        }
        if self.max_categories == Some(0) {
            return Err(EstimatorError::param(E, "max_categories", "an int in the range [1, inf) or None", 0));
        }
        Ok(())
    }

    /// Find the categories of each feature of `codes` (non-negative integer codes, n_samples x
    /// n_features), group the infrequent ones and decide the dropped columns.
    ///
    /// # Errors
    /// Bad hyper-parameters; empty or negative codes; given categories of the wrong count,
    /// unsorted or duplicated; codes outside given categories with `handle_unknown = Error`
    /// ("Found unknown categories [..] in column j during fit"); a `drop` value that is not a
    /// category or is infrequent; kernel or device errors.
    pub fn fit<X: Matrix<i64>>(&self, codes: &X) -> Result<OneHotEncoder<X::Storage>> {
        self.validate()?;
        let (n, d) = codes.dims()?;
        if n == 0 || d == 0 {
            return Err(EstimatorError::EmptyInput {
                estimator: "OneHotEncoder",
                n_samples: n,
                n_features: d,
                min_samples: 1,
            });
        }
        let host = codes.to_host()?;
        if let Some((j, v)) = first_negative(&host) {
            return Err(negative_code(v, j));
        }
        if let Some(given) = &self.categories {
            if given.len() != d {
                return Err(EstimatorError::Shape(
                    "Shape mismatch: if categories is an array, it has to be of shape (n_features,).".into(),
                ));
            }
        }
        let mut categories = Vec::with_capacity(d);
        let mut counts = Vec::with_capacity(d);
        for (j, column) in host.columns().into_iter().enumerate() {
            let mut sorted: Vec<i64> = column.to_vec();
            sorted.sort_unstable();
            let given = self.categories.as_ref().map(|g| g[j].as_slice());
            let cats =
                column_categories("OneHotEncoder", j, &sorted, given, self.handle_unknown == HandleUnknown::Error)?;
            let count: Vec<usize> =
                cats.iter().map(|c| sorted.partition_point(|v| v <= c) - sorted.partition_point(|v| v < c)).collect();
            categories.push(cats);
            counts.push(count);
        }
        let infrequent_enabled = self.min_frequency.is_some() || self.max_categories.is_some();
        let infrequent: Vec<Option<Vec<usize>>> = counts
            .iter()
            .map(|c| {
                if infrequent_enabled {
                    identify_infrequent(c, n, self.min_frequency, self.max_categories)
                } else {
                    None
                }
            })
            .collect();
        // scikit-learn's `_default_to_infrequent_mappings`: frequent categories keep their
        // order, the infrequent ones share the last group.
        let groups: Vec<Vec<usize>> = categories
            .iter()
            .zip(&infrequent)
            .map(|(cats, inf)| match inf {
                None => (0..cats.len()).collect(),
                Some(inf) => {
                    let n_frequent = cats.len() - inf.len();
                    let mut next = 0;
                    (0..cats.len())
                        .map(|c| {
                            if inf.binary_search(&c).is_ok() {
                                n_frequent
                            } else {
                                next += 1;
                                next - 1
                            }
                        })
                        .collect()
                }
            })
            .collect();
        let n_groups: Vec<usize> = groups.iter().map(|g| g.iter().max().map_or(0, |m| m + 1)).collect();
        let drop_after: Option<Vec<Option<usize>>> = match &self.drop {
            DropCategory::None => None,
            DropCategory::First => Some(vec![Some(0); d]),
            DropCategory::IfBinary => Some(n_groups.iter().map(|&g| (g == 2).then_some(0)).collect()),
            DropCategory::Values(values) => {
                if values.len() != d {
                    return Err(EstimatorError::Shape(format!(
                        "`drop` should have length equal to the number of features ({d}), got {}",
                        values.len()
                    )));
                }
                let mut missing = Vec::new();
                let mut out = Vec::with_capacity(d);
                for (j, (&v, cats)) in values.iter().zip(&categories).enumerate() {
                    match cats.iter().position(|&c| c == v) {
                        Some(c) => {
                            if infrequent[j].as_ref().is_some_and(|inf| inf.contains(&c)) {
                                return Err(EstimatorError::InvalidParameter {
                                    estimator: "OneHotEncoder",
                                    name: "drop",
                                    expected: "frequent categories".into(),
                                    got: format!(
                                        "Unable to drop category {v} from feature {j} because it is infrequent"
                                    ),
                                });
                            }
                            out.push(Some(groups[j][c]));
                        }
                        None => missing.push(format!("Category: {v}, Feature: {j}")),
                    }
                }
                if !missing.is_empty() {
                    return Err(EstimatorError::InvalidParameter {
                        estimator: "OneHotEncoder",
                        name: "drop",
                        expected: "categories seen in the training data".into(),
                        got: format!(
                            "The following categories were supposed to be dropped, but were not found in the training data.\n{}",
                            missing.join("\n")
                        ),
                    });
                }
                Some(out)
            }
        };
        let n_features_outs: Vec<usize> =
            (0..d).map(|j| n_groups[j] - usize::from(drop_after.as_ref().is_some_and(|dr| dr[j].is_some()))).collect();
        let categories: Vec<Array1<i64>> = categories.into_iter().map(Array1::from).collect();
        build(categories, infrequent, groups, drop_after, n_features_outs, self.handle_unknown, codes.device())
    }

    /// Fit, then encode the same codes.
    ///
    /// # Errors
    /// As [`OneHotEncoderParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<i64>>(&self, codes: &X) -> Result<Mat<X::Storage, F>> {
        self.fit(codes)?.transform(codes)
    }
}

/// The categories of feature `j` from its sorted codes: the distinct codes (`"auto"`), or the
/// `given` ones checked as scikit-learn's `_fit` checks them (non-empty, distinct, sorted; with
/// `error_unknown`, every code among them). Shared by the integer-code encoders.
pub(crate) fn column_categories(
    estimator: &'static str,
    j: usize,
    sorted: &[i64],
    given: Option<&[i64]>,
    error_unknown: bool,
) -> Result<Vec<i64>> {
    Ok(match given {
        None => crate::preprocessing::label::unique(sorted.iter().copied()),
        Some(given) => {
            let cats = given.to_vec();
            if cats.is_empty() {
                return Err(EstimatorError::InvalidParameter {
                    estimator,
                    name: "categories",
                    expected: "a non-empty list of categories per feature".into(),
                    got: format!("an empty list in column {j}"),
                });
            }
            if cats.windows(2).any(|w| w[0] == w[1])
                || crate::preprocessing::label::unique(cats.iter().copied()).len() != cats.len()
            {
                return Err(EstimatorError::Shape(format!(
                    "In column {j}, the predefined categories contain duplicate elements."
                )));
            }
            if cats.windows(2).any(|w| w[0] > w[1]) {
                return Err(EstimatorError::Shape(
                    "Unsorted categories are not supported for numerical categories".into(),
                ));
            }
            if error_unknown {
                let diff: Vec<i64> = crate::preprocessing::label::unique(
                    sorted.iter().copied().filter(|v| cats.binary_search(v).is_err()),
                );
                if !diff.is_empty() {
                    return Err(EstimatorError::InvalidTarget(format!(
                        "Found unknown categories {} in column {j} during fit",
                        np_list(&diff)
                    )));
                }
            }
            cats
        }
    })
}

fn first_negative(host: &Array2<i64>) -> Option<(usize, i64)> {
    host.indexed_iter().filter(|(_, &v)| v < 0).map(|((_, j), &v)| (j, v)).min_by_key(|&(j, _)| j)
}

fn negative_code(v: i64, j: usize) -> EstimatorError {
    EstimatorError::InvalidTarget(format!(
        "OneHotEncoder takes non-negative integer category codes; got {v} in column {j}"
    ))
}

/// The fitted encoder with its device tables.
fn build<S: Storage>(
    categories: Vec<Array1<i64>>,
    infrequent: Vec<Option<Vec<usize>>>,
    groups: Vec<Vec<usize>>,
    drop_after: Option<Vec<Option<usize>>>,
    n_features_outs: Vec<usize>,
    handle_unknown: HandleUnknown,
    device: Device,
) -> Result<OneHotEncoder<S>> {
    let d = categories.len();
    let width = categories.iter().map(Array1::len).max().unwrap_or(1).max(1);
    let mut cats = Array2::from_elem((d, width), i64::MAX);
    let mut colmap = Array2::from_elem((d, width), -1i64);
    let mut unknown = Array1::from_elem(d, -1i64);
    let mut feat = Vec::new();
    let mut col = Vec::new();
    let mut offset = 0i64;
    for j in 0..d {
        let dropped = drop_after.as_ref().and_then(|dr| dr[j]);
        let out_col = |g: usize| -> i64 {
            match dropped {
                Some(dg) if dg == g => -1,
                Some(dg) if g > dg => offset + g as i64 - 1,
                _ => offset + g as i64,
            }
        };
        for (c, &v) in categories[j].iter().enumerate() {
            cats[[j, c]] = v;
            colmap[[j, c]] = out_col(groups[j][c]);
        }
        unknown[j] = match handle_unknown {
            HandleUnknown::Error => -2,
            HandleUnknown::Ignore => -1,
            HandleUnknown::InfrequentIfExist => match &infrequent[j] {
                Some(inf) => out_col(groups[j][inf[0]]),
                None => -1,
            },
        };
        for t in 0..n_features_outs[j] {
            feat.push(j as i64);
            col.push(offset + t as i64);
        }
        offset += n_features_outs[j] as i64;
    }
    Ok(OneHotEncoder {
        cats_table: S::mat_from_host(cats, device)?,
        colmap_table: S::mat_from_host(colmap, device)?,
        unknown_table: S::vec_from_host(unknown, device)?,
        feat_table: S::vec_from_host(Array1::from(feat), device)?,
        col_table: S::vec_from_host(Array1::from(col), device)?,
        categories,
        infrequent,
        groups,
        drop_after,
        n_features_outs,
        handle_unknown,
        device,
    })
}

impl<S: Storage> OneHotEncoder<S> {
    /// What [`OneHotEncoder::inverse_transform`] returns for an all-zero block that stands for
    /// no category (scikit-learn's `None`).
    pub const UNKNOWN: i64 = -1;
    /// What [`OneHotEncoder::inverse_transform`] returns for a feature's infrequent column
    /// (scikit-learn's `"infrequent_sklearn"`).
    pub const INFREQUENT: i64 = -2;

    /// The categories of each feature, sorted (`categories_`).
    pub fn categories(&self) -> &[Array1<i64>] {
        &self.categories
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.categories.len()
    }

    /// The index in `categories()[j]` of each feature's dropped category (`drop_idx_`): `None`
    /// without `drop`; per feature `None` where nothing is dropped. A dropped infrequent group
    /// is named by its first category.
    pub fn drop_idx(&self) -> Option<Vec<Option<usize>>> {
        self.drop_after.as_ref().map(|dr| {
            dr.iter().enumerate().map(|(j, g)| g.and_then(|g| self.groups[j].iter().position(|&x| x == g))).collect()
        })
    }

    /// The infrequent categories of each feature (`infrequent_categories_`; `None` for a
    /// feature without any).
    pub fn infrequent_categories(&self) -> Vec<Option<Array1<i64>>> {
        self.infrequent
            .iter()
            .zip(&self.categories)
            .map(|(inf, cats)| inf.as_ref().map(|inf| inf.iter().map(|&c| cats[c]).collect()))
            .collect()
    }

    /// The number of output columns.
    pub fn n_features_out(&self) -> usize {
        self.n_features_outs.iter().sum()
    }

    /// The names of the output columns (`get_feature_names_out`): `"{feature}_{category}"`,
    /// `"{feature}_infrequent_sklearn"` for an infrequent group; features are named
    /// `x0, x1, ..` unless `input_features` names them.
    ///
    /// # Errors
    /// `input_features` of another length than the feature count.
    pub fn get_feature_names_out(&self, input_features: Option<&[&str]>) -> Result<Vec<String>> {
        let d = self.categories.len();
        if let Some(names) = input_features {
            if names.len() != d {
                return Err(EstimatorError::Shape(format!(
                    "input_features should have length equal to number of features ({d}), got {}",
                    names.len()
                )));
            }
        }
        let mut out = Vec::new();
        for j in 0..d {
            let feature = input_features.map_or_else(|| format!("x{j}"), |f| f[j].to_string());
            let n_groups = self.groups[j].iter().max().map_or(0, |m| m + 1);
            let dropped = self.drop_after.as_ref().and_then(|dr| dr[j]);
            for g in 0..n_groups {
                if dropped == Some(g) {
                    continue;
                }
                let is_infrequent = self.infrequent[j].as_ref().is_some_and(|inf| self.groups[j][inf[0]] == g);
                if is_infrequent {
                    out.push(format!("{feature}_infrequent_sklearn"));
                } else {
                    let c = self.groups[j].iter().position(|&x| x == g).unwrap_or(0);
                    out.push(format!("{feature}_{}", self.categories[j][c]));
                }
            }
        }
        Ok(out)
    }

    /// The one-hot encoding of `codes` as floats of type `F` (scikit-learn's default dtype is
    /// float64: `let z: Array2<f64> = ohe.transform(&codes)?`), where `codes` lives.
    ///
    /// # Errors
    /// A different feature count than at fit time; negative codes; unknown codes with
    /// `handle_unknown = Error` ("Found unknown categories [..] in column j during
    /// transform"); codes on another device than the model; kernel errors.
    pub fn transform<F: Real, X: Matrix<i64>>(&self, codes: &X) -> Result<Mat<X::Storage, F>> {
        let (_, d) = codes.dims()?;
        check_features("OneHotEncoder", self.categories.len(), d)?;
        self.check_device(codes.device())?;
        let (m, min_code, min_col) = ohe_lookup::tensors(
            codes.arg(),
            S::mat_arg(&self.cats_table),
            S::mat_arg(&self.colmap_table),
            S::vec_arg(&self.unknown_table),
        )?;
        let (min_code, min_col) = (min_code.item()?, min_col.item()?);
        if min_code < 0 || min_col == -2 {
            return Err(self.transform_error(&codes.to_host()?));
        }
        let out = ohe_expand::tensors::<F>(
            kiln_runtime::tensor_arg::<i64, Ix2>(&m),
            S::vec_arg(&self.feat_table),
            S::vec_arg(&self.col_table),
        )?;
        X::Storage::mat(out)
    }

    fn check_device(&self, device: Device) -> Result<()> {
        if device != self.device {
            return Err(EstimatorError::Device(format!(
                "the input is on {device:?} but the OneHotEncoder was fitted on {:?}",
                self.device
            )));
        }
        Ok(())
    }

    /// The error of a transform that found a negative or unknown code (the host copy names it).
    fn transform_error(&self, host: &Array2<i64>) -> EstimatorError {
        if let Some((j, v)) = first_negative(host) {
            return negative_code(v, j);
        }
        for (j, column) in host.columns().into_iter().enumerate() {
            let cats = self.categories[j].as_slice().unwrap_or(&[]);
            let diff =
                crate::preprocessing::label::unique(column.iter().copied().filter(|v| cats.binary_search(v).is_err()));
            if !diff.is_empty() {
                return EstimatorError::InvalidTarget(format!(
                    "Found unknown categories {} in column {j} during transform",
                    np_list(&diff)
                ));
            }
        }
        EstimatorError::InvalidTarget("Found unknown categories during transform".into())
    }

    /// The codes of a one-hot matrix (`inverse_transform`): per feature the category of the
    /// first largest entry of its block; an all-zero block is the dropped category where there
    /// is one, else [`OneHotEncoder::UNKNOWN`] (with `handle_unknown` Ignore, or
    /// InfrequentIfExist for a feature without infrequent categories). The infrequent column
    /// decodes to [`OneHotEncoder::INFREQUENT`].
    ///
    /// # Errors
    /// Another column count than [`OneHotEncoder::n_features_out`] ("Shape of the passed X data
    /// is not correct. Expected .. columns, got .."); all-zero blocks with `drop` None and
    /// `handle_unknown` Error; NaN or infinity; kernel errors.
    pub fn inverse_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, i64>> {
        let (_, k) = x.dims()?;
        let want = self.n_features_out();
        if k != want {
            return Err(EstimatorError::Shape(format!(
                "Shape of the passed X data is not correct. Expected {want} columns, got {k}."
            )));
        }
        crate::data::check_finite(x)?;
        let d = self.categories.len();
        let w = self.n_features_outs.iter().copied().max().unwrap_or(0).max(1);
        let mut block = Array2::from_elem((d, w), -1i64);
        let mut value = Array2::zeros((d, w));
        let mut zero_value = Array1::zeros(d);
        let mut offset = 0i64;
        for j in 0..d {
            let dropped = self.drop_after.as_ref().and_then(|dr| dr[j]);
            let n_groups = self.groups[j].iter().max().map_or(0, |m| m + 1);
            let group_value = |g: usize| -> i64 {
                if self.infrequent[j].as_ref().is_some_and(|inf| self.groups[j][inf[0]] == g) {
                    Self::INFREQUENT
                } else {
                    self.categories[j][self.groups[j].iter().position(|&x| x == g).unwrap_or(0)]
                }
            };
            let mut t = 0;
            for g in (0..n_groups).filter(|&g| Some(g) != dropped) {
                block[[j, t]] = offset + t as i64;
                value[[j, t]] = group_value(g);
                t += 1;
            }
            let unknown_ok = match self.handle_unknown {
                HandleUnknown::Ignore => true,
                HandleUnknown::InfrequentIfExist => self.infrequent[j].is_none(),
                HandleUnknown::Error => false,
            };
            zero_value[j] = match (dropped, unknown_ok) {
                (Some(g), _) => group_value(g),
                (None, true) => Self::UNKNOWN,
                (None, false) => -3,
            };
            offset += t as i64;
        }
        let device = x.device();
        let block = kiln_runtime::Tensor::from_owned(block, device)?;
        let value = kiln_runtime::Tensor::from_owned(value, device)?;
        let zero_value = kiln_runtime::Tensor::from_owned(zero_value, device)?;
        let (out, bad) = ohe_inverse::tensors::<F>(
            x.arg(),
            kiln_runtime::tensor_arg::<i64, Ix2>(&block),
            kiln_runtime::tensor_arg::<i64, Ix2>(&value),
            kiln_runtime::tensor_arg::<i64, ndarray::Ix1>(&zero_value),
        )?;
        if bad.item()? > 0 {
            let host = out.to_array::<Ix2>()?;
            let rows: Vec<i64> = host
                .rows()
                .into_iter()
                .enumerate()
                .filter(|(_, r)| r.iter().any(|&v| v == -3))
                .map(|(i, _)| i as i64)
                .collect();
            return Err(EstimatorError::InvalidTarget(format!(
                "Samples {} can not be inverted when drop=None and handle_unknown='error' because they contain all zeros",
                np_list(&rows)
            )));
        }
        X::Storage::mat(out)
    }
}
