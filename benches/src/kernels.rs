//! The benchmarked kiln kernels, written once for the criterion benches and `kiln-bench`.
//!
//! They are the workloads issue 3 names: an out-of-place `a*x + b*y`, a full `x.sum()`,
//! `x.exp() * y.sin()` and the README's `nearest` (squared distances to every center, then the
//! argmin and min per point, with no `n x k x d` temporary), and issue 16's `a.dot(&b)`
//! and Gram matrix `x.t().dot(&x)`, a fused contraction (the RBF kernel matrix written as one
//! comprehension) and a softmax over rows.

use kiln::prelude::*;

/// `a*x + b*y`, out of place: the kiln analogue of a STREAM triad (two reads, one write).
#[kernel]
pub fn axpby(a: f32, x: Array1<f32>, b: f32, y: Array1<f32>) -> Array1<f32> {
    a * x + b * y
}

/// The sum of every element: bound by read bandwidth.
#[kernel]
pub fn sum_all(x: Array1<f32>) -> f32 {
    x.sum()
}

/// `exp(x) * sin(y)`: two transcendental functions per element.
#[kernel]
pub fn exp_sin(x: Array1<f32>, y: Array1<f32>) -> Array1<f32> {
    x.exp() * y.sin()
}

/// For each point, the index of its nearest center and the squared distance to it.
#[kernel]
pub fn nearest(x: Array2<f32>, c: Array2<f32>) -> (Array1<i64>, Array1<f32>) {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    let dist = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
    (dist.argmin_axis(Axis(1)), dist.min_axis(Axis(1)))
}

/// `a.dot(&b)`: a plain matrix product, which the schedule gives to a vendor GEMM.
#[kernel]
pub fn matmul<F: Float>(a: Array2<F>, b: Array2<F>) -> Array2<F> {
    a.dot(&b)
}

/// `x.t().dot(&x)`: a Gram matrix, a plain product summed over the rows, which the schedule
/// gives to a split-K vendor GEMM (`gemm_split_k`).
#[kernel]
pub fn gram(x: Array2<f32>) -> Array2<f32> {
    x.t().dot(&x)
}

/// The RBF kernel matrix `exp(-gamma * sum_l (x[i,l] - y[j,l])^2)` written as one fused
/// contraction (issue 16 item 2): no `n x m` distance temporary, no GEMM; `neg_gamma` is
/// `-gamma`.
#[kernel]
pub fn rbf_fused(x: Array2<f32>, y: Array2<f32>, neg_gamma: f32) -> Array2<f32> {
    let (n, d) = x.dim();
    let (m, _) = y.dim();
    Array2::from_shape_fn((n, m), |(i, j)| (sum(0..d, |l| (x[[i, l]] - y[[j, l]]).powi(2)) * neg_gamma).exp())
}

/// The same RBF kernel matrix as scikit-learn computes it (and as kiln's estimators write it,
/// `kernel_approximation/kernels.rs`): `|x|^2 - 2 x y^T + |y|^2` with the cross term a plain
/// product (a vendor GEMM call on the CPU), clipped at 0, then `exp(-gamma d2)`. Rounds
/// differently from [`rbf_fused`] (the expansion cancels for near points).
#[kernel]
pub fn rbf_gemm(x: Array2<f32>, y: Array2<f32>, neg_gamma: f32) -> Array2<f32> {
    let xx = x.powi(2).sum_axis(Axis(1));
    let yy = y.powi(2).sum_axis(Axis(1));
    let d2 = x.dot(&y.t()) * -2.0 + xx.insert_axis(Axis(1)) + yy;
    let d2 = select(d2 > 0.0, d2, 0.0);
    (d2 * neg_gamma).exp()
}

/// The softmax of each row: `e = exp(x - max)`, then `e / e.sum()` per row.
#[kernel]
pub fn softmax_rows(x: Array2<f32>) -> Array2<f32> {
    let top = x.max_axis(Axis(1));
    let e = (&x - top.insert_axis(Axis(1))).exp();
    let total = e.sum_axis(Axis(1));
    e / total.insert_axis(Axis(1))
}

/// `x.cumsum(Axis(0))`: an inclusive prefix sum (issue 15), a two-kernel blocked scan.
#[kernel]
pub fn cumsum_all(x: Array1<f32>) -> Array1<f32> {
    x.cumsum(Axis(0))
}

/// `x.argsort_axis(Axis(0))`: the stable argsort of one long lane (issue 15).
#[kernel]
pub fn argsort_all(x: Array1<f32>) -> Array1<i64> {
    x.argsort_axis(Axis(0))
}

/// `bincount(&labels, 64)`: a count per label in `0..64` (issue 15), a scatter-add.
#[kernel]
pub fn bincount64(labels: Array1<i64>) -> Array1<i64> {
    bincount(&labels, 64)
}

/// `x + 1`: a throwaway kernel that finds out whether a device runs, without compiling (and
/// so without spoiling the compile-latency measurement of) any benchmarked kernel.
#[kernel]
pub fn probe(x: Array1<f32>) -> Array1<f32> {
    x + 1.0
}

#[cfg(test)]
mod tests {
    //! The kernels compute what the benchmarks claim, on the interpreter, against plain loops.

    use super::*;
    use crate::{centers, input_x, input_y, points};
    use kiln::{with_device, Device};

    #[test]
    fn kernels_match_plain_rust_loops() -> Result<(), kiln::Error> {
        let (x, y) = (input_x(1003), input_y(1003));
        with_device(Device::Interp, || {
            let z = axpby(1.5, &x, -0.5, &y)?;
            for i in 0..x.len() {
                assert_eq!(z[i], 1.5 * x[i] + -0.5 * y[i]);
            }
            let s = sum_all(&x)?;
            let want: f64 = x.iter().map(|v| *v as f64).sum();
            assert!((s as f64 - want).abs() < 1e-2, "sum {s} vs {want}");
            let e = exp_sin(&x, &y)?;
            for i in 0..x.len() {
                let want = x[i].exp() * y[i].sin();
                assert!((e[i] - want).abs() <= 1e-5 * want.abs().max(1.0), "exp_sin[{i}]");
            }
            let (p, c) = (points(37, 5), centers(4, 5));
            let (idx, dist) = nearest(&p, &c)?;
            for i in 0..37 {
                let d: Vec<f32> =
                    (0..4).map(|j| (0..5).map(|l| (p[[i, l]] - c[[j, l]]).powi(2)).sum::<f32>()).collect();
                let best = (0..4).fold(0, |b, j| if d[j] < d[b] { j } else { b });
                assert_eq!(idx[i], best as i64, "point {i}");
                assert!((dist[i] - d[best]).abs() <= 1e-5, "point {i}");
            }
            Ok(())
        })
    }

    /// `rbf_fused` and `softmax_rows` on the interpreter and the CPU against f64 loops (the
    /// f32 kernels round each term; 1e-5 relative is ~100 ulp over 37 terms and an `exp`).
    #[test]
    fn rbf_and_softmax_match_plain_loops() -> Result<(), kiln::Error> {
        let (x, y) = (crate::tall(13, 37, 7919).mapv(|v| v as f32), crate::tall(9, 37, 104729).mapv(|v| v as f32));
        let g = -1.0 / 37.0;
        for device in [Device::Interp, Device::Cpu] {
            let (k, s) = with_device(device, || Ok::<_, kiln::Error>((rbf_fused(&x, &y, g)?, softmax_rows(&x)?)))?;
            let kg = with_device(device, || rbf_gemm(&x, &y, g))?;
            for i in 0..13 {
                for j in 0..9 {
                    let d2: f64 = (0..37).map(|l| (x[[i, l]] as f64 - y[[j, l]] as f64).powi(2)).sum();
                    let want = (d2 * g as f64).exp();
                    assert!((k[[i, j]] as f64 - want).abs() <= 1e-5 * want, "{device} rbf[{i}, {j}]");
                    // The expansion's error is f32 eps times the norms (|x|^2 + |y|^2 <= 19 here),
                    // scaled by gamma (1/37) in the exponent: 1e-5 absolute covers it.
                    assert!((kg[[i, j]] as f64 - want).abs() <= 1e-5, "{device} rbf_gemm[{i}, {j}]");
                }
                let top = x.row(i).iter().fold(f64::NEG_INFINITY, |a, v| a.max(*v as f64));
                let total: f64 = x.row(i).iter().map(|v| (*v as f64 - top).exp()).sum();
                for j in 0..37 {
                    let want = (x[[i, j]] as f64 - top).exp() / total;
                    assert!((s[[i, j]] as f64 - want).abs() <= 1e-5 * want, "{device} softmax[{i}, {j}]");
                }
            }
        }
        Ok(())
    }

    /// `gram` on the CPU (a split-K vendor GEMM at 5000 rows) against f64 loops: within the
    /// f32 forward error bound `n * eps * sum_l |x_li| |x_lj|` (the library reorders the sum).
    #[test]
    fn gram_matches_plain_loops_on_the_cpu() -> Result<(), kiln::Error> {
        let x = crate::tall(5_000, 6, 7919).mapv(|v| v as f32);
        let g = with_device(Device::Cpu, || gram(&x))?;
        for i in 0..6 {
            for j in 0..6 {
                let col = |c: usize| x.column(c).mapv(f64::from);
                let want = (col(i) * col(j)).sum();
                let scale = (col(i).mapv(f64::abs) * col(j).mapv(f64::abs)).sum();
                let bound = 5_000.0 * f32::EPSILON as f64 * scale;
                assert!((g[[i, j]] as f64 - want).abs() <= bound, "gram[{i}, {j}] = {} vs {want}", g[[i, j]]);
            }
        }
        Ok(())
    }
}
