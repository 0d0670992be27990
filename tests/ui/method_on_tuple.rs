use kiln::prelude::*;

#[kernel]
fn k(x: Array2<f32>) -> f32 {
    x.dim().sqrt()
}

fn main() {}
