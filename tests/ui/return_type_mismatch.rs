use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>) -> Array1<i64> {
    x.exp()
}

fn main() {}
