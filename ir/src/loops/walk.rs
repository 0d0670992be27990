//! Generic traversal of the loop IR, in the style of rust-analyzer's `walk_child_exprs` and
//! egg's `children`: each of [`Expr`] and [`Stmt`] lists its direct children in one exhaustive
//! `match`, and every walk (free variables, loads, renaming, "does a `check` occur") is
//! written once on top of these helpers. Adding a variant means extending the matches here and
//! the code that gives the variant meaning (printer, parser, verifier, interpreter, backends);
//! no walk that only recurses has to change.
//!
//! Orders are fixed, and every consumer relies on them: an expression's children come in
//! printing order (`load`'s indices, a `select`'s condition then branches); a statement's own
//! expressions come before the statements nested in it (a `store`'s indices, then its value;
//! a ranged loop's `start`, `end`, then its body; an `if`'s condition, `then`, `else`). The
//! walks are pre-order, so they visit in exactly the order the statements run.

use super::{Expr, Stmt, Var};

// Each macro below is the one `match` of a helper pair (`children` and `children_mut`, ..):
// written once, expanded with and without `mut`, so a new variant is one new arm per macro.

/// The direct sub-expressions of `$e`: a slice (a load's indices) and up to three boxed
/// operands, in printing order.
macro_rules! expr_children {
    ($e:expr $(, $m:ident)?) => {{
        let children: (&$($m)? [Expr], [Option<&$($m)? Expr>; 3]) = match $e {
            Expr::Var(_) | Expr::Const(_) | Expr::Dim(_) => (&$($m)? [], [None, None, None]),
            Expr::Load { idx, .. } => (idx, [None, None, None]),
            Expr::Check(a, _) | Expr::Unary(_, a) | Expr::Cast(_, a) | Expr::Bitcast(_, a) => (&$($m)? [], [Some(a), None, None]),
            Expr::Binary(_, a, b) => (&$($m)? [], [Some(a), Some(b), None]),
            Expr::Select(c, a, b) | Expr::MulAdd(c, a, b) => (&$($m)? [], [Some(c), Some(a), Some(b)]),
        };
        children
    }};
}

/// The expressions of statement `$s` itself: a slice (a store's indices) and up to two more,
/// in evaluation order.
macro_rules! stmt_exprs {
    ($s:expr $(, $m:ident)?) => {{
        let exprs: (&$($m)? [Expr], [Option<&$($m)? Expr>; 2]) = match $s {
            Stmt::Let { value, .. } | Stmt::Mut { init: value, .. } | Stmt::Assign { value, .. } => {
                (&$($m)? [], [Some(value), None])
            }
            Stmt::Store { idx, value, .. } => (idx, [Some(value), None]),
            Stmt::ForRange { start, end, .. } => (&$($m)? [], [Some(start), Some(end)]),
            Stmt::If { cond, .. } => (&$($m)? [], [Some(cond), None]),
            Stmt::For { .. } | Stmt::Flag(_) => (&$($m)? [], [None, None]),
        };
        exprs
    }};
}

/// The statement blocks nested directly in statement `$s`.
macro_rules! stmt_blocks {
    ($s:expr) => {
        match $s {
            Stmt::For { body, .. } | Stmt::ForRange { body, .. } => [Some(body), None],
            Stmt::If { then, els, .. } => [Some(then), Some(els)],
            Stmt::Let { .. } | Stmt::Mut { .. } | Stmt::Assign { .. } | Stmt::Store { .. } | Stmt::Flag(_) => {
                [None, None]
            }
        }
    };
}

/// The variable statement `$s` defines or assigns.
macro_rules! stmt_var {
    ($s:expr) => {
        match $s {
            Stmt::Let { var, .. }
            | Stmt::Mut { var, .. }
            | Stmt::Assign { var, .. }
            | Stmt::For { var, .. }
            | Stmt::ForRange { var, .. } => Some(var),
            Stmt::Store { .. } | Stmt::If { .. } | Stmt::Flag(_) => None,
        }
    };
}

impl Expr {
    /// The direct sub-expressions of this expression, in printing order.
    pub fn children(&self) -> impl Iterator<Item = &Expr> {
        let (many, few) = expr_children!(self);
        many.iter().chain(few.into_iter().flatten())
    }

    /// The direct sub-expressions of this expression, mutably, in printing order.
    pub fn children_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        let (many, few) = expr_children!(self, mut);
        many.iter_mut().chain(few.into_iter().flatten())
    }

    /// Call `f` on this expression and every expression inside it, each before its children.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        self.children().for_each(|c| c.walk(f));
    }

    /// Call `f` on this expression and every expression inside it, each before its children
    /// (so the children visited are those of the expression `f` left in place).
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        f(self);
        self.children_mut().for_each(|c| c.walk_mut(f));
    }

    /// Whether `f` holds for this expression or any expression inside it (pre-order; stops
    /// at the first that does).
    pub fn any(&self, f: &mut impl FnMut(&Expr) -> bool) -> bool {
        f(self) || self.children().any(|c| c.any(f))
    }
}

impl Stmt {
    /// The expressions of this statement itself, not of the statements nested in it, in
    /// evaluation order: a `store`'s indices then its value, a ranged loop's `start` and
    /// `end`, an `if`'s condition.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        let (many, few) = stmt_exprs!(self);
        many.iter().chain(few.into_iter().flatten())
    }

    /// [`Stmt::exprs`], mutably.
    pub fn exprs_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        let (many, few) = stmt_exprs!(self, mut);
        many.iter_mut().chain(few.into_iter().flatten())
    }

    /// The statement blocks nested directly in this statement: a loop's body, an `if`'s
    /// `then` and `else` (in that order).
    pub fn blocks(&self) -> impl Iterator<Item = &Vec<Stmt>> {
        stmt_blocks!(self).into_iter().flatten()
    }

    /// [`Stmt::blocks`], mutably.
    pub fn blocks_mut(&mut self) -> impl Iterator<Item = &mut Vec<Stmt>> {
        stmt_blocks!(self).into_iter().flatten()
    }

    /// The variable this statement names: the one it defines (`let`, `mut`, a loop's
    /// variable) or assigns.
    pub fn var(&self) -> Option<Var> {
        stmt_var!(self).copied()
    }

    /// [`Stmt::var`], mutably.
    pub fn var_mut(&mut self) -> Option<&mut Var> {
        stmt_var!(self)
    }

    /// The variable this statement defines (`let`, `mut`, a loop's variable); an assignment
    /// defines none.
    pub fn defined_var(&self) -> Option<Var> {
        match self {
            Stmt::Assign { .. } => None,
            s => s.var(),
        }
    }

    /// Call `f` on this statement and every statement nested in it, each before the
    /// statements nested in it (the order they run in).
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Stmt)) {
        f(self);
        self.blocks().flatten().for_each(|s| s.walk(f));
    }

    /// [`Stmt::walk`], mutably: the statements visited inside one are those `f` left there.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Stmt)) {
        f(self);
        self.blocks_mut().flatten().for_each(|s| s.walk_mut(f));
    }

    /// Call `f` on every expression of this statement and of every statement nested in it,
    /// sub-expressions included, in evaluation order (see the module documentation).
    pub fn walk_exprs<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        self.walk(&mut |s| s.exprs().for_each(|e| e.walk(f)));
    }

    /// [`Stmt::walk_exprs`], mutably.
    pub fn walk_exprs_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        self.walk_mut(&mut |s| s.exprs_mut().for_each(|e| e.walk_mut(f)));
    }

    /// Whether `f` holds for this statement or any statement nested in it (pre-order; stops
    /// at the first that does).
    pub fn any(&self, f: &mut impl FnMut(&Stmt) -> bool) -> bool {
        f(self) || self.blocks().flatten().any(|s| s.any(f))
    }
}

#[cfg(test)]
mod tests {
    use crate::loops::{buffer_accesses, parse_loop_program, BufId, Expr, LoopProgram, Stmt, Var};

    /// One kernel with every statement form: a ranged loop whose bounds read `v0`, a `for`, an
    /// `if` with both branches, a gather behind a `check`, stores and a flag.
    const TEXT: &str = "program walks
  sym n
  in x: f32[n]
  in i: i64[n]
  out out0: f32[n]
  out out1: f32[4]
  kernel walks_k0 (v0 < n) {
    mut v1: f32 = f32:0.0
    for v2 < n from v0 to add(v0, i64:1) {
      let v3: i64 = check(load i[v2], n)
      v1 = add(v1, load x[v3])
    }
    for v4 < 4 {
      if lt(v1, load x[v0]) {
        store out1[v4] = select(gt(v1, f32:0.0), v1, load x[v4])
      } else {
        flag empty_arg_reduce
      }
    }
    store out0[v0] = v1
  }
";

    fn program() -> LoopProgram {
        parse_loop_program(TEXT).expect("parse")
    }

    /// The variables of every expression in `body`, in the order `walk_exprs` visits them.
    fn vars_read(body: &[Stmt]) -> Vec<u32> {
        let mut out = vec![];
        for s in body {
            s.walk_exprs(&mut |e| {
                if let Expr::Var(v) = e {
                    out.push(v.0)
                }
            });
        }
        out
    }

    #[test]
    fn children_come_in_printing_order() {
        let lp = program();
        let Stmt::For { body, .. } = &lp.kernels[0].body[2] else { panic!("a for") };
        let Stmt::If { then, .. } = &body[0] else { panic!("an if") };
        let Stmt::Store { value, .. } = &then[0] else { panic!("a store") };
        let kinds: Vec<&str> = value
            .children()
            .map(|c| match c {
                Expr::Binary(..) => "binary",
                Expr::Var(_) => "var",
                Expr::Load { .. } => "load",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["binary", "var", "load"]);
        assert_eq!(Expr::i64(3).children().count(), 0);
    }

    #[test]
    fn walk_exprs_visits_in_evaluation_order() {
        let lp = program();
        // Bounds before the body, an `if`'s condition before its branches, indices before a
        // stored value.
        assert_eq!(vars_read(&lp.kernels[0].body), [0, 0, 2, 1, 3, 1, 0, 4, 1, 1, 4, 0, 1]);
        let mut stmts = 0;
        lp.kernels[0].body.iter().for_each(|s| s.walk(&mut |_| stmts += 1));
        assert_eq!(stmts, 9);
    }

    #[test]
    fn any_stops_at_the_first_match() {
        let lp = program();
        let Stmt::ForRange { body, .. } = &lp.kernels[0].body[1] else { panic!("a ranged loop") };
        let mut seen = 0;
        let Stmt::Let { value, .. } = &body[0] else { panic!("a let") };
        assert!(value.any(&mut |e| {
            seen += 1;
            matches!(e, Expr::Check(..))
        }));
        assert_eq!(seen, 1);
        assert!(value.has_check() && !lp.kernels[0].body[3].any(&mut |s| s.exprs().any(Expr::has_check)));
        assert!(lp.kernels[0].body[1].any(&mut |s| s.exprs().any(Expr::has_check)));
        let Stmt::Store { value: stored, .. } = &lp.kernels[0].body[3] else { panic!("a store") };
        assert!(value.loads_or_checks() && !stored.loads_or_checks());
        assert!(lp.kernels[0].body[2].any(&mut |s| s.exprs().any(Expr::loads_or_checks)));
    }

    #[test]
    fn renaming_reaches_definitions_uses_and_nested_blocks() {
        let mut lp = program();
        for s in &mut lp.kernels[0].body {
            s.map_vars(&|v| Var(v.0 + 10));
        }
        assert_eq!(vars_read(&lp.kernels[0].body), [10, 10, 12, 11, 13, 11, 10, 14, 11, 11, 14, 10, 11]);
        let mut defined = vec![];
        lp.kernels[0].body.iter().for_each(|s| s.walk(&mut |s| defined.extend(s.defined_var())));
        assert_eq!(defined, [Var(11), Var(12), Var(13), Var(14)]);
        assert_eq!(lp.next_var(), 15);
    }

    #[test]
    fn walk_exprs_mut_reaches_every_expression() {
        let mut lp = program();
        let constants = |lp: &LoopProgram| {
            let mut out = vec![];
            lp.kernels[0].body.iter().for_each(|s| {
                s.walk_exprs(&mut |e| {
                    if let Expr::Const(c) = e {
                        out.push(c.to_string())
                    }
                })
            });
            out
        };
        assert_eq!(constants(&lp), ["f32:0.0", "i64:1", "f32:0.0"]);
        for s in &mut lp.kernels[0].body {
            s.walk_exprs_mut(&mut |e| {
                if let Expr::Const(_) = e {
                    *e = Expr::i64(7)
                }
            });
        }
        assert_eq!(constants(&lp), ["i64:7", "i64:7", "i64:7"]);
    }

    #[test]
    fn buffer_accesses_keep_statement_order() {
        let lp = program();
        let (mut reads, mut writes) = (vec![], vec![]);
        buffer_accesses(&lp.kernels[0].body, &mut reads, &mut writes);
        let (x, i, out0, out1) = (BufId(0), BufId(1), BufId(2), BufId(3));
        assert_eq!(reads, [i, x, x, x]);
        assert_eq!(writes, [out1, out0]);
        let mut every = vec![];
        lp.kernels[0].body.iter().for_each(|s| s.for_each_buffer(true, &mut |b| every.push(b)));
        assert_eq!(every, [i, x, x, out1, x, out0]);
    }
}
