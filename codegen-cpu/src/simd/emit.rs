//! Vector emission: the vector loops of a plan (straight-line copies, ordered bodies,
//! map loops), their stride check, and the vector values and variables of one row.

use super::{Plan, INNER_UNROLL};
use crate::kernel::Lower;
use crate::CpuError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, Block, ConstantData, InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Type, Value,
};
use cranelift_frontend::Variable;
use kiln_ir::loops::{BufId, Expr, Scalar, Stmt, Var};
use kiln_ir::{BinOp, DType};
use std::collections::HashMap;

/// The vector part of a map loop ([`super::map_plan`]) into the current block: entered when every
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
pub(super) fn vec_type(t: DType, width: usize) -> Type {
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
    pub(super) fn one(lo: Value, t: DType) -> Self {
        VVal { lo, hi: None, t }
    }

    /// Both halves (one for a single vector).
    pub(super) fn parts(self) -> impl Iterator<Item = Value> {
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
pub(super) struct VVar {
    home: Home,
    t: DType,
}

/// Vector lowering state of one row.
pub(super) struct Vec_<'p> {
    pub(super) plan: &'p Plan,
    /// Splatted uniform sub-expressions, by address of the expression node.
    pub(super) hoisted: HashMap<*const Expr, VVal>,
    /// Row base address of each varying access, by address of its load or store.
    pub(super) bases: HashMap<usize, Value>,
    /// Varying `let`s, by variable and copy.
    pub(super) vars: HashMap<(Var, i64), VVal>,
    /// Varying `mut`s of an ordered plan, by variable and copy.
    pub(super) muts: HashMap<(Var, i64), VVar>,
}

impl<'p> Vec_<'p> {
    pub(super) fn new(plan: &'p Plan) -> Self {
        Vec_ { plan, hoisted: HashMap::new(), bases: HashMap::new(), vars: HashMap::new(), muts: HashMap::new() }
    }

    /// Whether a statement list assigns or defines a varying variable (a loop that does
    /// nothing else is left to the scalar lowering).
    pub(super) fn defines_varying(&self, body: &[Stmt]) -> bool {
        body.iter().any(|s| s.any(&mut |s| self.sets_varying(s)))
    }

    /// Whether a statement is a `let`, `mut` or assignment of a varying variable.
    pub(super) fn sets_varying(&self, s: &Stmt) -> bool {
        match s {
            Stmt::Let { var, .. } | Stmt::Mut { var, .. } | Stmt::Assign { var, .. } => self.plan.varying.contains(var),
            Stmt::Store { .. } | Stmt::For { .. } | Stmt::ForRange { .. } | Stmt::If { .. } | Stmt::Flag(_) => false,
        }
    }

    /// Emit an ordered plan's `body` for `n` vectors from column `j`: uniform statements once
    /// through the scalar lowering, varying ones for copies `0..n` (see [`vector_loops`]).
    pub(super) fn ordered(&mut self, l: &mut Lower<'_, '_>, body: &[Stmt], j: Value, n: i64) -> Result<(), CpuError> {
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
    pub(super) fn touches_varying(&self, body: &[Stmt]) -> bool {
        body.iter().any(|s| s.any(&mut |s| self.sets_varying(s) || s.exprs().any(|e| self.plan.varies(e))))
    }

    /// A uniform `if` whose branches hold vector code (see [`super::Planner::check_if`]): a scalar
    /// branch, each side emitted as an ordered body; the varying variables they assign meet
    /// again after it (Cranelift's SSA construction joins their copies).
    pub(super) fn branch(
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

    /// A varying `if` (see [`super::Planner::check_if`]): per copy, the condition's mask selects
    /// between each assignment's new value and the variable's old one (`then` where it is
    /// set, `els` where it is not); a flag is raised when its branch is taken in any lane of
    /// any copy.
    pub(super) fn if_converted(
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
    pub(super) fn mut_copy(&self, var: Var, u: i64) -> Result<VVar, CpuError> {
        self.muts
            .get(&(var, u))
            .copied()
            .ok_or_else(|| CpuError::Unsupported(format!("vector assignment to {var} before its `mut`")))
    }

    pub(super) fn use_var(&self, l: &mut Lower<'_, '_>, cv: VVar) -> VVal {
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

    pub(super) fn def_var(&self, l: &mut Lower<'_, '_>, cv: VVar, x: VVal) {
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
    pub(super) fn outlives_a_loop(&self, var: Var, scope: &[Stmt]) -> bool {
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
    pub(super) fn in_run(&self, s: &Stmt) -> bool {
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
    pub(super) fn run(&mut self, l: &mut Lower<'_, '_>, run: &[Stmt], j: Value, n: i64) -> Result<(), CpuError> {
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
    pub(super) fn ordered_loop(
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
    pub(super) fn prepare(&mut self, l: &mut Lower<'_, '_>, body: &[Stmt]) -> Result<(), CpuError> {
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

    pub(super) fn hoist(&mut self, l: &mut Lower<'_, '_>, e: &Expr) -> Result<(), CpuError> {
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
    pub(super) fn row_base(&mut self, l: &mut Lower<'_, '_>, buf: BufId, idx: &[Expr]) -> Result<Value, CpuError> {
        let inner = Expr::Var(self.plan.inner);
        let zero = Expr::i64(0);
        let idx: Vec<Expr> = idx.iter().map(|e| if *e == inner { zero.clone() } else { e.clone() }).collect();
        l.addr(buf, &idx)
    }

    /// A uniform scalar broadcast to all lanes (a bool becomes an all-ones/all-zeros mask; a
    /// wide integer fills both vectors).
    pub(super) fn splat(&self, l: &mut Lower<'_, '_>, x: Value, t: DType) -> VVal {
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
    pub(super) fn vconst(&self, l: &mut Lower<'_, '_>, c: Scalar) -> VVal {
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

    pub(super) fn fsplat(&self, l: &mut Lower<'_, '_>, t: DType, v: f64) -> Value {
        let s = l.fconst(t, v);
        l.b.ins().splat(vec_type(t, self.plan.width), s)
    }

    /// Emit copy `u` of the body: the points `j + u*lanes ..` of the row.
    pub(super) fn copy(&mut self, l: &mut Lower<'_, '_>, body: &[Stmt], j: Value, u: i64) -> Result<(), CpuError> {
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
    pub(super) fn store(&self, l: &mut Lower<'_, '_>, buf: BufId, base: Value, j: Value, u: i64, x: VVal) {
        let (addr, off) = self.lane_addr(l, buf, base, j, u);
        for (h, part) in x.parts().enumerate() {
            l.b.ins().store(vmem(), part, addr, off + 16 * h as i32);
        }
    }

    pub(super) fn lane_addr(&self, l: &mut Lower<'_, '_>, buf: BufId, base: Value, j: Value, u: i64) -> (Value, i32) {
        let size = l.lp.buffer(buf).dtype.size() as i64;
        let off = l.b.ins().imul_imm_s(j, size);
        let addr = l.b.ins().iadd(base, off);
        (addr, (u * self.plan.lanes() * size) as i32)
    }

    /// [`Self::vx`] for callers that handle one vector per value (reductions).
    pub(super) fn vexpr(
        &mut self,
        l: &mut Lower<'_, '_>,
        e: &Expr,
        j: Value,
        u: i64,
    ) -> Result<(Value, DType), CpuError> {
        let v = self.vx(l, e, j, u)?;
        if v.hi.is_some() {
            return Err(CpuError::Unsupported("a two-vector value in a vector reduction".into()));
        }
        Ok((v.lo, v.t))
    }

    /// Copy `u` of a varying expression (or the splat of a hoisted uniform one).
    pub(super) fn vx(&mut self, l: &mut Lower<'_, '_>, e: &Expr, j: Value, u: i64) -> Result<VVal, CpuError> {
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
            Expr::MulAdd(a, b, c) => {
                let (x, y, z) = (self.vx(l, a, j, u)?, self.vx(l, b, j, u)?, self.vx(l, c, j, u)?);
                if x.hi.is_some() || y.hi.is_some() || z.hi.is_some() {
                    return bad();
                }
                VVal::one(self.mul_add(l, x.lo, y.lo, z.lo, x.t)?, x.t)
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
            Expr::Const(_) | Expr::Dim(_) | Expr::Check(..) | Expr::Bitcast(..) => return bad(),
        })
    }
}
