//! Property test: random well-typed array programs, lowered to loop IR, emitted as CUDA C and
//! run by the simulator (standard and transposed layouts; one block, a few blocks, and the
//! default grid), agree with the loop interpreter: floats within 1e-5 relative (f32) or
//! 1e-12 (f64), everything else exactly, and the same error flags.

use crate::sim_common::{assert_close, fortran};
use kiln_cuda::{compile_sim, emit, run_sim_with, SimError, SimOptions};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::lower::lower;
use kiln_ir::testgen::{random_args, random_program};
use kiln_ir::Value;

/// How many random programs to compile (each costs one C++ compile, about 0.7 s here, cached
/// on disk after the first run); `KILN_SIM_RANDOM_PROGRAMS` overrides it for longer runs.
fn programs() -> u64 {
    std::env::var("KILN_SIM_RANDOM_PROGRAMS").ok().and_then(|v| v.parse().ok()).unwrap_or(60)
}

#[test]
fn random_programs_match_the_loop_interpreter() {
    let (mut ran, mut flagged) = (0, 0);
    for seed in 0..programs() {
        let p = random_program(seed);
        let lp = lower(&p).unwrap_or_else(|e| panic!("seed {seed}: lower failed: {e}"));
        let cp = emit(&lp).unwrap_or_else(|e| panic!("seed {seed}: emit failed: {e}\n{lp}"));
        let sp = compile_sim(&cp).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{lp}"));
        for arg_seed in 0..3 {
            let args = random_args(&p, seed * 31 + arg_seed);
            let want = run_loops(&lp, &args);
            let layouts: [Vec<Value>; 2] = [args.clone(), args.iter().map(fortran).collect()];
            for (li, args) in layouts.iter().enumerate() {
                for max_grid in [1, 2, 64] {
                    let ctx = format!("seed {seed}/{arg_seed} layout {li} max_grid {max_grid}");
                    let got = run_sim_with(&sp, &lp, args, SimOptions { max_grid });
                    match (&got, &want) {
                        (Ok(g), Ok(w)) => {
                            assert_eq!(g.len(), w.len(), "{ctx}: output count");
                            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                                assert_close(a, b, &format!("{ctx}: output {i}\n{lp}"));
                            }
                        }
                        (Err(SimError::Flag(_)), Err(_)) => {}
                        _ => panic!("{ctx}: sim {got:?} vs interpreter {want:?}\n{lp}"),
                    }
                }
            }
            if want.is_ok() {
                ran += 1;
            } else {
                flagged += 1;
            }
        }
    }
    println!("random programs: {ran} runs compared, {flagged} raised flags");
    assert!(ran as u64 > programs() * 2, "too few comparable runs: {ran}");
}
