//! GaussianNB: parity with scikit-learn (fixtures from `cargo xtask fixtures`) in f64 and f32,
//! on the default device and on the CUDA simulator, and scikit-learn's own tests
//! (`tests/test_naive_bayes.py`, the `test_gnb*` cases without sample weights or partial_fit).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::prelude::*;
use ndarray::{array, Array1, Array2, Ix0, Ix1, Ix2};

/// scikit-learn's toy problem of `test_naive_bayes.py`.
fn toy() -> (Array2<f64>, Array1<i64>) {
    let x = array![[-2.0, -1.0], [-1.0, -1.0], [-1.0, -2.0], [1.0, 1.0], [1.0, 2.0], [2.0, 1.0]];
    (x, array![1, 1, 1, 2, 2, 2])
}

fn gnb_case<F: Real>(fx: &str, data: &str, params: GaussianNBParams, device: Option<Device>) {
    let x = input::<F>(&format!("{data}_x"));
    let y = ints::<Ix1>(&format!("input_{data}_y"));
    let tol = rtol::<F>();
    let e1 = |attr: &str| expected::<Ix1>(&format!("{fx}.{attr}"));
    let e2 = |attr: &str| expected::<Ix2>(&format!("{fx}.{attr}"));
    let scalar = |attr: &str| expected::<Ix0>(&format!("{fx}.{attr}")).into_scalar();
    // The joint log-likelihood sums d terms of size up to |jll|: its rounding is relative to
    // the largest magnitude in the row, which the log-softmax carries into log-probabilities
    // near zero.
    let jll_want = e2("predict_joint_log_proba");
    let jll_scale = jll_want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let log_atol = jll_scale * 16.0 * F::UNIT_ROUNDOFF;
    let check = |m: &GaussianNB<F, kiln_estimators::data::Host>, what: &str| {
        assert_eq!(m.classes(), &ints::<Ix1>(&format!("{fx}.classes_")), "{what} classes_");
        assert_allclose(m.class_count(), &e1("class_count_"), 0.0, 0.0, "class_count_");
        assert_allclose(m.class_prior(), &e1("class_prior_"), tol, 0.0, "class_prior_");
        assert_allclose(m.theta(), &e2("theta_"), tol, 0.0, "theta_");
        assert_allclose(m.var(), &e2("var_"), tol, 0.0, "var_");
        let eps = scalar("epsilon_");
        assert!((m.epsilon().to_f64() - eps).abs() <= tol * eps.abs(), "{what} epsilon_ {} vs {eps}", m.epsilon());
    };
    let predict = ints::<Ix1>(&format!("{fx}.predict"));
    match device {
        None => {
            let m = params.fit(&x, &y).unwrap();
            check(&m, fx);
            assert_eq!(m.predict(&x).unwrap(), predict, "{fx} predict");
            assert_allclose(&m.predict_proba(&x).unwrap(), &e2("predict_proba"), tol, 1e-12, "predict_proba");
            assert_allclose(&m.predict_log_proba(&x).unwrap(), &e2("predict_log_proba"), tol, log_atol, "log_proba");
            assert_allclose(&m.predict_joint_log_proba(&x).unwrap(), &jll_want, tol, log_atol, "joint_log_proba");
            assert_eq!(m.score(&x, &y).unwrap(), scalar("score"), "{fx} score");
        }
        Some(dev) => {
            let (xt, yt) = (Tensor::from_array(&x, dev).unwrap(), Tensor::from_array(&y, dev).unwrap());
            let m = params.fit(&xt, &yt).unwrap();
            assert_eq!(m.theta().device(), dev, "the model stays on the data's device");
            assert_allclose(&m.theta().to_array::<Ix2>().unwrap(), &e2("theta_"), tol, 0.0, "device theta_");
            assert_allclose(&m.var().to_array::<Ix2>().unwrap(), &e2("var_"), tol, 0.0, "device var_");
            assert_eq!(m.predict(&xt).unwrap().to_array::<Ix1>().unwrap(), predict, "{fx} device predict");
            let p = m.predict_proba(&xt).unwrap();
            assert_eq!(p.device(), dev);
            assert_allclose(&p.to_array::<Ix2>().unwrap(), &e2("predict_proba"), tol, 1e-12, "device predict_proba");
            let lp = m.predict_log_proba(&xt).unwrap().to_array::<Ix2>().unwrap();
            assert_allclose(&lp, &e2("predict_log_proba"), tol, log_atol, "device log_proba");
            assert_eq!(m.score(&xt, &yt).unwrap(), scalar("score"), "{fx} device score");
        }
    }
}

fn all_cases<F: Real>(device: Option<Device>) {
    gnb_case::<F>("gaussian_nb_iris", "iris", GaussianNB::params(), device);
    gnb_case::<F>("gaussian_nb_clf3", "clf3", GaussianNB::params(), device);
    gnb_case::<F>("gaussian_nb_priors_clf3", "clf3", GaussianNB::params().priors(vec![0.2, 0.5, 0.3]), device);
    gnb_case::<F>("gaussian_nb_smooth_blobs", "blobs", GaussianNB::params().var_smoothing(0.1), device);
}

#[test]
fn gaussian_nb_matches_scikit_learn() {
    all_cases::<f64>(None);
    all_cases::<f32>(None);
}

#[test]
fn gaussian_nb_matches_scikit_learn_on_cuda_sim() {
    all_cases::<f64>(Some(Device::CudaSim));
    all_cases::<f32>(Some(Device::CudaSim));
}

/// scikit-learn's `test_gnb` and `test_gnb_prior`: the toy problem is predicted exactly, the
/// log-probabilities are the log of the probabilities, the priors are the class frequencies.
#[test]
fn gaussian_nb_toy_problem() {
    let (x, y) = toy();
    let m = GaussianNB::params().fit(&x, &y).unwrap();
    assert_eq!(m.predict(&x).unwrap(), y);
    let (p, lp) = (m.predict_proba(&x).unwrap(), m.predict_log_proba(&x).unwrap());
    assert!(p.iter().zip(lp.iter()).all(|(p, lp)| (p.ln() - lp).abs() < 1e-8));
    assert!(m.class_prior().iter().all(|&v| (v - 0.5).abs() < 1e-12));
    assert_eq!(m.score(&x, &y).unwrap(), 1.0);
}

/// scikit-learn's `test_gnb_priors` and `test_gnb_prior_large_bias`.
#[test]
fn gaussian_nb_given_priors() {
    let (x, y) = toy();
    let m = GaussianNB::params().priors(vec![0.3, 0.7]).fit(&x, &y).unwrap();
    let p = m.predict_proba(&array![[-0.1, -0.1]]).unwrap();
    assert!((p[[0, 0]] - 0.825303662161683).abs() < 1e-8 && (p[[0, 1]] - 0.174696337838317).abs() < 1e-8);
    assert_eq!(m.class_prior(), &array![0.3, 0.7]);
    let m = GaussianNB::params().priors(vec![0.01, 0.99]).fit(&x, &y).unwrap();
    assert_eq!(m.predict(&array![[-0.1, -0.1]]).unwrap(), array![2]);
}

/// scikit-learn's `test_gnb_priors_sum_isclose`: priors whose float sum is within `isclose`
/// of 1 (here with a zero prior) are accepted (issue #9633).
#[test]
fn gaussian_nb_priors_sum_isclose() {
    let x = array![
        [-1.0, -1.0],
        [-2.0, -1.0],
        [-3.0, -2.0],
        [-4.0, -5.0],
        [-5.0, -4.0],
        [1.0, 1.0],
        [2.0, 1.0],
        [3.0, 2.0],
        [4.0, 4.0],
        [5.0, 5.0]
    ];
    let priors = vec![0.08, 0.14, 0.03, 0.16, 0.11, 0.16, 0.07, 0.14, 0.11, 0.0];
    let y: Array1<i64> = (1..=10).collect();
    GaussianNB::params().priors(priors).fit(&x, &y).unwrap();
}

/// scikit-learn's `test_gnb_neg_priors`, `test_gnb_wrong_nb_priors`,
/// `test_gnb_prior_greater_one`, and the `var_smoothing` constraint.
#[test]
fn gaussian_nb_rejects_bad_parameters() {
    let (x, y) = toy();
    let msg = |p: GaussianNBParams| p.fit(&x, &y).unwrap_err().to_string();
    assert_eq!(
        msg(GaussianNB::params().priors(vec![-1.0, 2.0])),
        "the 'priors' parameter of GaussianNB must be non-negative; got [-1.0, 2.0]"
    );
    assert_eq!(
        msg(GaussianNB::params().priors(vec![0.25; 4])),
        "the 'priors' parameter of GaussianNB must be one value per class (2 classes); got [0.25, 0.25, 0.25, 0.25]"
    );
    assert_eq!(
        msg(GaussianNB::params().priors(vec![2.0, 1.0])),
        "the 'priors' parameter of GaussianNB must be values whose sum is 1 (sum 3); got [2.0, 1.0]"
    );
    assert_eq!(
        msg(GaussianNB::params().var_smoothing(-1.0)),
        "the 'var_smoothing' parameter of GaussianNB must be a float in the range [0.0, inf); got -1"
    );
    assert!(matches!(GaussianNB::params().fit(&x, &array![1i64, 2]), Err(EstimatorError::Shape(_))));
    let mut bad = x.clone();
    bad[[0, 0]] = f64::NAN;
    assert!(matches!(GaussianNB::params().fit(&bad, &y), Err(EstimatorError::NonFinite { .. })));
    let m = GaussianNB::params().fit(&x, &y).unwrap();
    assert!(matches!(m.predict(&array![[1.0, 2.0, 3.0]]), Err(EstimatorError::FeatureCountMismatch { .. })));
}

/// scikit-learn's `test_gnb_naive_bayes_scale_invariance`: scaling X by 1e-10 or 1e10 does
/// not change the predictions (`epsilon_` scales with the variances).
#[test]
fn gaussian_nb_scale_invariance() {
    let x = input::<f64>("iris_x");
    let y = ints::<Ix1>("input_iris_y");
    let labels: Vec<Array1<i64>> = [1e-10, 1.0, 1e10]
        .iter()
        .map(|f| {
            let xf = x.mapv(|v| v * f);
            GaussianNB::params().fit(&xf, &y).unwrap().predict(&xf).unwrap()
        })
        .collect();
    assert_eq!(labels[0], labels[1]);
    assert_eq!(labels[1], labels[2]);
}

/// A single class fits, as in scikit-learn, and every probability is 1.
#[test]
fn gaussian_nb_single_class() {
    let (x, _) = toy();
    let m = GaussianNB::params().fit(&x, &array![4i64, 4, 4, 4, 4, 4]).unwrap();
    assert_eq!(m.predict_proba(&x).unwrap(), Array2::from_elem((6, 1), 1.0));
    assert_eq!(m.predict(&x).unwrap(), array![4, 4, 4, 4, 4, 4]);
}

/// The attributes of a fixture of `gaussian_nb_weighted_clf3` / `gaussian_nb_partial_iris`.
fn check_updated<F: Real>(fx: &str, m: &GaussianNB<F, kiln_estimators::data::Host>, x: &Array2<F>) {
    let tol = rtol::<F>();
    let e1 = |attr: &str| expected::<Ix1>(&format!("{fx}.{attr}"));
    let e2 = |attr: &str| expected::<Ix2>(&format!("{fx}.{attr}"));
    assert_allclose(m.class_count(), &e1("class_count_"), tol, 0.0, "class_count_");
    assert_allclose(m.class_prior(), &e1("class_prior_"), tol, 0.0, "class_prior_");
    assert_allclose(m.theta(), &e2("theta_"), tol, 0.0, "theta_");
    assert_allclose(m.var(), &e2("var_"), tol, 0.0, "var_");
    let eps = expected::<Ix0>(&format!("{fx}.epsilon_")).into_scalar();
    assert!((m.epsilon().to_f64() - eps).abs() <= tol * eps, "{fx} epsilon_");
    assert_allclose(&m.predict_proba(x).unwrap(), &e2("predict_proba"), tol, 1e-12, "predict_proba");
}

fn weighted_and_partial_case<F: Real>() {
    let (x, y) = (input::<F>("clf3_x"), ints::<Ix1>("input_clf3_y"));
    let w = expected::<Ix1>("input_nb_weights").mapv(F::from_f64);
    let m = GaussianNB::params().fit_weighted(&x, &y, &w).unwrap();
    check_updated("gaussian_nb_weighted_clf3", &m, &x);
    let (xt, yt, wt) = (
        Tensor::from_array(&x, Device::CudaSim).unwrap(),
        Tensor::from_array(&y, Device::CudaSim).unwrap(),
        Tensor::from_array(&w, Device::CudaSim).unwrap(),
    );
    let md = GaussianNB::params().fit_weighted(&xt, &yt, &wt).unwrap();
    let want = expected::<Ix2>("gaussian_nb_weighted_clf3.theta_");
    assert_allclose(&md.theta().to_array::<Ix2>().unwrap(), &want, rtol::<F>(), 0.0, "cuda-sim weighted theta_");

    let (x, y) = (input::<F>("iris_x"), ints::<Ix1>("input_iris_y"));
    let half = |a: usize| -> (Array2<F>, Array1<i64>) {
        let rows: Vec<usize> = (a..150).step_by(2).collect();
        (x.select(ndarray::Axis(0), &rows), y.select(ndarray::Axis(0), &rows))
    };
    let ((x0, y0), (x1, y1)) = (half(0), half(1));
    let mut m = GaussianNB::params().partial_fit(&x0, &y0, &[2, 0, 1]).unwrap();
    m.partial_fit(&x1, &y1).unwrap();
    check_updated("gaussian_nb_partial_iris", &m, &x);
}

#[test]
fn gaussian_nb_weighted_and_partial_fit_match_scikit_learn() {
    weighted_and_partial_case::<f64>();
    weighted_and_partial_case::<f32>();
}

/// scikit-learn's `test_gnb_sample_weight`: unit weights change nothing; two half-weighted
/// partial fits equal one weighted fit; integer weights equal duplicated rows.
#[test]
fn gaussian_nb_sample_weight() {
    let (x, y) = toy();
    let plain = GaussianNB::params().fit(&x, &y).unwrap();
    let ones = GaussianNB::params().fit_weighted(&x, &y, &Array1::from_elem(6, 1.0)).unwrap();
    assert_allclose(ones.theta(), &plain.theta().to_owned(), 1e-12, 0.0, "unit weights theta_");
    assert_allclose(ones.var(), &plain.var().to_owned(), 1e-12, 0.0, "unit weights var_");

    let sw = array![0.3, 0.9, 0.1, 0.7, 0.5, 0.2];
    let full = GaussianNB::params().fit_weighted(&x, &y, &sw).unwrap();
    let halves = sw.mapv(|v| v / 2.0);
    let mut twice = GaussianNB::params().partial_fit_weighted(&x, &y, &[1, 2], &halves).unwrap();
    twice.partial_fit_weighted(&x, &y, &halves).unwrap();
    assert_allclose(twice.theta(), &full.theta().to_owned(), 1e-10, 1e-12, "two half fits theta_");
    assert_allclose(twice.var(), &full.var().to_owned(), 1e-10, 1e-12, "two half fits var_");

    let ind = [0usize, 0, 1, 3, 3, 3, 4, 5, 5, 2, 4];
    let counts = Array1::from_shape_fn(6, |i| ind.iter().filter(|&&j| j == i).count() as f64);
    let dupl = GaussianNB::params().fit(&x.select(ndarray::Axis(0), &ind), &y.select(ndarray::Axis(0), &ind)).unwrap();
    let weighted = GaussianNB::params().fit_weighted(&x, &y, &counts).unwrap();
    // scikit-learn's assert_array_almost_equal (6 decimals): epsilon_ comes from the
    // unweighted variance of X, which duplicating rows changes.
    assert_allclose(weighted.theta(), &dupl.theta().to_owned(), 1e-12, 1e-15, "duplicates theta_");
    assert_allclose(weighted.var(), &dupl.var().to_owned(), 0.0, 1.5e-6, "duplicates var_");
}

/// scikit-learn's `test_gnb_partial_fit` (f64 and f32): one partial fit equals fit; two
/// halves equal fit.
fn partial_fit_case<F: Real>() {
    let (x, y) = toy();
    let x = x.mapv(F::from_f64);
    let tol = rtol::<F>();
    let fit = GaussianNB::params().fit(&x, &y).unwrap();
    let once = GaussianNB::params().partial_fit(&x, &y, &[1, 2]).unwrap();
    let f = |a: &Array2<F>| a.mapv(|v| v.to_f64());
    assert_allclose(once.theta(), &f(fit.theta()), tol, 0.0, "one partial fit theta_");
    assert_allclose(once.var(), &f(fit.var()), tol, 0.0, "one partial fit var_");
    let even: Vec<usize> = vec![0, 2, 4];
    let odd: Vec<usize> = vec![1, 3, 5];
    let (ax, ay) = (ndarray::Axis(0), ndarray::Axis(0));
    let mut two = GaussianNB::params().partial_fit(&x.select(ax, &even), &y.select(ay, &even), &[1, 2]).unwrap();
    two.partial_fit(&x.select(ax, &odd), &y.select(ay, &odd)).unwrap();
    assert_allclose(two.theta(), &f(fit.theta()), tol, 1e-6, "two halves theta_");
    assert_allclose(two.var(), &f(fit.var()), tol, 1e-6, "two halves var_");
    assert_allclose(two.class_prior(), &fit.class_prior().mapv(|v| v.to_f64()), tol, 0.0, "two halves prior");
}

#[test]
fn gaussian_nb_partial_fit() {
    partial_fit_case::<f64>();
    partial_fit_case::<f32>();
}

/// scikit-learn's `test_gnb` (its partial_fit part) and the partial_fit checks: labels outside
/// the initial classes, another feature count, bad weights.
#[test]
fn gaussian_nb_partial_fit_errors() {
    let (x, y) = toy();
    let e = GaussianNB::params().partial_fit(&x, &y, &[0, 1]).unwrap_err();
    assert_eq!(e.to_string(), "the target label(s) [2] in y do not exist in the initial classes [0, 1]");
    let mut m = GaussianNB::params().partial_fit(&x, &y, &[1, 2, 3]).unwrap();
    assert!(matches!(
        m.partial_fit(&array![[1.0, 2.0, 3.0]], &array![1i64]),
        Err(EstimatorError::FeatureCountMismatch { .. })
    ));
    let e = m.partial_fit(&x, &array![1i64, 1, 1, 4, 4, 4]).unwrap_err();
    assert_eq!(e.to_string(), "the target label(s) [4] in y do not exist in the initial classes [1, 2, 3]");
    assert!(matches!(GaussianNB::params().fit_weighted(&x, &y, &array![1.0, 2.0]), Err(EstimatorError::Shape(_))));
    let nan = array![1.0, f64::NAN, 1.0, 1.0, 1.0, 1.0];
    assert!(matches!(GaussianNB::params().fit_weighted(&x, &y, &nan), Err(EstimatorError::NonFinite { .. })));
    // A class never seen yet keeps zero counts until a batch brings it.
    assert_eq!(m.class_count()[2], 0.0);
    m.partial_fit(&array![[0.0, 0.5]], &array![3i64]).unwrap();
    assert_eq!(m.class_count()[2], 1.0);
}

/// scikit-learn's `test_check_accuracy_on_digits`, its GaussianNB part: 10 stratified folds
/// of the digits reach a mean accuracy above 0.77 (above 0.89 with `var_smoothing = 0.1`), and
/// above 0.86 on the 3-versus-8 subset.
#[test]
fn test_check_accuracy_on_digits() {
    use kiln_estimators::model_selection::{cross_val_score, StratifiedKFold};
    let digits = kiln_estimators::datasets::load_digits();
    let (x, y) = (digits.data, digits.target);
    let keep: Vec<usize> = (0..y.len()).filter(|&i| y[i] == 3 || y[i] == 8).collect();
    let (x38, y38) = (x.select(ndarray::Axis(0), &keep), y.select(ndarray::Axis(0), &keep));
    let cv = StratifiedKFold::new(10);
    let mean = |s: Array1<f64>| s.mean().unwrap();
    let all = mean(cross_val_score(&GaussianNB::params(), &x, &y, &cv).unwrap());
    assert!(all > 0.77, "{all}");
    let smoothed = mean(cross_val_score(&GaussianNB::params().var_smoothing(0.1), &x, &y, &cv).unwrap());
    assert!(smoothed > 0.89, "{smoothed}");
    let three_eight = mean(cross_val_score(&GaussianNB::params(), &x38, &y38, &cv).unwrap());
    assert!(three_eight > 0.86, "{three_eight}");
}
