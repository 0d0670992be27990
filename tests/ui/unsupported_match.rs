use kiln::prelude::*;

#[kernel]
fn k(x: Array1<f32>, flag: bool) -> Array1<f32> {
    match flag {
        true => x,
        false => -x,
    }
}

fn main() {}
