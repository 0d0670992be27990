//! Every `#[kernel]` of kiln-estimators compiles with NVRTC for sm_80 and sm_90 and assembles
//! with ptxas without spilling, in f32 and f64. The estimators are run once on small data (on
//! the interpreter, which compiles nothing) to instantiate their kernels; the list of kernels
//! they must have used is read from the estimators' source, so a new kernel that this
//! workload does not reach fails the test instead of going unchecked.
//!
//! Needs the CUDA tools (`cargo xtask test` installs them); without them the test fails with
//! the install command, or prints a skip under `KILN_SKIP_CUDA_TOOLS=1`.

use kiln::estimators::metrics::{
    accuracy_score, brier_score_loss, calinski_harabasz_score, chi2_kernel, confusion_matrix, d2_pinball_score,
    d2_tweedie_score, davies_bouldin_score, explained_variance_score, explained_variance_score_weighted,
    f1_score_weighted, log_loss, log_loss_binary, mean_absolute_error, mean_squared_error, pairwise_distances,
    precision_score, r2_score, silhouette_score, Average, Metric,
};
use kiln::estimators::prelude::*;
use kiln::ndarray::{Array1, Array2};
use kiln_tests::Rng;
use rayon::prelude::*;
use std::path::Path;

/// The names of the `#[kernel]` functions in the Rust files under `dir`.
fn declared_kernels(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            declared_kernels(&path, out);
            continue;
        }
        if path.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if !line.trim_start().starts_with("#[kernel") {
                continue;
            }
            let Some(sig) = lines.by_ref().find(|l| l.contains("fn ")) else { break };
            let after = &sig[sig.find("fn ").unwrap_or(0) + 3..];
            out.push(after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
}

/// One pass over every estimator, transformer and metric, in `F`.
fn workload<F: Real>(rng: &mut Rng) -> Result<(), EstimatorError> {
    let x: Array2<F> = rng.arr2_f64(40, 5, -1.0, 1.0).mapv(F::from_f64);
    let t: Array1<F> = rng.arr1_f64(40, -1.0, 1.0).mapv(F::from_f64);
    let y: Array1<i64> = (0..40).map(|i| (i % 3) as i64).collect();
    let yb: Array1<i64> = y.mapv(|v| v.min(1));

    let s = StandardScaler::params().fit(&x)?;
    s.inverse_transform(&s.transform(&x)?)?;
    let m = MinMaxScaler::params().fit(&x)?;
    m.inverse_transform(&m.transform(&x)?)?;
    let a = MaxAbsScaler::params().fit(&x)?;
    a.inverse_transform(&a.transform(&x)?)?;
    Normalizer::params().fit(&x)?.transform(&x)?;
    PolynomialFeatures::params().degree(2).fit(&x)?.transform(&x)?;

    let p = Pca::params(2).fit(&x)?;
    p.inverse_transform(&p.transform(&x)?)?;
    Pca::params(2).svd_solver(SvdSolver::randomized(0)).fit(&x)?.transform(&x)?;
    Pca::params(2).n_components(0.9).svd_solver(SvdSolver::Full).fit(&x)?.transform(&x)?;
    KMeans::params(3).init_random().n_init(2).seed(0).fit(&x)?;
    let km = KMeans::params(3).seed(0).fit(&x)?;
    km.predict(&x)?;
    km.transform(&x)?;
    // A center far from every point gets none and is relocated: the next iteration counts
    // the changed labels on its own (`changed_labels`).
    let far = Array2::from_shape_fn((2, x.ncols()), |(j, l)| if j == 0 { x[[0, l]] } else { F::from_f64(100.0) });
    KMeans::params(2).init(far).fit(&x)?;
    // On the CPU a fit's distances read X in panels of rows (`panel_labels`).
    kiln::with_device(Device::Cpu, || KMeans::params(3).seed(0).fit(&x))?;

    let ols = LinearRegression::params().fit(&x, &t)?;
    let pred = ols.predict(&x)?;
    Ridge::params().fit(&x, &t)?.predict(&x)?;
    r2_score(&t, &pred)?;
    mean_squared_error(&t, &pred)?;
    mean_absolute_error(&t, &pred)?;

    let clf = LogisticRegression::params().max_iter(20).fit(&x, &y)?;
    let labels = clf.predict(&x)?;
    log_loss(&y, &clf.predict_proba(&x)?)?;
    let binary = LogisticRegression::params().max_iter(20).fit(&x, &yb)?;
    let proba = binary.predict_proba(&x)?;
    log_loss_binary(&yb, &proba.column(1).to_owned())?;
    accuracy_score(&y, &labels)?;
    confusion_matrix(&y, &labels, None)?;
    precision_score(&y, &labels, Average::Macro)?;

    for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Cosine] {
        pairwise_distances(&x, None, metric)?;
    }

    // Metrics of issue 17: weighted label counts, regression / D² sums, Brier, chi², and the
    // clustering metrics (labels 0..k as they are, other labels re-coded first).
    let w: Array1<F> = (0..40).map(|i| F::from_f64(0.5 + (i % 4) as f64)).collect();
    f1_score_weighted(&y, &labels, &w, Average::Macro)?;
    explained_variance_score(&t, &pred)?;
    explained_variance_score_weighted(&t, &pred, &w)?;
    d2_pinball_score(&t, &pred, 0.5)?;
    let positive = t.mapv(|v| F::from_f64(v.to_f64().exp()));
    d2_tweedie_score(&positive, &positive.mapv(|v| F::from_f64(v.to_f64() + 0.1)), 1.5)?;
    brier_score_loss(&yb, &proba.column(1).to_owned())?;
    chi2_kernel(&x.mapv(|v| F::from_f64(v.to_f64().abs())), None, 1.0)?;
    silhouette_score(&x, &y)?;
    silhouette_score(&x, &y.mapv(|v| 2 * v + 1))?;
    calinski_harabasz_score(&x, &y)?;
    davies_bouldin_score(&x, &y)?;

    // Target encoders, Binarizer, KernelCenterer, GaussianNB, covariance, Nystroem.
    Binarizer::params().fit(&x)?.transform(&x)?;
    let square = Array2::from_shape_fn((5, 5), |(i, j)| x[[i, j]]);
    KernelCenterer::params().fit(&square)?.transform(&square)?;
    let le = LabelEncoder::params().fit(&y)?;
    le.inverse_transform(&le.transform(&y)?)?;
    let lb = LabelBinarizer::params().fit(&y)?;
    lb.transform(&y)?;
    lb.inverse_transform(&x.slice(kiln::ndarray::s![.., ..3]).to_owned())?;
    LabelBinarizer::params().fit(&yb)?.inverse_transform(&x.slice(kiln::ndarray::s![.., ..1]).to_owned())?;
    GaussianNB::params().fit(&x, &y)?.predict_proba(&x)?;
    LedoitWolf::params().fit(&x)?.mahalanobis(&x)?;
    for kernel in [Kernel::Rbf, Kernel::Poly, Kernel::Sigmoid, Kernel::Cosine, Kernel::Linear, Kernel::Laplacian] {
        Nystroem::params().kernel(kernel).n_components(10).fit(&x)?.transform(&x)?;
    }

    // SplineTransformer (every degree path and extrapolation), RidgeCV (Gram and covariance
    // modes), several targets.
    let outside = x.mapv(|v| F::from_f64(v.to_f64() * 2.0));
    for extrapolation in
        [Extrapolation::Constant, Extrapolation::Linear, Extrapolation::Continue, Extrapolation::Periodic]
    {
        for degree in [0, 3] {
            SplineTransformer::params().degree(degree).extrapolation(extrapolation).fit(&x)?.transform(&outside)?;
        }
    }
    SplineTransformer::params().extrapolation(Extrapolation::Error).fit(&x)?.transform(&x)?;
    RidgeCV::params().fit(&x, &t)?.predict(&x)?;
    RidgeCV::params().gcv_mode(GcvMode::Svd).fit(&x, &t)?;
    let wide = x.t().to_owned();
    let tw = Array1::from_shape_fn(wide.nrows(), |i| t[i]);
    RidgeCV::params().fit(&wide, &tw)?;
    let y2 = Array2::from_shape_fn((x.nrows(), 2), |(i, j)| F::from_f64(t[i].to_f64() * (j as f64 + 1.0)));
    LinearRegression::params().fit_multi(&x, &y2)?.predict(&x)?;

    // GaussianMixture: every covariance type's E-step and M-step.
    for ct in [CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical] {
        let gmm = GaussianMixture::params(2).covariance_type(ct).init_params(MixtureInit::Random).max_iter(2);
        gmm.fit(&x)?.predict_proba(&x)?;
    }

    // Estimators II: discriminant analysis, ridge classifiers, Poisson, sample weights,
    // logistic scores, neighbours, encoders, and model selection on tensors (its gathers).
    for labels in [&y, &yb] {
        let lda = LinearDiscriminantAnalysis::params().store_covariance(true).fit(&x, labels)?;
        lda.predict_proba(&x)?;
        lda.predict_log_proba(&x)?;
        lda.decision_function(&x)?;
        lda.transform(&x)?;
        let rc = RidgeClassifier::params().fit(&x, labels)?;
        rc.predict(&x)?;
        rc.decision_function(&x)?;
        RidgeClassifierCV::params().fit(&x, labels)?.predict(&x)?;
    }
    let w: Array1<F> = (0..40).map(|i| F::from_f64(0.5 + (i % 3) as f64)).collect();
    Ridge::params().alpha(1.0).fit_weighted(&x, &t, &w)?.predict(&x)?;
    // LDA's lsqr and eigen solvers (shrinkage "auto": per-class covariances and Ledoit-Wolf
    // sums), weighted RidgeCV (and so RidgeClassifierCV), weighted KMeans and its k-means++.
    for solver in [LdaSolver::Lsqr, LdaSolver::Eigen] {
        let lda = LinearDiscriminantAnalysis::params().solver(solver).shrinkage(Some(Shrinkage::Auto)).fit(&x, &y)?;
        lda.predict_proba(&x)?;
    }
    LinearDiscriminantAnalysis::params().solver(LdaSolver::Eigen).fit(&x, &y)?.transform(&x)?;
    RidgeCV::params().fit_weighted(&x, &t, &w)?;
    KMeans::params(3).seed(0).fit_weighted(&x, &w)?.inertia_of_weighted(&x, &w)?;
    LinearRegression::params().fit_weighted(&x, &t, &w)?;
    clf.decision_function(&x)?;
    clf.predict_log_proba(&x)?;
    let counts: Array1<F> = t.mapv(|v| F::from_f64((v.to_f64() * 3.0).abs().floor()));
    let pois = PoissonRegressor::params().max_iter(20).fit(&x, &counts)?;
    pois.predict(&x)?;
    pois.score(&x, &counts)?;
    for metric in [
        DistanceMetric::Euclidean,
        DistanceMetric::Manhattan,
        DistanceMetric::Chebyshev,
        DistanceMetric::Cosine,
        DistanceMetric::Minkowski,
    ] {
        let nn = NearestNeighbors::params(3).metric(metric).p(3.0).radius(0.8).fit(&x)?;
        nn.kneighbors(&x)?;
        nn.kneighbors_train()?;
        nn.radius_neighbors(&x)?;
    }
    KNeighborsClassifier::params(3).weights(Weights::Distance).fit(&x, &y)?.predict_proba(&x)?;
    KNeighborsClassifier::params(3).fit(&x, &y)?.predict(&x)?;
    KNeighborsRegressor::params(3).weights(Weights::Distance).fit(&x, &t)?.predict(&x)?;
    let codes: Array2<i64> = Array2::from_shape_fn((40, 2), |(i, j)| ((i * (j + 2)) % 4) as i64);
    let ohe = OneHotEncoder::params().fit(&codes)?;
    let onehot: Array2<F> = ohe.transform(&codes)?;
    ohe.inverse_transform(&onehot)?;
    // Issue 17 catch-ups: weighted fits, TargetEncoder (continuous and multiclass targets).
    LogisticRegression::params().max_iter(5).fit_weighted(&x, &y, &w)?;
    PoissonRegressor::params().max_iter(5).fit_weighted(&x, &counts, &w)?;
    StandardScaler::params().fit_weighted(&x, &w)?;
    let tt: Array2<F> = Array2::from_shape_fn((40, 2), |(i, j)| F::from_f64(t[i].to_f64() * (j as f64 + 1.0)));
    Ridge::params().fit_multi_weighted(&x, &tt, &w)?;
    let yc: Array1<F> = y.mapv(|v| F::from_f64(v as f64));
    for target in [&t, &yc] {
        let (te, _) = TargetEncoder::params().cv(2).fit_transform(&codes, target)?;
        let _: Array2<F> = te.transform(&codes)?;
    }
    let qt = QuantileTransformer::params().n_quantiles(10).fit(&x)?;
    qt.inverse_transform(&qt.transform(&x)?)?;
    let xt = Tensor::from_array(&x, &Device::Interp)?;
    let cv = kiln::estimators::model_selection::KFold::new(3);
    kiln::estimators::model_selection::cross_val_score(&Ridge::params(), &xt, &t, &cv)?;
    kiln::estimators::model_selection::cross_val_score(&LogisticRegression::params().max_iter(5), &xt, &y, &cv)?;
    // Scorers of responses: a binary probability column, top-k hits, residual extremes.
    let scorers = kiln::estimators::model_selection::Scoring::names(&["roc_auc", "top_k_accuracy", "neg_log_loss"])?;
    let opts = kiln::estimators::model_selection::CvOptions::new().scoring(scorers);
    kiln::estimators::model_selection::cross_validate(&GaussianNB::params(), &xt, &yb, &cv, &opts)?;
    let proba = GaussianNB::params().fit(&x, &y)?.predict_proba(&x)?;
    kiln::estimators::metrics::top_k_accuracy_score(&y, &proba, 2)?;
    let one: Array2<F> = proba.column(1).to_owned().insert_axis(kiln::ndarray::Axis(1));
    kiln::estimators::metrics::top_k_accuracy_score(&yb, &one, 1)?;
    let shifted: Array1<F> = t.mapv(|v| F::from_f64(v.to_f64() + 0.25));
    kiln::estimators::metrics::max_error(&t, &shifted)?;
    Ok(())
}

#[test]
fn every_estimator_kernel_compiles_for_sm80_and_sm90_without_spills() {
    let Some(_tools) = kiln_cuda::tools::tools_for_test("estimator kernels through NVRTC and ptxas") else {
        return;
    };
    let mut rng = Rng::new(90);
    kiln::with_device(Device::Interp, || {
        workload::<f32>(&mut rng).unwrap_or_else(|e| panic!("f32 workload: {e}"));
        workload::<f64>(&mut rng).unwrap_or_else(|e| panic!("f64 workload: {e}"));
    });
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../estimators/src");
    let mut declared = vec![];
    declared_kernels(&src, &mut declared);
    assert!(declared.len() >= 30, "found only {declared:?} in {}", src.display());
    let kernels = kiln::runtime::used_kernels();
    let used: Vec<&str> = kernels.iter().map(|k| k.name()).collect();
    let missed: Vec<&String> = declared.iter().filter(|d| !used.contains(&d.as_str())).collect();
    assert!(missed.is_empty(), "the workload never calls these estimator kernels: {missed:?}");

    // Every (kernel, float type, arch) through NVRTC and ptxas, spread over the rayon pool
    // (each is an independent compile), then the largest register count per arch, and where.
    let jobs: Vec<_> = kernels
        .iter()
        .flat_map(|k| {
            let floats = if k.is_generic() { vec![Some(kiln::DType::F32), Some(kiln::DType::F64)] } else { vec![None] };
            floats.into_iter().flat_map(move |f| [80, 90].map(|a| (*k, f, kiln::runtime::Arch(a))))
        })
        .collect();
    let reports: Vec<_> = jobs
        .par_iter()
        .map(|(k, float, arch)| {
            let report = k.ptxas(*float, *arch).unwrap_or_else(|e| panic!("{} ({float:?}): {e}", k.name()));
            assert!(!report.is_empty(), "{}: ptxas reported no kernels", k.name());
            (k, float, report)
        })
        .collect();
    let mut worst = std::collections::BTreeMap::<String, (u32, String)>::new();
    let mut spilling = vec![];
    for (k, float, report) in reports {
        for r in report {
            if r.spills() {
                spilling.push(format!("{} ({float:?}, {}): {r:?}", k.name(), r.arch));
            }
            let w = worst.entry(r.arch.clone()).or_default();
            if r.registers > w.0 {
                *w = (r.registers, format!("{} ({}, {float:?})", r.name, k.name()));
            }
        }
    }
    eprintln!("{} estimator kernels", used.len());
    for (arch, (n, what)) in &worst {
        eprintln!("worst register count on {arch}: {n} in {what}");
    }
    assert!(spilling.is_empty(), "kernels that spill: {spilling:#?}");
}
