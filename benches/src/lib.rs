//! kiln-benches: the benchmark kernels, their inputs, the plain-Rust memory-bandwidth
//! references and a timing helper, shared by the criterion benches (`cargo bench -p
//! kiln-benches`) and the `kiln-bench` binary that `cargo xtask bench` runs.
//!
//! Benchmarks are measured, never asserted: nothing here is a test of speed. The input
//! formulas match `benches/python/baselines.py`, so kiln and numpy compute the same values.

#![forbid(unsafe_code)]

pub mod json;
pub mod kernels;
pub mod stream;

use std::hint::black_box;
use std::time::Instant;

use kiln::ndarray::{Array1, Array2};
use kiln::{with_device, Device};

/// Elements in the elementwise and reduction benchmarks: 16M f32 (64 MiB per array), far
/// larger than any cache, so these kernels are bound by memory bandwidth.
pub const N: usize = 16 << 20;

/// The `nearest` benchmark's points, centers and features (the README's example kernel).
pub const NEAREST_N: usize = 100_000;
/// Number of centers in the `nearest` benchmark.
pub const NEAREST_K: usize = 64;
/// Number of features in the `nearest` benchmark.
pub const NEAREST_D: usize = 32;

/// The side of the square matrices of the `a.dot(&b)` benchmark.
pub const MATMUL_N: usize = 2048;

/// A `matmul` operand, `n x n`: element `j` (row-major) is `(j * seed % 1009) * 1e-3 - 0.5`
/// in f64 (round it to f32 for the f32 product), the same numbers as `matmul_inputs` in
/// `benches/python/baselines.py`.
pub fn square(n: usize, seed: usize) -> Array2<f64> {
    tall(n, n, seed)
}

/// The side of the square operands of the fused RBF kernel-matrix benchmark (`rbf_fused`):
/// `x` and `y` are the `a.dot(&b)` operands ([`square`] with seeds 7919 and 104729) in f32.
pub const RBF_N: usize = 2048;

/// The side of the softmax benchmark's input (`softmax_rows`, [`square`] with seed 7919 in
/// f32).
pub const SOFTMAX_N: usize = 4096;

/// The rows of the Gram benchmark (`x.t().dot(&x)`, `x: [GRAM_N, d]`).
pub const GRAM_N: usize = 200_000;

/// The column counts of the Gram benchmark.
pub const GRAM_D: [usize; 2] = [32, 300];

/// An `n x d` operand, identical in Python (`tall` in `benches/python/baselines.py`).
pub fn tall(n: usize, d: usize, seed: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, d), |(r, c)| ((r * d + c) * seed % 1009) as f64 * 1e-3 - 0.5)
}

/// Wall-time statistics of repeated runs, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// The median run.
    pub median_s: f64,
    /// The fastest run.
    pub min_s: f64,
    /// How many runs were timed (warm-up runs excluded).
    pub runs: usize,
}

/// Time `runs` calls of `f` after `warmup` untimed calls; the result of each call is passed
/// through [`black_box`] so the work cannot be optimized away. `runs` of 0 is treated as 1.
pub fn measure<R>(warmup: usize, runs: usize, mut f: impl FnMut() -> R) -> Stats {
    for _ in 0..warmup {
        black_box(f());
    }
    let runs = runs.max(1);
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    Stats { median_s: times[runs / 2], min_s: times[0], runs }
}

/// Time several workloads in turns: every warm-up first, then rounds of one timed run of
/// each. A slow or fast spell of a shared machine then falls on all of them alike, so the
/// ratios between them hold even when their absolute times drift between runs.
pub fn measure_interleaved(warmup: usize, runs: usize, fs: &mut [&mut dyn FnMut()]) -> Vec<Stats> {
    for f in fs.iter_mut() {
        for _ in 0..warmup {
            f();
        }
    }
    let runs = runs.max(1);
    let mut times = vec![Vec::with_capacity(runs); fs.len()];
    for _ in 0..runs {
        for (f, t) in fs.iter_mut().zip(&mut times) {
            let start = Instant::now();
            f();
            t.push(start.elapsed().as_secs_f64());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            Stats { median_s: t[runs / 2], min_s: t[0], runs }
        })
        .collect()
}

/// Time one call of `f`, returning its result and the seconds it took.
pub fn time_once<R>(f: impl FnOnce() -> R) -> (R, f64) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed().as_secs_f64())
}

/// The `x` input: `x[i] = (i % 1000) * 0.002 - 1`, in [-1, 1).
pub fn input_x(n: usize) -> Array1<f32> {
    Array1::from_shape_fn(n, |i| (i % 1000) as f32 * 0.002 - 1.0)
}

/// Elements of the argsort benchmark (issue 15: argsort of 1M f32).
pub const SORT_N: usize = 1 << 20;

/// The argsort benchmark's values: `(i * 7919 % 1000003) * 1e-6`, scattered in [0, 1) with
/// few ties, the same numbers as `sort_input` in `benches/python/baselines.py`.
pub fn sort_input(n: usize) -> Array1<f32> {
    Array1::from_shape_fn(n, |i| ((i as u64 * 7919) % 1_000_003) as f32 * 1e-6)
}

/// Bins of the bincount benchmark (issue 15: 16M labels into 64 bins).
pub const BINS: usize = 64;

/// The bincount benchmark's labels: `(i * 7919) % 64`, the same as `labels` in
/// `benches/python/baselines.py`.
pub fn labels(n: usize) -> Array1<i64> {
    Array1::from_shape_fn(n, |i| ((i as u64 * 7919) % BINS as u64) as i64)
}

/// The `y` input: `y[i] = (i % 777) * 0.005 - 2`, in [-2, 2).
pub fn input_y(n: usize) -> Array1<f32> {
    Array1::from_shape_fn(n, |i| (i % 777) as f32 * 0.005 - 2.0)
}

/// The `nearest` points, `n x d`: element `i` (row-major) is `(i * 7919 % 10007) * 1e-4`.
pub fn points(n: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, d), |(r, c)| ((r * d + c) * 7919 % 10007) as f32 * 1e-4)
}

/// The `nearest` centers, `k x d`: element `j` (row-major) is `(j * 104729 % 10007) * 1e-4`.
pub fn centers(k: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((k, d), |(r, c)| ((r * d + c) * 104729 % 10007) as f32 * 1e-4)
}

/// `Device::Cpu` if it runs a kernel, else `Device::Interp` with a note saying why (the CPU
/// backend may not be wired into the runtime yet). The check calls [`kernels::probe`], so no
/// benchmarked kernel is compiled before its compile latency is measured.
pub fn cpu_or_interp() -> (Device, Option<String>) {
    let x = input_x(8);
    match with_device(Device::Cpu, || kernels::probe(&x)) {
        Ok(_) => (Device::Cpu, None),
        Err(e) => (Device::Interp, Some(format!("cpu unavailable ({e}); fell back to the interpreter"))),
    }
}

/// Gigabytes (1e9 bytes) per second for `bytes` moved in `seconds`.
pub fn gbs(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 / seconds / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_counts_runs_and_orders_stats() {
        let mut calls = 0;
        let s = measure(2, 5, || calls += 1);
        assert_eq!(calls, 7);
        assert_eq!(s.runs, 5);
        assert!(s.min_s <= s.median_s);
        let zero = measure(0, 0, || ());
        assert_eq!(zero.runs, 1);
    }

    #[test]
    fn inputs_follow_the_python_formulas() {
        // The same values baselines.py computes with numpy.
        let x = input_x(1001);
        assert_eq!(x[0], -1.0);
        assert_eq!(x[1000], -1.0);
        assert!((x[500] - 0.0).abs() < 1e-6);
        let y = input_y(778);
        assert_eq!(y[777], -2.0);
        let p = points(3, 4);
        assert_eq!(p[[0, 1]], 7919.0 * 1e-4);
        assert_eq!(p[[2, 3]], (11 * 7919 % 10007) as f32 * 1e-4);
        let c = centers(2, 4);
        assert_eq!(c[[1, 0]], (4 * 104729 % 10007) as f32 * 1e-4);
    }

    #[test]
    fn gbs_is_bytes_over_seconds() {
        assert_eq!(gbs(3_000_000_000, 1.5), 2.0);
    }
}
