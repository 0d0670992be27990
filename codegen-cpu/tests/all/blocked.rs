//! The blocked contraction ([`kiln_cpu`]'s `simd::reduce::block_plan`): a serial loop over
//! columns `j` around a vectorizable reduction over `l` that reads `j` runs `BLOCK` columns at
//! once. These tests check that every column's reduction is bitwise what the plain vector loop
//! computes (whether the column falls in a block or in the remainder), that exact sums match
//! the loop interpreter, that consumers run in column order (argmin ties keep the first
//! column), and that loops the blocking must not touch (stores in the consumer) stay correct.

use crate::common::{compile_inspect as compile, run_chunks as run};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::parse_loop_program;
use kiln_ir::Value;
use ndarray::{ArrayD, IxDyn};

/// `nearest`'s fused kernel, plus the largest distance of each row (`out2`).
const NEAREST: &str = "program nearest
  sym n
  sym d
  sym k
  in x: f32[n, d]
  in c: f32[k, d]
  out out0: i64[n]
  out out1: f32[n]
  out out2: f32[n]
  kernel nearest_k0 (v0 < n) {
    mut v1: f32 = f32:inf
    mut v2: i64 = i64:-1
    mut v3: f32 = f32:inf
    mut v9: f32 = f32:-inf
    for v4 < k {
      mut v5: f32 = f32:0.0
      for v6 < d {
        let v7: f32 = powi.2(sub(load x[v0, v6], load c[v4, v6]))
        v5 = add(v5, v7)
      }
      let v8: bool = or(eq(v2, i64:-1), or(lt(v5, v1), and(ne(v5, v5), eq(v1, v1))))
      v1 = select(v8, v5, v1)
      v2 = select(v8, v4, v2)
      v3 = min(v3, v5)
      v9 = max(v9, v5)
    }
    if lt(v2, i64:0) {
      flag empty_arg_reduce
      v2 = i64:0
    }
    store out0[v0] = v2
    store out1[v0] = v3
    store out2[v0] = v9
  }
";

fn f32s(shape: &[usize], seed: u64, f: impl Fn(u64) -> f32) -> ArrayD<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        f(s >> 33)
    })
}

#[test]
fn nearest_is_blocked() {
    let lp = parse_loop_program(NEAREST).expect("parse");
    let p = compile(&lp, true);
    // The blocked copies share one vector loop: two sets of four f32x4 accumulators.
    assert!(p.clif().contains("f32x4"), "{}", p.clif());
    if std::env::var_os("SHOW").is_some() {
        println!("{}", p.asm().unwrap_or_default());
    }
}

#[test]
fn every_column_gets_the_same_bits_in_a_block_or_not() {
    // All centers equal: every distance of a row must be bitwise the same number, whichever
    // path (block or remainder, vector part or scalar tail) computed it, so min == max and the
    // argmin is the first column.
    let lp = parse_loop_program(NEAREST).expect("parse");
    let p = compile(&lp, true);
    for (k, d) in [(1usize, 32usize), (2, 32), (5, 32), (7, 37), (8, 3), (3, 0), (9, 19)] {
        let x = f32s(&[13, d], k as u64, |v| (v % 1000) as f32 / 77.0 - 6.0);
        let row = f32s(&[1, d], 99, |v| (v % 1000) as f32 / 31.0 - 16.0);
        let c = ArrayD::from_shape_fn(IxDyn(&[k, d]), |ix| row[[0, ix[1]]]);
        let out = run(&p, &lp, &[Value::F32(x), Value::F32(c)], 1);
        let (Value::I64(am), Value::F32(mn), Value::F32(mx)) = (&out[0], &out[1], &out[2]) else {
            panic!("output types")
        };
        for i in 0..13 {
            assert_eq!(am[[i]], 0, "k={k} d={d} row {i}");
            assert_eq!(mn[[i]].to_bits(), mx[[i]].to_bits(), "k={k} d={d} row {i}: {} vs {}", mn[[i]], mx[[i]]);
        }
    }
}

#[test]
fn exact_sums_match_the_interpreter_and_every_split() {
    // Small integers: every partial sum is exact in f32, so any summation order gives the
    // interpreter's bits; ties between columns are frequent and must keep the first.
    let lp = parse_loop_program(NEAREST).expect("parse");
    let (vec_p, scalar_p) = (compile(&lp, true), compile(&lp, false));
    for (n, k, d) in [(40usize, 64usize, 32usize), (17, 7, 5), (9, 3, 16), (5, 11, 1), (3, 6, 40)] {
        let x = f32s(&[n, d], (n * k) as u64, |v| (v % 7) as f32 - 3.0);
        let c = f32s(&[k, d], (k * d) as u64, |v| (v % 5) as f32 - 2.0);
        let args = [Value::F32(x), Value::F32(c)];
        let want = run_loops(&lp, &args).expect("interpreter");
        for chunks in [1, 2, 3] {
            let got = run(&vec_p, &lp, &args, chunks);
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "n={n} k={k} d={d} chunks={chunks}");
        }
        let got = run(&scalar_p, &lp, &args, 1);
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "scalar n={n} k={k} d={d}");
    }
}

#[test]
fn nan_distances_keep_the_first_nan_column() {
    let lp = parse_loop_program(NEAREST).expect("parse");
    let p = compile(&lp, true);
    let x = f32s(&[4, 8], 1, |v| (v % 9) as f32);
    let mut c = f32s(&[6, 8], 2, |v| (v % 9) as f32);
    c[[3, 5]] = f32::NAN;
    c[[4, 0]] = f32::NAN;
    let args = [Value::F32(x), Value::F32(c)];
    let want = run_loops(&lp, &args).expect("interpreter");
    let got = run(&p, &lp, &args, 2);
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
    let Value::I64(am) = &got[0] else { panic!("argmin type") };
    assert!(am.iter().all(|&j| j == 3), "{am:?}");
}

#[test]
fn a_consumer_that_stores_is_not_blocked() {
    // A consumer that stores (here each column's sum) keeps the plain loop: blocking would move
    // later columns' reductions before earlier stores, which a reduction may read.
    let src = "program chain
  sym n
  sym d
  sym k
  in x: f32[n, d]
  in w: f32[k]
  out out0: f32[n, k]
  kernel chain_k0 (v0 < n) {
    for v1 < k {
      mut v2: f32 = f32:0.0
      for v3 < d {
        let v4: f32 = mul(load x[v0, v3], load w[v1])
        v2 = add(v2, v4)
      }
      store out0[v0, v1] = v2
    }
  }
";
    let lp = parse_loop_program(src).expect("parse");
    let p = compile(&lp, true);
    let x = f32s(&[3, 8], 5, |v| (v % 3) as f32);
    let w = f32s(&[5], 6, |v| (v % 4) as f32);
    let args = [Value::F32(x), Value::F32(w)];
    let want = run_loops(&lp, &args).expect("interpreter");
    assert_eq!(format!("{:?}", run(&p, &lp, &args, 1)), format!("{want:?}"));
}
