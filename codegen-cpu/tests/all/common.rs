//! Shared test helpers: comparing values with per-dtype tolerances, re-laying out arguments
//! (transposed, reversed strides) and checking a loop program against the loop interpreter.
#![allow(dead_code)]

use kiln_cpu::{compile, compile_with, run_program_chunked, CompileOptions, CpuProgram};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::LoopProgram;
use kiln_ir::{with_value, Value};
use ndarray::{ArrayD, Axis};

/// Relative tolerance of f32 results (libm against Rust's std may differ by an ulp or two).
pub const F32_TOL: f64 = 1e-5;
/// Relative tolerance of f64 results.
pub const F64_TOL: f64 = 1e-12;

fn close_f(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-30)
}

/// Assert `got` equals `want`: floats within the dtype's tolerance (NaN equals NaN), the
/// others exactly, shapes equal.
pub fn assert_close(got: &Value, want: &Value, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    match (got, want) {
        (Value::F32(g), Value::F32(w)) => {
            for (i, (a, b)) in g.iter().zip(w.iter()).enumerate() {
                assert!(close_f(*a as f64, *b as f64, F32_TOL), "{what}: element {i}: got {a}, want {b}");
            }
        }
        (Value::F64(g), Value::F64(w)) => {
            for (i, (a, b)) in g.iter().zip(w.iter()).enumerate() {
                // Values that are both exact f32s come from f32 math cast to f64 (`cast.f64(exp(..))`):
                // the f32 tolerance applies, as the polynomial and libm f32 results may differ by an ulp.
                let from_f32 = (*a as f32) as f64 == *a && (*b as f32) as f64 == *b;
                let tol = if from_f32 { F32_TOL } else { F64_TOL };
                assert!(close_f(*a, *b, tol), "{what}: element {i}: got {a}, want {b}");
            }
        }
        _ => assert_eq!(got, want, "{what}"),
    }
}

/// How to lay out an argument in memory (its logical value never changes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layout {
    /// Row-major.
    Standard,
    /// Column-major (every axis order reversed): a transposed view's strides.
    Fortran,
    /// Row-major data with axis 0 stored backwards (negative stride).
    Reversed,
}

fn relayout_array<T: Clone>(a: &ArrayD<T>, layout: Layout) -> ArrayD<T> {
    match layout {
        Layout::Standard => a.as_standard_layout().into_owned(),
        Layout::Fortran => {
            let t = a.t().as_standard_layout().into_owned();
            t.reversed_axes()
        }
        Layout::Reversed => {
            if a.ndim() == 0 {
                return a.clone();
            }
            let mut r = a.clone();
            r.invert_axis(Axis(0));
            let mut r = r.as_standard_layout().into_owned();
            r.invert_axis(Axis(0));
            r
        }
    }
}

/// The same value with another memory layout.
pub fn relayout(v: &Value, layout: Layout) -> Value {
    match v {
        Value::F32(a) => Value::F32(relayout_array(a, layout)),
        Value::F64(a) => Value::F64(relayout_array(a, layout)),
        Value::I32(a) => Value::I32(relayout_array(a, layout)),
        Value::I64(a) => Value::I64(relayout_array(a, layout)),
        Value::U32(a) => Value::U32(relayout_array(a, layout)),
        Value::Bool(a) => Value::Bool(relayout_array(a, layout)),
    }
}

/// Strides of a value, to check that a layout took effect.
pub fn strides(v: &Value) -> Vec<isize> {
    with_value!(v, a => a.strides().to_vec())
}

/// Compile `lp`, run it on `args` in every layout and with 1, 3 and 7 chunks (and compiled
/// without vector loops, in standard layout), and compare with the loop interpreter. Returns whether the interpreter succeeded.
pub fn check_against_interp(lp: &LoopProgram, args: &[Value], what: &str) -> bool {
    let prog = compile(lp).unwrap_or_else(|e| panic!("{what}: compile failed: {e}\n{lp}"));
    let scalar_opts = CompileOptions { simd: false, ..CompileOptions::default() };
    let scalar = compile_with(lp, &scalar_opts).unwrap_or_else(|e| panic!("{what}: compile failed: {e}\n{lp}"));
    let want = run_loops(lp, args);
    let runs =
        [(&scalar, Layout::Standard), (&prog, Layout::Standard), (&prog, Layout::Fortran), (&prog, Layout::Reversed)];
    for (prog, layout) in runs {
        let args: Vec<Value> = args.iter().map(|a| relayout(a, layout)).collect();
        for chunks in [1, 3, 7] {
            let got = run_program_chunked(prog, lp, &args, chunks);
            let ctx = format!("{what} ({layout:?}, {chunks} chunks)");
            match (&got, &want) {
                (Ok(g), Ok(w)) => {
                    assert_eq!(g.len(), w.len(), "{ctx}: output count");
                    for (i, (a, b)) in g.iter().zip(w).enumerate() {
                        assert_close(a, b, &format!("{ctx}: output {i}\n{lp}"));
                    }
                }
                (Err(kiln_cpu::CpuError::Flag(_)), Err(_)) => {}
                _ => panic!("{ctx}: cpu {got:?} vs interpreter {want:?}\n{lp}"),
            }
        }
    }
    want.is_ok()
}

/// Compile with inspection on (CLIF and asm kept), vector loops on or off.
pub fn compile_inspect(lp: &LoopProgram, simd: bool) -> CpuProgram {
    let opts = CompileOptions { inspect: true, simd, ..CompileOptions::default() };
    compile_with(lp, &opts).unwrap_or_else(|e| panic!("{e}\n{lp}"))
}

/// Run a compiled program with its parallel domain split in `chunks` ranges.
pub fn run_chunks(p: &CpuProgram, lp: &LoopProgram, args: &[Value], chunks: usize) -> Vec<Value> {
    run_program_chunked(p, lp, args, chunks).unwrap_or_else(|e| panic!("{e}"))
}

/// Seeded values in `[-1.7, 2.3)`: no two runs of a test differ, no value is special.
pub fn values(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ArrayD::from_shape_fn(ndarray::IxDyn(shape), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 1.7
    })
}

/// The bits of every value (floats as their integer representation), to compare exactly.
pub fn bits(v: &[Value]) -> String {
    v.iter()
        .map(|v| match v {
            Value::F32(a) => format!("{:?}", a.mapv(f32::to_bits)),
            Value::F64(a) => format!("{:?}", a.mapv(f64::to_bits)),
            other => format!("{other:?}"),
        })
        .collect()
}

/// Vector and scalar builds against the interpreter, bit for bit, over 1 and 3 chunks.
pub fn check_bitwise(lp: &LoopProgram, args: &[Value], what: &str) {
    let want = bits(&run_loops(lp, args).unwrap_or_else(|e| panic!("{what}: {e}")));
    let (vp, sp) = (compile_inspect(lp, true), compile_inspect(lp, false));
    for chunks in [1, 3] {
        assert_eq!(bits(&run_chunks(&vp, lp, args, chunks)), want, "{what}: vector build, {chunks} chunks");
    }
    assert_eq!(bits(&run_chunks(&sp, lp, args, 1)), want, "{what}: scalar build");
    let fast = compile_with(lp, &CompileOptions { fast: true, ..CompileOptions::default() })
        .unwrap_or_else(|e| panic!("{what}: {e}\n{lp}"));
    assert_eq!(bits(&run_chunks(&fast, lp, args, 3)), want, "{what}: tier-0 (fast) build");
}
