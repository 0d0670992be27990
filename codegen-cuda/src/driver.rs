//! `Device::Cuda(n)` through cudarc's driver API: one context per device ordinal, device
//! buffers, host<->device copies, modules built by NVRTC for the device's own architecture, and
//! kernel launches with the emitter's by-value argument struct (see [`crate::emit`]: a `[u64]`).
//!
//! cudarc's driver calls panic when `libcuda.so` is absent, so every entry point first checks
//! [`driver_available`] and answers [`CudaError::NoCudaDriver`]; what could still unwind out of
//! cudarc (a missing symbol in an unexpected driver build) is caught and turned into an error.
//! All work of one device goes through one stream, so copies and launches run in issue order.
//!
//! The module loads a cubin for the device's compute capability, never PTX: PTX from NVRTC 13.5
//! is ISA 9.5, newer than what a CUDA 13.0 driver accepts, while a cubin needs no JIT at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaStream, DevicePtr, DeviceRepr, DriverError, ValidAsZeroBits,
};

use crate::nvrtc::{self, Arch, CudaError};

/// Device buffers, as [`CudaDevice::alloc_zeros`] and [`CudaDevice::upload`] return them.
pub use cudarc::driver::CudaSlice;

/// Whether `libcuda.so` can be loaded (it cannot on machines without an NVIDIA driver).
pub fn driver_available() -> bool {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    *PRESENT.get_or_init(|| {
        std::panic::catch_unwind(|| {
            // SAFETY: is_culib_present only tries `dlopen` on candidate names and drops the
            // handles.
            unsafe { cudarc::driver::sys::is_culib_present() }
        })
        .unwrap_or(false)
    })
}

/// Runs a cudarc call, turning its error (or an unexpected unwind) into [`CudaError::Driver`].
fn call<T>(name: &'static str, f: impl FnOnce() -> Result<T, DriverError>) -> Result<T, CudaError> {
    if !driver_available() {
        return Err(CudaError::NoCudaDriver);
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(CudaError::Driver { call: name, message: e.to_string() }),
        Err(_) => Err(CudaError::Driver { call: name, message: "the cuda driver library panicked".into() }),
    }
}

/// The number of CUDA devices (0 without a driver).
pub fn device_count() -> usize {
    call("cuDeviceGetCount", CudaContext::device_count).map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// The freed device memory a device's pool keeps cached (its release threshold): 1 GiB, the
/// host pool's default bound too ([`CudaDevice::set_pool_limit`]).
pub const DEFAULT_POOL_LIMIT: u64 = 1 << 30;

/// One CUDA device: its primary context, the stream all its work goes through, its architecture.
#[derive(Debug)]
pub struct CudaDevice {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    arch: Arch,
    /// cuBLAS on `stream`, made on first use; `None` where libcublas cannot be loaded.
    blas: OnceLock<Option<Blas>>,
}

/// A cuBLAS handle (cudarc's `CudaBlas`, which has no `Debug`).
struct Blas(cudarc::cublas::CudaBlas);

impl std::fmt::Debug for Blas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CudaBlas")
    }
}

impl CudaDevice {
    /// The device with this ordinal, its context created on first use and shared afterwards.
    ///
    /// # Errors
    ///
    /// [`CudaError::NoCudaDriver`] without libcuda, [`CudaError::NoDevice`] for an ordinal past
    /// the device count, [`CudaError::Driver`] when the driver fails.
    pub fn open(ordinal: usize) -> Result<Arc<CudaDevice>, CudaError> {
        static DEVICES: OnceLock<Mutex<HashMap<usize, Arc<CudaDevice>>>> = OnceLock::new();
        if !driver_available() {
            return Err(CudaError::NoCudaDriver);
        }
        let count = device_count();
        if ordinal >= count {
            return Err(CudaError::NoDevice { ordinal, count });
        }
        let devices = DEVICES.get_or_init(Mutex::default);
        let mut devices = devices.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(dev) = devices.get(&ordinal) {
            return Ok(dev.clone());
        }
        let ctx = call("cuCtxCreate", || CudaContext::new(ordinal))?;
        let (major, minor) = call("cuDeviceGetAttribute", || ctx.compute_capability())?;
        let arch = Arch::from_compute_capability(major.unsigned_abs(), minor.unsigned_abs());
        let stream = ctx.default_stream();
        let dev = Arc::new(CudaDevice { ctx, stream, arch, blas: OnceLock::new() });
        // Buffers come from the device's stream-ordered pool (cudarc allocates with
        // `cuMemAllocAsync` where the device has pools); by default the pool gives freed memory
        // back at every synchronization, so keep up to `DEFAULT_POOL_LIMIT` bytes cached.
        dev.set_pool_limit(DEFAULT_POOL_LIMIT)?;
        devices.insert(ordinal, dev.clone());
        Ok(dev)
    }

    /// The device's stream-ordered memory pool (`cuDeviceGetDefaultMemPool`), where it has one.
    fn pool(&self) -> Result<Option<cudarc::driver::sys::CUmemoryPool>, CudaError> {
        if !self.ctx.has_async_alloc() {
            return Ok(None);
        }
        // SAFETY: `cu_device` is the device of a live context (`self.ctx`).
        call("cuDeviceGetDefaultMemPool", || unsafe {
            cudarc::driver::result::device::get_default_mem_pool(self.ctx.cu_device())
        })
        .map(Some)
    }

    /// Keep up to `bytes` of freed device memory cached in the device's pool for the next
    /// allocations (its release threshold), as CuPy's and PyTorch's pools do; 0 gives freed
    /// memory back at each synchronization. Nothing to do on a device without pools.
    ///
    /// # Errors
    ///
    /// [`CudaError::Driver`] when the driver fails.
    pub fn set_pool_limit(&self, bytes: u64) -> Result<(), CudaError> {
        let Some(pool) = self.pool()? else { return Ok(()) };
        let mut value = bytes;
        let attr = cudarc::driver::sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD;
        // SAFETY: `pool` is the device's default pool; the release threshold is a `cuuint64_t`,
        // which `value` is, alive for the call.
        call("cuMemPoolSetAttribute", || unsafe {
            cudarc::driver::result::mem_pool::set_attribute(pool, attr, (&raw mut value).cast())
        })
    }

    /// Give the device memory cached in the pool back to the driver (after the work issued so
    /// far has finished): `torch.cuda.empty_cache()`.
    ///
    /// # Errors
    ///
    /// [`CudaError::Driver`] when the driver fails.
    pub fn release_pool(&self) -> Result<(), CudaError> {
        let Some(pool) = self.pool()? else { return Ok(()) };
        call("cuStreamSynchronize", || self.stream.synchronize())?;
        // SAFETY: `pool` is the device's default pool, valid while its context lives.
        call("cuMemPoolTrimTo", || unsafe { cudarc::driver::result::mem_pool::trim_to(pool, 0) })
    }

    /// The device's architecture (its compute capability), what modules are compiled for.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The device ordinal.
    pub fn ordinal(&self) -> usize {
        self.ctx.ordinal()
    }

    /// The device's name (e.g. "NVIDIA H100 80GB HBM3").
    ///
    /// # Errors
    ///
    /// [`CudaError::Driver`] when the driver fails.
    pub fn name(&self) -> Result<String, CudaError> {
        call("cuDeviceGetName", || self.ctx.name())
    }

    /// A zero-filled device buffer of `len` elements.
    ///
    /// # Errors
    ///
    /// [`CudaError::Driver`] (out of device memory, ...).
    pub fn alloc_zeros<T: DeviceRepr + ValidAsZeroBits>(&self, len: usize) -> Result<CudaSlice<T>, CudaError> {
        call("cuMemAlloc", || self.stream.alloc_zeros(len))
    }

    /// Copies a host slice to a new device buffer.
    ///
    /// # Errors
    ///
    /// [`CudaError::Driver`].
    pub fn upload<T: DeviceRepr>(&self, host: &[T]) -> Result<CudaSlice<T>, CudaError> {
        call("cuMemcpyHtoD", || self.stream.clone_htod(host))
    }

    /// Copies a device buffer back to the host (waits for the work queued before it).
    ///
    /// # Errors
    ///
    /// [`CudaError::Driver`], including errors of earlier asynchronous launches.
    pub fn download<T: DeviceRepr>(&self, buf: &CudaSlice<T>) -> Result<Vec<T>, CudaError> {
        call("cuMemcpyDtoH", || self.stream.clone_dtoh(buf))
    }

    /// The address of a buffer's first element, as the argument struct wants it.
    pub fn device_ptr<T>(&self, buf: &CudaSlice<T>) -> u64 {
        let (ptr, _sync) = buf.device_ptr(&self.stream);
        ptr
    }

    /// cuBLAS on this device's stream, made on first use; `None` where libcublas cannot be
    /// loaded (cudarc would panic on its first call) or the handle cannot be made.
    fn blas(&self) -> Option<&cudarc::cublas::CudaBlas> {
        let make = || {
            // SAFETY: only loads libcublas (dlopen) and looks its symbols up.
            let present = std::panic::catch_unwind(|| unsafe { cudarc::cublas::sys::is_culib_present() });
            if !matches!(present, Ok(true)) {
                return None;
            }
            let stream = self.stream.clone();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || cudarc::cublas::CudaBlas::new(stream).ok()))
                .ok()
                .flatten()
                .map(Blas)
        };
        self.blas.get_or_init(make).as_ref().map(|b| &b.0)
    }

    /// Run `g` as `cublas{S,D}gemmStridedBatched` (alpha 1, beta 0; `f64` picks D) on this
    /// device's stream, with `a`, `b`, `c` the device addresses of its buffers. `Ok(false)`
    /// (nothing run) where cuBLAS is absent.
    ///
    /// # Errors
    /// [`CudaError::Driver`] when cuBLAS returns an error status.
    ///
    /// # Safety
    /// `a`, `b` and `c` address live device memory of this device, of the element type, holding
    /// every element the call reads or writes under `g`'s extents, leading dimensions and
    /// strides, and `c` overlaps neither operand.
    pub unsafe fn gemm(&self, g: &crate::blas::BlasGemm, f64: bool, a: u64, b: u64, c: u64) -> Result<bool, CudaError> {
        use cudarc::cublas::{result, sys::cublasOperation_t as Op};
        let Some(blas) = self.blas() else { return Ok(false) };
        let op = |o| if o == crate::blas::BlasOp::N { Op::CUBLAS_OP_N } else { Op::CUBLAS_OP_T };
        let (h, ta, tb) = (*blas.handle(), op(g.transa), op(g.transb));
        macro_rules! call {
            ($f:ident, $t:ty) => {{
                let (one, zero): ($t, $t) = (1.0, 0.0);
                // SAFETY: the caller's contract; `one` and `zero` live across the call.
                unsafe {
                    result::$f(
                        h,
                        ta,
                        tb,
                        g.m,
                        g.n,
                        g.k,
                        &one,
                        a as *const $t,
                        g.lda,
                        g.stride_a,
                        b as *const $t,
                        g.ldb,
                        g.stride_b,
                        &zero,
                        c as *mut $t,
                        g.ldc,
                        g.stride_c,
                        g.batch,
                    )
                }
            }};
        }
        let r = if f64 { call!(dgemm_strided_batched, f64) } else { call!(sgemm_strided_batched, f32) };
        r.map_err(|e| CudaError::Driver { call: "cublasGemmStridedBatched", message: e.to_string() })?;
        Ok(true)
    }

    /// Waits for all queued work of this device.
    ///
    /// # Errors
    ///
    /// [`CudaError::Driver`], including errors of earlier asynchronous launches.
    pub fn synchronize(&self) -> Result<(), CudaError> {
        call("cuStreamSynchronize", || self.stream.synchronize())
    }

    /// Compiles `source` with NVRTC for this device's architecture (through the disk cache) and
    /// loads the cubin, resolving `kernels` by name.
    ///
    /// # Errors
    ///
    /// NVRTC errors as [`nvrtc::compile_ptx`]; [`CudaError::Launch`] for a kernel name the
    /// module lacks; [`CudaError::Driver`] when loading fails.
    pub fn load(self: &Arc<Self>, source: &str, kernels: &[&str]) -> Result<CudaModuleHandle, CudaError> {
        let compiled = nvrtc::compile_ptx(source, self.arch)?;
        let module =
            call("cuModuleLoadData", || self.ctx.load_module(cudarc::nvrtc::Ptx::from_binary(compiled.cubin.clone())))?;
        let mut functions = HashMap::new();
        for &name in kernels {
            if name.contains('\0') {
                return Err(CudaError::Launch { kernel: name.into(), message: "the name contains a NUL byte".into() });
            }
            let f = call("cuModuleGetFunction", || module.load_function(name))
                .map_err(|e| CudaError::Launch { kernel: name.into(), message: e.to_string() })?;
            functions.insert(name.to_owned(), f);
        }
        Ok(CudaModuleHandle { device: self.clone(), _module: module, functions })
    }
}

/// A loaded module and its kernels.
#[derive(Debug)]
pub struct CudaModuleHandle {
    device: Arc<CudaDevice>,
    _module: Arc<CudaModule>,
    functions: HashMap<String, CudaFunction>,
}

impl CudaModuleHandle {
    /// The device it is loaded on.
    pub fn device(&self) -> &Arc<CudaDevice> {
        &self.device
    }

    /// Queues `kernel` on `grid` blocks of `block` threads with `shared_bytes` of dynamic shared
    /// memory and the by-value argument struct `args` (the emitter's `KilnArgs` as 8-byte words).
    ///
    /// # Errors
    ///
    /// [`CudaError::Launch`] for an unknown kernel, an empty grid or block, or an empty
    /// argument struct; [`CudaError::Driver`] when the driver refuses the launch.
    ///
    /// # Safety
    ///
    /// `args` must be the argument struct the kernel was compiled with, its pointers addresses
    /// of live device buffers of this device, large enough for every index the kernel computes
    /// from the other words (shapes, strides): the kernel dereferences them unchecked.
    pub unsafe fn launch(
        &self,
        kernel: &str,
        grid: u32,
        block: u32,
        shared_bytes: u32,
        args: &[u64],
    ) -> Result<(), CudaError> {
        let launch_error = |message: &str| CudaError::Launch { kernel: kernel.into(), message: message.into() };
        let f = self.functions.get(kernel).ok_or_else(|| launch_error("not in the loaded module"))?;
        if grid == 0 || block == 0 {
            return Err(launch_error("empty grid or block"));
        }
        if args.is_empty() {
            return Err(launch_error("empty argument struct"));
        }
        // cuLaunchKernel copies each parameter from the pointer given for it; the one parameter
        // is the whole struct, so its pointer is the start of `args`.
        let mut params = [args.as_ptr().cast_mut().cast::<std::ffi::c_void>()];
        let stream = self.device.stream.cu_stream();
        call("cuLaunchKernel", || {
            self.device.ctx.bind_to_thread()?;
            // SAFETY: `f` belongs to a module loaded in this context; the struct's size matches
            // the kernel's parameter (the caller's contract), and the driver copies it before
            // returning, so `args` need not outlive the launch.
            unsafe {
                cudarc::driver::result::launch_kernel(
                    f.cu_function(),
                    (grid, 1, 1),
                    (block, 1, 1),
                    shared_bytes,
                    stream,
                    &mut params,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_driver_everything_is_a_typed_error() {
        if driver_available() {
            println!("libcuda is present: the no-driver path is not exercised here");
            return;
        }
        assert_eq!(device_count(), 0);
        assert!(matches!(CudaDevice::open(0), Err(CudaError::NoCudaDriver)));
        assert!(matches!(CudaDevice::open(7), Err(CudaError::NoCudaDriver)));
    }
}
