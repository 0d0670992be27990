//! QuantileTransformer: parity with scikit-learn (fixtures from `cargo xtask fixtures` on
//! `reg_x`) in f64 and f32, on host arrays and on the CUDA simulator, and scikit-learn's own
//! tests (`preprocessing/tests/test_data.py`, the QuantileTransformer parts).

use crate::common::{assert_allclose, expected, input, rtol};
use kiln_estimators::prelude::*;
use ndarray::{array, Array2, Ix1, Ix2};

fn params(name: &str) -> QuantileTransformerParams {
    let p = QuantileTransformer::params();
    match name {
        "quantile_uniform_reg" => p.n_quantiles(10),
        "quantile_normal_reg" => p.n_quantiles(50).output_distribution(OutputDistribution::Normal),
        "quantile_default_reg" => p,
        "quantile_ties_reg" => p.n_quantiles(15),
        "quantile_ties_normal_reg" => p.n_quantiles(15).output_distribution(OutputDistribution::Normal),
        "quantile_subsample_reg" => p.n_quantiles(20).subsample(Some(40)).seed(0),
        _ => unreachable!(),
    }
}

fn check<F: Real>(name: &str) {
    let x = input::<f64>("reg_x");
    let data = if name.contains("ties") { x.mapv(|v| (v * 2.0).round() / 2.0) } else { x.clone() };
    let data = data.mapv(F::from_f64);
    let outside = x.mapv(|v| F::from_f64(v * 1.5));
    let r = rtol::<F>();
    // f32 quantiles sit within f32 rounding of the f64 ones; the map through them is
    // checked with an absolute tolerance at that scale.
    let atol = if r > 1e-6 { 1e-4 } else { 1e-12 };
    let p = params(name);
    let m = p.fit(&data).unwrap();
    assert_allclose(
        m.quantiles(),
        &expected::<Ix2>(&format!("{name}.quantiles")),
        r,
        atol,
        &format!("{name} quantiles_"),
    );
    let refs = m.references().mapv(F::from_f64);
    assert_allclose(&refs, &expected::<Ix1>(&format!("{name}.references")), r, 0.0, "references_");
    let z = m.transform(&data).unwrap();
    assert_allclose(&z, &expected::<Ix2>(&format!("{name}.transform")), r, atol, &format!("{name} transform"));
    let inv = m.inverse_transform(&z).unwrap();
    assert_allclose(&inv, &expected::<Ix2>(&format!("{name}.inverse_transform")), r, atol, &format!("{name} inverse"));
    let zt = m.transform(&outside).unwrap();
    assert_allclose(
        &zt,
        &expected::<Ix2>(&format!("{name}.transform_test")),
        r,
        atol,
        &format!("{name} transform_test"),
    );
    let it = m.inverse_transform(&zt).unwrap();
    assert_allclose(
        &it,
        &expected::<Ix2>(&format!("{name}.inverse_transform_test")),
        r,
        atol,
        &format!("{name} inv test"),
    );
    assert_allclose(
        &p.fit_transform(&data).unwrap(),
        &expected::<Ix2>(&format!("{name}.transform")),
        r,
        atol,
        "fit_transform",
    );
    // CUDA simulator: fitted there, attributes and outputs stay there. The simulator runs
    // each sort's loops thread by thread (seconds per case in a debug build): one case (ties,
    // normal output) by default, every case under `KILN_FULL=1` (`cargo xtask test --full`).
    let full = std::env::var("KILN_FULL").is_ok_and(|v| v == "1");
    if !full && name != "quantile_ties_normal_reg" {
        return;
    }
    let dev = Tensor::from_array(&data, Device::CudaSim).unwrap();
    let md = p.fit(&dev).unwrap();
    let q = md.quantiles().to_array::<Ix2>().unwrap();
    assert_allclose(&q, &expected::<Ix2>(&format!("{name}.quantiles")), r, atol, "cuda-sim quantiles_");
    let zd = md.transform(&dev).unwrap();
    assert_eq!(zd.device(), Device::CudaSim);
    assert_allclose(
        &zd.to_array::<Ix2>().unwrap(),
        &expected::<Ix2>(&format!("{name}.transform")),
        r,
        atol,
        "cuda-sim transform",
    );
    let id = md.inverse_transform(&zd).unwrap().to_array::<Ix2>().unwrap();
    assert_allclose(&id, &expected::<Ix2>(&format!("{name}.inverse_transform")), r, atol, "cuda-sim inverse");
}

#[test]
fn quantile_transformer_matches_scikit_learn() {
    for name in [
        "quantile_uniform_reg",
        "quantile_normal_reg",
        "quantile_default_reg",
        "quantile_ties_reg",
        "quantile_ties_normal_reg",
        "quantile_subsample_reg",
    ] {
        check::<f64>(name);
        check::<f32>(name);
    }
}

// test_data.py::test_quantile_transform_check_error (the dense parts)
#[test]
fn test_quantile_transform_check_error() {
    let x: Array2<f64> = array![
        [0.0, 25.0, 50.0, 0.0, 0.0, 0.0, 75.0, 0.0, 0.0, 100.0],
        [2.0, 4.0, 0.0, 0.0, 6.0, 8.0, 0.0, 10.0, 0.0, 0.0],
        [0.0, 0.0, 2.6, 4.1, 0.0, 0.0, 2.3, 0.0, 9.5, 0.1]
    ]
    .reversed_axes()
    .to_owned();
    let err = QuantileTransformer::params().n_quantiles(0).fit(&x).unwrap_err();
    assert!(matches!(err, EstimatorError::InvalidParameter { name: "n_quantiles", .. }), "{err}");
    let err = QuantileTransformer::params().subsample(Some(0)).fit(&x).unwrap_err();
    assert!(matches!(err, EstimatorError::InvalidParameter { name: "subsample", .. }), "{err}");
    let err = QuantileTransformer::params().n_quantiles(10).subsample(Some(5)).fit(&x).unwrap_err().to_string();
    assert!(err.contains("The number of quantiles cannot be greater than the number of samples used. Got 10 quantiles and 5 samples."), "{err}");
    let m = QuantileTransformer::params().n_quantiles(10).fit(&x).unwrap();
    assert!(matches!(
        m.transform(&Array2::<f64>::zeros((2, 2))).unwrap_err(),
        EstimatorError::FeatureCountMismatch { expected: 3, got: 2, .. }
    ));
    let mut bad = x.clone();
    bad[[0, 0]] = f64::NAN;
    assert!(matches!(QuantileTransformer::params().fit(&bad).unwrap_err(), EstimatorError::NonFinite { .. }));
    assert!(matches!(m.transform(&bad).unwrap_err(), EstimatorError::NonFinite { .. }));
}

// test_data.py::test_quantile_transform_dense_toy
#[test]
fn test_quantile_transform_dense_toy() {
    let x: Array2<f64> =
        array![[0.0, 2.0, 2.6], [25.0, 4.0, 4.1], [50.0, 6.0, 2.3], [75.0, 8.0, 9.5], [100.0, 10.0, 0.1]];
    let m = QuantileTransformer::params().n_quantiles(5).fit(&x).unwrap();
    // The quantiles of each column are its sorted values: its ranks map to 0, 0.25, .., 1.
    let z = m.transform(&x).unwrap();
    let want: Array2<f64> =
        array![[0.0, 0.0, 0.5], [0.25, 0.25, 0.75], [0.5, 0.5, 0.25], [0.75, 0.75, 1.0], [1.0, 1.0, 0.0]];
    assert_allclose(&z, &want, 0.0, 1e-15, "transform");
    let x1: Array2<f64> = array![[0.0], [0.25], [0.5], [0.75], [1.0]];
    let m1 = QuantileTransformer::params().n_quantiles(5).fit(&x1).unwrap();
    assert_allclose(&m1.inverse_transform(&m1.transform(&x1).unwrap()).unwrap(), &x1, 0.0, 1e-15, "round trip");
}

// test_data.py::test_quantile_transform_bounds
#[test]
fn test_quantile_transform_bounds() {
    let x1: Array2<f64> = array![[0.0, 0.1], [0.0, 0.5], [1.0, 0.1]];
    let x2: Array2<f64> = array![[0.1, 0.0], [0.5, 0.0], [0.1, 1.0]];
    let m = QuantileTransformer::params().n_quantiles(3).fit(&x1).unwrap();
    let y1 = m.transform(&x1).unwrap();
    let y2 = QuantileTransformer::params().n_quantiles(3).fit_transform(&x2).unwrap();
    assert_allclose(&y1, &y2.slice(ndarray::s![.., ..;-1]).to_owned(), 0.0, 0.0, "symmetric");
    // Values outside the fitted range clip to the bounds.
    let z = m.transform(&array![[-10.0, 10.0]]).unwrap();
    assert_eq!(z, array![[0.0, 1.0]]);
    let z = m.inverse_transform(&array![[-10.0, 10.0]]).unwrap();
    assert_eq!(z, array![[0.0, 0.5]]);
}

// test_data.py::test_quantile_transform_and_inverse / test_quantile_transform_nan-free parts:
// the normal output of an inverse round trip stays close to the data.
#[test]
fn test_quantile_transform_and_inverse() {
    let x = input::<f64>("reg_x");
    let m =
        QuantileTransformer::params().n_quantiles(200).output_distribution(OutputDistribution::Normal).fit(&x).unwrap();
    let back = m.inverse_transform(&m.transform(&x).unwrap()).unwrap();
    assert_allclose(&back, &x, 1e-9, 1e-9, "round trip");
}

/// scikit-learn's `test_quantile_transform_iris` (dense): with 30 quantiles, `inverse_transform`
/// brings iris back from the uniform and from the normal output (to 6 decimals).
#[test]
fn test_quantile_transform_iris() {
    let x = kiln_estimators::datasets::load_iris().data;
    for out in [OutputDistribution::Uniform, OutputDistribution::Normal] {
        let m = QuantileTransformer::params().n_quantiles(30).output_distribution(out).fit(&x).unwrap();
        let back = m.inverse_transform(&m.transform(&x).unwrap()).unwrap();
        assert_allclose(&back, &x, 0.0, 1.5e-6, &format!("{out:?} round trip"));
    }
}

/// scikit-learn's `test_quantile_transformer_sorted_quantiles`: on many ties (numpy issue
/// 14685) the 100 quantiles are non-decreasing.
#[test]
fn test_quantile_transformer_sorted_quantiles() {
    let base = [0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 5.0, 5.0, 1.0, 1.0, 9.0, 9.0, 9.0, 8.0, 8.0, 7.0];
    let x = Array2::from_shape_fn((base.len() * 10, 1), |(i, _)| 0.1 * base[i % base.len()]);
    let m = QuantileTransformer::params().n_quantiles(100).fit(&x).unwrap();
    let q = m.quantiles().column(0).to_owned();
    assert_eq!(q.len(), 100);
    assert!(q.windows(2).into_iter().all(|w| w[1] >= w[0]), "{q}");
}

/// scikit-learn's `test_quantile_transform_subsampling_disabled`: with `subsample = None` and
/// 5 quantiles the references are `linspace(0, 1, 5)` and the quantiles numpy's (linear)
/// quantiles of all 200 values (here computed by a plain sort and interpolation).
#[test]
fn test_quantile_transform_subsampling_disabled() {
    let mut state = 0u64;
    let x = Array2::from_shape_fn((200, 1), |_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 6.0
    });
    let m = QuantileTransformer::params().n_quantiles(5).subsample(None).fit(&x).unwrap();
    let refs = ndarray::Array1::linspace(0.0, 1.0, 5);
    assert_allclose(m.references(), &refs, 1e-15, 0.0, "references_");
    let mut sorted: Vec<f64> = x.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let want: ndarray::Array1<f64> = refs
        .iter()
        .map(|&p| {
            let h = p * (sorted.len() - 1) as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(sorted.len() - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        })
        .collect();
    assert_allclose(&m.quantiles().column(0).to_owned(), &want, 1e-12, 1e-15, "quantiles_");
}
