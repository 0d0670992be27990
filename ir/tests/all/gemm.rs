//! The `gemm` step: the schedule gives plain matrix products (and only those) to a vendor
//! GEMM, the loop IR text round-trips with the hint, the verifier holds a `gemm` kernel to the
//! one loop nest [`GemmStep::of`] reads, and the steps it reads name the right strides.

use kiln_ir::loops::{parse_loop_program, verify_loops, GemmAxis, GemmStep, KernelHint};
use kiln_ir::lower::lower;
use kiln_ir::parse::parse_program;

const MATMUL_T: &str = "\
program mm
  sym b
  sym m
  sym k
  sym n
  in x: f32[b, k, m]
  in y: f32[n, k]
  out out0: f32[b, m, n]
  kernel mm_k0 (v0 < b, v1 < m, v2 < n) gemm {
    mut v3: f32 = f32:0.0
    for v4 < k {
      let v5: f32 = mul(load y[v2, v4], load x[v0, v4, v1])
      v3 = add(v3, v5)
    }
    store out0[v0, v1, v2] = v3
  }
";

#[test]
fn a_gemm_kernel_round_trips_and_names_its_operands() {
    let lp = parse_loop_program(MATMUL_T).unwrap_or_else(|e| panic!("{e}"));
    verify_loops(&lp).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lp.to_string(), MATMUL_T);
    let k = &lp.kernels[0];
    assert_eq!(k.hint, KernelHint::Gemm);
    let g = GemmStep::of(k).unwrap_or_else(|e| panic!("{e}"));
    // The factors are written B * A: A is the load indexed by `i` (v1), whatever its place.
    assert_eq!(lp.buffer(g.a.buf).name, "x");
    assert_eq!(g.a.axes, [GemmAxis::Batch, GemmAxis::Col, GemmAxis::Row]);
    assert_eq!(g.b.axes, [GemmAxis::Col, GemmAxis::Row]);
    assert_eq!(g.c.axes, [GemmAxis::Batch, GemmAxis::Row, GemmAxis::Col]);
    // x: [b, k, m] in row-major order has strides [k*m, m, 1]: row (i) stride 1, column (l) m.
    assert_eq!(g.a.strides(&[12, 4, 1]), [12, 1, 4]);
    // y lacks the batch axis: batch stride 0.
    assert_eq!(g.b.strides(&[3, 1]), [0, 1, 3]);
    assert_eq!(g.extents(&[2, 4, 3, 5]), [2, 4, 5, 3]);
}

#[test]
fn the_verifier_holds_a_gemm_kernel_to_its_one_shape() {
    let cases = [
        // Something beyond the product inside the sum.
        (
            "let v5: f32 = mul(load y[v2, v4], load x[v0, v4, v1])",
            "let v5: f32 = exp(mul(load y[v2, v4], load x[v0, v4, v1]))",
        ),
        // An index that is no bare variable (the call could not take it as a stride).
        ("load y[v2, v4]", "load y[v2, i64:0]"),
        // Both factors indexed by the row: no product.
        ("load y[v2, v4]", "load y[v1, v4]"),
        // A store that skips the batch axis.
        ("store out0[v0, v1, v2] = v3", "store out0[i64:0, v1, v2] = v3"),
        // An accumulator that does not start at zero.
        ("mut v3: f32 = f32:0.0", "mut v3: f32 = f32:1.0"),
    ];
    for (from, to) in cases {
        let text = MATMUL_T.replace(from, to);
        assert_ne!(text, MATMUL_T);
        let lp = parse_loop_program(&text).unwrap_or_else(|e| panic!("{e}"));
        let err = verify_loops(&lp).expect_err(&text).to_string();
        assert!(err.contains("a `gemm` kernel") || err.contains("not provably in range"), "{err}");
        // The same body without the hint is an ordinary kernel the verifier may accept.
        assert!(GemmStep::of(&lp.kernels[0]).is_err(), "{text}");
    }
}

/// The hints of the kernels `text` (array IR) lowers to.
fn hints(text: &str) -> Vec<KernelHint> {
    let p = parse_program(text).unwrap_or_else(|e| panic!("{e}"));
    lower(&p).unwrap_or_else(|e| panic!("{e}")).kernels.iter().map(|k| k.hint).collect()
}

/// `sum_l x[i, l] * y[l, j]` over `dtype`, with `body` in place of the product when given.
fn product(dtype: &str, body: Option<&str>) -> String {
    let body = body.unwrap_or("binary mul v5 v6");
    format!(
        "kernel k(x: {dtype}[m, q], y: {dtype}[q, n]) -> {dtype}[m, n] {{
  v0: {dtype}[m, q] = param 0
  v1: {dtype}[q, n] = param 1
  v2: i64[] = index i0
  v3: i64[] = index i1
  v4: i64[] = index i2
  v5: {dtype}[] = load v0 [v2, v4]
  v6: {dtype}[] = load v1 [v4, v3]
  v7: {dtype}[] = {body}
  v8: {dtype}[] = range_reduce sum (i2 < q) v7
  v9: {dtype}[m, n] = generate (i0 < m, i1 < n) v8
  return v9
}}"
    )
}

#[test]
fn only_plain_float_products_become_gemm_steps() {
    assert_eq!(hints(&product("f32", None)), [KernelHint::Gemm]);
    assert_eq!(hints(&product("f64", None)), [KernelHint::Gemm]);
    // gemm has no integer kernels: integer products keep generated loops.
    assert_eq!(hints(&product("i32", None)), [KernelHint::Serial]);
    // A fused form (a distance inside the sum) keeps generated loops.
    assert_eq!(hints(&product("f32", Some("binary sub v5 v6"))), [KernelHint::Serial]);
}

#[test]
fn a_shared_operand_load_may_be_let_bound() {
    // What used to break: the Gram system `x.t().dot(&x)` beside `x.t().dot(&t)` shares the
    // load of `x[l, i]`, which the loop IR binds with a `let` before the product; the
    // verifier rejected the gemm kernel.
    let text = MATMUL_T.replace(
        "      let v5: f32 = mul(load y[v2, v4], load x[v0, v4, v1])\n",
        "      let v6: f32 = load x[v0, v4, v1]\n      let v5: f32 = mul(load y[v2, v4], v6)\n",
    );
    let lp = parse_loop_program(&text).unwrap_or_else(|e| panic!("{e}"));
    verify_loops(&lp).unwrap_or_else(|e| panic!("{e}"));
    let g = GemmStep::of(&lp.kernels[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lp.buffer(g.a.buf).name, "x");
    // A `let` with a side effect (a checked index) is not part of the one shape.
    let checked = text.replace("let v6: f32 = load x[v0, v4, v1]", "let v6: i64 = check(v4, k)");
    assert!(GemmStep::of(&parse_loop_program(&checked).unwrap().kernels[0]).is_err());
}
