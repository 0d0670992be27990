//! `kiln-bench-estimators`: kiln's estimators on the data `benches/python/baselines.py` wrote
//! (`KILN_BENCH_DATA/est_{x,y,t,init}.npy` and `est_gmm_{x,means}.npy`: the same numbers
//! scikit-learn fitted), timed like
//! the Python side (median of N runs after one warm-up, which also compiles every kernel), as
//! one flat JSON object on stdout. Run by `cargo xtask bench` after the baselines.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use kiln::estimators::datasets::{load_npy, load_npy_as};
use kiln::estimators::prelude::*;
use kiln::ndarray::{Array1, Ix1};
use kiln_benches::json::JsonObject;
use kiln_benches::measure;

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
    Ok(())
}
