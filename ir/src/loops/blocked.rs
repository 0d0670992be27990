//! The blocked order of long floating-point sums: the one definition of the order in which
//! kiln adds up a float `sum` over a long axis, so that an `f32` sum of millions of elements
//! is as accurate as numpy's pairwise sum while every device and thread count can follow it.
//!
//! The reduced axis (the innermost one of a multi-axis box) is cut into *blocks* of
//! [`SUM_BLOCK`] elements at absolute positions `b*64 .. (b+1)*64`, blocks into *groups* of
//! 64 blocks (4096 elements), groups into *supergroups* of 64 groups (262144 elements).
//! Each block is summed from `+0.0` left to right, each group sums its blocks' totals left
//! to right from `+0.0`, each supergroup its groups' totals, and the supergroups' totals are
//! folded left to right into the reduction's accumulator (which, over a multi-axis box, runs
//! on across the outer axes). A range `lo..hi` (one chunk of a two-phase reduction, a
//! triangular bound) keeps the absolute cut points and visits only the part of each piece
//! inside the range: since a chain that starts at `+0.0` never yields `-0.0`, adding `+0.0`
//! for a skipped element changes nothing, so the array interpreter (which folds the identity
//! for guarded-out elements) and the loop IR agree bitwise.
//!
//! No chain is longer than 64 additions below the supergroups, so the rounding error grows
//! like `64 * 3 + n / 2^18` instead of `n`. [`blocked_sum`] builds the loop nest;
//! [`flatten_blocked_sum`] undoes it for a backend that splits a single reduction across a
//! GPU block (its own fixed order: a strided loop per thread and a shuffle tree).

use super::{Expr, Scalar, Stmt, Var};
use crate::program::BinOp;
use crate::types::{DType, Dim};

/// Elements per block, blocks per group, groups per supergroup.
pub const SUM_BLOCK: i64 = 64;

/// The most partial levels of a blocked sum (block, group, supergroup).
pub const SUM_LEVELS: usize = 3;

/// The partial levels a blocked sum over an axis of extent `d` needs: for a constant extent
/// the fewest whose top piece (`64^levels` elements) covers the axis, since a level that runs
/// once adds its only partial to `+0.0`, which changes nothing; [`SUM_LEVELS`] otherwise.
pub fn sum_levels(d: Dim) -> usize {
    match d {
        Dim::Const(n) => (1..SUM_LEVELS).find(|&l| n <= (SUM_BLOCK as u64).pow(l as u32)).unwrap_or(SUM_LEVELS),
        _ => SUM_LEVELS,
    }
}

/// The accumulators of one blocked sum: the reduction's own accumulator and its partials,
/// innermost (the block's) first, one per level.
#[derive(Clone, Debug)]
pub struct BlockedAcc {
    pub acc: Var,
    pub parts: Vec<Var>,
    pub ty: DType,
}

/// The loop nest of a blocked sum of the elements `lo..hi` (clamped to `0..extent`) of the
/// loop variable `j`: `body` evaluates one element and folds it into each accumulator's
/// `parts[0]` (`p0 = add(p0, x)`). `loops[k]` is the fresh variable of the loop over the
/// pieces of `64^(k+1)` elements (block, group, supergroup), of extent `extent`, which bounds
/// it: a piece's index is at most its first element's position. There are as many levels as
/// `loops` (each accumulator has as many `parts`); the top one's partials are folded into the
/// accumulators. Returns the top-level loop, to place after the accumulators' `mut`s.
pub fn blocked_sum(
    j: Var,
    extent: Dim,
    lo: Expr,
    hi: Expr,
    loops: &[Var],
    accs: &[BlockedAcc],
    body: Vec<Stmt>,
) -> Stmt {
    let b = SUM_BLOCK;
    let lo = if lo == Expr::i64(0) { lo } else { Expr::binary(BinOp::Max, lo, Expr::i64(0)) };
    let hi = if hi == Expr::Dim(extent) { hi } else { Expr::binary(BinOp::Min, hi, Expr::Dim(extent)) };
    // From position 0 (a whole axis, the usual case) every level starts at piece 0, and a
    // piece's first element `v * 64` needs no clamp to 0: no division or `max` to compile.
    let from_zero = lo == Expr::i64(0);
    let down = |m: i64| if from_zero { Expr::i64(0) } else { Expr::binary(BinOp::Div, lo.clone(), Expr::i64(m)) };
    let up = |m: i64| Expr::binary(BinOp::Div, Expr::binary(BinOp::Add, hi.clone(), Expr::i64(m - 1)), Expr::i64(m));
    // The part of piece `v` (of the level above) inside `first..last`, in units of the level
    // below: from max(first, v*64) to min(last, v*64 + 64).
    let piece = |v: Var, first: Expr, last: Expr| {
        let at = Expr::binary(BinOp::Mul, Expr::Var(v), Expr::i64(b));
        let start = if first == Expr::i64(0) { at.clone() } else { Expr::binary(BinOp::Max, first, at.clone()) };
        let end = Expr::binary(BinOp::Min, last, Expr::binary(BinOp::Add, at, Expr::i64(b)));
        (start, end)
    };
    let zero = |ty: DType| Expr::Const(Scalar::reduce_identity(crate::program::ReduceOp::Sum, ty));
    let fold = |into: Var, part: Var| Stmt::Assign {
        var: into,
        value: Expr::binary(BinOp::Add, Expr::Var(into), Expr::Var(part)),
    };
    let levels = loops.len();
    let Some(&block) = loops.first() else {
        return Stmt::ForRange { var: j, extent, start: lo, end: hi, body };
    };
    let (start, end) = piece(block, lo.clone(), hi.clone());
    let mut inner = Stmt::ForRange { var: j, extent, start, end, body };
    let mut unit = 1;
    for (k, &v) in loops.iter().enumerate() {
        unit *= b;
        let mut stmts: Vec<Stmt> =
            accs.iter().map(|a| Stmt::Mut { var: a.parts[k], ty: a.ty, init: zero(a.ty) }).collect();
        stmts.push(inner);
        stmts.extend(accs.iter().map(|a| fold(a.parts.get(k + 1).copied().unwrap_or(a.acc), a.parts[k])));
        let (start, end) = match loops.get(k + 1) {
            Some(&above) if k + 1 < levels => piece(above, down(unit), up(unit)),
            _ => (down(unit), up(unit)),
        };
        inner = Stmt::ForRange { var: v, extent, start, end, body: stmts };
    }
    inner
}

/// For the top-level loop of a [`blocked_sum`] with one accumulator `acc`, the same sum as
/// one loop `for j from lo to hi { ..; acc = add(acc, x) }` (another order of the same
/// additions); `None` for anything else.
pub fn flatten_blocked_sum(s: &Stmt, acc: Var) -> Option<Stmt> {
    let Stmt::ForRange { var, .. } = s else { return None };
    let (lets, p, inner) = level(s, acc)?;
    let flat = flatten_in(inner, p, *var)?;
    if reads_any(&lets, &[*var]) {
        return None;
    }
    Some(prepend(rename_acc(flat, p, acc), lets))
}

/// A level's loop `for v { mut p; inner; acc = add(acc, p) }` (with the `let`s loop-invariant
/// code motion may have lifted out of the loops inside): those `let`s, `p` and `inner`.
fn level(s: &Stmt, acc: Var) -> Option<(Vec<Stmt>, Var, &Stmt)> {
    let Stmt::ForRange { body, .. } = s else { return None };
    let lets: Vec<Stmt> = body.iter().filter(|s| matches!(s, Stmt::Let { .. })).cloned().collect();
    let rest: Vec<&Stmt> = body.iter().filter(|s| !matches!(s, Stmt::Let { .. })).collect();
    let [first, inner, last] = rest[..] else { return None };
    let (
        Stmt::Mut { var: p, .. },
        Stmt::ForRange { .. },
        Stmt::Assign { var: v, value: Expr::Binary(BinOp::Add, a, x) },
    ) = (first, inner, last)
    else {
        return None;
    };
    (*v == acc && **a == Expr::Var(acc) && **x == Expr::Var(*p)).then_some((lets, *p, inner))
}

/// The flat loop `flat` with `lets` (pure, lifted out of its levels; they read no level
/// variable, which callers check) evaluated first in its body.
fn prepend(flat: Stmt, mut lets: Vec<Stmt>) -> Stmt {
    let Stmt::ForRange { var, extent, start, end, body } = flat else { return flat };
    lets.extend(body);
    Stmt::ForRange { var, extent, start, end, body: lets }
}

/// Whether a `let` among `lets` reads one of `vars`.
fn reads_any(lets: &[Stmt], vars: &[Var]) -> bool {
    lets.iter().any(|s| s.exprs().any(|e| vars.iter().any(|v| e.reads(*v))))
}

/// `s`, a loop inside the piece `parent` of the level above, summing into `acc`: another
/// level, or the elements' loop.
fn flatten_in(s: &Stmt, acc: Var, parent: Var) -> Option<Stmt> {
    let Stmt::ForRange { var, extent, start, end, body } = s else { return None };
    // Its bounds are max(first, parent*64) .. min(last, parent*64 + 64), or parent*64 ..
    // when `first` is 0.
    let at = Expr::binary(BinOp::Mul, Expr::Var(parent), Expr::i64(SUM_BLOCK));
    let Expr::Binary(BinOp::Min, hi, _) = end else { return None };
    let lo = match start {
        Expr::Binary(BinOp::Max, lo, from) if **from == at => (**lo).clone(),
        s if *s == at => Expr::i64(0),
        _ => return None,
    };
    let lo = &lo;
    if let Some((lets, p, inner)) = level(s, acc) {
        if let Some(flat) = flatten_in(inner, p, *var) {
            if reads_any(&lets, &[*var, parent]) {
                return None;
            }
            return Some(prepend(rename_acc(flat, p, acc), lets));
        }
    }
    let (last, rest) = body.split_last()?;
    let Stmt::Assign { var: v, value: Expr::Binary(BinOp::Add, a, x) } = last else { return None };
    if *v != acc || **a != Expr::Var(acc) || x.reads(acc) || rest.iter().any(|s| s.exprs().any(|e| e.reads(acc))) {
        return None;
    }
    // `lo` is `max(start, 0)`, `hi` `min(end, extent)`: a `for .. from .. to ..` clamps to
    // its extent itself, so the flat loop runs from the nest's own `start` to `end`.
    let unclamped = |e: &Expr, op: BinOp, bound: &Expr| match e {
        Expr::Binary(o, x, b) if *o == op && **b == *bound => (**x).clone(),
        e => e.clone(),
    };
    let start = unclamped(lo, BinOp::Max, &Expr::i64(0));
    let end = unclamped(hi, BinOp::Min, &Expr::Dim(*extent));
    Some(Stmt::ForRange { var: *var, extent: *extent, start, end, body: body.clone() })
}

/// The flat loop of `flatten_blocked_sum` with its fold into `part` made a fold into `acc`.
fn rename_acc(flat: Stmt, part: Var, acc: Var) -> Stmt {
    let Stmt::ForRange { var, extent, start, end, mut body } = flat else { return flat };
    if let Some(Stmt::Assign { var: v, value }) = body.last_mut() {
        if *v == part {
            *v = acc;
            value.map_vars(&|x| if x == part { acc } else { x });
        }
    }
    Stmt::ForRange { var, extent, start, end, body }
}
