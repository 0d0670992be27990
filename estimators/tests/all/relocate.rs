//! Fitted models move between devices (`to_device`, `to_host`) and persist (`to_json`, `save`,
//! `load`): a model fitted on one device predicts the same numbers on every other, and after a
//! round trip through JSON; hostile files are typed errors.

use kiln_estimators::datasets::load_iris;
use kiln_estimators::pipeline::Pipeline;
use kiln_estimators::prelude::*;
use kiln_estimators::relocate::FORMAT_VERSION;
use ndarray::{Array, Array1, Array2, Axis, Dimension, Ix1, Ix2};
use serde::de::DeserializeOwned;

const DEVICES: [Device; 3] = [Device::Cpu, Device::Interp, Device::CudaSim];

fn iris() -> (Array2<f64>, Array1<i64>, Array1<f64>) {
    let d = load_iris();
    let reg = d.data.column(3).to_owned();
    let x = d.data.select(Axis(1), &[0, 1, 2]);
    (x, d.target, reg)
}

/// Iris without distance ties, for the neighbours: their order is the same on every device only
/// where no two distances are equal (euclidean distances in scikit-learn's GEMM form round
/// differently on each device, and iris has duplicate rows), so each entry moves by its own
/// step below 1e-3.
fn untied(x: &Array2<f64>) -> Array2<f64> {
    Array2::from_shape_fn(x.dim(), |(i, j)| x[[i, j]] + 1e-3 * ((i * 31 + j * 17) % 97) as f64 / 97.0)
}

fn on<T: kiln_runtime::Element, D: Dimension>(a: &Array<T, D>, d: Device) -> Tensor<T> {
    Tensor::from_array(a, d).unwrap()
}

/// Predictions compared across devices: labels exactly, floats to a relative 1e-9 (devices
/// may order a reduction differently).
trait Close {
    fn close(&self, want: &Self, what: &str);
}
impl<D: Dimension> Close for Array<i64, D> {
    fn close(&self, want: &Self, what: &str) {
        assert_eq!(self, want, "{what}");
    }
}
impl<D: Dimension> Close for Array<f64, D> {
    fn close(&self, want: &Self, what: &str) {
        assert_eq!(self.shape(), want.shape(), "{what}");
        for (g, w) in self.iter().zip(want.iter()) {
            assert!((g - w).abs() <= 1e-9 * (1.0 + w.abs()), "{what}: {g} vs {w}");
        }
    }
}

/// The host model `text` holds, typed like `m` moved to the host.
fn load_like<M: Relocate>(_: &M, text: &str) -> Result<M::At<Host>, EstimatorError>
where
    M::At<Host>: Persist + DeserializeOwned,
{
    <M::At<Host> as Persist>::from_json(text)
}

/// `$fit` is a model fitted on CudaSim tensors; `$call(x)` its prediction or transform. The
/// model moved to every device (and to the host, and back) computes what it computed on
/// CudaSim, and so does the model written as JSON, loaded and moved to the Cpu.
macro_rules! moves_and_persists {
    ($what:literal, $fit:expr, $x:expr, $call:ident, $ix:ty) => {{
        let m = $fit;
        let x = $x;
        let want = m.$call(&on(&x, Device::CudaSim)).unwrap().to_array::<$ix>().unwrap();
        for d in DEVICES {
            let moved = m.to_device(&d).unwrap();
            let got = moved.$call(&on(&x, d)).unwrap();
            assert_eq!(got.device(), d, $what);
            got.to_array::<$ix>().unwrap().close(&want, concat!($what, " moved to a device"));
        }
        let host = m.to_host().unwrap();
        host.$call(&x).unwrap().close(&want, concat!($what, " on the host"));
        let back = host.to_device(&Device::CudaSim).unwrap();
        assert_eq!(back.$call(&on(&x, Device::CudaSim)).unwrap().to_array::<$ix>().unwrap(), want, $what);

        let text = m.to_json().unwrap();
        let loaded = load_like(&m, &text).unwrap();
        // Same device, same attributes: the same bits.
        let again = loaded.to_device(&Device::CudaSim).unwrap();
        assert_eq!(again.$call(&on(&x, Device::CudaSim)).unwrap().to_array::<$ix>().unwrap(), want, $what);
        let cpu = loaded.to_device(&Device::Cpu).unwrap();
        cpu.$call(&on(&x, Device::Cpu)).unwrap().to_array::<$ix>().unwrap().close(&want, concat!($what, " loaded"));
        // Writing the loaded model gives the same text.
        assert_eq!(loaded.to_json().unwrap(), text, $what);
    }};
}

#[test]
fn classifiers_move_between_devices_and_persist() {
    let (x, y, _) = iris();
    let (xs, ys) = (on(&x, Device::CudaSim), on(&y, Device::CudaSim));
    moves_and_persists!("GaussianNB", GaussianNB::params().fit(&xs, &ys).unwrap(), x.clone(), predict, Ix1);
    moves_and_persists!(
        "LinearDiscriminantAnalysis",
        LinearDiscriminantAnalysis::params().fit(&xs, &ys).unwrap(),
        x.clone(),
        predict,
        Ix1
    );
    moves_and_persists!(
        "LogisticRegression",
        LogisticRegression::params().fit(&xs, &ys).unwrap(),
        x.clone(),
        predict_proba,
        Ix2
    );
    moves_and_persists!("RidgeClassifier", RidgeClassifier::params().fit(&xs, &ys).unwrap(), x.clone(), predict, Ix1);
    moves_and_persists!(
        "RidgeClassifierCV",
        RidgeClassifierCV::params().fit(&xs, &ys).unwrap(),
        x.clone(),
        decision_function,
        Ix2
    );
    let xu = untied(&x);
    moves_and_persists!(
        "KNeighborsClassifier",
        KNeighborsClassifier::params(5).fit(&on(&xu, Device::CudaSim), &ys).unwrap(),
        xu.clone(),
        predict_proba,
        Ix2
    );
}

#[test]
fn regressors_move_between_devices_and_persist() {
    let (x, _, r) = iris();
    let (xs, rs) = (on(&x, Device::CudaSim), on(&r, Device::CudaSim));
    moves_and_persists!("LinearRegression", LinearRegression::params().fit(&xs, &rs).unwrap(), x.clone(), predict, Ix1);
    moves_and_persists!("Ridge", Ridge::params().alpha(0.5).fit(&xs, &rs).unwrap(), x.clone(), predict, Ix1);
    moves_and_persists!("RidgeCV", RidgeCV::params().fit(&xs, &rs).unwrap(), x.clone(), predict, Ix1);
    moves_and_persists!("PoissonRegressor", PoissonRegressor::params().fit(&xs, &rs).unwrap(), x.clone(), predict, Ix1);
    let xu = untied(&x);
    moves_and_persists!(
        "KNeighborsRegressor",
        KNeighborsRegressor::params(5).fit(&on(&xu, Device::CudaSim), &rs).unwrap(),
        xu.clone(),
        predict,
        Ix1
    );
}

#[test]
fn transformers_move_between_devices_and_persist() {
    let (x, _, _) = iris();
    let xs = on(&x, Device::CudaSim);
    moves_and_persists!("StandardScaler", StandardScaler::params().fit(&xs).unwrap(), x.clone(), transform, Ix2);
    moves_and_persists!("MinMaxScaler", MinMaxScaler::params().fit(&xs).unwrap(), x.clone(), transform, Ix2);
    moves_and_persists!("MaxAbsScaler", MaxAbsScaler::params().fit(&xs).unwrap(), x.clone(), transform, Ix2);
    moves_and_persists!("Pca", Pca::params(2).fit(&xs).unwrap(), x.clone(), transform, Ix2);
    moves_and_persists!(
        "Nystroem",
        Nystroem::params().n_components(20).seed(0).fit(&xs).unwrap(),
        x.clone(),
        transform,
        Ix2
    );
    moves_and_persists!("SplineTransformer", SplineTransformer::params().fit(&xs).unwrap(), x.clone(), transform, Ix2);
    moves_and_persists!(
        "QuantileTransformer",
        QuantileTransformer::params().n_quantiles(50).fit(&xs).unwrap(),
        x.clone(),
        transform,
        Ix2
    );
    moves_and_persists!(
        "PolynomialFeatures",
        PolynomialFeatures::params().fit(&xs).unwrap(),
        x.clone(),
        transform,
        Ix2
    );
}

#[test]
fn clusterers_and_covariances_move_between_devices_and_persist() {
    let (x, _, _) = iris();
    let xs = on(&x, Device::CudaSim);
    moves_and_persists!("KMeans", KMeans::params(3).seed(0).fit(&xs).unwrap(), x.clone(), predict, Ix1);
    moves_and_persists!(
        "GaussianMixture",
        GaussianMixture::params(2).seed(0).fit(&xs).unwrap(),
        x.clone(),
        predict_proba,
        Ix2
    );
    moves_and_persists!("LedoitWolf", LedoitWolf::params().fit(&xs).unwrap(), x.clone(), mahalanobis, Ix1);
    moves_and_persists!(
        "EmpiricalCovariance",
        EmpiricalCovariance::params().fit(&xs).unwrap(),
        x.clone(),
        mahalanobis,
        Ix1
    );
    let xu = untied(&x);
    let nn = NearestNeighbors::params(5).fit(&on(&xu, Device::CudaSim)).unwrap();
    let want = nn.kneighbors(&on(&xu, Device::CudaSim)).unwrap().1.to_array::<Ix2>().unwrap();
    for d in DEVICES {
        let (_, got) = nn.to_device(&d).unwrap().kneighbors(&on(&xu, d)).unwrap();
        assert_eq!(got.to_array::<Ix2>().unwrap(), want);
    }
    let loaded = load_like(&nn, &nn.to_json().unwrap()).unwrap();
    assert_eq!(loaded.kneighbors(&xu).unwrap().1, want);
}

#[test]
fn encoders_move_between_devices_and_persist() {
    let codes = Array2::from_shape_fn((12, 2), |(i, j)| ((i * (j + 2)) % 4) as i64);
    let cs = on(&codes, Device::CudaSim);
    let enc = OneHotEncoder::params().fit(&cs).unwrap();
    let want: Array2<f64> = enc.transform::<f64, _>(&cs).unwrap().to_array::<Ix2>().unwrap();
    for d in DEVICES {
        let got: Tensor<f64> = enc.to_device(&d).unwrap().transform::<f64, _>(&on(&codes, d)).unwrap();
        assert_eq!(got.device(), d);
        assert_eq!(got.to_array::<Ix2>().unwrap(), want);
    }
    let loaded = load_like(&enc, &enc.to_json().unwrap()).unwrap();
    assert_eq!(loaded.transform::<f64, _>(&codes).unwrap(), want);

    let y = Array1::from(vec![3_i64, 1, 3, 7, 1]);
    let le = LabelEncoder::params().fit(&on(&y, Device::CudaSim)).unwrap();
    let want = le.transform(&on(&y, Device::CudaSim)).unwrap().to_array::<Ix1>().unwrap();
    assert_eq!(want, Array1::from(vec![1_i64, 0, 1, 2, 0]));
    for d in DEVICES {
        let got = le.to_device(&d).unwrap().transform(&on(&y, d)).unwrap();
        assert_eq!(got.device(), d);
        assert_eq!(got.to_array::<Ix1>().unwrap(), want);
    }
    let loaded = load_like(&le, &le.to_json().unwrap()).unwrap();
    assert_eq!(loaded.transform(&y).unwrap(), want);

    let lb = LabelBinarizer::params().fit(&on(&y, Device::CudaSim)).unwrap();
    let want = lb.transform(&on(&y, Device::CudaSim)).unwrap().to_array::<Ix2>().unwrap();
    let moved = lb.to_device(&Device::Cpu).unwrap();
    assert_eq!(moved.transform(&on(&y, Device::Cpu)).unwrap().to_array::<Ix2>().unwrap(), want);
    let loaded = load_like(&lb, &lb.to_json().unwrap()).unwrap();
    assert_eq!(loaded.transform(&y).unwrap(), want);
}

#[test]
fn f32_models_move_and_persist() {
    let (x, y, _) = iris();
    let x32 = x.mapv(|v| v as f32);
    let m = GaussianNB::params().fit(&on(&x32, Device::CudaSim), &on(&y, Device::CudaSim)).unwrap();
    let want = m.predict_proba(&on(&x32, Device::CudaSim)).unwrap().to_array::<Ix2>().unwrap();
    let loaded = load_like(&m, &m.to_json().unwrap()).unwrap();
    assert_eq!(
        loaded
            .to_device(&Device::CudaSim)
            .unwrap()
            .predict_proba(&on(&x32, Device::CudaSim))
            .unwrap()
            .to_array::<Ix2>()
            .unwrap(),
        want
    );
    // An f32 model is not an f64 model.
    let err = GaussianNB::<f64, Host>::from_json(&m.to_json().unwrap()).unwrap_err();
    assert!(matches!(err, EstimatorError::Persist(_)), "{err}");
    assert!(err.to_string().contains("GaussianNB<f32, Host>"), "{err}");
}

#[test]
fn fitted_pipeline_moves_between_devices() {
    let (x, _, r) = iris();
    let pipe = Pipeline::new()
        .then(StandardScaler::params())
        .then(Nystroem::params().n_components(30).seed(1))
        .finish(RidgeCV::params());
    let fitted = pipe.fit(&on(&x, Device::CudaSim), &on(&r, Device::CudaSim)).unwrap();
    let want = fitted.predict(&on(&x, Device::CudaSim)).unwrap().to_array::<Ix1>().unwrap();
    for d in DEVICES {
        let moved = fitted.to_device(&d).unwrap();
        let got = moved.predict(&on(&x, d)).unwrap();
        assert_eq!(got.device(), d);
        got.to_array::<Ix1>().unwrap().close(&want, "pipeline moved");
    }
    let host = fitted.to_host().unwrap();
    host.predict(&x).unwrap().close(&want, "pipeline on the host");
    // Saved and loaded: every step and the final model.
    let text = fitted.to_json().unwrap();
    let loaded = load_like(&fitted, &text).unwrap();
    assert_eq!(loaded.predict(&x).unwrap(), host.predict(&x).unwrap());
    assert_eq!(loaded.to_json().unwrap(), text);
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["attributes"]["steps"][0]["model"] = "Mystery<f64, Host>".into();
    let err = load_like(&fitted, &v.to_string()).unwrap_err();
    assert!(matches!(err, EstimatorError::Persist(_)), "{err}");
    // A pipeline of transformers only moves too.
    let tpipe = Pipeline::new().then(StandardScaler::params()).finish(Pca::params(2));
    let t = tpipe.fit_transformer(&x).unwrap();
    let want = t.transform(&x).unwrap();
    let moved = t.to_device(&Device::CudaSim).unwrap();
    moved.transform(&on(&x, Device::CudaSim)).unwrap().to_array::<Ix2>().unwrap().close(&want, "transformer pipeline");
    let loaded = load_like(&t, &t.to_json().unwrap()).unwrap();
    assert_eq!(loaded.transform(&x).unwrap(), want);
    // A pipeline holding a FunctionTransformer moves but cannot be saved.
    let fpipe = Pipeline::new().then(FunctionTransformer::params()).finish(Pca::params(2));
    let f = fpipe.fit_transformer(&x).unwrap();
    assert!(f.to_device(&Device::Cpu).is_ok());
    assert!(matches!(f.to_json(), Err(EstimatorError::Persist(_))));
}

#[test]
fn moving_to_an_absent_cuda_device_is_a_typed_error() {
    let (x, _, _) = iris();
    let m = StandardScaler::params().fit(&x).unwrap();
    let count = if kiln_runtime::cuda_available() { kiln_runtime::cuda_device_count() } else { 0 };
    let err = m.to_device(&Device::Cuda(count)).unwrap_err();
    assert!(matches!(err, EstimatorError::Device(_)), "{err}");
    assert!(err.to_string().contains("CUDA device"), "{err}");
}

#[test]
fn save_and_load_a_file() {
    let (x, y, _) = iris();
    let m = LogisticRegression::params().fit(&on(&x, Device::CudaSim), &on(&y, Device::CudaSim)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    m.save(&path).unwrap();
    let loaded = LogisticRegression::<f64, Host>::load(&path).unwrap();
    let want = m.predict(&on(&x, Device::CudaSim)).unwrap().to_array::<Ix1>().unwrap();
    assert_eq!(loaded.predict(&x).unwrap(), want);
    let missing = LogisticRegression::<f64, Host>::load(dir.path().join("nope.json")).unwrap_err();
    assert!(matches!(missing, EstimatorError::Persist(_)), "{missing}");
}

/// The saved text of a GaussianNB fitted on iris, as a JSON value to damage.
fn saved_nb() -> serde_json::Value {
    let (x, y, _) = iris();
    let m = GaussianNB::params().fit(&x, &y).unwrap();
    serde_json::from_str(&m.to_json().unwrap()).unwrap()
}

fn load_nb(v: &serde_json::Value) -> EstimatorError {
    let err = GaussianNB::<f64, Host>::from_json(&v.to_string()).unwrap_err();
    assert!(matches!(err, EstimatorError::Persist(_)), "{err}");
    err
}

#[test]
fn hostile_files_are_typed_errors() {
    let good = saved_nb();
    let text = good.to_string();
    assert!(GaussianNB::<f64, Host>::from_json(&text).is_ok());

    // Truncated anywhere: never a panic, always a Persist error.
    for cut in (0..text.len()).step_by(37) {
        let err = GaussianNB::<f64, Host>::from_json(&text[..cut]).unwrap_err();
        assert!(matches!(err, EstimatorError::Persist(_)), "{err}");
    }
    // Not JSON at all; another format; another version; another model type.
    load_nb(&serde_json::json!([1, 2, 3]));
    let mut v = good.clone();
    v["format"] = "pickle".into();
    assert!(load_nb(&v).to_string().contains("kiln-model"));
    let mut v = good.clone();
    v["version"] = (FORMAT_VERSION + 1).into();
    assert!(load_nb(&v).to_string().contains("version"));
    let mut v = good.clone();
    v["model"] = "LogisticRegression<f64, Host>".into();
    assert!(load_nb(&v).to_string().contains("LogisticRegression"));
    // A missing attribute, an unknown one.
    let mut v = good.clone();
    v["attributes"].as_object_mut().unwrap().remove("theta");
    assert!(load_nb(&v).to_string().contains("theta"));
    let mut v = good.clone();
    v["attributes"]["extra"] = 1.into();
    assert!(load_nb(&v).to_string().contains("extra"));
    // A NaN where a count belongs (JSON writes NaN as null), and a count of the wrong type.
    let mut v = good.clone();
    v["attributes"]["class_count"]["data"][1] = serde_json::Value::Null;
    load_nb(&v);
    let mut v = good.clone();
    v["attributes"]["n_classes"] = (-3).into();
    load_nb(&v);
    let mut v = good.clone();
    v["attributes"]["n_features"] = "four".into();
    load_nb(&v);
    // An array whose data does not fill its shape.
    let mut v = good.clone();
    v["attributes"]["theta"]["data"].as_array_mut().unwrap().pop();
    load_nb(&v);
    // Shapes that disagree with each other: a class prior too long, a feature count that is
    // not theta's width.
    let mut v = good.clone();
    v["attributes"]["class_prior"]["data"].as_array_mut().unwrap().push(0.5.into());
    v["attributes"]["class_prior"]["dim"][0] = 4.into();
    assert!(load_nb(&v).to_string().contains("class_prior"));
    let mut v = good.clone();
    v["attributes"]["n_features"] = 7.into();
    assert!(load_nb(&v).to_string().contains("n_features"));
}

#[test]
fn hostile_linear_model_coef_of_the_wrong_length() {
    let (x, _, r) = iris();
    let m = LinearRegression::params().fit(&x, &r).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&m.to_json().unwrap()).unwrap();
    v["attributes"]["coef"]["data"].as_array_mut().unwrap().push(1.0.into());
    v["attributes"]["coef"]["dim"][0] = 4.into();
    let err = LinearRegression::<f64, Host>::from_json(&v.to_string()).unwrap_err();
    assert!(matches!(err, EstimatorError::Persist(_)), "{err}");
    assert!(err.to_string().contains("coef"), "{err}");
    // The intact file loads and predicts as the model did.
    let loaded = LinearRegression::<f64, Host>::from_json(&m.to_json().unwrap()).unwrap();
    assert_eq!(loaded.predict(&x).unwrap(), m.predict(&x).unwrap());
}

#[test]
fn a_searched_best_estimator_moves_and_persists() {
    use kiln_estimators::model_selection::{GridSearchCV, KFold, ParamGrid};
    let (x, _, r) = iris();
    let (xs, rs) = (on(&x, Device::CudaSim), on(&r, Device::CudaSim));
    // A pipeline's best estimator moves.
    let pipe = Pipeline::new().then(StandardScaler::params()).finish(Ridge::params());
    let grid = ParamGrid::new().add("ridge__alpha", [0.1, 10.0]);
    let search = GridSearchCV::new(&pipe, grid, KFold::new(3)).unwrap().fit(&xs, &rs).unwrap();
    let best = search.best_estimator().unwrap();
    let want = best.predict(&xs).unwrap().to_array::<Ix1>().unwrap();
    let on_cpu = best.to_device(&Device::Cpu).unwrap();
    on_cpu.predict(&on(&x, Device::Cpu)).unwrap().to_array::<Ix1>().unwrap().close(&want, "best pipeline");
    // A plain estimator's best estimator also saves.
    let grid = ParamGrid::new().add("alpha", [0.1, 10.0]);
    let search = GridSearchCV::new(&Ridge::params(), grid, KFold::new(3)).unwrap().fit(&xs, &rs).unwrap();
    let best = search.best_estimator().unwrap();
    let loaded = load_like(best, &best.to_json().unwrap()).unwrap();
    let want = best.predict(&xs).unwrap().to_array::<Ix1>().unwrap();
    loaded.predict(&x).unwrap().close(&want, "best ridge loaded");
}

#[test]
fn the_remaining_models_move_and_persist() {
    let (x, _, r) = iris();
    let xs = on(&x, Device::CudaSim);
    moves_and_persists!("ShrunkCovariance", ShrunkCovariance::params().fit(&xs).unwrap(), x.clone(), mahalanobis, Ix1);
    moves_and_persists!("Oas", Oas::params().fit(&xs).unwrap(), x.clone(), mahalanobis, Ix1);
    moves_and_persists!("Binarizer", Binarizer::params().fit(&xs).unwrap(), x.clone(), transform, Ix2);
    moves_and_persists!("Normalizer", Normalizer::params().fit(&xs).unwrap(), x.clone(), transform, Ix2);
    // A kernel centerer, fitted on a Gram matrix.
    let k = x.dot(&x.t());
    moves_and_persists!(
        "KernelCenterer",
        KernelCenterer::params().fit(&on(&k, Device::CudaSim)).unwrap(),
        k.clone(),
        transform,
        Ix2
    );
    // Several targets.
    let y2 = ndarray::stack![Axis(1), r, r.mapv(|v| 2.0 * v - 1.0)];
    moves_and_persists!(
        "LinearRegression (multi-target)",
        LinearRegression::params().fit_multi(&xs, &on(&y2, Device::CudaSim)).unwrap(),
        x.clone(),
        predict,
        Ix2
    );
    moves_and_persists!(
        "Ridge (multi-target)",
        Ridge::params().fit_multi(&xs, &on(&y2, Device::CudaSim)).unwrap(),
        x.clone(),
        predict,
        Ix2
    );
}
