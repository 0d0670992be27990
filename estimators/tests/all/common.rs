//! Shared by the estimator parity tests: scikit-learn fixtures and scikit-learn's tolerances.

#![allow(dead_code)]

use kiln_estimators::datasets::{load_npy, load_npy_as, Real};
use ndarray::{Array, Array2, Dimension};
use std::path::PathBuf;

/// A fixture file written by `tests/fixtures/make_fixtures.py` (scikit-learn, float64).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name)
}

/// An input matrix, as `F`.
pub fn input<F: Real>(name: &str) -> Array2<F> {
    load_npy::<F>(fixture(&format!("input_{name}.npy"))).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// An expected value of any rank, as f64.
pub fn expected<D: Dimension>(name: &str) -> Array<f64, D> {
    load_npy_as::<f64, D>(fixture(&format!("{name}.npy"))).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// scikit-learn's array-API tolerance for a float type: rtol 1e-4 for f32, 1e-7 for f64.
pub fn rtol<F: Real>() -> f64 {
    if std::mem::size_of::<F>() == 4 {
        1e-4
    } else {
        1e-7
    }
}

/// `|got - want| <= atol + rtol * |want|` elementwise (numpy's `allclose`), with a message
/// naming the first element that is not.
pub fn assert_allclose<F: Real, D: Dimension>(
    got: &Array<F, D>,
    want: &Array<f64, D>,
    rtol: f64,
    atol: f64,
    what: &str,
) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((i, g), w) in got.indexed_iter().zip(want.iter()) {
        let g = g.to_f64();
        assert!(
            (g - w).abs() <= atol + rtol * w.abs(),
            "{what}{i:?}: {g} vs scikit-learn {w} (rtol {rtol}, atol {atol})"
        );
    }
}

/// An integer fixture (labels, codes, indices) of any rank, input or output.
pub fn ints<D: Dimension>(name: &str) -> Array<i64, D> {
    kiln_estimators::datasets::load_npy_as::<i64, D>(fixture(&format!("{name}.npy")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}
