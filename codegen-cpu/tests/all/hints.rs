//! The schedule's hint decides which vector strategies a kernel's loops may take
//! (`kiln_cpu::simd::Strategies`); the kernel's shape then decides whether one applies. These
//! tests compile the same loops under different hints and check that the CLIF follows the
//! hint while the results stay bitwise those of the loop interpreter.

use crate::common::{compile_inspect as compile, run_chunks as run, values};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::parse_loop_program;
use kiln_ir::Value;

/// A row update: a serial map loop (what a scatter kernel runs per row), under `hint`.
fn scale_rows(hint: &str) -> String {
    format!(
        "program scale_rows
  sym n
  sym d
  in x: f32[n, d]
  out y: f32[n, d]
  kernel scale_rows_k0 (v0 < n){hint} {{
    for v1 < d {{
      store y[v0, v1] = mul(load x[v0, v1], f32:2.5)
    }}
  }}
"
    )
}

#[test]
fn a_map_loop_is_vectorized_where_the_hint_allows_it_with_the_same_bits() {
    let x = values(&[5, 19], 3).mapv(|v| v as f32);
    let mut outs = vec![];
    for (hint, vector) in [("", true), (" serial", false)] {
        let lp = parse_loop_program(&scale_rows(hint)).expect("parse");
        let p = compile(&lp, true);
        // A plain kernel is recognised by its shape: the map loop gets f32x4 copies. A serial
        // kernel's loops are reductions by the schedule's decision: no map loop is looked for.
        assert_eq!(p.clif().contains("f32x4"), vector, "hint `{hint}`:\n{}", p.clif());
        let args = [Value::F32(x.clone())];
        let got = run(&p, &lp, &args, 2);
        let want = run_loops(&lp, &args).expect("loop interpreter");
        assert_eq!(got, want, "hint `{hint}`");
        outs.push(got);
    }
    assert_eq!(outs[0], outs[1], "the hint changes the code, never the results");
}
