//! Sorts ([`Op::Sort`]): one kernel over the lanes (every axis but the sorted one), each point a
//! stable bottom-up merge sort of its lane's positions through two `i64` temporaries, then the
//! sorted values (or positions) stored in order. Deterministic and the same on every device: a
//! stable sort's result is unique.

use super::radix::{radix_key, radix_min, RadixBufs, RadixLane};
use super::{Builder, R};
use crate::loops::{BufId, Expr, Flag, Kernel, KernelHint, Scalar, Stmt, Var};
use crate::program::{BinOp, NodeId, Op, UnOp};
use crate::types::{DType, Dim};
use std::collections::HashMap;

/// Merge passes a lane can need: widths `1 << p` for `p` below this cover any length below
/// `2^62` (and `2 * width` does not overflow).
const MAX_PASSES: u64 = 62;

/// One lane of a sort kernel: what the merge passes and the final stores index.
struct Lane {
    /// The kernel's first domain variable (extent 1), the first axis of the temporaries.
    unit: Var,
    /// The domain variables of the other axes, in order.
    outer: Vec<Var>,
    axis: usize,
    n: Dim,
    elem: DType,
}

impl Lane {
    /// The index of position `t` in a temporary: `[unit, outer.., t]`.
    fn temp(&self, t: Expr) -> Vec<Expr> {
        let mut idx = vec![Expr::Var(self.unit)];
        idx.extend(self.outer.iter().map(|v| Expr::Var(*v)));
        idx.push(t);
        idx
    }

    /// The index of position `t` of the lane in the operand and the result.
    fn at(&self, t: Expr) -> Vec<Expr> {
        let mut idx: Vec<Expr> = self.outer.iter().map(|v| Expr::Var(*v)).collect();
        idx.insert(self.axis, t);
        idx
    }
}

impl Builder<'_> {
    /// The kernel of sort `id`, storing to `targets` through the position buffers `a`, `b` and
    /// the key buffers `ka`, `kb` (`bufs`, each `[1, the other axes.., n]`): the operand is
    /// evaluated once per element into the keys, and the merge passes carry each key beside
    /// its position, so they read both in order instead of gathering the operand at every
    /// comparison:
    ///
    /// ```text
    /// kernel (u < 1, o..) sort {
    ///   for t < n { store a[u, o.., t] = t; store ka[u, o.., t] = x[o.., t] }
    ///   mut passes = 0
    ///   for p < 62 { let w = shl(1, p); if w < n { merge runs of w from (a, ka) to (b, kb) (or back); passes += 1 } }
    ///   for t < n { store out[o.., t] = (passes even ? ka : kb)[u, o.., t] (or the position) }
    /// }
    /// ```
    ///
    /// With `radix` (every element type but `bool`), a lane of at least
    /// [`radix_min`] elements is radix-sorted instead (`build_loops/radix.rs`): the kernel's
    /// body is `if n >= radix_min { radix sort } else { merge sort }`, the same result.
    pub(super) fn sort_kernel(
        &mut self,
        id: NodeId,
        targets: &[BufId],
        bufs: [BufId; 4],
        radix: Option<RadixBufs>,
    ) -> R<Kernel> {
        let p = self.p;
        let Op::Sort { arg, axis, indices } = &p.node(id).op else { return Err(format!("{id} is no sort")) };
        let (arg, axis, indices) = (*arg, *axis as usize, *indices);
        let shape = p.node(arg).ty.shape.clone();
        let n = *shape.get(axis).ok_or_else(|| format!("{id}: sort axis {axis} is out of range"))?;
        let elem = self.dtype(arg)?;
        self.cache = vec![HashMap::new()];
        let (unit, outer, domain) = self.lane_domain(Dim::Const(1), &shape, axis);
        let lane = Lane { unit, outer, axis, n, elem };
        let [a, b, ka, kb] = bufs;
        // Identity positions and their keys.
        let t0 = self.var(Some(n));
        let (x0, mut first) = self.block(|s, o| s.expr(arg, &lane.at(Expr::Var(t0)), o))?;
        first.push(Stmt::Store { buf: a, idx: lane.temp(Expr::Var(t0)), value: Expr::Var(t0) });
        first.push(Stmt::Store { buf: ka, idx: lane.temp(Expr::Var(t0)), value: x0 });
        let mut body = vec![Stmt::For { var: t0, extent: n, body: first }];
        let passes = self.var(None);
        body.push(Stmt::Mut { var: passes, ty: DType::I64, init: Expr::i64(0) });
        let pv = self.var(Some(Dim::Const(MAX_PASSES)));
        let w = self.var(None);
        let even = self.merge_pass(&lane, (a, ka), (b, kb), w)?;
        let odd = self.merge_pass(&lane, (b, kb), (a, ka), w)?;
        let parity =
            || Expr::binary(BinOp::Eq, Expr::binary(BinOp::Rem, Expr::Var(passes), Expr::i64(2)), Expr::i64(0));
        let pass = vec![
            Stmt::If { cond: parity(), then: even, els: odd },
            Stmt::Assign { var: passes, value: Expr::binary(BinOp::Add, Expr::Var(passes), Expr::i64(1)) },
        ];
        body.push(Stmt::For {
            var: pv,
            extent: Dim::Const(MAX_PASSES),
            body: vec![
                Stmt::Let { var: w, ty: DType::I64, value: Expr::binary(BinOp::Shl, Expr::i64(1), Expr::Var(pv)) },
                Stmt::If { cond: Expr::binary(BinOp::Lt, Expr::Var(w), Expr::Dim(n)), then: pass, els: vec![] },
            ],
        });
        // The sorted lane: the keys themselves, or their positions.
        let t = self.var(Some(n));
        let (from_even, from_odd, ty) = if indices { (a, b, DType::I64) } else { (ka, kb, elem) };
        let k = self.var(None);
        let load = |buf: BufId| vec![Stmt::Assign { var: k, value: Expr::Load { buf, idx: lane.temp(Expr::Var(t)) } }];
        let mut out = vec![
            Stmt::Mut { var: k, ty, init: Expr::Const(Scalar::zero(ty)) },
            Stmt::If { cond: parity(), then: load(from_even), els: load(from_odd) },
        ];
        let value = if indices { self.checked(Expr::Var(k), n, &mut out) } else { Expr::Var(k) };
        for tg in targets {
            out.push(Stmt::Store { buf: *tg, idx: lane.at(Expr::Var(t)), value: value.clone() });
        }
        body.push(Stmt::For { var: t, extent: n, body: out });
        if let (Some(rb), Some((_, digits))) = (radix, radix_key(elem)) {
            let (temp, at) = (|t: Expr| lane.temp(t), |t: Expr| lane.at(t));
            let rl = RadixLane { temp: &temp, at: &at, n, elem, pos: [a, b], vals: ka };
            let sorted = self.radix_sort(&rl, rb, arg, indices, targets)?;
            let long = Expr::binary(BinOp::Ge, Expr::Dim(n), Expr::i64(radix_min(digits) as i64));
            body = vec![Stmt::If { cond: long, then: sorted, els: body }];
        }
        Ok(Kernel { name: String::new(), domain, hint: KernelHint::Sort, body })
    }

    /// One merge pass over a lane: the runs of `w` positions in `src`, merged pairwise into
    /// `dst`; on equal keys the left run's position goes first (stable). One loop over the
    /// pairs of runs (`q`: positions `lo = q * 2w` up to `hi`), each merged by a loop over its
    /// own positions, so no position computes which pair it is in.
    fn merge_pass(&mut self, lane: &Lane, src: (BufId, BufId), dst: (BufId, BufId), w: Var) -> R<Vec<Stmt>> {
        let n = lane.n;
        let ((src, ksrc), (dst, kdst)) = (src, dst);
        let (i, j, left) = (self.var(None), self.var(None), self.var(None));
        let mut body: Vec<Stmt> =
            [i, j].iter().map(|v| Stmt::Mut { var: *v, ty: DType::I64, init: Expr::i64(0) }).collect();
        body.push(Stmt::Mut { var: left, ty: DType::Bool, init: Expr::Const(Scalar::Bool(true)) });
        let (q, t) = (self.var(Some(n)), self.var(Some(n)));
        let (two, lo, mid, hi) = (self.var(None), self.var(None), self.var(None), self.var(None));
        let v = Expr::Var;
        let bin = Expr::binary;
        body.push(Stmt::Let { var: two, ty: DType::I64, value: bin(BinOp::Add, v(w), v(w)) });
        let pair = vec![
            Stmt::Let { var: lo, ty: DType::I64, value: bin(BinOp::Mul, v(q), v(two)) },
            Stmt::Let { var: mid, ty: DType::I64, value: bin(BinOp::Min, bin(BinOp::Add, v(lo), v(w)), Expr::Dim(n)) },
            Stmt::Let { var: hi, ty: DType::I64, value: bin(BinOp::Min, bin(BinOp::Add, v(lo), v(two)), Expr::Dim(n)) },
            Stmt::Assign { var: i, value: v(lo) },
            Stmt::Assign { var: j, value: v(mid) },
        ];
        // Take the right run's head only when it goes strictly before the left run's.
        let mut cmp = vec![];
        let xa = self.key(lane, ksrc, i, &mut cmp);
        let xb = self.key(lane, ksrc, j, &mut cmp);
        let mut before = bin(BinOp::Lt, xb.clone(), xa.clone());
        if lane.elem.is_float() {
            let a_nan = bin(BinOp::Ne, xa.clone(), xa);
            let b_num = bin(BinOp::Eq, xb.clone(), xb);
            before = bin(BinOp::Or, before, bin(BinOp::And, a_nan, b_num));
        }
        cmp.push(Stmt::Assign { var: left, value: Expr::Unary(UnOp::Not, Box::new(before)) });
        let mut inner = vec![Stmt::Assign { var: left, value: Expr::Const(Scalar::Bool(true)) }];
        inner.push(Stmt::If {
            cond: bin(BinOp::Lt, v(j), v(hi)),
            then: vec![Stmt::If {
                cond: bin(BinOp::Lt, v(i), v(mid)),
                then: cmp,
                els: vec![Stmt::Assign { var: left, value: Expr::Const(Scalar::Bool(false)) }],
            }],
            els: vec![],
        });
        let take = |s: &mut Self, from: Var| {
            let mut o = vec![];
            let c = s.checked(v(from), n, &mut o);
            o.push(Stmt::Store {
                buf: dst,
                idx: lane.temp(v(t)),
                value: Expr::Load { buf: src, idx: lane.temp(c.clone()) },
            });
            o.push(Stmt::Store { buf: kdst, idx: lane.temp(v(t)), value: Expr::Load { buf: ksrc, idx: lane.temp(c) } });
            o.push(Stmt::Assign { var: from, value: bin(BinOp::Add, v(from), Expr::i64(1)) });
            o
        };
        let (then, els) = (take(self, i), take(self, j));
        inner.push(Stmt::If { cond: v(left), then, els });
        let mut pair = pair;
        pair.push(Stmt::ForRange { var: t, extent: n, start: v(lo), end: v(hi), body: inner });
        // ceil(n / 2w) pairs: `w < n` here, so `n + 2w - 1` does not overflow.
        let pairs = bin(BinOp::Div, bin(BinOp::Add, Expr::Dim(n), bin(BinOp::Sub, v(two), Expr::i64(1))), v(two));
        body.push(Stmt::ForRange { var: q, extent: n, start: Expr::i64(0), end: pairs, body: pair });
        Ok(body)
    }

    /// The key at position `p` of the key buffer `keys` (bound to a variable in `out`).
    fn key(&mut self, lane: &Lane, keys: BufId, p: Var, out: &mut Vec<Stmt>) -> Expr {
        let cp = self.checked(Expr::Var(p), lane.n, out);
        self.bind(Expr::Load { buf: keys, idx: lane.temp(cp) }, lane.elem, out)
    }
}

impl Builder<'_> {
    /// The kernel of top-k node `id`, storing to `targets` through its working buffers `bufs`
    /// (values and positions, `[1, the other axes.., k]`): one pass over the lane, each element
    /// evaluated once and inserted into the sorted first `k` (an element displaces a slot only
    /// when strictly before it, and everything after the first displaced slot shifts right:
    /// stable), then a flag when the lane had fewer than `k` elements, then the copy out.
    ///
    /// Once the `k` slots are full, an element enters only when it goes strictly before the
    /// last slot (kept in `kth`): the slots are sorted in the same order, so an element not
    /// before the last is before none. Each element then costs one comparison, and the k-step
    /// insertion runs only for the (after the first elements, rare) elements that enter.
    /// On float lanes of straight-line elements the pass runs in chunks ([`TopKChunks`]): a
    /// chunk's best element is found first by a reduction loop of its own (a vector loop on
    /// the CPU), and the `for j` loop below runs only over the chunks where it could enter.
    ///
    /// ```text
    /// kernel (u < 1, o..) sort {
    ///   mut count = 0; mut kth = 0
    ///   for j < m { cur = x[o.., j]; curi = j; shifting = false
    ///     if count < k or before(cur, kth) {
    ///       for s < k { if s < count { if shifting or before(cur, vals[s]) { swap (cur, curi) with slot s } }
    ///                   else if s == count { slot s = (cur, curi) } }
    ///       count = min(count + 1, k)
    ///       if count >= 1 and count == k { kth = vals[k - 1] } } }
    ///   if count < k { flag index_out_of_range }
    ///   for t < k { store out[o.., t] = vals[t] (or pos[t]) }
    /// }
    /// ```
    pub(super) fn topk_kernel(&mut self, id: NodeId, targets: &[BufId], bufs: [BufId; 2]) -> R<Kernel> {
        let p = self.p;
        let Op::TopK { arg, axis, k, largest, indices } = &p.node(id).op else {
            return Err(format!("{id} is no top-k"));
        };
        let (arg, axis, k, largest, indices) = (*arg, *axis as usize, *k, *largest, *indices);
        let shape = p.node(arg).ty.shape.clone();
        let m = *shape.get(axis).ok_or_else(|| format!("{id}: top-k axis {axis} is out of range"))?;
        let elem = self.dtype(arg)?;
        self.cache = vec![HashMap::new()];
        let (unit, outer, domain) = self.lane_domain(Dim::Const(1), &shape, axis);
        let lane = Lane { unit, outer, axis, n: m, elem };
        let [vals, pos] = bufs;
        let v = Expr::Var;
        let bin = Expr::binary;
        let (count, cur, curi, shifting) = (self.var(None), self.var(None), self.var(None), self.var(None));
        let kth = self.var(None);
        let mut body = vec![
            Stmt::Mut { var: count, ty: DType::I64, init: Expr::i64(0) },
            Stmt::Mut { var: kth, ty: elem, init: Expr::Const(Scalar::zero(elem)) },
            Stmt::Mut { var: cur, ty: elem, init: Expr::Const(Scalar::zero(elem)) },
            Stmt::Mut { var: curi, ty: DType::I64, init: Expr::i64(0) },
            Stmt::Mut { var: shifting, ty: DType::Bool, init: Expr::Const(Scalar::Bool(false)) },
        ];
        let j = self.var(Some(m));
        let (x, mut step) = self.block(|s, o| {
            let x = s.expr(arg, &lane.at(v(j)), o)?;
            Ok(s.bind(x, elem, o))
        })?;
        step.push(Stmt::Assign { var: cur, value: x });
        step.push(Stmt::Assign { var: curi, value: v(j) });
        step.push(Stmt::Assign { var: shifting, value: Expr::Const(Scalar::Bool(false)) });
        let s = self.var(Some(k));
        let (vs, ps) = (self.var(None), self.var(None));
        let cmp = if largest { BinOp::Gt } else { BinOp::Lt };
        // Whether `cur` goes strictly before `slot` (NaN after every number).
        let before_of = |slot: Var| goes_before(cmp, elem, v(cur), v(slot));
        let before = before_of(vs);
        let put = |var: Var, idx: Var| {
            vec![
                Stmt::Store { buf: vals, idx: lane.temp(v(idx)), value: v(var) },
                Stmt::Store { buf: pos, idx: lane.temp(v(idx)), value: v(curi) },
            ]
        };
        let mut swap = vec![
            Stmt::Assign { var: shifting, value: Expr::Const(Scalar::Bool(true)) },
            Stmt::Let { var: ps, ty: DType::I64, value: Expr::Load { buf: pos, idx: lane.temp(v(s)) } },
        ];
        swap.extend(put(cur, s));
        swap.push(Stmt::Assign { var: cur, value: v(vs) });
        swap.push(Stmt::Assign { var: curi, value: v(ps) });
        let occupied = vec![
            Stmt::Let { var: vs, ty: elem, value: Expr::Load { buf: vals, idx: lane.temp(v(s)) } },
            Stmt::If { cond: bin(BinOp::Or, v(shifting), before), then: swap, els: vec![] },
        ];
        let mut insert = vec![Stmt::For {
            var: s,
            extent: k,
            body: vec![Stmt::If {
                cond: bin(BinOp::Lt, v(s), v(count)),
                then: occupied,
                els: vec![Stmt::If { cond: bin(BinOp::Eq, v(s), v(count)), then: put(cur, s), els: vec![] }],
            }],
        }];
        let grown = bin(BinOp::Min, bin(BinOp::Add, v(count), Expr::i64(1)), Expr::Dim(k));
        insert.push(Stmt::Assign { var: count, value: grown });
        // The last slot, once every slot is filled (`count >= 1` keeps `k - 1` in range).
        let mut last = vec![];
        let at_last = self.checked(bin(BinOp::Sub, Expr::Dim(k), Expr::i64(1)), k, &mut last);
        last.push(Stmt::Assign { var: kth, value: Expr::Load { buf: vals, idx: lane.temp(at_last) } });
        let full = bin(BinOp::And, bin(BinOp::Ge, v(count), Expr::i64(1)), bin(BinOp::Eq, v(count), Expr::Dim(k)));
        insert.push(Stmt::If { cond: full, then: last, els: vec![] });
        let enters = bin(BinOp::Or, bin(BinOp::Lt, v(count), Expr::Dim(k)), before_of(kth));
        step.push(Stmt::If { cond: enters, then: insert, els: vec![] });
        let scan = match self.topk_chunks(&lane, arg, j, largest, (count, kth, k))? {
            Some(chunks) => chunks.wrap(step),
            None => Stmt::For { var: j, extent: m, body: step },
        };
        body.push(scan);
        body.push(Stmt::If {
            cond: bin(BinOp::Lt, v(count), Expr::Dim(k)),
            then: vec![Stmt::Flag(Flag::IndexOutOfRange)],
            els: vec![],
        });
        let t = self.var(Some(k));
        let from = if indices { pos } else { vals };
        let mut idx: Vec<Expr> = lane.outer.iter().map(|o| v(*o)).collect();
        idx.insert(axis, v(t));
        let copy = targets
            .iter()
            .map(|tg| Stmt::Store { buf: *tg, idx: idx.clone(), value: Expr::Load { buf: from, idx: lane.temp(v(t)) } })
            .collect();
        body.push(Stmt::For { var: t, extent: k, body: copy });
        Ok(Kernel { name: String::new(), domain, hint: KernelHint::Sort, body })
    }
}

/// Whether `a` goes strictly before `b` in a top-k's order (`cmp`: `<` for smallest, `>` for
/// largest), floats' NaN after every number.
fn goes_before(cmp: BinOp, elem: DType, a: Expr, b: Expr) -> Expr {
    let mut before = Expr::binary(cmp, a.clone(), b.clone());
    if elem.is_float() {
        let b_nan = Expr::binary(BinOp::Ne, b.clone(), b);
        let a_num = Expr::binary(BinOp::Eq, a.clone(), a);
        before = Expr::binary(BinOp::Or, before, Expr::binary(BinOp::And, b_nan, a_num));
    }
    before
}

/// The bytes of lane elements one chunk of a top-k pass tests at once ([`TopKChunks`]):
/// 32 `f32` or 16 `f64`, a few 128-bit vectors.
const TOPK_CHUNK_BYTES: u64 = 128;

/// The chunked pass of a top-k kernel over a float lane: the lane in chunks of
/// [`TOPK_CHUNK_BYTES`], each first reduced to its best element (`min`, or `max` for largest;
/// NaN when it holds one) by a loop of its own, which the CPU backend runs as a vector
/// reduction loop; only a chunk whose best could enter (the slots not yet full, a NaN in the
/// chunk, or the best strictly before the `k`-th slot) runs the per-element insertion over
/// its elements. An element of a skipped chunk would have entered only by going strictly
/// before the `k`-th slot, which its chunk's best does not either, so the result is the
/// per-element pass's, bit for bit:
///
/// ```text
/// for c < ceil(m / C) { lo = c * C; hi = min(lo + C, m)
///   mut best = +inf (largest: -inf)
///   for j1 < m from lo to hi { best = min(best, x[o.., j1]) }
///   if count < k or best != best or before(best, kth) { for j < m from lo to hi { step } } }
/// ```
struct TopKChunks {
    /// The chunk loop, its body up to the test (the per-element loop goes in the test).
    chunk: Var,
    m: Dim,
    size: i64,
    head: Vec<Stmt>,
    test: Expr,
    j: Var,
    lo: Var,
    hi: Var,
}

impl TopKChunks {
    /// The whole chunked pass, running `step` (the per-element insertion of element `j`) over
    /// the elements of every chunk that passes the test.
    fn wrap(self, step: Vec<Stmt>) -> Stmt {
        let v = Expr::Var;
        let mut body = self.head;
        body.push(Stmt::If {
            cond: self.test,
            then: vec![Stmt::ForRange { var: self.j, extent: self.m, start: v(self.lo), end: v(self.hi), body: step }],
            els: vec![],
        });
        // ceil(m / C) chunks.
        let chunks = Expr::binary(
            BinOp::Div,
            Expr::binary(BinOp::Add, Expr::Dim(self.m), Expr::i64(self.size - 1)),
            Expr::i64(self.size),
        );
        Stmt::ForRange { var: self.chunk, extent: self.m, start: Expr::i64(0), end: chunks, body }
    }
}

impl Builder<'_> {
    /// The chunk loop of top-k node `arg`'s pass ([`TopKChunks`]), for float lanes whose
    /// element is straight-line code (a load, arithmetic on loads); `None` otherwise (an
    /// element that is itself a loop, a sum over features, gains nothing from testing it twice).
    /// `state` is the pass's `(count, kth, k)`.
    fn topk_chunks(
        &mut self,
        lane: &Lane,
        arg: NodeId,
        j: Var,
        largest: bool,
        state: (Var, Var, Dim),
    ) -> R<Option<TopKChunks>> {
        let (count, kth, k) = state;
        let elem = lane.elem;
        if !elem.is_float() {
            return Ok(None);
        }
        let v = Expr::Var;
        let bin = Expr::binary;
        let m = lane.n;
        let j1 = self.var(Some(m));
        let (x, mut reduce) = self.block(|s, o| {
            let x = s.expr(arg, &lane.at(v(j1)), o)?;
            Ok(s.bind(x, elem, o))
        })?;
        if !reduce.iter().all(|s| matches!(s, Stmt::Let { .. })) {
            return Ok(None);
        }
        let size = (TOPK_CHUNK_BYTES / elem.size() as u64).max(1) as i64;
        let (chunk, lo, hi, best) = (self.var(Some(m)), self.var(None), self.var(None), self.var(None));
        let (op, cmp, worst) =
            if largest { (BinOp::Max, BinOp::Gt, f64::NEG_INFINITY) } else { (BinOp::Min, BinOp::Lt, f64::INFINITY) };
        let worst = match elem {
            DType::F32 => Scalar::F32(worst as f32),
            _ => Scalar::F64(worst),
        };
        reduce.push(Stmt::Assign { var: best, value: bin(op, v(best), x) });
        let head = vec![
            Stmt::Let { var: lo, ty: DType::I64, value: bin(BinOp::Mul, v(chunk), Expr::i64(size)) },
            Stmt::Let {
                var: hi,
                ty: DType::I64,
                value: bin(BinOp::Min, bin(BinOp::Add, v(lo), Expr::i64(size)), Expr::Dim(m)),
            },
            Stmt::Mut { var: best, ty: elem, init: Expr::Const(worst) },
            Stmt::ForRange { var: j1, extent: m, start: v(lo), end: v(hi), body: reduce },
        ];
        // `min`/`max` keep a NaN operand, so `best` is NaN exactly when the chunk holds one.
        let test = bin(
            BinOp::Or,
            bin(BinOp::Or, bin(BinOp::Lt, v(count), Expr::Dim(k)), bin(BinOp::Ne, v(best), v(best))),
            goes_before(cmp, elem, v(best), v(kth)),
        );
        Ok(Some(TopKChunks { chunk, m, size, head, test, j, lo, hi }))
    }
}
