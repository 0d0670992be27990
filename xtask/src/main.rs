//! `cargo xtask`: the project's own commands.
//!
//! * `cargo xtask test` — every check CI runs: formatting, clippy with warnings as errors,
//!   the whole test suite (unit, integration, doctests, compile-fail cases), and every
//!   example in `examples/`.
//!
//! Later capabilities add `bench` (kiln against numpy/numba/scikit-learn in one run),
//! `fixtures` (regenerate scikit-learn parity numbers) and `test-gpu`.

mod bench;

use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask test [-- extra cargo test args]");
            eprintln!("       cargo xtask bench [--quick] [--skip-python] [--skip-kiln] [--device cpu|interp]");
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

fn test(extra: &[String]) -> ExitCode {
    let mut test_args = vec!["test", "--workspace"];
    test_args.extend(extra.iter().map(String::as_str));
    let steps: [(&str, Vec<&str>); 4] = [
        ("format", vec!["fmt", "--all", "--", "--check"]),
        ("clippy", vec!["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        ("tests", test_args),
        ("examples", vec!["run", "--quiet", "--example", "kernels"]),
    ];
    for (name, args) in &steps {
        if let Err(code) = step(name, args) {
            return code;
        }
    }
    eprintln!("xtask: all checks passed");
    ExitCode::SUCCESS
}
