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

#[kernel]
fn fma_arrays_f32(a: Array1<f32>, b: Array1<f32>, c: Array1<f32>) -> Array1<f32> {
    a.mul_add(&b, &c)
}

#[kernel]
fn fma_rows(x: Array2<f32>, w: Array1<f32>, c: f32) -> Array2<f32> {
    Array2::from_shape_fn(x.dim(), |(i, j)| x[[i, j]].mul_add(w[j], c))
}

/// f32 operands where one rounding and two differ, every other element: (1 + e)(1 - e) - 1.
fn tricky_f32(n: usize, rng: &mut Rng) -> (Array1<f32>, Array1<f32>, Array1<f32>) {
    let e = 2f32.powi(-13);
    let a = Array1::from_shape_fn(n, |i| if i % 2 == 0 { 1.0 + e } else { rng.f64(-4.0, 4.0) as f32 });
    let b = Array1::from_shape_fn(n, |i| if i % 2 == 0 { 1.0 - e } else { rng.f64(-4.0, 4.0) as f32 });
    let c = Array1::from_shape_fn(n, |i| if i % 2 == 0 { -1.0 } else { rng.f64(-4.0, 4.0) as f32 });
    (a, b, c)
}

/// `mul_add` in the CPU's vector loops (lengths past the vector blocks and their unrolled
/// copies, with scalar tails; rows of a matrix; a stepped view, which takes the scalar loop):
/// bit for bit `f32::mul_add`. On an x86-64 host with FMA the compiled code holds packed
/// `vfmadd` instructions.
pub fn mul_add_in_vector_loops_rounds_once() {
    let mut rng = Rng::new(412);
    let bits = |a: &Array1<f32>| a.mapv(f32::to_bits);
    for n in [0usize, 3, 4, 17, 64, 1001, 4099] {
        let (a, b, c) = tricky_f32(n, &mut rng);
        let want = Array1::from_shape_fn(n, |i| a[i].mul_add(b[i], c[i]));
        let got = fma_arrays_f32(&a, &b, &c).unwrap();
        assert_eq!(bits(&got), bits(&want), "f32 mul_add n={n}");
        if n > 0 {
            assert_eq!(got[0], -(2f32.powi(-26)), "one rounding, not two");
        }
        let (x, w) = (rng.arr2_f32(3, n, -2.0, 2.0), rng.arr1_f32(n, -2.0, 2.0));
        let want = Array2::from_shape_fn((3, n), |(i, j)| x[[i, j]].mul_add(w[j], 0.1));
        assert_eq!(fma_rows(&x, &w, 0.1).unwrap().mapv(f32::to_bits), want.mapv(f32::to_bits), "rows, n={n}");
    }
    let (a, b, c) = tricky_f32(300, &mut rng);
    let (va, vb, vc) = (a.slice(s![..;3]), b.slice(s![..;3]), c.slice(s![1..;3]));
    let want = Array1::from_shape_fn(va.len(), |i| va[i].mul_add(vb[i], vc[i]));
    assert_eq!(bits(&fma_arrays_f32(va, vb, vc).unwrap()), bits(&want), "stepped views");
    #[cfg(target_arch = "x86_64")]
    if kiln::Device::default_device() == kiln::Device::Cpu && std::is_x86_feature_detected!("fma") {
        let asm = fma_arrays_f32::kernel().asm(None).unwrap();
        let packed = asm.lines().any(|l| l.contains("vfmadd") && l.contains("ps"));
        assert!(packed, "no packed FMA in the vector loop:\n{asm}");
    }
}
