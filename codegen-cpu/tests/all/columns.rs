//! Vectors of columns through a serial loop (`simd::plan`'s *ordered* plans): a kernel whose
//! innermost domain axis `j` is contiguous and whose body runs a loop over rows, as in the
//! two-phase Gram partials `p[c, i, j] = sum_{r in chunk c} a[r, i] * b[r, j]`. Each lane of
//! a vector accumulator adds its terms in the scalar loop's order, so these tests demand the
//! loop interpreter's bits exactly, on random (inexact) floats: contiguous inputs (vector
//! path plus scalar tail for every column count), strided inputs (the scalar fallback), a
//! uniform `mut` beside the varying ones, and an argmin carried in vectors.

use crate::common::{check_bitwise as check, compile_inspect as compile, values};
use kiln_ir::loops::parse_loop_program;
use kiln_ir::Value;
use ndarray::{s, ArrayD, IxDyn};

/// The schedule's Gram partials for centred columns (what `xc.t().dot(&xc)` lowers to).
const GRAM: &str = "program gram
  sym n
  sym d
  in x: f32[n, d]
  in m: f32[d]
  out p: f32[4, d, d]
  kernel gram_k0 (v0 < 4, v1 < d, v2 < d) {
    mut v3: f32 = f32:0.0
    for v4 < n from div(mul(v0, dim(n)), i64:4) to div(mul(add(v0, i64:1), dim(n)), i64:4) {
      let v5: f32 = sub(load x[v4, v1], load m[v1])
      let v6: f32 = sub(load x[v4, v2], load m[v2])
      v3 = add(v3, mul(v5, v6))
    }
    store p[v0, v1, v2] = v3
  }
";

/// A weighted mean per column pair: a uniform `mut` (`v4`, the weight total) in the loop
/// beside the varying one, a nested uniform loop, and a division after the loop.
const WEIGHTED: &str = "program weighted
  sym n
  sym k
  sym d
  in a: f64[n, k]
  in b: f64[n, d]
  out o: f64[k, d]
  kernel weighted_k0 (v0 < k, v1 < d) {
    mut v3: f64 = f64:0.0
    mut v4: f64 = f64:0.0
    for v5 < n {
      mut v8: f64 = f64:1.0
      for v9 < k {
        v8 = sub(v8, load a[v5, v9])
      }
      let v6: f64 = div(load a[v5, v0], sub(f64:2.0, v8))
      v4 = add(v4, v6)
      v3 = add(v3, mul(v6, load b[v5, v1]))
    }
    store o[v0, v1] = div(v3, add(v4, f64:1.0))
  }
";

/// The first row holding each column's minimum (NaN wins, ties keep the first row).
const ARGMIN: &str = "program colargmin
  sym n
  sym d
  in x: f64[n, d]
  out o: i64[d]
  out m: f64[d]
  kernel colargmin_k0 (v0 < d) {
    mut v1: f64 = f64:inf
    mut v2: i64 = i64:-1
    for v3 < n {
      let v4: f64 = load x[v3, v0]
      let v5: bool = or(eq(v2, i64:-1), or(lt(v4, v1), and(ne(v4, v4), eq(v1, v1))))
      v1 = select(v5, v4, v1)
      v2 = select(v5, v3, v2)
    }
    store o[v0] = v2
    store m[v0] = v1
  }
";

/// The same matrix with strides `(2 d, 2)`: no axis is contiguous, so every loop (the
/// column vectors here, and the reduction vectors of `simd::reduce`, whose summation order
/// differs from the interpreter's) takes the scalar path.
fn spread(a: &ArrayD<f64>) -> ArrayD<f64> {
    let (n, d) = (a.shape()[0], a.shape()[1]);
    let mut f = ArrayD::from_elem(IxDyn(&[n, 2 * d]), f64::NAN).slice_move(s![.., ..;2]).into_dyn();
    f.assign(a);
    f
}

#[test]
fn gram_partials_are_vectorized_over_columns() {
    let lp = parse_loop_program(GRAM).expect("parse");
    let p = compile(&lp, true);
    assert!(p.clif().contains("f32x4"), "{}", p.clif());
    // (No d = 1: a single column is contiguous along the rows, so the reduction vectors of
    // `simd::reduce` would sum in their own order, which is not what this file tests.)
    for n in [0usize, 1, 5, 65, 200] {
        for d in [2usize, 3, 4, 5, 16, 17, 33] {
            let x = values(&[n, d], (n * 100 + d) as u64).mapv(|v| v as f32);
            let m = values(&[d], d as u64).mapv(|v| v as f32 * 0.1);
            check(&lp, &[Value::F32(x.clone()), Value::F32(m.clone())], &format!("gram n={n} d={d}"));
            let xs = spread(&x.mapv(f64::from)).mapv(|v| v as f32);
            check(&lp, &[Value::F32(xs), Value::F32(m)], &format!("gram n={n} d={d} strided"));
        }
    }
}

#[test]
fn uniform_muts_and_nested_loops_beside_vector_accumulators() {
    let lp = parse_loop_program(WEIGHTED).expect("parse");
    assert!(compile(&lp, true).clif().contains("f64x2"));
    for (n, k, d) in [(0usize, 2usize, 3usize), (7, 3, 5), (40, 4, 8), (13, 1, 2), (9, 2, 1)] {
        let a = values(&[n, k], (n + k) as u64).mapv(f64::abs);
        let b = values(&[n, d], (n * d) as u64);
        check(&lp, &[Value::F64(a.clone()), Value::F64(b.clone())], &format!("weighted {n}x{k}x{d}"));
        check(&lp, &[Value::F64(a), Value::F64(spread(&b))], &format!("weighted {n}x{k}x{d} strided"));
    }
}

#[test]
fn column_argmin_keeps_first_rows_and_nans() {
    let lp = parse_loop_program(ARGMIN).expect("parse");
    assert!(compile(&lp, true).clif().contains("f64x2"));
    for (n, d) in [(0usize, 3usize), (1, 1), (6, 5), (31, 8)] {
        // Few distinct values: ties are common and must keep the first row.
        let mut x = values(&[n, d], (n + d) as u64).mapv(|v| (v * 2.0).round());
        if n > 4 && d > 2 {
            x[[3, 2]] = f64::NAN;
            x[[4, 1]] = f64::NAN;
        }
        check(&lp, &[Value::F64(x)], &format!("argmin {n}x{d}"));
    }
}

/// `exp(-gamma * sum_l (x[i, l] - y[j, l])^2)`, the RBF kernel matrix as one fused
/// contraction (what `Array2::from_shape_fn((n, m), |(i, j)| (sum(..) * g).exp())` lowers to):
/// the polynomial `exp` is an epilogue after the serial loop.
const RBF: &str = "program rbf
  sym n
  sym d
  sym m
  in x: f32[n, d]
  in y: f32[m, d]
  in g: f32[]
  out o: f32[n, m]
  kernel rbf_k0 (v0 < n, v1 < m) serial {
    mut v2: f32 = f32:0.0
    for v3 < d {
      let v4: f32 = powi.2(sub(load x[v0, v3], load y[v1, v3]))
      v2 = add(v2, v4)
    }
    store o[v0, v1] = exp(mul(v2, load g[]))
  }
";

/// A polynomial epilogue after an ordered plan's loop does not make the plan run one vector
/// at a time: the contraction keeps `ORDERED_UNROLL` accumulators (before, the RBF matrix ran
/// as one accumulator chain, 2.4x slower at 2048^3). The sums are the scalar loop's, lane by
/// lane; only `exp` differs (the polynomial against libm, within `F32_TOL`), so this compares
/// with the loop interpreter at that tolerance, in every layout (transposed, reversed) and
/// chunking, at every column count around the vector widths and an odd and empty `d`.
#[test]
fn rbf_epilogue_keeps_the_wide_ordered_tiers() {
    let lp = parse_loop_program(RBF).expect("parse");
    let p = compile(&lp, true);
    // 8 vectors of columns, each `l` step one `fsub` per vector, `INNER_UNROLL` steps per trip.
    let want = (kiln_cpu::simd::ORDERED_UNROLL * kiln_cpu::simd::INNER_UNROLL) as usize;
    let subs = p.clif().matches(" fsub ").count();
    assert!(subs >= want, "{subs} fsub in the CLIF, want the 8-vector tier's {want}:\n{}", p.clif());
    for n in [0usize, 1, 3, 5] {
        for m in [1usize, 3, 4, 5, 8, 9, 31, 32, 33, 40] {
            for d in [0usize, 1, 3, 7, 16] {
                let x = values(&[n, d], (n * 1000 + m * 10 + d) as u64).mapv(|v| v as f32);
                let y = values(&[m, d], (m * 1000 + d) as u64 + 7).mapv(|v| v as f32);
                let g = ndarray::arr0(-0.1f32).into_dyn();
                let args = [Value::F32(x), Value::F32(y), Value::F32(g)];
                crate::common::check_against_interp(&lp, &args, &format!("rbf {n}x{m}x{d}"));
            }
        }
    }
}
