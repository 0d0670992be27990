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
//!   few live values: one vector per iteration for polynomial bodies ([`plan::tiers`]), varying
//!   `mut`s not read by an inner loop in stack slots (`Home::Slot` in [`emit`]).
//! * **A call anywhere in a loop spills every live vector register** on every iteration, taken
//!   or not (the System V ABI has no callee-saved xmm). So polynomial math never calls libm
//!   inside a straight-line vector loop: a vector with a lane out of the polynomial's range
//!   hands the rest of the row to the scalar loop ([`crate::kernel::Bail`]).
//! * **Address arithmetic is not strength-reduced**: a load `a[r, i]` in a serial loop over
//!   `r` recomputes `base + r * stride` each iteration; kiln keeps such addresses in
//!   variables and adds the byte step ([`crate::kernel::Lower::start_walks`]).
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

mod emit;
mod lanes;
mod plan;
pub(crate) mod reduce;

pub(crate) use emit::{map_loop, stride_check, vector_loops, VVal};
use emit::{vec_type, Vec_};
pub(crate) use plan::map_plan;
use plan::Planner;
pub use plan::{plan, visit_buffers, Plan, Strategies, INNER_UNROLL, ORDERED_UNROLL, UNROLL};
