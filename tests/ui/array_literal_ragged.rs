use kiln::prelude::*;

#[kernel]
fn k(x: Array2<f32>) -> Array2<f32> {
    &x + &array![[1.0, 2.0], [3.0]]
}

fn main() {}
