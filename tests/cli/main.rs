//! The `kiln` command as a user runs it: inspect and run kernels from a source file, `.npy`
//! in and out (C and Fortran order), and one clear error line with a non-zero exit for every
//! bad input — never a panic.

use ndarray::{Array1, Array2, ShapeBuilder};
use ndarray_npy::{read_npy, write_npy};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kiln(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.args(args).env_remove("KILN_DEBUG").env_remove("KILN_DEVICE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the kiln binary runs")
}

fn kernels_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kernels.rs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failed command: non-zero exit, a single `error:` line naming `needle`, no panic.
#[track_caller]
fn assert_clean_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success; stderr: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert!(err.starts_with("error: "), "one error line: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "error should mention `{needle}`: {err}");
}

#[test]
fn inspect_emits_ir_passes_and_loops() {
    let file = kernels_file();
    let f = file.to_str().unwrap();
    let ir = kiln(&["inspect", f, "--kernel", "nearest"], &[]);
    assert!(ir.status.success(), "{}", stderr(&ir));
    assert!(stdout(&ir).contains("kernel nearest(x: f32[n, d], c: f32[k, d])"), "{}", stdout(&ir));
    assert!(stdout(&ir).contains("range_reduce sum"));

    let passes = kiln(&["inspect", f, "--kernel", "axpby", "--emit", "passes"], &[]);
    let text = stdout(&passes);
    for pass in ["check", "simplify", "schedule", "loops", "loop_simplify"] {
        assert!(text.contains(&format!("; after {pass}")), "pass {pass} listed: {text}");
    }
    assert!(text.contains("unchanged"), "a pass that did nothing says so: {text}");

    let loops = kiln(&["inspect", f, "--kernel", "standardize", "--emit", "loops", "--dtype", "f64"], &[]);
    let text = stdout(&loops);
    assert!(text.contains("program standardize") && text.contains("f64"), "{text}");
    let temps: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("temp ")).collect();
    let stats = temps.iter().filter(|l| l.ends_with("f64[x_1]")).count();
    assert_eq!(stats, 2, "mean and std are the only d-length temporaries: {text}");
    assert!(temps.iter().all(|l| !l.contains("x_0")), "nothing n-sized is materialized: {text}");

    let clif = kiln(&["inspect", f, "--kernel", "axpby", "--emit", "clif"], &[]);
    let text = stdout(&clif);
    assert!(text.contains("function") && text.contains("fadd"), "CLIF: {text}");
    let asm = kiln(&["inspect", f, "--kernel", "axpby", "--emit", "asm"], &[]);
    let text = stdout(&asm);
    assert!(text.contains("addps") || text.contains("vaddps"), "x86 vector adds in the assembly: {text}");

    let cuda = kiln(&["inspect", f, "--kernel", "nearest", "--emit", "cuda"], &[]);
    let text = stdout(&cuda);
    assert!(text.contains("__global__") && !text.contains("#include"), "CUDA C without includes: {text}");
    if std::env::var_os("KILN_CUDA_TOOLS").is_some() {
        let ptxas = kiln(&["inspect", f, "--kernel", "nearest", "--emit", "ptxas", "--arch", "sm_80"], &[]);
        let text = stdout(&ptxas);
        assert!(ptxas.status.success(), "{}", stderr(&ptxas));
        assert!(text.contains("sm_80") && text.contains("spill_stores=0 spill_loads=0"), "{text}");
        assert!(text.contains("threads=256 occupancy=") && text.contains(" warps ("), "{text}");
    } else {
        eprintln!("skipped: --emit ptxas needs the CUDA tools (KILN_CUDA_TOOLS, set by `cargo xtask test`)");
    }

    let all = kiln(&["inspect", f], &[]);
    assert!(stdout(&all).matches("kernel ").count() >= 3, "every kernel of the file");
}

#[test]
fn run_axpby_reads_and_writes_npy() {
    let dir = tempfile::tempdir().unwrap();
    let x = Array1::from_shape_fn(11, |i| i as f32 * 0.5);
    let y = Array1::from_shape_fn(11, |i| 10.0 - i as f32);
    let (xp, yp, zp) = (dir.path().join("x.npy"), dir.path().join("y.npy"), dir.path().join("z.npy"));
    write_npy(&xp, &x).unwrap();
    write_npy(&yp, &y).unwrap();
    let f = kernels_file();
    let o = kiln(
        &[
            "run",
            f.to_str().unwrap(),
            "--kernel",
            "axpby",
            "--arg",
            "a=2",
            &format!("--arg=x={}", xp.display()),
            "--arg",
            "b=-0.5",
            &format!("--arg=y={}", yp.display()),
            "--out",
            zp.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let z: Array1<f32> = read_npy(&zp).unwrap();
    let want = Array1::from_shape_fn(11, |i| 2.0 * x[i] - 0.5 * y[i]);
    assert_eq!(z, want);
}

#[test]
fn run_generic_kernel_on_fortran_order_input_and_tuple_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Array2::<f64>::zeros((6, 3).f());
    x.indexed_iter_mut().for_each(|((i, j), v)| *v = (i * 3 + j * j) as f64);
    let xp = dir.path().join("x.npy");
    write_npy(&xp, &x).unwrap();
    let (op, f) = (dir.path().join("o.npy"), kernels_file());
    let o = kiln(
        &[
            "run",
            f.to_str().unwrap(),
            "--kernel",
            "standardize",
            "--arg",
            &format!("x={}", xp.display()),
            "--out",
            op.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let z: Array2<f64> = read_npy(&op).unwrap();
    for j in 0..3 {
        let col: Vec<f64> = (0..6).map(|i| x[[i, j]]).collect();
        let mean = col.iter().sum::<f64>() / 6.0;
        let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 6.0).sqrt();
        for i in 0..6 {
            assert!((z[[i, j]] - (x[[i, j]] - mean) / std).abs() < 1e-12);
        }
    }

    let c = Array2::from_shape_fn((2, 3), |(i, j)| (i * 10 + j) as f32);
    let x32 = x.mapv(|v| v as f32);
    let (x32p, cp) = (dir.path().join("x32.npy"), dir.path().join("c.npy"));
    write_npy(&x32p, &x32).unwrap();
    write_npy(&cp, &c).unwrap();
    let (l, d) = (dir.path().join("l.npy"), dir.path().join("d.npy"));
    let o = kiln(
        &[
            "run",
            f.to_str().unwrap(),
            "--kernel",
            "nearest",
            "--arg",
            &format!("x={}", x32p.display()),
            "--arg",
            &format!("c={}", cp.display()),
            "--out",
            l.to_str().unwrap(),
            "--out",
            d.to_str().unwrap(),
            "--bench",
            "3",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bench = stdout(&o);
    assert!(bench.starts_with("bench: compile_ms=") && bench.contains(" runs=3"), "{bench}");
    let labels: Array1<i64> = read_npy(&l).unwrap();
    for i in 0..6 {
        let dist = |k: usize| (0..3).map(|j| (x32[[i, j]] - c[[k, j]]).powi(2)).sum::<f32>();
        assert_eq!(labels[i], if dist(1) < dist(0) { 1 } else { 0 });
    }
}

#[test]
fn bad_inputs_are_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = kernels_file();
    let f = f.to_str().unwrap();
    let xp = dir.path().join("x.npy");
    write_npy(&xp, &Array1::<f32>::zeros(4)).unwrap();
    let yp = dir.path().join("y.npy");
    write_npy(&yp, &Array1::<f32>::zeros(5)).unwrap();
    let ip = dir.path().join("i.npy");
    write_npy(&ip, &Array1::<i64>::zeros(4)).unwrap();
    let junk = dir.path().join("junk.npy");
    std::fs::write(&junk, b"not an npy file").unwrap();
    let x = format!("x={}", xp.display());

    let run = |extra: &[&str]| {
        let mut args = vec!["run", f, "--kernel", "axpby"];
        args.extend_from_slice(extra);
        kiln(&args, &[])
    };
    assert_clean_error(&run(&["--arg", "a=1", "--arg", &x, "--arg", "b=1"]), "missing `--arg y=");
    let y_bad = format!("y={}", yp.display());
    assert_clean_error(&run(&["--arg", "a=1", "--arg", &x, "--arg", "b=1", "--arg", &y_bad]), "`y`");
    let y_int = format!("y={}", ip.display());
    assert_clean_error(&run(&["--arg", "a=1", "--arg", &x, "--arg", "b=1", "--arg", &y_int]), "parameter `y`");
    let y_junk = format!("y={}", junk.display());
    assert_clean_error(&run(&["--arg", "a=1", "--arg", &x, "--arg", "b=1", "--arg", &y_junk]), "junk.npy");
    assert_clean_error(
        &run(&["--arg", "a=1", "--arg", &x, "--arg", "b=1", "--arg", "y=/nonexistent.npy"]),
        "cannot open",
    );
    let y_ok = format!("y={}", xp.display());
    assert_clean_error(&run(&["--arg", "a=one", "--arg", &x, "--arg", "b=1", "--arg", &y_ok]), "not a f32 value");
    assert_clean_error(&run(&["--arg", "q=1"]), "no parameter `q`");
    assert_clean_error(&kiln(&["run", f, "--kernel", "nope"], &[]), "no kernel `nope`");
    assert_clean_error(&kiln(&["inspect", "/nonexistent.rs"], &[]), "cannot read");

    let bad_src = dir.path().join("bad.rs");
    std::fs::write(
        &bad_src,
        "use kiln::prelude::*;\n#[kernel]\nfn k(x: Array1<f32>) -> Array1<f32> {\n    x.frobnicate()\n}\n",
    )
    .unwrap();
    let o = kiln(&["inspect", bad_src.to_str().unwrap()], &[]);
    assert_clean_error(&o, "bad.rs:4:");
    let syntax = dir.path().join("syntax.rs");
    std::fs::write(&syntax, "fn (").unwrap();
    assert_clean_error(&kiln(&["inspect", syntax.to_str().unwrap()], &[]), "syntax.rs");
}

/// The bytes of a version 1.0 `.npy` file with header dictionary `dict` and `data` after it.
fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{dict}\n").into_bytes();
    while (10 + header.len()) % 64 != 0 {
        header.insert(header.len() - 1, b' ');
    }
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header);
    out.extend(data);
    out
}

#[test]
fn hostile_npy_headers_are_one_error_line() {
    // A 150-byte file claiming 4e12 elements used to abort `kiln run` (exit 134, "memory
    // allocation of 16000000000000 bytes failed"), read as f32, as f64 and as a 2-D array.
    let dir = tempfile::tempdir().unwrap();
    let f = kernels_file();
    let f = f.to_str().unwrap();
    let files = [
        ("huge_f32.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000000,), }", "axpby", "x"),
        ("huge_f64.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000000,), }", "axpby", "x"),
        ("huge_2d.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2000000, 2000000), }", "nearest", "x"),
        ("short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }", "axpby", "x"),
        ("complex.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (4,), }", "axpby", "x"),
    ];
    for (name, dict, kernel, param) in files {
        let path = dir.path().join(name);
        let bytes = npy_bytes(dict, &[0; 32]);
        assert!(bytes.len() <= 160, "{name}: a small file");
        std::fs::write(&path, &bytes).unwrap();
        let arg = format!("{param}={}", path.display());
        let ok = dir.path().join("ok.npy");
        write_npy(&ok, &Array2::<f32>::zeros((2, 2))).unwrap();
        let c = format!("c={}", ok.display());
        let mut args = vec!["run", f, "--kernel", kernel, "--arg", &arg];
        if kernel == "axpby" {
            args.extend(["--arg", "a=1", "--arg", "b=1", "--arg", "y=1"]);
        } else {
            args.extend(["--arg", &c]);
        }
        let o = kiln(&args, &[]);
        assert_eq!(o.status.code(), Some(1), "{name}: exit 1, not an abort; stderr: {}", stderr(&o));
        assert_clean_error(&o, name);
        let needle = if name == "complex.npy" { "unsupported dtype" } else { "header claims" };
        assert!(stderr(&o).contains(needle), "{name}: {}", stderr(&o));
    }
}

#[test]
fn kiln_debug_reports_kernels_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let xp = dir.path().join("x.npy");
    write_npy(&xp, &Array1::<f32>::ones(3)).unwrap();
    let f = kernels_file();
    let (x, y) = (format!("x={}", xp.display()), format!("y={}", xp.display()));
    let args =
        ["run", f.to_str().unwrap(), "--kernel", "axpby", "--arg", "a=1", "--arg", &x, "--arg", "b=2", "--arg", &y];
    let one = kiln(&args, &[("KILN_DEBUG", "1")]);
    assert!(one.status.success());
    assert!(stderr(&one).contains("kernel axpby on cpu"), "{}", stderr(&one));
    assert!(stderr(&one).contains("compiled for cpu in"), "{}", stderr(&one));
    assert!(!stderr(&one).contains("after simplify"), "level 1 shows no IR");
    let two = kiln(&args, &[("KILN_DEBUG", "2")]);
    let err = stderr(&two);
    assert!(err.contains("after simplify") && err.contains("unchanged") && err.contains("program axpby"), "{err}");
    assert!(stdout(&two).contains("output 0"), "outputs print without --out");
    let mut sim_args = args.to_vec();
    sim_args.extend(["--device", "cuda-sim"]);
    let sim = kiln(&sim_args, &[]);
    assert!(sim.status.success(), "{}", stderr(&sim));
    assert!(stdout(&sim).contains("[3, 3, 3]"), "1*1 + 2*1 on the simulator: {}", stdout(&sim));
}

/// Off a terminal (stderr piped, as here), the search's progress is printed as `tracing`
/// events at `verbose >= 1` (issue 18, item 4), and the per-step time breakdown from the
/// `tracing` spans is printed and written as `step_seconds`: by the main job's binary and by
/// `kiln tune`.
#[test]
fn tune_reports_progress_and_step_times_off_a_terminal() {
    let o = Command::new(env!("CARGO_BIN_EXE_tune"))
        .args(["--rows", "300", "--n-iter", "2", "--sim-rows", "120", "--sim-n-iter", "1"])
        .env_remove("KILN_DEBUG")
        .output()
        .expect("the tune binary runs");
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "tune failed: {err}");
    assert!(err.contains("fitting 3 folds for each of 2 candidates, totalling 6 fits"), "{err}");
    assert!(err.contains("3/6 fits done (1 candidates)") && err.contains("6/6 fits done (2 candidates)"), "{err}");
    assert!(err.contains("elapsed") && err.contains("left"), "{err}");
    assert!(out.contains("time per step"), "{out}");
    for step in [
        "SplineTransformer.fit_transform",
        "SplineTransformer.transform",
        "Nystroem.fit_transform",
        "Nystroem.transform",
        "RidgeCV.fit",
        "RidgeCV.predict",
        "scoring",
        "fold gathers",
    ] {
        assert!(out.contains(step), "{step} missing from the breakdown: {out}");
    }

    let dir = std::env::temp_dir().join(format!("kiln-cli-tune-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("r.json");
    let o = kiln(&["tune", "--rows", "200", "--n-iter", "2", "--out", json.to_str().unwrap()], &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "kiln tune failed: {err}");
    assert!(err.contains("totalling 6 fits") && err.contains("6/6 fits done"), "{err}");
    assert!(err.contains("Nystroem.fit_transform"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let steps = v["step_seconds"].as_object().expect("step_seconds in the JSON");
    let total: f64 = steps.values().map(|s| s.as_f64().unwrap()).sum();
    assert!(steps.contains_key("RidgeCV.fit") && steps.contains_key("scoring"), "{steps:?}");
    assert!(total > 0.0 && steps.values().all(|s| s.as_f64().unwrap() >= 0.0), "{steps:?}");
    // verbose 0: no progress.
    let o = kiln(&["tune", "--rows", "200", "--n-iter", "1", "--verbose", "0", "--out", json.to_str().unwrap()], &[]);
    assert!(o.status.success());
    assert!(!stderr(&o).contains("fits done"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}
