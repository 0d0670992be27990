//! Binding shape symbols from the shapes of a call's arguments, and checking that every
//! argument has the rank, dtype and dimensions its parameter declares.
//!
//! Every backend runs this before anything executes: it is what makes the symbolic shapes
//! of a kernel concrete and what guarantees generated code never indexes past an input.
//!
//! Slices live here too: [`resolve_range`] and [`resolve_index`] are ndarray's slicing rules
//! (the interpreter and the checks in [`bind`] share them), [`slice_dim`] is the length a
//! slice has in a program's types, and [`derived_len`] computes a derived symbol's value.
//! Where ndarray panics on a bound out of range, binding returns
//! [`BindError::SliceOutOfRange`] before anything runs.

use crate::program::{AxisSlice, DerivedSym, NodeId, Op, Program, SliceBound, SliceRange, SymDef};
use crate::types::{DType, Dim, ElemTy, SymId};
use thiserror::Error;

/// Why a call's arguments do not fit a kernel's signature.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BindError {
    #[error("kernel `{kernel}` takes {expected} arguments, got {got}")]
    ArgCount { kernel: String, expected: usize, got: usize },
    #[error("parameter `{param}` of `{kernel}` expects {expected}, got {got}")]
    DType { kernel: String, param: String, expected: String, got: DType },
    #[error("parameter `{param}` of `{kernel}` expects rank {expected} ({decl}), got an array of shape {got:?}")]
    Rank { kernel: String, param: String, expected: usize, decl: String, got: Vec<usize> },
    #[error("parameter `{param}` of `{kernel}` has shape {got:?}, but its axis {axis} must be {expected} ({why})")]
    Dim { kernel: String, param: String, axis: usize, expected: usize, got: Vec<usize>, why: String },
    /// A slice or index in the kernel falls outside its axis (ndarray panics here).
    #[error("kernel `{kernel}`: slice `{bounds}` is out of range for axis {axis} of `{array}` (length {len})")]
    SliceOutOfRange { kernel: String, array: String, axis: usize, bounds: String, len: usize },
    /// A slice bound or an extent is a scalar parameter, but only the arguments' shapes were given.
    #[error("kernel `{kernel}` reads scalar parameter `{param}` in a shape (a slice bound or an extent): binding its shapes needs that value (`bind_with_scalars`)")]
    ScalarNeeded { kernel: String, param: String },
    /// An extent computed from scalar arguments or other extents is negative (`n - 1` with
    /// `n = 0`, `k as usize` with `k = -3`): Rust would panic on the `usize` arithmetic.
    #[error("kernel `{kernel}`: extent `{expr}` is negative ({value}) with {values}")]
    NegativeExtent { kernel: String, expr: String, value: i64, values: String },
    /// An extent computed from scalar arguments or other extents overflows, or divides by zero.
    #[error("kernel `{kernel}`: extent `{expr}` {why} with {values}")]
    ExtentOverflow { kernel: String, expr: String, why: String, values: String },
}

/// The concrete value of every shape symbol of one call, indexed by [`crate::SymId`].
pub type SymValues = Vec<usize>;

/// One parameter as the binder sees it: its name, the element type it takes and its
/// symbolic shape.
#[derive(Clone, Copy, Debug)]
pub struct ParamSig<'a> {
    pub name: &'a str,
    pub elem: ElemTy,
    pub shape: &'a [Dim],
}

/// What binding needs of a signature, for the array IR ([`bind_with_scalars`]) and the loop
/// IR (`loops::Frame`) alike: the one binder of shape symbols.
#[derive(Clone, Copy, Debug)]
pub struct Signature<'a> {
    /// The name errors give the kernel.
    pub kernel: &'a str,
    /// The symbols' names, indexed by [`crate::SymId`].
    pub syms: &'a [String],
    pub params: &'a [ParamSig<'a>],
    /// Symbols computed from the others, in order.
    pub derived: &'a [DerivedSym],
}

impl Signature<'_> {
    /// Check `args` (dtype and shape of each, in parameter order) against the parameters and
    /// return the value of every symbol: those the parameters bind, then the derived ones
    /// (slice lengths and extents, which may read `scalars[k]`, the integer value of argument
    /// `k`). A symbol neither bound nor derived (impossible in a verified program) is 0.
    ///
    /// # Errors
    /// A [`BindError`] naming the parameter and the shapes when an argument does not fit;
    /// [`BindError::ScalarNeeded`] when a scalar a derived symbol reads is missing;
    /// [`BindError::NegativeExtent`] / [`BindError::ExtentOverflow`] naming the expression
    /// when a computed extent is negative, overflows or divides by zero.
    pub fn bind(
        &self,
        float: Option<DType>,
        args: &[(DType, &[usize])],
        scalars: &[Option<i64>],
    ) -> Result<SymValues, BindError> {
        let kernel = || self.kernel.to_string();
        if args.len() != self.params.len() {
            return Err(BindError::ArgCount { kernel: kernel(), expected: self.params.len(), got: args.len() });
        }
        let mut values: Vec<Option<(usize, &str)>> = vec![None; self.syms.len()];
        for (param, (dtype, shape)) in self.params.iter().zip(args) {
            let expected = match (param.elem, float) {
                (ElemTy::Concrete(d), _) => Some(d),
                (ElemTy::Float, Some(f)) => Some(f),
                (ElemTy::Float, None) => None,
            };
            let ok = match expected {
                Some(d) => d == *dtype,
                None => dtype.is_float(),
            };
            if !ok {
                let expected = expected.map(|d| d.to_string()).unwrap_or_else(|| "a float type (f32 or f64)".into());
                return Err(BindError::DType { kernel: kernel(), param: param.name.into(), expected, got: *dtype });
            }
            if shape.len() != param.shape.len() {
                return Err(BindError::Rank {
                    kernel: kernel(),
                    param: param.name.into(),
                    expected: param.shape.len(),
                    decl: self.shape_text(param.shape),
                    got: shape.to_vec(),
                });
            }
            for (axis, (dim, &len)) in param.shape.iter().zip(shape.iter()).enumerate() {
                let bad = |expected: usize, why: String| BindError::Dim {
                    kernel: kernel(),
                    param: param.name.into(),
                    axis,
                    expected,
                    got: shape.to_vec(),
                    why,
                };
                match *dim {
                    Dim::Const(c) if c as usize != len => return Err(bad(c as usize, "fixed by the kernel".into())),
                    Dim::Const(_) => {}
                    Dim::Sym(s) => match values.get_mut(s.0 as usize) {
                        Some(Some((v, from))) if *v != len => {
                            let why = format!("`{}` = {} from parameter `{}`", self.sym_name(s), v, from);
                            return Err(bad(*v, why));
                        }
                        Some(Some(_)) => {}
                        Some(slot @ None) => *slot = Some((len, param.name)),
                        None => return Err(bad(0, format!("symbol id {} is not declared", s.0))),
                    },
                }
            }
        }
        let mut syms: SymValues = values.into_iter().map(|v| v.map(|(n, _)| n).unwrap_or(0)).collect();
        for d in self.derived {
            let len = self.derived_value(d, &syms, scalars)?;
            if let Some(slot) = syms.get_mut(d.sym.0 as usize) {
                *slot = len;
            }
        }
        Ok(syms)
    }

    /// The value of derived symbol `d` under the symbols bound so far.
    fn derived_value(&self, d: &DerivedSym, syms: &[usize], scalars: &[Option<i64>]) -> Result<usize, BindError> {
        let value = match d.def {
            SymDef::Slice { of, range } => {
                return derived_len(dim_value_or_zero(of, syms), &range, &|b| self.bound_value(b, scalars))
            }
            SymDef::Param(k) => self.bound_value(SliceBound::Param(k), scalars)?,
            SymDef::Arith(op, a, b) => {
                let v = |x| i64::try_from(dim_value_or_zero(x, syms)).unwrap_or(i64::MAX);
                match op.apply(v(a), v(b)) {
                    Some(r) => r,
                    None => {
                        let why = match op {
                            crate::program::DimOp::Div if v(b) == 0 => "divides by zero",
                            crate::program::DimOp::Same => "is false (a reshape keeps the number of elements)",
                            _ => "overflows",
                        };
                        return Err(BindError::ExtentOverflow {
                            kernel: self.kernel.to_string(),
                            expr: self.extent_text(d.sym),
                            why: why.into(),
                            values: self.values_text(d.sym, syms, scalars),
                        });
                    }
                }
            }
        };
        usize::try_from(value).map_err(|_| BindError::NegativeExtent {
            kernel: self.kernel.to_string(),
            expr: self.extent_text(d.sym),
            value,
            values: self.values_text(d.sym, syms, scalars),
        })
    }

    /// The definition of derived symbol `s` as the user wrote it (`n - 1`, `2 * k`, `d * d`):
    /// computed extents are expanded into their operands, other symbols are named.
    pub fn extent_text(&self, s: SymId) -> String {
        self.expr_text(Dim::Sym(s), false)
    }

    fn expr_text(&self, d: Dim, nested: bool) -> String {
        let Dim::Sym(s) = d else { return self.dim_name(d) };
        match self.derived.iter().find(|e| e.sym == s).map(|e| e.def) {
            Some(SymDef::Param(k)) => self.param_name(k),
            Some(SymDef::Arith(op, a, b)) => {
                let t = format!("{} {} {}", self.expr_text(a, true), op.symbol(), self.expr_text(b, true));
                if nested {
                    format!("({t})")
                } else {
                    t
                }
            }
            _ => self.sym_name(s),
        }
    }

    /// `n = 0, k = 3`: the value of each symbol and parameter the extent `s` reads.
    fn values_text(&self, s: SymId, syms: &[usize], scalars: &[Option<i64>]) -> String {
        let mut out: Vec<String> = vec![];
        self.collect_values(Dim::Sym(s), syms, scalars, &mut out);
        out.dedup();
        out.join(", ")
    }

    fn collect_values(&self, d: Dim, syms: &[usize], scalars: &[Option<i64>], out: &mut Vec<String>) {
        let Dim::Sym(s) = d else { return };
        let item = match self.derived.iter().find(|e| e.sym == s).map(|e| e.def) {
            Some(SymDef::Param(k)) => {
                let v = scalars.get(k as usize).copied().flatten().map_or_else(|| "?".into(), |v| v.to_string());
                format!("{} = {v}", self.param_name(k))
            }
            Some(SymDef::Arith(_, a, b)) => {
                self.collect_values(a, syms, scalars, out);
                self.collect_values(b, syms, scalars, out);
                return;
            }
            _ => format!("{} = {}", self.sym_name(s), dim_value_or_zero(d, syms)),
        };
        if !out.contains(&item) {
            out.push(item);
        }
    }

    fn param_name(&self, k: u32) -> String {
        self.params.get(k as usize).map_or_else(|| format!("#{k}"), |q| q.name.to_string())
    }

    fn dim_name(&self, d: Dim) -> String {
        match d {
            Dim::Const(c) => c.to_string(),
            Dim::Sym(s) => self.sym_name(s),
        }
    }

    /// The value of slice bound `b` under the integer scalar arguments `scalars`.
    ///
    /// # Errors
    /// [`BindError::ScalarNeeded`] when `b` reads a parameter with no integer value there.
    pub fn bound_value(&self, b: SliceBound, scalars: &[Option<i64>]) -> Result<i64, BindError> {
        match b {
            SliceBound::Const(c) => Ok(c),
            SliceBound::Param(k) => scalars
                .get(k as usize)
                .copied()
                .flatten()
                .ok_or_else(|| BindError::ScalarNeeded { kernel: self.kernel.to_string(), param: self.param_name(k) }),
        }
    }

    fn sym_name(&self, s: SymId) -> String {
        self.syms.get(s.0 as usize).cloned().unwrap_or_else(|| format!("?{}", s.0))
    }

    /// `[n, 3]`-style text of a symbolic shape.
    fn shape_text(&self, shape: &[Dim]) -> String {
        let dims: Vec<String> = shape
            .iter()
            .map(|d| match d {
                Dim::Const(c) => c.to_string(),
                Dim::Sym(s) => self.sym_name(*s),
            })
            .collect();
        format!("[{}]", dims.join(", "))
    }
}

/// Check `args` (dtype and shape of each argument, in parameter order) against the
/// signature of `program` and return the value of each shape symbol.
///
/// `float` is the dtype the generic float `F` stands for, if the program is generic.
///
/// # Errors
/// A [`BindError`] naming the parameter and the shapes when an argument does not fit, a slice
/// out of range, or [`BindError::ScalarNeeded`] when a slice bound is a scalar parameter
/// (use [`bind_with_scalars`] for those programs).
pub fn bind(program: &Program, float: Option<DType>, args: &[(DType, &[usize])]) -> Result<SymValues, BindError> {
    bind_with_scalars(program, float, args, &[])
}

/// [`bind`], also given the value of each integer scalar argument (`scalars[k]` for
/// parameter `k`, `None` or missing for the others), which slice bounds may read.
///
/// # Errors
/// As [`bind`]; [`BindError::ScalarNeeded`] only when a bound's value is missing.
pub fn bind_with_scalars(
    program: &Program,
    float: Option<DType>,
    args: &[(DType, &[usize])],
    scalars: &[Option<i64>],
) -> Result<SymValues, BindError> {
    let kernel = &program.name;
    let params: Vec<ParamSig<'_>> =
        program.params.iter().map(|p| ParamSig { name: &p.name, elem: p.ty.elem, shape: &p.ty.shape }).collect();
    let sig = Signature { kernel, syms: &program.syms, params: &params, derived: &program.derived };
    let syms = sig.bind(float, args, scalars)?;
    let value = |b: SliceBound| sig.bound_value(b, scalars);
    for n in &program.nodes {
        let Op::Slice(a, axes) = &n.op else { continue };
        let Some(src) = program.nodes.get(a.index()) else { continue };
        for (axis, (s, d)) in axes.iter().zip(&src.ty.shape).enumerate() {
            let len = dim_value_or_zero(*d, &syms);
            let ok = match s {
                AxisSlice::Range(r) => resolve_range(len, r, &value)?.is_some(),
                AxisSlice::Index(b) => resolve_index(len, value(*b)?).is_some(),
            };
            if !ok {
                return Err(BindError::SliceOutOfRange {
                    kernel: kernel.clone(),
                    array: array_name(program, *a),
                    axis,
                    bounds: slice_text(program, s, &value),
                    len,
                });
            }
        }
    }
    Ok(syms)
}

/// How errors name an array: the parameter's name, else the node (`v7`).
fn array_name(p: &Program, id: NodeId) -> String {
    match p.nodes.get(id.index()).map(|n| &n.op) {
        Some(Op::Param(k)) => p.params.get(*k as usize).map_or_else(|| id.to_string(), |q| q.name.clone()),
        _ => id.to_string(),
    }
}

/// `1..-1;2`, `k..` or `-1` in `s![]` syntax, with each parameter's value: `k.. (k = 7)`.
fn slice_text(p: &Program, s: &AxisSlice, value: &dyn Fn(SliceBound) -> Result<i64, BindError>) -> String {
    let mut values = vec![];
    let mut bound = |b: Option<SliceBound>| match b {
        None => String::new(),
        Some(SliceBound::Const(c)) => c.to_string(),
        Some(b @ SliceBound::Param(k)) => {
            let name = p.params.get(k as usize).map_or_else(|| format!("#{k}"), |q| q.name.clone());
            if let Ok(v) = value(b) {
                values.push(format!("{name} = {v}"));
            }
            name
        }
    };
    let text = match s {
        AxisSlice::Index(b) => bound(Some(*b)),
        AxisSlice::Range(r) => {
            let mut t = format!("{}..{}", bound(r.start), bound(r.end));
            if r.step != 1 {
                t.push_str(&format!(";{}", r.step));
            }
            t
        }
    };
    if values.is_empty() {
        text
    } else {
        format!("{text} ({})", values.join(", "))
    }
}

fn dim_value_or_zero(d: Dim, syms: &[usize]) -> usize {
    match d {
        Dim::Const(c) => c as usize,
        Dim::Sym(s) => syms.get(s.0 as usize).copied().unwrap_or(0),
    }
}

/// The elements a valid slice takes: `len` of them, the first at `first`, then every `step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub first: i64,
    pub step: i64,
    pub len: usize,
}

/// ndarray's absolute position of a bound on an axis of length `len`: negative counts from
/// the end; `None` when it lands before the start (ndarray panics on that too).
fn abs_bound(len: usize, b: i64) -> Option<i64> {
    let r = if b < 0 { (len as i64).checked_add(b)? } else { b };
    (r >= 0).then_some(r)
}

/// ndarray's slicing rule for `range` on an axis of length `len`, with bound values from
/// `value`: `Ok(None)` when ndarray would panic (a bound past either end, a zero step).
///
/// # Errors
/// Only what `value` returns (a parameter value that is not available).
pub fn resolve_range<E>(
    len: usize,
    r: &SliceRange,
    value: &dyn Fn(SliceBound) -> Result<i64, E>,
) -> Result<Option<Resolved>, E> {
    let start = match r.start {
        Some(b) => abs_bound(len, value(b)?),
        None => Some(0),
    };
    let end = match r.end {
        Some(b) => abs_bound(len, value(b)?),
        None => Some(len as i64),
    };
    let (Some(start), Some(end)) = (start, end) else { return Ok(None) };
    // As ndarray: an end before the start selects nothing.
    let end = end.max(start);
    if start > len as i64 || end > len as i64 || r.step == 0 {
        return Ok(None);
    }
    let m = (end - start) as u64;
    let count = m.div_ceil(r.step.unsigned_abs());
    let first = if r.step > 0 { start } else { end - 1 };
    Ok(Some(Resolved { first, step: r.step, len: count as usize }))
}

/// ndarray's rule for an integer index on an axis of length `len`: the absolute index, or
/// `None` when it is out of range.
pub fn resolve_index(len: usize, i: i64) -> Option<usize> {
    abs_bound(len, i).filter(|&a| a < len as i64).map(|a| a as usize)
}

/// The value of a derived symbol: the length of `range` on an axis of length `len`, with the
/// bounds clamped into `0..=len` (so it exists for any bounds; when the slice is valid it is
/// exactly the slice's length).
///
/// # Errors
/// Only what `value` returns.
pub fn derived_len<E>(len: usize, r: &SliceRange, value: &dyn Fn(SliceBound) -> Result<i64, E>) -> Result<usize, E> {
    let n = len as i64;
    let clamp = |b: i64| if b < 0 { n.saturating_add(b).max(0) } else { b.min(n) };
    let start = match r.start {
        Some(b) => clamp(value(b)?),
        None => 0,
    };
    let end = match r.end {
        Some(b) => clamp(value(b)?),
        None => n,
    };
    let m = (end - start).max(0) as u64;
    Ok(m.div_ceil(r.step.unsigned_abs().max(1)) as usize)
}

/// The length of a slice of an axis of length `of`, as a program's type states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceDim {
    /// A dimension known when the program is built: a constant, or `of` itself.
    Dim(Dim),
    /// A derived symbol with this (canonical) definition.
    Derived(Dim, SliceRange),
}

/// The length of the slice `r` of an axis of length `of`. Slices whose lengths are always
/// equal when valid get the same canonical definition (`s![1..]` and `s![..-1]` both have
/// length `n - 1`, so they broadcast together). `Err` when the slice is out of range for a
/// constant `of` (or has step 0).
///
/// # Errors
/// Why the slice is invalid, in words.
pub fn slice_dim(of: Dim, r: &SliceRange) -> Result<SliceDim, String> {
    if r.step == 0 {
        return Err("a slice step must not be zero".into());
    }
    let step = r.step.unsigned_abs();
    let konst = |b: Option<SliceBound>| match b {
        None => Some(None),
        Some(SliceBound::Const(c)) => Some(Some(c)),
        Some(SliceBound::Param(_)) => None,
    };
    let count = |m: i64| SliceDim::Dim(Dim::Const((m.max(0) as u64).div_ceil(step)));
    let derived = |start: Option<SliceBound>, end: Option<SliceBound>| {
        SliceDim::Derived(of, SliceRange { start, end, step: step as i64 })
    };
    if r.start.is_none() && r.end.is_none() && step == 1 {
        return Ok(SliceDim::Dim(of));
    }
    let (Some(start), Some(end)) = (konst(r.start), konst(r.end)) else {
        return Ok(derived(r.start, r.end));
    };
    if let Dim::Const(n) = of {
        let cv = |b: SliceBound| match b {
            SliceBound::Const(c) => Ok(c),
            SliceBound::Param(_) => Err(()),
        };
        return match resolve_range(n as usize, r, &cv) {
            Ok(Some(res)) => Ok(SliceDim::Dim(Dim::Const(res.len as u64))),
            _ => Err(format!("slice `{}` is out of range for an axis of length {n}", range_text(r))),
        };
    }
    let s = start.unwrap_or(0);
    Ok(match end {
        // `s..` and `s..e` with e < 0: n - s and n + e - s, the canonical `..-(s-e)`.
        None if s >= 0 => derived(None, (s > 0).then_some(SliceBound::Const(-s))),
        Some(e) if s >= 0 && e < 0 => match e.checked_sub(s) {
            Some(k) => derived(None, Some(SliceBound::Const(k))),
            None => derived(r.start, r.end),
        },
        // Both bounds on one side of the axis: a constant length (checked at bind time).
        Some(e) if (s >= 0) == (e >= 0) => count(e.saturating_sub(s)),
        None => count(s.saturating_neg()),
        _ => derived(r.start, r.end),
    })
}

/// A bound as IR text: the literal, or `pN` for parameter `N`.
pub fn bound_text(b: SliceBound) -> String {
    match b {
        SliceBound::Const(c) => c.to_string(),
        SliceBound::Param(k) => format!("p{k}"),
    }
}

/// A range in `s![]` syntax with parameters as `pN`: `1..-1;2` (`;1` is left out).
pub fn range_text(r: &SliceRange) -> String {
    let b = |b: Option<SliceBound>| b.map(bound_text).unwrap_or_default();
    let mut t = format!("{}..{}", b(r.start), b(r.end));
    if r.step != 1 {
        t.push_str(&format!(";{}", r.step));
    }
    t
}

/// The concrete length of a dimension under `syms`.
pub fn dim_value(dim: Dim, syms: &[usize]) -> usize {
    match dim {
        Dim::Const(c) => c as usize,
        Dim::Sym(s) => syms[s.0 as usize],
    }
}

/// `[n, 3]`-style text of a symbolic shape.
pub fn shape_text(program: &Program, shape: &[Dim]) -> String {
    Signature { kernel: &program.name, syms: &program.syms, params: &[], derived: &[] }.shape_text(shape)
}
