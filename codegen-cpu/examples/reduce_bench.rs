//! Timings of reductions on the CPU backend (measured, never asserted), one thread:
//! * `x.sum()` over 16M f32, lowered (two-phase: 64 chunk partials, then the combine) and
//!   compiled, against a plain Rust loop with 8 accumulators in the same run;
//! * row sums of a `[100k, 32]` f32 matrix (a vectorized inner reduction per row).
//!
//! Prints GB/s of input read. `cargo run --release -p kiln-cpu --example reduce_bench`

use kiln_cpu::{compile, compile_with, run_program, CompileOptions};
use kiln_ir::lower::lower;
use kiln_ir::{Dim, ElemTy, Op, Param, Program, ReduceOp, Type, Value};
use ndarray::{ArrayD, IxDyn};
use std::time::Instant;

/// `x.sum_axis(axes)` of an f32 array of `shape` (symbolic dims named `n`, `d`).
fn sum_program(rank: usize, axes: Vec<u32>) -> Program {
    let mut p = Program::new("sum");
    let shape: Vec<Dim> = ["n", "d"][..rank].iter().map(|s| Dim::Sym(p.sym(s))).collect();
    let ty = Type::array(ElemTy::F32, shape.clone());
    p.params.push(Param { name: "x".into(), ty: ty.clone() });
    let x = p.push(Op::Param(0), ty);
    let kept: Vec<Dim> =
        shape.iter().enumerate().filter(|(a, _)| !axes.contains(&(*a as u32))).map(|(_, d)| *d).collect();
    let s = p.push(Op::Reduce { op: ReduceOp::Sum, arg: x, axes }, Type::array(ElemTy::F32, kept));
    p.outputs.push(s);
    p
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of `runs` calls of `f`.
fn time(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// The reference: 8 independent accumulators, which LLVM vectorizes.
fn sum8(x: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn main() {
    let n = 16 << 20;
    let xs: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.001).collect();
    let gb = (n * 4) as f64 / 1e9;

    let p = sum_program(1, vec![0]);
    let t = Instant::now();
    let lp = lower(&p).expect("lower");
    let prog = compile(&lp).expect("compile");
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    let x = Value::F32(ArrayD::from_shape_vec(IxDyn(&[n]), xs.clone()).expect("shape"));
    let mut out = vec![];
    let kiln = time(15, || out = run_program(&prog, &lp, std::slice::from_ref(&x)).expect("run"));
    let scalar = compile_with(&lp, &CompileOptions { simd: false, ..CompileOptions::default() }).expect("compile");
    let serial = time(5, || out = run_program(&scalar, &lp, std::slice::from_ref(&x)).expect("run"));
    let mut r = 0f32;
    let rust = time(15, || r = sum8(std::hint::black_box(&xs)));
    println!("x.sum() 16M f32 (lower + compile {compile_ms:.2} ms, {} kernels)", lp.kernels.len());
    println!("  kiln (two-phase, 1 thread): {:.2} ms, {:.1} GB/s, result {:?}", kiln * 1e3, gb / kiln, out[0]);
    println!("  kiln, no vector loops:      {:.2} ms, {:.1} GB/s", serial * 1e3, gb / serial);
    println!("  rust 8 accumulators:        {:.2} ms, {:.1} GB/s, result {r}", rust * 1e3, gb / rust);
    println!("  ratio kiln / rust: {:.2}", rust / kiln);

    let (rows, d) = (100_000, 32);
    let m: Vec<f32> = (0..rows * d).map(|i| (i % 977) as f32 * 0.01).collect();
    let p = sum_program(2, vec![1]);
    let lp = lower(&p).expect("lower");
    let prog = compile(&lp).expect("compile");
    let mv = Value::F32(ArrayD::from_shape_vec(IxDyn(&[rows, d]), m.clone()).expect("shape"));
    let kiln = time(31, || out = run_program(&prog, &lp, std::slice::from_ref(&mv)).expect("run"));
    let mut sums = vec![0f32; rows];
    let rust = time(31, || {
        for (s, row) in sums.iter_mut().zip(std::hint::black_box(&m).chunks_exact(d)) {
            *s = sum8(row);
        }
    });
    let gb = (rows * d * 4) as f64 / 1e9;
    println!("row sums [100k, 32] f32");
    println!("  kiln (vector inner loop): {:.3} ms, {:.1} GB/s", kiln * 1e3, gb / kiln);
    println!("  rust 8 accumulators/row:  {:.3} ms, {:.1} GB/s", rust * 1e3, gb / rust);
}
