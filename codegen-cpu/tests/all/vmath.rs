//! Accuracy of the polynomial math (`kiln_cpu::vmath`): the maximum ULP error of `exp ln tanh
//! sigmoid sin cos` over wide sweeps, asserted against the bounds stated in the module's
//! documentation, plus exact special values, bit-for-bit agreement of the vector and scalar
//! paths, and the libm fallback (`poly_math: false`).
//!
//! f32 results are compared with the f64 function of the same input (Rust's std, glibc), which
//! is exact enough to serve as the true value; f64 results with glibc's f64 function ("vs
//! glibc": glibc is itself within about 1 ULP of the true value).
//!
//! The sweeps are exhaustive only under `KILN_FULL=1` (`cargo xtask test --full`): every 37th
//! f32 bit pattern (116M inputs per function) and 2^20 points per f64 range plus 2^21 bit
//! patterns. By default they test a sample 64 times smaller: every 2368th f32 bit pattern (a
//! subset of the full sweep's, 1.8M inputs per function), 2^14-point grids per f64 range and
//! the first 2^15 of the bit patterns; the edge values are always tested.

use kiln_cpu::{compile_with, run_program, CompileOptions, CpuProgram};
use kiln_ir::loops::{parse_loop_program, LoopProgram};
use kiln_ir::{DType, UnOp, Value};
use ndarray::{ArrayD, IxDyn};

/// The f32 bounds stated in `kiln_cpu::vmath` (max ULP; sin/cos on `|x| <= 8192`, libm beyond).
const F32_BOUNDS: [(UnOp, f64); 6] =
    [(UnOp::Exp, 1.5), (UnOp::Ln, 1.0), (UnOp::Tanh, 2.0), (UnOp::Sigmoid, 3.0), (UnOp::Sin, 2.0), (UnOp::Cos, 2.0)];
/// The f64 bounds (max ULP vs glibc).
const F64_BOUNDS: [(UnOp, f64); 6] =
    [(UnOp::Exp, 1.0), (UnOp::Ln, 1.0), (UnOp::Tanh, 3.0), (UnOp::Sigmoid, 2.0), (UnOp::Sin, 2.0), (UnOp::Cos, 2.0)];

struct Compiled {
    lp: LoopProgram,
    vector: CpuProgram,
    scalar: CpuProgram,
    libm: CpuProgram,
}

fn compiled(op: UnOp, dt: DType) -> Compiled {
    let text = format!(
        "program m\n  sym n\n  in x: {dt}[n]\n  out y: {dt}[n]\n  kernel k0 (v0 < n) {{\n    store y[v0] = {}(load x[v0])\n  }}\n",
        op.name()
    );
    let lp = parse_loop_program(&text).expect("parse");
    let opts = CompileOptions::default();
    let vector = compile_with(&lp, &opts).expect("compile");
    assert!(vector.vectorized()[0], "{} on {dt} is not vectorized", op.name());
    let scalar = compile_with(&lp, &CompileOptions { simd: false, ..opts }).expect("compile");
    let libm = compile_with(&lp, &CompileOptions { poly_math: false, ..opts }).expect("compile");
    Compiled { lp, vector, scalar, libm }
}

fn run32(p: &CpuProgram, lp: &LoopProgram, xs: &[f32]) -> Vec<f32> {
    let arg = Value::F32(ArrayD::from_shape_vec(IxDyn(&[xs.len()]), xs.to_vec()).expect("shape"));
    match run_program(p, lp, &[arg]).expect("run").pop() {
        Some(Value::F32(a)) => a.iter().copied().collect(),
        other => panic!("unexpected output {other:?}"),
    }
}

fn run64(p: &CpuProgram, lp: &LoopProgram, xs: &[f64]) -> Vec<f64> {
    let arg = Value::F64(ArrayD::from_shape_vec(IxDyn(&[xs.len()]), xs.to_vec()).expect("shape"));
    match run_program(p, lp, &[arg]).expect("run").pop() {
        Some(Value::F64(a)) => a.iter().copied().collect(),
        other => panic!("unexpected output {other:?}"),
    }
}

/// The reference in f64 (std, i.e. glibc), written independently of the code under test.
fn reference(op: UnOp, x: f64) -> f64 {
    match op {
        UnOp::Exp => x.exp(),
        UnOp::Ln => x.ln(),
        UnOp::Tanh => x.tanh(),
        UnOp::Sin => x.sin(),
        UnOp::Cos => x.cos(),
        UnOp::Sigmoid => {
            if x >= 0.0 {
                1.0 / (1.0 + (-x).exp())
            } else {
                let e = x.exp();
                e / (1.0 + e)
            }
        }
        _ => unreachable!("not a vmath op"),
    }
}

/// The error of `got` in units of the last place of `want` at the precision with `mant`
/// explicit mantissa bits and smallest exponent `emin` (denormals have the ulp 2^(emin-mant)).
fn ulps(got: f64, want: f64, mant: i32, emin: i32, max: f64) -> f64 {
    if got.is_nan() || want.is_nan() {
        return if got.is_nan() && want.is_nan() { 0.0 } else { f64::INFINITY };
    }
    if got.is_infinite() || want.abs() > max {
        // Overflow: right when the reference rounds to the same infinity.
        let want_rounded =
            if want.abs() > max * (1.0 + 2f64.powi(-mant - 1)) { want.signum() * f64::INFINITY } else { want };
        return if got == want_rounded { 0.0 } else { f64::INFINITY };
    }
    let e = if want == 0.0 { emin } else { (want.abs().log2().floor() as i32).max(emin) };
    (got - want).abs() / 2f64.powi(e - mant)
}

fn ulps32(got: f32, want: f64) -> f64 {
    ulps(got as f64, want, 23, -126, f32::MAX as f64)
}

fn ulps64(got: f64, want: f64) -> f64 {
    if got == want || (got.is_nan() && want.is_nan()) {
        return 0.0;
    }
    if got.is_infinite() || want.is_infinite() {
        return f64::INFINITY;
    }
    // The ulp of `want`: the gap to the next double away from zero (denormals included).
    let w = want.abs();
    let ulp = f64::from_bits(w.to_bits() + 1) - w;
    (got - want).abs() / ulp
}

/// Edge cases that every op sees on top of the sweeps.
fn edges() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        0.625,
        -0.625,
        88.72283,
        88.72284,
        89.0,
        -87.33654,
        -88.0,
        -100.0,
        -103.97,
        -104.0,
        709.78,
        709.79,
        -745.13,
        -746.0,
        8192.0,
        -8192.0,
        8193.0,
        1048576.0,
        1048577.0,
        1e10,
        -1e10,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-40,
        -1e-40,
        1e-310,
        f32::MIN_POSITIVE as f64,
        f64::MIN_POSITIVE,
        f32::MAX as f64,
        f64::MAX,
    ];
    for k in 1..64 {
        v.push(k as f64 * std::f64::consts::FRAC_PI_2);
        v.push(-(k as f64) * std::f64::consts::FRAC_PI_4);
    }
    v
}

/// Whether the sweeps test every input (`KILN_FULL=1`) or their default sample.
fn full() -> bool {
    std::env::var("KILN_FULL").is_ok_and(|v| v == "1")
}

/// How much sparser the default sample is than the full sweep.
const SAMPLE: u64 = 64;

/// Sweep one f32 op: every 37th bit pattern (every `37 * SAMPLE`th by default) plus the edges;
/// returns the max ULP error inside the polynomial domain and checks the vector and scalar
/// paths agree bit for bit.
fn sweep32(op: UnOp) -> (f64, f32) {
    let c = compiled(op, DType::F32);
    let mut worst = (0.0f64, 0.0f32);
    let mut check = |xs: &[f32], compare_scalar: bool| {
        let got = run32(&c.vector, &c.lp, xs);
        if compare_scalar {
            let s = run32(&c.scalar, &c.lp, xs);
            for ((x, a), b) in xs.iter().zip(&got).zip(&s) {
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{} {x:e}: vector {a:e} scalar {b:e}",
                    op.name()
                );
            }
        }
        for (x, g) in xs.iter().zip(&got) {
            let e = ulps32(*g, reference(op, *x as f64));
            if e > worst.0 || e.is_nan() {
                worst = (e, *x);
            }
        }
    };
    let edges: Vec<f32> = edges().iter().map(|v| *v as f32).collect();
    check(&edges, true);
    let step: u64 = if full() { 37 } else { 37 * SAMPLE };
    let chunk = 1 << 22;
    let mut buf = Vec::with_capacity(chunk);
    let mut bits: u64 = 0;
    let mut n = 0u64;
    while bits <= u32::MAX as u64 {
        buf.push(f32::from_bits(bits as u32));
        bits += step;
        if buf.len() == chunk {
            check(&buf, n.is_multiple_of(8));
            buf.clear();
            n += 1;
        }
    }
    check(&buf, true);
    worst
}

/// Sweep one f64 op: dense uniform grids over the ranges that matter, pseudo-random bit
/// patterns over all doubles (each `SAMPLE` times fewer by default), and the edges. Returns the
/// max ULP error vs glibc.
fn sweep64(op: UnOp) -> (f64, f64) {
    let c = compiled(op, DType::F64);
    let mut xs: Vec<f64> = edges();
    let ranges: &[(f64, f64)] = match op {
        UnOp::Exp => &[(-1.0, 1.0), (-750.0, 712.0)],
        UnOp::Ln => &[(0.0, 2.0), (0.0, 1e6)],
        UnOp::Tanh | UnOp::Sigmoid => &[(-1.0, 1.0), (-40.0, 40.0), (-750.0, 750.0)],
        _ => &[(-4.0, 4.0), (-1e3, 1e3), (-1048576.0, 1048576.0)],
    };
    let sparser = if full() { 1 } else { SAMPLE as usize };
    let per = (1 << 20) / sparser;
    for &(a, b) in ranges {
        xs.extend((0..per).map(|i| a + (b - a) * (i as f64 + 0.37) / per as f64));
    }
    // A Weyl sequence over bit patterns reaches every exponent.
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..(1 << 21) / sparser {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        xs.push(f64::from_bits(s));
    }
    let got = run64(&c.vector, &c.lp, &xs);
    let scalar = run64(&c.scalar, &c.lp, &xs);
    let mut worst = (0.0f64, 0.0f64);
    for ((x, g), s) in xs.iter().zip(&got).zip(&scalar) {
        assert!(
            g.to_bits() == s.to_bits() || (g.is_nan() && s.is_nan()),
            "{} {x:e}: vector {g:e} scalar {s:e}",
            op.name()
        );
        let e = ulps64(*g, reference(op, *x));
        if e > worst.0 || e.is_nan() {
            worst = (e, *x);
        }
    }
    worst
}

fn check32(op: UnOp) {
    let bound = F32_BOUNDS.iter().find(|b| b.0 == op).map_or(0.0, |b| b.1);
    let (e, x) = sweep32(op);
    println!("f32 {:8} max {e:.3} ulp at x = {x:e} (bound {bound})", op.name());
    assert!(e <= bound, "{}: {e} ulp at {x:e} > {bound}", op.name());
}

fn check64(op: UnOp) {
    let bound = F64_BOUNDS.iter().find(|b| b.0 == op).map_or(0.0, |b| b.1);
    let (e, x) = sweep64(op);
    println!("f64 {:8} max {e:.3} ulp vs glibc at x = {x:e} (bound {bound})", op.name());
    assert!(e <= bound, "{}: {e} ulp at {x:e} > {bound}", op.name());
}

// One test per function and dtype, so the sweeps run in parallel.
#[test]
fn exp_f32_max_ulp() {
    check32(UnOp::Exp)
}
#[test]
fn ln_f32_max_ulp() {
    check32(UnOp::Ln)
}
#[test]
fn tanh_f32_max_ulp() {
    check32(UnOp::Tanh)
}
#[test]
fn sigmoid_f32_max_ulp() {
    check32(UnOp::Sigmoid)
}
#[test]
fn sin_f32_max_ulp() {
    check32(UnOp::Sin)
}
#[test]
fn cos_f32_max_ulp() {
    check32(UnOp::Cos)
}
#[test]
fn exp_f64_max_ulp_vs_glibc() {
    check64(UnOp::Exp)
}
#[test]
fn ln_f64_max_ulp_vs_glibc() {
    check64(UnOp::Ln)
}
#[test]
fn tanh_f64_max_ulp_vs_glibc() {
    check64(UnOp::Tanh)
}
#[test]
fn sigmoid_f64_max_ulp_vs_glibc() {
    check64(UnOp::Sigmoid)
}
#[test]
fn sin_f64_max_ulp_vs_glibc() {
    check64(UnOp::Sin)
}
#[test]
fn cos_f64_max_ulp_vs_glibc() {
    check64(UnOp::Cos)
}

#[test]
fn special_values_are_exact() {
    let inf = f64::INFINITY;
    // (op, x, expected); NaN expects NaN, zeros are checked with their sign.
    let cases: Vec<(UnOp, f64, f64)> = vec![
        (UnOp::Exp, 0.0, 1.0),
        (UnOp::Exp, -0.0, 1.0),
        (UnOp::Exp, inf, inf),
        (UnOp::Exp, -inf, 0.0),
        (UnOp::Exp, f64::NAN, f64::NAN),
        (UnOp::Exp, 1000.0, inf),
        (UnOp::Exp, -1000.0, 0.0),
        (UnOp::Ln, 1.0, 0.0),
        (UnOp::Ln, 0.0, -inf),
        (UnOp::Ln, -0.0, -inf),
        (UnOp::Ln, -1.0, f64::NAN),
        (UnOp::Ln, -inf, f64::NAN),
        (UnOp::Ln, inf, inf),
        (UnOp::Ln, f64::NAN, f64::NAN),
        (UnOp::Tanh, 0.0, 0.0),
        (UnOp::Tanh, -0.0, -0.0),
        (UnOp::Tanh, inf, 1.0),
        (UnOp::Tanh, -inf, -1.0),
        (UnOp::Tanh, 50.0, 1.0),
        (UnOp::Tanh, f64::NAN, f64::NAN),
        (UnOp::Sigmoid, 0.0, 0.5),
        (UnOp::Sigmoid, -0.0, 0.5),
        (UnOp::Sigmoid, inf, 1.0),
        (UnOp::Sigmoid, -inf, 0.0),
        (UnOp::Sigmoid, f64::NAN, f64::NAN),
        (UnOp::Sin, 0.0, 0.0),
        (UnOp::Sin, -0.0, -0.0),
        (UnOp::Sin, inf, f64::NAN),
        (UnOp::Sin, -inf, f64::NAN),
        (UnOp::Sin, f64::NAN, f64::NAN),
        (UnOp::Cos, 0.0, 1.0),
        (UnOp::Cos, -0.0, 1.0),
        (UnOp::Cos, inf, f64::NAN),
        (UnOp::Cos, f64::NAN, f64::NAN),
    ];
    let same = |g: f64, w: f64| if w.is_nan() { g.is_nan() } else { g.to_bits() == w.to_bits() };
    for (op, x, want) in cases {
        for dt in [DType::F32, DType::F64] {
            let c = compiled(op, dt);
            for (prog, path) in [(&c.vector, "vector"), (&c.scalar, "scalar")] {
                // Five copies so the vector loop (not only the scalar tail) sees the value.
                let g = if dt == DType::F32 {
                    run32(prog, &c.lp, &[x as f32; 5]).iter().map(|v| *v as f64).collect::<Vec<_>>()
                } else {
                    run64(prog, &c.lp, &[x; 5])
                };
                for v in g {
                    assert!(same(v, want), "{}({x:e}) on {dt} ({path}): got {v:e}, want {want:e}", op.name());
                }
            }
        }
    }
}

#[test]
fn huge_sin_cos_arguments_are_libm_results() {
    // Beyond the polynomial domain the lanes go to libm: compare with the libm-compiled kernel.
    let xs32: Vec<f32> = vec![8193.0, -1e5, 3.0e38, 12345.678, -9000.5, 1e10, 0.5, 2.0];
    let xs64: Vec<f64> = vec![1048577.0, -1e7, 1e300, 123456789.123, -2e6, 1e22, 0.5, 2.0];
    for op in [UnOp::Sin, UnOp::Cos] {
        let c = compiled(op, DType::F32);
        let (a, b) = (run32(&c.vector, &c.lp, &xs32), run32(&c.libm, &c.lp, &xs32));
        for ((x, p), q) in xs32.iter().zip(&a).zip(&b).take(6) {
            assert_eq!(p.to_bits(), q.to_bits(), "{}({x}) f32", op.name());
        }
        let c = compiled(op, DType::F64);
        let (a, b) = (run64(&c.vector, &c.lp, &xs64), run64(&c.libm, &c.lp, &xs64));
        for ((x, p), q) in xs64.iter().zip(&a).zip(&b).take(6) {
            assert_eq!(p.to_bits(), q.to_bits(), "{}({x}) f64", op.name());
        }
    }
}

#[test]
fn a_huge_argument_hands_the_rest_of_the_row_to_the_scalar_loop() {
    // The vector loop runs polynomials only; a vector with a lane beyond their range hands its
    // point and the rest of the row to the scalar loop (libm for those lanes). Every element
    // must come out as the scalar build computes it, wherever the huge values fall.
    for op in [UnOp::Sin, UnOp::Cos] {
        let c = compiled(op, DType::F32);
        for (n, at) in [(103usize, vec![21usize]), (64, vec![0, 63]), (37, vec![4, 5, 6, 30]), (9, vec![8])] {
            let mut xs: Vec<f32> = (0..n).map(|i| (i as f32 - 50.0) * 0.173).collect();
            for &i in &at {
                xs[i] = 1e5 + i as f32;
            }
            let (v, s) = (run32(&c.vector, &c.lp, &xs), run32(&c.scalar, &c.lp, &xs));
            for (i, (a, b)) in v.iter().zip(&s).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "{}(x[{i}] = {}) with huge values at {at:?}", op.name(), xs[i]);
            }
        }
    }
}

#[test]
fn libm_path_still_matches_the_reference() {
    // `poly_math: false` keeps the glibc calls: within 2 ULP of the f64 reference (f32).
    let xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.037).collect();
    for (op, _) in F32_BOUNDS {
        let c = compiled(op, DType::F32);
        let xs: Vec<f32> = if op == UnOp::Ln { xs.iter().map(|v| v.abs()).collect() } else { xs.clone() };
        let got = run32(&c.libm, &c.lp, &xs);
        for (x, g) in xs.iter().zip(&got) {
            let e = ulps32(*g, reference(op, *x as f64));
            // glibc's tanhf is not correctly rounded (1.4 ulp seen); sigmoid through libm is
            // 1 / (1 + expf(-x)): a few rounding steps.
            let bound = if op == UnOp::Sigmoid { 4.0 } else { 2.0 };
            assert!(e <= bound, "{}({x}) via libm: {g} is {e} ulp off", op.name());
        }
    }
}
