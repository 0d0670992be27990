//! Lane operations of the vector lowering: selects and masks, ops applied lane by lane, and
//! the vector forms of unary, binary, `min`/`max` and cast expressions.

use super::{vec_type, VVal, Vec_};
use crate::kernel::{clif_type, float_cc, int_cc, Lower};
use crate::vmath;
use crate::CpuError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value};
use kiln_ir::{BinOp, DType, UnOp};

impl Vec_<'_> {
    /// `select(mask, x, y)` lane by lane; a wide value takes the mask's lanes 0-1 widened
    /// for its `lo` vector and lanes 2-3 for its `hi`.
    pub(super) fn vselect(&self, l: &mut Lower<'_, '_>, mask: Value, x: VVal, y: VVal) -> VVal {
        match (x.hi, y.hi) {
            (Some(xh), Some(yh)) => {
                let m = self.as_type(l, mask, types::I32X4);
                let mlo = l.b.ins().swiden_low(m);
                let mhi = l.b.ins().swiden_high(m);
                let lo = l.b.ins().blendv(mlo, x.lo, y.lo);
                let hi = l.b.ins().blendv(mhi, xh, yh);
                VVal { lo, hi: Some(hi), t: x.t }
            }
            _ => VVal::one(self.select(l, mask, x.lo, y.lo, x.t), x.t),
        }
    }

    /// One 4-lane mask from the two 2-lane masks of a wide comparison: the low 32 bits of
    /// each 64-bit lane (all ones or all zeros), in lane order.
    pub(super) fn narrow_masks(&self, l: &mut Lower<'_, '_>, lo: Value, hi: Value) -> Value {
        let a = self.as_type(l, lo, types::I8X16);
        let b = self.as_type(l, hi, types::I8X16);
        let picks: [u8; 16] = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
        let imm = l.b.func.dfg.immediates.push(ConstantData::from(&picks[..]));
        let s = l.b.ins().shuffle(a, b, imm);
        self.as_type(l, s, types::I32X4)
    }

    /// Reinterpret a vector's bits as another 128-bit vector type.
    pub(super) fn as_type(&self, l: &mut Lower<'_, '_>, v: Value, t: Type) -> Value {
        if l.b.func.dfg.value_type(v) == t {
            return v;
        }
        l.b.ins().bitcast(t, MemFlagsData::new().with_endianness(Endianness::Little), v)
    }

    /// `select` on a lane mask (every lane all ones or all zeros): one `blendv` (which reads
    /// each lane's top bit) instead of the three instructions of a general `bitselect`, on
    /// the integer vector type of the lanes' width.
    pub(super) fn select(&self, l: &mut Lower<'_, '_>, mask: Value, x: Value, y: Value, t: DType) -> Value {
        let vt = vec_type(t, self.plan.width);
        let it = if vt.lane_bits() == 32 { types::I32X4 } else { types::I64X2 };
        let (m, x, y) = (self.as_type(l, mask, it), self.as_type(l, x, it), self.as_type(l, y, it));
        let r = l.b.ins().blendv(m, x, y);
        self.as_type(l, r, vt)
    }

    /// Apply a scalar emitter to every lane (ops with no vector instruction).
    pub(super) fn lanewise(
        &self,
        l: &mut Lower<'_, '_>,
        x: Value,
        y: Option<Value>,
        mut f: impl FnMut(&mut Lower<'_, '_>, Value, Option<Value>) -> Result<Value, CpuError>,
    ) -> Result<Value, CpuError> {
        let mut acc = x;
        for lane in 0..self.plan.lanes() as u8 {
            let xl = l.b.ins().extractlane(x, lane);
            let yl = y.map(|y| l.b.ins().extractlane(y, lane));
            let r = f(l, xl, yl)?;
            acc = l.b.ins().insertlane(acc, r, lane);
        }
        Ok(acc)
    }

    /// `x * y + z` rounded once, lane by lane (`mul_add`): the vector FMA instruction where
    /// the host has FMA, else C99's correctly rounded `fma`/`fmaf` on each lane (a call per
    /// lane: every live vector register is spilled around it, but the loop stays a vector
    /// loop and the bits are the same).
    pub(super) fn mul_add(
        &self,
        l: &mut Lower<'_, '_>,
        x: Value,
        y: Value,
        z: Value,
        t: DType,
    ) -> Result<Value, CpuError> {
        if l.fma {
            return Ok(l.b.ins().fma(x, y, z));
        }
        let name = if t == DType::F32 { "fmaf" } else { "fma" };
        let mut acc = x;
        for lane in 0..self.plan.lanes() as u8 {
            let xl = l.b.ins().extractlane(x, lane);
            let yl = l.b.ins().extractlane(y, lane);
            let zl = l.b.ins().extractlane(z, lane);
            let r = l.call_libm(name, &[xl, yl, zl])?;
            acc = l.b.ins().insertlane(acc, r, lane);
        }
        Ok(acc)
    }

    pub(super) fn unary(&self, l: &mut Lower<'_, '_>, op: UnOp, x: Value, t: DType) -> Result<Value, CpuError> {
        Ok(match (op, t) {
            (UnOp::Neg, DType::F32 | DType::F64) => l.b.ins().fneg(x),
            (UnOp::Abs, DType::F32 | DType::F64) => l.b.ins().fabs(x),
            (UnOp::Sqrt, DType::F32 | DType::F64) => l.b.ins().sqrt(x),
            (UnOp::Floor, DType::F32 | DType::F64) => l.b.ins().floor(x),
            (UnOp::Ceil, DType::F32 | DType::F64) => l.b.ins().ceil(x),
            (UnOp::Rsqrt, DType::F32 | DType::F64) => {
                let s = l.b.ins().sqrt(x);
                let one = self.fsplat(l, t, 1.0);
                l.b.ins().fdiv(one, s)
            }
            (UnOp::PowI(n), DType::F32 | DType::F64) => {
                let one = self.fsplat(l, t, 1.0);
                l.powi(x, n, one)
            }
            (UnOp::Not, _) => l.b.ins().bnot(x),
            (UnOp::Neg, DType::I32 | DType::I64) => l.b.ins().ineg(x),
            (UnOp::Abs, DType::I32) => l.b.ins().iabs(x),
            (UnOp::Abs, DType::U32) => x,
            _ if l.poly_math && vmath::covers(op, t) => match vmath::unary(l, op, x, t)? {
                Some(v) => v,
                None => return Err(CpuError::Unsupported(format!("vector `{}` on {t}", op.name()))),
            },
            _ => self.lanewise(l, x, None, |l, a, _| l.unary(op, a, t))?,
        })
    }

    pub(super) fn binary(
        &self,
        l: &mut Lower<'_, '_>,
        op: BinOp,
        x: Value,
        y: Value,
        t: DType,
    ) -> Result<(Value, DType), CpuError> {
        if op.is_comparison() {
            let m = if t.is_float() {
                l.b.ins().fcmp(float_cc(op), x, y)
            } else {
                l.b.ins().icmp(int_cc(op, t.is_signed()), x, y)
            };
            return Ok((m, DType::Bool));
        }
        let v = match (op, t) {
            (BinOp::Add, DType::F32 | DType::F64) => l.b.ins().fadd(x, y),
            (BinOp::Sub, DType::F32 | DType::F64) => l.b.ins().fsub(x, y),
            (BinOp::Mul, DType::F32 | DType::F64) => l.b.ins().fmul(x, y),
            (BinOp::Div, DType::F32 | DType::F64) => l.b.ins().fdiv(x, y),
            (BinOp::Min | BinOp::Max, DType::F32 | DType::F64) => self.min_max(l, op == BinOp::Min, x, y, t),
            (BinOp::And | BinOp::Min | BinOp::Mul, DType::Bool) => l.b.ins().band(x, y),
            (BinOp::Or | BinOp::Max | BinOp::Add, DType::Bool) => l.b.ins().bor(x, y),
            (BinOp::Xor, DType::Bool) => l.b.ins().bxor(x, y),
            (BinOp::Add, DType::I32 | DType::U32 | DType::I64) => l.b.ins().iadd(x, y),
            (BinOp::Sub, DType::I32 | DType::U32 | DType::I64) => l.b.ins().isub(x, y),
            (BinOp::Mul, DType::I32 | DType::U32) => l.b.ins().imul(x, y),
            (BinOp::And, _) => l.b.ins().band(x, y),
            (BinOp::Or, _) => l.b.ins().bor(x, y),
            (BinOp::Xor, _) => l.b.ins().bxor(x, y),
            (BinOp::Min, DType::I32) => l.b.ins().smin(x, y),
            (BinOp::Max, DType::I32) => l.b.ins().smax(x, y),
            (BinOp::Min, DType::U32) => l.b.ins().umin(x, y),
            (BinOp::Max, DType::U32) => l.b.ins().umax(x, y),
            _ => self.lanewise(l, x, Some(y), |l, a, b| match b {
                Some(b) => Ok(l.binary(op, a, b, t)?.0),
                None => Err(CpuError::Unsupported("binary op without operand".into())),
            })?,
        };
        Ok((v, t))
    }

    /// `min`/`max` as the interpreter defines them: a NaN in either lane gives the quiet NaN
    /// (positive, as the scalar lowering gives it), and `-0` is below `+0`. Both orders of the
    /// native instruction agree except on zeros of opposite signs (or NaNs), where their
    /// bitwise or (and) is the signed zero wanted; a blend puts the NaN where either input
    /// has one. Five instructions, against Cranelift's seven for `fmin`, whose NaN is negative.
    pub(super) fn min_max(&self, l: &mut Lower<'_, '_>, min: bool, x: Value, y: Value, t: DType) -> Value {
        // `x < y ? x : y` is `minps x, y`; `y < x ? x : y` is `maxps x, y` (Cranelift matches
        // these patterns).
        let pseudo = |l: &mut Lower<'_, '_>, x: Value, y: Value| {
            let (p, q) = if min { (x, y) } else { (y, x) };
            let m = l.b.ins().fcmp(FloatCC::LessThan, p, q);
            let vt = l.b.func.dfg.value_type(x);
            let m = l.b.ins().bitcast(vt, MemFlagsData::new(), m);
            l.b.ins().bitselect(m, x, y)
        };
        let (a, b) = (pseudo(l, x, y), pseudo(l, y, x));
        let r = if min { l.b.ins().bor(a, b) } else { l.b.ins().band(a, b) };
        let nan = l.b.ins().fcmp(FloatCC::Unordered, x, y);
        let q = self.fsplat(l, t, f64::NAN);
        self.select(l, nan, q, r, t)
    }

    pub(super) fn cast(&self, l: &mut Lower<'_, '_>, x: Value, from: DType, to: DType) -> Result<Value, CpuError> {
        use DType::*;
        let vt = vec_type(to, self.plan.width);
        Ok(match (from, to) {
            _ if from == to => x,
            (I32, U32) | (U32, I32) => x,
            (F32, I32) | (F64, I64) => l.b.ins().fcvt_to_sint_sat(vt, x),
            (F32, U32) => l.b.ins().fcvt_to_uint_sat(vt, x),
            (I32, F32) | (I64, F64) => l.b.ins().fcvt_from_sint(vt, x),
            (U32, F32) => l.b.ins().fcvt_from_uint(vt, x),
            (F32 | F64, Bool) => {
                let z = self.fsplat(l, from, 0.0);
                l.b.ins().fcmp(FloatCC::NotEqual, x, z)
            }
            (_, Bool) => {
                let z = l.b.ins().iconst(vt.lane_type(), 0);
                let z = l.b.ins().splat(vt, z);
                l.b.ins().icmp(IntCC::NotEqual, x, z)
            }
            (Bool, F32 | F64) => {
                let one = self.fsplat(l, to, 1.0);
                let zero = self.fsplat(l, to, 0.0);
                self.select(l, x, one, zero, to)
            }
            (Bool, _) => {
                let one = l.b.ins().iconst(clif_type(to), 1);
                let one = l.b.ins().splat(vt, one);
                l.b.ins().band(x, one)
            }
            _ => return Err(CpuError::Unsupported(format!("vector cast from {from} to {to}"))),
        })
    }
}
