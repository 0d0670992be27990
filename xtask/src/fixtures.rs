//! `cargo xtask fixtures`: regenerate the scikit-learn parity fixtures and bundled datasets.
//!
//! 1. Creates a virtualenv at `<target>/py-fixtures` once (`python3 -m venv`) and installs the
//!    pinned [`PACKAGES`] into it; a marker file records the pins, so later runs reuse the venv
//!    and a change of pins reinstalls.
//! 2. Runs `tests/fixtures/make_fixtures.py <workspace root>`, which rewrites
//!    `estimators/data/*` (scikit-learn's toy datasets as `.npy`) and `tests/fixtures/*`
//!    (inputs, scikit-learn's outputs and `MANIFEST.json` with the versions used).
//!
//! The generated files are committed: CI and the tests never run Python. `<target>` is
//! `CARGO_TARGET_DIR` when set, else `target/` in the workspace. Unlike `cargo xtask bench`,
//! a failed install stops the command: fixtures from unpinned versions would be worse than none.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The Python packages the fixtures are computed with (the versions `cargo xtask bench` pins
/// too). scikit-learn's other dependencies (joblib, threadpoolctl) do not change any number.
pub const PACKAGES: [&str; 3] = ["numpy==2.4.6", "scipy==1.17.1", "scikit-learn==1.9.1"];

const USAGE: &str = "usage: cargo xtask fixtures";

/// Entry point of `cargo xtask fixtures`.
pub fn run(args: &[String]) -> ExitCode {
    if let Some(a) = args.first() {
        eprintln!("xtask fixtures: unknown argument `{a}`\n{USAGE}");
        return ExitCode::from(2);
    }
    let Some(root) = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf) else {
        eprintln!("xtask fixtures: cannot find the workspace root");
        return ExitCode::FAILURE;
    };
    let target = std::env::var_os("CARGO_TARGET_DIR").map(|t| root.join(t)).unwrap_or_else(|| root.join("target"));
    let python = match ensure_venv(&target.join("py-fixtures"), &PACKAGES) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("xtask fixtures: {e}");
            return ExitCode::FAILURE;
        }
    };
    let script = root.join("tests").join("fixtures").join("make_fixtures.py");
    eprintln!("xtask fixtures: running {}", script.display());
    match Command::new(&python).arg(&script).arg(&root).current_dir(&root).status() {
        Ok(s) if s.success() => {
            eprintln!("xtask fixtures: done; review and commit estimators/data and tests/fixtures");
            ExitCode::SUCCESS
        }
        Ok(s) => {
            eprintln!("xtask fixtures: make_fixtures.py failed ({s})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("xtask fixtures: cannot run {}: {e}", python.display());
            ExitCode::FAILURE
        }
    }
}

/// The python of the virtualenv `venv`, created when missing, with exactly `pins` installed.
///
/// A marker file inside the venv records the pins of the last successful install, so a second
/// run costs nothing and a change of pins reinstalls. Any failure is an error naming the step.
pub fn ensure_venv(venv: &Path, pins: &[&str]) -> Result<PathBuf, String> {
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!("xtask: creating virtualenv {}", venv.display());
        match Command::new("python3").arg("-m").arg("venv").arg(venv).status() {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(format!("`python3 -m venv {}` failed ({s})", venv.display())),
            Err(e) => return Err(format!("cannot run python3: {e}")),
        }
    }
    let marker = venv.join(".kiln-pins");
    let wanted = pins.join(" ");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    eprintln!("xtask: pip install {wanted}");
    match Command::new(&python).args(["-m", "pip", "install", "--quiet"]).args(pins).status() {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(format!("pip install {wanted} failed ({s})")),
        Err(e) => return Err(format!("cannot run {}: {e}", python.display())),
    }
    std::fs::write(&marker, &wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(python)
}
