//! The main job (`cargo run --release`): builds the three kernels of the design document,
//! runs them, and prints their IR, loop IR and timings. It grows with each capability.

use kiln::ndarray::{Array1, Array2};
use kiln::prelude::*;
use std::time::Instant;

#[kernel]
fn axpby(a: f32, x: Array1<f32>, b: f32, y: Array1<f32>) -> Array1<f32> {
    a * x + b * y
}

#[kernel]
fn standardize<F: Float>(x: Array2<F>) -> Array2<F> {
    let mean = x.mean_axis(Axis(0));
    let std = ((&x - &mean).powi(2)).mean_axis(Axis(0)).sqrt();
    (x - mean) / std
}

#[kernel]
fn nearest(x: Array2<f32>, c: Array2<f32>) -> (Array1<i64>, Array1<f32>) {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    // index comprehension: no n*k*d temporary is ever built
    let dist = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
    (dist.argmin_axis(Axis(1)), dist.min_axis(Axis(1)))
}

/// Time `f` once and return its result with the elapsed milliseconds.
fn timed<T>(f: impl Fn() -> T) -> (T, f64) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed().as_secs_f64() * 1e3)
}

/// Run `f` on `device`: the first call (which compiles) and the best of `reps` warm calls.
fn on<T>(device: Device, reps: usize, f: impl Fn() -> Result<T, kiln::Error>) -> Result<(T, f64, f64), kiln::Error> {
    kiln::with_device(device, || {
        let (first, first_ms) = timed(&f);
        let first = first?;
        let mut best = f64::INFINITY;
        for _ in 0..reps {
            let (r, ms) = timed(&f);
            r?;
            best = best.min(ms);
        }
        Ok((first, first_ms, best))
    })
}

fn main() -> Result<(), kiln::Error> {
    println!("kiln demo: three kernels on the interpreter and on native code (Cranelift, {} threads)", rayon_threads());
    println!("(KILN_DEBUG=1..4 traces the compiler; `kiln inspect` prints every stage)\n");

    let n = 4_000_000;
    let x = Array1::from_shape_fn(n, |i| (i % 97) as f32 * 0.01);
    let y = Array1::from_shape_fn(n, |i| (i % 13) as f32);
    let (z, _, interp_ms) = on(Device::Interp, 1, || axpby(2.0, &x, 0.5, &y))?;
    let (zc, first_ms, cpu_ms) = on(Device::Cpu, 10, || axpby(2.0, &x, 0.5, &y))?;
    let ok = (0..n).all(|i| (z[i] - (2.0 * x[i] + 0.5 * y[i])).abs() <= 1e-5 * (1.0 + z[i].abs())) && z == zc;
    let gbs = (3 * 4 * n) as f64 / (cpu_ms * 1e-3) / 1e9;
    println!("axpby  n={n}: interp {interp_ms:.1} ms | cpu {cpu_ms:.2} ms ({gbs:.1} GB/s), first call {first_ms:.2} ms | compile {:.3} ms | matches a plain loop: {ok}",
        axpby::kernel().cpu_compile_micros(None)? as f64 / 1e3);
    println!("{}", axpby::kernel().ir_text());
    println!("{}", axpby::kernel().loops(None)?);
    println!("{}", axpby::kernel().cuda(None)?);
    let small = 100_000;
    let (xs, ys) = (x.slice(kiln::ndarray::s![..small]), y.slice(kiln::ndarray::s![..small]));
    let (zs, first_ms, sim_ms) = on(Device::CudaSim, 2, || axpby(2.0, xs, 0.5, ys))?;
    println!(
        "axpby on the CUDA simulator, n={small}: first call (C++ compile of the CUDA C above, cached on disk) {first_ms:.1} ms, then {sim_ms:.2} ms | equals cpu: {}\n",
        zs.iter().zip(zc.iter()).all(|(a, b)| a == b)
    );

    let data = Array2::from_shape_fn((200_000, 16), |(i, j)| ((i * 31 + j * 7) % 101) as f64 / 10.0);
    let (s, _, interp_ms) = on(Device::Interp, 1, || standardize(&data))?;
    let (sc, _, cpu_ms) = on(Device::Cpu, 5, || standardize(&data))?;
    let close = s.iter().zip(sc.iter()).all(|(a, b)| (a - b).abs() <= 1e-9 * (1.0 + a.abs()));
    let col_mean = sc.column(3).sum() / sc.nrows() as f64;
    println!(
        "standardize<f64> 200000x16: interp {interp_ms:.1} ms | cpu {cpu_ms:.2} ms | compile {:.3} ms | column mean after {col_mean:.1e} | cpu == interp: {close}",
        standardize::kernel().cpu_compile_micros(Some(kiln::DType::F64))? as f64 / 1e3
    );
    println!("{}", standardize::kernel().loops(Some(kiln::DType::F64))?);

    let pts = Array2::from_shape_fn((20_000, 32), |(i, j)| ((i * 17 + j * 3) % 29) as f32 / 29.0);
    let centers = Array2::from_shape_fn((64, 32), |(i, j)| ((i * 5 + j) % 11) as f32 / 11.0);
    let ((labels, dists), _, interp_ms) = on(Device::Interp, 0, || nearest(&pts, &centers))?;
    let ((lc, _), _, cpu_ms) = on(Device::Cpu, 5, || nearest(&pts, &centers))?;
    println!(
        "nearest n=20000 k=64 d=32: interp {interp_ms:.1} ms | cpu {cpu_ms:.2} ms | compile {:.3} ms | label[0]={} dist[0]={:.4} | labels agree: {}",
        nearest::kernel().cpu_compile_micros(None)? as f64 / 1e3,
        labels[0],
        dists[0],
        labels == lc
    );
    println!("{}", nearest::kernel().loops(None)?);
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
