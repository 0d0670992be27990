use kiln::prelude::*;

#[kernel]
fn k(x: Array2<f32>) -> Array1<f32> {
    let (n, _) = x.dim();
    Array1::from_shape_fn(n, |i| x[[i, 0, 1]])
}

fn main() {}
