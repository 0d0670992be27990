//! `kiln-bench-estimators`: kiln's estimators on the data `benches/python/baselines.py` wrote
//! (`KILN_BENCH_DATA/est_{x,y,t,init}.npy` and `est_gmm_{x,means}.npy`: the same numbers
//! scikit-learn fitted), timed like
//! the Python side (median of N runs after one warm-up, which also compiles every kernel), as
//! one flat JSON object on stdout. Run by `cargo xtask bench` after the baselines. The tuning
//! workload's estimators (Nystroem, RidgeCV, SplineTransformer, GaussianNB and the search's
//! candidates) read `tune_{x,t}.npy`, `nys_x.npy` and `rcv_{x,t}.npy`.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use kiln::estimators::datasets::{load_npy, load_npy_as};
use kiln::estimators::metrics::r2_score;
use kiln::estimators::prelude::*;
use kiln::ndarray::{Array1, Array2, Axis, Ix1, Slice};
use kiln_benches::json::JsonObject;
use kiln_benches::measure;

/// Freed output blocks of 1 MiB and more are kept for the next output of the same size
/// (`kiln::runtime::pool`): a call returning a new large array then costs what writing into
/// an existing one costs, instead of the OS faulting and zeroing fresh pages.
#[global_allocator]
static ALLOC: kiln::runtime::PoolAlloc = kiln::runtime::PoolAlloc;

fn main() -> ExitCode {
    let quick = std::env::args().any(|a| a == "--quick");
    let Some(dir) = std::env::var_os("KILN_BENCH_DATA").map(PathBuf::from) else {
        eprintln!("kiln-bench-estimators: set KILN_BENCH_DATA to the folder baselines.py wrote");
        return ExitCode::from(2);
    };
    let mut out = JsonObject::new();
    if let Err(e) = run(&dir, quick, &mut out) {
        out.str("kiln_estimators_error", &e);
        eprintln!("kiln-bench-estimators: {e}");
    }
    println!("{out}");
    ExitCode::SUCCESS
}

fn run(dir: &std::path::Path, quick: bool, out: &mut JsonObject) -> Result<(), String> {
    let x = load_npy::<f32>(dir.join("est_x.npy")).map_err(|e| e.to_string())?;
    let y: Array1<i64> = load_npy_as::<i64, Ix1>(dir.join("est_y.npy")).map_err(|e| e.to_string())?;
    let t: Array1<f32> = load_npy_as::<f32, Ix1>(dir.join("est_t.npy")).map_err(|e| e.to_string())?;
    let init = load_npy::<f32>(dir.join("est_init.npy")).map_err(|e| e.to_string())?;
    let (n, d) = x.dim();
    out.num("kiln_est_n", n as f64);
    out.num("kiln_est_d", d as f64);
    let gx = load_npy::<f64>(dir.join("est_gmm_x.npy")).map_err(|e| e.to_string())?;
    let means = load_npy::<f64>(dir.join("est_gmm_means.npy")).map_err(|e| e.to_string())?;
    out.num("kiln_gmm_n", gx.nrows() as f64);
    let runs = if quick { 3 } else { 5 };
    let err = |e: EstimatorError| e.to_string();
    let mut record = |key: &str, runs: usize, f: &mut dyn FnMut() -> Result<(), String>| -> Result<(), String> {
        f()?; // warm-up: compiles the kernels, checks the call works
        let stats = measure(0, runs, || f().map_err(|e| eprintln!("{key}: {e}")).ok());
        out.num(&format!("{key}_ms"), stats.median_s * 1e3);
        out.num(&format!("{key}_min_ms"), stats.min_s * 1e3);
        eprintln!("kiln-bench-estimators: {key}: median {:.2} ms", stats.median_s * 1e3);
        Ok(())
    };
    record("kiln_standard_scaler", runs, &mut || StandardScaler::params().fit_transform(&x).map(drop).map_err(err))?;
    record("kiln_ridge", runs, &mut || Ridge::params().alpha(1.0).fit(&x, &t).map(drop).map_err(err))?;
    // scikit-learn's iteration count when the harness passes it (the same work), else 100.
    let max_iter = std::env::var("KILN_BENCH_LOGISTIC_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let mut iters = 0;
    record("kiln_logistic", runs.saturating_sub(2).max(2), &mut || {
        let m = LogisticRegression::params().c(1.0).max_iter(max_iter).tol(0.0).fit(&x, &y).map_err(err)?;
        iters = m.n_iter();
        Ok(())
    })?;
    record("kiln_pca", runs, &mut || Pca::params(8).fit(&x).map(drop).map_err(err))?;
    record("kiln_lda", runs, &mut || LinearDiscriminantAnalysis::params().fit(&x, &y).map(drop).map_err(err))?;
    let mut km_iters = 0;
    record("kiln_kmeans", runs.min(3), &mut || {
        let km = KMeans::params(init.nrows()).init(init.clone()).max_iter(50).tol(0.0).fit(&x).map_err(err)?;
        km_iters = km.n_iter();
        Ok(())
    })?;

    // GaussianMixture: full covariances, 10 EM iterations (tol 0), float64 as scikit-learn fits
    // numpy data, from the same random responsibilities (seed 0) and given means.
    let gmm = GaussianMixture::params(means.nrows())
        .covariance_type(CovarianceType::Full)
        .init_params(MixtureInit::Random)
        .means_init(means)
        .max_iter(10)
        .tol(0.0)
        .seed(0);
    let mut gmm_iters = 0;
    record("kiln_gmm", runs.min(3), &mut || {
        gmm_iters = gmm.fit(&gx).map_err(err)?.n_iter();
        Ok(())
    })?;
    // KNeighborsClassifier.predict on baselines.py's knn_{x,y,q}.npy (k = 10).
    let kx = load_npy::<f32>(dir.join("knn_x.npy")).map_err(|e| e.to_string())?;
    let ky: Array1<i64> = load_npy_as::<i64, Ix1>(dir.join("knn_y.npy")).map_err(|e| e.to_string())?;
    let kq = load_npy::<f32>(dir.join("knn_q.npy")).map_err(|e| e.to_string())?;
    let knn = KNeighborsClassifier::params(10).fit(&kx, &ky).map_err(err)?;
    record("kiln_knn", if quick { 2 } else { 3 }, &mut || knn.predict(&kq).map(drop).map_err(err))?;
    out.num("kiln_knn_n", kx.nrows() as f64);
    out.num("kiln_knn_q", kq.nrows() as f64);
    out.num("kiln_logistic_n_iter", iters as f64);
    out.num("kiln_kmeans_n_iter", km_iters as f64);
    out.num("kiln_gmm_n_iter", gmm_iters as f64);
    tuning(dir, quick, out, &x, &y)
}

/// scikit-learn's `np.logspace(-6, 6, 13)`.
fn tune_alphas() -> Vec<f64> {
    (-6..=6).map(|e| 10f64.powi(e)).collect()
}

/// The tuning workload's estimators on `baselines.py`'s data (as its `tuning_estimators`):
/// Nystroem, RidgeCV, SplineTransformer, GaussianNB, and the two candidates of the search with
/// their per-step times.
fn tuning(
    dir: &std::path::Path,
    quick: bool,
    out: &mut JsonObject,
    x: &Array2<f32>,
    y: &Array1<i64>,
) -> Result<(), String> {
    let load2 = |name: &str| load_npy::<f32>(dir.join(format!("{name}.npy"))).map_err(|e| e.to_string());
    let load1 = |name: &str| load_npy_as::<f32, Ix1>(dir.join(format!("{name}.npy"))).map_err(|e| e.to_string());
    let (xt, tt) = (load2("tune_x")?, load1("tune_t")?);
    let nys_x = load2("nys_x")?;
    let (rcv_x, rcv_t) = (load2("rcv_x")?, load1("rcv_t")?);
    out.num("kiln_tune_rows", xt.nrows() as f64);
    out.num("kiln_nys_n", nys_x.nrows() as f64);
    out.num("kiln_rcv_n", rcv_x.nrows() as f64);
    let runs = if quick { 3 } else { 5 };
    let err = |e: EstimatorError| e.to_string();
    let mut record = |key: &str, f: &mut dyn FnMut() -> Result<(), String>| -> Result<(), String> {
        f()?; // warm-up
        let stats = measure(0, runs, || f().map_err(|e| eprintln!("{key}: {e}")).ok());
        out.num(&format!("{key}_ms"), stats.median_s * 1e3);
        out.num(&format!("{key}_min_ms"), stats.min_s * 1e3);
        eprintln!("kiln-bench-estimators: {key}: median {:.2} ms", stats.median_s * 1e3);
        Ok(())
    };
    let nys = Nystroem::params().kernel(Kernel::Rbf).gamma(0.1).n_components(300).seed(0);
    record("kiln_nystroem", &mut || nys.fit_transform(&nys_x).map(drop).map_err(err))?;
    let rcv = RidgeCV::params().alphas(tune_alphas());
    let mut alpha = f64::NAN;
    record("kiln_ridge_cv", &mut || {
        alpha = rcv.fit(&rcv_x, &rcv_t).map_err(err)?.alpha();
        Ok(())
    })?;
    let spl = SplineTransformer::params().n_knots(50).degree(3);
    record("kiln_spline", &mut || spl.fit_transform(&xt).map(drop).map_err(err))?;
    record("kiln_gaussian_nb", &mut || GaussianNB::params().fit(x, y).map_err(err)?.predict(x).map(drop).map_err(err))?;

    let n_train = xt.nrows() * 4 / 5;
    let rows = |a: &Array2<f32>, r: Slice| a.slice_axis(Axis(0), r).to_owned();
    let (xa, xb) = (rows(&xt, Slice::from(..n_train)), rows(&xt, Slice::from(n_train..)));
    let (ta, tb) = (
        tt.slice_axis(Axis(0), Slice::from(..n_train)).to_owned(),
        tt.slice_axis(Axis(0), Slice::from(n_train..)).to_owned(),
    );
    // (label, n_knots, degree, gamma, n_components): baselines.py's TUNE_CANDIDATES.
    let mut extra: Vec<(String, f64)> = Vec::new();
    for (label, n_knots, degree, gamma, m) in [("c300", 20, 3, 0.1, 300), ("c10", 20, 3, 0.1, 10)] {
        let mut steps: [Vec<f64>; 4] = Default::default();
        let mut candidate = || -> Result<f64, String> {
            let t0 = std::time::Instant::now();
            let sp = SplineTransformer::params().n_knots(n_knots).degree(degree).fit(&xa).map_err(err)?;
            let za = sp.transform(&xa).map_err(err)?;
            let t1 = std::time::Instant::now();
            let ny =
                Nystroem::params().kernel(Kernel::Rbf).gamma(gamma).n_components(m).seed(0).fit(&za).map_err(err)?;
            let fa = ny.transform(&za).map_err(err)?;
            let t2 = std::time::Instant::now();
            let r = RidgeCV::params().alphas(tune_alphas()).fit(&fa, &ta).map_err(err)?;
            let t3 = std::time::Instant::now();
            let pred = r.predict(&ny.transform(&sp.transform(&xb).map_err(err)?).map_err(err)?).map_err(err)?;
            let score = r2_score(&tb, &pred).map_err(err)?;
            let t4 = std::time::Instant::now();
            for (i, (a, b)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4)].into_iter().enumerate() {
                steps[i].push((b - a).as_secs_f64() * 1e3);
            }
            Ok(score)
        };
        let mut r2 = f64::NAN;
        record(&format!("kiln_tune_{label}"), &mut || {
            r2 = candidate()?;
            Ok(())
        })?;
        extra.push((format!("kiln_tune_{label}_r2"), r2));
        for (name, mut v) in ["spline", "nystroem", "ridge_cv", "score"].into_iter().zip(steps) {
            // The timed runs (the first was the warm-up), their median.
            v.remove(0);
            v.sort_by(f64::total_cmp);
            if !v.is_empty() {
                extra.push((format!("kiln_tune_{label}_{name}_ms"), v[v.len() / 2]));
            }
        }
    }
    for (k, v) in extra {
        out.num(&k, v);
    }
    out.num("kiln_ridge_cv_alpha", alpha);
    Ok(())
}
