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
use kiln_ir::loops::{row_major_strides, Flag, Frame, FrameError, HostMemory, LoopProgram};
use kiln_ir::{DType, Value};
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
    // Outputs and temporaries every element of which some kernel stores before anything reads
    // them (a vendor GEMM's product, read by the next kernel) are allocated without zeroing:
    // with [`crate::PoolAlloc`] installed, a block freed before comes back already mapped, and
    // without it a large block is fresh pages, zero anyway (a temporary zeroed on the heap was
    // a `memset` of its whole size per call).
    let mut fresh: Vec<(usize, Unwritten)> = vec![];
    for b in lp.outputs.iter().copied().chain(lp.temps().map(|(b, _)| b)) {
        let i = b.index();
        let fb = &frame.bufs[i];
        let seen = fresh.iter().any(|(at, _)| *at == i);
        if seen || given.as_ref().is_some_and(|(at, _)| *at == i) || fb.room.is_some() || fb.bytes == 0 {
            continue;
        }
        if lp.overwrites(b, syms) {
            let out = Unwritten::new(fb.dtype, &fb.dims).ok_or_else(|| frame.out_of_memory(i, fb.bytes))?;
            fresh.push((i, out));
        }
    }
    let mut mem = HostMemory::with(&frame, |i, b| match (&given, b.param) {
        (Some((at, raw)), _) if *at == i => Some(raw.clone()),
        _ if fresh.iter().any(|(at, _)| *at == i) => {
            fresh.iter().find(|(at, _)| *at == i).map(|(_, u)| (u.ptr, row_major_strides(&u.shape)))
        }
        (_, Some(k)) => {
            Some(with_arg!(&args[k], a => (a.as_ptr() as *mut u8, a.strides().iter().map(|s| *s as i64).collect())))
        }
        _ => None,
    })?;
    for (ptr, bytes) in mem.allocated().chain(fresh.iter().map(|(_, u)| (u.ptr, u.layout.size()))) {
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
        .map(|b| match fresh.iter().position(|(at, _)| *at == b.index()) {
            // SAFETY: `LoopProgram::overwrites` established that a kernel stores every element of this
            // output (over a domain with exactly its extents), and every kernel ran over its
            // whole domain without raising a flag.
            Some(k) => unsafe { fresh.swap_remove(k).1.written() },
            None => mem.take(b.index()).unwrap_or_else(|| Value::zeros(kiln_ir::DType::F32, &[])),
        })
        .collect()))
}

/// A standard-layout host array allocated through the global allocator and not yet written:
/// an output or temporary that a kernel overwrites whole, so zeroing it first would be wasted work (and
/// would keep a pooled block from being reused, [`crate::pool`]). Freed unless made a
/// [`Value`] by [`Unwritten::written`].
struct Unwritten {
    ptr: *mut u8,
    layout: std::alloc::Layout,
    dtype: DType,
    shape: Vec<usize>,
}

impl Unwritten {
    /// Room for a nonempty `dtype` array of `shape` (`None` when the allocator refuses it or
    /// the size overflows).
    fn new(dtype: DType, shape: &[usize]) -> Option<Unwritten> {
        fn layout<T>(n: usize) -> Option<std::alloc::Layout> {
            std::alloc::Layout::array::<T>(n).ok()
        }
        let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
        let layout = match dtype {
            DType::F32 => layout::<f32>(n),
            DType::F64 => layout::<f64>(n),
            DType::I32 => layout::<i32>(n),
            DType::I64 => layout::<i64>(n),
            DType::U32 => layout::<u32>(n),
            DType::Bool => layout::<bool>(n),
        }?;
        if layout.size() == 0 {
            return None;
        }
        // SAFETY: the layout has a nonzero size.
        let ptr = unsafe { std::alloc::alloc(layout) };
        (!ptr.is_null()).then(|| Unwritten { ptr, layout, dtype, shape: shape.to_vec() })
    }

    /// The array, once every element holds a value of its dtype.
    ///
    /// # Safety
    /// Every element was written (a `bool` as 0 or 1, which is how kernels store them).
    unsafe fn written(self) -> Value {
        /// # Safety
        /// As [`Unwritten::written`]; `u` was allocated as `Layout::array::<T>(n)`.
        unsafe fn wrap<T>(u: &Unwritten, make: fn(ndarray::ArrayD<T>) -> Value) -> Value {
            let n: usize = u.shape.iter().product();
            // SAFETY: allocated by the global allocator as `[T; n]` (`Unwritten::new`), fully
            // initialized (the caller's promise), and owned by the `Vec` from here on.
            let v = unsafe { Vec::from_raw_parts(u.ptr as *mut T, n, n) };
            match ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&u.shape), v) {
                Ok(a) => make(a),
                // The shape's product is `n`, so this cannot happen.
                Err(_) => Value::zeros(u.dtype, &u.shape),
            }
        }
        let me = std::mem::ManuallyDrop::new(self);
        // SAFETY: the caller's promise; `me` is not freed by `Drop` (the `Vec` owns it now).
        unsafe {
            match me.dtype {
                DType::F32 => wrap::<f32>(&me, Value::F32),
                DType::F64 => wrap::<f64>(&me, Value::F64),
                DType::I32 => wrap::<i32>(&me, Value::I32),
                DType::I64 => wrap::<i64>(&me, Value::I64),
                DType::U32 => wrap::<u32>(&me, Value::U32),
                DType::Bool => wrap::<bool>(&me, Value::Bool),
            }
        }
    }
}

impl Drop for Unwritten {
    fn drop(&mut self) {
        // SAFETY: allocated by the global allocator with this layout, never handed out.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) }
    }
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

#[cfg(test)]
mod tests {
    use crate::{Arg, Device, Kernel};
    use kiln_ir::Value;
    use ndarray::{ArrayD, IxDyn};

    fn kernel(text: &str) -> Kernel {
        let p = kiln_ir::parse::parse_program(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        Kernel::from_program(p).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Outputs a kernel overwrites whole are allocated without zeroing (`Unwritten`): over
    /// memory just freed full of NaN they hold exactly the plain-Rust reference, for a
    /// generated elementwise kernel and a (symmetric, one-triangle) vendor GEMM step.
    #[test]
    fn unzeroed_outputs_are_fully_written_over_dirty_memory() {
        let add = kernel(
            "kernel addk(x: f32[n], y: f32[n]) -> f32[n] {
  v0: f32[n] = param 0
  v1: f32[n] = param 1
  v2: i64[] = index i0
  v3: f32[] = load v0 [v2]
  v4: f32[] = load v1 [v2]
  v5: f32[] = binary add v3 v4
  v6: f32[n] = generate (i0 < n) v5
  return v6
}",
        );
        let n = 70_001;
        let x = Value::F32(ArrayD::from_shape_fn(IxDyn(&[n]), |i| (i[0] % 97) as f32 * 0.25));
        let y = Value::F32(ArrayD::from_shape_fn(IxDyn(&[n]), |i| (i[0] % 13) as f32 - 6.0));
        let gram = kernel(&kiln_ir::testgen::gram_text("f64", true));
        let (rows, d) = (300, 130);
        let g = ndarray::Array2::from_shape_fn((rows, d), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let gv = Value::F64(g.clone().into_dyn());
        for round in 0..3 {
            drop(vec![f32::NAN; n]);
            let out = add.call_on(Device::Cpu, None, vec![Arg::from_value(&x), Arg::from_value(&y)]).unwrap();
            let (Value::F32(o), Value::F32(a), Value::F32(b)) = (&out[0], &x, &y) else { panic!("dtypes") };
            for ((o, a), b) in o.iter().zip(a).zip(b) {
                assert_eq!(o.to_bits(), (a + b).to_bits(), "round {round}");
            }
            drop(vec![f64::NAN; d * d]);
            let out = gram.call_on(Device::Cpu, None, vec![Arg::from_value(&gv)]).unwrap();
            let Value::F64(o) = &out[0] else { panic!("dtype") };
            for i in 0..d {
                for j in 0..d {
                    // Small integers: every order of the sum is exact.
                    let want: f64 = (0..rows).map(|r| g[[r, i]] * g[[r, j]]).sum();
                    assert_eq!(o[[i, j]], want, "round {round}: gram[{i}, {j}]");
                }
            }
        }
    }
}
