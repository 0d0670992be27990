//! SplineTransformer: parity with scikit-learn (fixtures from `cargo xtask fixtures`) for each
//! knot placement and extrapolation, in f64 and f32, on the default device and on the CUDA
//! simulator, and scikit-learn's own tests (`preprocessing/tests/test_polynomial.py`, the
//! `test_spline_transformer_*` cases that apply to dense output without sample weights).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::prelude::*;
use kiln_estimators::traits::TransformerParams;
use ndarray::{array, s, Array1, Array2, Axis, Ix0, Ix2};

/// Each fixture with its parameters.
fn fixtures() -> Vec<(&'static str, SplineTransformerParams)> {
    let p = SplineTransformer::params;
    vec![
        ("spline_default_reg", p()),
        (
            "spline_quantile_linear_reg",
            p().knots(SplineKnots::Quantile).n_knots(4).degree(2).extrapolation(Extrapolation::Linear),
        ),
        ("spline_periodic_reg", p().n_knots(6).degree(3).extrapolation(Extrapolation::Periodic).include_bias(false)),
        ("spline_continue_reg", p().n_knots(7).degree(1).extrapolation(Extrapolation::Continue)),
        ("spline_degree0_linear_reg", p().n_knots(3).degree(0).extrapolation(Extrapolation::Linear)),
        ("spline_degree1_linear_reg", p().n_knots(4).degree(1).extrapolation(Extrapolation::Linear)),
        ("spline_constant_nobias_reg", p().n_knots(4).degree(2).include_bias(false)),
        ("spline_linear_degree4_reg", p().n_knots(5).degree(4).extrapolation(Extrapolation::Linear)),
    ]
}

fn case<F: Real>(fx: &str, params: &SplineTransformerParams, device: Option<Device>) {
    // scikit-learn's linear extrapolation of degree <= 1 is checked on one feature (see
    // make_fixtures.py: its later features get shifted bounds).
    let x = input::<F>("reg_x");
    let one = fx.starts_with("spline_degree0_linear") || fx.starts_with("spline_degree1_linear");
    let x = if one { x.slice(s![.., ..1]).to_owned() } else { x };
    let fit = x.slice(s![..50, ..]).to_owned();
    let (knots, n_out, z) = match device {
        Some(dev) => {
            let (ft, xt) = (Tensor::from_array(&fit, dev).unwrap(), Tensor::from_array(&x, dev).unwrap());
            let m = params.fit(&ft).unwrap();
            let z = m.transform(&xt).unwrap();
            assert_eq!(z.device(), dev, "{fx}: the output stays on the data's device");
            (m.knots().clone(), m.n_features_out(), z.to_array::<Ix2>().unwrap())
        }
        None => {
            let m = params.fit(&fit).unwrap();
            let z = m.transform(&x).unwrap();
            let again = params.fit_transform(&fit).unwrap();
            assert_allclose(&again, &z.slice(s![..50, ..]).mapv(|v| v.to_f64()), 0.0, 0.0, "fit_transform");
            (m.knots().clone(), m.n_features_out(), z)
        }
    };
    let tol = rtol::<F>();
    assert_eq!(n_out as i64, ints::<Ix0>(&format!("{fx}.n_features_out_")).into_scalar(), "{fx} n_features_out_");
    // Knots come from X's values (rounded to F for f32 data).
    let kw = expected::<Ix2>(&format!("{fx}.knots"));
    assert_allclose(&knots.mapv(F::from_f64), &kw, tol, tol * 1e-2, &format!("{fx} knots"));
    // Basis values lie in [0, 1] inside the range (linear extrapolation grows past it): the
    // absolute tolerance is rtol times the largest entry, as for values that cancel near zero.
    let zw = expected::<Ix2>(&format!("{fx}.transform"));
    if std::mem::size_of::<F>() == 8 {
        // f64 follows scipy's de Boor recursion operation for operation: bit for bit, on every
        // device.
        assert_allclose(&z, &zw, 0.0, 0.0, &format!("{fx} transform"));
        assert_allclose(&knots, &kw, 0.0, 0.0, &format!("{fx} knots"));
    }
    let big = zw.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&z, &zw, tol, tol * big, &format!("{fx} transform"));
}

#[test]
fn spline_transformer_matches_scikit_learn() {
    for (fx, params) in fixtures() {
        case::<f64>(fx, &params, None);
        case::<f32>(fx, &params, None);
    }
}

#[test]
fn spline_transformer_matches_scikit_learn_on_devices() {
    for (fx, params) in fixtures() {
        case::<f64>(fx, &params, Some(Device::CudaSim));
        case::<f32>(fx, &params, Some(Device::CudaSim));
        case::<f64>(fx, &params, Some(Device::Interp));
    }
}

#[test]
fn spline_transformer_continue_equals_constant_inside_the_range() {
    // Inside the fitted range every extrapolation mode but "periodic" evaluates the same
    // polynomial pieces, bit for bit.
    let x = input::<f64>("reg_x");
    let p = SplineTransformer::params;
    let z = p().extrapolation(Extrapolation::Continue).fit(&x).unwrap().transform(&x).unwrap();
    for e in [Extrapolation::Constant, Extrapolation::Linear, Extrapolation::Error] {
        let zw = p().extrapolation(e).fit(&x).unwrap().transform(&x).unwrap();
        assert_allclose(&z, &zw, 0.0, 0.0, "continue vs another mode inside the range");
    }
}

#[test]
fn spline_transformer_input_validation() {
    // test_spline_transformer_input_validation
    let x = array![[1.0f64], [2.0]];
    let p = SplineTransformer::params;
    let msg = |r: Result<SplineTransformer<f64, Host>, EstimatorError>| r.unwrap_err().to_string();
    assert!(msg(p().knots(SplineKnots::Array(array![[1.0]])).fit(&x)).contains("knots.shape[0], must be >= 2"));
    assert!(msg(p().knots(SplineKnots::Array(array![[1.0, 1.0], [2.0, 2.0]])).fit(&x))
        .contains("knots.shape[1] == n_features is violated"));
    assert!(msg(p().knots(SplineKnots::Array(array![[1.0], [0.0]])).fit(&x)).contains("sorted without duplicates"));
    assert!(msg(p().n_knots(1).fit(&x)).contains("'n_knots' parameter of SplineTransformer"));
    assert!(msg(p().n_knots(3).degree(3).extrapolation(Extrapolation::Periodic).fit(&x)).contains("'degree'"));
    assert!(matches!(p().fit(&array![[1.0f64]]), Err(EstimatorError::EmptyInput { .. })));
    assert!(matches!(p().fit(&array![[1.0f64], [f64::NAN]]), Err(EstimatorError::NonFinite { .. })));
    let m = p().fit(&x).unwrap();
    assert!(matches!(m.transform(&array![[1.0f64, 2.0]]), Err(EstimatorError::FeatureCountMismatch { .. })));
}

#[test]
fn spline_transformer_integer_knots() {
    // test_spline_transformer_integer_knots
    let x = Array2::from_shape_fn((10, 2), |(i, j)| (2 * i + j) as f64);
    let knots = array![[0.0, 1.0], [1.0, 2.0], [5.0, 5.0], [11.0, 10.0], [12.0, 11.0]];
    for e in [Extrapolation::Continue, Extrapolation::Periodic] {
        let z = SplineTransformer::params().degree(3).knots(SplineKnots::Array(knots.clone())).extrapolation(e);
        let z = z.fit_transform(&x).unwrap();
        assert_eq!(z.nrows(), 10);
        assert!(z.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn spline_transformer_unity_decomposition() {
    // test_spline_transformer_unity_decomposition
    let x = Array1::linspace(0.0f64, 1.0, 100);
    let mut train: Vec<f64> = vec![0.0];
    train.extend(x.iter().step_by(2));
    train.push(1.0);
    let train = Array2::from_shape_vec((train.len(), 1), train).unwrap();
    let test = Array2::from_shape_vec((50, 1), x.iter().skip(1).step_by(2).copied().collect()).unwrap();
    for degree in 1..5 {
        for n_knots in 3..5 {
            for knots in [SplineKnots::Uniform, SplineKnots::Quantile] {
                for e in [Extrapolation::Constant, Extrapolation::Periodic] {
                    let n_knots = if e == Extrapolation::Periodic { n_knots + degree } else { n_knots };
                    let p = SplineTransformer::params().n_knots(n_knots).degree(degree).knots(knots.clone());
                    let m = p.extrapolation(e).fit(&train).unwrap();
                    for xs in [&train, &test] {
                        let sums = m.transform(xs).unwrap().sum_axis(Axis(1));
                        assert_allclose(&sums, &Array1::ones(xs.nrows()), 1e-7, 0.0, "rows sum to 1");
                    }
                }
            }
        }
    }
}

#[test]
fn spline_transformer_linear_regression() {
    // test_spline_transformer_linear_regression
    let x = Array2::from_shape_vec((100, 1), Array1::linspace(0.0f64, 10.0, 100).to_vec()).unwrap();
    let y = x.column(0).mapv(|v| v.sin() + 2.0);
    for (bias, intercept) in [(true, false), (false, true)] {
        let z = SplineTransformer::params().n_knots(15).degree(3).include_bias(bias).fit_transform(&x).unwrap();
        let ols = LinearRegression::params().fit_intercept(intercept).fit(&z, &y).unwrap();
        assert_allclose(&ols.predict(&z).unwrap(), &y, 1e-3, 0.0, "a sine through splines");
    }
}

#[test]
fn spline_transformer_get_base_knot_positions() {
    // test_spline_transformer_get_base_knot_positions (the cases without sample_weight): the
    // base knots are the extended knots' rows degree .. degree + n_knots.
    let x = array![[0.0f64, 2.0], [0.0, 2.0], [2.0, 2.0], [3.0, 3.0], [4.0, 6.0], [5.0, 8.0], [6.0, 14.0]];
    let cases = [
        (SplineKnots::Uniform, 3, array![[0.0, 2.0], [3.0, 8.0], [6.0, 14.0]]),
        (SplineKnots::Uniform, 4, array![[0.0, 2.0], [2.0, 6.0], [4.0, 10.0], [6.0, 14.0]]),
        (SplineKnots::Quantile, 3, array![[0.0, 2.0], [3.0, 3.0], [6.0, 14.0]]),
    ];
    for (knots, n_knots, want) in cases {
        let m = SplineTransformer::params().knots(knots).n_knots(n_knots).fit(&x).unwrap();
        let base = m.knots().slice(s![.., 3..3 + n_knots]).t().to_owned();
        assert_allclose(&base, &want, 1e-12, 0.0, "base knots");
    }
}

#[test]
fn spline_transformer_periodic_splines_periodicity() {
    // test_spline_transformer_periodic_splines_periodicity
    let x = Array2::from_shape_vec((101, 1), Array1::linspace(0.0f64, 10.0, 101).to_vec()).unwrap();
    let p = |k: Array2<f64>| {
        SplineTransformer::params().degree(3).extrapolation(Extrapolation::Periodic).knots(SplineKnots::Array(k))
    };
    let z1 = p(array![[0.0], [1.0], [3.0], [4.0], [5.0], [8.0]]).fit_transform(&x).unwrap();
    let z2 = p(array![[1.0], [3.0], [4.0], [5.0], [8.0], [9.0]]).fit_transform(&x).unwrap();
    let z2 = z2.select(Axis(1), &[4, 0, 1, 2, 3]);
    assert_allclose(&z1, &z2, 1e-7, 1e-12, "shifted knots permute the bases");
}

#[test]
fn spline_transformer_periodic_splines_smoothness() {
    // test_spline_transformer_periodic_splines_smoothness: no jump at the period's ends (the
    // first differences stay small everywhere).
    let x = Array2::from_shape_vec((10_000, 1), Array1::linspace(-2.0f64, 10.0, 10_000).to_vec()).unwrap();
    for degree in [3, 5] {
        let knots = SplineKnots::Array(array![[0.0], [1.0], [3.0], [4.0], [5.0], [8.0]]);
        let p = SplineTransformer::params().degree(degree).extrapolation(Extrapolation::Periodic).knots(knots);
        let z = p.fit_transform(&x).unwrap();
        let dz = &z.slice(s![1.., ..]) - &z.slice(s![..-1, ..]);
        let max = dz.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(max < 0.01, "degree {degree}: largest step {max}");
    }
}

#[test]
fn spline_transformer_extrapolation() {
    // test_spline_transformer_extrapolation (the "constant", "linear" and "error" checks).
    let x = Array2::from_shape_vec((5, 1), vec![1.0f64, 2.0, 3.0, 4.0, 5.0]).unwrap();
    let out = array![[-1.0f64], [7.0]];
    let p = SplineTransformer::params().n_knots(4).degree(2);
    // Constant: the bases at the ends.
    let m = p.clone().extrapolation(Extrapolation::Constant).fit(&x).unwrap();
    let ends = m.transform(&array![[1.0f64], [5.0]]).unwrap();
    assert_allclose(&m.transform(&out).unwrap(), &ends, 0.0, 0.0, "constant extrapolation");
    // Linear: a straight line through the ends' values and slopes, so equal steps give equal
    // differences.
    let m = p.clone().extrapolation(Extrapolation::Linear).fit(&x).unwrap();
    let z = m.transform(&array![[-3.0f64], [-2.0], [-1.0], [7.0], [8.0], [9.0]]).unwrap();
    let d1 = &z.row(1) - &z.row(0);
    let d2 = &z.row(2) - &z.row(1);
    assert_allclose(&d1, &d2.mapv(|v| v), 1e-9, 1e-12, "linear below");
    let d1 = &z.row(4) - &z.row(3);
    let d2 = &z.row(5) - &z.row(4);
    assert_allclose(&d1, &d2.mapv(|v| v), 1e-9, 1e-12, "linear above");
    // Error: data outside the knots is refused, data inside is transformed.
    let m = p.extrapolation(Extrapolation::Error).fit(&x).unwrap();
    let e = m.transform(&out).unwrap_err().to_string();
    assert!(e.contains("beyond the limits of the knots"), "{e}");
    assert!(m.transform(&x).is_ok());
}

#[test]
fn spline_transformer_n_features_out() {
    // test_spline_transformer_n_features_out
    let x = Array2::from_shape_vec((10, 1), Array1::linspace(0.0f64, 1.0, 10).to_vec()).unwrap();
    let modes = [
        Extrapolation::Error,
        Extrapolation::Constant,
        Extrapolation::Linear,
        Extrapolation::Continue,
        Extrapolation::Periodic,
    ];
    for n_knots in [5, 10] {
        for bias in [true, false] {
            for degree in [3, 4] {
                for e in modes {
                    let p = SplineTransformer::params().n_knots(n_knots).degree(degree).include_bias(bias);
                    let m = p.extrapolation(e).fit(&x).unwrap();
                    assert_eq!(m.transform(&x).unwrap().ncols(), m.n_features_out());
                    let per = if e == Extrapolation::Periodic { n_knots - 1 } else { n_knots + degree - 1 };
                    assert_eq!(m.n_features_out(), per - usize::from(!bias));
                }
            }
        }
    }
}

#[test]
fn spline_transformer_kbindiscretizer() {
    // test_spline_transformer_kbindiscretizer: degree 0 with uniform knots is a one-hot
    // encoding of the uniform bins.
    let x = Array2::from_shape_fn((200, 1), |(i, _)| ((i * 37) % 101) as f64 / 7.0);
    let n_bins = 5;
    let m = SplineTransformer::params().n_knots(n_bins + 1).degree(0).fit(&x).unwrap();
    let z = m.transform(&x).unwrap();
    // The bin edges are the base knots (degree 0 adds none); the last bin is closed.
    let edges = m.knots().row(0).to_owned();
    assert_allclose(&edges, &Array1::linspace(0.0, 100.0 / 7.0, n_bins + 1), 1e-15, 0.0, "uniform bin edges");
    for (i, row) in z.rows().into_iter().enumerate() {
        let bin = (1..n_bins).filter(|&b| edges[b] <= x[[i, 0]]).count();
        let want: Array1<f64> = (0..n_bins).map(|b| f64::from(u8::from(b == bin))).collect();
        assert_eq!(row.to_owned(), want, "row {i}");
    }
}

#[test]
fn spline_transformer_in_a_pipeline_step() {
    // The host-array face used by Pipeline and the searches.
    let x = input::<f64>("reg_x");
    let p = SplineTransformer::params().n_knots(6);
    let (_, z) = TransformerParams::<f64>::fit_transform_dyn(&p, &x).unwrap();
    assert_allclose(&z, &p.fit(&x).unwrap().transform(&x).unwrap(), 0.0, 0.0, "fit_transform_dyn");
}

#[test]
fn spline_transformer_huge_parameters_are_errors() {
    // A degree or knot count whose tables cannot be counted used to overflow `n_knots +
    // degree - 1` (a panic in debug builds) or abort on allocation.
    let x = array![[1.0f64], [2.0]];
    for p in [SplineTransformer::params().degree(usize::MAX), SplineTransformer::params().n_knots(usize::MAX / 2)] {
        assert!(matches!(p.fit(&x), Err(EstimatorError::OutOfMemory { .. })));
    }
}

/// scikit-learn's `test_spline_transformer_periodic_linear_regression` (its two cases: a bias
/// column or an intercept, one constant term either way): periodic splines (20 knots, degree 3) and least squares fit
/// `sin(2 pi x) - sin(8 pi x) + 3` on [0, 1] to 1e-2, and the predictions on [-1, 2] repeat with
/// period 1.
#[test]
fn test_spline_transformer_periodic_linear_regression() {
    let f = |x: f64| (2.0 * std::f64::consts::PI * x).sin() - (8.0 * std::f64::consts::PI * x).sin() + 3.0;
    let x = Array2::from_shape_fn((101, 1), |(i, _)| i as f64 / 100.0);
    let t: Array1<f64> = x.column(0).mapv(f);
    let wide = Array2::from_shape_fn((301, 1), |(i, _)| -1.0 + i as f64 / 100.0);
    for (bias, intercept) in [(true, false), (false, true)] {
        let spl = SplineTransformer::params()
            .n_knots(20)
            .degree(3)
            .include_bias(bias)
            .extrapolation(Extrapolation::Periodic)
            .fit(&x)
            .unwrap();
        let ols = LinearRegression::params().fit_intercept(intercept).fit(&spl.transform(&x).unwrap(), &t).unwrap();
        let pred = ols.predict(&spl.transform(&wide).unwrap()).unwrap();
        let want = wide.column(0).mapv(f);
        assert_allclose(&pred, &want, 0.01, 0.01, &format!("bias {bias} intercept {intercept}"));
        let (a, b) = (pred.slice(s![0..100]).to_owned(), pred.slice(s![100..200]).to_owned());
        assert_allclose(&a, &b, 1e-3, 0.0, &format!("periodicity, bias {bias} intercept {intercept}"));
    }
}

/// The value at `x` of B-spline basis function `i` of degree `k` on `knots` (Cox-de Boor).
fn bspline_basis(knots: &[f64], i: usize, k: usize, x: f64) -> f64 {
    if k == 0 {
        return if knots[i] <= x && x < knots[i + 1] { 1.0 } else { 0.0 };
    }
    let left = (x - knots[i]) / (knots[i + k] - knots[i]) * bspline_basis(knots, i, k - 1, x);
    let right = (knots[i + k + 1] - x) / (knots[i + k + 1] - knots[i + 1]) * bspline_basis(knots, i + 1, k - 1, x);
    left + right
}

/// scikit-learn's `test_spline_transformer_periodic_spline_backport`: periodic extrapolation
/// with the knots -1, 0, 1 and degree 2 is scipy's periodic `BSpline` on the knots -3..3 whose
/// four basis functions alternate between the two output columns (here by Cox-de Boor, `x`
/// wrapped into the period [-1, 1)).
#[test]
fn test_spline_transformer_periodic_spline_backport() {
    let x = Array2::from_shape_fn((10, 1), |(i, _)| -2.0 + 5.5 * i as f64 / 9.0);
    let m = SplineTransformer::params()
        .degree(2)
        .extrapolation(Extrapolation::Periodic)
        .knots(SplineKnots::Array(array![[-1.0], [0.0], [1.0]]))
        .fit(&x)
        .unwrap();
    let got = m.transform(&x).unwrap();
    let knots: Vec<f64> = (-3..=3).map(f64::from).collect();
    let want = Array2::from_shape_fn((10, 2), |(r, c)| {
        let v = x[[r, 0]];
        let w = (v + 1.0).rem_euclid(2.0) - 1.0;
        bspline_basis(&knots, c, 2, w) + bspline_basis(&knots, c + 2, 2, w)
    });
    assert_allclose(&got, &want, 1e-12, 1e-14, "periodic backport");
}
