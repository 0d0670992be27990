use kiln::prelude::*;

#[kernel]
fn k(m: Array1<bool>) -> Array1<bool> {
    m + m
}

fn main() {}
