//! Binarizer, KernelCenterer, LabelEncoder and LabelBinarizer: parity with scikit-learn
//! (fixtures from `cargo xtask fixtures`) in f64 and f32, on the default device and on the CUDA
//! simulator, and scikit-learn's own tests (`preprocessing/tests/test_label.py`,
//! `test_data.py::test_binarizer`, `test_center_kernel`, `test_kernelcenterer_non_linear_kernel`)
//! ported to integer labels.

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Ix0, Ix1, Ix2};

fn sim<F: Real>(x: &Array2<F>) -> Tensor<F> {
    Tensor::from_array(x, Device::CudaSim).unwrap()
}
fn sim1(y: &Array1<i64>) -> Tensor<i64> {
    Tensor::from_array(y, Device::CudaSim).unwrap()
}
fn back<T: kiln_runtime::Element, D: ndarray::Dimension>(t: &Tensor<T>) -> ndarray::Array<T, D> {
    assert_eq!(t.device(), Device::CudaSim, "the output stays on the input's device");
    t.to_array::<D>().unwrap()
}

fn binarizer_case<F: Real>() {
    let x = input::<F>("blobs_x");
    let want = expected::<Ix2>("binarizer_blobs.transform");
    let b = Binarizer::params().threshold(1.0).fit(&x).unwrap();
    assert_allclose(&b.transform(&x).unwrap(), &want, 0.0, 0.0, "transform");
    let z = b.transform(&sim(&x)).unwrap();
    assert_allclose(&back::<F, Ix2>(&z), &want, 0.0, 0.0, "cuda-sim transform");
    assert_allclose(&Binarizer::params().threshold(1.0).fit_transform(&x).unwrap(), &want, 0.0, 0.0, "fit_transform");
}

#[test]
fn binarizer_matches_scikit_learn() {
    binarizer_case::<f64>();
    binarizer_case::<f32>();
}

/// scikit-learn's `test_binarizer`: default threshold 0, a threshold of 2, negative values.
#[test]
fn binarizer_scikit_learn_cases() {
    let x = array![[1.0f64, 0.0, 5.0], [2.0, 3.0, -1.0]];
    let b = Binarizer::params().threshold(2.0).fit(&x).unwrap();
    let z = b.transform(&x).unwrap();
    assert_eq!(z.sum(), 2.0);
    assert_eq!(z.iter().filter(|&&v| v == 0.0).count(), 4);
    let z = Binarizer::params().fit(&x).unwrap().transform(&x).unwrap();
    assert_eq!(z.iter().filter(|&&v| v == 0.0).count(), 2);
    assert_eq!(z.iter().filter(|&&v| v > 4.0).count(), 0);
    // Values equal to the threshold map to 0; -0.5 > -0.5 is false.
    let x = array![[-0.5f32, 0.0, 0.5]];
    let z = Binarizer::params().threshold(-0.5).fit(&x).unwrap().transform(&x).unwrap();
    assert_eq!(z, array![[0.0f32, 1.0, 1.0]]);
    assert_eq!(Binarizer::params().fit(&x).unwrap().n_features_in(), 3);
}

#[test]
fn binarizer_rejects_bad_input() {
    let x = array![[1.0f64, f64::NAN]];
    assert!(matches!(Binarizer::params().fit(&x), Err(EstimatorError::NonFinite { .. })));
    let b = Binarizer::params().fit(&array![[1.0f64, 2.0]]).unwrap();
    let e = b.transform(&array![[1.0f64, 2.0, 3.0]]).unwrap_err();
    assert_eq!(e.to_string(), "X has 3 features, but Binarizer is expecting 2 features as input");
}

fn kernel_centerer_case<F: Real>() {
    let (k, kt) = (input::<F>("kernel_fit"), input::<F>("kernel_test"));
    let fx = "kernel_centerer_blobs";
    let tol = rtol::<F>();
    // Centered kernel entries cancel O(|K|) terms to values near zero: an absolute tolerance
    // of the inputs' scale times the type's rounding.
    let atol = k.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs())) * 8.0 * F::UNIT_ROUNDOFF;
    let kc = KernelCenterer::params().fit(&k).unwrap();
    assert_allclose(kc.k_fit_rows(), &expected::<Ix1>(&format!("{fx}.K_fit_rows_")), tol, atol, "K_fit_rows_");
    let all = expected::<Ix0>(&format!("{fx}.K_fit_all_")).into_scalar();
    assert!((kc.k_fit_all().to_f64() - all).abs() <= atol + tol * all.abs(), "K_fit_all_");
    let want = expected::<Ix2>(&format!("{fx}.transform"));
    assert_allclose(&kc.transform(&kt).unwrap(), &want, tol, atol, "transform");
    let want_fit = expected::<Ix2>(&format!("{fx}.fit_transform"));
    assert_allclose(&KernelCenterer::params().fit_transform(&k).unwrap(), &want_fit, tol, atol, "fit_transform");

    let kd = KernelCenterer::params().fit(&sim(&k)).unwrap();
    assert_eq!(kd.k_fit_rows().device(), Device::CudaSim);
    assert_allclose(&back::<F, Ix2>(&kd.transform(&sim(&kt)).unwrap()), &want, tol, atol, "cuda-sim transform");
}

#[test]
fn kernel_centerer_matches_scikit_learn() {
    kernel_centerer_case::<f64>();
    kernel_centerer_case::<f32>();
}

/// scikit-learn's `test_center_kernel`: centering a linear kernel equals the kernel of
/// centered data, on the training kernel and on a test kernel.
#[test]
fn kernel_centerer_centers_like_centered_features() {
    let x = input::<f64>("blobs_x").slice(ndarray::s![..30, ..]).to_owned();
    let xt = input::<f64>("blobs_x").slice(ndarray::s![30..45, ..]).to_owned();
    let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
    let (xc, xtc) = (&x - &mean, &xt - &mean);
    let kc = KernelCenterer::params().fit(&x.dot(&x.t())).unwrap();
    let got = kc.transform(&x.dot(&x.t())).unwrap();
    assert_allclose(&got, &xc.dot(&xc.t()), 1e-9, 1e-9, "centered training kernel");
    let got = kc.transform(&xt.dot(&x.t())).unwrap();
    assert_allclose(&got, &xtc.dot(&xc.t()), 1e-9, 1e-9, "centered test kernel");
}

#[test]
fn kernel_centerer_rejects_non_square_kernels() {
    let e = KernelCenterer::params().fit(&Array2::<f64>::zeros((3, 4))).unwrap_err();
    assert_eq!(e.to_string(), "kernel matrix must be a square matrix. input is a 3x4 matrix.");
    let kc = KernelCenterer::params().fit(&Array2::<f64>::eye(3)).unwrap();
    assert!(matches!(kc.transform(&Array2::<f64>::zeros((2, 4))), Err(EstimatorError::FeatureCountMismatch { .. })));
}

#[test]
fn label_encoder_matches_scikit_learn() {
    let y = ints::<Ix1>("input_labels_sparse");
    let codes = ints::<Ix1>("input_label_codes");
    let fx = "label_encoder_sparse";
    let le = LabelEncoder::params().fit(&y).unwrap();
    assert_eq!(le.classes(), &ints::<Ix1>(&format!("{fx}.classes_")));
    let want = ints::<Ix1>(&format!("{fx}.transform"));
    assert_eq!(le.transform(&y).unwrap(), want);
    assert_eq!(LabelEncoder::params().fit_transform(&y).unwrap(), want);
    let want_inv = ints::<Ix1>(&format!("{fx}.inverse_transform"));
    assert_eq!(le.inverse_transform(&codes).unwrap(), want_inv);

    let ld = LabelEncoder::params().fit(&sim1(&y)).unwrap();
    assert_eq!(ld.classes().device(), Device::CudaSim);
    assert_eq!(back::<i64, Ix1>(&ld.transform(&sim1(&y)).unwrap()), want);
    assert_eq!(back::<i64, Ix1>(&ld.inverse_transform(&sim1(&codes)).unwrap()), want_inv);
}

/// scikit-learn's `test_label_encoder` (int64) and `test_label_encoder_negative_ints`.
#[test]
fn label_encoder_scikit_learn_cases() {
    let y = array![2i64, 1, 3, 1, 3];
    let le = LabelEncoder::params().fit(&y).unwrap();
    assert_eq!(le.classes(), &array![1, 2, 3]);
    assert_eq!(le.transform(&y).unwrap(), array![1, 0, 2, 0, 2]);
    assert_eq!(le.inverse_transform(&array![1, 0, 2, 0, 2]).unwrap(), y);
    assert!(le.transform(&array![4i64]).unwrap_err().to_string().contains("unseen labels"));

    let le = LabelEncoder::params().fit(&array![1i64, 1, 4, 5, -1, 0]).unwrap();
    assert_eq!(le.classes(), &array![-1, 0, 1, 4, 5]);
    assert_eq!(le.transform(&array![0i64, 1, 4, 4, 5, -1, -1]).unwrap(), array![1, 2, 3, 3, 4, 0, 0]);
    assert_eq!(le.inverse_transform(&array![1i64, 2, 3, 3, 4, 0, 0]).unwrap(), array![0, 1, 4, 4, 5, -1, -1]);
    assert!(le.transform(&array![0i64, 6]).is_err());
}

/// scikit-learn's `test_label_encoder_errors` and `test_label_encoder_empty_array`.
#[test]
fn label_encoder_errors_and_empty_input() {
    let le = LabelEncoder::params().fit(&array![1i64, 2, 3, -1, 1]).unwrap();
    let e = le.inverse_transform(&array![-2i64]).unwrap_err();
    assert_eq!(e.to_string(), "y contains previously unseen labels: [-2]");
    let e = le.inverse_transform(&array![-2i64, 4, -3, -4, 4]).unwrap_err();
    assert_eq!(e.to_string(), "y contains previously unseen labels: [-4, -3, -2, 4]");
    let e = le.transform(&array![7i64, 1, 0, 7]).unwrap_err();
    assert_eq!(e.to_string(), "y contains previously unseen labels: [0, 7]");
    let ld = LabelEncoder::params().fit(&sim1(&array![1i64, 2, 3, -1, 1])).unwrap();
    let e = ld.transform(&sim1(&array![7i64, 1])).unwrap_err();
    assert_eq!(e.to_string(), "y contains previously unseen labels: [7]");
    let e = ld.inverse_transform(&sim1(&array![4i64, 1])).unwrap_err();
    assert_eq!(e.to_string(), "y contains previously unseen labels: [4]");
    // A model fitted on host labels refuses device labels (a typed error, no panic).
    assert!(matches!(le.transform(&sim1(&array![1i64])), Err(EstimatorError::Kernel(_))));
    let empty = Array1::<i64>::zeros(0);
    assert_eq!(le.transform(&empty).unwrap().len(), 0);
    assert_eq!(le.inverse_transform(&empty).unwrap().len(), 0);
    // Fitted on nothing: no classes, so every label is unseen.
    let none = LabelEncoder::params().fit(&empty).unwrap();
    assert_eq!(none.classes().len(), 0);
    assert!(none.transform(&array![1i64]).is_err());
    assert!(none.inverse_transform(&array![0i64]).is_err());
}

fn label_binarizer_case(fx: &str, y: &Array1<i64>, neg: i64, pos: i64) {
    let scores = input::<f64>("label_scores");
    let lb = LabelBinarizer::params().neg_label(neg).pos_label(pos).fit(y).unwrap();
    assert_eq!(lb.classes(), &ints::<Ix1>(&format!("{fx}.classes_")), "{fx} classes_");
    let want = ints::<Ix2>(&format!("{fx}.transform"));
    let z = lb.transform(y).unwrap();
    assert_eq!(z, want, "{fx} transform");
    let cols = z.ncols();
    let s = scores.slice(ndarray::s![.., ..cols]).to_owned();
    assert_eq!(lb.inverse_transform(&z.mapv(|v| v as f64)).unwrap(), ints::<Ix1>(&format!("{fx}.inverse_transform")));
    let want_s = ints::<Ix1>(&format!("{fx}.inverse_transform_scores"));
    assert_eq!(lb.inverse_transform(&s).unwrap(), want_s, "{fx} scores");
    assert_eq!(lb.inverse_transform(&s.mapv(|v| v as f32)).unwrap(), want_s, "{fx} f32 scores");
    let want_t0 = ints::<Ix1>(&format!("{fx}.inverse_transform_scores_t0"));
    assert_eq!(lb.inverse_transform_threshold(&s, 0.0).unwrap(), want_t0, "{fx} threshold 0");

    let ld = LabelBinarizer::params().neg_label(neg).pos_label(pos).fit(&sim1(y)).unwrap();
    assert_eq!(back::<i64, Ix2>(&ld.transform(&sim1(y)).unwrap()), want, "{fx} cuda-sim transform");
    assert_eq!(back::<i64, Ix1>(&ld.inverse_transform(&sim(&s)).unwrap()), want_s, "{fx} cuda-sim inverse");
}

#[test]
fn label_binarizer_matches_scikit_learn() {
    let binary = ints::<Ix1>("input_labels_binary");
    let multi = ints::<Ix1>("input_labels_sparse");
    label_binarizer_case("label_binarizer_binary", &binary, 0, 1);
    label_binarizer_case("label_binarizer_binary_m1_2", &binary, -1, 2);
    label_binarizer_case("label_binarizer_multi", &multi, 0, 1);
    label_binarizer_case("label_binarizer_multi_m2_5", &multi, -2, 5);
}

/// scikit-learn's `test_label_binarizer` (integer labels): one class gives a column of the
/// negative label, two classes one column, more one column per class; and
/// `test_label_binarizer_unseen_labels`: unseen labels get rows of the negative label.
#[test]
fn label_binarizer_scikit_learn_cases() {
    let lb = LabelBinarizer::params().fit(&array![7i64, 7, 7, 7]).unwrap();
    let got = lb.transform(&array![7i64, 7, 7, 7]).unwrap();
    assert_eq!(got, array![[0i64], [0], [0], [0]]);
    assert_eq!(lb.inverse_transform(&got.mapv(|v| v as f64)).unwrap(), array![7, 7, 7, 7]);

    let y = array![0i64, 1, 1, 0];
    let lb = LabelBinarizer::params().fit(&y).unwrap();
    assert_eq!(lb.y_type(), TargetType::Binary);
    assert_eq!(lb.transform(&y).unwrap(), array![[0i64], [1], [1], [0]]);
    let to_invert = array![[1.0f64, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]];
    assert_eq!(lb.inverse_transform(&to_invert).unwrap(), y);

    let y = array![3i64, 2, 1, 2, 0];
    let lb = LabelBinarizer::params().fit(&y).unwrap();
    assert_eq!(lb.y_type(), TargetType::Multiclass);
    let want = array![[0i64, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]];
    assert_eq!(lb.transform(&y).unwrap(), want);
    assert_eq!(lb.inverse_transform(&want.mapv(|v| v as f64)).unwrap(), y);

    let lb = LabelBinarizer::params().fit(&array![2i64, 4, 5]).unwrap();
    let got = lb.transform(&array![1i64, 2, 3, 4, 5, 6]).unwrap();
    assert_eq!(got, array![[0i64, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]);
    // Two classes but three distinct labels given: scikit-learn's layout is one column per class.
    let lb = LabelBinarizer::params().fit(&array![1i64, 2]).unwrap();
    assert_eq!(lb.transform(&array![1i64, 2, 3]).unwrap(), array![[1i64, 0], [0, 1], [0, 0]]);
}

/// scikit-learn's `test_label_binarizer_set_label_encoding`: `pos_label = 0` and custom labels.
#[test]
fn label_binarizer_custom_labels() {
    let y = array![0i64, 1, 1, 0];
    let lb = LabelBinarizer::params().neg_label(-2).pos_label(0).fit(&y).unwrap();
    let got = lb.transform(&y).unwrap();
    assert_eq!(got, array![[-2i64], [0], [0], [-2]]);
    assert_eq!(lb.inverse_transform(&got.mapv(|v| v as f64)).unwrap(), y);

    let y = array![3i64, 2, 1, 2, 0];
    let lb = LabelBinarizer::params().neg_label(-2).pos_label(2).fit(&y).unwrap();
    let got = lb.transform(&y).unwrap();
    let want = array![[-2i64, -2, -2, 2], [-2, -2, 2, -2], [-2, 2, -2, -2], [-2, -2, 2, -2], [2, -2, -2, -2]];
    assert_eq!(got, want);
    assert_eq!(lb.inverse_transform(&got.mapv(|v| v as f64)).unwrap(), y);
}

/// scikit-learn's `test_label_binarizer_errors` (the cases integer labels can express).
#[test]
fn label_binarizer_errors() {
    let y = array![0i64, 1, 0, 1];
    for (neg, pos) in [(2, 1), (2, 2)] {
        let e = LabelBinarizer::params().neg_label(neg).pos_label(pos).fit(&y).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the 'neg_label' parameter of LabelBinarizer must be strictly less than pos_label={pos}; got {neg}"
            )
        );
    }
    let e = LabelBinarizer::params().fit(&Array1::<i64>::zeros(0)).unwrap_err();
    assert_eq!(e.to_string(), "y has 0 samples");
    let lb = LabelBinarizer::params().fit(&y).unwrap();
    let e = lb.inverse_transform(&array![[1.0f64, 2.0, 3.0], [2.0, 1.0, 3.0]]).unwrap_err();
    assert_eq!(e.to_string(), "output_type='binary', but y.shape = (2, 3)");
    let one = LabelBinarizer::params().fit(&array![4i64]).unwrap();
    assert!(one.inverse_transform(&array![[1.0f64, 0.0]]).is_err(), "two columns, one class");
}
