//! The CPU runtime's promises: one compilation per kernel and dtype whatever the number of
//! threads calling, results bitwise identical for any thread count, and JIT memory given back
//! when a kernel is dropped.

use kiln::ndarray::Array2;
use kiln::prelude::*;
use kiln::{Device, Kernel};
use kiln_tests::Rng;
use std::sync::Barrier;

#[kernel]
fn stats(x: Array2<f32>) -> (f32, kiln::ndarray::Array1<f32>, kiln::ndarray::Array1<f32>, Array2<f32>) {
    let mean = x.mean_axis(Axis(0));
    (x.sum(), mean, x.sum_axis(Axis(1)), (x - mean).exp())
}

#[test]
fn sixteen_threads_compile_once() {
    let x = Rng::new(1).arr2_f32(300, 7, -1.0, 1.0);
    let barrier = Barrier::new(16);
    let results: Vec<f32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    kiln::with_device(Device::Cpu, || stats(&x)).unwrap().0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(|r| r.to_bits() == results[0].to_bits()));
    assert_eq!(stats::kernel().cpu_compile_count(), 1, "compiled once for 16 concurrent callers");
    assert_eq!(stats::kernel().lowering_count(), 1, "lowered once");
}

#[test]
fn bitwise_identical_with_one_and_two_threads() {
    let x = Rng::new(2).arr2_f32(200_001, 5, -1.0, 1.0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| kiln::with_device(Device::Cpu, || stats(&x)).unwrap())
    };
    let (a, b, c) = (run(1), run(2), run(2));
    for (p, q) in [(&a, &b), (&b, &c)] {
        assert_eq!(p.0.to_bits(), q.0.to_bits(), "x.sum()");
        assert!(p.1.iter().zip(q.1.iter()).all(|(u, v)| u.to_bits() == v.to_bits()), "mean_axis(0)");
        assert!(p.2.iter().zip(q.2.iter()).all(|(u, v)| u.to_bits() == v.to_bits()), "sum_axis(1)");
        assert!(p.3.iter().zip(q.3.iter()).all(|(u, v)| u.to_bits() == v.to_bits()), "exp(x - mean)");
    }
}

/// Resident memory of this process in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0) * 4096
}

const CYCLES: usize = 100;
/// Resident growth measured here with `std::mem::forget(k)` in the loop (100 cycles): 2812 KiB
/// (dropping: about 50 KiB).
const LEAK_BYTES: usize = 2812 << 10;

#[test]
fn dropping_a_kernel_releases_its_jit_memory() {
    let program = stats::kernel().program().clone();
    let x = Array2::<f32>::ones((4, 3));
    let args = || vec![kiln::runtime::array_arg(&x)];
    // Warm up allocators and caches, then measure many compile-and-drop cycles.
    for _ in 0..20 {
        let k = Kernel::from_program(program.clone()).unwrap();
        k.call_on(Device::Cpu, None, args()).unwrap();
    }
    let before = rss();
    for _ in 0..CYCLES {
        let k = Kernel::from_program(program.clone()).unwrap();
        k.call_on(Device::Cpu, None, args()).unwrap();
        assert_eq!(k.cpu_compile_count(), 1);
    }
    let grown = rss().saturating_sub(before);
    // Dropping must stay well below what leaking costs.
    assert!(grown < LEAK_BYTES / 4, "resident memory grew by {} KiB over {CYCLES} compile/drop cycles", grown >> 10);
}
