//! `Device::Cuda(n)`: a lowered program run on a GPU through the cudarc driver, on tensors
//! that already live there. Outputs are allocated on the device and stay there.
//!
//! The same call frame as the CPU runner and the simulator ([`kiln_ir::loops::Frame`]):
//! inputs are the caller's (row-major) device buffers, outputs and temporaries are zero-filled
//! allocations of the buffer's shape under the bound symbols (a failed one is
//! [`Error::OutOfMemory`]), empty buffers point at zeroed room, and one `u32` per error flag is
//! read back after the launches; a vendor GEMM step is one cuBLAS call ([`kiln_cuda::blas`])
//! where libcublas loads, its generated kernel otherwise. No GPU exists on the machines that build kiln; this path is exercised by
//! `cargo xtask test-gpu` where one does.

use crate::device::Device;
use crate::error::{BackendError, Error, Result};
use crate::tensor::{AnyTensor, CudaBuffer, Storage};
use kiln_cuda::driver::{CudaDevice, CudaModuleHandle};
use kiln_cuda::nvrtc::CudaError;
use kiln_cuda::CudaProgram;
use kiln_ir::loops::{row_major_strides, Flag, Frame, FrameError, LoopProgram};
use std::sync::Arc;

/// Blocks per launch at most: the grid-stride loops cover larger domains.
const MAX_GRID: u32 = 1 << 16;

/// Run `lp` (emitted as `prog`, loaded as `module`) on `args` (every parameter a tensor on
/// `dev`, validated against the signature, which bound `syms`). `Err(Ok(flag))` when a kernel
/// raised an error flag.
pub(crate) fn run(
    dev: &Arc<CudaDevice>,
    module: &CudaModuleHandle,
    prog: &CudaProgram,
    lp: &LoopProgram,
    args: &[&AnyTensor],
    syms: &[usize],
) -> Result<std::result::Result<Vec<AnyTensor>, Flag>> {
    let device = Device::Cuda(dev.ordinal());
    let err = |e: CudaError| Error::backend(&lp.name, device, BackendError::from(e));
    let frame = Frame::new(lp, syms).map_err(|e| Error::from_frame(&lp.name, device, e))?;
    // A failed device allocation is the caller's `MemoryError`, as on the host.
    let alloc = |i: usize, bytes: usize| {
        dev.alloc_zeros::<u8>(bytes.max(1)).map_err(|e| match e {
            CudaError::Driver { message, .. } if message.contains("OUT_OF_MEMORY") => {
                Error::from_frame(&lp.name, device, frame.out_of_memory(i, bytes))
            }
            e => err(e),
        })
    };
    let mut owned: Vec<Option<AnyTensor>> = Vec::with_capacity(lp.buffers.len());
    let (mut ptrs, mut strides) = (Vec::new(), Vec::new());
    let mut scratch = Vec::new();
    for (i, (b, fb)) in lp.buffers.iter().zip(&frame.bufs).enumerate() {
        let shape = &fb.dims;
        let tensor = match fb.param {
            Some(k) => args[k].clone(),
            None => AnyTensor {
                device,
                dtype: b.dtype,
                shape: shape.clone(),
                storage: Storage::Cuda(Arc::new(CudaBuffer { device: dev.clone(), bytes: alloc(i, fb.bytes)? })),
            },
        };
        let Storage::Cuda(buf) = &tensor.storage else {
            return Err(Error::DeviceMismatch {
                kernel: lp.name.clone(),
                arg: b.name.clone(),
                found: (tensor.device != device).then_some(tensor.device),
                with: None,
                expected: device,
            });
        };
        if tensor.shape != *shape || tensor.dtype != b.dtype {
            let what =
                format!("buffer `{}` is {}{:?}, expected {}{shape:?}", b.name, tensor.dtype, tensor.shape, b.dtype);
            return Err(Error::invariant(&lp.name, what));
        }
        match &fb.room {
            // An empty buffer points at zeroed room for the accesses a failed index check can
            // make (see `Room`); the call then returns the check's flag.
            Some(room) => {
                let block = alloc(i, room.bytes)?;
                ptrs.push(dev.device_ptr(&block));
                strides.push(room.strides.clone());
                scratch.push(block);
            }
            None => {
                ptrs.push(dev.device_ptr(&buf.bytes));
                strides.push(row_major_strides(shape));
            }
        }
        owned.push(fb.param.is_none().then_some(tensor));
    }
    let flags = dev.alloc_zeros::<u32>(Flag::ALL.len()).map_err(err)?;
    let words = prog
        .pack_args(&ptrs, &strides, &frame.syms, dev.device_ptr(&flags))
        .ok_or_else(|| Error::invariant(&lp.name, "buffers do not match the compiled argument layout"))?;
    for (ki, k) in prog.kernels.iter().enumerate() {
        if let Some(step) = lp.kernels.get(ki).and_then(kiln_ir::loops::GemmStep::vendor) {
            if let Some(g) = kiln_cuda::blas::blas_gemm(&step, &strides, &frame.syms) {
                let at = |b: kiln_ir::loops::BufId| ptrs[b.index()];
                let f64 = step.dtype == kiln_ir::DType::F64;
                // SAFETY: as the launch below: every pointer is a live device buffer of this
                // device with its dtype and its shape under `syms`, and `blas_gemm` maps the
                // step onto exactly the elements its verified loop nest indexes; C is an output
                // or temporary allocated above, never an input.
                if unsafe { dev.gemm(&g, f64, at(g.a), at(g.b), at(g.c)) }.map_err(err)? {
                    continue;
                }
            }
        }
        let len = k.launch.len(&frame.syms).ok_or_else(|| {
            Error::from_frame(&lp.name, device, FrameError::DomainOverflow { kernel: k.name.clone() })
        })?;
        let grid = k.launch.grid_dim(len, MAX_GRID);
        if grid == 0 {
            continue;
        }
        // SAFETY: `words` is this program's `KilnArgs` image (layout checked by `pack_args`):
        // every pointer is a live device buffer of this device whose dtype and row-major shape
        // under `syms` were checked above (inputs bound against the signature by the caller,
        // outputs and temporaries allocated so), with the matching strides, or for a buffer
        // with no elements a zeroed block of its `Room`, so every index
        // the verified loop program computes is in bounds; `flags` holds one u32 per flag.
        unsafe { module.launch(&k.name, grid, k.launch.block_dim, 0, &words) }.map_err(err)?;
    }
    let raised = dev.download(&flags).map_err(err)?;
    if let Some(f) = Flag::raised(raised) {
        return Ok(Err(f));
    }
    Ok(Ok(Frame::outputs(lp, &mut owned).map_err(|e| Error::from_frame(&lp.name, device, e))?))
}
