use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>) -> Array1<f32> {
    let f = |v: f32| v * 2.0;
    x
}

fn main() {}
