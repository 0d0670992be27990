//! Vendor GEMM steps on CUDA: the row-major step maps onto cuBLAS's column-major strided
//! batched contract ([`kiln_cuda::blas`]), the simulator's stand-in honours that contract
//! (including cuBLAS's argument checks), and simulated programs agree with the loop
//! interpreter: plain, transposed, column-major, reversed and strided operands, batched with an
//! epilogue, empty and length-1 extents, f32 and f64.
//!
//! The stand-in sums each element over `l` in order from zero, as the interpreter's loops do,
//! so its results are compared bit for bit; a layout without a cuBLAS form runs the generated
//! kernel, whose tiles add in the same order too.

use crate::sim_common::{fortran, reversed};
use kiln_cuda::blas::{blas_gemm, gemm_strided_batched, BlasOp, BlasStatus};
use kiln_cuda::{compile_sim, emit, run_sim};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::{GemmStep, LoopProgram};
use kiln_ir::testgen::{matmul_text, random_args};
use kiln_ir::Value;
use ndarray::{s, Array2};

fn product(dtype: &str, xt: bool, batched: bool, epilogue: bool) -> (kiln_ir::Program, LoopProgram) {
    let text = matmul_text(dtype, xt, batched, epilogue);
    let p = kiln_ir::parse::parse_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let lp = kiln_ir::lower::lower(&p).unwrap_or_else(|e| panic!("{e}"));
    assert!(GemmStep::vendor(&lp.kernels[0]).is_some(), "{lp}");
    (p, lp)
}

/// Run on the simulator and the interpreter and compare bit for bit.
fn check(lp: &LoopProgram, args: &[Value], what: &str) {
    let sp = compile_sim(&emit(lp).unwrap_or_else(|e| panic!("{what}: {e}"))).unwrap_or_else(|e| panic!("{e}"));
    let got = run_sim(&sp, lp, args).unwrap_or_else(|e| panic!("{what}: {e}"));
    let want = run_loops(lp, args).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{what}");
}

#[test]
fn simulated_products_match_the_interpreter_bit_for_bit() {
    for dtype in ["f32", "f64"] {
        for xt in [false, true] {
            for batched in [false, true] {
                let (p, lp) = product(dtype, xt, batched, batched);
                for seed in 0..4 {
                    let args = random_args(&p, seed);
                    let what = format!("{dtype} xt={xt} batched={batched} seed={seed}");
                    check(&lp, &args, &what);
                    let other: Vec<Value> = args.iter().map(fortran).collect();
                    check(&lp, &other, &format!("{what} column-major"));
                    let other: Vec<Value> = args.iter().map(reversed).collect();
                    check(&lp, &other, &format!("{what} reversed"));
                }
            }
        }
    }
}

/// A contraction over the rows (`x.t().dot(&y)`, `x.t().dot(&x)`) is a split-K step
/// (`gemm_split_k`); on CUDA it is one cuBLAS call (cuBLAS picks its own split-K kernels for
/// a small output over a long `k`), which the stand-in runs in order: bit for bit.
#[test]
fn split_k_contractions_over_the_rows_run_as_one_cublas_call() {
    use kiln_ir::loops::KernelHint;
    for dtype in ["f32", "f64"] {
        for same in [false, true] {
            let text = kiln_ir::testgen::gram_text(dtype, same);
            let p = kiln_ir::parse::parse_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            let lp = kiln_ir::lower::lower(&p).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(lp.kernels[0].hint, KernelHint::GemmSplitK, "{lp}");
            let step = GemmStep::vendor(&lp.kernels[0]).unwrap_or_else(|| panic!("{lp}"));
            assert!(step.split_k);
            for seed in 0..3 {
                let args = random_args(&p, seed);
                let what = format!("{dtype} same={same} seed={seed}");
                check(&lp, &args, &what);
                let other: Vec<Value> = args.iter().map(reversed).collect();
                check(&lp, &other, &format!("{what} reversed"));
            }
        }
    }
}

#[test]
fn edge_extents_and_strided_views_match_the_interpreter() {
    let (_, lp) = product("f64", false, false, false);
    let value = |r: usize, c: usize, seed: usize| {
        Array2::from_shape_fn((r, c), |(i, j)| ((i * 7 + j * 3 + seed) % 11) as f64 - 5.0)
    };
    for (m, q, n) in [(0, 3, 2), (2, 0, 3), (3, 2, 0), (1, 1, 1), (1, 7, 1), (5, 1, 4)] {
        let args = [Value::F64(value(m, q, 1).into_dyn()), Value::F64(value(q, n, 2).into_dyn())];
        check(&lp, &args, &format!("m={m} q={q} n={n}"));
    }
    // Every other row of x (leading dimension 2q), and every other element of y on both axes:
    // no unit stride, so no cuBLAS form, and the generated kernel runs instead.
    let x = value(10, 6, 3).slice_move(s![..;2, ..]);
    let y = value(12, 8, 4).slice_move(s![..;2, ..;2]);
    let args = [Value::F64(x.into_dyn()), Value::F64(y.into_dyn())];
    check(&lp, &args, "strided");
}

#[test]
fn steps_map_onto_cublas_column_major_arguments() {
    let (_, lp) = product("f32", true, true, false);
    let step = GemmStep::of(&lp.kernels[0]).unwrap();
    // x: [p, q, m] row-major read transposed (A's rows contiguous), y: [q, n] shared by the
    // batch, out: [p, m, n] row-major; symbols in order p, q, m, n (as the text declares them).
    let at = |name: &str| lp.syms.iter().position(|s| s == name).unwrap();
    let mut vals = vec![0i64; lp.syms.len()];
    for (name, v) in [("p", 3), ("q", 5), ("m", 4), ("n", 2)] {
        vals[at(name)] = v;
    }
    let mut strides = vec![vec![]; lp.buffers.len()];
    strides[step.a.buf.index()] = vec![20, 4, 1];
    strides[step.b.buf.index()] = vec![2, 1];
    strides[step.c.buf.index()] = vec![8, 2, 1];
    let g = blas_gemm(&step, &strides, &vals).expect("a cuBLAS form");
    // C^T = y^T x^T: A' is y (its columns contiguous: N, lda = its row stride), B' is the
    // transposed view of x (its rows contiguous: T, ldb = its column stride m).
    assert_eq!((g.m, g.n, g.k, g.batch), (2, 4, 5, 3));
    assert_eq!((g.transa, g.lda, g.stride_a), (BlasOp::N, 2, 0));
    assert_eq!((g.transb, g.ldb, g.stride_b), (BlasOp::T, 4, 20));
    assert_eq!((g.ldc, g.stride_c), (2, 8));
    // A column-major output has no cuBLAS form.
    strides[step.c.buf.index()] = vec![8, 1, 4];
    assert_eq!(blas_gemm(&step, &strides, &vals), None);
}

#[test]
fn the_stand_in_checks_arguments_as_cublas_does() {
    // C (2 x 2) = A (2 x 3, stored column-major) * B^T (B stored 2 x 3 column-major).
    let a = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0];
    let b = [1.0f64, 0.0, 0.0, 1.0, 1.0, 1.0];
    let mut c = [f64::NAN; 4];
    // SAFETY: every array holds the elements these extents and leading dimensions reach.
    let run = |c: &mut [f64; 4], lda: i32, ldb: i32, ldc: i32| unsafe {
        gemm_strided_batched(
            BlasOp::N,
            BlasOp::T,
            2,
            2,
            3,
            1.0,
            a.as_ptr(),
            lda,
            0,
            b.as_ptr(),
            ldb,
            0,
            0.0,
            c.as_mut_ptr(),
            ldc,
            0,
            1,
        )
    };
    assert_eq!(run(&mut c, 2, 2, 2), Ok(()));
    // Row 0 of A is (1, 2, 3), row 1 (4, 5, 6); columns of B^T are (1, 0, 1) and (0, 1, 1).
    // beta = 0: C's NaNs are never read.
    assert_eq!(c, [4.0, 10.0, 5.0, 11.0]);
    for (lda, ldb, ldc) in [(1, 2, 2), (2, 1, 2), (2, 2, 1), (0, 2, 2)] {
        let mut c = [7.0; 4];
        assert_eq!(run(&mut c, lda, ldb, ldc), Err(BlasStatus::InvalidValue), "{lda} {ldb} {ldc}");
        assert_eq!(c, [7.0; 4], "nothing is written on an invalid value");
    }
}
