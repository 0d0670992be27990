//! Transcendental functions: which libm symbol implements which op, and their addresses.
//!
//! `exp`, `ln`, `tanh`, `sigmoid`, `sin` and `cos` are polynomial code emitted inline
//! ([`crate::vmath`]); the ops it does not cover (`log1p`, float `%`, `powf`, `tan`, `atan`,
//! `atan2`, `hypot`, the hyperbolic functions and their inverses, `cbrt`, `expm1`, `exp2`,
//! `log2`, `log10`, `erf`, `erfc`, `round` (whose halfway cases go away from zero), and every
//! transcendental op when [`crate::CompileOptions::poly_math`] is off, or an argument falls
//! outside a polynomial's range) call glibc's own symbol, declared here as an import rather
//! than reached through Rust's `f32::exp`-style wrappers, per element (lane by lane inside
//! vector loops). [`libm_symbol`] is the only place the code generator asks which symbol
//! computes such an op.

use kiln_ir::{BinOp, DType, UnOp};

extern "C" {
    fn expf(x: f32) -> f32;
    fn exp(x: f64) -> f64;
    fn logf(x: f32) -> f32;
    fn log(x: f64) -> f64;
    fn log1pf(x: f32) -> f32;
    fn log1p(x: f64) -> f64;
    fn sinf(x: f32) -> f32;
    fn sin(x: f64) -> f64;
    fn cosf(x: f32) -> f32;
    fn cos(x: f64) -> f64;
    fn tanhf(x: f32) -> f32;
    fn tanh(x: f64) -> f64;
    fn powf(x: f32, y: f32) -> f32;
    fn pow(x: f64, y: f64) -> f64;
    fn fmodf(x: f32, y: f32) -> f32;
    fn fmod(x: f64, y: f64) -> f64;
    fn tanf(x: f32) -> f32;
    fn tan(x: f64) -> f64;
    fn atanf(x: f32) -> f32;
    fn atan(x: f64) -> f64;
    fn sinhf(x: f32) -> f32;
    fn sinh(x: f64) -> f64;
    fn coshf(x: f32) -> f32;
    fn cosh(x: f64) -> f64;
    fn asinhf(x: f32) -> f32;
    fn asinh(x: f64) -> f64;
    fn acoshf(x: f32) -> f32;
    fn acosh(x: f64) -> f64;
    fn atanhf(x: f32) -> f32;
    fn atanh(x: f64) -> f64;
    fn cbrtf(x: f32) -> f32;
    fn cbrt(x: f64) -> f64;
    fn expm1f(x: f32) -> f32;
    fn expm1(x: f64) -> f64;
    fn exp2f(x: f32) -> f32;
    fn exp2(x: f64) -> f64;
    fn log2f(x: f32) -> f32;
    fn log2(x: f64) -> f64;
    fn log10f(x: f32) -> f32;
    fn log10(x: f64) -> f64;
    fn roundf(x: f32) -> f32;
    fn round(x: f64) -> f64;
    fn erff(x: f32) -> f32;
    fn erf(x: f64) -> f64;
    fn erfcf(x: f32) -> f32;
    fn erfc(x: f64) -> f64;
    fn atan2f(x: f32, y: f32) -> f32;
    fn atan2(x: f64, y: f64) -> f64;
    fn hypotf(x: f32, y: f32) -> f32;
    fn hypot(x: f64, y: f64) -> f64;
    fn fmaf(x: f32, y: f32, z: f32) -> f32;
    fn fma(x: f64, y: f64, z: f64) -> f64;
}

/// Every libm symbol a kernel may import: its name, its address in this process, its arity
/// and the float type of its arguments and result. Passed to the JIT so imports resolve to
/// these exact functions.
pub fn symbols() -> Vec<(&'static str, *const u8, usize, DType)> {
    let f = DType::F32;
    let d = DType::F64;
    vec![
        ("expf", expf as *const u8, 1, f),
        ("exp", exp as *const u8, 1, d),
        ("logf", logf as *const u8, 1, f),
        ("log", log as *const u8, 1, d),
        ("log1pf", log1pf as *const u8, 1, f),
        ("log1p", log1p as *const u8, 1, d),
        ("sinf", sinf as *const u8, 1, f),
        ("sin", sin as *const u8, 1, d),
        ("cosf", cosf as *const u8, 1, f),
        ("cos", cos as *const u8, 1, d),
        ("tanhf", tanhf as *const u8, 1, f),
        ("tanh", tanh as *const u8, 1, d),
        ("powf", powf as *const u8, 2, f),
        ("pow", pow as *const u8, 2, d),
        ("fmodf", fmodf as *const u8, 2, f),
        ("fmod", fmod as *const u8, 2, d),
        ("tanf", tanf as *const u8, 1, f),
        ("tan", tan as *const u8, 1, d),
        ("atanf", atanf as *const u8, 1, f),
        ("atan", atan as *const u8, 1, d),
        ("sinhf", sinhf as *const u8, 1, f),
        ("sinh", sinh as *const u8, 1, d),
        ("coshf", coshf as *const u8, 1, f),
        ("cosh", cosh as *const u8, 1, d),
        ("asinhf", asinhf as *const u8, 1, f),
        ("asinh", asinh as *const u8, 1, d),
        ("acoshf", acoshf as *const u8, 1, f),
        ("acosh", acosh as *const u8, 1, d),
        ("atanhf", atanhf as *const u8, 1, f),
        ("atanh", atanh as *const u8, 1, d),
        ("cbrtf", cbrtf as *const u8, 1, f),
        ("cbrt", cbrt as *const u8, 1, d),
        ("expm1f", expm1f as *const u8, 1, f),
        ("expm1", expm1 as *const u8, 1, d),
        ("exp2f", exp2f as *const u8, 1, f),
        ("exp2", exp2 as *const u8, 1, d),
        ("log2f", log2f as *const u8, 1, f),
        ("log2", log2 as *const u8, 1, d),
        ("log10f", log10f as *const u8, 1, f),
        ("log10", log10 as *const u8, 1, d),
        ("roundf", roundf as *const u8, 1, f),
        ("round", round as *const u8, 1, d),
        ("erff", erff as *const u8, 1, f),
        ("erf", erf as *const u8, 1, d),
        ("erfcf", erfcf as *const u8, 1, f),
        ("erfc", erfc as *const u8, 1, d),
        ("atan2f", atan2f as *const u8, 2, f),
        ("atan2", atan2 as *const u8, 2, d),
        ("hypotf", hypotf as *const u8, 2, f),
        ("hypot", hypot as *const u8, 2, d),
        // `mul_add` where the host has no FMA instructions: C99's correctly rounded `fma`.
        ("fmaf", fmaf as *const u8, 3, f),
        ("fma", fma as *const u8, 3, d),
    ]
}

/// The operation a libm call computes: a unary op or a binary op on floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    Unary(UnOp),
    Binary(BinOp),
}

/// The libm symbol computing `op` on `dtype`, or `None` when the op is not a libm call
/// (the code generator then emits instructions, or reports the op unsupported).
pub fn libm_symbol(op: MathOp, dtype: DType) -> Option<&'static str> {
    let f32 = match dtype {
        DType::F32 => true,
        DType::F64 => false,
        _ => return None,
    };
    let pick = |a: &'static str, b: &'static str| Some(if f32 { a } else { b });
    match op {
        MathOp::Unary(UnOp::Exp) => pick("expf", "exp"),
        MathOp::Unary(UnOp::Ln) => pick("logf", "log"),
        MathOp::Unary(UnOp::Log1p) => pick("log1pf", "log1p"),
        MathOp::Unary(UnOp::Sin) => pick("sinf", "sin"),
        MathOp::Unary(UnOp::Cos) => pick("cosf", "cos"),
        MathOp::Unary(UnOp::Tanh) => pick("tanhf", "tanh"),
        MathOp::Binary(BinOp::Pow) => pick("powf", "pow"),
        MathOp::Binary(BinOp::Rem) => pick("fmodf", "fmod"),
        MathOp::Unary(UnOp::Tan) => pick("tanf", "tan"),
        MathOp::Unary(UnOp::Atan) => pick("atanf", "atan"),
        MathOp::Unary(UnOp::Sinh) => pick("sinhf", "sinh"),
        MathOp::Unary(UnOp::Cosh) => pick("coshf", "cosh"),
        MathOp::Unary(UnOp::Asinh) => pick("asinhf", "asinh"),
        MathOp::Unary(UnOp::Acosh) => pick("acoshf", "acosh"),
        MathOp::Unary(UnOp::Atanh) => pick("atanhf", "atanh"),
        MathOp::Unary(UnOp::Cbrt) => pick("cbrtf", "cbrt"),
        MathOp::Unary(UnOp::Expm1) => pick("expm1f", "expm1"),
        MathOp::Unary(UnOp::Exp2) => pick("exp2f", "exp2"),
        MathOp::Unary(UnOp::Log2) => pick("log2f", "log2"),
        MathOp::Unary(UnOp::Log10) => pick("log10f", "log10"),
        MathOp::Unary(UnOp::Round) => pick("roundf", "round"),
        MathOp::Unary(UnOp::Erf) => pick("erff", "erf"),
        MathOp::Unary(UnOp::Erfc) => pick("erfcf", "erfc"),
        MathOp::Binary(BinOp::Atan2) => pick("atan2f", "atan2"),
        MathOp::Binary(BinOp::Hypot) => pick("hypotf", "hypot"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_named_by_libm_symbol_is_registered() {
        let names: Vec<&str> = symbols().iter().map(|s| s.0).collect();
        let ops = UnOp::ALL.iter().map(|u| MathOp::Unary(*u)).chain(BinOp::ALL.iter().map(|b| MathOp::Binary(*b)));
        for op in ops {
            for dt in [DType::F32, DType::F64] {
                if let Some(s) = libm_symbol(op, dt) {
                    assert!(names.contains(&s), "{s} not registered");
                }
            }
        }
        assert_eq!(libm_symbol(MathOp::Unary(UnOp::Exp), DType::I32), None);
    }
}
