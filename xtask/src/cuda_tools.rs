//! Installs the CUDA tools the test suite needs on machines without a CUDA toolkit: the pinned
//! PyPI wheels `nvidia-cuda-nvrtc` (libnvrtc) and `nvidia-cuda-nvcc` (ptxas), with
//! `pip install --no-deps --target target/cuda-tools`. A marker file records the pinned versions,
//! so later runs reuse the install and a change of pin reinstalls.
//!
//! The versions must match `kiln_cuda::tools::PINNED_WHEELS` (xtask does not depend on kiln).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The environment variable kiln reads to find the tools.
pub const TOOLS_ENV: &str = "KILN_CUDA_TOOLS";

/// The pinned wheels, `name==version`.
const WHEELS: [&str; 2] = ["nvidia-cuda-nvrtc==13.5.37", "nvidia-cuda-nvcc==13.5.37"];

/// The marker file's name inside the install directory.
const MARKER: &str = ".kiln-cuda-tools";

/// The install directory: `target/cuda-tools` at the workspace root.
pub fn install_dir() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).join("target").join("cuda-tools")
}

/// Installs the wheels unless the marker says these versions are there; returns the directory.
pub fn ensure() -> Result<PathBuf, String> {
    let dir = install_dir();
    let marker = dir.join(MARKER);
    let want = WHEELS.join("\n") + "\n";
    let libnvrtc = dir.join("nvidia/cu13/lib/libnvrtc.so.13");
    let ptxas = dir.join("nvidia/cu13/bin/ptxas");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == want) && libnvrtc.is_file() && ptxas.is_file() {
        eprintln!("xtask: cuda tools: reusing {}", dir.display());
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    eprintln!("xtask: cuda tools: pip install --no-deps --target {} {}", dir.display(), WHEELS.join(" "));
    let start = Instant::now();
    let mut last_error = String::from("no python found");
    for python in ["python3", "python"] {
        let status = Command::new(python)
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check", "--target"])
            .arg(&dir)
            .args(WHEELS)
            .status();
        match status {
            Ok(s) if s.success() => {
                if !libnvrtc.is_file() || !ptxas.is_file() {
                    return Err(format!(
                        "the wheels installed but {} or {} is missing (wheel layout changed?)",
                        libnvrtc.display(),
                        ptxas.display()
                    ));
                }
                std::fs::write(&marker, &want).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
                eprintln!("xtask: cuda tools: installed in {:.1} s", start.elapsed().as_secs_f64());
                return Ok(dir);
            }
            Ok(s) => last_error = format!("{python} -m pip failed ({s})"),
            Err(e) => last_error = format!("cannot run {python}: {e}"),
        }
    }
    Err(last_error)
}
