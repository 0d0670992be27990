//! Rows as vector lanes: a kernel whose inner domain variable walks the rows of an input it
//! reads again and again (`nearest`: `x[v0, l]` inside the loop over the centres) gets an
//! ordered vector plan over the rows when that input is column-major, the layout the runtime
//! copies it into ([`kiln_cpu::CpuProgram::repacks`]). Each lane runs exactly the scalar
//! loop's operations, so results must equal the loop interpreter's bit for bit, in either
//! layout, for every row count (vector loop plus scalar tail) and chunking. These kernels
//! also carry an `i64` argmin beside `f32` values (two vectors per copy) and an `if` that
//! raises a flag (if-converted).

use crate::common::{bits, compile_inspect as compile, relayout, run_chunks as run, values, Layout};
use kiln_cpu::{run_program_chunked, CpuError};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::{parse_loop_program, BufId, LoopProgram};
use kiln_ir::Value;
use ndarray::{ArrayD, IxDyn};

/// What `nearest` lowers to: per point, the argmin and min over the centres of the squared
/// distance, NaN winning and ties keeping the first centre, an empty argmin flagged.
const NEAREST: &str = "program nearest
  sym n
  sym d
  sym k
  in x: f32[n, d]
  in c: f32[k, d]
  out out0: i64[n]
  out out1: f32[n]
  kernel nearest_k0 (v0 < n) {
    mut v1: f32 = f32:inf
    mut v2: i64 = i64:0
    mut v3: f32 = f32:inf
    for v4 < k {
      mut v5: f32 = f32:0.0
      for v6 < d {
        let v7: f32 = powi.2(sub(load x[v0, v6], load c[v4, v6]))
        v5 = add(v5, v7)
      }
      let v8: bool = or(ge(v5, v1), ne(v1, v1))
      v1 = select(v8, v1, v5)
      v2 = select(v8, v2, v4)
      v3 = min(v3, v5)
    }
    if eq(dim(k), i64:0) {
      flag empty_arg_reduce
    }
    store out0[v0] = v2
    store out1[v0] = v3
  }
";

/// `nearest` as it lowered before the complement rule (an index starting at -1, taken first
/// whatever the value, checked for -1 after the loop): the vector plan must keep handling it.
fn nearest_first() -> String {
    let mut first = NEAREST.to_string();
    for (now, before) in [
        ("mut v2: i64 = i64:0", "mut v2: i64 = i64:-1"),
        (
            "let v8: bool = or(ge(v5, v1), ne(v1, v1))",
            "let v8: bool = or(eq(v2, i64:-1), or(lt(v5, v1), and(ne(v5, v5), eq(v1, v1))))",
        ),
        ("v1 = select(v8, v1, v5)", "v1 = select(v8, v5, v1)"),
        ("v2 = select(v8, v2, v4)", "v2 = select(v8, v4, v2)"),
        (
            "if eq(dim(k), i64:0) {\n      flag empty_arg_reduce\n",
            "if lt(v2, i64:0) {\n      flag empty_arg_reduce\n      v2 = i64:0\n",
        ),
    ] {
        assert!(first.contains(now), "NEAREST lacks `{now}`");
        first = first.replace(now, before);
    }
    first
}

/// Two-vector integer arithmetic and comparisons: the best-scoring row of `w` for each point
/// (largest dot product, first on ties), shifted by a per-point offset read from an `i64`
/// input, and whether the shift moved it.
const SHIFTED_ARGMAX: &str = "program shifted
  sym n
  sym d
  sym m
  in x: f32[n, d]
  in w: f32[m, d]
  in off: i64[n]
  out o: i64[n]
  out moved: i32[n]
  kernel shifted_k0 (v0 < n) {
    mut v1: f32 = f32:-inf
    mut v2: i64 = i64:-1
    for v3 < m {
      mut v4: f32 = f32:0.0
      for v5 < d {
        v4 = add(v4, mul(load x[v0, v5], load w[v3, v5]))
      }
      let v6: bool = or(eq(v2, i64:-1), gt(v4, v1))
      v1 = select(v6, v4, v1)
      v2 = select(v6, v3, v2)
    }
    let v7: i64 = add(sub(v2, i64:1), load off[v0])
    store o[v0] = v7
    store moved[v0] = select(ne(v7, v2), i32:1, i32:0)
  }
";

/// KMeans' distances to the centres a panel of rows may be nearest to: rows `v6` of panel `v5`
/// are the lanes, and a uniform `if` (the same for every row of the panel) skips the centres
/// the panel's mask rules out, around the vector loop over the features.
const PANEL_CANDIDATES: &str = "program panel
  sym nb
  sym d
  sym w
  sym k
  in xp: f32[nb, d, w]
  in c: f32[k, d]
  in mask: bool[nb, k]
  out out0: i64[nb, w]
  out out1: f32[nb, w]
  kernel panel_k0 (v5 < nb, v6 < w) {
    mut v7: f32 = f32:inf
    mut v8: i64 = i64:0
    for v9 < k {
      mut v13: f32 = f32:0.0
      if load mask[v5, v9] {
        mut v10: f32 = f32:0.0
        for v11 < d {
          let v12: f32 = mul(load xp[v5, v11, v6], load c[v9, v11])
          v10 = add(v10, v12)
        }
        v13 = sub(f32:1.0, add(v10, v10))
      } else {
        v13 = f32:inf
      }
      let v14: bool = or(ge(v13, v7), ne(v7, v7))
      v7 = select(v14, v7, v13)
      v8 = select(v14, v8, v9)
    }
    if eq(dim(k), i64:0) {
      flag empty_arg_reduce
    }
    store out0[v5, v6] = v8
    store out1[v5, v6] = v7
  }
";

/// The vector build on column-major (vector loop) and row-major (scalar loop) inputs, and the
/// scalar build, against the interpreter, bit for bit, over 1 and 3 chunks; flags included.
fn check(lp: &LoopProgram, args: &[Value], what: &str) {
    let want = run_loops(lp, args).map(|v| bits(&v));
    let (vp, sp) = (compile(lp, true), compile(lp, false));
    for (p, layout) in [(&vp, Layout::Fortran), (&vp, Layout::Standard), (&sp, Layout::Standard)] {
        let args: Vec<Value> = args.iter().map(|a| relayout(a, layout)).collect();
        for chunks in [1, 3] {
            let got = run_program_chunked(p, lp, &args, chunks);
            match (&got, &want) {
                (Ok(g), Ok(w)) => assert_eq!(&bits(g), w, "{what}: {layout:?}, {chunks} chunks"),
                (Err(CpuError::Flag(_)), Err(_)) => {}
                _ => panic!("{what}: {layout:?}, {chunks} chunks: cpu {got:?}, interpreter {want:?}"),
            }
        }
    }
}

#[test]
fn nearest_vectorizes_over_rows_and_asks_for_column_major_points() {
    let lp = parse_loop_program(NEAREST).expect("parse");
    let p = compile(&lp, true);
    assert_eq!(p.vectorized(), [true]);
    // Eight 4-row vectors per iteration over the whole domain: thread ranges cut at 32 rows.
    assert_eq!(p.block(0), 32);
    assert!(p.clif().contains("f32x4") && p.clif().contains("i64x2"), "{}", p.clif());
    // `x` is read once per centre: copied column-major when it is not; `c` is uniform.
    assert_eq!(p.repacks(0), [(BufId(0), 0)]);
}

#[test]
fn nearest_is_bitwise_the_scalar_loop_for_every_row_count() {
    let lp = parse_loop_program(NEAREST).expect("parse");
    for n in [1usize, 3, 4, 5, 31, 32, 33, 37, 70] {
        for (k, d) in [(1usize, 1usize), (3, 5), (17, 32), (5, 3)] {
            // Few distinct coordinates: equal distances are common and must keep the first centre.
            let x = values(&[n, d], (n * 100 + d) as u64).mapv(|v| (v * 2.0).round() as f32);
            let c = values(&[k, d], (k * 10 + d) as u64).mapv(|v| (v * 2.0).round() as f32);
            check(&lp, &[Value::F32(x.clone()), Value::F32(c.clone())], &format!("nearest n={n} k={k} d={d}"));
            let xr = values(&[n, d], (n + d) as u64).mapv(|v| v as f32);
            check(&lp, &[Value::F32(xr), Value::F32(c)], &format!("nearest n={n} k={k} d={d} inexact"));
        }
    }
}

#[test]
fn nan_points_and_nan_centres_win_like_the_scalar_loop() {
    for text in [NEAREST.to_string(), nearest_first()] {
        nan_points_and_nan_centres(&text);
    }
}

fn nan_points_and_nan_centres(text: &str) {
    let lp = parse_loop_program(text).expect("parse");
    let (n, k, d) = (23usize, 6usize, 4usize);
    let mut x = values(&[n, d], 5).mapv(|v| v as f32);
    let mut c = values(&[k, d], 6).mapv(|v| v as f32);
    x[[2, 1]] = f32::NAN;
    x[[17, 3]] = f32::INFINITY;
    c[[4, 0]] = f32::NAN;
    check(&lp, &[Value::F32(x.clone()), Value::F32(c)], "nan centre");
    let c = values(&[k, d], 7).mapv(|v| v as f32);
    check(&lp, &[Value::F32(x), Value::F32(c)], "nan point");
}

#[test]
fn no_centres_raise_the_empty_argmin_flag_on_the_vector_path() {
    let lp = parse_loop_program(NEAREST).expect("parse");
    let p = compile(&lp, true);
    let x = relayout(&Value::F32(values(&[9, 3], 1).mapv(|v| v as f32)), Layout::Fortran);
    let c = Value::F32(ArrayD::zeros(IxDyn(&[0, 3])));
    for chunks in [1, 2] {
        match run_program_chunked(&p, &lp, &[x.clone(), c.clone()], chunks) {
            Err(CpuError::Flag(f)) => assert_eq!(f.name(), "empty_arg_reduce"),
            other => panic!("{chunks} chunks: {other:?}"),
        }
    }
    // No points: nothing runs, nothing is flagged.
    let x0 = relayout(&Value::F32(ArrayD::zeros(IxDyn(&[0, 3]))), Layout::Fortran);
    let out = run(&p, &lp, &[x0, c], 1);
    assert_eq!(out[0].shape(), [0]);
}

#[test]
fn two_vector_integers_add_compare_and_narrow_to_masks() {
    let lp = parse_loop_program(SHIFTED_ARGMAX).expect("parse");
    let p = compile(&lp, true);
    assert_eq!(p.vectorized(), [true], "{}", p.clif());
    for (n, d, m) in [(1usize, 1usize, 1usize), (4, 2, 3), (13, 7, 5), (40, 3, 2)] {
        let x = values(&[n, d], (n + 7 * d) as u64).mapv(|v| (v * 2.0).round() as f32);
        let w = values(&[m, d], (m + d) as u64).mapv(|v| (v * 2.0).round() as f32);
        // Offsets around 1 (so some argmaxes do not move) and large ones near the i64 range.
        let off = values(&[n], n as u64).mapv(|v| match (v * 10.0) as i64 % 3 {
            0 => 1,
            1 => i64::MAX - 3,
            _ => (v * 1e6) as i64,
        });
        check(&lp, &[Value::F32(x), Value::F32(w), Value::I64(off)], &format!("shifted argmax {n}x{d}x{m}"));
    }
}

#[test]
fn a_uniform_if_around_vector_loops_branches_like_the_scalar_loop() {
    for (text, wide) in [(PANEL_CANDIDATES.to_string(), false), (PANEL_CANDIDATES.replace("f32", "f64"), true)] {
        let lp = parse_loop_program(&text).expect("parse");
        let p = compile(&lp, true);
        assert_eq!(p.vectorized(), [true], "{}", if wide { "f64" } else { "f32" });
        for (nb, d, w, k) in
            [(1usize, 3usize, 32usize, 5usize), (3, 32, 32, 16), (2, 7, 37, 4), (4, 1, 3, 2), (2, 5, 8, 1)]
        {
            let xp = values(&[nb, d, w], (nb * 7 + d) as u64);
            let c = values(&[k, d], (k * 3 + w) as u64);
            // Masks with no centre, every centre and some of them for a panel; few distinct
            // coordinates make equal distances (the first centre wins) common.
            let mut s = (nb * 31 + k) as u64;
            let mask = ArrayD::from_shape_fn(IxDyn(&[nb, k]), |ix| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                match ix[0] % 3 {
                    0 => true,
                    1 => !(s >> 33).is_multiple_of(3),
                    _ => ix[1] == k - 1,
                }
            });
            let round = |a: &ArrayD<f64>| a.mapv(|v| (v * 2.0).round());
            let args = |x: ArrayD<f64>, c: ArrayD<f64>| {
                let m = Value::Bool(mask.clone());
                if wide {
                    vec![Value::F64(x), Value::F64(c), m]
                } else {
                    vec![Value::F32(x.mapv(|v| v as f32)), Value::F32(c.mapv(|v| v as f32)), m]
                }
            };
            let what = format!("panels nb={nb} d={d} w={w} k={k} wide={wide}");
            check(&lp, &args(round(&xp), round(&c)), &what);
            check(&lp, &args(xp, c), &format!("{what} inexact"));
        }
    }
}
