//! Kernel handles: a kernel's IR plus, per instantiation, its lowered forms, built once.

use crate::args::{Arg, OutArg};
use crate::debug;
use crate::device::Device;
use crate::error::{BackendError, Error, Result};
use crate::tensor::{AnyTensor, TensorArg};
use kiln_ir::interp::InterpError;
use kiln_ir::loops::LoopProgram;
use kiln_ir::lower::PassRecord;
use kiln_ir::{DType, ElemTy, Program, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

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
type Built<T> = std::result::Result<T, Arc<BackendError>>;

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

    /// Microseconds spent lowering and JIT-compiling the instantiation `float` for the CPU
    /// (compiling it first if needed).
    pub fn cpu_compile_micros(&self, float: Option<DType>) -> Result<u128> {
        let inst = self.instance(float)?;
        let lowered = self.lowered(&inst)?;
        let lower_us: u128 = lowered.passes.iter().map(|p| p.micros).sum();
        Ok(lower_us + self.cpu_program(&inst, u64::MAX)?.compile_micros())
    }

    /// Cranelift IR of every kernel of the instantiation `float`, before and after
    /// Cranelift's optimizer.
    pub fn clif(&self, float: Option<DType>) -> Result<String> {
        Ok(self.inspect_cpu(float)?.clif().to_string())
    }

    /// Machine code of every kernel of the instantiation `float`: x86 assembly with the
    /// `disas` feature, else Cranelift's listing of machine instructions.
    pub fn asm(&self, float: Option<DType>) -> Result<String> {
        Ok(self.inspect_cpu(float)?.asm().unwrap_or_default().to_string())
    }

    /// A separate compilation that keeps the inspection text (it costs compile time, so the
    /// cached program does not carry it).
    fn inspect_cpu(&self, float: Option<DType>) -> Result<kiln_cpu::CpuProgram> {
        let inst = self.instance(float)?;
        let lowered = self.lowered(&inst)?;
        let opts = kiln_cpu::CompileOptions { inspect: true, ..Default::default() };
        kiln_cpu::compile_with(&lowered.loops, &opts).map_err(|e| self.backend_error(Device::Cpu, e))
    }

    /// The CUDA C of the instantiation `float`: exactly the text NVRTC and the simulator
    /// compile.
    pub fn cuda(&self, float: Option<DType>) -> Result<String> {
        let inst = self.instance(float)?;
        Ok(self.cuda_program(&inst)?.source.clone())
    }

    /// PTX of the instantiation `float` for `arch` (NVRTC must be available; see
    /// `kiln_cuda::tools`).
    pub fn ptx(&self, float: Option<DType>, arch: kiln_cuda::nvrtc::Arch) -> Result<String> {
        let inst = self.instance(float)?;
        let source = &self.cuda_program(&inst)?.source;
        let compiled = kiln_cuda::nvrtc::compile_ptx(source, arch).map_err(|e| self.backend_error(INSPECT_GPU, e))?;
        Ok(compiled.ptx)
    }

    /// `ptxas -v`'s resource report (registers, spills, shared memory) of every kernel of the
    /// instantiation `float` for `arch`.
    pub fn ptxas(
        &self,
        float: Option<DType>,
        arch: kiln_cuda::nvrtc::Arch,
    ) -> Result<Vec<kiln_cuda::tools::KernelResources>> {
        let ptx = self.ptx(float, arch)?;
        kiln_cuda::tools::ptxas_report(&ptx, arch).map_err(|e| self.backend_error(INSPECT_GPU, e))
    }

    /// The program after each lowering pass, for the instantiation `float`
    /// (`None` for non-generic kernels).
    pub fn passes(&self, float: Option<DType>) -> Result<Vec<PassRecord>> {
        let inst = self.instance(float)?;
        let lowered = self.lowered(&inst)?;
        Ok(lowered.passes.clone())
    }

    /// The loop IR for the instantiation `float`.
    pub fn loops(&self, float: Option<DType>) -> Result<LoopProgram> {
        let inst = self.instance(float)?;
        let lowered = self.lowered(&inst)?;
        Ok(lowered.loops.clone())
    }

    /// Call on the device the arguments live on: host arrays run on
    /// [`Device::default_device`]. `float` fixes a generic kernel's `F`; when `None`, it is
    /// taken from the first argument whose parameter has type `F`.
    pub fn call(&self, float: Option<DType>, args: Vec<Arg<'_>>) -> Result<Vec<Value>> {
        self.call_on(Device::default_device(), float, args)
    }

    /// Call on an explicit device.
    pub fn call_on(&self, device: Device, float: Option<DType>, args: Vec<Arg<'_>>) -> Result<Vec<Value>> {
        self.call_impl(device, float, args, None)
    }

    /// Call on host arrays (on [`Device::default_device`]) writing the kernel's one output into
    /// `out`, a caller's array of the output's dtype and shape in any layout, instead of a new
    /// array (numpy's `out=`: a loop that reuses its output skips allocating and first-touching
    /// fresh memory). What `#[kernel]`'s `NAME::into(out, ...)` calls. On the CPU the kernel
    /// stores straight into `out`; other devices compute a new array and copy it in.
    ///
    /// # Errors
    /// [`Error::OutMismatch`] when the kernel has more than one output or `out` has another
    /// dtype or shape; everything [`Kernel::call_on`] rejects. On an error `out` may have been
    /// partly written.
    pub fn call_into(&self, float: Option<DType>, args: Vec<Arg<'_>>, mut out: OutArg<'_>) -> Result<()> {
        self.call_impl(Device::default_device(), float, args, Some(&mut out)).map(drop)
    }

    fn call_impl(
        &self,
        device: Device,
        float: Option<DType>,
        args: Vec<Arg<'_>>,
        mut into: Option<&mut OutArg<'_>>,
    ) -> Result<Vec<Value>> {
        let float = self.resolve_float(float, &args)?;
        let inst = self.instance(float)?;
        let shapes: Vec<(DType, &[usize])> = args.iter().map(|a| (a.dtype(), a.shape())).collect();
        let scalars: Vec<Option<i64>> = args.iter().map(Arg::as_index).collect();
        let syms = kiln_ir::shapes::bind_with_scalars(&inst.program, None, &shapes, &scalars)?;
        if let Some(out) = into.as_deref() {
            self.check_into(&inst, &syms, out)?;
        }
        if debug::level() >= 2 {
            // Show the lowering even on the interpreter, which runs the array IR itself.
            self.lowered(&inst)?;
        }
        let start = Instant::now();
        let outs = match device {
            Device::Interp => self.run_interp(&inst, &args)?,
            Device::Cpu => {
                let lowered = self.lowered(&inst)?;
                let program = self.cpu_program(&inst, crate::cpu::work(&lowered.loops, &syms))?;
                let run = crate::cpu::run(program, &lowered.loops, &args, &syms, into.as_deref_mut());
                match run.map_err(|e| Error::from_frame(self.name(), e))? {
                    Ok(outs) => outs,
                    // The native code only knows that a flag was raised; the interpreter
                    // names the array, axis and index (and is only run on this error path).
                    Err(flag) => {
                        self.run_interp(&inst, &args)?;
                        return Err(self.backend_error(device, BackendError::Flag { device, flag }));
                    }
                }
            }
            Device::CudaSim => {
                let sim = self.sim_program(&inst)?;
                let lowered = self.lowered(&inst)?;
                let values: Vec<Value> = args.iter().map(Arg::to_value).collect();
                match kiln_cuda::run_sim(sim, &lowered.loops, &values) {
                    Ok(outs) => outs,
                    Err(kiln_cuda::SimError::Flag(flag)) => {
                        // As on the CPU: the interpreter names the array, axis and index.
                        self.run_interp(&inst, &args)?;
                        return Err(self.backend_error(device, BackendError::Flag { device, flag }));
                    }
                    Err(e) => return Err(self.backend_error(device, e)),
                }
            }
            Device::Cuda(_) => {
                // Host arrays on a GPU: the caller chose the device (`with_device`, `KILN_DEVICE`),
                // so copy in, run, copy out.
                let tensors =
                    args.iter().map(|a| AnyTensor::from_value(&a.to_value(), device)).collect::<Result<Vec<_>>>()?;
                let refs: Vec<&AnyTensor> = tensors.iter().collect();
                let outs = self.run_gpu(&inst, device, &refs, &syms, &args)?;
                outs.iter().map(AnyTensor::to_value).collect::<Result<Vec<_>>>()?
            }
        };
        // Devices other than the CPU computed a new array: copy it into the caller's.
        if let (Some(out), false) = (into, device == Device::Cpu) {
            let have = format!("{}{:?}", out.dtype(), out.shape());
            let mismatch =
                |expected: String| Error::OutMismatch { kernel: self.name().into(), got: have.clone(), expected };
            let v = outs.first().ok_or_else(|| mismatch("nothing".into()))?;
            if !out.assign(v) {
                return Err(mismatch(format!("{}{:?}", v.dtype(), v.shape())));
            }
        }
        if debug::level() >= 1 {
            tracing::info!(
                "kernel {} on {device}: {:.3} ms (shapes {:?})",
                self.name(),
                start.elapsed().as_secs_f64() * 1e3,
                shapes.iter().map(|s| s.1).collect::<Vec<_>>()
            );
        }
        Ok(outs)
    }

    /// `out` can take the instantiation's one output under the bound symbols `syms`.
    fn check_into(&self, inst: &Instance, syms: &[usize], out: &OutArg<'_>) -> Result<()> {
        let lowered = self.lowered(inst)?;
        let lp = &lowered.loops;
        let want = match lp.outputs[..] {
            [b] => {
                let buf = lp.buffer(b);
                let shape: Vec<usize> = buf.shape.iter().map(|d| kiln_ir::shapes::dim_value(*d, syms)).collect();
                format!("{}{:?}", buf.dtype, shape)
            }
            _ => format!("{} outputs", lp.outputs.len()),
        };
        let got = format!("{}{:?}", out.dtype(), out.shape());
        if got != want {
            return Err(Error::OutMismatch { kernel: self.name().into(), got, expected: want });
        }
        Ok(())
    }

    /// Call with tensors (or host arrays, or scalars): runs on the device the tensors live on
    /// (host arrays alone run on [`Device::default_device`]) and returns the outputs as tensors
    /// on that device. What `#[kernel]`'s `NAME::tensors(...)` entry point calls.
    ///
    /// # Errors
    /// [`Error::DeviceMismatch`] for tensors on different devices, or a host array beside a
    /// tensor on `CudaSim` or a GPU; everything [`Kernel::call_on`] rejects.
    pub fn call_tensors(&self, float: Option<DType>, args: Vec<TensorArg<'_>>) -> Result<Vec<AnyTensor>> {
        let device = self.tensor_device(&args)?;
        if let Device::Cuda(_) = device {
            let dtypes: Vec<DType> = args.iter().map(TensorArg::dtype).collect();
            let float = self.resolve_float_dtypes(float, &dtypes)?;
            let inst = self.instance(float)?;
            let shapes: Vec<(DType, &[usize])> = args.iter().map(|a| (a.dtype(), a.shape())).collect();
            let scalars: Vec<Option<i64>> = args
                .iter()
                .map(|a| match a {
                    TensorArg::Scalar(s) => s.as_index(),
                    _ => None,
                })
                .collect();
            let syms = kiln_ir::shapes::bind_with_scalars(&inst.program, None, &shapes, &scalars)?;
            // Scalars travel to the device with the call.
            let uploaded: Vec<Option<AnyTensor>> = args
                .iter()
                .map(|a| match a {
                    TensorArg::Scalar(s) => AnyTensor::from_value(&s.to_value(), device).map(Some),
                    _ => Ok(None),
                })
                .collect::<Result<_>>()?;
            let refs: Vec<&AnyTensor> = args
                .iter()
                .zip(&uploaded)
                .map(|(a, up)| match (a, up) {
                    (_, Some(t)) => Ok(t),
                    (TensorArg::Tensor(t), None) => Ok(*t),
                    _ => Err(self.mismatch(format!("a host array cannot be used on {device}"))),
                })
                .collect::<Result<_>>()?;
            let host_args = || refs.iter().map(|t| t.to_value()).collect::<Result<Vec<_>>>();
            return self.run_gpu_checked(&inst, device, &refs, &syms, host_args);
        }
        let host: Vec<Arg<'_>> = args
            .iter()
            .map(|a| match a {
                TensorArg::Scalar(a) | TensorArg::Host(a) => Ok(a.clone()),
                TensorArg::Tensor(t) => t
                    .host_value()
                    .map(Arg::from_value)
                    .ok_or_else(|| self.mismatch(format!("a tensor on {} cannot run on {device}", t.device()))),
            })
            .collect::<Result<_>>()?;
        let outs = self.call_on(device, float, host)?;
        Ok(outs.into_iter().map(|v| AnyTensor::host(device, v)).collect())
    }

    /// The device a tensor call runs on: the one all its tensors share.
    fn tensor_device(&self, args: &[TensorArg<'_>]) -> Result<Device> {
        let name = |i: usize| self.program.params.get(i).map_or_else(|| format!("#{i}"), |p| p.name.clone());
        let mut on: Option<(usize, Device)> = None;
        for (i, a) in args.iter().enumerate() {
            if let TensorArg::Tensor(t) = a {
                match on {
                    Some((j, d)) if d != t.device() => {
                        return Err(self.mismatch(format!(
                            "`{}` is on {d} but `{}` is on {}: move one with `Tensor::to_device`",
                            name(j),
                            name(i),
                            t.device()
                        )))
                    }
                    None => on = Some((i, t.device())),
                    _ => {}
                }
            }
        }
        let Some((j, device)) = on else { return Ok(Device::default_device()) };
        if matches!(device, Device::CudaSim | Device::Cuda(_)) {
            if let Some(i) = args.iter().position(|a| matches!(a, TensorArg::Host(_))) {
                return Err(self.mismatch(format!(
                    "`{}` is a host array but `{}` is on {device}: make it a tensor there with \
                     `Tensor::from_array(&{}, Device::{device:?})`",
                    name(i),
                    name(j),
                    name(i)
                )));
            }
        }
        Ok(device)
    }

    fn mismatch(&self, message: String) -> Error {
        Error::DeviceMismatch { kernel: self.name().into(), message }
    }

    /// Run on a GPU; an error flag raised there is reported precisely by the interpreter on
    /// the host copies `host_args` makes (only on that error path).
    fn run_gpu_checked(
        &self,
        inst: &Instance,
        device: Device,
        args: &[&AnyTensor],
        syms: &[usize],
        host_args: impl FnOnce() -> Result<Vec<Value>>,
    ) -> Result<Vec<AnyTensor>> {
        let Device::Cuda(ordinal) = device else { return Err(self.mismatch(format!("{device} is not a gpu"))) };
        let dev = kiln_cuda::driver::CudaDevice::open(ordinal).map_err(|e| crate::tensor::cuda_error(device, e))?;
        let module = self.gpu_module(inst, &dev)?;
        let lowered = self.lowered(inst)?;
        let prog = self.cuda_program(inst)?;
        match crate::cuda::run(&dev, &module, prog, &lowered.loops, args, syms)? {
            Ok(outs) => Ok(outs),
            Err(flag) => {
                let values = host_args()?;
                kiln_ir::interp::run(&inst.program, &values).map_err(|e| self.interp_error(e))?;
                Err(self.backend_error(device, BackendError::Flag { device, flag }))
            }
        }
    }

    fn run_gpu(
        &self,
        inst: &Instance,
        device: Device,
        args: &[&AnyTensor],
        syms: &[usize],
        host: &[Arg<'_>],
    ) -> Result<Vec<AnyTensor>> {
        self.run_gpu_checked(inst, device, args, syms, || Ok(host.iter().map(Arg::to_value).collect()))
    }

    /// The instantiation's module on one GPU, compiled (NVRTC, for the device's architecture)
    /// and loaded once per device.
    fn gpu_module(
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

    fn lowered<'i>(&self, inst: &'i Instance) -> Result<&'i Lowered> {
        self.lowered_built(inst).as_ref().map_err(|e| Error::Internal { kernel: self.name().into(), source: e.clone() })
    }

    /// The instantiation's loop IR, lowered on first use, with a failure kept typed.
    fn lowered_built<'i>(&self, inst: &'i Instance) -> &'i Built<Lowered> {
        inst.lowered.get_or_init(|| {
            self.lowerings.fetch_add(1, Ordering::Relaxed);
            let start = Instant::now();
            let result = kiln_ir::lower::lower_traced(&inst.program);
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

    fn run_interp(&self, inst: &Instance, args: &[Arg<'_>]) -> Result<Vec<Value>> {
        let values: Vec<Value> = args.iter().map(Arg::to_value).collect();
        kiln_ir::interp::run(&inst.program, &values).map_err(|e| self.interp_error(e))
    }

    /// The instantiation's native code for a call doing `work` (see [`crate::cpu::work`]),
    /// compiled on first use (once, whatever the number of threads asking).
    ///
    /// Tiered like a JIT: while the optimized code is not ready, a call of less than
    /// [`TIER0_WORK`] runs tier 0 (the same CLIF compiled without Cranelift's optimizer, in
    /// about half the time, bit for bit the same results) and starts the optimized compile on
    /// a background thread; later calls use the optimized code once it is there. A bigger call
    /// compiles (or waits for) the optimized code itself: its run time dwarfs the compile.
    fn cpu_program<'i>(&self, inst: &'i Arc<Instance>, work: u64) -> Result<&'i kiln_cpu::CpuProgram> {
        let err = |e: &Arc<BackendError>| Error::backend(self.name(), Device::Cpu, e.clone());
        if let Some(p) = inst.cpu.get() {
            return p.as_ref().map_err(err);
        }
        let first = !inst.cpu_started.swap(true, Ordering::AcqRel);
        if first {
            self.cpu_compiles.fetch_add(1, Ordering::Relaxed);
        }
        if work < TIER0_WORK && tiering() {
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

    fn cuda_program<'i>(&self, inst: &'i Instance) -> Result<&'i kiln_cuda::CudaProgram> {
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
    fn sim_program<'i>(&self, inst: &'i Instance) -> Result<&'i kiln_cuda::SimProgram> {
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

    fn backend_error(&self, device: Device, e: impl Into<BackendError>) -> Error {
        Error::backend(self.name(), device, e.into())
    }

    fn interp_error(&self, e: InterpError) -> Error {
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

/// Calls doing less work than this (domain points times inner trips) run tier-0 code while a
/// kernel's optimized code is compiled in the background (see `Kernel::cpu_program`): tier 0
/// saves about a millisecond of compile and costs at most about 2x the optimized run time,
/// which stays under that below roughly this much work.
pub const TIER0_WORK: u64 = 1 << 18;

/// Tiered CPU compilation is on unless `KILN_TIERS=0` (to time the optimized compile alone).
fn tiering() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("KILN_TIERS").map(|v| v != "0").unwrap_or(true))
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
fn built_error(e: impl Into<BackendError>) -> Arc<BackendError> {
    Arc::new(e.into())
}

/// The device named for CUDA C emission and PTX inspection, which target no particular GPU.
const INSPECT_GPU: Device = Device::Cuda(0);

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
