//! `Device::Cpu`: running a JIT-compiled loop program on host arrays, each kernel's domain
//! split into ranges over rayon's thread pool.
//!
//! Everything that makes the native call sound is established here, before any native code
//! runs: the caller's arguments were validated against the signature (`kiln_ir::bind`, done
//! by the kernel handle), outputs and temporaries are freshly allocated with exactly the
//! shapes the loop program declares under the bound symbols, and inputs are never written.

use crate::args::{with_arg, Arg, OutArg};
use kiln_cpu::repack::{self, StrideCopies};
use kiln_cpu::{ArgPack, BufDesc, CpuProgram};
use kiln_ir::loops::{Flag, Frame, FrameError, HostMemory, LoopProgram};
use kiln_ir::Value;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};

/// The argument pack, shared by the threads that run disjoint ranges of one kernel.
struct SharedPack(ArgPack);

// SAFETY: the pack only holds pointers into buffers that outlive the parallel loop (they are
// owned by `run`'s frame); concurrent kernel calls over disjoint ranges are allowed by
// `CpuProgram::run`'s contract.
unsafe impl Sync for SharedPack {}

impl SharedPack {
    fn get(&self) -> &ArgPack {
        &self.0
    }
}

/// Run `lp` (compiled into `prog`) on validated `args` with symbol values `syms`. Returns
/// the outputs, or the first error flag a kernel raised (`Ok(Err(flag))`).
///
/// `into`: the caller's array for the one output (its dtype and shape checked by the caller),
/// stored to in place of a new array; the output returned for it is an empty placeholder.
///
/// # Errors
/// A [`FrameError`] when a buffer's size overflows or an output or temporary cannot be
/// allocated.
pub fn run(
    prog: &CpuProgram,
    lp: &LoopProgram,
    args: &[Arg<'_>],
    syms: &[usize],
    into: Option<&mut OutArg<'_>>,
) -> Result<Result<Vec<Value>, Flag>, FrameError> {
    let frame = Frame::new(lp, syms)?;
    let given = match (&lp.outputs[..], into) {
        (&[b], Some(out)) => {
            // A fresh output starts at zero; the caller's does too wherever the program might
            // read it or leave an element unwritten.
            if !lp.overwrites(b, syms) {
                out.zero();
            }
            Some((b.index(), out.raw()))
        }
        _ => None,
    };
    let mut mem = HostMemory::with(&frame, |i, b| match (&given, b.param) {
        (Some((at, raw)), _) if *at == i => Some(raw.clone()),
        (_, Some(k)) => {
            Some(with_arg!(&args[k], a => (a.as_ptr() as *mut u8, a.strides().iter().map(|s| *s as i64).collect())))
        }
        _ => None,
    })?;
    for (ptr, bytes) in mem.allocated() {
        repack::advise_huge_pages(ptr, bytes);
    }
    let param_of: Vec<Option<usize>> = frame.bufs.iter().map(|b| b.param).collect();
    let descs: Vec<BufDesc> =
        mem.ptrs.iter().zip(&mem.strides).map(|(p, s)| BufDesc { ptr: *p, strides: s.as_ptr() }).collect();
    // Inputs some kernel's vector loop wants with stride 1 on an axis they lack it on: copied
    // once per call, and given to those kernels only. Vendor GEMM steps read every input in
    // place, whatever its strides: no copies for them.
    let steps: Vec<_> = lp.kernels.iter().map(kiln_cpu::vendor::gemm_step).collect();
    let copies = StrideCopies::make(
        prog,
        |ki| steps[ki].is_none(),
        &param_of,
        |k, axis| with_arg!(&args[k], a => repack::needs_copy(&a.view(), axis)),
        |k, axis| contiguous_along(&args[k], axis),
    );
    for (b, axis) in copies.copied() {
        tracing::debug!(buffer = %lp.buffer(b).name, axis, "input copied for stride 1");
    }
    let flags: Vec<AtomicU32> = Flag::ALL.iter().map(|_| AtomicU32::new(0)).collect();
    let pack_of = |descs: &[BufDesc]| {
        SharedPack(ArgPack {
            bufs: descs.as_ptr(),
            syms: frame.syms.as_ptr(),
            // AtomicU32 has the layout of u32; kernels only ever store 1.
            flags: flags.as_ptr() as *mut u32,
        })
    };
    for (ki, k) in lp.kernels.iter().enumerate() {
        if let Some(step) = &steps[ki] {
            let threads = rayon::current_num_threads();
            // SAFETY: as "SAFETY (both calls)" below (`descs` holds the original inputs, any
            // strides); the step's output is an output or temporary, or the caller's `into`,
            // none of which overlaps an input, and no kernel reads a buffer it writes.
            match unsafe { kiln_cpu::vendor::run_gemm(lp, step, &descs, &frame.syms, threads) } {
                Ok(()) => continue,
                Err(e) => tracing::debug!(kernel = %k.name, "{e}; running the generated loops"),
            }
        }
        let own = copies.descs_for(prog, ki, &descs);
        let pack = pack_of(own.as_deref().unwrap_or(&descs));
        let split =
            kiln_cpu::cuts::split(prog, ki, k, frame.lens[ki] as u64, syms, rayon::current_num_threads() as u64);
        // SAFETY (both calls): `descs` describes every buffer with the shape the loop
        // program declares under `syms` (`frame`): inputs were validated against the
        // signature by `kiln_ir::bind` before this call (a repacked copy has the input's shape
        // and values, with its own strides), outputs and temporaries were just allocated with
        // those shapes by `HostMemory`, or are the caller's `into` view, whose shape the
        // caller checked and which cannot overlap an input (it is borrowed mutably beside
        // their shared borrows); a buffer with no elements points at the zeroed room
        // `HostMemory` allocated for the accesses a failed index check makes;
        // strides are the arrays' own; inputs are only read (a loop IR invariant);
        // the ranges are disjoint and inside `0..len` (`Split::range`); `flags` has one slot
        // per flag; all of it lives until this function returns.
        if split.chunks() == 1 {
            // SAFETY: see "SAFETY (both calls)" above; the range is all of `0..len`.
            unsafe { prog.run(ki, pack.get(), 0, split.len() as i64) };
        } else {
            (0..split.chunks()).into_par_iter().for_each(|c| {
                let (lo, hi) = split.range(c);
                // SAFETY: see "SAFETY (both calls)" above; the chunks' ranges are disjoint.
                unsafe { prog.run(ki, pack.get(), lo as i64, hi as i64) };
            });
        }
        if let Some(f) = Flag::raised(flags.iter().map(|f| f.load(Ordering::Relaxed))) {
            return Ok(Err(f));
        }
    }
    Ok(Ok(lp
        .outputs
        .iter()
        .map(|b| mem.take(b.index()).unwrap_or_else(|| Value::zeros(kiln_ir::DType::F32, &[])))
        .collect()))
}

/// A copy of input `a` whose `axis` has stride 1, for a kernel that wants it
/// ([`repack::contiguous_along`]).
fn contiguous_along(a: &Arg<'_>, axis: usize) -> Value {
    match a {
        Arg::F32(x) => Value::F32(repack::contiguous_along(x.view(), axis)),
        Arg::F64(x) => Value::F64(repack::contiguous_along(x.view(), axis)),
        Arg::I32(x) => Value::I32(repack::contiguous_along(x.view(), axis)),
        Arg::I64(x) => Value::I64(repack::contiguous_along(x.view(), axis)),
        Arg::U32(x) => Value::U32(repack::contiguous_along(x.view(), axis)),
        Arg::Bool(x) => Value::Bool(repack::contiguous_along(x.view(), axis)),
    }
}
