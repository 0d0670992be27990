//! kiln-tests: what the conformance suite shares — seeded random data, strided views, and
//! the one place where per-dtype tolerances live.
//!
//! Conformance cases compare a kernel's result on a device with a plain-Rust reference loop
//! written in the test (never with the interpreter itself), so the interpreter is checked as
//! well as every backend.

#![forbid(unsafe_code)]

use kiln::ndarray::{Array, Array1, Array2, Array3, Dimension};

/// A small deterministic xorshift generator: the suite needs reproducible data, not quality.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `[lo, hi)`.
    pub fn f64(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `[lo, hi)`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo).max(1) as u64) as i64
    }

    pub fn arr1_f32(&mut self, n: usize, lo: f64, hi: f64) -> Array1<f32> {
        Array1::from_shape_fn(n, |_| self.f64(lo, hi) as f32)
    }

    pub fn arr1_f64(&mut self, n: usize, lo: f64, hi: f64) -> Array1<f64> {
        Array1::from_shape_fn(n, |_| self.f64(lo, hi))
    }

    pub fn arr2_f32(&mut self, n: usize, d: usize, lo: f64, hi: f64) -> Array2<f32> {
        Array2::from_shape_fn((n, d), |_| self.f64(lo, hi) as f32)
    }

    pub fn arr2_f64(&mut self, n: usize, d: usize, lo: f64, hi: f64) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |_| self.f64(lo, hi))
    }

    pub fn arr3_f64(&mut self, a: usize, b: usize, c: usize, lo: f64, hi: f64) -> Array3<f64> {
        Array3::from_shape_fn((a, b, c), |_| self.f64(lo, hi))
    }

    pub fn arr1_i32(&mut self, n: usize, lo: i64, hi: i64) -> Array1<i32> {
        Array1::from_shape_fn(n, |_| self.int(lo, hi) as i32)
    }

    pub fn arr1_i64(&mut self, n: usize, lo: i64, hi: i64) -> Array1<i64> {
        Array1::from_shape_fn(n, |_| self.int(lo, hi))
    }

    pub fn arr1_u32(&mut self, n: usize, lo: i64, hi: i64) -> Array1<u32> {
        Array1::from_shape_fn(n, |_| self.int(lo, hi) as u32)
    }

    pub fn arr2_i64(&mut self, n: usize, d: usize, lo: i64, hi: i64) -> Array2<i64> {
        Array2::from_shape_fn((n, d), |_| self.int(lo, hi))
    }

    pub fn arr1_bool(&mut self, n: usize) -> Array1<bool> {
        Array1::from_shape_fn(n, |_| self.next_u64() & 1 == 1)
    }
}

/// 1-d lengths every elementwise case runs: empty, one, odd, and past a vector width.
pub const LENGTHS: [usize; 5] = [0, 1, 2, 7, 33];

/// 2-d shapes every 2-d case runs, with 0- and 1-length axes and odd sizes.
pub const SHAPES: [(usize, usize); 6] = [(0, 3), (3, 0), (1, 1), (1, 5), (5, 1), (7, 9)];

/// How close a result must be to its reference, per element type: one place for the suite.
pub trait Tolerance: Copy + PartialEq + std::fmt::Debug {
    /// True when `got` is acceptably close to `want`.
    fn close(got: Self, want: Self) -> bool;
}

macro_rules! exact {
    ($($t:ty),*) => {$(
        impl Tolerance for $t {
            fn close(got: Self, want: Self) -> bool {
                got == want
            }
        }
    )*};
}
exact!(i32, i64, u32, bool);

/// Relative and absolute tolerance for f32 results (reference loops compute in f32 too, so
/// only reassociation and libm differences remain).
pub const F32_TOL: (f64, f64) = (2e-5, 1e-6);
/// Relative and absolute tolerance for f64 results.
pub const F64_TOL: (f64, f64) = (1e-12, 1e-14);

fn close_float(got: f64, want: f64, (rtol, atol): (f64, f64)) -> bool {
    if got.is_nan() || want.is_nan() {
        return got.is_nan() && want.is_nan();
    }
    if got.is_infinite() || want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= atol + rtol * want.abs()
}

impl Tolerance for f32 {
    fn close(got: Self, want: Self) -> bool {
        close_float(got as f64, want as f64, F32_TOL)
    }
}

impl Tolerance for f64 {
    fn close(got: Self, want: Self) -> bool {
        close_float(got, want, F64_TOL)
    }
}

/// Assert that two arrays have the same shape and elements within the dtype's tolerance,
/// naming the first element that differs.
#[track_caller]
pub fn assert_close<T: Tolerance, D: Dimension>(got: &Array<T, D>, want: &Array<T, D>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((idx, g), w) in got.indexed_iter().zip(want.iter()) {
        assert!(T::close(*g, *w), "{what}: at {idx:?} got {g:?}, want {w:?}");
    }
}

/// Assert a scalar result within the dtype's tolerance.
#[track_caller]
pub fn assert_close_scalar<T: Tolerance>(got: T, want: T, what: &str) {
    assert!(T::close(got, want), "{what}: got {got:?}, want {want:?}");
}

/// Whether two kernel outputs agree: same dtype and shape, every element within its dtype's
/// [`Tolerance`]; else the first difference, printed.
pub fn same_value(got: &kiln::Value, want: &kiln::Value) -> Result<(), String> {
    use kiln::Value;
    fn cmp<T: Tolerance>(g: &kiln::ndarray::ArrayD<T>, w: &kiln::ndarray::ArrayD<T>) -> Result<(), String> {
        if g.shape() != w.shape() {
            return Err(format!("shape {:?} vs {:?}", g.shape(), w.shape()));
        }
        match g.iter().zip(w.iter()).position(|(a, b)| !T::close(*a, *b)) {
            None => Ok(()),
            Some(i) => Err(format!("element {i}: {:?} vs {:?}", g.iter().nth(i), w.iter().nth(i))),
        }
    }
    match (got, want) {
        (Value::F32(g), Value::F32(w)) => cmp(g, w),
        (Value::F64(g), Value::F64(w)) => cmp(g, w),
        (Value::I32(g), Value::I32(w)) => cmp(g, w),
        (Value::I64(g), Value::I64(w)) => cmp(g, w),
        (Value::U32(g), Value::U32(w)) => cmp(g, w),
        (Value::Bool(g), Value::Bool(w)) => cmp(g, w),
        _ => Err(format!("dtype {} vs {}", got.dtype(), want.dtype())),
    }
}
