//! Scan kernels (hint `scan`, [`Mapping::Scan`]): the two kernels of the blocked scan order
//! (`kiln_ir::passes::build_loops` `scan.rs`: the chunk totals, then each chunk's prefixes
//! from the carry of the totals before it) as block scans when the scanned axis is long.
//!
//! Each kernel's text holds two mappings and takes one by a test every thread computes alike
//! (the launcher sizes the grid by the same test, [`crate::emit::LaunchShape::block_scan`]):
//!
//! * **block scan** (the axis at least [`SCAN_BLOCK_MIN_AXIS`] long, fewer than
//!   [`SCAN_BLOCK_MAX_POINTS`] points `(chunk, lane)`): a block per point. The totals kernel
//!   is a block reduction of its chunk (threads stride over the chunk, then the shuffle tree
//!   of `kiln_block_reduce`). The prefix kernel's threads all fold the totals before their
//!   chunk into the carry (the loop IR's own loop, so every thread holds the same carry), then
//!   walk the chunk in tiles of [`crate::emit::BLOCK`] elements: thread `t` takes element
//!   `tile + t` (the identity past the chunk's end), `kiln_block_scan` gives its inclusive
//!   prefix within the tile (a Hillis-Steele scan by `__shfl_up_sync` in each warp, then the
//!   same scan of the warp totals in warp 0, the warp's exclusive prefix folded in front), the
//!   stored value is `op(carry, prefix)`, and the carry takes the tile's total.
//! * **one thread per point** otherwise (grid-stride): the loop IR as it is, each chunk folded
//!   in order, bit for bit the interpreter's result.
//!
//! The block scan's order depends only on the extents and [`crate::emit::BLOCK`], never on the
//! grid. Integer scans and `min`/`max` scans are exact in any order, so they give the
//! interpreter's bits on both paths. Float `cumsum`/`cumprod` on the block path associate
//! differently from the interpreter's left-to-right chunk fold: each prefix is the same terms
//! rounded in another tree, within the bound of a reordered float sum.

use super::{block_reduction, constant, flat_kernel, len_expr, op_functor, op_identity, stmt_ok, Emitter, R};
use crate::emit::{c_type, Mapping, SCAN_BLOCK_MAX_POINTS, SCAN_BLOCK_MIN_AXIS};
use kiln_ir::loops::{Expr, Kernel, Stmt, Var};
use kiln_ir::{BinOp, DType};

/// The prefix kernel's body: `let ..; mut a = identity; for k .. { a = op(a, load totals[..]) };
/// for j < n from .. to .. { ..; a = op(a, x); store out[..] = a; .. }`, where the statements
/// before the fold neither read `a` nor store, and the stores after it store `a` at indices
/// that read no variable of the loop body.
struct Prefix {
    /// Index of the `mut` in the body.
    at: usize,
    acc: Var,
    ty: DType,
    op: BinOp,
    /// Index of the fold `a = op(a, x)` in the chunk loop's body.
    fold: usize,
}

fn prefix_shape(k: &Kernel) -> Option<Prefix> {
    let at = k.body.iter().position(|s| !matches!(s, Stmt::Let { .. }))?;
    let [Stmt::Mut { var: acc, ty, .. }, Stmt::ForRange { body: carry, .. }, Stmt::ForRange { body, .. }] =
        &k.body[at..]
    else {
        return None;
    };
    if matches!(ty, DType::Bool) {
        return None;
    }
    let [Stmt::Assign { var, value: Expr::Binary(carry_op, a, b) }] = carry.as_slice() else { return None };
    if var != acc || **a != Expr::Var(*acc) || b.reads(*acc) {
        return None;
    }
    let fold = body.iter().position(|s| matches!(s, Stmt::Assign { var, .. } if var == acc))?;
    let Some(Stmt::Assign { value: Expr::Binary(op, a, x), .. }) = body.get(fold) else { return None };
    if op != carry_op
        || **a != Expr::Var(*acc)
        || x.reads(*acc)
        || !matches!(op, BinOp::Add | BinOp::Mul | BinOp::Min | BinOp::Max)
    {
        return None;
    }
    let mut local = vec![];
    for s in &body[..fold] {
        if !stmt_ok(s, *acc) {
            return None;
        }
        s.walk(&mut |s| local.extend(s.defined_var()));
    }
    let stores = &body[fold + 1..];
    if stores.is_empty() {
        return None;
    }
    for s in stores {
        let Stmt::Store { idx, value, .. } = s else { return None };
        let reads_local = |e: &Expr| e.reads(*acc) || local.iter().any(|v| e.reads(*v));
        if *value != Expr::Var(*acc) || idx.iter().any(reads_local) {
            return None;
        }
    }
    Some(Prefix { at, acc: *acc, ty: *ty, op: *op, fold })
}

/// Which block form a scan kernel takes.
enum Form {
    /// The chunk totals: a block reduction (of `Kernel`, the blocked sum made one loop).
    Totals(Kernel, super::BlockReduce),
    /// The chunk prefixes: a block scan.
    Prefix(Prefix),
}

impl Emitter<'_> {
    /// Render the rest of scan kernel `k` (after its signature) as [`Mapping::Scan`]; `None`
    /// (nothing written) when its body has neither scan form, and it runs grid-stride.
    pub(super) fn scan(&mut self, k: &Kernel) -> R<Option<Mapping>> {
        let flat = flat_kernel(k).unwrap_or_else(|| k.clone());
        // The totals kernel: a reduction loop, then only the store of its total.
        let totals = block_reduction(&flat).filter(|r| {
            flat.body.get(r.at + 2..).is_some_and(|rest| rest.iter().all(|s| matches!(s, Stmt::Store { .. })))
        });
        let (form, ty, at) = if let Some(p) = prefix_shape(k) {
            let (ty, at) = (p.ty, p.at + 2);
            (Form::Prefix(p), ty, at)
        } else if let Some(r) = totals {
            let (ty, at) = (r.ty, r.at + 1);
            (Form::Totals(flat, r), ty, at)
        } else {
            return Ok(None);
        };
        let body = match &form {
            Form::Totals(kb, _) => &kb.body,
            Form::Prefix(_) => &k.body,
        };
        let Some(Stmt::ForRange { extent: axis, .. }) = body.get(at) else { return Ok(None) };
        let axis = *axis;
        self.line(1, &format!("__shared__ {} kiln_red[32];", c_type(ty)));
        let extents = self.extents(k);
        self.line(1, &format!("const long long kiln_len = {};", len_expr(extents)));
        let n = self.dim(axis);
        self.line(1, &format!("if (kiln_len < {SCAN_BLOCK_MAX_POINTS}ll && {n} >= {SCAN_BLOCK_MIN_AXIS}ll) {{"));
        self.line(2, "// A block per (chunk, lane).");
        self.line(2, "#pragma unroll 1");
        self.line(2, "for (long long kiln_i = blockIdx.x; kiln_i < kiln_len; kiln_i += gridDim.x) {");
        self.split_index("kiln_i", &k.domain, 6);
        match &form {
            Form::Totals(kb, r) => self.block_reduce(kb, r, 3)?,
            Form::Prefix(p) => self.block_scan(k, p, 3)?,
        }
        self.line(2, "}");
        self.line(1, "} else {");
        self.line(2, "// A thread per (chunk, lane).");
        self.line(2, "#pragma unroll 1");
        self.line(2, "for (long long kiln_i = (long long)blockIdx.x * blockDim.x + threadIdx.x; kiln_i < kiln_len;");
        self.line(4, "kiln_i += (long long)gridDim.x * blockDim.x) {");
        self.split_index("kiln_i", &k.domain, 6);
        self.stmts(&k.body, 3)?;
        self.line(2, "}");
        self.line(1, "}");
        self.out.push_str("}\n");
        Ok(Some(Mapping::Scan { axis }))
    }

    /// The block scan of one chunk at depth `d` (see the module documentation).
    fn block_scan(&mut self, k: &Kernel, p: &Prefix, d: usize) -> R<()> {
        // The `let`s, the carry and its fold over the totals: the same in every thread.
        self.stmts(&k.body[..p.at + 2], d)?;
        let Some(Stmt::ForRange { var, extent, start, end, body }) = k.body.get(p.at + 2) else {
            return self.unsupported("block scan");
        };
        let Some(Stmt::Assign { value: Expr::Binary(_, _, x), .. }) = body.get(p.fold) else {
            return self.unsupported("block scan");
        };
        let (ty, acc, id) = (c_type(p.ty), self.name(p.acc), constant(op_identity(p.op, p.ty)));
        self.vars.insert(*var, DType::I64);
        let (lo, hi, ext) = (self.expr(start)?, self.expr(end)?, self.dim(*extent));
        self.line(d, "{");
        self.line(d + 1, &format!("const long long {var}_lo = kiln_max({lo}, 0ll), {var}_hi = kiln_min({hi}, {ext});"));
        self.line(d + 1, "#pragma unroll 1");
        self.line(d + 1, &format!("for (long long kiln_t = {var}_lo; kiln_t < {var}_hi; kiln_t += blockDim.x) {{"));
        self.line(d + 2, &format!("const long long {var} = kiln_t + threadIdx.x;"));
        self.line(d + 2, &format!("{ty} kiln_x = {id};"));
        self.line(d + 2, &format!("if ({var} < {var}_hi) {{"));
        self.stmts(&body[..p.fold], d + 3)?;
        let x = self.expr(x)?;
        self.line(d + 3, &format!("kiln_x = {x};"));
        self.line(d + 2, "}");
        self.line(d + 2, &format!("{ty} kiln_total;"));
        let op = op_functor(p.op, p.ty);
        self.line(d + 2, &format!("kiln_x = kiln_block_scan(kiln_x, {id}, kiln_red, &kiln_total, {op}());"));
        self.line(d + 2, &format!("if ({var} < {var}_hi) {{"));
        let v = self.binary(p.op, p.ty, acc.clone(), "kiln_x".into())?;
        self.line(d + 3, &format!("const {ty} kiln_v = {v};"));
        // The stores store `a`: here, this element's prefix.
        let saved = self.names.insert(p.acc, "kiln_v".into());
        let stored = self.stmts(&body[p.fold + 1..], d + 3);
        match saved {
            Some(name) => self.names.insert(p.acc, name),
            None => self.names.remove(&p.acc),
        };
        stored?;
        self.line(d + 2, "}");
        let carry = self.binary(p.op, p.ty, acc.clone(), "kiln_total".into())?;
        self.line(d + 2, &format!("{acc} = {carry};"));
        self.line(d + 1, "}");
        self.line(d, "}");
        Ok(())
    }
}
