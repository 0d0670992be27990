use kiln::prelude::*;

#[kernel]
fn k(x: Array2<f32>) -> Array1<f32> {
    x * 2.0
}

fn main() {}
