//! Kernel bodies: the domain loop (grid-stride or block-per-point; tiled contractions are
//! laid out by [`super::tiled`] with this emitter's statements), statements and scalar
//! expressions. Expressions are typed here (the loop IR is typed at its `let`s, loads and
//! constants) so that float arithmetic is written with C operators and everything whose C
//! meaning differs from kiln's (integer overflow and division, casts, NaN-propagating
//! `min`/`max`) goes through a prelude helper.

mod scan;

use super::{c_type, tiled, EmitError};
use crate::emit::Mapping;
use kiln_ir::loops::{BufId, Expr, Flag, Kernel, KernelHint, LoopProgram, Scalar, Stmt, Var};
use kiln_ir::{BinOp, DType, Dim, UnOp};
use std::collections::HashMap;
use std::fmt::Write as _;

type R<T> = Result<T, EmitError>;

/// The most copies of a serial loop's body NVVM may make (loops with longer constant trip
/// counts get `#pragma unroll` this): enough loads in flight, a bounded register count.
const MAX_UNROLL: u64 = 16;

/// Render one kernel; also says how it maps onto the grid.
pub(super) fn kernel(lp: &LoopProgram, k: &Kernel) -> R<(String, Mapping)> {
    let mut e = Emitter::new(lp, &k.name);
    for (v, _) in &k.domain {
        e.vars.insert(*v, DType::I64);
    }
    let _ = writeln!(e.out, "extern \"C\" __global__ void {}(const KilnArgs args) {{", k.name);
    if k.hint == KernelHint::Scan {
        if let Some(mapping) = e.scan(k)? {
            return Ok((e.out, mapping));
        }
    }
    let (may_tile, may_block) = mappings(k.hint);
    if let Some(c) = tiled::contraction(lp, k).filter(|_| may_tile) {
        e.tiled(k, &c)?;
        e.out.push_str("}\n");
        return Ok((e.out, c.mapping()));
    }
    // A blocked float sum splits across the block as one flat loop (the block's own order).
    let flat = if may_block { flat_kernel(k) } else { None };
    let kb = flat.as_ref().unwrap_or(k);
    let reduce = block_reduction(kb).filter(|_| may_block);
    let mapping = if reduce.is_some() { Mapping::BlockPerPoint } else { Mapping::GridStride };
    if let Some(r) = &reduce {
        let _ = writeln!(e.out, "  __shared__ {} kiln_red[32];", c_type(r.ty));
    }
    let extents = e.extents(k);
    let _ = writeln!(e.out, "  const long long kiln_len = {};", len_expr(extents));
    // One iteration per thread (or block) is the common case: the grid covers the domain up to
    // 2^16 blocks. Unrolled, the loop only adds a 64-bit trip-count division and registers.
    e.out.push_str("  #pragma unroll 1\n");
    match mapping {
        Mapping::GridStride => e.out.push_str(
            "  for (long long kiln_i = (long long)blockIdx.x * blockDim.x + threadIdx.x; kiln_i < kiln_len;\n       \
             kiln_i += (long long)gridDim.x * blockDim.x) {\n",
        ),
        _ => e.out.push_str("  for (long long kiln_i = blockIdx.x; kiln_i < kiln_len; kiln_i += gridDim.x) {\n"),
    }
    e.split_index("kiln_i", &k.domain, 4);
    match reduce {
        None => e.stmts(&k.body, 2)?,
        Some(r) => e.block_reduce(kb, &r, 2)?,
    }
    e.out.push_str("  }\n}\n");
    Ok((e.out, mapping))
}

/// The product of the domain extents `kiln_e0 * kiln_e1 * ..` of a kernel with `extents` axes.
fn len_expr(extents: usize) -> String {
    if extents == 0 {
        "1ll".to_string()
    } else {
        (0..extents).map(|i| format!("kiln_e{i}")).collect::<Vec<_>>().join(" * ")
    }
}

/// The prelude's functor for a block-wide fold by `op` of `ty` values.
fn op_functor(op: BinOp, ty: DType) -> &'static str {
    match (op, ty.is_float()) {
        (BinOp::Add, true) => "kiln_op_addf",
        (BinOp::Add, false) => "kiln_op_add",
        (BinOp::Mul, true) => "kiln_op_mulf",
        (BinOp::Mul, false) => "kiln_op_mul",
        (BinOp::Min, _) => "kiln_op_min",
        _ => "kiln_op_max",
    }
}

/// The identity of the block fold `op` on `ty` values.
fn op_identity(op: BinOp, ty: DType) -> Scalar {
    match op {
        BinOp::Add => Scalar::zero(ty),
        BinOp::Mul => Scalar::one(ty),
        BinOp::Min => Scalar::max_value(ty),
        _ => Scalar::min_value(ty),
    }
}

/// Which mappings the schedule's hint lets a kernel take: `(tiled, block per point)`. Only a
/// kernel of serial reduction loops (a `gemm` step's own loops among them: its kernel where no
/// vendor call takes it) or a two-phase partial can be a tiled contraction, only a
/// two-phase partial a block reduction; the kernel's shape then decides whether it is one.
/// Loop IR without a hint (`plain`: element-wise kernels, hand-written programs) is
/// recognised by its shape alone.
fn mappings(hint: KernelHint) -> (bool, bool) {
    match hint {
        KernelHint::Serial | KernelHint::Gemm | KernelHint::GemmSplitK => (true, false),
        KernelHint::Plain | KernelHint::TwoPhase => (true, true),
        _ => (false, false),
    }
}

/// A kernel body of the form `let ..; mut acc = init; for v < n from a to b { ..; acc =
/// op(acc, x) }; ..` (a two-phase partial reduction), where the loop body touches `acc` only
/// in its last statement and stores nothing: its iterations can be split across a block.
struct BlockReduce {
    /// Index of the `mut` in the body.
    at: usize,
    acc: Var,
    ty: DType,
    op: BinOp,
}

fn block_reduction(k: &Kernel) -> Option<BlockReduce> {
    let at = k.body.iter().position(|s| !matches!(s, Stmt::Let { .. }))?;
    let Stmt::Mut { var: acc, ty, .. } = k.body.get(at)? else { return None };
    let Stmt::ForRange { body, .. } = k.body.get(at + 1)? else { return None };
    if matches!(ty, DType::Bool) {
        return None;
    }
    let (last, rest) = body.split_last()?;
    let Stmt::Assign { var, value: Expr::Binary(op, a, b) } = last else { return None };
    if var != acc || **a != Expr::Var(*acc) || !matches!(op, BinOp::Add | BinOp::Mul | BinOp::Min | BinOp::Max) {
        return None;
    }
    let mut ok = !b.reads(*acc);
    for s in rest {
        ok &= stmt_ok(s, *acc);
    }
    ok.then_some(BlockReduce { at, acc: *acc, ty: *ty, op: *op })
}

/// `k` with the blocked sum ([`kiln_ir::loops::blocked_sum`]) that follows its first `mut`
/// made one loop, when its body has that form: a block reduction then splits the elements
/// across its threads (strided, then the shuffle tree), a fixed order of its own.
fn flat_kernel(k: &Kernel) -> Option<Kernel> {
    let at = k.body.iter().position(|s| !matches!(s, Stmt::Let { .. }))?;
    let Stmt::Mut { var: acc, .. } = k.body.get(at)? else { return None };
    let flat = kiln_ir::loops::flatten_blocked_sum(k.body.get(at + 1)?, *acc)?;
    let mut k = k.clone();
    k.body[at + 1] = flat;
    Some(k)
}

/// A statement of the reduction loop that neither reads `acc`, nor assigns a variable it does
/// not itself declare, nor stores.
fn stmt_ok(s: &Stmt, acc: Var) -> bool {
    let mut local = vec![];
    !s.any(&mut |s| {
        local.extend(s.defined_var());
        match s {
            Stmt::Store { .. } => true,
            Stmt::Assign { var, .. } if !local.contains(var) => true,
            s => s.exprs().any(|e| e.reads(acc)),
        }
    })
}

pub(super) struct Emitter<'a> {
    pub(super) lp: &'a LoopProgram,
    kernel: &'a str,
    /// The type of every variable defined so far.
    pub(super) vars: HashMap<Var, DType>,
    /// C names of variables that do not print as themselves (the copies of a tiled kernel).
    pub(super) names: HashMap<Var, String>,
    /// Loads rendered as something else than a global access (a tiled kernel's operands,
    /// read from shared memory): `(buffer, indices, C text)`.
    pub(super) loads: Vec<(BufId, Vec<Expr>, String)>,
    /// The next unused variable id (for variables the emitter makes up).
    next_var: u32,
    pub(super) out: String,
}

impl<'a> Emitter<'a> {
    fn new(lp: &'a LoopProgram, kernel: &'a str) -> Self {
        let next_var = lp.next_var();
        Emitter { lp, kernel, vars: HashMap::new(), names: HashMap::new(), loads: vec![], next_var, out: String::new() }
    }
}

impl Emitter<'_> {
    pub(super) fn unsupported<T>(&self, what: impl Into<String>) -> R<T> {
        Err(EmitError::Unsupported { kernel: self.kernel.to_string(), what: what.into() })
    }

    /// A variable no statement of the program uses, printed as `name` (typed where it is
    /// defined, like the program's own).
    pub(super) fn fresh(&mut self, name: String) -> Var {
        let v = Var(self.next_var);
        self.next_var += 1;
        self.names.insert(v, name);
        v
    }

    /// The C name of `v`.
    pub(super) fn name(&self, v: Var) -> String {
        self.names.get(&v).cloned().unwrap_or_else(|| v.to_string())
    }

    /// `const long long kiln_e{i} = extent;` for each domain axis; returns how many.
    pub(super) fn extents(&mut self, k: &Kernel) -> usize {
        for (i, (_, d)) in k.domain.iter().enumerate() {
            let x = self.dim(*d);
            let _ = writeln!(self.out, "  const long long kiln_e{i} = {x};");
        }
        k.domain.len()
    }

    /// Define the domain variables `axes` (row-major, extents `kiln_e{i}`) from the flat
    /// index `flat`, at `depth` spaces.
    pub(super) fn split_index(&mut self, flat: &str, axes: &[(Var, Dim)], depth: usize) {
        let pad = " ".repeat(depth);
        if !axes.is_empty() {
            let _ = writeln!(self.out, "{pad}long long kiln_r = {flat};");
        }
        for (i, (v, _)) in axes.iter().enumerate().rev() {
            if i == 0 {
                let _ = writeln!(self.out, "{pad}const long long {v} = kiln_r;");
            } else {
                let _ = writeln!(self.out, "{pad}const long long {v} = kiln_r % kiln_e{i};");
                let _ = writeln!(self.out, "{pad}kiln_r /= kiln_e{i};");
            }
        }
    }

    pub(super) fn dim(&self, d: Dim) -> String {
        match d {
            Dim::Const(c) => format!("{c}ll"),
            Dim::Sym(s) => format!("args.dim_{}", self.lp.dim_text(Dim::Sym(s))),
        }
    }

    pub(super) fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// The block-per-point body at `d` (indentation steps): the prefix `let`s, the reduction
    /// loop split across the block's threads, the block reduction, and the rest of the body in
    /// thread 0.
    fn block_reduce(&mut self, k: &Kernel, r: &BlockReduce, d: usize) -> R<()> {
        self.stmts(&k.body[..r.at], d)?;
        let Some(Stmt::Mut { init, .. }) = k.body.get(r.at) else { return self.unsupported("block reduction") };
        let Some(Stmt::ForRange { var, extent, start, end, body }) = k.body.get(r.at + 1) else {
            return self.unsupported("block reduction");
        };
        let (ty, acc, id) = (c_type(r.ty), r.acc, constant(op_identity(r.op, r.ty)));
        self.vars.insert(acc, r.ty);
        self.vars.insert(*var, DType::I64);
        // Thread 0 starts from the program's initial value, the others from the identity.
        let init = self.expr(init)?;
        if init == id {
            self.line(d, &format!("{ty} {acc} = {init};"));
        } else {
            self.line(d, &format!("{ty} {acc} = threadIdx.x == 0 ? {init} : {id};"));
        }
        let (lo, hi, ext) = (self.expr(start)?, self.expr(end)?, self.dim(*extent));
        self.line(d, "{");
        self.line(d + 1, &format!("const long long {var}_lo = kiln_max({lo}, 0ll), {var}_hi = kiln_min({hi}, {ext});"));
        self.line(
            d + 1,
            &format!("for (long long {var} = {var}_lo + threadIdx.x; {var} < {var}_hi; {var} += blockDim.x) {{"),
        );
        self.stmts(body, d + 2)?;
        self.line(d + 1, "}");
        self.line(d, "}");
        let op = op_functor(r.op, r.ty);
        self.line(d, &format!("{acc} = kiln_block_reduce({acc}, {id}, kiln_red, {op}());"));
        self.line(d, "if (threadIdx.x == 0) {");
        self.stmts(&k.body[r.at + 2..], d + 1)?;
        self.line(d, "}");
        Ok(())
    }

    pub(super) fn stmts(&mut self, body: &[Stmt], depth: usize) -> R<()> {
        for s in body {
            match s {
                Stmt::Let { var, ty, value } => {
                    let x = self.expr(value)?;
                    self.vars.insert(*var, *ty);
                    let var = self.name(*var);
                    self.line(depth, &format!("const {} {var} = {x};", c_type(*ty)));
                }
                Stmt::Mut { var, ty, init } => {
                    let x = self.expr(init)?;
                    self.vars.insert(*var, *ty);
                    let var = self.name(*var);
                    self.line(depth, &format!("{} {var} = {x};", c_type(*ty)));
                }
                Stmt::Assign { var, value } => {
                    let (x, var) = (self.expr(value)?, self.name(*var));
                    self.line(depth, &format!("{var} = {x};"));
                }
                Stmt::Store { buf, idx, value } => {
                    let (x, at) = (self.expr(value)?, self.access(*buf, idx)?);
                    self.line(depth, &format!("{at} = {x};"));
                }
                Stmt::For { var, extent, body } => {
                    self.vars.insert(*var, DType::I64);
                    let (n, var) = (self.dim(*extent), self.name(*var));
                    if matches!(extent, Dim::Const(c) if *c > MAX_UNROLL) {
                        // NVVM unrolls a constant trip count completely and issues every load
                        // first, so a long constant loop (the 64 partials of a two-phase
                        // combine) holds a register per iteration and spills.
                        self.line(depth, &format!("#pragma unroll {MAX_UNROLL}"));
                    }
                    self.line(depth, &format!("for (long long {var} = 0; {var} < {n}; ++{var}) {{"));
                    self.stmts(body, depth + 1)?;
                    self.line(depth, "}");
                }
                Stmt::ForRange { var, extent, start, end, body } => {
                    self.vars.insert(*var, DType::I64);
                    let (lo, hi, ext) = (self.expr(start)?, self.expr(end)?, self.dim(*extent));
                    let var = self.name(*var);
                    self.line(depth, "{");
                    self.line(
                        depth + 1,
                        &format!("const long long {var}_lo = kiln_max({lo}, 0ll), {var}_hi = kiln_min({hi}, {ext});"),
                    );
                    self.line(depth + 1, &format!("for (long long {var} = {var}_lo; {var} < {var}_hi; ++{var}) {{"));
                    self.stmts(body, depth + 2)?;
                    self.line(depth + 1, "}");
                    self.line(depth, "}");
                }
                Stmt::If { cond, then, els } => {
                    let c = self.expr(cond)?;
                    self.line(depth, &format!("if ({c}) {{"));
                    self.stmts(then, depth + 1)?;
                    if !els.is_empty() {
                        self.line(depth, "} else {");
                        self.stmts(els, depth + 1)?;
                    }
                    self.line(depth, "}");
                }
                Stmt::Flag(f) => {
                    let k = flag_index(*f);
                    self.line(depth, &format!("atomicOr(args.flags + {k}, 1u); // {}", f.name()));
                }
            }
        }
        Ok(())
    }

    /// `args.x_[i0 * args.x_s0 + ..]`.
    pub(super) fn access(&mut self, buf: BufId, idx: &[Expr]) -> R<String> {
        let Some(b) = self.lp.buffers.get(buf.index()) else { return self.unsupported(format!("buffer #{}", buf.0)) };
        if idx.len() != b.shape.len() {
            return self.unsupported(format!("access to `{}` with {} indices", b.name, idx.len()));
        }
        let name = b.name.clone();
        let mut terms = vec![];
        for (i, e) in idx.iter().enumerate() {
            terms.push(format!("{} * args.{name}_s{i}", self.expr(e)?));
        }
        if terms.is_empty() {
            terms.push("0".into());
        }
        Ok(format!("args.{name}_[{}]", terms.join(" + ")))
    }

    fn ty(&self, e: &Expr) -> R<DType> {
        Ok(match e {
            Expr::Var(v) => match self.vars.get(v) {
                Some(t) => *t,
                None => return self.unsupported(format!("variable {v} used before its definition")),
            },
            Expr::Const(c) => c.dtype(),
            Expr::Dim(_) | Expr::Check(..) => DType::I64,
            Expr::Load { buf, .. } => match self.lp.buffers.get(buf.index()) {
                Some(b) => b.dtype,
                None => return self.unsupported(format!("buffer #{}", buf.0)),
            },
            Expr::Unary(_, a) => self.ty(a)?,
            Expr::Binary(op, a, _) => {
                if op.is_comparison() {
                    DType::Bool
                } else {
                    self.ty(a)?
                }
            }
            Expr::Select(_, a, _) | Expr::MulAdd(a, ..) => self.ty(a)?,
            Expr::Cast(t, _) | Expr::Bitcast(t, _) => *t,
        })
    }

    pub(super) fn expr(&mut self, e: &Expr) -> R<String> {
        Ok(match e {
            Expr::Var(v) => self.name(*v),
            Expr::Const(c) => constant(*c),
            Expr::Dim(d) => self.dim(*d),
            Expr::Load { buf, idx } => match self.loads.iter().find(|(b, i, _)| b == buf && i == idx) {
                Some((_, _, text)) => text.clone(),
                None => self.access(*buf, idx)?,
            },
            Expr::Check(i, d) => {
                let k = flag_index(Flag::IndexOutOfRange);
                format!("kiln_check({}, {}, args.flags + {k})", self.expr(i)?, self.dim(*d))
            }
            Expr::Unary(op, a) => {
                let t = self.ty(a)?;
                let x = self.expr(a)?;
                self.unary(*op, t, x)?
            }
            Expr::Binary(op, a, b) => {
                let t = self.ty(a)?;
                let (x, y) = (self.expr(a)?, self.expr(b)?);
                self.binary(*op, t, x, y)?
            }
            Expr::Select(c, a, b) => format!("({} ? {} : {})", self.expr(c)?, self.expr(a)?, self.expr(b)?),
            Expr::MulAdd(a, b, c) => {
                let f = if self.ty(a)? == DType::F32 { "fmaf" } else { "fma" };
                format!("{f}({}, {}, {})", self.expr(a)?, self.expr(b)?, self.expr(c)?)
            }
            Expr::Cast(t, a) => {
                let from = self.ty(a)?;
                let x = self.expr(a)?;
                cast(from, *t, x)
            }
            Expr::Bitcast(t, a) => {
                let from = self.ty(a)?;
                let x = self.expr(a)?;
                let f = match (from, *t) {
                    (DType::F32, DType::U32) => "__float_as_uint",
                    (DType::F32, DType::I32) => "__float_as_int",
                    (DType::U32, DType::F32) => "__uint_as_float",
                    (DType::I32, DType::F32) => "__int_as_float",
                    (DType::F64, DType::I64) => "__double_as_longlong",
                    (DType::I64, DType::F64) => "__longlong_as_double",
                    _ => return self.unsupported(format!("bitcast from {from} to {t}")),
                };
                format!("{f}({x})")
            }
        })
    }

    fn unary(&self, op: UnOp, t: DType, x: String) -> R<String> {
        let f = t == DType::F32;
        Ok(match (op, t) {
            (UnOp::Neg, DType::F32 | DType::F64) => format!("(-{x})"),
            (UnOp::Neg, DType::I32 | DType::I64) => format!("kiln_neg({x})"),
            (UnOp::Not, DType::Bool) => format!("(!{x})"),
            (UnOp::Not, DType::I32 | DType::I64 | DType::U32) => format!("(~{x})"),
            (UnOp::Abs, DType::F32 | DType::F64) => format!("{}({x})", if f { "fabsf" } else { "fabs" }),
            (UnOp::Abs, DType::I32 | DType::I64) => format!("kiln_abs({x})"),
            (UnOp::Abs, DType::U32) => x,
            (UnOp::CountOnes, DType::I32 | DType::I64 | DType::U32) => format!("kiln_count_ones({x})"),
            (op, DType::F32 | DType::F64) if op.float_only() => {
                let m = |a: &str, b: &str| format!("{}({x})", if f { a } else { b });
                match op {
                    UnOp::Exp => m("expf", "exp"),
                    UnOp::Ln => m("logf", "log"),
                    UnOp::Log1p => m("log1pf", "log1p"),
                    UnOp::Sqrt => m("sqrtf", "sqrt"),
                    UnOp::Rsqrt => format!("({} / {})", if f { "1.0f" } else { "1.0" }, m("sqrtf", "sqrt")),
                    UnOp::Sin => m("sinf", "sin"),
                    UnOp::Cos => m("cosf", "cos"),
                    UnOp::Tanh => m("tanhf", "tanh"),
                    UnOp::Sigmoid => format!("kiln_sigmoid({x})"),
                    UnOp::Floor => m("floorf", "floor"),
                    UnOp::Ceil => m("ceilf", "ceil"),
                    UnOp::PowI(n) => format!("kiln_powi({x}, {})", int_const(i64::from(n), DType::I32)),
                    UnOp::Tan => m("tanf", "tan"),
                    UnOp::Atan => m("atanf", "atan"),
                    UnOp::Sinh => m("sinhf", "sinh"),
                    UnOp::Cosh => m("coshf", "cosh"),
                    UnOp::Asinh => m("asinhf", "asinh"),
                    UnOp::Acosh => m("acoshf", "acosh"),
                    UnOp::Atanh => m("atanhf", "atanh"),
                    UnOp::Cbrt => m("cbrtf", "cbrt"),
                    UnOp::Expm1 => m("expm1f", "expm1"),
                    UnOp::Exp2 => m("exp2f", "exp2"),
                    UnOp::Log2 => m("log2f", "log2"),
                    UnOp::Log10 => m("log10f", "log10"),
                    UnOp::Round => m("roundf", "round"),
                    UnOp::Trunc => m("truncf", "trunc"),
                    UnOp::Erf => m("erff", "erf"),
                    UnOp::Erfc => m("erfcf", "erfc"),
                    UnOp::Signum => format!("kiln_signum({x})"),
                    _ => return self.unsupported(format!("{} of {t}", op.name())),
                }
            }
            _ => return self.unsupported(format!("{} of {t}", op.name())),
        })
    }

    fn binary(&self, op: BinOp, t: DType, x: String, y: String) -> R<String> {
        if op.is_comparison() {
            let c = match op {
                BinOp::Eq => "==",
                BinOp::Ne => "!=",
                BinOp::Lt => "<",
                BinOp::Le => "<=",
                BinOp::Gt => ">",
                _ => ">=",
            };
            return Ok(format!("({x} {c} {y})"));
        }
        let f = t == DType::F32;
        Ok(match (op, t) {
            (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, DType::F32 | DType::F64) => {
                let c = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    _ => "/",
                };
                format!("({x} {c} {y})")
            }
            (BinOp::Rem, DType::F32 | DType::F64) => format!("{}({x}, {y})", if f { "fmodf" } else { "fmod" }),
            (BinOp::Pow, DType::F32 | DType::F64) => format!("{}({x}, {y})", if f { "powf" } else { "pow" }),
            (BinOp::Atan2, DType::F32 | DType::F64) => format!("{}({x}, {y})", if f { "atan2f" } else { "atan2" }),
            (BinOp::Hypot, DType::F32 | DType::F64) => format!("{}({x}, {y})", if f { "hypotf" } else { "hypot" }),
            (BinOp::Shl | BinOp::Shr, DType::I32 | DType::I64 | DType::U32) => format!("kiln_{}({x}, {y})", op.name()),
            (BinOp::Min, DType::Bool) | (BinOp::And | BinOp::Mul, DType::Bool) => format!("({x} && {y})"),
            (BinOp::Max, DType::Bool) | (BinOp::Or | BinOp::Add, DType::Bool) => format!("({x} || {y})"),
            (BinOp::Xor, DType::Bool) => format!("({x} != {y})"),
            (BinOp::Min | BinOp::Max, _) => format!("kiln_{}({x}, {y})", op.name()),
            (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem, DType::I32 | DType::I64 | DType::U32) => {
                format!("kiln_{}({x}, {y})", op.name())
            }
            (BinOp::And | BinOp::Or | BinOp::Xor, DType::I32 | DType::I64 | DType::U32) => {
                let c = match op {
                    BinOp::And => "&",
                    BinOp::Or => "|",
                    _ => "^",
                };
                format!("({x} {c} {y})")
            }
            _ => return self.unsupported(format!("{} of {t}", op.name())),
        })
    }
}

/// Position of `f` in the flags array (`Flag::ALL` order).
fn flag_index(f: Flag) -> usize {
    Flag::ALL.iter().position(|g| *g == f).unwrap_or(0)
}

/// `x as t` in Rust's meaning.
fn cast(from: DType, to: DType, x: String) -> String {
    if from == to {
        return x;
    }
    match (from.is_float(), to) {
        (_, DType::Bool) => format!("({x} != 0)"),
        (true, DType::I32) => format!("kiln_f2i32({x})"),
        (true, DType::I64) => format!("kiln_f2i64({x})"),
        (true, DType::U32) => format!("kiln_f2u32({x})"),
        (_, t) => format!("(({}){x})", c_type(t)),
    }
}

fn int_const(v: i64, t: DType) -> String {
    match t {
        DType::I32 if v == i64::from(i32::MIN) => "(-2147483647 - 1)".into(),
        DType::I64 if v == i64::MIN => "(-9223372036854775807ll - 1)".into(),
        DType::I64 if v < 0 => format!("({v}ll)"),
        DType::I64 => format!("{v}ll"),
        _ if v < 0 => format!("({v})"),
        _ => v.to_string(),
    }
}

/// A constant as a C literal of exactly its type (floats exact: shortest round-trip
/// decimals, bit patterns for infinities and NaN).
pub(super) fn constant(c: Scalar) -> String {
    match c {
        Scalar::F32(v) if !v.is_finite() => format!("kiln_f32_bits(0x{:08x}u)", v.to_bits()),
        Scalar::F64(v) if !v.is_finite() => format!("kiln_f64_bits(0x{:016x}ull)", v.to_bits()),
        Scalar::F32(v) if v.is_sign_negative() => format!("({v:?}f)"),
        Scalar::F32(v) => format!("{v:?}f"),
        Scalar::F64(v) if v.is_sign_negative() => format!("({v:?})"),
        Scalar::F64(v) => format!("{v:?}"),
        Scalar::I32(v) => int_const(i64::from(v), DType::I32),
        Scalar::I64(v) => int_const(v, DType::I64),
        Scalar::U32(v) => format!("{v}u"),
        Scalar::Bool(v) => v.to_string(),
    }
}
