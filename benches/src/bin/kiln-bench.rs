//! `kiln-bench`: kiln's side of `cargo xtask bench`, in one run on this machine.
//!
//! Measures the plain-Rust bandwidth references (STREAM triad, a parallel read loop) and the
//! kiln kernels of [`kiln_benches::kernels`] with their compile latency, then prints one flat
//! JSON object on stdout (progress goes to stderr). Build it in release mode:
//! `cargo run --release -p kiln-benches --bin kiln-bench -- [--quick] [--device cpu|interp]`.
//!
//! kiln runs on `Device::Cpu`. While that device is unavailable (the CPU backend not wired
//! into the runtime yet), the kernels fall back to `Device::Interp`, with `nearest` at a
//! smaller size, and the JSON says so (`kiln_device`, `kiln_device_note`, `kiln_nearest_n`).

#![forbid(unsafe_code)]

use std::hint::black_box;
use std::process::ExitCode;

use kiln::{with_device, Device, Kernel};
use kiln_benches::json::JsonObject;
use kiln_benches::kernels::{
    argsort_all, axpby, bincount64, cumsum_all, exp_sin, gram, matmul, nearest, rbf_fused, rbf_gemm, softmax_rows,
    sum_all,
};
use kiln_benches::{centers, gbs, input_x, input_y, measure, points, stream, time_once, Stats};

/// Freed output blocks of 1 MiB and more are kept for the next output of the same size
/// (`kiln::runtime::pool`): a call returning a new large array then costs what writing into
/// an existing one costs, instead of the OS faulting and zeroing fresh pages.
#[global_allocator]
static ALLOC: kiln::runtime::PoolAlloc = kiln::runtime::PoolAlloc;

/// Sizes and repetitions of one run.
struct Plan {
    /// Elements of the reference loops (and of kiln's kernels on `Device::Cpu`).
    n: usize,
    warmup: usize,
    runs: usize,
    /// Elements of kiln's elementwise and reduction kernels on the chosen device.
    kiln_n: usize,
    /// Points of kiln's `nearest` on the chosen device.
    nearest_n: usize,
    /// Side of kiln's `a.dot(&b)` matrices on the chosen device.
    matmul_n: usize,
    /// Rows of kiln's Gram `x.t().dot(&x)` on the chosen device.
    gram_n: usize,
    /// Side of the fused RBF kernel matrix's operands on the chosen device.
    rbf_n: usize,
    /// Side of the softmax's input on the chosen device.
    softmax_n: usize,
    kiln_warmup: usize,
    kiln_runs: usize,
}

const USAGE: &str = "usage: kiln-bench [--quick] [--device cpu|interp]";

fn main() -> ExitCode {
    let mut quick = false;
    let mut forced: Option<Device> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--device" => match args.next().map(|s| s.parse::<Device>()) {
                Some(Ok(d @ (Device::Cpu | Device::Interp))) => forced = Some(d),
                Some(Ok(d)) => return usage(&format!("device `{d}` is not benchmarked here")),
                Some(Err(e)) => return usage(&e),
                None => return usage("--device needs a value"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument `{other}`")),
        }
    }

    let mut out = JsonObject::new();
    let (device, note) = pick_device(forced);
    let scale = if quick { 16 } else { 1 };
    let n = kiln_benches::N / scale;
    let plan = match device {
        Device::Cpu => Plan {
            n,
            warmup: if quick { 1 } else { 3 },
            runs: if quick { 3 } else { 15 },
            kiln_n: n,
            nearest_n: kiln_benches::NEAREST_N / scale,
            matmul_n: kiln_benches::MATMUL_N,
            gram_n: kiln_benches::GRAM_N,
            rbf_n: kiln_benches::RBF_N,
            softmax_n: kiln_benches::SOFTMAX_N,
            kiln_warmup: if quick { 1 } else { 3 },
            kiln_runs: if quick { 3 } else { 15 },
        },
        // The interpreter walks the array IR element by element: fast enough for the
        // elementwise kernels at full size, not for `nearest` (about 0.5 ms per point).
        _ => Plan {
            n,
            warmup: if quick { 1 } else { 3 },
            runs: if quick { 3 } else { 15 },
            kiln_n: n,
            nearest_n: 2_000 / scale,
            matmul_n: 128,
            gram_n: 2_000,
            rbf_n: 128,
            softmax_n: 1024,
            kiln_warmup: 1,
            kiln_runs: 3,
        },
    };
    out.str("kiln_device", &device.to_string());
    if let Some(note) = &note {
        out.str("kiln_device_note", note);
        eprintln!("kiln-bench: kiln runs on {device}: {note}");
    }
    out.num("n", plan.n as f64);
    out.num("kiln_n", plan.kiln_n as f64);
    out.num("kiln_nearest_n", plan.nearest_n as f64);
    out.num("kiln_sort_n", kiln_benches::SORT_N as f64);
    // Multiply-adds of one product: the `n` of the matmul rows (time per multiply-add).
    out.num("kiln_matmul_n3", (plan.matmul_n as f64).powi(3));
    // The fused RBF kernel matrix: `n^3` terms (one subtract and one multiply-add each), the
    // same count as the product above, so their times per term compare directly.
    out.num("kiln_rbf_n3", (plan.rbf_n as f64).powi(3));
    // Elements of the softmax's input.
    out.num("kiln_softmax_n", (plan.softmax_n * plan.softmax_n) as f64);
    // Multiply-adds of one Gram product per column count (`n * d * d`).
    for d in kiln_benches::GRAM_D {
        out.num(&format!("kiln_gram_d{d}_nd2"), (plan.gram_n * d * d) as f64);
    }
    out.num("threads", rayon::current_num_threads() as f64);

    // On the CPU the bandwidth-bound kernels are timed in turns with their references
    // (`bandwidth_interleaved`); elsewhere the references run first, on their own.
    if device != Device::Cpu {
        references(&plan, &mut out);
    }
    with_device(device, || kiln_kernels(&plan, &mut out, device == Device::Cpu));
    println!("{out}");
    ExitCode::SUCCESS
}

fn usage(why: &str) -> ExitCode {
    eprintln!("kiln-bench: {why}\n{USAGE}");
    ExitCode::from(2)
}

/// The forced device, else [`kiln_benches::cpu_or_interp`].
fn pick_device(forced: Option<Device>) -> (Device, Option<String>) {
    match forced {
        Some(d) => (d, Some("chosen with --device".into())),
        None => kiln_benches::cpu_or_interp(),
    }
}

/// Record a timing as `<key>_ms`, `<key>_min_ms` and, when `bytes` is given, `<key>_gbs`.
fn record(out: &mut JsonObject, key: &str, s: Stats, bytes: Option<usize>) {
    out.num(&format!("{key}_ms"), s.median_s * 1e3);
    out.num(&format!("{key}_min_ms"), s.min_s * 1e3);
    let rate = match bytes {
        Some(b) => {
            out.num(&format!("{key}_gbs"), gbs(b, s.median_s));
            format!(", {:.2} GB/s", gbs(b, s.median_s))
        }
        None => String::new(),
    };
    eprintln!(
        "kiln-bench: {key}: median {:.3} ms, min {:.3} ms{rate} ({} runs)",
        s.median_s * 1e3,
        s.min_s * 1e3,
        s.runs
    );
}

/// The plain-Rust ceilings: STREAM triad (in place and into a fresh output) and a read loop.
fn references(plan: &Plan, out: &mut JsonObject) {
    let n = plan.n;
    let b = input_x(n).to_vec();
    let c = input_y(n).to_vec();
    let mut a = vec![0f32; n];
    let s = measure(plan.warmup, plan.runs, || stream::triad(&mut a, &b, &c, 1.5));
    record(out, "triad", s, Some(12 * n));
    let s = measure(plan.warmup, plan.runs, || stream::triad_alloc(&b, &c, 1.5));
    record(out, "triad_alloc", s, Some(12 * n));
    let s = measure(plan.warmup, plan.runs, || stream::read_sum(&b));
    record(out, "read", s, Some(4 * n));
}

/// Compile latency of one kernel: building its handle from the embedded IR, lowering it, and
/// whatever its first call costs beyond a warm call (the JIT on `Device::Cpu`), all on tiny
/// inputs so the run time itself is negligible. Records `<key>_compile_ms` and
/// `<key>_lowerings` (how many instantiations the handle lowered: 1 means compiled once).
fn compile_latency(
    out: &mut JsonObject,
    key: &str,
    handle: fn() -> &'static Kernel,
    call: impl Fn() -> kiln::Result<()>,
) -> kiln::Result<f64> {
    let (kernel, t_parse) = time_once(handle);
    let (lowered, t_lower) = time_once(|| kernel.loops(None));
    lowered?;
    let (first, t_first) = time_once(&call);
    first?;
    let warm = measure(2, 9, &call).median_s;
    let ms = (t_parse + t_lower + (t_first - warm).max(0.0)) * 1e3;
    out.num(&format!("{key}_compile_ms"), ms);
    out.num(&format!("{key}_lowerings"), kernel.lowering_count() as f64);
    eprintln!(
        "kiln-bench: {key}: compile {ms:.3} ms (parse {:.3}, lower {:.3}, first call beyond warm {:.3})",
        t_parse * 1e3,
        t_lower * 1e3,
        (t_first - warm).max(0.0) * 1e3
    );
    Ok(ms)
}

/// Time one kiln kernel: a checked call first (so errors are reported, not timed), then
/// `measure`. On error, records `<key>_error` and goes on.
fn bench_kernel<R>(
    plan: &Plan,
    out: &mut JsonObject,
    key: &str,
    bytes: Option<usize>,
    f: impl Fn() -> kiln::Result<R>,
) -> Option<Stats> {
    if let Err(e) = f() {
        eprintln!("kiln-bench: {key}: {e}");
        out.str(&format!("{key}_error"), &e.to_string());
        return None;
    }
    let s = measure(plan.kiln_warmup, plan.kiln_runs, f);
    record(out, key, s, bytes);
    Some(s)
}

/// Compile latency and throughput of every benchmarked kernel on the scoped device.
fn kiln_kernels(plan: &Plan, out: &mut JsonObject, interleave: bool) {
    let (tx, ty) = (input_x(64), input_y(64));
    let (tp, tc) = (points(8, kiln_benches::NEAREST_D), centers(4, kiln_benches::NEAREST_D));
    let compiles = [
        compile_latency(out, "kiln_axpby", axpby::kernel, || axpby(1.5, &tx, -0.5, &ty).map(drop)),
        compile_latency(out, "kiln_sum", sum_all::kernel, || sum_all(&tx).map(drop)),
        compile_latency(out, "kiln_exp_sin", exp_sin::kernel, || exp_sin(&tx, &ty).map(drop)),
        compile_latency(out, "kiln_nearest", nearest::kernel, || nearest(&tp, &tc).map(drop)),
    ];
    let mut ms: Vec<f64> = Vec::new();
    for (key, c) in ["kiln_axpby", "kiln_sum", "kiln_exp_sin", "kiln_nearest"].iter().zip(compiles) {
        match c {
            Ok(m) => ms.push(m),
            Err(e) => out.str(&format!("{key}_compile_error"), &e.to_string()),
        }
    }
    if !ms.is_empty() {
        ms.sort_by(f64::total_cmp);
        out.num("kiln_compile_median_ms", ms[ms.len() / 2]);
        out.num("kiln_compile_max_ms", ms[ms.len() - 1]);
    }

    if interleave {
        bandwidth_interleaved(plan, out);
    } else {
        let n = plan.kiln_n;
        let (x, y) = (input_x(n), input_y(n));
        bench_kernel(plan, out, "kiln_axpby", Some(12 * n), || axpby(1.5, &x, -0.5, &y));
        // The same into one output array reused by every call (numpy's `out=`), as the triad does.
        let reused = std::cell::RefCell::new(kiln::ndarray::Array1::<f32>::zeros(n));
        bench_kernel(plan, out, "kiln_axpby_into", Some(12 * n), || {
            axpby::into(reused.borrow_mut().view_mut(), 1.5, &x, -0.5, &y)
        });
        drop(reused);
        bench_kernel(plan, out, "kiln_sum", Some(4 * n), || sum_all(&x));
        bench_kernel(plan, out, "kiln_exp_sin", Some(12 * n), || exp_sin(&x, &y));
    }

    // Issue 15's scan, sort and scatter rows: cumsum of n f32, argsort of 1M f32, bincount of
    // n labels into 64 bins (time per element).
    let n = plan.kiln_n;
    let x = input_x(n);
    bench_kernel(plan, out, "kiln_cumsum", Some(8 * n), || cumsum_all(&x));
    drop(x);
    let s = kiln_benches::sort_input(kiln_benches::SORT_N);
    bench_kernel(plan, out, "kiln_argsort", None, || argsort_all(&s));
    let l = kiln_benches::labels(n);
    bench_kernel(plan, out, "kiln_bincount", Some(8 * n), || bincount64(&l));
    drop(l);

    let (k, d) = (kiln_benches::NEAREST_K, kiln_benches::NEAREST_D);
    let (p, c) = (points(plan.nearest_n, d), centers(k, d));
    if let Some(s) = bench_kernel(plan, out, "kiln_nearest", None, || nearest(&p, &c)) {
        // Three flops (subtract, multiply, add) per point, center and feature.
        out.num("kiln_nearest_gflops", 3.0 * (plan.nearest_n * k * d) as f64 / s.median_s / 1e9);
    }

    // `a.dot(&b)`, square, f32 and f64: a vendor GEMM call on the CPU.
    let mn = plan.matmul_n;
    let (a, b) = (kiln_benches::square(mn, 7919), kiln_benches::square(mn, 104729));
    let flops = 2.0 * (mn as f64).powi(3);
    if let Some(s) = bench_kernel(plan, out, "kiln_matmul_f64", None, || matmul(&a, &b)) {
        out.num("kiln_matmul_f64_gflops", flops / s.median_s / 1e9);
    }
    let (a, b) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
    if let Some(s) = bench_kernel(plan, out, "kiln_matmul_f32", None, || matmul(&a, &b)) {
        out.num("kiln_matmul_f32_gflops", flops / s.median_s / 1e9);
    }

    // The RBF kernel matrix of two `n x n` f32 sets as one fused contraction (gamma =
    // 1 / n_features, scikit-learn's default); GFLOP/s counted as a GEMM's `2 n^3`.
    let rn = plan.rbf_n;
    let (x, y) =
        (kiln_benches::square(rn, 7919).mapv(|v| v as f32), kiln_benches::square(rn, 104729).mapv(|v| v as f32));
    let neg_gamma = -1.0 / rn as f32;
    if let Some(s) = bench_kernel(plan, out, "kiln_rbf", None, || rbf_fused(&x, &y, neg_gamma)) {
        out.num("kiln_rbf_gflops", 2.0 * (rn as f64).powi(3) / s.median_s / 1e9);
    }
    // The same matrix written as scikit-learn computes it: a GEMM (vendor call) + passes.
    if let Some(s) = bench_kernel(plan, out, "kiln_rbf_gemm", None, || rbf_gemm(&x, &y, neg_gamma)) {
        out.num("kiln_rbf_gemm_gflops", 2.0 * (rn as f64).powi(3) / s.median_s / 1e9);
    }
    drop((x, y));

    // The softmax of each row of an `n x n` f32 matrix.
    let sn = plan.softmax_n;
    let x = kiln_benches::square(sn, 7919).mapv(|v| v as f32);
    bench_kernel(plan, out, "kiln_softmax", Some(8 * sn * sn), || softmax_rows(&x));
    drop(x);

    // `x.t().dot(&x)`, f32, a tall `x`: a split-K vendor GEMM on the CPU.
    for d in kiln_benches::GRAM_D {
        let x = kiln_benches::tall(plan.gram_n, d, 7919).mapv(|v| v as f32);
        let flops = 2.0 * (plan.gram_n * d * d) as f64;
        let key = format!("kiln_gram_d{d}");
        if let Some(s) = bench_kernel(plan, out, &key, None, || gram(&x)) {
            out.num(&format!("{key}_gflops"), flops / s.median_s / 1e9);
        }
    }
}

/// The elementwise and reduction kernels and their plain-Rust references (triad, triad into a
/// fresh output, read loop) over the same `n`-element inputs, timed in turns
/// ([`kiln_benches::measure_interleaved`]) so each ratio compares runs made under the same
/// conditions. A kiln kernel whose checked first call fails is recorded as an error and left
/// out.
fn bandwidth_interleaved(plan: &Plan, out: &mut JsonObject) {
    let n = plan.n;
    let (x, y) = (input_x(n), input_y(n));
    let (b, c) = (x.as_slice().unwrap_or(&[]), y.as_slice().unwrap_or(&[]));
    let mut a = vec![0f32; n];
    // The output `kiln_axpby_into` reuses call after call (numpy's `out=`), as the triad does.
    let mut reused = kiln::ndarray::Array1::<f32>::zeros(n);
    let mut checked = |key: &str, r: kiln::Result<()>| match r {
        Ok(()) => true,
        Err(e) => {
            eprintln!("kiln-bench: {key}: {e}");
            out.str(&format!("{key}_error"), &e.to_string());
            false
        }
    };
    let ok = [
        checked("kiln_axpby", axpby(1.5, &x, -0.5, &y).map(drop)),
        checked("kiln_axpby_into", axpby::into(reused.view_mut(), 1.5, &x, -0.5, &y)),
        checked("kiln_sum", sum_all(&x).map(drop)),
        checked("kiln_exp_sin", exp_sin(&x, &y).map(drop)),
    ];
    // Fresh pages first: with the pool off (`set_limit(0)`), a new output and the triad's new
    // vector come from the system allocator, faulted and zeroed by the OS on first touch.
    if ok[0] {
        kiln::runtime::pool::set_limit(0);
        let mut triad_alloc = || drop(black_box(stream::triad_alloc(b, c, 1.5)));
        let mut k_system = || drop(black_box(axpby(1.5, &x, -0.5, &y)));
        let mut fresh: Vec<&mut dyn FnMut()> = vec![&mut triad_alloc, &mut k_system];
        let stats = kiln_benches::measure_interleaved(plan.warmup, plan.runs, &mut fresh);
        record(out, "triad_alloc", stats[0], Some(12 * n));
        record(out, "kiln_axpby_system", stats[1], Some(12 * n));
        kiln::runtime::pool::set_limit(kiln::runtime::pool::DEFAULT_LIMIT);
    }
    // Then everything else with the pool as the binary installs it: a new output reuses the
    // block the previous call's output freed.
    let mut triad = || stream::triad(&mut a, b, c, 1.5);
    let mut read = || {
        black_box(stream::read_sum(b));
    };
    let mut k_axpby = || drop(black_box(axpby(1.5, &x, -0.5, &y)));
    let mut k_into = || drop(black_box(axpby::into(reused.view_mut(), 1.5, &x, -0.5, &y)));
    let mut k_sum = || drop(black_box(sum_all(&x)));
    let mut k_exp_sin = || drop(black_box(exp_sin(&x, &y)));
    let mut all: Vec<(&str, usize, &mut dyn FnMut())> = vec![("triad", 12 * n, &mut triad), ("read", 4 * n, &mut read)];
    let kiln: [(&str, usize, &mut dyn FnMut()); 4] = [
        ("kiln_axpby", 12 * n, &mut k_axpby),
        ("kiln_axpby_into", 12 * n, &mut k_into),
        ("kiln_sum", 4 * n, &mut k_sum),
        ("kiln_exp_sin", 12 * n, &mut k_exp_sin),
    ];
    all.extend(kiln.into_iter().zip(ok).filter(|(_, ok)| *ok).map(|(k, _)| k));
    let (keys, mut fs): (Vec<(&str, usize)>, Vec<&mut dyn FnMut()>) =
        all.into_iter().map(|(key, bytes, f)| ((key, bytes), f)).unzip();
    let stats = kiln_benches::measure_interleaved(plan.warmup, plan.runs, &mut fs);
    for ((key, bytes), s) in keys.into_iter().zip(stats) {
        record(out, key, s, Some(bytes));
    }
}
