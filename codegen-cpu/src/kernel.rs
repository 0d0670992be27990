//! Lowering one loop kernel to a Cranelift function: the prologue that reads the argument
//! pack, the domain loop nest over a flat range `start..end`, and the scalar lowering of every
//! statement and expression. The vector inner loop lives in [`crate::simd`] and reuses the
//! scalar emitters here for its hoisted values and its lane-by-lane operations.
//!
//! The domain loop walks the flat range row by row: `start` is split once into a multi-index
//! (one division per axis per call), then each row runs the innermost axis from its current
//! index to the row's end or to `end`, and the outer indices advance with a branch-free carry.
//! The innermost loop is thus a plain counted loop, which is what vectorization needs.

use crate::math::{libm_symbol, MathOp};
use crate::simd::{self, Plan};
use crate::vmath;
use crate::CpuError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, Block, FuncRef, Function, InstBuilder, InstructionData, MemFlagsData, Opcode, Type, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};
use kiln_ir::loops::{BufId, Expr, Flag, Kernel, LoopProgram, Scalar, Stmt, Var};
use kiln_ir::{BinOp, DType, Dim, UnOp};
use std::collections::HashMap;

/// Every variable defined in `body` (`let`, `mut`, loop variables), at any depth.
fn defined_vars(body: &[Stmt], out: &mut Vec<Var>) {
    body.iter().for_each(|s| s.walk(&mut |s| out.extend(s.defined_var())));
}

/// The loads (keyed by the address of the expression) and stores (of the statement) of every
/// iteration of a loop with body `body`: those of its statements, `if`s included, but not
/// those inside nested loops' bodies. Loads come first within a statement.
fn direct_accesses<'e>(body: &'e [Stmt], out: &mut Vec<(usize, BufId, &'e [Expr])>) {
    for s in body {
        for e in s.exprs() {
            e.walk(&mut |e| {
                if let Expr::Load { buf, idx } = e {
                    out.push((e as *const Expr as usize, *buf, idx));
                }
            });
        }
        match s {
            Stmt::Store { buf, idx, .. } => out.push((s as *const Stmt as usize, *buf, idx)),
            Stmt::If { then, els, .. } => {
                direct_accesses(then, out);
                direct_accesses(els, out);
            }
            Stmt::Let { .. }
            | Stmt::Mut { .. }
            | Stmt::Assign { .. }
            | Stmt::For { .. }
            | Stmt::ForRange { .. }
            | Stmt::Flag(_) => {}
        }
    }
}

/// The Cranelift type holding one element of `dt` (bool is one byte, 0 or 1).
pub(crate) fn clif_type(dt: DType) -> Type {
    match dt {
        DType::F32 => types::F32,
        DType::F64 => types::F64,
        DType::I32 | DType::U32 => types::I32,
        DType::I64 => types::I64,
        DType::Bool => types::I8,
    }
}

/// A buffer's base pointer and its strides in bytes, loaded in the entry block.
pub(crate) struct BufVals {
    pub ptr: Value,
    pub byte_strides: Vec<Value>,
    /// Strides in elements (for the vectorizer's stride-1 check).
    pub strides: Vec<Value>,
}

/// The state of lowering one kernel.
pub(crate) struct Lower<'a, 'f> {
    pub b: FunctionBuilder<'f>,
    pub lp: &'a LoopProgram,
    module: &'a mut JITModule,
    imports: &'a HashMap<&'static str, FuncId>,
    func_refs: HashMap<&'static str, FuncRef>,
    /// Every loop IR variable in scope: its Cranelift variable and dtype.
    pub vars: HashMap<Var, (Variable, DType)>,
    pub bufs: Vec<Option<BufVals>>,
    syms: Vec<Value>,
    flags: Value,
    /// Emit `exp ln tanh sigmoid sin cos` as polynomials ([`crate::vmath`]) instead of libm calls.
    pub poly_math: bool,
    /// The host ISA has FMA: polynomials use `fma`.
    pub fma: bool,
    /// Whether serial loops may get a vector version ([`simd::reduce`], [`simd::map_plan`]).
    simd: bool,
    /// The vector strategies the schedule's hint leaves open to this kernel's loops
    /// ([`simd::Strategies`]).
    strategies: simd::Strategies,
    /// Whether float reduction loops must run in order, not as [`simd::reduce`]'s vector
    /// version (which sums in another order): in kernels with a vector plan, whose lanes run
    /// each point's loops in order, so that a point's value does not depend on whether the
    /// vector loop, the scalar tail or a tier-0 build computed it.
    ordered_reductions: bool,
    /// Where a vector copy being emitted may hand its point and the rest of the row to the
    /// scalar loop ([`Bail`]); `None` outside straight-line vector loops.
    pub bail: Option<Bail>,
    /// Loads and stores whose address a serial loop keeps in a variable and advances each
    /// iteration ([`Lower::start_walks`]), by address of the load expression or store
    /// statement.
    pub walkers: HashMap<usize, Variable>,
}

/// The scalar loop a straight-line vector copy can hand the rest of its row to: `jvar` set to
/// `at` (the copy's first point), then a jump to `head`. Polynomial math does this when a lane
/// is beyond its polynomial's range (`sin` of a huge argument), instead of calling libm in the
/// vector loop: a call clobbers every vector register, and with one anywhere in the loop the
/// register allocator spills the polynomials' constants on every iteration. The copy may have
/// stored some of its outputs already; the scalar loop stores the same values again (the plan
/// guarantees the kernel reads no buffer it stores to).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bail {
    pub head: Block,
    pub jvar: Variable,
    pub at: Value,
}

/// The address walkers of one serial loop: each variable and its byte step per iteration.
pub(crate) struct Walks {
    keys: Vec<usize>,
    steps: Vec<(Variable, Value)>,
}

/// Flags for loads and stores the loop IR proves in bounds and naturally aligned.
pub(crate) fn mem() -> MemFlagsData {
    MemFlagsData::trusted()
}

fn unsupported<T>(what: impl Into<String>) -> Result<T, CpuError> {
    Err(CpuError::Unsupported(what.into()))
}

/// Build the function of kernel `k` into `func`. With `simd`, the innermost axis also gets a
/// vector loop when [`simd::plan`] accepts the kernel; returns what the caller should know
/// of that plan when it did ([`Vectorized`]).
/// What a kernel's vector plan asks of its caller.
pub(crate) struct Vectorized {
    /// [`simd::Plan::repack`].
    pub repack: Vec<(BufId, usize)>,
    /// Domain points per iteration of the widest vector loop when that loop runs over the
    /// whole (rank-1) domain, else 1: a range of the domain whose length is not a multiple
    /// ends in scalar iterations, so a caller splitting the domain should cut at multiples.
    pub block: i64,
}

pub(crate) fn build_kernel(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    module: &mut JITModule,
    imports: &HashMap<&'static str, FuncId>,
    lp: &LoopProgram,
    k: &Kernel,
    simd: bool,
    opts: &crate::CompileOptions,
) -> Result<Option<Vectorized>, CpuError> {
    let fma = opts.fma && module.isa().isa_flags().iter().any(|f| f.name == "has_fma" && f.as_bool() == Some(true));
    // Tier 0 is about compile time: no kernel-level vector loop. Each of its lanes computes
    // exactly its scalar iteration, so the results do not change. Reductions inside a kernel
    // that has a vector plan run in order in every build (`Lower::ordered_reductions`), tier 0
    // too: a vector reduction loop would sum in another order than the optimized build's lanes.
    let strategies = simd::Strategies::of(k.hint);
    let plan = if simd && strategies.kernel { simd::plan(lp, k) } else { None };
    let ordered_reductions = plan.is_some();
    let plan = plan.filter(|_| !opts.fast);
    let repack = plan.as_ref().map(|p| Vectorized {
        repack: p.repack.clone(),
        block: if k.domain.len() == 1 { p.lanes() * p.tiers[0] } else { 1 },
    });
    let b = FunctionBuilder::new(func, fctx);
    let mut l = Lower {
        b,
        lp,
        module,
        imports,
        func_refs: HashMap::new(),
        vars: HashMap::new(),
        bufs: vec![],
        syms: vec![],
        flags: Value::from_u32(0),
        poly_math: opts.poly_math,
        fma,
        simd,
        strategies,
        ordered_reductions,
        bail: None,
        walkers: HashMap::new(),
    };
    if let Err(e) = l.kernel(k, plan.as_ref()) {
        // The builder stops half way: reset its context so the next function starts clean.
        drop(l);
        *fctx = FunctionBuilderContext::new();
        return Err(e);
    }
    l.b.seal_all_blocks();
    let config = l.module.target_config();
    l.b.finalize(config);
    Ok(repack)
}

impl Lower<'_, '_> {
    fn kernel(&mut self, k: &Kernel, plan: Option<&Plan>) -> Result<(), CpuError> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let (args, start, end) = (params[0], params[1], params[2]);
        self.prologue(args, k)?;

        let exit = self.b.create_block();
        let setup = self.b.create_block();
        let nonempty = self.b.ins().icmp(IntCC::SignedLessThan, start, end);
        self.b.ins().brif(nonempty, setup, &[], exit, &[]);
        self.b.switch_to_block(setup);

        if k.domain.is_empty() {
            // One point: the body runs once.
            self.stmts(&k.body)?;
            self.b.ins().jump(exit, &[]);
        } else {
            self.domain_loop(k, plan, start, end, exit)?;
        }
        self.b.switch_to_block(exit);
        self.b.ins().return_(&[]);
        Ok(())
    }

    /// Load the argument pack: buffer pointers and strides of every buffer the kernel
    /// touches, the symbol values and the flags pointer.
    fn prologue(&mut self, args: Value, k: &Kernel) -> Result<(), CpuError> {
        let i64t = types::I64;
        let bufs_ptr = self.b.ins().load(i64t, mem(), args, 0);
        let syms_ptr = self.b.ins().load(i64t, mem(), args, 8);
        self.flags = self.b.ins().load(i64t, mem(), args, 16);
        let mut used = vec![false; self.lp.buffers.len()];
        simd::visit_buffers(&k.body, &mut |b: BufId| {
            if let Some(u) = used.get_mut(b.index()) {
                *u = true;
            }
        });
        for (i, buf) in self.lp.buffers.iter().enumerate() {
            if !used[i] {
                self.bufs.push(None);
                continue;
            }
            let off = (i * 16) as i32;
            let ptr = self.b.ins().load(i64t, mem(), bufs_ptr, off);
            let mut strides = vec![];
            let mut byte_strides = vec![];
            if !buf.shape.is_empty() {
                let sp = self.b.ins().load(i64t, mem(), bufs_ptr, off + 8);
                for a in 0..buf.shape.len() {
                    let s = self.b.ins().load(i64t, mem(), sp, (a * 8) as i32);
                    strides.push(s);
                    byte_strides.push(self.b.ins().imul_imm_s(s, buf.dtype.size() as i64));
                }
            }
            self.bufs.push(Some(BufVals { ptr, byte_strides, strides }));
        }
        for s in 0..self.lp.syms.len() {
            let v = self.b.ins().load(i64t, mem(), syms_ptr, (s * 8) as i32);
            self.syms.push(v);
        }
        Ok(())
    }

    /// The row-by-row walk over `start..end` of a domain of rank >= 1.
    fn domain_loop(
        &mut self,
        k: &Kernel,
        plan: Option<&Plan>,
        start: Value,
        end: Value,
        exit: Block,
    ) -> Result<(), CpuError> {
        let i64t = types::I64;
        let rank = k.domain.len();
        // Extents, with 0 replaced by 1: a non-empty range implies no extent is 0, and the
        // guard keeps the divisions below trap-free whatever the caller passes.
        let mut exts = vec![];
        for (_, d) in &k.domain {
            let e = self.dim(*d);
            let zero = self.b.ins().icmp_imm_s(IntCC::Equal, e, 0);
            let one = self.b.ins().iconst(i64t, 1);
            exts.push(self.b.ins().select(zero, one, e));
        }
        let idx: Vec<Variable> = (0..rank).map(|_| self.b.declare_var(i64t)).collect();
        let mut rem = start;
        for a in (0..rank).rev() {
            let q = self.b.ins().udiv(rem, exts[a]);
            let qe = self.b.ins().imul(q, exts[a]);
            let r = self.b.ins().isub(rem, qe);
            self.b.def_var(idx[a], r);
            rem = q;
        }
        for ((v, _), cv) in k.domain.iter().zip(&idx).take(rank - 1) {
            self.vars.insert(*v, (*cv, DType::I64));
        }
        let jvar = self.b.declare_var(i64t);
        self.vars.insert(k.domain[rank - 1].0, (jvar, DType::I64));
        let pvar = self.b.declare_var(i64t);
        self.b.def_var(pvar, start);
        let simd_ok = plan.map(|p| simd::stride_check(self, p));

        let row_head = self.b.create_block();
        let row = self.b.create_block();
        self.b.ins().jump(row_head, &[]);
        self.b.switch_to_block(row_head);
        let p = self.b.use_var(pvar);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, p, end);
        self.b.ins().brif(more, row, &[], exit, &[]);

        self.b.switch_to_block(row);
        let j0 = self.b.use_var(idx[rank - 1]);
        let left = self.b.ins().isub(end, p);
        let cand = self.b.ins().iadd(j0, left);
        let jn = self.b.ins().smin(exts[rank - 1], cand);
        self.b.def_var(jvar, j0);
        let scalar_head = self.b.create_block();
        if let (Some(plan), Some(ok)) = (plan, simd_ok) {
            let vpre = self.b.create_block();
            self.b.ins().brif(ok, vpre, &[], scalar_head, &[]);
            self.b.switch_to_block(vpre);
            simd::vector_loops(self, plan, &k.body, jvar, jn, scalar_head)?;
        } else {
            self.b.ins().jump(scalar_head, &[]);
        }
        // The scalar inner loop (the whole row, or the tail after the vector loops). Its
        // reductions run in order, like each lane of the vector loops (`ordered_reductions`):
        // a point's value must not depend on whether a vector loop or this loop computed it,
        // nor on where the parallel domain was cut. When the runtime always satisfies the
        // stride check, it only ever runs the last few points of a row: its serial loops get
        // no vector versions at all (less code to compile).
        let body = self.b.create_block();
        let done = self.b.create_block();
        self.b.switch_to_block(scalar_head);
        let j = self.b.use_var(jvar);
        let c = self.b.ins().icmp(IntCC::SignedLessThan, j, jn);
        self.b.ins().brif(c, body, &[], done, &[]);
        self.b.switch_to_block(body);
        let simd = self.simd;
        self.simd &= !plan.is_some_and(|p| p.always_contiguous(self.lp));
        self.stmts(&k.body)?;
        self.simd = simd;
        let j = self.b.use_var(jvar);
        let j1 = self.b.ins().iadd_imm_s(j, 1);
        self.b.def_var(jvar, j1);
        self.b.ins().jump(scalar_head, &[]);

        // Next row: advance the flat position and carry into the outer indices.
        self.b.switch_to_block(done);
        let n = self.b.ins().isub(jn, j0);
        let p1 = self.b.ins().iadd(p, n);
        self.b.def_var(pvar, p1);
        let zero = self.b.ins().iconst(i64t, 0);
        self.b.def_var(idx[rank - 1], zero);
        let mut carry = self.b.ins().iconst(i64t, 1);
        for a in (0..rank - 1).rev() {
            let v = self.b.use_var(idx[a]);
            let v = self.b.ins().iadd(v, carry);
            let wrap = self.b.ins().icmp(IntCC::Equal, v, exts[a]);
            let v = self.b.ins().select(wrap, zero, v);
            self.b.def_var(idx[a], v);
            carry = self.b.ins().uextend(i64t, wrap);
        }
        self.b.ins().jump(row_head, &[]);
        Ok(())
    }

    pub(crate) fn stmts(&mut self, body: &[Stmt]) -> Result<(), CpuError> {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), CpuError> {
        match s {
            Stmt::Let { var, ty, value } | Stmt::Mut { var, ty, init: value } => {
                let (v, t) = self.expr(value)?;
                if t != *ty {
                    return unsupported(format!("`let {var}: {ty}` given a value of type {t}"));
                }
                let cv = self.declare(*var, *ty);
                self.b.def_var(cv, v);
            }
            Stmt::Assign { var, value } => {
                let (v, t) = self.expr(value)?;
                let Some(&(cv, ty)) = self.vars.get(var) else {
                    return unsupported(format!("assignment to undefined variable {var}"));
                };
                if t != ty {
                    return unsupported(format!("assignment of {t} to {var}: {ty}"));
                }
                self.b.def_var(cv, v);
            }
            Stmt::Store { buf, idx, value } => {
                let addr = match self.walkers.get(&(s as *const Stmt as usize)) {
                    Some(&w) => self.b.use_var(w),
                    None => self.addr(*buf, idx)?,
                };
                let (v, t) = self.expr(value)?;
                if t != self.lp.buffer(*buf).dtype {
                    return unsupported(format!("store of {t} into buffer `{}`", self.lp.buffer(*buf).name));
                }
                self.b.ins().store(mem(), v, addr, 0);
            }
            Stmt::For { var, extent, body } => {
                let lo = self.b.ins().iconst(types::I64, 0);
                let hi = self.dim(*extent);
                self.serial_loop(*var, lo, hi, body)?;
            }
            Stmt::ForRange { var, extent, start, end, body } => {
                let (lo, hi) = self.range(*extent, start, end)?;
                self.serial_loop(*var, lo, hi, body)?;
            }
            Stmt::If { cond, then, els } => {
                let (c, t) = self.expr(cond)?;
                if t != DType::Bool {
                    return unsupported(format!("`if` condition of type {t}"));
                }
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                let merge = self.b.create_block();
                self.b.ins().brif(c, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                self.stmts(then)?;
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(eb);
                self.stmts(els)?;
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(merge);
            }
            Stmt::Flag(f) => self.raise(*f)?,
        }
        Ok(())
    }

    /// A serial loop of `var` over `lo..hi`. Where the kernel's hint allows it
    /// ([`simd::Strategies`]), a loop around a contraction that [`simd::reduce::block_plan`]
    /// accepts first runs blocks of columns together, and a reduction loop
    /// [`simd::reduce::plan`] accepts, or a map [`simd::map_plan`] accepts, first gets a
    /// vector version (taken when its accesses are contiguous); then the scalar loop finishes
    /// what is left.
    fn serial_loop(&mut self, var: Var, lo: Value, hi: Value, body: &[Stmt]) -> Result<(), CpuError> {
        let cv = self.declare(var, DType::I64);
        self.b.def_var(cv, lo);
        let blocked = self.simd && self.strategies.blocked;
        if let Some(bp) = blocked.then(|| simd::reduce::block_plan(self, var, body)).flatten() {
            // Blocks of columns first; the plain loop below finishes the last few.
            simd::reduce::blocked_loop(self, &bp, var, cv, hi)?;
        }
        // The scalar loop (after the vector part, if any): its walkers start where that part
        // left the loop variable.
        let pre = self.b.create_block();
        let reorder = self.simd && self.strategies.reduce && !self.ordered_reductions;
        let map = self.simd && self.strategies.map;
        if let Some(plan) = reorder.then(|| simd::reduce::plan(self, var, body)).flatten() {
            simd::reduce::vector_loop(self, &plan, body, cv, hi, pre)?;
        } else if let Some(plan) = map.then(|| simd::map_plan(self, var, body)).flatten() {
            simd::map_loop(self, &plan, body, cv, hi, pre)?;
        } else {
            self.b.ins().jump(pre, &[]);
        }
        self.b.switch_to_block(pre);
        let walks = self.start_walks(var, None, body)?;
        let head = self.b.create_block();
        self.b.ins().jump(head, &[]);
        self.counted_loop(head, cv, hi, |l| {
            l.stmts(body)?;
            l.step_walks(&walks);
            Ok(())
        })?;
        self.end_walks(walks);
        Ok(())
    }

    /// Strength reduction for the serial loop of `var`, whose variable holds its first value:
    /// every load directly in `body` (nested loops have their own) whose indices are each
    /// `var` itself or invariant in the loop gets a variable holding its address, computed
    /// here once and advanced by [`Self::step_walks`] at the end of each iteration, instead
    /// of a multiply and add per axis per iteration (Cranelift does not strength-reduce). With
    /// `inner` (a vector loop's inner variable), that variable counts as index 0: the walker
    /// then holds the row base the vector code adds its lanes' offset to.
    pub(crate) fn start_walks(&mut self, var: Var, inner: Option<Var>, body: &[Stmt]) -> Result<Walks, CpuError> {
        let mut defined = vec![var];
        defined_vars(body, &mut defined);
        let mut accesses = vec![];
        direct_accesses(body, &mut accesses);
        let mut walks = Walks { keys: vec![], steps: vec![] };
        // A store to the element a load reads (`p[..] = add(load p[..], x)`) shares its walker.
        let mut shared: Vec<(BufId, &[Expr], Variable)> = vec![];
        for (key, buf, idx) in accesses {
            if let Some(&(_, _, w)) = shared.iter().find(|(b, i, _)| *b == buf && *i == idx) {
                self.walkers.insert(key, w);
                walks.keys.push(key);
                continue;
            }
            // An index with a check (an effect) or a load (a gather) in it is evaluated where it
            // stands, never ahead of its loop.
            let walkable =
                |x: &Expr| !x.loads_or_checks() && !x.any(&mut |e| matches!(e, Expr::Var(v) if defined.contains(v)));
            if !idx.contains(&Expr::Var(var)) || !idx.iter().all(|x| *x == Expr::Var(var) || walkable(x)) {
                continue;
            }
            let at = |x: &Expr| match (inner, x) {
                (Some(i), Expr::Var(v)) if *v == i => Expr::i64(0),
                _ => x.clone(),
            };
            let start: Vec<Expr> = idx.iter().map(at).collect();
            let addr = self.addr(buf, &start)?;
            let mut step = self.b.ins().iconst(types::I64, 0);
            for (a, x) in idx.iter().enumerate() {
                if *x == Expr::Var(var) {
                    let s = self.buf_vals(buf)?.byte_strides[a];
                    step = self.b.ins().iadd(step, s);
                }
            }
            let w = self.b.declare_var(types::I64);
            self.b.def_var(w, addr);
            self.walkers.insert(key, w);
            walks.keys.push(key);
            walks.steps.push((w, step));
            shared.push((buf, idx, w));
        }
        Ok(walks)
    }

    /// Advance every walker of a loop by one iteration.
    pub(crate) fn step_walks(&mut self, walks: &Walks) {
        for &(w, step) in &walks.steps {
            let a = self.b.use_var(w);
            let a = self.b.ins().iadd(a, step);
            self.b.def_var(w, a);
        }
    }

    /// Forget a finished loop's walkers (the same expressions, emitted again elsewhere, get
    /// their own loop's or none).
    pub(crate) fn end_walks(&mut self, walks: Walks) {
        for k in walks.keys {
            self.walkers.remove(&k);
        }
    }

    /// The bounds of `for .. < extent from start to end`, clamped to `0..extent`, which keeps
    /// every index the loop variable feeds in range.
    pub(crate) fn range(&mut self, extent: Dim, start: &Expr, end: &Expr) -> Result<(Value, Value), CpuError> {
        let (s, st) = self.expr(start)?;
        let (e, et) = self.expr(end)?;
        if st != DType::I64 || et != DType::I64 {
            return unsupported(format!("range bounds of types {st} and {et}"));
        }
        let zero = self.b.ins().iconst(types::I64, 0);
        let lo = self.b.ins().smax(s, zero);
        let n = self.dim(extent);
        let hi = self.b.ins().smin(e, n);
        Ok((lo, hi))
    }

    /// The loop `while cv < hi { body; cv += 1 }` from `head` (already the target of the jump
    /// that enters it); `emit` lowers the body. Ends in the block after the loop.
    pub(crate) fn counted_loop(
        &mut self,
        head: Block,
        cv: Variable,
        hi: Value,
        emit: impl FnOnce(&mut Self) -> Result<(), CpuError>,
    ) -> Result<(), CpuError> {
        let blk = self.b.create_block();
        let after = self.b.create_block();
        self.b.switch_to_block(head);
        let i = self.b.use_var(cv);
        let c = self.b.ins().icmp(IntCC::SignedLessThan, i, hi);
        self.b.ins().brif(c, blk, &[], after, &[]);
        self.b.switch_to_block(blk);
        emit(self)?;
        let i = self.b.use_var(cv);
        let i1 = self.b.ins().iadd_imm_s(i, 1);
        self.b.def_var(cv, i1);
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(after);
        Ok(())
    }

    /// Declare a Cranelift variable for `var` (a fresh one each time: a statement lowered twice,
    /// as in the vector and the scalar loop, shadows the earlier definition).
    pub(crate) fn declare(&mut self, var: Var, ty: DType) -> Variable {
        let cv = self.b.declare_var(clif_type(ty));
        self.vars.insert(var, (cv, ty));
        cv
    }

    pub(crate) fn raise(&mut self, f: Flag) -> Result<(), CpuError> {
        let Some(k) = Flag::ALL.iter().position(|x| *x == f) else {
            return unsupported(format!("flag `{}`", f.name()));
        };
        let one = self.b.ins().iconst(types::I32, 1);
        self.b.ins().store(mem(), one, self.flags, (k * 4) as i32);
        Ok(())
    }

    /// The run-time value of a dimension.
    pub(crate) fn dim(&mut self, d: Dim) -> Value {
        match d {
            Dim::Const(c) => self.b.ins().iconst(types::I64, c as i64),
            Dim::Sym(s) => match self.syms.get(s.0 as usize) {
                Some(v) => *v,
                // The verifier rejects unknown symbols; 0 keeps a bad program harmless.
                None => self.b.ins().iconst(types::I64, 0),
            },
        }
    }

    fn buf_vals(&self, buf: BufId) -> Result<&BufVals, CpuError> {
        match self.bufs.get(buf.index()) {
            Some(Some(v)) => Ok(v),
            _ => unsupported(format!("access to unknown buffer #{}", buf.0)),
        }
    }

    /// Byte offset of `idx` in buffer `buf` plus its base pointer: the element's address.
    pub(crate) fn addr(&mut self, buf: BufId, idx: &[Expr]) -> Result<Value, CpuError> {
        let rank = self.buf_vals(buf)?.byte_strides.len();
        if idx.len() != rank {
            return unsupported(format!("access to buffer `{}` with {} indices", self.lp.buffer(buf).name, idx.len()));
        }
        let mut addr = self.buf_vals(buf)?.ptr;
        for (a, e) in idx.iter().enumerate() {
            let (i, t) = self.expr(e)?;
            if t != DType::I64 {
                return unsupported(format!("index of type {t}"));
            }
            let s = self.buf_vals(buf)?.byte_strides[a];
            let off = self.b.ins().imul(i, s);
            addr = self.b.ins().iadd(addr, off);
        }
        Ok(addr)
    }

    pub(crate) fn constant(&mut self, c: Scalar) -> (Value, DType) {
        let v = match c {
            Scalar::F32(x) => self.b.ins().f32const(x),
            Scalar::F64(x) => self.b.ins().f64const(x),
            Scalar::I32(x) => self.b.ins().iconst(types::I32, x as u32 as i64),
            Scalar::I64(x) => self.b.ins().iconst(types::I64, x),
            Scalar::U32(x) => self.b.ins().iconst(types::I32, x as i64),
            Scalar::Bool(x) => self.b.ins().iconst(types::I8, x as i64),
        };
        (v, c.dtype())
    }

    /// Lower a scalar expression; returns its value and dtype.
    pub(crate) fn expr(&mut self, e: &Expr) -> Result<(Value, DType), CpuError> {
        Ok(match e {
            Expr::Var(v) => match self.vars.get(v) {
                Some(&(cv, t)) => (self.b.use_var(cv), t),
                None => return unsupported(format!("use of undefined variable {v}")),
            },
            Expr::Const(c) => self.constant(*c),
            Expr::Dim(d) => (self.dim(*d), DType::I64),
            Expr::Load { buf, idx } => {
                let addr = match self.walkers.get(&(e as *const Expr as usize)) {
                    Some(&w) => self.b.use_var(w),
                    None => self.addr(*buf, idx)?,
                };
                let dt = self.lp.buffer(*buf).dtype;
                (self.b.ins().load(clif_type(dt), mem(), addr, 0), dt)
            }
            Expr::Check(inner, d) => {
                let (v, t) = self.expr(inner)?;
                if t != DType::I64 {
                    return unsupported(format!("check of a {t} index"));
                }
                let n = self.dim(*d);
                let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, v, n);
                let fail = self.b.create_block();
                let cont = self.b.create_block();
                self.b.ins().brif(ok, cont, &[], fail, &[]);
                self.b.switch_to_block(fail);
                self.raise(Flag::IndexOutOfRange)?;
                self.b.ins().jump(cont, &[]);
                self.b.switch_to_block(cont);
                let zero = self.b.ins().iconst(types::I64, 0);
                (self.b.ins().select(ok, v, zero), DType::I64)
            }
            Expr::Unary(op, a) => {
                let (x, t) = self.expr(a)?;
                (self.unary(*op, x, t)?, t)
            }
            Expr::Binary(op, a, b) => {
                let (x, t) = self.expr(a)?;
                let (y, u) = self.expr(b)?;
                if t != u {
                    return unsupported(format!("`{}` of {t} and {u}", op.name()));
                }
                self.binary(*op, x, y, t)?
            }
            Expr::Select(c, a, b) => {
                let (cv, ct) = self.expr(c)?;
                let (x, t) = self.expr(a)?;
                let (y, u) = self.expr(b)?;
                if ct != DType::Bool || t != u {
                    return unsupported(format!("select on {ct} between {t} and {u}"));
                }
                (self.b.ins().select(cv, x, y), t)
            }
            Expr::MulAdd(a, b, c) => {
                let (x, t) = self.expr(a)?;
                let (y, u) = self.expr(b)?;
                let (z, v) = self.expr(c)?;
                if t != u || t != v || !t.is_float() {
                    return unsupported(format!("mul_add of {t}, {u} and {v}"));
                }
                // One rounding: the FMA instruction, else libm's correctly rounded `fma`.
                let r = if self.fma {
                    self.b.ins().fma(x, y, z)
                } else {
                    self.call_libm(if t == DType::F32 { "fmaf" } else { "fma" }, &[x, y, z])?
                };
                (r, t)
            }
            Expr::Cast(to, a) => {
                let (x, from) = self.expr(a)?;
                (self.cast(x, from, *to)?, *to)
            }
            Expr::Bitcast(to, a) => {
                let (x, from) = self.expr(a)?;
                if !Scalar::bitcast_defined(from, *to) {
                    return unsupported(format!("bitcast from {from} to {to}"));
                }
                (self.b.ins().bitcast(clif_type(*to), MemFlagsData::new(), x), *to)
            }
        })
    }

    /// Call the libm function `name` (imported into this function on first use).
    pub(crate) fn call_libm(&mut self, name: &'static str, args: &[Value]) -> Result<Value, CpuError> {
        let fref = match self.func_refs.get(name) {
            Some(f) => *f,
            None => {
                let Some(id) = self.imports.get(name) else {
                    return unsupported(format!("libm function `{name}`"));
                };
                let f = self.module.declare_func_in_func(*id, self.b.func);
                self.func_refs.insert(name, f);
                f
            }
        };
        let call = self.b.ins().call(fref, args);
        Ok(self.b.inst_results(call)[0])
    }

    /// A float constant of type `ty` (scalar `F32`/`F64`).
    pub(crate) fn fconst(&mut self, ty: DType, v: f64) -> Value {
        match ty {
            DType::F32 => self.b.ins().f32const(v as f32),
            _ => self.b.ins().f64const(v),
        }
    }

    /// `x^n` by binary powering, the algorithm of compiler-rt's `__powisf2` that Rust's
    /// `powi` uses, so results agree bit for bit. `one` is 1.0 of `x`'s (scalar or vector)
    /// type.
    pub(crate) fn powi(&mut self, x: Value, n: i32, one: Value) -> Value {
        let recip = n < 0;
        let mut b = n.unsigned_abs();
        let mut a = x;
        let mut r = one;
        let mut r_is_one = true;
        loop {
            if b & 1 == 1 {
                r = if r_is_one { a } else { self.b.ins().fmul(r, a) };
                r_is_one = false;
            }
            b /= 2;
            if b == 0 {
                break;
            }
            a = self.b.ins().fmul(a, a);
        }
        if recip {
            self.b.ins().fdiv(one, r)
        } else {
            r
        }
    }

    /// A scalar unary op on a value of type `t`.
    pub(crate) fn unary(&mut self, op: UnOp, x: Value, t: DType) -> Result<Value, CpuError> {
        let bad = || unsupported(format!("`{}` on {t}", op.name()));
        if t.is_float() {
            if self.poly_math {
                if let Some(v) = vmath::unary(self, op, x, t)? {
                    return Ok(v);
                }
            }
            if let Some(name) = libm_symbol(MathOp::Unary(op), t) {
                return self.call_libm(name, &[x]);
            }
            return Ok(match op {
                UnOp::Neg => self.b.ins().fneg(x),
                UnOp::Abs => self.b.ins().fabs(x),
                UnOp::Sqrt => self.b.ins().sqrt(x),
                UnOp::Rsqrt => {
                    let s = self.b.ins().sqrt(x);
                    let one = self.fconst(t, 1.0);
                    self.b.ins().fdiv(one, s)
                }
                UnOp::Floor => self.b.ins().floor(x),
                UnOp::Ceil => self.b.ins().ceil(x),
                UnOp::Trunc => self.b.ins().trunc(x),
                UnOp::Signum => {
                    // copysign(1, x), except NaN for NaN.
                    let one = self.fconst(t, 1.0);
                    let s = self.b.ins().fcopysign(one, x);
                    let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                    self.b.ins().select(nan, x, s)
                }
                UnOp::PowI(n) => {
                    let one = self.fconst(t, 1.0);
                    self.powi(x, n, one)
                }
                UnOp::Sigmoid => {
                    let Some(exp) = libm_symbol(MathOp::Unary(UnOp::Exp), t) else { return bad() };
                    let m = self.b.ins().fneg(x);
                    let e = self.call_libm(exp, &[m])?;
                    let one = self.fconst(t, 1.0);
                    let d = self.b.ins().fadd(one, e);
                    self.b.ins().fdiv(one, d)
                }
                _ => return bad(),
            });
        }
        Ok(match (op, t) {
            (UnOp::Not, DType::Bool) => self.b.ins().bxor_imm_u(x, 1),
            (UnOp::Not, DType::I32 | DType::I64 | DType::U32) => self.b.ins().bnot(x),
            (UnOp::Neg, DType::I32 | DType::I64) => self.b.ins().ineg(x),
            (UnOp::Abs, DType::I32 | DType::I64) => self.b.ins().iabs(x),
            (UnOp::Abs, DType::U32) => x,
            (UnOp::CountOnes, DType::I32 | DType::I64 | DType::U32) => self.b.ins().popcnt(x),
            _ => return bad(),
        })
    }

    /// A scalar binary op on two values of type `t`; returns the result and its type.
    pub(crate) fn binary(&mut self, op: BinOp, x: Value, y: Value, t: DType) -> Result<(Value, DType), CpuError> {
        let bad = || unsupported(format!("`{}` on {t}", op.name()));
        if op.is_comparison() {
            let c = if t.is_float() {
                self.b.ins().fcmp(float_cc(op), x, y)
            } else {
                self.b.ins().icmp(int_cc(op, t.is_signed()), x, y)
            };
            return Ok((c, DType::Bool));
        }
        let v = if t.is_float() {
            if let Some(name) = libm_symbol(MathOp::Binary(op), t) {
                return Ok((self.call_libm(name, &[x, y])?, t));
            }
            match op {
                BinOp::Add => self.b.ins().fadd(x, y),
                BinOp::Sub => self.b.ins().fsub(x, y),
                BinOp::Mul => self.b.ins().fmul(x, y),
                BinOp::Div => self.b.ins().fdiv(x, y),
                BinOp::Min => self.b.ins().fmin(x, y),
                BinOp::Max => self.b.ins().fmax(x, y),
                _ => return bad(),
            }
        } else if t == DType::Bool {
            match op {
                BinOp::And | BinOp::Min | BinOp::Mul => self.b.ins().band(x, y),
                BinOp::Or | BinOp::Max | BinOp::Add => self.b.ins().bor(x, y),
                BinOp::Xor => self.b.ins().bxor(x, y),
                _ => return bad(),
            }
        } else {
            let signed = t.is_signed();
            match op {
                BinOp::Add => self.b.ins().iadd(x, y),
                BinOp::Sub => self.b.ins().isub(x, y),
                BinOp::Mul => self.b.ins().imul(x, y),
                BinOp::Div | BinOp::Rem => self.int_divrem(op == BinOp::Div, x, y, signed),
                BinOp::Min if signed => self.b.ins().smin(x, y),
                BinOp::Min => self.b.ins().umin(x, y),
                BinOp::Max if signed => self.b.ins().smax(x, y),
                BinOp::Max => self.b.ins().umax(x, y),
                BinOp::And => self.b.ins().band(x, y),
                BinOp::Or => self.b.ins().bor(x, y),
                BinOp::Xor => self.b.ins().bxor(x, y),
                // Cranelift takes the amount modulo the bit width, as `wrapping_sh*` does.
                BinOp::Shl => self.b.ins().ishl(x, y),
                BinOp::Shr if signed => self.b.ins().sshr(x, y),
                BinOp::Shr => self.b.ins().ushr(x, y),
                _ => return bad(),
            }
        };
        Ok((v, t))
    }

    /// Integer `/` or `%` that never traps: `x / 0 = x % 0 = 0`, `MIN / -1 = MIN` (wrapping),
    /// `MIN % -1 = 0`, by dividing by 1 in those cases and fixing the result with selects.
    fn int_divrem(&mut self, div: bool, x: Value, y: Value, signed: bool) -> Value {
        let ty = self.b.func.dfg.value_type(x);
        // A constant divisor other than 0 (and -1, when signed) needs no guard: the bounds of
        // blocked sums and index arithmetic divide by constants, and at tier 0 (no optimizer)
        // each guard is ten instructions to compile.
        let all_ones = (u64::MAX >> (64 - ty.bits())) as i64;
        if let Some(c) = self.iconst_of(y) {
            if c != 0 && !(signed && c == all_ones) {
                return match (div, signed) {
                    (true, true) => self.b.ins().sdiv(x, y),
                    (false, true) => self.b.ins().srem(x, y),
                    (true, false) => self.b.ins().udiv(x, y),
                    (false, false) => self.b.ins().urem(x, y),
                };
            }
        }
        let zero = self.b.ins().iconst(ty, 0);
        let one = self.b.ins().iconst(ty, 1);
        let is_zero = self.b.ins().icmp(IntCC::Equal, y, zero);
        if signed {
            // All ones of the width, as Cranelift wants narrow immediates zero-extended.
            let m1 = self.b.ins().iconst(ty, (u64::MAX >> (64 - ty.bits())) as i64);
            let is_m1 = self.b.ins().icmp(IntCC::Equal, y, m1);
            let special = self.b.ins().bor(is_zero, is_m1);
            let safe = self.b.ins().select(special, one, y);
            if div {
                let q = self.b.ins().sdiv(x, safe);
                let neg = self.b.ins().ineg(x);
                let q = self.b.ins().select(is_m1, neg, q);
                self.b.ins().select(is_zero, zero, q)
            } else {
                // x % 1 == 0 covers both special cases.
                self.b.ins().srem(x, safe)
            }
        } else {
            let safe = self.b.ins().select(is_zero, one, y);
            if div {
                let q = self.b.ins().udiv(x, safe);
                self.b.ins().select(is_zero, zero, q)
            } else {
                self.b.ins().urem(x, safe)
            }
        }
    }

    /// The immediate of `v` when an `iconst` defines it (as stored: zero-extended from a
    /// narrow type).
    fn iconst_of(&self, v: Value) -> Option<i64> {
        let inst = self.b.func.dfg.value_def(v).inst()?;
        match self.b.func.dfg.insts[inst] {
            InstructionData::UnaryImm { opcode: Opcode::Iconst, imm } => Some(imm.bits()),
            _ => None,
        }
    }

    /// Rust `as` from `from` to `to` (to bool is `!= 0`).
    pub(crate) fn cast(&mut self, x: Value, from: DType, to: DType) -> Result<Value, CpuError> {
        use DType::*;
        let ins = self.b.ins();
        Ok(match (from, to) {
            _ if from == to => x,
            (I32, U32) | (U32, I32) => x,
            (F32, F64) => ins.fpromote(types::F64, x),
            (F64, F32) => ins.fdemote(types::F32, x),
            (F32 | F64, Bool) => {
                let z = self.fconst(from, 0.0);
                self.b.ins().fcmp(FloatCC::NotEqual, x, z)
            }
            (_, Bool) => ins.icmp_imm_s(IntCC::NotEqual, x, 0),
            (F32 | F64, I32 | I64) => ins.fcvt_to_sint_sat(clif_type(to), x),
            (F32 | F64, U32) => ins.fcvt_to_uint_sat(types::I32, x),
            (I32 | I64, F32 | F64) => ins.fcvt_from_sint(clif_type(to), x),
            (U32, F32 | F64) => {
                let w = ins.uextend(types::I64, x);
                self.b.ins().fcvt_from_sint(clif_type(to), w)
            }
            (Bool, F32 | F64) => {
                let w = ins.uextend(types::I32, x);
                self.b.ins().fcvt_from_sint(clif_type(to), w)
            }
            (I32, I64) => ins.sextend(types::I64, x),
            (U32 | Bool, I64) => ins.uextend(types::I64, x),
            (Bool, I32 | U32) => ins.uextend(types::I32, x),
            (I64, I32 | U32) => ins.ireduce(types::I32, x),
            _ => return unsupported(format!("cast from {from} to {to}")),
        })
    }
}

/// The Cranelift condition of a float comparison: `!=` is true on NaN, the others false,
/// as Rust's operators.
pub(crate) fn float_cc(op: BinOp) -> FloatCC {
    match op {
        BinOp::Eq => FloatCC::Equal,
        BinOp::Ne => FloatCC::NotEqual,
        BinOp::Lt => FloatCC::LessThan,
        BinOp::Le => FloatCC::LessThanOrEqual,
        BinOp::Gt => FloatCC::GreaterThan,
        _ => FloatCC::GreaterThanOrEqual,
    }
}

/// The Cranelift condition of an integer (or bool, unsigned) comparison.
pub(crate) fn int_cc(op: BinOp, signed: bool) -> IntCC {
    match (op, signed) {
        (BinOp::Eq, _) => IntCC::Equal,
        (BinOp::Ne, _) => IntCC::NotEqual,
        (BinOp::Lt, true) => IntCC::SignedLessThan,
        (BinOp::Le, true) => IntCC::SignedLessThanOrEqual,
        (BinOp::Gt, true) => IntCC::SignedGreaterThan,
        (_, true) => IntCC::SignedGreaterThanOrEqual,
        (BinOp::Lt, false) => IntCC::UnsignedLessThan,
        (BinOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
        (BinOp::Gt, false) => IntCC::UnsignedGreaterThan,
        (_, false) => IntCC::UnsignedGreaterThanOrEqual,
    }
}
