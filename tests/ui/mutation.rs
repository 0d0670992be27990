use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>) -> Array1<f32> {
    let mut y = x;
    y
}

fn main() {}
