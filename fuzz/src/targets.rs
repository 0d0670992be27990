//! The fuzz targets: each builds one case from a seeded generator and runs it through one of
//! kiln's entry points for user input. A case may fail with any error; it must not panic.

use crate::mutate::{mutate, mutate_text};
use kiln::estimators::datasets::{check_npy, load_csv, load_npy, load_npy_as};
use kiln::ir::testgen::{random_args, random_program, XorShift};
use kiln::ir::{DType, Program, Value};
use kiln::ndarray::{ArrayD, Axis, Dimension, IxDyn, Slice};
use kiln::{Arg, Device, Kernel};
use ndarray_npy::WriteNpyExt;
use std::path::PathBuf;

/// The targets, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[&str] = &["npy", "csv", "dsl", "ir", "loops", "args", "programs"];

/// A target that panics on about one case in four, deliberately: the control that proves the
/// harness reports a panic as a crash (tests/harness.rs). Not among [`TARGETS`], so neither
/// `cargo xtask fuzz` nor `cargo xtask test` runs it.
pub const CONTROL: &str = "control";

/// What every case of a run shares: seed inputs and a scratch directory for files.
pub struct Ctx {
    pub dir: PathBuf,
    npy_seeds: Vec<Vec<u8>>,
    csv_seeds: Vec<Vec<u8>>,
    kernel_seeds: Vec<Vec<u8>>,
    kernels: Vec<Kernel>,
}

impl Ctx {
    pub fn new(dir: PathBuf) -> Ctx {
        let kernel_seeds = kernel_sources();
        let kernels = kernel_seeds
            .iter()
            .filter_map(|src| kiln::dsl::parse_file(&String::from_utf8_lossy(src)).ok())
            .flatten()
            .filter_map(|k| k.result.ok())
            .chain((0..16).map(random_program))
            .filter_map(|p| Kernel::from_program(p).ok())
            .collect();
        Ctx { dir, npy_seeds: npy_seeds(), csv_seeds: csv_seeds(), kernel_seeds, kernels }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("fuzz scratch file {}: {e}", path.display()));
        path
    }
}

/// Runs one case of `target`; the input it built, for the crash report.
pub fn run_case(target: &str, rng: &mut XorShift, ctx: &mut Ctx, input: &mut Vec<u8>) {
    match target {
        "npy" => npy(rng, ctx, input),
        "csv" => csv(rng, ctx, input),
        "dsl" => dsl(rng, ctx, input),
        "ir" => ir(rng, input),
        "loops" => loops(rng, input),
        "args" => args(rng, ctx, input),
        "programs" => programs(rng, input),
        CONTROL => control(rng, input),
        other => unreachable!("unknown target {other} (checked by main)"),
    }
}

/// The control target: a panic when the case's first draw is a multiple of 4.
fn control(rng: &mut XorShift, input: &mut Vec<u8>) {
    let v = rng.next_u64();
    input.extend(v.to_le_bytes());
    if v.is_multiple_of(4) {
        panic!("control target: deliberate panic on draw {v}");
    }
}

/// Mutated `.npy` files against the `datasets` loaders and the header check the CLI runs.
fn npy(rng: &mut XorShift, ctx: &Ctx, input: &mut Vec<u8>) {
    *input = mutate(rng, &ctx.npy_seeds);
    let _ = check_npy(&mut input.as_slice(), input.len() as u64);
    let path = ctx.file("case.npy", input);
    let _ = load_npy_as::<f64, IxDyn>(&path);
    let _ = load_npy_as::<i64, IxDyn>(&path);
    let _ = load_npy::<f32>(&path);
}

/// Mutated `.csv` files against `load_csv`, with and without a header line.
fn csv(rng: &mut XorShift, ctx: &Ctx, input: &mut Vec<u8>) {
    *input = mutate(rng, &ctx.csv_seeds);
    let path = ctx.file("case.csv", input);
    let _ = load_csv::<f64>(&path, rng.chance(1, 2));
    let _ = load_csv::<f32>(&path, false);
}

/// Mutated kernels and random token streams against the DSL front end (what `#[kernel]` and
/// `kiln inspect` run); a kernel it accepts is lowered too.
fn dsl(rng: &mut XorShift, ctx: &Ctx, input: &mut Vec<u8>) {
    let source = if rng.chance(1, 3) { random_kernel(rng) } else { mutate_text(rng, &ctx.kernel_seeds) };
    *input = source.clone().into_bytes();
    if let Ok(kernels) = kiln::dsl::parse_file(&source) {
        for program in kernels.into_iter().filter_map(|k| k.result.ok()) {
            lower_and_run(&program);
        }
    }
}

/// Mutated array-IR text against `kiln_ir::parse`; a program it accepts is verified and,
/// when valid, lowered.
fn ir(rng: &mut XorShift, input: &mut Vec<u8>) {
    let seeds: Vec<Vec<u8>> = (0..3).map(|_| random_program(rng.next_u64() % 4096).to_string().into_bytes()).collect();
    let text = mutate_text(rng, &seeds);
    *input = text.clone().into_bytes();
    if let Ok(program) = kiln::ir::parse::parse_program(&text) {
        let _ = program.to_string();
        if kiln::ir::verify::verify(&program).is_ok() {
            lower_and_run(&program);
        }
    }
}

/// Mutated loop-IR text against its parser and verifier.
fn loops(rng: &mut XorShift, input: &mut Vec<u8>) {
    let seeds: Vec<Vec<u8>> = (0..3)
        .filter_map(|_| kiln::ir::lower::lower(&random_program(rng.next_u64() % 4096)).ok())
        .map(|lp| lp.to_string().into_bytes())
        .collect();
    if seeds.is_empty() {
        return;
    }
    let text = mutate_text(rng, &seeds);
    *input = text.clone().into_bytes();
    if let Ok(lp) = kiln::ir::loops::parse_loop_program(&text) {
        let _ = lp.to_string();
        let _ = kiln::ir::loops::verify_loops(&lp);
    }
}

/// Random shapes, strides and dtypes against a kernel's argument validation, on the
/// interpreter and the CPU backend.
fn args(rng: &mut XorShift, ctx: &Ctx, input: &mut Vec<u8>) {
    let kernel = &ctx.kernels[rng.below(ctx.kernels.len())];
    let values: Vec<Value> = kernel.program().params.iter().map(|p| random_value(rng, p.ty.rank())).collect();
    let values: Vec<Value> = values.iter().map(|v| if rng.chance(1, 3) { strided(v) } else { v.clone() }).collect();
    *input = format!(
        "kernel {}: {:?}",
        kernel.name(),
        values.iter().map(|v| (v.dtype(), v.shape().to_vec())).collect::<Vec<_>>()
    )
    .into_bytes();
    let float = rng.chance(1, 4).then(|| rng.pick(&[DType::F32, DType::F64, DType::I32]));
    let described: Vec<(DType, &[usize])> = values.iter().map(|v| (v.dtype(), v.shape())).collect();
    let _ = kiln::ir::bind(kernel.program(), float, &described);
    for device in [Device::Interp, Device::Cpu] {
        let _ = kernel.call_on(device, float, values.iter().map(Arg::from_value).collect());
    }
}

/// Random well-typed programs: the CPU backend and the CUDA simulator (the CUDA C kernels a
/// GPU would run) must agree with the interpreter.
fn programs(rng: &mut XorShift, input: &mut Vec<u8>) {
    let seed = rng.next_u64();
    let program = random_program(seed);
    *input = format!("random_program({seed})\n{program}").into_bytes();
    let args = random_args(&program, seed);
    let want = kiln::ir::interp::run(&program, &args);
    let kernel = Kernel::from_program(program.clone()).expect("random programs verify");
    for device in [Device::Cpu, Device::CudaSim] {
        let got = kernel.call_on(device, None, args.iter().map(Arg::from_value).collect());
        agree(&program, device, got, &want);
    }
}

/// Panics unless `got` (from `device`) is what the interpreter computed (`want`).
fn agree(
    program: &Program,
    device: Device,
    got: Result<Vec<Value>, kiln::Error>,
    want: &Result<Vec<Value>, kiln::ir::interp::InterpError>,
) {
    // An f32 value widened to f64 (a math function 1 ulp apart between libm and kiln's own
    // polynomials, say) carries f32 accuracy into an f64 output: such outputs are compared
    // as f32.
    let f32 = kiln::ir::ElemTy::Concrete(DType::F32);
    let widened = program.nodes.iter().any(|n| match n.op {
        kiln::ir::Op::Cast(a) => {
            n.ty.elem == kiln::ir::ElemTy::Concrete(DType::F64) && program.nodes[a.index()].ty.elem == f32
        }
        _ => false,
    });
    let narrow = |v: &Value| match v {
        Value::F64(a) if widened => Value::F32(a.mapv(|x| x as f32)),
        other => other.clone(),
    };
    match (got, want) {
        (Ok(g), Ok(w)) => {
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                if let Err(e) = kiln_tests::same_value(&narrow(g), &narrow(w)) {
                    panic!("{device} disagrees with the interpreter on output {i}: {e}");
                }
            }
        }
        (Err(_), Err(_)) => {}
        (g, w) => panic!("{device} {:?} vs interpreter {:?}", g.err(), w.as_ref().err()),
    }
}

/// Lowers a verified program, then runs it on the interpreter and the CPU with random
/// arguments (errors allowed, panics not).
///
/// Programs with a number above 4096 in their text are only lowered: a constant extent of
/// 4e12 is a legal program whose outputs cannot be allocated (issue 19.1's `OutOfMemory`,
/// outside these targets) or whose loops do not end in a fuzzing budget.
fn lower_and_run(program: &Program) {
    let _ = kiln::ir::lower::lower(program);
    let text = program.to_string();
    let big =
        text.split(|c: char| !c.is_ascii_digit()).any(|w| w.len() > 4 || w.parse::<u64>().is_ok_and(|n| n > 4096));
    if program.is_generic() || big {
        return;
    }
    let args = random_args(program, 7);
    let _ = kiln::ir::interp::run(program, &args);
    if let Ok(kernel) = Kernel::from_program(program.clone()) {
        let _ = kernel.call_on(Device::Cpu, None, args.iter().map(Arg::from_value).collect());
    }
}

/// A random array of rank `rank` (sometimes another), dtype and small shape.
fn random_value(rng: &mut XorShift, rank: usize) -> Value {
    let rank = if rng.chance(1, 8) { rng.below(4) } else { rank };
    let shape: Vec<usize> = (0..rank).map(|_| rng.pick(&[0, 1, 2, 3, 5, 17])).collect();
    let n: usize = shape.iter().product();
    let data = |rng: &mut XorShift| -> Vec<f64> { (0..n).map(|_| rng.f64_in(-8.0, 8.0).round()).collect() };
    let v = data(rng);
    let shape = IxDyn(&shape);
    match rng.below(6) {
        0 => Value::F32(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x as f32).collect()).expect("n elements")),
        1 => Value::F64(ArrayD::from_shape_vec(shape, v).expect("n elements")),
        2 => Value::I32(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x as i32).collect()).expect("n elements")),
        3 => Value::I64(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x as i64).collect()).expect("n elements")),
        4 => {
            Value::U32(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x.abs() as u32).collect()).expect("n elements"))
        }
        _ => Value::Bool(ArrayD::from_shape_vec(shape, v.iter().map(|&x| x > 0.0).collect()).expect("n elements")),
    }
}

/// `v` with every other element of its first axis, reversed: a view with a negative stride.
fn strided(v: &Value) -> Value {
    fn f<T: Clone>(a: &ArrayD<T>) -> ArrayD<T> {
        if a.ndim() == 0 {
            return a.clone();
        }
        let mut out = a.clone();
        out.slice_axis_inplace(Axis(0), Slice::new(0, None, -2));
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

/// Tokens the DSL knows (and some it does not), for random kernel bodies.
const TOKENS: &[&str] = &[
    "x",
    "y",
    "n",
    "d",
    "i",
    "j",
    "l",
    "k",
    "0",
    "1",
    "2",
    "0.5",
    "1e30",
    "-",
    "+",
    "*",
    "/",
    "%",
    "==",
    "<",
    ">",
    "&&",
    "||",
    "!",
    "(",
    ")",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "..",
    "|",
    "&",
    "let",
    "if",
    "else",
    "as",
    "f32",
    "f64",
    "i64",
    "sum",
    "max",
    "min",
    "argmin",
    "prod",
    "exp",
    "ln",
    "sqrt",
    "powi",
    "powf",
    "dot",
    "t",
    "dim",
    "mean_axis",
    "sum_axis",
    "Axis",
    "Array1",
    "Array2",
    "from_shape_fn",
    "select",
    "clamp",
    "abs",
    "len",
    "insert_axis",
    "s!",
    "mapv",
    "return",
    "loop",
    "while",
    "unsafe",
    "x.dim()",
    "0..n",
    "|i|",
    "|(i, j)|",
];

/// A kernel whose body is a random token stream (mostly not valid Rust, sometimes close).
fn random_kernel(rng: &mut XorShift) -> String {
    let body: Vec<&str> = (0..1 + rng.below(24)).map(|_| rng.pick(TOKENS)).collect();
    let sig = rng.pick(&[
        "x: Array1<f32>, y: Array1<f32>) -> Array1<f32>",
        "x: Array2<f64>, y: Array2<f64>) -> Array2<f64>",
        "x: Array2<F>, y: Array1<i64>) -> (Array1<F>, Array1<i64>)",
        "x: f32, y: Array1<f32>) -> f32",
    ]);
    let generic = if sig.contains("<F>") { "<F: Float>" } else { "" };
    format!("use kiln::prelude::*;\n#[kernel]\nfn k{generic}({sig} {{\n    {}\n}}\n", body.join(" "))
}

/// Every `#[kernel]` function of the example and estimator sources, one seed each.
fn kernel_sources() -> Vec<Vec<u8>> {
    let files = [
        include_str!("../../examples/kernels.rs"),
        include_str!("../../estimators/src/cluster/lloyd.rs"),
        include_str!("../../estimators/src/decomposition/randomized.rs"),
        include_str!("../../estimators/src/metrics/pairwise.rs"),
        include_str!("../../estimators/src/preprocessing/polynomial.rs"),
        include_str!("../../estimators/src/linear_model/logistic.rs"),
    ];
    let mut out = Vec::new();
    for text in files {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("#[kernel") {
                let end = (i..lines.len()).find(|&j| lines[j] == "}").unwrap_or(lines.len() - 1);
                out.push(format!("use kiln::prelude::*;\n{}\n", lines[i..=end].join("\n")).into_bytes());
            }
        }
    }
    assert!(!out.is_empty(), "kernel seeds found");
    out
}

/// Well-formed `.npy` files of every supported element type, rank 0-3, both orders.
fn npy_seeds() -> Vec<Vec<u8>> {
    fn bytes<T: ndarray_npy::WritableElement + Clone>(a: ArrayD<T>) -> Vec<u8> {
        let mut out = Vec::new();
        a.write_npy(&mut out).expect("writing to a vector");
        out
    }
    let shape = |r: usize| IxDyn(&[2, 3, 1][..r]);
    let mut seeds = Vec::new();
    for r in 0..=3 {
        let n = shape(r).size();
        seeds.push(bytes(ArrayD::from_shape_vec(shape(r), (0..n).map(|i| i as f64 * 0.5).collect()).expect("shape")));
        seeds.push(bytes(ArrayD::from_shape_vec(shape(r), (0..n).map(|i| i as f32).collect()).expect("shape")));
        seeds.push(bytes(ArrayD::from_shape_vec(shape(r), (0..n as i64).collect()).expect("shape")));
        seeds.push(bytes(ArrayD::from_shape_vec(shape(r), (0..n).map(|i| i as u8).collect()).expect("shape")));
        seeds.push(bytes(ArrayD::from_shape_vec(shape(r), (0..n).map(|i| i % 2 == 0).collect()).expect("shape")));
    }
    let fortran = kiln::ndarray::Array2::from_shape_vec((3, 2), vec![1.0f64; 6]).expect("shape").reversed_axes();
    seeds.push(bytes(fortran.into_dyn()));
    seeds
}

fn csv_seeds() -> Vec<Vec<u8>> {
    ["a,b,c\n1,2,3\n4.5,-6,7e3\n", "1,2\r\n3,4\r\n\r\n", "\"1\", \"2\"\nnan,inf\n-inf,0\n", "x\n1\n2\n3\n"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

/// The scratch directory of one run (removed by `main` at the end).
pub fn scratch_dir(target: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}
