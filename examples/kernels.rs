//! Kernels for the `kiln` command to inspect and run, and an example program that calls them.
//! `cargo run --example kernels` runs it; `kiln inspect examples/kernels.rs` reads it.

use kiln::ndarray::{Array1, Array2};
use kiln::prelude::*;

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
    let dist = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
    (dist.argmin_axis(Axis(1)), dist.min_axis(Axis(1)))
}

fn main() -> Result<(), kiln::Error> {
    let x = Array1::linspace(0.0, 1.0, 5);
    let y = Array1::from_elem(5, 1.0f32);
    println!("axpby: {}", axpby(2.0, &x, 1.0, &y)?);
    let data = Array2::from_shape_fn((4, 2), |(i, j)| (i * 2 + j) as f64);
    println!("standardize:\n{}", standardize(&data)?);
    let (labels, dist) = nearest(&data.mapv(|v| v as f32), &Array2::from_elem((1, 2), 1.0f32))?;
    println!("nearest: {labels} {dist}");
    Ok(())
}
