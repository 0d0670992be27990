//! Hyper-parameters by scikit-learn name: [`SetParams`] (`set_param("n_knots",
//! ParamValue::Int(10))`, generated per estimator by [`set_params!`]), pipelines routing
//! `step__param`, and search spaces: a [`ParamGrid`] of value lists (GridSearchCV) or
//! [`ParamDistributions`] of lists and distributions (RandomizedSearchCV: uniform,
//! loguniform, randint, a choice among values or among whole steps), sampled reproducibly from
//! a seed by numpy's legacy `RandomState`.

use crate::error::{EstimatorError, Result};
use crate::random_state::RandomState;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A hyper-parameter value, as scikit-learn's Python values.
#[derive(Clone)]
pub enum ParamValue {
    /// An int (`n_knots=10`).
    Int(i64),
    /// A float (`gamma=0.1`).
    Float(f64),
    /// A bool (`fit_intercept=False`).
    Bool(bool),
    /// A string (`kernel="rbf"`).
    Str(String),
    /// A list of floats (`alphas=[0.1, 1.0]`).
    Floats(Vec<f64>),
    /// A whole estimator replacing a pipeline step (`nystroem=Nystroem(kernel="poly")`): made
    /// by [`ParamValue::step`].
    Step(StepValue),
}

/// An estimator as a parameter value (a pipeline step to put in place of another).
#[derive(Clone)]
pub struct StepValue {
    pub(crate) value: Arc<dyn Any + Send + Sync>,
    pub(crate) repr: String,
}

impl ParamValue {
    /// A whole step as a value: `ParamValue::step::<f64>(Nystroem::params().kernel(Kernel::Poly))`
    /// for `F = f64` pipelines.
    pub fn step<F: crate::Real>(step: impl crate::traits::Step<F> + 'static) -> ParamValue {
        let repr = format!("{step:?}");
        let boxed: Box<dyn crate::traits::Step<F>> = Box::new(step);
        ParamValue::Step(StepValue { value: Arc::new(Arc::<dyn crate::traits::Step<F>>::from(boxed)), repr })
    }

    /// A string value.
    pub fn str(s: &str) -> ParamValue {
        ParamValue::Str(s.to_string())
    }

    /// What kind of value it is (for messages).
    fn kind(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "an int",
            ParamValue::Float(_) => "a float",
            ParamValue::Bool(_) => "a bool",
            ParamValue::Str(_) => "a str",
            ParamValue::Floats(_) => "a list of floats",
            ParamValue::Step(_) => "an estimator",
        }
    }
}

impl fmt::Display for ParamValue {
    /// Python's repr: `10`, `0.1`, `True`, `'rbf'`, `[0.1, 1.0]`, the estimator's debug form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v:?}"),
            ParamValue::Bool(v) => write!(f, "{}", if *v { "True" } else { "False" }),
            ParamValue::Str(s) => write!(f, "'{s}'"),
            ParamValue::Floats(v) => {
                write!(f, "[")?;
                for (i, x) in v.iter().enumerate() {
                    write!(f, "{}{x:?}", if i > 0 { ", " } else { "" })?;
                }
                write!(f, "]")
            }
            ParamValue::Step(s) => write!(f, "{}", s.repr),
        }
    }
}

impl fmt::Debug for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq for ParamValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ParamValue::Int(a), ParamValue::Int(b)) => a == b,
            (ParamValue::Float(a), ParamValue::Float(b)) => a == b,
            (ParamValue::Bool(a), ParamValue::Bool(b)) => a == b,
            (ParamValue::Str(a), ParamValue::Str(b)) => a == b,
            (ParamValue::Floats(a), ParamValue::Floats(b)) => a == b,
            (ParamValue::Step(a), ParamValue::Step(b)) => Arc::ptr_eq(&a.value, &b.value),
            _ => false,
        }
    }
}

impl From<i64> for ParamValue {
    fn from(v: i64) -> Self {
        ParamValue::Int(v)
    }
}
impl From<i32> for ParamValue {
    fn from(v: i32) -> Self {
        ParamValue::Int(i64::from(v))
    }
}
impl From<usize> for ParamValue {
    fn from(v: usize) -> Self {
        ParamValue::Int(v as i64)
    }
}
impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Float(v)
    }
}
impl From<bool> for ParamValue {
    fn from(v: bool) -> Self {
        ParamValue::Bool(v)
    }
}
impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::Str(v.to_string())
    }
}
impl From<Vec<f64>> for ParamValue {
    fn from(v: Vec<f64>) -> Self {
        ParamValue::Floats(v)
    }
}

/// The parameters of one candidate, by name, in the order they were set (printed as
/// scikit-learn prints `best_params_`: `{'nystroem__gamma': 0.1, ...}`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Params(pub Vec<(String, ParamValue)>);

impl Params {
    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    /// The `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = &(String, ParamValue)> {
        self.0.iter()
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{")?;
        for (i, (n, v)) in self.0.iter().enumerate() {
            write!(f, "{}'{n}': {v}", if i > 0 { ", " } else { "" })?;
        }
        write!(f, "}}")
    }
}

/// A value converted from a [`ParamValue`] for a builder method or field.
pub trait FromParam: Sized {
    /// The value, or what was expected.
    ///
    /// # Errors
    /// A value of the wrong kind or out of range for the type ([`EstimatorError::UnknownParameter`]).
    fn from_param(v: &ParamValue) -> std::result::Result<Self, String>;
}

impl FromParam for f64 {
    fn from_param(v: &ParamValue) -> std::result::Result<f64, String> {
        match v {
            ParamValue::Float(x) => Ok(*x),
            ParamValue::Int(i) => Ok(*i as f64),
            _ => Err("a float".into()),
        }
    }
}
impl FromParam for usize {
    fn from_param(v: &ParamValue) -> std::result::Result<usize, String> {
        match v {
            ParamValue::Int(i) if *i >= 0 => Ok(*i as usize),
            _ => Err("a non-negative int".into()),
        }
    }
}
impl FromParam for u32 {
    fn from_param(v: &ParamValue) -> std::result::Result<u32, String> {
        match v {
            ParamValue::Int(i) => u32::try_from(*i).map_err(|_| "an int in [0, 2**32 - 1]".into()),
            _ => Err("an int in [0, 2**32 - 1]".into()),
        }
    }
}
impl FromParam for u64 {
    fn from_param(v: &ParamValue) -> std::result::Result<u64, String> {
        match v {
            ParamValue::Int(i) => u64::try_from(*i).map_err(|_| "a non-negative int".into()),
            _ => Err("a non-negative int".into()),
        }
    }
}
impl FromParam for i64 {
    fn from_param(v: &ParamValue) -> std::result::Result<i64, String> {
        match v {
            ParamValue::Int(i) => Ok(*i),
            _ => Err("an int".into()),
        }
    }
}
impl FromParam for bool {
    fn from_param(v: &ParamValue) -> std::result::Result<bool, String> {
        match v {
            ParamValue::Bool(b) => Ok(*b),
            _ => Err("a bool".into()),
        }
    }
}
impl FromParam for Vec<f64> {
    fn from_param(v: &ParamValue) -> std::result::Result<Vec<f64>, String> {
        match v {
            ParamValue::Floats(x) => Ok(x.clone()),
            ParamValue::Float(x) => Ok(vec![*x]),
            _ => Err("a list of floats".into()),
        }
    }
}

/// [`FromParam`] for an enum from scikit-learn's strings.
macro_rules! str_param {
    ($t:ty { $($s:literal => $v:expr),* $(,)? }) => {
        impl FromParam for $t {
            fn from_param(v: &ParamValue) -> std::result::Result<$t, String> {
                match v {
                    $(ParamValue::Str(s) if s == $s => Ok($v),)*
                    _ => Err(format!("a str among {:?}", [$($s),*])),
                }
            }
        }
    };
}

use crate::kernel_approximation::Kernel;
use crate::linear_model::{GcvMode, RidgeScoring};
use crate::preprocessing::{Extrapolation, Norm, SplineKnots};
str_param!(Kernel { "rbf" => Kernel::Rbf, "poly" => Kernel::Poly, "sigmoid" => Kernel::Sigmoid,
    "cosine" => Kernel::Cosine, "linear" => Kernel::Linear, "laplacian" => Kernel::Laplacian });
str_param!(Norm { "l1" => Norm::L1, "l2" => Norm::L2, "max" => Norm::Max });
str_param!(GcvMode { "auto" => GcvMode::Auto, "eigen" => GcvMode::Eigen, "svd" => GcvMode::Svd });
/// RidgeCV's `scoring`: "neg_mean_squared_error" (its default, the squared leave-one-out
/// errors), "r2", or any other regression scorer name of the registry.
impl FromParam for RidgeScoring {
    fn from_param(v: &ParamValue) -> std::result::Result<RidgeScoring, String> {
        match v {
            ParamValue::Str(s) if s == "neg_mean_squared_error" => Ok(RidgeScoring::NegMeanSquaredError),
            ParamValue::Str(s) if s == "r2" => Ok(RidgeScoring::R2),
            ParamValue::Str(s) => super::Scorer::from_name(s).map(RidgeScoring::Scorer).map_err(|e| e.to_string()),
            _ => Err("a str among the scorer names (sklearn.metrics.get_scorer_names())".into()),
        }
    }
}
str_param!(Extrapolation { "error" => Extrapolation::Error, "constant" => Extrapolation::Constant,
    "linear" => Extrapolation::Linear, "continue" => Extrapolation::Continue, "periodic" => Extrapolation::Periodic });
str_param!(SplineKnots { "uniform" => SplineKnots::Uniform, "quantile" => SplineKnots::Quantile });

/// The error of a value of the wrong kind for a parameter.
pub fn bad_value(estimator: &str, name: &str, expected: &str, got: &ParamValue) -> EstimatorError {
    EstimatorError::UnknownParameter(format!(
        "the '{name}' parameter of {estimator} must be {expected}; got {got} ({})",
        got.kind()
    ))
}

/// The error of a parameter name an estimator does not have (scikit-learn's wording).
pub fn unknown_param(estimator: &str, name: &str, valid: &[&str]) -> EstimatorError {
    let mut valid: Vec<&str> = valid.to_vec();
    valid.sort_unstable();
    EstimatorError::UnknownParameter(format!(
        "Invalid parameter '{name}' for estimator {estimator}(). Valid parameters are: {valid:?}."
    ))
}

/// Hyper-parameters settable by scikit-learn name (`get_params` / `set_params`).
pub trait SetParams {
    /// scikit-learn's class name (`"SplineTransformer"`); a pipeline names the step by it,
    /// lowercased.
    fn estimator_name(&self) -> &'static str;
    /// The names [`SetParams::set_param`] takes.
    fn param_names(&self) -> Vec<String>;
    /// Set one parameter by name.
    ///
    /// # Errors
    /// An unknown name or a value of the wrong kind ([`EstimatorError::UnknownParameter`]).
    /// Ranges are checked when fitting, as in scikit-learn.
    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<()>;
    /// A copy with `name` set (`est.with_param("n_knots", 10.into())?`).
    ///
    /// # Errors
    /// As [`SetParams::set_param`].
    fn with_param(&self, name: &str, value: ParamValue) -> Result<Self>
    where
        Self: Clone,
    {
        let mut c = self.clone();
        c.set_param(name, value)?;
        Ok(c)
    }
}

/// Implements [`SetParams`] for an estimator's hyper-parameters with one line in its file:
/// `set_params!(NystroemParams, "Nystroem" { "gamma" => gamma: f64, "n_components" =>
/// n_components: usize, "random_state" => seed: u32 })` — each scikit-learn name maps to a
/// builder method (`=> method: Type`) or, for a parameter without one, a field (`= field:
/// Type`). Types convert from [`ParamValue`] by [`FromParam`].
#[macro_export]
macro_rules! set_params {
    ($t:ty, $name:literal { $($pname:literal $op:tt $target:ident : $ty:ty),* $(,)? }) => {
        impl $crate::model_selection::SetParams for $t {
            fn estimator_name(&self) -> &'static str {
                $name
            }
            fn param_names(&self) -> Vec<String> {
                vec![$($pname.to_string()),*]
            }
            #[allow(unused_variables)]
            fn set_param(&mut self, name: &str, value: $crate::model_selection::ParamValue) -> $crate::Result<()> {
                match name {
                    $($pname => {
                        let v: $ty = <$ty as $crate::model_selection::FromParam>::from_param(&value)
                            .map_err(|e| $crate::model_selection::bad_value($name, $pname, &e, &value))?;
                        $crate::set_params!(@set self, $op, $target, v);
                        Ok(())
                    })*
                    _ => Err($crate::model_selection::unknown_param($name, name, &[$($pname),*])),
                }
            }
        }
    };
    (@set $s:ident, =>, $m:ident, $v:ident) => {
        *$s = $s.clone().$m($v)
    };
    (@set $s:ident, =, $f:ident, $v:ident) => {
        $s.$f = $v
    };
}

/// A distribution or list a parameter is drawn from (scipy.stats' `uniform`, `loguniform`,
/// `randint`, or a list: a choice among values, which may be whole steps).
#[derive(Clone, Debug)]
pub enum Dist {
    /// One of the values, each equally likely.
    Choice(Vec<ParamValue>),
    /// `scipy.stats.uniform(loc, scale)`: a float in `[loc, loc + scale)`.
    Uniform {
        /// The lower end.
        loc: f64,
        /// The width.
        scale: f64,
    },
    /// `scipy.stats.loguniform(a, b)`: a float whose logarithm is uniform in `[ln a, ln b)`.
    LogUniform {
        /// The lower end (positive).
        a: f64,
        /// The upper end.
        b: f64,
    },
    /// `scipy.stats.randint(low, high)`: an int in `[low, high)`.
    RandInt {
        /// The lowest value.
        low: i64,
        /// One past the highest value.
        high: i64,
    },
}

impl Dist {
    /// A choice among values (`Dist::choice([5, 10, 20])`).
    pub fn choice<V: Into<ParamValue>>(values: impl IntoIterator<Item = V>) -> Dist {
        Dist::Choice(values.into_iter().map(Into::into).collect())
    }

    /// `loguniform(a, b)`.
    pub fn loguniform(a: f64, b: f64) -> Dist {
        Dist::LogUniform { a, b }
    }

    /// `uniform(loc, scale)`.
    pub fn uniform(loc: f64, scale: f64) -> Dist {
        Dist::Uniform { loc, scale }
    }

    /// `randint(low, high)`.
    pub fn randint(low: i64, high: i64) -> Dist {
        Dist::RandInt { low, high }
    }

    fn check(&self, name: &str) -> Result<()> {
        let bad = match self {
            Dist::Choice(v) => v.is_empty(),
            Dist::Uniform { loc, scale } => !(loc.is_finite() && scale.is_finite() && *scale >= 0.0),
            Dist::LogUniform { a, b } => !(*a > 0.0 && b >= a && b.is_finite()),
            Dist::RandInt { low, high } => high <= low,
        };
        if bad {
            return Err(EstimatorError::UnknownParameter(format!(
                "Parameter grid for parameter '{name}' needs to be a non-empty list or a valid distribution; got \
                 {self:?}"
            )));
        }
        Ok(())
    }

    /// One draw.
    pub(crate) fn sample(&self, rng: &mut RandomState) -> ParamValue {
        match self {
            Dist::Choice(v) => v[rng.below(v.len())].clone(),
            Dist::Uniform { loc, scale } => ParamValue::Float(loc + scale * rng.random_sample()),
            Dist::LogUniform { a, b } => {
                let (la, lb) = (a.ln(), b.ln());
                ParamValue::Float((la + rng.random_sample() * (lb - la)).exp())
            }
            Dist::RandInt { low, high } => ParamValue::Int(low + rng.below((high - low) as usize) as i64),
        }
    }
}

/// A grid of parameter values (scikit-learn's `ParameterGrid` over one dict): every
/// combination, keys in sorted order, the last key varying fastest, as scikit-learn.
#[derive(Clone, Debug, Default)]
pub struct ParamGrid {
    entries: Vec<(String, Vec<ParamValue>)>,
}

impl ParamGrid {
    /// An empty grid (one candidate: the estimator as given).
    pub fn new() -> ParamGrid {
        ParamGrid::default()
    }

    /// Add a parameter and the values to try (`.add("ridge__alpha", [0.1, 1.0, 10.0])`).
    pub fn add<V: Into<ParamValue>>(mut self, name: &str, values: impl IntoIterator<Item = V>) -> ParamGrid {
        self.entries.push((name.to_string(), values.into_iter().map(Into::into).collect()));
        self
    }

    /// Every combination, in scikit-learn's order.
    ///
    /// # Errors
    /// A parameter with no values.
    pub fn candidates(&self) -> Result<Vec<Params>> {
        let mut entries = self.entries.clone();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (n, v) in &entries {
            if v.is_empty() {
                return Err(EstimatorError::UnknownParameter(format!(
                    "Parameter grid for parameter '{n}' needs to be a non-empty sequence, got: []"
                )));
            }
        }
        let mut out = vec![Params::default()];
        for (n, values) in &entries {
            out = out
                .into_iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.0.push((n.clone(), v.clone()));
                        q
                    })
                })
                .collect();
        }
        Ok(out)
    }
}

/// Distributions per parameter (scikit-learn's `param_distributions` for
/// `RandomizedSearchCV`): each draw samples every parameter, keys in sorted order.
#[derive(Clone, Debug, Default)]
pub struct ParamDistributions {
    entries: Vec<(String, Dist)>,
}

impl ParamDistributions {
    /// No parameters yet.
    pub fn new() -> ParamDistributions {
        ParamDistributions::default()
    }

    /// Add a parameter drawn from `dist`.
    pub fn add(mut self, name: &str, dist: Dist) -> ParamDistributions {
        self.entries.push((name.to_string(), dist));
        self
    }

    /// Add a parameter chosen among `values` (a list in scikit-learn's space).
    pub fn choice<V: Into<ParamValue>>(self, name: &str, values: impl IntoIterator<Item = V>) -> ParamDistributions {
        self.add(name, Dist::choice(values))
    }

    /// `n_iter` draws from `seed` (scikit-learn's `ParameterSampler`): when every parameter is
    /// a list, draws without replacement from their grid (at most its size); otherwise each
    /// draw samples every parameter in sorted-name order.
    ///
    /// # Errors
    /// An empty list or an invalid distribution.
    pub fn sample(&self, n_iter: usize, seed: u32) -> Result<Vec<Params>> {
        let mut entries = self.entries.clone();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (n, d) in &entries {
            d.check(n)?;
        }
        let mut rng = RandomState::new(seed);
        if entries.iter().all(|(_, d)| matches!(d, Dist::Choice(_))) {
            let mut grid = ParamGrid::new();
            for (n, d) in &entries {
                if let Dist::Choice(v) = d {
                    grid = grid.add(n, v.clone());
                }
            }
            let all = grid.candidates()?;
            if all.len() < n_iter {
                tracing::warn!(
                    "The total space of parameters {} is smaller than n_iter={n_iter}. Running {} iterations.",
                    all.len(),
                    all.len()
                );
            }
            let pick = rng.permutation(all.len());
            return Ok(pick.into_iter().take(n_iter).map(|i| all[i].clone()).collect());
        }
        Ok((0..n_iter)
            .map(|_| Params(entries.iter().map(|(n, d)| (n.clone(), d.sample(&mut rng))).collect()))
            .collect())
    }
}
