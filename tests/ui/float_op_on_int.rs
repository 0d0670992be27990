use kiln::prelude::*;

#[kernel]
fn k(x: Array1<i32>) -> Array1<i32> {
    x.exp()
}

fn main() {}
