//! The loop IR verifier. It runs after every loop pass and before any backend sees a program.
//!
//! Invariants checked (every violation is collected, with the kernel it is in):
//! 1. Buffers: names are unique; every dimension names an existing symbol (derived symbols
//!    too, whose step is not 0 and whose `pK` bounds are scalar integer parameters); `params` lists
//!    exactly the input buffers and `outputs` exactly the output buffers, in buffer order.
//! 2. Variables: each variable is defined once in the whole program (by a kernel domain, a
//!    `for`, a `let` or a `mut`), and every use is inside the scope of its definition, after it.
//! 3. Only `mut` variables are assigned, with a value of their own type.
//! 4. Types: every expression is well typed: binary operands agree, comparisons give `bool`,
//!    float-only unary ops get floats, `select` has a `bool` condition and equal branches,
//!    indices, `dim` and loop variables are `i64`, `if` conditions are `bool`, `let`/`mut`
//!    values have the declared type, a stored value has the buffer's dtype.
//! 5. Ranks: every load and store has one index per buffer axis.
//! 6. Index safety: every load/store index is provably inside its axis: a domain or `for`
//!    variable whose extent is that dimension (a `for .. from .. to ..` clamps its range to
//!    its extent, so its variable counts too), a `let` bound to such a variable, to a
//!    `check(.., d)` with the same dimension or to a constant below a constant dimension, a
//!    `check(.., d)` itself, or a constant below a constant dimension.
//!    Range bounds (`from`/`to`) are `i64` expressions.
//! 7. `check` appears only as the whole value of a `let` (its flag is ordered by statements).
//! 8. Inputs are never stored to; a temporary is read only by a kernel after one that writes it,
//!    or by the kernel that writes it when every load and store of it there indexes its first
//!    axis with the kernel's first domain variable (each point then owns a slab: a scatter's
//!    partials, accumulated in place).
//! 9. Kernel hints ([`super::KernelHint`]): a `two_phase`, `scatter` or `scan` kernel's first domain
//!    axis (the chunk) has a constant extent and its body has a `for .. from .. to ..` (the
//!    chunk's rows); a `sort` kernel's first domain axis has extent 1. A `gemm` (or `gemm_split_k`) kernel's body
//!    is the one loop nest [`super::GemmStep::of`] reads: a float `sum` of `a * b` whose every
//!    index is a bare variable (so the library call touches exactly the elements invariant 6
//!    proved in range). (`serial` promises no shape: a reduction over no axes runs no loop.)

use super::{BufId, BufKind, Expr, LoopProgram, Scalar, Stmt, Var};
use crate::program::UnOp;
use crate::types::{DType, Dim};
use std::collections::{HashMap, HashSet};
use std::fmt;
use thiserror::Error;

/// One verifier finding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("loop program `{program}`, {location}: {message}")]
pub struct LoopVerifyError {
    pub program: String,
    /// `kernel k0` or `buffers`.
    pub location: String,
    pub message: String,
}

/// Every finding of one verification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct LoopVerifyErrors(pub Vec<LoopVerifyError>);

impl fmt::Display for LoopVerifyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Whether every load and store of `buf` in `body` indexes its first axis with `var`.
fn slab_only(body: &[Stmt], buf: BufId, var: Var) -> bool {
    let elsewhere = |b: &BufId, idx: &[Expr]| *b == buf && idx.first() != Some(&Expr::Var(var));
    !body.iter().any(|s| {
        s.any(&mut |s| {
            matches!(s, Stmt::Store { buf: b, idx, .. } if elsewhere(b, idx))
                || s.exprs().any(|e| e.any(&mut |e| matches!(e, Expr::Load { buf: b, idx } if elsewhere(b, idx))))
        })
    })
}

/// Check every invariant listed in this module.
///
/// # Errors
/// All violations found, in program order.
pub fn verify_loops(lp: &LoopProgram) -> Result<(), LoopVerifyErrors> {
    let mut v = Verifier { lp, errors: vec![], location: "buffers".into(), defined: HashSet::new() };
    v.buffers();
    let mut written: HashSet<BufId> = HashSet::new();
    for k in &lp.kernels {
        v.location = format!("kernel {}", k.name);
        let mut scope = Scope::default();
        for (var, d) in &k.domain {
            v.define(*var, DType::I64, false, Some(*d), &mut scope);
            v.dim(*d);
        }
        v.stmts(&k.body, &mut scope);
        v.hint(k);
        let mut reads = vec![];
        let mut writes = vec![];
        super::buffer_accesses(&k.body, &mut reads, &mut writes);
        for b in reads {
            let own_slab = writes.contains(&b) && k.domain.first().is_some_and(|(d, _)| slab_only(&k.body, b, *d));
            if lp.buffers.get(b.index()).is_some_and(|x| x.kind != BufKind::Input) && !written.contains(&b) && !own_slab
            {
                let name = lp.buffer(b).name.clone();
                v.error(format!("reads `{name}` before any earlier kernel writes it"));
            }
        }
        written.extend(writes);
    }
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(LoopVerifyErrors(v.errors))
    }
}

/// What is known about a variable in scope.
#[derive(Clone, Copy)]
struct VarInfo {
    ty: DType,
    mutable: bool,
    /// The dimension whose range `0..d` provably contains the variable's value.
    range: Option<Dim>,
    /// Bound by a `let` to a constant (its range is then `k + 1`).
    konst: bool,
}

#[derive(Default, Clone)]
struct Scope {
    vars: HashMap<Var, VarInfo>,
}

struct Verifier<'a> {
    lp: &'a LoopProgram,
    errors: Vec<LoopVerifyError>,
    location: String,
    defined: HashSet<Var>,
}

impl Verifier<'_> {
    fn error(&mut self, message: String) {
        self.errors.push(LoopVerifyError { program: self.lp.name.clone(), location: self.location.clone(), message });
    }

    fn dim(&mut self, d: Dim) {
        if let Dim::Sym(s) = d {
            if s.0 as usize >= self.lp.syms.len() {
                self.error(format!("dimension names symbol #{} which does not exist", s.0));
            }
        }
    }

    fn buffers(&mut self) {
        let lp = self.lp;
        for d in &lp.derived {
            self.dim(Dim::Sym(d.sym));
            for x in d.def.dims() {
                self.dim(x);
            }
            if matches!(d.def, crate::program::SymDef::Slice { range, .. } if range.step == 0) {
                self.error(format!("derived symbol `{}` has step 0", lp.dim_text(Dim::Sym(d.sym))));
            }
            for k in d.def.params() {
                let ok = lp
                    .params
                    .get(k as usize)
                    .and_then(|b| lp.buffers.get(b.index()))
                    .is_some_and(|b| b.shape.is_empty() && b.dtype.is_int());
                if !ok {
                    self.error(format!("shape parameter `p{k}` is not a scalar integer parameter"));
                }
            }
        }
        let mut names = HashSet::new();
        for b in &lp.buffers {
            if !names.insert(b.name.as_str()) {
                self.error(format!("buffer `{}` declared twice", b.name));
            }
            for d in &b.shape {
                self.dim(*d);
            }
        }
        let of_kind = |k: BufKind| -> Vec<BufId> {
            lp.buffers.iter().enumerate().filter(|(_, b)| b.kind == k).map(|(i, _)| BufId(i as u32)).collect()
        };
        if lp.params != of_kind(BufKind::Input) {
            self.error("params are not exactly the input buffers in order".into());
        }
        if lp.outputs != of_kind(BufKind::Output) {
            self.error("outputs are not exactly the output buffers in order".into());
        }
    }

    fn define(&mut self, var: Var, ty: DType, mutable: bool, range: Option<Dim>, scope: &mut Scope) {
        if !self.defined.insert(var) {
            self.error(format!("variable {var} defined twice"));
        }
        scope.vars.insert(var, VarInfo { ty, mutable, range, konst: false });
    }

    fn stmts(&mut self, body: &[Stmt], scope: &mut Scope) {
        for s in body {
            match s {
                Stmt::Let { var, ty, value } => {
                    let (t, range) = match value {
                        Expr::Check(e, d) => {
                            self.expect_ty(e, DType::I64, scope, "checked index");
                            self.dim(*d);
                            (Some(DType::I64), Some(*d))
                        }
                        Expr::Var(v) => (self.expr(value, scope), scope.vars.get(v).and_then(|i| i.range)),
                        Expr::Const(Scalar::I64(k)) => (Some(DType::I64), constant_range(*k)),
                        _ => (self.expr(value, scope), None),
                    };
                    if t.is_some_and(|t| t != *ty) {
                        self.error(format!("let {var}: {ty} is given a value of type {}", fmt_ty(t)));
                    }
                    self.define(*var, *ty, false, range, scope);
                    if let (Expr::Const(_), Some(info)) = (value, scope.vars.get_mut(var)) {
                        info.konst = true;
                    }
                }
                Stmt::Mut { var, ty, init } => {
                    self.expect_ty(init, *ty, scope, "mut initial value");
                    self.define(*var, *ty, true, None, scope);
                }
                Stmt::Assign { var, value } => match scope.vars.get(var).copied() {
                    None => self.error(format!("assignment to {var}, which is not in scope")),
                    Some(info) if !info.mutable => self.error(format!("assignment to immutable {var}")),
                    Some(info) => self.expect_ty(value, info.ty, scope, "assigned value"),
                },
                Stmt::Store { buf, idx, value } => {
                    let Some(b) = self.lp.buffers.get(buf.index()) else {
                        self.error(format!("store to buffer #{} which does not exist", buf.0));
                        continue;
                    };
                    if b.kind == BufKind::Input {
                        self.error(format!("store to input buffer `{}`", b.name));
                    }
                    self.indices(*buf, idx, scope);
                    self.expect_ty(value, b.dtype, scope, "stored value");
                }
                Stmt::For { var, extent, body } => {
                    self.dim(*extent);
                    let mut inner = scope.clone();
                    self.define(*var, DType::I64, false, Some(*extent), &mut inner);
                    self.stmts(body, &mut inner);
                }
                Stmt::ForRange { var, extent, start, end, body } => {
                    self.dim(*extent);
                    self.expect_ty(start, DType::I64, scope, "range start");
                    self.expect_ty(end, DType::I64, scope, "range end");
                    let mut inner = scope.clone();
                    self.define(*var, DType::I64, false, Some(*extent), &mut inner);
                    self.stmts(body, &mut inner);
                }
                Stmt::If { cond, then, els } => {
                    self.expect_ty(cond, DType::Bool, scope, "if condition");
                    self.stmts(then, &mut scope.clone());
                    self.stmts(els, &mut scope.clone());
                }
                Stmt::Flag(_) => {}
            }
        }
    }

    fn expect_ty(&mut self, e: &Expr, ty: DType, scope: &Scope, what: &str) {
        if let Some(t) = self.expr(e, scope) {
            if t != ty {
                self.error(format!("{what} has type {t}, expected {ty}"));
            }
        }
    }

    /// Whether index `e` is provably inside `0..d`.
    fn proven(&self, e: &Expr, d: Dim, scope: &Scope) -> bool {
        match e {
            Expr::Var(v) => match (scope.vars.get(v).and_then(|i| i.range), d) {
                (Some(r), d) if r == d => true,
                // A `let` of a constant `k` has range `k + 1`, inside every longer axis.
                (Some(Dim::Const(r)), Dim::Const(c)) => scope.vars.get(v).is_some_and(|i| i.konst) && r <= c,
                _ => false,
            },
            Expr::Check(_, cd) => *cd == d,
            Expr::Const(Scalar::I64(k)) => matches!(d, Dim::Const(c) if *k >= 0 && (*k as u64) < c),
            _ => false,
        }
    }

    fn indices(&mut self, buf: BufId, idx: &[Expr], scope: &Scope) {
        let Some(b) = self.lp.buffers.get(buf.index()) else {
            self.error(format!("access to buffer #{} which does not exist", buf.0));
            return;
        };
        if idx.len() != b.shape.len() {
            self.error(format!("`{}` has rank {} but is indexed with {} indices", b.name, b.shape.len(), idx.len()));
            return;
        }
        for (axis, (e, d)) in idx.iter().zip(&b.shape).enumerate() {
            if let Expr::Check(..) = e {
                self.error(format!("check used inside an index of `{}` instead of as a let value", b.name));
            }
            self.expect_ty(e, DType::I64, scope, "index");
            if !self.proven(e, *d, scope) {
                let name = b.name.clone();
                self.error(format!("index {} of `{name}` axis {axis} is not provably in range", self.text(e)));
            }
        }
    }

    /// Invariant 9: the shape `k`'s hint promises.
    fn hint(&mut self, k: &super::Kernel) {
        let word = k.hint.keyword().unwrap_or_default();
        let mut ranges = false;
        k.body.iter().for_each(|s| s.walk(&mut |s| ranges |= matches!(s, Stmt::ForRange { .. })));
        match k.hint {
            super::KernelHint::TwoPhase | super::KernelHint::Scatter | super::KernelHint::Scan => {
                if !matches!(k.domain.first(), Some((_, Dim::Const(_)))) {
                    self.error(format!("a `{word}` kernel's first domain axis is no constant chunk count"));
                }
                if !ranges {
                    self.error(format!("a `{word}` kernel has no `for .. from .. to ..` over its chunk"));
                }
            }
            super::KernelHint::Gemm | super::KernelHint::GemmSplitK => {
                if let Err(why) = super::GemmStep::of(k) {
                    self.error(why);
                }
            }
            super::KernelHint::Sort if !matches!(k.domain.first(), Some((_, Dim::Const(1)))) => {
                self.error(format!("a `{word}` kernel's first domain axis does not have extent 1"));
            }
            _ => {}
        }
    }

    fn text(&self, e: &Expr) -> String {
        // Render through a one-statement program so the index reads like the IR text.
        let mut lp = self.lp.clone();
        lp.kernels = vec![super::Kernel {
            name: "_".into(),
            domain: vec![],
            hint: super::KernelHint::Plain,
            body: vec![Stmt::Let { var: Var(0), ty: DType::I64, value: e.clone() }],
        }];
        let s = lp.to_string();
        s.lines().find_map(|l| l.trim().strip_prefix("let v0: i64 = ").map(str::to_string)).unwrap_or_default()
    }

    /// The type of `e`, or `None` after reporting why it has none.
    fn expr(&mut self, e: &Expr, scope: &Scope) -> Option<DType> {
        match e {
            Expr::Var(v) => match scope.vars.get(v) {
                Some(i) => Some(i.ty),
                None => {
                    self.error(format!("{v} is used outside the scope of its definition"));
                    None
                }
            },
            Expr::Const(c) => Some(c.dtype()),
            Expr::Dim(d) => {
                self.dim(*d);
                Some(DType::I64)
            }
            Expr::Load { buf, idx } => {
                self.indices(*buf, idx, scope);
                self.lp.buffers.get(buf.index()).map(|b| b.dtype)
            }
            Expr::Check(..) => {
                self.error("check used inside an expression instead of as a let value".into());
                Some(DType::I64)
            }
            Expr::Unary(op, a) => {
                let t = self.expr(a, scope)?;
                let ok = match op {
                    UnOp::Not => !t.is_float(),
                    UnOp::Neg => t.is_signed(),
                    UnOp::Abs => t != DType::Bool,
                    UnOp::CountOnes => t.is_int(),
                    _ => t.is_float(),
                };
                if !ok {
                    self.error(format!("{} applied to {t}", op.name()));
                }
                Some(t)
            }
            Expr::Binary(op, a, b) => {
                let (ta, tb) = (self.expr(a, scope)?, self.expr(b, scope)?);
                if ta != tb {
                    self.error(format!("{} applied to {ta} and {tb}", op.name()));
                }
                if op.float_only() && !ta.is_float() {
                    self.error(format!("{} applied to {ta}", op.name()));
                }
                if op.is_shift() && !ta.is_int() {
                    self.error(format!("{} applied to {ta}", op.name()));
                }
                if op.is_logical() && ta.is_float() {
                    self.error(format!("{} applied to {ta}", op.name()));
                }
                Some(if op.is_comparison() { DType::Bool } else { ta })
            }
            Expr::Select(c, a, b) => {
                self.expect_ty(c, DType::Bool, scope, "select condition");
                let (ta, tb) = (self.expr(a, scope)?, self.expr(b, scope)?);
                if ta != tb {
                    self.error(format!("select branches have types {ta} and {tb}"));
                }
                Some(ta)
            }
            Expr::MulAdd(a, b, c) => {
                let (ta, tb, tc) = (self.expr(a, scope)?, self.expr(b, scope)?, self.expr(c, scope)?);
                if ta != tb || ta != tc || !ta.is_float() {
                    self.error(format!("mul_add applied to {ta}, {tb} and {tc}"));
                }
                Some(ta)
            }
            Expr::Cast(t, a) => {
                self.expr(a, scope)?;
                Some(*t)
            }
            Expr::Bitcast(t, a) => {
                let from = self.expr(a, scope)?;
                if !Scalar::bitcast_defined(from, *t) {
                    self.error(format!("bitcast from {from} to {t}"));
                }
                Some(*t)
            }
        }
    }
}

/// A constant index `k` is inside `0..k+1`.
fn constant_range(k: i64) -> Option<Dim> {
    u64::try_from(k).ok().map(|k| Dim::Const(k + 1))
}

fn fmt_ty(t: Option<DType>) -> String {
    t.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
}
