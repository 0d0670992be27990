//! Plain matrix products run as vendor GEMM calls ([`kiln_cpu::vendor`]) and agree with the
//! loop interpreter, which runs the same `gemm` kernels as plain loops: plain, transposed,
//! strided (every other row, reversed rows, column-major) and batched operands, an epilogue,
//! empty and length-1 extents, f32 and f64; two runs on the same thread count agree bit for
//! bit. Contractions over the rows run split-K (see the tests at the end).
//!
//! Why not bitwise: the library reorders each element's sum over `k` (blocked, fused
//! multiply-adds). Each of the two results is within the forward error bound
//! `k * eps * sum_l |a_il| |b_lj|` of the exact product, so they differ by at most twice that.

use crate::common::{bits, relayout, run_chunks, values, Layout};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::{KernelHint, LoopProgram};
use kiln_ir::Value;
use ndarray::{s, Array2, ArrayD, IxDyn};

/// The loop program of [`kiln_ir::testgen::matmul_text`], checked to be a vendor GEMM step.
fn product(dtype: &str, xt: bool, batched: bool, epilogue: bool) -> LoopProgram {
    let text = kiln_ir::testgen::matmul_text(dtype, xt, batched, epilogue);
    let p = kiln_ir::parse::parse_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let lp = kiln_ir::lower::lower(&p).unwrap_or_else(|e| panic!("{e}\n{text}"));
    // `gemm`, or `gemm_split_k` where `q` is a row symbol (the first axis of the rank-2
    // operand): a split-K step with no split below 2 * `SPLIT_K_MIN_CHUNK` rows is one call.
    assert!(lp.kernels[0].hint.is_gemm(), "{lp}");
    assert!(kiln_cpu::vendor::gemm_step(&lp.kernels[0]).is_some(), "{lp}");
    lp
}

/// A value of `shape` in `dtype` with entries in [-2, 2).
fn value(dtype: &str, shape: &[usize], seed: u64) -> Value {
    let v = values(shape, seed);
    if dtype == "f32" {
        Value::F32(v.mapv(|x| x as f32))
    } else {
        Value::F64(v)
    }
}

/// `v` with every entry replaced by its magnitude (standard layout).
fn magnitude(v: &Value) -> Value {
    match v {
        Value::F32(a) => Value::F32(a.mapv(f32::abs)),
        Value::F64(a) => Value::F64(a.mapv(f64::abs)),
        v => v.clone(),
    }
}

fn as_f64(v: &Value) -> ArrayD<f64> {
    match v {
        Value::F32(a) => a.mapv(f64::from),
        Value::F64(a) => a.clone(),
        v => panic!("not a float value: {v:?}"),
    }
}

/// Run `lp` on the CPU (on `threads` threads for the library call) and on the interpreter
/// and compare them within twice the forward error bound (module documentation); returns
/// the CPU's outputs.
fn check(lp: &LoopProgram, args: &[Value], k: usize, threads: usize, what: &str) -> Vec<Value> {
    Reference::new(lp, args, what).check(args, k, threads, what)
}

/// A program compiled once with its interpreter results on some arguments: the reference of
/// every thread count and layout of those same values (the interpreter's loops take no threads,
/// and a layout changes no value they sum).
struct Reference<'a> {
    lp: &'a LoopProgram,
    prog: kiln_cpu::CpuProgram,
    want: ndarray::ArrayD<f64>,
    scale: ndarray::ArrayD<f64>,
    eps: f64,
}

impl<'a> Reference<'a> {
    fn new(lp: &'a LoopProgram, args: &[Value], what: &str) -> Self {
        let prog = kiln_cpu::compile(lp).unwrap_or_else(|e| panic!("{what}: {e}"));
        let want = run_loops(lp, args).unwrap_or_else(|e| panic!("{what}: {e}"));
        // sum_l |a_il| |b_lj| (times the epilogue's exact factor), by the same program.
        let mags: Vec<Value> = args.iter().map(magnitude).collect();
        let scale = run_loops(lp, &mags).unwrap_or_else(|e| panic!("{what}: {e}"));
        let eps = if matches!(want[0], Value::F32(_)) { f32::EPSILON as f64 } else { f64::EPSILON };
        Reference { lp, prog, want: as_f64(&want[0]), scale: as_f64(&scale[0]), eps }
    }

    /// Run on `args` (the reference's values, in any layout) on `threads` and compare.
    fn check(&self, args: &[Value], k: usize, threads: usize, what: &str) -> Vec<Value> {
        let got = run_chunks(&self.prog, self.lp, args, threads);
        let g = as_f64(&got[0]);
        assert_eq!(g.shape(), self.want.shape(), "{what}: shape");
        for ((a, b), s) in g.iter().zip(&self.want).zip(&self.scale) {
            let bound = 2.0 * k as f64 * self.eps * s;
            assert!((a - b).abs() <= bound, "{what}: got {a}, want {b}, bound {bound}");
        }
        got
    }
}

#[test]
fn plain_and_transposed_products_match_the_interpreter() {
    for dtype in ["f32", "f64"] {
        for xt in [false, true] {
            let lp = product(dtype, xt, false, false);
            for (m, q, n) in [(37, 129, 23), (1, 5, 1), (1, 1, 1), (64, 1, 3), (0, 4, 3), (3, 4, 0), (3, 0, 5)] {
                let x = value(dtype, &if xt { [q, m] } else { [m, q] }, 1);
                let y = value(dtype, &[q, n], 2);
                let what = format!("{dtype} xt={xt} m={m} q={q} n={n}");
                let out = check(&lp, &[x.clone(), y.clone()], q, 2, &what);
                if q == 0 {
                    // An empty sum: zeros, whatever the output's memory held.
                    assert!(as_f64(&out[0]).iter().all(|v| *v == 0.0), "{what}");
                }
                // The same values in other layouts: the call takes them as strided views.
                for layout in [Layout::Fortran, Layout::Reversed] {
                    let args = [relayout(&x, layout), relayout(&y, layout)];
                    let again = check(&lp, &args, q, 2, &format!("{what} {layout:?}"));
                    assert_eq!(again[0].shape(), out[0].shape());
                }
            }
        }
    }
}

#[test]
fn strided_views_are_read_in_place() {
    let lp = product("f64", false, false, false);
    let (m, q, n) = (19, 33, 11);
    // Every other row of x and every third column of y: strides 2q and 3, no copy.
    let Value::F64(big_x) = value("f64", &[2 * m, q], 3) else { unreachable!() };
    let Value::F64(big_y) = value("f64", &[q, 3 * n], 4) else { unreachable!() };
    let x: Array2<f64> = big_x.into_dimensionality().unwrap();
    let y: Array2<f64> = big_y.into_dimensionality().unwrap();
    let (x, y) = (x.slice_move(s![..;2, ..]), y.slice_move(s![.., ..;3]));
    assert_eq!((x.strides()[0], y.strides()[1]), (2 * q as isize, 3));
    let out = check(&lp, &[Value::F64(x.clone().into_dyn()), Value::F64(y.clone().into_dyn())], q, 2, "strided");
    // Against ndarray's own product of the same views.
    let want = x.dot(&y);
    let got = as_f64(&out[0]);
    for ((i, j), w) in want.indexed_iter() {
        assert!((got[IxDyn(&[i, j])] - w).abs() <= 1e-12 * q as f64, "({i}, {j})");
    }
}

#[test]
fn batched_products_with_an_epilogue_match_the_interpreter() {
    for dtype in ["f32", "f64"] {
        for xt in [false, true] {
            let lp = product(dtype, xt, true, true);
            // The product goes to a temporary; the epilogue is a generated kernel after it.
            assert_eq!(lp.temps().count(), 1, "{lp}");
            assert_eq!(lp.kernels.len(), 2, "{lp}");
            for (p, m, q, n) in [(3, 17, 40, 9), (1, 1, 1, 1), (0, 2, 3, 4), (2, 3, 0, 4)] {
                let x = value(dtype, &if xt { [p, q, m] } else { [p, m, q] }, 5);
                let y = value(dtype, &[q, n], 6);
                check(&lp, &[x, y], q, 2, &format!("{dtype} xt={xt} p={p} m={m} q={q} n={n}"));
            }
        }
    }
}

#[test]
fn two_runs_on_the_same_threads_give_the_same_bits() {
    for dtype in ["f32", "f64"] {
        let lp = product(dtype, true, false, false);
        let prog = kiln_cpu::compile(&lp).unwrap_or_else(|e| panic!("{e}"));
        let args = [value(dtype, &[300, 150], 7), value(dtype, &[300, 170], 8)];
        for threads in [1, 2] {
            let first = run_chunks(&prog, &lp, &args, threads);
            let second = run_chunks(&prog, &lp, &args, threads);
            assert_eq!(bits(&first), bits(&second), "{dtype} on {threads} threads");
        }
    }
}

/// The loop program of [`kiln_ir::testgen::gram_text`], checked to be a split-K GEMM step.
fn gram(dtype: &str, same: bool) -> LoopProgram {
    let text = kiln_ir::testgen::gram_text(dtype, same);
    let p = kiln_ir::parse::parse_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let lp = kiln_ir::lower::lower(&p).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(lp.kernels.len(), 1, "{lp}");
    assert_eq!(lp.kernels[0].hint, KernelHint::GemmSplitK, "{lp}");
    assert!(kiln_cpu::vendor::gemm_step(&lp.kernels[0]).is_some_and(|g| g.split_k), "{lp}");
    lp
}

/// Split-K (a contraction over the rows cut into one chunk per thread, partials summed in
/// chunk order) agrees with the interpreter's loops within twice the forward error bound
/// (module documentation: each chunk's call and the chunk-order sum of the partials are one
/// summation order of the same `k` products, so the bound is the one of any order), on 1 to 4
/// threads, at row counts that give no split (below 2 * `SPLIT_K_MIN_CHUNK`), uneven chunks
/// and empty sums, in place and on strided (column-major, reversed-row) views.
#[test]
fn split_k_contractions_over_the_rows_match_the_interpreter() {
    use kiln_ir::loops::{split_k_chunks, SPLIT_K_MIN_CHUNK};
    for dtype in ["f32", "f64"] {
        for same in [false, true] {
            let lp = gram(dtype, same);
            for (n, d, k) in [(0, 3, 2), (1, 2, 3), (2047, 5, 4), (5001, 7, 3), (4200, 13, 9)] {
                let x = value(dtype, &[n, d], 9);
                let y = value(dtype, &[n, k], 10);
                let args = if same { vec![x] } else { vec![x, y] };
                let reference = Reference::new(&lp, &args, &format!("{dtype} same={same} n={n}"));
                for threads in [1, 2, 3, 4] {
                    let what = format!("{dtype} same={same} n={n} d={d} k={k} threads={threads}");
                    let chunks = split_k_chunks([1, d as i64, k as i64, n as i64], threads);
                    assert_eq!(chunks > 1, threads > 1 && n as i64 >= 2 * SPLIT_K_MIN_CHUNK, "{what}");
                    let out = reference.check(&args, n, threads, &what);
                    if n == 0 {
                        assert!(as_f64(&out[0]).iter().all(|v| *v == 0.0), "{what}");
                    }
                    for layout in [Layout::Fortran, Layout::Reversed] {
                        let moved: Vec<Value> = args.iter().map(|a| relayout(a, layout)).collect();
                        reference.check(&moved, n, threads, &format!("{what} {layout:?}"));
                    }
                }
            }
        }
    }
}

/// A split-K run is deterministic for a thread count: the chunks are fixed by the extents
/// and the thread count, and the partials are summed in chunk order.
#[test]
fn split_k_runs_on_the_same_threads_give_the_same_bits() {
    for dtype in ["f32", "f64"] {
        let lp = gram(dtype, true);
        let prog = kiln_cpu::compile(&lp).unwrap_or_else(|e| panic!("{e}"));
        let args = [value(dtype, &[7_001, 19], 11)];
        for threads in [2, 3] {
            let first = run_chunks(&prog, &lp, &args, threads);
            for _ in 0..3 {
                assert_eq!(bits(&first), bits(&run_chunks(&prog, &lp, &args, threads)), "{dtype}, {threads} threads");
            }
        }
    }
}

/// `x.dot(&x.t())` over `x: [n, d]` as array IR: a plain symmetric product (`n x n`, summed
/// over `d`), where [`gram`]'s `x.t().dot(&x)` is one summed over the rows.
fn outer_text(dtype: &str) -> String {
    format!(
        "kernel outer(x: {dtype}[n, d]) -> {dtype}[n, n] {{
  v0: {dtype}[n, d] = param 0
  v1: {dtype}[d, n] = transpose v0 [1, 0]
  v2: i64[] = index i0
  v3: i64[] = index i1
  v4: i64[] = index i2
  v5: {dtype}[] = load v0 [v2, v4]
  v6: {dtype}[] = load v1 [v4, v3]
  v7: {dtype}[] = binary mul v5 v6
  v8: {dtype}[] = range_reduce sum (i2 < d) v7
  v9: {dtype}[n, n] = generate (i0 < n, i1 < n) v8
  return v9
}}"
    )
}

/// Symmetric products (`x.t().dot(&x)` split-K or not, `x.dot(&x.t())`) are recognised from
/// the step's body, and from [`kiln_cpu::vendor::SYRK_MIN`] rows on compute one triangle
/// (row panels over the lower triangle, then mirrored): they agree with the interpreter's full
/// loops within twice the forward error bound (module documentation: each element is still
/// one summation order of the same products), are exactly symmetric, and are the same bits
/// from run to run. Products of two different operands are not symmetric.
#[test]
fn symmetric_products_compute_one_triangle_and_match_the_interpreter() {
    use kiln_cpu::vendor::{syrk_panels, SYRK_MIN};
    use kiln_ir::loops::SPLIT_K_MIN_CHUNK;
    assert_eq!(syrk_panels(130), vec![(0, 65), (65, 130)]);
    assert_eq!(syrk_panels(300), vec![(0, 75), (75, 150), (150, 225), (225, 300)]);
    assert_eq!(syrk_panels(5000).len(), 16);
    for dtype in ["f32", "f64"] {
        assert!(!kiln_cpu::vendor::gemm_step(&gram(dtype, false).kernels[0]).is_some_and(|g| g.symmetric()));
        for xt in [false, true] {
            let lp = product(dtype, xt, false, false);
            assert!(!kiln_cpu::vendor::gemm_step(&lp.kernels[0]).is_some_and(|g| g.symmetric()), "{lp}");
        }
        let text = outer_text(dtype);
        let p = kiln_ir::parse::parse_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let outer = kiln_ir::lower::lower(&p).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let cases = [
            // (program, rows n, columns d, the summed extent): x.t().dot(&x) is d x d over n.
            (gram(dtype, true), 2_100, 130, 2_100),
            (gram(dtype, true), 300, 200, 300),
            (gram(dtype, true), 50, SYRK_MIN - 1, 50),
            (outer, 257, 9, 9),
        ];
        for (lp, n, d, k) in cases {
            let step = kiln_cpu::vendor::gemm_step(&lp.kernels[0]).unwrap_or_else(|| panic!("{lp}"));
            assert!(step.symmetric(), "{lp}");
            let prog = kiln_cpu::compile(&lp).unwrap_or_else(|e| panic!("{e}"));
            let x = value(dtype, &[n, d], 21);
            // The split-K case over row panels (35M multiply-adds) takes its reference from
            // ndarray's product in f64 (the same forward-error bound holds against the exact
            // sum); the others from the interpreter's loops, run once (they take no threads,
            // and layouts do not change their sums). The bound's scale is `sum_l |a_il| |b_lj|`.
            let (want, scale) = if n >= 2 * SPLIT_K_MIN_CHUNK as usize {
                let x64 = as_f64(&x).into_dimensionality::<ndarray::Ix2>().unwrap();
                let abs = x64.mapv(f64::abs);
                (x64.t().dot(&x64).into_dyn(), abs.t().dot(&abs).into_dyn())
            } else {
                let want = as_f64(&run_loops(&lp, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{e}"))[0]);
                (want, as_f64(&run_loops(&lp, &[magnitude(&x)]).unwrap_or_else(|e| panic!("{e}"))[0]))
            };
            let eps = if dtype == "f32" { f32::EPSILON as f64 } else { f64::EPSILON };
            for threads in [1, 2, 3] {
                for layout in [Layout::Standard, Layout::Fortran, Layout::Reversed] {
                    let args = [relayout(&x, layout)];
                    let what = format!("{} {dtype} n={n} d={d} threads={threads} {layout:?}", lp.name);
                    let out = run_chunks(&prog, &lp, &args, threads);
                    let g = as_f64(&out[0]);
                    assert_eq!(g.shape(), want.shape(), "{what}: shape");
                    for ((a, b), s) in g.iter().zip(&want).zip(&scale) {
                        let bound = 2.0 * k as f64 * eps * s;
                        assert!((a - b).abs() <= bound, "{what}: got {a}, want {b}, bound {bound}");
                    }
                    let side = g.shape()[0];
                    for i in 0..side {
                        for j in 0..i {
                            assert_eq!(g[[i, j]].to_bits(), g[[j, i]].to_bits(), "{what}: ({i}, {j})");
                        }
                    }
                    assert_eq!(bits(&out), bits(&run_chunks(&prog, &lp, &args, threads)), "{what}: rerun");
                }
            }
        }
    }
}
