//! PCA parity with scikit-learn 1.9 (fixtures from `cargo xtask fixtures`), in f64 and f32, on
//! the default device and on the CUDA simulator through the same estimator source; the
//! randomized solver against the exact one; bad input.

use crate::common::{assert_allclose, expected, input, rtol};
use kiln_estimators::prelude::*;
use kiln_estimators::EstimatorError;
use ndarray::{array, Array, Array2, Dimension, Ix0, Ix1, Ix2};

/// The absolute tolerance for values that can be ~0 (projections, small component entries),
/// scaled by the largest expected magnitude: f32 input carries the rounding of the data itself
/// (~6e-8 relative, amplified by centring), so a few 1e-6 of the scale; f64 a few ulps' worth.
fn atol<F: Real, D: Dimension>(want: &Array<f64, D>) -> f64 {
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    scale * if rtol::<F>() > 1e-6 { 1e-5 } else { 1e-12 }
}

fn check<F: Real, D: Dimension>(got: &Array<F, D>, fixture: &str, what: &str) {
    let want = expected::<D>(fixture);
    assert_allclose(got, &want, rtol::<F>(), atol::<F, D>(&want), what);
}

fn pca_case<F: Real>(data: &str) {
    let x = input::<F>(&format!("{data}_x"));
    let fx = format!("pca2_{data}");
    let pca = Pca::params(2).fit(&x).unwrap();
    check(pca.components(), &format!("{fx}.components_"), "components_");
    check(pca.explained_variance(), &format!("{fx}.explained_variance_"), "explained_variance_");
    check(pca.explained_variance_ratio(), &format!("{fx}.explained_variance_ratio_"), "explained_variance_ratio_");
    check(pca.singular_values(), &format!("{fx}.singular_values_"), "singular_values_");
    check(pca.mean(), &format!("{fx}.mean_"), "mean_");
    let noise = expected::<Ix0>(&format!("{fx}.noise_variance_")).into_scalar();
    assert!((pca.noise_variance() - noise).abs() <= rtol::<F>() * noise, "noise_variance_ {}", pca.noise_variance());
    let z = pca.transform(&x).unwrap();
    check(&z, &format!("{fx}.transform"), "transform");
    check(&pca.inverse_transform(&z).unwrap(), &format!("{fx}.inverse_transform"), "inverse_transform");
    let white = Pca::params(2).whiten(true).fit(&x).unwrap();
    let zw = white.transform(&x).unwrap();
    check(&zw, &format!("{fx}.whiten_transform"), "whiten transform");
    // Whitening is undone too: back to the same reconstruction.
    check(&white.inverse_transform(&zw).unwrap(), &format!("{fx}.inverse_transform"), "whiten inverse_transform");
}

#[test]
fn pca_matches_scikit_learn() {
    for data in ["iris", "blobs"] {
        pca_case::<f64>(data);
        pca_case::<f32>(data);
    }
}

fn pca_on_device<F: Real>(dev: Device) {
    let x = input::<F>("iris_x");
    let xt = Tensor::from_array(&x, dev).unwrap();
    for (whiten, transform) in [(false, "pca2_iris.transform"), (true, "pca2_iris.whiten_transform")] {
        let pca = Pca::params(2).whiten(whiten).fit(&xt).unwrap();
        assert_eq!(pca.components().device(), dev);
        assert_eq!(pca.mean().device(), dev);
        let z = pca.transform(&xt).unwrap();
        assert_eq!(z.device(), dev);
        check(&z.to_array::<Ix2>().unwrap(), transform, "device transform");
        check(&pca.components().to_array::<Ix2>().unwrap(), "pca2_iris.components_", "device components_");
        let ev = pca.explained_variance().to_array::<Ix1>().unwrap();
        check(&ev, "pca2_iris.explained_variance_", "device explained_variance_");
        let back = pca.inverse_transform(&z).unwrap();
        check(&back.to_array::<Ix2>().unwrap(), "pca2_iris.inverse_transform", "device inverse_transform");
        // A host array against a device model is a typed error, not a silent copy.
        let e = pca.transform(&x);
        assert!(matches!(e, Err(EstimatorError::Kernel(kiln_runtime::Error::DeviceMismatch { .. }))));
    }
}

#[test]
fn pca_on_cuda_sim_runs_the_same_source() {
    pca_on_device::<f64>(Device::CudaSim);
    pca_on_device::<f32>(Device::CudaSim);
}

/// The randomized solver reaches the exact solver's explained variance (relative 1e-4) and the
/// same components (up to the shared sign convention).
fn randomized_case<F: Real>(data: &str) {
    let x = input::<F>(&format!("{data}_x"));
    let fx = format!("pca2_{data}");
    let pca = Pca::params(2).svd_solver(SvdSolver::randomized(0)).fit(&x).unwrap();
    // With 10 oversamples on <= 5 features the range finder spans all of X: the spectrum is the
    // exact one to rounding, so scikit-learn's rtol for the type.
    let ev = expected::<Ix1>(&format!("{fx}.explained_variance_"));
    assert_allclose(pca.explained_variance(), &ev, rtol::<F>(), 0.0, "randomized explained_variance_");
    let ratio = expected::<Ix1>(&format!("{fx}.explained_variance_ratio_"));
    assert_allclose(pca.explained_variance_ratio(), &ratio, rtol::<F>(), 0.0, "randomized explained_variance_ratio_");
    // The components too: with 10 oversamples on <= 5 features the range finder spans all of
    // X, so they are the exact solver's to rounding (same sign convention).
    check(pca.components(), &format!("{fx}.components_"), "randomized components_");
    let noise = expected::<Ix0>(&format!("{fx}.noise_variance_")).into_scalar();
    let tol = rtol::<F>();
    assert!((pca.noise_variance() - noise).abs() <= tol * noise, "noise_variance_ {}", pca.noise_variance());
}

#[test]
fn randomized_solver_reaches_the_exact_spectrum() {
    for data in ["iris", "blobs"] {
        randomized_case::<f64>(data);
        randomized_case::<f32>(data);
    }
    // Fewer random directions than features (digits: 64), so the power iterations matter and
    // the spectrum is approximate: within 1e-4 of scikit-learn's exact one (the randomized
    // method's accuracy with these settings, not rounding).
    let digits = kiln_estimators::datasets::load_digits().data;
    let solver = SvdSolver::Randomized { n_oversamples: 5, n_iter: 4, seed: 1 };
    let rand = Pca::params(3).svd_solver(solver).fit(&digits).unwrap();
    let ev = expected::<Ix1>("pca3_digits.explained_variance_");
    assert_allclose(rand.explained_variance(), &ev, 1e-4, 0.0, "digits explained_variance_");

    // On the simulator too, f64 and f32, with few oversamples and a rank-deficient X (a
    // constant column): 5 directions on a rank-4 X span it, so rounding only.
    fn on_sim<F: Real>() {
        let x = input::<F>("blobs_const_x");
        let solver = SvdSolver::Randomized { n_oversamples: 2, n_iter: 6, seed: 7 };
        let xt = Tensor::from_array(&x, Device::CudaSim).unwrap();
        let rand = Pca::params(3).svd_solver(solver).fit(&xt).unwrap();
        let ev = rand.explained_variance().to_array::<Ix1>().unwrap();
        let want = expected::<Ix1>("pca3_blobs_const.explained_variance_");
        assert_allclose(&ev, &want, rtol::<F>(), 0.0, "rank-deficient explained_variance_");
        check(
            &rand.components().to_array::<Ix2>().unwrap(),
            "pca3_blobs_const.components_",
            "rank-deficient components_",
        );
    }
    on_sim::<f64>();
    on_sim::<f32>();

    // More oversamples than X has dimensions (even usize::MAX) draw min(n, d) directions: the
    // exact spectrum, no overflow.
    let x = input::<f64>("iris_x");
    let solver = SvdSolver::Randomized { n_oversamples: usize::MAX, n_iter: 1, seed: 3 };
    let pca = Pca::params(2).svd_solver(solver).fit(&x).unwrap();
    let ev = expected::<Ix1>("pca2_iris.explained_variance_");
    assert_allclose(pca.explained_variance(), &ev, 1e-7, 0.0, "n_oversamples = usize::MAX");
}

#[test]
fn pca_is_a_transformer() {
    let x = input::<f64>("iris_x");
    let params: Box<dyn TransformerParams<f64>> = Box::new(Pca::params(2));
    let fitted = params.fit_dyn(&x).unwrap();
    check(&fitted.transform_dyn(&x).unwrap(), "pca2_iris.transform", "Transformer::transform_dyn");
    // The same trait objects on CudaSim tensors.
    let on_sim: Box<dyn TransformerParams<f64, OnDevice>> = Box::new(Pca::params(2));
    let xt = Tensor::from_array(&x, &Device::CudaSim).unwrap();
    let z = on_sim.fit_dyn(&xt).unwrap().transform_dyn(&xt).unwrap();
    assert_eq!(z.device(), Device::CudaSim);
    check(&z.to_array::<ndarray::Ix2>().unwrap(), "pca2_iris.transform", "Transformer<_, OnDevice>::transform_dyn");
}

#[test]
fn all_components_and_tiny_inputs() {
    // Keeping every component reconstructs X exactly and has no noise variance.
    let x = array![[1.0f64, 2.0], [3.0, 1.0], [4.0, 7.0], [0.5, 0.0]];
    let pca = Pca::params(2).fit(&x).unwrap();
    assert_eq!(pca.noise_variance(), 0.0);
    let back = pca.inverse_transform(&pca.transform(&x).unwrap()).unwrap();
    assert_allclose(&back, &x, 0.0, 1e-12, "full reconstruction");
    let ratio_sum: f64 = pca.explained_variance_ratio().sum();
    assert!((ratio_sum - 1.0).abs() < 1e-12);
    // Two samples: one non-zero direction.
    let two = array![[0.0f64, 0.0, 1.0], [2.0, 0.0, 1.0]];
    let pca = Pca::params(1).fit(&two).unwrap();
    assert_eq!(pca.components(), &array![[1.0, 0.0, 0.0]]);
    assert_eq!(pca.explained_variance(), &array![2.0]);
}

#[test]
fn bad_input_is_a_typed_error() {
    let x = array![[1.0f64, 2.0, 3.0], [2.0, 0.0, 1.0], [4.0, 4.0, 0.0]];
    let e = Pca::params(4).fit(&x).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidParameter { name: "n_components", .. }), "{e}");
    assert!(e.to_string().contains("min(n_samples, n_features)=3"), "{e}");
    assert!(matches!(Pca::params(0).fit(&x), Err(EstimatorError::InvalidParameter { .. })));
    let narrow = array![[1.0f64, 2.0], [2.0, 0.0], [4.0, 4.0]];
    assert!(Pca::params(3).fit(&narrow).is_err(), "n_components > n_features");
    let mut nan = x.clone();
    nan[[1, 1]] = f64::NAN;
    assert!(matches!(Pca::params(1).fit(&nan), Err(EstimatorError::NonFinite { .. })));
    // The covariance solver finds NaN and infinity through its column sums; the randomized
    // one checks first. Either way: the same error, whichever sign the infinities have.
    for (v, w) in [(f64::INFINITY, 1.0), (f64::INFINITY, f64::NEG_INFINITY), (f64::NAN, 2.0)] {
        let mut bad = x.clone();
        bad[[0, 2]] = v;
        bad[[2, 2]] = w;
        assert!(matches!(Pca::params(1).fit(&bad), Err(EstimatorError::NonFinite { what: "X" })), "{v}, {w}");
        let randomized = Pca::params(1).svd_solver(SvdSolver::randomized(0)).fit(&bad);
        assert!(matches!(randomized, Err(EstimatorError::NonFinite { what: "X" })), "randomized: {v}, {w}");
    }
    // Finite values whose column sum overflows f32 are not called infinite.
    let huge = array![[3e38f32, 1.0], [3e38, 2.0], [1.0, 4.0]];
    assert!(!matches!(Pca::params(1).fit(&huge), Err(EstimatorError::NonFinite { .. })));
    let one = array![[1.0f64, 2.0]];
    let e = Pca::params(1).fit(&one).unwrap_err();
    assert!(e.to_string().contains("minimum of 2 sample(s)"), "{e}");
    let fitted = Pca::params(2).fit(&x).unwrap();
    let e = fitted.transform(&Array2::<f64>::zeros((2, 4))).unwrap_err();
    assert_eq!(e.to_string(), "X has 4 features, but PCA is expecting 3 features as input");
    assert!(fitted.inverse_transform(&Array2::<f64>::zeros((2, 3))).is_err(), "inverse needs n_components columns");
}
