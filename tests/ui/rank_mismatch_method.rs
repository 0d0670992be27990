use kiln::prelude::*;

#[kernel]
fn k(x: Array3<f32>) -> f32 {
    x.nrows() as f32
}

fn main() {}
