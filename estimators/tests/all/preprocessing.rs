//! Preprocessing parity with scikit-learn (fixtures from `cargo xtask fixtures`), in f64 and f32,
//! on the default device and on the CUDA simulator through the same estimator source.

use crate::common::{assert_allclose, expected, input, rtol};
use kiln_estimators::prelude::*;
use kiln_estimators::EstimatorError;
use ndarray::{array, Ix1, Ix2};

fn standard_scaler_case<F: Real>(name: &str) {
    let x = input::<F>(&format!("{name}_x"));
    let tol = rtol::<F>();
    // f32 input: scikit-learn's numbers are float64, so f32 rounding of the data itself bounds
    // how close they can be; the absolute tolerance is a few ulps of the data's scale.
    let atol = if tol > 1e-6 { 1e-5 } else { 1e-12 };
    let s = StandardScaler::params().fit(&x).unwrap();
    let fx = format!("standard_scaler_{name}");
    assert_allclose(s.mean(), &expected::<Ix1>(&format!("{fx}.mean_")), tol, atol, "mean_");
    assert_allclose(s.var(), &expected::<Ix1>(&format!("{fx}.var_")), tol, atol, "var_");
    assert_allclose(s.scale(), &expected::<Ix1>(&format!("{fx}.scale_")), tol, atol, "scale_");
    let z = s.transform(&x).unwrap();
    assert_allclose(&z, &expected::<Ix2>(&format!("{fx}.transform")), tol, atol * 10.0, "transform");
    let back = s.inverse_transform(&z).unwrap();
    assert_allclose(&back, &x.mapv(|v| v.to_f64()), tol, atol * 10.0, "inverse_transform");

    // The same source on the CUDA simulator: tensors in, tensors out, attributes on the device.
    let xt = Tensor::from_array(&x, Device::CudaSim).unwrap();
    let st = StandardScaler::params().fit(&xt).unwrap();
    assert_eq!(st.mean().device(), Device::CudaSim);
    let zt = st.transform(&xt).unwrap();
    assert_eq!(zt.device(), Device::CudaSim);
    assert_allclose(
        &zt.to_array::<Ix2>().unwrap(),
        &expected::<Ix2>(&format!("{fx}.transform")),
        tol,
        atol * 10.0,
        "cuda-sim transform",
    );
    // A host array against a device model is a typed error, not a silent copy.
    assert!(matches!(st.transform(&x), Err(EstimatorError::Kernel(kiln_runtime::Error::DeviceMismatch { .. }))));
}

#[test]
fn standard_scaler_matches_scikit_learn() {
    for name in ["iris", "blobs"] {
        standard_scaler_case::<f64>(name);
        standard_scaler_case::<f32>(name);
    }
}

#[test]
fn standard_scaler_options_and_constant_features() {
    let x = array![[1.0f64, 5.0], [3.0, 5.0], [8.0, 5.0]];
    let s = StandardScaler::params().fit(&x).unwrap();
    assert_eq!(s.scale()[1], 1.0, "a constant feature is scaled by 1, like scikit-learn");
    let z = StandardScaler::params().with_mean(false).fit_transform(&x).unwrap();
    let sd = s.scale()[0];
    assert!((z[[2, 0]] - 8.0 / sd).abs() < 1e-12);
    let z = StandardScaler::params().with_std(false).fit_transform(&x).unwrap();
    assert!((z[[0, 0]] - (1.0 - 4.0)).abs() < 1e-12);
}

#[test]
fn bad_input_is_a_typed_error() {
    let s = StandardScaler::params();
    let nan = array![[1.0f64, f64::NAN], [2.0, 3.0]];
    let e = s.fit(&nan).unwrap_err();
    assert!(matches!(e, EstimatorError::NonFinite { .. }), "{e}");
    assert!(e.to_string().contains("NaN or infinity"), "{e}");
    let inf = array![[1.0f32, f32::INFINITY]];
    assert!(matches!(s.fit(&inf), Err(EstimatorError::NonFinite { .. })));
    let empty = ndarray::Array2::<f64>::zeros((0, 3));
    let e = s.fit(&empty).unwrap_err();
    assert!(e.to_string().contains("0 sample(s)"), "{e}");
    let fitted = s.fit(&array![[1.0f64, 2.0], [3.0, 4.0]]).unwrap();
    let e = fitted.transform(&array![[1.0f64, 2.0, 3.0]]).unwrap_err();
    assert_eq!(e.to_string(), "X has 3 features, but StandardScaler is expecting 2 features as input");
}
