use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>) -> Array1<f32> {
    let n = x.len();
    Array1::from_shape_fn(n, |i| x[[x[[i]]]])
}

fn main() {}
