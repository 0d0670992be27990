//! The pairwise kernels Nystroem approximates, one kiln kernel each, written in the operation
//! order of scikit-learn's `sklearn.metrics.pairwise` functions so results round the same way.

use crate::data::Matrix;
use crate::datasets::Real;
use crate::error::Result;
use kiln_macros::kernel;
use kiln_runtime::{Tensor, TensorArg};

/// `x c^T`.
#[kernel(crate = kiln_runtime)]
fn linear<F: Float>(x: Array2<F>, c: Array2<F>) -> Array2<F> {
    x.dot(&c.t())
}

/// `(gamma x c^T + coef0) ^ degree`.
#[kernel(crate = kiln_runtime)]
fn polynomial<F: Float>(x: Array2<F>, c: Array2<F>, gamma: F, coef0: F, degree: F) -> Array2<F> {
    (x.dot(&c.t()) * gamma + coef0).powf(degree)
}

/// `tanh(gamma x c^T + coef0)`.
#[kernel(crate = kiln_runtime)]
fn sigmoid<F: Float>(x: Array2<F>, c: Array2<F>, gamma: F, coef0: F) -> Array2<F> {
    (x.dot(&c.t()) * gamma + coef0).tanh()
}

/// `exp(-gamma ||x - c||^2)`, the squared distances as scikit-learn's `euclidean_distances`
/// computes them (`-2 x c^T + |x|^2 + |c|^2`, clipped at 0).
#[kernel(crate = kiln_runtime)]
fn rbf<F: Float>(x: Array2<F>, c: Array2<F>, neg_gamma: F) -> Array2<F> {
    let xx = x.powi(2).sum_axis(Axis(1));
    let cc = c.powi(2).sum_axis(Axis(1));
    let d2 = x.dot(&c.t()) * -2.0 + xx.insert_axis(Axis(1)) + cc;
    let d2 = select(d2 > 0.0, d2, 0.0);
    (d2 * neg_gamma).exp()
}

/// `exp(-gamma |x - c|_1)`.
#[kernel(crate = kiln_runtime)]
fn laplacian<F: Float>(x: Array2<F>, c: Array2<F>, neg_gamma: F) -> Array2<F> {
    let n = x.nrows();
    let m = c.nrows();
    let d = x.ncols();
    let dist = Array2::from_shape_fn((n, m), |(i, j)| sum(0..d, |k| (x[[i, k]] - c[[j, k]]).abs()));
    (dist * neg_gamma).exp()
}

/// The cosine similarity: rows scaled to unit l2 norm (norms below `tiny` left as 1), then
/// `x c^T`.
#[kernel(crate = kiln_runtime)]
fn cosine<F: Float>(x: Array2<F>, c: Array2<F>, tiny: F) -> Array2<F> {
    let xn = x.powi(2).sum_axis(Axis(1)).sqrt();
    let xn = select(xn < tiny, 1.0, xn);
    let cn = c.powi(2).sum_axis(Axis(1)).sqrt();
    let cn = select(cn < tiny, 1.0, cn);
    (x / xn.insert_axis(Axis(1))).dot(&(c / cn.insert_axis(Axis(1))).t())
}

/// `-sum_l (x_l - y_l)^2 / (x_l + y_l)`, terms with `x_l + y_l = 0` left out (scikit-learn's
/// `additive_chi2_kernel`); with `gamma` other than 0, `exp(gamma * that)` (`chi2_kernel`).
#[kernel(crate = kiln_runtime)]
pub(crate) fn chi2<F: Float>(x: Array2<F>, c: Array2<F>, gamma: F, exponentiate: i64) -> Array2<F> {
    let n = x.nrows();
    let m = c.nrows();
    let d = x.ncols();
    let k = Array2::from_shape_fn((n, m), |(i, j)| {
        -sum(0..d, |l| {
            let s = x[[i, l]] + c[[j, l]];
            select(s != 0.0, (x[[i, l]] - c[[j, l]]).powi(2) / s, 0.0)
        })
    });
    select(exponentiate > 0, (k * gamma).exp(), k)
}

/// The smallest element of `x`.
#[kernel(crate = kiln_runtime)]
pub(crate) fn smallest<F: Float>(x: Array2<F>) -> F {
    x.min()
}

/// The rows of `x` at `idx`.
#[kernel(crate = kiln_runtime)]
pub(crate) fn take_rows<F: Float>(x: Array2<F>, idx: Array1<i64>) -> Array2<F> {
    let m = idx.len();
    let d = x.ncols();
    Array2::from_shape_fn((m, d), |(i, j)| x[[idx[[i]], j]])
}

/// `k w^T` (the kernel features mapped by the normalization).
#[kernel(crate = kiln_runtime)]
pub(crate) fn project<F: Float>(k: Array2<F>, w: Array2<F>) -> Array2<F> {
    k.dot(&w.t())
}

/// A kernel function Nystroem approximates (scikit-learn's `kernel` strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Kernel {
    /// `exp(-gamma ||x - y||^2)` (`"rbf"`, the default).
    #[default]
    Rbf,
    /// `(gamma <x, y> + coef0) ^ degree` (`"poly"` / `"polynomial"`).
    Poly,
    /// `tanh(gamma <x, y> + coef0)` (`"sigmoid"`).
    Sigmoid,
    /// `<x, y> / (|x| |y|)` (`"cosine"`).
    Cosine,
    /// `<x, y>` (`"linear"`).
    Linear,
    /// `exp(-gamma |x - y|_1)` (`"laplacian"`).
    Laplacian,
}

/// A kernel with its parameters resolved (scikit-learn's defaults filled in).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Resolved {
    pub kernel: Kernel,
    pub gamma: f64,
    pub coef0: f64,
    pub degree: f64,
}

impl Resolved {
    /// The kernel between the rows of `x` and the rows of `c` (n x m), where the data live.
    pub(crate) fn between<'a, F: Real, X: Matrix<F>>(&self, x: &'a X, c: TensorArg<'a>) -> Result<Tensor<F>> {
        let f = F::from_f64;
        Ok(match self.kernel {
            Kernel::Linear => linear::tensors::<F>(x.arg(), c)?,
            Kernel::Poly => polynomial::tensors::<F>(x.arg(), c, f(self.gamma), f(self.coef0), f(self.degree))?,
            Kernel::Sigmoid => sigmoid::tensors::<F>(x.arg(), c, f(self.gamma), f(self.coef0))?,
            Kernel::Rbf => rbf::tensors::<F>(x.arg(), c, f(-self.gamma))?,
            Kernel::Laplacian => laplacian::tensors::<F>(x.arg(), c, f(-self.gamma))?,
            Kernel::Cosine => cosine::tensors::<F>(x.arg(), c, crate::preprocessing::zero_scale_threshold::<F>())?,
        })
    }
}
