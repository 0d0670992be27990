//! Hand-written loop programs against plain-Rust references: elementwise kernels at sizes
//! around the vector and unroll widths (scalar tails), strided and reversed inputs, serial
//! loops, `if`, gathers raising the out-of-range flag, rank-0 domains, inspection text and
//! the errors `compile` and `run_program` report.

use crate::common;

use crate::common::{relayout, strides, Layout};
use kiln_cpu::{compile, compile_with, run_program, run_program_chunked, CompileOptions, CpuError};
use kiln_ir::loops::{parse_loop_program, Flag, FrameError, LoopProgram};
use kiln_ir::Value;
use ndarray::{ArrayD, IxDyn};

fn parse(text: &str) -> LoopProgram {
    parse_loop_program(text).unwrap_or_else(|e| panic!("{e}"))
}

fn f32s(shape: &[usize], f: impl Fn(usize) -> f32) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(f).collect()).expect("shape")
}

const AXPBY: &str = "program axpby
  sym n
  in a: f32[]
  in x: f32[n]
  in b: f32[]
  in y: f32[n]
  out out0: f32[n]
  kernel k0 (v0 < n) {
    store out0[v0] = add(mul(load a[], load x[v0]), mul(load b[], load y[v0]))
  }
";

#[test]
fn axpby_matches_a_rust_loop_bit_for_bit_at_every_tail_length() {
    let lp = parse(AXPBY);
    let prog = compile(&lp).expect("compile");
    assert_eq!(prog.vectorized(), &[true]);
    for n in [0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 19, 31, 32, 33, 100, 1001] {
        let x = f32s(&[n], |i| i as f32 * 0.37 - 3.0);
        let y = f32s(&[n], |i| (i as f32).sin());
        let (a, b) = (1.5f32, -0.25f32);
        let want: Vec<f32> = (0..n).map(|i| a * x[[i]] + b * y[[i]]).collect();
        let args = [
            Value::F32(ArrayD::from_elem(IxDyn(&[]), a)),
            Value::F32(x),
            Value::F32(ArrayD::from_elem(IxDyn(&[]), b)),
            Value::F32(y),
        ];
        for layout in [Layout::Standard, Layout::Reversed] {
            let args: Vec<Value> = args.iter().map(|v| relayout(v, layout)).collect();
            for chunks in [1, 2, 5] {
                let out = run_program_chunked(&prog, &lp, &args, chunks).expect("run");
                let Value::F32(o) = &out[0] else { panic!("dtype") };
                assert_eq!(o.iter().copied().collect::<Vec<_>>(), want, "n={n} {layout:?} chunks={chunks}");
            }
        }
    }
}

const SCALE2D: &str = "program scale
  sym n
  sym m
  in x: f64[n, m]
  in y: f64[m]
  out out0: f64[n, m]
  kernel k0 (v0 < n, v1 < m) {
    let v2: f64 = load y[v1]
    store out0[v0, v1] = add(mul(load x[v0, v1], f64:2.0), v2)
  }
";

#[test]
fn two_d_broadcast_in_every_layout_and_shape() {
    let lp = parse(SCALE2D);
    let prog = compile(&lp).expect("compile");
    assert_eq!(prog.vectorized(), &[true]);
    for (n, m) in [(0, 3), (3, 0), (1, 1), (2, 3), (3, 5), (4, 17), (5, 2)] {
        let x = ArrayD::from_shape_fn(IxDyn(&[n, m]), |ix| (ix[0] * 10 + ix[1]) as f64 * 0.5);
        let y = ArrayD::from_shape_fn(IxDyn(&[m]), |ix| ix[0] as f64 - 1.0);
        let mut want = ArrayD::zeros(IxDyn(&[n, m]));
        for i in 0..n {
            for j in 0..m {
                want[[i, j]] = x[[i, j]] * 2.0 + y[[j]];
            }
        }
        for layout in [Layout::Standard, Layout::Fortran, Layout::Reversed] {
            let xs = relayout(&Value::F64(x.clone()), layout);
            if n > 1 && m > 1 && layout != Layout::Standard {
                assert_ne!(strides(&xs), vec![m as isize, 1], "{layout:?} took effect");
            }
            for chunks in [1, 4] {
                let out = run_program_chunked(&prog, &lp, &[xs.clone(), Value::F64(y.clone())], chunks).expect("run");
                assert_eq!(out[0], Value::F64(want.clone()), "{n}x{m} {layout:?} chunks={chunks}");
            }
        }
    }
}

const ROWSUM_ARGMIN: &str = "program rows
  sym n
  sym d
  in x: f32[n, d]
  out out0: f32[n]
  out out1: i64[n]
  kernel k0 (v0 < n) {
    mut v1: f32 = f32:0.0
    mut v2: f32 = f32:inf
    mut v3: i64 = i64:-1
    for v4 < d {
      let v5: f32 = load x[v0, v4]
      v1 = add(v1, v5)
      if or(eq(v3, i64:-1), lt(v5, v2)) {
        v2 = v5
        v3 = v4
      } else {
      }
    }
    if lt(v3, i64:0) {
      flag empty_arg_reduce
      v3 = i64:0
    } else {
    }
    store out0[v0] = v1
    store out1[v0] = v3
  }
";

#[test]
fn serial_loops_and_ifs_compute_row_sums_and_argmins() {
    let lp = parse(ROWSUM_ARGMIN);
    let prog = compile(&lp).expect("compile");
    assert_eq!(prog.vectorized(), &[false], "a kernel with loops stays scalar");
    for (n, d) in [(0, 4), (1, 1), (3, 7), (6, 33)] {
        let x = f32s(&[n, d], |i| ((i * 7919) % 23) as f32 - 11.0);
        let mut sums = vec![];
        let mut args = vec![];
        for i in 0..n {
            let row: Vec<f32> = (0..d).map(|l| x[[i, l]]).collect();
            sums.push(row.iter().fold(0.0f32, |s, v| s + v));
            let mut best = 0;
            for (l, v) in row.iter().enumerate() {
                if *v < row[best] {
                    best = l;
                }
            }
            args.push(best as i64);
        }
        for layout in [Layout::Standard, Layout::Fortran] {
            let out = run_program(&prog, &lp, &[relayout(&Value::F32(x.clone()), layout)]).expect("run");
            assert_eq!(out[0], Value::F32(ArrayD::from_shape_vec(IxDyn(&[n]), sums.clone()).expect("s")));
            assert_eq!(out[1], Value::I64(ArrayD::from_shape_vec(IxDyn(&[n]), args.clone()).expect("s")));
        }
    }
    // An empty row raises the argmin flag.
    let empty = Value::F32(ArrayD::zeros(IxDyn(&[2, 0])));
    assert!(matches!(run_program(&prog, &lp, &[empty]), Err(CpuError::Flag(Flag::EmptyArgReduce))));
}

const GATHER: &str = "program gather
  sym n
  sym k
  in x: f32[n]
  in idx: i64[k]
  out out0: f32[k]
  kernel k0 (v0 < k) {
    let v1: i64 = check(load idx[v0], n)
    store out0[v0] = load x[v1]
  }
";

#[test]
fn gathers_read_in_range_and_flag_out_of_range_indices() {
    let lp = parse(GATHER);
    let prog = compile(&lp).expect("compile");
    let x = Value::F32(f32s(&[5], |i| i as f32 * 10.0));
    let good = Value::I64(ArrayD::from_shape_vec(IxDyn(&[4]), vec![4, 0, 2, 2]).expect("s"));
    let out = run_program(&prog, &lp, &[x.clone(), good]).expect("run");
    assert_eq!(out[0], Value::F32(ArrayD::from_shape_vec(IxDyn(&[4]), vec![40.0, 0.0, 20.0, 20.0]).expect("s")));
    for bad in [5, -1, i64::MIN, i64::MAX] {
        let idx = Value::I64(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1, bad, 0]).expect("s"));
        let r = run_program(&prog, &lp, &[x.clone(), idx]);
        assert!(matches!(r, Err(CpuError::Flag(Flag::IndexOutOfRange))), "index {bad}: {r:?}");
    }
}

/// `GATHER` with rows: a gather of whole rows of `x`.
const GATHER_ROWS: &str = "program gather_rows
  sym n
  sym k
  in x: f32[n, 3]
  in idx: i64[k]
  out out0: f32[k, 3]
  kernel k0 (v0 < k, v1 < 3) {
    let v2: i64 = check(load idx[v0], n)
    store out0[v0, v1] = load x[v2, v1]
  }
";

#[test]
fn a_gather_from_an_empty_array_raises_its_flag_through_every_entry_point() {
    // `run_program` gave an empty input no zeroed room: the failed check's index 0 read
    // through the empty array's dangling pointer (a crash from safe code).
    for text in [GATHER, GATHER_ROWS] {
        let lp = parse(text);
        let prog = compile(&lp).expect("compile");
        let rows: &[usize] = if text == GATHER { &[0] } else { &[0, 3] };
        let x = Value::F32(ArrayD::zeros(IxDyn(rows)));
        let idx = Value::I64(ArrayD::from_shape_vec(IxDyn(&[40]), (0..40).collect()).expect("s"));
        let args = [x, idx];
        let r = run_program(&prog, &lp, &args);
        assert!(matches!(r, Err(CpuError::Flag(Flag::IndexOutOfRange))), "{}: {r:?}", lp.name);
        for chunks in [1, 3, 64] {
            let r = run_program_chunked(&prog, &lp, &args, chunks);
            assert!(matches!(r, Err(CpuError::Flag(Flag::IndexOutOfRange))), "{} / {chunks}: {r:?}", lp.name);
        }
    }
}

/// `out0[i, j] = x[i]` with a constant second axis of `cols` elements.
fn wide(cols: u64) -> LoopProgram {
    parse(&format!(
        "program wide\n  sym k\n  in x: f32[k]\n  out out0: f32[k, {cols}]\n  kernel k0 (v0 < k, v1 < {cols}) {{\n    store out0[v0, v1] = load x[v0]\n  }}\n"
    ))
}

#[test]
fn an_output_too_large_for_memory_is_an_error_not_an_abort() {
    let x = Value::F32(ArrayD::zeros(IxDyn(&[1024])));
    // 2^10 x 2^40 f32: 4 PiB, past any address space, so no allocator can satisfy it.
    let lp = wide(1 << 40);
    let prog = compile(&lp).expect("compile");
    let r = run_program(&prog, &lp, std::slice::from_ref(&x));
    let Err(e @ CpuError::OutOfMemory { .. }) = r else { panic!("{r:?}") };
    assert_eq!(
        e.to_string(),
        "cpu backend: unable to allocate 4.00 PiB for an array with shape (1024, 1099511627776) \
         (output `out0` of kernel `wide`)"
    );
    // 2^10 x 2^62 f32 overflows the size itself: refused before anything is allocated.
    let lp = wide(1 << 62);
    let prog = compile(&lp).expect("compile");
    let r = run_program(&prog, &lp, &[x]);
    assert!(matches!(&r, Err(CpuError::Frame(FrameError::TooLarge { .. }))), "{r:?}");
    assert!(r.unwrap_err().to_string().contains("overflows"));
}

#[test]
fn rank_zero_domains_run_once() {
    let lp = parse(
        "program s\n  in a: i32[]\n  out out0: i32[]\n  kernel k0 () {\n    store out0[] = mul(load a[], i32:3)\n  }\n",
    );
    let prog = compile(&lp).expect("compile");
    let a = Value::I32(ArrayD::from_elem(IxDyn(&[]), -7));
    for chunks in [1, 3] {
        let out = run_program_chunked(&prog, &lp, std::slice::from_ref(&a), chunks).expect("run");
        assert_eq!(out[0], Value::I32(ArrayD::from_elem(IxDyn(&[]), -21)));
    }
}

#[test]
fn ill_typed_programs_are_invalid_not_panics() {
    // `neg` of a u32 and a float `and` are not defined (Scalar::unary/binary return None): the
    // loop IR verifier that `compile` runs first rejects them as an invalid program (a bug in
    // its builder), not as a construct the backend does not support (a user's).
    for body in ["neg(load x[v0])", "and(cast.f32(load x[v0]), f32:1.0)"] {
        let out_ty = if body.starts_with("neg") { "u32" } else { "f32" };
        let text = format!(
            "program bad\n  sym n\n  in x: u32[n]\n  out out0: {out_ty}[n]\n  kernel k0 (v0 < n) {{\n    store out0[v0] = {body}\n  }}\n"
        );
        let r = compile(&parse(&text));
        assert!(matches!(r, Err(CpuError::Invalid(_))), "{body}: {r:?}");
    }
}

#[test]
fn run_program_rejects_mismatched_arguments() {
    let lp = parse(SCALE2D);
    let prog = compile(&lp).expect("compile");
    let x = Value::F64(ArrayD::zeros(IxDyn(&[2, 3])));
    let cases = [
        vec![x.clone()],
        vec![x.clone(), Value::F64(ArrayD::zeros(IxDyn(&[4])))],
        vec![x.clone(), Value::F32(ArrayD::zeros(IxDyn(&[3])))],
        vec![x.clone(), Value::F64(ArrayD::zeros(IxDyn(&[3, 1])))],
    ];
    for args in cases {
        let r = run_program(&prog, &lp, &args);
        assert!(matches!(r, Err(CpuError::Frame(FrameError::Bind(_)))), "{r:?}");
    }
}

#[test]
fn inspection_text_labels_every_kernel_before_and_after_optimization() {
    let lp = parse(AXPBY);
    assert!(compile(&lp).expect("compile").asm().is_none(), "no listing unless asked for");
    let opts = CompileOptions { inspect: true, ..CompileOptions::default() };
    let prog = compile_with(&lp, &opts).expect("compile");
    let clif = prog.clif();
    assert!(clif.contains("; kernel k0 (clif before optimization)"), "{clif}");
    assert!(clif.contains("; kernel k0 (clif after optimization)"), "{clif}");
    assert!(clif.contains("f32x4"), "the vector loop is in the CLIF");
    let asm = prog.asm().expect("asm listing");
    assert!(asm.contains("; kernel k0"), "{asm}");
    assert!(asm.to_lowercase().contains("mulps"), "vector multiply in the machine code:\n{asm}");
    assert!(prog.compile_micros() > 0);
}

#[test]
fn libm_calls_in_vector_loops_match_the_interpreter() {
    let lp = parse(
        "program m\n  sym n\n  in x: f32[n]\n  out out0: f32[n]\n  kernel k0 (v0 < n) {\n    let v1: f32 = load x[v0]\n    store out0[v0] = add(mul(exp(v1), sin(v1)), sigmoid(tanh(v1)))\n  }\n",
    );
    assert_eq!(compile(&lp).expect("compile").vectorized(), &[true]);
    let x = Value::F32(f32s(&[123], |i| i as f32 * 0.1 - 6.0));
    assert!(common::check_against_interp(&lp, &[x], "exp*sin + sigmoid(tanh)"));
}
