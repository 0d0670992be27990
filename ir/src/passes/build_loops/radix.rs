//! The radix sort of a long lane ([`Op::Sort`] when the lane has at least [`radix_min`]
//! elements): a stable least-significant-digit sort on 8-bit digits of an order-preserving
//! unsigned key, carrying each element's position. One pass over the lane evaluates the operand
//! once, stores its key and counts every digit's histogram; each digit then turns its
//! histogram into bucket offsets and, unless one bucket holds the whole lane (sorted or
//! constant digits: nothing moves), scatters keys and positions in lane order into the other
//! buffer pair. The result is the merge sort's, bit for bit: the key orders numbers as `<`
//! does, gives `-0.0` the key of `0.0` (they compare equal) and every NaN one key after
//! `+inf` (NaNs go last, in lane order), and equal keys keep their lane order (stable).
//!
//! [`Op::Sort`]: crate::program::Op::Sort

use super::{Builder, R};
use crate::loops::{BufId, Expr, Scalar, Stmt, Var};
use crate::program::BinOp;
use crate::types::{DType, Dim};

/// Buckets per digit (8-bit digits).
const BUCKETS: i64 = 256;

/// The shortest lane below which the merge sort is faster (measured on the CPU; see
/// `docs/architecture.md`).
const CROSSOVER: u64 = 1024;

/// The unsigned key type of a radix-sorted element type (`u32` for 32-bit types, `i64` read
/// as unsigned for 64-bit ones), and its digit count; `None` where the merge sort stays
/// (`bool`).
pub(super) fn radix_key(elem: DType) -> Option<(DType, i64)> {
    match elem {
        DType::F32 | DType::I32 | DType::U32 => Some((DType::U32, 4)),
        DType::F64 | DType::I64 => Some((DType::I64, 8)),
        DType::Bool => None,
    }
}

/// The shortest lane the radix sort handles: the crossover, and at least room for the
/// histograms (`digits * 256` counts and one skip flag per digit), which live in a buffer the
/// size of the lane.
pub(super) fn radix_min(digits: i64) -> u64 {
    CROSSOVER.max((digits * (BUCKETS + 1)) as u64)
}

/// The buffers of a radix sort beside the merge sort's: the two key buffers (of the key type)
/// and the histograms (`i64`), each `[1, the other axes.., n]`.
#[derive(Clone, Copy)]
pub(super) struct RadixBufs {
    pub keys: [BufId; 2],
    pub hist: BufId,
}

/// What the radix sort of one lane reads and writes.
pub(super) struct RadixLane<'a> {
    /// The index of position `t` in a temporary (`[unit, outer.., t]`).
    pub temp: &'a dyn Fn(Expr) -> Vec<Expr>,
    /// The index of position `t` in the operand and the result.
    pub at: &'a dyn Fn(Expr) -> Vec<Expr>,
    pub n: Dim,
    pub elem: DType,
    /// The position buffers (`i64`) and the first value buffer (the operand's values, for a
    /// sort that returns them).
    pub pos: [BufId; 2],
    pub vals: BufId,
}

impl Builder<'_> {
    /// The statements that radix-sort one lane into `targets` (the values, or with `indices`
    /// the positions), for a lane of at least [`radix_min`] elements:
    ///
    /// ```text
    /// for h < n from 0 to digits*257 { store hist[u, o.., h] = 0 }
    /// for t < n { let x = x[o.., t]; store pos0[t] = t; store vals[t] = x (values only)
    ///             let k = key(x); store keys0[t] = k
    ///             for each digit p { hist[p*256 + digit(k, p)] += 1 } }
    /// for p < digits { mut s = 0; mut one = 0
    ///   for b < 256 { c = hist[p*256 + b]; hist[p*256 + b] = s; s += c; if c == n { one = 1 } }
    ///   store hist[digits*256 + p] = one }
    /// mut passes = 0
    /// for p < digits { if hist[digits*256 + p] == 0 {
    ///   scatter (keys, pos) from pair passes%2 to the other by digit p; passes += 1 } }
    /// for t < n { let q = pos(passes%2)[t]; store out[o.., t] = q (or vals[q]) }
    /// ```
    pub(super) fn radix_sort(
        &mut self,
        lane: &RadixLane<'_>,
        bufs: RadixBufs,
        arg: crate::program::NodeId,
        indices: bool,
        targets: &[BufId],
    ) -> R<Vec<Stmt>> {
        let (n, elem) = (lane.n, lane.elem);
        let (kt, digits) = radix_key(elem).ok_or_else(|| format!("no radix key for {elem}"))?;
        let v = Expr::Var;
        let bin = Expr::binary;
        let hist = bufs.hist;
        let mut body = vec![];
        // Zero the histograms and the skip flags.
        let h = self.var(Some(n));
        let zero = vec![Stmt::Store { buf: hist, idx: (lane.temp)(v(h)), value: Expr::i64(0) }];
        let flags_end = Expr::i64(digits * (BUCKETS + 1));
        body.push(Stmt::ForRange { var: h, extent: n, start: Expr::i64(0), end: flags_end, body: zero });

        // One pass: positions, values, keys and every digit's counts.
        let t0 = self.var(Some(n));
        let (x, mut first) = self.block(|s, o| {
            let x = s.expr(arg, &(lane.at)(v(t0)), o)?;
            Ok(s.bind(x, elem, o))
        })?;
        first.push(Stmt::Store { buf: lane.pos[0], idx: (lane.temp)(v(t0)), value: v(t0) });
        if !indices {
            first.push(Stmt::Store { buf: lane.vals, idx: (lane.temp)(v(t0)), value: x.clone() });
        }
        let key = self.key_of(x, elem, &mut first);
        let k0 = self.bind(key, kt, &mut first);
        first.push(Stmt::Store { buf: bufs.keys[0], idx: (lane.temp)(v(t0)), value: k0.clone() });
        for p in 0..digits {
            let slot = bin(
                BinOp::Add,
                Expr::i64(p * BUCKETS),
                digit(k0.clone(), kt, Expr::Const(Scalar::I64(8 * p).cast(kt))),
            );
            let hi = self.checked(slot, n, &mut first);
            let inc = bin(BinOp::Add, Expr::Load { buf: hist, idx: (lane.temp)(hi.clone()) }, Expr::i64(1));
            first.push(Stmt::Store { buf: hist, idx: (lane.temp)(hi), value: inc });
        }
        body.push(Stmt::For { var: t0, extent: n, body: first });

        // Each digit's counts become bucket offsets; a digit whose values all fall in one
        // bucket is flagged to be skipped.
        let dd = Dim::Const(digits as u64);
        let (p, b) = (self.var(Some(dd)), self.var(Some(Dim::Const(BUCKETS as u64))));
        let (sum, one, c) = (self.var(None), self.var(None), self.var(None));
        let mut bucket = vec![];
        let slot = bin(BinOp::Add, bin(BinOp::Mul, v(p), Expr::i64(BUCKETS)), v(b));
        let hi = self.checked(slot, n, &mut bucket);
        bucket.push(Stmt::Let {
            var: c,
            ty: DType::I64,
            value: Expr::Load { buf: hist, idx: (lane.temp)(hi.clone()) },
        });
        bucket.push(Stmt::Store { buf: hist, idx: (lane.temp)(hi), value: v(sum) });
        bucket.push(Stmt::Assign { var: sum, value: bin(BinOp::Add, v(sum), v(c)) });
        bucket.push(Stmt::If {
            cond: bin(BinOp::Eq, v(c), Expr::Dim(n)),
            then: vec![Stmt::Assign { var: one, value: Expr::i64(1) }],
            els: vec![],
        });
        let mut offsets = vec![
            Stmt::Mut { var: sum, ty: DType::I64, init: Expr::i64(0) },
            Stmt::Mut { var: one, ty: DType::I64, init: Expr::i64(0) },
            Stmt::For { var: b, extent: Dim::Const(BUCKETS as u64), body: bucket },
        ];
        let fi = self.checked(bin(BinOp::Add, Expr::i64(digits * BUCKETS), v(p)), n, &mut offsets);
        offsets.push(Stmt::Store { buf: hist, idx: (lane.temp)(fi), value: v(one) });
        body.push(Stmt::For { var: p, extent: dd, body: offsets });

        // The scatter passes, alternating between the buffer pairs.
        let passes = self.var(None);
        body.push(Stmt::Mut { var: passes, ty: DType::I64, init: Expr::i64(0) });
        let parity = || bin(BinOp::Eq, bin(BinOp::Rem, Expr::Var(passes), Expr::i64(2)), Expr::i64(0));
        let p = self.var(Some(dd));
        let pairs = ([lane.pos[0], bufs.keys[0]], [lane.pos[1], bufs.keys[1]]);
        let even = self.scatter(lane, hist, kt, p, pairs.0, pairs.1)?;
        let odd = self.scatter(lane, hist, kt, p, pairs.1, pairs.0)?;
        let mut pass = vec![];
        let fi = self.checked(bin(BinOp::Add, Expr::i64(digits * BUCKETS), v(p)), n, &mut pass);
        let run = vec![
            Stmt::If { cond: parity(), then: even, els: odd },
            Stmt::Assign { var: passes, value: bin(BinOp::Add, v(passes), Expr::i64(1)) },
        ];
        let moves = bin(BinOp::Eq, Expr::Load { buf: hist, idx: (lane.temp)(fi) }, Expr::i64(0));
        pass.push(Stmt::If { cond: moves, then: run, els: vec![] });
        body.push(Stmt::For { var: p, extent: dd, body: pass });

        // The sorted lane: the positions, or the values at them.
        let (t, q) = (self.var(Some(n)), self.var(None));
        let load = |buf: BufId| vec![Stmt::Assign { var: q, value: Expr::Load { buf, idx: (lane.temp)(v(t)) } }];
        let mut out = vec![
            Stmt::Mut { var: q, ty: DType::I64, init: Expr::i64(0) },
            Stmt::If { cond: parity(), then: load(lane.pos[0]), els: load(lane.pos[1]) },
        ];
        let qc = self.checked(v(q), n, &mut out);
        let value = if indices { qc } else { Expr::Load { buf: lane.vals, idx: (lane.temp)(qc) } };
        for tg in targets {
            out.push(Stmt::Store { buf: *tg, idx: (lane.at)(v(t)), value: value.clone() });
        }
        body.push(Stmt::For { var: t, extent: n, body: out });
        Ok(body)
    }

    /// One scatter pass by digit `p`: every (key, position) of `src`, in lane order, goes to
    /// the next free slot of its bucket in `dst` (stable).
    fn scatter(
        &mut self,
        lane: &RadixLane<'_>,
        hist: BufId,
        kt: DType,
        p: Var,
        src: [BufId; 2],
        dst: [BufId; 2],
    ) -> R<Vec<Stmt>> {
        let n = lane.n;
        let v = Expr::Var;
        let bin = Expr::binary;
        let shift = Expr::Cast(kt, Box::new(bin(BinOp::Mul, v(p), Expr::i64(8))));
        let t = self.var(Some(n));
        let (k, q, o) = (self.var(None), self.var(None), self.var(None));
        let mut body = vec![
            Stmt::Let { var: k, ty: kt, value: Expr::Load { buf: src[1], idx: (lane.temp)(v(t)) } },
            Stmt::Let { var: q, ty: DType::I64, value: Expr::Load { buf: src[0], idx: (lane.temp)(v(t)) } },
        ];
        let slot = bin(BinOp::Add, bin(BinOp::Mul, v(p), Expr::i64(BUCKETS)), digit(v(k), kt, shift));
        let hi = self.checked(slot, n, &mut body);
        body.push(Stmt::Let { var: o, ty: DType::I64, value: Expr::Load { buf: hist, idx: (lane.temp)(hi.clone()) } });
        body.push(Stmt::Store { buf: hist, idx: (lane.temp)(hi), value: bin(BinOp::Add, v(o), Expr::i64(1)) });
        let oc = self.checked(v(o), n, &mut body);
        body.push(Stmt::Store { buf: dst[1], idx: (lane.temp)(oc.clone()), value: v(k) });
        body.push(Stmt::Store { buf: dst[0], idx: (lane.temp)(oc), value: v(q) });
        Ok(vec![Stmt::For { var: t, extent: n, body }])
    }
}

/// Digit `(k >> shift) & 255` of key `k` (of key type `kt`; `shift` of that type too) as an
/// `i64`. For `i64` keys the arithmetic shift's sign bits are masked off: the digit is the
/// unsigned key's.
fn digit(k: Expr, kt: DType, shift: Expr) -> Expr {
    let mask = Expr::Const(Scalar::I64(BUCKETS - 1).cast(kt));
    let d = Expr::binary(BinOp::And, Expr::binary(BinOp::Shr, k, shift), mask);
    if kt == DType::I64 {
        d
    } else {
        Expr::Cast(DType::I64, Box::new(d))
    }
}

impl Builder<'_> {
    /// The order-preserving unsigned key of `x` (of type `elem`), as [`radix_key`]'s type: the
    /// keys of two values compare (unsigned) as the values do under the merge sort's order.
    ///
    /// * floats: the IEEE bits with the sign bit flipped for numbers `>= +0` and every bit flipped
    ///   for negative ones; `-0.0` takes `+0.0`'s key and every NaN the largest key;
    /// * `i32`/`i64`: the two's complement bits with the sign bit flipped; `u32`: itself.
    fn key_of(&mut self, x: Expr, elem: DType, out: &mut Vec<Stmt>) -> Expr {
        let bin = Expr::binary;
        let sel = |c: Expr, a: Expr, b: Expr| Expr::Select(Box::new(c), Box::new(a), Box::new(b));
        match elem {
            DType::F32 | DType::F64 => {
                let (kt, sign, ones) = if elem == DType::F32 {
                    (DType::U32, Scalar::U32(0x8000_0000), Scalar::U32(u32::MAX))
                } else {
                    (DType::I64, Scalar::I64(i64::MIN), Scalar::I64(-1))
                };
                let bits = self.bind(Expr::Bitcast(kt, Box::new(x.clone())), kt, out);
                // The sign bit: `bits >= 0x8000_0000` as `u32`, `bits < 0` as `i64`.
                let negative = if kt == DType::I64 {
                    bin(BinOp::Lt, bits.clone(), Expr::i64(0))
                } else {
                    bin(BinOp::Ge, bits.clone(), Expr::Const(sign))
                };
                let number = sel(
                    negative,
                    bin(BinOp::Xor, bits.clone(), Expr::Const(ones)),
                    bin(BinOp::Xor, bits, Expr::Const(sign)),
                );
                let zero = Expr::Const(Scalar::zero(elem));
                let number = sel(bin(BinOp::Eq, x.clone(), zero), Expr::Const(sign), number);
                sel(bin(BinOp::Ne, x.clone(), x), Expr::Const(ones), number)
            }
            DType::I32 => bin(BinOp::Xor, Expr::Cast(DType::U32, Box::new(x)), Expr::Const(Scalar::U32(0x8000_0000))),
            DType::I64 => bin(BinOp::Xor, x, Expr::i64(i64::MIN)),
            DType::U32 | DType::Bool => x,
        }
    }
}
