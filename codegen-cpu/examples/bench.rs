//! Timings of the CPU backend (measured, never asserted): compile latency per kernel, the
//! throughput of `a*x + b*y` on 16M f32 against a plain Rust loop in the same run, one thread,
//! and of `x.exp() * y.sin()` on 16M f32 with the polynomial math (`poly_math`, the default),
//! with one libm call per element, and as a Rust loop over std's `exp`/`sin`.
//!
//! `cargo run --release -p kiln-cpu --example bench`

use kiln_cpu::{compile, compile_with, run_program, ArgPack, BufDesc, CompileOptions};
use kiln_ir::loops::parse_loop_program;
use kiln_ir::Value;
use ndarray::{ArrayD, IxDyn};
use std::time::Instant;

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

const EXP_SIN: &str = "program expsin
  sym n
  in x: f32[n]
  in y: f32[n]
  out out0: f32[n]
  kernel k0 (v0 < n) {
    store out0[v0] = mul(exp(load x[v0]), sin(load y[v0]))
  }
";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // Compile latency: axpby and the kernels of 200 random programs.
    let lp = parse_loop_program(AXPBY).expect("parse");
    let mut axpby_us = vec![];
    for _ in 0..20 {
        axpby_us.push(compile(&lp).expect("compile").kernel_micros()[0] as f64);
    }
    let mut per_kernel = vec![];
    for seed in 0..200 {
        let p = kiln_ir::testgen::random_program(seed);
        let Ok(rlp) = kiln_ir::lower::lower(&p) else { continue };
        let c = compile(&rlp).expect("compile");
        per_kernel.extend(c.kernel_micros().iter().map(|m| *m as f64));
    }
    println!(
        "compile: axpby kernel median {:.0} us; random kernels: median {:.0} us, max {:.0} us over {}",
        median(axpby_us),
        median(per_kernel.clone()),
        per_kernel.iter().copied().fold(0.0, f64::max),
        per_kernel.len()
    );

    // Throughput, 16M f32, out of place, one thread.
    let n = 16 << 20;
    let x: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.001).collect();
    let y: Vec<f32> = (0..n).map(|i| (i % 777) as f32 * 0.002).collect();
    let (a, b) = (1.5f32, -0.5f32);
    let mut out = vec![0f32; n];
    let prog = compile(&lp).expect("compile");
    let stride = [1i64];
    let descs = [
        BufDesc { ptr: &a as *const f32 as *mut u8, strides: std::ptr::null() },
        BufDesc { ptr: x.as_ptr() as *mut u8, strides: stride.as_ptr() },
        BufDesc { ptr: &b as *const f32 as *mut u8, strides: std::ptr::null() },
        BufDesc { ptr: y.as_ptr() as *mut u8, strides: stride.as_ptr() },
        BufDesc { ptr: out.as_mut_ptr() as *mut u8, strides: stride.as_ptr() },
    ];
    let syms = [n as i64];
    let mut flags = [0u32; 2];
    let pack = ArgPack { bufs: descs.as_ptr(), syms: syms.as_ptr(), flags: flags.as_mut_ptr() };
    let gb = (3 * n * 4) as f64 / 1e9;
    let mut kiln = vec![];
    let mut rust = vec![];
    for _ in 0..15 {
        let t = Instant::now();
        // SAFETY: the descriptors point at live arrays of n f32 (scalars for a and b), stride 1,
        // syms[0] = n, two flags, and 0..n is the whole domain.
        unsafe { prog.run(0, &pack, 0, n as i64) };
        kiln.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for ((o, xv), yv) in out.iter_mut().zip(&x).zip(&y) {
            *o = a * *xv + b * *yv;
        }
        std::hint::black_box(&mut out);
        rust.push(t.elapsed().as_secs_f64());
    }
    let (k, r) = (median(kiln), median(rust));
    println!(
        "axpby 16M f32, 1 thread: kiln {:.2} ms ({:.1} GB/s), rust loop {:.2} ms ({:.1} GB/s), ratio rust/kiln {:.2}",
        k * 1e3,
        gb / k,
        r * 1e3,
        gb / r,
        r / k
    );
    let want: Vec<f32> = (0..n).map(|i| a * x[i] + b * y[i]).collect();
    // SAFETY: as above.
    unsafe { prog.run(0, &pack, 0, n as i64) };
    println!("kiln result equals the rust loop: {}", out == want);

    exp_sin();
}

/// `x.exp() * y.sin()` on 16M f32, one thread: polynomial math, libm calls, and a Rust loop.
fn exp_sin() {
    let n = 16 << 20;
    let xs: Vec<f32> = (0..n).map(|i| ((i % 2000) as f32 - 1000.0) * 0.01).collect();
    let ys: Vec<f32> = (0..n).map(|i| ((i % 3001) as f32 - 1500.0) * 0.07).collect();
    let arr = |v: &[f32]| Value::F32(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).expect("shape"));
    let args = [arr(&xs), arr(&ys)];
    let lp = parse_loop_program(EXP_SIN).expect("parse");
    let poly = compile(&lp).expect("compile");
    let libm = compile_with(&lp, &CompileOptions { poly_math: false, ..CompileOptions::default() }).expect("compile");
    println!("exp(x)*sin(y): vector loop: poly {:?}, libm {:?}", poly.vectorized(), libm.vectorized());
    let mut out = vec![0f32; n];
    let (mut tp, mut tl, mut tr) = (vec![], vec![], vec![]);
    let mut results = (vec![], vec![]);
    for _ in 0..7 {
        let t = Instant::now();
        let r = run_program(&poly, &lp, &args).expect("run");
        tp.push(t.elapsed().as_secs_f64());
        results.0 = r;
        let t = Instant::now();
        let r = run_program(&libm, &lp, &args).expect("run");
        tl.push(t.elapsed().as_secs_f64());
        results.1 = r;
        let t = Instant::now();
        for ((o, x), y) in out.iter_mut().zip(&xs).zip(&ys) {
            *o = x.exp() * y.sin();
        }
        std::hint::black_box(&mut out);
        tr.push(t.elapsed().as_secs_f64());
    }
    let (p, l, r) = (median(tp), median(tl), median(tr));
    println!(
        "exp(x)*sin(y) 16M f32, 1 thread: kiln poly {:.1} ms ({:.0} M/s), kiln libm {:.1} ms, rust std loop {:.1} ms; \
         libm/poly {:.2}, rust/poly {:.2}",
        p * 1e3,
        n as f64 / p / 1e6,
        l * 1e3,
        r * 1e3,
        l / p,
        r / p
    );
    // Agreement with the Rust loop, relative to the result's magnitude.
    let mut worst = 0f64;
    if let (Some(Value::F32(a)), Some(Value::F32(b))) = (results.0.first(), results.1.first()) {
        for ((p, q), w) in a.iter().zip(b.iter()).zip(&out) {
            let scale = (*w as f64).abs().max(1e-30);
            worst = worst.max((*p as f64 - *w as f64).abs() / scale).max((*q as f64 - *w as f64).abs() / scale);
        }
    }
    println!("exp(x)*sin(y): max relative difference of kiln (poly, libm) from the rust loop: {worst:.2e}");
}
