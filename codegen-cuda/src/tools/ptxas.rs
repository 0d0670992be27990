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
    /// Threads per block the kernel is launched with; 0 where unknown (`ptxas -v` does not
    /// say: [`ptxas_report`] leaves it 0, a caller that knows the launch fills it in).
    pub threads: u32,
}

impl KernelResources {
    /// Whether the kernel spills registers to local memory.
    pub fn spills(&self) -> bool {
        self.spill_stores > 0 || self.spill_loads > 0
    }

    /// How many of its blocks and warps are resident on one SM of [`KernelResources::arch`]
    /// at once, from its registers, shared memory and [`KernelResources::threads`]; `None`
    /// when the threads per block are unknown or the architecture is not in [`sm_limits`].
    pub fn occupancy(&self) -> Option<Occupancy> {
        occupancy(&sm_limits(&self.arch)?, self.registers, self.shared_bytes, self.threads)
    }
}

/// The limits of one streaming multiprocessor that decide how many blocks are resident (the
/// CUDA programming guide's table of compute capabilities).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmLimits {
    /// Resident warps.
    pub warps: u32,
    /// Resident blocks.
    pub blocks: u32,
    /// 32-bit registers.
    pub registers: u32,
    /// Registers are given to a warp in units of this many.
    pub register_unit: u32,
    /// Bytes of shared memory (the largest carveout).
    pub shared_bytes: u64,
    /// Shared memory is given to a block in units of this many bytes.
    pub shared_unit: u64,
    /// Bytes of shared memory the system reserves per block.
    pub shared_reserved: u64,
}

/// The limits of an SM of `arch` (`sm_80`, `sm_86`, `sm_89`, `sm_90`), if kiln knows them.
pub fn sm_limits(arch: &str) -> Option<SmLimits> {
    let (warps, blocks, shared_kib) = match arch {
        "sm_80" => (64, 32, 164),
        "sm_86" => (48, 16, 100),
        "sm_89" => (48, 24, 100),
        "sm_90" | "sm_90a" => (64, 32, 228),
        _ => return None,
    };
    Some(SmLimits {
        warps,
        blocks,
        registers: 65536,
        register_unit: 256,
        shared_bytes: shared_kib * 1024,
        shared_unit: 128,
        shared_reserved: 1024,
    })
}

/// Blocks and warps resident on one SM, and the resource that bounds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occupancy {
    /// Resident blocks.
    pub blocks: u32,
    /// Resident warps (`blocks` times the warps of a block).
    pub warps: u32,
    /// The most warps the SM holds.
    pub max_warps: u32,
    /// What bounds `blocks`: `"warps"`, `"blocks"`, `"registers"` or `"shared memory"`.
    pub limit: &'static str,
}

impl Occupancy {
    /// Resident warps as a fraction of the most the SM holds.
    pub fn fraction(&self) -> f64 {
        f64::from(self.warps) / f64::from(self.max_warps.max(1))
    }
}

impl std::fmt::Display for Occupancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} warps ({:.0}%, {} blocks, bound by {})",
            self.warps,
            self.max_warps,
            100.0 * self.fraction(),
            self.blocks,
            self.limit
        )
    }
}

/// Resident blocks of `threads` threads, each thread using `registers` registers and each
/// block `shared` bytes of static shared memory, under `sm`: the least of the warp, block,
/// register and shared-memory bounds (registers allocated per warp in whole units, shared
/// memory per block in whole units after the reserved bytes). `None` for 0 threads or more
/// than an SM holds.
pub fn occupancy(sm: &SmLimits, registers: u32, shared: u64, threads: u32) -> Option<Occupancy> {
    if threads == 0 {
        return None;
    }
    let warps = threads.div_ceil(32);
    let regs_per_warp = (registers * 32).div_ceil(sm.register_unit) * sm.register_unit;
    let by_regs = if regs_per_warp == 0 { u32::MAX } else { sm.registers / (regs_per_warp * warps) };
    let smem = (shared + sm.shared_reserved).div_ceil(sm.shared_unit) * sm.shared_unit;
    let by_smem = u32::try_from(sm.shared_bytes / smem).unwrap_or(u32::MAX);
    let bounds =
        [(sm.warps / warps, "warps"), (sm.blocks, "blocks"), (by_regs, "registers"), (by_smem, "shared memory")];
    let (blocks, limit) = bounds.into_iter().min_by_key(|(b, _)| *b)?;
    (blocks > 0).then_some(Occupancy { blocks, warps: blocks * warps, max_warps: sm.warps, limit })
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
                threads: 0,
            }
        );
        assert!(k[1].spills());
    }

    #[test]
    fn occupancy_takes_the_tightest_bound() {
        let sm80 = sm_limits("sm_80").unwrap();
        let sm90 = sm_limits("sm_90").unwrap();
        // 32 registers x 256 threads: 8 blocks by registers and by warps (64 warps).
        let o = occupancy(&sm80, 32, 0, 256).unwrap();
        assert_eq!((o.blocks, o.warps, o.max_warps), (8, 64, 64));
        // 128 registers x 256 threads = 32768: two blocks, 16 warps.
        let o = occupancy(&sm80, 128, 16_896, 256).unwrap();
        assert_eq!((o.blocks, o.warps, o.limit), (2, 16, "registers"));
        // 255 registers round up to 256 per thread (8192 per warp): one block of 256.
        let o = occupancy(&sm90, 255, 0, 256).unwrap();
        assert_eq!((o.blocks, o.warps), (1, 8));
        // 40 KiB + 1 KiB reserved per block: 4 blocks in sm_80's 164 KiB, 5 in sm_90's 228.
        let o = occupancy(&sm80, 16, 40 * 1024, 64).unwrap();
        assert_eq!((o.blocks, o.limit), (4, "shared memory"));
        assert_eq!(occupancy(&sm90, 16, 40 * 1024, 64).unwrap().blocks, 5);
        // Tiny blocks: the block limit.
        let o = occupancy(&sm90, 8, 0, 32).unwrap();
        assert_eq!((o.blocks, o.warps, o.limit), (32, 32, "blocks"));
        assert_eq!(o.to_string(), "32/64 warps (50%, 32 blocks, bound by blocks)");
        // Unknown threads, unknown architecture, a block no SM holds.
        assert_eq!(occupancy(&sm80, 32, 0, 0), None);
        assert_eq!(sm_limits("sm_70"), None);
        assert_eq!(occupancy(&sm80, 255, 0, 1024), None);
        let k = KernelResources { arch: "sm_90".into(), registers: 64, threads: 128, ..KernelResources::default() };
        assert_eq!(k.occupancy().map(|o| o.warps), Some(32));
        assert_eq!(KernelResources { threads: 0, ..k }.occupancy(), None);
    }

    #[test]
    fn ignores_text_before_the_first_kernel_and_unknown_lines() {
        assert!(parse_report("ptxas info    : 0 bytes gmem\nwarning: something\n").is_empty());
    }
}
