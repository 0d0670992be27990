use kiln::prelude::*;

#[kernel]
fn k(x: Array2<f32>) -> Array2<f32> {
    x.slice(s![1..])
}

fn main() {}
