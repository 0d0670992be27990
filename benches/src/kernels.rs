//! The benchmarked kiln kernels, written once for the criterion benches and `kiln-bench`.
//!
//! They are the workloads issue 3 names: an out-of-place `a*x + b*y`, a full `x.sum()`,
//! `x.exp() * y.sin()` and the README's `nearest` (squared distances to every center, then the
//! argmin and min per point, with no `n x k x d` temporary), and issue 16's `a.dot(&b)`
//! and Gram matrix `x.t().dot(&x)`.

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
