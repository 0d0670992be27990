//! Contractions at the edges of the CUDA backend's tiles (64 x 64 outputs per block, the
//! contracted axis 16 values at a time): sizes 0, 1, 17, 33 and 65 on every axis, transposed
//! and step-sliced views, against plain-Rust loops. Operands are non-negative, so no sum
//! cancels and the per-dtype tolerance holds whatever order a backend adds in.

use kiln::ndarray::{s, Array2, ArrayView2};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng};

/// Every size on every axis of `(n, d, m)`, without all 125 combinations.
fn shapes() -> Vec<(usize, usize, usize)> {
    const SIZES: [usize; 5] = [0, 1, 17, 33, 65];
    let mut out: Vec<_> =
        (0..SIZES.len() * 2).map(|i| (SIZES[i % 5], SIZES[(i + 1) % 5], SIZES[(i / 2 + 3) % 5])).collect();
    out.push((65, 65, 65));
    out
}

#[kernel]
fn tile_matmul(a: Array2<f32>, b: Array2<f32>) -> Array2<f32> {
    a.dot(&b)
}

pub fn matmul_at_tile_edges() {
    let mut rng = Rng::new(80);
    let check = |a: ArrayView2<f32>, b: ArrayView2<f32>, what: &str| {
        let ((n, d), m) = (a.dim(), b.ncols());
        let want = Array2::from_shape_fn((n, m), |(i, j)| (0..d).map(|l| a[[i, l]] * b[[l, j]]).sum::<f32>());
        assert_close(&tile_matmul(a, b).unwrap(), &want, &format!("a.dot(b), {n}x{d}x{m}, {what}"));
    };
    for (n, d, m) in shapes() {
        let (a, b) = (rng.arr2_f32(n, d, 0.0, 1.0), rng.arr2_f32(d, m, 0.0, 1.0));
        check(a.view(), b.view(), "row-major");
        // The same values through a transposed copy and every other row of a larger array.
        let at = a.t().to_owned();
        let mut wide = Array2::from_elem((2 * d, m), f32::NAN);
        wide.slice_mut(s![..;2, ..]).assign(&b);
        check(at.t(), wide.slice(s![..;2, ..]), "a transposed, b step-sliced");
    }
}

#[kernel]
fn tile_distances(x: Array2<f64>, c: Array2<f64>) -> Array2<f64> {
    let (n, d) = x.dim();
    let (m, _) = c.dim();
    Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)).sqrt())
}

pub fn distances_at_tile_edges() {
    let mut rng = Rng::new(81);
    for (n, d, m) in shapes() {
        let (x, c) = (rng.arr2_f64(n, d, -1.0, 1.0), rng.arr2_f64(m, d, -1.0, 1.0));
        let want =
            Array2::from_shape_fn((n, m), |(i, j)| (0..d).map(|l| (x[[i, l]] - c[[j, l]]).powi(2)).sum::<f64>().sqrt());
        assert_close(&tile_distances(&x, &c).unwrap(), &want, &format!("distances {n}x{d}x{m}"));
        // Column-major operands (the strides of a transposed view).
        let (xf, cf) = (x.t().to_owned(), c.t().to_owned());
        let got = tile_distances(xf.t(), cf.t()).unwrap();
        assert_close(&got, &want, &format!("distances {n}x{d}x{m}, column-major"));
    }
}

#[kernel]
fn tile_gram(x: Array2<f64>) -> Array2<f64> {
    x.t().dot(&x)
}

/// `X^T X` reduces over the rows: partial sums over chunks of rows (a batch axis before the
/// tile axes on the GPU), then their combination.
pub fn gram_at_tile_edges() {
    let mut rng = Rng::new(82);
    for (n, d) in [(0, 17), (1, 1), (17, 65), (200, 33), (65, 17)] {
        let x = rng.arr2_f64(n, d, 0.0, 1.0);
        let want = Array2::from_shape_fn((d, d), |(i, j)| (0..n).map(|l| x[[l, i]] * x[[l, j]]).sum::<f64>());
        assert_close(&tile_gram(&x).unwrap(), &want, &format!("x.t().dot(x), {n}x{d}"));
        let xt = x.t().to_owned();
        assert_close(&tile_gram(xt.t()).unwrap(), &want, &format!("x.t().dot(x), {n}x{d}, column-major"));
    }
}
