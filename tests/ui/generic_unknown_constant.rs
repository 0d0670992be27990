use kiln::prelude::*;

#[kernel]
fn k<F: Float>(x: Array1<F>) -> Array1<F> {
    x + F::pi()
}

fn main() {}
