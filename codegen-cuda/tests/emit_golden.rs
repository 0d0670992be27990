//! Golden text of the emitted CUDA C (insta snapshots, reviewed on change) for axpby,
//! standardize (two-phase partial sums as block reductions) and nearest (a serial reduction
//! per thread and an argmin with its flag), plus the prelude once; and the structure the
//! launchers rely on: one `extern "C" __global__` per kernel, no `#include`, the mapping and
//! the argument layout.

mod sim_common;

use kiln_cuda::emit::{emit, Mapping, PRELUDE};
use kiln_cuda::EmitError;
use kiln_ir::loops::parse_loop_program;
use kiln_ir::DType;
use sim_common::{axpby, lowered, nearest, standardize};

/// The emitted text after the shared prelude.
fn program_text(p: &kiln_ir::Program) -> String {
    let cp = emit(&lowered(p)).unwrap_or_else(|e| panic!("{e}"));
    assert!(!cp.source.contains("#include"), "NVRTC gets no headers");
    for k in &cp.kernels {
        let decl = format!("extern \"C\" __global__ void {}(const KilnArgs args)", k.name);
        assert!(cp.source.contains(&decl), "{decl}");
    }
    cp.source.strip_prefix(PRELUDE).unwrap_or_else(|| panic!("the source starts with the prelude")).to_string()
}

#[test]
fn prelude() {
    insta::assert_snapshot!("prelude", PRELUDE);
}

#[test]
fn axpby_cuda() {
    insta::assert_snapshot!("axpby", program_text(&axpby()));
}

#[test]
fn standardize_cuda() {
    insta::assert_snapshot!("standardize", program_text(&standardize(DType::F32)));
}

#[test]
fn nearest_cuda() {
    insta::assert_snapshot!("nearest", program_text(&nearest()));
}

#[test]
fn launch_shapes_and_argument_layout() {
    let lp = lowered(&standardize(DType::F32));
    let cp = emit(&lp).unwrap_or_else(|e| panic!("{e}"));
    let mappings: Vec<Mapping> = cp.kernels.iter().map(|k| k.launch.mapping).collect();
    use Mapping::{BlockPerPoint as B, GridStride as G};
    assert_eq!(mappings, [B, G, B, G, G]);
    // syms: n = 1000, d = 3. Partial kernels: 64 * 3 points, one block each; the last kernel
    // 3000 points, 256 per block: 12 blocks, the last one partial.
    let syms = [1000, 3];
    assert_eq!(cp.kernels[0].launch.len(&syms), Some(192));
    assert_eq!(cp.kernels[0].launch.grid_dim(192, 1024), 192);
    assert_eq!(cp.kernels[0].launch.grid_dim(192, 64), 64);
    assert_eq!(cp.kernels[4].launch.len(&syms), Some(3000));
    assert_eq!(cp.kernels[4].launch.grid_dim(3000, 1024), 12);
    assert_eq!(cp.kernels[4].launch.grid_dim(0, 1024), 0);
    assert_eq!(cp.kernels[4].launch.len(&[i64::MAX, 2]), None, "overflow is detected");
    // Buffers x[n,d], out0[n,d], t4[d], t9[d], p1[64,d], p7[64,d]: pointer + strides each,
    // then n and d, then the flags pointer.
    assert_eq!(cp.arg_words(), 3 + 3 + 2 + 2 + 3 + 3 + 2 + 1);
    let ptrs = [10, 20, 30, 40, 50, 60];
    let strides = [vec![3, 1], vec![3, 1], vec![1], vec![1], vec![3, 1], vec![3, 1]];
    let words = cp.pack_args(&ptrs, &strides, &syms, 99).unwrap_or_default();
    assert_eq!(words, [10, 3, 1, 20, 3, 1, 30, 1, 40, 1, 50, 3, 1, 60, 3, 1, 1000, 3, 99]);
    assert_eq!(cp.pack_args(&ptrs[..5], &strides[..5], &syms, 99), None, "buffer count checked");
    assert_eq!(cp.pack_args(&ptrs, &strides, &syms[..1], 99), None, "symbol count checked");
}

#[test]
fn constants_are_exact() {
    let text = "program consts
  in x: f32[]
  out out0: f32[]
  out out1: f64[]
  out out2: i32[]
  out out3: i64[]
  kernel consts_k0 () {
    store out0[] = add(load x[], select(lt(load x[], f32:-inf), f32:NaN, f32:0.1))
    store out1[] = f64:-1e300
    store out2[] = i32:-2147483648
    store out3[] = i64:-9223372036854775808
  }
";
    let lp = parse_loop_program(text).unwrap_or_else(|e| panic!("{e}"));
    let src = emit(&lp).unwrap_or_else(|e| panic!("{e}")).source;
    for want in [
        "kiln_f32_bits(0xff800000u)",
        "kiln_f32_bits(0x7fc00000u)",
        "0.1f",
        "(-1e300)",
        "(-2147483647 - 1)",
        "(-9223372036854775807ll - 1)",
    ] {
        assert!(src.contains(want), "{want} missing from\n{src}");
    }
}

#[test]
fn names_that_are_not_identifiers_are_rejected() {
    let mut lp = lowered(&axpby());
    lp.buffers[0].name = "a-b".into();
    assert_eq!(emit(&lp), Err(EmitError::BadName { what: "buffer", name: "a-b".into() }));
}
