//! Named constants a Rust user writes without thinking: `f32::INFINITY`, `f64::EPSILON`,
//! `std::f64::consts::PI` (also through `core::` and without the crate prefix), `i64::MAX`,
//! `u32::MAX`, and in generic kernels num-traits' `Float` names (`F::infinity()`, `F::epsilon()`,
//! `F::zero()`, `F::nan()`, ...).
//!
//! Each becomes a constant node of the named type whose value is Rust's own constant, so a
//! kernel computes with exactly the bits `std` defines.

use kiln_ir::{DType, ElemTy, Literal};

/// The value and element type of a constant path like `f64::consts::PI` (given as its
/// segments), or `None` when the path names no constant kiln knows.
pub(crate) fn path_constant(segs: &[String]) -> Option<(Literal, ElemTy)> {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    // `std::` and `core::` prefixes name the same constants.
    let segs = match segs.as_slice() {
        ["std" | "core", rest @ ..] => rest,
        rest => rest,
    };
    match segs {
        [ty, "consts", name] => float_math_constant(ty, name),
        [ty, name] => type_constant(ty, name),
        _ => None,
    }
}

/// `f32::consts::PI` and friends.
fn float_math_constant(ty: &str, name: &str) -> Option<(Literal, ElemTy)> {
    use std::f64::consts as c;
    let v = match name {
        "PI" => c::PI,
        "TAU" => c::TAU,
        "E" => c::E,
        "LN_2" => c::LN_2,
        "LN_10" => c::LN_10,
        "LOG2_E" => c::LOG2_E,
        "LOG10_E" => c::LOG10_E,
        "LOG2_10" => c::LOG2_10,
        "LOG10_2" => c::LOG10_2,
        "SQRT_2" => c::SQRT_2,
        "FRAC_1_SQRT_2" => c::FRAC_1_SQRT_2,
        "FRAC_PI_2" => c::FRAC_PI_2,
        "FRAC_PI_3" => c::FRAC_PI_3,
        "FRAC_PI_4" => c::FRAC_PI_4,
        "FRAC_PI_6" => c::FRAC_PI_6,
        "FRAC_PI_8" => c::FRAC_PI_8,
        "FRAC_1_PI" => c::FRAC_1_PI,
        "FRAC_2_PI" => c::FRAC_2_PI,
        "FRAC_2_SQRT_PI" => c::FRAC_2_SQRT_PI,
        _ => return None,
    };
    // std's f32 constants are the f64 ones rounded to nearest, which `as f32` does too; the
    // constant node of type f32 rounds the same way.
    match ty {
        "f32" => Some((Literal::Float(v as f32 as f64), ElemTy::Concrete(DType::F32))),
        "f64" => Some((Literal::Float(v), ElemTy::Concrete(DType::F64))),
        _ => None,
    }
}

/// `f32::INFINITY`, `i64::MAX`, ...: the associated constants of the primitive types.
fn type_constant(ty: &str, name: &str) -> Option<(Literal, ElemTy)> {
    macro_rules! float {
        ($t:ident) => {
            Literal::Float(match name {
                "INFINITY" => $t::INFINITY as f64,
                "NEG_INFINITY" => $t::NEG_INFINITY as f64,
                "NAN" => $t::NAN as f64,
                "EPSILON" => $t::EPSILON as f64,
                "MAX" => $t::MAX as f64,
                "MIN" => $t::MIN as f64,
                "MIN_POSITIVE" => $t::MIN_POSITIVE as f64,
                _ => return None,
            })
        };
    }
    macro_rules! int {
        ($t:ident) => {
            Literal::Int(match name {
                "MAX" => $t::MAX as i64,
                "MIN" => $t::MIN as i64,
                _ => return None,
            })
        };
    }
    let (lit, dt) = match ty {
        "f32" => (float!(f32), DType::F32),
        "f64" => (float!(f64), DType::F64),
        "i32" => (int!(i32), DType::I32),
        "i64" => (int!(i64), DType::I64),
        "u32" => (int!(u32), DType::U32),
        _ => return None,
    };
    Some((lit, ElemTy::Concrete(dt)))
}

/// The value of num-traits' `Float` constructor `F::name()` in a generic kernel.
pub(crate) fn generic_float_constant(name: &str) -> Option<f64> {
    // The generic type's instantiations are f32 and f64; values that differ between them are
    // refused rather than silently given f64's value.
    Some(match name {
        "infinity" => f64::INFINITY,
        "neg_infinity" => f64::NEG_INFINITY,
        "nan" => f64::NAN,
        "zero" => 0.0,
        "one" => 1.0,
        "neg_zero" => -0.0,
        _ => return None,
    })
}

/// num-traits' `Float` constructors whose value depends on the instantiation: `(f32 value,
/// f64 value)` (`F::epsilon()` is 2^-23 for f32 and 2^-52 for f64). Each f32 value is exact
/// in f64, so one generic constant can carry it.
pub(crate) fn per_type_generic_constant(name: &str) -> Option<(f64, f64)> {
    Some(match name {
        "epsilon" => (f64::from(f32::EPSILON), f64::EPSILON),
        "max_value" => (f64::from(f32::MAX), f64::MAX),
        "min_value" => (f64::from(f32::MIN), f64::MIN),
        "min_positive_value" => (f64::from(f32::MIN_POSITIVE), f64::MIN_POSITIVE),
        _ => return None,
    })
}

/// The generic constant `1 + 2^-52`: `1 + f64::EPSILON` in f64, rounded to exactly `1.0` in
/// f32. `(PROBE - 1) == 0` is therefore true exactly in the f32 instantiation, which selects a
/// per-type constant when the kernel is instantiated (constant folding removes the select).
pub(crate) const F32_PROBE: f64 = 1.0 + f64::EPSILON;
