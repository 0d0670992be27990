//! Random well-typed programs and matching arguments, for property tests across the crate
//! and the backends (print/parse round trips, passes preserve results, backends agree).
//!
//! Seeded and dependency-free (an own xorshift generator, no proptest in the library), so a
//! failing seed reproduces anywhere. [`random_program`] builds *concrete*, verified programs
//! mixing elementwise ops with numpy broadcasting, casts, `select`, transposes,
//! `insert_axis`, reductions and scans over axes, and `generate` comprehensions whose bodies hold
//! `range_reduce`s, loads (including gathers through an integer index parameter) and selects
//! (chained, often over `i64` values, with conditions comparing range reductions).
//! [`random_args`] makes arguments for any program, keeping gathers in range.
//!
//! Values are kept tame so results stay comparable across backends: `exp` only sees `tanh`
//! outputs, `ln`/`sqrt`/`rsqrt`/`log1p` and divisors see `|x| + 1`, `prod` sees `tanh`
//! outputs, integer ops avoid `mul` (no overflow) and `u32` avoids `sub`.
//!
//! [`matmul_text`] spells the plain matrix products (transposed, batched, with an epilogue)
//! that the vendor GEMM tests of every backend run.
//!
//! [`check_golden_dir`] is the golden-file check of the lowering and CLIF tests: a directory of
//! input texts and the output texts the compiler must print for them.

use crate::program::{
    AxisSlice, BinOp, Literal, NodeId, Op, Param, Program, ReduceOp, SliceBound, SliceRange, SymDef, UnOp, VarId,
};
use crate::shapes::dim_value;
use crate::types::{DType, Dim, ElemTy, Type};
use crate::value::Value;
use crate::verify::broadcast_shapes;
use ndarray::{ArrayD, IxDyn};
use std::path::{Path, PathBuf};

/// The array IR text of `x.dot(&y)` as the front end lowers `dot`, over `dtype` (`x: [m, q]`,
/// or `[q, m]` read transposed when `xt`; `y: [q, n]`), batched over a leading axis `p` of `x`
/// when `batched` (`y` shared by every batch element), times 2 when `epilogue`: the plain
/// products the vendor GEMM tests of every backend run.
pub fn matmul_text(dtype: &str, xt: bool, batched: bool, epilogue: bool) -> String {
    let (xshape, view, perm) = match (xt, batched) {
        (false, false) => ("m, q", "m, q", "0, 1"),
        (true, false) => ("q, m", "m, q", "1, 0"),
        (false, true) => ("p, m, q", "p, m, q", "0, 1, 2"),
        (true, true) => ("p, q, m", "p, m, q", "0, 2, 1"),
    };
    // Without a batch, `v3` repeats `i1` (simplify merges them) to keep the numbering.
    let (load, dom, out, v3) = if batched {
        ("v3, v4, v6", "i0 < p, i1 < m, i2 < n", "p, m, n", "i0")
    } else {
        ("v4, v6", "i1 < m, i2 < n", "m, n", "i1")
    };
    let tail = if epilogue {
        format!("  v12: {dtype}[] = const 2.0\n  v13: {dtype}[{out}] = binary mul v11 v12\n  return v13")
    } else {
        "  return v11".to_string()
    };
    format!(
        "kernel mm(x: {dtype}[{xshape}], y: {dtype}[q, n]) -> {dtype}[{out}] {{
  v0: {dtype}[{xshape}] = param 0
  v1: {dtype}[q, n] = param 1
  v2: {dtype}[{view}] = transpose v0 [{perm}]
  v3: i64[] = index {v3}
  v4: i64[] = index i1
  v5: i64[] = index i2
  v6: i64[] = index i3
  v7: {dtype}[] = load v2 [{load}]
  v8: {dtype}[] = load v1 [v6, v5]
  v9: {dtype}[] = binary mul v7 v8
  v10: {dtype}[] = range_reduce sum (i3 < q) v9
  v11: {dtype}[{out}] = generate ({dom}) v10
{tail}
}}"
    )
}

/// The array IR text of `x.t().dot(&y)` over `dtype` (`x: [n, d]`, `y: [n, k]`, or
/// `x.t().dot(&x)` when `same`): a plain product summed over the rows `n`, which the schedule
/// gives to a split-K vendor GEMM (`gemm_split_k`).
pub fn gram_text(dtype: &str, same: bool) -> String {
    let (params, out, first, y) = if same {
        (format!("x: {dtype}[n, d]"), "d", 1, "v0")
    } else {
        (format!("x: {dtype}[n, d], y: {dtype}[n, k]"), "k", 2, "v1")
    };
    let y_param = if same { String::new() } else { format!("  v1: {dtype}[n, k] = param 1\n") };
    // Nodes are numbered in order: `first` is the transpose's number.
    let v = |i: usize| format!("v{}", first + i);
    format!(
        "kernel gram({params}) -> {dtype}[d, {out}] {{
  v0: {dtype}[n, d] = param 0
{y_param}  {t}: {dtype}[d, n] = transpose v0 [1, 0]
  {i}: i64[] = index i0
  {j}: i64[] = index i1
  {l}: i64[] = index i2
  {a}: {dtype}[] = load {t} [{i}, {l}]
  {b}: {dtype}[] = load {y} [{l}, {j}]
  {m}: {dtype}[] = binary mul {a} {b}
  {s}: {dtype}[] = range_reduce sum (i2 < n) {m}
  {g}: {dtype}[d, {out}] = generate (i0 < d, i1 < {out}) {s}
  return {g}
}}",
        t = v(0),
        i = v(1),
        j = v(2),
        l = v(3),
        a = v(4),
        b = v(5),
        m = v(6),
        s = v(7),
        g = v(8),
    )
}

/// A small xorshift64* generator: deterministic, fast, good enough for test data.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> XorShift {
        // splitmix64 scrambles nearby seeds apart and never yields the forbidden state 0 here.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    /// A random element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// Uniform in `[lo, hi)`.
    pub fn f64_in(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }
}

/// A random concrete, verified program (deterministic in `seed`).
pub fn random_program(seed: u64) -> Program {
    let mut g = Gen {
        rng: XorShift::new(seed),
        p: Program::new(format!("rand{seed}")),
        arrays: Vec::new(),
        pool: Vec::new(),
        index_params: Vec::new(),
        body_depth: 0,
        next_var: 0,
    };
    g.params();
    let steps = 3 + g.rng.below(10);
    for _ in 0..steps {
        g.step();
    }
    g.outputs();
    g.p
}

/// Symbol values [`random_args`] draws from (0- and 1-length dims included).
pub const SYM_VALUES: [usize; 6] = [0, 1, 2, 3, 5, 7];

/// Random arguments for `p` (deterministic in `seed`): each symbol gets a value from
/// [`SYM_VALUES`], each parameter an array of its shape. Floats are in [-2, 2), signed
/// integers in [-5, 5], `u32` in [0, 9]. The generic float `F` is taken as `f64`.
///
/// Gathers stay in range: an integer parameter loaded by a `load` whose result (through
/// casts) indexes another `load` gets values in `0..len` of every axis it indexes, and such
/// axes, like the axes of `argmin`/`argmax` reductions, get nonzero symbol values.
pub fn random_args(p: &Program, seed: u64) -> Vec<Value> {
    let mut rng = XorShift::new(seed ^ 0xA5A5_5A5A_0F0F_F0F0);
    let mut nonzero = vec![false; p.syms.len()];
    let mut bounds: Vec<Vec<Dim>> = vec![Vec::new(); p.params.len()];
    let mut mark = |mut d: Dim| {
        // A derived length is nonzero when the axis it slices is (whole-axis steps only).
        for _ in 0..=p.derived.len() {
            if let Some(b) = sym_slot(d).and_then(|s| nonzero.get_mut(s)) {
                *b = true;
            }
            match p.derived.iter().find(|e| Dim::Sym(e.sym) == d).map(|e| e.def) {
                Some(SymDef::Slice { of, .. }) => d = of,
                _ => break,
            }
        }
    };
    for n in &p.nodes {
        match &n.op {
            Op::Reduce { op, arg, axes } if op.is_arg() => {
                if let Some(t) = p.nodes.get(arg.index()) {
                    axes.iter().filter_map(|&k| t.ty.shape.get(k as usize)).for_each(|d| mark(*d));
                }
            }
            Op::RangeReduce { op, extents, .. } if op.is_arg() => extents.iter().for_each(|d| mark(*d)),
            Op::Load { array, indices } => {
                let Some(arr) = p.nodes.get(array.index()) else { continue };
                for (k, ix) in indices.iter().enumerate() {
                    if let (Some(pi), Some(d)) = (gather_param(p, *ix), arr.ty.shape.get(k)) {
                        if let Some(b) = bounds.get_mut(pi) {
                            b.push(*d);
                            mark(*d);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut syms: Vec<usize> =
        nonzero.iter().map(|&nz| if nz { rng.pick(&SYM_VALUES[1..]) } else { rng.pick(&SYM_VALUES) }).collect();
    for e in &p.derived {
        // Random programs derive slice lengths only.
        let SymDef::Slice { of, range } = e.def else { continue };
        let of = match of {
            Dim::Sym(s) if s.0 as usize >= syms.len() => 0,
            d => dim_value(d, &syms),
        };
        let konst = |b: SliceBound| match b {
            SliceBound::Const(c) => Ok(c),
            SliceBound::Param(_) => Err(()),
        };
        if let (Ok(len), Some(slot)) = (crate::shapes::derived_len(of, &range, &konst), syms.get_mut(e.sym.0 as usize))
        {
            *slot = len;
        }
    }
    let value = |d: Dim| match d {
        Dim::Sym(s) if s.0 as usize >= syms.len() => 0,
        d => dim_value(d, &syms),
    };
    p.params
        .iter()
        .zip(&bounds)
        .map(|(param, bound)| {
            let shape: Vec<usize> = param.ty.shape.iter().map(|d| value(*d)).collect();
            let limit = bound.iter().map(|d| value(*d)).min();
            random_value(&mut rng, param.ty.elem.resolve(DType::F64), &shape, limit)
        })
        .collect()
}

fn sym_slot(d: Dim) -> Option<usize> {
    match d {
        Dim::Sym(s) => Some(s.0 as usize),
        Dim::Const(_) => None,
    }
}

/// The parameter whose loaded element `ix` is (through casts), if `ix` is such a gather index.
fn gather_param(p: &Program, mut ix: NodeId) -> Option<usize> {
    // Casts only point backwards in a verified program; the bound guards a broken one.
    for _ in 0..p.nodes.len() {
        match &p.nodes.get(ix.index())?.op {
            Op::Cast(a) => ix = *a,
            Op::Load { array, .. } => {
                return match p.nodes.get(array.index())?.op {
                    Op::Param(i) => Some(i as usize),
                    _ => None,
                }
            }
            _ => return None,
        }
    }
    None
}

/// An array of `shape`; integers in `0..limit` when `limit` is given (gather indices).
fn random_value(rng: &mut XorShift, dtype: DType, shape: &[usize], limit: Option<usize>) -> Value {
    let s = IxDyn(shape);
    let int = |rng: &mut XorShift, lo: i64, hi: i64| match limit {
        Some(l) => rng.below(l.max(1)) as i64,
        None => lo + rng.below((hi - lo + 1) as usize) as i64,
    };
    match dtype {
        DType::F32 => Value::F32(ArrayD::from_shape_fn(s, |_| rng.f64_in(-2.0, 2.0) as f32)),
        DType::F64 => Value::F64(ArrayD::from_shape_fn(s, |_| rng.f64_in(-2.0, 2.0))),
        DType::I32 => Value::I32(ArrayD::from_shape_fn(s, |_| int(rng, -5, 5) as i32)),
        DType::I64 => Value::I64(ArrayD::from_shape_fn(s, |_| int(rng, -5, 5))),
        DType::U32 => Value::U32(ArrayD::from_shape_fn(s, |_| int(rng, 0, 9) as u32)),
        DType::Bool => Value::Bool(ArrayD::from_shape_fn(s, |_| rng.chance(1, 2))),
    }
}

struct Gen {
    rng: XorShift,
    p: Program,
    /// Array-level nodes (no free index variables) available as operands.
    arrays: Vec<NodeId>,
    /// Dimensions that parameters bind, plus small constants: extents to draw from.
    pool: Vec<Dim>,
    /// Rank-1 integer parameters whose values `random_args` keeps in range of what they index.
    index_params: Vec<NodeId>,
    /// Nonzero while building a comprehension body (nodes then are not array-level).
    body_depth: u32,
    next_var: u32,
}

const FLOAT_CONSTS: [f64; 7] = [0.5, -1.25, 2.0, 0.1, 3.0, -0.75, 1e-3];

impl Gen {
    fn ty(&self, id: NodeId) -> &Type {
        &self.p.nodes[id.index()].ty
    }

    fn elem(&self, id: NodeId) -> ElemTy {
        self.ty(id).elem
    }

    fn push(&mut self, op: Op, ty: Type) -> NodeId {
        let id = self.p.push(op, ty);
        if self.body_depth == 0 {
            self.arrays.push(id);
        }
        id
    }

    fn params(&mut self) {
        let names = ["k", "n", "m"];
        let n_params = 1 + self.rng.below(3);
        for i in 0..n_params {
            let elem = if i == 0 {
                self.rng.pick(&[DType::F32, DType::F64])
            } else {
                self.rng.pick(&[DType::F32, DType::F64, DType::F32, DType::I32, DType::I64, DType::U32, DType::Bool])
            };
            let rank = if i == 0 { 1 + self.rng.below(2) } else { self.rng.below(4) };
            let mut shape = Vec::new();
            for name in &names[3 - rank..] {
                shape.push(if self.rng.chance(1, 5) {
                    Dim::Const(1)
                } else if self.rng.chance(1, 10) {
                    Dim::Const(2)
                } else {
                    Dim::Sym(self.p.sym(name))
                });
            }
            self.add_param(format!("x{i}"), Type::array(elem.into(), shape));
        }
        if self.rng.chance(1, 2) {
            let len = Dim::Sym(self.p.sym(self.rng.pick(&names)));
            let elem = self.rng.pick(&[ElemTy::I64, ElemTy::I32]);
            let id = self.add_param("idx".into(), Type::array(elem, vec![len]));
            self.index_params.push(id);
        }
        for param in &self.p.params {
            for d in &param.ty.shape {
                if !self.pool.contains(d) {
                    self.pool.push(*d);
                }
            }
        }
        for c in [Dim::Const(1), Dim::Const(2)] {
            if !self.pool.contains(&c) {
                self.pool.push(c);
            }
        }
    }

    fn add_param(&mut self, name: String, ty: Type) -> NodeId {
        let i = self.p.params.len() as u32;
        self.p.params.push(Param { name, ty: ty.clone() });
        self.push(Op::Param(i), ty)
    }

    /// An array-level node, biased toward recent ones so chains form.
    fn pick_array(&mut self) -> NodeId {
        let n = self.arrays.len();
        if self.rng.chance(1, 2) {
            self.arrays[n - 1 - self.rng.below(n.min(4))]
        } else {
            self.arrays[self.rng.below(n)]
        }
    }

    fn pick_where(&mut self, f: impl Fn(&Type) -> bool) -> Option<NodeId> {
        let c: Vec<NodeId> = self.arrays.iter().copied().filter(|&a| f(self.ty(a))).collect();
        (!c.is_empty()).then(|| self.rng.pick(&c))
    }

    fn step(&mut self) {
        match self.rng.below(20) {
            0..=2 => {
                let a = self.pick_array();
                self.unary(a);
            }
            3..=6 => {
                let a = self.pick_array();
                let b = self.partner(a);
                self.binary(a, b);
            }
            7 => self.select(),
            8 => {
                let a = self.pick_array();
                let to = self.rng.pick(&[ElemTy::F32, ElemTy::F64, ElemTy::I32, ElemTy::I64, ElemTy::U32]);
                self.convert(a, to);
            }
            9 => self.broadcast(),
            10 => {
                if let Some(a) = self.pick_where(|t| t.rank() >= 2) {
                    let mut perm: Vec<u32> = (0..self.ty(a).rank() as u32).collect();
                    for i in (1..perm.len()).rev() {
                        perm.swap(i, self.rng.below(i + 1));
                    }
                    let t = self.ty(a);
                    let ty = Type::array(t.elem, perm.iter().map(|&k| t.shape[k as usize]).collect());
                    self.push(Op::Transpose(a, perm), ty);
                }
            }
            11 if self.rng.chance(1, 2) => self.slice(),
            11 => {
                if let Some(a) = self.pick_where(|t| t.rank() <= 2) {
                    let t = self.ty(a).clone();
                    let axis = self.rng.below(t.rank() + 1);
                    let mut shape = t.shape;
                    shape.insert(axis, Dim::Const(1));
                    self.push(Op::InsertAxis(a, axis as u32), Type::array(t.elem, shape));
                }
            }
            12..=14 => self.reduce(),
            15..=18 => self.generate(),
            _ => {
                if self.rng.chance(1, 2) {
                    let d = self.rng.pick(&self.pool);
                    self.push(Op::DimValue(d), Type::scalar(ElemTy::I64));
                } else {
                    let e = self.rng.pick(&[ElemTy::F32, ElemTy::F64, ElemTy::I64, ElemTy::BOOL]);
                    self.constant(e);
                }
            }
        }
    }

    /// A slice of a random array that is in range whatever the symbols' values: on a symbolic
    /// axis a whole-axis range with a step (`..;-1`, `..;2`, ..., which may derive a length);
    /// on a constant axis any bounds in range (negative ends included), or an index.
    fn slice(&mut self) {
        let Some(a) = self.pick_where(|t| t.rank() >= 1) else { return };
        let t = self.ty(a).clone();
        let (mut axes, mut shape) = (vec![], vec![]);
        for &d in &t.shape {
            let r = match d {
                Dim::Const(n) if n > 0 && self.rng.chance(1, 4) => {
                    let i = self.rng.below(n as usize) as i64;
                    axes.push(AxisSlice::Index(SliceBound::Const(if self.rng.chance(1, 2) {
                        i - n as i64
                    } else {
                        i
                    })));
                    continue;
                }
                Dim::Const(n) => {
                    let s = self.rng.below(n as usize + 1) as i64;
                    let e = self.rng.below(n as usize + 1) as i64;
                    let step = self.rng.pick(&[1i64, 2, -1, -3]);
                    SliceRange { start: Some(SliceBound::Const(s)), end: Some(SliceBound::Const(e - n as i64)), step }
                }
                Dim::Sym(_) => SliceRange { start: None, end: None, step: self.rng.pick(&[1i64, 2, -1, -2, 3]) },
            };
            let len = match crate::shapes::slice_dim(d, &r) {
                Ok(crate::shapes::SliceDim::Dim(x)) => x,
                Ok(crate::shapes::SliceDim::Derived(of, range)) => {
                    let def = SymDef::Slice { of, range };
                    match self.p.derived.iter().find(|e| e.def == def) {
                        Some(e) => Dim::Sym(e.sym),
                        None => {
                            let name = format!("sliced{}", self.p.syms.len());
                            let sym = self.p.sym(&name);
                            self.p.derived.push(crate::program::DerivedSym { sym, def });
                            Dim::Sym(sym)
                        }
                    }
                }
                Err(_) => return,
            };
            if len == Dim::Const(0) {
                // Gathers into a constant empty axis could not be given in-range indices.
                return;
            }
            axes.push(AxisSlice::Range(r));
            shape.push(len);
        }
        self.push(Op::Slice(a, axes), Type::array(t.elem, shape));
    }

    fn constant(&mut self, elem: ElemTy) -> NodeId {
        let lit = if elem.is_float() {
            Literal::Float(self.rng.pick(&FLOAT_CONSTS))
        } else if elem.is_bool() {
            Literal::Bool(self.rng.chance(1, 2))
        } else if elem == ElemTy::U32 {
            Literal::Int(self.rng.below(5) as i64)
        } else {
            Literal::Int(self.rng.below(7) as i64 - 3)
        };
        self.push(Op::Const(lit), Type::scalar(elem))
    }

    fn float_const(&mut self, elem: ElemTy, x: f64) -> NodeId {
        self.push(Op::Const(Literal::Float(x)), Type::scalar(elem))
    }

    fn un(&mut self, u: UnOp, a: NodeId) -> NodeId {
        let ty = self.ty(a).clone();
        self.push(Op::Unary(u, a), ty)
    }

    /// Binary op on operands of one element type whose shapes broadcast.
    fn bin(&mut self, b: BinOp, x: NodeId, y: NodeId) -> NodeId {
        let (tx, ty) = (self.ty(x), self.ty(y));
        let shape = broadcast_shapes(&tx.shape, &ty.shape).unwrap_or_else(|| tx.shape.clone());
        let elem = if b.is_comparison() { ElemTy::BOOL } else { tx.elem };
        self.push(Op::Binary(b, x, y), Type::array(elem, shape))
    }

    /// `|x| + 1`: a float at least 1, safe for `ln`, `sqrt` and division.
    fn positive(&mut self, x: NodeId) -> NodeId {
        let a = self.un(UnOp::Abs, x);
        let one = self.float_const(self.elem(x), 1.0);
        self.bin(BinOp::Add, a, one)
    }

    /// `x` converted to `elem` (bool via `x > 0`, since `as` has no conversion to bool).
    fn convert(&mut self, x: NodeId, elem: ElemTy) -> NodeId {
        let from = self.elem(x);
        if from == elem {
            x
        } else if elem.is_bool() {
            let zero = if from.is_float() { self.float_const(from, 0.0) } else { self.int_const(from, 0) };
            self.bin(BinOp::Gt, x, zero)
        } else {
            let shape = self.ty(x).shape.clone();
            self.push(Op::Cast(x), Type::array(elem, shape))
        }
    }

    fn int_const(&mut self, elem: ElemTy, v: i64) -> NodeId {
        self.push(Op::Const(Literal::Int(v)), Type::scalar(elem))
    }

    fn unary(&mut self, a: NodeId) -> NodeId {
        let e = self.elem(a);
        if e.is_float() {
            let powi = UnOp::PowI(self.rng.below(4) as i32);
            let u = self.rng.pick(&[
                UnOp::Neg,
                UnOp::Abs,
                UnOp::Exp,
                UnOp::Ln,
                UnOp::Log1p,
                UnOp::Sqrt,
                UnOp::Rsqrt,
                UnOp::Sin,
                UnOp::Cos,
                UnOp::Tanh,
                UnOp::Sigmoid,
                UnOp::Floor,
                UnOp::Ceil,
                powi,
            ]);
            let x = match u {
                UnOp::Exp => self.un(UnOp::Tanh, a),
                UnOp::Ln | UnOp::Log1p | UnOp::Sqrt | UnOp::Rsqrt => self.positive(a),
                _ => a,
            };
            self.un(u, x)
        } else if e == ElemTy::I32 || e == ElemTy::I64 {
            let u = self.rng.pick(&[UnOp::Neg, UnOp::Abs, UnOp::Not]);
            self.un(u, a)
        } else if e.is_bool() {
            self.un(UnOp::Not, a)
        } else {
            let f = self.convert(a, ElemTy::F32);
            self.un(UnOp::Sin, f)
        }
    }

    /// An array-level node whose shape broadcasts with `a`'s (a fresh constant if none).
    fn partner(&mut self, a: NodeId) -> NodeId {
        let shape = self.ty(a).shape.clone();
        let c: Vec<NodeId> = self
            .arrays
            .iter()
            .copied()
            .filter(|&b| b != a && !self.ty(b).is_scalar() && broadcast_shapes(&shape, &self.ty(b).shape).is_some())
            .collect();
        if !c.is_empty() && self.rng.chance(3, 4) {
            self.rng.pick(&c)
        } else {
            let e = self.elem(a);
            self.constant(e)
        }
    }

    /// A binary op on `a` and `b` (converted to `a`'s element type); shapes must broadcast.
    fn binary(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let e = self.elem(a);
        let b = self.convert(b, e);
        if e.is_float() {
            match self.rng.pick(&[
                BinOp::Add,
                BinOp::Sub,
                BinOp::Mul,
                BinOp::Div,
                BinOp::Pow,
                BinOp::Min,
                BinOp::Max,
                BinOp::Lt,
                BinOp::Ge,
                BinOp::Eq,
            ]) {
                BinOp::Div => {
                    let d = self.positive(b);
                    self.bin(BinOp::Div, a, d)
                }
                BinOp::Pow => {
                    let x = self.positive(a);
                    let y = self.un(UnOp::Tanh, b);
                    self.bin(BinOp::Pow, x, y)
                }
                op => self.bin(op, a, b),
            }
        } else if e.is_bool() {
            let op = self.rng.pick(&[BinOp::And, BinOp::Or, BinOp::Xor, BinOp::Eq, BinOp::Ne]);
            self.bin(op, a, b)
        } else {
            let mut ops = vec![BinOp::Add, BinOp::Min, BinOp::Max, BinOp::Div, BinOp::Rem, BinOp::And, BinOp::Xor];
            ops.extend([BinOp::Or, BinOp::Lt, BinOp::Ne]);
            if e != ElemTy::U32 {
                ops.push(BinOp::Sub);
            }
            let op = self.rng.pick(&ops);
            self.bin(op, a, b)
        }
    }

    fn select(&mut self) {
        let c = self.pick_array();
        let c = self.convert(c, ElemTy::BOOL);
        let a = self.partner(c);
        let cs = self.ty(c).shape.clone();
        let ab = broadcast_shapes(&cs, &self.ty(a).shape).unwrap_or(cs);
        let b = self.partner(a);
        let b = if broadcast_shapes(&ab, &self.ty(b).shape).is_some() { b } else { self.constant(self.elem(a)) };
        let b = self.convert(b, self.elem(a));
        let shape = broadcast_shapes(&ab, &self.ty(b).shape).unwrap_or(ab);
        let ty = Type::array(self.elem(a), shape);
        self.push(Op::Select(c, a, b), ty);
    }

    fn broadcast(&mut self) {
        let Some(a) = self.pick_where(|t| t.rank() <= 2) else { return };
        let t = self.ty(a).clone();
        let mut shape: Vec<Dim> =
            t.shape.iter().map(|&d| if d.is_one() { self.rng.pick(&self.pool) } else { d }).collect();
        if shape.len() < 3 && self.rng.chance(1, 2) {
            shape.insert(0, self.rng.pick(&self.pool));
        }
        self.push(Op::Broadcast(a), Type::array(t.elem, shape));
    }

    fn reduce_op(&mut self, elem: ElemTy) -> ReduceOp {
        let ops: &[ReduceOp] = if elem.is_float() {
            &ReduceOp::ALL
        } else if elem.is_bool() {
            &[ReduceOp::Min, ReduceOp::Max, ReduceOp::ArgMin, ReduceOp::ArgMax]
        } else {
            &[ReduceOp::Sum, ReduceOp::Min, ReduceOp::Max, ReduceOp::ArgMin, ReduceOp::ArgMax]
        };
        self.rng.pick(ops)
    }

    fn reduce(&mut self) {
        if self.rng.chance(1, 4) {
            return self.scan();
        }
        let Some(a) = self.pick_where(|t| t.rank() >= 1) else { return };
        // Bool reduces by min/max (all/any) and arg ops; half the time count it as i32 instead.
        let a = if self.elem(a).is_bool() && self.rng.chance(1, 2) { self.convert(a, ElemTy::I32) } else { a };
        let t = self.ty(a).clone();
        let mut axes: Vec<u32> = (0..t.rank() as u32).filter(|_| self.rng.chance(1, 2)).collect();
        if axes.is_empty() {
            axes.push(self.rng.below(t.rank()) as u32);
        }
        let op = self.reduce_op(t.elem);
        let arg = if op == ReduceOp::Prod { self.un(UnOp::Tanh, a) } else { a };
        let shape = t.shape.iter().enumerate().filter(|(k, _)| !axes.contains(&(*k as u32))).map(|(_, d)| *d).collect();
        let elem = if op.is_arg() { ElemTy::I64 } else { t.elem };
        self.push(Op::Reduce { op, arg, axes }, Type::array(elem, shape));
    }

    /// A scan along a random axis: `sum`, `min`, `max`, and for floats `prod` of `tanh` values;
    /// bool operands are counted as `i32`.
    fn scan(&mut self) {
        let Some(a) = self.pick_where(|t| t.rank() >= 1) else { return };
        let a = if self.elem(a).is_bool() { self.convert(a, ElemTy::I32) } else { a };
        let t = self.ty(a).clone();
        let ops: &[ReduceOp] = if t.elem.is_float() {
            &[ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Min, ReduceOp::Max]
        } else {
            &[ReduceOp::Sum, ReduceOp::Min, ReduceOp::Max]
        };
        let op = self.rng.pick(ops);
        let arg = if op == ReduceOp::Prod { self.un(UnOp::Tanh, a) } else { a };
        let axis = self.rng.below(t.rank()) as u32;
        self.push(Op::Scan { op, arg, axis }, t);
    }

    fn fresh_var(&mut self) -> VarId {
        self.next_var += 1;
        VarId(self.next_var - 1)
    }

    fn generate(&mut self) {
        let extents: Vec<Dim> = match self.pick_where(|t| (1..=2).contains(&t.rank())) {
            Some(a) if self.rng.chance(3, 4) => self.ty(a).shape.clone(),
            _ => (0..1 + self.rng.below(2)).map(|_| self.rng.pick(&self.pool)).collect(),
        };
        let vars: Vec<VarId> = extents.iter().map(|_| self.fresh_var()).collect();
        let env: Vec<(VarId, Dim)> = vars.iter().copied().zip(extents.iter().copied()).collect();
        self.body_depth += 1;
        let body = self.scalar(&env, 2);
        self.body_depth -= 1;
        let ty = Type::array(self.elem(body), extents.clone());
        self.push(Op::Generate { vars, extents, body }, ty);
    }

    /// A rank-0 expression over the index variables in `env`.
    fn scalar(&mut self, env: &[(VarId, Dim)], depth: u32) -> NodeId {
        let choice = if depth == 0 { self.rng.below(3) } else { self.rng.below(8) };
        match choice {
            0 => self.load(env).unwrap_or_else(|| self.leaf(env)),
            1 => self.leaf(env),
            2 => self.load(env).unwrap_or_else(|| self.leaf(env)),
            3 => {
                let x = self.scalar(env, depth - 1);
                self.unary(x)
            }
            // A fused multiply-add of three float sub-expressions.
            5 if self.rng.chance(1, 3) => {
                let x = self.scalar(env, depth - 1);
                let e = if self.elem(x).is_float() { self.elem(x) } else { ElemTy::F64 };
                let x = self.convert(x, e);
                let y = self.scalar(env, depth - 1);
                let y = self.convert(y, e);
                let z = self.scalar(env, depth - 1);
                let z = self.convert(z, e);
                self.push(Op::MulAdd(x, y, z), Type::scalar(e))
            }
            4 | 5 => {
                let x = self.scalar(env, depth - 1);
                let y = self.scalar(env, depth - 1);
                self.binary(x, y)
            }
            6 => self.range_reduce(env, depth - 1),
            _ => self.scalar_select(env, depth - 1),
        }
    }

    /// `select(x < y, a, b)` in a comprehension body: a comparison of two sub-expressions
    /// (loads, gathers, range reductions) choosing between two more, half the time as `i64`
    /// values (a class label picked from decision values, as a classifier's predict does);
    /// the arms may be selects themselves, so chains `select(c1, a, select(c2, b, c))` form.
    fn scalar_select(&mut self, env: &[(VarId, Dim)], depth: u32) -> NodeId {
        let x = self.scalar(env, depth);
        let y = self.scalar(env, depth);
        let y = self.convert(y, self.elem(x));
        let op = if self.elem(x).is_bool() {
            self.rng.pick(&[BinOp::Eq, BinOp::Ne])
        } else {
            self.rng.pick(&[BinOp::Lt, BinOp::Ge, BinOp::Gt])
        };
        let c = self.bin(op, x, y);
        let a = self.scalar(env, depth);
        let b = self.scalar(env, depth);
        let elem = if self.rng.chance(1, 2) { ElemTy::I64 } else { self.elem(a) };
        let (a, b) = (self.convert(a, elem), self.convert(b, elem));
        self.push(Op::Select(c, a, b), Type::scalar(elem))
    }

    /// A variable as a value, a constant, or a scalar array-level node.
    fn leaf(&mut self, env: &[(VarId, Dim)]) -> NodeId {
        match self.rng.below(3) {
            0 if !env.is_empty() => {
                let (v, _) = self.rng.pick(env);
                let ix = self.push(Op::Index(v), Type::scalar(ElemTy::I64));
                self.convert(ix, ElemTy::F64)
            }
            1 => match self.pick_where(|t| t.is_scalar()) {
                Some(s) => s,
                None => self.constant(ElemTy::F32),
            },
            _ => {
                let e = self.rng.pick(&[ElemTy::F32, ElemTy::F64, ElemTy::I32]);
                self.constant(e)
            }
        }
    }

    /// A load from an array-level node all of whose axes can be indexed from `env`:
    /// directly by a variable of the same extent, by `0` on a length-1 axis, or through a
    /// gather `idx[v]` (kept in range by [`random_args`]).
    fn load(&mut self, env: &[(VarId, Dim)]) -> Option<NodeId> {
        let indexable = |g: &Gen, d: Dim| {
            env.iter().any(|(_, e)| *e == d)
                || d.is_one()
                || g.index_params.iter().any(|&ip| env.iter().any(|(_, e)| g.ty(ip).shape[0] == *e))
        };
        let c: Vec<NodeId> = self
            .arrays
            .iter()
            .copied()
            .filter(|&a| self.ty(a).rank() >= 1 && self.ty(a).shape.iter().all(|&d| indexable(self, d)))
            .collect();
        if c.is_empty() {
            return None;
        }
        let array = self.rng.pick(&c);
        let shape = self.ty(array).shape.clone();
        let mut indices = Vec::new();
        for d in shape {
            let direct: Vec<VarId> = env.iter().filter(|(_, e)| *e == d).map(|(v, _)| *v).collect();
            let mut gathers: Vec<(NodeId, VarId)> = Vec::new();
            for &ip in &self.index_params {
                for &(v, e) in env {
                    if self.ty(ip).shape[0] == e {
                        gathers.push((ip, v));
                    }
                }
            }
            let ix = if !gathers.is_empty() && (direct.is_empty() || self.rng.chance(1, 3)) {
                let (ip, v) = self.rng.pick(&gathers);
                let i = self.push(Op::Index(v), Type::scalar(ElemTy::I64));
                let e = self.elem(ip);
                self.push(Op::Load { array: ip, indices: vec![i] }, Type::scalar(e))
            } else if !direct.is_empty() {
                let v = self.rng.pick(&direct);
                self.push(Op::Index(v), Type::scalar(ElemTy::I64))
            } else {
                self.int_const(ElemTy::I64, 0)
            };
            indices.push(ix);
        }
        let e = self.elem(array);
        Some(self.push(Op::Load { array, indices }, Type::scalar(e)))
    }

    /// `range_reduce` over one or two new variables, with extents taken from array axes so
    /// the body can load along them.
    fn range_reduce(&mut self, env: &[(VarId, Dim)], depth: u32) -> NodeId {
        let mut env = env.to_vec();
        let (mut vars, mut extents) = (Vec::new(), Vec::new());
        for _ in 0..1 + self.rng.below(2) {
            let d = match self.pick_where(|t| t.rank() >= 1) {
                Some(a) => {
                    let s = self.ty(a).shape.clone();
                    s[self.rng.below(s.len())]
                }
                None => self.rng.pick(&self.pool),
            };
            let v = self.fresh_var();
            vars.push(v);
            extents.push(d);
            env.push((v, d));
        }
        let body = match self.load(&env) {
            Some(l) if self.rng.chance(2, 3) => {
                let other = self.scalar(&env, depth);
                self.binary(l, other)
            }
            _ => self.scalar(&env, depth),
        };
        let body =
            if self.elem(body).is_bool() && self.rng.chance(1, 2) { self.convert(body, ElemTy::I32) } else { body };
        let e = self.elem(body);
        let op = self.reduce_op(e);
        let body = if op == ReduceOp::Prod { self.un(UnOp::Tanh, body) } else { body };
        let elem = if op.is_arg() { ElemTy::I64 } else { e };
        self.push(Op::RangeReduce { op, vars, extents, body }, Type::scalar(elem))
    }

    fn outputs(&mut self) {
        let computed: Vec<NodeId> =
            self.arrays.iter().copied().filter(|&a| !matches!(self.p.nodes[a.index()].op, Op::Param(_))).collect();
        let Some(&last) = computed.last().or(self.arrays.last()) else { return };
        self.p.outputs.push(last);
        for _ in 0..self.rng.below(3) {
            if computed.is_empty() {
                break;
            }
            let o = self.rng.pick(&computed);
            if !self.p.outputs.contains(&o) {
                self.p.outputs.push(o);
            }
        }
    }
}

/// The environment variable that, set to `1`, makes [`check_golden_dir`] rewrite the expected
/// files from what the compiler prints now instead of comparing with them.
pub const BLESS_ENV: &str = "KILN_BLESS";

/// Golden files: for every `<name>.<input>` file of `dir` (in name order), `render` turns its
/// text into the output text, which must equal the file `<name>.<output>` beside it. A change
/// to a pass then shows as a text diff of those files. Under `KILN_BLESS=1` the outputs are
/// written instead (review them with `git diff`); `bless` is the command to say so.
///
/// # Panics
///
/// This is a test's check: it panics when `dir` holds no input, when an input cannot be read
/// or rendered, and when outputs differ or are missing (naming each file, its first differing
/// line and the `bless` command).
pub fn check_golden_dir(
    dir: &Path,
    input: &str,
    output: &str,
    bless: &str,
    render: impl Fn(&str) -> Result<String, String>,
) {
    let blessing = std::env::var(BLESS_ENV).is_ok_and(|v| v == "1");
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("golden directory {}: {e}", dir.display()));
    let mut inputs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == input))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no *.{input} file in {}", dir.display());
    let mut failures = Vec::new();
    for path in &inputs {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let got = render(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let want_path = path.with_extension(output);
        if blessing {
            std::fs::write(&want_path, &got).unwrap_or_else(|e| panic!("{}: {e}", want_path.display()));
            continue;
        }
        match std::fs::read_to_string(&want_path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!("{}: {}", want_path.display(), first_difference(&want, &got))),
            Err(e) => failures.push(format!("{}: {e}", want_path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "golden files differ (bless with `{bless}`, then review the diff):\n{}",
        failures.join("\n")
    );
}

/// Where two different texts first differ, as `line N: expected "..", got ".."`.
fn first_difference(want: &str, got: &str) -> String {
    let (mut w, mut g) = (want.lines(), got.lines());
    let mut line = 1;
    loop {
        match (w.next(), g.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (None, None) => return "the texts differ in line endings".to_owned(),
            (a, b) => {
                return format!("line {line}: expected {:?}, got {:?}", a.unwrap_or("<end>"), b.unwrap_or("<end>"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn first_difference_names_the_line_and_both_texts() {
        assert_eq!(first_difference("a\nb\nc\n", "a\nx\nc\n"), "line 2: expected \"b\", got \"x\"");
        assert_eq!(first_difference("a\n", "a\nb\n"), "line 2: expected \"<end>\", got \"b\"");
    }
}
