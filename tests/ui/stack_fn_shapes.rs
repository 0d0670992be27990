use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>, y: Array2<f32>) -> Array2<f32> {
    ndarray::stack(Axis(0), &[x.view(), y.view()]).unwrap()
}

fn main() {}
