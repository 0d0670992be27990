//! Calling a kernel: validating arguments, binding shape symbols and dispatching to a device,
//! with the interpreter naming the element when native code raised an error flag.

use super::{Instance, Kernel};
use crate::args::{Arg, OutArg};
use crate::debug;
use crate::device::Device;
use crate::error::{BackendError, Error, Result};
use crate::tensor::{AnyTensor, TensorArg};
use kiln_ir::{DType, Value};
use std::time::Instant;

impl Kernel {
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

    pub(super) fn call_impl(
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
                let program = self.cpu_program(&inst, kiln_cpu::cuts::work(&lowered.loops, &syms))?;
                let run = crate::cpu::run(program, &lowered.loops, &args, &syms, into.as_deref_mut());
                match run.map_err(|e| Error::from_frame(self.name(), device, e))? {
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
    pub(super) fn check_into(&self, inst: &Instance, syms: &[usize], out: &OutArg<'_>) -> Result<()> {
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
                .enumerate()
                .map(|(i, (a, up))| match (a, up) {
                    (_, Some(t)) => Ok(t),
                    (TensorArg::Tensor(t), None) => Ok(*t),
                    _ => Err(self.mismatch(i, None, None, device)),
                })
                .collect::<Result<_>>()?;
            let host_args = || refs.iter().map(|t| t.to_value()).collect::<Result<Vec<_>>>();
            return self.run_gpu_checked(&inst, device, &refs, &syms, host_args);
        }
        let host: Vec<Arg<'_>> = args
            .iter()
            .enumerate()
            .map(|(i, a)| match a {
                TensorArg::Scalar(a) | TensorArg::Host(a) => Ok(a.clone()),
                TensorArg::Tensor(t) => {
                    t.host_value().map(Arg::from_value).ok_or_else(|| self.mismatch(i, Some(t.device()), None, device))
                }
            })
            .collect::<Result<_>>()?;
        let outs = self.call_on(device, float, host)?;
        Ok(outs.into_iter().map(|v| AnyTensor::host(device, v)).collect())
    }

    /// The device a tensor call runs on: the one all its tensors share.
    pub(super) fn tensor_device(&self, args: &[TensorArg<'_>]) -> Result<Device> {
        let mut on: Option<(usize, Device)> = None;
        for (i, a) in args.iter().enumerate() {
            if let TensorArg::Tensor(t) = a {
                match on {
                    Some((j, d)) if d != t.device() => {
                        return Err(self.mismatch(j, Some(d), Some(i), t.device()));
                    }
                    None => on = Some((i, t.device())),
                    _ => {}
                }
            }
        }
        let Some((j, device)) = on else { return Ok(Device::default_device()) };
        if matches!(device, Device::CudaSim | Device::Cuda(_)) {
            if let Some(i) = args.iter().position(|a| matches!(a, TensorArg::Host(_))) {
                return Err(self.mismatch(i, None, Some(j), device));
            }
        }
        Ok(device)
    }

    /// [`Error::DeviceMismatch`]: parameter `arg` lives on `found` (`None`: the host) while the
    /// call runs on `expected`, where parameter `with` lives (if a parameter decided it).
    pub(super) fn mismatch(&self, arg: usize, found: Option<Device>, with: Option<usize>, expected: Device) -> Error {
        let name = |i: usize| self.program.params.get(i).map_or_else(|| format!("#{i}"), |p| p.name.clone());
        Error::DeviceMismatch { kernel: self.name().into(), arg: name(arg), found, with: with.map(name), expected }
    }

    /// Run on a GPU; an error flag raised there is reported precisely by the interpreter on
    /// the host copies `host_args` makes (only on that error path).
    pub(super) fn run_gpu_checked(
        &self,
        inst: &Instance,
        device: Device,
        args: &[&AnyTensor],
        syms: &[usize],
        host_args: impl FnOnce() -> Result<Vec<Value>>,
    ) -> Result<Vec<AnyTensor>> {
        let Device::Cuda(ordinal) = device else {
            return Err(Error::invariant(self.name(), format!("{device} is not a gpu")));
        };
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

    pub(super) fn run_gpu(
        &self,
        inst: &Instance,
        device: Device,
        args: &[&AnyTensor],
        syms: &[usize],
        host: &[Arg<'_>],
    ) -> Result<Vec<AnyTensor>> {
        self.run_gpu_checked(inst, device, args, syms, || Ok(host.iter().map(Arg::to_value).collect()))
    }

    pub(super) fn run_interp(&self, inst: &Instance, args: &[Arg<'_>]) -> Result<Vec<Value>> {
        let values: Vec<Value> = args.iter().map(Arg::to_value).collect();
        kiln_ir::interp::run(&inst.program, &values).map_err(|e| self.interp_error(e))
    }
}
