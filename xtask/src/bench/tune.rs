//! The tuning workload against scikit-learn (issue 18): kiln's main-job search on generated
//! data (`kiln tune --rows N --save-data DIR --out DIR/kiln.json`), then scikit-learn on exactly
//! the candidates and splits kiln drew (`benches/python/tune_sklearn.py`: GridSearchCV over the
//! explicit list), and a report section with both times, the ratio and the largest difference
//! between the two sides' per-candidate mean scores.

use super::{capture_json, Json, Results};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// Rows searched: the 100,000, or 20,000 with `--quick`.
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
    let status =
        Command::new(env!("CARGO")).args(["build", "--release", "--quiet", "-p", "kiln", "--bin", "kiln"]).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(format!("building kiln failed ({s})")),
        Err(e) => return Err(format!("cannot run cargo: {e}")),
    }
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
    let mut cmd = Command::new(python);
    cmd.arg(root.join("benches").join("python").join("tune_sklearn.py"))
        .arg(dir.join("X.npy"))
        .arg(dir.join("y.npy"))
        .arg(&kiln_json)
        // numpy's OpenBLAS at its own defaults (the machine's settings are for kiln's side).
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE");
    eprintln!("xtask bench: scikit-learn on kiln's candidates and splits");
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
