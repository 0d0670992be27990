//! The estimators of issue 17 on `Device::Interp` (kiln's executable definition of every op):
//! each one fitted and applied on interpreter tensors gives the host results, so the same
//! estimator source runs on every device (CudaSim is covered by each estimator's parity tests).

use crate::common::{assert_allclose, input, ints};
use kiln_estimators::prelude::*;
use ndarray::{Array1, Array2, Axis, Ix1, Ix2};

/// Every fifth iris row (30 rows, 3 classes): small enough for the interpreter.
fn data() -> (Array2<f64>, Array1<i64>) {
    let rows: Vec<usize> = (0..150).step_by(5).collect();
    (input::<f64>("iris_x").select(Axis(0), &rows), ints::<Ix1>("input_iris_y").select(Axis(0), &rows))
}

fn on(x: &Array2<f64>) -> Tensor<f64> {
    Tensor::from_array(x, Device::Interp).unwrap()
}
fn on1<T: kiln_runtime::Element>(y: &Array1<T>) -> Tensor<T> {
    Tensor::from_array(y, Device::Interp).unwrap()
}
fn m(t: &Tensor<f64>) -> Array2<f64> {
    assert_eq!(t.device(), Device::Interp, "the result stays on the interpreter");
    t.to_array::<Ix2>().unwrap()
}

#[test]
fn estimators_ii_run_on_the_interpreter() {
    let (x, y) = (data().0, data().1);
    let (xt, yt) = (on(&x), on1(&y));
    let tol = 1e-12;

    let b = Binarizer::params().threshold(3.0).fit(&xt).unwrap();
    assert_eq!(
        m(&b.transform(&xt).unwrap()),
        Binarizer::params().threshold(3.0).fit(&x).unwrap().transform(&x).unwrap()
    );

    let k = x.dot(&x.t());
    let kc = KernelCenterer::params().fit(&on(&k)).unwrap();
    let want = KernelCenterer::params().fit(&k).unwrap().transform(&k).unwrap();
    assert_allclose(&m(&kc.transform(&on(&k)).unwrap()), &want, tol, 1e-10, "KernelCenterer");

    let le = LabelEncoder::params().fit(&yt).unwrap();
    assert_eq!(le.transform(&yt).unwrap().to_array::<Ix1>().unwrap(), y);
    let lb = LabelBinarizer::params().fit(&yt).unwrap();
    let z = lb.transform(&yt).unwrap().to_array::<Ix2>().unwrap();
    assert_eq!(z, LabelBinarizer::params().fit(&y).unwrap().transform(&y).unwrap());

    let g = GaussianNB::params().fit(&xt, &yt).unwrap();
    let gh = GaussianNB::params().fit(&x, &y).unwrap();
    assert_allclose(&m(&g.predict_proba(&xt).unwrap()), &gh.predict_proba(&x).unwrap(), tol, 1e-15, "GaussianNB");

    let lw = LedoitWolf::params().fit(&xt).unwrap();
    let lwh = LedoitWolf::params().fit(&x).unwrap();
    assert_allclose(&m(lw.covariance()), lwh.covariance(), tol, 1e-15, "LedoitWolf covariance_");
    assert!((lw.shrinkage() - lwh.shrinkage()).abs() < 1e-12);

    let p = Nystroem::params().kernel(Kernel::Laplacian).gamma(0.3).n_components(12);
    let n = p.fit(&xt).unwrap();
    assert_allclose(
        &m(&n.transform(&xt).unwrap()),
        &p.fit(&x).unwrap().transform(&x).unwrap(),
        1e-9,
        1e-12,
        "Nystroem",
    );
}
