//! Property test across devices: random well-typed programs (`kiln_ir::testgen`) with random
//! shapes (0, 1 and odd lengths) give the same results on every device as on the reference
//! interpreter, for contiguous, Fortran-order and reversed-stride arguments.

use kiln::ir::testgen::{random_args, random_program};
use kiln::ir::Value;
use kiln::ndarray::{ArrayD, Axis, ShapeBuilder, Slice};
use kiln::{Arg, Device, Kernel};

const SEEDS: u64 = 150;

/// The same logical array laid out column-major.
fn fortran(v: &Value) -> Value {
    fn f<T: Clone + Default>(a: &ArrayD<T>) -> ArrayD<T> {
        let mut out = ArrayD::from_elem(a.raw_dim().f(), T::default());
        out.assign(a);
        out
    }
    match v {
        Value::F32(a) => Value::F32(f(a)),
        Value::F64(a) => Value::F64(f(a)),
        Value::I32(a) => Value::I32(f(a)),
        Value::I64(a) => Value::I64(f(a)),
        Value::U32(a) => Value::U32(f(a)),
        Value::Bool(a) => Value::Bool(f(a)),
    }
}

/// The same logical arrays stored with the first axis reversed (a negative stride).
fn reversed_views(args: &[Value]) -> Vec<Value> {
    fn f<T: Clone>(a: &ArrayD<T>) -> ArrayD<T> {
        if a.ndim() == 0 {
            return a.clone();
        }
        let mut rev = a.slice_axis(Axis(0), Slice::new(0, None, -1)).as_standard_layout().into_owned();
        rev.invert_axis(Axis(0));
        assert!(rev.is_empty() || rev.len_of(Axis(0)) < 2 || rev.strides()[0] < 0, "a negative stride");
        rev
    }
    args.iter()
        .map(|v| match v {
            Value::F32(a) => Value::F32(f(a)),
            Value::F64(a) => Value::F64(f(a)),
            Value::I32(a) => Value::I32(f(a)),
            Value::I64(a) => Value::I64(f(a)),
            Value::U32(a) => Value::U32(f(a)),
            Value::Bool(a) => Value::Bool(f(a)),
        })
        .collect()
}

fn check_device(device: Device) {
    let mut compared = 0;
    for seed in 0..SEEDS {
        let program = random_program(seed);
        let kernel = Kernel::from_program(program.clone()).unwrap();
        let args = random_args(&program, seed);
        let want = kiln::ir::interp::run(&program, &args);
        for (layout, args) in
            [("c", args.clone()), ("fortran", args.iter().map(fortran).collect()), ("reversed", reversed_views(&args))]
        {
            let got = kernel.call_on(device, None, args.iter().map(Arg::from_value).collect());
            match (&got, &want) {
                (Ok(g), Ok(w)) => {
                    for (i, (g, w)) in g.iter().zip(w).enumerate() {
                        if let Err(e) = kiln_tests::same_value(g, w) {
                            panic!("seed {seed} ({layout}) output {i} on {device}: {e}\n{program}");
                        }
                    }
                    compared += 1;
                }
                (Err(_), Err(_)) => {}
                _ => {
                    panic!("seed {seed} ({layout}) on {device}: {:?} vs interp {:?}\n{program}", got.err(), want.err())
                }
            }
        }
    }
    assert!(compared >= SEEDS as usize * 2, "most random programs run: {compared}");
}

#[test]
fn cpu_agrees_with_the_interpreter_on_random_programs() {
    check_device(Device::Cpu);
}

#[test]
fn cuda_sim_agrees_with_the_interpreter_on_random_programs() {
    check_device(Device::CudaSim);
}

/// Whether `id` or any node it is computed from satisfies `pred`.
fn reaches(p: &kiln::ir::Program, id: kiln::ir::NodeId, pred: &dyn Fn(&kiln::ir::Op) -> bool) -> bool {
    let op = &p.node(id).op;
    pred(op) || op.operands().into_iter().any(|o| reaches(p, o, pred))
}

/// The programs above include the shape of a miscompile report: comprehension bodies that pick
/// an `i64` value (a class label) with a select whose condition compares a range reduction (a
/// decision value), and chained selects `select(c1, a, select(c2, b, c))` on `i64`.
#[test]
fn random_programs_pick_i64_values_with_chained_selects_on_reductions() {
    use kiln::ir::{ElemTy, Op};
    let (mut on_reductions, mut chained) = (0, 0);
    for seed in 0..SEEDS {
        let p = random_program(seed);
        for node in &p.nodes {
            let Op::Select(c, a, b) = node.op else { continue };
            if node.ty.elem != ElemTy::I64 || !node.ty.is_scalar() {
                continue;
            }
            if reaches(&p, c, &|op| matches!(op, Op::RangeReduce { .. })) {
                on_reductions += 1;
            }
            if [a, b].iter().any(|&x| matches!(p.node(x).op, Op::Select(..))) {
                chained += 1;
            }
        }
    }
    assert!(on_reductions >= 5, "i64 selects on a range reduction: {on_reductions}");
    assert!(chained >= 3, "chained i64 selects: {chained}");
    eprintln!("i64 selects on a range reduction: {on_reductions}, chained: {chained}");
}
