//! `mul_add` in vector loops: one rounding, bit for bit Rust's `f32::mul_add` /
//! `f64::mul_add`, both with the host's FMA instructions (a packed `vfmadd` on x86-64) and
//! without them (`CompileOptions::fma` off: C99's `fma`/`fmaf` called per lane inside the
//! vector loop, the code a host without FMA gets), over vector blocks and scalar tails, in 1
//! and 3 chunks, and on a stepped view (the scalar loop).

use crate::common::run_chunks;
use kiln_cpu::{compile_with, CompileOptions};
use kiln_ir::loops::parse_loop_program;
use kiln_ir::Value;
use ndarray::{s, ArrayD, IxDyn};

fn program(t: &str) -> String {
    format!(
        "program fma
  sym n
  in a: {t}[n]
  in b: {t}[n]
  in c: {t}[n]
  out out0: {t}[n]
  kernel fma_k0 (v0 < n) {{
    store out0[v0] = mul_add(load a[v0], load b[v0], load c[v0])
  }}
"
    )
}

/// Operands where one rounding and two differ at every even element: (1 + e)(1 - e) - 1.
fn tricky(n: usize, e: f64) -> [ArrayD<f64>; 3] {
    let r = |i: usize, k: f64| ((i as f64 * 0.618 + k).fract() - 0.5) * 8.0;
    [
        ArrayD::from_shape_fn(IxDyn(&[n]), |i| if i[0] % 2 == 0 { 1.0 + e } else { r(i[0], 0.1) }),
        ArrayD::from_shape_fn(IxDyn(&[n]), |i| if i[0] % 2 == 0 { 1.0 - e } else { r(i[0], 0.4) }),
        ArrayD::from_shape_fn(IxDyn(&[n]), |i| if i[0] % 2 == 0 { -1.0 } else { r(i[0], 0.7) }),
    ]
}

#[test]
fn mul_add_rounds_once_in_vector_loops_with_and_without_fma_instructions() {
    for t in ["f32", "f64"] {
        let lp = parse_loop_program(&program(t)).unwrap_or_else(|e| panic!("{e}"));
        for fma in [true, false] {
            let opts = CompileOptions { inspect: true, fma, ..CompileOptions::default() };
            let cp = compile_with(&lp, &opts).unwrap_or_else(|e| panic!("{e}"));
            assert!(cp.vectorized()[0], "{t} fma={fma}: the kernel has a vector loop\n{}", cp.clif());
            let asm = cp.asm().unwrap_or_default();
            let packed = asm.lines().any(|l| l.contains("vfmadd") && (l.contains("ps") || l.contains("pd")));
            if !fma {
                assert!(!asm.contains("vfmadd"), "{t}: no FMA instruction without fma\n{asm}");
                assert!(cp.clif().contains("extractlane"), "{t}: lanes are extracted for the calls\n{}", cp.clif());
            } else if cfg!(target_arch = "x86_64") && std::arch::is_x86_feature_detected!("fma") {
                assert!(packed, "{t}: a packed FMA in the vector loop\n{asm}");
            }
            for n in [0usize, 1, 3, 4, 9, 64, 1003] {
                let e = if t == "f32" { 2f64.powi(-13) } else { 2f64.powi(-30) };
                let [a, b, c] = tricky(n, e);
                let (args, want): (Vec<Value>, Vec<u64>) = if t == "f32" {
                    let [a, b, c] = [&a, &b, &c].map(|x| x.mapv(|v| v as f32));
                    let want = (0..n).map(|i| u64::from(a[i].mul_add(b[i], c[i]).to_bits())).collect();
                    (vec![Value::F32(a), Value::F32(b), Value::F32(c)], want)
                } else {
                    let want = (0..n).map(|i| a[i].mul_add(b[i], c[i]).to_bits()).collect();
                    (vec![Value::F64(a), Value::F64(b), Value::F64(c)], want)
                };
                for chunks in [1, 3] {
                    let got = run_chunks(&cp, &lp, &args, chunks);
                    let bits: Vec<u64> = match &got[0] {
                        Value::F32(x) => x.iter().map(|v| u64::from(v.to_bits())).collect(),
                        Value::F64(x) => x.iter().map(|v| v.to_bits()).collect(),
                        v => panic!("{v:?}"),
                    };
                    assert_eq!(bits, want, "{t} fma={fma} n={n} chunks={chunks}");
                }
            }
            // Stepped operands: the scalar loop, the same bits.
            let [a, b, c] = tricky(40, 2f64.powi(-30));
            if t == "f64" {
                // Owned arrays with stride 2: the vector loop's stride check sends them to the
                // scalar loop.
                let args: Vec<Value> =
                    [&a, &b, &c].iter().map(|x| Value::F64((*x).clone().slice_move(s![..;2]).into_dyn())).collect();
                let got = run_chunks(&cp, &lp, &args, 1);
                let Value::F64(g) = &got[0] else { panic!("f64 out") };
                for i in 0..20 {
                    assert_eq!(g[i].to_bits(), a[2 * i].mul_add(b[2 * i], c[2 * i]).to_bits(), "stepped {i}");
                }
            }
        }
    }
}
