//! The `fuse` pass: kernels over the same domain become one kernel, in two steps.
//!
//! First, [`merge_kernels`]: each kernel joins the one before it when their domains have the
//! same extents and it reads nothing that one writes (`build_loops` builds one kernel per
//! materialized node; element-wise outputs of one shape become one kernel). The kernels are
//! then numbered in order (`{program}_k{i}`). A `gemm` kernel joins nothing and nothing joins
//! it: it stays the one library call its hint promises.
//!
//! Second, kernels that scan the same range become one pass over it.
//!
//! The schedule lowers each reduction on its own, so a program with several reductions over
//! the same rows (KMeans' per-cluster sums and counts: two scatters over the points, each
//! loading every label) gets one kernel per reduction, each walking the rows. When two
//! kernels have the same domain, each is one loop over the same range (after a prefix that
//! initializes its partials), and neither reads or writes what the other writes, this pass
//! makes them one kernel with one loop whose body does both iterations' work, in order:
//!
//! * a kernel moves up to fuse with an earlier one only past kernels it does not depend on
//!   and that do not touch what it writes (the combine kernels between two scatters);
//! * the fused loop body loads each value once: a `let` whose value equals an earlier one in
//!   the same body (and loads nothing the kernel stores) becomes that one, and two adjacent
//!   `if`s on the same condition become one `if`.
//!
//! Every point of the fused kernel runs exactly the statements both kernels ran for it, and
//! each buffer is written by the same statements in the same order as before (the two
//! kernels never write the same buffer), so every value, rounding and flag is unchanged.

use crate::loops::{BufId, Expr, Kernel, LoopProgram, Stmt, Var};
use std::collections::{HashMap, HashSet};

/// Fuse the kernels of `lp` that scan the same range (see the module documentation).
pub fn fuse(mut lp: LoopProgram) -> LoopProgram {
    let mut merged = merge_kernels(std::mem::take(&mut lp.kernels));
    for (k, kernel) in merged.iter_mut().enumerate() {
        kernel.name = format!("{}_k{k}", lp.name);
    }
    let mut out: Vec<Kernel> = vec![];
    for k in merged {
        let reads = reads(&k.body);
        let writes = writes(&k.body);
        // The latest earlier kernel `k` can join, moving up past the kernels after it: each of
        // those (and the one it joins) neither writes what `k` reads or writes nor reads what
        // `k` writes.
        let mut target = None;
        for (i, prev) in out.iter().enumerate().rev() {
            let (pr, pw) = (self::reads(&prev.body), self::writes(&prev.body));
            if !(pw.is_disjoint(&reads) && pw.is_disjoint(&writes) && pr.is_disjoint(&writes)) {
                break;
            }
            if fusable(prev, &k) {
                target = Some(i);
                break;
            }
        }
        match target {
            Some(i) => {
                let prev = out.remove(i);
                out.insert(i, merge(prev, k));
            }
            None => out.push(k),
        }
    }
    lp.kernels = out;
    lp
}

/// Merge each kernel into the previous one when their domains have the same extents and it
/// reads no buffer the previous one writes.
fn merge_kernels(kernels: Vec<Kernel>) -> Vec<Kernel> {
    let mut out: Vec<Kernel> = vec![];
    for mut k in kernels {
        if let Some(prev) = out.last_mut() {
            let same =
                prev.domain.len() == k.domain.len() && prev.domain.iter().zip(&k.domain).all(|(a, b)| a.1 == b.1);
            let (mut pr, mut pw, mut kr, mut kw) = (vec![], vec![], vec![], vec![]);
            crate::loops::buffer_accesses(&prev.body, &mut pr, &mut pw);
            crate::loops::buffer_accesses(&k.body, &mut kr, &mut kw);
            let gemm = prev.hint.is_gemm() || k.hint.is_gemm();
            if same && !gemm && !kr.iter().any(|b| pw.contains(b)) {
                let map: HashMap<Var, Var> = k.domain.iter().zip(&prev.domain).map(|(a, b)| (a.0, b.0)).collect();
                let f = |v: Var| map.get(&v).copied().unwrap_or(v);
                for st in &mut k.body {
                    st.map_vars(&f);
                }
                prev.body.extend(k.body);
                prev.hint = prev.hint.merge(k.hint);
                continue;
            }
        }
        out.push(k);
    }
    out
}

/// Every buffer a body loads from (loop bounds and store indices included).
fn reads(body: &[Stmt]) -> HashSet<BufId> {
    let mut out = HashSet::new();
    body.iter().for_each(|s| {
        s.for_each_buffer(false, &mut |b| {
            out.insert(b);
        })
    });
    out
}

/// Every buffer a body stores to.
fn writes(body: &[Stmt]) -> HashSet<BufId> {
    let mut out = HashSet::new();
    body.iter().for_each(|s| {
        s.walk(&mut |s| {
            if let Stmt::Store { buf, .. } = s {
                out.insert(*buf);
            }
        })
    });
    out
}

/// The index of a body's one top-level loop that computes (has statements other than stores
/// and loops), when every other top-level statement is a store or a loop of stores (the
/// initialization of partial results): no `let`s or `mut`s outside the loop, which the other
/// kernel's statements would have to be placed around.
fn scan(body: &[Stmt]) -> Option<usize> {
    let mut found = None;
    for (i, s) in body.iter().enumerate() {
        match s {
            Stmt::ForRange { body: inner, .. } | Stmt::For { body: inner, .. }
                if inner.iter().any(|s| !matches!(s, Stmt::Store { .. } | Stmt::For { .. })) =>
            {
                if found.is_some() {
                    return None;
                }
                found = Some(i);
            }
            Stmt::For { .. } | Stmt::Store { .. } => {}
            _ => return None,
        }
    }
    found
}

/// Whether `b` can join `a`: the same domain, each a scan over the same range.
fn fusable(a: &Kernel, b: &Kernel) -> bool {
    let gemm = a.hint.is_gemm() || b.hint.is_gemm();
    if gemm || a.domain.is_empty() || a.domain.len() != b.domain.len() {
        return false;
    }
    if a.domain.iter().zip(&b.domain).any(|((_, x), (_, y))| x != y) {
        return false;
    }
    let (Some(ia), Some(ib)) = (scan(&a.body), scan(&b.body)) else { return false };
    let rename = renaming(a, b);
    let renamed = |e: &Expr| {
        let mut e = e.clone();
        e.map_vars(&|v| rename.get(&v).copied().unwrap_or(v));
        e
    };
    match (&a.body[ia], &b.body[ib]) {
        (
            Stmt::ForRange { extent: e1, start: s1, end: t1, .. },
            Stmt::ForRange { extent: e2, start: s2, end: t2, .. },
        ) => e1 == e2 && *s1 == renamed(s2) && *t1 == renamed(t2),
        (Stmt::For { extent: e1, .. }, Stmt::For { extent: e2, .. }) => e1 == e2,
        _ => false,
    }
}

/// `b`'s domain variables as `a`'s.
fn renaming(a: &Kernel, b: &Kernel) -> HashMap<Var, Var> {
    b.domain.iter().zip(&a.domain).map(|((vb, _), (va, _))| (*vb, *va)).collect()
}

/// `b` joined into `a` ([`fusable`]): both prefixes, one loop doing both bodies, both suffixes.
fn merge(mut a: Kernel, b: Kernel) -> Kernel {
    let rename = renaming(&a, &b);
    let mut bb = b.body;
    bb.iter_mut().for_each(|s| s.map_vars(&|v| rename.get(&v).copied().unwrap_or(v)));
    let (ia, ib) = (scan(&a.body).expect("fusable"), scan(&bb).expect("fusable"));
    let a_suffix = a.body.split_off(ia + 1);
    let a_loop = a.body.pop().expect("scan");
    let b_suffix = bb.split_off(ib + 1);
    let b_loop = bb.pop().expect("scan");
    let mut body = a.body;
    body.append(&mut bb);
    let (var, b_var) = match (&a_loop, &b_loop) {
        (
            Stmt::ForRange { var, .. } | Stmt::For { var, .. },
            Stmt::ForRange { var: w, .. } | Stmt::For { var: w, .. },
        ) => (*var, *w),
        _ => unreachable!("scan returns loops"),
    };
    let mut inner = match b_loop {
        Stmt::ForRange { body, .. } | Stmt::For { body, .. } => body,
        _ => unreachable!("scan returns loops"),
    };
    inner.iter_mut().for_each(|s| s.map_vars(&|v| if v == b_var { var } else { v }));
    let merged = match a_loop {
        Stmt::ForRange { var, extent, start, end, body: mut first } => {
            first.append(&mut inner);
            Stmt::ForRange { var, extent, start, end, body: first }
        }
        Stmt::For { var, extent, body: mut first } => {
            first.append(&mut inner);
            Stmt::For { var, extent, body: first }
        }
        _ => unreachable!("scan returns loops"),
    };
    body.push(merged);
    let stored = writes(&body);
    let assigned = assigned(&body);
    if let Some(Stmt::ForRange { body: inner, .. } | Stmt::For { body: inner, .. }) = body.last_mut() {
        *inner = share(std::mem::take(inner), &stored, &assigned);
    }
    body.extend(a_suffix);
    body.extend(b_suffix);
    Kernel { name: a.name, domain: a.domain, hint: a.hint.merge(b.hint), body }
}

/// One statement list with each repeated value computed once: a `let` equal to an earlier
/// one of the same list (loading nothing in `stored`, reading no variable in `assigned`) is
/// replaced by it, and adjacent `if`s on the same condition (which their first branch does
/// not change) become one.
fn share(body: Vec<Stmt>, stored: &HashSet<BufId>, assigned: &HashSet<Var>) -> Vec<Stmt> {
    let mut subst: HashMap<Var, Var> = HashMap::new();
    let mut seen: Vec<(Expr, Var)> = vec![];
    let mut out: Vec<Stmt> = vec![];
    for mut s in body {
        s.map_vars(&|v| subst.get(&v).copied().unwrap_or(v));
        if let Stmt::Let { var, value, .. } = &s {
            let mut stable = true;
            value.for_each_load(&mut |b| stable &= !stored.contains(&b));
            value.for_each_var(&mut |v| stable &= !assigned.contains(&v));
            if stable {
                if let Some((_, first)) = seen.iter().find(|(e, _)| e == value) {
                    subst.insert(*var, *first);
                    continue;
                }
                seen.push((value.clone(), *var));
            }
        }
        if let (Some(Stmt::If { cond: c1, then: t1, els: e1 }), Stmt::If { cond: c2, then: t2, els: e2 }) =
            (out.last_mut(), &s)
        {
            if c1 == c2 && e1.is_empty() && e2.is_empty() && !changes(c1, stored, assigned) {
                t1.extend(t2.iter().cloned());
                let merged = share(std::mem::take(t1), stored, assigned);
                *t1 = merged;
                continue;
            }
        }
        out.push(s);
    }
    out
}

/// Whether a statement could change the value of `cond`: it reads a variable some statement
/// assigns, or loads a buffer the kernel stores to.
fn changes(cond: &Expr, stored: &HashSet<BufId>, assigned: &HashSet<Var>) -> bool {
    let mut changes = false;
    cond.for_each_var(&mut |v| changes |= assigned.contains(&v));
    cond.for_each_load(&mut |b| changes |= stored.contains(&b));
    changes
}

/// Every variable a body assigns (`v = ..` of a `mut`).
fn assigned(body: &[Stmt]) -> HashSet<Var> {
    let mut out = HashSet::new();
    body.iter().for_each(|s| {
        s.walk(&mut |s| {
            if let Stmt::Assign { var, .. } = s {
                out.insert(*var);
            }
        })
    });
    out
}
