//! Tiled contractions ([`Mapping::Tiled`]): a kernel of the GEMM shape
//! `out[.., i, j] = g(reduce_l f(a[i, l], b[l, j]))` computes a block tile of outputs (128 x
//! 128, 128 x 64, 64 x 128 or 64 x 64; see [`Shape`]) per block, each thread a grid of 8 x 8
//! (or 8 x 4, 4 x 4) of them, staging slices of its operands through double-buffered shared
//! memory, so that each operand element read from global memory serves 64 or 128 outputs,
//! and each value read from shared memory serves 8 (or 4).
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
//! staged operands would take more than [`SHARED_BUDGET`] bytes in every shape, keeps its old
//! mapping.
//!
//! # The shape of a tile
//!
//! [`Shape`] is chosen per kernel from the extents of its row and column axes where they are
//! constants, the state each output keeps across `l` (registers) and the shared memory its
//! operands take: 128 x 128 outputs, 8 x 8 per thread, 256 threads, by default; 128 x 64 or
//! 64 x 128 (8 x 8 per thread, 128 threads) when the columns (rows) are at most 64; 128 x 64
//! with 8 x 4 per thread (256 threads) when 64 outputs' state would not fit in registers (8-byte
//! values, two accumulators); 64 x 64 with 4 x 4 per thread (256 threads) when both extents
//! are at most 64, when 32 outputs' state would not fit either, or when the larger tiles'
//! operands would not fit in shared memory. A loop body with loads that change with `l`
//! (other than the operands: `w[l]`, `means[y[l], i]`) or index checks takes the 64 x 64 tile
//! and a loop over the slice that is not unrolled (unrolled, NVVM issued every value's loads
//! first and spilled). The mapping says which shape ([`Mapping::Tiled`]), and so does a
//! comment at the top of the kernel.
//!
//! # Layout
//!
//! Threads are a `ty x tx` grid (`tx` fastest). A thread's rows are `ty * 4 + r % 4 + (r / 4) *
//! (4 * ty_count)`: runs of four rows, so its values of a row operand at one `l` are four
//! consecutive shared-memory elements, read with one 16-byte load (two for 8-byte types);
//! columns likewise with `tx`. Each operand's slice of `depth` values of `l` is stored in
//! shared memory `[l][row or column]` (padded by 4 elements against bank conflicts, rows
//! 16-byte aligned), two buffers of it.
//!
//! Each thread stages runs of 4 (8-byte types: 2) consecutive elements of an operand along
//! `l`, or along its rows or columns, whichever has stride 1 (the later axis when neither
//! has: contiguous in a row-major buffer). The runs are 16-byte vector loads from global
//! memory (`float4`/`double2`-sized `kiln_vec<T, N>`) when the operand allows, checked at run
//! time: the axis of `l` (or of the
//! rows or columns) has stride 1, every other stride is a multiple of the vector width, the
//! base address is aligned, and the slice is whole (a full tile on the operand's side, `depth`
//! values of `l`, starting at a multiple of the width). Otherwise each thread loads scalars:
//! unguarded on full tiles, and on edge tiles (or the last, partial slice of `l`) guarded: rows
//! and columns past the edge are clamped to the last one, values of `l` past the end are not
//! loaded (zero).
//!
//! # Order of evaluation
//!
//! Each thread runs the statements of each of its outputs: the prefix's variables are per
//! output arrays (`v2_t[r][c]`), indexed with the unrolled output loops' counters, so NVVM
//! keeps them in registers. For every `l` in ascending order it runs the loop body of each
//! output once, exactly as the serial loop does; only the operands' loads read the staged
//! copies. So every output accumulates the same terms in the same order as the loop IR says:
//! results are bitwise those of the interpreter (on the simulator; NVRTC contracts `a * b + c`
//! into FMA as it does everywhere else).
//!
//! Outputs past the edge of the domain (in edge tiles) compute the output at the clamped row
//! and column, reading only what that output reads, so the loop body runs for every output
//! without a bounds test; only the epilogue (the stores) is guarded.
//!
//! # Pipeline
//!
//! Per tile, step `s` (from 0 to the number of slices) issues slice `s`'s global loads into
//! registers, computes slice `s - 1` from buffer `(s - 1) % 2` while they are in flight, then
//! stores the registers to buffer `s % 2`; one barrier ends each step. (One copy of the
//! loading and storing code, where the textbook form has a prologue for the first slice.)

use super::body::{constant, Emitter};
use super::{c_type, EmitError, Mapping};
use kiln_ir::loops::{BufId, Expr, Kernel, LoopProgram, Scalar, Stmt, Var};
use kiln_ir::{DType, Dim};

type R<T> = Result<T, EmitError>;

/// The most shared memory staged operands may take (of the 48 KiB a block gets without
/// opting in), both buffers together.
pub(super) const SHARED_BUDGET: usize = 40 * 1024;

/// Elements of padding per shared-memory row of a staged slice.
const PAD: usize = 4;

/// The most 32-bit registers the per-output state and operand values of a thread's outputs
/// may take by [`Shape::registers`]'s estimate when there are more than 16 of them: ptxas
/// then needs about 90 more for addresses, the prefetched slice and loop counters (f32 8 x 8,
/// estimated 80: 163-176 registers), and 255 is the limit (f64 8 x 8, estimated 160: 248-255
/// registers and spills).
const REGISTER_BUDGET: usize = 128;

/// The definition of the vector type staged loads use (emitted once per program that has a
/// tiled kernel).
pub(super) const VECTOR_TYPE: &str =
    "// N elements of T loaded or stored as one aligned vector (float4, double2, ...).\n\
     template <class T, int N> struct alignas(sizeof(T) * N) kiln_vec { T v[N]; };\n";

/// A block tile: outputs per block and per thread, and the values of `l` staged at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shape {
    rows: usize,
    cols: usize,
    per_row: usize,
    per_col: usize,
    depth: usize,
}

/// 128 x 128, 8 x 8 per thread: the default.
const BIG: Shape = Shape { rows: 128, cols: 128, per_row: 8, per_col: 8, depth: 8 };
/// Columns known to be at most 64.
const TALL: Shape = Shape { rows: 128, cols: 64, per_row: 8, per_col: 8, depth: 8 };
/// Rows known to be at most 64.
const WIDE: Shape = Shape { rows: 64, cols: 128, per_row: 8, per_col: 8, depth: 8 };
/// 8 x 4 per thread: 8-byte values, or two accumulators, for which 8 x 8 would not fit in
/// registers.
const MID: Shape = Shape { rows: 128, cols: 64, per_row: 8, per_col: 4, depth: 8 };
/// Both at most 64, or too much state per output for 32 outputs per thread.
const SMALL: Shape = Shape { rows: 64, cols: 64, per_row: 4, per_col: 4, depth: 16 };
/// As [`SMALL`], half the shared memory (many operands).
const SHALLOW: Shape = Shape { rows: 64, cols: 64, per_row: 4, per_col: 4, depth: 8 };

impl Shape {
    fn threads(&self) -> usize {
        self.ty() * self.tx()
    }

    /// Threads along the rows.
    fn ty(&self) -> usize {
        self.rows / self.per_row
    }

    /// Threads along the columns.
    fn tx(&self) -> usize {
        self.cols / self.per_col
    }

    /// Outputs of a tile along `side`.
    fn len(&self, side: Side) -> usize {
        if side == Side::Row {
            self.rows
        } else {
            self.cols
        }
    }

    /// Outputs of a thread along `side`.
    fn per(&self, side: Side) -> usize {
        if side == Side::Row {
            self.per_row
        } else {
            self.per_col
        }
    }

    /// Threads along `side`.
    fn threads_along(&self, side: Side) -> usize {
        if side == Side::Row {
            self.ty()
        } else {
            self.tx()
        }
    }

    /// Elements of one slice of an operand of `side` each thread stages.
    fn elems(&self, side: Side) -> usize {
        self.depth * self.len(side) / self.threads()
    }

    /// Bytes of shared memory the operands take (two buffers each).
    fn shared_bytes(&self, lp: &LoopProgram, operands: &[Operand]) -> usize {
        operands.iter().map(|o| 2 * self.depth * (self.len(o.side) + PAD) * dtype(lp, o).size()).sum()
    }

    /// Estimated 32-bit registers for the per-output state (`words` per output) and the
    /// operands' values at one `l`.
    fn registers(&self, lp: &LoopProgram, operands: &[Operand], words: usize) -> usize {
        let values: usize = operands.iter().map(|o| self.per(o.side) * reg_words(dtype(lp, o))).sum();
        self.per_row * self.per_col * words + values
    }
}

const _: () = {
    let shapes = [BIG, TALL, WIDE, MID, SMALL, SHALLOW];
    let mut i = 0;
    while i < shapes.len() {
        let s = shapes[i];
        // Whole runs of four outputs per thread, whole elements per thread, a vector of four
        // divides a slice's row.
        let threads = s.rows / s.per_row * (s.cols / s.per_col);
        assert!(s.per_row.is_multiple_of(4) && s.per_col.is_multiple_of(4) && s.depth.is_multiple_of(4));
        assert!((s.depth * s.rows).is_multiple_of(threads) && (s.depth * s.cols).is_multiple_of(threads));
        assert!(threads <= 1024);
        i += 1;
    }
};

fn dtype(lp: &LoopProgram, o: &Operand) -> DType {
    lp.buffers[o.buf.index()].dtype
}

/// 32-bit registers a value of `t` takes.
fn reg_words(t: DType) -> usize {
    t.size().div_ceil(4)
}

/// Elements per vector of `t` (16 bytes; 1 for `bool`, which stages as scalars).
fn vector_width(t: DType) -> usize {
    match t {
        DType::Bool => 1,
        t => 16 / t.size(),
    }
}

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
    shape: Shape,
    /// Whether every load of the loop body that is not an operand is the same for every
    /// `l` (no checks either): only then is the loop over a slice unrolled (NVVM issues an
    /// unrolled loop's loads first, one register each per value of `l`).
    unroll: bool,
}

impl Contraction {
    pub(super) fn mapping(&self) -> Mapping {
        let s = self.shape;
        Mapping::Tiled {
            rows: s.rows as u32,
            cols: s.cols as u32,
            thread_rows: s.per_row as u32,
            thread_cols: s.per_col as u32,
        }
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
    if k.body
        .iter()
        .any(|s| s.any(&mut |s| matches!(s, Stmt::Store { buf, .. } if operands.iter().any(|o| o.buf == *buf))))
    {
        return None;
    }
    let extra = other_loads(lp, body, &operands, (k.domain[n - 2].0, k.domain[n - 1].0, l));
    let shape = choose_shape(lp, k, at, &operands, extra)?;
    Some(Contraction { at, operands, shape, unroll: extra.is_some() })
}

/// The first shape, in order of preference (by the extents of the rows and columns where
/// they are constants), whose operands fit in shared memory and whose per-output state fits
/// in registers (4 x 4 per thread always does, as it did before 8 x 8).
fn choose_shape(
    lp: &LoopProgram,
    k: &Kernel,
    at: usize,
    operands: &[Operand],
    extra: Option<(usize, usize)>,
) -> Option<Shape> {
    let n = k.domain.len();
    let small = |d: Dim| matches!(d, Dim::Const(c) if c <= 64);
    let preferred = match (small(k.domain[n - 2].1), small(k.domain[n - 1].1)) {
        (false, false) => BIG,
        (false, true) => TALL,
        (true, false) => WIDE,
        (true, true) => SMALL,
    };
    // The words of state each output keeps: the prefix's variables that the loop or the
    // epilogue reads (the others die in the prefix).
    let rest = &k.body[at..];
    let words: usize = k.body[..at]
        .iter()
        .filter_map(|s| match s {
            Stmt::Let { var, ty, .. } | Stmt::Mut { var, ty, .. } if uses(rest, *var) => Some(reg_words(*ty)),
            _ => None,
        })
        .sum();
    // Loads that change with `l` (or checks) in the body: the small tile, as before 8 x 8.
    let Some((row_words, col_words)) = extra else {
        return [SMALL, SHALLOW].into_iter().find(|s| s.shared_bytes(lp, operands) <= SHARED_BUDGET);
    };
    let mid = Some(MID).filter(|_| preferred != SMALL);
    [Some(preferred), mid, Some(SMALL), Some(SHALLOW)].into_iter().flatten().find(|s| {
        let registers = s.registers(lp, operands, words) + s.per_row * row_words + s.per_col * col_words;
        s.shared_bytes(lp, operands) <= SHARED_BUDGET && (s.per_row * s.per_col <= 16 || registers <= REGISTER_BUDGET)
    })
}

/// The 32-bit words of the loads in the loop body other than operands that each of a
/// thread's rows and columns holds: a load indexed by the row (`s[i]`) is one value per row,
/// by the column one per column, by batch variables only one for all. `None` when such a
/// load changes with `l` or with a value the body computes, reads both the row and the
/// column, or the body checks an index.
fn other_loads(
    lp: &LoopProgram,
    body: &[Stmt],
    operands: &[Operand],
    (row, col, l): (Var, Var, Var),
) -> Option<(usize, usize)> {
    let mut local = vec![];
    body.iter().for_each(|s| s.walk(&mut |s| local.extend(s.defined_var())));
    let mut seen: Vec<(BufId, Vec<Expr>)> = vec![];
    let (mut rows, mut cols, mut ok) = (0, 0, true);
    for s in body {
        s.walk(&mut |s| {
            for e in s.exprs() {
                e.walk(&mut |e| match e {
                    Expr::Check(..) => ok = false,
                    Expr::Load { buf, idx } => {
                        let staged = operands.iter().any(|o| {
                            o.buf == *buf
                                && o.idx.len() == idx.len()
                                && o.idx.iter().zip(idx).all(|(a, b)| *b == Expr::Var(*a))
                        });
                        if staged || seen.iter().any(|(b, i)| b == buf && i == idx) {
                            return;
                        }
                        seen.push((*buf, idx.clone()));
                        let (mut r, mut c) = (false, false);
                        for x in idx {
                            x.for_each_var(&mut |v| {
                                ok &= v != l && !local.contains(&v);
                                r |= v == row;
                                c |= v == col;
                            });
                        }
                        let words = reg_words(lp.buffers[buf.index()].dtype);
                        match (r, c) {
                            (true, true) => ok = false,
                            (true, false) => rows += words,
                            (false, true) => cols += words,
                            (false, false) => {}
                        }
                    }
                    _ => {}
                });
            }
        });
    }
    ok.then_some((rows, cols))
}

/// Whether any statement of `stmts` reads or assigns `v`.
fn uses(stmts: &[Stmt], v: Var) -> bool {
    stmts
        .iter()
        .any(|s| s.any(&mut |s| matches!(s, Stmt::Assign { var, .. } if *var == v) || s.exprs().any(|e| e.reads(v))))
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

/// How one operand is staged: its C element type, the text of its global access at
/// `kiln_g` (row or column) and `kiln_l`, and its vector width for global loads.
struct Staging {
    ty: &'static str,
    zero: String,
    at: String,
    /// Elements per global vector load (1: scalars only).
    width: usize,
    /// Elements per thread per slice.
    elems: usize,
    /// Rows (columns) of the tile on its side.
    len: usize,
    /// The extent variable of its side (`kiln_e{i}`), the tile's first row or column, whether
    /// that side of the tile is full.
    ext: String,
    base: &'static str,
    full: &'static str,
}

impl Emitter<'_> {
    /// The whole tiled kernel after its signature line (see the module documentation).
    pub(super) fn tiled(&mut self, k: &Kernel, c: &Contraction) -> R<()> {
        let Some(Stmt::For { var: l, body, .. } | Stmt::ForRange { var: l, body, .. }) = k.body.get(c.at) else {
            return self.unsupported("tiled contraction");
        };
        let s = c.shape;
        self.line(
            1,
            &format!(
                "// tiled contraction: {} x {} outputs per block, {} x {} per thread ({} threads); {} values of l \
                 staged at a time, double-buffered",
                s.rows,
                s.cols,
                s.per_row,
                s.per_col,
                s.threads(),
                s.depth
            ),
        );
        for (i, o) in c.operands.iter().enumerate() {
            let ty = c_type(dtype(self.lp, o));
            let what = self.access_text(o);
            let side = if o.side == Side::Row { "rows" } else { "columns" };
            self.line(
                1,
                &format!(
                    "alignas(16) __shared__ {ty} kiln_s{i}[2][{}][{}];  // {what}: {side}",
                    s.depth,
                    s.len(o.side) + PAD
                ),
            );
        }
        let n = k.domain.len();
        let staging = c.operands.iter().map(|o| self.staging(o, s, n)).collect::<R<Vec<_>>>()?;
        self.tile_loop(k, s);
        self.vector_checks(c, &staging, 1);
        self.line(1, "#pragma unroll 1");
        self.line(1, "for (long long kiln_t = blockIdx.x; kiln_t < kiln_tiles; kiln_t += gridDim.x) {");
        self.tile_head(k, s);
        let inside = self.outputs(k, s);
        // The prefix: per-output arrays.
        for st in &k.body[..c.at] {
            let (Stmt::Let { var, ty, .. } | Stmt::Mut { var, ty, .. }) = st else {
                return self.unsupported("tiled contraction prefix");
            };
            self.vars.insert(*var, *ty);
            self.names.insert(*var, format!("{var}_t[kiln_ir][kiln_ic]"));
            self.line(2, &format!("{} {var}_t[{}][{}];", c_type(*ty), s.per_row, s.per_col));
        }
        self.open_outputs(s, 2);
        for st in &k.body[..c.at] {
            let (Stmt::Let { var, value, .. } | Stmt::Mut { var, init: value, .. }) = st else {
                return self.unsupported("tiled contraction prefix");
            };
            let x = self.expr(value)?;
            let name = self.name(*var);
            self.line(4, &format!("{name} = {x};"));
        }
        self.close_outputs(2);
        self.slices(k, c, &staging, *l, body)?;
        self.open_outputs(s, 2);
        self.line(4, &format!("if ({inside}) {{"));
        self.stmts(&k.body[c.at + 1..], 5)?;
        self.line(4, "}");
        self.close_outputs(2);
        self.line(1, "}");
        Ok(())
    }

    /// `for` over this thread's outputs (`kiln_ir`, `kiln_ic`), unrolled, at `depth`: the
    /// body goes at `depth + 2`.
    fn open_outputs(&mut self, s: Shape, depth: usize) {
        self.line(depth, "#pragma unroll");
        self.line(depth, &format!("for (int kiln_ir = 0; kiln_ir < {}; ++kiln_ir) {{", s.per_row));
        self.line(depth + 1, "#pragma unroll");
        self.line(depth + 1, &format!("for (int kiln_ic = 0; kiln_ic < {}; ++kiln_ic) {{", s.per_col));
    }

    fn close_outputs(&mut self, depth: usize) {
        self.line(depth + 1, "}");
        self.line(depth, "}");
    }

    /// The extents, the tile counts and this thread's place in the block.
    fn tile_loop(&mut self, k: &Kernel, s: Shape) {
        let n = self.extents(k);
        let tiles = (0..n - 2).fold("kiln_rows * kiln_cols".to_string(), |t, i| format!("kiln_e{i} * {t}"));
        let (er, ec) = (n - 2, n - 1);
        self.line(
            1,
            &format!(
                "const long long kiln_rows = (kiln_e{er} + {}) / {}, kiln_cols = (kiln_e{ec} + {}) / {};",
                s.rows - 1,
                s.rows,
                s.cols - 1,
                s.cols
            ),
        );
        self.line(1, &format!("const long long kiln_tiles = {tiles};"));
        self.line(
            1,
            &format!("const int kiln_tx = (int)threadIdx.x % {}, kiln_ty = (int)threadIdx.x / {};", s.tx(), s.tx()),
        );
    }

    /// The tile's coordinates (`kiln_r0`/`kiln_c0`, its first row and column), the batch
    /// variables, and whether each side of the tile is full (`kiln_fr`, `kiln_fc`). Every
    /// thread of a block takes the same tiles and the same slices of `l`: the barriers are
    /// reached by all of them.
    fn tile_head(&mut self, k: &Kernel, s: Shape) {
        let n = k.domain.len();
        self.line(2, "long long kiln_r = kiln_t;");
        self.line(2, &format!("const long long kiln_c0 = kiln_r % kiln_cols * {};", s.cols));
        self.line(2, "kiln_r /= kiln_cols;");
        self.line(2, &format!("const long long kiln_r0 = kiln_r % kiln_rows * {};", s.rows));
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
        self.line(
            2,
            &format!(
                "const bool kiln_fr = kiln_r0 + {} <= kiln_e{}, kiln_fc = kiln_c0 + {} <= kiln_e{};",
                s.rows,
                n - 2,
                s.cols,
                n - 1
            ),
        );
    }

    /// This thread's first row and column (`kiln_rb`, `kiln_cb`); the row and column variables
    /// of the body become the output's own, clamped to the domain (an expression of the
    /// unrolled output counters, not an array: held across the loop, 16 64-bit indices took
    /// 60 registers). Returns the epilogue's guard: whether the output is inside the domain.
    fn outputs(&mut self, k: &Kernel, s: Shape) -> String {
        let n = k.domain.len();
        let (row, col) = (k.domain[n - 2].0, k.domain[n - 1].0);
        self.line(2, "const long long kiln_rb = kiln_r0 + kiln_ty * 4, kiln_cb = kiln_c0 + kiln_tx * 4;");
        let mut guard = vec![];
        for (side, var, base, q) in [(Side::Row, row, "kiln_rb", "kiln_ir"), (Side::Col, col, "kiln_cb", "kiln_ic")] {
            let run = 4 * s.threads_along(side);
            let e = if side == Side::Row { n - 2 } else { n - 1 };
            let at =
                if s.per(side) > 4 { format!("{base} + {q} / 4 * {run} + {q} % 4") } else { format!("{base} + {q}") };
            self.names.insert(var, format!("kiln_min({at}, kiln_e{e} - 1)"));
            guard.push(format!("{at} < kiln_e{e}"));
        }
        guard.join(" && ")
    }

    /// How operand `o` is staged under `s` (`n` domain axes).
    fn staging(&mut self, o: &Operand, s: Shape, n: usize) -> R<Staging> {
        let t = dtype(self.lp, o);
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
        let elems = s.elems(o.side);
        let (ext, base, full) =
            if o.side == Side::Row { (n - 2, "kiln_r0", "kiln_fr") } else { (n - 1, "kiln_c0", "kiln_fc") };
        Ok(Staging {
            ty: c_type(t),
            zero: constant(Scalar::zero(t)),
            at,
            width: vector_width(t).min(elems),
            elems,
            len: s.len(o.side),
            ext: format!("kiln_e{ext}"),
            base,
            full,
        })
    }

    /// Once per kernel: whether each operand's strides and base address allow vector loads
    /// along `l` (`kiln_vl{s}`) or along its rows or columns (`kiln_vs{s}`).
    fn vector_checks(&mut self, c: &Contraction, staging: &[Staging], depth: usize) {
        for (i, (o, st)) in c.operands.iter().zip(staging).enumerate() {
            // Without vectors, runs along the later axis (the contiguous one if row-major).
            let later = if o.side_pos < o.l_pos { "true" } else { "false" };
            if st.width < 2 {
                self.line(depth, &format!("const bool kiln_la{i} = {later};"));
                continue;
            }
            let b = &self.lp.buffers[o.buf.index()].name;
            let w = st.width;
            let bytes = w * dtype(self.lp, o).size();
            let along = |unit: usize| {
                let mut terms = vec![format!("args.{b}_s{unit} == 1")];
                terms.extend((0..o.idx.len()).filter(|p| *p != unit).map(|p| format!("args.{b}_s{p} % {w} == 0")));
                terms.push(format!("(unsigned long long)args.{b}_ % {bytes} == 0"));
                terms.join(" && ")
            };
            self.line(depth, &format!("const bool kiln_vl{i} = {};", along(o.l_pos)));
            self.line(depth, &format!("const bool kiln_vs{i} = {};", along(o.side_pos)));
            self.line(depth, &format!("const bool kiln_la{i} = kiln_vl{i} || (!kiln_vs{i} && {later});"));
        }
    }

    /// The loop over slices of `l`, double-buffered (see the module documentation).
    fn slices(&mut self, k: &Kernel, c: &Contraction, staging: &[Staging], l: Var, body: &[Stmt]) -> R<()> {
        let (lo, hi) = match &k.body[c.at] {
            Stmt::ForRange { extent, start, end, .. } => {
                let (s, e, x) = (self.expr(start)?, self.expr(end)?, self.dim(*extent));
                (format!("kiln_max({s}, 0ll)"), format!("kiln_min({e}, {x})"))
            }
            Stmt::For { extent, .. } => ("0ll".to_string(), self.dim(*extent)),
            _ => return self.unsupported("tiled contraction"),
        };
        let s = c.shape;
        let tk = s.depth;
        self.line(2, &format!("const long long kiln_lo = {lo}, kiln_hi = {hi};"));
        self.line(
            2,
            &format!("const long long kiln_ns = kiln_hi > kiln_lo ? (kiln_hi - kiln_lo + {}) / {tk} : 0;", tk - 1),
        );
        for (i, st) in staging.iter().enumerate() {
            self.line(2, &format!("{} kiln_p{i}[{}];", st.ty, st.elems));
            if st.width >= 2 {
                // Vectors along `l` start at multiples of the width only if the range does.
                let (w, f) = (st.width, st.full);
                self.line(2, &format!("const bool kiln_va{i} = kiln_vl{i} && {f} && kiln_lo % {w} == 0;"));
                self.line(2, &format!("const bool kiln_vb{i} = kiln_vs{i} && {f};"));
            }
        }
        // Step `kiln_sl` issues the global loads of slice `kiln_sl`, computes slice
        // `kiln_sl - 1` from its buffer while they are in flight, then stores them to the
        // other buffer. One barrier per step: a buffer is refilled only after every thread
        // is done reading it, and read only after its stores are seen.
        self.line(2, "#pragma unroll 1");
        self.line(2, "for (long long kiln_sl = 0; kiln_sl <= kiln_ns; ++kiln_sl) {");
        self.line(3, "if (kiln_sl < kiln_ns) {");
        self.line(
            4,
            &format!(
                "const long long kiln_fk = kiln_lo + kiln_sl * {tk}; \
                 const int kiln_fn = (int)kiln_min(kiln_hi - kiln_fk, {tk}ll);"
            ),
        );
        for (i, (o, st)) in c.operands.iter().zip(staging).enumerate() {
            self.fetch(i, o, st, s, 4);
        }
        self.line(3, "}");
        self.line(3, "if (kiln_sl > 0) {");
        self.line(4, "const int kiln_b = (int)((kiln_sl - 1) & 1);");
        self.line(4, &format!("const long long kiln_k0 = kiln_lo + (kiln_sl - 1) * {tk};"));
        self.line(4, &format!("const int kiln_kn = (int)kiln_min(kiln_hi - kiln_k0, {tk}ll);"));
        self.line(4, &format!("if (kiln_kn == {tk}) {{"));
        self.line(5, if c.unroll { "#pragma unroll" } else { "#pragma unroll 1" });
        self.line(5, &format!("for (int kiln_kk = 0; kiln_kk < {tk}; ++kiln_kk) {{"));
        self.step(c, l, body, 6)?;
        self.line(5, "}");
        self.line(4, "} else {");
        self.line(5, "#pragma unroll 1");
        self.line(5, "for (int kiln_kk = 0; kiln_kk < kiln_kn; ++kiln_kk) {");
        self.step(c, l, body, 6)?;
        self.line(5, "}");
        self.line(4, "}");
        self.line(3, "}");
        self.line(3, "if (kiln_sl < kiln_ns) {");
        for (i, st) in staging.iter().enumerate() {
            self.put(i, st, s, "(int)(kiln_sl & 1)", 4);
        }
        self.line(3, "}");
        self.line(3, "__syncthreads();");
        self.line(2, "}");
        Ok(())
    }

    /// One value of `l` (`kiln_k0 + kiln_kk`) for every output of the thread: the operands'
    /// values from buffer `kiln_b`, then the loop body of each output.
    fn step(&mut self, c: &Contraction, l: Var, body: &[Stmt], depth: usize) -> R<()> {
        let s = c.shape;
        self.vars.insert(l, DType::I64);
        if body.iter().any(|st| st.any(&mut |st| st.exprs().any(|e| reads_besides_operands(e, l, &c.operands)))) {
            let ln = self.name(l);
            self.line(depth, &format!("const long long {ln} = kiln_k0 + kiln_kk;"));
        }
        for (i, o) in c.operands.iter().enumerate() {
            let t = dtype(self.lp, o);
            let (ty, per, run) = (c_type(t), s.per(o.side), 4 * s.threads_along(o.side));
            let me = if o.side == Side::Row { "kiln_ty" } else { "kiln_tx" };
            let w = vector_width(t).min(4);
            self.line(depth, &format!("{ty} kiln_a{i}[{per}];"));
            for j in (0..per).step_by(w) {
                let off = format!(
                    "{} + {me} * 4{}",
                    j / 4 * run,
                    if j % 4 == 0 { String::new() } else { format!(" + {}", j % 4) }
                );
                let at = format!("kiln_s{i}[kiln_b][kiln_kk][{off}]");
                if w == 1 {
                    self.line(depth, &format!("kiln_a{i}[{j}] = {at};"));
                } else {
                    let vt = format!("kiln_vec<{ty}, {w}>");
                    let copies: Vec<String> =
                        (0..w).map(|e| format!("kiln_a{i}[{}] = kiln_x.v[{e}];", j + e)).collect();
                    self.line(
                        depth,
                        &format!(
                            "{{ const {vt} kiln_x = *reinterpret_cast<const {vt}*>(&{at}); {} }}",
                            copies.join(" ")
                        ),
                    );
                }
            }
        }
        // The body's operand loads read the values just taken from shared memory.
        self.loads = c
            .operands
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let idx = o.idx.iter().map(|v| Expr::Var(*v)).collect();
                let at = if o.side == Side::Row { "kiln_ir" } else { "kiln_ic" };
                (o.buf, idx, format!("kiln_a{i}[{at}]"))
            })
            .collect();
        self.open_outputs(s, depth);
        let r = self.stmts(body, depth + 2);
        self.loads.clear();
        r?;
        self.close_outputs(depth);
        Ok(())
    }

    /// Issue operand `i`'s global loads of the slice starting at `kiln_fk` (`kiln_fn` values
    /// of `l`) into `kiln_p{i}`: each thread takes runs of `width` elements along `l`
    /// (`kiln_la{i}`) or along the rows (columns), as 16-byte vectors where the slice allows,
    /// else as scalars, guarded only on edge tiles and the last slice. Every path of a run
    /// reads from the same row base, so only one 64-bit address per run stays live.
    fn fetch(&mut self, i: usize, o: &Operand, st: &Staging, s: Shape, depth: usize) {
        let (tk, len, nt, w) = (s.depth, s.len(o.side), s.threads(), st.width);
        let (base, at, full, ext, zero) = (st.base, &st.at, st.full, &st.ext, &st.zero);
        let vt = format!("kiln_vec<{}, {w}>", st.ty);
        let d = depth + 1;
        for along_l in [true, false] {
            let head = if along_l { format!("if (kiln_la{i}) {{") } else { "} else {".to_string() };
            self.line(depth, &head);
            self.line(d, "#pragma unroll");
            self.line(d, &format!("for (int kiln_w = 0; kiln_w < {}; ++kiln_w) {{", st.elems / w));
            self.line(d + 1, &format!("const int kiln_u = (int)threadIdx.x + {nt} * kiln_w;"));
            if along_l {
                self.line(
                    d + 1,
                    &format!("const int kiln_p = kiln_u / {}, kiln_q = kiln_u % {} * {w};", tk / w, tk / w),
                );
            } else {
                self.line(
                    d + 1,
                    &format!("const int kiln_q = kiln_u / {}, kiln_p = kiln_u % {} * {w};", len / w, len / w),
                );
            }
            let into = format!("kiln_p{i}[kiln_w * {w} + kiln_e]");
            let vector = if along_l { format!("kiln_va{i}") } else { format!("kiln_vb{i}") };
            let d2 = d + 2;
            if w >= 2 {
                self.line(d + 1, &format!("if (kiln_fn == {tk} && {vector}) {{"));
                self.line(d2, &format!("const long long kiln_g = {base} + kiln_p, kiln_l = kiln_fk + kiln_q;"));
                self.line(d2, &format!("const {vt} kiln_x = *reinterpret_cast<const {vt}*>(&{at});"));
                self.line(d2, "#pragma unroll");
                self.line(d2, &format!("for (int kiln_e = 0; kiln_e < {w}; ++kiln_e) {into} = kiln_x.v[kiln_e];"));
                self.line(d + 1, &format!("}} else if (kiln_fn == {tk} && {full}) {{"));
            } else {
                self.line(d + 1, &format!("if (kiln_fn == {tk} && {full}) {{"));
            }
            // Scalars, unguarded (a full tile, a whole slice), then guarded: rows (columns)
            // past the edge clamped to the last one, no load past the end of `l`.
            for guarded in [false, true] {
                if guarded {
                    self.line(d + 1, "} else {");
                }
                self.line(d2, "#pragma unroll");
                self.line(d2, &format!("for (int kiln_e = 0; kiln_e < {w}; ++kiln_e) {{"));
                let (g, l, ok) = match (along_l, guarded) {
                    (true, false) => (format!("{base} + kiln_p"), "kiln_fk + kiln_q + kiln_e", None),
                    (true, true) => (
                        format!("kiln_min({base} + kiln_p, {ext} - 1)"),
                        "kiln_fk + kiln_q + kiln_e",
                        Some("kiln_q + kiln_e"),
                    ),
                    (false, false) => (format!("{base} + kiln_p + kiln_e"), "kiln_fk + kiln_q", None),
                    (false, true) => {
                        (format!("kiln_min({base} + kiln_p + kiln_e, {ext} - 1)"), "kiln_fk + kiln_q", Some("kiln_q"))
                    }
                };
                self.line(d2 + 1, &format!("const long long kiln_g = {g}, kiln_l = {l};"));
                match ok {
                    None => self.line(d2 + 1, &format!("{into} = {at};")),
                    Some(q) => self.line(d2 + 1, &format!("{into} = {q} < kiln_fn ? {at} : {zero};")),
                }
                self.line(d2, "}");
            }
            self.line(d + 1, "}");
            self.line(d, "}");
        }
        self.line(depth, "}");
    }

    /// Store operand `i`'s fetched slice to buffer `buf` in the layout its loads took.
    fn put(&mut self, i: usize, st: &Staging, s: Shape, buf: &str, depth: usize) {
        let (tk, nt, w) = (s.depth, s.threads(), st.width);
        let len = st.len;
        let vt = format!("kiln_vec<{}, {w}>", st.ty);
        let d = depth + 1;
        self.line(depth, "#pragma unroll");
        self.line(depth, &format!("for (int kiln_w = 0; kiln_w < {}; ++kiln_w) {{", st.elems / w));
        self.line(d, &format!("const int kiln_u = (int)threadIdx.x + {nt} * kiln_w;"));
        self.line(d, &format!("if (kiln_la{i}) {{"));
        self.line(d + 1, &format!("const int kiln_p = kiln_u / {}, kiln_q = kiln_u % {} * {w};", tk / w, tk / w));
        self.line(d + 1, "#pragma unroll");
        self.line(
            d + 1,
            &format!("for (int kiln_e = 0; kiln_e < {w}; ++kiln_e) kiln_s{i}[{buf}][kiln_q + kiln_e][kiln_p] = kiln_p{i}[kiln_w * {w} + kiln_e];"),
        );
        self.line(d, "} else {");
        self.line(d + 1, &format!("const int kiln_q = kiln_u / {}, kiln_p = kiln_u % {} * {w};", len / w, len / w));
        if w >= 2 {
            self.line(d + 1, &format!("{vt} kiln_x;"));
            self.line(d + 1, "#pragma unroll");
            self.line(
                d + 1,
                &format!(
                    "for (int kiln_e = 0; kiln_e < {w}; ++kiln_e) kiln_x.v[kiln_e] = kiln_p{i}[kiln_w * {w} + kiln_e];"
                ),
            );
            self.line(d + 1, &format!("*reinterpret_cast<{vt}*>(&kiln_s{i}[{buf}][kiln_q][kiln_p]) = kiln_x;"));
        } else {
            self.line(d + 1, &format!("kiln_s{i}[{buf}][kiln_q][kiln_p] = kiln_p{i}[kiln_w];"));
        }
        self.line(d, "}");
        self.line(depth, "}");
    }

    /// The operand's access as the loop body writes it (for a comment).
    fn access_text(&self, o: &Operand) -> String {
        let buf = &self.lp.buffers[o.buf.index()].name;
        let idx: Vec<String> = o.idx.iter().map(|v| self.name(*v)).collect();
        format!("{buf}[{}]", idx.join(", "))
    }
}
