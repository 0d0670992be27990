//! `cargo xtask fuzz [--target T] [--seconds N] [--seed S]`: runs the `kiln-fuzz` targets,
//! each in its own process (an abort or a stack overflow is a crash too), and prints per
//! target the cases run and the crashes found.
//!
//! `cargo xtask test` runs every target for a few seconds with a fixed seed ([`TEST_SECONDS`]).

use std::process::{Command, ExitCode};

/// The targets of `kiln-fuzz`, in the order they run.
const TARGETS: &[&str] = &["npy", "csv", "dsl", "ir", "loops", "args", "programs"];

/// Seconds per target in `cargo xtask test` (seven targets: under 60 s in all).
pub const TEST_SECONDS: &str = "5";

/// The seed `cargo xtask test` fuzzes with, so a failure there reproduces.
pub const TEST_SEED: &str = "19";

/// `cargo xtask fuzz` with its command-line arguments.
pub fn run(args: &[String]) -> ExitCode {
    let (mut targets, mut seconds, mut seed) = (Vec::new(), "10".to_string(), "1".to_string());
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next();
        match (flag.as_str(), value) {
            ("--target", Some(t)) if TARGETS.contains(&t.as_str()) => targets.push(t.clone()),
            ("--seconds", Some(s)) if s.parse::<f64>().is_ok_and(|s| s >= 0.0) => seconds = s.clone(),
            ("--seed", Some(s)) if s.parse::<u64>().is_ok() => seed = s.clone(),
            _ => {
                eprintln!("usage: cargo xtask fuzz [--target T]... [--seconds N] [--seed S]");
                eprintln!("targets: {}", TARGETS.join(", "));
                return ExitCode::from(2);
            }
        }
    }
    fuzz(&targets, &seconds, &seed, Build::Always).map_or_else(|code| code, |()| ExitCode::SUCCESS)
}

/// Whether [`fuzz`] builds `kiln-fuzz` first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `cargo build -p kiln-fuzz` (what `cargo xtask fuzz` does).
    Always,
    /// Use the binary `cargo test --workspace` has just built (kiln-fuzz's integration test
    /// builds it, with the test build's features); build only when it is missing. A
    /// `cargo build -p kiln-fuzz` after the test build resolves features without the
    /// dev-dependencies and recompiles Cranelift, faer and kiln's crates (90 s in CI).
    IfMissing,
}

/// Builds `kiln-fuzz` (see [`Build`]), then runs each target (all when `targets` is empty) for
/// `seconds` from `seed`.
pub fn fuzz(targets: &[String], seconds: &str, seed: &str, build: Build) -> Result<(), ExitCode> {
    let all: Vec<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    let targets = if targets.is_empty() { &all[..] } else { targets };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(std::path::Path::new("."));
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map(|t| root.join(t)).unwrap_or_else(|| root.join("target"));
    let exe = target_dir.join("debug").join("kiln-fuzz");
    if build == Build::Always || !exe.exists() {
        crate::step("fuzz build", &["build", "--quiet", "-p", "kiln-fuzz"])?;
    }
    let mut failed = Vec::new();
    for target in targets {
        let status = Command::new(&exe)
            .args(["--target", target, "--seconds", seconds, "--seed", seed])
            .current_dir(root)
            .status();
        match status {
            Ok(s) if s.success() => {}
            other => {
                eprintln!("xtask: fuzz {target}: FAILED ({other:?}); replay a case with `{} --target {target} --replay CASE_SEED`", exe.display());
                failed.push(target.as_str());
            }
        }
    }
    if failed.is_empty() {
        eprintln!("xtask: fuzz: no crash in {} targets", targets.len());
        Ok(())
    } else {
        eprintln!("xtask: fuzz: crashes in {}", failed.join(", "));
        Err(ExitCode::FAILURE)
    }
}
