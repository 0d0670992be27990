//! The `loop_simplify` pass: moves reduction updates that are no-ops on an `if`'s `else` value
//! into its `then` branch ([`super::sink`]), hoists loop-invariant `let`s out of serial loops
//! and drops `let`s nobody reads. All keep results bit-for-bit: hoisted values are the same
//! values, and `let`s holding a `check` (which can raise a flag) are never moved or dropped.

use crate::loops::{Expr, LoopProgram, Stmt, Var};
use crate::{BinOp, Dim};
use std::collections::HashSet;
use std::time::Instant;

/// One transform of a kernel body.
type Transform = fn(Vec<Stmt>) -> Vec<Stmt>;

/// The transforms `loop_simplify` runs on every kernel, in order, by name.
const TRANSFORMS: [(&str, Transform); 3] =
    [("sink", super::sink::sink_updates), ("hoist", hoist), ("drop_unused", drop_all_unused)];

/// Simplify every kernel of `lp`, logging each transform as a pass of its own
/// (`loop_simplify.<name>`, "unchanged" when it did nothing).
pub fn loop_simplify(mut lp: LoopProgram) -> LoopProgram {
    for (name, transform) in TRANSFORMS {
        let start = Instant::now();
        let mut changed = false;
        for k in &mut lp.kernels {
            let before = k.body.clone();
            k.body = transform(std::mem::take(&mut k.body));
            changed |= k.body != before;
        }
        crate::lower::log_pass(&format!("loop_simplify.{name}"), &lp.name, changed, start);
    }
    lp
}

/// Drop the `let`s nobody reads until none is left (dropping one can leave another unread).
fn drop_all_unused(mut body: Vec<Stmt>) -> Vec<Stmt> {
    loop {
        let mut used = HashSet::new();
        uses(&body, &mut used);
        let before = count(&body);
        body = drop_unused(body, &used);
        if count(&body) == before {
            return body;
        }
    }
}

/// The number of statements in `body`, nested ones included.
fn count(body: &[Stmt]) -> usize {
    let mut n = 0;
    body.iter().for_each(|s| s.walk(&mut |_| n += 1));
    n
}

/// Every variable read anywhere in `body`.
fn uses(body: &[Stmt], used: &mut HashSet<Var>) {
    for s in body {
        s.walk_exprs(&mut |e| {
            if let Expr::Var(v) = e {
                used.insert(*v);
            }
        });
    }
}

fn has_check(e: &Expr) -> bool {
    matches!(e, Expr::Check(..))
}

fn drop_unused(body: Vec<Stmt>, used: &HashSet<Var>) -> Vec<Stmt> {
    body.into_iter()
        .filter_map(|mut s| match s {
            Stmt::Let { var, ref value, .. } if !used.contains(&var) && !has_check(value) => None,
            _ => {
                s.blocks_mut().for_each(|b| *b = drop_unused(std::mem::take(b), used));
                Some(s)
            }
        })
        .collect()
}

/// Variables defined or assigned anywhere in `body` (including loop variables).
fn defined(body: &[Stmt], out: &mut HashSet<Var>) {
    body.iter().for_each(|s| s.walk(&mut |s| out.extend(s.var())));
}

/// Move invariant `let`s at the top level of each loop body in front of the loop, innermost
/// loops first so values can climb several levels.
fn hoist(body: Vec<Stmt>) -> Vec<Stmt> {
    let mut out = vec![];
    for s in body {
        match s {
            Stmt::For { var, extent, body } => {
                let mut guarded = vec![];
                let body = hoist_from(var, body, &mut out, Some(&mut guarded));
                let mut lp = vec![Stmt::For { var, extent, body }];
                if guarded.is_empty() {
                    out.append(&mut lp);
                } else {
                    guarded.append(&mut lp);
                    // Checks run only if the loop runs at least once, as before.
                    match extent {
                        Dim::Const(c) if c > 0 => out.append(&mut guarded),
                        _ => out.push(Stmt::If {
                            cond: Expr::binary(BinOp::Lt, Expr::i64(0), Expr::Dim(extent)),
                            then: guarded,
                            els: vec![],
                        }),
                    }
                }
            }
            Stmt::ForRange { var, extent, start, end, body } => {
                let body = hoist_from(var, body, &mut out, None);
                out.push(Stmt::ForRange { var, extent, start, end, body });
            }
            Stmt::If { cond, then, els } => out.push(Stmt::If { cond, then: hoist(then), els: hoist(els) }),
            s => out.push(s),
        }
    }
    out
}

/// Hoist inside the body of a loop over `var`, push its invariant `let`s to `out`, and return
/// the statements that stay in the loop.
///
/// With `guarded`, an invariant `let` holding a `check` (a gather's index, `c[labels[i], l]`
/// inside a loop over `l`) moves too, into `guarded`, with every invariant `let` after it: the
/// caller runs them only when the loop runs at least once, where the loop's first iteration
/// would have raised the same flag. The loop body is then free of checks (and vectorizable).
/// Statements stay in order, and a check's flag is raised exactly when it was before.
fn hoist_from(var: Var, body: Vec<Stmt>, out: &mut Vec<Stmt>, mut guarded: Option<&mut Vec<Stmt>>) -> Vec<Stmt> {
    let body = hoist(body);
    let mut varying = HashSet::new();
    defined(&body, &mut varying);
    varying.insert(var);
    let mut kept = vec![];
    // Only lets ahead of every statement that stays: a check must not move ahead of a
    // statement it followed (the loop body has no other effects than checks and stores).
    let mut prefix = true;
    for st in body {
        let invariant = match &st {
            Stmt::Let { value, var: v, .. } if prefix && (!has_check(value) || guarded.is_some()) => {
                let mut ok = true;
                value.for_each_var(&mut |u| ok &= !varying.contains(&u));
                if ok {
                    varying.remove(v);
                }
                ok
            }
            Stmt::Let { value, var: v, .. } if !has_check(value) => {
                let mut ok = true;
                value.for_each_var(&mut |u| ok &= !varying.contains(&u));
                if ok {
                    varying.remove(v);
                }
                ok
            }
            _ => false,
        };
        let check = matches!(&st, Stmt::Let { value, .. } if has_check(value));
        match (invariant, guarded.as_deref_mut()) {
            (true, Some(g)) if check || !g.is_empty() => g.push(st),
            (true, _) => out.push(st),
            (false, _) => {
                prefix &= !matches!(st, Stmt::Let { .. });
                kept.push(st)
            }
        }
    }
    kept
}
