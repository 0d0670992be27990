//! EmpiricalCovariance, ShrunkCovariance, LedoitWolf and OAS: parity with scikit-learn (fixtures from
//! `cargo xtask fixtures`) in f64 and f32, on the default device and on the CUDA simulator, and
//! scikit-learn's own tests (`covariance/tests/test_covariance.py`: `test_covariance`,
//! `test_shrunk_covariance`,
//! `test_ledoit_wolf`, `test_ledoit_wolf_small`, `test_oas`, the cases without the
//! `empirical_covariance` / `ledoit_wolf` / `oas` functions).

use crate::common::{assert_allclose, expected, input, rtol};
use kiln_estimators::prelude::*;
use ndarray::{array, s, Array2, Ix0, Ix1, Ix2};

/// Which estimator a fixture holds.
#[derive(Clone, Copy)]
enum Kind {
    Empirical,
    Shrunk(f64),
    LedoitWolf,
    Oas,
}

/// What the three fitted types share, read back on the host.
struct Got {
    location: Vec<f64>,
    covariance: Array2<f64>,
    precision: Array2<f64>,
    mahalanobis: Vec<f64>,
    score: f64,
    shrinkage: Option<f64>,
}

fn host2<F: Real>(t: &Tensor<F>) -> Array2<f64> {
    t.to_array::<Ix2>().unwrap().mapv(|v| v.to_f64())
}
fn host1<F: Real>(t: &Tensor<F>) -> Vec<f64> {
    t.to_array::<Ix1>().unwrap().iter().map(|v| v.to_f64()).collect()
}

/// What a fitted model computes, read back on the host: `$host` converts a matrix attribute
/// (`$host1` a vector), `$shrinkage` reads the shrinkage (or gives `None`).
macro_rules! read {
    ($m:expr, $test:expr, $host:expr, $host1:expr, $shrinkage:expr) => {{
        let m = $m;
        Got {
            location: $host1(m.location()),
            covariance: $host(m.covariance()),
            precision: $host(m.precision().unwrap()),
            mahalanobis: $host1(&m.mahalanobis($test).unwrap()),
            score: m.score($test).unwrap(),
            shrinkage: $shrinkage(&m),
        }
    }};
}

/// Fits the estimator of `kind` on `x` (host arrays or tensors, `$host`/`$host1` reading
/// results back) and reads everything with `test`.
macro_rules! fit_kind {
    ($kind:expr, $centered:expr, $x:expr, $test:expr, $host:expr, $host1:expr) => {{
        let (c, x, test) = ($centered, $x, $test);
        match $kind {
            Kind::Empirical => {
                read!(EmpiricalCovariance::params().assume_centered(c).fit(x).unwrap(), test, $host, $host1, |_: &_| {
                    None
                })
            }
            Kind::Shrunk(v) => read!(
                ShrunkCovariance::params().shrinkage(v).assume_centered(c).fit(x).unwrap(),
                test,
                $host,
                $host1,
                |m: &ShrunkCovariance<_, _>| Some(m.shrinkage())
            ),
            Kind::LedoitWolf => {
                read!(LedoitWolf::params().assume_centered(c).fit(x).unwrap(), test, $host, $host1, |m: &LedoitWolf<
                    _,
                    _,
                >| {
                    Some(m.shrinkage())
                })
            }
            Kind::Oas => {
                read!(Oas::params().assume_centered(c).fit(x).unwrap(), test, $host, $host1, |m: &Oas<_, _>| Some(
                    m.shrinkage()
                ))
            }
        }
    }};
}

fn fit_host<F: Real>(kind: Kind, centered: bool, x: &Array2<F>, test: &Array2<F>) -> Got {
    let mat = |a: &Array2<F>| a.mapv(|v| v.to_f64());
    let vec = |a: &ndarray::Array1<F>| a.iter().map(|v| v.to_f64()).collect::<Vec<f64>>();
    fit_kind!(kind, centered, x, test, mat, vec)
}

fn fit_device<F: Real>(kind: Kind, centered: bool, x: &Tensor<F>, test: &Tensor<F>) -> Got {
    let mat = |t: &Tensor<F>| {
        assert_eq!(t.device(), Device::CudaSim, "the model stays on the data's device");
        host2(t)
    };
    fit_kind!(kind, centered, x, test, mat, host1::<F>)
}

fn covariance_case<F: Real>(fx: &str, kind: Kind, data: &str, centered: bool, device: bool) {
    let x = input::<F>(&format!("{data}_x"));
    let half = x.nrows() / 2;
    let (fit, test) = (x.slice(s![..half, ..]).to_owned(), x.slice(s![half.., ..]).to_owned());
    let got = if device {
        let on = |a: &Array2<F>| Tensor::from_array(a, Device::CudaSim).unwrap();
        fit_device(kind, centered, &on(&fit), &on(&test))
    } else {
        fit_host(kind, centered, &fit, &test)
    };
    let tol = rtol::<F>();
    let cov_want = expected::<Ix2>(&format!("{fx}.covariance_"));
    let prec_want = expected::<Ix2>(&format!("{fx}.precision_"));
    // Off-diagonal entries that cancel to near zero carry rounding relative to the diagonal's
    // scale (the sums behind them), which rtol cannot express near 0.
    let scale = |a: &Array2<f64>| a.diag().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (cov_atol, prec_atol) =
        (scale(&cov_want) * 64.0 * F::UNIT_ROUNDOFF, scale(&prec_want) * 64.0 * F::UNIT_ROUNDOFF);
    let loc_want = expected::<Ix1>(&format!("{fx}.location_"));
    let loc_atol = loc_want.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 8.0 * F::UNIT_ROUNDOFF;
    assert_allclose(&ndarray::Array1::from(got.location), &loc_want, tol, loc_atol, &format!("{fx} location_"));
    assert_allclose(&got.covariance, &cov_want, tol, cov_atol, &format!("{fx} covariance_"));
    assert_allclose(&got.precision, &prec_want, tol, prec_atol, &format!("{fx} precision_"));
    let mahal = expected::<Ix1>(&format!("{fx}.mahalanobis"));
    assert_allclose(&ndarray::Array1::from(got.mahalanobis), &mahal, tol, 0.0, &format!("{fx} mahalanobis"));
    let score = expected::<Ix0>(&format!("{fx}.score")).into_scalar();
    assert!((got.score - score).abs() <= tol * score.abs(), "{fx} score {} vs scikit-learn {score}", got.score);
    if let Some(s) = got.shrinkage {
        let want = expected::<Ix0>(&format!("{fx}.shrinkage_")).into_scalar();
        assert!((s - want).abs() <= tol * want.abs(), "{fx} shrinkage_ {s} vs scikit-learn {want}");
    }
}

fn all_cases<F: Real>(device: bool) {
    for (fx, kind, data, centered) in [
        ("empirical_covariance_blobs", Kind::Empirical, "blobs", false),
        ("empirical_covariance_centered_iris", Kind::Empirical, "iris", true),
        ("ledoit_wolf_blobs", Kind::LedoitWolf, "blobs", false),
        ("ledoit_wolf_iris", Kind::LedoitWolf, "iris", false),
        ("ledoit_wolf_centered_reg", Kind::LedoitWolf, "reg", true),
        ("oas_blobs", Kind::Oas, "blobs", false),
        ("oas_iris", Kind::Oas, "iris", false),
        ("oas_centered_reg", Kind::Oas, "reg", true),
        ("shrunk_covariance_blobs", Kind::Shrunk(0.1), "blobs", false),
        ("shrunk_covariance_centered_iris", Kind::Shrunk(0.6), "iris", true),
    ] {
        covariance_case::<F>(fx, kind, data, centered, device);
    }
}

#[test]
fn covariance_estimators_match_scikit_learn() {
    all_cases::<f64>(false);
    all_cases::<f32>(false);
}

#[test]
fn covariance_estimators_match_scikit_learn_on_cuda_sim() {
    all_cases::<f64>(true);
    all_cases::<f32>(true);
}

/// scikit-learn's `test_covariance`: `error_norm`, positive Mahalanobis distances, one feature, one sample
/// (a zero covariance), the integer example, and a zero location with `assume_centered`.
#[test]
fn empirical_covariance_scikit_learn_cases() {
    let x = input::<f64>("reg_x");
    let cov = EmpiricalCovariance::params().fit(&x).unwrap();
    assert!(cov.mahalanobis(&x).unwrap().iter().all(|&d| d > 0.0));
    let x1 = x.slice(s![.., ..1]).to_owned();
    let c1 = EmpiricalCovariance::params().fit(&x1).unwrap();
    let mean = x1.mean().unwrap();
    let var = x1.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / x1.len() as f64;
    assert!((c1.covariance()[[0, 0]] - var).abs() < 1e-12);
    let one = EmpiricalCovariance::params().fit(&array![[0.0f64, 1.0, 2.0, 3.0, 4.0]]).unwrap();
    assert_eq!(one.covariance(), &Array2::<f64>::zeros((5, 5)));
    let int = EmpiricalCovariance::params().fit(&array![[0.0f64, 1.0], [1.0, 0.0]]).unwrap();
    assert_eq!(int.covariance(), &array![[0.25, -0.25], [-0.25, 0.25]]);
    let centered = EmpiricalCovariance::params().assume_centered(true).fit(&x).unwrap();
    assert_eq!(centered.location(), &ndarray::Array1::<f64>::zeros(x.ncols()));
    // A singular covariance: the precision is its pseudo-inverse and the log-likelihood -inf.
    assert_eq!(int.score(&array![[0.0f64, 1.0]]).unwrap(), f64::NEG_INFINITY);
    let p = int.precision().unwrap();
    assert!((p[[0, 0]] - 1.0).abs() < 1e-12 && (p[[0, 1]] + 1.0).abs() < 1e-12, "pinv of [[.25, -.25], [-.25, .25]]");
    // error_norm against the covariance itself is 0 in every norm; against it plus the
    // identity, the Frobenius error is d (1 scaled), the spectral error 1 (1/d scaled).
    let own = cov.covariance().clone();
    let d = own.nrows() as f64;
    for (norm, scaling, squared) in [
        (ErrorNorm::Frobenius, true, true),
        (ErrorNorm::Spectral, true, true),
        (ErrorNorm::Frobenius, false, true),
        (ErrorNorm::Frobenius, true, false),
    ] {
        assert!(cov.error_norm(&own, norm, scaling, squared).unwrap().abs() < 1e-7);
    }
    let shifted = &own + &Array2::<f64>::eye(own.nrows());
    let e = |norm, scaling, squared| cov.error_norm(&shifted, norm, scaling, squared).unwrap();
    assert!((e(ErrorNorm::Frobenius, false, true) - d).abs() < 1e-9);
    assert!((e(ErrorNorm::Frobenius, true, true) - 1.0).abs() < 1e-9);
    assert!((e(ErrorNorm::Frobenius, false, false) - d.sqrt()).abs() < 1e-9);
    assert!((e(ErrorNorm::Spectral, false, true) - 1.0).abs() < 1e-9);
    assert!((e(ErrorNorm::Spectral, true, true) - 1.0 / d).abs() < 1e-9);
    assert!(matches!(
        cov.error_norm(&Array2::zeros((2, 2)), ErrorNorm::Frobenius, true, true),
        Err(EstimatorError::Shape(_))
    ));
    let stored = EmpiricalCovariance::params().store_precision(false).fit(&x).unwrap();
    assert!(stored.precision().is_none());
    assert_eq!(stored.get_precision(), cov.get_precision());
}

/// scikit-learn's `test_ledoit_wolf` and `test_oas`: centering the data first and fitting with
/// `assume_centered` gives the same shrinkage and covariance; one feature gives shrinkage 0 and
/// the mean of squares; the shrinkage lies in [0, 1].
#[test]
fn shrunk_covariance_scikit_learn_cases() {
    let x = input::<f64>("reg_x");
    let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
    let xc = &x - &mean;
    let lw = LedoitWolf::params().fit(&x).unwrap();
    let lwc = LedoitWolf::params().assume_centered(true).fit(&xc).unwrap();
    assert!((lw.shrinkage() - lwc.shrinkage()).abs() < 1e-12);
    assert_allclose(lwc.covariance(), &lw.covariance().to_owned(), 1e-10, 1e-14, "centered LedoitWolf");
    assert!((0.0..=1.0).contains(&lw.shrinkage()));
    let oas = Oas::params().fit(&x).unwrap();
    let oasc = Oas::params().assume_centered(true).fit(&xc).unwrap();
    assert!((oas.shrinkage() - oasc.shrinkage()).abs() < 1e-12);
    assert!((0.0..=1.0).contains(&oas.shrinkage()));

    let x1 = xc.slice(s![.., ..1]).to_owned();
    for (cov, shrinkage) in [
        (LedoitWolf::params().assume_centered(true).fit(&x1).map(|m| (m.covariance().clone(), m.shrinkage())), 0),
        (Oas::params().assume_centered(true).fit(&x1).map(|m| (m.covariance().clone(), m.shrinkage())), 1),
    ] {
        let (cov, s) = cov.unwrap();
        let ms = x1.iter().map(|v| v * v).sum::<f64>() / x1.len() as f64;
        assert_eq!(s, 0.0, "estimator {shrinkage}: one feature is not shrunk");
        assert!((cov[[0, 0]] - ms).abs() < 1e-12);
    }
    // scikit-learn's test_ledoit_wolf_small: the shrinkage is Ledoit and Wolf's formulas
    // computed naively (on centered data, as the diabetes features there are).
    assert!((lw.shrinkage() - naive_ledoit_wolf_shrinkage(&xc)).abs() < 1e-7);
}

/// scikit-learn's `_naive_ledoit_wolf_shrinkage` (section 3.2 of Ledoit and Wolf's paper).
fn naive_ledoit_wolf_shrinkage(x: &Array2<f64>) -> f64 {
    let (n, d) = (x.nrows() as f64, x.ncols() as f64);
    let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
    let xc = x - &mean;
    let emp_cov = xc.t().dot(&xc) / n;
    let mu = emp_cov.diag().sum() / d;
    let mut delta_ = emp_cov.clone();
    delta_.diag_mut().mapv_inplace(|v| v - mu);
    let delta = delta_.mapv(|v| v * v).sum() / d;
    let x2 = x.mapv(|v| v * v);
    let beta_ = 1.0 / (d * n) * (x2.t().dot(&x2) / n - emp_cov.mapv(|v| v * v)).sum();
    beta_.min(delta) / delta
}

/// scikit-learn's `test_shrunk_covariance`: the shrunk covariance is the empirical one shrunk
/// by the given weight (0.5, and 0.1 by default); one feature; no stored precision.
#[test]
fn shrunk_covariance_estimator_cases() {
    let x = input::<f64>("reg_x");
    let emp = EmpiricalCovariance::params().fit(&x).unwrap().covariance().clone();
    let d = emp.nrows() as f64;
    let mu = emp.diag().sum() / d;
    for (s, params) in [(0.5, ShrunkCovariance::params().shrinkage(0.5)), (0.1, ShrunkCovariance::params())] {
        let want = &emp * (1.0 - s) + &(Array2::<f64>::eye(emp.nrows()) * (s * mu));
        let got = params.fit(&x).unwrap();
        assert_eq!(got.shrinkage(), s);
        assert_allclose(got.covariance(), &want, 1e-12, 1e-15, "shrunk covariance_");
    }
    let x1 = x.slice(s![.., ..1]).to_owned();
    let one = ShrunkCovariance::params().shrinkage(0.3).fit(&x1).unwrap();
    let e1 = EmpiricalCovariance::params().fit(&x1).unwrap();
    assert!((one.covariance()[[0, 0]] - e1.covariance()[[0, 0]]).abs() < 1e-12, "one feature: mu is the variance");
    assert!(ShrunkCovariance::params().store_precision(false).fit(&x).unwrap().precision().is_none());
}

#[test]
fn covariance_estimators_reject_bad_input() {
    for s in [-0.1, 1.5, f64::NAN] {
        let e = ShrunkCovariance::params().shrinkage(s).fit(&array![[1.0f64, 2.0]]).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("the 'shrinkage' parameter of ShrunkCovariance must be a float in the range [0, 1]"));
    }
    let e = LedoitWolf::params().block_size(0).fit(&array![[1.0f64, 2.0]]).unwrap_err();
    assert_eq!(e.to_string(), "the 'block_size' parameter of LedoitWolf must be an int in the range [1, inf); got 0");
    let e = Oas::params().fit(&Array2::<f64>::zeros((0, 3))).unwrap_err();
    assert!(matches!(e, EstimatorError::EmptyInput { .. }), "{e}");
    let e = EmpiricalCovariance::params().fit(&array![[1.0f64, f64::INFINITY]]).unwrap_err();
    assert!(matches!(e, EstimatorError::NonFinite { .. }), "{e}");
    let m = EmpiricalCovariance::params().fit(&input::<f64>("iris_x")).unwrap();
    let e = m.mahalanobis(&array![[1.0f64, 2.0]]).unwrap_err();
    assert_eq!(e.to_string(), "X has 2 features, but EmpiricalCovariance is expecting 4 features as input");
    assert!(matches!(m.score(&Array2::<f64>::zeros((0, 4))), Err(EstimatorError::EmptyInput { .. })));
}

/// scikit-learn's `test_ledoit_wolf_large`: on data wider than `block_size` (10 x 20 normal
/// draws) LedoitWolf's covariance is about the identity (to 0 decimals, as scikit-learn's
/// `assert_almost_equal(..., 0)`: within 1.5) and does not depend on the block size.
#[test]
fn test_ledoit_wolf_large() {
    let mut state = 42u64;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    // Box-Muller normal draws.
    let x = Array2::from_shape_fn((10, 20), |_| {
        let (u1, u2) = (uniform(), uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    });
    let cov = LedoitWolf::params().block_size(10).fit(&x).unwrap().covariance().clone();
    let eye = Array2::<f64>::eye(20);
    assert!(cov.iter().zip(eye.iter()).all(|(c, e)| (c - e).abs() < 1.5), "{cov}");
    let cov25 = LedoitWolf::params().block_size(25).fit(&x).unwrap().covariance().clone();
    assert_allclose(&cov25, &cov, 0.0, 1.5e-7, "block_size 25 vs 10");
}

/// scikit-learn's `test_ledoit_wolf_empty_array`: no sample is an error naming "0 sample(s)"
/// (every covariance estimator, and LinearDiscriminantAnalysis with a covariance estimator).
#[test]
fn test_ledoit_wolf_empty_array() {
    let empty = Array2::<f64>::zeros((0, 2));
    let errs = [
        LedoitWolf::params().fit(&empty).unwrap_err(),
        Oas::params().fit(&empty).unwrap_err(),
        EmpiricalCovariance::params().fit(&empty).unwrap_err(),
        ShrunkCovariance::params().fit(&empty).unwrap_err(),
    ];
    for err in errs {
        assert!(matches!(err, EstimatorError::EmptyInput { n_samples: 0, .. }), "{err}");
        assert!(err.to_string().contains("0 sample(s)"), "{err}");
    }
    let lda = LinearDiscriminantAnalysis::params().solver(LdaSolver::Lsqr).covariance_estimator(LedoitWolf::params());
    let err = lda.fit(&empty, &ndarray::Array1::<i64>::zeros(0)).unwrap_err();
    assert!(matches!(err, EstimatorError::EmptyInput { .. }), "{err}");
}
