//! FunctionTransformer with a user's `#[kernel]`: against plain-Rust loops, on host arrays
//! and on the CUDA simulator, inside a Pipeline, and scikit-learn's own tests
//! (`preprocessing/tests/test_function_transformer.py`) as far as they apply.

use crate::common::input;
use kiln_estimators::pipeline::Pipeline;
use kiln_estimators::prelude::*;
use kiln_macros::kernel;
use ndarray::{array, Array2, Ix2};

#[kernel(crate = kiln_runtime)]
fn log1p_kernel<F: Float>(x: Array2<F>) -> Array2<F> {
    x.ln_1p()
}

#[kernel(crate = kiln_runtime)]
fn expm1_kernel<F: Float>(x: Array2<F>) -> Array2<F> {
    x.exp_m1()
}

/// Each row, then its squared norm as an extra column (a shape-changing function).
#[kernel(crate = kiln_runtime)]
fn with_norm<F: Float>(x: Array2<F>) -> Array2<F> {
    let (n, d) = x.dim();
    Array2::from_shape_fn((n, d + 1), |(i, j)| if j < d { x[[i, j]] } else { sum(0..d, |l| x[[i, l]] * x[[i, l]]) })
}

/// A kernel of the wrong signature for a transformer (a vector out).
#[kernel(crate = kiln_runtime)]
fn row_sums<F: Float>(x: Array2<F>) -> Array1<F> {
    x.sum_axis(Axis(1))
}

fn data() -> Array2<f64> {
    input::<f64>("blobs_x").mapv(f64::abs)
}

// test_function_transformer.py::test_delegate_to_func / test_np_log (a user kernel applied)
#[test]
fn test_np_log() {
    let x = data();
    let want = x.mapv(f64::ln_1p);
    let ft = FunctionTransformer::params().func(log1p_kernel::kernel()).fit(&x).unwrap();
    let z = ft.transform(&x).unwrap();
    for (g, w) in z.iter().zip(want.iter()) {
        assert!((g - w).abs() <= 1e-15 * w.abs().max(1.0), "{g} vs {w}");
    }
    // f32, and the CUDA simulator (the output stays there).
    let x32 = x.mapv(|v| v as f32);
    let z32 = FunctionTransformer::params().func(log1p_kernel::kernel()).fit_transform(&x32).unwrap();
    for (g, w) in z32.iter().zip(want.iter()) {
        assert!((f64::from(*g) - w).abs() <= 1e-6 * w.abs().max(1.0));
    }
    let xt = Tensor::from_array(&x, Device::CudaSim).unwrap();
    let zt = ft.transform(&xt).unwrap();
    assert_eq!(zt.device(), Device::CudaSim);
    let zt = zt.to_array::<Ix2>().unwrap();
    for (g, w) in zt.iter().zip(want.iter()) {
        assert!((g - w).abs() <= 1e-14 * w.abs().max(1.0), "{g} vs {w}");
    }
}

// test_function_transformer.py::test_inverse_transform
#[test]
fn test_inverse_transform() {
    let x = array![[1.0f64, 4.0, 9.0, 16.0]];
    let ft = FunctionTransformer::params()
        .func(log1p_kernel::kernel())
        .inverse_func(expm1_kernel::kernel())
        .fit(&x)
        .unwrap();
    let back = ft.inverse_transform(&ft.transform(&x).unwrap()).unwrap();
    for (g, w) in back.iter().zip(x.iter()) {
        assert!((g - w).abs() <= 1e-12 * w, "{g} vs {w}");
    }
}

// test_function_transformer.py::test_function_transformer_identity (func=None)
#[test]
fn identity_without_a_function() {
    let x = data();
    let ft = FunctionTransformer::params().fit(&x).unwrap();
    assert_eq!(ft.transform(&x).unwrap(), x);
    assert_eq!(ft.inverse_transform(&x).unwrap(), x);
    let xt = Tensor::from_array(&x, Device::CudaSim).unwrap();
    assert_eq!(ft.transform(&xt).unwrap().to_array::<Ix2>().unwrap(), x);
}

/// A shape-changing kernel, a pipeline step: the user's kernel then a StandardScaler.
#[test]
fn user_kernel_as_pipeline_step() {
    let x = data();
    let mut want = Array2::zeros((x.nrows(), x.ncols() + 1));
    for i in 0..x.nrows() {
        let mut s = 0.0;
        for j in 0..x.ncols() {
            want[[i, j]] = x[[i, j]];
            s += x[[i, j]] * x[[i, j]];
        }
        want[[i, x.ncols()]] = s;
    }
    let ft = FunctionTransformer::params().func(with_norm::kernel()).fit(&x).unwrap();
    let z = ft.transform(&x).unwrap();
    for (g, w) in z.iter().zip(want.iter()) {
        assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{g} vs {w}");
    }
    let y = input::<f64>("blobs_x").column(0).to_owned();
    let pipe = Pipeline::new::<f64>()
        .then(FunctionTransformer::params().func(with_norm::kernel()))
        .then(StandardScaler::params());
    let fitted = pipe.finish(Ridge::params()).fit(&x, &y).unwrap();
    let scaled = StandardScaler::params().fit_transform(&want).unwrap();
    let via = fitted.transform(&x).unwrap();
    for (g, w) in via.iter().zip(scaled.iter()) {
        assert!((g - w).abs() <= 1e-10 * w.abs().max(1.0), "{g} vs {w}");
    }
}

// test_function_transformer.py::test_check_inverse / validate: bad shapes and kernels
#[test]
fn function_transformer_bad_input() {
    let x = data();
    let ft = FunctionTransformer::params().func(log1p_kernel::kernel()).validate(true).fit(&x).unwrap();
    assert_eq!(ft.n_features_in(), Some(x.ncols()));
    assert!(matches!(
        ft.transform(&Array2::<f64>::zeros((2, 1))).unwrap_err(),
        EstimatorError::FeatureCountMismatch { .. }
    ));
    let mut bad = x.clone();
    bad[[0, 0]] = f64::NAN;
    assert!(matches!(ft.transform(&bad).unwrap_err(), EstimatorError::NonFinite { .. }));
    assert!(FunctionTransformer::params().validate(true).fit(&bad).is_err());
    // Without validate, NaN passes through like scikit-learn's default.
    let ft = FunctionTransformer::params().func(log1p_kernel::kernel()).fit(&bad).unwrap();
    assert!(ft.transform(&bad).unwrap()[[0, 0]].is_nan());
    // A kernel that returns a vector is a typed error, not a panic.
    let ft = FunctionTransformer::params().func(row_sums::kernel()).fit(&x).unwrap();
    assert!(ft.transform(&x).is_err());
}
