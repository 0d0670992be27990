use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>) -> Array2<f32> {
    let n = x.len();
    let a = Array2::from_shape_fn((n, 3), |(i, _j)| x[[i]]);
    let b = Array2::from_shape_fn((n, 4), |(i, _j)| x[[i]]);
    a + b
}

fn main() {}
