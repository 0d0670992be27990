//! OneHotEncoder: parity with scikit-learn (fixtures from `cargo xtask fixtures`, integer codes
//! `enc_codes` / `enc_codes_test`) with f64 and f32 output, on host arrays and on the CUDA
//! simulator, and scikit-learn's own tests (`preprocessing/tests/test_encoders.py`) ported to
//! integer codes.

use crate::common::{assert_allclose, expected, ints};
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Ix1, Ix2};

fn sim(x: &Array2<i64>) -> Tensor<i64> {
    Tensor::from_array(x, Device::CudaSim).unwrap()
}

/// A ragged fixture (concatenated values, per-feature lengths with -1 for None).
fn ragged(name: &str) -> Vec<Option<Vec<i64>>> {
    let vals = ints::<Ix1>(name);
    let lens = ints::<Ix1>(&format!("{name}_lens"));
    let mut at = 0;
    lens.iter()
        .map(|&l| {
            (l >= 0).then(|| {
                let v = vals.slice(ndarray::s![at..at + l as usize]).to_vec();
                at += l as usize;
                v
            })
        })
        .collect()
}

fn case_params(name: &str) -> OneHotEncoderParams {
    let p = OneHotEncoder::params();
    match name {
        "ohe_default" => p,
        "ohe_drop_first" => p.drop(DropCategory::First),
        "ohe_drop_if_binary" => p.drop(DropCategory::IfBinary),
        "ohe_drop_values" => p.drop(DropCategory::Values(vec![1, 3, 5, 0])),
        "ohe_ignore" => p.handle_unknown(HandleUnknown::Ignore),
        "ohe_ignore_drop_first" => p.handle_unknown(HandleUnknown::Ignore).drop(DropCategory::First),
        "ohe_min_frequency_count" => p.min_frequency(6).handle_unknown(HandleUnknown::InfrequentIfExist),
        "ohe_min_frequency_fraction" => p.min_frequency(0.2).handle_unknown(HandleUnknown::Ignore),
        "ohe_max_categories" => p.max_categories(3).handle_unknown(HandleUnknown::InfrequentIfExist),
        "ohe_max_categories_drop_first" => {
            p.max_categories(2).drop(DropCategory::First).handle_unknown(HandleUnknown::InfrequentIfExist)
        }
        "ohe_categories_given" => {
            p.categories(vec![vec![0, 1, 2, 3], vec![0, 1, 2, 3, 4, 5, 6], vec![2, 4, 5, 9], vec![0, 1]])
        }
        _ => unreachable!(),
    }
}

const CASES: [(&str, bool); 11] = [
    ("ohe_default", false),
    ("ohe_drop_first", false),
    ("ohe_drop_if_binary", false),
    ("ohe_drop_values", false),
    ("ohe_ignore", true),
    ("ohe_ignore_drop_first", true),
    ("ohe_min_frequency_count", true),
    ("ohe_min_frequency_fraction", true),
    ("ohe_max_categories", true),
    ("ohe_max_categories_drop_first", true),
    ("ohe_categories_given", true),
];

fn check_case<F: Real>(name: &str, with_test: bool) {
    let codes = ints::<Ix2>("input_enc_codes");
    let test = ints::<Ix2>("input_enc_codes_test");
    let p = case_params(name);
    let m = p.fit(&codes).unwrap();
    let cats: Vec<Option<Vec<i64>>> = m.categories().iter().map(|c| Some(c.to_vec())).collect();
    assert_eq!(cats, ragged(&format!("{name}.categories")), "{name} categories_");
    let want_drop = crate::common::fixture(&format!("{name}.drop_idx.npy")).exists();
    match m.drop_idx() {
        Some(d) => {
            assert!(want_drop, "{name}: drop_idx_ should be None");
            let got: Array1<i64> = d.iter().map(|v| v.map_or(-1, |v| v as i64)).collect();
            assert_eq!(got, ints::<Ix1>(&format!("{name}.drop_idx")), "{name} drop_idx_");
        }
        None => assert!(!want_drop, "{name}: drop_idx_ missing"),
    }
    if crate::common::fixture(&format!("{name}.infrequent.npy")).exists() {
        let got: Vec<Option<Vec<i64>>> = m.infrequent_categories().into_iter().map(|c| c.map(|c| c.to_vec())).collect();
        assert_eq!(got, ragged(&format!("{name}.infrequent")), "{name} infrequent_categories_");
    }
    let z: Array2<F> = m.transform(&codes).unwrap();
    let want = expected::<Ix2>(&format!("{name}.transform"));
    assert_allclose(&z, &want, 0.0, 0.0, &format!("{name} transform"));
    assert_eq!(m.n_features_out(), want.ncols());
    assert_eq!(m.inverse_transform(&z).unwrap(), ints::<Ix2>(&format!("{name}.inverse_transform")), "{name} inverse");
    let zf: Array2<F> = p.fit_transform(&codes).unwrap();
    assert_allclose(&zf, &want, 0.0, 0.0, &format!("{name} fit_transform"));
    // The same on the CUDA simulator: fitted there, outputs stay there.
    let md = p.fit(&sim(&codes)).unwrap();
    let zd: Tensor<F> = md.transform(&sim(&codes)).unwrap();
    assert_eq!(zd.device(), Device::CudaSim);
    assert_allclose(&zd.to_array::<Ix2>().unwrap(), &want, 0.0, 0.0, &format!("{name} cuda-sim transform"));
    let inv = md.inverse_transform(&zd).unwrap();
    assert_eq!(
        inv.to_array::<Ix2>().unwrap(),
        ints::<Ix2>(&format!("{name}.inverse_transform")),
        "{name} cuda-sim inverse"
    );
    if with_test {
        let want = expected::<Ix2>(&format!("{name}.transform_test"));
        let zt: Array2<F> = m.transform(&test).unwrap();
        assert_allclose(&zt, &want, 0.0, 0.0, &format!("{name} transform_test"));
        let zt_dev: Tensor<F> = md.transform(&sim(&test)).unwrap();
        assert_allclose(
            &zt_dev.to_array::<Ix2>().unwrap(),
            &want,
            0.0,
            0.0,
            &format!("{name} cuda-sim transform_test"),
        );
        let inv = ints::<Ix2>(&format!("{name}.inverse_transform_test"));
        assert_eq!(m.inverse_transform(&zt).unwrap(), inv, "{name} inverse_transform_test");
    }
}

#[test]
fn one_hot_encoder_matches_scikit_learn() {
    for (name, with_test) in CASES {
        check_case::<f64>(name, with_test);
        check_case::<f32>(name, with_test);
    }
}

/// The API line of issue 17, as written.
#[test]
fn one_hot_encoder_api_line() -> Result<(), EstimatorError> {
    let codes: Array2<i64> = array![[0, 2], [1, 0], [1, 2]];
    let ohe = OneHotEncoder::params().handle_unknown(HandleUnknown::Ignore).fit(&codes)?;
    let onehot: Array2<f64> = ohe.transform(&codes)?;
    assert_eq!(onehot, array![[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]);
    Ok(())
}

// test_encoders.py::test_one_hot_encoder_dense
#[test]
fn test_one_hot_encoder_dense() {
    let x: Array2<i64> = array![[3, 2, 1], [0, 1, 1]];
    let z: Array2<f64> = OneHotEncoder::params().fit_transform(&x).unwrap();
    assert_eq!(z, array![[0.0, 1.0, 0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0, 1.0]]);
}

// test_encoders.py::test_one_hot_encoder_handle_unknown
#[test]
fn test_one_hot_encoder_handle_unknown() {
    let x: Array2<i64> = array![[0, 2, 1], [1, 0, 3], [1, 0, 2]];
    let x2: Array2<i64> = array![[4, 1, 1]];
    let oh = OneHotEncoder::params().fit(&x).unwrap();
    let err = oh.transform::<f64, _>(&x2).unwrap_err().to_string();
    assert_eq!(err, "Found unknown categories [4] in column 0 during transform");
    let oh_dev = OneHotEncoder::params().fit(&sim(&x)).unwrap();
    let err = oh_dev.transform::<f64, _>(&sim(&x2)).unwrap_err().to_string();
    assert!(err.contains("Found unknown categories [4] in column 0"), "{err}");
    for h in [HandleUnknown::Ignore, HandleUnknown::InfrequentIfExist] {
        let oh = OneHotEncoder::params().handle_unknown(h).fit(&x).unwrap();
        let z: Array2<f64> = oh.transform(&x2).unwrap();
        assert_eq!(z, array![[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]]);
    }
}

// test_encoders.py::test_one_hot_encoder_feature_names (integer codes, given names)
#[test]
fn test_one_hot_encoder_feature_names() {
    let x: Array2<i64> = array![[1, 3, 0], [0, 5, 2]];
    let m = OneHotEncoder::params().fit(&x).unwrap();
    assert_eq!(m.get_feature_names_out(None).unwrap(), ["x0_0", "x0_1", "x1_3", "x1_5", "x2_0", "x2_2"]);
    let names = m.get_feature_names_out(Some(&["one", "two", "three"])).unwrap();
    assert_eq!(names, ["one_0", "one_1", "two_3", "two_5", "three_0", "three_2"]);
    assert!(m.get_feature_names_out(Some(&["one"])).is_err());
}

/// `X_train` of scikit-learn's infrequent tests: a x5, b x20, c x10, d x3 as codes 0..3.
fn abcd() -> Array2<i64> {
    let mut v = vec![0i64; 5];
    v.extend([1; 20]);
    v.extend([2; 10]);
    v.extend([3; 3]);
    Array2::from_shape_vec((38, 1), v).unwrap()
}

// test_encoders.py::test_ohe_infrequent_two_levels (every parametrization; "e" is code 4)
#[test]
fn test_ohe_infrequent_two_levels() {
    let cases: [fn(OneHotEncoderParams) -> OneHotEncoderParams; 5] = [
        |p| p.max_categories(2),
        |p| p.min_frequency(11),
        |p| p.min_frequency(0.29),
        |p| p.max_categories(2).min_frequency(6),
        |p| p.max_categories(4).min_frequency(12),
    ];
    for given in [false, true] {
        for case in cases {
            let mut p = case(OneHotEncoder::params().handle_unknown(HandleUnknown::InfrequentIfExist));
            if given {
                p = p.categories(vec![vec![0, 1, 2, 3]]);
            }
            let ohe = p.fit(&abcd()).unwrap();
            assert_eq!(ohe.infrequent_categories(), vec![Some(array![0, 2, 3])]);
            let x_test: Array2<i64> = array![[1], [0], [2], [3], [4]];
            let z: Array2<f64> = ohe.transform(&x_test).unwrap();
            assert_eq!(z, array![[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]);
            let inf = OneHotEncoder::<kiln_estimators::data::Host>::INFREQUENT;
            assert_eq!(ohe.inverse_transform(&z).unwrap(), array![[1], [inf], [inf], [inf], [inf]]);
            assert_eq!(ohe.get_feature_names_out(None).unwrap(), ["x0_1", "x0_infrequent_sklearn"]);
        }
    }
}

// test_encoders.py::test_ohe_infrequent_two_levels_drop_frequent
#[test]
fn test_ohe_infrequent_two_levels_drop_frequent() {
    for drop in [DropCategory::IfBinary, DropCategory::First, DropCategory::Values(vec![1])] {
        let ohe = OneHotEncoder::params()
            .handle_unknown(HandleUnknown::InfrequentIfExist)
            .max_categories(2)
            .drop(drop)
            .fit(&abcd())
            .unwrap();
        let d = ohe.drop_idx().unwrap()[0].unwrap();
        assert_eq!(ohe.categories()[0][d], 1);
        let z: Array2<f64> = ohe.transform(&array![[1i64], [2]]).unwrap();
        assert_eq!(z, array![[0.0], [1.0]]);
        assert_eq!(ohe.get_feature_names_out(None).unwrap(), ["x0_infrequent_sklearn"]);
        let inf = OneHotEncoder::<kiln_estimators::data::Host>::INFREQUENT;
        assert_eq!(ohe.inverse_transform(&z).unwrap(), array![[1], [inf]]);
    }
}

// test_encoders.py::test_one_hot_encoder_inverse (handle_unknown="ignore", no drop: None)
#[test]
fn test_one_hot_encoder_inverse_unknown_is_none() {
    let x: Array2<i64> = array![[2, 55], [1, 55], [3, 55]];
    let enc = OneHotEncoder::params().handle_unknown(HandleUnknown::Ignore).fit(&x).unwrap();
    let z: Array2<f64> = enc.transform(&array![[4i64, 55], [1, 55]]).unwrap();
    let unknown = OneHotEncoder::<kiln_estimators::data::Host>::UNKNOWN;
    assert_eq!(enc.inverse_transform(&z).unwrap(), array![[unknown, 55], [1, 55]]);
    // Wrong width: scikit-learn's message.
    let err = enc.inverse_transform(&Array2::<f64>::zeros((1, 3))).unwrap_err().to_string();
    assert_eq!(err, "Shape of the passed X data is not correct. Expected 4 columns, got 3.");
    // handle_unknown="error", no drop: all-zero rows cannot be inverted.
    let enc = OneHotEncoder::params().fit(&x).unwrap();
    let err = enc.inverse_transform(&Array2::<f64>::zeros((2, 4))).unwrap_err().to_string();
    assert!(err.starts_with("Samples [0 1] can not be inverted"), "{err}");
}

// test_encoders.py::test_one_hot_encoder_drop_manual (integer codes)
#[test]
fn test_one_hot_encoder_drop_manual() {
    let x: Array2<i64> = array![[0, 2, 1], [1, 4, 7], [0, 2, 1]];
    let enc = OneHotEncoder::params().drop(DropCategory::Values(vec![1, 2, 1])).fit(&x).unwrap();
    let z: Array2<f64> = enc.transform(&x).unwrap();
    assert_eq!(z, array![[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]);
    assert_eq!(enc.drop_idx().unwrap(), vec![Some(1), Some(0), Some(0)]);
    assert_eq!(enc.inverse_transform(&z).unwrap(), x);
    let err = OneHotEncoder::params().drop(DropCategory::Values(vec![5, 2, 1])).fit(&x).unwrap_err().to_string();
    assert!(err.contains("Category: 5, Feature: 0"), "{err}");
    let err = OneHotEncoder::params().drop(DropCategory::Values(vec![1])).fit(&x).unwrap_err().to_string();
    assert!(err.contains("`drop` should have length equal to the number of features (3), got 1"), "{err}");
}

// test_encoders.py::test_ohe_infrequent_invalid_parameters_error and parameter validation
#[test]
fn one_hot_encoder_bad_input() {
    let x: Array2<i64> = array![[0, 1], [1, 2]];
    assert!(matches!(
        OneHotEncoder::params().min_frequency(0).fit(&x).unwrap_err(),
        EstimatorError::InvalidParameter { name: "min_frequency", .. }
    ));
    assert!(OneHotEncoder::params().min_frequency(1.0).fit(&x).is_err());
    assert!(OneHotEncoder::params().min_frequency(-0.1).fit(&x).is_err());
    assert!(matches!(
        OneHotEncoder::params().max_categories(0).fit(&x).unwrap_err(),
        EstimatorError::InvalidParameter { name: "max_categories", .. }
    ));
    let err = OneHotEncoder::params().fit(&array![[0i64, -1]]).unwrap_err().to_string();
    assert!(err.contains("got -1 in column 1"), "{err}");
    let m = OneHotEncoder::params().fit(&x).unwrap();
    let err = m.transform::<f64, _>(&array![[0i64, -3]]).unwrap_err().to_string();
    assert!(err.contains("got -3 in column 1"), "{err}");
    assert!(matches!(
        m.transform::<f64, _>(&array![[0i64, 1, 2]]).unwrap_err(),
        EstimatorError::FeatureCountMismatch { expected: 2, got: 3, .. }
    ));
    assert!(matches!(
        OneHotEncoder::params().fit(&Array2::<i64>::zeros((0, 2))).unwrap_err(),
        EstimatorError::EmptyInput { .. }
    ));
    // Given categories: wrong count, unsorted, duplicated, and codes outside them at fit.
    assert!(OneHotEncoder::params().categories(vec![vec![0, 1]]).fit(&x).is_err());
    let err = OneHotEncoder::params().categories(vec![vec![1, 0], vec![1, 2]]).fit(&x).unwrap_err().to_string();
    assert!(err.contains("Unsorted categories are not supported"), "{err}");
    let err = OneHotEncoder::params().categories(vec![vec![0, 0, 1], vec![1, 2]]).fit(&x).unwrap_err().to_string();
    assert!(err.contains("contain duplicate elements"), "{err}");
    let err = OneHotEncoder::params().categories(vec![vec![0, 1], vec![1]]).fit(&x).unwrap_err().to_string();
    assert_eq!(err, "Found unknown categories [2] in column 1 during fit");
    // A model fitted on the host refuses device codes.
    assert!(m.transform::<f64, _>(&sim(&x)).is_err());
}
