//! One native-call frame: everything a backend needs to run a [`LoopProgram`] on concrete
//! arguments, except the memory itself.
//!
//! A [`Frame`] binds the shape symbols (with the one binder, [`crate::shapes::Signature`]),
//! gives every buffer its dimensions and size in bytes (checked: a size that overflows is a
//! typed error before anything is allocated), names the buffers that are empty and so need
//! zeroed room for the accesses a failed index check makes ([`Room`]), counts each kernel's
//! domain, and maps the flag slots the kernels write back to a [`Flag`]. The CPU runner, the
//! runtime's CPU and GPU paths and the CUDA simulator all build one; each then only provides
//! memory (a pointer and strides per buffer) and launches. [`HostMemory`] is that memory for
//! backends that run on host [`Value`]s.
//!
//! Everything a native call's soundness rests on is decided here, in safe code, once.

use super::{BufKind, Flag, LoopProgram};
use crate::shapes::{BindError, ParamSig, Signature};
use crate::types::{DType, ElemTy};
use crate::value::{byte_size, shape_tuple, size_text, AllocError, Value};
use thiserror::Error;

/// Why a loop program cannot be run on the given arguments, or its memory cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The arguments do not fit the parameters (count, dtype, rank or a dimension).
    #[error(transparent)]
    Bind(#[from] BindError),
    /// A buffer's size in bytes overflows `isize` (no allocation could hold it).
    #[error("{what} would have shape {} of {dtype}: its size in bytes overflows", shape_tuple(.shape))]
    TooLarge { what: String, dtype: DType, shape: Vec<usize> },
    /// The allocator (host or device) could not provide a buffer, as numpy's `MemoryError`.
    #[error("unable to allocate {} for an array with shape {} ({what})", size_text(*.bytes), shape_tuple(.shape))]
    OutOfMemory { bytes: usize, shape: Vec<usize>, what: String },
    /// A kernel's domain has more points than an `i64` counts.
    #[error("the domain of kernel `{kernel}` overflows i64")]
    DomainOverflow { kernel: String },
    /// The loop program does not describe a call (it breaks a verifier invariant).
    #[error("loop program `{program}`: {message}")]
    Invalid { program: String, message: String },
}

/// Zeroed memory an empty buffer points at instead of its own (which has no elements).
///
/// No index passes a check against an empty axis, and a failed check goes on with index 0
/// (raising its flag, which fails the call): an empty buffer is read or written only at index
/// 0 of its empty axes and in-range indices of the others. A row-major block with extent 1
/// for each empty axis keeps every such access in bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// The block's size in bytes (at least 1).
    pub bytes: usize,
    /// The block's element strides, one per axis.
    pub strides: Vec<i64>,
}

/// One buffer of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameBuf {
    pub dtype: DType,
    /// Its dimensions under the bound symbols.
    pub dims: Vec<usize>,
    /// Its size in bytes (dimensions times element size; `usize::MAX` for an input whose
    /// size overflows, which only a broadcast view can have).
    pub bytes: usize,
    /// The argument that provides it (inputs); the others are allocated for the call.
    pub param: Option<usize>,
    /// Where it points when it has no elements.
    pub room: Option<Room>,
}

/// A call of a loop program: symbols, buffers, domains. See the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame<'lp> {
    /// The program called: errors name a buffer from it ([`Frame::what`]) only when one is
    /// reported, so a call formats no names.
    lp: &'lp LoopProgram,
    /// The value of every symbol, as the kernels read them.
    pub syms: Vec<i64>,
    /// One entry per buffer of the program, in order.
    pub bufs: Vec<FrameBuf>,
    /// The number of points of each kernel's domain.
    pub lens: Vec<i64>,
}

impl<'lp> Frame<'lp> {
    /// Bind `lp`'s symbols from its arguments' dtypes and shapes (and the integer scalar
    /// arguments slice bounds read, `scalars[k]` for parameter `k`) and size its buffers.
    ///
    /// # Errors
    /// [`FrameError::Bind`] when an argument does not fit its parameter; as [`Frame::new`].
    pub fn bind(
        lp: &'lp LoopProgram,
        args: &[(DType, &[usize])],
        scalars: &[Option<i64>],
    ) -> Result<Frame<'lp>, FrameError> {
        let invalid = |message: String| FrameError::Invalid { program: lp.name.clone(), message };
        let mut params = Vec::with_capacity(lp.params.len());
        for (i, b) in lp.params.iter().enumerate() {
            let buf = lp.buffers.get(b.index()).ok_or_else(|| invalid(format!("parameter {i} names no buffer")))?;
            params.push(ParamSig { name: &buf.name, elem: ElemTy::Concrete(buf.dtype), shape: &buf.shape });
        }
        let sig = Signature { kernel: &lp.name, syms: &lp.syms, params: &params, derived: &lp.derived };
        let syms = sig.bind(None, args, scalars)?;
        Frame::new(lp, &syms)
    }

    /// [`Frame::bind`] on host values (rank-0 integer values are the scalars slice bounds
    /// read).
    ///
    /// # Errors
    /// As [`Frame::bind`].
    pub fn of_values(lp: &'lp LoopProgram, args: &[Value]) -> Result<Frame<'lp>, FrameError> {
        let shapes: Vec<(DType, &[usize])> = args.iter().map(|a| (a.dtype(), a.shape())).collect();
        Frame::bind(lp, &shapes, &crate::interp::scalar_ints(args))
    }

    /// The frame of `lp` under symbol values already bound from the arguments (`syms`, one
    /// per symbol, as [`crate::shapes::bind_with_scalars`] returns for the array program
    /// `lp` was lowered from).
    ///
    /// # Errors
    /// [`FrameError::TooLarge`] for a buffer whose size overflows,
    /// [`FrameError::DomainOverflow`], and [`FrameError::Invalid`] when `syms` has another
    /// length than `lp`'s symbols or an input buffer is no parameter's.
    pub fn new(lp: &'lp LoopProgram, syms: &[usize]) -> Result<Frame<'lp>, FrameError> {
        let invalid = |message: String| FrameError::Invalid { program: lp.name.clone(), message };
        if syms.len() != lp.syms.len() {
            return Err(invalid(format!("{} symbol values for {} symbols", syms.len(), lp.syms.len())));
        }
        let syms: Vec<i64> = syms.iter().map(|&s| i64::try_from(s).unwrap_or(i64::MAX)).collect();
        let len = |d| super::dim_len(d, &syms).max(0) as usize;
        let mut param_of = vec![None; lp.buffers.len()];
        for (i, b) in lp.params.iter().enumerate() {
            match param_of.get_mut(b.index()) {
                Some(slot) => *slot = Some(i),
                None => return Err(invalid(format!("parameter {i} names no buffer"))),
            }
        }
        let mut bufs = Vec::with_capacity(lp.buffers.len());
        for (i, (b, param)) in lp.buffers.iter().zip(param_of).enumerate() {
            if b.kind == BufKind::Input && param.is_none() {
                return Err(invalid(format!("input buffer `{}` is not a parameter", b.name)));
            }
            let dims: Vec<usize> = b.shape.iter().map(|d| len(*d)).collect();
            let too_large = || FrameError::TooLarge { what: what(lp, i), dtype: b.dtype, shape: dims.clone() };
            // An input is the caller's and may be a broadcast view larger than memory.
            let bytes = match byte_size(b.dtype, &dims) {
                Some(bytes) => bytes,
                None if param.is_some() => usize::MAX,
                None => return Err(too_large()),
            };
            let room = match super::empty_room(&dims) {
                Some((elems, strides)) => {
                    let bytes = elems.checked_mul(b.dtype.size()).ok_or_else(too_large)?;
                    Some(Room { bytes: bytes.max(1), strides })
                }
                None => None,
            };
            bufs.push(FrameBuf { dtype: b.dtype, dims, bytes, param, room });
        }
        let mut lens = Vec::with_capacity(lp.kernels.len());
        for k in &lp.kernels {
            let n = k.domain.iter().try_fold(1i64, |acc, (_, d)| acc.checked_mul(super::dim_len(*d, &syms)));
            lens.push(n.ok_or_else(|| FrameError::DomainOverflow { kernel: k.name.clone() })?);
        }
        Ok(Frame { lp, syms, bufs, lens })
    }

    /// How errors name buffer `b`: ``output `out0` of kernel `outer` ``.
    pub fn what(&self, b: usize) -> String {
        what(self.lp, b)
    }

    /// A fresh zeroed host array for buffer `b` (an output or temporary).
    ///
    /// # Errors
    /// [`FrameError::OutOfMemory`] when the allocator refuses it.
    pub fn alloc(&self, b: usize) -> Result<Value, FrameError> {
        let buf = &self.bufs[b];
        Value::try_zeros(buf.dtype, &buf.dims).map_err(|e| match e {
            AllocError::OutOfMemory { bytes, shape } => FrameError::OutOfMemory { bytes, shape, what: self.what(b) },
            _ => FrameError::TooLarge { what: self.what(b), dtype: buf.dtype, shape: buf.dims.clone() },
        })
    }

    /// The error for a failed allocation of `bytes` bytes for buffer `b` (a device's memory,
    /// or the buffer's [`Room`]).
    pub fn out_of_memory(&self, b: usize, bytes: usize) -> FrameError {
        let buf = &self.bufs[b];
        FrameError::OutOfMemory { bytes, shape: buf.dims.clone(), what: self.what(b) }
    }

    /// Zeroed host memory for buffer `b`'s [`Room`], in words (`None` when it has elements).
    ///
    /// # Errors
    /// [`FrameError::OutOfMemory`] when the allocator refuses it.
    pub fn host_room(&self, b: usize) -> Result<Option<Vec<u64>>, FrameError> {
        let Some(room) = &self.bufs[b].room else { return Ok(None) };
        let words = room.bytes.div_ceil(8);
        let mut block: Vec<u64> = Vec::new();
        block.try_reserve_exact(words).map_err(|_| self.out_of_memory(b, room.bytes))?;
        block.resize(words, 0);
        Ok(Some(block))
    }

    /// Take the program's outputs out of `slots` (one per buffer), in output order.
    ///
    /// # Errors
    /// [`FrameError::Invalid`] when an output is listed twice or is not an allocated buffer.
    pub fn outputs<T>(lp: &LoopProgram, slots: &mut [Option<T>]) -> Result<Vec<T>, FrameError> {
        lp.outputs
            .iter()
            .map(|b| {
                slots.get_mut(b.index()).and_then(Option::take).ok_or_else(|| FrameError::Invalid {
                    program: lp.name.clone(),
                    message: format!("output #{} listed twice or not an output", b.0),
                })
            })
            .collect()
    }
}

/// How errors name buffer `b` of `lp`: ``output `out0` of kernel `outer` ``.
fn what(lp: &LoopProgram, b: usize) -> String {
    let Some(buf) = lp.buffers.get(b) else { return format!("buffer #{b} of kernel `{}`", lp.name) };
    let kind = match buf.kind {
        BufKind::Input => "input",
        BufKind::Output => "output",
        BufKind::Temp => "temporary",
    };
    format!("{kind} `{}` of kernel `{}`", buf.name, lp.name)
}

impl Flag {
    /// The flag of the first nonzero slot of `slots` (one per [`Flag::ALL`], as kernels
    /// write them), if any.
    pub fn raised(slots: impl IntoIterator<Item = u32>) -> Option<Flag> {
        slots.into_iter().zip(Flag::ALL).find(|(s, _)| *s != 0).map(|(_, f)| f)
    }
}

/// Row-major element strides of `shape` (an empty axis counts as 1): the layout of the
/// buffers a backend allocates itself.
pub fn row_major_strides(shape: &[usize]) -> Vec<i64> {
    let mut strides = vec![0i64; shape.len()];
    let mut acc = 1i64;
    for (s, &n) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc = acc.saturating_mul(n.max(1) as i64);
    }
    strides
}

/// A call's buffers in host memory: the caller's values for inputs, fresh zeroed arrays for
/// outputs and temporaries, zeroed room for empty buffers, and each buffer's address and
/// element strides. The addresses stay valid while this lives and the inputs are borrowed.
pub struct HostMemory<'a> {
    owned: Vec<Option<Value>>,
    _rooms: Vec<Vec<u64>>,
    /// Each buffer's address (inputs are never written through theirs).
    pub ptrs: Vec<*mut u8>,
    /// Each buffer's element strides.
    pub strides: Vec<Vec<i64>>,
    _args: std::marker::PhantomData<&'a [Value]>,
}

impl<'a> HostMemory<'a> {
    /// Memory for `frame` (bound from `args`, one value per parameter).
    ///
    /// # Errors
    /// [`FrameError::OutOfMemory`] when an allocation fails.
    pub fn new(frame: &Frame, args: &'a [Value]) -> Result<HostMemory<'a>, FrameError> {
        HostMemory::with(frame, |_, b| {
            let v = args.get(b.param?)?;
            Some(crate::with_value!(v, a => (a.as_ptr() as *mut u8, a.strides().iter().map(|s| *s as i64).collect())))
        })
    }

    /// Memory for `frame` where `provided(i, buffer)` gives the address and element strides
    /// of each buffer the caller holds (the inputs; an output written in place), `None` for
    /// those to allocate here. The caller keeps what it provided alive and unaliased while
    /// this is used.
    ///
    /// # Errors
    /// [`FrameError::OutOfMemory`] when an allocation fails.
    pub fn with(
        frame: &Frame,
        mut provided: impl FnMut(usize, &FrameBuf) -> Option<(*mut u8, Vec<i64>)>,
    ) -> Result<HostMemory<'a>, FrameError> {
        let n = frame.bufs.len();
        let (mut owned, mut rooms) = (Vec::with_capacity(n), vec![]);
        let (mut ptrs, mut strides) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (i, b) in frame.bufs.iter().enumerate() {
            let (mut slot, (ptr, st)) = match provided(i, b) {
                Some(place) => (None, place),
                None => {
                    let mut v = frame.alloc(i)?;
                    let place = crate::with_value!(&mut v, a => (a.as_mut_ptr() as *mut u8, a.strides().iter().map(|s| *s as i64).collect()));
                    (Some(v), place)
                }
            };
            match (frame.host_room(i)?, &b.room) {
                (Some(mut block), Some(room)) => {
                    ptrs.push(block.as_mut_ptr() as *mut u8);
                    strides.push(room.strides.clone());
                    rooms.push(block);
                }
                _ => {
                    ptrs.push(ptr);
                    strides.push(st);
                }
            }
            owned.push(slot.take());
        }
        Ok(HostMemory { owned, _rooms: rooms, ptrs, strides, _args: std::marker::PhantomData })
    }

    /// The address and size in bytes of every array allocated here (not yet written).
    pub fn allocated(&self) -> impl Iterator<Item = (*mut u8, usize)> + '_ {
        self.owned.iter().zip(&self.ptrs).filter_map(|(v, p)| Some((*p, v.as_ref()?.len_bytes())))
    }

    /// The array allocated for buffer `b`, taken out (`None` for a provided buffer).
    pub fn take(&mut self, b: usize) -> Option<Value> {
        self.owned.get_mut(b).and_then(Option::take)
    }

    /// The outputs, in order.
    ///
    /// # Errors
    /// As [`Frame::outputs`].
    pub fn outputs(mut self, lp: &LoopProgram) -> Result<Vec<Value>, FrameError> {
        Frame::outputs(lp, &mut self.owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loops::parse_loop_program;

    /// Gathers columns: `out0[i, j] = x[i, idx[j]]`.
    const GATHER_COLS: &str = "program gather
  sym n
  sym k
  in x: f32[3, n]
  in idx: i64[k]
  out out0: f32[3, k]
  kernel k0 (v0 < 3, v1 < k) {
    let v2: i64 = check(load idx[v1], n)
    store out0[v0, v1] = load x[v0, v2]
  }
";

    #[test]
    fn empty_buffers_get_room_and_sizes_are_checked() {
        let lp = parse_loop_program(GATHER_COLS).unwrap();
        let f = Frame::bind(&lp, &[(DType::F32, &[3, 0]), (DType::I64, &[4])], &[]).unwrap();
        assert_eq!(f.syms, vec![0, 4]);
        assert_eq!(f.lens, vec![12]);
        assert_eq!((f.bufs[0].bytes, f.bufs[0].param), (0, Some(0)));
        assert_eq!(f.bufs[0].room, Some(Room { bytes: 12, strides: vec![1, 1] }));
        assert_eq!((f.bufs[1].room.as_ref(), f.bufs[1].bytes), (None, 32));
        assert_eq!((&f.bufs[2].dims[..], f.bufs[2].param), (&[3, 4][..], None));
        assert_eq!(f.what(2), "output `out0` of kernel `gather`");
        let r = Frame::bind(&lp, &[(DType::F32, &[4, 2]), (DType::I64, &[4])], &[]);
        assert!(matches!(r, Err(FrameError::Bind(BindError::Dim { .. }))), "{r:?}");
        let r = Frame::bind(&lp, &[(DType::F32, &[3, 2])], &[]);
        assert!(matches!(r, Err(FrameError::Bind(BindError::ArgCount { .. }))), "{r:?}");
        // 3 * k * 4 bytes overflows before anything is allocated.
        let r = Frame::bind(&lp, &[(DType::F32, &[3, 2]), (DType::I64, &[usize::MAX / 4])], &[]);
        assert!(matches!(&r, Err(FrameError::TooLarge { what, .. }) if what.starts_with("output `out0`")), "{r:?}");
    }

    #[test]
    fn flags_map_back_in_order() {
        assert_eq!(Flag::raised([0, 0]), None);
        assert_eq!(Flag::raised([0, 1]), Some(Flag::EmptyArgReduce));
        assert_eq!(Flag::raised([1, 1]), Some(Flag::IndexOutOfRange));
    }

    #[test]
    fn row_major_strides_are_numpy_element_strides() {
        assert_eq!(row_major_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(row_major_strides(&[]), Vec::<i64>::new());
        assert_eq!(row_major_strides(&[5, 0, 2]), vec![2, 2, 1]);
    }
}
