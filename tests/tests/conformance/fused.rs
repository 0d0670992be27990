//! `a.mul_add(b, c)`: a fused multiply-add rounded once, bit for bit Rust's `f32::mul_add` /
//! `f64::mul_add` (correctly rounded) on every device, on arrays (with broadcasting and
//! strided views), on scalars inside comprehensions, and in generic kernels; with operands
//! where one rounding and two differ.

use kiln::ndarray::{s, Array1, Array2};
use kiln::prelude::*;
use kiln_tests::Rng;

#[kernel]
fn fma_arrays(a: Array1<f64>, b: Array1<f64>, c: Array1<f64>) -> Array1<f64> {
    a.mul_add(&b, &c)
}

#[kernel]
fn fma_broadcast(x: Array2<f32>, w: Array1<f32>) -> Array2<f32> {
    x.mul_add(&w, 1.0)
}

#[kernel]
fn fma_in_a_comprehension(x: Array1<f64>, y: Array1<f64>, z: f64) -> Array1<f64> {
    let n = x.len();
    Array1::from_shape_fn(n, |i| x[i].mul_add(y[i], z))
}

#[kernel]
fn horner<F: Float>(x: Array1<F>) -> Array1<F> {
    x.mapv(|v| v.mul_add(v.mul_add(F::one() / 3.0, 0.5), 1.0))
}

/// Operands where `a * b + c` rounds differently from the fused result.
fn tricky(n: usize, rng: &mut Rng) -> (Array1<f64>, Array1<f64>, Array1<f64>) {
    let e = 2f64.powi(-30);
    let a = Array1::from_shape_fn(n, |i| if i % 2 == 0 { 1.0 + e } else { rng.f64(-4.0, 4.0) });
    let b = Array1::from_shape_fn(n, |i| if i % 2 == 0 { 1.0 - e } else { rng.f64(-4.0, 4.0) });
    let c = Array1::from_shape_fn(n, |i| if i % 2 == 0 { -1.0 } else { rng.f64(-4.0, 4.0) });
    (a, b, c)
}

pub fn mul_add_rounds_once_on_arrays_and_scalars() {
    let mut rng = Rng::new(410);
    for n in [0usize, 1, 2, 7, 300] {
        let (a, b, c) = tricky(n, &mut rng);
        let want = Array1::from_shape_fn(n, |i| a[i].mul_add(b[i], c[i]));
        let got = fma_arrays(&a, &b, &c).unwrap();
        assert_eq!(got.mapv(f64::to_bits), want.mapv(f64::to_bits), "mul_add n={n}");
        if n > 0 {
            // The case that tells one rounding from two: (1 + e)(1 - e) - 1 = -e^2, not 0.
            assert_eq!(got[0], -(2f64.powi(-60)));
        }
        let z = 0.25;
        let want = Array1::from_shape_fn(n, |i| a[i].mul_add(b[i], z));
        let got = fma_in_a_comprehension(&a, &b, z).unwrap();
        assert_eq!(got.mapv(f64::to_bits), want.mapv(f64::to_bits), "mul_add of scalars n={n}");
    }
    // Strided views.
    let (a, b, c) = tricky(33, &mut rng);
    let (va, vb, vc) = (a.slice(s![..;3]), b.slice(s![..;3]), c.slice(s![1..;3]));
    let want = Array1::from_shape_fn(va.len(), |i| va[i].mul_add(vb[i], vc[i]));
    assert_eq!(fma_arrays(va, vb, vc).unwrap(), want, "mul_add of strided views");
    // Special values: NaN and infinities propagate as `mul_add` defines.
    let a = Array1::from(vec![f64::INFINITY, 0.0, f64::NAN, 1e308]);
    let b = Array1::from(vec![0.0, f64::INFINITY, 1.0, 10.0]);
    let c = Array1::from(vec![1.0, 1.0, 1.0, -f64::INFINITY]);
    let got = fma_arrays(&a, &b, &c).unwrap();
    let want = Array1::from_shape_fn(4, |i| a[i].mul_add(b[i], c[i]));
    assert_eq!(got.mapv(f64::to_bits), want.mapv(f64::to_bits), "special values");
}

pub fn mul_add_broadcasts_and_is_generic() {
    let mut rng = Rng::new(411);
    for (n, d) in [(0usize, 3usize), (1, 1), (4, 5), (9, 2)] {
        let x = rng.arr2_f32(n, d, -2.0, 2.0);
        let w = rng.arr1_f32(d, -2.0, 2.0);
        let want = Array2::from_shape_fn((n, d), |(i, j)| x[[i, j]].mul_add(w[j], 1.0));
        let got = fma_broadcast(&x, &w).unwrap();
        assert_eq!(got.mapv(f32::to_bits), want.mapv(f32::to_bits), "broadcast mul_add {n}x{d}");
    }
    let big = rng.arr2_f32(8, 6, -2.0, 2.0);
    let v = big.slice(s![..;2, 1..;2]);
    let w = rng.arr1_f32(3, -2.0, 2.0);
    let want = Array2::from_shape_fn(v.dim(), |(i, j)| v[[i, j]].mul_add(w[j], 1.0));
    assert_eq!(fma_broadcast(v, &w).unwrap(), want, "broadcast mul_add of a strided view");
    for n in [0usize, 1, 17] {
        let x = rng.arr1_f64(n, -3.0, 3.0);
        let want = x.mapv(|v| v.mul_add(v.mul_add(1.0 / 3.0, 0.5), 1.0));
        assert_eq!(horner(&x).unwrap(), want, "generic horner f64");
        let x = rng.arr1_f32(n, -3.0, 3.0);
        let want = x.mapv(|v| v.mul_add(v.mul_add(1.0f32 / 3.0, 0.5), 1.0));
        assert_eq!(horner(&x).unwrap(), want, "generic horner f32");
    }
}
