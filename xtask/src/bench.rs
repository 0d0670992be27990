//! `cargo xtask bench`: kiln against numpy, numexpr, numba and scikit-learn, in one run.
//!
//! 1. Creates a virtualenv at `<target>/bench-venv` once (`python3 -m venv`) and installs the
//!    pinned [`PACKAGES`] into it with pip; a marker file records the pins, so later runs
//!    reuse it and a change of pins reinstalls.
//! 2. Builds `kiln-bench` in release mode, then runs `benches/python/baselines.py` (with
//!    `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` removed from that process's environment only:
//!    they slow a current numpy), then `kiln-bench`. Nothing else runs meanwhile.
//! 3. Reads both flat JSON objects and prints the table of the ratios issue 3 names, also
//!    written to `<target>/bench-report.md`.
//!
//! `<target>` is `CARGO_TARGET_DIR` when set, else `target/` in the workspace. A part that
//! cannot run (no python3, a pip failure, a kernel error) becomes a "not measured" row with
//! the reason; the rest still runs. Benchmarks are measured, never asserted: missing a
//! target does not fail the command.

mod tune;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// The Python packages and the versions verified to install and run together here.
pub const PACKAGES: [&str; 5] =
    ["numpy==2.4.6", "numexpr==2.14.2", "numba==0.68.1", "scikit-learn==1.9.1", "threadpoolctl==3.8.0"];

const USAGE: &str = "usage: cargo xtask bench [--quick] [--skip-python] [--skip-kiln] [--device cpu|interp]";

/// Entry point of `cargo xtask bench [options]`.
pub fn run(args: &[String]) -> ExitCode {
    let mut quick = false;
    let (mut skip_python, mut skip_kiln) = (false, false);
    let mut device: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--skip-python" => skip_python = true,
            "--skip-kiln" => skip_kiln = true,
            "--device" => match it.next() {
                Some(d) => device = Some(d.clone()),
                None => return usage("--device needs a value"),
            },
            other => return usage(&format!("unknown argument `{other}`")),
        }
    }
    let root = match Path::new(env!("CARGO_MANIFEST_DIR")).parent() {
        Some(r) => r.to_path_buf(),
        None => return usage("cannot find the workspace root"),
    };
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => root.join(t),
        None => root.join("target"),
    };

    let mut kiln_args = Vec::new();
    if quick {
        kiln_args.push("--quick".to_string());
    }
    if let Some(d) = device {
        kiln_args.extend(["--device".to_string(), d]);
    }
    // The estimator benchmarks' data: written by the baselines, read by kiln.
    let data = target.join("bench-data");
    // Build first, so compiling never overlaps a measurement.
    let kiln_built = if skip_kiln { Err("skipped (--skip-kiln)".to_string()) } else { build_kiln() };
    let venv = if skip_python { Err("skipped (--skip-python)".to_string()) } else { ensure_venv(&target) };
    let py = venv.clone().and_then(|python| run_python(&python, &root, quick, &data));
    // LogisticRegression runs as many iterations as scikit-learn's did (lbfgs stops early on
    // its own `ftol` even at `tol = 0`), so the two times cover the same work.
    let sk_iters = py.as_ref().ok().and_then(|p| match p.get("sk_logistic_n_iter") {
        Some(Json::Num(v)) => Some(*v as usize),
        _ => None,
    });
    let mut kiln = kiln_built.and_then(|()| run_kiln(&kiln_args, &data, sk_iters));
    // `kiln run --bench` on the axpby inputs the baselines wrote: the CLI's dynamic call path.
    if let (Ok(k), false) = (&mut kiln, skip_python) {
        match run_cli(&root, &target, &data, quick) {
            Ok(ms) => {
                k.insert("cli_axpby_ms".into(), Json::Num(ms));
            }
            Err(e) => {
                eprintln!("xtask bench: kiln run --bench: {e}");
                k.insert("cli_axpby_error".into(), Json::Str(e));
            }
        }
    }
    // The estimators again, scikit-learn then kiln: minutes apart, a shared machine can run
    // one side much slower than the other, so each side keeps its best median over the rounds.
    let mut py = py;
    if let (Ok(p), Ok(k), Ok(python)) = (&mut py, &mut kiln, &venv) {
        for _ in 1..ESTIMATOR_ROUNDS {
            match run_python_estimators(python, &root, quick, &data) {
                Ok(again) => keep_best(p, again),
                Err(e) => eprintln!("xtask bench: python estimators again: {e}"),
            }
            match run_kiln_estimators(&kiln_args, &data, sk_iters) {
                Ok(again) => keep_best(k, again),
                Err(e) => eprintln!("xtask bench: kiln estimators again: {e}"),
            }
        }
        k.insert("estimator_rounds".into(), Json::Num(ESTIMATOR_ROUNDS as f64));
    }
    if let Err(e) = &py {
        eprintln!("xtask bench: python baselines: {e}");
    }
    if let Err(e) = &kiln {
        eprintln!("xtask bench: kiln: {e}");
    }

    let tuned = if skip_kiln || skip_python {
        Err("skipped (--skip-kiln / --skip-python)".to_string())
    } else {
        tune::run(&root, &target, &venv, quick)
    };
    let report = report(&kiln, &py) + &tune::section(&tuned);
    println!("{report}");
    let path = target.join("bench-report.md");
    match std::fs::create_dir_all(&target).and_then(|()| std::fs::write(&path, &report)) {
        Ok(()) => eprintln!("xtask bench: report written to {}", path.display()),
        Err(e) => {
            eprintln!("xtask bench: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Entry point of `cargo xtask bench-gpu [--quick]` (see [`tune::gpu`]).
pub fn gpu(args: &[String]) -> ExitCode {
    tune::gpu(args)
}

fn usage(why: &str) -> ExitCode {
    eprintln!("xtask bench: {why}\n{USAGE}");
    ExitCode::from(2)
}

/// A value of a flat JSON object.
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
}

/// The results of one side: key -> value.
type Results = BTreeMap<String, Json>;

// ---------------------------------------------------------------------------------------
// Running the two sides.

/// The virtualenv's python, creating the venv and installing [`PACKAGES`] when needed.
fn ensure_venv(target: &Path) -> Result<PathBuf, String> {
    let venv = target.join("bench-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!("xtask bench: creating virtualenv {}", venv.display());
        let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status();
        match ok {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(format!("`python3 -m venv` failed ({s})")),
            Err(e) => return Err(format!("cannot run python3: {e}")),
        }
    }
    let marker = venv.join(".kiln-bench-pins");
    let pins = PACKAGES.join(" ");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(pins.as_str()) {
        return Ok(python);
    }
    eprintln!("xtask bench: pip install {pins}");
    if pip_install(&python, &PACKAGES) {
        if let Err(e) = std::fs::write(&marker, &pins) {
            eprintln!("xtask bench: cannot write {}: {e}", marker.display());
        }
        return Ok(python);
    }
    // One package failing must not cost the others: install what can be installed; the
    // baselines script reports each library it cannot import.
    let failed: Vec<&str> = PACKAGES.iter().copied().filter(|p| !pip_install(&python, &[p])).collect();
    eprintln!("xtask bench: pip could not install: {}", failed.join(", "));
    Ok(python)
}

fn pip_install(python: &Path, packages: &[&str]) -> bool {
    let status = Command::new(python).args(["-m", "pip", "install", "--quiet"]).args(packages).status();
    matches!(status, Ok(s) if s.success())
}

/// Run `benches/python/baselines.py`; its stdout's last line is one JSON object.
fn run_python(python: &Path, root: &Path, quick: bool, data: &Path) -> Result<Results, String> {
    let mut cmd = Command::new(python);
    cmd.env("KILN_BENCH_DATA", data);
    cmd.arg(root.join("benches").join("python").join("baselines.py"));
    if quick {
        cmd.arg("--quick");
    }
    // These variables work around old OpenBLAS builds and slow a current one: remove them for
    // this process only (the script records which BLAS then runs, through threadpoolctl).
    cmd.env_remove("OPENBLAS_CORETYPE").env_remove("OPENBLAS_L2_SIZE");
    eprintln!("xtask bench: running the python baselines");
    capture_json(cmd, "baselines.py")
}

/// Rounds of the estimator benchmarks, alternating scikit-learn and kiln.
const ESTIMATOR_ROUNDS: usize = 2;

/// The estimator half of `baselines.py` alone (`--estimators-only`).
fn run_python_estimators(python: &Path, root: &Path, quick: bool, data: &Path) -> Result<Results, String> {
    let mut cmd = Command::new(python);
    cmd.env("KILN_BENCH_DATA", data);
    cmd.arg(root.join("benches").join("python").join("baselines.py")).arg("--estimators-only");
    if quick {
        cmd.arg("--quick");
    }
    cmd.env_remove("OPENBLAS_CORETYPE").env_remove("OPENBLAS_L2_SIZE");
    eprintln!("xtask bench: running the scikit-learn estimators again");
    capture_json(cmd, "baselines.py --estimators-only")
}

/// Each timing (`*_ms`) of `again` that is lower than `into`'s replaces it; other keys stay.
fn keep_best(into: &mut Results, again: Results) {
    for (key, v) in again {
        if let (true, Json::Num(new), Some(Json::Num(old))) = (key.ends_with("_ms"), &v, into.get(&key)) {
            if new < old {
                into.insert(key, v);
            }
        }
    }
}

/// `cargo build --release -p kiln-benches --bin kiln-bench`.
fn build_kiln() -> Result<(), String> {
    eprintln!("xtask bench: building kiln-bench (release)");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "kiln-benches",
            "--bin",
            "kiln-bench",
            "--bin",
            "kiln-bench-estimators",
        ])
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(format!("building kiln-bench failed ({s})")),
        Err(e) => return Err(format!("cannot run cargo: {e}")),
    }
    // The CLI, for the `kiln run --bench` row.
    match Command::new(env!("CARGO")).args(["build", "--release", "--quiet", "-p", "kiln", "--bin", "kiln"]).status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("building kiln (the CLI) failed ({s})")),
        Err(e) => Err(format!("cannot run cargo: {e}")),
    }
}

/// `kiln run --bench` of `benches/src/kernels.rs`'s `axpby` on `cli_x.npy` / `cli_y.npy`
/// (written by the baselines): the median milliseconds of its calls, each returning a new
/// array, as the CLI prints them.
fn run_cli(root: &Path, target: &Path, data: &Path, quick: bool) -> Result<f64, String> {
    let exe = target.join("release").join(if cfg!(windows) { "kiln.exe" } else { "kiln" });
    let kernels = root.join("benches").join("src").join("kernels.rs");
    let arg = |name: &str, file: &str| format!("{name}={}", data.join(file).display());
    let runs = if quick { "5" } else { "15" };
    eprintln!("xtask bench: running kiln run --bench");
    let out = Command::new(&exe)
        .arg("run")
        .arg(&kernels)
        .args(["--kernel", "axpby", "--arg", "a=1.5", "--arg", &arg("x", "cli_x.npy")])
        .args(["--arg", "b=-0.5", "--arg", &arg("y", "cli_y.npy"), "--bench", runs])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!("kiln run failed ({})", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("bench:")).ok_or("kiln run printed no `bench:` line")?;
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("median_ms="))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no median_ms in `{line}`"))
}

/// `cargo run --release -p kiln-benches --bin kiln-bench -- <args>`, then
/// `kiln-bench-estimators` on the data the baselines wrote to `data` (its keys merged in; a
/// failure there is recorded as `kiln_estimators_error` and the kernel results kept).
fn run_kiln(args: &[String], data: &Path, logistic_iters: Option<usize>) -> Result<Results, String> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["run", "--release", "--quiet", "-p", "kiln-benches", "--bin", "kiln-bench", "--"]).args(args);
    eprintln!("xtask bench: running kiln-bench");
    let mut results = capture_json(cmd, "kiln-bench")?;
    match run_kiln_estimators(args, data, logistic_iters) {
        Ok(est) => results.extend(est),
        Err(e) => {
            results.insert("kiln_estimators_error".into(), Json::Str(e));
        }
    }
    Ok(results)
}

/// `cargo run --release -p kiln-benches --bin kiln-bench-estimators` on the baselines' data.
fn run_kiln_estimators(args: &[String], data: &Path, logistic_iters: Option<usize>) -> Result<Results, String> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["run", "--release", "--quiet", "-p", "kiln-benches", "--bin", "kiln-bench-estimators", "--"]);
    cmd.args(args.iter().filter(|a| *a == "--quick")).env("KILN_BENCH_DATA", data);
    if let Some(n) = logistic_iters {
        cmd.env("KILN_BENCH_LOGISTIC_ITERS", n.to_string());
    }
    eprintln!("xtask bench: running kiln-bench-estimators");
    capture_json(cmd, "kiln-bench-estimators")
}

/// Run `cmd` with stderr shown, and parse the last stdout line that starts with `{`.
fn capture_json(mut cmd: Command, what: &str) -> Result<Results, String> {
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what} failed ({})", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or_else(|| format!("{what} printed no JSON object"))?;
    parse_flat(line).map_err(|e| format!("{what} printed bad JSON: {e}"))
}

// ---------------------------------------------------------------------------------------
// A flat JSON object parser (xtask has no dependencies).

/// Parse `{"key": value, ...}` where each value is a number, string, bool or null.
fn parse_flat(text: &str) -> Result<Results, String> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let mut out = Results::new();
    p.expect(b'{')?;
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            let key = p.string()?;
            p.expect(b':')?;
            let value = p.value()?;
            out.insert(key, value);
            match p.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(format!("expected `,` or `}}` at byte {}", p.i)),
            }
        }
    }
    match p.peek() {
        None => Ok(out),
        Some(_) => Err(format!("trailing text at byte {}", p.i)),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    /// The next non-space byte, not consumed.
    fn peek(&mut self) -> Option<u8> {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        match self.next() {
            Some(x) if x == c => Ok(()),
            _ => Err(format!("expected `{}` at byte {}", c as char, self.i)),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.s.get(self.i).is_some_and(|c| *c != b'"' && *c != b'\\') {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?);
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc = self.s.get(self.i + 1).copied();
                    self.i += 2;
                    match esc {
                        Some(b'n') => out.push('\n'),
                        Some(b't') => out.push('\t'),
                        Some(b'r') => out.push('\r'),
                        Some(b'u') => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
                            let code = u32::from_str_radix(std::str::from_utf8(hex).map_err(|e| e.to_string())?, 16)
                                .map_err(|e| format!("bad \\u escape: {e}"))?;
                            // Surrogate pairs (non-BMP characters) are not needed here.
                            out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                            self.i += 4;
                        }
                        Some(c @ (b'"' | b'\\' | b'/')) => out.push(c as char),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        _ => return Err(format!("bad escape at byte {}", self.i)),
                    }
                }
                _ => return Err("unterminated string".into()),
            }
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        match self.peek() {
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            // Python's json writes NaN and Infinity for non-finite floats.
            Some(b'N') => self.word("NaN", Json::Null),
            Some(b'I') => self.word("Infinity", Json::Null),
            Some(_) => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| b"+-.eE0123456789".contains(c)) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                t.parse::<f64>().map(Json::Num).map_err(|_| format!("bad value at byte {start}"))
            }
            None => Err("unexpected end".into()),
        }
    }

    fn word(&mut self, w: &str, v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(format!("bad value at byte {}", self.i))
        }
    }
}

// ---------------------------------------------------------------------------------------
// The table.

/// One side's results, or why there are none.
struct Side<'a>(&'a Result<Results, String>);

impl Side<'_> {
    fn num(&self, key: &str) -> Option<f64> {
        match self.0.as_ref().ok()?.get(key)? {
            Json::Num(x) => Some(*x),
            _ => None,
        }
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.0.as_ref().ok()?.get(key)? {
            Json::Str(s) => Some(s.clone()),
            Json::Num(x) => Some(format!("{x}")),
            Json::Bool(b) => Some(b.to_string()),
            Json::Null => None,
        }
    }

    /// Why `<key>_ms` is missing: the side's failure, the `<key>_error` or `<lib>_error`
    /// the side recorded, or "not measured".
    fn why_missing(&self, key: &str) -> String {
        let results = match self.0 {
            Ok(r) => r,
            Err(e) => return format!("not measured: {e}"),
        };
        let lib = key.split('_').next().unwrap_or(key);
        for k in [format!("{key}_error"), format!("{lib}_error")] {
            if let Some(Json::Str(e)) = results.get(&k) {
                return format!("not measured: {e}");
            }
        }
        "not measured".into()
    }
}

/// A measured time per element, or the reason there is none.
struct Timing {
    /// Median milliseconds and the element count they were measured on.
    ms_n: Result<(f64, f64), String>,
    /// Bandwidth, where meaningful.
    gbs: Option<f64>,
}

impl Timing {
    fn of(side: &Side<'_>, key: &str, n: Option<f64>) -> Timing {
        let ms_n = match (side.num(&format!("{key}_ms")), n) {
            (Some(ms), Some(n)) => Ok((ms, n)),
            _ => Err(side.why_missing(key)),
        };
        Timing { ms_n, gbs: side.num(&format!("{key}_gbs")) }
    }

    fn cell(&self, label: &str) -> String {
        match &self.ms_n {
            Ok((ms, n)) => {
                let gbs = self.gbs.map(|g| format!(", {g:.1} GB/s")).unwrap_or_default();
                format!("{label} ({ms:.2} ms{gbs}, n={n})")
            }
            Err(e) => format!("{label}: {e}"),
        }
    }
}

/// One row of the table.
struct Row {
    bench: String,
    kiln: String,
    reference: String,
    ratio: String,
    target: String,
    result: String,
}

/// A throughput row: kiln's speed over the reference's, per element, against `target`.
fn speed_row(bench: &str, kiln: &Timing, interp: bool, reference: &Timing, ref_label: &str, target: f64) -> Row {
    let (ratio, result) = match (&kiln.ms_n, &reference.ms_n) {
        (Ok((km, kn)), Ok((rm, rn))) => {
            let r = (rm / rn) / (km / kn);
            let verdict = if interp {
                "n/a: kiln ran on the interpreter".to_string()
            } else if target <= 0.0 {
                // Shown for comparison, with no target to meet or miss.
                "-".to_string()
            } else if r >= target {
                "met".to_string()
            } else {
                format!("missed by {:.0}%", (1.0 - r / target) * 100.0)
            };
            let digits = if r < 0.1 { 4 } else { 2 };
            (format!("{r:.digits$}x"), verdict)
        }
        _ => ("-".into(), "not measured".into()),
    };
    Row {
        bench: bench.into(),
        kiln: kiln.cell("kiln"),
        reference: reference.cell(ref_label),
        ratio,
        target: if target > 0.0 { format!(">= {target}x") } else { "-".into() },
        result,
    }
}

/// The report: a header saying what ran where, the ratio table and the compile latencies.
fn report(kiln: &Result<Results, String>, py: &Result<Results, String>) -> String {
    let (k, p) = (Side(kiln), Side(py));
    let device = k.text("kiln_device").unwrap_or_else(|| "-".into());
    let interp = device != "cpu";
    let (n, kn, knn, pn, pnn) = (k.num("n"), k.num("kiln_n"), k.num("kiln_nearest_n"), p.num("n"), p.num("nearest_n"));
    let (kmm, pmm) = (k.num("kiln_matmul_n3"), p.num("matmul_n3"));
    let (ksn, psn) = (k.num("kiln_sort_n"), p.num("sort_n"));
    let (krbf, prbf) = (k.num("kiln_rbf_n3"), p.num("rbf_n3"));
    let kt = |key: &str, n: Option<f64>| Timing::of(&k, key, n);
    let pt = |key: &str, n: Option<f64>| Timing::of(&p, key, n);
    let matmul = |dt: &str| {
        let (kiln, numpy) = (kt(&format!("kiln_matmul_{dt}"), kmm), pt(&format!("numpy_matmul_{dt}"), pmm));
        speed_row(&format!("a.dot(&b) {dt}"), &kiln, interp, &numpy, "numpy a @ b", 0.9)
    };

    let gram = |d: usize| {
        let key = |side: &str| format!("{side}gram_d{d}");
        let (kiln, numpy) = (
            kt(&key("kiln_"), k.num(&format!("kiln_gram_d{d}_nd2"))),
            pt(&key("numpy_"), p.num(&format!("gram_d{d}_nd2"))),
        );
        speed_row(&format!("x.t().dot(&x) 200k x {d} f32"), &kiln, interp, &numpy, "numpy X.T @ X", 1.0)
    };

    let rows = [
        // The triad writes into an array it already has; so does `axpby::into` (issue 3's
        // target). A new output array first costs the kernel zeroing its fresh pages: that
        // row is shown without a target, beside "triad, fresh output" (the same cost).
        speed_row("a*x + b*y into out", &kt("kiln_axpby_into", kn), interp, &kt("triad", n), "STREAM triad", 0.9),
        speed_row("a*x + b*y, new output", &kt("kiln_axpby", kn), interp, &kt("triad", n), "STREAM triad", 0.0),
        // Issue 16: a new output within 1.25x (>= 0.8x) of writing into an existing array.
        speed_row("a*x + b*y, new output", &kt("kiln_axpby", kn), interp, &kt("kiln_axpby_into", kn), "kiln into", 0.8),
        speed_row(
            "a*x + b*y, new output, `kiln run --bench`",
            &kt("cli_axpby", kn),
            interp,
            &kt("kiln_axpby_into", kn),
            "kiln into",
            0.8,
        ),
        // The same with the pool off: fresh pages from the system allocator.
        speed_row(
            "a*x + b*y, new output, pool off",
            &kt("kiln_axpby_system", kn),
            interp,
            &kt("kiln_axpby_into", kn),
            "kiln into",
            0.0,
        ),
        speed_row("a*x + b*y", &kt("kiln_axpby", kn), interp, &pt("numba_axpby", pn), "numba prange", 1.0),
        speed_row("a*x + b*y", &kt("kiln_axpby", kn), interp, &pt("numpy_axpby", pn), "numpy", 2.0),
        speed_row("a*x + b*y", &kt("kiln_axpby", kn), interp, &pt("numexpr_axpby", pn), "numexpr", 0.0),
        speed_row(
            "a*x + b*y, pool off",
            &kt("kiln_axpby_system", kn),
            interp,
            &kt("triad_alloc", n),
            "triad, fresh output",
            0.0,
        ),
        speed_row("x.sum()", &kt("kiln_sum", kn), interp, &kt("read", n), "read loop", 0.9),
        speed_row("x.sum()", &kt("kiln_sum", kn), interp, &pt("numpy_sum", pn), "numpy", 1.0),
        speed_row("x.exp() * y.sin()", &kt("kiln_exp_sin", kn), interp, &pt("numpy_exp_sin", pn), "numpy", 1.0),
        speed_row("nearest", &kt("kiln_nearest", knn), interp, &pt("sklearn_nearest", pnn), "scikit-learn", 1.0),
        // Issue 15: a scan at memory speed, a stable argsort within 2x, a scatter-add.
        speed_row("x.cumsum(Axis(0)) f32", &kt("kiln_cumsum", kn), interp, &pt("numpy_cumsum", pn), "numpy", 1.0),
        speed_row("x.cumsum(Axis(0)) f32", &kt("kiln_cumsum", kn), interp, &kt("triad", n), "STREAM triad", 0.0),
        speed_row(
            "x.argsort_axis(Axis(0)) 1M f32",
            &kt("kiln_argsort", ksn),
            interp,
            &pt("numpy_argsort_stable", psn),
            "numpy kind=stable",
            0.5,
        ),
        speed_row(
            "x.argsort_axis(Axis(0)) 1M f32",
            &kt("kiln_argsort", ksn),
            interp,
            &pt("numpy_argsort", psn),
            "numpy",
            0.0,
        ),
        speed_row("bincount(&labels, 64)", &kt("kiln_bincount", kn), interp, &pt("numpy_bincount", pn), "numpy", 1.0),
        // n = multiply-adds (2048^3 on the CPU): time per multiply-add, issue 16's target.
        matmul("f32"),
        matmul("f64"),
        // n = multiply-adds (200k * d * d on the CPU): a split-K vendor GEMM vs numpy's syrk-less
        // `X.T @ X` (OpenBLAS sgemm).
        gram(32),
        gram(300),
        // n = terms `(i, j, l)` (2048^3): the RBF kernel matrix as one fused contraction vs
        // numpy's GEMM + passes + exp (scikit-learn's `rbf_kernel` recipe), vs scikit-learn
        // itself (shown), and vs numpy's plain sgemm `a @ b` of the same size: the fraction of
        // OpenBLAS's sgemm rate (issue 16 item 2's 0.4x).
        speed_row(
            "fused RBF kernel matrix 2048^3 f32",
            &kt("kiln_rbf", krbf),
            interp,
            &pt("numpy_rbf", prbf),
            "numpy GEMM + exp",
            1.0,
        ),
        speed_row(
            "fused RBF kernel matrix 2048^3 f32",
            &kt("kiln_rbf", krbf),
            interp,
            &pt("sklearn_rbf", prbf),
            "scikit-learn rbf_kernel",
            0.0,
        ),
        speed_row(
            "fused RBF kernel matrix 2048^3 f32",
            &kt("kiln_rbf", krbf),
            interp,
            &pt("numpy_matmul_f32", pmm),
            "numpy sgemm a @ b",
            0.4,
        ),
        // The same matrix as a kiln kernel written in scikit-learn's GEMM form (the vendor
        // call + fused passes), for comparison.
        speed_row(
            "RBF kernel matrix 2048^3 f32, written as x.dot(&y.t()) + norms",
            &kt("kiln_rbf_gemm", krbf),
            interp,
            &pt("numpy_rbf", prbf),
            "numpy GEMM + exp",
            0.0,
        ),
        // n = elements (4096^2 on the CPU).
        speed_row(
            "softmax over rows 4096 x 4096 f32",
            &kt("kiln_softmax", k.num("kiln_softmax_n")),
            interp,
            &pt("numpy_softmax", p.num("softmax_n")),
            "numpy",
            1.0,
        ),
    ];

    let (ken, pen) = (k.num("kiln_est_n"), p.num("est_n"));
    let est = |name: &str, kk: &str, pk: &str| speed_row(name, &kt(kk, ken), interp, &pt(pk, pen), "scikit-learn", 1.0);
    let est_rows = [
        est("StandardScaler.fit_transform", "kiln_standard_scaler", "sk_standard_scaler"),
        est("Ridge.fit", "kiln_ridge", "sk_ridge"),
        est("PCA.fit (covariance-eigh, 8)", "kiln_pca", "sk_pca"),
        est("LinearDiscriminantAnalysis.fit (svd, 4 classes)", "kiln_lda", "sk_lda"),
        est("KMeans.fit (k=16, 50 Lloyd iters)", "kiln_kmeans", "sk_kmeans"),
        est("LogisticRegression.fit (lbfgs, max_iter = scikit-learn's n_iter)", "kiln_logistic", "sk_logistic"),
        // Each lbfgs stops on its own when the objective stalls, so the fits above may run
        // different iteration counts: this row compares the time per iteration (n = iterations).
        speed_row(
            "LogisticRegression.fit per lbfgs iteration",
            &kt("kiln_logistic", k.num("kiln_logistic_n_iter")),
            interp,
            &pt("sk_logistic", p.num("sk_logistic_n_iter")),
            "scikit-learn",
            1.0,
        ),
        // Its own data (100k x 16 f64; n = rows): 8 full-covariance components, 10 EM iterations.
        speed_row(
            "GaussianMixture.fit (100k x 16 f64, 8 full, 10 EM iters)",
            &kt("kiln_gmm", k.num("kiln_gmm_n")),
            interp,
            &pt("sk_gmm", p.num("gmm_n")),
            "scikit-learn",
            1.0,
        ),
        // n = training rows x queries (the distances each side evaluates).
        speed_row(
            "KNeighborsClassifier.predict (k=10, brute; 100k x 20k queries, an eighth of each in quick mode)",
            &kt("kiln_knn", k.num("kiln_knn_n").zip(k.num("kiln_knn_q")).map(|(a, b)| a * b)),
            interp,
            &pt("sk_knn", p.num("knn_n").zip(p.num("knn_q")).map(|(a, b)| a * b)),
            "scikit-learn",
            1.0,
        ),
    ];

    let mut s = String::from("# kiln benchmark report (`cargo xtask bench`)\n\n");
    s += &format!("- kiln device: **{device}**");
    if let Some(note) = k.text("kiln_device_note") {
        s += &format!(" ({note})");
    }
    s += "\n";
    s += &format!("- threads (rayon): {}\n", k.text("threads").unwrap_or_else(|| "-".into()));
    match py {
        Ok(_) => {
            let v = |key: &str| p.text(key).unwrap_or_else(|| "not installed".into());
            s += &format!(
                "- python {}: numpy {}, numexpr {} ({} threads), numba {} ({} threads), scikit-learn {}\n",
                v("python"),
                v("numpy_version"),
                v("numexpr_version"),
                v("numexpr_threads"),
                v("numba_version"),
                v("numba_threads"),
                v("sklearn_version")
            );
            s += &format!("- BLAS (threadpoolctl, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset): {}\n", v("blas"));
        }
        Err(e) => s += &format!("- python baselines: not measured: {e}\n"),
    }
    s += "- ratio = kiln's speed / the reference's (time per element), so higher is better for kiln\n";
    if interp {
        s += "- kiln ran on the interpreter (`nearest` at a smaller n): ratios compare time per element, \
              and the targets are for `Device::Cpu`\n";
    }
    s += "\n| benchmark | kiln | reference | ratio | target | result |\n|---|---|---|---|---|---|\n";
    for r in &rows {
        s += &format!("| {} | {} | {} | {} | {} | {} |\n", r.bench, r.kiln, r.reference, r.ratio, r.target, r.result);
    }
    s += &compile_rows(&k, &p, interp);
    s += &format!(
        "\n## Estimators: {} x {} f32 (goal 2x)\n\n",
        k.num("kiln_est_n").map_or("-".into(), |v| v.to_string()),
        k.num("kiln_est_d").map_or("-".into(), |v| v.to_string())
    );
    if let Some(e) = k.text("kiln_estimators_error") {
        s += &format!("- kiln estimators: not measured: {e}\n");
    }
    if let Some(r) = k.num("estimator_rounds") {
        s += &format!(
            "- {r} rounds, alternating scikit-learn and kiln; each side's time is its best median over the \
             rounds (this shared machine's speed drifts by up to 1.5x between minutes)\n"
        );
    }
    let iters = |key: &str, side: &Side<'_>| side.num(key).map_or("-".into(), |v| v.to_string());
    s += &format!(
        "- iterations: KMeans kiln {} / scikit-learn {}; LogisticRegression kiln {} / scikit-learn {}\n\n",
        iters("kiln_kmeans_n_iter", &k),
        iters("sk_kmeans_n_iter", &p),
        iters("kiln_logistic_n_iter", &k),
        iters("sk_logistic_n_iter", &p)
    );
    s += "| benchmark | kiln | reference | ratio | target | result |\n|---|---|---|---|---|---|\n";
    for r in &est_rows {
        s += &format!("| {} | {} | {} | {} | {} | {} |\n", r.bench, r.kiln, r.reference, r.ratio, r.target, r.result);
    }
    s += &tuning_rows(&k, &p, interp);
    s
}

/// The tuning workload's section (issues 17 and 18): its estimators and one candidate of the
/// search, each against scikit-learn on the same data, then the candidates' per-step times.
fn tuning_rows(k: &Side<'_>, p: &Side<'_>, interp: bool) -> String {
    let kt = |key: &str, n: Option<f64>| Timing::of(k, key, n);
    let pt = |key: &str, n: Option<f64>| Timing::of(p, key, n);
    let row = |name: &str, key: &str, kn: Option<f64>, pn: Option<f64>, target: f64| {
        speed_row(name, &kt(&format!("kiln_{key}"), kn), interp, &pt(&format!("sk_{key}"), pn), "scikit-learn", target)
    };
    let (tk, tp) = (k.num("kiln_tune_rows"), p.num("tune_rows"));
    let rows = [
        row(
            "Nystroem.fit_transform (rbf, 300 components, x 32 f32)",
            "nystroem",
            k.num("kiln_nys_n"),
            p.num("nys_n"),
            1.0,
        ),
        row("RidgeCV.fit (x 300 f32, 13 alphas, GCV)", "ridge_cv", k.num("kiln_rcv_n"), p.num("rcv_n"), 1.0),
        row("SplineTransformer.fit_transform (x 2 f32, n_knots 50, degree 3)", "spline", tk, tp, 1.0),
        row("GaussianNB.fit + predict (x 32 f32, 4 classes)", "gaussian_nb", k.num("kiln_est_n"), p.num("est_n"), 1.0),
        row(
            "candidate: spline(20, 3) -> Nystroem(rbf 0.1, 300) -> RidgeCV, fit 80% + R2 20%",
            "tune_c300",
            tk,
            tp,
            1.0,
        ),
        row("candidate: spline(20, 3) -> Nystroem(rbf 0.1, 10) -> RidgeCV, fit 80% + R2 20%", "tune_c10", tk, tp, 1.0),
    ];
    let mut s = format!(
        "\n## The tuning workload's estimators (issues 17, 18; goal 2x)\n\n- n: Nystroem {} rows, RidgeCV {} rows, \
         SplineTransformer and the candidates {} rows (x uniform on [-pi, pi]^2)\n\n",
        k.num("kiln_nys_n").map_or("-".into(), |v| v.to_string()),
        k.num("kiln_rcv_n").map_or("-".into(), |v| v.to_string()),
        tk.map_or("-".into(), |v| v.to_string()),
    );
    s += "| benchmark | kiln | reference | ratio | target | result |\n|---|---|---|---|---|---|\n";
    for r in &rows {
        s += &format!("| {} | {} | {} | {} | {} | {} |\n", r.bench, r.kiln, r.reference, r.ratio, r.target, r.result);
    }
    s += "\n| candidate step (median ms) | kiln | scikit-learn |\n|---|---|---|\n";
    let ms = |side: &Side<'_>, key: &str| side.num(key).map_or("-".into(), |v| format!("{v:.1}"));
    for label in ["c300", "c10"] {
        for step in ["spline", "nystroem", "ridge_cv", "score"] {
            s += &format!(
                "| {label}: {step} | {} | {} |\n",
                ms(k, &format!("kiln_tune_{label}_{step}_ms")),
                ms(p, &format!("sk_tune_{label}_{step}_ms"))
            );
        }
        s += &format!(
            "| {label}: test R2 | {} | {} |\n",
            ms_r2(k, &format!("kiln_tune_{label}_r2")),
            ms_r2(p, &format!("sk_tune_{label}_r2"))
        );
    }
    s += &format!(
        "| RidgeCV alpha_ chosen | {} | {} |\n",
        k.num("kiln_ridge_cv_alpha").map_or("-".into(), |v| format!("{v:e}")),
        p.num("sk_ridge_cv_alpha").map_or("-".into(), |v| format!("{v:e}"))
    );
    s
}

/// An R2 score cell (4 decimals), or "-".
fn ms_r2(side: &Side<'_>, key: &str) -> String {
    side.num(key).map_or("-".into(), |v| format!("{v:.4}"))
}

/// The compile-latency section: the median over kernels against its 1 ms target and
/// numba's first call, then each kernel.
fn compile_rows(k: &Side<'_>, p: &Side<'_>, interp: bool) -> String {
    let mut s =
        String::from("\n| compile latency | kiln | numba first call (compile + run) | ratio | target | result |\n");
    s += "|---|---|---|---|---|---|\n";
    let numba = p.num("numba_first_call_ms");
    let numba_cell = numba.map(|m| format!("{m:.1} ms")).unwrap_or_else(|| p.why_missing("numba_first_call"));
    match k.num("kiln_compile_median_ms") {
        Some(med) => {
            let ratio = numba.map(|m| format!("{:.0}x faster", m / med)).unwrap_or_else(|| "-".into());
            let result = if interp {
                "n/a: no native compile on the interpreter".into()
            } else if med <= 1.0 {
                "met".into()
            } else {
                format!("missed by {:.2} ms", med - 1.0)
            };
            s += &format!("| median of 4 kernels | {med:.3} ms | {numba_cell} | {ratio} | <= 1 ms | {result} |\n");
        }
        None => {
            s += &format!(
                "| median of 4 kernels | {} | {numba_cell} | - | <= 1 ms | not measured |\n",
                k.why_missing("kiln")
            )
        }
    }
    for (name, key) in
        [("axpby", "kiln_axpby"), ("sum", "kiln_sum"), ("exp_sin", "kiln_exp_sin"), ("nearest", "kiln_nearest")]
    {
        let cell = match k.num(&format!("{key}_compile_ms")) {
            Some(ms) => {
                let lowered = k.num(&format!("{key}_lowerings")).map(|l| format!(", lowered {l} time(s)"));
                format!("{ms:.3} ms{}", lowered.unwrap_or_default())
            }
            None => k
                .text(&format!("{key}_compile_error"))
                .map(|e| format!("not measured: {e}"))
                .unwrap_or_else(|| k.why_missing(key)),
        };
        s += &format!("| {name} | {cell} | | | | |\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_flat_object_with_every_value_kind() {
        let r =
            parse_flat(r#" {"a": 1.5, "b": -2e3, "s": "x\"y\\n\u0041", "t": true, "f": false, "z": null, "q": NaN} "#)
                .expect("valid");
        assert_eq!(r["a"], Json::Num(1.5));
        assert_eq!(r["b"], Json::Num(-2000.0));
        assert_eq!(r["s"], Json::Str("x\"y\\nA".into()));
        assert_eq!(r["t"], Json::Bool(true));
        assert_eq!(r["f"], Json::Bool(false));
        assert_eq!(r["z"], Json::Null);
        assert_eq!(r["q"], Json::Null);
        assert_eq!(parse_flat("{}").expect("empty"), Results::new());
    }

    #[test]
    fn a_later_round_keeps_each_lower_timing_only() {
        let mut first: Results = [
            ("sk_kmeans_ms".to_string(), Json::Num(300.0)),
            ("kiln_kmeans_ms".to_string(), Json::Num(250.0)),
            ("sk_kmeans_n_iter".to_string(), Json::Num(50.0)),
        ]
        .into_iter()
        .collect();
        let again: Results = [
            ("sk_kmeans_ms".to_string(), Json::Num(280.0)),
            ("kiln_kmeans_ms".to_string(), Json::Num(260.0)),
            ("sk_kmeans_n_iter".to_string(), Json::Num(12.0)),
            ("sk_new_ms".to_string(), Json::Num(1.0)),
        ]
        .into_iter()
        .collect();
        keep_best(&mut first, again);
        assert_eq!(first.get("sk_kmeans_ms"), Some(&Json::Num(280.0)));
        assert_eq!(first.get("kiln_kmeans_ms"), Some(&Json::Num(250.0)));
        assert_eq!(first.get("sk_kmeans_n_iter"), Some(&Json::Num(50.0)), "only timings change");
        assert_eq!(first.get("sk_new_ms"), None, "a key the first round lacks is not added");
    }

    #[test]
    fn rejects_malformed_objects() {
        for bad in [r#"{"a": }"#, r#"{"a" 1}"#, r#"{"a": 1"#, r#"{"a": 1} x"#, r#"{"a": "x}"#, "[1]", ""] {
            assert!(parse_flat(bad).is_err(), "{bad}");
        }
    }

    fn side(pairs: &[(&str, Json)]) -> Result<Results, String> {
        Ok(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn ratio_is_time_per_element_of_reference_over_kiln() {
        // kiln: 10 ms for 1000 elements; reference: 40 ms for 2000 -> kiln is 2x faster.
        let k = side(&[("kiln_axpby_ms", Json::Num(10.0))]);
        let r = side(&[("numpy_axpby_ms", Json::Num(40.0))]);
        let kt = Timing::of(&Side(&k), "kiln_axpby", Some(1000.0));
        let rt = Timing::of(&Side(&r), "numpy_axpby", Some(2000.0));
        let row = speed_row("a*x + b*y", &kt, false, &rt, "numpy", 2.0);
        assert_eq!(row.ratio, "2.00x");
        assert_eq!(row.result, "met");
        let row = speed_row("a*x + b*y", &kt, false, &rt, "numpy", 2.5);
        assert_eq!(row.result, "missed by 20%");
        let row = speed_row("a*x + b*y", &kt, true, &rt, "numpy", 2.0);
        assert!(row.result.contains("interpreter"), "{}", row.result);
    }

    #[test]
    fn fused_rbf_rows_read_off_the_fraction_of_numpys_sgemm_rate() {
        let k = side(&[
            ("kiln_device", Json::Str("cpu".into())),
            ("kiln_rbf_n3", Json::Num(8.0)),
            ("kiln_rbf_ms", Json::Num(100.0)),
            ("kiln_softmax_n", Json::Num(16.0)),
            ("kiln_softmax_ms", Json::Num(2.0)),
        ]);
        let p = side(&[
            ("rbf_n3", Json::Num(8.0)),
            ("numpy_rbf_ms", Json::Num(150.0)),
            ("matmul_n3", Json::Num(8.0)),
            ("numpy_matmul_f32_ms", Json::Num(30.0)),
            ("softmax_n", Json::Num(16.0)),
            ("numpy_softmax_ms", Json::Num(3.0)),
        ]);
        let text = report(&k, &p);
        let row = |bench: &str, reference: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("| {bench} |")) && l.contains(reference))
                .unwrap_or_else(|| panic!("no row {bench} / {reference} in {text}"))
                .to_string()
        };
        let rbf = "fused RBF kernel matrix 2048^3 f32";
        assert!(row(rbf, "numpy GEMM + exp").ends_with("| 1.50x | >= 1x | met |"), "{text}");
        assert!(row(rbf, "numpy sgemm a @ b").ends_with("| 0.30x | >= 0.4x | missed by 25% |"), "{text}");
        assert!(row("softmax over rows 4096 x 4096 f32", "numpy").ends_with("| 1.50x | >= 1x | met |"), "{text}");
    }

    #[test]
    fn missing_results_say_why_and_the_rest_still_reports() {
        let k = side(&[
            ("kiln_device", Json::Str("cpu".into())),
            ("n", Json::Num(100.0)),
            ("kiln_n", Json::Num(100.0)),
            ("kiln_axpby_into_ms", Json::Num(1.0)),
            ("triad_ms", Json::Num(1.0)),
            ("kiln_sum_error", Json::Str("unsupported op".into())),
        ]);
        let p: Result<Results, String> = Err("pip could not install numba".into());
        let text = report(&k, &p);
        assert!(
            text.contains(
                "| a*x + b*y into out | kiln (1.00 ms, n=100) | STREAM triad (1.00 ms, n=100) | 1.00x | >= 0.9x | met |"
            ),
            "{text}"
        );
        assert!(text.contains("kiln: not measured: unsupported op"), "{text}");
        assert!(text.contains("numba prange: not measured: pip could not install numba"), "{text}");
        assert!(text.contains("python baselines: not measured: pip could not install numba"), "{text}");
    }
}
