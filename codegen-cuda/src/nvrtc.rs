//! CUDA C to PTX and cubin with NVRTC, through cudarc's dynamically loaded bindings.
//!
//! kiln builds with no CUDA installed: NVRTC is `dlopen`ed at run time. cudarc asks the loader for
//! `libnvrtc.so.13` by name and *panics* when it is absent, so [`load`] first finds the library
//! (see [`crate::tools`]), loads it by absolute path with `RTLD_GLOBAL` together with its
//! `libnvrtc-builtins` neighbour (after that the loader resolves the soname to the loaded copy),
//! then checks `is_culib_present()`; a missing library is [`CudaError::NoNvrtc`] with a hint.
//!
//! One compilation for a real architecture (`--gpu-architecture=sm_90`) yields both the PTX
//! (for inspection and `ptxas`) and the cubin the driver loads. Results are cached on disk (see
//! [`cache`]) keyed by the source, the NVRTC version and the architecture.

pub mod cache;

use std::ffi::{c_char, CStr, CString};
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cudarc::nvrtc::{result, sys};

use crate::tools::{self, NvrtcLocation};

/// Errors of the CUDA tool chain and driver: missing libraries or devices, NVRTC and `ptxas`
/// failures, driver calls.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CudaError {
    /// libnvrtc could not be loaded.
    #[error("nvrtc is not available: {hint}")]
    NoNvrtc {
        /// What was tried and how to install it.
        hint: String,
    },
    /// libcuda (the driver) is not installed.
    #[error("no cuda driver: libcuda.so could not be loaded")]
    NoCudaDriver,
    /// The driver is present but the requested device is not.
    #[error("no cuda device with ordinal {ordinal} ({count} present)")]
    NoDevice {
        /// The ordinal asked for.
        ordinal: usize,
        /// How many devices the driver reports.
        count: usize,
    },
    /// NVRTC rejected the source.
    #[error("nvrtc failed to compile the cuda c source ({arch}):\n{log}")]
    Compile {
        /// NVRTC's log.
        log: String,
        /// The CUDA C text it was given (named so that thiserror does not take it for a cause).
        source_text: String,
        /// The target architecture.
        arch: Arch,
    },
    /// `ptxas` is not available.
    #[error("ptxas not found: {hint}")]
    NoPtxas {
        /// How to install it.
        hint: String,
    },
    /// `ptxas` ran and failed, or its report could not be read.
    #[error("ptxas failed: {message}")]
    Ptxas {
        /// Its diagnostics.
        message: String,
    },
    /// A CUDA driver call failed.
    #[error("cuda driver call {call} failed: {message}")]
    Driver {
        /// The operation that failed.
        call: &'static str,
        /// The driver's error.
        message: String,
    },
    /// A kernel launch was malformed (unknown kernel, wrong buffer, bad size).
    #[error("cuda launch of {kernel}: {message}")]
    Launch {
        /// The kernel name.
        kernel: String,
        /// What is wrong.
        message: String,
    },
    /// Input/output on a temporary or cache file.
    #[error("cuda tools i/o on {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

/// A GPU architecture as a compute capability: `Arch(90)` is `sm_90`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arch(pub u32);

impl Arch {
    /// Ampere A100.
    pub const SM80: Arch = Arch(80);
    /// Hopper H100/H200.
    pub const SM90: Arch = Arch(90);

    /// The architecture of a device with compute capability `major.minor`.
    pub fn from_compute_capability(major: u32, minor: u32) -> Arch {
        Arch(major * 10 + minor)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sm_{}", self.0)
    }
}

/// The result of compiling one CUDA C source for one architecture.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The PTX text (for inspection and `ptxas`).
    pub ptx: String,
    /// The cubin for [`Compiled::arch`], what the driver loads.
    pub cubin: Vec<u8>,
    /// The target architecture.
    pub arch: Arch,
    /// NVRTC's version `(major, minor)`.
    pub nvrtc_version: (u32, u32),
    /// Whether it came from the disk cache.
    pub from_cache: bool,
    /// Time spent: the NVRTC compile, or the cache lookup on a hit.
    pub elapsed: Duration,
}

/// Where compiled binaries are cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheDir {
    /// `$XDG_CACHE_HOME/kiln`, else `~/.cache/kiln`, else no cache.
    Default,
    /// This directory.
    At(PathBuf),
    /// No disk cache.
    Off,
}

impl CacheDir {
    /// The directory to use, if any.
    pub fn resolve(&self) -> Option<PathBuf> {
        match self {
            CacheDir::Default => cache::default_dir(),
            CacheDir::At(dir) => Some(dir.clone()),
            CacheDir::Off => None,
        }
    }
}

/// NVRTC, loaded once per process: its version, or why it could not be loaded.
static NVRTC: OnceLock<Result<(u32, u32), String>> = OnceLock::new();

/// Loads NVRTC (once) and returns its version.
///
/// # Errors
///
/// [`CudaError::NoNvrtc`] when the library cannot be found or loaded.
pub fn load() -> Result<(u32, u32), CudaError> {
    NVRTC.get_or_init(load_uncached).clone().map_err(|hint| CudaError::NoNvrtc { hint })
}

/// Whether NVRTC can be loaded.
pub fn nvrtc_available() -> bool {
    load().is_ok()
}

/// Finds and loads the library, then asks its version.
fn load_uncached() -> Result<(u32, u32), String> {
    let location = tools::find_nvrtc();
    if let NvrtcLocation::Path(path) = &location {
        preload(path)?;
    }
    // SAFETY: is_culib_present only tries `dlopen` on candidate names and drops the handles.
    if !unsafe { sys::is_culib_present() } {
        return Err(format!("{} was not found; {}", tools::NVRTC_SONAME, tools::install_hint()));
    }
    let (mut major, mut minor) = (0, 0);
    // SAFETY: the library is present (checked above), so cudarc's lazy symbol lookup succeeds;
    // nvrtcVersion only writes the two integers. catch_unwind turns a missing symbol (an
    // unexpected build of the library) into an error instead of a panic.
    let status =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { sys::nvrtcVersion(&mut major, &mut minor) }))
            .map_err(|_| format!("{} lacks nvrtcVersion; {}", tools::NVRTC_SONAME, tools::install_hint()))?;
    if status != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!("nvrtcVersion failed: {status:?}"));
    }
    tracing::debug!(version = %format!("{major}.{minor}"), ?location, "nvrtc loaded");
    Ok((major as u32, minor as u32))
}

/// Loads `libnvrtc-builtins` and libnvrtc by absolute path with `RTLD_GLOBAL` and keeps them
/// loaded for the life of the process, so cudarc's later `dlopen("libnvrtc.so.13")` finds them.
fn preload(path: &std::path::Path) -> Result<(), String> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let builtins = std::fs::read_dir(dir).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libnvrtc-builtins.so")))
    });
    for lib in builtins.iter().map(PathBuf::as_path).chain([path]) {
        // SAFETY: loading NVIDIA's libraries runs only their own initialisers; the handle is
        // leaked on purpose so the code stays mapped while cudarc holds function pointers into it.
        let handle = unsafe { Library::open(Some(lib), RTLD_NOW | RTLD_GLOBAL) }
            .map_err(|e| format!("cannot load {}: {e}; {}", lib.display(), tools::install_hint()))?;
        std::mem::forget(handle);
    }
    Ok(())
}

/// Compiles `source` for `arch` to PTX and cubin, through the default disk cache.
///
/// # Errors
///
/// [`CudaError::NoNvrtc`] without NVRTC, [`CudaError::Compile`] with NVRTC's log when the source
/// does not compile. Cache problems are never errors: a bad entry is rebuilt.
pub fn compile_ptx(source: &str, arch: Arch) -> Result<Compiled, CudaError> {
    compile_with_cache(source, arch, &CacheDir::Default)
}

/// Compiles `source` for `arch`, looking in and filling the cache `cache`.
///
/// # Errors
///
/// As [`compile_ptx`].
pub fn compile_with_cache(source: &str, arch: Arch, cache: &CacheDir) -> Result<Compiled, CudaError> {
    let version = load()?;
    let start = Instant::now();
    let dir = cache.resolve();
    let key = cache::Key { source, arch, nvrtc_version: version };
    if let Some(dir) = &dir {
        if let Some(entry) = cache::read(dir, &key) {
            return Ok(Compiled {
                ptx: entry.ptx,
                cubin: entry.cubin,
                arch,
                nvrtc_version: version,
                from_cache: true,
                elapsed: start.elapsed(),
            });
        }
    }
    let (ptx, cubin) = nvrtc_compile(source, arch)?;
    let elapsed = start.elapsed();
    tracing::debug!(%arch, ms = elapsed.as_secs_f64() * 1e3, "nvrtc compiled");
    if let Some(dir) = &dir {
        cache::write(dir, &key, &ptx, &cubin);
    }
    Ok(Compiled { ptx, cubin, arch, nvrtc_version: version, from_cache: false, elapsed })
}

/// An NVRTC program, destroyed on drop.
struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: self.0 came from create_program and is destroyed exactly once, here.
        let _ = unsafe { result::destroy_program(self.0) };
    }
}

/// One NVRTC compilation: `(ptx, cubin)`.
fn nvrtc_compile(source: &str, arch: Arch) -> Result<(String, Vec<u8>), CudaError> {
    let compile_error = |log: String| CudaError::Compile { log, source_text: source.to_owned(), arch };
    let src = CString::new(source).map_err(|_| compile_error("the source contains a NUL byte".into()))?;
    let name = c"kiln.cu";
    let options = [format!("--gpu-architecture={arch}"), "--std=c++17".to_owned()];
    let prog = Program(
        result::create_program(&src, Some(name)).map_err(|e| compile_error(format!("nvrtcCreateProgram: {e:?}")))?,
    );
    // SAFETY: prog.0 is a live program (destroyed only by Program's drop); `src` and `name`
    // outlive it. The options contain no NUL bytes.
    let compiled = unsafe { result::compile_program(prog.0, &options) };
    if compiled.is_err() {
        // SAFETY: as above.
        let log = unsafe { result::get_program_log(prog.0) }.map(|l| c_chars_to_string(&l)).unwrap_or_default();
        return Err(compile_error(log));
    }
    // SAFETY: as above; the program compiled successfully, so PTX is available.
    let ptx = unsafe { result::get_ptx(prog.0) }.map_err(|e| compile_error(format!("nvrtcGetPTX: {e:?}")))?;
    let cubin = get_cubin(&prog).map_err(|e| compile_error(format!("nvrtcGetCUBIN: {e:?}")))?;
    Ok((c_chars_to_string(&ptx), cubin))
}

/// The cubin of a program compiled for a real architecture.
fn get_cubin(prog: &Program) -> Result<Vec<u8>, sys::nvrtcResult> {
    let mut size = 0usize;
    // SAFETY: prog.0 is live; nvrtcGetCUBINSize writes one usize.
    let status = unsafe { sys::nvrtcGetCUBINSize(prog.0, &mut size) };
    if status != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(status);
    }
    let mut cubin = vec![0u8; size];
    // SAFETY: the buffer holds exactly the size NVRTC reported.
    let status = unsafe { sys::nvrtcGetCUBIN(prog.0, cubin.as_mut_ptr().cast::<c_char>()) };
    if status != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(status);
    }
    Ok(cubin)
}

/// A NUL-terminated C buffer as a Rust string (lossy).
fn c_chars_to_string(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars.iter().map(|&c| c as u8).collect();
    match CStr::from_bytes_until_nul(&bytes) {
        Ok(s) => s.to_string_lossy().into_owned(),
        Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_names() {
        assert_eq!(Arch::SM80.to_string(), "sm_80");
        assert_eq!(Arch::from_compute_capability(9, 0), Arch::SM90);
        assert_eq!(Arch::from_compute_capability(8, 6).to_string(), "sm_86");
    }

    #[test]
    fn c_strings_stop_at_nul() {
        let chars: Vec<c_char> = b"ab\0cd".iter().map(|&b| b as c_char).collect();
        assert_eq!(c_chars_to_string(&chars), "ab");
    }
}
