//! Where the CUDA tools live: `libnvrtc.so.13` (NVRTC, CUDA C to PTX/cubin) and `ptxas` (the
//! assembler whose `-v` report gives registers, spills and shared memory per kernel).
//!
//! No developer machine and no CI machine here has a CUDA toolkit, so `cargo xtask test` installs
//! the pinned PyPI wheels `nvidia-cuda-nvrtc` and `nvidia-cuda-nvcc` into `target/cuda-tools/`
//! and exports [`TOOLS_ENV`] pointing there. The search order is:
//!
//! 1. the directory named by `KILN_CUDA_TOOLS` (the wheels' `--target` directory or a toolkit root);
//! 2. `target/cuda-tools` of this workspace (what `cargo xtask test` installed);
//! 3. the system: `CUDA_PATH`/`CUDA_HOME`, `/usr/local/cuda`, then `PATH` for `ptxas`; for NVRTC the
//!    dynamic loader's own search (`LD_LIBRARY_PATH`, ld.so.cache) by soname.
//!
//! Tests that need the tools call [`tools_for_test`]: without tools they fail with the install
//! command, unless `KILN_SKIP_CUDA_TOOLS=1` turns them into a skip. Every test that skips (no
//! tools, no GPU) says so through [`skip_test`], which `cargo xtask test` counts.

pub mod ptxas;

use std::path::{Path, PathBuf};

pub use ptxas::{occupancy, ptxas_report, sm_limits, KernelResources, Occupancy, SmLimits};

/// The environment variable naming the directory where the CUDA tools were installed.
pub const TOOLS_ENV: &str = "KILN_CUDA_TOOLS";

/// The environment variable that, set to `1`, turns tests needing the CUDA tools into printed skips.
pub const SKIP_ENV: &str = "KILN_SKIP_CUDA_TOOLS";

/// The environment variable naming a directory where [`skip_test`] records each skip
/// (`cargo xtask test` sets it, then prints how many tests skipped and why).
pub const SKIP_LOG_ENV: &str = "KILN_SKIP_LOG";

/// The prefix of the line a skipped test prints and records: `kiln-skip: <test>: <reason>`.
pub const SKIP_MARKER: &str = "kiln-skip: ";

/// The NVRTC shared library's soname (CUDA 13).
pub const NVRTC_SONAME: &str = "libnvrtc.so.13";

/// The pinned wheel versions `cargo xtask test` installs (`nvidia-cuda-nvrtc`, `nvidia-cuda-nvcc`).
pub const PINNED_WHEELS: [(&str, &str); 2] = [("nvidia-cuda-nvrtc", "13.5.37"), ("nvidia-cuda-nvcc", "13.5.37")];

/// Sub-directories of a tools root where the shared libraries may be: the wheels' layout first,
/// then a toolkit's.
const LIB_DIRS: [&str; 4] = ["nvidia/cu13/lib", "lib64", "lib", "."];

/// Sub-directories of a tools root where `ptxas` may be.
const BIN_DIRS: [&str; 3] = ["nvidia/cu13/bin", "bin", "."];

/// Where the NVRTC library was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NvrtcLocation {
    /// An absolute path to `libnvrtc.so.13`, loaded by path (with `RTLD_GLOBAL`) before cudarc asks for it by name.
    Path(PathBuf),
    /// Not found in any directory: leave the search to the dynamic loader (`LD_LIBRARY_PATH`, ld.so.cache).
    Loader,
}

/// The install command printed whenever a tool is missing.
pub fn install_hint() -> String {
    let wheels: Vec<String> = PINNED_WHEELS.iter().map(|(n, v)| format!("{n}=={v}")).collect();
    format!(
        "run `cargo xtask test` (it installs the CUDA tools into target/cuda-tools and sets {TOOLS_ENV}), \
         or `pip install --no-deps --target DIR {}` and set {TOOLS_ENV}=DIR; \
         set {SKIP_ENV}=1 to skip the tests that need them",
        wheels.join(" ")
    )
}

/// The default install directory: `target/cuda-tools` at the workspace root (independent of
/// `CARGO_TARGET_DIR`, so every engineer's build finds the same install).
pub fn default_install_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().unwrap_or(manifest);
    root.join("target").join("cuda-tools")
}

/// The roots searched, in order: `KILN_CUDA_TOOLS`, the workspace install, the system toolkits.
fn roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(dir) = std::env::var_os(TOOLS_ENV).filter(|d| !d.is_empty()) {
        roots.push(PathBuf::from(dir));
    }
    roots.push(default_install_dir());
    for var in ["CUDA_PATH", "CUDA_HOME"] {
        if let Some(dir) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            roots.push(PathBuf::from(dir));
        }
    }
    roots.push(PathBuf::from("/usr/local/cuda"));
    roots
}

/// The first `root/sub/name` that is a file.
fn find_in(roots: &[PathBuf], subs: &[&str], name: &str) -> Option<PathBuf> {
    roots.iter().flat_map(|r| subs.iter().map(move |s| r.join(s).join(name))).find(|p| p.is_file())
}

/// Finds `libnvrtc.so.13`: an absolute path from the roots, else [`NvrtcLocation::Loader`].
pub fn find_nvrtc() -> NvrtcLocation {
    match find_in(&roots(), &LIB_DIRS, NVRTC_SONAME) {
        Some(p) => NvrtcLocation::Path(std::path::absolute(&p).unwrap_or(p)),
        None => NvrtcLocation::Loader,
    }
}

/// Finds `ptxas`: in the roots, else on `PATH`.
pub fn find_ptxas() -> Option<PathBuf> {
    if let Some(p) = find_in(&roots(), &BIN_DIRS, "ptxas") {
        return Some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("ptxas")).find(|p| p.is_file())
}

/// The CUDA tools a test needs, both found.
#[derive(Clone, Debug)]
pub struct Tools {
    /// Where NVRTC will be loaded from.
    pub nvrtc: NvrtcLocation,
    /// The `ptxas` executable.
    pub ptxas: PathBuf,
}

/// Whether `KILN_SKIP_CUDA_TOOLS=1` is set.
pub fn skip_requested() -> bool {
    std::env::var(SKIP_ENV).is_ok_and(|v| v == "1")
}

/// For tests that need NVRTC and `ptxas`: the tools, or `None` after printing a skip line when
/// they are missing and `KILN_SKIP_CUDA_TOOLS=1` is set.
///
/// # Panics
///
/// When a tool is missing and no skip was requested: the test fails with [`install_hint`]. That
/// is the point: "generated CUDA compiles and does not spill" must not pass silently unchecked.
pub fn tools_for_test(test: &str) -> Option<Tools> {
    let missing = |what: &str| -> Option<Tools> {
        if skip_requested() {
            skip_test(test, &format!("{what} not found and {SKIP_ENV}=1"));
            None
        } else {
            panic!("{test}: {what} not found; {}", install_hint());
        }
    };
    let nvrtc = find_nvrtc();
    if !crate::nvrtc::nvrtc_available() {
        return missing("NVRTC (libnvrtc.so.13)");
    }
    let Some(ptxas) = find_ptxas() else {
        return missing("ptxas");
    };
    Some(Tools { nvrtc, ptxas })
}

/// Says that `test` skips its checks for `reason` (no GPU, no CUDA tools): prints
/// `kiln-skip: <test>: <reason>` and, where `KILN_SKIP_LOG` names a directory, appends the same
/// line to a file of this process there. A passing test's output is hidden by the test
/// harness; the file is how `cargo xtask test` counts skips without `--nocapture`. A skip
/// that cannot be recorded is printed to stderr and does not fail the test.
pub fn skip_test(test: &str, reason: &str) {
    let line = format!("{SKIP_MARKER}{test}: {reason}");
    println!("{line}");
    if let Some(dir) = std::env::var_os(SKIP_LOG_ENV) {
        if let Err(e) = record_skip(Path::new(&dir), &line) {
            eprintln!("{SKIP_MARKER}cannot record the skip of {test} in {}: {e}", Path::new(&dir).display());
        }
    }
}

/// Appends `line` to this process's file in `dir`, with one `write_all` on a file opened for
/// appending, so the lines of tests skipping at once do not interleave.
fn record_skip(dir: &Path, line: &str) -> std::io::Result<()> {
    let path = dir.join(format!("skips-{}.txt", std::process::id()));
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    std::io::Write::write_all(&mut file, format!("{line}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_names_the_command_and_the_pinned_wheels() {
        let hint = install_hint();
        assert!(hint.contains("cargo xtask test"), "{hint}");
        assert!(hint.contains("nvidia-cuda-nvrtc==13.5.37"), "{hint}");
        assert!(hint.contains(SKIP_ENV), "{hint}");
    }

    #[test]
    fn default_dir_is_the_workspace_target() {
        let dir = default_install_dir();
        assert!(dir.ends_with("target/cuda-tools"), "{}", dir.display());
        assert!(dir.parent().and_then(Path::parent).is_some_and(|root| root.join("Cargo.toml").is_file()));
    }

    #[test]
    fn skips_are_recorded_one_line_each() {
        let tmp = std::env::temp_dir().join(format!("kiln-skip-log-test-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).expect("temp dir");
        record_skip(&tmp, "kiln-skip: a: no GPU").expect("record");
        record_skip(&tmp, "kiln-skip: b: no tools").expect("record");
        let file = tmp.join(format!("skips-{}.txt", std::process::id()));
        let text = std::fs::read_to_string(&file).expect("skip file");
        assert_eq!(text, "kiln-skip: a: no GPU\nkiln-skip: b: no tools\n");
        std::fs::remove_dir_all(&tmp).ok();
    }

    #[test]
    fn find_in_takes_the_first_existing_file() {
        let tmp = std::env::temp_dir().join(format!("kiln-tools-test-{}", std::process::id()));
        let bin = tmp.join("b").join("bin");
        std::fs::create_dir_all(&bin).expect("temp dir");
        std::fs::write(bin.join("ptxas"), b"").expect("temp file");
        let roots = [tmp.join("a"), tmp.join("b")];
        assert_eq!(find_in(&roots, &BIN_DIRS, "ptxas"), Some(bin.join("ptxas")));
        assert_eq!(find_in(&roots, &BIN_DIRS, "nvcc"), None);
        std::fs::remove_dir_all(&tmp).ok();
    }
}
