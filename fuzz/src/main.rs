//! `kiln-fuzz`: bounded, seeded fuzzing of kiln's entry points for user input, run by
//! `cargo xtask fuzz [--target T] [--seconds N] [--seed S]` (one process per target).
//!
//! Each case draws its own generator from (seed, case number), so a crash is replayed with
//! `--target T --replay CASE_SEED`. A case may end in any error; a panic is a crash: the
//! input is written to `target/fuzz-crashes/` and the run exits 1. Prints per target the
//! cases run and the crashes found.

mod mutate;
mod targets;

use kiln::ir::testgen::XorShift;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn usage() -> ExitCode {
    eprintln!("usage: kiln-fuzz --target T [--seconds N] [--seed S] [--replay CASE_SEED]");
    eprintln!("targets: {}", targets::TARGETS.join(", "));
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut target, mut seconds, mut seed, mut replay) = (None, 10.0, 1u64, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let Some(value) = it.next() else { return usage() };
        match flag.as_str() {
            "--target" => target = Some(value.clone()),
            "--seconds" => match value.parse::<f64>() {
                Ok(s) if s >= 0.0 && s.is_finite() => seconds = s,
                _ => return usage(),
            },
            "--seed" => match value.parse() {
                Ok(s) => seed = s,
                Err(_) => return usage(),
            },
            "--replay" => match value.parse::<u64>() {
                Ok(s) => replay = Some(s),
                Err(_) => return usage(),
            },
            _ => return usage(),
        }
    }
    let Some(target) = target.filter(|t| targets::TARGETS.contains(&t.as_str()) || t == targets::CONTROL) else {
        return usage();
    };

    let mut ctx = targets::Ctx::new(targets::scratch_dir(&target));
    // Panics are the findings: reported once per case below, not by the default hook.
    std::panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut cases, mut crashes) = (0u64, 0u64);
    let case_seeds: Box<dyn Iterator<Item = u64>> = match replay {
        Some(s) => Box::new(std::iter::once(s)),
        None => {
            let mut master = XorShift::new(seed);
            Box::new(std::iter::from_fn(move || Some(master.next_u64())).take_while(move |_| Instant::now() < deadline))
        }
    };
    for case_seed in case_seeds {
        let mut rng = XorShift::new(case_seed);
        let mut input = Vec::new();
        let result = catch_unwind(AssertUnwindSafe(|| targets::run_case(&target, &mut rng, &mut ctx, &mut input)));
        cases += 1;
        if let Err(payload) = result {
            crashes += 1;
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let file = save_crash(&target, case_seed, &input);
            println!("fuzz {target}: CRASH (replay with --replay {case_seed}; input {file}): {message}");
        }
    }
    let _ = std::fs::remove_dir_all(&ctx.dir);
    println!("fuzz {target}: {cases} cases, {crashes} crashes (seed {seed}, {seconds} s)");
    if crashes > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes a crashing input under `target/fuzz-crashes/`; the path, or why it could not.
fn save_crash(target: &str, case_seed: u64, input: &[u8]) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-crashes");
    let path = dir.join(format!("{target}-{case_seed}"));
    match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, input)) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("not saved: {e}"),
    }
}
