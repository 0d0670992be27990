//! Tier 0 (`CompileOptions::fast`: no optimizer, single-pass register allocation, no
//! kernel-level vector loop) computes
//! exactly what the optimized build computes: the runtime runs a kernel's first small calls
//! with tier 0 and later ones with the optimized code, and results may not change between
//! calls. Random well-typed programs, in every layout, bit for bit.

use crate::common::{bits, relayout, Layout};
use kiln_cpu::{compile, compile_with, run_program_chunked, CompileOptions};
use kiln_ir::lower::lower;
use kiln_ir::testgen::{random_args, random_program};

#[test]
fn tier_zero_is_bitwise_the_optimized_build_on_random_programs() {
    let fast = CompileOptions { fast: true, ..CompileOptions::default() };
    let (mut compared, mut vectorized) = (0, 0);
    for seed in 0..300u64 {
        let p = random_program(seed);
        let lp = lower(&p).unwrap_or_else(|e| panic!("seed {seed}: lower failed: {e}"));
        let opt = compile(&lp).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{lp}"));
        let t0 = compile_with(&lp, &fast).unwrap_or_else(|e| panic!("seed {seed}: tier 0: {e}\n{lp}"));
        assert!(t0.vectorized().iter().all(|v| !v), "seed {seed}: tier 0 has no kernel-level vector loop");
        vectorized += opt.vectorized().iter().filter(|v| **v).count();
        for arg_seed in 0..2 {
            let args = random_args(&p, seed * 31 + arg_seed);
            for layout in [Layout::Standard, Layout::Reversed] {
                let args: Vec<_> = args.iter().map(|a| relayout(a, layout)).collect();
                match (run_program_chunked(&opt, &lp, &args, 3), run_program_chunked(&t0, &lp, &args, 3)) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(bits(&a), bits(&b), "seed {seed}/{arg_seed} {layout:?}\n{lp}");
                        compared += 1;
                    }
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "seed {seed}/{arg_seed}"),
                    (a, b) => panic!("seed {seed}/{arg_seed}: optimized {a:?}, tier 0 {b:?}\n{lp}"),
                }
            }
        }
    }
    println!("tiers: {compared} runs compared bit for bit, {vectorized} kernels vectorized");
    assert!(compared > 800, "too few comparable runs: {compared}");
    assert!(vectorized > 50, "too few vectorized kernels: {vectorized}");
}
