//! The per-instantiation caches: lowering, CPU code (tiered, the optimized compile on a
//! background thread), CUDA C, the simulator build and the module loaded per GPU, each
//! built once whatever the number of threads asking.

use super::{built_error, Built, Instance, Kernel, Lowered, INSPECT_GPU};
use crate::debug;
use crate::device::Device;
use crate::error::{BackendError, Error, Result};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

impl Kernel {
    /// The instantiation's module on one GPU, compiled (NVRTC, for the device's architecture)
    /// and loaded once per device.
    pub(super) fn gpu_module(
        &self,
        inst: &Instance,
        dev: &Arc<kiln_cuda::driver::CudaDevice>,
    ) -> Result<Arc<kiln_cuda::driver::CudaModuleHandle>> {
        let mut map = inst.gpu.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = map.get(&dev.ordinal()) {
            return Ok(m.clone());
        }
        let prog = self.cuda_program(inst)?;
        let names: Vec<&str> = prog.kernels.iter().map(|k| k.name.as_str()).collect();
        let start = Instant::now();
        self.gpu_compiles.fetch_add(1, Ordering::Relaxed);
        let module =
            Arc::new(dev.load(&prog.source, &names).map_err(|e| self.backend_error(Device::Cuda(dev.ordinal()), e))?);
        if debug::level() >= 1 {
            tracing::info!(
                "kernel {}: compiled and loaded for cuda:{} in {:.1} ms",
                self.name(),
                dev.ordinal(),
                start.elapsed().as_secs_f64() * 1e3
            );
        }
        map.insert(dev.ordinal(), module.clone());
        Ok(module)
    }

    pub(super) fn lowered<'i>(&self, inst: &'i Instance) -> Result<&'i Lowered> {
        self.lowered_built(inst).as_ref().map_err(|e| Error::Internal { kernel: self.name().into(), source: e.clone() })
    }

    /// The instantiation's loop IR, lowered on first use, with a failure kept typed.
    fn lowered_built<'i>(&self, inst: &'i Instance) -> &'i Built<Lowered> {
        inst.lowered.get_or_init(|| {
            self.lowerings.fetch_add(1, Ordering::Relaxed);
            let start = Instant::now();
            // Each pass's text costs about as much as the passes: rendered only to be printed
            // here; `Kernel::passes` renders them on demand.
            let result = if debug::level() >= 2 {
                kiln_ir::lower::lower_traced(&inst.program)
            } else {
                kiln_ir::lower::lower(&inst.program).map(|lp| (lp, vec![]))
            };
            let ms = start.elapsed().as_secs_f64() * 1e3;
            match result {
                Ok((loops, passes)) => {
                    if debug::level() >= 1 {
                        tracing::info!("kernel {}: lowered in {ms:.3} ms", self.name());
                    }
                    if debug::level() >= 2 {
                        tracing::info!("kernel {} array IR:\n{}", self.name(), inst.program);
                        for p in &passes {
                            if p.changed {
                                tracing::info!("after {} ({} us):\n{}", p.name, p.micros, p.text);
                            } else {
                                tracing::info!("after {} ({} us): unchanged", p.name, p.micros);
                            }
                        }
                    }
                    Ok(Lowered { loops, passes })
                }
                Err(e) => Err(built_error(e)),
            }
        })
    }

    /// The instantiation's native code for a call doing `work` (see [`kiln_cpu::cuts::work`]),
    /// compiled on first use (once, whatever the number of threads asking).
    ///
    /// Tiered like a JIT: while the optimized code is not ready, a call of less than
    /// [`kiln_cpu::tier::TIER0_WORK`] runs tier 0 (the same CLIF compiled without Cranelift's optimizer, in
    /// about half the time, bit for bit the same results) and starts the optimized compile on
    /// a background thread; later calls use the optimized code once it is there. A bigger call
    /// compiles (or waits for) the optimized code itself: its run time dwarfs the compile.
    pub(super) fn cpu_program<'i>(&self, inst: &'i Arc<Instance>, work: u64) -> Result<&'i kiln_cpu::CpuProgram> {
        let err = |e: &Arc<BackendError>| Error::backend(self.name(), Device::Cpu, e.clone());
        if let Some(p) = inst.cpu.get() {
            return p.as_ref().map_err(err);
        }
        let first = !inst.cpu_started.swap(true, Ordering::AcqRel);
        if first {
            self.cpu_compiles.fetch_add(1, Ordering::Relaxed);
        }
        if kiln_cpu::tier::tier0(work) {
            let fast = inst.cpu_fast.get_or_init(|| {
                self.cpu_tier0_compiles.fetch_add(1, Ordering::Relaxed);
                let lowered = self.lowered_built(inst).as_ref().map_err(Arc::clone)?;
                let opts = kiln_cpu::CompileOptions { fast: true, ..Default::default() };
                let result = kiln_cpu::compile_with(&lowered.loops, &opts).map_err(built_error);
                if let (Ok(p), true) = (&result, debug::level() >= 1) {
                    let ms = p.compile_micros() as f64 / 1e3;
                    tracing::info!("kernel {}: tier 0 compiled for cpu in {ms:.3} ms", self.name());
                }
                result
            });
            // The first caller queues the optimized compile once its own code is ready (if
            // the queue is gone, this call compiles it, below).
            let spawned = !first || {
                let (bg, name) = (inst.clone(), self.name().to_string());
                let (done, rx) = std::sync::mpsc::channel::<()>();
                *inst.cpu_job.lock().unwrap_or_else(|e| e.into_inner()) = Some(rx);
                background(Box::new(move || {
                    if !bg.cancelled.load(Ordering::Acquire) {
                        bg.cpu.get_or_init(|| compile_optimized(&bg, &name));
                    }
                    // Let go of the instance (its JIT memory, if the kernel is gone) before
                    // saying the job is over.
                    drop(bg);
                    drop(done);
                }))
            };
            if let (true, Ok(p)) = (spawned, fast) {
                // The optimized code may have finished meanwhile.
                return Ok(inst.cpu.get().and_then(|r| r.as_ref().ok()).unwrap_or(p));
            }
        }
        self.lowered(inst)?;
        inst.cpu.get_or_init(|| compile_optimized(inst, self.name())).as_ref().map_err(err)
    }

    pub(super) fn cuda_program<'i>(&self, inst: &'i Instance) -> Result<&'i kiln_cuda::CudaProgram> {
        let lowered = self.lowered(inst)?;
        let program = inst.cuda.get_or_init(|| {
            let result = kiln_cuda::emit(&lowered.loops).map_err(built_error);
            if let (Ok(p), true) = (&result, debug::level() >= 3) {
                tracing::info!("kernel {} CUDA C:\n{}", self.name(), p.source);
            }
            result
        });
        // Emission errors are never device failures: the device named here is not reported.
        program.as_ref().map_err(|e| Error::backend(self.name(), INSPECT_GPU, e.clone()))
    }

    /// The instantiation compiled for the CUDA simulator, once.
    pub(super) fn sim_program<'i>(&self, inst: &'i Instance) -> Result<&'i kiln_cuda::SimProgram> {
        let cuda = self.cuda_program(inst)?;
        let program = inst.sim.get_or_init(|| {
            self.sim_compiles.fetch_add(1, Ordering::Relaxed);
            let start = Instant::now();
            let result = kiln_cuda::compile_sim(cuda).map_err(built_error);
            if debug::level() >= 1 {
                tracing::info!(
                    "kernel {}: compiled for cuda-sim in {:.1} ms",
                    self.name(),
                    start.elapsed().as_secs_f64() * 1e3
                );
            }
            result
        });
        program.as_ref().map_err(|e| Error::backend(self.name(), Device::CudaSim, e.clone()))
    }
}

/// The optimized native code of `inst` (lowered already), with the debug output of
/// `KILN_DEBUG` levels 1, 3 and 4.
fn compile_optimized(inst: &Instance, name: &str) -> Built<kiln_cpu::CpuProgram> {
    let lowered = match inst.lowered.get() {
        Some(Ok(l)) => l,
        Some(Err(e)) => return Err(e.clone()),
        None => return Err(built_error(BackendError::Invariant(format!("kernel `{name}` compiled before lowering")))),
    };
    let result = kiln_cpu::compile(&lowered.loops).map_err(built_error);
    if let Ok(p) = &result {
        if debug::level() >= 1 {
            tracing::info!("kernel {name}: compiled for cpu in {:.3} ms", p.compile_micros() as f64 / 1e3);
        }
        if debug::level() >= 3 {
            let opts = kiln_cpu::CompileOptions { inspect: true, ..Default::default() };
            if let Ok(text) = kiln_cpu::compile_with(&lowered.loops, &opts) {
                tracing::info!("kernel {name} CLIF:\n{}", text.clif());
                if debug::level() >= 4 {
                    tracing::info!("kernel {name} assembly:\n{}", text.asm().unwrap_or_default());
                }
            }
        }
    }
    result
}

type Job = Box<dyn FnOnce() + Send>;

/// Run `job` on the one background compile thread (started on first use, at the lowest CPU
/// priority): optimized compiles run one at a time and yield to the threads running kernels,
/// so a program calling several new kernels in a row is not slowed by their tier-up. False
/// when the thread cannot be started.
fn background(job: Job) -> bool {
    static QUEUE: OnceLock<Option<Mutex<std::sync::mpsc::Sender<Job>>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let worker = move || {
            // Linux only: there `PRIO_PROCESS` with id 0 names the calling thread alone; on other
            // systems it would lower the whole process.
            #[cfg(target_os = "linux")]
            {
                // SAFETY: setpriority takes no pointers; it changes the calling thread's nice
                // value.
                unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
            }
            while let Ok(job) = rx.recv() {
                // A job that panics (a compiler bug) ends alone: its instance's `cpu` stays
                // empty (a call needing it compiles it on its own thread), and this thread
                // lives on for the other kernels' jobs.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
        };
        std::thread::Builder::new().name("kiln-jit".into()).spawn(worker).ok().map(|_| Mutex::new(tx))
    });
    match queue {
        Some(tx) => tx.lock().unwrap_or_else(|e| e.into_inner()).send(job).is_ok(),
        None => false,
    }
}
