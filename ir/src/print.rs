//! The array IR's text format, printing side: `Display` for [`Program`] and name-aware
//! display adaptors for [`Type`] and [`Dim`].
//!
//! One line per node, Cranelift style, read back by [`crate::parse`]:
//!
//! ```text
//! kernel nearest(x: f32[n, d], c: f32[k, d]) -> (i64[n], f32[n]) {
//!   v0: f32[n, d] = param 0
//!   v1: i64[] = index i0
//!   v5: f32[] = load v0 [v1, v3]
//!   v9: f32[] = range_reduce sum (i2 < d) v8
//!   v10: f32[n, k] = generate (i0 < n, i1 < k) v9
//!   v11: i64[n] = reduce argmin v10 axes [1]
//!   return v11, v12
//! }
//! ```
//!
//! * A generic kernel is marked `kernel name<F>(...)` and its generic float prints as `F`.
//! * Symbols print by name, constant dimensions as numbers, scalars as `f32[]`.
//! * Symbols are numbered in order of first appearance in the text. When the program's own
//!   symbol list differs from that order (or holds a symbol nothing uses), the body starts
//!   with an explicit `syms n, d, k` line, so every valid program round-trips exactly.
//! * Float constants print with Rust's shortest round-trip `{:?}` form (`0.1`, `1e300`,
//!   `inf`, `-inf`, `NaN`); integer constants print without a decimal point, so the literal's
//!   kind survives too.
//!
//! The printer never panics, even on programs the verifier rejects: an out-of-range symbol
//! prints as `?sN` and the type of an undefined output as `?` (such text does not parse).

use crate::program::{AxisSlice, Literal, Op, Program, UnOp, VarId};
use crate::types::{Dim, SymId, Type};
use std::fmt;

/// Displays a [`Dim`] with its symbol's name (see [`Dim::display`]).
pub struct DimDisplay<'a> {
    program: &'a Program,
    dim: Dim,
}

/// Displays a [`Type`] as `f32[n, 3]` with symbol names (see [`Type::display`]).
pub struct TypeDisplay<'a> {
    program: &'a Program,
    ty: &'a Type,
}

impl Dim {
    /// This dimension as IR text: the symbol's name in `program`, or the constant.
    pub fn display(self, program: &Program) -> DimDisplay<'_> {
        DimDisplay { program, dim: self }
    }
}

impl Type {
    /// This type as IR text (`f32[n, d]`, `i64[]`), with symbol names from `program`.
    pub fn display<'a>(&'a self, program: &'a Program) -> TypeDisplay<'a> {
        TypeDisplay { program, ty: self }
    }
}

impl fmt::Display for DimDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dim {
            Dim::Const(c) => write!(f, "{c}"),
            Dim::Sym(s) => match self.program.syms.get(s.0 as usize) {
                Some(name) => f.write_str(name),
                None => write!(f, "?s{}", s.0),
            },
        }
    }
}

impl fmt::Display for TypeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[", self.ty.elem)?;
        write_dims(f, self.program, &self.ty.shape)?;
        f.write_str("]")
    }
}

fn write_dims(f: &mut fmt::Formatter<'_>, p: &Program, dims: &[Dim]) -> fmt::Result {
    for (i, d) in dims.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", d.display(p))?;
    }
    Ok(())
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

fn write_bindings(f: &mut fmt::Formatter<'_>, p: &Program, vars: &[VarId], extents: &[Dim]) -> fmt::Result {
    f.write_str("(")?;
    // A binder whose lists differ in length is invalid; print the longer one so nothing is hidden.
    for i in 0..vars.len().max(extents.len()) {
        if i > 0 {
            f.write_str(", ")?;
        }
        match vars.get(i) {
            Some(v) => write!(f, "{v}")?,
            None => f.write_str("?")?,
        }
        match extents.get(i) {
            Some(e) => write!(f, " < {}", e.display(p))?,
            None => f.write_str(" < ?")?,
        }
    }
    f.write_str(")")
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `{:?}` is the shortest text that parses back to the same f64 and always marks a
            // float (`1.0`, `1e300`, `inf`, `NaN`), so integer and float literals stay apart.
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Writes the right-hand side of a node line (`binary add v0 v4`).
fn write_op(f: &mut fmt::Formatter<'_>, p: &Program, op: &Op) -> fmt::Result {
    match op {
        Op::Param(i) => write!(f, "param {i}"),
        Op::Const(l) => write!(f, "const {l}"),
        Op::DimValue(d) => write!(f, "dim {}", d.display(p)),
        Op::Index(v) => write!(f, "index {v}"),
        Op::Unary(UnOp::PowI(n), a) => write!(f, "unary powi.{n} {a}"),
        Op::Unary(u, a) => write!(f, "unary {} {a}", u.name()),
        Op::Binary(b, x, y) => write!(f, "binary {} {x} {y}", b.name()),
        Op::Select(c, a, b) => write!(f, "select {c} {a} {b}"),
        Op::MulAdd(a, b, c) => write!(f, "mul_add {a} {b} {c}"),
        Op::Cast(a) => write!(f, "cast {a}"),
        Op::Broadcast(a) => write!(f, "broadcast {a}"),
        Op::Transpose(a, perm) => {
            write!(f, "transpose {a} [")?;
            write_list(f, perm)?;
            f.write_str("]")
        }
        Op::InsertAxis(a, axis) => write!(f, "insert_axis {a} {axis}"),
        Op::Slice(a, axes) => {
            write!(f, "slice {a} [")?;
            for (i, s) in axes.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                match s {
                    AxisSlice::Range(r) => f.write_str(&crate::shapes::range_text(r))?,
                    AxisSlice::Index(b) => f.write_str(&crate::shapes::bound_text(*b))?,
                }
            }
            f.write_str("]")
        }
        Op::Reduce { op, arg, axes } => {
            write!(f, "reduce {} {arg} axes [", op.name())?;
            write_list(f, axes)?;
            f.write_str("]")
        }
        Op::Scan { op, arg, axis } => write!(f, "scan {} {arg} axis {axis}", op.name()),
        Op::TopK { arg, axis, k, largest, indices } => {
            let which = if *largest { "largest" } else { "smallest" };
            let what = if *indices { "indices" } else { "values" };
            write!(f, "topk {which} {what} {arg} axis {axis} k {}", k.display(p))
        }
        Op::Sort { arg, axis, indices } => {
            write!(f, "{} {arg} axis {axis}", if *indices { "argsort" } else { "sort" })
        }
        Op::Load { array, indices } => {
            write!(f, "load {array} [")?;
            write_list(f, indices)?;
            f.write_str("]")
        }
        Op::Generate { vars, extents, body } => {
            f.write_str("generate ")?;
            write_bindings(f, p, vars, extents)?;
            write!(f, " {body}")
        }
        Op::RangeReduce { op, vars, extents, body } => {
            write!(f, "range_reduce {} ", op.name())?;
            write_bindings(f, p, vars, extents)?;
            write!(f, " {body}")
        }
    }
}

/// The dimensions an op mentions besides its node's type (in text order).
pub(crate) fn op_dims(op: &Op) -> &[Dim] {
    match op {
        Op::DimValue(d) => std::slice::from_ref(d),
        Op::Generate { extents, .. } | Op::RangeReduce { extents, .. } => extents,
        Op::TopK { k, .. } => std::slice::from_ref(k),
        _ => &[],
    }
}

/// The symbols of `p` in order of first appearance in its text (header parameters, header
/// outputs, then each node's type and op). The parser numbers symbols in this order when
/// the text has no `syms` line, so the printer emits one exactly when this differs.
fn text_sym_order(p: &Program) -> Vec<SymId> {
    let mut order: Vec<SymId> = Vec::new();
    let mut see = |dims: &[Dim]| {
        for d in dims {
            if let Dim::Sym(s) = d {
                if !order.contains(s) {
                    order.push(*s);
                }
            }
        }
    };
    for param in &p.params {
        see(&param.ty.shape);
    }
    for o in &p.outputs {
        if let Some(n) = p.nodes.get(o.index()) {
            see(&n.ty.shape);
        }
    }
    for n in &p.nodes {
        see(&n.ty.shape);
        see(op_dims(&n.op));
    }
    order
}

/// True when the text of `p` needs an explicit `syms` line to restore `p.syms` exactly.
fn needs_syms_line(p: &Program) -> bool {
    if !p.derived.is_empty() {
        // Derived symbols are declared by name, so every symbol is listed up front.
        return true;
    }
    let order = text_sym_order(p);
    order.len() != p.syms.len() || order.iter().enumerate().any(|(i, s)| s.0 as usize != i)
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kernel {}", self.name)?;
        if self.is_generic() {
            f.write_str("<F>")?;
        }
        f.write_str("(")?;
        for (i, param) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}: {}", param.name, param.ty.display(self))?;
        }
        f.write_str(") -> ")?;
        let out_ty = |f: &mut fmt::Formatter<'_>, o: &crate::NodeId| match self.nodes.get(o.index()) {
            Some(n) => write!(f, "{}", n.ty.display(self)),
            None => f.write_str("?"),
        };
        if self.outputs.len() == 1 {
            out_ty(f, &self.outputs[0])?;
        } else {
            f.write_str("(")?;
            for (i, o) in self.outputs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                out_ty(f, o)?;
            }
            f.write_str(")")?;
        }
        f.write_str(" {\n")?;
        if needs_syms_line(self) {
            f.write_str("  syms")?;
            for (i, s) in self.syms.iter().enumerate() {
                f.write_str(if i == 0 { " " } else { ", " })?;
                f.write_str(s)?;
            }
            f.write_str("\n")?;
        }
        for d in &self.derived {
            let name = Dim::Sym(d.sym);
            let def = d.def.text(&|x: Dim| x.display(self).to_string());
            writeln!(f, "  derive {} = {def}", name.display(self))?;
        }
        for (i, n) in self.nodes.iter().enumerate() {
            write!(f, "  v{i}: {} = ", n.ty.display(self))?;
            write_op(f, self, &n.op)?;
            f.write_str("\n")?;
        }
        f.write_str("  return")?;
        for (i, o) in self.outputs.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            write!(f, "{o}")?;
        }
        f.write_str("\n}\n")
    }
}
