//! The `kiln-fuzz` binary's contract, as `cargo xtask fuzz` relies on it: a target runs for the
//! time it is given and reports its cases and crashes on one line; an unknown target is a usage
//! error. (This test also makes `cargo test --workspace` build the binary with the test build's
//! features, so `cargo xtask test` fuzzes without a second build.)

use std::process::Command;

#[test]
fn a_target_runs_for_its_seconds_and_reports_cases_and_crashes() {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-fuzz"))
        .args(["--target", "npy", "--seconds", "0.2", "--seed", "19"])
        .output()
        .expect("the kiln-fuzz binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "kiln-fuzz failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let line =
        text.lines().find(|l| l.starts_with("fuzz npy: ")).unwrap_or_else(|| panic!("no report line in {text:?}"));
    let cases: u64 = line["fuzz npy: ".len()..].split(' ').next().and_then(|n| n.parse().ok()).expect("a case count");
    assert!(cases > 0, "no case ran in 0.2 s: {line}");
    assert!(line.contains(", 0 crashes (seed 19, 0.2 s)"), "{line}");
}

#[test]
fn an_unknown_target_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-fuzz"))
        .args(["--target", "no-such-target", "--seconds", "0.1"])
        .output()
        .expect("the kiln-fuzz binary runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: kiln-fuzz"));
}

#[test]
fn the_control_target_s_deliberate_panics_are_reported_as_crashes_and_replay() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kiln-fuzz")).args(args).output().expect("the kiln-fuzz binary runs");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, text) = run(&["--target", "control", "--seconds", "0.2", "--seed", "3"]);
    assert!(!ok, "a run with crashes must fail: {text}");
    let crash = text.lines().find(|l| l.starts_with("fuzz control: CRASH")).expect("a crash line");
    let summary = text.lines().find(|l| l.contains(" cases, ")).expect("a summary line");
    let count = |word: &str| -> u64 {
        let words: Vec<&str> = summary.split([' ', ',']).filter(|w| !w.is_empty()).collect();
        words.iter().position(|w| *w == word).and_then(|i| words[i - 1].parse().ok()).expect("a count")
    };
    let (cases, crashes) = (count("cases"), count("crashes"));
    assert!(crashes > 0 && crashes < cases, "about one case in four panics: {summary}");
    // The crash line names the case seed; replaying it panics again.
    let seed = crash.split("--replay ").nth(1).and_then(|r| r.split(';').next()).expect("a replay seed");
    let (ok, text) = run(&["--target", "control", "--replay", seed]);
    assert!(!ok && text.contains("1 cases, 1 crashes"), "{text}");
}
