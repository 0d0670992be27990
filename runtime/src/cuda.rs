//! `Device::Cuda(n)`: a lowered program run on a GPU through the cudarc driver, on tensors
//! that already live there. Outputs are allocated on the device and stay there.
//!
//! The same buffer discipline as the CPU runner and the simulator: inputs are the caller's
//! (row-major) device buffers, outputs and temporaries are zero-filled allocations of the
//! buffer's shape under the bound symbols, and one `u32` per error flag is read back after the
//! launches. No GPU exists on the machines that build kiln; this path is exercised by
//! `cargo xtask test-gpu` where one does.

use crate::device::Device;
use crate::error::{Error, Result};
use crate::tensor::{cuda_error, AnyTensor, CudaBuffer, Storage};
use kiln_cuda::driver::{CudaDevice, CudaModuleHandle};
use kiln_cuda::CudaProgram;
use kiln_ir::loops::{BufKind, Flag, LoopProgram};
use kiln_ir::shapes::dim_value;
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
    let err = |e| cuda_error(device, e);
    let syms_i64: Vec<i64> = syms.iter().map(|&s| s as i64).collect();
    let mut param_of = vec![None; lp.buffers.len()];
    for (i, b) in lp.params.iter().enumerate() {
        param_of[b.index()] = Some(i);
    }
    let mut owned: Vec<Option<AnyTensor>> = Vec::with_capacity(lp.buffers.len());
    let (mut ptrs, mut strides) = (Vec::new(), Vec::new());
    let mut scratch = Vec::new();
    for (b, param) in lp.buffers.iter().zip(&param_of) {
        let shape: Vec<usize> = b.shape.iter().map(|d| dim_value(*d, syms)).collect();
        let tensor = match (b.kind, param) {
            (BufKind::Input, Some(k)) => args[*k].clone(),
            (BufKind::Input, None) => {
                return Err(Error::Execution {
                    kernel: lp.name.clone(),
                    message: format!("input buffer `{}` is not a parameter", b.name),
                })
            }
            _ => {
                let bytes = shape.iter().product::<usize>() * b.dtype.size();
                let buf = dev.alloc_zeros::<u8>(bytes.max(1)).map_err(err)?;
                AnyTensor {
                    device,
                    dtype: b.dtype,
                    shape: shape.clone(),
                    storage: Storage::Cuda(Arc::new(CudaBuffer { device: dev.clone(), bytes: buf })),
                }
            }
        };
        let Storage::Cuda(buf) = &tensor.storage else {
            return Err(Error::DeviceMismatch {
                kernel: lp.name.clone(),
                message: format!("`{}` is not in the memory of {device}", b.name),
            });
        };
        if tensor.shape != shape || tensor.dtype != b.dtype {
            return Err(Error::Execution {
                kernel: lp.name.clone(),
                message: format!(
                    "buffer `{}` is {}{:?}, expected {}{shape:?}",
                    b.name, tensor.dtype, tensor.shape, b.dtype
                ),
            });
        }
        match kiln_ir::loops::empty_room(&shape) {
            // An empty buffer points at zeroed room for the accesses a failed index check can
            // make (see `empty_room`); the call then returns the check's flag.
            Some((elems, st)) => {
                let block = dev.alloc_zeros::<u8>((elems * b.dtype.size()).max(1)).map_err(err)?;
                ptrs.push(dev.device_ptr(&block));
                strides.push(st);
                scratch.push(block);
            }
            None => {
                ptrs.push(dev.device_ptr(&buf.bytes));
                strides.push(row_major_strides(&shape));
            }
        }
        owned.push((b.kind != BufKind::Input).then_some(tensor));
    }
    let flags = dev.alloc_zeros::<u32>(Flag::ALL.len()).map_err(err)?;
    let words = prog.pack_args(&ptrs, &strides, &syms_i64, dev.device_ptr(&flags)).ok_or_else(|| Error::Execution {
        kernel: lp.name.clone(),
        message: "buffers do not match the compiled argument layout".into(),
    })?;
    for k in &prog.kernels {
        let len = k.launch.len(&syms_i64).ok_or_else(|| Error::Execution {
            kernel: lp.name.clone(),
            message: format!("the domain of `{}` overflows", k.name),
        })?;
        let grid = k.launch.grid_dim(len, MAX_GRID);
        if grid == 0 {
            continue;
        }
        // SAFETY: `words` is this program's `KilnArgs` image (layout checked by `pack_args`):
        // every pointer is a live device buffer of this device whose dtype and row-major shape
        // under `syms` were checked above (inputs bound against the signature by the caller,
        // outputs and temporaries allocated so), with the matching strides, so every index
        // the verified loop program computes is in bounds; `flags` holds one u32 per flag.
        unsafe { module.launch(&k.name, grid, k.launch.block_dim, 0, &words) }.map_err(err)?;
    }
    let raised = dev.download(&flags).map_err(err)?;
    if let Some(i) = raised.iter().position(|f| *f != 0) {
        return Ok(Err(Flag::ALL[i]));
    }
    let mut outs = Vec::with_capacity(lp.outputs.len());
    for b in &lp.outputs {
        match owned.get_mut(b.index()).and_then(Option::take) {
            Some(t) => outs.push(t),
            None => {
                return Err(Error::Execution {
                    kernel: lp.name.clone(),
                    message: format!("output #{} listed twice or not an output", b.0),
                })
            }
        }
    }
    Ok(Ok(outs))
}

fn row_major_strides(shape: &[usize]) -> Vec<i64> {
    let mut strides = vec![0i64; shape.len()];
    let mut acc = 1i64;
    for (s, &n) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc *= n.max(1) as i64;
    }
    strides
}

#[cfg(test)]
mod tests {
    #[test]
    fn row_major_strides_are_numpy_element_strides() {
        assert_eq!(super::row_major_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(super::row_major_strides(&[]), Vec::<i64>::new());
        assert_eq!(super::row_major_strides(&[5, 0, 2]), vec![2, 2, 1]);
    }
}
