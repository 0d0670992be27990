use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>, y: Array1<f32>) -> Array1<f32> {
    Zip::from(x).and(y).map_collect(|a, b| a + b)
}

fn main() {}
