//! Plain-Rust memory-bandwidth references, measured in the same run as kiln: the ceilings
//! kiln's elementwise and reduction kernels are compared with.
//!
//! Both loops run on rayon's pool, split into fixed chunks, and are written so LLVM
//! vectorizes them: the triad is one streaming pass, the read loop keeps 16 independent
//! accumulators so its speed is set by memory, not by the latency of one add chain.

use rayon::prelude::*;

/// Elements per rayon task: 256 KiB of f32, big enough to amortize scheduling, small
/// enough to balance two cores.
pub const CHUNK: usize = 1 << 16;

/// STREAM triad, `a[i] = b[i] + s * c[i]`, in parallel, over the common length of the three
/// slices. Moves 12 bytes per element (two reads and one write, STREAM's own count).
pub fn triad(a: &mut [f32], b: &[f32], c: &[f32], s: f32) {
    a.par_chunks_mut(CHUNK).zip(b.par_chunks(CHUNK)).zip(c.par_chunks(CHUNK)).for_each(|((a, b), c)| {
        for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
            *a = b + s * c;
        }
    });
}

/// The triad into a freshly allocated output, as an out-of-place array expression
/// (`numpy`'s `a*x + b*y`, kiln's `axpby`) must do: the difference to [`triad`] is the cost
/// of allocating and first-touching the result.
pub fn triad_alloc(b: &[f32], c: &[f32], s: f32) -> Vec<f32> {
    let n = b.len().min(c.len());
    let mut a = Vec::with_capacity(n);
    a.par_extend(b[..n].par_iter().zip(&c[..n]).map(|(b, c)| b + s * c));
    a
}

/// Sum of every element, in parallel: chunk partial sums combined in chunk order, so the
/// result does not depend on the number of threads. Moves 4 bytes per element.
pub fn read_sum(x: &[f32]) -> f32 {
    let partial: Vec<f32> = x.par_chunks(CHUNK).map(chunk_sum).collect();
    partial.iter().sum()
}

/// One chunk's sum with 16 independent accumulators (four SSE registers of f32).
fn chunk_sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let mut blocks = x.chunks_exact(16);
    for block in &mut blocks {
        for (a, v) in acc.iter_mut().zip(block) {
            *a += v;
        }
    }
    let tail: f32 = blocks.remainder().iter().sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triad_computes_b_plus_s_c_over_every_chunk() {
        // Lengths around the chunk size exercise the last partial chunk.
        for n in [0, 1, 17, CHUNK, CHUNK + 3, 3 * CHUNK - 1] {
            let b: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let c: Vec<f32> = (0..n).map(|i| (i % 7) as f32).collect();
            let mut a = vec![f32::NAN; n];
            triad(&mut a, &b, &c, 0.5);
            let fresh = triad_alloc(&b, &c, 0.5);
            for i in 0..n {
                let want = b[i] + 0.5 * c[i];
                assert_eq!(a[i], want, "triad[{i}] of {n}");
                assert_eq!(fresh[i], want, "triad_alloc[{i}] of {n}");
            }
            assert_eq!(fresh.len(), n);
        }
    }

    #[test]
    fn read_sum_matches_a_serial_sum_of_small_integers() {
        // Small integers sum exactly in f32, whatever the order.
        for n in [0, 5, 16, 33, CHUNK + 9, 2 * CHUNK] {
            let x: Vec<f32> = (0..n).map(|i| (i % 5) as f32).collect();
            let want: u64 = (0..n as u64).map(|i| i % 5).sum();
            assert_eq!(read_sum(&x), want as f32, "n = {n}");
        }
    }
}
