//! The tuning workload against scikit-learn (issue 18): kiln's main-job search on generated
//! data (`kiln tune --rows N --save-data DIR --out DIR/kiln.json`), then scikit-learn on exactly
//! the candidates and splits kiln drew (`benches/python/tune_sklearn.py`: GridSearchCV over the
//! explicit list), and a report section with both times, the ratio and the largest difference
//! between the two sides' per-candidate mean scores.

use super::{capture_json, Json, Results};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// Rows searched: the issue's 100,000, or 20,000 with `--quick`.
pub fn rows(quick: bool) -> usize {
    if quick {
        20_000
    } else {
        100_000
    }
}

/// Run both sides; the flat results of the comparison.
pub fn run(
    root: &Path,
    target: &Path,
    python: &Result<std::path::PathBuf, String>,
    quick: bool,
) -> Result<Results, String> {
    let python = python.as_ref().map_err(Clone::clone)?;
    eprintln!("xtask bench: building kiln (release) for the tuning workload");
    build_kiln()?;
    let dir = target.join("bench-tune");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let kiln_json = dir.join("kiln.json");
    let rows = rows(quick).to_string();
    eprintln!("xtask bench: kiln tune --rows {rows}");
    let status = Command::new(target.join("release").join("kiln"))
        .args(["tune", "--rows", &rows, "--verbose", "0", "--seed", "0", "--n-iter", "30"])
        .arg("--save-data")
        .arg(&dir)
        .arg("--out")
        .arg(&kiln_json)
        .status()
        .map_err(|e| format!("cannot run kiln tune: {e}"))?;
    if !status.success() {
        return Err(format!("kiln tune failed ({status})"));
    }
    eprintln!("xtask bench: scikit-learn on kiln's candidates and splits");
    sklearn_on(python, root, &dir, &kiln_json)
}

/// `cargo build --release -p kiln --bin kiln`.
fn build_kiln() -> Result<(), String> {
    let status =
        Command::new(env!("CARGO")).args(["build", "--release", "--quiet", "-p", "kiln", "--bin", "kiln"]).status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("building kiln failed ({s})")),
        Err(e) => Err(format!("cannot run cargo: {e}")),
    }
}

/// scikit-learn on exactly the candidates and splits of kiln's results `kiln_json`, on the
/// data `dir` holds (`benches/python/tune_sklearn.py`).
fn sklearn_on(python: &Path, root: &Path, dir: &Path, kiln_json: &Path) -> Result<Results, String> {
    let mut cmd = Command::new(python);
    cmd.arg(root.join("benches").join("python").join("tune_sklearn.py"))
        .arg(dir.join("X.npy"))
        .arg(dir.join("y.npy"))
        .arg(kiln_json)
        // numpy's OpenBLAS at its own defaults (the machine's settings are for kiln's side).
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE");
    capture_json(cmd, "tune_sklearn.py")
}

/// The report section.
pub fn section(r: &Result<Results, String>) -> String {
    let mut s = String::from("\n## Tuning workload (SplineTransformer -> Nystroem -> RidgeCV, RandomizedSearchCV)\n\n");
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(s, "not measured: {e}");
            return s;
        }
    };
    let num = |k: &str| match r.get(k) {
        Some(Json::Num(v)) => Some(*v),
        _ => None,
    };
    let text = |k: &str| match r.get(k) {
        Some(Json::Str(v)) => v.clone(),
        Some(Json::Num(v)) => v.to_string(),
        _ => "?".into(),
    };
    let _ = writeln!(
        s,
        "{} rows ({}), {} candidates x {} splits, kiln on {}, scikit-learn {} on exactly kiln's candidates and splits\n",
        text("tune_rows"),
        text("tune_dtype"),
        text("tune_candidates"),
        text("tune_splits"),
        text("kiln_tune_device"),
        text("sklearn")
    );
    let _ = writeln!(s, "| side | search seconds | best candidate | best mean R2 |");
    let _ = writeln!(s, "|---|---|---|---|");
    for side in ["kiln", "sk"] {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {} | {:.5} |",
            if side == "kiln" { "kiln" } else { "scikit-learn" },
            num(&format!("{side}_tune_seconds")).unwrap_or(f64::NAN),
            text(&format!("{side}_tune_best_index")),
            num(&format!("{side}_tune_best_score")).unwrap_or(f64::NAN)
        );
    }
    if let (Some(k), Some(p)) = (num("kiln_tune_seconds"), num("sk_tune_seconds")) {
        let _ = writeln!(s, "\nkiln vs scikit-learn: {:.2}x (scikit-learn's time / kiln's)", p / k);
    }
    let _ = writeln!(
        s,
        "largest difference of a candidate's mean R2 between the two sides: {:.3e} (at {})",
        num("tune_max_mean_score_diff").unwrap_or(f64::NAN),
        text("tune_max_diff_params")
    );
    s
}

/// `cargo xtask bench-gpu [--quick]`: the tuning workload on `Cuda(0)`, the same search (same
/// seed: same data, candidates and splits) on the Cpu, and scikit-learn on the Cuda run's
/// candidates and splits; reports kiln-GPU against kiln-CPU and against scikit-learn-CPU. On a
/// machine without a CUDA driver or GPU it prints that it skipped, and why.
pub fn gpu(args: &[String]) -> std::process::ExitCode {
    use std::process::ExitCode;
    let quick = match args {
        [] => false,
        [q] if q == "--quick" => true,
        _ => {
            eprintln!("usage: cargo xtask bench-gpu [--quick]");
            return ExitCode::from(2);
        }
    };
    let Some(root) = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf) else {
        eprintln!("xtask bench-gpu: cannot find the workspace root");
        return ExitCode::FAILURE;
    };
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
    match gpu_run(&root, &target, quick) {
        Ok(Some(report)) => {
            println!("{report}");
            let path = target.join("bench-gpu-report.md");
            if let Err(e) = std::fs::write(&path, &report) {
                eprintln!("xtask bench-gpu: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            eprintln!("xtask bench-gpu: report written to {}", path.display());
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask bench-gpu: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The three runs and the report (`None`: skipped, no GPU).
fn gpu_run(root: &Path, target: &Path, quick: bool) -> Result<Option<String>, String> {
    build_kiln()?;
    let kiln = target.join("release").join("kiln");
    let dir = target.join("bench-tune-gpu");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let rows = rows(quick).to_string();
    let common = ["--verbose", "0", "--seed", "0", "--n-iter", "30"];
    let (gpu_json, cpu_json) = (dir.join("kiln-cuda.json"), dir.join("kiln-cpu.json"));
    eprintln!("xtask bench-gpu: kiln tune --rows {rows} --device cuda");
    let out = Command::new(&kiln)
        .args(["tune", "--rows", &rows, "--device", "cuda"])
        .args(common)
        .arg("--save-data")
        .arg(&dir)
        .arg("--out")
        .arg(&gpu_json)
        .output()
        .map_err(|e| format!("cannot run kiln tune: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if why.contains("not available") {
            println!("xtask bench-gpu: skipped: no CUDA driver/GPU on this machine ({why})");
            return Ok(None);
        }
        return Err(format!("kiln tune on cuda failed: {why}"));
    }
    eprintln!("xtask bench-gpu: the same search on the cpu");
    let status = Command::new(&kiln)
        .args(["tune", "--device", "cpu"])
        .args(common)
        .arg("--x")
        .arg(dir.join("X.npy"))
        .arg("--y")
        .arg(dir.join("y.npy"))
        .arg("--out")
        .arg(&cpu_json)
        .status()
        .map_err(|e| format!("cannot run kiln tune: {e}"))?;
    if !status.success() {
        return Err(format!("kiln tune on the cpu failed ({status})"));
    }
    let python = super::ensure_venv(target)?;
    eprintln!("xtask bench-gpu: scikit-learn on kiln's candidates and splits");
    let sk = sklearn_on(&python, root, &dir, &gpu_json)?;
    let seconds = |p: &Path| -> Result<f64, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        top_number(&text, "seconds").ok_or_else(|| format!("{} has no \"seconds\"", p.display()))
    };
    let (g, c) = (seconds(&gpu_json)?, seconds(&cpu_json)?);
    let s = match sk.get("sk_tune_seconds") {
        Some(Json::Num(v)) => *v,
        _ => return Err("tune_sklearn.py printed no sk_tune_seconds".into()),
    };
    let mut r = String::from("# kiln benchmark report (`cargo xtask bench-gpu`)\n\n");
    let _ = writeln!(r, "Tuning workload, {rows} rows f32, 30 candidates x 3 splits (same seed on every side)\n");
    let _ = writeln!(r, "| side | search seconds | kiln on Cuda is |");
    let _ = writeln!(r, "|---|---|---|");
    let _ = writeln!(r, "| kiln, Cuda(0) | {g:.2} | - |");
    let _ = writeln!(r, "| kiln, Cpu | {c:.2} | {:.2}x faster |", c / g);
    let _ = writeln!(r, "| scikit-learn, Cpu | {s:.2} | {:.2}x faster |", s / g);
    Ok(Some(r + &section(&Ok(sk))))
}

/// The number after the top-level key `"key":` of a JSON text (the first occurrence of the
/// exact quoted key; kiln's results name `seconds` once, at the top).
fn top_number(text: &str, key: &str) -> Option<f64> {
    let at = text.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::top_number;

    /// The whole search's `seconds`, not a candidate's `fit_seconds`, wherever it stands.
    #[test]
    fn top_number_reads_the_exact_key() {
        let text = r#"{"candidates": [{"fit_seconds": [0.5, 0.25]}], "step_seconds": {"a": 1}, "seconds": 12.5e0}"#;
        assert_eq!(top_number(text, "seconds"), Some(12.5));
        assert_eq!(top_number(r#"{"seconds" :  3}"#, "seconds"), Some(3.0));
        assert_eq!(top_number(r#"{"fit_seconds": 1}"#, "seconds"), None);
    }
}
