//! Print the loop IR of a few random programs (a development aid).
fn main() {
    for seed in 0..3 {
        let p = kiln_ir::testgen::random_program(seed);
        match kiln_ir::lower::lower(&p) {
            Ok(lp) => println!("{lp}"),
            Err(e) => println!("lower error: {e}"),
        }
    }
}
