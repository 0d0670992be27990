use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>, y: Array1<f32>) -> Array1<f32> {
    ndarray::concatenate(Axis(0), (x.view(), y.view())).unwrap()
}

fn main() {}
