//! The simulator runs the emitted CUDA C of representative programs and agrees with
//! independent plain-Rust references and the loop interpreter: several blocks with a partial
//! last block, grids smaller than the domain (grid-stride loops), strided and reversed inputs,
//! 0-length domains, error flags, and block reductions (warp shuffles, shared memory,
//! barriers) for every reduction op.

use crate::sim_common::*;
use kiln_cuda::{compile_sim, emit, run_sim, run_sim_with, Mapping, SimError, SimOptions, SimProgram};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::{parse_loop_program, Flag, LoopProgram};
use kiln_ir::{DType, Value};
use ndarray::{ArrayD, IxDyn};

fn sim(lp: &LoopProgram) -> SimProgram {
    let cp = emit(lp).unwrap_or_else(|e| panic!("{e}\n{lp}"));
    compile_sim(&cp).unwrap_or_else(|e| panic!("{e}"))
}

fn grids() -> [SimOptions; 3] {
    [SimOptions { max_grid: 1 }, SimOptions { max_grid: 3 }, SimOptions::default()]
}

/// Absolute tolerance of f32 results of block reductions over up to a few thousand values
/// in [-2, 2] (about `f32::EPSILON` times the sum of magnitudes): the block adds in another
/// order than the interpreter.
const REDUCE_ATOL: f64 = 1e-4;

/// Run on every grid size; all must agree with the loop interpreter and with each other.
fn check(sp: &SimProgram, lp: &LoopProgram, args: &[Value], what: &str) -> Vec<Value> {
    let want = run_loops(lp, args).unwrap_or_else(|e| panic!("{what}: interpreter: {e}"));
    let mut first = None;
    for opts in grids() {
        let got = run_sim_with(sp, lp, args, opts).unwrap_or_else(|e| panic!("{what} ({opts:?}): {e}"));
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_close_abs(g, w, &format!("{what} ({opts:?}) output {i}"), REDUCE_ATOL);
        }
        first.get_or_insert(got);
    }
    first.unwrap_or_default()
}

#[test]
fn axpby_across_block_boundaries() {
    let lp = lowered(&axpby());
    let sp = sim(&lp);
    assert_eq!(sp.program().kernels[0].launch.mapping, Mapping::GridStride);
    for n in [0usize, 1, 255, 256, 257, 1000, 5000] {
        let x = f32s(&[n], 1);
        let y = f32s(&[n], 2);
        let args = [
            Value::F32(ArrayD::from_elem(IxDyn(&[]), 1.5)),
            Value::F32(x.clone()),
            Value::F32(ArrayD::from_elem(IxDyn(&[]), -0.25)),
            Value::F32(y.clone()),
        ];
        let got = check(&sp, &lp, &args, &format!("axpby n={n}"));
        let Value::F32(out) = &got[0] else { panic!("axpby returns f32") };
        for i in 0..n {
            let want = 1.5f32 * x[[i]] + -0.25f32 * y[[i]];
            assert_eq!(out[[i]], want, "axpby n={n} element {i}");
        }
    }
}

#[test]
fn standardize_uses_block_reductions_and_matches() {
    for dt in [DType::F32, DType::F64] {
        let lp = lowered(&standardize(dt));
        let sp = sim(&lp);
        let per_point = sp.program().kernels.iter().filter(|k| k.launch.mapping == Mapping::BlockPerPoint).count();
        assert_eq!(per_point, 2, "the two partial-sum kernels reduce per block");
        for (n, d) in [(1000usize, 5usize), (3, 2), (600, 1), (0, 3)] {
            let x32 = f32s(&[n, d], 7);
            let x = match dt {
                DType::F32 => Value::F32(x32.clone()),
                _ => Value::F64(x32.mapv(f64::from)),
            };
            for (layout, arg) in [("standard", x.clone()), ("fortran", fortran(&x)), ("reversed", reversed(&x))] {
                let got = check(&sp, &lp, std::slice::from_ref(&arg), &format!("standardize {dt} {n}x{d} {layout}"));
                if n < 2 {
                    continue;
                }
                // Independent reference in f64.
                for j in 0..d {
                    let col: Vec<f64> = (0..n).map(|i| f64::from(x32[[i, j]])).collect();
                    let mean = col.iter().sum::<f64>() / n as f64;
                    let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
                    for (i, v) in col.iter().enumerate() {
                        let want = (v - mean) / std;
                        let g = match &got[0] {
                            Value::F32(a) => f64::from(a[[i, j]]),
                            Value::F64(a) => a[[i, j]],
                            _ => panic!("float output"),
                        };
                        assert!((g - want).abs() < 1e-4, "standardize {dt} [{i},{j}]: {g} vs {want}");
                    }
                }
            }
        }
    }
}

#[test]
fn nearest_matches_plain_loops() {
    let lp = lowered(&nearest());
    let sp = sim(&lp);
    let (n, d, k) = (300usize, 4usize, 5usize);
    let (x, c) = (f32s(&[n, d], 3), f32s(&[k, d], 4));
    let args = [Value::F32(x.clone()), Value::F32(c.clone())];
    for args in [args.to_vec(), args.iter().map(fortran).collect()] {
        let got = check(&sp, &lp, &args, "nearest");
        let (Value::I64(am), Value::F32(mn)) = (&got[0], &got[1]) else { panic!("nearest returns (i64, f32)") };
        for i in 0..n {
            let dist = |j: usize| (0..d).map(|l| (x[[i, l]] - c[[j, l]]).powi(2)).sum::<f32>();
            let best = (0..k).fold(0, |b, j| if dist(j) < dist(b) { j } else { b });
            assert_eq!(am[[i]], best as i64, "argmin row {i}");
            assert_eq!(mn[[i]], dist(best), "min row {i}");
        }
    }
    // argmin over zero centroids raises the flag.
    let empty = [Value::F32(f32s(&[3, d], 5)), Value::F32(f32s(&[0, d], 6))];
    match run_sim(&sp, &lp, &empty) {
        Err(SimError::Flag(Flag::EmptyArgReduce)) => {}
        other => panic!("expected the empty_arg_reduce flag, got {other:?}"),
    }
}

const GATHER: &str = "program gather
  sym n
  sym m
  in x: f32[n]
  in idx: i64[m]
  out out0: f32[m]
  kernel gather_k0 (v0 < m) {
    let v1: i64 = check(load idx[v0], n)
    store out0[v0] = load x[v1]
  }
";

#[test]
fn out_of_range_gathers_raise_the_flag() {
    let lp = parse_loop_program(GATHER).unwrap_or_else(|e| panic!("{e}"));
    let sp = sim(&lp);
    let x = Value::F32(ArrayD::from_shape_fn(IxDyn(&[10]), |i| i[0] as f32 * 2.0));
    let good = Value::I64(ArrayD::from_shape_fn(IxDyn(&[700]), |i| (i[0] * 7 % 10) as i64));
    let got = check(&sp, &lp, &[x.clone(), good], "gather in range");
    let Value::F32(out) = &got[0] else { panic!("f32 output") };
    assert_eq!(out[[13]], (13 * 7 % 10) as f32 * 2.0);
    for bad_at in [0usize, 299, 699] {
        for bad in [-1i64, 10, i64::MIN] {
            let idx = Value::I64(ArrayD::from_shape_fn(IxDyn(&[700]), |i| if i[0] == bad_at { bad } else { 1 }));
            for opts in grids() {
                match run_sim_with(&sp, &lp, &[x.clone(), idx.clone()], opts) {
                    Err(SimError::Flag(Flag::IndexOutOfRange)) => {}
                    other => panic!("index {bad} at {bad_at}: expected the flag, got {other:?}"),
                }
            }
        }
    }
}

#[test]
fn a_gather_from_an_empty_array_raises_the_flag_in_zeroed_room() {
    // Regression: the failed check's index 0 must land in memory the call owns (the zeroed
    // room `run_sim` now gets from the shared call frame), never the empty array's pointer.
    let lp = parse_loop_program(GATHER).unwrap_or_else(|e| panic!("{e}"));
    let sp = sim(&lp);
    let args = [Value::F32(ArrayD::zeros(IxDyn(&[0]))), Value::I64(ArrayD::from_elem(IxDyn(&[300]), 0))];
    let r = run_sim(&sp, &lp, &args);
    assert!(matches!(r, Err(SimError::Flag(Flag::IndexOutOfRange))), "{r:?}");
    for opts in grids() {
        let r = run_sim_with(&sp, &lp, &args, opts);
        assert!(matches!(r, Err(SimError::Flag(Flag::IndexOutOfRange))), "{opts:?}: {r:?}");
    }
}

#[test]
fn an_output_too_large_for_memory_is_an_error_not_an_abort() {
    // 2^10 x 2^40 f32: 4 PiB, past any address space.
    let lp = parse_loop_program(
        "program wide\n  sym k\n  in x: f32[k]\n  out out0: f32[k, 1099511627776]\n  \
         kernel wide_k0 (v0 < k, v1 < 1099511627776) {\n    store out0[v0, v1] = load x[v0]\n  }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let sp = sim(&lp);
    let r = run_sim(&sp, &lp, &[Value::F32(ArrayD::zeros(IxDyn(&[1024])))]);
    let Err(e @ SimError::OutOfMemory { .. }) = r else { panic!("{r:?}") };
    assert!(e.to_string().contains("unable to allocate 4.00 PiB for an array with shape (1024, 1099511627776)"), "{e}");
}

/// `out[j] = op over chunk c of x[i, j]` as a two-phase partial kernel (a `for .. from .. to`
/// reduction loop), which the emitter turns into a block reduction.
fn partial(dt: DType, op: &str, init: &str) -> LoopProgram {
    let text = format!(
        "program part
  sym n
  sym d
  in x: {dt}[n, d]
  out out0: {dt}[4, d]
  kernel part_k0 (v0 < 4, v1 < d) {{
    mut v2: {dt} = {dt}:{init}
    for v3 < n from div(mul(v0, dim(n)), i64:4) to div(mul(add(v0, i64:1), dim(n)), i64:4) {{
      let v4: {dt} = load x[v3, v1]
      v2 = {op}(v2, v4)
    }}
    store out0[v0, v1] = v2
  }}
"
    );
    parse_loop_program(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn values(dt: DType, n: usize, d: usize, op: &str) -> Value {
    let f = |k: usize| -> f64 {
        let u = ((k * 7919 + 13) % 1009) as f64 / 1009.0;
        match (dt.is_float(), op) {
            (true, "mul") => 1.0 + (u - 0.5) / 256.0,
            (true, _) => u * 4.0 - 2.0,
            (false, "mul") => [1.0, -1.0, 3.0, 1.0, 1.0, 2.0][k % 6],
            (false, _) => ((k * 31 + 7) % 2001) as f64 * 1_000_000.0 - 1e9,
        }
    };
    let sh = IxDyn(&[n, d]);
    let idx = |i: &IxDyn| i[0] * d + i[1];
    match dt {
        DType::F32 => Value::F32(ArrayD::from_shape_fn(sh, |i| f(idx(&i)) as f32)),
        DType::F64 => Value::F64(ArrayD::from_shape_fn(sh, |i| f(idx(&i)))),
        DType::I32 => Value::I32(ArrayD::from_shape_fn(sh, |i| f(idx(&i)) as i32)),
        DType::I64 => Value::I64(ArrayD::from_shape_fn(sh, |i| f(idx(&i)) as i64 * 1_000_000)),
        _ => Value::U32(ArrayD::from_shape_fn(sh, |i| f(idx(&i)).abs() as u32)),
    }
}

#[test]
fn block_reductions_for_every_op_and_dtype() {
    for dt in [DType::F32, DType::F64, DType::I32, DType::I64, DType::U32] {
        for (op, init) in [("add", "0"), ("mul", "1"), ("min", "inf"), ("max", "-inf")] {
            let init = match (dt, init) {
                (DType::F32 | DType::F64, i) => i.to_string(),
                (_, "inf") => kiln_ir::loops::Scalar::max_value(dt).to_string().split(':').nth(1).unwrap_or("").into(),
                (_, "-inf") => kiln_ir::loops::Scalar::min_value(dt).to_string().split(':').nth(1).unwrap_or("").into(),
                (_, i) => i.to_string(),
            };
            let lp = partial(dt, op, &init);
            let sp = sim(&lp);
            assert_eq!(sp.program().kernels[0].launch.mapping, Mapping::BlockPerPoint, "{dt} {op}");
            // Chunks shorter than, equal to and longer than a block, with partial warps.
            for (n, d) in [(0usize, 3usize), (5, 2), (1024, 3), (4 * 1000 + 3, 2)] {
                let x = values(dt, n, d, op);
                check(&sp, &lp, std::slice::from_ref(&x), &format!("{dt} {op} {n}x{d}"));
                check(&sp, &lp, &[fortran(&x)], &format!("{dt} {op} {n}x{d} fortran"));
            }
        }
    }
}

#[test]
fn block_min_max_propagate_nan() {
    for op in ["min", "max"] {
        let lp = partial(DType::F32, op, if op == "min" { "inf" } else { "-inf" });
        let sp = sim(&lp);
        let mut x = values(DType::F32, 2000, 2, op);
        if let Value::F32(a) = &mut x {
            a[[777, 1]] = f32::NAN;
        }
        let got = check(&sp, &lp, &[x], op);
        let Value::F32(out) = &got[0] else { panic!("f32 output") };
        assert!(out[[1, 1]].is_nan(), "{op}: the chunk holding the NaN is NaN");
        assert!(!out[[1, 0]].is_nan() && !out[[0, 1]].is_nan(), "{op}: other chunks are not");
    }
}

#[test]
fn reduction_with_an_initial_value_is_counted_once() {
    // Thread 0 starts from the program's initial value, the other threads from the identity.
    let lp = partial(DType::I64, "add", "1000");
    let sp = sim(&lp);
    let x = Value::I64(ArrayD::from_elem(IxDyn(&[4000, 1]), 1));
    let got = check(&sp, &lp, &[x], "init");
    assert_eq!(got[0], Value::I64(ArrayD::from_elem(IxDyn(&[4, 1]), 2000)));
}

#[test]
fn wrong_arguments_are_typed_errors() {
    let lp = lowered(&axpby());
    let sp = sim(&lp);
    let s = Value::F32(ArrayD::from_elem(IxDyn(&[]), 1.0));
    let x = Value::F32(f32s(&[5], 1));
    let y4 = Value::F32(f32s(&[4], 1));
    assert!(matches!(run_sim(&sp, &lp, &[s.clone(), x.clone()]), Err(SimError::BadArgument(_))));
    // Arguments that do not bind keep the binder's typed error.
    let r = run_sim(&sp, &lp, &[s.clone(), x.clone(), s.clone(), y4]);
    assert!(matches!(r, Err(SimError::Frame(kiln_ir::loops::FrameError::Bind(_)))), "{r:?}");
    let other = lowered(&nearest());
    assert!(matches!(run_sim(&sp, &other, &[x.clone(), x]), Err(SimError::BadArgument(_))));
}

#[test]
fn concurrent_launches_of_one_program_agree() {
    // The simulator's state is static per library; launches from several host threads must
    // serialize, not interleave.
    let lp = lowered(&standardize(DType::F64));
    let sp = sim(&lp);
    let x = Value::F64(f32s(&[700, 3], 9).mapv(f64::from));
    let want = run_sim(&sp, &lp, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{e}"));
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4).map(|_| s.spawn(|| run_sim(&sp, &lp, std::slice::from_ref(&x)))).collect();
        for r in runs {
            let got = r.join().unwrap_or_else(|_| panic!("thread panicked")).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(got, want, "bitwise identical across threads");
        }
    });
}

/// Scans whose order cannot change their result (integer sums and products, float `max` and
/// `min`) give the loop interpreter's bits on both paths of a scan kernel: one thread per
/// (chunk, lane) on short axes, block scans (warp shuffles up, the warp totals' scan, a carry
/// from tile to tile) from 2048 elements, at tile and warp edges, on every grid size.
#[test]
fn scans_take_block_scans_on_long_axes_and_keep_exact_results() {
    use kiln_ir::{ElemTy, ReduceOp};
    let cases = [
        (ReduceOp::Sum, ElemTy::I64),
        (ReduceOp::Prod, ElemTy::I64),
        (ReduceOp::Max, ElemTy::F32),
        (ReduceOp::Min, ElemTy::F64),
    ];
    for (op, elem) in cases {
        for axis in [0u32, 1] {
            let lp = lowered(&scan(op, axis, elem));
            let sp = sim(&lp);
            let kernels = &sp.program().kernels;
            assert_eq!(kernels.len(), 2, "{op:?} {elem:?}: the totals and prefix kernels");
            assert!(kernels.iter().all(|k| matches!(k.launch.mapping, Mapping::Scan { .. })), "{op:?} {elem:?}");
            assert!(sp.program().source.contains("kiln_block_scan("), "the prefix kernel scans by blocks");
            for len in [0usize, 1, 33, 2047, 2048, 2049, 64 * 256 + 7, 40_000] {
                let shape = if axis == 0 { [len, 3] } else { [3, len] };
                let syms = [shape[0] as i64, shape[1] as i64];
                let block = kernels[1].launch.block_scan(&syms);
                assert_eq!(block, Some(len >= 2048), "{op:?} {elem:?}: n = {len}");
                let points = 64 * 3;
                let want_len = if len >= 2048 { points } else { 1 };
                assert_eq!(kernels[1].launch.len(&syms), Some(want_len), "blocks of the prefix kernel, n = {len}");
                let x = f32s(&shape, len as u32 + axis);
                let arg = match elem {
                    ElemTy::I64 => Value::I64(x.mapv(|v| (v * 100.0) as i64)),
                    ElemTy::F64 => Value::F64(x.mapv(f64::from)),
                    _ => Value::F32(x),
                };
                let what = format!("{op:?} {elem:?} axis {axis} n = {len}");
                let want = run_loops(&lp, std::slice::from_ref(&arg)).unwrap_or_else(|e| panic!("{what}: {e}"));
                for opts in grids() {
                    for (layout, a) in [("standard", arg.clone()), ("reversed", reversed(&arg))] {
                        let want = if layout == "standard" {
                            want.clone()
                        } else {
                            run_loops(&lp, std::slice::from_ref(&a)).unwrap_or_else(|e| panic!("{what}: {e}"))
                        };
                        let got = run_sim_with(&sp, &lp, std::slice::from_ref(&a), opts)
                            .unwrap_or_else(|e| panic!("{what} ({opts:?}): {e}"));
                        assert_eq!(got, want, "{what} {layout} ({opts:?})");
                    }
                }
            }
        }
    }
}
