//! Scatter-adds: `bincount(&labels, k)` and `bincount_weighted(&labels, &weights, k)` against
//! plain-Rust counting loops, with empty labels, one bin, strided labels, `i32` labels, and
//! labels out of range (negative, or not below `k`) as typed errors.

use kiln::ndarray::{Array1, Array2, ArrayView1, Axis as NdAxis, Slice};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng};

#[kernel]
fn counts(labels: Array1<i64>, c: Array2<f64>) -> Array1<i64> {
    let (k, _) = c.dim();
    bincount(&labels, k)
}

#[kernel]
fn weighted(labels: Array1<i64>, w: Array1<f64>) -> Array1<f64> {
    bincount_weighted(&labels, &w, 5)
}

#[kernel]
fn counts_i32(labels: Array1<i32>) -> Array1<i64> {
    bincount(&labels, 3)
}

fn reference(labels: ArrayView1<'_, i64>, w: Option<&Array1<f64>>, k: usize) -> Array1<f64> {
    let mut out = Array1::zeros(k);
    for (i, &l) in labels.iter().enumerate() {
        out[l as usize] += w.map_or(1.0, |w| w[i]);
    }
    out
}

pub fn bincount_counts_and_weighted_sums() {
    // The counts are a scatter (each label adds to its bin, `n` work), not `k` passes.
    let lp = counts::kernel().loops(None).unwrap();
    assert!(lp.kernels.iter().any(|k| k.hint == kiln::ir::loops::KernelHint::Scatter), "{lp}");
    let mut rng = Rng::new(70);
    for (n, k) in [(0, 4), (1, 1), (7, 3), (1000, 5), (3000, 64)] {
        let labels = rng.arr1_i64(n, 0, k as i64 - 1);
        let c = Array2::<f64>::zeros((k, 2));
        let got = counts(&labels, &c).unwrap();
        assert_eq!(got.mapv(|v| v as f64), reference(labels.view(), None, k), "bincount n={n} k={k}");
        if k <= 5 {
            let w = rng.arr1_f64(n, -1.0, 1.0);
            let labels5 = labels.mapv(|l| l % 5);
            let got = weighted(&labels5, &w).unwrap();
            assert_close(&got, &reference(labels5.view(), Some(&w), 5), "bincount_weighted");
        }
    }
}

pub fn bincount_of_strided_and_i32_labels() {
    let mut rng = Rng::new(71);
    let labels = rng.arr1_i64(301, 0, 2);
    let stepped = labels.slice_axis(NdAxis(0), Slice::new(0, None, 3));
    let c = Array2::<f64>::zeros((3, 1));
    let got = counts(stepped, &c).unwrap();
    assert_eq!(got.mapv(|v| v as f64), reference(stepped, None, 3));
    let as_i32 = labels.mapv(|l| l as i32);
    assert_eq!(counts_i32(&as_i32).unwrap().mapv(|v| v as f64), reference(labels.view(), None, 3));
}

pub fn bincount_labels_out_of_range_are_errors() {
    let c = Array2::<f64>::zeros((3, 1));
    for bad in [3i64, -1, i64::MAX] {
        let labels = Array1::from(vec![0, bad, 1]);
        let err = counts(&labels, &c).unwrap_err();
        assert!(matches!(err, kiln::Error::IndexOutOfBounds { .. }), "{err}");
        let w = Array1::from(vec![1.0, 2.0, 3.0]);
        let err = weighted(&labels.mapv(|l| if l == 3 { 5 } else { l }), &w).unwrap_err();
        assert!(matches!(err, kiln::Error::IndexOutOfBounds { .. }), "{err}");
    }
}
