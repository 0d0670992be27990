use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>, n: f32) -> Array1<f32> {
    x.powi(n)
}

fn main() {}
