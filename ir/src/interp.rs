//! The reference interpreter of the array IR: the executable definition of what every op means.
//!
//! Every backend and every pass is tested against [`run`]. It favours being obviously correct
//! over being fast: nodes are evaluated in arena order (operands come first), each once.
//!
//! * *Array-level* nodes (no free index variables, see [`Program::free_vars`]) are computed
//!   whole: elementwise ops with ndarray's broadcasting `Zip`, reductions over axes by a
//!   sequential row-major fold (`array`).
//! * *Scalar-body* nodes (the bodies of `Generate` / `RangeReduce`, which read index
//!   variables) are computed per iteration by a recursive scalar evaluator over an environment
//!   of index-variable values (`body`). `Select` there is lazy: only the chosen branch runs,
//!   so a guarded gather never reads out of range.
//!
//! What each op computes on each dtype is [`crate::scalar`]'s, for both paths. The array IR
//! refuses what its verifier refuses and `scalar` defines only for the loop IR: elementwise
//! arithmetic and `min`/`max` on bool, `sum`/`prod` of bool (`binary_defined`,
//! `reduce_defined`).
//!
//! An array-level node whose evaluation fails (say a constant-index load out of range) does not
//! fail the run at once: its error is recorded and raised only when a consumer that actually
//! runs needs the value. That keeps a lazily guarded branch lazy even when the guarded load
//! has no index variables of its own.

mod array;
mod body;

use crate::program::{BinOp, NodeId, Op, Program, ReduceOp, VarId};
use crate::scalar::Scalar;
use crate::shapes::{bind_with_scalars, dim_value, BindError, SymValues};
use crate::types::{DType, Dim, ElemTy};
use crate::value::{map_value, shape_tuple, size_text, AllocError, Value};
use thiserror::Error;

/// Why a program could not be run on some arguments.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum InterpError {
    /// The arguments do not fit the kernel's signature (count, dtype, rank or dimensions).
    #[error(transparent)]
    Bind(#[from] BindError),
    /// A load read outside an array. `array` is the parameter's name when the array is a
    /// parameter, else the node (`v7`).
    #[error("index {index} is out of range for axis {axis} of `{array}` (length {len})")]
    IndexOutOfBounds { array: String, axis: usize, index: i64, len: usize },
    /// `argmin` / `argmax` over an empty domain (numpy raises too).
    #[error("`{node}`: argmin or argmax over an empty domain")]
    EmptyArgReduce { node: String },
    /// The program is still generic over its float type `F` (the message says what to do).
    #[error("{0}")]
    Generic(String),
    /// An op applied to a dtype it is not defined on (`exp` of an `i32`, `sum` of bools).
    #[error("`{node}`: {why}")]
    Unsupported { node: String, why: String },
    /// The program breaks an invariant the verifier checks (operand order, types, shapes that
    /// do not broadcast, an index variable used outside its binder, ...).
    #[error("malformed program at `{node}`: {why}")]
    Malformed { node: String, why: String },
    /// An output or intermediate array could not be allocated, as numpy's `MemoryError`.
    /// `what` names it as the loop IR's frame does (``output `out0` of kernel `outer` ``).
    #[error("unable to allocate {} for an array with shape {} ({what})", size_text(*.bytes), shape_tuple(.shape))]
    OutOfMemory { bytes: usize, shape: Vec<usize>, what: String },
    /// An output or intermediate array would have more bytes than an address space holds.
    #[error("{what} would have shape {} of {dtype}: its size in bytes overflows", shape_tuple(.shape))]
    TooLarge { what: String, dtype: DType, shape: Vec<usize> },
}

/// Run a concrete (non-generic) program on `args`, one [`Value`] per parameter (scalars as 0-d
/// arrays), and return one [`Value`] per output, each in standard (row-major) layout.
///
/// Arguments may have any strides (transposed views made owned keep their layout).
///
/// # Errors
/// [`InterpError::Bind`] when the arguments do not fit the signature, [`InterpError::Generic`]
/// when the program mentions `F`, and the run-time errors of the ops (out-of-range loads,
/// empty argmin/argmax), or [`InterpError::Malformed`] for a program the verifier would reject.
pub fn run(p: &Program, args: &[Value]) -> Result<Vec<Value>, InterpError> {
    if p.is_generic() {
        return Err(InterpError::Generic(format!(
            "kernel `{}` is generic over its float type `F`; instantiate it or use `run_generic`",
            p.name
        )));
    }
    let shapes: Vec<(DType, &[usize])> = args.iter().map(|a| (a.dtype(), a.shape())).collect();
    let scalars = scalar_ints(args);
    let syms = bind_with_scalars(p, None, &shapes, &scalars)?;
    tracing::trace!(kernel = %p.name, ?syms, "interpreting");
    let mut interp = Interp::new(p, args, syms)?;
    interp.scalars_of_args = scalars;
    interp.run()
}

/// The value of every rank-0 integer argument (what slice bounds may read), `None` for the
/// others.
pub fn scalar_ints(args: &[Value]) -> Vec<Option<i64>> {
    args.iter()
        .map(|a| match a {
            Value::I32(x) if x.ndim() == 0 => x.first().map(|&v| i64::from(v)),
            Value::I64(x) if x.ndim() == 0 => x.first().copied(),
            Value::U32(x) if x.ndim() == 0 => x.first().map(|&v| i64::from(v)),
            _ => None,
        })
        .collect()
}

/// Run a possibly generic program: `F` is replaced by `float` first. With `float` = `None`,
/// `F` is taken from the dtype of the first argument whose parameter is declared `F`.
///
/// # Errors
/// As [`run`], plus [`InterpError::Generic`] when no float type is given or can be inferred,
/// or the one given is not `f32`/`f64`.
pub fn run_generic(p: &Program, float: Option<DType>, args: &[Value]) -> Result<Vec<Value>, InterpError> {
    if !p.is_generic() {
        return run(p, args);
    }
    let inferred = || {
        let i = p.params.iter().position(|q| q.ty.elem == ElemTy::Float)?;
        args.get(i).map(Value::dtype)
    };
    let Some(float) = float.or_else(inferred) else {
        return Err(InterpError::Generic(format!(
            "kernel `{}` is generic over `F` and no float dtype was given or inferable from its arguments",
            p.name
        )));
    };
    if !float.is_float() {
        return Err(InterpError::Generic(format!("`F` of kernel `{}` must be f32 or f64, got {}", p.name, float)));
    }
    run(&p.instantiate(float), args)
}

/// The state of one run.
struct Interp<'a> {
    p: &'a Program,
    args: &'a [Value],
    syms: SymValues,
    /// Free index variables of each node.
    free: Vec<Vec<VarId>>,
    /// Value of each array-level node once evaluated (or the error evaluating it gave).
    vals: Vec<Option<Result<Value, InterpError>>>,
    /// The element of each rank-0 array-level node, for fast reads from scalar bodies.
    scalars: Vec<Option<Scalar>>,
    env: Env,
    /// Per-node cache of scalar-body values: `(clock when computed, value)`.
    cache: Vec<(u64, Option<Scalar>)>,
    /// The integer scalar arguments, for slice bounds.
    scalars_of_args: Vec<Option<i64>>,
}

/// Index-variable values. Each assignment ticks `clock` and stamps the variable, so a cached
/// scalar is still valid iff none of its free variables was assigned after it was computed.
struct Env {
    value: Vec<i64>,
    bound: Vec<bool>,
    set_at: Vec<u64>,
    clock: u64,
}

impl Env {
    fn set(&mut self, v: VarId, value: i64, bound: bool) {
        let i = v.0 as usize;
        self.clock += 1;
        self.value[i] = value;
        self.bound[i] = bound;
        self.set_at[i] = self.clock;
    }
}

impl<'a> Interp<'a> {
    fn new(p: &'a Program, args: &'a [Value], syms: SymValues) -> Result<Interp<'a>, InterpError> {
        let mut n_vars = 0;
        for (i, n) in p.nodes.iter().enumerate() {
            let id = NodeId(i as u32);
            if let Some(o) = n.op.operands().into_iter().find(|o| o.index() >= i) {
                return Err(malformed(p, id, format!("operand {o} does not come before its user")));
            }
            let vars: &[VarId] = match &n.op {
                Op::Index(v) => std::slice::from_ref(v),
                op => op.bound_vars(),
            };
            n_vars = vars.iter().map(|v| v.0 as usize + 1).fold(n_vars, usize::max);
            match &n.op {
                Op::Param(k) if *k as usize >= p.params.len() => {
                    return Err(malformed(p, id, format!("parameter {k} does not exist")));
                }
                Op::Generate { vars, extents, .. } | Op::RangeReduce { vars, extents, .. }
                    if vars.len() != extents.len() =>
                {
                    return Err(malformed(p, id, "binds a different number of variables than extents".into()));
                }
                _ => {}
            }
            if let ElemTy::Float = n.ty.elem {
                return Err(malformed(p, id, "generic type `F` in a concrete program".into()));
            }
        }
        if let Some(o) = p.outputs.iter().find(|o| o.index() >= p.nodes.len()) {
            return Err(malformed(p, *o, "output is not a node of the program".into()));
        }
        let n = p.nodes.len();
        Ok(Interp {
            p,
            args,
            syms,
            free: p.free_vars(),
            vals: vec![None; n],
            scalars: vec![None; n],
            env: Env { value: vec![0; n_vars], bound: vec![false; n_vars], set_at: vec![0; n_vars], clock: 0 },
            cache: vec![(0, None); n],
            scalars_of_args: Vec::new(),
        })
    }

    fn run(mut self) -> Result<Vec<Value>, InterpError> {
        for i in 0..self.p.nodes.len() {
            if self.free[i].is_empty() && !matches!(self.p.nodes[i].op, Op::Index(_)) {
                let id = NodeId(i as u32);
                let r = self.eval_array(id).and_then(|v| self.check_type(id, v));
                if let Ok(v) = &r {
                    if v.shape().is_empty() {
                        self.scalars[i] = v.first_scalar();
                    }
                }
                self.vals[i] = Some(r);
            }
        }
        let outputs = self.p.outputs.clone();
        outputs
            .iter()
            .map(|&o| {
                let v = self.val(o)?.clone();
                Ok(map_value!(v, a => if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() }))
            })
            .collect()
    }

    /// The computed value of an array-level node, or the error its evaluation gave.
    fn val(&self, id: NodeId) -> Result<&Value, InterpError> {
        match &self.vals[id.index()] {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.clone()),
            None => Err(self.malformed(id, "used as a whole array but depends on index variables".into())),
        }
    }

    /// The concrete dtype of a node.
    fn dtype(&self, id: NodeId) -> DType {
        // `new` rejected every `F`, so the fallback is never taken.
        self.p.node(id).ty.elem.resolve(DType::F64)
    }

    /// The concrete shape of a node under this call's symbol values.
    fn shape(&self, id: NodeId) -> Vec<usize> {
        self.p.node(id).ty.shape.iter().map(|&d| self.dim(d)).collect()
    }

    fn dim(&self, d: Dim) -> usize {
        match d {
            Dim::Sym(s) if s.0 as usize >= self.syms.len() => 0,
            d => dim_value(d, &self.syms),
        }
    }

    /// Check that a computed value has the dtype and shape its node declares.
    fn check_type(&self, id: NodeId, v: Value) -> Result<Value, InterpError> {
        let (dtype, shape) = (self.dtype(id), self.shape(id));
        if v.dtype() != dtype || v.shape() != shape.as_slice() {
            return Err(self.malformed(
                id,
                format!("computed a {} array of shape {:?}, but the node is {dtype} {shape:?}", v.dtype(), v.shape()),
            ));
        }
        Ok(v)
    }

    /// How errors name a node: the parameter's name for a parameter, else `vN`.
    fn name(&self, id: NodeId) -> String {
        node_name(self.p, id)
    }

    fn malformed(&self, id: NodeId, why: String) -> InterpError {
        malformed(self.p, id, why)
    }

    /// The error for node `id`'s array that could not be allocated, naming it as the loop
    /// IR's frame names the buffer it becomes: ``output `out0` of kernel `k` `` for the
    /// program's `k`-th output, else ``temporary `v7` of kernel `k` ``.
    fn alloc_error(&self, id: NodeId, e: AllocError) -> InterpError {
        let what = match self.p.outputs.iter().position(|&o| o == id) {
            Some(k) => format!("output `out{k}` of kernel `{}`", self.p.name),
            None => format!("temporary `{}` of kernel `{}`", self.name(id), self.p.name),
        };
        match e {
            AllocError::OutOfMemory { bytes, shape } => InterpError::OutOfMemory { bytes, shape, what },
            AllocError::TooLarge { dtype, shape } => InterpError::TooLarge { what, dtype, shape },
        }
    }

    fn unsupported(&self, id: NodeId, why: String) -> InterpError {
        InterpError::Unsupported { node: self.name(id), why }
    }
}

fn node_name(p: &Program, id: NodeId) -> String {
    match p.nodes.get(id.index()).map(|n| &n.op) {
        Some(Op::Param(k)) => p.params.get(*k as usize).map_or_else(|| id.to_string(), |q| q.name.clone()),
        _ => id.to_string(),
    }
}

fn malformed(p: &Program, id: NodeId, why: String) -> InterpError {
    InterpError::Malformed { node: node_name(p, id), why }
}

/// Whether the array IR defines the elementwise `op` on `dtype`: what [`Scalar::binary`]
/// defines, less arithmetic and `min`/`max` on bool (the loop IR's steps of bool reductions).
fn binary_defined(op: BinOp, dtype: DType) -> bool {
    Scalar::binary_defined(op, dtype) && (dtype != DType::Bool || op.is_logical() || op.is_comparison())
}

/// Whether the array IR defines the reduction `op` on `dtype`: all of them except `sum` and
/// `prod` of bool (which need a cast first).
fn reduce_defined(op: ReduceOp, dtype: DType) -> bool {
    dtype != DType::Bool || !matches!(op, ReduceOp::Sum | ReduceOp::Prod)
}

/// The error text of an op applied to a dtype it is not defined on.
fn not_defined(op: &str, dtype: DType) -> String {
    format!("`{op}` is not defined on {dtype}")
}
