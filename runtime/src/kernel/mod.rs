//! Kernel handles: a kernel's IR plus, per instantiation, its lowered forms, built once.
//!
//! This file holds the handle, its instantiations and counters; calling is in [`call`],
//! inspection (IR, CLIF, assembly, CUDA C, PTX) in [`inspect`], the compile caches and
//! CPU tiering in [`cache`].

use crate::args::Arg;
use crate::device::Device;
use crate::error::{BackendError, Error, Result};
use kiln_ir::interp::InterpError;
use kiln_ir::loops::LoopProgram;
use kiln_ir::lower::PassRecord;
use kiln_ir::{DType, ElemTy, Program};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

mod cache;
mod call;
mod inspect;

/// A compiled-on-demand kernel: its array IR and a per-instantiation cache.
///
/// Thread-safe: calls from many threads share one cache, and each instantiation is
/// lowered at most once.
#[derive(Debug)]
pub struct Kernel {
    program: Program,
    instances: Mutex<HashMap<Option<DType>, Arc<Instance>>>,
    lowerings: AtomicUsize,
    cpu_compiles: AtomicUsize,
    cpu_tier0_compiles: AtomicUsize,
    sim_compiles: AtomicUsize,
    gpu_compiles: AtomicUsize,
}

/// One instantiation (the generic `F` fixed, or the concrete kernel itself).
#[derive(Debug)]
struct Instance {
    program: Program,
    lowered: OnceLock<Built<Lowered>>,
    cpu: OnceLock<Built<kiln_cpu::CpuProgram>>,
    /// Tier 0 (`CompileOptions::fast`), compiled for small calls while `cpu` is not ready.
    cpu_fast: OnceLock<Built<kiln_cpu::CpuProgram>>,
    /// Whether `cpu` has been asked for (by a caller or the background compile).
    cpu_started: AtomicBool,
    /// The background compile of `cpu`: closed when it has run (or was skipped); the kernel's
    /// drop cancels it and waits for that.
    cpu_job: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    /// Set by the kernel's drop: a queued background compile is skipped.
    cancelled: AtomicBool,
    cuda: OnceLock<Built<kiln_cuda::CudaProgram>>,
    sim: OnceLock<Built<kiln_cuda::SimProgram>>,
    /// The CUDA module per device ordinal, loaded on first use there.
    gpu: Mutex<HashMap<usize, Arc<kiln_cuda::driver::CudaModuleHandle>>>,
}

/// A lowering or compile result as cached: the failure stays typed for every later call.
pub(super) type Built<T> = std::result::Result<T, Arc<BackendError>>;

#[derive(Debug)]
struct Lowered {
    loops: LoopProgram,
    passes: Vec<PassRecord>,
}

impl Kernel {
    /// Build a kernel from array IR, verifying it first.
    pub fn from_program(program: Program) -> Result<Kernel> {
        kiln_ir::verify::verify(&program).map_err(|e| Error::InvalidIr(e.into()))?;
        Ok(Kernel {
            program,
            instances: Mutex::new(HashMap::new()),
            lowerings: AtomicUsize::new(0),
            cpu_compiles: AtomicUsize::new(0),
            cpu_tier0_compiles: AtomicUsize::new(0),
            sim_compiles: AtomicUsize::new(0),
            gpu_compiles: AtomicUsize::new(0),
        })
    }

    /// Build a kernel from the text form of its array IR.
    pub fn from_ir(text: &str) -> Result<Kernel> {
        let program = kiln_ir::parse::parse_program(text).map_err(|e| Error::InvalidIr(e.into()))?;
        Kernel::from_program(program)
    }

    pub fn name(&self) -> &str {
        &self.program.name
    }

    /// The kernel's array IR as written by the front end (generic kernels keep `F`).
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The array IR as text.
    pub fn ir_text(&self) -> String {
        self.program.to_string()
    }

    /// True for `fn k<F: Float>` kernels, which need a float dtype per call.
    pub fn is_generic(&self) -> bool {
        self.program.is_generic()
    }

    /// How many instantiations have been lowered so far (compile-once checks).
    pub fn lowering_count(&self) -> usize {
        self.lowerings.load(Ordering::Relaxed)
    }

    /// How many instantiations have been JIT-compiled for `Device::Cpu` so far (their
    /// optimized code, started on first use, whatever the number of threads calling).
    pub fn cpu_compile_count(&self) -> usize {
        self.cpu_compiles.load(Ordering::Relaxed)
    }

    /// How many instantiations have had tier-0 code compiled for their first small calls
    /// (see `KILN_TIERS` in the README): at most one per instantiation.
    pub fn cpu_tier0_compile_count(&self) -> usize {
        self.cpu_tier0_compiles.load(Ordering::Relaxed)
    }

    /// How many instantiations have been compiled for `Device::CudaSim` (their CUDA C, once
    /// each).
    pub fn sim_compile_count(&self) -> usize {
        self.sim_compiles.load(Ordering::Relaxed)
    }

    /// How many (instantiation, GPU) pairs have had their CUDA C compiled by NVRTC and loaded:
    /// once per instantiation per device.
    pub fn gpu_compile_count(&self) -> usize {
        self.gpu_compiles.load(Ordering::Relaxed)
    }

    fn resolve_float(&self, float: Option<DType>, args: &[Arg<'_>]) -> Result<Option<DType>> {
        let dtypes: Vec<DType> = args.iter().map(Arg::dtype).collect();
        self.resolve_float_dtypes(float, &dtypes)
    }

    fn resolve_float_dtypes(&self, float: Option<DType>, dtypes: &[DType]) -> Result<Option<DType>> {
        if !self.is_generic() {
            return Ok(None);
        }
        let float = match float {
            Some(f) => f,
            None => self
                .program
                .params
                .iter()
                .zip(dtypes)
                .find(|(p, _)| p.ty.elem == ElemTy::Float)
                .map(|(_, d)| *d)
                .ok_or_else(|| Error::NeedsFloatType { kernel: self.name().into() })?,
        };
        if !float.is_float() {
            return Err(Error::NotAFloat { kernel: self.name().into(), dtype: float });
        }
        Ok(Some(float))
    }

    fn instance(&self, float: Option<DType>) -> Result<Arc<Instance>> {
        let key = if self.is_generic() {
            match float {
                Some(f) if f.is_float() => Some(f),
                Some(f) => return Err(Error::NotAFloat { kernel: self.name().into(), dtype: f }),
                None => return Err(Error::NeedsFloatType { kernel: self.name().into() }),
            }
        } else {
            None
        };
        let mut map = self.instances.lock().unwrap_or_else(|e| e.into_inner());
        let inst = map.entry(key).or_insert_with(|| {
            let program = match key {
                Some(f) => self.program.instantiate(f),
                None => self.program.clone(),
            };
            Arc::new(Instance {
                program,
                lowered: OnceLock::new(),
                cpu: OnceLock::new(),
                cpu_fast: OnceLock::new(),
                cpu_started: AtomicBool::new(false),
                cpu_job: Mutex::new(None),
                cancelled: AtomicBool::new(false),
                cuda: OnceLock::new(),
                sim: OnceLock::new(),
                gpu: Mutex::new(HashMap::new()),
            })
        });
        Ok(inst.clone())
    }

    pub(super) fn backend_error(&self, device: Device, e: impl Into<BackendError>) -> Error {
        Error::backend(self.name(), device, e.into())
    }

    pub(super) fn interp_error(&self, e: InterpError) -> Error {
        self.backend_error(Device::Interp, e)
    }
}

/// A kernel built lazily from IR text embedded by `#[kernel]`, once per process.
pub struct KernelCell {
    text: &'static str,
    cell: OnceLock<Kernel>,
}

impl KernelCell {
    pub const fn new(text: &'static str) -> KernelCell {
        KernelCell { text, cell: OnceLock::new() }
    }

    /// The kernel.
    ///
    /// # Panics
    /// If the embedded IR does not parse: the macro checked it at build time, so this is an
    /// internal bug (a kiln-macros / kiln-runtime version mismatch), never bad user input.
    pub fn get(&'static self) -> &'static Kernel {
        self.cell.get_or_init(|| match Kernel::from_ir(self.text) {
            Ok(k) => {
                REGISTRY.lock().unwrap_or_else(|e| e.into_inner()).push(self);
                k
            }
            Err(e) => panic!("internal error: #[kernel] embedded invalid IR: {e}\n{}", self.text),
        })
    }
}

/// Every `#[kernel]` used so far in this process, in first-use order.
static REGISTRY: Mutex<Vec<&'static KernelCell>> = Mutex::new(Vec::new());

/// The `#[kernel]` functions this process has called (or asked for a handle) so far, in
/// first-use order: what a test suite or a tool uses to check "every kernel" at once.
pub fn used_kernels() -> Vec<&'static Kernel> {
    let cells: Vec<&'static KernelCell> = REGISTRY.lock().unwrap_or_else(|e| e.into_inner()).clone();
    cells.into_iter().map(KernelCell::get).collect()
}

impl Drop for Kernel {
    /// Cancel queued background compiles and wait for a running one, so the JIT memory of a
    /// dropped kernel is given back now.
    fn drop(&mut self) {
        let map = self.instances.get_mut().unwrap_or_else(|e| e.into_inner());
        for inst in map.values() {
            inst.cancelled.store(true, Ordering::Release);
            if let Some(rx) = inst.cpu_job.lock().unwrap_or_else(|e| e.into_inner()).take() {
                // Err once the job has run or was dropped unrun: either way it is over.
                let _ = rx.recv();
            }
        }
    }
}
/// A failed build, as cached.
pub(super) fn built_error(e: impl Into<BackendError>) -> Arc<BackendError> {
    Arc::new(e.into())
}

/// The device named for CUDA C emission and PTX inspection, which target no particular GPU.
pub(super) const INSPECT_GPU: Device = Device::Cuda(0);
