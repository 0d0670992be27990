use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>) -> Array1<f32> {
    select(x.abs() > 1.0, x)
}

fn main() {}
