//! A tour of kiln (`cargo run --release --example tour`): builds the three kernels of the design document,
//! runs them, and prints their IR, loop IR and timings; then fits StandardScaler -> PCA ->
//! LogisticRegression and KMeans on the bundled digits, with the same estimator source on
//! `Device::Cpu`, on the CUDA simulator (a subset: it is slow) and on a GPU when one exists.

#![forbid(unsafe_code)]

use kiln::estimators::data::{Mat, Vect};
use kiln::estimators::model_selection::train_test_split;
use kiln::estimators::prelude::*;
use kiln::estimators::{datasets, metrics};
use kiln::ndarray::{Array1, Array2, Axis, Slice};
use kiln::prelude::*;
use std::time::Instant;

#[kernel]
fn axpby(a: f32, x: Array1<f32>, b: f32, y: Array1<f32>) -> Array1<f32> {
    a * x + b * y
}

#[kernel]
fn standardize<F: Float>(x: Array2<F>) -> Array2<F> {
    let mean = x.mean_axis(Axis(0));
    let std = ((&x - &mean).powi(2)).mean_axis(Axis(0)).sqrt();
    (x - mean) / std
}

#[kernel]
fn nearest(x: Array2<f32>, c: Array2<f32>) -> (Array1<i64>, Array1<f32>) {
    let (n, d) = x.dim();
    let (k, _) = c.dim();
    // index comprehension: no n*k*d temporary is ever built
    let dist = Array2::from_shape_fn((n, k), |(i, j)| sum(0..d, |l| (x[[i, l]] - c[[j, l]]).powi(2)));
    (dist.argmin_axis(Axis(1)), dist.min_axis(Axis(1)))
}

/// Time `f` once and return its result with the elapsed milliseconds.
fn timed<T>(f: impl Fn() -> T) -> (T, f64) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed().as_secs_f64() * 1e3)
}

/// Run `f` on `device`: the first call (which compiles) and the best of `reps` warm calls.
fn on<T>(device: Device, reps: usize, f: impl Fn() -> Result<T, kiln::Error>) -> Result<(T, f64, f64), kiln::Error> {
    kiln::with_device(device, || {
        let (first, first_ms) = timed(&f);
        let first = first?;
        let mut best = f64::INFINITY;
        for _ in 0..reps {
            let (r, ms) = timed(&f);
            r?;
            best = best.min(ms);
        }
        Ok((first, first_ms, best))
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("kiln demo: three kernels on the interpreter and on native code (Cranelift, {} threads)", rayon_threads());
    println!("(KILN_DEBUG=1..4 traces the compiler; `kiln inspect` prints every stage)\n");

    let n = 4_000_000;
    let x = Array1::from_shape_fn(n, |i| (i % 97) as f32 * 0.01);
    let y = Array1::from_shape_fn(n, |i| (i % 13) as f32);
    let (z, _, interp_ms) = on(Device::Interp, 1, || axpby(2.0, &x, 0.5, &y))?;
    let (zc, first_ms, cpu_ms) = on(Device::Cpu, 10, || axpby(2.0, &x, 0.5, &y))?;
    let ok = (0..n).all(|i| (z[i] - (2.0 * x[i] + 0.5 * y[i])).abs() <= 1e-5 * (1.0 + z[i].abs())) && z == zc;
    let gbs = (3 * 4 * n) as f64 / (cpu_ms * 1e-3) / 1e9;
    println!("axpby  n={n}: interp {interp_ms:.1} ms | cpu {cpu_ms:.2} ms ({gbs:.1} GB/s), first call {first_ms:.2} ms | compile {:.3} ms | matches a plain loop: {ok}",
        axpby::kernel().cpu_compile_micros(None)? as f64 / 1e3);
    println!("{}", axpby::kernel().ir_text());
    println!("{}", axpby::kernel().loops(None)?);
    println!("{}", axpby::kernel().cuda(None)?);
    let small = 100_000;
    let (xs, ys) = (x.slice_axis(Axis(0), Slice::from(..small)), y.slice_axis(Axis(0), Slice::from(..small)));
    let (zs, first_ms, sim_ms) = on(Device::CudaSim, 2, || axpby(2.0, xs, 0.5, ys))?;
    println!(
        "axpby on the CUDA simulator, n={small}: first call (C++ compile of the CUDA C above, cached on disk) {first_ms:.1} ms, then {sim_ms:.2} ms | equals cpu: {}\n",
        zs.iter().zip(zc.iter()).all(|(a, b)| a == b)
    );

    let data = Array2::from_shape_fn((200_000, 16), |(i, j)| ((i * 31 + j * 7) % 101) as f64 / 10.0);
    let (s, _, interp_ms) = on(Device::Interp, 1, || standardize(&data))?;
    let (sc, _, cpu_ms) = on(Device::Cpu, 5, || standardize(&data))?;
    let close = s.iter().zip(sc.iter()).all(|(a, b)| (a - b).abs() <= 1e-9 * (1.0 + a.abs()));
    let col_mean = sc.column(3).sum() / sc.nrows() as f64;
    println!(
        "standardize<f64> 200000x16: interp {interp_ms:.1} ms | cpu {cpu_ms:.2} ms | compile {:.3} ms | column mean after {col_mean:.1e} | cpu == interp: {close}",
        standardize::kernel().cpu_compile_micros(Some(kiln::DType::F64))? as f64 / 1e3
    );
    println!("{}", standardize::kernel().loops(Some(kiln::DType::F64))?);

    let pts = Array2::from_shape_fn((20_000, 32), |(i, j)| ((i * 17 + j * 3) % 29) as f32 / 29.0);
    let centers = Array2::from_shape_fn((64, 32), |(i, j)| ((i * 5 + j) % 11) as f32 / 11.0);
    let ((labels, dists), _, interp_ms) = on(Device::Interp, 0, || nearest(&pts, &centers))?;
    let ((lc, _), _, cpu_ms) = on(Device::Cpu, 5, || nearest(&pts, &centers))?;
    println!(
        "nearest n=20000 k=64 d=32: interp {interp_ms:.1} ms | cpu {cpu_ms:.2} ms | compile {:.3} ms | label[0]={} dist[0]={:.4} | labels agree: {}",
        nearest::kernel().cpu_compile_micros(None)? as f64 / 1e3,
        labels[0],
        dists[0],
        labels == lc
    );
    println!("{}", nearest::kernel().loops(None)?);
    estimators_demo()?;
    Ok(())
}

/// What the digits job reports.
struct DigitsReport {
    accuracy: f64,
    inertia: f64,
    kmeans_iters: usize,
    ms: f64,
}

/// StandardScaler -> PCA(32) -> LogisticRegression, scored on the test rows, and KMeans(10) on
/// the scaled training rows: one source for every device, decided by where `x` lives.
fn digits_job<X, Y>(xtr: &X, ytr: &Y, xte: &X, yte: &Y) -> Result<DigitsReport, EstimatorError>
where
    X: Matrix<f64>,
    Y: Vector<i64>,
    Mat<X::Storage, f64>: Matrix<f64, Storage = X::Storage>,
    Vect<X::Storage, i64>: Vector<i64>,
{
    let start = Instant::now();
    let scaler = StandardScaler::params().fit(xtr)?;
    let (ztr, zte) = (scaler.transform(xtr)?, scaler.transform(xte)?);
    let pca = Pca::params(32).fit(&ztr)?;
    let (ptr, pte) = (pca.transform(&ztr)?, pca.transform(&zte)?);
    let lr = LogisticRegression::params().c(1.0).max_iter(200).fit(&ptr, ytr)?;
    let accuracy = metrics::accuracy_score(yte, &lr.predict(&pte)?)?;
    let km = KMeans::params(10).n_init(1).seed(0).fit(&ztr)?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    Ok(DigitsReport { accuracy, inertia: km.inertia(), kmeans_iters: km.n_iter(), ms })
}

fn estimators_demo() -> Result<(), Box<dyn std::error::Error>> {
    let digits = datasets::load_digits();
    println!(
        "\nestimators: digits {} x {}, StandardScaler -> PCA(32) -> LogisticRegression, and KMeans(10)",
        digits.n_samples(),
        digits.n_features()
    );
    let (xtr, xte, ytr, yte) = train_test_split(digits.data.view(), digits.target.view(), 0.25, 0)?;
    let report = |device: &str, n: usize, r: &DigitsReport| {
        println!(
            "  {device:<9} n_train={n:<5} accuracy {:.4} | KMeans inertia {:.1} in {} iterations | {:.1} ms (first run: compiles every kernel)",
            r.accuracy, r.inertia, r.kmeans_iters, r.ms
        )
    };
    let cpu = kiln::with_device(Device::Cpu, || digits_job(&xtr, &ytr, &xte, &yte))?;
    report("cpu", xtr.nrows(), &cpu);
    let warm = kiln::with_device(Device::Cpu, || digits_job(&xtr, &ytr, &xte, &yte))?;
    println!("  cpu again (kernels compiled): {:.1} ms", warm.ms);
    // The simulator runs the generated CUDA C on the CPU: a subset keeps it quick.
    let m = 300;
    let sub = |a: &kiln::ndarray::Array2<f64>| a.slice_axis(Axis(0), Slice::from(..m)).to_owned();
    let subv = |a: &kiln::ndarray::Array1<i64>| a.slice_axis(Axis(0), Slice::from(..m)).to_owned();
    let devices = if kiln::runtime::cuda_device_count() > 0 {
        vec![(Device::CudaSim, m), (Device::Cuda(0), xtr.nrows())]
    } else {
        println!("  cuda:0    skipped: no CUDA driver/GPU on this machine");
        vec![(Device::CudaSim, m)]
    };
    for (device, rows) in devices {
        let (a, b) = if rows == m { (sub(&xtr), subv(&ytr)) } else { (xtr.clone(), ytr.clone()) };
        let (xt, yt) = (Tensor::from_array(&a, device)?, Tensor::from_array(&b, device)?);
        let (xv, yv) = (Tensor::from_array(&xte, device)?, Tensor::from_array(&yte, device)?);
        let r = digits_job(&xt, &yt, &xv, &yv)?;
        report(&device.to_string(), rows, &r);
    }
    let kernels = kiln::runtime::used_kernels();
    let count = |f: fn(&kiln::runtime::Kernel) -> usize| kernels.iter().map(|k| f(k)).sum::<usize>();
    println!(
        "  kernels used: {}; instantiations compiled, each once per device: cpu {} (and {} tier-0 builds for \
         first small calls), cuda-sim {}, cuda {}",
        kernels.len(),
        count(kiln::runtime::Kernel::cpu_compile_count),
        count(kiln::runtime::Kernel::cpu_tier0_compile_count),
        count(kiln::runtime::Kernel::sim_compile_count),
        count(kiln::runtime::Kernel::gpu_compile_count)
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
