//! Criterion benches of kiln's benchmark kernels at 1M elements (`cargo bench -p
//! kiln-benches`): `axpby`, `sum`, `exp_sin` and `nearest`, on `Device::Cpu`, or on the
//! interpreter at 1/16 of the size while the CPU backend is unavailable (the output says which).
//!
//! The comparison with numpy, numba and scikit-learn is `cargo xtask bench`; these benches
//! track kiln alone from change to change.

#![forbid(unsafe_code)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiln::{with_device, Device};
use kiln_benches::kernels::{axpby, exp_sin, nearest, sum_all};
use kiln_benches::{centers, cpu_or_interp, input_x, input_y, points, NEAREST_D, NEAREST_K};
use std::hint::black_box;

fn kernels(cr: &mut Criterion) {
    let (device, note) = cpu_or_interp();
    if let Some(note) = note {
        eprintln!("kiln benches: {note}");
    }
    let scale = if device == Device::Cpu { 1 } else { 16 };
    let n = (1 << 20) / scale;
    let (x, y) = (input_x(n), input_y(n));
    let mut g = cr.benchmark_group(format!("kiln-{device}"));
    g.sample_size(10);
    g.throughput(Throughput::Bytes(12 * n as u64));
    g.bench_function(format!("axpby/{n}"), |b| b.iter(|| with_device(device, || axpby(1.5, &x, -0.5, &y))));
    g.throughput(Throughput::Bytes(4 * n as u64));
    g.bench_function(format!("sum/{n}"), |b| b.iter(|| with_device(device, || sum_all(black_box(&x)))));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("exp_sin/{n}"), |b| b.iter(|| with_device(device, || exp_sin(&x, &y))));
    let np = 16_384 / scale;
    let (p, c) = (points(np, NEAREST_D), centers(NEAREST_K, NEAREST_D));
    g.throughput(Throughput::Elements(np as u64));
    g.bench_function(format!("nearest/{np}x{NEAREST_K}x{NEAREST_D}"), |b| {
        b.iter(|| with_device(device, || nearest(&p, &c)))
    });
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
