//! Fused contractions at the edges of the CUDA backend's tiles (128 x 128 or 64 x 64 outputs
//! per block, 8 x 8 or 4 x 4 per thread, `l` staged 8 or 16 values at a time, vector loads
//! when strides and alignment allow): extents 0, 1, 7, 63, 64, 65, 127, 128, 129 and 1000 on
//! the row, column and contracted axes, operands row-major (vector loads along `l` where the
//! row length is a multiple of the vector), column-major (vector loads along the rows),
//! step-sliced (scalar loads), offset by one element (misaligned: scalar loads) and in padded
//! rows (aligned, a row length that is not a multiple of 4). Every case runs full tiles and
//! edge tiles, against plain-Rust loops, on every device. The forms are the ones that fuse and
//! so do not go to cuBLAS: distances with argmin and min, the RBF kernel
//! `exp(-gamma * ||x - y||^2)`, the Gram matrix of centred data, an integer product, and a
//! product masked by a boolean operand.

use kiln::ndarray::{s, Array1, Array2, ArrayView2};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng};

/// `(rows, columns, contracted)` extents: empty axes, one, the tile edges of every shape
/// (63, 64, 65; 127, 128, 129), and 1000 (several tiles, a grid smaller than the tiles).
const SHAPES: [(usize, usize, usize); 13] = [
    (0, 5, 3),
    (5, 0, 3),
    (4, 6, 0),
    (1, 1, 1),
    (7, 63, 65),
    (63, 64, 7),
    (64, 65, 64),
    (65, 127, 128),
    (127, 128, 129),
    (128, 129, 8),
    (129, 1, 33),
    (1000, 65, 64),
    (3, 1000, 12),
];

/// Whether the shape is large enough that only the two main layouts run (the interpreter
/// runs every case too).
fn large(n: usize, m: usize, d: usize) -> bool {
    n * m * d > 2_000_000
}

/// The shapes a case runs on the current device: all of [`SHAPES`], except on the
/// interpreter (no tiles there, and a debug build's interpreter takes seconds per million
/// multiply-adds), which runs the shapes of at most 300,000 multiply-adds: empty axes, one,
/// and the 63 / 64 / 65 edges.
fn shapes() -> impl Iterator<Item = (usize, usize, usize)> {
    let interp = kiln::Device::default_device() == kiln::Device::Interp;
    SHAPES.into_iter().filter(move |(n, m, d)| !interp || n * m * d <= 300_000)
}

/// Call `f` with the values of `a` in several layouts (see the module documentation), each
/// with its name; `fill` is what the storage around a view holds.
fn layouts<T: Copy>(a: &Array2<T>, fill: T, all: bool, f: &mut dyn FnMut(ArrayView2<T>, &str)) {
    let (r, c) = a.dim();
    f(a.view(), "row-major");
    let t = a.t().to_owned();
    f(t.t(), "column-major");
    if !all {
        return;
    }
    let mut big = Array2::from_elem((2 * r + 1, 2 * c + 1), fill);
    big.slice_mut(s![1..;2, 1..;2]).assign(a);
    f(big.slice(s![1..;2, 1..;2]), "step-sliced");
    let mut wide = Array2::from_elem((r, c + 5), fill);
    wide.slice_mut(s![.., 1..c + 1]).assign(a);
    f(wide.slice(s![.., 1..c + 1]), "offset by one");
    // Rows padded to a multiple of 4 elements, starting 4 elements in: aligned vectors.
    let width = (c + 4).div_ceil(4) * 4 + 4;
    let mut padded = Array2::from_elem((r, width), fill);
    padded.slice_mut(s![.., 4..c + 4]).assign(a);
    f(padded.slice(s![.., 4..c + 4]), "padded rows");
}

#[kernel]
fn gpu_rbf(x: Array2<f32>, y: Array2<f32>, gamma: f32) -> Array2<f32> {
    let (n, d) = x.dim();
    let (m, _) = y.dim();
    Array2::from_shape_fn((n, m), |(i, j)| (-gamma * sum(0..d, |l| (x[[i, l]] - y[[j, l]]).powi(2))).exp())
}

/// `exp(-gamma * ||x_i - y_j||^2)` in f32, `x` and `y` each in every layout.
pub fn rbf_kernel_at_tile_edges_in_every_layout() {
    let mut rng = Rng::new(160);
    for (n, m, d) in shapes() {
        let (x, y) = (rng.arr2_f32(n, d, -1.0, 1.0), rng.arr2_f32(m, d, -1.0, 1.0));
        let gamma = 0.5 / d.max(1) as f32;
        let want = Array2::from_shape_fn((n, m), |(i, j)| {
            let mut acc = 0.0f32;
            for l in 0..d {
                acc += (x[[i, l]] - y[[j, l]]).powi(2);
            }
            (-gamma * acc).exp()
        });
        let all = !large(n, m, d);
        layouts(&x, f32::NAN, all, &mut |xv, name| {
            let got = gpu_rbf(xv, &y, gamma).unwrap();
            assert_close(&got, &want, &format!("rbf {n}x{m}x{d}, x {name}"));
        });
        layouts(&y, f32::NAN, all, &mut |yv, name| {
            let got = gpu_rbf(&x, yv, gamma).unwrap();
            assert_close(&got, &want, &format!("rbf {n}x{m}x{d}, y {name}"));
        });
    }
}

#[kernel]
fn gpu_nearest(x: Array2<f64>, c: Array2<f64>) -> (Array1<i64>, Array1<f64>, Array2<f64>) {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    let dist = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
    (dist.argmin_axis(Axis(1)), dist.min_axis(Axis(1)), dist)
}

/// Squared distances in f64 (double-width vectors), with each row's argmin and min.
pub fn distances_argmin_and_min_at_tile_edges() {
    let mut rng = Rng::new(161);
    for (n, k, d) in shapes() {
        // argmin of an empty row is an error; every other shape has a nearest centre.
        if k == 0 && n > 0 {
            continue;
        }
        let (x, c) = (rng.arr2_f64(n, d, -1.0, 1.0), rng.arr2_f64(k, d, -1.0, 1.0));
        let dist = Array2::from_shape_fn((n, k), |(i, j)| (0..d).map(|l| (x[[i, l]] - c[[j, l]]).powi(2)).sum::<f64>());
        let mut arg = Array1::zeros(n);
        let mut min = Array1::zeros(n);
        for i in 0..n {
            let mut best = 0;
            for j in 1..k {
                if dist[[i, j]] < dist[[i, best]] {
                    best = j;
                }
            }
            arg[i] = best as i64;
            min[i] = dist[[i, best]];
        }
        let all = !large(n, k, d);
        layouts(&x, f64::NAN, all, &mut |xv, name| {
            let (ga, gm, gd) = gpu_nearest(xv, &c).unwrap();
            let what = format!("nearest {n}x{k}x{d}, x {name}");
            assert_close(&gd, &dist, &what);
            assert_eq!(ga, arg, "{what}: argmin");
            assert_close(&gm, &min, &what);
        });
        layouts(&c, f64::NAN, all, &mut |cv, name| {
            let (ga, _, gd) = gpu_nearest(&x, cv).unwrap();
            let what = format!("nearest {n}x{k}x{d}, c {name}");
            assert_close(&gd, &dist, &what);
            assert_eq!(ga, arg, "{what}: argmin");
        });
    }
}

#[kernel]
fn gpu_centred_gram(x: Array2<f64>, mu: Array1<f64>) -> Array2<f64> {
    let (n, d) = x.dim();
    Array2::from_shape_fn((d, d), |(i, j)| sum(0..n, |l| (x[[l, i]] - mu[i]) * (x[[l, j]] - mu[j])))
}

/// The Gram matrix of centred data, a contraction over the rows (chunks of rows on the GPU,
/// whose starts are not multiples of the vector width). Integer-valued data and means make
/// every product and sum exact, so any order of addition gives the same bits.
pub fn centred_gram_over_the_rows_at_tile_edges() {
    let mut rng = Rng::new(162);
    let interp = kiln::Device::default_device() == kiln::Device::Interp;
    for (n, d) in [(0, 5), (5, 0), (1, 1), (7, 63), (65, 64), (129, 65), (1000, 7), (64, 128), (33, 129), (200, 127)] {
        // As `shapes`: the interpreter takes the cases of at most 300,000 multiply-adds.
        if interp && n * d * d > 300_000 {
            continue;
        }
        let x = Array2::from_shape_fn((n, d), |_| rng.int(-8, 8) as f64);
        let mu = Array1::from_shape_fn(d, |_| rng.int(-3, 3) as f64);
        let want = Array2::from_shape_fn((d, d), |(i, j)| {
            (0..n).map(|l| (x[[l, i]] - mu[i]) * (x[[l, j]] - mu[j])).sum::<f64>()
        });
        layouts(&x, f64::NAN, true, &mut |xv, name| {
            let got = gpu_centred_gram(xv, &mu).unwrap();
            assert_eq!(got, want, "centred gram {n}x{d}, x {name}");
        });
    }
}

#[kernel]
fn gpu_int_product(a: Array2<i32>, b: Array2<i32>) -> Array2<i32> {
    let (n, d) = a.dim();
    let (_, m) = b.dim();
    Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| a[[i, l]] * b[[l, j]]))
}

/// An i32 product (no vendor GEMM takes it: the generated tile with 4-wide integer vectors),
/// exact.
pub fn integer_product_at_tile_edges() {
    let mut rng = Rng::new(163);
    for (n, m, d) in shapes() {
        let a = Array2::from_shape_fn((n, d), |_| rng.int(-50, 50) as i32);
        let b = Array2::from_shape_fn((d, m), |_| rng.int(-50, 50) as i32);
        let want = Array2::from_shape_fn((n, m), |(i, j)| (0..d).map(|l| a[[i, l]] * b[[l, j]]).sum::<i32>());
        let all = !large(n, m, d);
        layouts(&a, i32::MIN, all, &mut |av, name| {
            assert_eq!(gpu_int_product(av, &b).unwrap(), want, "i32 product {n}x{m}x{d}, a {name}");
        });
        layouts(&b, i32::MIN, all, &mut |bv, name| {
            assert_eq!(gpu_int_product(&a, bv).unwrap(), want, "i32 product {n}x{m}x{d}, b {name}");
        });
    }
}

#[kernel]
fn gpu_masked_sums(mask: Array2<bool>, x: Array2<f64>) -> Array2<f64> {
    let (n, d) = mask.dim();
    let (m, _) = x.dim();
    Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |l| select(mask[[i, l]], x[[j, l]], 0.0)))
}

/// `sum_l mask[i, l] ? x[j, l] : 0`: a boolean operand (staged as scalars) against an f64
/// one; small integers, so the sums are exact.
pub fn boolean_masked_sums_at_tile_edges() {
    let mut rng = Rng::new(164);
    for (n, m, d) in shapes() {
        let mask = Array2::from_shape_fn((n, d), |_| rng.int(0, 2) == 1);
        let x = Array2::from_shape_fn((m, d), |_| rng.int(-9, 9) as f64);
        let want =
            Array2::from_shape_fn((n, m), |(i, j)| (0..d).filter(|l| mask[[i, *l]]).map(|l| x[[j, l]]).sum::<f64>());
        let all = !large(n, m, d);
        layouts(&mask, true, all, &mut |mv, name| {
            assert_eq!(gpu_masked_sums(mv, &x).unwrap(), want, "masked sums {n}x{m}x{d}, mask {name}");
        });
        layouts(&x, f64::NAN, all, &mut |xv, name| {
            assert_eq!(gpu_masked_sums(&mask, xv).unwrap(), want, "masked sums {n}x{m}x{d}, x {name}");
        });
    }
}

/// Every contraction above is a tiled kernel on CUDA (the shape each takes is in its first
/// line), so the cases run the tiles rather than a grid-stride fallback. Device-independent:
/// it reads the CUDA C each kernel compiles to.
pub fn fused_contractions_take_the_tiled_mapping() {
    let cases = [
        ("gpu_rbf", gpu_rbf::kernel().cuda(None), "128 x 128 outputs per block, 8 x 8 per thread"),
        ("gpu_nearest", gpu_nearest::kernel().cuda(None), "128 x 64 outputs per block, 8 x 4 per thread"),
        ("gpu_centred_gram", gpu_centred_gram::kernel().cuda(None), "128 x 64 outputs per block, 8 x 4 per thread"),
        ("gpu_int_product", gpu_int_product::kernel().cuda(None), "128 x 128 outputs per block, 8 x 8 per thread"),
        ("gpu_masked_sums", gpu_masked_sums::kernel().cuda(None), "128 x 64 outputs per block, 8 x 4 per thread"),
    ];
    for (name, cuda, shape) in cases {
        let cuda = cuda.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(cuda.contains(&format!("// tiled contraction: {shape}")), "{name} is not tiled as {shape}:\n{cuda}");
    }
}
