//! `cargo xtask`: the project's own commands.
//!
//! * `cargo xtask test` — every check CI runs: formatting, clippy with warnings as errors,
//!   the whole test suite (unit, integration, doctests, compile-fail cases), and every
//!   example in `examples/`.
//!
//!   Before the tests it installs the pinned CUDA tool wheels into `target/cuda-tools`
//!   (once) and exports `KILN_CUDA_TOOLS`, so NVRTC and ptxas checks run on every machine.
//! * `cargo xtask test-gpu` — the tests that launch kernels on `Device::Cuda(0)`; without a
//!   CUDA driver or GPU they print "skipped: no CUDA driver/GPU".
//!
//! * `cargo xtask fuzz [--target T] [--seconds N] [--seed S]` — the seeded fuzz targets of
//!   `kiln-fuzz` (hostile files, kernel sources, IR text, arguments, random programs); `test`
//!   runs each for a few seconds with a fixed seed.
//!
//! Later capabilities add `bench` (kiln against numpy/numba/scikit-learn in one run) and
//! `fixtures` (regenerate scikit-learn parity numbers).

mod bench;
mod cuda_tools;
mod fixtures;
mod fuzz;

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("test-gpu") => test_gpu(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fixtures") => fixtures::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask test [-- extra cargo test args]");
            eprintln!("       cargo xtask test-gpu [-- extra cargo test args]");
            eprintln!("       cargo xtask bench [--quick] [--skip-python] [--skip-kiln] [--device cpu|interp]");
            eprintln!("       cargo xtask fixtures");
            eprintln!("       cargo xtask fuzz [--target T] [--seconds N] [--seed S]");
            ExitCode::from(2)
        }
    }
}

/// Run one step, echoing it, and stop at the first failure.
fn step(name: &str, args: &[&str]) -> Result<(), ExitCode> {
    eprintln!("xtask: {name}: cargo {}", args.join(" "));
    let start = Instant::now();
    let status = Command::new(env!("CARGO")).args(args).status();
    let secs = start.elapsed().as_secs_f64();
    match status {
        Ok(s) if s.success() => {
            eprintln!("xtask: {name}: ok ({secs:.1} s)");
            Ok(())
        }
        Ok(s) => {
            eprintln!("xtask: {name}: FAILED ({s}, {secs:.1} s)");
            Err(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("xtask: {name}: cannot run cargo: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// Installs the CUDA tools (once) and exports `KILN_CUDA_TOOLS` for the cargo runs that follow.
/// A failed install stops the run, unless `KILN_SKIP_CUDA_TOOLS=1` asked to do without them.
fn cuda_tools() -> Result<(), ExitCode> {
    match cuda_tools::ensure() {
        Ok(dir) => {
            // xtask is single-threaded: nothing reads the environment concurrently.
            std::env::set_var(cuda_tools::TOOLS_ENV, &dir);
            Ok(())
        }
        Err(e) if std::env::var("KILN_SKIP_CUDA_TOOLS").is_ok_and(|v| v == "1") => {
            eprintln!("xtask: cuda tools: {e}; continuing because KILN_SKIP_CUDA_TOOLS=1");
            Ok(())
        }
        Err(e) => {
            eprintln!("xtask: cuda tools: {e}");
            eprintln!("xtask: set KILN_SKIP_CUDA_TOOLS=1 to run the suite without NVRTC/ptxas checks");
            Err(ExitCode::FAILURE)
        }
    }
}

fn test_gpu(extra: &[String]) -> ExitCode {
    if let Err(code) = cuda_tools() {
        return code;
    }
    if !Path::new("/proc/driver/nvidia/version").exists() {
        eprintln!("xtask: test-gpu: no NVIDIA driver on this machine: the GPU tests will print \"skipped: no CUDA driver/GPU\"");
    }
    // The driver-level tests, then the whole conformance suite and the tensor tests on
    // Device::Cuda(0), then the estimators (whose device tests use CudaSim and, where a GPU
    // exists, Cuda).
    let runs: [(&str, Vec<&str>, Option<&str>); 4] = [
        ("gpu driver tests", vec!["test", "-p", "kiln-cuda", "--test", "nvrtc_gpu"], None),
        ("gpu conformance", vec!["test", "-p", "kiln-tests", "--test", "conformance"], Some("cuda::")),
        ("gpu tensors", vec!["test", "-p", "kiln-tests", "--test", "tensors"], None),
        ("estimators", vec!["test", "-p", "kiln-estimators"], None),
    ];
    for (name, mut args, filter) in runs {
        args.extend(extra.iter().map(String::as_str));
        if !extra.iter().any(|a| a == "--") {
            args.push("--");
        }
        args.extend(filter);
        args.extend(["--nocapture", "--test-threads=1"]);
        if let Err(code) = step(name, &args) {
            return code;
        }
    }
    ExitCode::SUCCESS
}

fn test(extra: &[String]) -> ExitCode {
    if let Err(code) = cuda_tools() {
        return code;
    }
    let mut test_args = vec!["test", "--workspace"];
    test_args.extend(extra.iter().map(String::as_str));
    let steps: [(&str, Vec<&str>); 3] = [
        ("format", vec!["fmt", "--all", "--", "--check"]),
        ("clippy", vec!["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        ("tests", test_args),
    ];
    for (name, args) in &steps {
        if let Err(code) = step(name, args) {
            return code;
        }
    }
    if let Err(code) = run_examples() {
        return code;
    }
    if let Err(code) = fuzz::fuzz(&[], fuzz::TEST_SECONDS, fuzz::TEST_SEED) {
        return code;
    }
    eprintln!("xtask: all checks passed");
    ExitCode::SUCCESS
}

/// Run every example of `examples/`. `cargo test --workspace` has just built them with the
/// workspace's feature set; running those binaries avoids a `cargo run` that would resolve
/// features for the root package alone and rebuild half the dependency graph.
fn run_examples() -> Result<(), ExitCode> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("."));
    let target = std::env::var_os("CARGO_TARGET_DIR").map(|t| root.join(t)).unwrap_or_else(|| root.join("target"));
    let examples = std::fs::read_dir(root.join("examples")).map_err(|e| {
        eprintln!("xtask: examples: cannot list examples/: {e}");
        ExitCode::FAILURE
    })?;
    for entry in examples.flatten() {
        let path = entry.path();
        let Some(name) =
            path.file_stem().and_then(|s| s.to_str()).filter(|_| path.extension().is_some_and(|e| e == "rs"))
        else {
            continue;
        };
        let exe = target.join("debug").join("examples").join(name);
        if !exe.exists() {
            step(&format!("example {name}"), &["run", "--quiet", "--example", name])?;
            continue;
        }
        eprintln!("xtask: example {name}: {}", exe.display());
        match Command::new(&exe).status() {
            Ok(s) if s.success() => eprintln!("xtask: example {name}: ok"),
            other => {
                eprintln!("xtask: example {name}: FAILED ({other:?})");
                return Err(ExitCode::FAILURE);
            }
        }
    }
    Ok(())
}
