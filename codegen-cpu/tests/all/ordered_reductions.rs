//! A kernel with a vector plan computes each point's serial reductions in order in every
//! build: the lanes of its vector loop, its scalar tail and its tier-0 build (which has no
//! vector loop). Before, tier 0 and the tail summed a contiguous float reduction as
//! `simd::reduce`'s vector loop does (another order), so PCA's `project` gave a point a
//! different last bit depending on which code computed it: the tier-0 code of a kernel's first
//! small calls or the optimized code after (seen as a pipeline test failing 1 run in 5).

use crate::common::{check_bitwise as check, values};
use kiln_ir::loops::parse_loop_program;
use kiln_ir::Value;

/// PCA's `project` kernel as lowered: `((x - mean) @ components^T) / scale`.
const PROJECT: &str = "program project
  sym x_0
  sym x_1
  sym components_0
  in x: f64[x_0, x_1]
  in mean: f64[x_1]
  in components: f64[components_0, x_1]
  in scale: f64[components_0]
  out out0: f64[x_0, components_0]
  kernel project_k0 (v0 < x_0, v1 < components_0) {
    mut v2: f64 = f64:0.0
    for v3 < x_1 {
      let v4: f64 = mul(sub(load x[v0, v3], load mean[v3]), load components[v1, v3])
      v2 = add(v2, v4)
    }
    store out0[v0, v1] = div(v2, load scale[v1])
  }
";

#[test]
fn every_build_sums_a_planned_kernels_reductions_in_order() {
    let lp = parse_loop_program(PROJECT).unwrap();
    // Reductions of 4 (one vector pair), 9 and 37 terms (unrolled vectors and a scalar rest);
    // 2 and 5 output columns (a vector and a tail, or tails only), rows over 1 and 3 chunks.
    for (n, d, k) in [(150, 4, 2), (61, 9, 5), (33, 37, 3)] {
        let args = vec![
            Value::F64(values(&[n, d], 1)),
            Value::F64(values(&[d], 2)),
            Value::F64(values(&[k, d], 3)),
            Value::F64(values(&[k], 4)),
        ];
        check(&lp, &args, &format!("project {n}x{d}, {k} components"));
    }
}
