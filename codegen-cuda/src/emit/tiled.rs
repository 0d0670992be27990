//! Tiled contractions ([`Mapping::Tiled`]): a kernel of the GEMM shape
//! `out[.., i, j] = g(reduce_l f(a[i, l], b[l, j]))` computes a 64 x 64 tile of outputs per
//! block, staging 16-wide slices of its operands through shared memory, so that each operand
//! element read from global memory serves 64 outputs instead of one.
//!
//! # Accepted kernels
//!
//! The domain's last two axes are the tile's rows `i` and columns `j`; any axes before them
//! are batch axes (one tile at a time per block). The body is
//! * a prefix of `let`s and `mut`s whose values load nothing and check nothing (the
//!   accumulators' initial values),
//! * one serial loop over `l` (`for`, or `for .. from .. to ..` whose bounds read only batch
//!   variables, so that every thread of a block runs the same iterations), whose body stores
//!   nothing,
//! * an epilogue of any statements (the stores).
//!
//! An *operand* is a load in the loop body whose indices are plain variables: `l` once, one of
//! `i` and `j` once, batch variables at the other positions (`a[i, l]`, `b[l, j]`, `c[j, l]`,
//! `x[b, i, l]`), each axis the extent of the variable indexing it. Both sides need one;
//! other loads stay global loads. A kernel that stores to an operand's buffer, or whose
//! staged operands would take more than [`SHARED_BUDGET`] bytes, keeps its old mapping.
//!
//! # Order of evaluation
//!
//! Each thread owns a 4 x 4 grid of outputs, rows `ty + 16 r` and columns `tx + 16 c`
//! (`tx, ty` the thread's place in a 16 x 16 square, so stores and shared reads are
//! contiguous across a warp), and runs the statements of each of its outputs on variables of
//! its own (`v2_13` is `v2` of the output in row 1, column 3). For every `l` in ascending
//! order it runs the loop body of each output once, exactly as the serial loop does; only the
//! operands' loads read the staged copies. So every output accumulates the same terms in the
//! same order as the loop IR says: results are bitwise those of the interpreter (on the
//! simulator; NVRTC contracts `a * b + c` into FMA as it does everywhere else).
//!
//! Outputs outside the domain (the partial tiles at the edges) run the pure prefix but not
//! the loop body nor the epilogue; their threads still stage operands and meet at barriers.

use super::body::{constant, Emitter};
use super::{c_type, EmitError, Mapping, BLOCK};
use kiln_ir::loops::{BufId, Expr, Kernel, LoopProgram, Scalar, Stmt, Var};
use kiln_ir::{DType, Dim};
use std::collections::HashMap;

type R<T> = Result<T, EmitError>;

/// Outputs per tile side.
pub(super) const TILE: u32 = 64;
/// Threads per tile side (16 x 16 = [`BLOCK`]).
const SIDE: usize = 16;
/// Outputs per thread per tile side.
const PER: usize = TILE as usize / SIDE;
/// Values of `l` staged at a time.
const TILE_K: usize = 16;
/// The most shared memory staged operands may take (of the 48 KiB a block gets without
/// opting in).
pub(super) const SHARED_BUDGET: usize = 40 * 1024;

const _: () = assert!(SIDE * SIDE == BLOCK as usize, "a tile's threads are one block");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Row,
    Col,
}

/// One staged operand: a load in the loop body, `buf[idx]`.
#[derive(Debug)]
struct Operand {
    buf: BufId,
    idx: Vec<Var>,
    side: Side,
    /// Where the row (or column) variable is in `idx`.
    side_pos: usize,
    /// Where `l` is in `idx`.
    l_pos: usize,
}

/// A kernel recognised as a tiled contraction.
pub(super) struct Contraction {
    /// Index of the loop in the kernel body.
    at: usize,
    operands: Vec<Operand>,
}

impl Contraction {
    pub(super) fn mapping(&self) -> Mapping {
        Mapping::Tiled { rows: TILE, cols: TILE }
    }
}

/// Whether `k` is a contraction this module tiles (see the module documentation).
pub(super) fn contraction(lp: &LoopProgram, k: &Kernel) -> Option<Contraction> {
    let n = k.domain.len();
    if n < 2 {
        return None;
    }
    let batch: Vec<Var> = k.domain[..n - 2].iter().map(|(v, _)| *v).collect();
    let at = k.body.iter().position(|s| !matches!(s, Stmt::Let { .. } | Stmt::Mut { .. }))?;
    for s in &k.body[..at] {
        let (Stmt::Let { value, .. } | Stmt::Mut { init: value, .. }) = s else { return None };
        // Without loads or checks, safe to evaluate for outputs outside the domain.
        if value.loads_or_checks() {
            return None;
        }
    }
    let (l, l_ext, body) = match &k.body[at] {
        Stmt::For { var, extent, body } => (*var, *extent, body),
        Stmt::ForRange { var, extent, start, end, body } => {
            let uniform = |e: &Expr| {
                let mut ok = !e.loads_or_checks();
                e.for_each_var(&mut |v| ok &= batch.contains(&v));
                ok
            };
            if !uniform(start) || !uniform(end) {
                return None;
            }
            (*var, *extent, body)
        }
        _ => return None,
    };
    let mut loads = vec![];
    if !collect_loads(body, &mut loads) {
        return None;
    }
    // Every variable an operand may be indexed by, with its extent.
    let mut axes: Vec<(Var, Dim)> = k.domain.clone();
    axes.push((l, l_ext));
    let mut operands: Vec<Operand> = vec![];
    for (buf, idx) in loads {
        if let Some(o) = operand(lp, &axes, buf, &idx) {
            if !operands.iter().any(|p| p.buf == o.buf && p.idx == o.idx) {
                operands.push(o);
            }
        }
    }
    if !operands.iter().any(|o| o.side == Side::Row) || !operands.iter().any(|o| o.side == Side::Col) {
        return None;
    }
    let bytes: usize = operands.iter().map(|o| tile_elems(o.side) * lp.buffers[o.buf.index()].dtype.size()).sum();
    if bytes > SHARED_BUDGET
        || k.body
            .iter()
            .any(|s| s.any(&mut |s| matches!(s, Stmt::Store { buf, .. } if operands.iter().any(|o| o.buf == *buf))))
    {
        return None;
    }
    Some(Contraction { at, operands })
}

/// The load `buf[idx]` as an operand, if it is one. `axes` are the batch, row, column and
/// `l` variables in this order, with their extents.
fn operand(lp: &LoopProgram, axes: &[(Var, Dim)], buf: BufId, idx: &[Expr]) -> Option<Operand> {
    let n = axes.len();
    let (row, col, l) = (axes[n - 3].0, axes[n - 2].0, axes[n - 1].0);
    let vars = idx.iter().map(|e| if let Expr::Var(v) = e { Some(*v) } else { None }).collect::<Option<Vec<_>>>()?;
    let count = |x: Var| vars.iter().filter(|v| **v == x).count();
    let (side, s) = match (count(row), count(col), count(l)) {
        (1, 0, 1) => (Side::Row, row),
        (0, 1, 1) => (Side::Col, col),
        _ => return None,
    };
    // Each axis has the extent of the variable indexing it, so the staged loads (every `i`
    // or `j` of the domain, every `l` of the loop) are accesses the verifier proved in bounds.
    let shape = &lp.buffers.get(buf.index())?.shape;
    let extent = |v: Var| axes.iter().find(|(a, _)| *a == v).map(|(_, d)| *d);
    let batch = &axes[..n - 3];
    let fits = vars
        .iter()
        .zip(shape)
        .all(|(v, d)| (*v == s || *v == l || batch.iter().any(|(b, _)| b == v)) && extent(*v) == Some(*d));
    if shape.len() != vars.len() || !fits {
        return None;
    }
    let pos = |x: Var| vars.iter().position(|v| *v == x);
    Some(Operand { buf, side, side_pos: pos(s)?, l_pos: pos(l)?, idx: vars })
}

/// Elements of one operand's shared tile (padded by one column against bank conflicts).
fn tile_elems(side: Side) -> usize {
    match side {
        Side::Row => TILE as usize * (TILE_K + 1),
        Side::Col => TILE_K * (TILE as usize + 1),
    }
}

/// Collect the loads of a loop body (a load before those in its indices); false when it stores.
fn collect_loads(body: &[Stmt], out: &mut Vec<(BufId, Vec<Expr>)>) -> bool {
    let mut stores = false;
    for s in body {
        s.walk(&mut |s| {
            stores |= matches!(s, Stmt::Store { .. });
            s.exprs().for_each(|e| {
                e.walk(&mut |e| {
                    if let Expr::Load { buf, idx } = e {
                        out.push((*buf, idx.clone()));
                    }
                })
            });
        });
    }
    !stores
}

/// Whether `e` reads `v` other than in the indices of operands (which read shared memory).
fn reads_besides_operands(e: &Expr, v: Var, operands: &[Operand]) -> bool {
    let staged = |buf: &BufId, idx: &[Expr]| {
        operands.iter().any(|o| {
            o.buf == *buf && o.idx.len() == idx.len() && o.idx.iter().zip(idx).all(|(a, b)| *b == Expr::Var(*a))
        })
    };
    match e {
        Expr::Var(x) => *x == v,
        Expr::Load { buf, idx } if staged(buf, idx) => false,
        e => e.children().any(|c| reads_besides_operands(c, v, operands)),
    }
}

fn renamed(stmts: &[Stmt], map: &HashMap<Var, Var>) -> Vec<Stmt> {
    let mut out = stmts.to_vec();
    out.iter_mut().for_each(|s| s.map_vars(&|v| map.get(&v).copied().unwrap_or(v)));
    out
}

/// The outputs one thread computes: its rows and columns (variables standing for the row
/// and column domain variables), and for each output `(r, c)` the renaming of the kernel's
/// own variables into that output's copies.
struct Outputs {
    rows: Vec<Var>,
    cols: Vec<Var>,
    copies: Vec<((usize, usize), HashMap<Var, Var>)>,
}

impl Emitter<'_> {
    /// The whole tiled kernel after its signature line (see the module documentation).
    pub(super) fn tiled(&mut self, k: &Kernel, c: &Contraction) -> R<()> {
        let Some(Stmt::For { var: l, body, .. } | Stmt::ForRange { var: l, body, .. }) = k.body.get(c.at) else {
            return self.unsupported("tiled contraction");
        };
        for (s, o) in c.operands.iter().enumerate() {
            let ty = c_type(self.lp.buffers[o.buf.index()].dtype);
            let (a, b) = if o.side == Side::Row { (TILE as usize, TILE_K + 1) } else { (TILE_K, TILE as usize + 1) };
            let what = self.access_text(o);
            self.line(1, &format!("__shared__ {ty} kiln_s{s}[{a}][{b}];  // {what}"));
        }
        self.tile_loop(k);
        let outs = self.outputs(k, *l);
        for (_, map) in &outs.copies {
            self.stmts(&renamed(&k.body[..c.at], map), 2)?;
        }
        self.slices(k, c, &outs, *l, body)?;
        for ((r, q), map) in &outs.copies {
            self.line(2, &format!("if (kiln_ok_r{r} && kiln_ok_c{q}) {{"));
            self.stmts(&renamed(&k.body[c.at + 1..], map), 3)?;
            self.line(2, "}");
        }
        self.line(1, "}");
        Ok(())
    }

    /// The extents, the tile count, and the head of the loop over this block's tiles:
    /// `kiln_r0`/`kiln_c0` (the tile's first row and column) and the batch variables.
    fn tile_loop(&mut self, k: &Kernel) {
        let n = self.extents(k);
        let tiles = (0..n - 2).fold("kiln_rows * kiln_cols".to_string(), |t, i| format!("kiln_e{i} * {t}"));
        let (er, ec, up) = (n - 2, n - 1, TILE - 1);
        self.line(
            1,
            &format!(
                "const long long kiln_rows = (kiln_e{er} + {up}) / {TILE}, kiln_cols = (kiln_e{ec} + {up}) / {TILE};"
            ),
        );
        self.line(1, &format!("const long long kiln_tiles = {tiles};"));
        self.line(1, &format!("const int kiln_tx = (int)threadIdx.x % {SIDE}, kiln_ty = (int)threadIdx.x / {SIDE};"));
        // Every thread of a block takes the same tiles and the same slices of `l`: the
        // barriers below are reached by all of them.
        self.line(1, "#pragma unroll 1");
        self.line(1, "for (long long kiln_t = blockIdx.x; kiln_t < kiln_tiles; kiln_t += gridDim.x) {");
        self.line(2, "long long kiln_r = kiln_t;");
        self.line(2, &format!("const long long kiln_c0 = kiln_r % kiln_cols * {TILE};"));
        self.line(2, "kiln_r /= kiln_cols;");
        self.line(2, &format!("const long long kiln_r0 = kiln_r % kiln_rows * {TILE};"));
        if n > 2 {
            self.line(2, "kiln_r /= kiln_rows;");
        }
        for (i, (v, _)) in k.domain[..n - 2].iter().enumerate().rev() {
            if i == 0 {
                self.line(2, &format!("const long long {v} = kiln_r;"));
            } else {
                self.line(2, &format!("const long long {v} = kiln_r % kiln_e{i};"));
                self.line(2, &format!("kiln_r /= kiln_e{i};"));
            }
        }
    }

    /// Define this thread's rows and columns and whether each is inside the domain
    /// (`kiln_ok_r{r}`, `kiln_ok_c{c}`); rename the body's variables per output.
    fn outputs(&mut self, k: &Kernel, l: Var) -> Outputs {
        let n = k.domain.len();
        let (row, col) = (k.domain[n - 2].0, k.domain[n - 1].0);
        let (mut rows, mut cols) = (vec![], vec![]);
        for q in 0..PER {
            let (rv, cv) = (self.fresh(format!("{row}_{q}")), self.fresh(format!("{col}_{q}")));
            self.vars.insert(rv, DType::I64);
            self.vars.insert(cv, DType::I64);
            let (rn, cn) = (self.name(rv), self.name(cv));
            let off = if q == 0 { String::new() } else { format!(" + {}", SIDE * q) };
            self.line(2, &format!("const long long {rn} = kiln_r0 + kiln_ty{off}, {cn} = kiln_c0 + kiln_tx{off};"));
            self.line(
                2,
                &format!("const bool kiln_ok_r{q} = {rn} < kiln_e{}, kiln_ok_c{q} = {cn} < kiln_e{};", n - 2, n - 1),
            );
            rows.push(rv);
            cols.push(cv);
        }
        let mut defs = vec![];
        k.body.iter().for_each(|s| s.walk(&mut |s| defs.extend(s.defined_var())));
        let mut copies = vec![];
        for (r, rv) in rows.iter().enumerate() {
            for (q, cv) in cols.iter().enumerate() {
                let mut map = HashMap::from([(row, *rv), (col, *cv)]);
                for v in defs.iter().filter(|v| **v != l) {
                    map.insert(*v, self.fresh(format!("{v}_{r}{q}")));
                }
                copies.push(((r, q), map));
            }
        }
        Outputs { rows, cols, copies }
    }

    /// The loop over `l`, [`TILE_K`] values at a time: stage the operands' slices, then run
    /// the loop body of every output for each `l` of the slice, in ascending order.
    fn slices(&mut self, k: &Kernel, c: &Contraction, outs: &Outputs, l: Var, body: &[Stmt]) -> R<()> {
        let (lo, hi) = match &k.body[c.at] {
            Stmt::ForRange { extent, start, end, .. } => {
                let (s, e, x) = (self.expr(start)?, self.expr(end)?, self.dim(*extent));
                (format!("kiln_max({s}, 0ll)"), format!("kiln_min({e}, {x})"))
            }
            Stmt::For { extent, .. } => ("0ll".to_string(), self.dim(*extent)),
            _ => return self.unsupported("tiled contraction"),
        };
        self.line(2, &format!("const long long kiln_lo = {lo}, kiln_hi = {hi};"));
        self.line(2, &format!("for (long long kiln_k0 = kiln_lo; kiln_k0 < kiln_hi; kiln_k0 += {TILE_K}) {{"));
        self.line(3, &format!("const int kiln_kn = (int)kiln_min(kiln_hi - kiln_k0, {TILE_K}ll);"));
        let n = k.domain.len();
        for (s, o) in c.operands.iter().enumerate() {
            self.stage(s, o, n)?;
        }
        self.line(3, "__syncthreads();");
        self.line(3, "for (int kiln_kk = 0; kiln_kk < kiln_kn; ++kiln_kk) {");
        self.vars.insert(l, DType::I64);
        if body.iter().any(|s| s.any(&mut |s| s.exprs().any(|e| reads_besides_operands(e, l, &c.operands)))) {
            let ln = self.name(l);
            self.line(4, &format!("const long long {ln} = kiln_k0 + kiln_kk;"));
        }
        for (s, o) in c.operands.iter().enumerate() {
            let ty = c_type(self.lp.buffers[o.buf.index()].dtype);
            let vals: Vec<String> = (0..PER)
                .map(|q| match o.side {
                    Side::Row => format!("kiln_s{s}_{q} = kiln_s{s}[kiln_ty + {}][kiln_kk]", SIDE * q),
                    Side::Col => format!("kiln_s{s}_{q} = kiln_s{s}[kiln_kk][kiln_tx + {}]", SIDE * q),
                })
                .collect();
            self.line(4, &format!("const {ty} {};", vals.join(", ")));
        }
        let (row, col) = (k.domain[n - 2].0, k.domain[n - 1].0);
        for ((r, q), map) in &outs.copies {
            // This output's operand loads read the values just taken from shared memory.
            self.loads = c
                .operands
                .iter()
                .enumerate()
                .map(|(s, o)| {
                    let (from, to, at) =
                        if o.side == Side::Row { (row, outs.rows[*r], r) } else { (col, outs.cols[*q], q) };
                    let idx = o.idx.iter().map(|v| Expr::Var(if *v == from { to } else { *v })).collect();
                    (o.buf, idx, format!("kiln_s{s}_{at}"))
                })
                .collect();
            self.line(4, &format!("if (kiln_ok_r{r} && kiln_ok_c{q}) {{"));
            self.stmts(&renamed(body, map), 5)?;
            self.line(4, "}");
        }
        self.loads.clear();
        self.line(3, "}");
        // No thread may stage the next slice while another still reads this one.
        self.line(3, "__syncthreads();");
        self.line(2, "}");
        Ok(())
    }

    /// The operand's access as the loop body writes it (for a comment).
    fn access_text(&self, o: &Operand) -> String {
        let buf = &self.lp.buffers[o.buf.index()].name;
        let idx: Vec<String> = o.idx.iter().map(|v| self.name(*v)).collect();
        format!("{buf}[{}]", idx.join(", "))
    }

    /// Copy the operand's slice for rows (or columns) `kiln_r0..+TILE` (`kiln_c0..`) and
    /// `l` in `kiln_k0..+kiln_kn` into `kiln_s{s}`; entries outside the domain get 0.
    fn stage(&mut self, s: usize, o: &Operand, n: usize) -> R<()> {
        let tile = TILE as usize;
        let (base, ext) = if o.side == Side::Row { ("kiln_r0", n - 2) } else { ("kiln_c0", n - 1) };
        let (g, l) = (self.fresh("kiln_g".into()), self.fresh("kiln_l".into()));
        self.vars.insert(g, DType::I64);
        self.vars.insert(l, DType::I64);
        let idx: Vec<Expr> = (0..o.idx.len())
            .map(|p| {
                Expr::Var(if p == o.side_pos {
                    g
                } else if p == o.l_pos {
                    l
                } else {
                    o.idx[p]
                })
            })
            .collect();
        let at = self.access(o.buf, &idx)?;
        let zero = constant(Scalar::zero(self.lp.buffers[o.buf.index()].dtype));
        // Neighbouring threads copy neighbouring elements along the later of the two axes,
        // the contiguous one of a row-major buffer.
        let (p, q) = if o.side_pos < o.l_pos {
            (format!("kiln_x / {TILE_K}"), format!("kiln_x % {TILE_K}"))
        } else {
            (format!("kiln_x % {tile}"), format!("kiln_x / {tile}"))
        };
        let slot = if o.side == Side::Row { "[kiln_p][kiln_q]" } else { "[kiln_q][kiln_p]" };
        self.line(3, "#pragma unroll");
        self.line(3, &format!("for (int kiln_x = (int)threadIdx.x; kiln_x < {}; kiln_x += {BLOCK}) {{", tile * TILE_K));
        self.line(4, &format!("const int kiln_p = {p}, kiln_q = {q};"));
        self.line(4, &format!("const long long kiln_g = {base} + kiln_p, kiln_l = kiln_k0 + kiln_q;"));
        self.line(4, &format!("kiln_s{s}{slot} = kiln_g < kiln_e{ext} && kiln_q < kiln_kn ? {at} : {zero};"));
        self.line(3, "}");
        Ok(())
    }
}
