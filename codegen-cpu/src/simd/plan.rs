//! Vector planning: which kernels and serial loops get vector loops, at what lane width,
//! with which accesses that must be contiguous and which inputs the runtime copies first.

use crate::kernel::Lower;
use crate::vmath;
use kiln_ir::loops::{BufId, BufKind, Expr, Kernel, KernelHint, LoopProgram, Stmt, Var};
use kiln_ir::{BinOp, DType};
use std::collections::{HashMap, HashSet};

/// Vectors per iteration of the main vector loop.
pub const UNROLL: i64 = 4;
/// Vectors per iteration of an ordered plan's vector loop: its accumulators stay in registers
/// across the serial loop (8 of the 16 xmm registers), each broadcast feeds this many.
pub const ORDERED_UNROLL: i64 = 8;
/// Iterations per trip of an ordered plan's innermost serial loop (a straight-line body:
/// the feature loop of a contraction), before the one-at-a-time loop finishes it.
pub const INNER_UNROLL: i64 = 4;

/// The vector strategies the schedule's decision for a kernel ([`KernelHint`]) leaves open,
/// as the CUDA emitter's mappings do: the hint says what kind of kernel the schedule built,
/// and the kernel's shape then decides whether a strategy applies, at which lane width and
/// with which unrolling (backend decisions the hint does not make). Loop IR without a hint
/// (`plain`: element-wise kernels, hand-written programs) is recognised by its shape alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strategies {
    /// A vector loop over the innermost domain axis ([`plan`]): an element-wise kernel, the
    /// ordered plan of a serial kernel (a contraction over rows) or of a two-phase partial.
    pub kernel: bool,
    /// Blocks of columns run together around a contraction (`reduce::block_plan`):
    /// the serial reduction loops of serial and two-phase kernels.
    pub blocked: bool,
    /// Vector reduction loops (`reduce::plan`): serial reductions, and two-phase
    /// chunk loops.
    pub reduce: bool,
    /// Vector map loops (`map_plan`): a scatter's row update into its partials.
    pub map: bool,
}

impl Strategies {
    /// What `hint` leaves open (everything for `plain` and for hints this backend does not
    /// know, whose kernels are then recognised by shape alone).
    pub fn of(hint: KernelHint) -> Strategies {
        let all = Strategies { kernel: true, blocked: true, reduce: true, map: true };
        match hint {
            KernelHint::Serial | KernelHint::TwoPhase => Strategies { map: false, ..all },
            KernelHint::Scatter => Strategies { kernel: false, blocked: false, reduce: false, map: true },
            _ => all,
        }
    }
}

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
    /// ([`super::vector_loops`]), with nothing hoisted out of the row's vector iterations.
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
///   independent work for the out-of-order core, and unrolling it only multiplies the code
///   (for an ordered plan only polynomial math inside its serial loops counts: an epilogue
///   after the contraction, `exp(-gamma d2)`, runs once per output and the contraction needs
///   its independent accumulators);
/// * when the row is the whole parallel domain (`one_row`: a rank-1 domain, thousands of
///   points per chunk), only the widest loop: what is left is a few points for the scalar
///   tail, and a loop less is compile time saved at no run-time cost;
/// * otherwise (rows of a matrix, as short as 8 columns) every width: [`UNROLL`] then single
///   vectors, an ordered plan [`ORDERED_UNROLL`] first and a 4-vector loop in between so that
///   16..31 remaining columns (k = 16 centres, say) still share each broadcast.
pub(super) fn tiers(ordered: bool, one_row: bool, heavy: bool) -> &'static [i64] {
    match (heavy, ordered, one_row) {
        (true, _, _) => &[1],
        (false, true, true) => &[ORDERED_UNROLL],
        (false, true, false) => &[ORDERED_UNROLL, UNROLL, 1],
        (false, false, true) => &[UNROLL],
        (false, false, false) => &[UNROLL, 1],
    }
}

/// Whether a statement list applies polynomial math ([`vmath::covers`]) to a varying value.
pub(super) fn heavy(body: &[Stmt], types: &HashMap<Var, DType>, lp: &LoopProgram) -> bool {
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

/// Whether `f` holds for the body of any serial loop of `body` (at any depth).
fn in_loops(body: &[Stmt], f: &mut impl FnMut(&[Stmt]) -> bool) -> bool {
    body.iter().any(|s| match s {
        Stmt::For { body, .. } | Stmt::ForRange { body, .. } => f(body),
        Stmt::If { then, els, .. } => in_loops(then, f) || in_loops(els, f),
        _ => false,
    })
}

impl Plan {
    /// Whether `e` reads the inner index or a varying variable.
    pub(super) fn varies(&self, e: &Expr) -> bool {
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
    // An ordered plan's polynomial math outside its serial loops is an epilogue, applied once
    // per output after the contraction (`exp(-gamma d2)` of an RBF kernel matrix): it does
    // not make the loop heavy, and one vector per iteration would leave the contraction a
    // single accumulator chain (rbf 2048^3 f32: see `docs/architecture.md`).
    let heavy = if ordered { in_loops(&k.body, &mut |b| heavy(b, &p.types, lp)) } else { heavy(&k.body, &p.types, lp) };
    p.plan.tiers = tiers(ordered, k.domain.len() == 1, heavy);
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

pub(super) struct Planner<'a> {
    pub(super) lp: &'a LoopProgram,
    pub(super) plan: Plan,
    pub(super) types: HashMap<Var, DType>,
    /// The domain variables and the serial loops around the statement being checked (an
    /// access none of whose indices uses one of them is read again for each of its values).
    pub(super) loops: Vec<Var>,
}

impl<'a> Planner<'a> {
    /// A planner for a vector loop over `inner` with lanes of `width` bytes (0: from the
    /// stores), knowing the types of `types` and the loops around the body in `loops`.
    pub(super) fn new(
        lp: &'a LoopProgram,
        inner: Var,
        width: usize,
        types: HashMap<Var, DType>,
        loops: Vec<Var>,
    ) -> Self {
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
    pub(super) fn for_loop(l: &Lower<'a, '_>, var: Var, width: usize) -> Self {
        let mut types: HashMap<Var, DType> = l.vars.iter().map(|(v, (_, t))| (*v, *t)).collect();
        types.insert(var, DType::I64);
        Planner::new(l.lp, var, width, types, vec![])
    }

    /// Record the types of `body`'s variables and add those that vary to the plan.
    pub(super) fn mark(&mut self, body: &[Stmt]) {
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
    pub(super) fn check_body(&mut self, body: &[Stmt], top: bool) -> Option<()> {
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
    pub(super) fn check_def(&mut self, value: &Expr, t: Option<DType>, varying: bool) -> Option<()> {
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
    /// lowered as scalar code; one that does ([`super::Vec_::branch`]: KMeans' distances to the
    /// centers a panel of rows may be nearest to, `if cand[b, j] { sum(..) } else { inf }`)
    /// holds vector code in its branches, which may be anything a body may be.
    pub(super) fn check_if(&mut self, cond: &Expr, then: &[Stmt], els: &[Stmt]) -> Option<()> {
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

    pub(super) fn fits(&self, t: DType) -> bool {
        t == DType::Bool || t.size() == self.plan.width || self.plan.is_wide(t)
    }

    /// The dtype of an expression (`None` if ill-typed; the scalar lowering reports why).
    pub(super) fn ty(&self, e: &Expr) -> Option<DType> {
        Some(match e {
            Expr::Var(v) => *self.types.get(v)?,
            Expr::Const(c) => c.dtype(),
            Expr::Dim(_) | Expr::Check(..) => DType::I64,
            Expr::Load { buf, .. } => self.lp.buffers.get(buf.index())?.dtype,
            Expr::Unary(_, a) => self.ty(a)?,
            Expr::Binary(op, a, _) if !op.is_comparison() => self.ty(a)?,
            Expr::Binary(..) => DType::Bool,
            Expr::Select(_, a, _) | Expr::MulAdd(a, ..) => self.ty(a)?,
            Expr::Cast(t, _) | Expr::Bitcast(t, _) => *t,
        })
    }

    /// A varying access: exactly one axis indexed by the inner variable itself, the others
    /// uniform. Records the axis for the stride check.
    pub(super) fn access(&mut self, buf: BufId, idx: &[Expr]) -> Option<()> {
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
    pub(super) fn check(&mut self, e: &Expr) -> Option<()> {
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
            // `mul_add`: a vector FMA (or `fma` per lane without FMA instructions), one
            // rounding either way.
            Expr::MulAdd(a, b, c) => {
                self.check(a)?;
                self.check(b)?;
                self.check(c)?;
                let t = self.ty(a)?;
                (t.is_float() && self.fits(t) && !self.plan.is_wide(t)).then_some(())
            }
            Expr::Cast(to, a) => {
                self.check(a)?;
                let from = self.ty(a)?;
                let wide = self.plan.is_wide(from) || self.plan.is_wide(*to);
                (self.fits(from) && self.fits(*to) && (!wide || from == *to)).then_some(())
            }
            // Scalar code only (the radix sort's keys).
            Expr::Bitcast(..) => None,
        }
    }
}
