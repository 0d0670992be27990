//! Tiled contractions on the simulator: the GEMM-shaped kernels the emitter tiles (128 x 128
//! or 64 x 64 outputs per block, operands staged through double-buffered shared memory
//! between barriers, with vector loads where strides and alignment allow) give results
//! bitwise equal to plain-Rust loops that add in the loop IR's order, and to the loop
//! interpreter, for sizes around the tile edges (0, 1, 17, 33, 65, 127, 128, 129, 257), grids
//! smaller than the number of tiles, and transposed, reversed and step-sliced operands.

use crate::sim_common::{fortran, reversed, TILED_BMM, TILED_DISTS, TILED_IMM, TILED_MATMUL, TILED_MIXED, TILED_XTR};
use kiln_cuda::{compile_sim, emit, run_sim_with, Mapping, SimOptions, SimProgram};
use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::{parse_loop_program, LoopProgram};
use kiln_ir::Value;
use ndarray::{s, ArrayD, IxDyn};

fn program(text: &str) -> LoopProgram {
    parse_loop_program(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Compile `lp` for the simulator, checking that every kernel is tiled.
fn tiled(lp: &LoopProgram) -> SimProgram {
    let cp = emit(lp).unwrap_or_else(|e| panic!("{e}\n{lp}"));
    for k in &cp.kernels {
        assert!(matches!(k.launch.mapping, Mapping::Tiled { .. }), "{}", k.name);
        assert_eq!(k.launch.block_dim, k.launch.mapping.threads(), "{}", k.name);
    }
    compile_sim(&cp).unwrap_or_else(|e| panic!("{e}"))
}

/// One tile per block, three blocks for all tiles, one block for all tiles.
const GRIDS: [u32; 3] = [64, 3, 1];

/// Run on every grid; every result must equal `want` and the interpreter's bit for bit.
fn check(sp: &SimProgram, lp: &LoopProgram, args: &[Value], want: &[Value], what: &str) {
    let interp = run_loops(lp, args).unwrap_or_else(|e| panic!("{what}: interpreter: {e}"));
    assert_eq!(bits(&interp), bits(want), "{what}: the interpreter against the plain loops");
    for max_grid in GRIDS {
        let got = run_sim_with(sp, lp, args, SimOptions { max_grid }).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got.len(), want.len(), "{what}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.shape(), w.shape(), "{what} (grid {max_grid}): shape");
        }
        assert_eq!(bits(&got), bits(want), "{what} (grid {max_grid})");
    }
}

/// Values as bit patterns in logical order (so NaN == NaN and -0 != 0).
fn bits(vs: &[Value]) -> Vec<Vec<u64>> {
    vs.iter()
        .map(|v| match v {
            Value::F32(a) => a.iter().map(|x| u64::from(x.to_bits())).collect(),
            Value::F64(a) => a.iter().map(|x| x.to_bits()).collect(),
            Value::I32(a) => a.iter().map(|x| *x as u32 as u64).collect(),
            Value::I64(a) => a.iter().map(|x| *x as u64).collect(),
            Value::U32(a) => a.iter().map(|x| u64::from(*x)).collect(),
            Value::Bool(a) => a.iter().map(|x| u64::from(*x)).collect(),
        })
        .collect()
}

/// Deterministic values in [-1, 1) with full mantissas, so that a sum in another order
/// differs in its last bits.
fn uniform(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
}

/// Sizes of every axis: empty, one, around the 16-wide slices of `l` and the 64-wide tiles.
const SIZES: [usize; 5] = [0, 1, 17, 33, 65];

/// `(n, d, m)` triples: every size on every axis, but not all 125 combinations.
fn shapes() -> Vec<(usize, usize, usize)> {
    let mut out = vec![];
    for (i, n) in SIZES.into_iter().enumerate() {
        for (j, d) in SIZES.into_iter().enumerate() {
            out.push((n, d, SIZES[(i + j) % SIZES.len()]));
        }
    }
    // Full 128 x 128 tiles and their edges, lengths of `l` that are multiples of the vector
    // width (vector loads along `l` in row-major operands) and that are not.
    out.extend([(65, 65, 65), (130, 3, 70), (1, 65, 129), (128, 16, 129), (257, 8, 128), (64, 36, 64)]);
    out
}

/// The same logical matrix in four layouts: row-major, column-major (a transposed view),
/// rows stored backwards (a negative stride), and every other row and column of a larger
/// array (a step slice).
fn layouts(a: &ArrayD<f64>) -> Vec<(&'static str, ArrayD<f64>)> {
    let (r, c) = (a.shape()[0], a.shape()[1]);
    let mut big = ArrayD::from_elem(IxDyn(&[2 * r + 1, 2 * c + 1]), f64::NAN);
    big.slice_mut(s![1..;2, 1..;2]).assign(a);
    let stepped = big.slice_move(s![1..;2, 1..;2]).into_dyn();
    let Value::F64(f) = fortran(&Value::F64(a.clone())) else { unreachable!() };
    let Value::F64(rev) = reversed(&Value::F64(a.clone())) else { unreachable!() };
    vec![("row-major", a.clone()), ("column-major", f), ("reversed rows", rev), ("step slice", stepped)]
}

fn f32v(a: &ArrayD<f64>) -> Value {
    Value::F32(a.mapv(|x| x as f32))
}

#[test]
fn matmul_f32_at_tile_edges_and_in_every_layout() {
    let lp = program(TILED_MATMUL);
    let sp = tiled(&lp);
    for (k, (n, d, m)) in shapes().into_iter().enumerate() {
        let (a, b) = (uniform(&[n, d], 2 * k as u64), uniform(&[d, m], 2 * k as u64 + 1));
        let (a32, b32) = (a.mapv(|x| x as f32), b.mapv(|x| x as f32));
        let want = ArrayD::from_shape_fn(IxDyn(&[n, m]), |ix| {
            let mut acc = 0.0f32;
            for l in 0..d {
                acc += a32[[ix[0], l]] * b32[[l, ix[1]]];
            }
            acc
        });
        let want = [Value::F32(want)];
        // Layouts of one operand at a time (the other row-major), then both transposed.
        for (name, la) in layouts(&a) {
            check(&sp, &lp, &[f32v(&la), f32v(&b)], &want, &format!("matmul {n}x{d}x{m}, a {name}"));
        }
        for (name, lb) in layouts(&b).into_iter().skip(1) {
            check(&sp, &lp, &[f32v(&a), f32v(&lb)], &want, &format!("matmul {n}x{d}x{m}, b {name}"));
        }
        let (fa, fb) = (fortran(&f32v(&a)), fortran(&f32v(&b)));
        check(&sp, &lp, &[fa, fb], &want, &format!("matmul {n}x{d}x{m}, both column-major"));
    }
}

#[test]
fn distances_f64_with_a_transposed_operand_and_an_epilogue() {
    // c is indexed c[j, l]: its tile is staged along l, then read across j.
    let lp = program(TILED_DISTS);
    let sp = tiled(&lp);
    for (k, (n, d, m)) in shapes().into_iter().enumerate() {
        let (x, c) = (uniform(&[n, d], 100 + k as u64), uniform(&[m, d], 200 + k as u64));
        let want = ArrayD::from_shape_fn(IxDyn(&[n, m]), |ix| {
            let mut acc = 0.0f64;
            for l in 0..d {
                let t = x[[ix[0], l]] - c[[ix[1], l]];
                acc += t * t;
            }
            acc.sqrt()
        });
        let want = [Value::F64(want)];
        for ((xn, lx), (cn, lc)) in layouts(&x).into_iter().zip(layouts(&c).into_iter().rev()) {
            let what = format!("dists {n}x{d}x{m}, x {xn}, c {cn}");
            check(&sp, &lp, &[Value::F64(lx), Value::F64(lc)], &want, &what);
        }
    }
}

#[test]
fn batched_partial_contractions_over_row_chunks() {
    // The two-phase split of `X^T R`: chunk v0 of the rows, a batch axis before the tile
    // axes, and `l` running along the slower axis of both operands.
    let lp = program(TILED_XTR);
    let sp = tiled(&lp);
    for (i, (n, d, k)) in
        [(0, 3, 2), (5, 0, 2), (7, 3, 0), (1, 1, 1), (70, 17, 65), (131, 65, 33), (9, 70, 3)].into_iter().enumerate()
    {
        let (x, r) = (uniform(&[n, d], 300 + i as u64), uniform(&[n, k], 400 + i as u64));
        let (x32, r32) = (x.mapv(|v| v as f32), r.mapv(|v| v as f32));
        let want = ArrayD::from_shape_fn(IxDyn(&[4, d, k]), |ix| {
            let mut acc = 0.0f32;
            for l in ix[0] * n / 4..(ix[0] + 1) * n / 4 {
                acc += x32[[l, ix[1]]] * r32[[l, ix[2]]] + x32[[l, ix[1]]];
            }
            acc
        });
        let want = [Value::F32(want)];
        for (name, lx) in layouts(&x) {
            check(&sp, &lp, &[f32v(&lx), f32v(&r)], &want, &format!("xtr {n}x{d}x{k}, x {name}"));
        }
    }
}

#[test]
fn batched_matmul_of_rank3_operands() {
    let lp = program(TILED_BMM);
    let sp = tiled(&lp);
    for (i, (bt, n, d, m)) in [(0, 2, 2, 2), (2, 0, 3, 1), (3, 17, 33, 65), (2, 65, 1, 17)].into_iter().enumerate() {
        let (x, y) = (uniform(&[bt, n, d], 500 + i as u64), uniform(&[bt, d, m], 600 + i as u64));
        let want = ArrayD::from_shape_fn(IxDyn(&[bt, n, m]), |ix| {
            let mut acc = 0.0f64;
            for l in 0..d {
                acc += x[[ix[0], ix[1], l]] * y[[ix[0], l, ix[2]]];
            }
            acc
        });
        let want = [Value::F64(want)];
        let what = format!("bmm {bt}x{n}x{d}x{m}");
        check(&sp, &lp, &[Value::F64(x.clone()), Value::F64(y.clone())], &want, &what);
        let (fx, ry) = (fortran(&Value::F64(x)), reversed(&Value::F64(y)));
        check(&sp, &lp, &[fx, ry], &want, &format!("{what}, x column-major, y reversed"));
    }
}

#[test]
fn two_accumulators_other_loads_and_a_prefix() {
    // Loads that are not operands stay global loads: `w[l]` (the same for every output) and
    // `s[i]` (per row: only outputs inside the domain may run it). The prefix and the second
    // accumulator are per output.
    let lp = program(TILED_MIXED);
    let sp = tiled(&lp);
    for (i, (n, d, m)) in shapes().into_iter().enumerate() {
        let (a, b) = (uniform(&[n, d], 700 + i as u64), uniform(&[m, d], 800 + i as u64));
        let (w, s) = (uniform(&[d], 900 + i as u64), uniform(&[n], 1000 + i as u64));
        let want = ArrayD::from_shape_fn(IxDyn(&[n, m]), |ix| {
            let (r, c) = (ix[0], ix[1]);
            let (mut acc, mut top) = ((r as i64 - c as i64) as f64, f64::NEG_INFINITY);
            for l in 0..d {
                let t = a[[r, l]] * b[[c, l]] * w[[l]];
                acc += t;
                top = top.max(t + s[[r]]);
            }
            acc - top
        });
        let args = [Value::F64(a), Value::F64(b), Value::F64(w), Value::F64(s)];
        check(&sp, &lp, &args, &[Value::F64(want)], &format!("mixed {n}x{d}x{m}"));
    }
}

#[test]
fn wrapping_i32_contraction() {
    let lp = program(TILED_IMM);
    let sp = tiled(&lp);
    for (i, (n, d, m)) in shapes().into_iter().enumerate() {
        let to_i32 = |a: ArrayD<f64>| a.mapv(|x| (x * 2e9) as i32);
        let (a, b) = (to_i32(uniform(&[n, d], 1100 + i as u64)), to_i32(uniform(&[d, m], 1200 + i as u64)));
        // Not an associative reduction: the result depends on the order of every step.
        let want = ArrayD::from_shape_fn(IxDyn(&[n, m]), |ix| {
            let mut acc = 7i32;
            for l in 0..d {
                acc = acc.wrapping_mul(3).wrapping_add(a[[ix[0], l]].wrapping_mul(b[[l, ix[1]]]));
            }
            acc
        });
        check(&sp, &lp, &[Value::I32(a), Value::I32(b)], &[Value::I32(want)], &format!("imm {n}x{d}x{m}"));
    }
}
