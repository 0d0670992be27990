//! The blocked order of long float sums (`kiln_ir::loops::blocked_sum`): the loop program and
//! the array interpreter add in the same order, bit for bit, over whole axes, several levels
//! (up to supergroups), narrowed ranges, multi-axis boxes; the order is far more accurate
//! than one chain; and `flatten_blocked_sum` recovers the one-loop form a GPU block splits.

use kiln_ir::interp::run;
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::{blocked_sum, flatten_blocked_sum, BlockedAcc, Expr, Stmt, Var, SUM_BLOCK};
use kiln_ir::lower::lower;
use kiln_ir::parse::parse_program;
use kiln_ir::verify::verify;
use kiln_ir::{BinOp, DType, Dim, SymId, Value};
use ndarray::{ArrayD, IxDyn};

/// `x.sum()`, `x.sum_axis(Axis(1))` of a matrix, `sum(i..n, |j| y[j])` per `i`, and the sum of a
/// whole matrix (a two-axis box).
const TEXT: &str = "kernel sums(x: f32[n], m: f32[r, c], y: f32[q]) -> (f32[], f32[r], f32[q], f32[]) {
  syms n, r, c, q
  v0: f32[n] = param 0
  v1: f32[r, c] = param 1
  v2: f32[q] = param 2
  v3: f32[] = reduce sum v0 axes [0]
  v4: f32[r] = reduce sum v1 axes [1]
  v5: i64[] = index i0
  v6: i64[] = index i1
  v7: f32[] = load v2 [v6]
  v8: bool[] = binary le v5 v6
  v9: f32[] = const 0.0
  v10: f32[] = select v8 v7 v9
  v11: f32[] = range_reduce sum (i1 < q) v10
  v12: f32[q] = generate (i0 < q) v11
  v13: f32[] = reduce sum v1 axes [0, 1]
  return v3, v4, v12, v13
}
";

/// Pseudo-random f32 values in [0, 1) with a 1.0 up front (and signed zeros).
fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|i| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            match i {
                0 => 1.0,
                1 => -0.0,
                _ => ((s >> 40) as f32) / (1u64 << 24) as f32 * 1e-3,
            }
        })
        .collect()
}

fn f32s(v: &Value) -> Vec<u32> {
    match v {
        Value::F32(a) => a.iter().map(|f| f.to_bits()).collect(),
        other => panic!("expected f32, got {:?}", other.dtype()),
    }
}

#[test]
fn the_loop_program_and_the_interpreter_add_in_the_same_blocked_order() {
    let p = parse_program(TEXT).unwrap();
    verify(&p).unwrap();
    let lp = lower(&p).unwrap();
    // Three levels of the nest for a symbolic extent: `from div(max(..` at the top.
    assert!(lp.to_string().matches(" from ").count() >= 8, "no blocked nest:\n{lp}");
    // The long vector crosses supergroups (2^18 elements); the rows and the triangle cross
    // blocks and groups at absolute positions.
    for (n, r, c, q) in [(0, 0, 0, 0), (1, 1, 1, 1), (65, 3, 64, 63), (7, 2, 65, 64), ((1 << 18) + 4099, 3, 5000, 4200)]
    {
        let x = Value::F32(ArrayD::from_shape_vec(IxDyn(&[n]), data(n, 1)).unwrap());
        let m = Value::F32(ArrayD::from_shape_vec(IxDyn(&[r, c]), data(r * c, 2)).unwrap());
        let y = Value::F32(ArrayD::from_shape_vec(IxDyn(&[q]), data(q, 3)).unwrap());
        let args = [x, m, y];
        let (a, b) = (run(&p, &args).unwrap(), run_loops(&lp, &args).unwrap());
        // The serial reductions (row sums, the triangle) bit for bit; the full sums are
        // two-phase in the loop program (64 chunks, each blocked), so only close.
        for k in [1, 2] {
            assert_eq!(f32s(&a[k]), f32s(&b[k]), "output {k} of n={n} r={r} c={c} q={q}");
        }
        for k in [0, 3] {
            let (Value::F32(x), Value::F32(y)) = (&a[k], &b[k]) else { panic!() };
            let (x, y) = (x.iter().next().copied().unwrap(), y.iter().next().copied().unwrap());
            assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "output {k} of n={n}: {x} vs {y}");
        }
    }
}

#[test]
fn the_blocked_order_is_accurate_where_one_chain_is_not() {
    let p = parse_program(TEXT).unwrap();
    let n = 1 << 20;
    // 1.0, then equal small values: every addition to a running sum near 1 rounds alike.
    let v: Vec<f32> = std::iter::once(1.0).chain(std::iter::repeat_n(1e-4, n - 1)).collect();
    let exact: f64 = v.iter().map(|x| f64::from(*x)).sum();
    let chain = v.iter().fold(0.0f32, |a, x| a + x);
    let x = Value::F32(ArrayD::from_shape_vec(IxDyn(&[n]), v).unwrap());
    let z = |d: &[usize]| Value::F32(ArrayD::zeros(IxDyn(d)));
    let got = run(&p, &[x, z(&[0, 0]), z(&[0])]).unwrap();
    let Value::F32(s) = &got[0] else { panic!() };
    let s = s.iter().next().copied().unwrap();
    let ulp = f64::from(f32::from_bits((exact as f32).to_bits() + 1) - exact as f32);
    let (e, e_chain) = ((f64::from(s) - exact).abs() / ulp, (f64::from(chain) - exact).abs() / ulp);
    assert!(e_chain > 1000.0, "one chain is only {e_chain} ulps off");
    assert!(e <= 32.0, "the blocked sum is {e} ulps off (one chain: {e_chain})");
}

#[test]
fn a_blocked_sum_flattens_to_one_loop_over_its_range() {
    let d = Dim::Sym(SymId(0));
    let (j, acc) = (Var(0), Var(1));
    let loops = [Var(2), Var(3), Var(4)];
    let parts = vec![Var(5), Var(6), Var(7)];
    let x = Expr::Load { buf: kiln_ir::loops::BufId(0), idx: vec![Expr::Var(j)] };
    let body = vec![Stmt::Assign { var: parts[0], value: Expr::binary(BinOp::Add, Expr::Var(parts[0]), x.clone()) }];
    let fold = body.clone();
    let a = BlockedAcc { acc, parts, ty: DType::F32 };
    let (lo, hi) = (Expr::Var(Var(9)), Expr::Dim(d));
    let nest = blocked_sum(j, d, lo.clone(), hi.clone(), &loops, std::slice::from_ref(&a), body);
    let Some(Stmt::ForRange { var, extent, start, end, body }) = flatten_blocked_sum(&nest, acc) else {
        panic!("not flattened: {nest:?}");
    };
    assert_eq!((var, extent), (j, d));
    // The nest's own bounds (a ranged loop clamps to its extent itself).
    assert_eq!((start, end), (lo, hi.clone()));
    assert_eq!(body, vec![Stmt::Assign { var: acc, value: Expr::binary(BinOp::Add, Expr::Var(acc), x) }]);
    // From position 0 the levels' starts carry no division or clamp to 0, and still flatten.
    let whole = blocked_sum(j, d, Expr::i64(0), hi.clone(), &loops, std::slice::from_ref(&a), fold);
    assert!(!format!("{whole:?}").contains("Max"), "{whole:?}");
    let Some(Stmt::ForRange { start, end, .. }) = flatten_blocked_sum(&whole, acc) else {
        panic!("not flattened: {whole:?}");
    };
    assert_eq!((start, end), (Expr::i64(0), hi));
    // Another accumulator, or a plain loop, is no blocked sum.
    assert!(flatten_blocked_sum(&nest, Var(8)).is_none());
    let plain = Stmt::ForRange { var: j, extent: d, start: Expr::i64(0), end: Expr::Dim(d), body: vec![] };
    assert!(flatten_blocked_sum(&plain, acc).is_none());
    assert_eq!(SUM_BLOCK, 64);
}
