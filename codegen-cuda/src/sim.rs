//! The CUDA simulator (`Device::CudaSim`): the exact CUDA C that [`crate::emit`] produces for
//! NVRTC, wrapped in a host prelude (see [`host`]), compiled with the system C++ compiler into
//! a shared library, loaded, and launched on the CPU with the same grid mapping a GPU gets.
//!
//! Compiled libraries are cached on disk, keyed by a hash of the whole C++ text, the compiler
//! command and its version, in `$KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln/cudasim`, else
//! `~/.cache/kiln/cudasim`, else the system temp directory. A library that fails to load is
//! rebuilt. Launches of one library are serialized (its simulated thread state is static);
//! different programs run in parallel.
//!
//! A vendor GEMM step runs as the stand-in of cuBLAS's strided batched GEMM
//! ([`crate::blas::gemm_strided_batched`]) with the arguments a GPU run passes cuBLAS.

mod host;

use crate::emit::CudaProgram;
use kiln_ir::loops::{Flag, Frame, FrameError, HostMemory, LoopProgram};
use kiln_ir::Value;
use libloading::Library;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use thiserror::Error;

/// Why a program could not be simulated.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// No C++ compiler could be started.
    #[error("cuda sim: cannot run the C++ compiler `{compiler}` ({reason}); install g++ or clang++, or name one in KILN_CXX")]
    NoCompiler { compiler: String, reason: String },
    /// The C++ compiler rejected the program (a backend bug): its log and the source file.
    #[error("cuda sim: `{compiler}` failed to compile {source_path}:\n{log}")]
    Compile { compiler: String, source_path: String, log: String },
    /// Reading or writing the cache failed.
    #[error("cuda sim: cache file {path}: {message}")]
    Io { path: String, message: String },
    /// The compiled library could not be loaded.
    #[error("cuda sim: cannot load {path}: {message}")]
    Load { path: String, message: String },
    /// The arguments do not fit the loop program, or the program does not fit the compiled one.
    #[error("cuda sim: bad argument: {0}")]
    BadArgument(String),
    /// The call's frame could not be built: the arguments do not fit the parameters
    /// ([`FrameError::Bind`]), a buffer's size overflows, a domain overflows `i64`. Kept typed
    /// so a caller can tell the user's arguments from a bug.
    #[error("cuda sim: bad argument: {0}")]
    Frame(FrameError),
    /// The simulated launch failed (a barrier outside a block-synchronizing kernel, no memory).
    #[error("cuda sim: launch of kernel `{kernel}` failed with code {code}")]
    Launch { kernel: String, code: i32 },
    /// A kernel raised an error flag (an index out of range, an empty `argmin`).
    #[error("cuda sim: kernel raised flag `{}`", .0.name())]
    Flag(Flag),
    /// An output or temporary could not be allocated (numpy's `MemoryError`).
    #[error(
        "cuda sim: unable to allocate {} for an array with shape {} ({what})",
        kiln_ir::value::size_text(*.bytes),
        kiln_ir::value::shape_tuple(.shape)
    )]
    OutOfMemory { bytes: usize, shape: Vec<usize>, what: String },
}

impl From<FrameError> for SimError {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::OutOfMemory { bytes, shape, what } => SimError::OutOfMemory { bytes, shape, what },
            e => SimError::Frame(e),
        }
    }
}

type LaunchFn = unsafe extern "C" fn(u32, *const u64, u32, u32) -> i32;

/// A program compiled for the simulator: its kernels' launch shapes and the loaded library.
pub struct SimProgram {
    program: CudaProgram,
    launch: LaunchFn,
    path: PathBuf,
    _lib: Arc<Library>,
}

impl std::fmt::Debug for SimProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimProgram").field("kernels", &self.program.kernels.len()).field("path", &self.path).finish()
    }
}

impl SimProgram {
    /// The CUDA program this was compiled from.
    pub fn program(&self) -> &CudaProgram {
        &self.program
    }

    /// The shared library on disk.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The whole C++ translation unit the simulator compiles for `p`: host prelude, the emitted
/// text unchanged, launch table.
pub fn host_source(p: &CudaProgram) -> String {
    let mut s = String::from(host::HOST_PRELUDE);
    s.push_str(&p.source);
    s.push_str(&host::epilogue(p));
    s
}

const FLAGS: [&str; 7] = ["-O2", "-shared", "-fPIC", "-std=c++17", "-w", "-ffp-contract=off", "-fno-fast-math"];

fn compiler() -> String {
    std::env::var("KILN_CXX").or_else(|_| std::env::var("CXX")).unwrap_or_else(|_| "c++".into())
}

/// The compiler's `--version` text (once per process), or why it could not run.
fn compiler_version(cxx: &str) -> Result<String, SimError> {
    static VERSION: OnceLock<Result<(String, String), String>> = OnceLock::new();
    let v = VERSION.get_or_init(|| match Command::new(cxx).arg("--version").output() {
        Ok(o) if o.status.success() => Ok((cxx.to_string(), String::from_utf8_lossy(&o.stdout).into_owned())),
        Ok(o) => Err(format!("`--version` exited with {}", o.status)),
        Err(e) => Err(e.to_string()),
    });
    match v {
        Ok((c, text)) if c == cxx => Ok(text.clone()),
        Ok(_) => Err(SimError::NoCompiler { compiler: cxx.into(), reason: "compiler changed during the run".into() }),
        Err(reason) => Err(SimError::NoCompiler { compiler: cxx.into(), reason: reason.clone() }),
    }
}

fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KILN_CACHE_DIR") {
        return PathBuf::from(d).join("cudasim");
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("kiln").join("cudasim");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(h).join(".cache").join("kiln").join("cudasim");
    }
    std::env::temp_dir().join("kiln-cudasim")
}

/// FNV-1a, 64 bits: stable across Rust versions (unlike `DefaultHasher`), enough for a cache
/// key (a collision would load another program, and its launch table is checked).
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn io(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Io { path: path.display().to_string(), message: e.to_string() }
}

/// Compile `p` for the simulator (or load it from the cache).
///
/// # Errors
/// [`SimError::NoCompiler`] when no C++ compiler runs; [`SimError::Compile`] when it rejects
/// the text (a bug); [`SimError::Io`]/[`SimError::Load`] for cache and loader failures.
pub fn compile_sim(p: &CudaProgram) -> Result<SimProgram, SimError> {
    let cxx = compiler();
    let version = compiler_version(&cxx)?;
    let source = host_source(p);
    let key = fnv(&[&source, &cxx, &FLAGS.join(" "), &version]);
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let lib_path = dir.join(format!("{key:016x}.so"));
    if lib_path.exists() {
        match load(&lib_path) {
            Ok((lib, launch)) => return Ok(SimProgram { program: p.clone(), launch, path: lib_path, _lib: lib }),
            Err(e) => tracing::warn!("cuda sim: rebuilding unloadable cache entry: {e}"),
        }
    }
    let tag = format!("{key:016x}.{}.{}", std::process::id(), unique());
    let cpp = dir.join(format!("{tag}.cpp"));
    let tmp = dir.join(format!("{tag}.so"));
    std::fs::write(&cpp, &source).map_err(|e| io(&cpp, e))?;
    let start = std::time::Instant::now();
    let out = Command::new(&cxx)
        .args(FLAGS)
        .arg("-o")
        .arg(&tmp)
        .arg(&cpp)
        .output()
        .map_err(|e| SimError::NoCompiler { compiler: cxx.clone(), reason: e.to_string() })?;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        return Err(SimError::Compile { compiler: cxx, source_path: cpp.display().to_string(), log });
    }
    tracing::debug!(micros = start.elapsed().as_micros() as u64, path = %lib_path.display(), "cuda sim: compiled");
    let _ = std::fs::remove_file(&cpp);
    // Renaming is atomic: a concurrent compile of the same program leaves one complete file.
    std::fs::rename(&tmp, &lib_path).map_err(|e| io(&lib_path, e))?;
    let (lib, launch) = load(&lib_path)?;
    Ok(SimProgram { program: p.clone(), launch, path: lib_path, _lib: lib })
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn load(path: &Path) -> Result<(Arc<Library>, LaunchFn), SimError> {
    let err = |e: libloading::Error| SimError::Load { path: path.display().to_string(), message: e.to_string() };
    // SAFETY: the library is one kiln compiled from its own prelude and emitted text; its
    // initializers only set up thread-local zeroes.
    let lib = unsafe { Library::new(path) }.map_err(err)?;
    // SAFETY: `kiln_sim_launch` is defined by the epilogue with exactly `LaunchFn`'s signature.
    let launch: LaunchFn = unsafe { *lib.get::<LaunchFn>(b"kiln_sim_launch\0").map_err(err)? };
    Ok((Arc::new(lib), launch))
}

/// Options of a simulated run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimOptions {
    /// The most blocks a launch gets; larger domains are covered by the kernels' grid-stride
    /// loops. Small values exercise those loops.
    pub max_grid: u32,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions { max_grid: 64 }
    }
}

/// Run every kernel of `lp` (compiled into `sp`) in order on `args` (one value per
/// parameter, any strides) and return the outputs, like `kiln_cpu::run_program`.
///
/// # Errors
/// [`SimError::Frame`] when the arguments do not fit the parameters, [`SimError::BadArgument`]
/// when their number is wrong or `sp` was compiled from another program; [`SimError::Flag`] for the first error flag raised;
/// [`SimError::Launch`] when the simulation itself failed.
pub fn run_sim(sp: &SimProgram, lp: &LoopProgram, args: &[Value]) -> Result<Vec<Value>, SimError> {
    run_sim_with(sp, lp, args, SimOptions::default())
}

/// [`run_sim`] with explicit [`SimOptions`].
///
/// # Errors
/// As [`run_sim`].
pub fn run_sim_with(
    sp: &SimProgram,
    lp: &LoopProgram,
    args: &[Value],
    opts: SimOptions,
) -> Result<Vec<Value>, SimError> {
    let bad = |m: String| Err(SimError::BadArgument(m));
    let prog = &sp.program;
    let same_kernels = prog.kernels.len() == lp.kernels.len()
        && prog.kernels.iter().zip(&lp.kernels).all(|(c, k)| c.name == k.name)
        && prog.ranks.len() == lp.buffers.len()
        && prog.ranks.iter().zip(&lp.buffers).all(|(r, b)| *r == b.shape.len())
        && prog.syms == lp.syms.len();
    if !same_kernels {
        return bad(format!("the simulated program was not compiled from `{}`", lp.name));
    }
    if args.len() != lp.params.len() {
        return bad(format!("program `{}` takes {} arguments, got {}", lp.name, lp.params.len(), args.len()));
    }
    let frame = Frame::of_values(lp, args)?;
    let mem = HostMemory::new(&frame, args)?;
    let ptrs: Vec<u64> = mem.ptrs.iter().map(|p| *p as u64).collect();
    let mut flags = vec![0u32; Flag::ALL.len()];
    let syms = &frame.syms;
    let Some(words) = prog.pack_args(&ptrs, &mem.strides, syms, flags.as_mut_ptr() as u64) else {
        return bad(format!("buffers of `{}` do not match the compiled argument layout", lp.name));
    };
    for (ki, k) in prog.kernels.iter().enumerate() {
        if blas_standin(lp, ki, &mem, syms) {
            continue;
        }
        let Some(len) = k.launch.len(syms) else { return bad(format!("domain of kernel `{}` overflows i64", k.name)) };
        let grid = k.launch.grid_dim(len, opts.max_grid.max(1));
        if grid == 0 {
            continue;
        }
        let start = std::time::Instant::now();
        // SAFETY: `words` is the `KilnArgs` image of this program (layout checked by
        // `pack_args` against the compiled ranks and symbol count): every pointer addresses a
        // live array of the buffer's dtype whose shape is the buffer's shape under `syms`
        // (inputs bound against the parameters by `Frame::of_values`, the others allocated so
        // by `HostMemory`) with its own strides, or for a buffer with no elements at the
        // zeroed room `HostMemory` allocated for the accesses a failed index check makes, so
        // every index the verified loop program computes is in bounds; outputs and
        // temporaries are owned by `mem` and inputs are never stored to; `flags` holds one
        // `u32` per flag; the kernel index is in range.
        let code = unsafe { (sp.launch)(ki as u32, words.as_ptr(), grid, k.launch.block_dim) };
        tracing::debug!(kernel = %k.name, grid, micros = start.elapsed().as_micros() as u64, "cuda sim: launch");
        if code != 0 {
            return Err(SimError::Launch { kernel: k.name.clone(), code });
        }
        if let Some(f) = Flag::raised(flags.iter().copied()) {
            return Err(SimError::Flag(f));
        }
    }
    Ok(mem.outputs(lp)?)
}

/// Run kernel `ki` of `lp` as the cuBLAS stand-in ([`crate::blas`]) when it is a vendor GEMM
/// step whose operands have a cuBLAS form; `false` (nothing run) otherwise, and its generated
/// kernel is launched instead, as on a GPU.
fn blas_standin(lp: &LoopProgram, ki: usize, mem: &HostMemory<'_>, syms: &[i64]) -> bool {
    use crate::blas::blas_gemm;
    let Some(step) = lp.kernels.get(ki).and_then(kiln_ir::loops::GemmStep::vendor) else { return false };
    let Some(g) = blas_gemm(&step, &mem.strides, syms) else { return false };
    let (a, b, c) = (mem.ptrs[g.a.index()], mem.ptrs[g.b.index()], mem.ptrs[g.c.index()]);
    let start = std::time::Instant::now();
    // SAFETY (both arms): the call reads exactly the elements of A and B, and writes exactly
    // the elements of C, that the step's loop nest indexes (the same strides, by
    // `blas_gemm`'s mapping), which `mem` holds live with the buffers' dtype and shapes under
    // `syms` and the loop IR verifier proved in range; C is an output or temporary `mem`
    // owns, never an input, and with beta zero it is not read.
    let done = match step.dtype {
        // SAFETY: see "SAFETY (both arms)" above.
        kiln_ir::DType::F32 => unsafe { g.call_standin::<f32>(a.cast(), b.cast(), c.cast(), 1.0) },
        // SAFETY: see "SAFETY (both arms)" above.
        kiln_ir::DType::F64 => unsafe { g.call_standin::<f64>(a.cast(), b.cast(), c.cast(), 1.0) },
        _ => return false,
    };
    tracing::debug!(kernel = %lp.kernels[ki].name, micros = start.elapsed().as_micros() as u64, ok = done.is_ok(), "cuda sim: cublas stand-in");
    done.is_ok()
}
