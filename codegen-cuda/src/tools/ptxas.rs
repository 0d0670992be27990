//! `ptxas -v`: assemble PTX for a real architecture and read back each kernel's resources
//! (registers, spill stores and loads, stack frame, shared memory), so tests can assert that
//! generated kernels do not spill.

use std::path::Path;
use std::process::Command;

use crate::nvrtc::{Arch, CudaError};

/// The resources `ptxas -v` reports for one kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelResources {
    /// The kernel (entry function) name.
    pub name: String,
    /// The architecture it was assembled for, as ptxas names it (`sm_90`).
    pub arch: String,
    /// Registers per thread.
    pub registers: u32,
    /// Bytes of spill stores.
    pub spill_stores: u64,
    /// Bytes of spill loads.
    pub spill_loads: u64,
    /// Bytes of stack frame per thread.
    pub stack_frame: u64,
    /// Bytes of static shared memory per block.
    pub shared_bytes: u64,
}

impl KernelResources {
    /// Whether the kernel spills registers to local memory.
    pub fn spills(&self) -> bool {
        self.spill_stores > 0 || self.spill_loads > 0
    }
}

/// Runs `ptxas -arch=<arch> -v` on `ptx` and returns the resources of every entry function.
///
/// # Errors
///
/// [`CudaError::NoPtxas`] when ptxas cannot be found, [`CudaError::Ptxas`] when it fails (with
/// its diagnostics) or reports no kernel, [`CudaError::Io`] on the temporary file.
pub fn ptxas_report(ptx: &str, arch: Arch) -> Result<Vec<KernelResources>, CudaError> {
    let ptxas = super::find_ptxas().ok_or_else(|| CudaError::NoPtxas { hint: super::install_hint() })?;
    ptxas_report_with(&ptxas, ptx, arch)
}

/// As [`ptxas_report`], with an explicit `ptxas` executable.
///
/// # Errors
///
/// As [`ptxas_report`].
pub fn ptxas_report_with(ptxas: &Path, ptx: &str, arch: Arch) -> Result<Vec<KernelResources>, CudaError> {
    let dir = std::env::temp_dir().join(format!("kiln-ptxas-{}", std::process::id()));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| CudaError::Io { path, error }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let input = dir.join(format!("k{n}.ptx"));
    let output = dir.join(format!("k{n}.cubin"));
    std::fs::write(&input, ptx).map_err(io(&input))?;
    let result = Command::new(ptxas).arg(format!("-arch={arch}")).arg("-v").arg("-o").arg(&output).arg(&input).output();
    std::fs::remove_file(&input).ok();
    std::fs::remove_file(&output).ok();
    let out = result.map_err(io(ptxas))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err(CudaError::Ptxas { message: format!("{} ({})", text.trim(), out.status) });
    }
    let kernels = parse_report(&text);
    if kernels.is_empty() && ptx.contains(".entry") {
        return Err(CudaError::Ptxas { message: format!("no kernel found in the report:\n{text}") });
    }
    Ok(kernels)
}

/// A counter making temporary file names unique within the process.
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Parses the text of `ptxas -v` into one entry per compiled entry function, in report order.
///
/// The lines read are, per kernel:
/// `Compiling entry function 'k' for 'sm_90'`, `N bytes stack frame, N bytes spill stores, N
/// bytes spill loads`, and `Used N registers, ... N bytes smem, ...`.
pub fn parse_report(text: &str) -> Vec<KernelResources> {
    let mut kernels: Vec<KernelResources> = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches("ptxas info").trim_start().trim_start_matches(':').trim();
        if let Some(rest) = line.strip_prefix("Compiling entry function") {
            let mut quoted = rest.split('\'').skip(1).step_by(2);
            let name = quoted.next().unwrap_or_default().to_owned();
            let arch = quoted.next().unwrap_or_default().to_owned();
            kernels.push(KernelResources { name, arch, ..KernelResources::default() });
            continue;
        }
        let Some(current) = kernels.last_mut() else { continue };
        for part in line.split(',') {
            let part = part.trim();
            let mut words = part.split_whitespace();
            let (Some(first), Some(second)) = (words.next(), words.next()) else { continue };
            // "Used 8 registers" puts the number second; the rest put it first.
            if first == "Used" {
                if words.next() == Some("registers") {
                    current.registers = second.parse().unwrap_or(0);
                }
                continue;
            }
            let Ok(n) = first.parse::<u64>() else { continue };
            let what: Vec<&str> = words.collect();
            match (second, what.as_slice()) {
                ("bytes", ["stack", "frame"]) => current.stack_frame = n,
                ("bytes", ["spill", "stores"]) => current.spill_stores = n,
                ("bytes", ["spill", "loads"]) => current.spill_loads = n,
                ("bytes", ["smem"]) => current.shared_bytes = n,
                _ => {}
            }
        }
    }
    kernels
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from ptxas 13.5 (`-arch=sm_90 -v`), with one kernel edited to spill.
    const REPORT: &str = "\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'axpy' for 'sm_90'
ptxas info    : Function properties for axpy
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 0 barriers, 380 bytes cmem[0]
ptxas info    : Compiling entry function 'block_sum' for 'sm_90'
ptxas info    : Function properties for block_sum
    24 bytes stack frame, 16 bytes spill stores, 12 bytes spill loads
ptxas info    : Used 255 registers, used 1 barriers, 1024 bytes smem, 372 bytes cmem[0]
";

    #[test]
    fn parses_each_kernel() {
        let k = parse_report(REPORT);
        assert_eq!(k.len(), 2);
        assert_eq!(
            k[0],
            KernelResources { name: "axpy".into(), arch: "sm_90".into(), registers: 10, ..KernelResources::default() }
        );
        assert!(!k[0].spills());
        assert_eq!(
            k[1],
            KernelResources {
                name: "block_sum".into(),
                arch: "sm_90".into(),
                registers: 255,
                spill_stores: 16,
                spill_loads: 12,
                stack_frame: 24,
                shared_bytes: 1024,
            }
        );
        assert!(k[1].spills());
    }

    #[test]
    fn ignores_text_before_the_first_kernel_and_unknown_lines() {
        assert!(parse_report("ptxas info    : 0 bytes gmem\nwarning: something\n").is_empty());
    }
}
