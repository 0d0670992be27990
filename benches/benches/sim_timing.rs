//! Simulator costs, measured and printed (never asserted): a cold C++ compile, a cache hit, and
//! launches of an elementwise kernel (warp as loop), of block reductions and of a tiled
//! contraction (fibers).
//! Run with `cargo bench -p kiln-benches --bench sim_timing` (a bench, not a test: nothing
//! here can fail on a slow machine).

// The programs and inputs of kiln-cuda's simulator tests, shared with them.
#[path = "../../codegen-cuda/tests/all/sim_common.rs"]
mod sim_common;

use kiln_cuda::{compile_sim, emit, run_sim};
use kiln_ir::loops::parse_loop_program;
use kiln_ir::{DType, Value};
use ndarray::{ArrayD, IxDyn};
use sim_common::{axpby, lowered, standardize, TILED_MATMUL};
use std::time::Instant;

fn main() {
    // A cache directory of its own, so the first compile is cold.
    let dir = std::env::temp_dir().join(format!("kiln-sim-timing-{}", std::process::id()));
    std::env::set_var("KILN_CACHE_DIR", &dir);
    let matmul = parse_loop_program(TILED_MATMUL).unwrap_or_else(|e| panic!("{e}"));
    for (name, lp) in
        [("axpby", lowered(&axpby())), ("standardize", lowered(&standardize(DType::F32))), ("matmul", matmul)]
    {
        let cp = emit(&lp).unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        let sp = compile_sim(&cp).unwrap_or_else(|e| panic!("{e}"));
        let cold = t.elapsed();
        let t = Instant::now();
        let again = compile_sim(&cp).unwrap_or_else(|e| panic!("{e}"));
        let hit = t.elapsed();
        assert_eq!(again.path(), sp.path());
        println!("{name}: {} kernels, cold compile {cold:.2?}, cache hit {hit:.2?}", cp.kernels.len());
        let args = match name {
            "axpby" => {
                let n = 1 << 20;
                let s = Value::F32(ArrayD::from_elem(IxDyn(&[]), 2.0));
                vec![s.clone(), Value::F32(sim_common::f32s(&[n], 1)), s, Value::F32(sim_common::f32s(&[n], 2))]
            }
            "standardize" => vec![Value::F32(sim_common::f32s(&[100_000, 16], 3))],
            _ => vec![Value::F32(sim_common::f32s(&[256, 256], 4)), Value::F32(sim_common::f32s(&[256, 256], 5))],
        };
        let t = Instant::now();
        let out = run_sim(&sp, &lp, &args).unwrap_or_else(|e| panic!("{e}"));
        println!("{name}: launch of all kernels {:.2?} (output shape {:?})", t.elapsed(), out[0].shape());
    }
    std::fs::remove_dir_all(&dir).ok();
}
