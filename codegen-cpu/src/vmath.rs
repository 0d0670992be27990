//! Polynomial `exp`, `ln`, `tanh`, `sigmoid`, `sin` and `cos` emitted as straight-line CLIF,
//! for f32 and f64, scalar or 128-bit vector (f32x4, f64x2) alike.
//!
//! One emitter serves both the scalar path and the vector loop: every instruction used here is
//! defined lane by lane, so a vector lane computes bit for bit what the scalar code computes
//! for the same input (the tests compare the two paths). Polynomials are evaluated with `fma`
//! when the host ISA has FMA, with `fmul` + `fadd` otherwise; the error bounds below were
//! measured with FMA (this machine), by `tests/all/vmath.rs`, which asserts them.
//!
//! Error bounds, asserted by `tests/all/vmath.rs` (the measured maximum in parentheses): ULPs
//! of the result over every 37th f32 bit pattern plus edge cases against the f64 function of
//! the same input (f32), and over dense grids of the interesting ranges plus 2M bit patterns
//! spread over all doubles against glibc's f64 function (f64; glibc itself is within about
//! 1 ULP, so these are "vs glibc", and integral since both sides are doubles):
//!
//! | op        | f32 domain: bound (measured)        | f64 domain: bound vs glibc (measured) |
//! |-----------|-------------------------------------|---------------------------------------|
//! | `exp`     | all floats: 1.5 (1.001)             | all doubles: 1 (1)                    |
//! | `ln`      | all floats: 1 (0.808)               | all doubles: 1 (1)                    |
//! | `tanh`    | all floats: 2 (1.301)               | all doubles: 3 (3)                    |
//! | `sigmoid` | all floats: 3 (2.310)               | all doubles: 2 (2)                    |
//! | `sin`     | \|x\| <= 8192: 2 (1.494); libm beyond | \|x\| <= 2^20: 2 (2); libm beyond       |
//! | `cos`     | \|x\| <= 8192: 2 (1.496); libm beyond | \|x\| <= 2^20: 2 (2); libm beyond       |
//!
//! The f64 `sigmoid` reference is `1 / (1 + exp(-x))` (`x >= 0`) or `e / (1 + e)` with glibc's
//! `exp`. Without FMA the same algorithms run with separate multiplies and adds (and, for f32
//! `sin`/`cos`, Cephes' reduction constants with trailing zeros); that variant is not measured
//! here (this machine has FMA).
//!
//! Special values follow IEEE and libm: NaN in, NaN out; `exp` overflows to +inf and
//! underflows through the denormals to 0; `ln(0) = -inf`, `ln(x < 0) = NaN`, `ln(inf) = inf`;
//! `tanh(±inf) = ±1`, `sigmoid(-inf) = 0`, `sigmoid(inf) = 1`; `-0.0` keeps its sign through
//! `sin` and `tanh`. Beyond the range where the Cody–Waite reduction of `sin`/`cos` is
//! accurate, the lanes concerned (±inf among them) are computed by libm's own `sinf`/`sin`
//! (...), so those results are libm's exactly.
//!
//! Sources of the algorithms: Cephes (`expf`, `tanhf`, `tanh`, `sinf`/`cosf` polynomials) and
//! fdlibm as in musl (`exp`, `logf`, `log`, `__sin`, `__cos`).

// Constants are quoted digit for digit from Cephes and fdlibm, more digits than an f32 needs.
#![allow(clippy::excessive_precision)]

use crate::kernel::Lower;
use crate::math::{libm_symbol, MathOp};
use crate::CpuError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, BlockArg, ConstantData, InstBuilder, MemFlagsData, Type, Value};
use kiln_ir::{DType, UnOp};

/// pi/2 as the sum of three f32 (each the f32 nearest the remainder of the previous ones).
const FRAC_PI_2_F32: [f32; 3] = [1.570_796_4, -4.371_138_8e-8, -1.715_124_5e-15];

/// Whether `op` on `dt` has a polynomial implementation here.
pub fn covers(op: UnOp, dt: DType) -> bool {
    matches!(dt, DType::F32 | DType::F64)
        && matches!(op, UnOp::Exp | UnOp::Ln | UnOp::Tanh | UnOp::Sigmoid | UnOp::Sin | UnOp::Cos)
}

/// Emit `op` applied to `x` (a scalar `dt`, or a 128-bit vector of `dt` lanes), or `None`
/// when [`covers`] says no.
pub(crate) fn unary(l: &mut Lower<'_, '_>, op: UnOp, x: Value, dt: DType) -> Result<Option<Value>, CpuError> {
    if !covers(op, dt) {
        return Ok(None);
    }
    let fma = l.fma;
    let mut m = M::new(l, x, dt, fma);
    Ok(Some(match op {
        UnOp::Exp => m.exp(x),
        UnOp::Ln => m.ln(x),
        UnOp::Tanh => m.tanh(x),
        UnOp::Sigmoid => m.sigmoid(x),
        UnOp::Sin => m.sincos(x, false)?,
        UnOp::Cos => m.sincos(x, true)?,
        _ => return Ok(None),
    }))
}

/// An emitter bound to one float type (scalar or vector) and its same-width integer type.
struct M<'x, 'a, 'f> {
    l: &'x mut Lower<'a, 'f>,
    /// The float type (`F32`, `F64`, `F32X4`, `F64X2`).
    ty: Type,
    /// The integer type of the same shape (`I32`, `I64`, `I32X4`, `I64X2`).
    ity: Type,
    dt: DType,
    f64: bool,
    fma: bool,
}

impl<'x, 'a, 'f> M<'x, 'a, 'f> {
    fn new(l: &'x mut Lower<'a, 'f>, x: Value, dt: DType, fma: bool) -> Self {
        let ty = l.b.func.dfg.value_type(x);
        let f64 = dt == DType::F64;
        let lane_int = if f64 { types::I64 } else { types::I32 };
        let ity = if ty.is_vector() { lane_int.by(ty.lane_count()).unwrap_or(lane_int) } else { lane_int };
        M { l, ty, ity, dt, f64, fma }
    }

    // ---- building blocks -------------------------------------------------------------

    /// A float constant of the emitter's type (splatted for vectors).
    fn c(&mut self, v: f64) -> Value {
        if self.ty.is_vector() {
            // A constant-pool vector (one load, often folded into its user) rather than a
            // scalar constant splatted in the loop: Cranelift does not hoist splats.
            let lane: Vec<u8> =
                if self.f64 { v.to_bits().to_le_bytes().to_vec() } else { (v as f32).to_bits().to_le_bytes().to_vec() };
            let bytes: Vec<u8> = lane.iter().copied().cycle().take(16).collect();
            let h = self.l.b.func.dfg.constants.insert(ConstantData::from(bytes));
            return self.l.b.ins().vconst(self.ty, h);
        }
        if self.f64 {
            self.l.b.ins().f64const(v)
        } else {
            self.l.b.ins().f32const(v as f32)
        }
    }

    /// An integer constant of the emitter's integer type (splatted for vectors).
    fn ic(&mut self, v: i64) -> Value {
        let lane = self.ity.lane_type();
        let v = if lane == types::I32 { v as u32 as i64 } else { v };
        let s = self.l.b.ins().iconst(lane, v);
        if self.ity.is_vector() {
            self.l.b.ins().splat(self.ity, s)
        } else {
            s
        }
    }

    fn add(&mut self, a: Value, b: Value) -> Value {
        self.l.b.ins().fadd(a, b)
    }
    fn sub(&mut self, a: Value, b: Value) -> Value {
        self.l.b.ins().fsub(a, b)
    }
    fn mul(&mut self, a: Value, b: Value) -> Value {
        self.l.b.ins().fmul(a, b)
    }
    fn div(&mut self, a: Value, b: Value) -> Value {
        self.l.b.ins().fdiv(a, b)
    }

    /// `a * b + c`, fused (one rounding) when the ISA has FMA.
    fn madd(&mut self, a: Value, b: Value, c: Value) -> Value {
        if self.fma {
            self.l.b.ins().fma(a, b, c)
        } else {
            let p = self.mul(a, b);
            self.add(p, c)
        }
    }

    /// `a * k + c` for a constant `k`.
    fn maddk(&mut self, a: Value, k: f64, c: Value) -> Value {
        let k = self.c(k);
        self.madd(a, k, c)
    }

    /// Horner's scheme: `cs[0] * x^(n-1) + ... + cs[n-1]` (highest degree first).
    fn horner(&mut self, x: Value, cs: &[f64]) -> Value {
        let mut acc = self.c(cs[0]);
        for &k in &cs[1..] {
            let kv = self.c(k);
            acc = self.madd(acc, x, kv);
        }
        acc
    }

    fn ibits(&mut self, x: Value) -> Value {
        self.l.b.ins().bitcast(self.ity, MemFlagsData::new(), x)
    }
    fn fbits(&mut self, x: Value) -> Value {
        self.l.b.ins().bitcast(self.ty, MemFlagsData::new(), x)
    }

    /// A lane mask of a float comparison (`i8` for scalars, an integer vector for vectors).
    fn cmp(&mut self, cc: FloatCC, a: Value, b: Value) -> Value {
        self.l.b.ins().fcmp(cc, a, b)
    }

    /// `mask ? a : b` per lane, for float or integer `a`/`b`.
    fn sel(&mut self, mask: Value, a: Value, b: Value) -> Value {
        if self.ty.is_vector() {
            let t = self.l.b.func.dfg.value_type(a);
            let m = if self.l.b.func.dfg.value_type(mask) == t {
                mask
            } else {
                self.l.b.ins().bitcast(t, MemFlagsData::new(), mask)
            };
            self.l.b.ins().bitselect(m, a, b)
        } else {
            self.l.b.ins().select(mask, a, b)
        }
    }

    /// Bits of the mantissa field.
    fn mant_bits(&self) -> i64 {
        if self.f64 {
            52
        } else {
            23
        }
    }

    /// `1.5 * 2^mant_bits`: adding it rounds a float of magnitude below `2^(mant_bits-1)` to
    /// an integer (ties to even) that then sits in the low bits of the sum's bit pattern.
    fn shifter(&self) -> f64 {
        1.5 * (2f64).powi(self.mant_bits() as i32)
    }

    /// The integer `n` (in the integer type) whose float is `n + shifter` (see [`Self::shifter`]).
    fn shifted_int(&mut self, k: Value) -> Value {
        let ki = self.ibits(k);
        let s = self.shifter();
        let sbits = if self.f64 { s.to_bits() as i64 } else { (s as f32).to_bits() as i64 };
        let sb = self.ic(sbits);
        self.l.b.ins().isub(ki, sb)
    }

    /// The float `n` of an integer `n` with `|n| < 2^(mant_bits-1)`, without `fcvt` (which
    /// x64 lacks for 64-bit lanes).
    fn int_to_float(&mut self, n: Value) -> Value {
        let s = self.shifter();
        let sbits = if self.f64 { s.to_bits() as i64 } else { (s as f32).to_bits() as i64 };
        let sb = self.ic(sbits);
        let b = self.l.b.ins().iadd(n, sb);
        let f = self.fbits(b);
        let sc = self.c(s);
        self.sub(f, sc)
    }

    /// `2^n` for an integer `n` in the normal exponent range.
    fn pow2(&mut self, n: Value) -> Value {
        let bias = self.ic(if self.f64 { 1023 } else { 127 });
        let e = self.l.b.ins().iadd(n, bias);
        let mb = self.mant_bits();
        let e = self.l.b.ins().ishl_imm_u(e, mb);
        self.fbits(e)
    }

    /// `y * 2^n` for `n` from the exponent range of `exp`'s results (including the
    /// denormals): two exact-or-once-rounded multiplications by `2^floor(n/2)` and the rest.
    fn scale(&mut self, y: Value, n: Value) -> Value {
        // floor(n / 2) with a logical shift on a value made positive by a bias.
        let bias = if self.f64 { 4096 } else { 512 };
        let b = self.ic(bias);
        let nb = self.l.b.ins().iadd(n, b);
        let h = self.l.b.ins().ushr_imm_u(nb, 1);
        let hb = self.ic(bias / 2);
        let n1 = self.l.b.ins().isub(h, hb);
        let n2 = self.l.b.ins().isub(n, n1);
        let s1 = self.pow2(n1);
        let s2 = self.pow2(n2);
        let y = self.mul(y, s1);
        self.mul(y, s2)
    }

    // ---- the functions ---------------------------------------------------------------

    /// `e^x`. f32: Cephes `expf` (Cody–Waite reduction by `ln 2`, degree-5 polynomial);
    /// f64: fdlibm's rational form. Bounds: f32 1.5 ULP, f64 1 ULP vs glibc.
    fn exp(&mut self, x: Value) -> Value {
        // Clamp so that the scale stays representable: results saturate to inf / 0 anyway.
        let (lo, hi) = if self.f64 { (-746.0, 710.0) } else { (-104.0, 89.0) };
        // `x < lo ? lo : x` and `hi < x ? hi : x` keep a NaN and are one `maxps`/`minps`
        // each (Cranelift matches the pattern); `fmax`/`fmin` take seven instructions.
        let lo = self.c(lo);
        let below = self.cmp(FloatCC::LessThan, x, lo);
        let x = self.sel(below, lo, x);
        let hi = self.c(hi);
        let above = self.cmp(FloatCC::LessThan, hi, x);
        let x = self.sel(above, hi, x);
        let s = self.shifter();
        let sc = self.c(s);
        let k = self.maddk(x, std::f64::consts::LOG2_E, sc);
        let n = self.shifted_int(k);
        let nf = self.sub(k, sc);
        let y = if self.f64 {
            // fdlibm: hi - lo = x - n ln2 in extra precision, then a rational approximation.
            let h = self.maddk(nf, -6.931_471_803_691_238_164_90e-1, x);
            let lo_c = self.c(1.908_214_929_270_587_700_02e-10);
            let lo = self.mul(nf, lo_c);
            let r = self.sub(h, lo);
            let t = self.mul(r, r);
            let p = self.horner(
                t,
                &[
                    4.138_136_797_057_238_460_39e-8,
                    -1.653_390_220_546_525_153_90e-6,
                    6.613_756_321_437_934_361_17e-5,
                    -2.777_777_777_701_559_338_42e-3,
                    1.666_666_666_666_660_190_37e-1,
                ],
            );
            let tp = self.mul(t, p);
            let c = self.sub(r, tp);
            let rc = self.mul(r, c);
            let two = self.c(2.0);
            let d = self.sub(two, c);
            let q = self.div(rc, d);
            let a = self.sub(lo, q);
            let a = self.sub(a, h);
            let one = self.c(1.0);
            self.sub(one, a)
        } else {
            let r = self.maddk(nf, -0.693_359_375, x);
            let r = self.maddk(nf, 2.121_944_40e-4, r);
            let z = self.mul(r, r);
            let p = self.horner(
                r,
                &[
                    1.987_569_150_0e-4,
                    1.398_199_950_7e-3,
                    8.333_451_907_3e-3,
                    4.166_579_589_4e-2,
                    1.666_666_545_9e-1,
                    5.000_000_120_1e-1,
                ],
            );
            let y = self.madd(p, z, r);
            let one = self.c(1.0);
            self.add(y, one)
        };
        self.scale(y, n)
    }

    /// Natural logarithm: fdlibm/musl `logf` and `log` (reduction to `[sqrt(1/2), sqrt(2))`,
    /// `s = f / (2 + f)`, even polynomial in `s`). Bounds: f32 1 ULP, f64 1 ULP vs glibc.
    fn ln(&mut self, x0: Value) -> Value {
        let f64 = self.f64;
        let mb = self.mant_bits();
        // Denormals: scale into the normal range and correct the exponent.
        let min_normal = if f64 { f64::MIN_POSITIVE } else { f32::MIN_POSITIVE as f64 };
        let big = if f64 { 2f64.powi(54) } else { 2f64.powi(23) };
        let mn = self.c(min_normal);
        let small = self.cmp(FloatCC::LessThan, x0, mn);
        let bigc = self.c(big);
        let xs = self.mul(x0, bigc);
        let x = self.sel(small, xs, x0);
        let adj = self.ic(if f64 { -54 } else { -23 });
        let zero = self.ic(0);
        let eadj = self.sel(small, adj, zero);
        // musl: ix += 1.0 - sqrt(1/2) (as bits); k = exponent; mantissa back into range.
        let (one_bits, sqh_bits) =
            if f64 { (0x3ff0_0000_0000_0000i64, 0x3fe6_a09e_667f_3bcdi64) } else { (0x3f80_0000, 0x3f35_04f3) };
        let ix = self.ibits(x);
        let off = self.ic(one_bits - sqh_bits);
        let ix = self.l.b.ins().iadd(ix, off);
        let e = self.l.b.ins().ushr_imm_u(ix, mb);
        let bias = self.ic(if f64 { 1023 } else { 127 });
        let k = self.l.b.ins().isub(e, bias);
        let k = self.l.b.ins().iadd(k, eadj);
        let mmask = self.ic((1i64 << mb) - 1);
        let mbits = self.l.b.ins().band(ix, mmask);
        let sq = self.ic(sqh_bits);
        let mbits = self.l.b.ins().iadd(mbits, sq);
        let m = self.fbits(mbits);
        let one = self.c(1.0);
        let f = self.sub(m, one);
        let two = self.c(2.0);
        let d = self.add(two, f);
        let s = self.div(f, d);
        let z = self.mul(s, s);
        let w = self.mul(z, z);
        let (t1, t2) = if f64 {
            let p1 = self
                .horner(w, &[1.531_383_769_920_937_332e-1, 2.222_219_843_214_978_396e-1, 3.999_999_999_940_941_908e-1]);
            let p2 = self.horner(
                w,
                &[
                    1.479_819_860_511_658_591e-1,
                    1.818_357_216_161_805_012e-1,
                    2.857_142_874_366_239_149e-1,
                    6.666_666_666_666_735_130e-1,
                ],
            );
            (self.mul(w, p1), self.mul(z, p2))
        } else {
            let p1 = self.horner(w, &[0.242_790_788_41, 0.400_009_721_52]);
            let p2 = self.horner(w, &[0.284_987_866_88, 0.666_666_626_93]);
            (self.mul(w, p1), self.mul(z, p2))
        };
        let r = self.add(t2, t1);
        let half = self.c(0.5);
        let hf = self.mul(half, f);
        let hfsq = self.mul(hf, f);
        let dk = self.int_to_float(k);
        let (ln2_hi, ln2_lo) = if f64 {
            (6.931_471_803_691_238_164_90e-1, 1.908_214_929_270_587_700_02e-10)
        } else {
            (6.931_381_225_6e-1, 9.058_000_614_5e-6)
        };
        // s*(hfsq+R) + dk*ln2_lo - hfsq + f + dk*ln2_hi, in this order.
        let a = self.add(hfsq, r);
        let a = self.mul(s, a);
        let a = self.maddk(dk, ln2_lo, a);
        let a = self.sub(a, hfsq);
        let a = self.add(a, f);
        let res = self.maddk(dk, ln2_hi, a);
        // Special values.
        let inf = self.c(f64::INFINITY);
        let is_inf = self.cmp(FloatCC::Equal, x0, inf);
        let res = self.sel(is_inf, inf, res);
        let zero_f = self.c(0.0);
        let is_zero = self.cmp(FloatCC::Equal, x0, zero_f);
        let ninf = self.c(f64::NEG_INFINITY);
        let res = self.sel(is_zero, ninf, res);
        let bad = self.cmp(FloatCC::UnorderedOrLessThan, x0, zero_f);
        let nan = self.c(f64::NAN);
        self.sel(bad, nan, res)
    }

    /// Hyperbolic tangent: an odd polynomial (f32, Cephes `tanhf`) or rational function (f64,
    /// Cephes `tanh`) for `|x| < 0.625`, else `1 - 2 / (e^(2|x|) + 1)` with the sign of `x`.
    /// Bounds: f32 2 ULP, f64 3 ULP vs glibc.
    fn tanh(&mut self, x: Value) -> Value {
        // tanh(|x|) >= 0, then the sign bit of x (so -0.0 and NaN keep theirs).
        let ax = self.l.b.ins().fabs(x);
        let z = self.mul(ax, ax);
        let small = if self.f64 {
            let p = self.horner(
                z,
                &[-9.643_991_794_250_522_386_28e-1, -9.928_772_310_019_185_865_64e1, -1.614_687_684_417_084_479_52e3],
            );
            let q = self.horner(
                z,
                &[1.0, 1.128_116_784_916_329_314_02e2, 2.235_488_390_601_005_834_83e3, 4.844_063_053_251_250_486_048e3],
            );
            let pq = self.div(p, q);
            let xz = self.mul(ax, z);
            self.madd(xz, pq, ax)
        } else {
            let p = self.horner(
                z,
                &[
                    -5.704_988_727_45e-3,
                    2.063_908_879_54e-2,
                    -5.373_971_555_31e-2,
                    1.333_144_220_36e-1,
                    -3.333_328_194_22e-1,
                ],
            );
            let pz = self.mul(p, z);
            self.madd(pz, ax, ax)
        };
        let two = self.c(2.0);
        let ax2 = self.mul(ax, two);
        let e = self.exp(ax2);
        let one = self.c(1.0);
        let d = self.add(e, one);
        let q = self.div(two, d);
        let big = self.sub(one, q);
        let lim = self.c(0.625);
        let is_small = self.cmp(FloatCC::LessThan, ax, lim);
        let t = self.sel(is_small, small, big);
        // copysign(t, x) as bits (t >= 0): x64 has no vector fcopysign lowering.
        let sign_mask = self.ic(if self.f64 { i64::MIN } else { 0x8000_0000 });
        let xi = self.ibits(x);
        let sx = self.l.b.ins().band(xi, sign_mask);
        let ti = self.ibits(t);
        let ti = self.l.b.ins().bor(ti, sx);
        self.fbits(ti)
    }

    /// The logistic function `1 / (1 + e^-x)`, computed as `e / (1 + e)` with `e = e^x` for
    /// negative `x` so tiny results keep their precision (down to the denormals).
    /// Bounds: f32 3 ULP, f64 2 ULP vs the same formula on glibc's `exp`.
    fn sigmoid(&mut self, x: Value) -> Value {
        let ax = self.l.b.ins().fabs(x);
        let nax = self.l.b.ins().fneg(ax);
        let e = self.exp(nax);
        let one = self.c(1.0);
        let d = self.add(one, e);
        let zero = self.c(0.0);
        let nonneg = self.cmp(FloatCC::GreaterThanOrEqual, x, zero);
        let num = self.sel(nonneg, one, e);
        self.div(num, d)
    }

    /// `sin x` or `cos x`: Cody–Waite reduction by `pi/2` (three parts for f32, four for
    /// f64), the quadrant from the low bits of the rounded multiple, and the sine or cosine
    /// polynomial on `[-pi/4, pi/4]` (Cephes for f32, fdlibm for f64). Lanes beyond the
    /// reduction's range call libm. Bounds: f32 2 ULP on `|x| <= 8192`, f64 2 ULP vs glibc on
    /// `|x| <= 2^20`.
    fn sincos(&mut self, x: Value, cos: bool) -> Result<Value, CpuError> {
        let f64 = self.f64;
        let s = self.shifter();
        let sc = self.c(s);
        let k = self.maddk(x, std::f64::consts::FRAC_2_PI, sc);
        let j = self.shifted_int(k);
        let jf = self.sub(k, sc);
        let parts: &[f64] = if f64 {
            &[
                1.570_796_326_734_125_614_17e0,
                6.077_100_506_303_965_976_60e-11,
                2.022_266_248_711_166_455_80e-21,
                8.478_427_660_368_899_569_97e-32,
            ]
        } else if self.fma {
            // pi/2 in three f32 parts: with fused products the first step is exact and the
            // split carries about 72 bits of pi/2.
            &[FRAC_PI_2_F32[0] as f64, FRAC_PI_2_F32[1] as f64, FRAC_PI_2_F32[2] as f64]
        } else {
            // Cephes: parts with trailing zeros so unfused products are exact.
            &[1.570_312_5, 4.837_512_969_970_703_125e-4, 7.549_789_954_891_882_16e-8]
        };
        let mut r = x;
        for &p in parts {
            r = self.maddk(jf, -p, r);
        }
        let z = self.mul(r, r);
        // sin(r) = r + r z P(z); cos(r) = 1 - z/2 + z^2 Q(z).
        let (sinp, cosp) = if f64 {
            let p = self.horner(
                z,
                &[
                    1.589_690_995_211_550_102_21e-10,
                    -2.505_076_025_340_686_341_95e-8,
                    2.755_731_370_707_006_767_89e-6,
                    -1.984_126_982_985_794_931_34e-4,
                    8.333_333_333_322_489_461_24e-3,
                ],
            );
            let v = self.mul(z, r);
            let s1 = self.c(-1.666_666_666_666_663_243_48e-1);
            let zp = self.madd(z, p, s1);
            let sinp = self.madd(v, zp, r);
            // musl __cos with y = 0: w + (((1 - w) - hz) + z r).
            let q = self.horner(
                z,
                &[
                    -1.135_964_755_778_819_482_65e-11,
                    2.087_572_321_298_174_827_90e-9,
                    -2.755_731_435_139_066_330_35e-7,
                    2.480_158_728_947_672_941_78e-5,
                    -1.388_888_888_887_410_957_49e-3,
                    4.166_666_666_666_660_190_37e-2,
                ],
            );
            let zq = self.mul(z, q);
            let half = self.c(0.5);
            let hz = self.mul(half, z);
            let one = self.c(1.0);
            let w = self.sub(one, hz);
            let a = self.sub(one, w);
            let a = self.sub(a, hz);
            let a = self.madd(z, zq, a);
            (sinp, self.add(w, a))
        } else {
            let p = self.horner(z, &[-1.951_529_589_1e-4, 8.332_160_873_6e-3, -1.666_665_461_1e-1]);
            let pz = self.mul(p, z);
            let sinp = self.madd(pz, r, r);
            let q = self.horner(z, &[2.443_315_711_809_948e-5, -1.388_731_625_493_765e-3, 4.166_664_568_298_827e-2]);
            let zz = self.mul(z, z);
            // (q z^2 - z/2) + 1, Cephes' order.
            let t = self.mul(q, zz);
            let t = self.maddk(z, -0.5, t);
            let one = self.c(1.0);
            (sinp, self.add(t, one))
        };
        // Quadrant: sin uses j, cos uses j + 1; odd quadrants take the other polynomial,
        // quadrants 2 and 3 flip the sign.
        let q = if cos {
            let one = self.ic(1);
            self.l.b.ins().iadd(j, one)
        } else {
            j
        };
        let one_i = self.ic(1);
        let odd = self.l.b.ins().band(q, one_i);
        let zero_i = self.ic(0);
        let odd = self.l.b.ins().icmp(IntCC::NotEqual, odd, zero_i);
        let v = self.sel(odd, cosp, sinp);
        let two_i = self.ic(2);
        let sign = self.l.b.ins().band(q, two_i);
        let bits = if f64 { 62 } else { 30 };
        let sign = self.l.b.ins().ishl_imm_u(sign, bits);
        let vi = self.ibits(v);
        let vi = self.l.b.ins().bxor(vi, sign);
        let poly = self.fbits(vi);
        // sin(±0) = ±0 (the polynomial would give +0 for -0).
        let poly = if cos {
            poly
        } else {
            let zero = self.c(0.0);
            let is_zero = self.cmp(FloatCC::Equal, x, zero);
            self.sel(is_zero, x, poly)
        };
        // Beyond the reduction's range (and at ±inf): libm, lane by lane.
        let limit = if f64 { 2f64.powi(20) } else { 8192.0 };
        let ax = self.l.b.ins().fabs(x);
        let lim = self.c(limit);
        let far = self.cmp(FloatCC::GreaterThan, ax, lim);
        self.libm_where(far, x, poly, if cos { UnOp::Cos } else { UnOp::Sin })
    }

    /// `mask ? libm(op)(x) : other` per lane; libm runs only when some lane needs it. In a
    /// straight-line vector loop, such a vector instead hands the rest of its row to the scalar
    /// loop ([`crate::kernel::Bail`]), which calls libm for its lane.
    fn libm_where(&mut self, mask: Value, x: Value, other: Value, op: UnOp) -> Result<Value, CpuError> {
        let Some(name) = libm_symbol(MathOp::Unary(op), self.dt) else {
            return Err(CpuError::Unsupported(format!("`{}` on {}", op.name(), self.dt)));
        };
        if let (true, Some(bail)) = (self.ty.is_vector(), self.l.bail) {
            let any = self.l.b.ins().vany_true(mask);
            let out = self.l.b.create_block();
            let go_on = self.l.b.create_block();
            self.l.b.ins().brif(any, out, &[], go_on, &[]);
            self.l.b.switch_to_block(out);
            self.l.b.def_var(bail.jvar, bail.at);
            self.l.b.ins().jump(bail.head, &[]);
            self.l.b.switch_to_block(go_on);
            return Ok(other);
        }
        let slow = self.l.b.create_block();
        let join = self.l.b.create_block();
        let res = self.l.b.append_block_param(join, self.ty);
        let any = if self.ty.is_vector() { self.l.b.ins().vany_true(mask) } else { mask };
        self.l.b.ins().brif(any, slow, &[], join, &[BlockArg::Value(other)]);
        self.l.b.switch_to_block(slow);
        let lib = if self.ty.is_vector() {
            let mut acc = x;
            for lane in 0..self.ty.lane_count() as u8 {
                let xl = self.l.b.ins().extractlane(x, lane);
                let r = self.l.call_libm(name, &[xl])?;
                acc = self.l.b.ins().insertlane(acc, r, lane);
            }
            acc
        } else {
            self.l.call_libm(name, &[x])?
        };
        let merged = self.sel(mask, lib, other);
        self.l.b.ins().jump(join, &[BlockArg::Value(merged)]);
        self.l.b.switch_to_block(join);
        Ok(res)
    }
}
