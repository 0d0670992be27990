//! The node builder: the program under construction, its shape symbols with their
//! union-find, lexical scopes, and the collected errors.
//!
//! Shape symbols are unified, never compared by name: two different symbols meeting in a
//! broadcast (or a bare comprehension index meeting an array axis) become one class, and a
//! class meeting a constant is fixed to it. [`Builder::finish`] renames every dimension to its
//! class representative, so the parameters' types in the final program carry the constraint
//! and the runtime checks it when binding arguments.

use crate::DslError;
use kiln_ir::{DerivedSym, Dim, DimOp, ElemTy, Literal, NodeId, Op, Program, SliceRange, SymDef, SymId, Type, VarId};
use proc_macro2::Span;
use std::collections::HashMap;

/// An error has been reported already; unwind the current statement.
#[derive(Debug)]
pub(crate) struct Fail;

pub(crate) type R<T> = Result<T, Fail>;

/// The value of an expression while it is being lowered.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    /// A typed node.
    Node(NodeId),
    /// A numeric literal whose type is not decided yet (it adopts the other operand's).
    Lit(Literal),
    /// A dimension (`n` from `let (n, d) = x.dim()`): an extent, or an `i64` value.
    Dim(Dim),
    /// The result of `x.dim()` on a rank >= 2 array.
    Dims(Vec<Dim>),
    /// A tuple expression `(a, b)`, with each element's span.
    Tuple(Vec<(Val, Span)>),
}

/// What a name in scope refers to.
#[derive(Clone, Debug)]
pub(crate) enum Binding {
    Val(Val),
    /// A comprehension or range-reduction index variable and the extent of its range.
    Index {
        var: VarId,
        extent: Dim,
    },
    /// The name's definition failed; uses are silently failed too.
    Poison,
}

struct SymInfo {
    name: String,
    user_named: bool,
    parent: usize,
    konst: Option<u64>,
}

pub(crate) struct Builder {
    pub prog: Program,
    pub generic: Option<syn::Ident>,
    syms: Vec<SymInfo>,
    free: Vec<Vec<VarId>>,
    next_var: u32,
    scopes: Vec<HashMap<String, Binding>>,
    pub errors: Vec<DslError>,
    /// Derived symbols (slice lengths, scalar and computed extents): the symbol, its
    /// definition and the span of the code that made it.
    derived: Vec<(SymId, SymDef, Span)>,
    /// The element type of a constructor without a turbofish (`Array1::zeros(n)`): the
    /// kernel's first return element type.
    pub default_elem: ElemTy,
}

impl Builder {
    pub fn new(name: &str, generic: Option<syn::Ident>) -> Builder {
        Builder {
            prog: Program::new(name),
            generic,
            syms: Vec::new(),
            free: Vec::new(),
            next_var: 0,
            scopes: vec![HashMap::new()],
            errors: Vec::new(),
            derived: Vec::new(),
            default_elem: ElemTy::F64,
        }
    }

    /// Record an error and return the marker that unwinds the statement.
    pub fn err(&mut self, span: Span, message: impl Into<String>) -> Fail {
        self.errors.push(DslError::new(span, message));
        Fail
    }

    // ---- scopes ----

    pub fn push_scope(&mut self) {
        self.scopes.push(HashMap::new());
    }

    pub fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    pub fn bind(&mut self, name: &str, b: Binding) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string(), b);
        }
    }

    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// The extent of the range index variable `var` ranges over, if it is in scope.
    pub fn var_extent(&self, var: VarId) -> Option<Dim> {
        self.scopes.iter().rev().flat_map(|s| s.values()).find_map(|b| match b {
            Binding::Index { var: v, extent } if *v == var => Some(*extent),
            _ => None,
        })
    }

    pub fn new_var(&mut self) -> VarId {
        self.next_var += 1;
        VarId(self.next_var - 1)
    }

    // ---- nodes ----

    /// Append a node; its free index variables are tracked so array-valued nodes that depend
    /// on an index variable can be rejected (they have no meaning in the array IR).
    pub fn push(&mut self, op: Op, ty: Type) -> NodeId {
        let mut f: Vec<VarId> = match &op {
            Op::Index(v) => vec![*v],
            op => op.operands().iter().flat_map(|o| self.free[o.index()].iter().copied()).collect(),
        };
        let bound = op.bound_vars().to_vec();
        f.retain(|v| !bound.contains(v));
        f.sort();
        f.dedup();
        self.free.push(f);
        self.prog.push(op, ty)
    }

    pub fn ty(&self, id: NodeId) -> &Type {
        &self.prog.node(id).ty
    }

    pub fn has_free_vars(&self, id: NodeId) -> bool {
        !self.free[id.index()].is_empty()
    }

    /// A typed constant node.
    pub fn konst(&mut self, lit: Literal, elem: ElemTy) -> NodeId {
        let lit = match (lit, elem.is_float()) {
            (Literal::Int(i), true) => Literal::Float(i as f64),
            (l, _) => l,
        };
        self.push(Op::Const(lit), Type::scalar(elem))
    }

    // ---- shape symbols ----

    /// A fresh shape symbol.
    pub fn new_sym(&mut self, name: String) -> SymId {
        let id = self.syms.len();
        self.syms.push(SymInfo { name, user_named: false, parent: id, konst: None });
        SymId(id as u32)
    }

    fn find(&mut self, s: usize) -> usize {
        let mut r = s;
        while self.syms[r].parent != r {
            r = self.syms[r].parent;
        }
        let mut c = s;
        while self.syms[c].parent != r {
            let next = self.syms[c].parent;
            self.syms[c].parent = r;
            c = next;
        }
        r
    }

    /// The dimension with symbols replaced by their class (or the constant it is fixed to).
    pub fn resolve(&mut self, d: Dim) -> Dim {
        match d {
            Dim::Const(_) => d,
            Dim::Sym(s) => {
                let r = self.find(s.0 as usize);
                match self.syms[r].konst {
                    Some(c) => Dim::Const(c),
                    None => Dim::Sym(SymId(r as u32)),
                }
            }
        }
    }

    /// Give a symbol the user's name (from `let (n, d) = x.dim()`), unless its class has one.
    pub fn name_dim(&mut self, d: Dim, name: &str) {
        if let Dim::Sym(s) = self.resolve(d) {
            let r = s.0 as usize;
            if !self.syms[r].user_named {
                self.syms[r].name = name.to_string();
                self.syms[r].user_named = true;
            }
        }
    }

    /// The symbol for the length of the slice `range` of an axis of length `of` (a canonical
    /// definition from [`kiln_ir::shapes::slice_dim`]): the existing one with the same
    /// definition, or a new one.
    pub fn derived_sym(&mut self, of: Dim, range: SliceRange, span: Span) -> Dim {
        let of = self.resolve(of);
        let base = match of {
            Dim::Const(c) => format!("len{c}"),
            Dim::Sym(s) => self.syms[s.0 as usize].name.clone(),
        };
        self.derived_def(SymDef::Slice { of, range }, format!("{base}_slice"), span)
    }

    /// The symbol computed by `def` (an extent: `k as usize`, `n - 1`, ...): the existing one
    /// with the same definition, or a new one named `name`.
    pub fn derived_def(&mut self, def: SymDef, name: String, span: Span) -> Dim {
        let def = self.resolve_def(def);
        for i in 0..self.derived.len() {
            let (s, d, _) = self.derived[i];
            if self.resolve_def(d) == def {
                return self.resolve(Dim::Sym(s));
            }
        }
        let s = self.new_sym(name);
        self.derived.push((s, def, span));
        Dim::Sym(s)
    }

    /// `def` with its dimensions resolved to their classes.
    fn resolve_def(&mut self, def: SymDef) -> SymDef {
        match def {
            SymDef::Slice { of, range } => SymDef::Slice { of: self.resolve(of), range },
            SymDef::Param(k) => SymDef::Param(k),
            SymDef::Arith(op, a, b) => SymDef::Arith(op, self.resolve(a), self.resolve(b)),
        }
    }

    /// Require `a == b` when the kernel is called (a reshape's element counts): a derived
    /// symbol `a == b` whose binding fails with a typed error naming both expressions.
    pub fn require_equal(&mut self, a: Dim, b: Dim, span: Span) {
        let name = format!("{}_same_{}", self.dim_text(a), self.dim_text(b));
        let name: String = name.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect();
        self.derived_def(SymDef::Arith(DimOp::Same, a, b), name, span);
    }

    /// The derivation of the class of symbol `s`, if it is a derived symbol.
    fn derivation(&mut self, s: SymId) -> Option<SymDef> {
        let r = self.find(s.0 as usize);
        let def = self.derived.iter().find(|d| d.0 .0 as usize == r).map(|d| d.1)?;
        Some(self.resolve_def(def))
    }

    /// Settle derived symbols whose operands became constants after they were made (a later
    /// broadcast fixed them): their value is a constant too, and a slice out of range or a
    /// negative or overflowing extent on constants is reported with its span. Call once,
    /// before [`Builder::finish`].
    pub fn settle_derived(&mut self) {
        for i in 0..self.derived.len() {
            let (s, def, span) = self.derived[i];
            let value = match self.resolve_def(def) {
                SymDef::Slice { of: Dim::Const(n), range } => match kiln_ir::shapes::slice_dim(Dim::Const(n), &range) {
                    Ok(kiln_ir::shapes::SliceDim::Dim(Dim::Const(c))) => c,
                    Ok(_) => continue,
                    Err(why) => {
                        self.errors.push(DslError::new(span, why));
                        continue;
                    }
                },
                SymDef::Arith(op, Dim::Const(a), Dim::Const(b)) => match const_extent(op, a, b) {
                    Ok(c) => c,
                    Err(why) => {
                        self.errors.push(DslError::new(span, why));
                        continue;
                    }
                },
                _ => continue,
            };
            let r = self.find(s.0 as usize);
            self.syms[r].konst = Some(value);
        }
    }

    /// Make two dimensions equal. Fails for two different constants, and for a derived
    /// symbol (a slice length) meeting anything but the same derivation: its value is
    /// computed, not bound, so it cannot take on another dimension's constraint.
    pub fn unify(&mut self, a: Dim, b: Dim) -> Result<Dim, ()> {
        let (a, b) = (self.resolve(a), self.resolve(b));
        if a != b {
            let da = if let Dim::Sym(s) = a { self.derivation(s) } else { None };
            let db = if let Dim::Sym(s) = b { self.derivation(s) } else { None };
            match (da, db) {
                (None, None) => {}
                (Some(x), Some(y)) if x == y => {}
                _ => return Err(()),
            }
        }
        match (a, b) {
            _ if a == b => Ok(a),
            (Dim::Const(_), Dim::Const(_)) => Err(()),
            (Dim::Sym(s), Dim::Const(c)) | (Dim::Const(c), Dim::Sym(s)) => {
                self.syms[s.0 as usize].konst = Some(c);
                Ok(Dim::Const(c))
            }
            (Dim::Sym(x), Dim::Sym(y)) => {
                let (root, child) = if x.0 < y.0 { (x.0 as usize, y.0 as usize) } else { (y.0 as usize, x.0 as usize) };
                self.syms[child].parent = root;
                if !self.syms[root].user_named && self.syms[child].user_named {
                    self.syms[root].name = self.syms[child].name.clone();
                    self.syms[root].user_named = true;
                }
                Ok(Dim::Sym(SymId(root as u32)))
            }
        }
    }

    /// Numpy broadcasting of two shapes (right-aligned); symbols meeting symbols are unified.
    /// Fails for two different constants, neither 1.
    pub fn broadcast(&mut self, a: &[Dim], b: &[Dim]) -> Result<Vec<Dim>, ()> {
        let n = a.len().max(b.len());
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            let da = (k + a.len()).checked_sub(n).map(|i| a[i]);
            let db = (k + b.len()).checked_sub(n).map(|i| b[i]);
            let d = match (da, db) {
                (Some(x), None) | (None, Some(x)) => self.resolve(x),
                (Some(x), Some(y)) => {
                    let (x, y) = (self.resolve(x), self.resolve(y));
                    if x.is_one() {
                        y
                    } else if y.is_one() {
                        x
                    } else {
                        self.unify(x, y)?
                    }
                }
                (None, None) => Dim::Const(1),
            };
            out.push(d);
        }
        Ok(out)
    }

    pub fn dim_text(&mut self, d: Dim) -> String {
        match self.resolve(d) {
            Dim::Const(c) => c.to_string(),
            Dim::Sym(s) => self.syms[s.0 as usize].name.clone(),
        }
    }

    pub fn shape_text(&mut self, shape: &[Dim]) -> String {
        let v: Vec<String> = shape.iter().map(|d| self.dim_text(*d)).collect();
        format!("[{}]", v.join(", "))
    }

    /// `f32`, or `Array2<f32>` for arrays (the way the user spells the type).
    pub fn type_text(&self, ty: &Type) -> String {
        let elem = self.elem_text(ty.elem);
        if ty.is_scalar() {
            elem
        } else {
            format!("Array{}<{}>", ty.rank(), elem)
        }
    }

    pub fn elem_text(&self, e: ElemTy) -> String {
        match (e, &self.generic) {
            (ElemTy::Float, Some(g)) => g.to_string(),
            (e, _) => e.to_string(),
        }
    }

    /// The finished program: every dimension renamed to its class representative, the
    /// symbol table compacted to the classes still in use (numbered in order of first use,
    /// parameters first).
    pub fn finish(mut self, outputs: Vec<NodeId>) -> Program {
        let mut map: HashMap<u32, SymId> = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        let mut fix = |b: &mut Builder, d: Dim| -> Dim {
            match b.resolve(d) {
                Dim::Const(c) => Dim::Const(c),
                Dim::Sym(s) => {
                    let next = SymId(map.len() as u32);
                    let id = *map.entry(s.0).or_insert(next);
                    if id == next {
                        let base = b.syms[s.0 as usize].name.clone();
                        let mut name = base.clone();
                        let mut k = 1;
                        while names.contains(&name) {
                            name = format!("{base}_{k}");
                            k += 1;
                        }
                        names.push(name);
                    }
                    Dim::Sym(id)
                }
            }
        };
        let mut params = std::mem::take(&mut self.prog.params);
        for p in &mut params {
            for d in &mut p.ty.shape {
                *d = fix(&mut self, *d);
            }
        }
        let mut nodes = std::mem::take(&mut self.prog.nodes);
        for n in &mut nodes {
            for d in &mut n.ty.shape {
                *d = fix(&mut self, *d);
            }
            match &mut n.op {
                Op::DimValue(d) | Op::TopK { k: d, .. } => *d = fix(&mut self, *d),
                Op::Generate { extents, .. } | Op::RangeReduce { extents, .. } => {
                    for d in extents {
                        *d = fix(&mut self, *d);
                    }
                }
                _ => {}
            }
        }
        let mut derived: Vec<DerivedSym> = vec![];
        for i in 0..self.derived.len() {
            let (s, def, _) = self.derived[i];
            let Dim::Sym(sym) = fix(&mut self, Dim::Sym(s)) else { continue };
            let def = match def {
                SymDef::Slice { of, range } => SymDef::Slice { of: fix(&mut self, of), range },
                SymDef::Param(k) => SymDef::Param(k),
                SymDef::Arith(op, a, b) => SymDef::Arith(op, fix(&mut self, a), fix(&mut self, b)),
            };
            if !derived.iter().any(|d| d.sym == sym) {
                derived.push(DerivedSym { sym, def });
            }
        }
        let mut prog = std::mem::replace(&mut self.prog, Program::new(""));
        prog.derived = derived;
        prog.params = params;
        prog.nodes = nodes;
        prog.syms = names;
        prog.outputs = outputs;
        prog
    }
}

/// `a op b` on constant extents, or why it is not an extent (the words of the run-time
/// [`kiln_ir::BindError`]s, reported at compile time when every operand is a constant).
pub(crate) fn const_extent(op: DimOp, a: u64, b: u64) -> Result<u64, String> {
    let text = format!("{a} {} {b}", op.symbol());
    let (Ok(x), Ok(y)) = (i64::try_from(a), i64::try_from(b)) else {
        return Err(format!("extent `{text}` overflows"));
    };
    match op.apply(x, y) {
        Some(v) if v >= 0 => Ok(v as u64),
        Some(v) => Err(format!("extent `{text}` is negative ({v})")),
        None if op == DimOp::Div && y == 0 => Err(format!("extent `{text}` divides by zero")),
        None if op == DimOp::Same => Err(format!("`{text}` is false (a reshape keeps the number of elements)")),
        None => Err(format!("extent `{text}` overflows")),
    }
}
