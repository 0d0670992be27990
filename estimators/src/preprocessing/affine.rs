//! The per-feature affine maps the min-max and max-abs scalers apply, written in scikit-learn's
//! operation order (`x * scale + offset`, and `(x - offset) / scale` back) so results round the
//! same way.

use kiln_macros::kernel;

/// `x * scale + offset` (MinMaxScaler's transform; MaxAbsScaler's inverse with a zero offset).
#[kernel(crate = kiln_runtime)]
pub(crate) fn scale_shift<F: Float>(x: Array2<F>, scale: Array1<F>, offset: Array1<F>) -> Array2<F> {
    x * scale + offset
}

/// `(x - offset) / scale` (MinMaxScaler's inverse; MaxAbsScaler's transform with a zero offset,
/// where `x - 0` is exact).
#[kernel(crate = kiln_runtime)]
pub(crate) fn unshift_unscale<F: Float>(x: Array2<F>, offset: Array1<F>, scale: Array1<F>) -> Array2<F> {
    (x - offset) / scale
}
