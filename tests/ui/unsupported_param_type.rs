use kiln::prelude::*;

#[kernel]
fn k(x: Vec<f32>) -> f32 {
    1.0
}

fn main() {}
