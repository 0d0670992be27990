//! Parity with scikit-learn (fixtures from `cargo xtask fixtures`) for MinMaxScaler,
//! MaxAbsScaler, Normalizer and PolynomialFeatures, in f64 and f32, on the default device and
//! on the CUDA simulator through the same estimator source.

use crate::common::{assert_allclose, expected, input, rtol};
use kiln_estimators::prelude::*;
use kiln_estimators::traits::TransformerParams;
use kiln_estimators::EstimatorError;
use ndarray::{array, Array2, Ix1, Ix2};

/// The absolute tolerance: none in f64. In f32, outputs that cancel to near zero (a value just
/// above a column's minimum mapped near the low end of the range: `x * scale_ + min_` with
/// O(1) terms) carry an error of a few f32 ulps of those terms (1.2e-7 each), which rtol
/// cannot express near 0.
fn atol<F: Real>() -> f64 {
    if rtol::<F>() > 1e-6 {
        1e-6
    } else {
        0.0
    }
}

/// `x` on the CUDA simulator, and a tensor output back on the host.
fn sim<F: Real>(x: &Array2<F>) -> Tensor<F> {
    Tensor::from_array(x, Device::CudaSim).unwrap()
}
fn host<F: Real>(t: &Tensor<F>) -> Array2<F> {
    assert_eq!(t.device(), Device::CudaSim, "the output stays on the input's device");
    t.to_array::<Ix2>().unwrap()
}

fn minmax_case<F: Real>(fixture: &str, range: (f64, f64)) {
    let x = input::<F>("blobs_x");
    let (tol, atol) = (rtol::<F>(), atol::<F>());
    let s = MinMaxScaler::params().feature_range(range.0, range.1).fit(&x).unwrap();
    for (got, attr) in [
        (s.data_min(), "data_min_"),
        (s.data_max(), "data_max_"),
        (s.data_range(), "data_range_"),
        (s.scale(), "scale_"),
        (s.min(), "min_"),
    ] {
        assert_allclose(got, &expected::<Ix1>(&format!("{fixture}.{attr}")), tol, atol, attr);
    }
    let want = expected::<Ix2>(&format!("{fixture}.transform"));
    let z = s.transform(&x).unwrap();
    assert_allclose(&z, &want, tol, atol, "transform");
    assert_allclose(&s.inverse_transform(&z).unwrap(), &x.mapv(|v| v.to_f64()), tol, atol, "inverse_transform");

    let st = MinMaxScaler::params().feature_range(range.0, range.1).fit(&sim(&x)).unwrap();
    assert_eq!(st.scale().device(), Device::CudaSim);
    let zt = st.transform(&sim(&x)).unwrap();
    assert_allclose(&host(&zt), &want, tol, atol, "cuda-sim transform");
    let back = st.inverse_transform(&zt).unwrap();
    assert_allclose(&host(&back), &x.mapv(|v| v.to_f64()), tol, atol, "cuda-sim inverse_transform");
}

#[test]
fn min_max_scaler_matches_scikit_learn() {
    for (fixture, range) in [("minmax_scaler_blobs", (0.0, 1.0)), ("minmax_scaler_blobs_m1_1", (-1.0, 1.0))] {
        minmax_case::<f64>(fixture, range);
        minmax_case::<f32>(fixture, range);
    }
}

fn maxabs_case<F: Real>() {
    let x = input::<F>("blobs_x");
    let (tol, atol) = (rtol::<F>(), atol::<F>());
    let s = MaxAbsScaler::params().fit(&x).unwrap();
    assert_allclose(s.max_abs(), &expected::<Ix1>("maxabs_scaler_blobs.max_abs_"), tol, atol, "max_abs_");
    assert_allclose(s.scale(), &expected::<Ix1>("maxabs_scaler_blobs.scale_"), tol, atol, "scale_");
    let want = expected::<Ix2>("maxabs_scaler_blobs.transform");
    let z = s.transform(&x).unwrap();
    assert_allclose(&z, &want, tol, atol, "transform");
    assert_allclose(&s.inverse_transform(&z).unwrap(), &x.mapv(|v| v.to_f64()), tol, atol, "inverse_transform");

    let st = MaxAbsScaler::params().fit(&sim(&x)).unwrap();
    let zt = st.transform(&sim(&x)).unwrap();
    assert_allclose(&host(&zt), &want, tol, atol, "cuda-sim transform");
    assert_allclose(&host(&st.inverse_transform(&zt).unwrap()), &x.mapv(|v| v.to_f64()), tol, atol, "cuda-sim inverse");
}

#[test]
fn max_abs_scaler_matches_scikit_learn() {
    maxabs_case::<f64>();
    maxabs_case::<f32>();
}

fn normalizer_case<F: Real>() {
    let x = input::<F>("blobs_x");
    let (tol, atol) = (rtol::<F>(), atol::<F>());
    for (norm, name) in [(Norm::L1, "l1"), (Norm::L2, "l2"), (Norm::Max, "max")] {
        let want = expected::<Ix2>(&format!("normalizer_{name}_blobs.transform"));
        let n = Normalizer::params().norm(norm).fit(&x).unwrap();
        assert_eq!(n.n_features_in(), 5);
        assert_allclose(&n.transform(&x).unwrap(), &want, tol, atol, name);
        // Stateless: the same fitted normalizer transforms tensors where they live.
        assert_allclose(&host(&n.transform(&sim(&x)).unwrap()), &want, tol, atol, name);
    }
}

#[test]
fn normalizer_matches_scikit_learn() {
    normalizer_case::<f64>();
    normalizer_case::<f32>();
}

fn polynomial_case<F: Real>(fixture: &str, degree: usize, interaction_only: bool, include_bias: bool, on_sim: bool) {
    let x = input::<F>("iris_x");
    let params =
        PolynomialFeatures::params().degree(degree).interaction_only(interaction_only).include_bias(include_bias);
    let p = params.fit(&x).unwrap();
    let powers = expected::<Ix2>(&format!("{fixture}.powers_")).mapv(|v| v as i64);
    assert_eq!(p.powers(), &powers, "{fixture}: powers_");
    let n_out = expected::<ndarray::Ix0>(&format!("{fixture}.n_output_features_")).into_scalar();
    assert_eq!(p.n_output_features() as f64, n_out, "{fixture}: n_output_features_");
    // Iris is strictly positive, so every product is far from 0 and rtol alone applies.
    let want = expected::<Ix2>(&format!("{fixture}.transform"));
    assert_allclose(&p.transform(&x).unwrap(), &want, rtol::<F>(), 0.0, fixture);
    if on_sim {
        let pt = params.fit(&sim(&x)).unwrap();
        assert_allclose(&host(&pt.transform(&sim(&x)).unwrap()), &want, rtol::<F>(), 0.0, fixture);
    }
}

#[test]
fn polynomial_features_match_scikit_learn() {
    for (fixture, degree, interaction_only, include_bias) in [
        ("poly_deg2_iris", 2, false, true),
        ("poly_deg3_iris", 3, false, true),
        ("poly_deg2_interaction_iris", 2, true, true),
        ("poly_deg2_nobias_iris", 2, false, false),
        ("poly_deg3_interaction_nobias_iris", 3, true, false),
    ] {
        // One kernel serves every configuration; the simulator runs the largest one.
        let on_sim = fixture == "poly_deg3_iris";
        polynomial_case::<f64>(fixture, degree, interaction_only, include_bias, on_sim);
        polynomial_case::<f32>(fixture, degree, interaction_only, include_bias, on_sim);
    }
}

#[test]
fn products_round_like_scikit_learn() {
    // x0 * x1 * x2 is computed as (x2 * x1) * x0, scikit-learn's incremental order: with these
    // values the other association rounds differently in f64.
    let x = array![[0.1f64, 0.7, 3.3]];
    let p = PolynomialFeatures::params().degree(3).interaction_only(true).include_bias(false).fit(&x).unwrap();
    let z = p.transform(&x).unwrap();
    assert_eq!(p.powers().row(6).to_vec(), vec![1, 1, 1]);
    assert_eq!(z[[0, 6]], (3.3 * 0.7) * 0.1);
}

#[test]
fn constant_features_and_transformer_traits() {
    let x = array![[1.0f64, 0.0, -2.0], [3.0, 0.0, -2.0], [5.0, 0.0, -2.0]];
    let mm = MinMaxScaler::params().feature_range(-1.0, 1.0).fit(&x).unwrap();
    assert_eq!(mm.scale()[1], 2.0, "a constant feature's range counts as 1, like scikit-learn");
    assert_eq!(mm.transform(&x).unwrap().column(2).to_vec(), vec![-1.0; 3]);
    let ma = MaxAbsScaler::params().fit(&x).unwrap();
    assert_eq!(ma.scale().to_vec(), vec![5.0, 1.0, 2.0], "an all-zero feature is scaled by 1");
    let zero_row = array![[0.0f64, 0.0], [3.0, -4.0]];
    let z = Normalizer::params().fit_transform(&zero_row).unwrap();
    assert_eq!(z, array![[0.0, 0.0], [0.6, -0.8]], "a zero row is left as it is");

    // The object-safe face Pipeline and GridSearchCV drive.
    let boxed: Vec<Box<dyn TransformerParams<f64>>> = vec![
        Box::new(MinMaxScaler::params()),
        Box::new(MaxAbsScaler::params()),
        Box::new(Normalizer::params().norm(Norm::L1)),
        Box::new(PolynomialFeatures::params()),
    ];
    let widths: Vec<usize> = boxed.iter().map(|p| p.fit_dyn(&x).unwrap().transform_dyn(&x).unwrap().ncols()).collect();
    assert_eq!(widths, vec![3, 3, 3, 10]);
}

#[test]
fn polynomial_features_with_a_huge_but_countable_degree_is_out_of_memory() {
    // Degree 16 on 20 features (7.3e9 output columns, whose tables need over 1 TB) used to
    // abort the process: the tables were allocated infallibly.
    let x = Array2::<f64>::ones((2, 20));
    let e = PolynomialFeatures::params().degree(16).fit(&x).unwrap_err();
    match &e {
        EstimatorError::OutOfMemory { what, shape, bytes } => {
            assert!(what.contains("PolynomialFeatures"), "{e}");
            assert_eq!(shape, &vec![7_307_872_110, 20], "{e}");
            assert_eq!(*bytes, 7_307_872_110 * 20 * 8, "{e}");
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
    assert!(e.to_string().starts_with("unable to allocate 1169259537600 bytes for PolynomialFeatures"), "{e}");
    // A degree whose column count does not fit in a usize stays an invalid parameter.
    let e = PolynomialFeatures::params().degree(1000).fit(&x).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidParameter { name: "degree", .. }), "{e}");
}

#[test]
fn polynomial_powers_are_every_monomial_in_scikit_learn_order() {
    // A naive reference: every exponent vector of total degree <= `degree` (each exponent at
    // most 1 with `interaction_only`), by degree, then in reverse lexicographic exponent order
    // (which is the lexicographic order of the ascending index combinations).
    fn reference(d: usize, degree: usize, interaction_only: bool, include_bias: bool) -> Vec<Vec<i64>> {
        let max = if interaction_only { 1 } else { degree };
        let mut all: Vec<Vec<i64>> = vec![vec![]];
        for _ in 0..d {
            all = all.into_iter().flat_map(|p| (0..=max as i64).map(move |e| [p.clone(), vec![e]].concat())).collect();
        }
        let total = |p: &Vec<i64>| p.iter().sum::<i64>() as usize;
        all.retain(|p| total(p) <= degree && (include_bias || total(p) > 0));
        all.sort_by(|a, b| total(a).cmp(&total(b)).then_with(|| b.cmp(a)));
        all
    }
    for d in 1..=4 {
        for degree in 0..=4 {
            for interaction_only in [false, true] {
                for include_bias in [false, true] {
                    if degree == 0 && !include_bias {
                        continue;
                    }
                    let params = PolynomialFeatures::params()
                        .degree(degree)
                        .interaction_only(interaction_only)
                        .include_bias(include_bias);
                    let p = params.fit(&Array2::<f64>::ones((1, d))).unwrap();
                    let got: Vec<Vec<i64>> = p.powers().rows().into_iter().map(|r| r.to_vec()).collect();
                    let case = format!("d={d} degree={degree} interaction_only={interaction_only} bias={include_bias}");
                    assert_eq!(got, reference(d, degree, interaction_only, include_bias), "{case}");
                }
            }
        }
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let e = MinMaxScaler::params().feature_range(1.0, 0.0).fit(&array![[1.0f64]]).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidParameter { name: "feature_range", .. }), "{e}");
    assert!(e.to_string().contains("(1, 0)"), "{e}");
    let e = PolynomialFeatures::params().degree(0).include_bias(false).fit(&array![[1.0f64]]).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidParameter { name: "degree", .. }), "{e}");

    let nan = array![[1.0f64, f64::NAN]];
    assert!(matches!(MinMaxScaler::params().fit(&nan), Err(EstimatorError::NonFinite { .. })));
    assert!(matches!(MaxAbsScaler::params().fit(&nan), Err(EstimatorError::NonFinite { .. })));
    assert!(matches!(Normalizer::params().fit(&nan), Err(EstimatorError::NonFinite { .. })));
    assert!(matches!(PolynomialFeatures::params().fit(&nan), Err(EstimatorError::NonFinite { .. })));
    let empty = Array2::<f32>::zeros((0, 2));
    assert!(matches!(MinMaxScaler::params().fit(&empty), Err(EstimatorError::EmptyInput { .. })));
    assert!(matches!(PolynomialFeatures::params().fit(&empty), Err(EstimatorError::EmptyInput { .. })));

    let x = array![[1.0f64, 2.0], [3.0, 4.0]];
    let wide = array![[1.0f64, 2.0, 3.0]];
    let e = MinMaxScaler::params().fit(&x).unwrap().transform(&wide).unwrap_err();
    assert_eq!(e.to_string(), "X has 3 features, but MinMaxScaler is expecting 2 features as input");
    let e = MaxAbsScaler::params().fit(&x).unwrap().inverse_transform(&wide).unwrap_err();
    assert!(matches!(e, EstimatorError::FeatureCountMismatch { estimator: "MaxAbsScaler", .. }), "{e}");
    let e = Normalizer::params().fit(&x).unwrap().transform(&wide).unwrap_err();
    assert!(matches!(e, EstimatorError::FeatureCountMismatch { estimator: "Normalizer", .. }), "{e}");
    let e = PolynomialFeatures::params().fit(&x).unwrap().transform(&wide).unwrap_err();
    assert!(matches!(e, EstimatorError::FeatureCountMismatch { estimator: "PolynomialFeatures", .. }), "{e}");
    // A host array against a device model is a typed error, not a silent copy.
    let pt = PolynomialFeatures::params().fit(&sim(&x)).unwrap();
    assert!(matches!(pt.transform(&x), Err(EstimatorError::Kernel(kiln_runtime::Error::DeviceMismatch { .. }))));
}
