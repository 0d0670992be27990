//! Loop IR -> CUDA C. Pure text generation, always built, golden-tested.
//!
//! # ABI
//!
//! A program becomes one translation unit: the [`prelude`](PRELUDE) (no `#include`: NVRTC
//! gets no headers), one argument struct `KilnArgs`, and one
//! `extern "C" __global__ void name(const KilnArgs args)` per loop kernel, launched with
//! [`LaunchShape::block_dim`] threads per block in one dimension (`blockDim.x`: [`BLOCK`], or
//! a tiled kernel's own count; `gridDim.x` from [`LaunchShape::grid_dim`]). A program with a
//! tiled kernel also defines `kiln_vec<T, N>`, N elements loaded as one aligned vector.
//!
//! Kernels carry no `__launch_bounds__`. Told that a block has at most 256 threads
//! (`.maxntid 256` in the PTX), ptxas 13.5 trades spills for occupancy: a kernel that needs a
//! few registers more than an occupancy step (32 a thread for 8 blocks of 256 on an SM, 40 for
//! 6) is held to the step and spills 4-24 bytes to local memory (a grid-stride loop with three
//! or four outputs, a strided inner reduction). Without the bound ptxas allocates what the
//! kernel needs, and a launch of [`BLOCK`] threads fits any count it can give (at most 255).
//!
//! `KilnArgs` is passed by value and consists of 8-byte fields only, so it has no padding and
//! its host image is a `[u64]` ([`CudaProgram::pack_args`] builds it), in this order:
//! * for each buffer of the loop program, in buffer order: its element pointer (`{name}_`,
//!   the address of element `[0, 0, ..]`), then one stride per axis in elements
//!   (`{name}_s0`, `{name}_s1`, ..; any sign, so strided views need no copy);
//! * the value of each shape symbol, in symbol order (`dim_{name}`);
//! * `flags`: a pointer to one `unsigned int` per `Flag::ALL` entry, which kernels set with
//!   `atomicOr(.., 1)` and never clear.
//!
//! Element types are `float double int long long unsigned bool` (bool as one byte, 0 or 1).
//!
//! # Mapping
//!
//! The parallel domain is flattened row-major (last axis fastest). A [`Mapping::GridStride`]
//! kernel runs a grid-stride loop over it (any grid size is correct); a
//! [`Mapping::BlockPerPoint`] kernel (a two-phase partial reduction: tiny domain, long
//! reduction) gives each domain point a whole block, whose threads split the reduction range,
//! combine with warp shuffles and shared memory, and let thread 0 finish the body. A
//! [`Mapping::Tiled`] kernel (a contraction, the GEMM shape; see [`tiled`]) gives each block a
//! tile of up to 128 x 128 points (8 x 8 per thread) and stages its operands through
//! double-buffered shared memory; it is launched with as many threads as its tile has threads
//! ([`Mapping::threads`]), the others with [`BLOCK`]. All use `long long` indices throughout.

mod body;
mod prelude;
mod tiled;

pub use prelude::PRELUDE;

use kiln_ir::loops::{BufKind, Kernel, LoopProgram};
use kiln_ir::{DType, Dim};
use std::fmt::Write as _;
use thiserror::Error;

/// Threads per block of every kernel.
pub const BLOCK: u32 = 256;

/// Why a loop program could not be rendered as CUDA C.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EmitError {
    /// A name (program, kernel, buffer, symbol) that is not a C identifier.
    #[error("cuda emit: {what} name `{name}` is not a C identifier")]
    BadName { what: &'static str, name: String },
    /// A construct the emitter cannot render (an op on a dtype CUDA C has no code for).
    #[error("cuda emit: kernel `{kernel}`: unsupported {what}")]
    Unsupported { kernel: String, what: String },
    /// The loop program breaks a verifier invariant: a bug in whatever built it, told apart
    /// from [`EmitError::Unsupported`] so it never reads as the user's mistake.
    #[error("cuda emit: the loop program is invalid: {0}")]
    Invalid(#[from] kiln_ir::loops::LoopVerifyErrors),
}

/// How a kernel's domain maps onto the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mapping {
    /// Each thread takes domain points `blockIdx.x * blockDim.x + threadIdx.x`, then every
    /// `gridDim.x * blockDim.x`-th one after it.
    GridStride,
    /// Each block takes domain points `blockIdx.x`, then every `gridDim.x`-th one; the block's
    /// threads cooperate on each point (and synchronize: `__syncthreads`, shuffles).
    BlockPerPoint,
    /// A contraction (the GEMM shape): the last two domain axes are cut into tiles of `rows`
    /// x `cols` points, the axes before them are batch axes. Each block takes tile
    /// `blockIdx.x`, then every `gridDim.x`-th one, in row-major order over (batch axes, tile
    /// row, tile column); each of its threads computes `thread_rows` x `thread_cols` points,
    /// and they stage operands in shared memory between barriers. Launched with exactly
    /// [`Mapping::threads`] threads.
    Tiled {
        /// Points of a tile along the row axis (the second-to-last domain axis).
        rows: u32,
        /// Points of a tile along the column axis (the last domain axis).
        cols: u32,
        /// Points each thread computes along the rows.
        thread_rows: u32,
        /// Points each thread computes along the columns.
        thread_cols: u32,
    },
    /// A kernel of a scan (hint `scan`: the chunk totals or the chunk prefixes of the blocked
    /// scan order, first domain axis the chunk) whose scanned axis has extent `axis`. The
    /// kernel holds two mappings and takes one by a test every thread computes alike
    /// ([`LaunchShape::block_scan`], the same in the text): a block scan when the axis is long
    /// and the domain small (block per point: the chunk total as a block reduction, the
    /// chunk's prefixes in tiles of [`BLOCK`] elements, each tile a warp-shuffle scan and a
    /// scan of the warp totals, carried from tile to tile), else one thread per point
    /// (grid-stride, the chunk folded in order).
    Scan { axis: Dim },
}

impl Mapping {
    /// Threads per block a kernel of this mapping must be launched with: [`BLOCK`], or a
    /// tiled kernel's `(rows / thread_rows) * (cols / thread_cols)`.
    pub fn threads(&self) -> u32 {
        match *self {
            Mapping::Tiled { rows, cols, thread_rows, thread_cols } => {
                (rows / thread_rows.max(1)) * (cols / thread_cols.max(1))
            }
            _ => BLOCK,
        }
    }
}

/// A scan kernel runs as a block scan when its scanned axis has at least this many elements
/// (every one of the [`kiln_ir::program::SCAN_CHUNKS`] chunks at least a warp long) ...
pub const SCAN_BLOCK_MIN_AXIS: i64 = 2048;
/// ... and its domain (chunks x lanes) has fewer points than this: a domain of this many
/// threads already fills a GPU's SMs with one thread per chunk and lane.
pub const SCAN_BLOCK_MAX_POINTS: i64 = 65536;

/// How to launch one kernel: a launcher computes [`LaunchShape::len`] from the symbol values,
/// then [`LaunchShape::grid_dim`] from it, and launches that many blocks of `block_dim`
/// threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchShape {
    /// Threads per block (`blockDim.x`): [`Mapping::threads`] of `mapping`.
    pub block_dim: u32,
    /// The extents of the parallel domain (their product is the number of points).
    pub domain: Vec<Dim>,
    pub mapping: Mapping,
}

impl LaunchShape {
    /// The number of work items the grid is sized by under the symbol values `syms`: domain
    /// points, or for a [`Mapping::Tiled`] kernel its tiles (partial ones included), or for a
    /// [`Mapping::Scan`] kernel its blocks (points when it runs as a block scan, points over
    /// [`BLOCK`] otherwise); `None` on overflow.
    pub fn len(&self, syms: &[i64]) -> Option<i64> {
        let extent = |d: &Dim| dim_value(*d, syms);
        let (points, tiled) = match self.mapping {
            Mapping::Tiled { rows, cols, .. } if self.domain.len() >= 2 => {
                let n = self.domain.len();
                let tiles = |d: &Dim, t: u32| {
                    let (x, t) = (extent(d)?, i64::from(t.max(1)));
                    Some(x / t + i64::from(x % t != 0))
                };
                (
                    &self.domain[..n - 2],
                    Some(tiles(&self.domain[n - 2], rows)?.checked_mul(tiles(&self.domain[n - 1], cols)?)?),
                )
            }
            _ => (&self.domain[..], None),
        };
        let len = points.iter().try_fold(tiled.unwrap_or(1), |acc, d| acc.checked_mul(extent(d)?))?;
        match self.mapping {
            Mapping::Scan { .. } if !self.block_scan(syms)? => {
                Some(len / i64::from(self.block_dim.max(1)) + i64::from(len % i64::from(self.block_dim.max(1)) != 0))
            }
            _ => Some(len),
        }
    }

    /// Whether a [`Mapping::Scan`] kernel runs as a block scan under the symbol values `syms`
    /// (the scanned axis at least [`SCAN_BLOCK_MIN_AXIS`] long, fewer than
    /// [`SCAN_BLOCK_MAX_POINTS`] domain points): the test its text makes. `Some(false)` for
    /// other mappings, `None` on overflow.
    pub fn block_scan(&self, syms: &[i64]) -> Option<bool> {
        let Mapping::Scan { axis } = self.mapping else { return Some(false) };
        let points = self.domain.iter().try_fold(1i64, |acc, d| acc.checked_mul(dim_value(*d, syms)?))?;
        Some(points < SCAN_BLOCK_MAX_POINTS && dim_value(axis, syms)? >= SCAN_BLOCK_MIN_AXIS)
    }

    /// The number of blocks to launch for `len` work items: enough to give every point its
    /// own thread (grid-stride) or block (block-per-point), every tile its own block (tiled),
    /// at most `max_grid` (the loops cover the rest). 0 when there is nothing to do: launch
    /// nothing then.
    pub fn grid_dim(&self, len: i64, max_grid: u32) -> u32 {
        let len = len.max(0) as u64;
        let blocks = match self.mapping {
            Mapping::GridStride => len.div_ceil(u64::from(self.block_dim.max(1))),
            Mapping::BlockPerPoint | Mapping::Tiled { .. } | Mapping::Scan { .. } => len,
        };
        blocks.min(u64::from(max_grid)) as u32
    }

    /// Whether the kernel synchronizes threads within a block (a launcher without real
    /// threads must then run each block's threads as coroutines).
    pub fn uses_barriers(&self) -> bool {
        matches!(self.mapping, Mapping::BlockPerPoint | Mapping::Tiled { .. } | Mapping::Scan { .. })
    }
}

/// The value of extent `d` under the symbol values `syms` (negative symbols count as 0).
fn dim_value(d: Dim, syms: &[i64]) -> Option<i64> {
    match d {
        Dim::Const(c) => i64::try_from(c).ok(),
        Dim::Sym(s) => syms.get(s.0 as usize).map(|n| (*n).max(0)),
    }
}

/// One emitted kernel: its `extern "C"` name and how to launch it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CudaKernel {
    pub name: String,
    pub launch: LaunchShape,
}

/// A whole program as CUDA C: the source NVRTC (or the simulator) compiles, and its kernels
/// in loop-program order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CudaProgram {
    pub source: String,
    pub kernels: Vec<CudaKernel>,
    /// The rank of every buffer, in buffer order (the layout of `KilnArgs`).
    pub ranks: Vec<usize>,
    /// The number of shape symbols.
    pub syms: usize,
}

impl CudaProgram {
    /// The host image of `KilnArgs` (see the module documentation): `ptrs[b]` and
    /// `strides[b]` (in elements) for every buffer, the symbol values, the flags pointer.
    ///
    /// Returns `None` when the counts do not match the program (a buffer count, a rank, the
    /// symbol count).
    pub fn pack_args(&self, ptrs: &[u64], strides: &[Vec<i64>], syms: &[i64], flags: u64) -> Option<Vec<u64>> {
        if ptrs.len() != self.ranks.len() || strides.len() != self.ranks.len() || syms.len() != self.syms {
            return None;
        }
        let mut words = Vec::with_capacity(self.arg_words());
        for ((p, s), r) in ptrs.iter().zip(strides).zip(&self.ranks) {
            if s.len() != *r {
                return None;
            }
            words.push(*p);
            words.extend(s.iter().map(|x| *x as u64));
        }
        words.extend(syms.iter().map(|x| *x as u64));
        words.push(flags);
        Some(words)
    }

    /// The size of `KilnArgs` in 8-byte words.
    pub fn arg_words(&self) -> usize {
        self.ranks.iter().map(|r| r + 1).sum::<usize>() + self.syms + 1
    }
}

/// The C++ spelling of an element type.
pub(crate) fn c_type(t: DType) -> &'static str {
    match t {
        DType::F32 => "float",
        DType::F64 => "double",
        DType::I32 => "int",
        DType::I64 => "long long",
        DType::U32 => "unsigned",
        DType::Bool => "bool",
    }
}

/// Whether `s` is a C identifier kiln may use as (part of) a field name.
fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Render `lp` as CUDA C.
///
/// # Errors
/// [`EmitError::Invalid`] when `lp` fails the loop IR verifier, [`EmitError::BadName`] for a
/// name that is not a C identifier, [`EmitError::Unsupported`] for a construct CUDA C has no
/// code for.
pub fn emit(lp: &LoopProgram) -> Result<CudaProgram, EmitError> {
    kiln_ir::loops::verify_loops(lp)?;
    for (what, name) in std::iter::once(("buffer", &lp.buffers))
        .flat_map(|(w, bs)| bs.iter().map(move |b| (w, &b.name)))
        .chain(lp.syms.iter().map(|s| ("symbol", s)))
        .chain(lp.kernels.iter().map(|k| ("kernel", &k.name)))
    {
        if !is_ident(name) {
            return Err(EmitError::BadName { what, name: name.clone() });
        }
    }
    let mut src = String::from(PRELUDE);
    let _ = writeln!(src, "\n// ---- program {} ----", lp.name);
    src.push_str(&args_struct(lp));
    let mut kernels = vec![];
    let mut texts = String::new();
    for k in &lp.kernels {
        let (text, mapping) = body::kernel(lp, k)?;
        texts.push('\n');
        texts.push_str(&text);
        kernels.push(CudaKernel {
            name: k.name.clone(),
            launch: LaunchShape { block_dim: mapping.threads(), domain: domain_dims(k), mapping },
        });
    }
    if kernels.iter().any(|k| matches!(k.launch.mapping, Mapping::Tiled { .. })) {
        src.push_str(tiled::VECTOR_TYPE);
    }
    src.push_str(&texts);
    Ok(CudaProgram {
        source: src,
        kernels,
        ranks: lp.buffers.iter().map(|b| b.shape.len()).collect(),
        syms: lp.syms.len(),
    })
}

fn domain_dims(k: &Kernel) -> Vec<Dim> {
    k.domain.iter().map(|(_, d)| *d).collect()
}

/// The `KilnArgs` struct: buffers (pointer, strides), symbols, flags.
fn args_struct(lp: &LoopProgram) -> String {
    let mut s = String::from("struct KilnArgs {\n");
    for b in &lp.buffers {
        let constness = if b.kind == BufKind::Input { "const " } else { "" };
        let _ = write!(s, "  {constness}{}* {}_;", c_type(b.dtype), b.name);
        for i in 0..b.shape.len() {
            let _ = write!(s, " long long {}_s{i};", b.name);
        }
        s.push('\n');
    }
    for sym in &lp.syms {
        let _ = writeln!(s, "  long long dim_{sym};");
    }
    s.push_str("  unsigned* flags;\n};\n");
    s
}
