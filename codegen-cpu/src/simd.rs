//! Vectorizing the innermost domain axis with 128-bit vectors.
//!
//! [`plan`] accepts a kernel whose body is a straight line of `let`s and `store`s in which
//! every access that moves with the innermost domain variable `j` indexes exactly one axis
//! with `j` itself (so it is contiguous when that axis has stride 1) and every value that
//! varies with `j` has one lane width: 4 bytes (f32x4, i32x4 for i32 and u32) or 8 bytes
//! (f64x2, i64x2). Bools that vary are lane masks of that width (all ones for true); bool
//! buffers, `check`s and `if`s keep the kernel scalar.
//!
//! It also accepts bodies with serial loops, `mut`s and assignments (*ordered* plans): the
//! shape of a contraction over rows, `p[c, i, j] = sum_r a[r, i] * b[r, j]`, where `j` is
//! contiguous in `b` and the loop runs over `r`. The vector loop then keeps [`UNROLL`] vector
//! accumulators of consecutive `j`s in registers while `r` runs (one scalar `a[r, i]`
//! broadcast per row against four vectors of `b[r, ..]`); every lane adds its terms in the
//! scalar loop's order, so the results are bitwise those of the scalar loop.
//!
//! The generated inner loop of a straight-line body, per row of the domain:
//! 1. once: every `let` and sub-expression that does not vary with `j` is computed as a
//!    scalar and splatted (Cranelift neither hoists splats nor loads), and every varying
//!    access gets its row base address;
//! 2. four vectors per iteration while they fit, then one vector at a time;
//! 3. the scalar loop for the tail.
//!
//! The vector loop runs only when every varying access has stride 1 on its `j` axis, checked
//! once per call ([`stride_check`]); otherwise the whole row takes the scalar loop. The
//! polynomial math of [`crate::vmath`] is emitted on whole vectors; other ops with no vector
//! instruction (libm calls, integer division) run lane by lane through the scalar emitters,
//! so a vector loop computes exactly what the scalar loop does, lane by lane.
//!
//! # What Cranelift 0.135 does to vector loops (read from the asm)
//!
//! Most of this module's shape comes from these; `kiln inspect FILE --kernel K --emit asm`
//! shows each of them. The measurements behind them are in `docs/architecture.md`
//! ("Measured facts").
//! * **Pure ops move to their first use.** The egraph re-places every pure instruction; for a
//!   loop-carried accumulator that use is the back-edge jump, after every (side-effecting)
//!   load of the iteration, so all loaded vectors were live at once and the accumulators
//!   spilled. Hence straight-line runs are emitted copy by copy ([`Vec_`]'s `run`) and the
//!   loads of ordered plans are `readonly + notrap + can_move` (legal: the plan proves no
//!   store of the kernel touches a buffer it reads, and every index is in bounds).
//! * **Constants are hoisted to the function entry** (LICM treats `vconst` and `splat` of a
//!   constant as free), where each holds a vector register through every loop of the kernel;
//!   with a polynomial's dozen constants the allocator spills accumulators instead. A
//!   `vconst` never becomes a memory operand in x64 lowering (scalar constants do), and
//!   constants loaded from a table in memory cost loads inside the loop. So vector loops keep
//!   few live values: one vector per iteration for polynomial bodies ([`tiers`]), varying
//!   `mut`s not read by an inner loop in stack slots ([`Home::Slot`]).
//! * **A call anywhere in a loop spills every live vector register** on every iteration, taken
//!   or not (the System V ABI has no callee-saved xmm). So polynomial math never calls libm
//!   inside a straight-line vector loop: a vector with a lane out of the polynomial's range
//!   hands the rest of the row to the scalar loop ([`crate::kernel::Bail`]).
//! * **Address arithmetic is not strength-reduced**: a load `a[r, i]` in a serial loop over
//!   `r` recomputes `base + r * stride` each iteration; kiln keeps such addresses in
//!   variables and adds the byte step ([`Lower::start_walks`]).
//! * **`fmin`/`fmax` are ~7 instructions** (NaN and signed-zero fix-ups); `x < lo ? lo : x` as
//!   compare + select is matched to one `minps`/`maxps` (used for clamps, where NaN passes
//!   through either way).
//! * **Cranelift does not unroll loops**: the tiers above are kiln's unrolling.
//! * **An FMA cannot accumulate in place.** x64 lowering picks `vfmadd213`/`vfmadd132`, whose
//!   tied destination is always a *multiplicand*; there is no `vfmadd231` (addend tied). So
//!   `acc = fma(x, c, acc)` costs a copy of `c` before each FMA and a move of the result back
//!   into `acc`'s register at the back edge: 3 instructions where `mulps` (memory operand) +
//!   `addps` take 2. So kiln does not contract `a * b + c` into an FMA in loops; only
//!   polynomials (no loop-carried FMA) use it.
//! * **A stack slot read once becomes a memory operand, through a register**: its address
//!   comes from a `stack_addr` hoisted out of the loop, which holds a general register through
//!   the loop. So an argmin's `i64` index stays in `i64` lanes rather than a slot-backed
//!   narrower form.
//! * **`splat(load)` becomes `vbroadcastss (mem)` only for a splat with one use** (a value
//!   used more than once marks its operands used more than once, and a load is then not
//!   sunk): the 8-vector copies share each broadcast, so they keep `vmovss` + `vbroadcastss`.

use crate::kernel::{clif_type, float_cc, int_cc, Lower};
use crate::vmath;
use crate::CpuError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, Block, ConstantData, Endianness, InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Type,
    Value,
};
use cranelift_frontend::Variable;
use kiln_ir::loops::{BufId, BufKind, Expr, Kernel, LoopProgram, Scalar, Stmt, Var};
use kiln_ir::{BinOp, DType, UnOp};
use std::collections::{HashMap, HashSet};

pub(crate) mod reduce;

/// Vectors per iteration of the main vector loop.
pub const UNROLL: i64 = 4;
/// Vectors per iteration of an ordered plan's vector loop: its accumulators stay in registers
/// across the serial loop (8 of the 16 xmm registers), each broadcast feeds this many.
pub const ORDERED_UNROLL: i64 = 8;
/// Iterations per trip of an ordered plan's innermost serial loop (a straight-line body:
/// the feature loop of a contraction), before the one-at-a-time loop finishes it.
pub const INNER_UNROLL: i64 = 4;

/// What the vectorizer decided for one kernel.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The innermost domain variable.
    pub inner: Var,
    /// Bytes per lane: 4 or 8.
    pub width: usize,
    /// Every (buffer, axis) indexed by the inner variable: each needs stride 1.
    pub contiguous: Vec<(BufId, usize)>,
    /// The `let` and `mut` variables whose value varies with the inner variable.
    pub varying: HashSet<Var>,
    /// The body has serial loops and `mut`s: it is emitted statement by statement in order
    /// ([`vector_loops`]), with nothing hoisted out of the row's vector iterations.
    pub ordered: bool,
    /// Input buffers (and the axis the inner variable indexes) that the kernel reads many
    /// times over: when such an input arrives without stride 1 on that axis, the runtime
    /// passes a copy laid out so that it has (a row-major `x[n, d]` read down its columns,
    /// `x[v0, l]` with `v0` the inner variable, becomes column-major). Entries whose axis is
    /// not the last exist only here: the plan accepts such accesses because of the copy.
    pub repack: Vec<(BufId, usize)>,
    /// Vectors per iteration of each vector loop, widest first ([`tiers`]).
    pub tiers: &'static [i64],
}

/// The vector loops of a plan, as vectors per iteration, widest first: each loop runs while
/// its width fits, then hands the rest of the row to the next, the last to the scalar tail.
/// Every loop is more code for Cranelift to compile, so only those that pay are emitted:
/// * a body with polynomial math ([`vmath`]) runs one vector per iteration: it has enough
///   independent work for the out-of-order core, and unrolling it only multiplies the code;
/// * when the row is the whole parallel domain (`one_row`: a rank-1 domain, thousands of
///   points per chunk), only the widest loop: what is left is a few points for the scalar
///   tail, and a loop less is compile time saved at no run-time cost;
/// * otherwise (rows of a matrix, as short as 8 columns) every width: [`UNROLL`] then single
///   vectors, an ordered plan [`ORDERED_UNROLL`] first and a 4-vector loop in between so that
///   16..31 remaining columns (k = 16 centres, say) still share each broadcast.
fn tiers(ordered: bool, one_row: bool, heavy: bool) -> &'static [i64] {
    match (heavy, ordered, one_row) {
        (true, _, _) => &[1],
        (false, true, true) => &[ORDERED_UNROLL],
        (false, true, false) => &[ORDERED_UNROLL, UNROLL, 1],
        (false, false, true) => &[UNROLL],
        (false, false, false) => &[UNROLL, 1],
    }
}

/// Whether a statement list applies polynomial math ([`vmath::covers`]) to a varying value.
fn heavy(body: &[Stmt], types: &HashMap<Var, DType>, lp: &LoopProgram) -> bool {
    let mut polynomial = |e: &Expr| match e {
        Expr::Unary(op, a) => {
            let t = match &**a {
                Expr::Load { buf, .. } => lp.buffers.get(buf.index()).map(|b| b.dtype),
                Expr::Var(v) => types.get(v).copied(),
                _ => Some(DType::F32),
            };
            t.is_some_and(|t| vmath::covers(*op, t))
        }
        _ => false,
    };
    body.iter().any(|s| {
        s.any(&mut |s| match s {
            Stmt::Let { value, .. }
            | Stmt::Mut { init: value, .. }
            | Stmt::Assign { value, .. }
            | Stmt::Store { value, .. } => value.any(&mut polynomial),
            Stmt::For { .. } | Stmt::ForRange { .. } | Stmt::If { .. } | Stmt::Flag(_) => false,
        })
    })
}

impl Plan {
    /// Whether `e` reads the inner index or a varying variable.
    fn varies(&self, e: &Expr) -> bool {
        e.any(&mut |e| matches!(e, Expr::Var(x) if *x == self.inner || self.varying.contains(x)))
    }

    /// Lanes per 128-bit vector.
    pub fn lanes(&self) -> i64 {
        16 / self.width as i64
    }

    /// Whether values of `t` take two vectors per copy: 8-byte integers in a 4-byte ordered
    /// plan (the `i64` index of an argmin beside `f32` distances). `lo` holds lanes 0-1,
    /// `hi` lanes 2-3.
    pub fn is_wide(&self, t: DType) -> bool {
        self.ordered && self.width == 4 && t == DType::I64
    }

    /// Whether every access the vector loop needs contiguous is so whenever the runtime
    /// calls the kernel: repacked inputs, and runtime-allocated buffers (outputs, temporaries:
    /// row-major) read along their last axis. The scalar loop then only runs row tails.
    pub fn always_contiguous(&self, lp: &LoopProgram) -> bool {
        self.contiguous.iter().all(|(b, axis)| {
            self.repack.contains(&(*b, *axis))
                || lp
                    .buffers
                    .get(b.index())
                    .is_some_and(|buf| buf.kind != BufKind::Input && axis + 1 == buf.shape.len())
        })
    }
}

/// Call `f` on every buffer a statement list loads from or stores to.
pub fn visit_buffers(body: &[Stmt], f: &mut impl FnMut(BufId)) {
    visit(body, true, f)
}

/// Call `f` on every buffer a statement list loads from (loop bounds and store indices
/// included), and with `stores` on every buffer it stores to.
fn visit(body: &[Stmt], stores: bool, f: &mut impl FnMut(BufId)) {
    body.iter().for_each(|s| s.for_each_buffer(stores, f))
}

/// Decide whether kernel `k` gets a vector inner loop (see the module documentation).
///
/// Besides straight-line bodies, a body with serial loops is accepted (an *ordered* plan):
/// `mut`s, their assignments and `for` loops whose bounds do not vary with `j`, at any depth,
/// with the stores at the top level. A `mut` varies when its initial value or any assignment
/// to it does; its vector copies then live across the loop, so `out[i, j] = sum_r f(a[r, i],
/// b[r, j])` keeps [`UNROLL`] vector accumulators of `j` in registers while `r` runs, each
/// lane adding its terms in exactly the scalar loop's order. Varying accesses of an ordered
/// plan must index their buffer's last axis with `j` (a row-major buffer can then be
/// contiguous; anything else would always fail the stride check).
pub fn plan(lp: &LoopProgram, k: &Kernel) -> Option<Plan> {
    let inner = k.domain.last()?.0;
    // The lane width comes from the stores (a straight-line body's must all agree).
    let mut sizes = vec![];
    let mut stored = HashSet::new();
    let mut ordered = false;
    for s in &k.body {
        match s {
            Stmt::Let { .. } => {}
            Stmt::Mut { .. } | Stmt::Assign { .. } | Stmt::For { .. } | Stmt::ForRange { .. } | Stmt::If { .. } => {
                ordered = true
            }
            Stmt::Store { buf, .. } => {
                let dt = lp.buffers.get(buf.index())?.dtype;
                if dt == DType::Bool {
                    return None;
                }
                sizes.push(dt.size());
                stored.insert(*buf);
            }
            Stmt::Flag(_) => return None,
        }
    }
    // A buffer both read and written here could see its own stores in another order.
    let mut read = HashSet::new();
    visit(&k.body, false, &mut |b| {
        read.insert(b);
    });
    if stored.iter().any(|b| read.contains(b)) {
        return None;
    }
    let domain = k.domain.iter().map(|(v, _)| *v);
    let mut p = Planner::new(lp, inner, 0, domain.clone().map(|v| (v, DType::I64)).collect(), domain.collect());
    p.plan.ordered = ordered;
    // Which variables vary: a fixed point, since a loop feeds its `mut`s back into themselves.
    loop {
        let before = p.plan.varying.len();
        p.mark(&k.body);
        if p.plan.varying.len() == before {
            break;
        }
    }
    // An ordered plan takes the narrowest of its stores and varying variables (wider
    // integers then take two vectors, see [`Plan::is_wide`]); a straight line's stores agree.
    if ordered {
        let vars = p.plan.varying.iter().filter_map(|v| p.types.get(v)).filter(|t| **t != DType::Bool);
        p.plan.width = sizes.iter().copied().chain(vars.map(|t| t.size())).min()?;
    } else {
        p.plan.width = *sizes.first()?;
        if sizes.iter().any(|s| *s != p.plan.width) {
            return None;
        }
    }
    p.check_body(&k.body, true)?;
    p.plan.tiers = tiers(ordered, k.domain.len() == 1, heavy(&k.body, &p.types, lp));
    Some(p.plan)
}

/// Whether the serial loop of `var` with `body` is a *map* that gets a vector version: a
/// straight line of `let`s and stores, each store indexing the last axis of its buffer with
/// `var` (so it is contiguous when that axis has stride 1) and a buffer it stores to loaded
/// only at the very element stored (`p[c, t, l] = add(load p[c, t, l], x[i, l])`, a
/// scatter's row update). Iterations then touch disjoint elements, and `UNROLL` vectors of
/// them run at once, each lane exactly the scalar iteration's operations.
pub(crate) fn map_plan(l: &Lower<'_, '_>, var: Var, body: &[Stmt]) -> Option<Plan> {
    let mut sizes = vec![];
    let mut stores: Vec<(BufId, &[Expr])> = vec![];
    for s in body {
        match s {
            Stmt::Let { .. } => {}
            Stmt::Store { buf, idx, .. } => {
                let dt = l.lp.buffers.get(buf.index())?.dtype;
                if dt == DType::Bool || idx.last() != Some(&Expr::Var(var)) {
                    return None;
                }
                sizes.push(dt.size());
                stores.push((*buf, idx));
            }
            _ => return None,
        }
    }
    let width = *sizes.first()?;
    if sizes.iter().any(|s| *s != width) {
        return None;
    }
    // Loads of a stored buffer read exactly the element that is stored.
    let mut ok = true;
    let mut see = |e: &Expr| {
        e.walk(&mut |e| {
            if let Expr::Load { buf, idx } = e {
                let mine = stores.iter().filter(|(b, _)| b == buf);
                ok &= mine.clone().count() == 0 || mine.into_iter().all(|(_, i)| *i == idx.as_slice());
            }
        })
    };
    for s in body {
        match s {
            Stmt::Let { value, .. } => see(value),
            Stmt::Store { idx, value, .. } => {
                idx.iter().for_each(&mut see);
                see(value);
            }
            _ => {}
        }
    }
    if !ok {
        return None;
    }
    let mut p = Planner::for_loop(l, var, width);
    p.mark(body);
    p.check_body(body, true)?;
    p.plan.tiers = tiers(false, false, heavy(body, &p.types, l.lp));
    (!p.plan.contiguous.is_empty()).then_some(p.plan)
}

/// The vector part of a map loop ([`map_plan`]) into the current block: entered when every
/// access is contiguous and one vector fits; `cv` holds the loop variable and ends where the
/// vectors stopped; control ends in `tail`, the scalar loop's entry.
pub(crate) fn map_loop(
    l: &mut Lower<'_, '_>,
    plan: &Plan,
    body: &[Stmt],
    cv: Variable,
    hi: Value,
    tail: Block,
) -> Result<(), CpuError> {
    let ok = stride_check(l, plan);
    let lo = l.b.use_var(cv);
    let first = l.b.ins().iadd_imm_s(lo, plan.lanes());
    let enough = l.b.ins().icmp(IntCC::SignedLessThanOrEqual, first, hi);
    let go = l.b.ins().band(ok, enough);
    let vpre = l.b.create_block();
    l.b.ins().brif(go, vpre, &[], tail, &[]);
    l.b.switch_to_block(vpre);
    vector_loops(l, plan, body, cv, hi, tail)
}

struct Planner<'a> {
    lp: &'a LoopProgram,
    plan: Plan,
    types: HashMap<Var, DType>,
    /// The domain variables and the serial loops around the statement being checked (an
    /// access none of whose indices uses one of them is read again for each of its values).
    loops: Vec<Var>,
}

impl<'a> Planner<'a> {
    /// A planner for a vector loop over `inner` with lanes of `width` bytes (0: from the
    /// stores), knowing the types of `types` and the loops around the body in `loops`.
    fn new(lp: &'a LoopProgram, inner: Var, width: usize, types: HashMap<Var, DType>, loops: Vec<Var>) -> Self {
        let plan = Plan {
            inner,
            width,
            contiguous: vec![],
            varying: HashSet::new(),
            ordered: false,
            repack: vec![],
            tiers: &[],
        };
        Planner { lp, plan, types, loops }
    }

    /// A planner for the serial loop of `var` in kernel code being lowered: the variables
    /// defined so far have the types [`Lower`] gave them, `var` is an `i64`.
    fn for_loop(l: &Lower<'a, '_>, var: Var, width: usize) -> Self {
        let mut types: HashMap<Var, DType> = l.vars.iter().map(|(v, (_, t))| (*v, *t)).collect();
        types.insert(var, DType::I64);
        Planner::new(l.lp, var, width, types, vec![])
    }

    /// Record the types of `body`'s variables and add those that vary to the plan.
    fn mark(&mut self, body: &[Stmt]) {
        for s in body {
            match s {
                Stmt::Let { var, ty, value } | Stmt::Mut { var, ty, init: value } => {
                    self.types.insert(*var, *ty);
                    if self.plan.varies(value) {
                        self.plan.varying.insert(*var);
                    }
                }
                Stmt::Assign { var, value } => {
                    if self.plan.varies(value) {
                        self.plan.varying.insert(*var);
                    }
                }
                Stmt::For { var, body, .. } | Stmt::ForRange { var, body, .. } => {
                    self.types.insert(*var, DType::I64);
                    self.mark(body);
                }
                Stmt::If { cond, then, els } => {
                    self.mark(then);
                    self.mark(els);
                    // Under a varying condition, lanes assign differently.
                    if self.plan.varies(cond) {
                        for s in then.iter().chain(els) {
                            if let Stmt::Assign { var, .. } = s {
                                self.plan.varying.insert(*var);
                            }
                        }
                    }
                }
                Stmt::Store { .. } | Stmt::Flag(_) => {}
            }
        }
    }

    /// Whether every statement of `body` can be emitted in vector form (stores only at the
    /// top level; no `if`s, flags or checks).
    fn check_body(&mut self, body: &[Stmt], top: bool) -> Option<()> {
        for s in body {
            match s {
                Stmt::Let { var, ty, value } | Stmt::Mut { var, ty, init: value } => {
                    self.check_def(value, Some(*ty), self.plan.varying.contains(var))?
                }
                Stmt::Assign { var, value } => {
                    self.check_def(value, self.types.get(var).copied(), self.plan.varying.contains(var))?
                }
                Stmt::For { var, body, .. } => {
                    self.loops.push(*var);
                    self.check_body(body, false)?;
                    self.loops.pop();
                }
                Stmt::ForRange { var, start, end, body, .. } => {
                    if start.has_check() || end.has_check() || self.plan.varies(start) || self.plan.varies(end) {
                        return None;
                    }
                    self.loops.push(*var);
                    self.check_body(body, false)?;
                    self.loops.pop();
                }
                Stmt::If { cond, then, els } if self.plan.ordered => self.check_if(cond, then, els)?,
                Stmt::Store { buf, idx, value } if top => {
                    if value.has_check() || idx.iter().any(Expr::has_check) {
                        return None;
                    }
                    self.access(*buf, idx)?;
                    if self.plan.varies(value) {
                        self.check(value)?;
                    }
                }
                _ => return None,
            }
        }
        Some(())
    }

    /// A definition (`let`, `mut` or assignment) of a value of type `t`: no `check`, and when
    /// it varies, an expression the vector code can emit in lanes of the plan's width.
    fn check_def(&mut self, value: &Expr, t: Option<DType>, varying: bool) -> Option<()> {
        if value.has_check() {
            return None;
        }
        if varying {
            self.check(value)?;
            if !self.fits(t?) {
                return None;
            }
        }
        Some(())
    }

    /// An `if` of an ordered plan. With a varying condition it is *if-converted*: both
    /// branches (`let`s, assignments and flags only) run on every lane, each assignment keeps
    /// its old value in the lanes where the branch is not taken, and a flag is raised when
    /// the branch is taken in any lane. (Loads are in bounds whatever the condition, and
    /// `check`s, the one expression with an effect, are refused.) A uniform `if` stays a
    /// scalar branch: every lane takes the same one. One that touches no varying value is
    /// lowered as scalar code; one that does ([`Vec_::branch`]: KMeans' distances to the
    /// centers a panel of rows may be nearest to, `if cand[b, j] { sum(..) } else { inf }`)
    /// holds vector code in its branches, which may be anything a body may be.
    fn check_if(&mut self, cond: &Expr, then: &[Stmt], els: &[Stmt]) -> Option<()> {
        if cond.has_check() {
            return None;
        }
        if !self.plan.varies(cond) {
            let mut touches = false;
            let mut see = |v: Var| touches |= v == self.plan.inner || self.plan.varying.contains(&v);
            let mut simple = true;
            for s in then.iter().chain(els) {
                match s {
                    Stmt::Let { var, value, .. } | Stmt::Assign { var, value } => {
                        see(*var);
                        value.for_each_var(&mut see);
                    }
                    Stmt::Flag(_) => {}
                    _ => simple = false,
                }
            }
            if simple && !touches {
                return Some(());
            }
            self.check_body(then, false)?;
            return self.check_body(els, false);
        }
        self.check(cond)?;
        for s in then.iter().chain(els) {
            match s {
                Stmt::Let { var, ty, value } => self.check_def(value, Some(*ty), self.plan.varying.contains(var))?,
                // Every assignment of an if-converted branch is a select per lane.
                Stmt::Assign { var, value } => self.check_def(value, self.types.get(var).copied(), true)?,
                Stmt::Flag(_) => {}
                _ => return None,
            }
        }
        Some(())
    }

    fn fits(&self, t: DType) -> bool {
        t == DType::Bool || t.size() == self.plan.width || self.plan.is_wide(t)
    }

    /// The dtype of an expression (`None` if ill-typed; the scalar lowering reports why).
    fn ty(&self, e: &Expr) -> Option<DType> {
        Some(match e {
            Expr::Var(v) => *self.types.get(v)?,
            Expr::Const(c) => c.dtype(),
            Expr::Dim(_) | Expr::Check(..) => DType::I64,
            Expr::Load { buf, .. } => self.lp.buffers.get(buf.index())?.dtype,
            Expr::Unary(_, a) => self.ty(a)?,
            Expr::Binary(op, a, _) if !op.is_comparison() => self.ty(a)?,
            Expr::Binary(..) => DType::Bool,
            Expr::Select(_, a, _) => self.ty(a)?,
            Expr::Cast(t, _) => *t,
        })
    }

    /// A varying access: exactly one axis indexed by the inner variable itself, the others
    /// uniform. Records the axis for the stride check.
    fn access(&mut self, buf: BufId, idx: &[Expr]) -> Option<()> {
        let mut axis = None;
        for (a, e) in idx.iter().enumerate() {
            if *e == Expr::Var(self.plan.inner) {
                if axis.is_some() {
                    return None;
                }
                axis = Some(a);
            } else if self.plan.varies(e) {
                return None;
            }
        }
        let b = self.lp.buffers.get(buf.index())?;
        if b.dtype == DType::Bool || !(b.dtype.size() == self.plan.width || self.plan.is_wide(b.dtype)) {
            return None;
        }
        let axis = axis?;
        if self.plan.ordered {
            // Read again for every value of a loop (or domain) variable that indexes nothing
            // here: worth a contiguous copy when the caller's layout is not.
            let reused = self.loops.iter().any(|v| !idx.iter().any(|e| e.reads(*v)));
            let repack = b.kind == BufKind::Input && reused;
            if axis + 1 != idx.len() && !repack {
                return None;
            }
            if repack && !self.plan.repack.contains(&(buf, axis)) {
                self.plan.repack.push((buf, axis));
            }
        }
        self.plan.contiguous.push((buf, axis));
        Some(())
    }

    /// Whether a varying expression can be computed in vector form.
    fn check(&mut self, e: &Expr) -> Option<()> {
        if !self.plan.varies(e) {
            return Some(());
        }
        match e {
            Expr::Var(v) => (*v != self.plan.inner).then_some(()),
            Expr::Const(_) | Expr::Dim(_) | Expr::Check(..) => None,
            Expr::Load { buf, idx } => self.access(*buf, idx),
            Expr::Unary(_, a) => {
                self.check(a)?;
                let t = self.ty(a)?;
                (self.fits(t) && !self.plan.is_wide(t)).then_some(())
            }
            Expr::Binary(op, a, b) => {
                self.check(a)?;
                self.check(b)?;
                let t = self.ty(a)?;
                // Two-vector integers: lane-wise arithmetic and logic, and comparisons.
                if self.plan.is_wide(t)
                    && !(op.is_comparison()
                        || matches!(op, BinOp::Add | BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Xor))
                {
                    return None;
                }
                let bool_ok = matches!(
                    op,
                    BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Min | BinOp::Max | BinOp::Mul | BinOp::Add
                ) || matches!(op, BinOp::Eq | BinOp::Ne);
                (self.fits(t) && (t != DType::Bool || bool_ok)).then_some(())
            }
            Expr::Select(c, a, b) => {
                self.check(c)?;
                self.check(a)?;
                self.check(b)?;
                let t = self.ty(a)?;
                (self.fits(t) && t != DType::Bool).then_some(())
            }
            Expr::Cast(to, a) => {
                self.check(a)?;
                let from = self.ty(a)?;
                let wide = self.plan.is_wide(from) || self.plan.is_wide(*to);
                (self.fits(from) && self.fits(*to) && (!wide || from == *to)).then_some(())
            }
        }
    }
}

/// An `i8` that is 1 when every access the plan vectorizes has stride 1 on its inner axis.
pub(crate) fn stride_check(l: &mut Lower<'_, '_>, plan: &Plan) -> Value {
    let mut ok = l.b.ins().iconst(types::I8, 1);
    for (buf, axis) in &plan.contiguous {
        if let Some(Some(bv)) = l.bufs.get(buf.index()) {
            if let Some(s) = bv.strides.get(*axis).copied() {
                let e = l.b.ins().icmp_imm_s(IntCC::Equal, s, 1);
                ok = l.b.ins().band(ok, e);
                continue;
            }
        }
        ok = l.b.ins().iconst(types::I8, 0);
    }
    ok
}

/// The vector type of `t` for lane width `width` (bools are masks).
fn vec_type(t: DType, width: usize) -> Type {
    match (t, width) {
        (DType::F32, _) => types::F32X4,
        (DType::F64, _) => types::F64X2,
        (DType::I32 | DType::U32, _) => types::I32X4,
        (DType::I64, _) => types::I64X2,
        (DType::Bool, 4) => types::I32X4,
        (DType::Bool, _) => types::I64X2,
    }
}

/// Flags for vector loads and stores: in bounds, but only element-aligned.
fn vmem() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Emit the vector loops for one row into the current block (`vpre`): hoisted values, the
/// loops of [`Plan::tiers`], then a jump to `scalar_head` for the tail. `jvar` holds the inner index (the row's first point on entry)
/// and `jn` the row's end. An ordered plan hoists nothing: each iteration runs the body's
/// statements in order, every varying one for all its vectors before the next statement.
pub(crate) fn vector_loops(
    l: &mut Lower<'_, '_>,
    plan: &Plan,
    body: &[Stmt],
    jvar: Variable,
    jn: Value,
    scalar_head: Block,
) -> Result<(), CpuError> {
    let mut v = Vec_::new(plan);
    if !plan.ordered {
        v.prepare(l, body)?;
    }
    let lanes = plan.lanes();
    let tiers = plan.tiers;
    let heads: Vec<(Block, Block)> = tiers.iter().map(|_| (l.b.create_block(), l.b.create_block())).collect();
    l.b.ins().jump(heads[0].0, &[]);
    for (t, &n) in tiers.iter().enumerate() {
        let (head, blk) = heads[t];
        let next = heads.get(t + 1).map_or(scalar_head, |h| h.0);
        l.b.switch_to_block(head);
        let j = l.b.use_var(jvar);
        let t = l.b.ins().iadd_imm_s(j, n * lanes);
        let fits = l.b.ins().icmp(IntCC::SignedLessThanOrEqual, t, jn);
        l.b.ins().brif(fits, blk, &[], next, &[]);
        l.b.switch_to_block(blk);
        let j = l.b.use_var(jvar);
        if plan.ordered {
            // Values computed in the other loops' blocks do not dominate this one.
            v.hoisted.clear();
            v.bases.clear();
            v.vars.clear();
            v.muts.clear();
            v.ordered(l, body, j, n)?;
        } else {
            for u in 0..n {
                v.vars.clear();
                let at = l.b.ins().iadd_imm_s(j, u * lanes);
                l.bail = Some(crate::kernel::Bail { head: scalar_head, jvar, at });
                let r = v.copy(l, body, j, u);
                l.bail = None;
                r?;
            }
        }
        let j1 = l.b.ins().iadd_imm_s(j, n * lanes);
        l.b.def_var(jvar, j1);
        l.b.ins().jump(head, &[]);
    }
    Ok(())
}

/// A vector value of one copy: one 128-bit vector, or two for a wide integer
/// ([`Plan::is_wide`]: `lo` holds lanes 0-1, `hi` lanes 2-3). Bools are one lane mask of the
/// plan's width, whatever the width of the values they compare.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VVal {
    pub lo: Value,
    pub hi: Option<Value>,
    pub t: DType,
}

impl VVal {
    fn one(lo: Value, t: DType) -> Self {
        VVal { lo, hi: None, t }
    }

    /// Both halves (one for a single vector).
    fn parts(self) -> impl Iterator<Item = Value> {
        std::iter::once(self.lo).chain(self.hi)
    }
}

/// Where one copy of a varying `mut` lives.
#[derive(Clone, Copy, Debug)]
enum Home {
    /// Cranelift variables (two for a wide integer): registers, as the allocator sees fit.
    Regs(Variable, Option<Variable>),
    /// A stack slot (32 bytes for a wide integer), for a `mut` that is live across a vector
    /// loop which never reads it: `nearest`'s running minimum and argmin around the loop
    /// over the features. Left to the register allocator, such values and the loop's
    /// accumulators compete for the 16 vector registers, and the accumulators lose (spilled
    /// and reloaded every iteration); in memory they cost a load and a store per update.
    Slot(StackSlot, bool),
}

/// One copy of a varying `mut`.
#[derive(Clone, Copy, Debug)]
struct VVar {
    home: Home,
    t: DType,
}

/// Vector lowering state of one row.
struct Vec_<'p> {
    plan: &'p Plan,
    /// Splatted uniform sub-expressions, by address of the expression node.
    hoisted: HashMap<*const Expr, VVal>,
    /// Row base address of each varying access, by address of its load or store.
    bases: HashMap<usize, Value>,
    /// Varying `let`s, by variable and copy.
    vars: HashMap<(Var, i64), VVal>,
    /// Varying `mut`s of an ordered plan, by variable and copy.
    muts: HashMap<(Var, i64), VVar>,
}

impl<'p> Vec_<'p> {
    fn new(plan: &'p Plan) -> Self {
        Vec_ { plan, hoisted: HashMap::new(), bases: HashMap::new(), vars: HashMap::new(), muts: HashMap::new() }
    }

    /// Whether a statement list assigns or defines a varying variable (a loop that does
    /// nothing else is left to the scalar lowering).
    fn defines_varying(&self, body: &[Stmt]) -> bool {
        body.iter().any(|s| s.any(&mut |s| self.sets_varying(s)))
    }

    /// Whether a statement is a `let`, `mut` or assignment of a varying variable.
    fn sets_varying(&self, s: &Stmt) -> bool {
        match s {
            Stmt::Let { var, .. } | Stmt::Mut { var, .. } | Stmt::Assign { var, .. } => self.plan.varying.contains(var),
            Stmt::Store { .. } | Stmt::For { .. } | Stmt::ForRange { .. } | Stmt::If { .. } | Stmt::Flag(_) => false,
        }
    }

    /// Emit an ordered plan's `body` for `n` vectors from column `j`: uniform statements once
    /// through the scalar lowering, varying ones for copies `0..n` (see [`vector_loops`]).
    fn ordered(&mut self, l: &mut Lower<'_, '_>, body: &[Stmt], j: Value, n: i64) -> Result<(), CpuError> {
        let mut k = 0;
        while k < body.len() {
            let run = body[k..].iter().take_while(|s| self.in_run(s)).count();
            if run > 0 {
                self.run(l, &body[k..k + run], j, n)?;
                k += run;
                continue;
            }
            let s = &body[k];
            k += 1;
            match s {
                Stmt::Mut { var, ty, init } if self.plan.varying.contains(var) => {
                    self.hoist(l, init)?;
                    let vt = vec_type(*ty, self.plan.width);
                    let wide = self.plan.is_wide(*ty);
                    let in_memory = self.outlives_a_loop(*var, &body[k..]);
                    for u in 0..n {
                        let x = self.vx(l, init, j, u)?;
                        let home = if in_memory {
                            let size = if wide { 32 } else { 16 };
                            Home::Slot(
                                l.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 4)),
                                wide,
                            )
                        } else {
                            Home::Regs(l.b.declare_var(vt), wide.then(|| l.b.declare_var(vt)))
                        };
                        let cv = VVar { home, t: *ty };
                        self.def_var(l, cv, x);
                        self.muts.insert((*var, u), cv);
                    }
                }
                Stmt::For { var, extent, body } if self.defines_varying(body) => {
                    let lo = l.b.ins().iconst(types::I64, 0);
                    let hi = l.dim(*extent);
                    self.ordered_loop(l, *var, lo, hi, body, j, n)?;
                }
                Stmt::ForRange { var, extent, start, end, body } if self.defines_varying(body) => {
                    let (lo, hi) = l.range(*extent, start, end)?;
                    self.ordered_loop(l, *var, lo, hi, body, j, n)?;
                }
                Stmt::If { cond, then, els } if self.plan.varies(cond) => {
                    self.if_converted(l, cond, then, els, j, n)?
                }
                Stmt::If { cond, then, els } if self.touches_varying(then) || self.touches_varying(els) => {
                    self.branch(l, cond, then, els, j, n)?
                }
                _ => l.stmts(std::slice::from_ref(s))?,
            }
        }
        Ok(())
    }

    /// Whether statements mention a varying variable or the inner index anywhere (a uniform
    /// `if` around them must branch around vector code, [`Vec_::branch`]).
    fn touches_varying(&self, body: &[Stmt]) -> bool {
        body.iter().any(|s| s.any(&mut |s| self.sets_varying(s) || s.exprs().any(|e| self.plan.varies(e))))
    }

    /// A uniform `if` whose branches hold vector code (see [`Planner::check_if`]): a scalar
    /// branch, each side emitted as an ordered body; the varying variables they assign meet
    /// again after it (Cranelift's SSA construction joins their copies).
    fn branch(
        &mut self,
        l: &mut Lower<'_, '_>,
        cond: &Expr,
        then: &[Stmt],
        els: &[Stmt],
        j: Value,
        n: i64,
    ) -> Result<(), CpuError> {
        let (c, _) = l.expr(cond)?;
        let (yes, no, after) = (l.b.create_block(), l.b.create_block(), l.b.create_block());
        l.b.ins().brif(c, yes, &[], no, &[]);
        for (block, side) in [(yes, then), (no, els)] {
            l.b.switch_to_block(block);
            self.ordered(l, side, j, n)?;
            l.b.ins().jump(after, &[]);
        }
        l.b.switch_to_block(after);
        Ok(())
    }

    /// A varying `if` (see [`Planner::check_if`]): per copy, the condition's mask selects
    /// between each assignment's new value and the variable's old one (`then` where it is
    /// set, `els` where it is not); a flag is raised when its branch is taken in any lane of
    /// any copy.
    fn if_converted(
        &mut self,
        l: &mut Lower<'_, '_>,
        cond: &Expr,
        then: &[Stmt],
        els: &[Stmt],
        j: Value,
        n: i64,
    ) -> Result<(), CpuError> {
        self.hoist(l, cond)?;
        for s in then.iter().chain(els) {
            match s {
                Stmt::Let { var, .. } if !self.plan.varying.contains(var) => l.stmts(std::slice::from_ref(s))?,
                Stmt::Let { value, .. } | Stmt::Assign { value, .. } => self.hoist(l, value)?,
                _ => {}
            }
        }
        let mut taken: [Option<Value>; 2] = [None, None];
        for u in 0..n {
            let m = self.vx(l, cond, j, u)?.lo;
            let not_m = l.b.ins().bnot(m);
            for (branch, (mask, any)) in [then, els].into_iter().zip([(m, 0), (not_m, 1)]) {
                for s in branch {
                    match s {
                        Stmt::Let { var, value, .. } if self.plan.varying.contains(var) => {
                            let r = self.vx(l, value, j, u)?;
                            self.vars.insert((*var, u), r);
                        }
                        Stmt::Assign { var, value } => {
                            let x = self.vx(l, value, j, u)?;
                            let cv = self.mut_copy(*var, u)?;
                            let old = self.use_var(l, cv);
                            let new = self.vselect(l, mask, x, old);
                            self.def_var(l, cv, new);
                        }
                        Stmt::Flag(_) => {
                            taken[any] = Some(match taken[any] {
                                Some(t) => l.b.ins().bor(t, mask),
                                None => mask,
                            });
                        }
                        _ => {}
                    }
                }
            }
        }
        for (branch, t) in [then, els].into_iter().zip(taken) {
            let Some(t) = t else { continue };
            let flags: Vec<Stmt> = branch.iter().filter(|s| matches!(s, Stmt::Flag(_))).cloned().collect();
            let any = l.b.ins().vany_true(t);
            let raise = l.b.create_block();
            let after = l.b.create_block();
            l.b.ins().brif(any, raise, &[], after, &[]);
            l.b.switch_to_block(raise);
            l.stmts(&flags)?;
            l.b.ins().jump(after, &[]);
            l.b.switch_to_block(after);
        }
        Ok(())
    }

    /// Copy `u` of the varying `mut` an assignment to `var` updates.
    fn mut_copy(&self, var: Var, u: i64) -> Result<VVar, CpuError> {
        self.muts
            .get(&(var, u))
            .copied()
            .ok_or_else(|| CpuError::Unsupported(format!("vector assignment to {var} before its `mut`")))
    }

    fn use_var(&self, l: &mut Lower<'_, '_>, cv: VVar) -> VVal {
        match cv.home {
            Home::Regs(lo, hi) => VVal { lo: l.b.use_var(lo), hi: hi.map(|h| l.b.use_var(h)), t: cv.t },
            Home::Slot(slot, wide) => {
                let vt = vec_type(cv.t, self.plan.width);
                let lo = l.b.ins().stack_load(types::I64, vt, slot, 0);
                let hi = wide.then(|| l.b.ins().stack_load(types::I64, vt, slot, 16));
                VVal { lo, hi, t: cv.t }
            }
        }
    }

    fn def_var(&self, l: &mut Lower<'_, '_>, cv: VVar, x: VVal) {
        match cv.home {
            Home::Regs(lo, hi) => {
                l.b.def_var(lo, x.lo);
                if let (Some(h), Some(x)) = (hi, x.hi) {
                    l.b.def_var(h, x);
                }
            }
            Home::Slot(slot, _) => {
                for (h, part) in x.parts().enumerate() {
                    l.b.ins().stack_store(types::I64, part, slot, 16 * h as i32);
                }
            }
        }
    }

    /// Whether varying `mut` `var`, declared before `scope`, stays live across a vector loop
    /// in `scope` that never mentions it (see [`Home::Slot`]).
    fn outlives_a_loop(&self, var: Var, scope: &[Stmt]) -> bool {
        let mentions = |body: &[Stmt]| {
            body.iter().any(|s| {
                s.any(&mut |s| matches!(s, Stmt::Assign { var: v, .. } if *v == var) || s.exprs().any(|e| e.reads(var)))
            })
        };
        scope.iter().any(|s| {
            s.any(&mut |s| match s {
                Stmt::For { body, .. } | Stmt::ForRange { body, .. } => self.defines_varying(body) && !mentions(body),
                _ => false,
            })
        })
    }

    /// Whether a statement joins a straight-line run ([`Self::run`]): `let`s, stores and
    /// assignments of varying `mut`s. (A uniform assignment ends the run: a varying statement
    /// before it must read the old value.)
    fn in_run(&self, s: &Stmt) -> bool {
        match s {
            Stmt::Let { .. } | Stmt::Store { .. } => true,
            Stmt::Assign { var, .. } => self.plan.varying.contains(var),
            _ => false,
        }
    }

    /// A straight-line run: its uniform `let`s once (they read nothing varying), the uniform
    /// parts of its varying statements once, then copy by copy every varying statement, so
    /// only one copy's temporaries are live at a time (statement by statement, all copies'
    /// temporaries would be live at once beside the accumulators, and spill).
    fn run(&mut self, l: &mut Lower<'_, '_>, run: &[Stmt], j: Value, n: i64) -> Result<(), CpuError> {
        let mut bases = vec![];
        for s in run {
            match s {
                Stmt::Let { var, .. } if !self.plan.varying.contains(var) => l.stmts(std::slice::from_ref(s))?,
                Stmt::Let { value, .. } | Stmt::Assign { value, .. } => self.hoist(l, value)?,
                Stmt::Store { buf, idx, value } => {
                    self.hoist(l, value)?;
                    bases.push(self.row_base(l, *buf, idx)?);
                }
                _ => return Err(CpuError::Unsupported("statement in a vector run".into())),
            }
        }
        for u in 0..n {
            let mut base = bases.iter();
            for s in run {
                match s {
                    Stmt::Let { var, value, .. } if self.plan.varying.contains(var) => {
                        let r = self.vx(l, value, j, u)?;
                        self.vars.insert((*var, u), r);
                    }
                    Stmt::Assign { var, value } => {
                        let x = self.vx(l, value, j, u)?;
                        let cv = self.mut_copy(*var, u)?;
                        self.def_var(l, cv, x);
                    }
                    Stmt::Store { buf, value, .. } => {
                        let x = self.vx(l, value, j, u)?;
                        let Some(&b) = base.next() else {
                            return Err(CpuError::Unsupported("store without a row base".into()));
                        };
                        self.store(l, *buf, b, j, u, x);
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// A serial loop of `var` over `lo..hi` whose body has varying statements.
    #[allow(clippy::too_many_arguments)]
    fn ordered_loop(
        &mut self,
        l: &mut Lower<'_, '_>,
        var: Var,
        lo: Value,
        hi: Value,
        body: &[Stmt],
        j: Value,
        n: i64,
    ) -> Result<(), CpuError> {
        let cv = l.declare(var, DType::I64);
        l.b.def_var(cv, lo);
        let walks = l.start_walks(var, Some(self.plan.inner), body)?;
        let straight = body.iter().all(|s| matches!(s, Stmt::Let { .. } | Stmt::Assign { .. }));
        if straight && INNER_UNROLL > 1 {
            // `INNER_UNROLL` iterations per trip while that many are left, each exactly as
            // the loop below runs it (same order, so the same results): the loop control, the
            // walkers' strides and the limit (which the allocator tends to keep on the stack)
            // are paid once per trip.
            let last = l.b.ins().iadd_imm_s(hi, 1 - INNER_UNROLL);
            let head = l.b.create_block();
            l.b.ins().jump(head, &[]);
            l.counted_loop(head, cv, last, |l| {
                for u in 0..INNER_UNROLL {
                    if u > 0 {
                        let i = l.b.use_var(cv);
                        let i1 = l.b.ins().iadd_imm_s(i, 1);
                        l.b.def_var(cv, i1);
                    }
                    self.ordered(l, body, j, n)?;
                    l.step_walks(&walks);
                }
                Ok(())
            })?;
        }
        let head = l.b.create_block();
        l.b.ins().jump(head, &[]);
        l.counted_loop(head, cv, hi, |l| {
            self.ordered(l, body, j, n)?;
            l.step_walks(&walks);
            Ok(())
        })?;
        l.end_walks(walks);
        Ok(())
    }
    /// Hoist everything that does not vary with the inner index, in statement order.
    fn prepare(&mut self, l: &mut Lower<'_, '_>, body: &[Stmt]) -> Result<(), CpuError> {
        for s in body {
            match s {
                Stmt::Let { var, .. } if !self.plan.varying.contains(var) => l.stmts(std::slice::from_ref(s))?,
                Stmt::Let { value, .. } => self.hoist(l, value)?,
                Stmt::Store { buf, idx, value } => {
                    let base = self.row_base(l, *buf, idx)?;
                    self.bases.insert(s as *const Stmt as usize, base);
                    self.hoist(l, value)?;
                }
                _ => return Err(CpuError::Unsupported("statement in a vector loop".into())),
            }
        }
        Ok(())
    }

    fn hoist(&mut self, l: &mut Lower<'_, '_>, e: &Expr) -> Result<(), CpuError> {
        if let Expr::Const(c) = e {
            let sv = self.vconst(l, *c);
            self.hoisted.insert(e as *const Expr, sv);
            return Ok(());
        }
        if !self.plan.varies(e) {
            let (x, t) = l.expr(e)?;
            let sv = self.splat(l, x, t);
            self.hoisted.insert(e as *const Expr, sv);
            return Ok(());
        }
        match e {
            Expr::Load { buf, idx } => {
                let base = match l.walkers.get(&(e as *const Expr as usize)) {
                    Some(&w) => l.b.use_var(w),
                    None => self.row_base(l, *buf, idx)?,
                };
                self.bases.insert(e as *const Expr as usize, base);
            }
            // The planner refuses varying checks.
            Expr::Check(..) => {}
            e => {
                for c in e.children() {
                    self.hoist(l, c)?;
                }
            }
        }
        Ok(())
    }

    /// The address of `buf[.., 0, ..]` with every uniform index applied and the inner
    /// one at 0.
    fn row_base(&mut self, l: &mut Lower<'_, '_>, buf: BufId, idx: &[Expr]) -> Result<Value, CpuError> {
        let inner = Expr::Var(self.plan.inner);
        let zero = Expr::i64(0);
        let idx: Vec<Expr> = idx.iter().map(|e| if *e == inner { zero.clone() } else { e.clone() }).collect();
        l.addr(buf, &idx)
    }

    /// A uniform scalar broadcast to all lanes (a bool becomes an all-ones/all-zeros mask; a
    /// wide integer fills both vectors).
    fn splat(&self, l: &mut Lower<'_, '_>, x: Value, t: DType) -> VVal {
        let vt = vec_type(t, self.plan.width);
        if t == DType::Bool {
            let w = l.b.ins().uextend(vt.lane_type(), x);
            let m = l.b.ins().ineg(w);
            return VVal::one(l.b.ins().splat(vt, m), t);
        }
        let v = l.b.ins().splat(vt, x);
        VVal { lo: v, hi: self.plan.is_wide(t).then_some(v), t }
    }

    /// A constant in every lane, from the constant pool: Cranelift hoists pure values out of
    /// loops, and a splatted constant would then hold a register through every loop of the
    /// kernel, while a pool constant folds into its users as a memory operand.
    fn vconst(&self, l: &mut Lower<'_, '_>, c: Scalar) -> VVal {
        let t = c.dtype();
        let bytes: Vec<u8> = match c {
            Scalar::F32(x) => x.to_le_bytes().to_vec(),
            Scalar::F64(x) => x.to_le_bytes().to_vec(),
            Scalar::I32(x) => x.to_le_bytes().to_vec(),
            Scalar::U32(x) => x.to_le_bytes().to_vec(),
            Scalar::I64(x) => x.to_le_bytes().to_vec(),
            // A mask lane: all ones for true, of the plan's lane width.
            Scalar::Bool(b) => vec![if b { 0xff } else { 0 }; self.plan.width],
        };
        let lane = bytes.len();
        let data: Vec<u8> = bytes.iter().copied().cycle().take(16).collect();
        debug_assert_eq!(16 % lane, 0);
        let vt = vec_type(t, self.plan.width);
        let k = l.b.func.dfg.constants.insert(ConstantData::from(data));
        let v = l.b.ins().vconst(vt, k);
        VVal { lo: v, hi: self.plan.is_wide(t).then_some(v), t }
    }

    fn fsplat(&self, l: &mut Lower<'_, '_>, t: DType, v: f64) -> Value {
        let s = l.fconst(t, v);
        l.b.ins().splat(vec_type(t, self.plan.width), s)
    }

    /// Emit copy `u` of the body: the points `j + u*lanes ..` of the row.
    fn copy(&mut self, l: &mut Lower<'_, '_>, body: &[Stmt], j: Value, u: i64) -> Result<(), CpuError> {
        for s in body {
            match s {
                Stmt::Let { var, value, .. } if self.plan.varying.contains(var) => {
                    let r = self.vx(l, value, j, u)?;
                    self.vars.insert((*var, u), r);
                }
                Stmt::Let { .. } => {}
                Stmt::Store { buf, value, .. } => {
                    let x = self.vx(l, value, j, u)?;
                    let base = self.bases[&(s as *const Stmt as usize)];
                    self.store(l, *buf, base, j, u, x);
                }
                _ => return Err(CpuError::Unsupported("statement in a vector loop".into())),
            }
        }
        Ok(())
    }

    /// Store copy `u` of a value at its row base (both halves of a wide one).
    fn store(&self, l: &mut Lower<'_, '_>, buf: BufId, base: Value, j: Value, u: i64, x: VVal) {
        let (addr, off) = self.lane_addr(l, buf, base, j, u);
        for (h, part) in x.parts().enumerate() {
            l.b.ins().store(vmem(), part, addr, off + 16 * h as i32);
        }
    }

    fn lane_addr(&self, l: &mut Lower<'_, '_>, buf: BufId, base: Value, j: Value, u: i64) -> (Value, i32) {
        let size = l.lp.buffer(buf).dtype.size() as i64;
        let off = l.b.ins().imul_imm_s(j, size);
        let addr = l.b.ins().iadd(base, off);
        (addr, (u * self.plan.lanes() * size) as i32)
    }

    /// [`Self::vx`] for callers that handle one vector per value (reductions).
    fn vexpr(&mut self, l: &mut Lower<'_, '_>, e: &Expr, j: Value, u: i64) -> Result<(Value, DType), CpuError> {
        let v = self.vx(l, e, j, u)?;
        if v.hi.is_some() {
            return Err(CpuError::Unsupported("a two-vector value in a vector reduction".into()));
        }
        Ok((v.lo, v.t))
    }

    /// Copy `u` of a varying expression (or the splat of a hoisted uniform one).
    fn vx(&mut self, l: &mut Lower<'_, '_>, e: &Expr, j: Value, u: i64) -> Result<VVal, CpuError> {
        if let Some(h) = self.hoisted.get(&(e as *const Expr)) {
            return Ok(*h);
        }
        let bad = || Err(CpuError::Unsupported("expression in a vector loop".into()));
        Ok(match e {
            Expr::Var(v) => match (self.vars.get(&(*v, u)), self.muts.get(&(*v, u))) {
                (Some(x), _) => *x,
                (None, Some(&cv)) => self.use_var(l, cv),
                (None, None) => return bad(),
            },
            Expr::Load { buf, .. } => {
                let dt = l.lp.buffer(*buf).dtype;
                let Some(base) = self.bases.get(&(e as *const Expr as usize)).copied() else { return bad() };
                let (addr, off) = self.lane_addr(l, *buf, base, j, u);
                // An ordered plan's loads read buffers no store of the kernel touches (see
                // [`plan`]) at in-bounds indices of the current point: pure, so Cranelift
                // computes each copy's chain at its use (copy by copy, few registers live) and
                // hoists the ones invariant in the serial loop (`m[j..]` of a centred Gram).
                let flags = if self.plan.ordered { vmem().with_readonly().with_can_move() } else { vmem() };
                let vt = vec_type(dt, self.plan.width);
                let lo = l.b.ins().load(vt, flags, addr, off);
                let hi = self.plan.is_wide(dt).then(|| l.b.ins().load(vt, flags, addr, off + 16));
                VVal { lo, hi, t: dt }
            }
            Expr::Unary(op, a) => {
                let x = self.vx(l, a, j, u)?;
                VVal::one(self.unary(l, *op, x.lo, x.t)?, x.t)
            }
            Expr::Binary(op, a, b) => {
                let (mut x, mut y) = (self.vx(l, a, j, u)?, self.vx(l, b, j, u)?);
                // A constant second operand of a commutative op folds into the instruction as
                // a memory operand; first, it would take a register.
                if matches!(op, BinOp::Add | BinOp::Mul) && matches!(**a, Expr::Const(_)) {
                    std::mem::swap(&mut x, &mut y);
                }
                match (x.hi, y.hi) {
                    (Some(xh), Some(yh)) => {
                        let (lo, t) = self.binary(l, *op, x.lo, y.lo, x.t)?;
                        let (hi, _) = self.binary(l, *op, xh, yh, x.t)?;
                        if op.is_comparison() {
                            VVal::one(self.narrow_masks(l, lo, hi), DType::Bool)
                        } else {
                            VVal { lo, hi: Some(hi), t }
                        }
                    }
                    (None, None) => {
                        let (v, t) = self.binary(l, *op, x.lo, y.lo, x.t)?;
                        VVal::one(v, t)
                    }
                    _ => return bad(),
                }
            }
            Expr::Select(c, a, b) => {
                let m = self.vx(l, c, j, u)?.lo;
                let x = self.vx(l, a, j, u)?;
                let y = self.vx(l, b, j, u)?;
                self.vselect(l, m, x, y)
            }
            Expr::Cast(to, a) => {
                let x = self.vx(l, a, j, u)?;
                if x.hi.is_some() {
                    if x.t != *to {
                        return bad();
                    }
                    return Ok(x);
                }
                VVal::one(self.cast(l, x.lo, x.t, *to)?, *to)
            }
            Expr::Const(_) | Expr::Dim(_) | Expr::Check(..) => return bad(),
        })
    }

    /// `select(mask, x, y)` lane by lane; a wide value takes the mask's lanes 0-1 widened
    /// for its `lo` vector and lanes 2-3 for its `hi`.
    fn vselect(&self, l: &mut Lower<'_, '_>, mask: Value, x: VVal, y: VVal) -> VVal {
        match (x.hi, y.hi) {
            (Some(xh), Some(yh)) => {
                let m = self.as_type(l, mask, types::I32X4);
                let mlo = l.b.ins().swiden_low(m);
                let mhi = l.b.ins().swiden_high(m);
                let lo = l.b.ins().blendv(mlo, x.lo, y.lo);
                let hi = l.b.ins().blendv(mhi, xh, yh);
                VVal { lo, hi: Some(hi), t: x.t }
            }
            _ => VVal::one(self.select(l, mask, x.lo, y.lo, x.t), x.t),
        }
    }

    /// One 4-lane mask from the two 2-lane masks of a wide comparison: the low 32 bits of
    /// each 64-bit lane (all ones or all zeros), in lane order.
    fn narrow_masks(&self, l: &mut Lower<'_, '_>, lo: Value, hi: Value) -> Value {
        let a = self.as_type(l, lo, types::I8X16);
        let b = self.as_type(l, hi, types::I8X16);
        let picks: [u8; 16] = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
        let imm = l.b.func.dfg.immediates.push(ConstantData::from(&picks[..]));
        let s = l.b.ins().shuffle(a, b, imm);
        self.as_type(l, s, types::I32X4)
    }

    /// Reinterpret a vector's bits as another 128-bit vector type.
    fn as_type(&self, l: &mut Lower<'_, '_>, v: Value, t: Type) -> Value {
        if l.b.func.dfg.value_type(v) == t {
            return v;
        }
        l.b.ins().bitcast(t, MemFlagsData::new().with_endianness(Endianness::Little), v)
    }

    /// `select` on a lane mask (every lane all ones or all zeros): one `blendv` (which reads
    /// each lane's top bit) instead of the three instructions of a general `bitselect`, on
    /// the integer vector type of the lanes' width.
    fn select(&self, l: &mut Lower<'_, '_>, mask: Value, x: Value, y: Value, t: DType) -> Value {
        let vt = vec_type(t, self.plan.width);
        let it = if vt.lane_bits() == 32 { types::I32X4 } else { types::I64X2 };
        let (m, x, y) = (self.as_type(l, mask, it), self.as_type(l, x, it), self.as_type(l, y, it));
        let r = l.b.ins().blendv(m, x, y);
        self.as_type(l, r, vt)
    }

    /// Apply a scalar emitter to every lane (ops with no vector instruction).
    fn lanewise(
        &self,
        l: &mut Lower<'_, '_>,
        x: Value,
        y: Option<Value>,
        mut f: impl FnMut(&mut Lower<'_, '_>, Value, Option<Value>) -> Result<Value, CpuError>,
    ) -> Result<Value, CpuError> {
        let mut acc = x;
        for lane in 0..self.plan.lanes() as u8 {
            let xl = l.b.ins().extractlane(x, lane);
            let yl = y.map(|y| l.b.ins().extractlane(y, lane));
            let r = f(l, xl, yl)?;
            acc = l.b.ins().insertlane(acc, r, lane);
        }
        Ok(acc)
    }

    fn unary(&self, l: &mut Lower<'_, '_>, op: UnOp, x: Value, t: DType) -> Result<Value, CpuError> {
        Ok(match (op, t) {
            (UnOp::Neg, DType::F32 | DType::F64) => l.b.ins().fneg(x),
            (UnOp::Abs, DType::F32 | DType::F64) => l.b.ins().fabs(x),
            (UnOp::Sqrt, DType::F32 | DType::F64) => l.b.ins().sqrt(x),
            (UnOp::Floor, DType::F32 | DType::F64) => l.b.ins().floor(x),
            (UnOp::Ceil, DType::F32 | DType::F64) => l.b.ins().ceil(x),
            (UnOp::Rsqrt, DType::F32 | DType::F64) => {
                let s = l.b.ins().sqrt(x);
                let one = self.fsplat(l, t, 1.0);
                l.b.ins().fdiv(one, s)
            }
            (UnOp::PowI(n), DType::F32 | DType::F64) => {
                let one = self.fsplat(l, t, 1.0);
                l.powi(x, n, one)
            }
            (UnOp::Not, _) => l.b.ins().bnot(x),
            (UnOp::Neg, DType::I32 | DType::I64) => l.b.ins().ineg(x),
            (UnOp::Abs, DType::I32) => l.b.ins().iabs(x),
            (UnOp::Abs, DType::U32) => x,
            _ if l.poly_math && vmath::covers(op, t) => match vmath::unary(l, op, x, t)? {
                Some(v) => v,
                None => return Err(CpuError::Unsupported(format!("vector `{}` on {t}", op.name()))),
            },
            _ => self.lanewise(l, x, None, |l, a, _| l.unary(op, a, t))?,
        })
    }

    fn binary(
        &self,
        l: &mut Lower<'_, '_>,
        op: BinOp,
        x: Value,
        y: Value,
        t: DType,
    ) -> Result<(Value, DType), CpuError> {
        if op.is_comparison() {
            let m = if t.is_float() {
                l.b.ins().fcmp(float_cc(op), x, y)
            } else {
                l.b.ins().icmp(int_cc(op, t.is_signed()), x, y)
            };
            return Ok((m, DType::Bool));
        }
        let v = match (op, t) {
            (BinOp::Add, DType::F32 | DType::F64) => l.b.ins().fadd(x, y),
            (BinOp::Sub, DType::F32 | DType::F64) => l.b.ins().fsub(x, y),
            (BinOp::Mul, DType::F32 | DType::F64) => l.b.ins().fmul(x, y),
            (BinOp::Div, DType::F32 | DType::F64) => l.b.ins().fdiv(x, y),
            (BinOp::Min | BinOp::Max, DType::F32 | DType::F64) => self.min_max(l, op == BinOp::Min, x, y, t),
            (BinOp::And | BinOp::Min | BinOp::Mul, DType::Bool) => l.b.ins().band(x, y),
            (BinOp::Or | BinOp::Max | BinOp::Add, DType::Bool) => l.b.ins().bor(x, y),
            (BinOp::Xor, DType::Bool) => l.b.ins().bxor(x, y),
            (BinOp::Add, DType::I32 | DType::U32 | DType::I64) => l.b.ins().iadd(x, y),
            (BinOp::Sub, DType::I32 | DType::U32 | DType::I64) => l.b.ins().isub(x, y),
            (BinOp::Mul, DType::I32 | DType::U32) => l.b.ins().imul(x, y),
            (BinOp::And, _) => l.b.ins().band(x, y),
            (BinOp::Or, _) => l.b.ins().bor(x, y),
            (BinOp::Xor, _) => l.b.ins().bxor(x, y),
            (BinOp::Min, DType::I32) => l.b.ins().smin(x, y),
            (BinOp::Max, DType::I32) => l.b.ins().smax(x, y),
            (BinOp::Min, DType::U32) => l.b.ins().umin(x, y),
            (BinOp::Max, DType::U32) => l.b.ins().umax(x, y),
            _ => self.lanewise(l, x, Some(y), |l, a, b| match b {
                Some(b) => Ok(l.binary(op, a, b, t)?.0),
                None => Err(CpuError::Unsupported("binary op without operand".into())),
            })?,
        };
        Ok((v, t))
    }

    /// `min`/`max` as the interpreter defines them: a NaN in either lane gives the quiet NaN
    /// (positive, as the scalar lowering gives it), and `-0` is below `+0`. Both orders of the
    /// native instruction agree except on zeros of opposite signs (or NaNs), where their
    /// bitwise or (and) is the signed zero wanted; a blend puts the NaN where either input
    /// has one. Five instructions, against Cranelift's seven for `fmin`, whose NaN is negative.
    fn min_max(&self, l: &mut Lower<'_, '_>, min: bool, x: Value, y: Value, t: DType) -> Value {
        // `x < y ? x : y` is `minps x, y`; `y < x ? x : y` is `maxps x, y` (Cranelift matches
        // these patterns).
        let pseudo = |l: &mut Lower<'_, '_>, x: Value, y: Value| {
            let (p, q) = if min { (x, y) } else { (y, x) };
            let m = l.b.ins().fcmp(FloatCC::LessThan, p, q);
            let vt = l.b.func.dfg.value_type(x);
            let m = l.b.ins().bitcast(vt, MemFlagsData::new(), m);
            l.b.ins().bitselect(m, x, y)
        };
        let (a, b) = (pseudo(l, x, y), pseudo(l, y, x));
        let r = if min { l.b.ins().bor(a, b) } else { l.b.ins().band(a, b) };
        let nan = l.b.ins().fcmp(FloatCC::Unordered, x, y);
        let q = self.fsplat(l, t, f64::NAN);
        self.select(l, nan, q, r, t)
    }

    fn cast(&self, l: &mut Lower<'_, '_>, x: Value, from: DType, to: DType) -> Result<Value, CpuError> {
        use DType::*;
        let vt = vec_type(to, self.plan.width);
        Ok(match (from, to) {
            _ if from == to => x,
            (I32, U32) | (U32, I32) => x,
            (F32, I32) | (F64, I64) => l.b.ins().fcvt_to_sint_sat(vt, x),
            (F32, U32) => l.b.ins().fcvt_to_uint_sat(vt, x),
            (I32, F32) | (I64, F64) => l.b.ins().fcvt_from_sint(vt, x),
            (U32, F32) => l.b.ins().fcvt_from_uint(vt, x),
            (F32 | F64, Bool) => {
                let z = self.fsplat(l, from, 0.0);
                l.b.ins().fcmp(FloatCC::NotEqual, x, z)
            }
            (_, Bool) => {
                let z = l.b.ins().iconst(vt.lane_type(), 0);
                let z = l.b.ins().splat(vt, z);
                l.b.ins().icmp(IntCC::NotEqual, x, z)
            }
            (Bool, F32 | F64) => {
                let one = self.fsplat(l, to, 1.0);
                let zero = self.fsplat(l, to, 0.0);
                self.select(l, x, one, zero, to)
            }
            (Bool, _) => {
                let one = l.b.ins().iconst(clif_type(to), 1);
                let one = l.b.ins().splat(vt, one);
                l.b.ins().band(x, one)
            }
            _ => return Err(CpuError::Unsupported(format!("vector cast from {from} to {to}"))),
        })
    }
}
