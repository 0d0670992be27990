use kiln::prelude::*;

#[kernel]
fn k(x: Array2<f32>) -> Array1<f32> {
    x.sum_axis(Axis(2))
}

fn main() {}
