//! The array IR: a kernel as a graph of typed nodes over symbolic shapes.
//!
//! Nodes live in one arena ([`Program::nodes`]) addressed by [`NodeId`]; every operand comes
//! before its users, so the verifier, the interpreter and every pass are single forward sweeps.
//!
//! Two kinds of values share the arena:
//! * *array-level* nodes, which have no free index variables (parameters, elementwise ops on
//!   arrays, reductions with axes, comprehensions), and
//! * *scalar-body* nodes, rank-0 values that mention index variables bound by an enclosing
//!   [`Op::Generate`] or [`Op::RangeReduce`] (the `|(i, j)| ...` closures of `from_shape_fn`
//!   and of `sum(0..d, |l| ...)`). Elementwise ops are the same ops in both.

use crate::types::{DType, Dim, ElemTy, SymId, Type};
use std::fmt;

/// Index of a node in [`Program::nodes`]. Printed `v3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// An index variable bound by a comprehension or a range reduction. Printed `i3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);

impl fmt::Display for VarId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "i{}", self.0)
    }
}

/// A scalar constant. Its element type is the type of the node that holds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Literal {
    Float(f64),
    Int(i64),
    Bool(bool),
}

/// Unary elementwise operations. All keep the operand's element type except `Not` (bool or
/// integer bitwise not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    /// `-x` (signed and float types).
    Neg,
    /// `!x`: logical not on bool, bitwise not on integers.
    Not,
    /// `|x|`.
    Abs,
    /// e^x (float).
    Exp,
    /// Natural logarithm (float).
    Ln,
    /// ln(1 + x), accurate for small x (float).
    Log1p,
    /// Square root (float).
    Sqrt,
    /// 1 / sqrt(x) (float).
    Rsqrt,
    /// Sine (float).
    Sin,
    /// Cosine (float).
    Cos,
    /// Hyperbolic tangent (float).
    Tanh,
    /// 1 / (1 + e^-x) (float).
    Sigmoid,
    /// Round toward negative infinity (float).
    Floor,
    /// Round toward positive infinity (float).
    Ceil,
    /// x^n for a constant integer n (float): `powi(n)`.
    PowI(i32),
    /// Tangent (float).
    Tan,
    /// Arctangent, in [-pi/2, pi/2] (float).
    Atan,
    /// Hyperbolic sine (float).
    Sinh,
    /// Hyperbolic cosine (float).
    Cosh,
    /// Inverse hyperbolic sine (float).
    Asinh,
    /// Inverse hyperbolic cosine (float).
    Acosh,
    /// Inverse hyperbolic tangent (float).
    Atanh,
    /// Cube root (float).
    Cbrt,
    /// e^x - 1, accurate for small x (float): Rust's `exp_m1`, C's `expm1`.
    Expm1,
    /// 2^x (float).
    Exp2,
    /// Base-2 logarithm (float).
    Log2,
    /// Base-10 logarithm (float).
    Log10,
    /// Round to the nearest integer, halfway cases away from zero (float): Rust's `round`.
    Round,
    /// Round toward zero (float).
    Trunc,
    /// The error function (float): C99's `erf`, nightly Rust's `f64::erf`.
    Erf,
    /// The complementary error function 1 - erf(x), accurate for large x (float): C99's `erfc`.
    Erfc,
    /// 1 for +0 and positive x, -1 for -0 and negative x, NaN for NaN (float): Rust's `signum`.
    Signum,
    /// The number of one bits, in the operand's type (integer): Rust's `count_ones` before its
    /// cast to `u32`.
    CountOnes,
}

impl UnOp {
    /// Every unary op, for exhaustive tests and the parser.
    pub const ALL: [UnOp; 33] = [
        UnOp::Neg,
        UnOp::Not,
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
        UnOp::PowI(2),
        UnOp::Tan,
        UnOp::Atan,
        UnOp::Sinh,
        UnOp::Cosh,
        UnOp::Asinh,
        UnOp::Acosh,
        UnOp::Atanh,
        UnOp::Cbrt,
        UnOp::Expm1,
        UnOp::Exp2,
        UnOp::Log2,
        UnOp::Log10,
        UnOp::Round,
        UnOp::Trunc,
        UnOp::Erf,
        UnOp::Erfc,
        UnOp::Signum,
        UnOp::CountOnes,
    ];

    /// Name in the IR text (`powi` is printed with its exponent: `powi.3`).
    pub fn name(self) -> &'static str {
        match self {
            UnOp::Neg => "neg",
            UnOp::Not => "not",
            UnOp::Abs => "abs",
            UnOp::Exp => "exp",
            UnOp::Ln => "ln",
            UnOp::Log1p => "log1p",
            UnOp::Sqrt => "sqrt",
            UnOp::Rsqrt => "rsqrt",
            UnOp::Sin => "sin",
            UnOp::Cos => "cos",
            UnOp::Tanh => "tanh",
            UnOp::Sigmoid => "sigmoid",
            UnOp::Floor => "floor",
            UnOp::Ceil => "ceil",
            UnOp::PowI(_) => "powi",
            UnOp::Tan => "tan",
            UnOp::Atan => "atan",
            UnOp::Sinh => "sinh",
            UnOp::Cosh => "cosh",
            UnOp::Asinh => "asinh",
            UnOp::Acosh => "acosh",
            UnOp::Atanh => "atanh",
            UnOp::Cbrt => "cbrt",
            UnOp::Expm1 => "expm1",
            UnOp::Exp2 => "exp2",
            UnOp::Log2 => "log2",
            UnOp::Log10 => "log10",
            UnOp::Round => "round",
            UnOp::Trunc => "trunc",
            UnOp::Erf => "erf",
            UnOp::Erfc => "erfc",
            UnOp::Signum => "signum",
            UnOp::CountOnes => "count_ones",
        }
    }

    /// True for the ops defined only on floats.
    pub fn float_only(self) -> bool {
        !matches!(self, UnOp::Neg | UnOp::Not | UnOp::Abs | UnOp::CountOnes)
    }

    /// True for the ops defined only on integers.
    pub fn int_only(self) -> bool {
        self == UnOp::CountOnes
    }
}

/// Binary elementwise operations. Both operands have the same element type; the operands'
/// shapes broadcast (numpy rules, right-aligned) to the node's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// Float division; integer division truncates toward zero (Rust `/`). Integer division by
    /// zero yields 0 rather than trapping (documented deviation: kernels never trap).
    Div,
    /// Remainder with the sign of the dividend (Rust `%`); integer `% 0` yields 0.
    Rem,
    /// x^y for floats (`powf`).
    Pow,
    /// Elementwise minimum; NaN if either operand is NaN (numpy `minimum`).
    Min,
    /// Elementwise maximum; NaN if either operand is NaN (numpy `maximum`).
    Max,
    /// Comparisons produce bool.
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Logical and/or on bool, bitwise on integers.
    And,
    Or,
    /// Bitwise/logical exclusive or.
    Xor,
    /// `x << n` on integers, with the shift amount taken modulo the bit width (Rust's
    /// `wrapping_shl`: kernels never trap).
    Shl,
    /// `x >> n` on integers: arithmetic for signed types, logical for `u32`; the amount is
    /// taken modulo the bit width (Rust's `wrapping_shr`).
    Shr,
    /// The angle of the point (y = first operand, x = second) in [-pi, pi] (float): `y.atan2(x)`.
    Atan2,
    /// sqrt(x^2 + y^2) without undue overflow or underflow (float): `x.hypot(y)`.
    Hypot,
}

impl BinOp {
    pub const ALL: [BinOp; 21] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
        BinOp::Pow,
        BinOp::Min,
        BinOp::Max,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::And,
        BinOp::Or,
        BinOp::Xor,
        BinOp::Shl,
        BinOp::Shr,
        BinOp::Atan2,
        BinOp::Hypot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Rem => "rem",
            BinOp::Pow => "pow",
            BinOp::Min => "min",
            BinOp::Max => "max",
            BinOp::Eq => "eq",
            BinOp::Ne => "ne",
            BinOp::Lt => "lt",
            BinOp::Le => "le",
            BinOp::Gt => "gt",
            BinOp::Ge => "ge",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Xor => "xor",
            BinOp::Shl => "shl",
            BinOp::Shr => "shr",
            BinOp::Atan2 => "atan2",
            BinOp::Hypot => "hypot",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Xor)
    }

    /// True for the ops defined only on floats.
    pub fn float_only(self) -> bool {
        matches!(self, BinOp::Pow | BinOp::Atan2 | BinOp::Hypot)
    }

    /// True for the shifts, defined only on integers.
    pub fn is_shift(self) -> bool {
        matches!(self, BinOp::Shl | BinOp::Shr)
    }
}

/// Reductions. `Sum`, `Prod`, `Min`, `Max` keep the element type; `ArgMin` / `ArgMax` produce
/// `i64` indices (row-major flattened over the reduced axes, first occurrence wins, like
/// numpy). `Min`/`Max`/`ArgMin`/`ArgMax` propagate NaN like numpy: the result is NaN (or the
/// index of the first NaN). Over an empty domain, `Sum` is 0, `Prod` is 1, `Min` is +inf (the
/// type's maximum for integers), `Max` is -inf (the type's minimum), and `ArgMin`/`ArgMax`
/// are an error at run time (numpy raises too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Prod,
    Min,
    Max,
    ArgMin,
    ArgMax,
}

impl ReduceOp {
    pub const ALL: [ReduceOp; 6] =
        [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Min, ReduceOp::Max, ReduceOp::ArgMin, ReduceOp::ArgMax];

    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
            ReduceOp::ArgMin => "argmin",
            ReduceOp::ArgMax => "argmax",
        }
    }

    pub fn is_arg(self) -> bool {
        matches!(self, ReduceOp::ArgMin | ReduceOp::ArgMax)
    }
}

/// A bound of a slice (start, end or index): a literal, or the value of a rank-0 integer
/// parameter. Negative values count from the end of the axis, as in ndarray's `s![]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SliceBound {
    Const(i64),
    /// The parameter with this index (`s![k..]` with `k: i64`).
    Param(u32),
}

/// `start..end;step` on one axis, ndarray's `Slice`: `start` defaults to 0, `end` to the
/// axis length; a negative step walks the selected range backwards (`s![..;-1]` reverses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SliceRange {
    pub start: Option<SliceBound>,
    pub end: Option<SliceBound>,
    /// Never 0.
    pub step: i64,
}

impl SliceRange {
    /// `..` with step 1: the whole axis, unchanged.
    pub const FULL: SliceRange = SliceRange { start: None, end: None, step: 1 };

    /// The parameters this range reads.
    pub fn params(&self) -> impl Iterator<Item = u32> {
        [self.start, self.end].into_iter().flatten().filter_map(|b| match b {
            SliceBound::Param(k) => Some(k),
            SliceBound::Const(_) => None,
        })
    }
}

/// What [`Op::Slice`] does to one axis of its operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AxisSlice {
    /// Keep the elements of a range (the axis stays).
    Range(SliceRange),
    /// Take one index (the axis is dropped); negative counts from the end.
    Index(SliceBound),
}

/// A shape symbol whose value is not read from an argument but computed when shapes are bound
/// ([`crate::shapes::Signature::bind`]), from the definition `def`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DerivedSym {
    pub sym: SymId,
    pub def: SymDef,
}

/// How a derived symbol's value is computed. Every dimension a definition reads is a
/// constant, a symbol some parameter binds, or an earlier derived symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymDef {
    /// The length of the slice `range` of an axis of length `of` (ndarray's rule, with bounds
    /// clamped into the axis, so the value exists even for bounds a slice check rejects).
    Slice { of: Dim, range: SliceRange },
    /// The value of the rank-0 integer parameter with this index: an extent written `k as
    /// usize`, or a `k: usize` parameter. A negative value is an error at the call.
    Param(u32),
    /// `a op b` in checked integer arithmetic: `n - 1`, `d * d`, `2 * k`, `n / 2`. A negative
    /// or overflowing value, or a division by zero, is an error at the call.
    Arith(DimOp, Dim, Dim),
}

impl SymDef {
    /// The dimensions the definition reads.
    pub fn dims(&self) -> Vec<Dim> {
        match *self {
            SymDef::Slice { of, .. } => vec![of],
            SymDef::Param(_) => vec![],
            SymDef::Arith(_, a, b) => vec![a, b],
        }
    }

    /// The parameters the definition reads (slice bounds or the extent's own parameter).
    pub fn params(&self) -> Vec<u32> {
        match self {
            SymDef::Slice { range, .. } => range.params().collect(),
            SymDef::Param(k) => vec![*k],
            SymDef::Arith(..) => vec![],
        }
    }

    /// The definition in IR text, with dimensions written by `dim`: `n[1..]`, `param p2`,
    /// `sub n 1` (what follows `derive S =` in both IR texts).
    pub fn text(&self, dim: &dyn Fn(Dim) -> String) -> String {
        match self {
            SymDef::Slice { of, range } => format!("{}[{}]", dim(*of), crate::shapes::range_text(range)),
            SymDef::Param(k) => format!("param p{k}"),
            SymDef::Arith(op, a, b) => format!("{} {} {}", op.name(), dim(*a), dim(*b)),
        }
    }
}

/// The arithmetic of a computed extent ([`SymDef::Arith`]), on non-negative integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DimOp {
    Add,
    Sub,
    Mul,
    /// Division rounding down (Rust's `/` on `usize`).
    Div,
    /// `a` when `a == b`, else an error at the call: the check that a reshape keeps the
    /// element count (`x.into_shape_with_order((a, b))` of an `n x d` array: `n * d == a * b`).
    Same,
}

impl DimOp {
    pub const ALL: [DimOp; 5] = [DimOp::Add, DimOp::Sub, DimOp::Mul, DimOp::Div, DimOp::Same];

    /// The name in the IR text.
    pub fn name(self) -> &'static str {
        match self {
            DimOp::Add => "add",
            DimOp::Sub => "sub",
            DimOp::Mul => "mul",
            DimOp::Div => "div",
            DimOp::Same => "same",
        }
    }

    /// The operator as Rust spells it (error messages name the expression this way).
    pub fn symbol(self) -> &'static str {
        match self {
            DimOp::Add => "+",
            DimOp::Sub => "-",
            DimOp::Mul => "*",
            DimOp::Div => "/",
            DimOp::Same => "==",
        }
    }

    pub fn from_name(s: &str) -> Option<DimOp> {
        DimOp::ALL.into_iter().find(|o| o.name() == s)
    }

    /// `a op b`, `None` when it overflows `i64`, divides by zero, or `Same` meets two values.
    pub fn apply(self, a: i64, b: i64) -> Option<i64> {
        match self {
            DimOp::Add => a.checked_add(b),
            DimOp::Sub => a.checked_sub(b),
            DimOp::Mul => a.checked_mul(b),
            DimOp::Div => a.checked_div(b),
            DimOp::Same => (a == b).then_some(a),
        }
    }
}

/// One operation. Each variant lists its operands and what its result type must be; the
/// verifier checks exactly these rules.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// The kernel parameter with this index; type = the parameter's type.
    Param(u32),
    /// A scalar constant; rank 0.
    Const(Literal),
    /// The run-time value of a dimension, as an `i64` scalar.
    DimValue(Dim),
    /// The current value of an index variable, as an `i64` scalar. Only valid inside the body
    /// of the node that binds the variable.
    Index(VarId),
    /// Elementwise unary op; same shape as the operand.
    Unary(UnOp, NodeId),
    /// Elementwise binary op with numpy broadcasting to the node's shape.
    Binary(BinOp, NodeId, NodeId),
    /// `select(cond, a, b)` with broadcasting; `cond` is bool. Lazy: for each element only the
    /// chosen operand's value is needed (so a guarded gather never reads out of range).
    Select(NodeId, NodeId, NodeId),
    /// `a.mul_add(b, c)`: `a * b + c` rounded once (a fused multiply-add), on float scalars
    /// of one type; rank 0 (the front end maps arrays through a comprehension).
    MulAdd(NodeId, NodeId, NodeId),
    /// Conversion to the node's element type (Rust `as` semantics: float -> int saturates,
    /// NaN -> 0).
    Cast(NodeId),
    /// Broadcast the operand (numpy rules) to the node's shape.
    Broadcast(NodeId),
    /// Permute axes: result axis `k` is operand axis `perm[k]`. `.t()` reverses all axes.
    Transpose(NodeId, Vec<u32>),
    /// Insert a length-1 axis at position `axis` of the result.
    InsertAxis(NodeId, u32),
    /// `x.slice(s![..])`: one [`AxisSlice`] per operand axis, with ndarray's semantics. A range
    /// axis keeps its position with the length [`crate::shapes::slice_dim`] gives (a constant,
    /// the operand's own dimension, or a [`DerivedSym`]); an index axis is dropped. Bounds out
    /// of range are a run-time error raised when shapes are bound ([`crate::shapes::bind`]).
    Slice(NodeId, Vec<AxisSlice>),
    /// Reduce the operand over `axes` (sorted, distinct); the result drops those axes.
    Reduce { op: ReduceOp, arg: NodeId, axes: Vec<u32> },
    /// `array[[i0, i1, ...]]`: one element of an array-level node; indices are integer scalars
    /// (possibly loaded from another array: a gather). An index out of range is a run-time
    /// error, never an out-of-bounds read. Negative indices are out of range.
    Load { array: NodeId, indices: Vec<NodeId> },
    /// `Array::from_shape_fn((e0, e1, ..), |(v0, v1, ..)| body)`: an array of shape `extents`
    /// whose element at `(v0, v1, ..)` is the scalar `body`.
    Generate { vars: Vec<VarId>, extents: Vec<Dim>, body: NodeId },
    /// `sum(0..e0, |v0| body)` and friends: a scalar reduction of `body` over the box
    /// `0..e0 x 0..e1 x ..`. Same result types and empty-domain rules as [`ReduceOp`].
    RangeReduce { op: ReduceOp, vars: Vec<VarId>, extents: Vec<Dim>, body: NodeId },
    /// `x.cumsum(Axis(a))` and friends: the inclusive prefix fold of the operand along `axis`
    /// with `op` (`Sum`, `Prod`, `Min` or `Max`; never an arg reduction); same type as the
    /// operand. The order of operations is the blocked one of [`scan_chunk`], fixed by the
    /// extent alone, so every device and thread count gives the same bits.
    Scan { op: ReduceOp, arg: NodeId, axis: u32 },
    /// `x.sort_axis(Axis(a))` (`indices: false`; same type as the operand) and
    /// `x.argsort_axis(Axis(a))` (`indices: true`; `i64` positions along the axis): a stable
    /// ascending sort of every lane along `axis`, NaN after every number (numpy's order), equal
    /// elements (`-0.0` and `0.0` included) in their original order, so the result is unique.
    Sort { arg: NodeId, axis: u32, indices: bool },
    /// `x.smallest_k_axis(Axis(a), k)` / `largest_k_axis`: the first `k` of each lane's stable
    /// sort along `axis` (ascending for the smallest, descending for the largest; equal keys by
    /// the smaller position, NaN after every number in both), as values (`indices: false`) or
    /// `i64` positions; the axis becomes `k`. `k` greater than the lane is a run-time error.
    TopK { arg: NodeId, axis: u32, k: Dim, largest: bool, indices: bool },
}

/// The number of chunks a scan axis is cut into ([`Op::Scan`]): chunk `c` of an axis of length
/// `n` is `c * n / SCAN_CHUNKS .. (c + 1) * n / SCAN_CHUNKS`. Element `j` of chunk `c` is
/// `carry_c op x[start_c] op .. op x[j]`, folded left to right, where `carry_c` folds the
/// totals of chunks `0..c` (each folded left to right from the op's identity) in chunk order,
/// from the identity. A schedule constant, like the two-phase reduction's chunk count: the
/// interpreter and every backend use exactly this order.
pub const SCAN_CHUNKS: u32 = 64;

/// The bounds `start..end` of chunk `c` (of [`SCAN_CHUNKS`]) of a scan axis of length `n`.
pub fn scan_chunk(c: u64, n: u64) -> (u64, u64) {
    let k = u64::from(SCAN_CHUNKS);
    let at = |c: u64| ((u128::from(c) * u128::from(n)) / u128::from(k)) as u64;
    (at(c), at(c + 1))
}

impl Op {
    /// The node's operands in order (the body of a binder counts as an operand).
    pub fn operands(&self) -> Vec<NodeId> {
        match self {
            Op::Param(_) | Op::Const(_) | Op::DimValue(_) | Op::Index(_) => vec![],
            Op::Unary(_, a)
            | Op::Cast(a)
            | Op::Broadcast(a)
            | Op::Transpose(a, _)
            | Op::InsertAxis(a, _)
            | Op::Slice(a, _)
            | Op::Reduce { arg: a, .. }
            | Op::Scan { arg: a, .. }
            | Op::Sort { arg: a, .. }
            | Op::TopK { arg: a, .. } => vec![*a],
            Op::Binary(_, a, b) => vec![*a, *b],
            Op::Select(c, a, b) | Op::MulAdd(c, a, b) => vec![*c, *a, *b],
            Op::Load { array, indices } => {
                let mut v = vec![*array];
                v.extend(indices.iter().copied());
                v
            }
            Op::Generate { body, .. } | Op::RangeReduce { body, .. } => vec![*body],
        }
    }

    /// Rewrite every operand through `f` (used by passes that renumber nodes).
    pub fn map_operands(&mut self, mut f: impl FnMut(NodeId) -> NodeId) {
        match self {
            Op::Param(_) | Op::Const(_) | Op::DimValue(_) | Op::Index(_) => {}
            Op::Unary(_, a)
            | Op::Cast(a)
            | Op::Broadcast(a)
            | Op::Transpose(a, _)
            | Op::InsertAxis(a, _)
            | Op::Slice(a, _)
            | Op::Reduce { arg: a, .. }
            | Op::Scan { arg: a, .. }
            | Op::Sort { arg: a, .. }
            | Op::TopK { arg: a, .. } => *a = f(*a),
            Op::Binary(_, a, b) => {
                *a = f(*a);
                *b = f(*b);
            }
            Op::Select(c, a, b) | Op::MulAdd(c, a, b) => {
                *c = f(*c);
                *a = f(*a);
                *b = f(*b);
            }
            Op::Load { array, indices } => {
                *array = f(*array);
                for i in indices {
                    *i = f(*i);
                }
            }
            Op::Generate { body, .. } | Op::RangeReduce { body, .. } => *body = f(*body),
        }
    }

    /// The index variables this node binds (for `Generate` and `RangeReduce`).
    pub fn bound_vars(&self) -> &[VarId] {
        match self {
            Op::Generate { vars, .. } | Op::RangeReduce { vars, .. } => vars,
            _ => &[],
        }
    }
}

/// One node: an operation and the type of its result.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    pub ty: Type,
}

/// A kernel parameter: name and type (rank 0 for scalar parameters).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: Type,
}

/// A whole kernel in array IR.
///
/// Shapes are symbolic: `syms` names the symbols that parameter shapes bind at call time
/// (a symbol used by two parameters requires their dimensions to agree), and the symbols
/// `derived` computes from them and from integer scalar arguments (slice lengths, extents). A program is generic
/// when some type mentions [`ElemTy::Float`]; [`Program::instantiate`] makes it concrete.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub name: String,
    pub syms: Vec<String>,
    pub params: Vec<Param>,
    pub nodes: Vec<Node>,
    pub outputs: Vec<NodeId>,
    /// Symbols computed when shapes are bound (slice lengths, scalar and computed extents),
    /// in the order they are computed. Symbols listed here are bound by no parameter.
    pub derived: Vec<DerivedSym>,
}

impl Program {
    pub fn new(name: impl Into<String>) -> Program {
        Program {
            name: name.into(),
            syms: Vec::new(),
            params: Vec::new(),
            nodes: Vec::new(),
            outputs: Vec::new(),
            derived: Vec::new(),
        }
    }

    /// The derivation of symbol `s`, when it is a derived symbol.
    pub fn derived_sym(&self, s: SymId) -> Option<&DerivedSym> {
        self.derived.iter().find(|d| d.sym == s)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// Append a node and return its id (operands must already exist).
    pub fn push(&mut self, op: Op, ty: Type) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(Node { op, ty });
        id
    }

    /// Add a shape symbol (or return the existing one with that name).
    pub fn sym(&mut self, name: &str) -> SymId {
        if let Some(i) = self.syms.iter().position(|s| s == name) {
            return SymId(i as u32);
        }
        self.syms.push(name.to_string());
        SymId(self.syms.len() as u32 - 1)
    }

    pub fn sym_name(&self, s: SymId) -> &str {
        &self.syms[s.0 as usize]
    }

    /// True when some type in the program is the generic float `F`.
    pub fn is_generic(&self) -> bool {
        self.params.iter().any(|p| p.ty.elem == ElemTy::Float) || self.nodes.iter().any(|n| n.ty.elem == ElemTy::Float)
    }

    /// Replace the generic float `F` by `float` everywhere.
    pub fn instantiate(&self, float: DType) -> Program {
        let mut p = self.clone();
        let fix = |t: &mut Type| t.elem = ElemTy::Concrete(t.elem.resolve(float));
        for param in &mut p.params {
            fix(&mut param.ty);
        }
        for n in &mut p.nodes {
            fix(&mut n.ty);
        }
        p
    }

    /// Number of uses of each node (outputs count as uses).
    pub fn use_counts(&self) -> Vec<u32> {
        let mut uses = vec![0u32; self.nodes.len()];
        for n in &self.nodes {
            for o in n.op.operands() {
                uses[o.index()] += 1;
            }
        }
        for o in &self.outputs {
            uses[o.index()] += 1;
        }
        uses
    }

    /// The free index variables of every node (sorted), in one forward sweep.
    pub fn free_vars(&self) -> Vec<Vec<VarId>> {
        let mut free: Vec<Vec<VarId>> = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let mut f: Vec<VarId> = match &n.op {
                Op::Index(v) => vec![*v],
                op => op.operands().iter().flat_map(|o| free[o.index()].iter().copied()).collect(),
            };
            let bound = n.op.bound_vars();
            f.retain(|v| !bound.contains(v));
            f.sort();
            f.dedup();
            free.push(f);
        }
        free
    }
}
