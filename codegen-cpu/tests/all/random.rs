//! Property test: random well-typed array programs, lowered to loop IR, compiled with
//! Cranelift and run in every argument layout and chunking, agree with the loop interpreter.

use crate::common;

use kiln_ir::lower::lower;
use kiln_ir::testgen::{random_args, random_program};

#[test]
fn random_programs_match_the_loop_interpreter() {
    let (mut ran, mut flagged, mut vectorized) = (0, 0, 0);
    for seed in 0..300u64 {
        let p = random_program(seed);
        let lp = lower(&p).unwrap_or_else(|e| panic!("seed {seed}: lower failed: {e}"));
        vectorized += kiln_cpu::compile(&lp).map(|c| c.vectorized().iter().filter(|v| **v).count()).unwrap_or(0);
        for arg_seed in 0..3 {
            let args = random_args(&p, seed * 31 + arg_seed);
            if common::check_against_interp(&lp, &args, &format!("seed {seed}/{arg_seed}")) {
                ran += 1;
            } else {
                flagged += 1;
            }
        }
    }
    println!("random programs: {ran} runs compared, {flagged} raised flags, {vectorized} kernels vectorized");
    assert!(ran > 600, "too few comparable runs: {ran}");
    assert!(vectorized > 50, "too few vectorized kernels: {vectorized}");
}
