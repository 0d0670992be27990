//! `PolynomialFeatures`: all products of features up to a degree, in scikit-learn's column
//! order (bias, the features, then each degree's combinations in lexicographic order, with
//! replacement unless `interaction_only`).
//!
//! The expansion is one kernel: a comprehension over (sample, output column) that multiplies the
//! features an index table names (`cols`, padded and masked by `used`). Each column's factors
//! are listed last feature first, so the product rounds exactly as scikit-learn's incremental
//! `XP[:, (b, c)] * X[:, a]` does.

use crate::alloc::try_zeros;
use crate::data::{check_fitted_x, check_x, Mat, Matrix, Storage};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use ndarray::Array2;
use std::marker::PhantomData;

/// Output column `j` of sample `i`: the product of `x[i, cols[j, l]]` over the slots `l` with
/// `used[j, l] > 0` (1 for the bias column, whose slots are all unused).
#[kernel(crate = kiln_runtime)]
fn poly_expand<F: Float>(x: Array2<F>, cols: Array2<i64>, used: Array2<i64>) -> Array2<F> {
    let (n, _) = x.dim();
    let (m, k) = cols.dim();
    Array2::from_shape_fn((n, m), |(i, j)| prod(0..k, |l| if used[[j, l]] > 0 { x[[i, cols[[j, l]]]] } else { 1.0 }))
}

/// Hyper-parameters of [`PolynomialFeatures`] (scikit-learn's defaults: degree 2, all
/// monomials, with a bias column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolynomialFeaturesParams {
    degree: usize,
    interaction_only: bool,
    include_bias: bool,
}

/// A fitted polynomial feature map: the exponent table (`powers_`, on the host) and the
/// kernel's index tables, kept where the model was fitted.
#[derive(Debug, Clone)]
pub struct PolynomialFeatures<F: Real, S: Storage> {
    powers: Array2<i64>,
    cols: S::Mat<i64>,
    used: S::Mat<i64>,
    n_features: usize,
    _f: PhantomData<F>,
}

crate::relocate!([F: Real] PolynomialFeatures<F, @> { powers, cols: mat, used: mat, n_features, _f });

impl PolynomialFeatures<f64, crate::data::Host> {
    /// The default hyper-parameters: `degree = 2`, `interaction_only = false`,
    /// `include_bias = true`.
    pub fn params() -> PolynomialFeaturesParams {
        PolynomialFeaturesParams { degree: 2, interaction_only: false, include_bias: true }
    }
}

impl PolynomialFeaturesParams {
    /// The maximal degree of the products (`degree`).
    pub fn degree(mut self, degree: usize) -> Self {
        self.degree = degree;
        self
    }

    /// Only products of distinct features, no powers (`interaction_only`).
    pub fn interaction_only(mut self, yes: bool) -> Self {
        self.interaction_only = yes;
        self
    }

    /// Whether the first column is the constant 1 (`include_bias`).
    pub fn include_bias(mut self, yes: bool) -> Self {
        self.include_bias = yes;
        self
    }

    /// Build the column table for `x`'s feature count.
    ///
    /// # Errors
    /// Degree 0 without the bias (an empty output); a degree giving more output columns than
    /// can be indexed; [`EstimatorError::OutOfMemory`] when the column tables do not fit in
    /// memory; empty or non-finite X.
    pub fn fit<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<PolynomialFeatures<F, X::Storage>> {
        if self.degree == 0 && !self.include_bias {
            return Err(EstimatorError::param(
                "PolynomialFeatures",
                "degree",
                "at least 1 when include_bias is false (degree 0 would give an empty output)",
                0,
            ));
        }
        let (_, d) = check_x("PolynomialFeatures", x, 1)?;
        // Products of distinct features have at most d factors, whatever the degree.
        let degree = if self.interaction_only { self.degree.min(d) } else { self.degree };
        let k = degree.max(1);
        // Counted before they are listed: a huge degree is an error, not an endless loop or a
        // table (`powers_` is m x d, the kernel's m x k) too large to allocate (scikit-learn's
        // "too large to be indexed").
        let m = n_output_features(d, degree, self.interaction_only, self.include_bias)
            .filter(|&m| m.checked_mul(k.max(d)).is_some_and(|slots| slots <= isize::MAX as usize / 8))
            .ok_or_else(|| {
                let expected = format!("small enough for {d} input features (too many output features to index)");
                EstimatorError::param("PolynomialFeatures", "degree", expected, self.degree)
            })?;
        // Allocated fallibly: a countable but huge degree is an out-of-memory error.
        let mut powers = try_zeros::<i64>(m, d, "PolynomialFeatures' powers_")?;
        let mut cols = try_zeros::<i64>(m, k, "PolynomialFeatures' column table")?;
        let mut used = try_zeros::<i64>(m, k, "PolynomialFeatures' column table")?;
        let mut j = 0;
        for_each_combination(d, degree, self.interaction_only, self.include_bias, |combo| {
            // Last feature first: the order scikit-learn's incremental products multiply in.
            for (l, &c) in combo.iter().rev().enumerate() {
                powers[[j, c]] += 1;
                cols[[j, l]] = c as i64;
                used[[j, l]] = 1;
            }
            j += 1;
        });
        debug_assert_eq!(j, m);
        let device = x.device();
        Ok(PolynomialFeatures {
            powers,
            cols: X::Storage::mat_from_host(cols, device)?,
            used: X::Storage::mat_from_host(used, device)?,
            n_features: d,
            _f: PhantomData,
        })
    }

    /// Fit, then transform the same data.
    ///
    /// # Errors
    /// As [`PolynomialFeaturesParams::fit`].
    pub fn fit_transform<F: Real, X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        // The fit has checked X (shape and finiteness): no second pass over it.
        self.fit(x)?.transform_unchecked(x)
    }
}

/// The number of output columns (the bias, then `C(d + j - 1, j)` products of each degree `j`,
/// or `C(d, j)` with `interaction_only`), or `None` when it does not fit in a `usize`.
fn n_output_features(d: usize, degree: usize, interaction_only: bool, include_bias: bool) -> Option<usize> {
    // `C(n, r)` in u128, `None` past `usize::MAX` (the partial products grow with `i`, so the
    // first one past the limit decides).
    let binomial = |n: u128, r: u128| -> Option<u128> {
        let r = r.min(n - r);
        let mut c: u128 = 1;
        for i in 0..r {
            c = c.checked_mul(n - i)? / (i + 1);
            if c > usize::MAX as u128 {
                return None;
            }
        }
        Some(c)
    };
    let (d128, degree128) = (d as u128, degree as u128);
    let total = if interaction_only {
        (0..=degree128).try_fold(0u128, |acc, j| acc.checked_add(binomial(d128, j)?))?
    } else {
        // The sum over j <= degree of C(d + j - 1, j) is C(d + degree, degree).
        binomial(d128 + degree128, degree128)?
    };
    usize::try_from(total - u128::from(!include_bias)).ok()
}

/// Calls `f` with the feature index list of every output column, in scikit-learn's order: `()`
/// for the bias, then for each degree its (ascending) index combinations in lexicographic
/// order. Iterative, so a high degree needs no deep recursion.
fn for_each_combination(
    d: usize,
    degree: usize,
    interaction_only: bool,
    include_bias: bool,
    mut f: impl FnMut(&[usize]),
) {
    let mut combo = Vec::with_capacity(degree);
    for deg in usize::from(!include_bias)..=degree {
        if interaction_only && deg > d {
            break;
        }
        // The first combination: all zeros, or 0, 1, ... for distinct features.
        combo.clear();
        combo.extend((0..deg).map(|p| if interaction_only { p } else { 0 }));
        loop {
            f(&combo);
            // The last position that can still grow (its greatest value leaves room for the
            // positions after it when features are distinct).
            let last = |p: usize| if interaction_only { d - deg + p } else { d - 1 };
            let Some(p) = (0..deg).rev().find(|&p| combo[p] < last(p)) else { break };
            combo[p] += 1;
            for q in p + 1..deg {
                combo[q] = if interaction_only { combo[p] + (q - p) } else { combo[p] };
            }
        }
    }
}

impl<F: Real, S: Storage> PolynomialFeatures<F, S> {
    /// The exponent of each input feature in each output column (`powers_`,
    /// `n_output_features x n_features`).
    pub fn powers(&self) -> &Array2<i64> {
        &self.powers
    }

    /// The number of output columns (`n_output_features_`).
    pub fn n_output_features(&self) -> usize {
        self.powers.nrows()
    }

    /// The number of features seen when fitting (`n_features_in_`).
    pub fn n_features_in(&self) -> usize {
        self.n_features
    }

    /// The polynomial features of `x` (ndarray in, ndarray out; tensor in, tensor out on its
    /// device).
    ///
    /// # Errors
    /// A different feature count than at fit time; NaN or infinity in `x`; `x` on another
    /// device than the model.
    pub fn transform<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        check_fitted_x("PolynomialFeatures", self.n_features, x)?;
        self.transform_unchecked(x)
    }

    /// [`PolynomialFeatures::transform`] of an `x` already checked.
    fn transform_unchecked<X: Matrix<F>>(&self, x: &X) -> Result<Mat<X::Storage, F>> {
        let z = poly_expand::tensors(x.arg(), S::mat_arg(&self.cols), S::mat_arg(&self.used))?;
        X::Storage::mat(z)
    }
}

crate::traits::host_transformer!(PolynomialFeaturesParams => PolynomialFeatures<F, crate::data::Host>, unchecked);
crate::model_selection::set_params!(PolynomialFeaturesParams, "PolynomialFeatures" { "degree" => degree: usize, "interaction_only" => interaction_only: bool, "include_bias" => include_bias: bool });
