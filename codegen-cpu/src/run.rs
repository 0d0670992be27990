//! Running a compiled program on host [`Value`]s, serially: shape checks, symbol binding,
//! allocation of outputs and temporaries, the argument pack, and flag reporting.
//!
//! This is the whole contract of [`CpuProgram::run`] made safe in one function; the runtime
//! adds thread splitting and caching around the same steps.

use crate::{ArgPack, BufDesc, CpuError, CpuProgram};
use kiln_ir::loops::{BufKind, Flag, LoopProgram};
use kiln_ir::{with_value, Dim, Value};

/// Run every kernel of `lp` (compiled into `p`) in order over its whole domain, on `args`
/// (one value per parameter, any strides), and return the outputs in standard layout.
///
/// # Errors
/// [`CpuError::BadArgument`] when the arguments do not match the parameters (count, dtype,
/// rank, a dimension disagreeing with a symbol or constant) or `p` has a different number of
/// kernels; [`CpuError::Flag`] for the first error flag a kernel raised.
pub fn run_program(p: &CpuProgram, lp: &LoopProgram, args: &[Value]) -> Result<Vec<Value>, CpuError> {
    run_program_chunked(p, lp, args, 1)
}

/// [`run_program`], calling each kernel on `chunks` consecutive sub-ranges of its domain one
/// after another (as a parallel runtime would, serially): the result must not depend on it.
///
/// # Errors
/// As [`run_program`].
pub fn run_program_chunked(
    p: &CpuProgram,
    lp: &LoopProgram,
    args: &[Value],
    chunks: usize,
) -> Result<Vec<Value>, CpuError> {
    let bad = |m: String| Err(CpuError::BadArgument(m));
    if p.kernels() != lp.kernels.len() {
        return bad(format!("program `{}` has {} kernels, compiled code {}", lp.name, lp.kernels.len(), p.kernels()));
    }
    if args.len() != lp.params.len() {
        return bad(format!("program `{}` takes {} arguments, got {}", lp.name, lp.params.len(), args.len()));
    }
    let syms = kiln_ir::loops::bind_syms(lp, args).map_err(CpuError::BadArgument)?;
    let dims =
        |shape: &[Dim]| -> Vec<usize> { shape.iter().map(|d| kiln_ir::loops::dim_len(*d, &syms) as usize).collect() };

    // One value per buffer: the caller's for inputs, fresh zeros for the rest.
    let mut owned: Vec<Option<Value>> =
        lp.buffers.iter().map(|b| (b.kind != BufKind::Input).then(|| Value::zeros(b.dtype, &dims(&b.shape)))).collect();
    let mut input_of = vec![None; lp.buffers.len()];
    for (i, b) in lp.params.iter().enumerate() {
        input_of[b.index()] = Some(i);
    }
    let mut strides: Vec<Vec<i64>> = vec![];
    let mut descs: Vec<BufDesc> = vec![];
    for (i, slot) in owned.iter_mut().enumerate() {
        let (ptr, st): (*mut u8, Vec<i64>) = match (slot, input_of[i]) {
            (Some(v), _) => {
                with_value!(v, a => (a.as_mut_ptr() as *mut u8, a.strides().iter().map(|s| *s as i64).collect()))
            }
            (None, Some(k)) => {
                with_value!(&args[k], a => (a.as_ptr() as *mut u8, a.strides().iter().map(|s| *s as i64).collect()))
            }
            (None, None) => return bad(format!("input buffer `{}` is not a parameter", lp.buffers[i].name)),
        };
        strides.push(st);
        descs.push(BufDesc { ptr, strides: std::ptr::null() });
    }
    for (d, s) in descs.iter_mut().zip(&strides) {
        d.strides = s.as_ptr();
    }
    let mut flags = vec![0u32; Flag::ALL.len()];
    let pack = ArgPack { bufs: descs.as_ptr(), syms: syms.as_ptr(), flags: flags.as_mut_ptr() };
    for (ki, k) in lp.kernels.iter().enumerate() {
        let mut len: i64 = 1;
        for (_, d) in &k.domain {
            len = match len.checked_mul(kiln_ir::loops::dim_len(*d, &syms)) {
                Some(n) => n,
                None => return bad(format!("domain of kernel `{}` overflows i64", k.name)),
            };
        }
        // Every buffer descriptor points into a live array of the buffer's dtype whose
        // shape equals the buffer's dimensions under `syms` (checked by `bind_syms` for
        // inputs, allocated so for the others) with its own strides; outputs and temporaries
        // are exclusively borrowed here, inputs are never stored to (a loop IR invariant);
        // `syms` has one value per symbol, `flags` one per flag, and `0..len` is the domain.
        let chunks = chunks.max(1) as i64;
        for c in 0..chunks {
            let (lo, hi) =
                (len / chunks * c + (len % chunks).min(c), len / chunks * (c + 1) + (len % chunks).min(c + 1));
            // SAFETY: see above; `lo..hi` lies in `0..len`.
            unsafe { p.run(ki, &pack, lo, hi) };
        }
        if let Some(i) = flags.iter().position(|f| *f != 0) {
            return Err(CpuError::Flag(Flag::ALL[i]));
        }
    }
    let mut outs = vec![];
    for b in &lp.outputs {
        match owned.get_mut(b.index()).and_then(Option::take) {
            Some(v) => outs.push(v),
            None => return bad(format!("output #{} listed twice or not an output", b.0)),
        }
    }
    Ok(outs)
}
