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
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed().as_secs_f64() * 1e3)
}

fn main() -> Result<(), kiln::Error> {
    let device = Device::default_device();
    println!("kiln demo on device `{device}` (set KILN_DEVICE to choose; KILN_DEBUG=1|2 for traces)\n");

    let n = 100_000;
    let x = Array1::from_shape_fn(n, |i| (i % 97) as f32 * 0.01);
    let y = Array1::from_shape_fn(n, |i| (i % 13) as f32);
    let (z, ms) = timed(|| axpby(2.0, &x, 0.5, &y));
    let z = z?;
    let ok = (0..n).all(|i| (z[i] - (2.0 * x[i] + 0.5 * y[i])).abs() <= 1e-5 * (1.0 + z[i].abs()));
    println!("axpby: n={n}  {ms:.2} ms  matches a plain loop: {ok}");
    println!("{}", axpby::kernel().ir_text());
    println!("{}", axpby::kernel().loops(None)?);

    let data = Array2::from_shape_fn((2_000, 16), |(i, j)| ((i * 31 + j * 7) % 101) as f64 / 10.0);
    let (s, ms) = timed(|| standardize(&data));
    let s = s?;
    let col_mean = s.column(3).sum() / s.nrows() as f64;
    println!("standardize<f64>: 2000x16  {ms:.2} ms  column 3 mean after = {col_mean:.2e}");
    println!("{}", standardize::kernel().loops(Some(kiln::DType::F64))?);

    let pts = Array2::from_shape_fn((5_000, 8), |(i, j)| ((i * 17 + j * 3) % 29) as f32 / 29.0);
    let centers = Array2::from_shape_fn((16, 8), |(i, j)| ((i * 5 + j) % 11) as f32 / 11.0);
    let (r, ms) = timed(|| nearest(&pts, &centers));
    let (labels, dists) = r?;
    println!(
        "nearest: n=5000 k=16 d=8  {ms:.2} ms  label[0]={} dist[0]={:.4}  (mean dist {:.4})",
        labels[0],
        dists[0],
        dists.mean().unwrap_or(0.0)
    );
    println!("{}", nearest::kernel().loops(None)?);
    Ok(())
}
