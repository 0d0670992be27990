//! Part of `loop_simplify`: reduction updates that follow an `if` move into its `then` branch
//! when the `else` branch sets their input to a value that makes them no-ops.
//!
//! A masked distance, `if mask[b, j] { .. } else { inf }`, followed by an argmin over `j`
//! lowers to
//!
//! ```text
//! mut v = 0.0
//! if load mask[b, j] { ..; v = e } else { v = inf }
//! let t: bool = or(ge(v, m), ne(m, m))
//! m = select(t, m, v)
//! a = select(t, a, j)
//! s = min(s, v)
//! ```
//!
//! With `v = inf` the condition `t` is true whatever `m` holds (`inf >= m`, or `m` is NaN), so
//! the selects keep `m` and `a`; `min(s, inf)` is `s` (NaN included: `min` propagates NaN).
//! Moved into the `then` branch, the updates cost nothing for a masked-out `j`, where before
//! every `j` paid for them: ~20 vector instructions per 4 rows, a seventh of a computed
//! 32-feature distance. The `else` branch becomes dead (only the moved statements read `v`)
//! and is dropped. Results are bit for bit the same.
//!
//! Only the forms above are recognized (argmin with `inf`, argmax with `-inf` and `le`, `min`
//! and `max`), and only when every statement after the `if` up to the end of its block is such
//! an update or a `let` without a `check` feeding one, and `v` is a `mut` of the same block.

use crate::loops::{Expr, Scalar, Stmt, Var};
use crate::BinOp;
use std::collections::HashMap;

/// Apply the rewrite everywhere in `body`, innermost blocks first.
pub(super) fn sink_updates(mut body: Vec<Stmt>) -> Vec<Stmt> {
    for s in &mut body {
        s.blocks_mut().for_each(|b| *b = sink_updates(std::mem::take(b)));
    }
    let Some(i) = (0..body.len()).rev().find(|&i| sinkable(&body, i)) else {
        return body;
    };
    let rest: Vec<Stmt> = body.drain(i + 1..).collect();
    if let Stmt::If { then, els, .. } = &mut body[i] {
        then.extend(rest);
        els.clear();
    }
    body
}

/// Whether the statements after `body[i]`, an `if` whose `else` only sets a `mut` of this
/// block to a constant, are all no-op updates for that constant.
fn sinkable(body: &[Stmt], i: usize) -> bool {
    let Stmt::If { els, .. } = &body[i] else { return false };
    let [Stmt::Assign { var: v, value: Expr::Const(k) }] = els.as_slice() else { return false };
    let k = match *k {
        Scalar::F32(k) => f64::from(k),
        Scalar::F64(k) => k,
        _ => return false,
    };
    let declared = body[..i].iter().any(|s| matches!(s, Stmt::Mut { var, .. } if var == v));
    let rest = &body[i + 1..];
    if !declared || rest.is_empty() || k.is_finite() {
        return false;
    }
    let mut lets: HashMap<Var, &Expr> = HashMap::new();
    for s in rest {
        match s {
            Stmt::Let { var, value, .. } if !value.has_check() => {
                lets.insert(*var, value);
            }
            Stmt::Assign { var, value } if no_op(*var, value, *v, k, &lets) => {}
            _ => return false,
        }
    }
    true
}

/// Whether `a = value` leaves `a` as it is when `v` holds `k` (infinite).
fn no_op(a: Var, value: &Expr, v: Var, k: f64, lets: &HashMap<Var, &Expr>) -> bool {
    let is = |e: &Expr, x: Var| matches!(e, Expr::Var(y) if *y == x);
    match value {
        Expr::Var(x) => *x == a,
        Expr::Select(c, keep, _) => is(keep, a) && always_true(c, v, k, lets),
        Expr::Binary(op @ (BinOp::Min | BinOp::Max), x, y) => {
            let absorbs = match op {
                BinOp::Min => k > 0.0,
                _ => k < 0.0,
            };
            absorbs && ((is(x, a) && is(y, v)) || (is(x, v) && is(y, a)))
        }
        _ => false,
    }
}

/// Whether `c` is true when `v` holds `k`, whatever the other variables hold: `or(ge(v, m),
/// ne(m, m))` for `k = inf`, `or(le(v, m), ne(m, m))` for `k = -inf` (either order).
fn always_true(c: &Expr, v: Var, k: f64, lets: &HashMap<Var, &Expr>) -> bool {
    let c = match c {
        Expr::Var(t) => match lets.get(t) {
            Some(e) => *e,
            None => return false,
        },
        c => c,
    };
    let Expr::Binary(BinOp::Or, p, q) = c else { return false };
    let beats = |e: &Expr, m: Var| {
        let want = if k > 0.0 { BinOp::Ge } else { BinOp::Le };
        matches!(e, Expr::Binary(op, x, y) if *op == want
            && matches!(**x, Expr::Var(x) if x == v) && matches!(**y, Expr::Var(y) if y == m))
    };
    let nan = |e: &Expr| match e {
        Expr::Binary(BinOp::Ne, x, y) => match (&**x, &**y) {
            (Expr::Var(x), Expr::Var(y)) if x == y => Some(*x),
            _ => None,
        },
        _ => None,
    };
    match (nan(p), nan(q)) {
        (_, Some(m)) if beats(p, m) => true,
        (Some(m), _) if beats(q, m) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::loop_simplify;
    use crate::loop_interp::run_loops;
    use crate::loops::parse_loop_program;
    use crate::Value;
    use ndarray::{ArrayD, IxDyn};

    /// A masked argmin and min over `j` per row, as the masked distance kernel lowers it.
    const MASKED: &str = "program masked
  sym n
  sym k
  in x: f32[n, k]
  in mask: bool[n, k]
  out out0: i64[n]
  out out1: f32[n]
  kernel masked_k0 (v1 < n) {
    mut v2: f32 = f32:inf
    mut v3: i64 = i64:0
    mut v4: f32 = f32:inf
    for v5 < k {
      mut v6: f32 = f32:0.0
      if load mask[v1, v5] {
        v6 = mul(load x[v1, v5], f32:2.0)
      } else {
        v6 = ELSE
      }
      let v7: bool = or(ge(v6, v2), ne(v2, v2))
      v2 = select(v7, v2, v6)
      v3 = select(v7, v3, v5)
      v4 = min(v4, v6)
    }
    store out0[v1] = v3
    store out1[v1] = v4
  }
";

    fn run(text: &str, x: &ArrayD<f64>, mask: &ArrayD<bool>) -> Vec<Value> {
        let lp = parse_loop_program(text).expect("parse");
        run_loops(&lp, &[Value::F32(x.mapv(|v| v as f32)), Value::Bool(mask.clone())]).expect("run")
    }

    #[test]
    fn argmin_and_min_updates_move_into_the_branch_and_keep_their_results() {
        let text = MASKED.replace("ELSE", "f32:inf");
        let lp = loop_simplify(parse_loop_program(&text).expect("parse"));
        let printed = lp.to_string();
        assert!(!printed.contains("else"), "the else branch is dead:\n{printed}");
        let branch = printed.find("if load mask").expect("the if stays");
        assert!(printed.find("v4 = min(v4, v6)").is_some_and(|at| at > branch), "{printed}");
        // Bit for bit on NaN, infinities, ties and rows with no centre allowed.
        let (n, k) = (7, 5);
        let x = ArrayD::from_shape_fn(IxDyn(&[n, k]), |ix| match (ix[0], ix[1]) {
            (1, 2) | (4, 0) => f64::NAN,
            (2, _) => 1.0,
            (3, 3) => f64::INFINITY,
            (5, 1) => f64::NEG_INFINITY,
            (i, j) => ((i * 3 + j * 7) % 5) as f64 - 2.0,
        });
        let mask = ArrayD::from_shape_fn(IxDyn(&[n, k]), |ix| ix[0] != 6 && (ix[0] + ix[1]) % 3 != 1);
        let before = run(&text, &x, &mask);
        let after = run_loops(&lp, &[Value::F32(x.mapv(|v| v as f32)), Value::Bool(mask.clone())]).expect("run");
        assert_eq!(format!("{before:?}"), format!("{after:?}"));
    }

    #[test]
    fn updates_stay_when_the_else_value_is_not_absorbed() {
        for (other, why) in [("f32:0.0", "a finite value"), ("f32:-inf", "-inf for an argmin")] {
            let text = MASKED.replace("ELSE", other);
            let printed = loop_simplify(parse_loop_program(&text).expect("parse")).to_string();
            assert!(printed.contains("else"), "{why}:\n{printed}");
        }
        // A store after the `if` is an effect: nothing moves.
        let text = MASKED
            .replace("ELSE", "f32:inf")
            .replace("      v4 = min(v4, v6)\n", "      v4 = min(v4, v6)\n      store out1[v1] = v6\n");
        let printed = loop_simplify(parse_loop_program(&text).expect("parse")).to_string();
        assert!(printed.contains("else"), "a store follows:\n{printed}");
    }
}
