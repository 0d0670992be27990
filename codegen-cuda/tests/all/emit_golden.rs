//! Golden text of the emitted CUDA C (insta snapshots, reviewed on change) for axpby,
//! standardize (two-phase partial sums as block reductions), nearest (a serial reduction
//! per thread and an argmin with its flag) and a cumsum (block scans), plus the prelude once; and the structure the
//! launchers rely on: one `extern "C" __global__` per kernel, no `#include`, the mapping and
//! the argument layout.

use crate::sim_common::{
    axpby, lowered, nearest, scan, standardize, TILED_DISTS, TILED_MATMUL, TILED_MIXED, TILED_XTR,
};
use kiln_cuda::emit::{emit, Mapping, PRELUDE};
use kiln_cuda::EmitError;
use kiln_ir::loops::parse_loop_program;
use kiln_ir::DType;

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

/// A `cumsum` along axis 0 of an f32 matrix: both scan kernels hold the block path (a block
/// reduction of the chunk; the block scan with its carry) and the thread-per-point path.
#[test]
fn cumsum_cuda() {
    insta::assert_snapshot!("cumsum", program_text(&scan(kiln_ir::ReduceOp::Sum, 0, kiln_ir::ElemTy::F32)));
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

fn emitted(text: &str) -> kiln_cuda::CudaProgram {
    let lp = parse_loop_program(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    emit(&lp).unwrap_or_else(|e| panic!("{e}"))
}

/// The default tile: 128 x 128 outputs, 8 x 8 per thread.
const BIG: Mapping = Mapping::Tiled { rows: 128, cols: 128, thread_rows: 8, thread_cols: 8 };
/// The tile for 8-byte values: 128 x 64 outputs, 8 x 4 per thread.
const MID: Mapping = Mapping::Tiled { rows: 128, cols: 64, thread_rows: 8, thread_cols: 4 };
/// The small tile: 64 x 64 outputs, 4 x 4 per thread.
const SMALL: Mapping = Mapping::Tiled { rows: 64, cols: 64, thread_rows: 4, thread_cols: 4 };

#[test]
fn matmul_tiled_cuda() {
    let cp = emitted(TILED_MATMUL);
    assert_eq!(cp.kernels[0].launch.mapping, BIG);
    insta::assert_snapshot!("matmul_tiled", cp.source.strip_prefix(PRELUDE).unwrap_or_default());
}

#[test]
fn batched_partial_contraction_tiled_cuda() {
    let cp = emitted(TILED_XTR);
    assert_eq!(cp.kernels[0].launch.mapping, BIG);
    insta::assert_snapshot!("xtr_tiled", cp.source.strip_prefix(PRELUDE).unwrap_or_default());
}

/// A kernel over `(v0 < n, v1 < m)` with `body`, over buffers of every shape the cases need.
fn case(body: &str) -> Mapping {
    let text = format!(
        "program t
  sym n
  sym d
  sym m
  in a: f64[n, d]
  in b: f64[d, m]
  in c: f64[m, d]
  in w: f64[d]
  in s: f64[n]
  in p: f64[d, n, m]
  in e: f64[n, m]
  out out0: f64[n, m]
  out sq: f64[n, n]
  kernel t_k0 (v0 < n, v1 < m) {{
{body}
  }}
"
    );
    emitted(&text).kernels[0].launch.mapping
}

#[test]
fn only_contractions_are_tiled() {
    // (f64: 8 x 4 outputs per thread.)
    const TILED: Mapping = MID;
    let loop_of = |term: &str, epilogue: &str| {
        format!("    mut v2: f64 = f64:0.0\n    for v3 < d {{\n      v2 = add(v2, {term})\n    }}\n{epilogue}")
    };
    let store = "    store out0[v0, v1] = v2";
    // Tiled: both operand layouts on either side, extra loads, a pure prefix, any epilogue.
    assert_eq!(case(&loop_of("mul(load a[v0, v3], load b[v3, v1])", store)), TILED);
    assert_eq!(case(&loop_of("powi.2(sub(load a[v0, v3], load c[v1, v3]))", store)), TILED);
    // (A load that changes with `l`, `w[v3]`: the 64 x 64 tile, 4 x 4 per thread; one per row,
    // `s[v0]`, fits beside 8 x 4.)
    assert_eq!(case(&loop_of("mul(mul(load a[v0, v3], load c[v1, v3]), add(load w[v3], load s[v0]))", store)), SMALL);
    assert_eq!(case(&loop_of("mul(mul(load a[v0, v3], load c[v1, v3]), load s[v0])", store)), TILED);
    let prefix = "    let v9: i64 = add(v0, v1)\n";
    assert_eq!(case(&format!("{prefix}{}", loop_of("mul(load a[v0, v3], load b[v3, v1])", store))), TILED);
    let guarded = "    if lt(v2, f64:0.0) {\n      store out0[v0, v1] = load e[v0, v1]\n    } else {\n      store out0[v0, v1] = v2\n    }";
    assert_eq!(case(&loop_of("mul(load a[v0, v3], load b[v3, v1])", guarded)), TILED);
    // Not tiled: no row operand, no column operand, a load indexed by both, an index that
    // is not a plain variable, a load in the prefix, a store in the loop.
    assert_eq!(case(&loop_of("mul(load w[v3], load b[v3, v1])", store)), Mapping::GridStride);
    assert_eq!(case(&loop_of("mul(load a[v0, v3], load w[v3])", store)), Mapping::GridStride);
    assert_eq!(case(&loop_of("load p[v3, v0, v1]", store)), Mapping::GridStride);
    // (A checked index is a `let` of its own, as the verifier that `emit` runs requires.)
    let shifted = "    mut v2: f64 = f64:0.0\n    for v3 < d {\n      let v8: i64 = check(sub(v3, i64:1), d)\n      \
                   v2 = add(v2, mul(load a[v0, v3], load b[v8, v1]))\n    }\n    store out0[v0, v1] = v2";
    assert_eq!(case(shifted), Mapping::GridStride);
    let loaded = format!("    let v9: f64 = load s[v0]\n{}", loop_of("mul(load a[v0, v3], load b[v3, v1])", store));
    assert_eq!(case(&loaded), Mapping::GridStride);
    let stores = "    mut v2: f64 = f64:0.0\n    for v3 < d {\n      v2 = add(v2, mul(load a[v0, v3], load b[v3, v1]))\n      store out0[v0, v1] = v2\n    }";
    assert_eq!(case(stores), Mapping::GridStride);
    // A loop whose range depends on the row: the threads of a block would run different
    // iterations (the two-phase partial kernels: block reductions).
    let ranged = "    mut v2: f64 = f64:0.0\n    for v3 < d from v0 to dim(d) {\n      v2 = add(v2, mul(load a[v0, v3], load b[v3, v1]))\n    }\n    store out0[v0, v1] = v2";
    assert_eq!(case(ranged), Mapping::BlockPerPoint);
    // A kernel that stores to what it stages.
    let own = "program own
  sym n
  in b: f64[n, n]
  out sq: f64[n, n]
  kernel own_k0 (v0 < n, v1 < n) {
    mut v2: f64 = f64:0.0
    for v3 < n {
      v2 = add(v2, mul(load sq[v0, v3], load b[v3, v1]))
    }
    store sq[v0, v1] = v2
  }
";
    assert_eq!(emitted(own).kernels[0].launch.mapping, Mapping::GridStride);
}

#[test]
fn the_kernel_hint_chooses_the_mappings_tried() {
    // The same bodies as above under the schedule's hints: `serial` may be tiled but is never
    // a block reduction, `two_phase` may be either.
    let hinted = |hint: &str, body: &str| {
        let text = format!(
            "program t\n  sym n\n  sym d\n  sym m\n  in a: f64[n, d]\n  in b: f64[d, m]\n  out out0: f64[n, m]\n  kernel t_k0 (v0 < n, v1 < m) {hint} {{\n{body}\n  }}\n"
        );
        emitted(&text).kernels[0].launch.mapping
    };
    let product = "mul(load a[v0, v3], load b[v3, v1])";
    let tiled = format!("    mut v2: f64 = f64:0.0\n    for v3 < d {{\n      v2 = add(v2, {product})\n    }}\n    store out0[v0, v1] = v2");
    let ranged = tiled.replace("for v3 < d {", "for v3 < d from v0 to dim(d) {");
    assert_eq!(hinted("serial", &tiled), MID);
    assert_eq!(hinted("serial", &ranged), Mapping::GridStride);
}

#[test]
fn operands_beyond_the_shared_memory_budget_keep_the_grid_stride_mapping() {
    // Four f64 operands' values at one `l` and 64 outputs per thread are more registers than
    // 8 x 8 per thread may take, and their 16-deep double buffers of 64 + 4 elements (17408
    // bytes each) more shared memory than 40 KiB: the 8-deep ones (8704 bytes each) fit for
    // four operands, not for five.
    let terms = |rows: usize, cols: usize| {
        let mut t: Vec<String> = (0..rows).map(|i| format!("load r{i}[v0, v3]")).collect();
        t.extend((0..cols).map(|j| format!("load c{j}[v3, v1]")));
        t.into_iter().reduce(|a, b| format!("mul({a}, {b})")).unwrap_or_default()
    };
    let program = |rows: usize, cols: usize| {
        let mut text = "program big\n  sym n\n  sym d\n  sym m\n".to_string();
        text.extend((0..rows).map(|i| format!("  in r{i}: f64[n, d]\n")));
        text.extend((0..cols).map(|j| format!("  in c{j}: f64[d, m]\n")));
        text.push_str("  out out0: f64[n, m]\n  kernel big_k0 (v0 < n, v1 < m) {\n    mut v2: f64 = f64:0.0\n");
        text.push_str(&format!("    for v3 < d {{\n      v2 = add(v2, {})\n    }}\n", terms(rows, cols)));
        text.push_str("    store out0[v0, v1] = v2\n  }\n");
        emitted(&text).kernels[0].launch.mapping
    };
    assert_eq!(program(2, 2), SMALL);
    assert_eq!(program(1, 1), MID);
    assert_eq!(program(3, 2), Mapping::GridStride);
}

#[test]
fn tiled_launch_shapes_count_tiles() {
    let cp = emitted(TILED_XTR);
    let launch = &cp.kernels[0].launch;
    assert_eq!(launch.block_dim, 256);
    assert!(launch.uses_barriers());
    // syms: n = 1000 rows, d = 130 (2 tile rows of 128), k = 128 (1 tile column); 4 chunks.
    assert_eq!(launch.len(&[1000, 130, 128]), Some(8));
    assert_eq!(launch.len(&[1000, 128, 129]), Some(8));
    assert_eq!(launch.len(&[1000, 257, 256]), Some(24));
    assert_eq!(launch.len(&[1000, 1, 1]), Some(4));
    assert_eq!(launch.len(&[1000, 0, 64]), Some(0));
    assert_eq!(launch.grid_dim(12, 1024), 12);
    assert_eq!(launch.grid_dim(12, 5), 5);
    assert_eq!(launch.grid_dim(0, 1024), 0);
    assert_eq!(launch.len(&[1, i64::MAX, i64::MAX]), None, "overflow is detected");
}

#[test]
fn tile_shapes_follow_constant_extents_and_per_output_state() {
    // The same product over rows and columns of symbolic or constant extent.
    let product = |rows: &str, cols: &str, ty: &str| {
        let zero = if ty.starts_with('f') { format!("{ty}:0.0") } else { format!("{ty}:0") };
        let text = format!(
            "program p\n  sym n\n  sym d\n  in a: {ty}[{rows}, d]\n  in b: {ty}[d, {cols}]\n  out out0: {ty}[{rows}, {cols}]\n  \
             kernel p_k0 (v0 < {rows}, v1 < {cols}) {{\n    mut v2: {ty} = {zero}\n    for v3 < d {{\n      \
             v2 = add(v2, mul(load a[v0, v3], load b[v3, v1]))\n    }}\n    store out0[v0, v1] = v2\n  }}\n"
        );
        let cp = emitted(&text);
        (cp.kernels[0].launch.mapping, cp.kernels[0].launch.block_dim)
    };
    let tall = Mapping::Tiled { rows: 128, cols: 64, thread_rows: 8, thread_cols: 8 };
    let wide = Mapping::Tiled { rows: 64, cols: 128, thread_rows: 8, thread_cols: 8 };
    assert_eq!(product("n", "n", "f32"), (BIG, 256));
    assert_eq!(product("n", "64", "f32"), (tall, 128));
    assert_eq!(product("n", "65", "f32"), (BIG, 256));
    assert_eq!(product("16", "n", "f32"), (wide, 128));
    // 8-byte values: 8 x 4 per thread.
    assert_eq!(product("n", "n", "f64"), (MID, 256));
    assert_eq!(product("n", "n", "i64"), (MID, 256));
    assert_eq!(product("7", "64", "f32"), (SMALL, 256));
    for (m, threads) in [(tall, 128), (wide, 128), (BIG, 256), (MID, 256), (SMALL, 256)] {
        assert_eq!(m.threads(), threads);
    }
    assert_eq!(Mapping::GridStride.threads(), 256);
    // Two f64 accumulators per output: neither 8 x 8 nor 8 x 4 of them fit in registers.
    let cp = emitted(TILED_MIXED);
    assert_eq!(cp.kernels[0].launch.mapping, SMALL);
    // The chosen shape is written at the top of the kernel.
    assert!(cp.source.contains("// tiled contraction: 64 x 64 outputs per block, 4 x 4 per thread (256 threads)"));
    let cp = emitted(TILED_DISTS);
    assert_eq!(cp.kernels[0].launch.mapping, MID);
    assert!(cp.source.contains("kiln_vec<double, 2>") && cp.source.contains("struct alignas(sizeof(T) * N) kiln_vec"));
    // Programs without a tiled kernel do not define the vector type.
    assert!(!emitted(untiled_text()).source.contains("kiln_vec"));
}

fn untiled_text() -> &'static str {
    "program axpby\n  sym n\n  in x: f32[n]\n  out out0: f32[n]\n  kernel axpby_k0 (v0 < n) {\n    store out0[v0] = add(load x[v0], f32:1.0)\n  }\n"
}
