use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>) {
    let _y = x;
}

fn main() {}
