//! The CPU runtime's promises: one compilation per kernel and dtype whatever the number of
//! threads calling, and results bitwise identical for any thread count. (JIT memory given back
//! on drop is tests/jit_memory.rs, a process of its own so no sibling test disturbs it.)

use kiln::prelude::*;
use kiln::Device;
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
