//! Nystroem: parity with scikit-learn (fixtures from `cargo xtask fixtures`) for every kernel,
//! in f64 and f32, on the default device and on the CUDA simulator, and scikit-learn's own
//! tests (`tests/test_kernel_approximation.py`: `test_nystroem_approximation`,
//! `test_nystroem_default_parameters`, `test_nystroem_singular_kernel`,
//! `test_nystroem_poly_kernel_params`).

use crate::common::{assert_allclose, expected, input, ints, rtol};
use kiln_estimators::prelude::*;
use ndarray::{Array2, Ix1, Ix2};

fn case<F: Real>(fx: &str, params: NystroemParams, device: bool) {
    let x = input::<F>("blobs_x");
    let indices = ints::<Ix1>(&format!("{fx}.component_indices_"));
    let (comp, norm, z) = if device {
        let xt = Tensor::from_array(&x, Device::CudaSim).unwrap();
        let m = params.fit(&xt).unwrap();
        assert_eq!(m.component_indices(), &indices, "{fx} component_indices_");
        assert_eq!(m.normalization().device(), Device::CudaSim, "the model stays on the data's device");
        let z = m.transform(&xt).unwrap();
        assert_eq!(z.device(), Device::CudaSim);
        let back = |t: &Tensor<F>| t.to_array::<Ix2>().unwrap();
        (back(m.components()), back(m.normalization()), back(&z))
    } else {
        let m = params.fit(&x).unwrap();
        assert_eq!(m.component_indices(), &indices, "{fx} component_indices_");
        let z = m.transform(&x).unwrap();
        assert_allclose(&params.fit_transform(&x).unwrap(), &z.mapv(|v| v.to_f64()), 0.0, 0.0, "fit_transform");
        (m.components().clone(), m.normalization().clone(), z)
    };
    let tol = rtol::<F>();
    // The components are rows of X: exact, up to X's own rounding to F.
    let cw = expected::<Ix2>(&format!("{fx}.components_"));
    assert_allclose(&comp, &cw, F::UNIT_ROUNDOFF, 0.0, &format!("{fx} components_"));
    // Entries of the normalization and the features cancel to near zero: the absolute
    // tolerance is rtol times the largest entry.
    let nw = expected::<Ix2>(&format!("{fx}.normalization_"));
    let zw = expected::<Ix2>(&format!("{fx}.transform"));
    let big = |a: &Array2<f64>| a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_allclose(&norm, &nw, tol, tol * big(&nw), &format!("{fx} normalization_"));
    assert_allclose(&z, &zw, tol, tol * big(&zw), &format!("{fx} transform"));
}

/// Each fixture with its parameters.
fn fixtures() -> Vec<(&'static str, NystroemParams)> {
    let p = Nystroem::params;
    vec![
        ("nystroem_default_blobs", p()),
        ("nystroem_rbf_blobs", p().kernel(Kernel::Rbf).gamma(0.5).n_components(50)),
        ("nystroem_poly_blobs", p().kernel(Kernel::Poly).degree(2.0).gamma(0.05).coef0(1.0).n_components(15)),
        ("nystroem_sigmoid_blobs", p().kernel(Kernel::Sigmoid).gamma(0.01).coef0(0.5).n_components(10)),
        ("nystroem_cosine_blobs", p().kernel(Kernel::Cosine).n_components(5)),
        ("nystroem_linear_blobs", p().kernel(Kernel::Linear).n_components(5)),
        ("nystroem_laplacian_blobs", p().kernel(Kernel::Laplacian).gamma(0.2).n_components(40)),
        ("nystroem_all_samples_blobs", p().kernel(Kernel::Rbf).gamma(0.5).n_components(300).seed(7)),
    ]
}

#[test]
fn nystroem_matches_scikit_learn() {
    for (fx, params) in fixtures() {
        case::<f64>(fx, params, false);
        case::<f32>(fx, params, false);
    }
}

#[test]
fn nystroem_matches_scikit_learn_on_cuda_sim() {
    for (fx, params) in fixtures() {
        case::<f64>(fx, params, true);
        case::<f32>(fx, params, true);
    }
}

/// scikit-learn's `test_nystroem_approximation` / `test_nystroem_default_parameters`: with
/// every sample a component, the features' inner products are the exact kernel.
#[test]
fn nystroem_with_all_samples_is_exact() {
    let x = input::<f64>("blobs_x").slice(ndarray::s![..40, ..]).to_owned();
    for (kernel, gamma) in [(Kernel::Rbf, 0.3), (Kernel::Laplacian, 0.3)] {
        let m = Nystroem::params().kernel(kernel).gamma(gamma).n_components(40).fit(&x).unwrap();
        let z = m.transform(&x).unwrap();
        let k = z.dot(&z.t());
        let exact = Array2::from_shape_fn((40, 40), |(i, j)| {
            let (a, b) = (x.row(i), x.row(j));
            let d: f64 = match kernel {
                Kernel::Rbf => a.iter().zip(b.iter()).map(|(p, q)| (p - q) * (p - q)).sum(),
                _ => a.iter().zip(b.iter()).map(|(p, q)| (p - q).abs()).sum(),
            };
            (-gamma * d).exp()
        });
        assert_allclose(&k, &exact, 1e-8, 1e-8, "z z^T against the exact kernel");
    }
}

/// scikit-learn's `test_nystroem_poly_kernel_params`: a polynomial kernel of degree 3.1 and
/// coef0 0.1 on positive data (10 x 4), every sample a component, is reproduced exactly.
#[test]
fn nystroem_poly_kernel_params() {
    let x = input::<f64>("blobs_x").slice(ndarray::s![..10, ..4]).mapv(f64::abs);
    let m = Nystroem::params().kernel(Kernel::Poly).degree(3.1).coef0(0.1).n_components(10).fit(&x).unwrap();
    let z = m.transform(&x).unwrap();
    let exact = x.dot(&x.t()).mapv(|v| (v / 4.0 + 0.1).powf(3.1));
    assert_allclose(&z.dot(&z.t()), &exact, 1e-7, 0.0, "z z^T against the polynomial kernel");
}

/// scikit-learn's `test_nystroem_singular_kernel`: a kernel matrix of repeated samples is
/// singular; the features stay finite.
#[test]
fn nystroem_singular_kernel_stays_finite() {
    let row = input::<f64>("blobs_x").row(0).to_owned();
    let x = Array2::from_shape_fn((10, 5), |(_, j)| row[j]);
    let m = Nystroem::params().kernel(Kernel::Rbf).n_components(10).fit(&x).unwrap();
    assert!(m.transform(&x).unwrap().iter().all(|v| v.is_finite()));
}

/// More components than samples: every sample is used, as scikit-learn does after its warning.
#[test]
fn nystroem_caps_components_at_samples() {
    let x = input::<f64>("blobs_x").slice(ndarray::s![..7, ..]).to_owned();
    let m = Nystroem::params().n_components(100).fit(&x).unwrap();
    assert_eq!(m.component_indices().len(), 7);
    assert_eq!(m.transform(&x).unwrap().dim(), (7, 7));
}

#[test]
fn nystroem_rejects_bad_parameters() {
    let x = input::<f64>("blobs_x");
    let msg = |p: NystroemParams| p.fit(&x).unwrap_err().to_string();
    assert_eq!(
        msg(Nystroem::params().n_components(0)),
        "the 'n_components' parameter of Nystroem must be an int in the range [1, inf); got 0"
    );
    assert_eq!(
        msg(Nystroem::params().gamma(-1.0)),
        "the 'gamma' parameter of Nystroem must be a float in the range [0.0, inf) or None; got -1"
    );
    assert_eq!(
        msg(Nystroem::params().degree(0.5)),
        "the 'degree' parameter of Nystroem must be a float in the range [1.0, inf) or None; got 0.5"
    );
    assert!(msg(Nystroem::params().coef0(f64::NAN)).contains("'coef0'"));
    let m = Nystroem::params().n_components(5).fit(&x).unwrap();
    let e = m.transform(&Array2::<f64>::zeros((2, 3))).unwrap_err();
    assert_eq!(e.to_string(), "X has 3 features, but Nystroem is expecting 5 features as input");
}
