//! `cargo xtask`: the project's own commands.
//!
//! * `cargo xtask test` — every check CI runs: formatting, clippy with warnings as errors,
//!   the whole test suite (unit, integration, doctests, compile-fail cases), and every
//!   example in `examples/`.
//!
//!   Before the tests it installs the pinned CUDA tool wheels into `target/cuda-tools`
//!   (once) and exports `KILN_CUDA_TOOLS`, so NVRTC and ptxas checks run on every machine.
//!   After them it prints how many tests skipped and why (tests record each skip in the
//!   directory `KILN_SKIP_LOG` names, `target/kiln-skips`). `--full` (xtask's own flag) sets
//!   `KILN_FULL=1`: the math sweeps test every input instead of their default sample.
//! * `cargo xtask test-gpu` — the tests that launch kernels on `Device::Cuda(0)`; without a
//!   CUDA driver or GPU they report "kiln-skip: <test>: no CUDA driver/GPU".
//! * `cargo xtask bench` — kiln against a STREAM loop, numpy, numexpr, numba and
//!   scikit-learn in one run, printed as ratios.
//! * `cargo xtask fixtures` — regenerate the scikit-learn parity numbers in `tests/fixtures`.
//! * `cargo xtask fuzz [--target T] [--seconds N] [--seed S]` — the seeded fuzz targets of
//!   `kiln-fuzz` (hostile files, kernel sources, IR text, arguments, random programs); `test`
//!   runs each for a few seconds with a fixed seed.

#![forbid(unsafe_code)]

mod bench;
mod cuda_tools;
mod fixtures;
mod fuzz;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The environment variable that makes the math sweeps exhaustive (`cargo xtask test --full`).
const FULL_ENV: &str = "KILN_FULL";

/// The environment variable naming the directory where skipped tests record themselves
/// (`kiln_cuda::tools::SKIP_LOG_ENV`), and the prefix of each recorded line.
const SKIP_LOG_ENV: &str = "KILN_SKIP_LOG";
const SKIP_MARKER: &str = "kiln-skip: ";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("test-gpu") => test_gpu(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-gpu") => bench::gpu(&args[1..]),
        Some("fixtures") => fixtures::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask test [--full] [-- extra cargo test args]");
            eprintln!("       cargo xtask test-gpu [-- extra cargo test args]");
            eprintln!("       cargo xtask bench [--quick] [--skip-python] [--skip-kiln] [--device cpu|interp]");
            eprintln!("       cargo xtask bench-gpu [--quick]");
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
        eprintln!("xtask: test-gpu: no NVIDIA driver on this machine: the GPU tests will print \"kiln-skip: <test>: no CUDA driver/GPU\"");
    }
    // The driver-level tests, then the whole conformance suite and the tensor tests on
    // Device::Cuda(0), then the estimators (whose device tests use CudaSim and, where a GPU
    // exists, Cuda).
    let runs: [(&str, Vec<&str>, Option<&str>); 4] = [
        ("gpu driver tests", vec!["test", "-p", "kiln-cuda", "--test", "all"], Some("nvrtc_gpu::")),
        ("gpu conformance", vec!["test", "-p", "kiln-tests", "--test", "conformance"], Some("cuda::")),
        ("gpu tensors", vec!["test", "-p", "kiln-tests", "--test", "all"], Some("tensors::")),
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
    // `--full` is xtask's own flag: the exhaustive sweeps instead of their default sample.
    let full = extra.iter().any(|a| a == "--full");
    let extra: Vec<&str> = extra.iter().map(String::as_str).filter(|a| *a != "--full").collect();
    if let Err(code) = cuda_tools() {
        return code;
    }
    if full {
        // xtask is single-threaded: nothing reads the environment concurrently.
        std::env::set_var(FULL_ENV, "1");
    }
    let skips = match skip_log() {
        Ok(dir) => dir,
        Err(code) => return code,
    };
    let mut test_args = vec!["test", "--workspace"];
    test_args.extend(extra);
    let steps: [(&str, Vec<&str>); 3] = [
        ("format", vec!["fmt", "--all", "--", "--check"]),
        ("clippy", vec!["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        ("tests", test_args),
    ];
    for (name, args) in &steps {
        let result = step(name, args);
        if *name == "tests" {
            report_skips(&skips);
        }
        if let Err(code) = result {
            return code;
        }
    }
    if let Err(code) = run_examples() {
        return code;
    }
    if let Err(code) = fuzz::fuzz(&[], fuzz::TEST_SECONDS, fuzz::TEST_SEED, fuzz::Build::IfMissing) {
        return code;
    }
    eprintln!("xtask: all checks passed");
    ExitCode::SUCCESS
}

/// Makes an empty `target/kiln-skips` and exports it as `KILN_SKIP_LOG`: each test that skips
/// appends a line `kiln-skip: <test>: <reason>` to a file of its process there
/// (`kiln_cuda::tools::skip_test`), which [`report_skips`] counts after the run.
fn skip_log() -> Result<PathBuf, ExitCode> {
    let dir = target_dir().join("kiln-skips");
    let fresh = match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => std::fs::create_dir_all(&dir),
    };
    if let Err(e) = fresh {
        eprintln!("xtask: cannot make the skip log directory {}: {e}", dir.display());
        return Err(ExitCode::FAILURE);
    }
    // xtask is single-threaded: nothing reads the environment concurrently.
    std::env::set_var(SKIP_LOG_ENV, &dir);
    Ok(dir)
}

/// Prints how many tests skipped and why, from the lines the tests left in `dir`.
fn report_skips(dir: &Path) {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match std::fs::read_to_string(entry.path()) {
            Ok(text) => lines.extend(text.lines().map(str::to_owned)),
            Err(e) => eprintln!("xtask: skips: cannot read {}: {e}", entry.path().display()),
        }
    }
    eprintln!("xtask: skipped: {} tests (listed in {})", lines.len(), dir.display());
    for (reason, tests) in skips_by_reason(&lines) {
        eprintln!("xtask: skipped: {:4} {reason} (e.g. {})", tests.len(), tests[0]);
    }
}

/// The tests of each reason, from lines `kiln-skip: <test>: <reason>`, tests sorted.
fn skips_by_reason(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut by_reason = BTreeMap::<String, Vec<String>>::new();
    for line in lines {
        let rest = line.strip_prefix(SKIP_MARKER).unwrap_or(line);
        let (test, reason) = rest.split_once(": ").unwrap_or((rest, "no reason given"));
        by_reason.entry(reason.to_owned()).or_default().push(test.to_owned());
    }
    for tests in by_reason.values_mut() {
        tests.sort();
    }
    by_reason
}

/// The workspace's root directory (xtask's parent).
fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("."))
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the root) or `target/`.
fn target_dir() -> PathBuf {
    let root = workspace_root();
    std::env::var_os("CARGO_TARGET_DIR").map(|t| root.join(t)).unwrap_or_else(|| root.join("target"))
}

/// Run every example of `examples/`. `cargo test --workspace` has just built them with the
/// workspace's feature set; running those binaries avoids a `cargo run` that would resolve
/// features for the root package alone and rebuild half the dependency graph.
fn run_examples() -> Result<(), ExitCode> {
    let root = workspace_root();
    let target = target_dir();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_are_counted_per_reason() {
        let lines: Vec<String> = [
            "kiln-skip: conformance::cuda::b: no CUDA driver/GPU",
            "kiln-skip: nvrtc_gpu::a (Device::Cuda(0)): no CUDA driver/GPU",
            "kiln-skip: conformance::cuda::a: no CUDA driver/GPU",
            "kiln-skip: kernels: NVRTC (libnvrtc.so.13) not found and KILN_SKIP_CUDA_TOOLS=1",
            "kiln-skip: odd line",
        ]
        .map(str::to_owned)
        .to_vec();
        let by_reason = skips_by_reason(&lines);
        assert_eq!(by_reason.len(), 3, "{by_reason:?}");
        assert_eq!(
            by_reason["no CUDA driver/GPU"],
            ["conformance::cuda::a", "conformance::cuda::b", "nvrtc_gpu::a (Device::Cuda(0))"]
        );
        assert_eq!(by_reason["NVRTC (libnvrtc.so.13) not found and KILN_SKIP_CUDA_TOOLS=1"], ["kernels"]);
        assert_eq!(by_reason["no reason given"], ["odd line"]);
    }
}
