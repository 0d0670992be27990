use kiln::prelude::*;

#[kernel]
fn k<F: Copy>(x: Array1<F>) -> Array1<F> {
    x
}

fn main() {}
