//! The array IR verifier: checks that a [`Program`] obeys every rule of [`crate::program`],
//! and reports *all* violations, each naming where it is (`v7`, `param 1`, `output 0`).
//!
//! Every pass is verified after it runs, so a broken invariant is caught at the pass that
//! broke it rather than as a wrong answer in a backend. Invariants checked:
//!
//! **Names and symbols**
//! * The kernel name, parameter names and symbol names are identifiers (so the text format
//!   can print them); parameter names are distinct, symbol names are distinct.
//! * Every [`SymId`] (in parameter types, node types, `dim`, binder extents) is in range.
//! * Every symbol used by a node is bound by some parameter's shape or derived (otherwise
//!   its value would be unknown at call time).
//! * Derived symbols: each is derived once and bound by no parameter; every dimension its
//!   definition reads is a constant, a parameter-bound symbol or an earlier derived symbol; a
//!   slice's step is not 0; the parameters it reads (slice bounds, `k as usize` extents) are
//!   rank-0 integer parameters.
//!
//! **Dataflow**
//! * Operands precede their users (so every sweep is a single forward pass).
//! * `param i`: `i` is a parameter index and the node's type is that parameter's type.
//! * Every output is an existing node.
//!
//! **Types of each op** (see each [`Op`] variant's documentation)
//! * `const`: rank 0; the literal's kind matches the element type (float literal for floats,
//!   integer for integers, bool for bool) and an integer fits the integer type.
//! * `dim` and `index`: `i64[]`.
//! * `unary`: same type as the operand; float-only ops on floats; `neg` on signed types;
//!   `not` on bool or integers; `abs` not on bool.
//! * `binary`: operands of one element type; arithmetic (`add` .. `max`) not on bool; `pow`
//!   on floats; `and`/`or`/`xor` on bool or integers; comparisons give bool, the others the
//!   operand type; the shape is the numpy broadcast of the operand shapes, where two dims
//!   agree when they are the same [`Dim`] and `Const(1)` broadcasts ([`broadcast_shapes`]).
//! * `select`: the condition is bool, both branches have the node's element type, and the
//!   shape is the broadcast of the three shapes.
//! * `cast`: same shape as the operand; no conversion *to* bool (Rust `as` has none).
//! * `broadcast`: same element type; the operand broadcasts to the node's shape.
//! * `transpose`: the permutation is a permutation of the operand's axes; result axis `k`
//!   is operand axis `perm[k]`.
//! * `insert_axis`: the position is at most the operand's rank; a `1` is inserted there.
//! * `slice`: one entry per operand axis; steps are not 0; a parameter bound names a rank-0
//!   integer parameter; index entries drop their axis, and range entries keep it with the
//!   length [`crate::shapes::slice_dim`] gives: that dimension itself, or a derived symbol
//!   whose definition is exactly the canonical one; with a constant operand dimension and
//!   literal bounds, the slice (or index) is in range.
//! * `reduce`: axes strictly increasing and in range; the result drops them; `argmin` /
//!   `argmax` give `i64`, the others keep the element type; `sum`/`prod` not on bool
//!   (`min`/`max` of bool are all/any).
//! * `scan`: `sum`, `prod`, `min` or `max` (no arg reduction) along an axis below the rank;
//!   the result has the operand's type; `sum`/`prod` not on bool.
//! * `sort` / `argsort`: an axis below the rank; the operand's shape, with its element type
//!   (`sort`) or `i64` (`argsort`).
//! * `topk`: an axis below the rank; the operand's shape with `k` on that axis, with its
//!   element type (`values`) or `i64` (`indices`).
//! * `load`: the array operand is array-level (no free index variables); one index per axis;
//!   each index is a rank-0 integer; the result is a scalar of the array's element type.
//! * `generate`: as many variables as extents; the body is rank 0; the node's type is the
//!   body's element type over the extents.
//! * `range_reduce`: as many variables as extents; the body is rank 0; the result is a
//!   scalar typed like `reduce`'s.
//!
//! **Index variables** (computed like [`Program::free_vars`], robust to broken operands)
//! * Each variable is bound by exactly one `generate`/`range_reduce` in the whole program,
//!   and the variables of one binder are distinct.
//! * Every `index iN` names a variable that some node binds.
//! * Free variables never escape their binder's body: nodes of rank > 0, the array operand
//!   of a `load`, and outputs have no free index variables. (An unused node with free
//!   variables is dead code, left for dead-code elimination, and is allowed.)

use crate::program::{AxisSlice, BinOp, Literal, NodeId, Op, Program, ReduceOp, SliceBound, SymDef, UnOp, VarId};
use crate::types::{DType, Dim, ElemTy, Type};
use std::collections::HashMap;
use std::fmt;
use thiserror::Error;

/// Where a verifier error is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// The kernel as a whole (its name or symbol list).
    Kernel,
    /// The parameter with this index.
    Param(usize),
    /// A node.
    Node(NodeId),
    /// The output with this position in [`Program::outputs`].
    Output(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Kernel => f.write_str("kernel"),
            Location::Param(i) => write!(f, "param {i}"),
            Location::Node(v) => write!(f, "{v}"),
            Location::Output(i) => write!(f, "output {i}"),
        }
    }
}

/// One broken invariant: where, and which rule (in words).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{location}: {message}")]
#[non_exhaustive]
pub struct VerifyError {
    pub location: Location,
    pub message: String,
}

/// Every invariant a program breaks (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyErrors(pub Vec<VerifyError>);

impl fmt::Display for VerifyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} verifier error{}:", self.0.len(), if self.0.len() == 1 { "" } else { "s" })?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyErrors {}

/// Check every invariant listed in this module's documentation.
///
/// # Errors
/// All broken invariants, in program order.
pub fn verify(p: &Program) -> Result<(), VerifyErrors> {
    let mut v = Verifier { p, errors: Vec::new(), free: Vec::with_capacity(p.nodes.len()), ok: Vec::new() };
    v.check_names();
    v.check_derived();
    v.check_binders();
    for i in 0..p.nodes.len() {
        v.check_node(NodeId(i as u32));
    }
    v.check_outputs();
    v.check_syms_bound();
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyErrors(v.errors))
    }
}

/// The numpy broadcast of two shapes (right-aligned; two dims agree when they are the same
/// [`Dim`], and `Const(1)` stretches to the other), or `None` when they cannot broadcast.
pub fn broadcast_shapes(a: &[Dim], b: &[Dim]) -> Option<Vec<Dim>> {
    let rank = a.len().max(b.len());
    let mut out = Vec::with_capacity(rank);
    for k in 0..rank {
        let da = (k + a.len()).checked_sub(rank).map(|i| a[i]);
        let db = (k + b.len()).checked_sub(rank).map(|i| b[i]);
        out.push(match (da, db) {
            (Some(x), None) | (None, Some(x)) => x,
            (Some(x), Some(y)) if x == y => x,
            (Some(x), Some(y)) if x.is_one() => y,
            (Some(x), Some(y)) if y.is_one() => x,
            _ => return None,
        });
    }
    Some(out)
}

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Verifier<'a> {
    p: &'a Program,
    errors: Vec<VerifyError>,
    /// Free index variables of each node checked so far (empty for broken nodes).
    free: Vec<Vec<VarId>>,
    /// Whether each node checked so far has valid operands (so its type can be trusted).
    ok: Vec<bool>,
}

impl Verifier<'_> {
    fn err(&mut self, location: Location, message: String) {
        self.errors.push(VerifyError { location, message });
    }

    fn node_err(&mut self, id: NodeId, message: String) {
        self.err(Location::Node(id), message);
    }

    fn show(&self, t: &Type) -> String {
        t.display(self.p).to_string()
    }

    fn check_names(&mut self) {
        let p = self.p;
        if !is_ident(&p.name) {
            self.err(Location::Kernel, format!("kernel name `{}` is not an identifier", p.name));
        }
        for (i, s) in p.syms.iter().enumerate() {
            if !is_ident(s) {
                self.err(Location::Kernel, format!("symbol name `{s}` is not an identifier"));
            }
            if p.syms[..i].contains(s) {
                self.err(Location::Kernel, format!("symbol `{s}` is declared twice"));
            }
        }
        for (i, param) in p.params.iter().enumerate() {
            if !is_ident(&param.name) {
                self.err(Location::Param(i), format!("parameter name `{}` is not an identifier", param.name));
            }
            if p.params[..i].iter().any(|q| q.name == param.name) {
                self.err(Location::Param(i), format!("parameter name `{}` is used twice", param.name));
            }
            self.check_dims(Location::Param(i), &param.ty.shape);
        }
    }

    fn check_dims(&mut self, at: Location, dims: &[Dim]) {
        for d in dims {
            if let Dim::Sym(s) = d {
                if s.0 as usize >= self.p.syms.len() {
                    self.err(at.clone(), format!("symbol id {} is out of range ({} symbols)", s.0, self.p.syms.len()));
                }
            }
        }
    }

    /// The derived-symbol invariants of the module documentation.
    fn check_derived(&mut self) {
        let p = self.p;
        let mut param_bound = vec![false; p.syms.len()];
        for d in p.params.iter().flat_map(|q| &q.ty.shape) {
            if let Some(b) = sym_index(*d).and_then(|s| param_bound.get_mut(s)) {
                *b = true;
            }
        }
        let mut ready = param_bound.clone();
        for (i, d) in p.derived.iter().enumerate() {
            let s = d.sym.0 as usize;
            let name = p.syms.get(s).cloned().unwrap_or_else(|| format!("?s{s}"));
            if s >= p.syms.len() {
                self.err(Location::Kernel, format!("derived symbol id {s} is out of range ({} symbols)", p.syms.len()));
            } else if param_bound[s] {
                self.err(Location::Kernel, format!("derived symbol `{name}` is also bound by a parameter"));
            } else if p.derived[..i].iter().any(|e| e.sym == d.sym) {
                self.err(Location::Kernel, format!("symbol `{name}` is derived twice"));
            }
            let of_ok = d.def.dims().iter().all(|x| match x {
                Dim::Const(_) => true,
                Dim::Sym(o) => ready.get(o.0 as usize).copied().unwrap_or(false),
            });
            if !of_ok {
                self.err(Location::Kernel, format!("derived symbol `{name}` reads a symbol not bound before it"));
            }
            if matches!(d.def, SymDef::Slice { range, .. } if range.step == 0) {
                self.err(Location::Kernel, format!("derived symbol `{name}` has step 0"));
            }
            for k in d.def.params() {
                self.check_bound_param(Location::Kernel, k);
            }
            if let Some(r) = ready.get_mut(s) {
                *r = true;
            }
        }
    }

    /// A slice bound read from parameter `k` must be a rank-0 integer parameter.
    fn check_bound_param(&mut self, at: Location, k: u32) {
        match self.p.params.get(k as usize) {
            Some(q) if q.ty.is_scalar() && q.ty.elem.is_int() => {}
            Some(q) => {
                let t = self.show(&q.ty);
                self.err(at, format!("slice bound `p{k}` (`{}`) is `{t}`, not a scalar integer", q.name))
            }
            None => self.err(at, format!("slice bound `p{k}` names no parameter")),
        }
    }

    /// Each variable bound exactly once, by one binder with distinct variables; every
    /// `index` names a bound variable.
    fn check_binders(&mut self) {
        let mut binder: HashMap<VarId, NodeId> = HashMap::new();
        for (i, n) in self.p.nodes.iter().enumerate() {
            let id = NodeId(i as u32);
            for (k, v) in n.op.bound_vars().iter().enumerate() {
                if n.op.bound_vars()[..k].contains(v) {
                    self.node_err(id, format!("binds index variable {v} twice"));
                } else if let Some(first) = binder.get(v) {
                    let first = *first;
                    self.node_err(id, format!("binds index variable {v}, already bound by {first}"));
                } else {
                    binder.insert(*v, id);
                }
            }
        }
        for (i, n) in self.p.nodes.iter().enumerate() {
            if let Op::Index(v) = n.op {
                if !binder.contains_key(&v) {
                    self.node_err(NodeId(i as u32), format!("index variable {v} is bound by no generate/range_reduce"));
                }
            }
        }
    }

    fn check_node(&mut self, id: NodeId) {
        let p = self.p;
        let node = &p.nodes[id.index()];
        self.check_dims(Location::Node(id), &node.ty.shape);
        self.check_dims(Location::Node(id), crate::print::op_dims(&node.op));
        let operands = node.op.operands();
        let mut ok = true;
        for o in &operands {
            if o.0 >= id.0 {
                self.node_err(id, format!("operand {o} does not precede its user"));
                ok = false;
            } else if !self.ok[o.index()] {
                ok = false;
            }
        }
        let free = if ok {
            let mut f: Vec<VarId> = match &node.op {
                Op::Index(v) => vec![*v],
                _ => operands.iter().flat_map(|o| self.free[o.index()].iter().copied()).collect(),
            };
            let bound = node.op.bound_vars();
            f.retain(|v| !bound.contains(v));
            f.sort();
            f.dedup();
            f
        } else {
            Vec::new()
        };
        if ok {
            if node.ty.rank() > 0 && !free.is_empty() {
                self.node_err(id, format!("has rank {} but uses index variables {}", node.ty.rank(), vars_text(&free)));
            }
            self.check_op(id);
        }
        self.free.push(free);
        self.ok.push(ok);
    }

    /// Report unless `actual == expected`.
    fn expect_ty(&mut self, id: NodeId, what: &str, expected: &Type) {
        let actual = &self.p.nodes[id.index()].ty;
        if actual != expected {
            let (e, a) = (self.show(expected), self.show(actual));
            self.node_err(id, format!("{what} gives `{e}`, but the node is typed `{a}`"));
        }
    }

    fn check_op(&mut self, id: NodeId) {
        let p = self.p;
        let node = &p.nodes[id.index()];
        let ty = |o: &NodeId| &p.nodes[o.index()].ty;
        match &node.op {
            Op::Param(i) => match p.params.get(*i as usize) {
                Some(param) => self.expect_ty(id, &format!("param {i} (`{}`)", param.name), &param.ty),
                None => self.node_err(id, format!("param {i} does not exist ({} parameters)", p.params.len())),
            },
            Op::Const(lit) => self.check_const(id, lit),
            Op::DimValue(_) => self.expect_ty(id, "dim", &Type::scalar(ElemTy::I64)),
            Op::Index(_) => self.expect_ty(id, "index", &Type::scalar(ElemTy::I64)),
            Op::Unary(u, a) => {
                let t = ty(a);
                let e = t.elem;
                let allowed = match u {
                    UnOp::Neg => e.is_float() || matches!(e, ElemTy::Concrete(DType::I32 | DType::I64)),
                    UnOp::Not => e.is_bool() || e.is_int(),
                    UnOp::Abs => !e.is_bool(),
                    UnOp::CountOnes => e.is_int(),
                    _ => e.is_float(),
                };
                if !allowed {
                    self.node_err(id, format!("unary {} is not defined on {e}", u.name()));
                }
                self.expect_ty(id, &format!("unary {}", u.name()), t);
            }
            Op::Binary(b, x, y) => {
                let (tx, ty_) = (ty(x), ty(y));
                if tx.elem != ty_.elem {
                    self.node_err(
                        id,
                        format!("binary {} operands differ in element type: {} and {}", b.name(), tx.elem, ty_.elem),
                    );
                }
                let e = tx.elem;
                let allowed = match b {
                    _ if b.float_only() => e.is_float(),
                    _ if b.is_shift() => e.is_int(),
                    BinOp::And | BinOp::Or | BinOp::Xor => e.is_bool() || e.is_int(),
                    _ if b.is_comparison() => true,
                    _ => !e.is_bool(),
                };
                if !allowed {
                    self.node_err(id, format!("binary {} is not defined on {e}", b.name()));
                }
                let elem = if b.is_comparison() { ElemTy::BOOL } else { e };
                self.expect_broadcast(id, &format!("binary {}", b.name()), elem, &[&tx.shape, &ty_.shape]);
            }
            Op::MulAdd(a, b, c) => {
                let ts = [ty(a), ty(b), ty(c)];
                if ts.iter().any(|t| t.elem != ts[0].elem || !t.elem.is_float() || t.rank() != 0) {
                    self.node_err(id, "mul_add takes three float scalars of one type".to_string());
                }
                self.expect_ty(id, "mul_add", &Type::scalar(ts[0].elem));
            }
            Op::Select(c, a, b) => {
                let (tc, ta, tb) = (ty(c), ty(a), ty(b));
                if !tc.elem.is_bool() {
                    self.node_err(id, format!("select condition {c} is {}, not bool", tc.elem));
                }
                if ta.elem != tb.elem {
                    self.node_err(id, format!("select branches differ in element type: {} and {}", ta.elem, tb.elem));
                }
                self.expect_broadcast(id, "select", ta.elem, &[&tc.shape, &ta.shape, &tb.shape]);
            }
            Op::Cast(a) => {
                let t = ty(a);
                if node.ty.elem.is_bool() && !t.elem.is_bool() {
                    self.node_err(id, format!("cast from {} to bool is not an `as` conversion", t.elem));
                }
                self.expect_ty(id, "cast", &Type::array(node.ty.elem, t.shape.clone()));
            }
            Op::Broadcast(a) => {
                let t = ty(a);
                let fits = t.rank() <= node.ty.rank()
                    && broadcast_shapes(&t.shape, &node.ty.shape).as_deref() == Some(&node.ty.shape[..]);
                if !fits {
                    let (from, to) = (self.show(t), self.show(&node.ty));
                    self.node_err(id, format!("`{from}` does not broadcast to `{to}`"));
                } else {
                    self.expect_ty(id, "broadcast", &Type::array(t.elem, node.ty.shape.clone()));
                }
            }
            Op::Transpose(a, perm) => {
                let t = ty(a);
                let mut seen = vec![false; t.rank()];
                let is_perm = perm.len() == t.rank()
                    && perm.iter().all(|&k| match seen.get_mut(k as usize) {
                        Some(s) if !*s => {
                            *s = true;
                            true
                        }
                        _ => false,
                    });
                if is_perm {
                    let shape = perm.iter().map(|&k| t.shape[k as usize]).collect();
                    self.expect_ty(id, "transpose", &Type::array(t.elem, shape));
                } else {
                    self.node_err(id, format!("transpose {perm:?} is not a permutation of {} axes", t.rank()));
                }
            }
            Op::InsertAxis(a, axis) => {
                let t = ty(a);
                if *axis as usize > t.rank() {
                    self.node_err(id, format!("insert_axis position {axis} is out of range for rank {}", t.rank()));
                } else {
                    let mut shape = t.shape.clone();
                    shape.insert(*axis as usize, Dim::Const(1));
                    self.expect_ty(id, "insert_axis", &Type::array(t.elem, shape));
                }
            }
            Op::Slice(a, axes) => self.check_slice(id, ty(a), axes),
            Op::Reduce { op, arg, axes } => {
                let t = ty(arg);
                let sorted = axes.windows(2).all(|w| w[0] < w[1]);
                let in_range = axes.iter().all(|&k| (k as usize) < t.rank());
                if !sorted || !in_range {
                    self.node_err(
                        id,
                        format!("reduce axes {axes:?} must be strictly increasing and below rank {}", t.rank()),
                    );
                } else {
                    self.check_reduce_elem(id, *op, t.elem);
                    let shape = t
                        .shape
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| !axes.contains(&(*k as u32)))
                        .map(|(_, d)| *d)
                        .collect();
                    let elem = if op.is_arg() { ElemTy::I64 } else { t.elem };
                    self.expect_ty(id, &format!("reduce {}", op.name()), &Type::array(elem, shape));
                }
            }
            Op::Scan { op, arg, axis } => {
                let t = ty(arg);
                if op.is_arg() {
                    self.node_err(id, format!("scan {} is not defined (scans fold sum, prod, min or max)", op.name()));
                } else if *axis as usize >= t.rank() {
                    self.node_err(id, format!("scan axis {axis} is out of range for rank {}", t.rank()));
                } else {
                    self.check_reduce_elem(id, *op, t.elem);
                    self.expect_ty(id, &format!("scan {}", op.name()), t);
                }
            }
            Op::TopK { arg, axis, k, indices, .. } => {
                let t = ty(arg);
                if *axis as usize >= t.rank() {
                    self.node_err(id, format!("topk axis {axis} is out of range for rank {}", t.rank()));
                } else {
                    let elem = if *indices { ElemTy::I64 } else { t.elem };
                    let mut shape = t.shape.clone();
                    shape[*axis as usize] = *k;
                    self.expect_ty(id, "topk", &Type::array(elem, shape));
                }
            }
            Op::Sort { arg, axis, indices } => {
                let t = ty(arg);
                if *axis as usize >= t.rank() {
                    self.node_err(id, format!("sort axis {axis} is out of range for rank {}", t.rank()));
                } else {
                    let elem = if *indices { ElemTy::I64 } else { t.elem };
                    let what = if *indices { "argsort" } else { "sort" };
                    self.expect_ty(id, what, &Type::array(elem, t.shape.clone()));
                }
            }
            Op::Load { array, indices } => {
                let t = ty(array);
                if !self.free[array.index()].is_empty() {
                    let vars = vars_text(&self.free[array.index()]);
                    self.node_err(id, format!("loads from {array}, which is not array-level (uses {vars})"));
                }
                if indices.len() != t.rank() {
                    self.node_err(id, format!("load has {} indices for an array of rank {}", indices.len(), t.rank()));
                }
                for ix in indices {
                    let ti = ty(ix);
                    if !(ti.is_scalar() && ti.elem.is_int()) {
                        let s = self.show(ti);
                        self.node_err(id, format!("load index {ix} is `{s}`, not a rank-0 integer"));
                    }
                }
                self.expect_ty(id, "load", &Type::scalar(t.elem));
            }
            Op::Generate { vars, extents, body } => {
                let tb = ty(body);
                self.check_binder_shape(id, vars, extents, tb);
                self.expect_ty(id, "generate", &Type::array(tb.elem, extents.clone()));
            }
            Op::RangeReduce { op, vars, extents, body } => {
                let tb = ty(body);
                self.check_binder_shape(id, vars, extents, tb);
                self.check_reduce_elem(id, *op, tb.elem);
                let elem = if op.is_arg() { ElemTy::I64 } else { tb.elem };
                self.expect_ty(id, &format!("range_reduce {}", op.name()), &Type::scalar(elem));
            }
        }
    }

    fn check_slice(&mut self, id: NodeId, t: &Type, axes: &[AxisSlice]) {
        if axes.len() != t.rank() {
            self.node_err(id, format!("slice has {} entries for an array of rank {}", axes.len(), t.rank()));
            return;
        }
        let mut shape = vec![];
        for (k, (s, &d)) in axes.iter().zip(&t.shape).enumerate() {
            match s {
                AxisSlice::Index(b) => match *b {
                    SliceBound::Param(q) => self.check_bound_param(Location::Node(id), q),
                    SliceBound::Const(i) => {
                        if let Dim::Const(n) = d {
                            if crate::shapes::resolve_index(n as usize, i).is_none() {
                                self.node_err(id, format!("index {i} is out of range for axis {k} of length {n}"));
                            }
                        }
                    }
                },
                AxisSlice::Range(r) => {
                    for q in r.params() {
                        self.check_bound_param(Location::Node(id), q);
                    }
                    match crate::shapes::slice_dim(d, r) {
                        Ok(crate::shapes::SliceDim::Dim(x)) => shape.push(x),
                        Ok(crate::shapes::SliceDim::Derived(of, canon)) => {
                            let def = SymDef::Slice { of, range: canon };
                            let found = self.p.derived.iter().find(|e| e.def == def).map(|e| e.sym);
                            match found {
                                Some(sym) => shape.push(Dim::Sym(sym)),
                                None => {
                                    let r = crate::shapes::range_text(&canon);
                                    let of = of.display(self.p).to_string();
                                    self.node_err(id, format!("axis {k}: no derived symbol is `{of}[{r}]`"));
                                    return;
                                }
                            }
                        }
                        Err(why) => {
                            self.node_err(id, format!("axis {k}: {why}"));
                            return;
                        }
                    }
                }
            }
        }
        self.expect_ty(id, "slice", &Type::array(t.elem, shape));
    }

    fn check_const(&mut self, id: NodeId, lit: &Literal) {
        let t = &self.p.nodes[id.index()].ty;
        if !t.is_scalar() {
            let s = self.show(t);
            self.node_err(id, format!("const must be rank 0, but the node is typed `{s}`"));
        }
        let e = t.elem;
        let fits = match (*lit, e) {
            (Literal::Float(_), e) => e.is_float(),
            (Literal::Bool(_), e) => e.is_bool(),
            (Literal::Int(i), ElemTy::Concrete(DType::I32)) => i32::try_from(i).is_ok(),
            (Literal::Int(i), ElemTy::Concrete(DType::U32)) => u32::try_from(i).is_ok(),
            (Literal::Int(_), e) => e == ElemTy::I64,
        };
        if !fits {
            self.node_err(id, format!("constant {lit} is not a valid {e}"));
        }
    }

    fn check_reduce_elem(&mut self, id: NodeId, op: ReduceOp, elem: ElemTy) {
        if matches!(op, ReduceOp::Sum | ReduceOp::Prod) && elem.is_bool() {
            self.node_err(id, format!("{} is not defined on bool (cast to an integer first)", op.name()));
        }
    }

    fn check_binder_shape(&mut self, id: NodeId, vars: &[VarId], extents: &[Dim], body: &Type) {
        if vars.len() != extents.len() {
            self.node_err(id, format!("binds {} variables but gives {} extents", vars.len(), extents.len()));
        }
        if !body.is_scalar() {
            let s = self.show(body);
            self.node_err(id, format!("body must be rank 0, but it is `{s}`"));
        }
    }

    fn expect_broadcast(&mut self, id: NodeId, what: &str, elem: ElemTy, shapes: &[&Vec<Dim>]) {
        let mut acc: Option<Vec<Dim>> = Some(Vec::new());
        for s in shapes {
            acc = acc.and_then(|a| broadcast_shapes(&a, s));
        }
        match acc {
            Some(shape) => self.expect_ty(id, what, &Type::array(elem, shape)),
            None => {
                let texts: Vec<String> =
                    shapes.iter().map(|s| crate::shapes::shape_text(self.p, s)).collect::<Vec<_>>();
                self.node_err(id, format!("{what}: operand shapes {} do not broadcast", texts.join(" and ")));
            }
        }
    }

    fn check_outputs(&mut self) {
        for (k, o) in self.p.outputs.iter().enumerate() {
            match self.free.get(o.index()) {
                None => self.err(Location::Output(k), format!("{o} does not exist")),
                Some(f) if !f.is_empty() => {
                    let vars = vars_text(f);
                    self.err(Location::Output(k), format!("{o} uses index variables {vars} outside their binder"))
                }
                Some(_) => {}
            }
        }
    }

    fn check_syms_bound(&mut self) {
        let p = self.p;
        let mut bound = vec![false; p.syms.len()];
        for d in &p.derived {
            if let Some(b) = bound.get_mut(d.sym.0 as usize) {
                *b = true;
            }
        }
        for param in &p.params {
            for d in &param.ty.shape {
                if let Some(b) = sym_index(*d).and_then(|s| bound.get_mut(s)) {
                    *b = true;
                }
            }
        }
        let mut reported = vec![false; p.syms.len()];
        for (i, n) in p.nodes.iter().enumerate() {
            for d in n.ty.shape.iter().chain(crate::print::op_dims(&n.op)) {
                if let Some(s) = sym_index(*d) {
                    if s < bound.len() && !bound[s] && !reported[s] {
                        reported[s] = true;
                        let name = &p.syms[s];
                        self.node_err(
                            NodeId(i as u32),
                            format!("uses symbol `{name}`, which no parameter's shape binds nor a slice derives"),
                        );
                    }
                }
            }
        }
    }
}

fn sym_index(d: Dim) -> Option<usize> {
    match d {
        Dim::Sym(s) => Some(s.0 as usize),
        Dim::Const(_) => None,
    }
}

fn vars_text(vars: &[VarId]) -> String {
    vars.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
}
