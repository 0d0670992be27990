//! Every unary op, binary op and cast on every dtype it is defined for (as `Scalar` defines
//! them), on special values (NaN, infinities, -0, subnormals, MIN, -1, 0 divisors), through
//! the vector loop (contiguous) and the scalar loop (reversed strides), against the loop
//! interpreter.

use crate::common;

use kiln_ir::loops::{parse_loop_program, Scalar};
use kiln_ir::{BinOp, DType, UnOp, Value};
use ndarray::{ArrayD, IxDyn};

const N: usize = 37;

fn specials(dt: DType) -> Vec<Scalar> {
    let f: Vec<f64> = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.5,
        -2.5,
        3.7,
        -0.3,
        1e10,
        -1e10,
        3e38,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e-40,
        100.0,
        -100.0,
        4.5e9,
        -3e9,
        7.0,
        0.1,
        2.0,
        -7.5,
        1e300,
    ];
    let i: Vec<i64> =
        vec![0, 1, -1, i64::MIN, i64::MAX, 7, -7, 3, -3, 100, i32::MIN as i64, i32::MAX as i64, 2, -2, 64, 5];
    match dt {
        DType::F32 | DType::F64 => f.iter().map(|v| Scalar::F64(*v).cast(dt)).collect(),
        DType::Bool => vec![Scalar::Bool(true), Scalar::Bool(false), Scalar::Bool(false)],
        DType::I32 => i.iter().map(|v| Scalar::I32(*v as i32)).collect(),
        DType::U32 => i.iter().map(|v| Scalar::U32(*v as u32)).collect(),
        DType::I64 => i.iter().map(|v| Scalar::I64(*v)).collect(),
    }
}

/// An array of `N` values of `dt`, element `k` being specials[(k * step + shift) % len].
fn array(dt: DType, step: usize, shift: usize) -> Value {
    let s = specials(dt);
    let pick = |k: usize| s[(k * step + shift) % s.len()];
    macro_rules! arr {
        ($var:ident, $t:ty) => {
            Value::$var(ArrayD::from_shape_fn(IxDyn(&[N]), |ix| match pick(ix[0]) {
                Scalar::$var(v) => v,
                _ => <$t>::default(),
            }))
        };
    }
    match dt {
        DType::F32 => arr!(F32, f32),
        DType::F64 => arr!(F64, f64),
        DType::I32 => arr!(I32, i32),
        DType::I64 => arr!(I64, i64),
        DType::U32 => arr!(U32, u32),
        DType::Bool => arr!(Bool, bool),
    }
}

fn unary_text(op: UnOp) -> String {
    match op {
        UnOp::PowI(n) => format!("powi.{n}"),
        op => op.name().to_string(),
    }
}

#[test]
fn every_unary_op_on_every_dtype() {
    let mut ops: Vec<UnOp> = UnOp::ALL.to_vec();
    ops.extend([UnOp::PowI(-3), UnOp::PowI(0), UnOp::PowI(5)]);
    let mut count = 0;
    let mut scalar_only = vec![];
    for dt in DType::ALL {
        for op in &ops {
            let Some(out) = Scalar::zero(dt).unary(*op) else { continue };
            let text = format!(
                "program u\n  sym n\n  in x: {dt}[n]\n  out out0: {}[n]\n  kernel k0 (v0 < n) {{\n    store out0[v0] = {}(load x[v0])\n  }}\n",
                out.dtype(),
                unary_text(*op)
            );
            let lp = parse_loop_program(&text).expect("parse");
            let vectorized = kiln_cpu::compile(&lp).expect("compile").vectorized()[0];
            if !vectorized {
                scalar_only.push(format!("{}:{dt}", op.name()));
            }
            for step in [1, 3] {
                assert!(common::check_against_interp(&lp, &[array(dt, step, 0)], &format!("{} on {dt}", op.name())));
            }
            count += 1;
        }
    }
    assert!(count >= 40, "only {count} unary cases");
    println!("unary ops left scalar: {scalar_only:?}");
    // Bool buffers are never vectorized; every op on the other dtypes is.
    assert!(scalar_only.iter().all(|s| s.ends_with(":bool")), "{scalar_only:?}");
}

#[test]
fn every_binary_op_on_every_dtype() {
    let mut count = 0;
    let mut scalar_only = vec![];
    for dt in DType::ALL {
        for op in BinOp::ALL {
            let z = Scalar::zero(dt);
            let Some(out) = Scalar::binary(op, z, z) else { continue };
            let text = format!(
                "program b\n  sym n\n  in x: {dt}[n]\n  in y: {dt}[n]\n  out out0: {}[n]\n  kernel k0 (v0 < n) {{\n    store out0[v0] = {}(load x[v0], load y[v0])\n  }}\n",
                out.dtype(),
                op.name()
            );
            let lp = parse_loop_program(&text).expect("parse");
            let vectorized = kiln_cpu::compile(&lp).expect("compile").vectorized()[0];
            if !vectorized {
                scalar_only.push(format!("{}:{dt}", op.name()));
            }
            for (step, shift) in [(1, 0), (7, 3), (5, 1)] {
                let args = [array(dt, 1, 0), array(dt, step, shift)];
                assert!(common::check_against_interp(&lp, &args, &format!("{} on {dt}", op.name())));
            }
            // A uniform operand (a rank-0 buffer) is splatted in the vector loop.
            let text = text.replace(&format!("y: {dt}[n]"), &format!("y: {dt}[]"));
            let text = text.replace("load y[v0]", "load y[]");
            let lp = parse_loop_program(&text).expect("parse");
            for k in 0..specials(dt).len() {
                let y = match array(dt, 1, k) {
                    Value::F32(a) => Value::F32(ArrayD::from_elem(IxDyn(&[]), a[[0]])),
                    Value::F64(a) => Value::F64(ArrayD::from_elem(IxDyn(&[]), a[[0]])),
                    Value::I32(a) => Value::I32(ArrayD::from_elem(IxDyn(&[]), a[[0]])),
                    Value::I64(a) => Value::I64(ArrayD::from_elem(IxDyn(&[]), a[[0]])),
                    Value::U32(a) => Value::U32(ArrayD::from_elem(IxDyn(&[]), a[[0]])),
                    Value::Bool(a) => Value::Bool(ArrayD::from_elem(IxDyn(&[]), a[[0]])),
                };
                assert!(common::check_against_interp(&lp, &[array(dt, 1, 0), y], &format!("{} on {dt}", op.name())));
            }
            count += 1;
        }
    }
    assert!(count >= 60, "only {count} binary cases");
    println!("binary ops left scalar: {scalar_only:?}");
}

#[test]
fn every_cast_between_every_pair_of_dtypes() {
    let mut scalar_only = vec![];
    for from in DType::ALL {
        for to in DType::ALL {
            let text = format!(
                "program c\n  sym n\n  in x: {from}[n]\n  out out0: {to}[n]\n  kernel k0 (v0 < n) {{\n    store out0[v0] = cast.{to}(load x[v0])\n  }}\n"
            );
            let lp = parse_loop_program(&text).expect("parse");
            if !kiln_cpu::compile(&lp).expect("compile").vectorized()[0] {
                scalar_only.push(format!("{from}->{to}"));
            }
            assert!(common::check_against_interp(&lp, &[array(from, 1, 0)], &format!("cast {from} -> {to}")));
        }
    }
    println!("casts left scalar: {scalar_only:?}");
}

#[test]
fn select_and_comparisons_in_the_vector_loop() {
    // Masks from float comparisons choosing between loaded and constant values.
    for dt in [DType::F32, DType::F64, DType::I32, DType::I64, DType::U32] {
        let zero = Scalar::zero(dt);
        let text = format!(
            "program s\n  sym n\n  in x: {dt}[n]\n  in y: {dt}[n]\n  out out0: {dt}[n]\n  kernel k0 (v0 < n) {{\n    let v1: bool = and(lt(load x[v0], load y[v0]), ne(load y[v0], {zero}))\n    store out0[v0] = select(not(v1), load x[v0], select(v1, {zero}, load y[v0]))\n  }}\n"
        );
        let lp = parse_loop_program(&text).expect("parse");
        let prog = kiln_cpu::compile(&lp).expect("compile");
        assert_eq!(prog.vectorized(), &[true], "{dt}: the kernel should vectorize");
        assert!(common::check_against_interp(&lp, &[array(dt, 1, 0), array(dt, 3, 2)], &format!("select {dt}")));
    }
}
