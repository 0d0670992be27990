//! TargetEncoder: parity with scikit-learn (fixtures `te_*` from `cargo xtask fixtures`: the
//! integer codes `enc_codes`, continuous / binary / multiclass targets) in f64 and f32, on host
//! arrays and on the CUDA simulator, and scikit-learn's own tests
//! (`preprocessing/tests/test_target_encoder.py`) ported to integer codes, against a plain-Rust
//! reference of the encoding (the tests' `_encode_target`).

use crate::common::{assert_allclose, expected, ints, rtol};
use kiln_estimators::model_selection::{KFold, ShuffleSplit, StratifiedKFold};
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Ix0, Ix1, Ix2};

fn sim<T: kiln_runtime::Element>(x: &ndarray::Array<T, impl ndarray::Dimension>) -> Tensor<T> {
    Tensor::from_array(x, Device::CudaSim).unwrap()
}

fn target<F: Real>(name: &str) -> Array1<F> {
    match name {
        "te_y_cont" => expected::<Ix1>("input_te_y_cont").mapv(F::from_f64),
        _ => ints::<Ix1>(&format!("input_{name}")).mapv(|v| F::from_f64(v as f64)),
    }
}

/// The fixture's hyper-parameters (the int `cv` scikit-learn's `check_cv` turns into the
/// fixture's splitter).
fn case(name: &str) -> (TargetEncoderParams, &'static str) {
    let p = TargetEncoder::params();
    let given = vec![vec![0, 1, 2, 3], vec![0, 1, 2, 3, 4], vec![2, 4, 5, 9], vec![0, 1]];
    match name {
        "te_cont_auto" => (p.cv(5).seed(0), "te_y_cont"),
        "te_cont_smooth" => (p.smooth(2.0).cv(3).seed(1), "te_y_cont"),
        "te_cont_smooth0_noshuffle" => (p.smooth(0.0).cv(4).shuffle(false), "te_y_cont"),
        "te_cont_categories" => (p.categories(given).cv(5).seed(0), "te_y_cont"),
        "te_bin_auto" => (p.cv(5).seed(0), "te_y_bin"),
        "te_bin_smooth_noshuffle" => (p.smooth(5.0).cv(3).shuffle(false), "te_y_bin"),
        "te_multi_auto" => (p.cv(5).seed(0), "te_y_multi"),
        "te_multi_smooth" => (p.smooth(1.5).cv(3).seed(2), "te_y_multi"),
        _ => unreachable!(),
    }
}

const CASES: [&str; 8] = [
    "te_cont_auto",
    "te_cont_smooth",
    "te_cont_smooth0_noshuffle",
    "te_cont_categories",
    "te_bin_auto",
    "te_bin_smooth_noshuffle",
    "te_multi_auto",
    "te_multi_smooth",
];

fn check_model<F: Real, S: Storage>(name: &str, m: &TargetEncoder<F, S>) {
    let tol = rtol::<F>();
    let lens = ints::<Ix1>(&format!("{name}.encodings_lens"));
    assert_eq!(m.encodings().len(), lens.len(), "{name}: encodings_ count");
    let got: Array1<F> = m.encodings().iter().flat_map(|e| e.iter().copied()).collect();
    for (e, &l) in m.encodings().iter().zip(&lens) {
        assert_eq!(e.len() as i64, l, "{name}: encoding length");
    }
    assert_allclose(&got, &expected::<Ix1>(&format!("{name}.encodings")), tol, 0.0, &format!("{name} encodings_"));
    let want_mean = if name.starts_with("te_multi") {
        expected::<Ix1>(&format!("{name}.target_mean"))
    } else {
        Array1::from_elem(1, expected::<Ix0>(&format!("{name}.target_mean")).into_scalar())
    };
    assert_allclose(&Array1::from(m.target_mean().to_vec()), &want_mean, tol, 0.0, &format!("{name} target_mean_"));
    match m.classes() {
        Some(c) => {
            let want = ints::<Ix1>(&format!("{name}.classes"));
            let got: Vec<i64> = c.iter().map(|v| v.to_f64() as i64).collect();
            assert_eq!(got, want.to_vec(), "{name} classes_");
        }
        None => assert!(!crate::common::fixture(&format!("{name}.classes.npy")).exists(), "{name}: classes_ missing"),
    }
    let want_type = match &name[3..7] {
        "cont" => TargetEncoderType::Continuous,
        "bin_" => TargetEncoderType::Binary,
        _ => TargetEncoderType::Multiclass,
    };
    assert_eq!(m.target_type(), want_type, "{name} target_type_");
}

fn check_case<F: Real>(name: &str, device: bool) {
    let tol = rtol::<F>();
    let codes = ints::<Ix2>("input_enc_codes");
    let test = ints::<Ix2>("input_enc_codes_test");
    let (p, y_name) = case(name);
    let y = target::<F>(y_name);
    let want_ft = expected::<Ix2>(&format!("{name}.fit_transform"));
    let want_t = expected::<Ix2>(&format!("{name}.transform"));
    let want_test = expected::<Ix2>(&format!("{name}.transform_test"));
    let tag = if device { "CudaSim" } else { "host" };
    if device {
        let (cx, cy, ct) = (sim(&codes), sim(&y), sim(&test));
        let (m, z) = p.fit_transform(&cx, &cy).unwrap();
        assert_eq!(z.device(), Device::CudaSim);
        check_model(name, &m);
        let z: Array2<F> = z.to_array::<Ix2>().unwrap();
        assert_allclose(&z, &want_ft, tol, 0.0, &format!("{name} fit_transform ({tag})"));
        let t: Array2<F> = m.transform(&cx).unwrap().to_array::<Ix2>().unwrap();
        assert_allclose(&t, &want_t, tol, 0.0, &format!("{name} transform ({tag})"));
        let t: Array2<F> = m.transform(&ct).unwrap().to_array::<Ix2>().unwrap();
        assert_allclose(&t, &want_test, tol, 0.0, &format!("{name} transform test ({tag})"));
        let fitted = p.fit(&cx, &cy).unwrap();
        let t: Array2<F> = fitted.transform(&cx).unwrap().to_array::<Ix2>().unwrap();
        assert_allclose(&t, &want_t, tol, 0.0, &format!("{name} fit().transform ({tag})"));
    } else {
        let (m, z) = p.fit_transform(&codes, &y).unwrap();
        check_model(name, &m);
        assert_allclose(&z, &want_ft, tol, 0.0, &format!("{name} fit_transform ({tag})"));
        assert_allclose(&m.transform(&codes).unwrap(), &want_t, tol, 0.0, &format!("{name} transform ({tag})"));
        assert_allclose(&m.transform(&test).unwrap(), &want_test, tol, 0.0, &format!("{name} transform test ({tag})"));
        let fitted = p.fit(&codes, &y).unwrap();
        check_model(name, &fitted);
    }
}

#[test]
fn target_encoder_fixtures_host_f64() {
    CASES.iter().for_each(|c| check_case::<f64>(c, false));
}

#[test]
fn target_encoder_fixtures_host_f32() {
    CASES.iter().for_each(|c| check_case::<f32>(c, false));
}

#[test]
fn target_encoder_fixtures_cudasim_f64() {
    CASES.iter().for_each(|c| check_case::<f64>(c, true));
}

#[test]
fn target_encoder_fixtures_cudasim_f32() {
    CASES.iter().for_each(|c| check_case::<f32>(c, true));
}

/// scikit-learn's `_encode_target` (test_target_encoder.py): the encoding of each of
/// `n_categories` positions from the samples' positions `x` and numeric targets `y`.
fn encode_target(x: &[usize], y: &[f64], n_categories: usize, smooth: Option<f64>) -> Vec<f64> {
    let n = y.len() as f64;
    let y_mean = y.iter().sum::<f64>() / n;
    let var = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / v.len() as f64
    };
    let y_variance = var(y);
    (0..n_categories)
        .map(|c| {
            let sub: Vec<f64> = x.iter().zip(y).filter(|(&xi, _)| xi == c).map(|(_, &v)| v).collect();
            match smooth {
                None => {
                    if sub.is_empty() {
                        return y_mean;
                    }
                    let m = var(&sub) / y_variance;
                    let lambda = sub.len() as f64 / (sub.len() as f64 + m);
                    lambda * (sub.iter().sum::<f64>() / sub.len() as f64) + (1.0 - lambda) * y_mean
                }
                Some(s) => (sub.iter().sum::<f64>() + y_mean * s) / (sub.len() as f64 + s),
            }
        })
        .collect()
}

/// The cross-fitted reference: each sample encoded by the folds it is not in.
fn crossfit_reference(x: &[usize], y: &[f64], n_cat: usize, smooth: Option<f64>, test_fold: &[usize]) -> Vec<f64> {
    let k = test_fold.iter().max().unwrap() + 1;
    let mut out = vec![f64::NAN; x.len()];
    for f in 0..k {
        let train: Vec<usize> = (0..x.len()).filter(|&i| test_fold[i] != f).collect();
        let xs: Vec<usize> = train.iter().map(|&i| x[i]).collect();
        let ys: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let enc = encode_target(&xs, &ys, n_cat, smooth);
        for i in (0..x.len()).filter(|&i| test_fold[i] == f) {
            out[i] = enc[x[i]];
        }
    }
    out
}

/// A small deterministic generator for the ported tests' random data.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f64) as usize).min(n - 1)
    }
}

fn close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-7 * w.abs() + 1e-12, "{what}[{i}]: {g} vs {w}");
    }
}

// Port of test_encoding (integer categories, given and "auto"; binary and continuous; smooth
// 5.0 and "auto"): fit_transform against the cross-fitted reference, encodings_, target_mean_,
// and transform with an unknown code.
#[test]
fn test_encoding() {
    for binary in [false, true] {
        for smooth in [Some(5.0), None] {
            for given in [false, true] {
                let mut rng = Lcg(42);
                let mut x: Vec<usize> = [vec![0; 20], vec![1; 30], vec![2; 40]].concat();
                let n = x.len();
                let y: Vec<f64> =
                    (0..n).map(|_| if binary { rng.below(2) as f64 } else { -10.0 + 30.0 * rng.next() }).collect();
                for i in (1..n).rev() {
                    let j = rng.below(i + 1);
                    x.swap(i, j);
                }
                // Binary labels 3 / 8 (encoded 0 / 1 by their sorted order).
                let y_train: Array1<f64> = y.iter().map(|&v| if binary { 3.0 + 5.0 * v } else { v }).collect();
                let codes = Array2::from_shape_fn((n, 1), |(i, _)| x[i] as i64);
                let mut p = TargetEncoder::params().cv(3).seed(7);
                if let Some(s) = smooth {
                    p = p.smooth(s);
                }
                if given {
                    p = p.categories(vec![vec![0, 1, 2]]);
                }
                let test_fold = if binary {
                    let labels: Vec<i64> = y.iter().map(|&v| v as i64).collect();
                    StratifiedKFold::new(3).shuffle(true).seed(7).test_folds(&labels).unwrap()
                } else {
                    KFold::new(3).shuffle(true).seed(7).test_folds(n).unwrap()
                };
                let (m, z) = p.fit_transform(&codes, &y_train).unwrap();
                let want = if binary { TargetEncoderType::Binary } else { TargetEncoderType::Continuous };
                assert_eq!(m.target_type(), want);
                close(&z.column(0).to_vec(), &crossfit_reference(&x, &y, 3, smooth, &test_fold), "fit_transform");
                assert_eq!(m.encodings().len(), 1);
                match m.classes() {
                    Some(c) => assert_eq!(c, &[3.0, 8.0]),
                    None => assert!(!binary),
                }
                let enc = encode_target(&x, &y, 3, smooth);
                close(&m.encodings()[0].to_vec(), &enc, "encodings_");
                let y_mean = y.iter().sum::<f64>() / n as f64;
                close(m.target_mean(), &[y_mean], "target_mean_");
                let t = m.transform(&array![[0i64], [1], [2], [4]]).unwrap();
                close(&t.column(0).to_vec(), &[enc[0], enc[1], enc[2], y_mean], "transform");
            }
        }
    }
}

// Port of test_encoding_multiclass (integer categories, labels 1 / 2 / 3; smooth 5.0 and
// "auto"): one column per feature and class, grouped by feature.
#[test]
fn test_encoding_multiclass() {
    for smooth in [Some(5.0), None] {
        let mut rng = Lcg(3);
        let n = 80;
        let f1: Vec<usize> = (0..n).map(|_| rng.below(2)).collect();
        let f2: Vec<usize> = (0..n).map(|_| rng.below(3)).collect();
        let yi: Vec<usize> = (0..n).map(|_| rng.below(3)).collect();
        let codes = Array2::from_shape_fn((n, 2), |(i, j)| (if j == 0 { f1[i] } else { f2[i] }) as i64);
        let y: Array1<f64> = yi.iter().map(|&c| c as f64 + 1.0).collect();
        let labels: Vec<i64> = yi.iter().map(|&c| c as i64).collect();
        let test_fold = StratifiedKFold::new(3).shuffle(true).seed(3).test_folds(&labels).unwrap();
        let mut p = TargetEncoder::params().cv(3).seed(3);
        if let Some(s) = smooth {
            p = p.smooth(s);
        }
        let (m, z) = p.fit_transform(&codes, &y).unwrap();
        assert_eq!(m.target_type(), TargetEncoderType::Multiclass);
        assert_eq!(m.classes().unwrap(), &[1.0, 2.0, 3.0]);
        assert_eq!(z.ncols(), 6);
        assert_eq!(m.encodings().len(), 6);
        let feats = [(&f1, 2usize), (&f2, 3usize)];
        for (fi, (xf, ncat)) in feats.iter().enumerate() {
            for c in 0..3 {
                let yc: Vec<f64> = yi.iter().map(|&v| f64::from(u8::from(v == c))).collect();
                let e = fi * 3 + c;
                close(&z.column(e).to_vec(), &crossfit_reference(xf, &yc, *ncat, smooth, &test_fold), "fit_transform");
                close(&m.encodings()[e].to_vec(), &encode_target(xf, &yc, *ncat, smooth), "encodings_");
            }
        }
        let t = m.transform(&array![[0i64, 1], [1, 2], [4, 5]]).unwrap();
        let means: Vec<f64> = (0..3).map(|c| yi.iter().filter(|&&v| v == c).count() as f64 / n as f64).collect();
        close(m.target_mean(), &means, "target_mean_");
        for e in 0..6 {
            let (fi, c) = (e / 3, e % 3);
            let enc = &m.encodings()[e];
            let row0 = if fi == 0 { enc[0] } else { enc[1] };
            let row1 = if fi == 0 { enc[1] } else { enc[2] };
            close(&t.column(e).to_vec(), &[row0, row1, means[c]], "transform");
        }
    }
}

// Port of test_custom_categories (integer case): a given category absent from the data is
// encoded as the mean, and an unknown code too.
#[test]
fn test_custom_categories() {
    for smooth in [Smooth::Value(4.0), Smooth::Auto] {
        let codes = Array2::from_shape_fn((21, 1), |(i, _)| {
            if i < 10 {
                0
            } else if i < 20 {
                1
            } else {
                3
            }
        });
        let mut rng = Lcg(0);
        let y: Array1<f64> = (0..21).map(|_| -10.0 + 30.0 * rng.next()).collect();
        let m = TargetEncoder::params().categories(vec![vec![0, 1, 2]]).smooth(smooth).fit(&codes, &y).unwrap();
        let y_mean = y.mean().unwrap();
        let t = m.transform(&array![[3i64]]).unwrap();
        assert!((t[[0, 0]] - y_mean).abs() < 1e-12);
        assert_eq!(m.encodings().len(), 1);
        assert!((m.encodings()[0][2] - y_mean).abs() < 1e-12);
    }
}

// Port of test_errors: inconsistent lengths.
#[test]
fn test_errors() {
    let x = array![[1i64], [0], [1]];
    let e = TargetEncoder::params().fit_transform(&x, &array![1.0, 2.0, 0.0, 1.0]).unwrap_err();
    assert!(e.to_string().contains("Found input variables with inconsistent"), "{e}");
    let e = TargetEncoder::params().smooth(-1.0).fit(&x, &array![1.0, 2.0, 0.0]).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidParameter { name: "smooth", .. }), "{e}");
    let e = TargetEncoder::params().cv(1).fit(&x, &array![1.0, 2.0, 0.0]).unwrap_err();
    assert!(matches!(e, EstimatorError::InvalidParameter { name: "cv", .. }), "{e}");
    let e = TargetEncoder::params().fit(&x, &array![1.0, f64::NAN, 0.0]).unwrap_err();
    assert!(e.to_string().contains("Input y contains NaN"), "{e}");
    let e = TargetEncoder::params().fit(&Array2::<i64>::zeros((0, 1)), &Array1::<f64>::zeros(0)).unwrap_err();
    assert!(matches!(e, EstimatorError::EmptyInput { .. }), "{e}");
    let m = TargetEncoder::params().fit(&x, &array![1.0, 2.5, 0.0]).unwrap();
    let e = m.transform(&array![[1i64, 2]]).unwrap_err();
    assert!(matches!(e, EstimatorError::FeatureCountMismatch { .. }), "{e}");
}

// Port of test_use_regression_target: integral y with 4 values is inferred multiclass; given
// as continuous it is encoded as numbers.
#[test]
fn test_use_regression_target() {
    let x = array![[0i64], [1], [0], [1], [0], [1]];
    let y = array![1.0, 2.0, 3.0, 2.0, 3.0, 4.0];
    let (m, _) = TargetEncoder::params().cv(2).fit_transform(&x, &y).unwrap();
    assert_eq!(m.target_type(), TargetEncoderType::Multiclass);
    let (m, _) =
        TargetEncoder::params().cv(2).target_type(TargetEncoderType::Continuous).fit_transform(&x, &y).unwrap();
    assert_eq!(m.target_type(), TargetEncoderType::Continuous);
}

// Port of test_multiple_features_quick (no pandas): binary ints and continuous (float32) targets.
#[test]
fn test_multiple_features_quick() {
    let x = array![[1i64, 1], [0, 1], [1, 1], [2, 1], [1, 0], [0, 1], [1, 0], [0, 0]];
    let xc: [Vec<usize>; 2] =
        [x.column(0).iter().map(|&v| v as usize).collect(), x.column(1).iter().map(|&v| v as usize).collect()];
    let x_test = array![[0i64, 1], [3, 0], [1, 10]];
    for binary in [true, false] {
        for smooth in [Some(1.0), None] {
            let (y_train, y_int): (Vec<f64>, Vec<f64>) = if binary {
                let y = [3.0, 4.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0];
                (y.to_vec(), y.iter().map(|v| v - 3.0).collect())
            } else {
                let y = [3.0f32, 5.1, 2.4, 3.5, 4.1, 5.5, 10.3, 7.3].map(f64::from);
                (y.to_vec(), y.to_vec())
            };
            let test_fold = if binary {
                let l: Vec<i64> = y_int.iter().map(|&v| v as i64).collect();
                StratifiedKFold::new(2).shuffle(true).seed(0).test_folds(&l).unwrap()
            } else {
                KFold::new(2).shuffle(true).seed(0).test_folds(8).unwrap()
            };
            let mut p = TargetEncoder::params().cv(2).seed(0);
            if let Some(s) = smooth {
                p = p.smooth(s);
            }
            let (m, z) = p.fit_transform(&x, &Array1::from(y_train)).unwrap();
            let ncat = [3, 2];
            let mut encs = Vec::new();
            for f in 0..2 {
                close(
                    &z.column(f).to_vec(),
                    &crossfit_reference(&xc[f], &y_int, ncat[f], smooth, &test_fold),
                    "fit_transform",
                );
                let enc = encode_target(&xc[f], &y_int, ncat[f], smooth);
                close(&m.encodings()[f].to_vec(), &enc, "encodings_");
                encs.push(enc);
            }
            let y_mean = y_int.iter().sum::<f64>() / 8.0;
            let t = m.transform(&x_test).unwrap();
            let want = [encs[0][0], encs[1][1], y_mean, encs[1][0], encs[0][1], y_mean];
            close(&t.iter().copied().collect::<Vec<_>>(), &want, "transform");
        }
    }
}

// Port of test_constant_target_and_feature: continuous 3.4 and binary 0 targets, smooth
// "auto", 4.0 and 0.0.
#[test]
fn test_constant_target_and_feature() {
    let x = Array2::from_elem((20, 1), 1i64);
    for (y, y_mean) in [(Array1::from_elem(20, 3.4), 3.4), (Array1::zeros(20), 0.0)] {
        for smooth in [Smooth::Auto, Smooth::Value(4.0), Smooth::Value(0.0)] {
            let (m, z) = TargetEncoder::params().cv(2).smooth(smooth).fit_transform(&x, &y).unwrap();
            close(&z.column(0).to_vec(), &[y_mean; 20], "fit_transform");
            close(&[m.encodings()[0][0]], &[y_mean], "encodings_");
            close(m.target_mean(), &[y_mean], "target_mean_");
            let t = m.transform(&array![[1i64], [0]]).unwrap();
            close(&t.column(0).to_vec(), &[y_mean; 2], "transform");
        }
    }
}

// Port of test_smooth_zero: with unshuffled 2 folds, a category missing from a fold's
// training half is encoded as that half's mean.
#[test]
fn test_smooth_zero() {
    let x = Array2::from_shape_fn((10, 1), |(i, _)| i64::from(i >= 5));
    let y = array![2.1, 4.3, 1.2, 3.1, 1.0, 9.0, 10.3, 14.2, 13.3, 15.0];
    let (_, z) = TargetEncoder::params().smooth(0.0).cv_splitter(KFold::new(2)).fit_transform(&x, &y).unwrap();
    let second: f64 = y.slice(ndarray::s![5..]).mean().unwrap();
    let first: f64 = y.slice(ndarray::s![..5]).mean().unwrap();
    close(&[z[[0, 0]]], &[second], "row 0");
    close(&[z[[9, 0]]], &[first], "row 9");
}

// Port of test_invariance_of_encoding_under_label_permutation: relabelling the categories
// does not change the encodings.
#[test]
fn test_invariance_of_encoding_under_label_permutation() {
    let mut rng = Lcg(11);
    let n = 400;
    let y: Array1<f64> = (0..n).map(|_| rng.next() * 2.0 - 1.0).collect();
    let x = Array2::from_shape_fn((n, 1), |(i, _)| ((y[i] + 1.0) * 15.0).floor().min(29.0) as i64);
    let mut perm: Vec<i64> = (0..30).collect();
    for i in (1..30).rev() {
        perm.swap(i, rng.below(i + 1));
    }
    let xp = x.mapv(|v| perm[v as usize]);
    let test = Array2::from_shape_fn((30, 1), |(i, _)| i as i64);
    let test_p = test.mapv(|v| perm[v as usize]);
    for smooth in [Smooth::Value(0.0), Smooth::Value(1e3), Smooth::Auto] {
        let p = TargetEncoder::params().smooth(smooth).cv_splitter(KFold::new(2).shuffle(true).seed(5));
        let (m, a) = p.fit_transform(&x, &y).unwrap();
        let (mp, b) = p.fit_transform(&xp, &y).unwrap();
        close(&b.iter().copied().collect::<Vec<_>>(), &a.iter().copied().collect::<Vec<_>>(), "fit_transform");
        let (ta, tb) = (m.transform(&test).unwrap(), mp.transform(&test_p).unwrap());
        close(&tb.iter().copied().collect::<Vec<_>>(), &ta.iter().copied().collect::<Vec<_>>(), "transform");
    }
}

// Port of test_target_encoder_raises_cv_overlap: KFold folds are accepted, ShuffleSplit's
// overlapping test sets refused.
#[test]
fn test_target_encoder_raises_cv_overlap() {
    let mut rng = Lcg(5);
    let x = Array2::from_shape_fn((100, 3), |_| rng.below(4) as i64);
    let y: Array1<f64> = (0..100).map(|_| rng.next()).collect();
    TargetEncoder::params().cv_splitter(KFold::new(5)).fit_transform(&x, &y).unwrap();
    let e = TargetEncoder::params().cv_splitter(ShuffleSplit::new(5).seed(0)).fit_transform(&x, &y).unwrap_err();
    assert!(e.to_string().contains("Validation indices from `cv` must cover each sample index exactly once"), "{e}");
}

// Port of test_feature_names_out_set_output (names only): features keep their names, a
// multiclass target appends the class.
#[test]
fn test_feature_names_out() {
    let x = Array2::from_shape_fn((20, 2), |(i, j)| ((i + j) % 2) as i64);
    let y2: Array1<f64> = (0..20).map(|i| (i % 2 + 1) as f64).collect();
    let m = TargetEncoder::params().smooth(3.0).fit(&x, &y2).unwrap();
    assert_eq!(m.get_feature_names_out(Some(&["A", "B"])).unwrap(), vec!["A", "B"]);
    let y3: Array1<f64> = (0..20).map(|i| (i % 3 + 1) as f64).collect();
    let m = TargetEncoder::params().smooth(3.0).fit(&x, &y3).unwrap();
    assert_eq!(m.get_feature_names_out(Some(&["A", "B"])).unwrap(), vec!["A_1", "A_2", "A_3", "B_1", "B_2", "B_3"]);
    assert_eq!(m.get_feature_names_out(None).unwrap()[0], "x0_1");
}
