//! Bad input to every estimator is a typed error worded like scikit-learn's, never a panic
//! and never a silent result: NaN and ±infinity in X at fit and after it (transform,
//! inverse_transform, predict, predict_proba), empty X, y of the wrong length, another feature
//! count than at fit time, too few samples or classes, and invalid hyper-parameters. In f32 and
//! f64, on host arrays, and for a few estimators through tensors on the CUDA simulator (the
//! device path errs the same way). Also: the cross-validation splitters name themselves in
//! their errors.
//!
//! Regression: transform / predict of every estimator but KMeans used to pass NaN and infinity
//! straight through after a good fit, and `PolynomialFeatures` with a huge degree looped until
//! memory ran out.

use kiln_estimators::model_selection::{KFold, StratifiedKFold};
use kiln_estimators::prelude::*;
use kiln_estimators::Result;
use ndarray::{array, Array1, Array2};

/// Six samples, three features (rank 3; two classes for the classifier, two clusters).
fn data<F: Real>() -> Array2<F> {
    array![[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 2.0, 0.0], [3.0, 1.0, 4.0], [4.0, 3.0, 1.0], [5.0, 2.0, 3.0]]
        .mapv(F::from_f64)
}

/// Regression targets for the first `n` samples of [`data`].
fn targets<F: Real>(n: usize) -> Array1<F> {
    Array1::from_iter((0..n).map(|i| F::from_f64(1.0 + 1.5 * i as f64 - 0.25 * (i % 2) as f64)))
}

/// Class labels for the first `n` samples of [`data`]: three of class 0, then class 1.
fn labels(n: usize) -> Array1<i64> {
    Array1::from_iter((0..n).map(|i| i64::from(i >= 3)))
}

/// `n x d` from [`data`] (rows and columns repeated as needed).
fn sized<F: Real>(n: usize, d: usize) -> Array2<F> {
    let x = data::<F>();
    Array2::from_shape_fn((n, d), |(i, j)| x[[i % 6, j % 3]])
}

/// X with non-finite values planted: NaN, +inf, -inf, and +inf and -inf in one column (whose
/// sum is NaN, not infinite). Each with a name for messages.
fn poisoned<F: Real>(x: &Array2<F>) -> Vec<(&'static str, Array2<F>)> {
    let (n, d) = x.dim();
    let plant = |cells: &[(usize, usize, f64)]| {
        let mut bad = x.clone();
        for &(i, j, v) in cells {
            bad[[i % n, j % d]] = F::from_f64(v);
        }
        bad
    };
    vec![
        ("NaN", plant(&[(0, 0, f64::NAN)])),
        ("+inf", plant(&[(3, 1, f64::INFINITY)])),
        ("-inf", plant(&[(n - 1, d - 1, f64::NEG_INFINITY)])),
        ("+inf and -inf in one column", plant(&[(1, 1, f64::INFINITY), (4, 1, f64::NEG_INFINITY)])),
    ]
}

/// The error of a call that must fail (`what` says which call, for the message).
fn err<T>(r: Result<T>, what: &str) -> EstimatorError {
    match r {
        Ok(_) => panic!("{what}: accepted bad input"),
        Err(e) => e,
    }
}

/// scikit-learn: "Input X contains NaN." / "Input X contains infinity ...".
fn assert_nonfinite(e: &EstimatorError, what: &str) {
    assert!(matches!(e, EstimatorError::NonFinite { what: "X" }), "{what}: {e:?}");
    let msg = e.to_string();
    assert!(msg.contains("X") && msg.contains("NaN") && msg.contains("infinity"), "{what}: {msg}");
}

/// scikit-learn: "Found array with 0 sample(s) (shape=(0, 3)) while a minimum of 1 is required
/// by StandardScaler."
fn assert_empty(e: &EstimatorError, estimator: &str, n: usize, d: usize, what: &str) {
    match e {
        EstimatorError::EmptyInput { estimator: got, n_samples, n_features, .. } => {
            assert_eq!((*got, *n_samples, *n_features), (estimator, n, d), "{what}: {e}");
        }
        _ => panic!("{what}: {e:?}"),
    }
    let msg = e.to_string();
    let count = if n == 0 || d > 0 { format!("{n} sample(s)") } else { format!("{d} feature(s)") };
    assert!(msg.contains(&count) && msg.contains("minimum") && msg.contains(estimator), "{what}: {msg}");
}

/// scikit-learn: "X has 4 features, but StandardScaler is expecting 3 features as input."
fn assert_features(e: &EstimatorError, estimator: &str, expected: usize, got: usize, what: &str) {
    match e {
        EstimatorError::FeatureCountMismatch { estimator: name, expected: exp, got: g } => {
            assert_eq!((*name, *exp, *g), (estimator, expected, got), "{what}: {e}");
        }
        _ => panic!("{what}: {e:?}"),
    }
    assert_eq!(
        e.to_string(),
        format!("X has {got} features, but {estimator} is expecting {expected} features as input"),
        "{what}"
    );
}

/// scikit-learn: "The 'alpha' parameter of Ridge must be a float in the range [0.0, inf). Got
/// -1.0 instead."
fn assert_param(e: &EstimatorError, estimator: &str, name: &str, what: &str) {
    match e {
        EstimatorError::InvalidParameter { estimator: est, name: got, .. } => {
            assert_eq!((*est, *got), (estimator, name), "{what}: {e}");
        }
        _ => panic!("{what}: {e:?}"),
    }
    let msg = e.to_string();
    assert!(msg.contains(&format!("'{name}' parameter of {estimator} must be")), "{what}: {msg}");
}

/// scikit-learn: "Found input variables with inconsistent numbers of samples: [6, 5]".
fn assert_inconsistent(e: &EstimatorError, n: usize, got: usize, what: &str) {
    assert!(matches!(e, EstimatorError::Shape(_)), "{what}: {e:?}");
    let msg = e.to_string();
    assert!(msg.contains("inconsistent numbers of samples"), "{what}: {msg}");
    assert!(msg.contains(&format!("X has {n}, y has {got}")), "{what}: {msg}");
}

/// What one estimator is checked through: its name in messages, the fewest samples it fits,
/// how host arrays become its input (themselves, or tensors on a device), its fit on such input
/// (supervised ones build their y for the rows given), and what it does after fitting
/// (transform, predict, ...), each with the number of columns it takes.
struct Estimator<'a, F, X, M> {
    name: &'static str,
    min_samples: usize,
    input: &'a dyn Fn(&Array2<F>) -> X,
    fit: &'a dyn Fn(&X) -> Result<M>,
    after: Vec<(&'static str, usize, &'a dyn Fn(&M, &X) -> Result<()>)>,
}

/// One entry of [`Estimator::after`].
fn call<'a, M, X>(
    method: &'static str,
    columns: usize,
    f: &'a dyn Fn(&M, &X) -> Result<()>,
) -> (&'static str, usize, &'a dyn Fn(&M, &X) -> Result<()>) {
    (method, columns, f)
}

/// The checks every estimator shares.
fn common_cases<F: Real, X: Matrix<F>, M>(est: &Estimator<'_, F, X, M>) {
    let Estimator { name, min_samples, input, fit, .. } = est;
    let x = data::<F>();
    let ty = if std::mem::size_of::<F>() == 4 { "f32" } else { "f64" };
    let device = input(&x).device();
    let at = |what: &str| format!("{name} ({ty} on {device:?}) {what}");

    // Non-finite X at fit.
    for (bad, xb) in poisoned(&x) {
        assert_nonfinite(&err(fit(&input(&xb)), &at(&format!("fit with {bad}"))), &at(&format!("fit with {bad}")));
    }
    // Empty X at fit: no rows, no columns, fewer rows than the estimator needs.
    let e = err(fit(&input(&sized::<F>(0, 3))), &at("fit with 0 rows"));
    assert_empty(&e, name, 0, 3, &at("fit with 0 rows"));
    let e = err(fit(&input(&sized::<F>(6, 0))), &at("fit with 0 columns"));
    assert_empty(&e, name, 6, 0, &at("fit with 0 columns"));
    if *min_samples > 1 {
        let n = min_samples - 1;
        assert_empty(&err(fit(&input(&sized::<F>(n, 3))), &at("fit with too few rows")), name, n, 3, &at("few rows"));
    }

    // After a good fit: every method rejects non-finite input and another column count, and
    // still works on good input.
    let model = fit(&input(&x)).unwrap_or_else(|e| panic!("{}: {e}", at("fit")));
    for (method, d, call) in &est.after {
        let good = sized::<F>(6, *d);
        call(&model, &input(&good)).unwrap_or_else(|e| panic!("{}: {e}", at(method)));
        for (bad, xb) in poisoned(&good) {
            let what = at(&format!("{method} with {bad}"));
            assert_nonfinite(&err(call(&model, &input(&xb)), &what), &what);
        }
        for other in [d + 1, d - 1] {
            let what = at(&format!("{method} with {other} columns"));
            assert_features(&err(call(&model, &input(&sized::<F>(4, other))), &what), name, *d, other, &what);
        }
    }
}

/// Host arrays as they are.
fn host<F: Real>(x: &Array2<F>) -> Array2<F> {
    x.clone()
}

/// Host arrays as tensors on the CUDA simulator.
fn sim<F: Real>(x: &Array2<F>) -> Tensor<F> {
    Tensor::from_array(x, &Device::CudaSim).unwrap()
}

/// The rows of `x`, for a supervised fit that builds its y to match.
fn rows<F: Real, X: Matrix<F>>(x: &X) -> usize {
    x.dims().map_or(0, |(n, _)| n)
}

// ---------------------------------------------------------------------------------------------
// Preprocessing.

fn standard_scaler<F: Real, X: Matrix<F>>(input: &dyn Fn(&Array2<F>) -> X) {
    common_cases(&Estimator {
        name: "StandardScaler",
        min_samples: 1,
        input,
        fit: &|x: &X| StandardScaler::params().fit(x),
        after: vec![
            call("transform", 3, &|m: &StandardScaler<F, X::Storage>, x: &X| m.transform(x).map(drop)),
            call("inverse_transform", 3, &|m: &StandardScaler<F, X::Storage>, x: &X| m.inverse_transform(x).map(drop)),
        ],
    });
    // fit_transform checks X once, in the fit: non-finite X is still an error.
    for (bad, xb) in poisoned(&data::<F>()) {
        let what = format!("StandardScaler fit_transform with {bad}");
        assert_nonfinite(&err(StandardScaler::params().fit_transform(&input(&xb)), &what), &what);
        let what = format!("StandardScaler(with_mean=false) fit_transform with {bad}");
        assert_nonfinite(&err(StandardScaler::params().with_mean(false).fit_transform(&input(&xb)), &what), &what);
    }
    // No invalid hyper-parameter is expressible: `with_mean` and `with_std` are booleans.
}

#[test]
fn standard_scaler_bad_input() {
    standard_scaler::<f32, _>(&host::<f32>);
    standard_scaler::<f64, _>(&host::<f64>);
    standard_scaler::<f32, _>(&sim::<f32>);
    standard_scaler::<f64, _>(&sim::<f64>);
}

#[test]
fn standard_scaler_finite_values_whose_sum_overflows_are_not_infinite() {
    // The fit clears X through its column means; a mean that overflows f32 from finite values
    // must not be called infinite.
    let huge = array![[3e38f32, 1.0], [3e38, 2.0], [1.0, 4.0]];
    assert!(StandardScaler::params().fit(&huge).is_ok());
}

fn min_max_scaler<F: Real>() {
    common_cases(&Estimator {
        name: "MinMaxScaler",
        min_samples: 1,
        input: &host::<F>,
        fit: &|x: &Array2<F>| MinMaxScaler::params().fit(x),
        after: vec![
            call("transform", 3, &|m: &MinMaxScaler<F, Host>, x: &Array2<F>| m.transform(x).map(drop)),
            call("inverse_transform", 3, &|m: &MinMaxScaler<F, Host>, x: &Array2<F>| m.inverse_transform(x).map(drop)),
        ],
    });
    let x = data::<F>();
    let (xb, what) = (&poisoned(&x)[0].1, "MinMaxScaler fit_transform with NaN");
    assert_nonfinite(&err(MinMaxScaler::params().fit_transform(xb), what), what);
    // scikit-learn: "Minimum of desired feature range must be smaller than maximum."
    for (lo, hi) in [(1.0, 0.0), (0.5, 0.5), (f64::NAN, 1.0), (0.0, f64::INFINITY)] {
        let what = format!("MinMaxScaler feature_range ({lo}, {hi})");
        let e = err(MinMaxScaler::params().feature_range(lo, hi).fit(&x), &what);
        assert_param(&e, "MinMaxScaler", "feature_range", &what);
        assert!(e.to_string().contains("min smaller than max"), "{e}");
    }
}

#[test]
fn min_max_scaler_bad_input() {
    min_max_scaler::<f32>();
    min_max_scaler::<f64>();
}

fn max_abs_scaler<F: Real>() {
    common_cases(&Estimator {
        name: "MaxAbsScaler",
        min_samples: 1,
        input: &host::<F>,
        fit: &|x: &Array2<F>| MaxAbsScaler::params().fit(x),
        after: vec![
            call("transform", 3, &|m: &MaxAbsScaler<F, Host>, x: &Array2<F>| m.transform(x).map(drop)),
            call("inverse_transform", 3, &|m: &MaxAbsScaler<F, Host>, x: &Array2<F>| m.inverse_transform(x).map(drop)),
        ],
    });
    let (xb, what) = (&poisoned(&data::<F>())[2].1, "MaxAbsScaler fit_transform with -inf");
    assert_nonfinite(&err(MaxAbsScaler::params().fit_transform(xb), what), what);
    // MaxAbsScaler has no hyper-parameters.
}

#[test]
fn max_abs_scaler_bad_input() {
    max_abs_scaler::<f32>();
    max_abs_scaler::<f64>();
}

fn normalizer<F: Real, X: Matrix<F>>(input: &dyn Fn(&Array2<F>) -> X) {
    for norm in [Norm::L1, Norm::L2, Norm::Max] {
        common_cases(&Estimator {
            name: "Normalizer",
            min_samples: 1,
            input,
            fit: &|x: &X| Normalizer::params().norm(norm).fit(x),
            after: vec![call("transform", 3, &|m: &Normalizer, x: &X| m.transform::<F, X>(x).map(drop))],
        });
    }
    for (bad, xb) in poisoned(&data::<F>()) {
        let what = format!("Normalizer fit_transform with {bad}");
        assert_nonfinite(&err(Normalizer::params().fit_transform(&input(&xb)), &what), &what);
    }
    // `norm` is an enum: an invalid norm cannot be expressed.
}

#[test]
fn normalizer_bad_input() {
    normalizer::<f32, _>(&host::<f32>);
    normalizer::<f64, _>(&host::<f64>);
    normalizer::<f64, _>(&sim::<f64>);
}

fn polynomial_features<F: Real>() {
    for (interaction_only, include_bias) in [(false, true), (true, false)] {
        let params = PolynomialFeatures::params().interaction_only(interaction_only).include_bias(include_bias);
        common_cases(&Estimator {
            name: "PolynomialFeatures",
            min_samples: 1,
            input: &host::<F>,
            fit: &|x: &Array2<F>| params.fit(x),
            after: vec![call("transform", 3, &|m: &PolynomialFeatures<F, Host>, x: &Array2<F>| {
                m.transform(x).map(drop)
            })],
        });
    }
    let x = data::<F>();
    let (xb, what) = (&poisoned(&x)[1].1, "PolynomialFeatures fit_transform with +inf");
    assert_nonfinite(&err(PolynomialFeatures::params().fit_transform(xb), what), what);

    // scikit-learn: "Setting degree to zero and include_bias to False would result in an empty
    // output array."
    let what = "PolynomialFeatures degree 0 without bias";
    let e = err(PolynomialFeatures::params().degree(0).include_bias(false).fit(&x), what);
    assert_param(&e, "PolynomialFeatures", "degree", what);
    assert!(e.to_string().contains("empty output"), "{e}");
    // Degree 0 with the bias is valid (one column of ones), as in scikit-learn.
    assert_eq!(PolynomialFeatures::params().degree(0).fit(&x).unwrap().n_output_features(), 1);
    // scikit-learn: "The output that would result from the current configuration would have
    // ... features which is too large to be indexed". This used to loop until memory ran out.
    for degree in [usize::MAX, 1 << 40] {
        let what = format!("PolynomialFeatures degree {degree}");
        let e = err(PolynomialFeatures::params().degree(degree).fit(&x), &what);
        assert_param(&e, "PolynomialFeatures", "degree", &what);
        assert!(e.to_string().contains("too many output features"), "{e}");
    }
    // Products of distinct features stop at n_features factors, so any degree is fine then.
    let all = PolynomialFeatures::params().degree(usize::MAX).interaction_only(true).fit(&x).unwrap();
    assert_eq!(all.n_output_features(), 8, "1 + 3 + 3 + 1 columns");
}

#[test]
fn polynomial_features_bad_input() {
    polynomial_features::<f32>();
    polynomial_features::<f64>();
}

// ---------------------------------------------------------------------------------------------
// Decomposition.

fn pca<F: Real, X: Matrix<F>>(input: &dyn Fn(&Array2<F>) -> X, solver: SvdSolver) {
    let (k, name) = (2, format!("PCA {solver:?}"));
    common_cases(&Estimator {
        name: "PCA",
        min_samples: 2,
        input,
        fit: &|x: &X| Pca::params(k).svd_solver(solver).fit(x),
        after: vec![
            call("transform", 3, &|m: &Pca<F, X::Storage>, x: &X| m.transform(x).map(drop)),
            call("inverse_transform", k, &|m: &Pca<F, X::Storage>, z: &X| m.inverse_transform(z).map(drop)),
        ],
    });
    for (bad, xb) in poisoned(&data::<F>()) {
        let what = format!("{name} fit_transform with {bad}");
        assert_nonfinite(&err(Pca::params(k).svd_solver(solver).fit_transform(&input(&xb)), &what), &what);
    }
    // scikit-learn: "n_components=4 must be between 1 and min(n_samples, n_features)=3 with
    // svd_solver='covariance_eigh'".
    for (n, n_components) in [(6, 0), (6, 4), (2, 3)] {
        let what = format!("{name} n_components {n_components} of {n} x 3");
        let e = err(Pca::params(n_components).svd_solver(solver).fit(&input(&sized::<F>(n, 3))), &what);
        assert_param(&e, "PCA", "n_components", &what);
        assert!(e.to_string().contains(&format!("min(n_samples, n_features)={}", n.min(3))), "{e}");
    }
}

#[test]
fn pca_bad_input() {
    for solver in [SvdSolver::CovarianceEigh, SvdSolver::randomized(0)] {
        pca::<f32, _>(&host::<f32>, solver);
        pca::<f64, _>(&host::<f64>, solver);
    }
    pca::<f32, _>(&sim::<f32>, SvdSolver::CovarianceEigh);
}

// ---------------------------------------------------------------------------------------------
// Linear models.

fn linear_regression<F: Real, X: Matrix<F>, T: Vector<F>>(input: &dyn Fn(&Array2<F>) -> X, y: &dyn Fn(usize) -> T) {
    common_cases(&Estimator {
        name: "LinearRegression",
        min_samples: 1,
        input,
        fit: &|x: &X| LinearRegression::params().fit(x, &y(rows::<F, X>(x))),
        after: vec![call("predict", 3, &|m: &LinearRegression<F, X::Storage>, x: &X| m.predict(x).map(drop))],
    });
    let x = input(&data::<F>());
    for len in [5, 7] {
        let what = format!("LinearRegression with {len} targets");
        assert_inconsistent(&err(LinearRegression::params().fit(&x, &y(len)), &what), 6, len, &what);
    }
    // LinearRegression has no numeric hyper-parameter (`fit_intercept` is a boolean).
}

fn non_finite_targets<F: Real>() {
    // scikit-learn: "Input y contains NaN."
    let x = data::<F>();
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut t = targets::<F>(6);
        t[2] = F::from_f64(v);
        let e = err(LinearRegression::params().fit(&x, &t), "LinearRegression with a non-finite y");
        assert!(matches!(e, EstimatorError::NonFinite { what: "y" }), "{e:?}");
        assert!(e.to_string().contains("y contains NaN or infinity"), "{e}");
        let e = err(Ridge::params().fit(&x, &t), "Ridge with a non-finite y");
        assert!(matches!(e, EstimatorError::NonFinite { what: "y" }), "{e:?}");
    }
}

#[test]
fn linear_regression_bad_input() {
    linear_regression::<f32, _, _>(&host::<f32>, &targets::<f32>);
    linear_regression::<f64, _, _>(&host::<f64>, &targets::<f64>);
    linear_regression::<f64, _, _>(&sim::<f64>, &|n| Tensor::from_array(&targets::<f64>(n), &Device::CudaSim).unwrap());
    non_finite_targets::<f32>();
    non_finite_targets::<f64>();
}

fn ridge<F: Real>() {
    common_cases(&Estimator {
        name: "Ridge",
        min_samples: 1,
        input: &host::<F>,
        fit: &|x: &Array2<F>| Ridge::params().alpha(0.5).fit(x, &targets::<F>(x.nrows())),
        after: vec![call("predict", 3, &|m: &Ridge<F, Host>, x: &Array2<F>| m.predict(x).map(drop))],
    });
    let x = data::<F>();
    for len in [0, 5, 7] {
        let what = format!("Ridge with {len} targets");
        assert_inconsistent(&err(Ridge::params().fit(&x, &targets::<F>(len)), &what), 6, len, &what);
    }
    // scikit-learn: "The 'alpha' parameter of Ridge must be a float in the range [0.0, inf)."
    for alpha in [-1.0, -f64::MIN_POSITIVE, f64::NAN, f64::INFINITY] {
        let what = format!("Ridge alpha {alpha}");
        let e = err(Ridge::params().alpha(alpha).fit(&x, &targets::<F>(6)), &what);
        assert_param(&e, "Ridge", "alpha", &what);
        assert!(e.to_string().contains("[0.0, inf)"), "{e}");
    }
}

#[test]
fn ridge_bad_input() {
    ridge::<f32>();
    ridge::<f64>();
}

fn logistic_regression<F: Real, X: Matrix<F>, Y: Vector<i64>>(
    input: &dyn Fn(&Array2<F>) -> X,
    y: &dyn Fn(&Array1<i64>) -> Y,
) {
    common_cases(&Estimator {
        name: "LogisticRegression",
        min_samples: 1,
        input,
        fit: &|x: &X| LogisticRegression::params().fit(x, &y(&labels(rows::<F, X>(x)))),
        after: vec![
            call("predict", 3, &|m: &LogisticRegression<F, X::Storage>, x: &X| m.predict(x).map(drop)),
            call("predict_proba", 3, &|m: &LogisticRegression<F, X::Storage>, x: &X| m.predict_proba(x).map(drop)),
        ],
    });
    let x = input(&data::<F>());
    for len in [5, 7] {
        let what = format!("LogisticRegression with {len} labels");
        assert_inconsistent(&err(LogisticRegression::params().fit(&x, &y(&labels(len))), &what), 6, len, &what);
    }
    // scikit-learn: "This solver needs samples of at least 2 classes in the data, but the data
    // contains only one class: 1".
    let e = err(LogisticRegression::params().fit(&x, &y(&Array1::from_elem(6, 1))), "single class");
    assert!(matches!(e, EstimatorError::SingleClass { class: 1 }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("at least 2 classes") && msg.contains("only one class: 1"), "{msg}");
}

fn logistic_regression_params<F: Real>() {
    let (x, y) = (data::<F>(), labels(6));
    // scikit-learn: "The 'C' parameter of LogisticRegression must be a float in the range
    // (0.0, inf]." (and likewise max_iter, tol). C = inf is accepted: no penalty.
    let p = LogisticRegression::params;
    for (params, name) in [
        (p().c(0.0), "C"),
        (p().c(-1.0), "C"),
        (p().c(f64::NAN), "C"),
        (p().max_iter(0), "max_iter"),
        (p().tol(-1e-4), "tol"),
        (p().tol(f64::NAN), "tol"),
    ] {
        let what = format!("LogisticRegression {params:?}");
        assert_param(&err(params.fit(&x, &y), &what), "LogisticRegression", name, &what);
    }
}

#[test]
fn logistic_regression_bad_input() {
    logistic_regression::<f32, _, _>(&host::<f32>, &|y: &Array1<i64>| y.clone());
    logistic_regression::<f64, _, _>(&host::<f64>, &|y: &Array1<i64>| y.clone());
    logistic_regression::<f64, _, _>(&sim::<f64>, &|y| Tensor::from_array(y, &Device::CudaSim).unwrap());
    logistic_regression_params::<f32>();
    logistic_regression_params::<f64>();
}

// ---------------------------------------------------------------------------------------------
// Clustering.

fn kmeans<F: Real, X: Matrix<F>>(input: &dyn Fn(&Array2<F>) -> X) {
    common_cases(&Estimator {
        name: "KMeans",
        min_samples: 1,
        input,
        fit: &|x: &X| KMeans::params(2).fit(x),
        after: vec![
            call("predict", 3, &|m: &KMeans<F, X::Storage>, x: &X| m.predict(x).map(drop)),
            call("transform", 3, &|m: &KMeans<F, X::Storage>, x: &X| m.transform(x).map(drop)),
            call("inertia_of", 3, &|m: &KMeans<F, X::Storage>, x: &X| m.inertia_of(x).map(drop)),
        ],
    });
    // scikit-learn: "n_samples=6 should be >= n_clusters=7."
    let x = input(&data::<F>());
    let e = err(KMeans::params(7).fit(&x), "KMeans n_clusters > n_samples");
    assert!(matches!(e, EstimatorError::TooFewSamples(_)), "{e:?}");
    assert!(e.to_string().contains("n_samples=6 should be >= n_clusters=7"), "{e}");
}

fn kmeans_params<F: Real>() {
    let x = data::<F>();
    // scikit-learn: "The 'n_clusters' parameter of KMeans must be an int in the range [1, inf)."
    let p = KMeans::params;
    for (params, name) in [
        (p(0), "n_clusters"),
        (p(2).n_init(0), "n_init"),
        (p(2).max_iter(0), "max_iter"),
        (p(2).tol(-1.0), "tol"),
        (p(2).tol(f64::NAN), "tol"),
    ] {
        let what = format!("KMeans {params:?}");
        assert_param(&err(params.fit(&x), &what), "KMeans", name, &what);
    }
    // Initial centers of the wrong shape, or not finite.
    let e = err(p(2).init(Array2::<f64>::zeros((3, 3))).fit(&x), "KMeans init of 3 centers");
    assert!(matches!(e, EstimatorError::Shape(_)) && e.to_string().contains("number of clusters 2"), "{e:?}");
    let e = err(p(2).init(Array2::<f64>::zeros((2, 4))).fit(&x), "KMeans init of 4 features");
    assert!(matches!(e, EstimatorError::Shape(_)) && e.to_string().contains("number of features"), "{e:?}");
    let e = err(p(2).init(array![[0.0, f64::NAN, 0.0], [1.0, 1.0, 1.0]]).fit(&x), "KMeans init with NaN");
    assert!(matches!(e, EstimatorError::NonFinite { what: "init" }), "{e:?}");
}

#[test]
fn kmeans_bad_input() {
    kmeans::<f32, _>(&host::<f32>);
    kmeans::<f64, _>(&host::<f64>);
    kmeans::<f64, _>(&sim::<f64>);
    kmeans_params::<f32>();
    kmeans_params::<f64>();
}

// ---------------------------------------------------------------------------------------------
// Model selection.

#[test]
fn splitters_name_themselves_in_errors() {
    // Regression: StratifiedKFold's n_splits error used to name KFold.
    let y = [0i64, 1, 0, 1];
    let what = "StratifiedKFold n_splits 1";
    assert_param(&err(StratifiedKFold::new(1).test_folds(&y), what), "StratifiedKFold", "n_splits", what);
    assert_param(&err(KFold::new(0).test_folds(4), "KFold n_splits 0"), "KFold", "n_splits", "KFold n_splits 0");
    // scikit-learn: "Cannot have number of splits n_splits=5 greater than the number of samples:
    // n_samples=4."
    for e in [err(StratifiedKFold::new(5).test_folds(&y), "5 of 4"), err(KFold::new(5).test_folds(4), "5 of 4")] {
        assert!(matches!(e, EstimatorError::TooFewSamples(_)), "{e:?}");
        assert!(e.to_string().contains("n_splits=5 greater than the number of samples: n_samples=4"), "{e}");
    }
}
