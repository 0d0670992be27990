use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>) -> Array1<f32> {
    for _i in 0..3 {}
    x
}

fn main() {}
