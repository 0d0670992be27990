//! Map loops (`simd::map_plan`): a serial loop whose body stores element `v` of a row, like a
//! scatter's row update `p[c, t, l] = add(load p[c, t, l], load x[i, l])`, runs vectors of
//! consecutive `l`s. Each lane does the scalar iteration's operations on its own element, so
//! the results must equal the loop interpreter's bit for bit, contiguous (vector loop plus
//! tail) or strided (scalar loop), over 1 and 3 chunks.

use crate::common::{check_bitwise as check, compile_inspect as compile, values};
use kiln_ir::loops::parse_loop_program;
use kiln_ir::Value;
use ndarray::{s, ArrayD, IxDyn};

/// KMeans' per-cluster sums as the schedule scatters them (4 chunks of rows).
const SCATTER: &str = "program sums
  sym n
  sym d
  sym k
  in x: f32[n, d]
  in labels: i64[n]
  in c: f32[k, d]
  out out0: f32[k, d]
  temp p: f32[4, k, d]
  kernel sums_k0 (v0 < 4) {
    for v1 < k {
      for v2 < d {
        store p[v0, v1, v2] = f32:0.0
      }
    }
    for v3 < n from div(mul(v0, dim(n)), i64:4) to div(mul(add(v0, i64:1), dim(n)), i64:4) {
      let v4: i64 = load labels[v3]
      if and(ge(v4, i64:0), lt(v4, dim(k))) {
        let v5: i64 = check(v4, k)
        for v6 < d {
          store p[v0, v5, v6] = add(load p[v0, v5, v6], load x[v3, v6])
        }
      }
    }
  }
  kernel sums_k1 (v7 < k, v8 < d) {
    mut v9: f32 = f32:0.0
    for v10 < 4 {
      let v11: f32 = load p[v10, v7, v8]
      v9 = add(v9, v11)
    }
    store out0[v7, v8] = v9
  }
";

/// A loop whose iterations all read the element iteration 0 writes (`t[v0, 0]`, a uniform
/// load): hoisting that load out of a vector loop would read it before the write, so the loop
/// must stay scalar.
const FIRST: &str = "program first
  sym n
  sym d
  in x: f64[n, d]
  out o: f64[n, d]
  temp t: f64[n, d]
  kernel first_k0 (v0 < n) {
    for v1 < d {
      store t[v0, v1] = load x[v0, v1]
    }
    let v3: i64 = check(i64:0, d)
    for v2 < d {
      store t[v0, v2] = add(load t[v0, v2], load t[v0, v3])
    }
  }
  kernel first_k1 (v5 < n, v6 < d) {
    store o[v5, v6] = load t[v5, v6]
  }
";

#[test]
fn scatter_row_updates_run_as_vectors() {
    let lp = parse_loop_program(SCATTER).expect("parse");
    let p = compile(&lp, true);
    assert!(p.clif().contains("f32x4"), "{}", p.clif());
    for n in [0usize, 1, 9, 70] {
        for (d, k) in [(1usize, 2usize), (3, 1), (4, 3), (7, 2), (16, 4), (33, 3)] {
            let x = values(&[n, d], (n * 50 + d) as u64).mapv(|v| v as f32);
            // Labels from -1 to k: both ends match no cluster and are skipped.
            let labels = values(&[n], (n + k) as u64).mapv(|v| ((v + 1.7) / 4.0 * (k as f64 + 2.0)) as i64 - 1);
            let c = ArrayD::<f32>::zeros(IxDyn(&[k, d]));
            let args = [Value::F32(x.clone()), Value::I64(labels.clone()), Value::F32(c.clone())];
            check(&lp, &args, &format!("scatter n={n} d={d} k={k}"));
            // Every other column of a wider matrix: the scalar loop.
            let mut wide = ArrayD::<f32>::from_elem(IxDyn(&[n, 2 * d]), f32::NAN);
            wide.slice_mut(s![.., ..;2]).assign(&x);
            let xs = wide.slice_move(s![.., ..;2]).into_dyn();
            let args = [Value::F32(xs), Value::I64(labels), Value::F32(c)];
            check(&lp, &args, &format!("scatter n={n} d={d} k={k} strided"));
        }
    }
}

#[test]
fn loops_reading_other_iterations_stay_scalar() {
    let lp = parse_loop_program(FIRST).expect("parse");
    for (n, d) in [(1usize, 1usize), (3, 9), (5, 17)] {
        check(&lp, &[Value::F64(values(&[n, d], (n + d) as u64))], &format!("first {n}x{d}"));
    }
}
