use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>, y: Array1<f64>) -> Array1<f32> {
    x + y
}

fn main() {}
