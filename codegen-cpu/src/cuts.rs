//! How a call of a compiled kernel is cut into ranges of its parallel domain for threads: the
//! work a call does, when it is too little to split, and where the cuts fall so that every
//! range keeps whole vector blocks.
//!
//! The runtime owns the threads; it asks [`split`] where to cut and runs the ranges.

use crate::CpuProgram;
use kiln_ir::loops::{Kernel, LoopProgram, Stmt};
use kiln_ir::shapes::dim_value;

/// Below this much work (domain points times inner loop trips) a kernel runs on the calling
/// thread: splitting costs more than it saves.
pub const SERIAL_WORK: u64 = 1 << 15;

/// The work of one call of `lp` under `syms`: the sum of its kernels' [`kernel_work`].
pub fn work(lp: &LoopProgram, syms: &[usize]) -> u64 {
    lp.kernels.iter().map(|k| kernel_work(k, syms).1).fold(0u64, u64::saturating_add)
}

/// A kernel's domain points, and its work: the points times the trips of its inner loops
/// (what [`SERIAL_WORK`] measures).
pub fn kernel_work(k: &Kernel, syms: &[usize]) -> (u64, u64) {
    let len: u64 = k.domain.iter().map(|(_, d)| dim_value(*d, syms) as u64).product();
    (len, len.saturating_mul(trips(&k.body, syms)))
}

/// Where one call of a kernel is cut: `chunks` ranges covering `0..len`, each starting at a
/// multiple of the kernel's cut block (the last one ends at `len`). Only [`split`] makes one,
/// so a caller running native code on its ranges can rely on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    len: u64,
    chunks: u64,
    block: u64,
}

impl Split {
    /// The kernel's domain points.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// How many ranges: 1 runs the whole domain on the calling thread.
    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    /// Range `c` (of `0..chunks`) of the domain, as `(start, end)`: the ranges are disjoint
    /// and cover `0..len` in order.
    pub fn range(&self, c: u64) -> (u64, u64) {
        let cut =
            |c: u64| if c == self.chunks { self.len } else { (self.len * c / self.chunks) / self.block * self.block };
        (cut(c), cut(c + 1))
    }
}

/// How to run kernel `ki` (`k` in the loop program `prog` was compiled from) over its `len`
/// domain points under `syms` with `threads` threads: on the calling thread when its work is
/// under [`SERIAL_WORK`] (or there is one thread, or one point), otherwise in up to four
/// ranges per thread cut at multiples of the kernel's vector block (`cut_block`): a range
/// whose length is not one ends in scalar iterations (at 2000 rows in 8 chunks, a tenth of
/// the rows of `nearest` ran scalar and the kernel took twice as long).
pub fn split(prog: &CpuProgram, ki: usize, k: &Kernel, len: u64, syms: &[usize], threads: u64) -> Split {
    let work = kernel_work(k, syms).1;
    if work < SERIAL_WORK || threads < 2 || len < 2 {
        return Split { len, chunks: 1, block: 1 };
    }
    let block = cut_block(prog, ki, k, syms, threads * 4);
    let chunks = (threads * 4).min(len.div_ceil(block)).max(1);
    Split { len, chunks, block }
}

/// The multiple of domain points to cut kernel `ki`'s range at when splitting it into
/// `chunks`: a vector plan over a rank-1 domain, its widest vector step
/// ([`CpuProgram::block`]); a vector plan over a wider domain vectorizes each row
/// (the innermost axis) on its own, so whole rows, when there are enough of them to go round
/// (KMeans' panels of 32 rows: a row that a cut split ran its two pieces in narrower vector
/// loops and scalar iterations instead of one 8-vector iteration).
fn cut_block(prog: &CpuProgram, ki: usize, k: &Kernel, syms: &[usize], chunks: u64) -> u64 {
    let rank = k.domain.len();
    if rank < 2 || !prog.vectorized()[ki] {
        return prog.block(ki) as u64;
    }
    let row = dim_value(k.domain[rank - 1].1, syms) as u64;
    let rows: u64 = k.domain[..rank - 1].iter().map(|(_, d)| dim_value(*d, syms) as u64).product();
    if row > 0 && rows >= chunks {
        row
    } else {
        1
    }
}

/// Inner loop trips per domain point (at least 1): how much work one point is.
fn trips(body: &[Stmt], syms: &[usize]) -> u64 {
    body.iter()
        .map(|s| match s {
            // A level of a blocked sum (`kiln_ir::loops::blocked`): a `for .. from .. to ..`
            // over the blocks of an axis whose body walks that same axis block by block, so
            // the nest visits each position of the axis once, not once per level.
            Stmt::ForRange { var, extent, body, .. } if walks_same_axis(body, *var, *extent) => trips(body, syms),
            Stmt::For { extent, body, .. } | Stmt::ForRange { extent, body, .. } => {
                (dim_value(*extent, syms) as u64).saturating_mul(trips(body, syms))
            }
            Stmt::If { then, els, .. } => trips(then, syms).max(trips(els, syms)),
            _ => 1,
        })
        .fold(1u64, u64::saturating_add)
}

/// Whether `body` holds a `for .. from .. to ..` over `extent` whose both bounds read `outer`
/// (the piece of the axis that the enclosing level's block `outer` covers: the next level of
/// a blocked sum over the same axis).
fn walks_same_axis(body: &[Stmt], outer: kiln_ir::loops::Var, extent: kiln_ir::Dim) -> bool {
    body.iter().any(|s| {
        matches!(s, Stmt::ForRange { extent: e, start, end, .. }
            if *e == extent && start.reads(outer) && end.reads(outer))
    })
}

#[cfg(test)]
mod tests {
    use super::Split;

    #[test]
    fn ranges_cover_the_domain_in_order_and_start_on_whole_blocks() {
        for (len, chunks, block) in [(2000u64, 8u64, 32u64), (10, 3, 4), (7, 7, 1), (100, 1, 8), (33, 16, 2)] {
            let s = Split { len, chunks, block };
            let mut at = 0;
            for c in 0..chunks {
                let (lo, hi) = s.range(c);
                assert_eq!(lo, at, "{len} in {chunks} by {block}: range {c} starts where the last ended");
                assert!(lo <= hi && hi <= len, "{len} in {chunks} by {block}: range {c} is {lo}..{hi}");
                assert_eq!(lo % block, 0, "{len} in {chunks} by {block}: range {c} starts inside a block");
                at = hi;
            }
            assert_eq!(at, len, "{len} in {chunks} by {block}: the ranges cover the domain");
        }
    }
}
