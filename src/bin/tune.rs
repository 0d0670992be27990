//! The main job (`cargo run --release`): tune a pipeline where the data lives.
//!
//! SplineTransformer -> Nystroem -> RidgeCV, searched by RandomizedSearchCV (30 candidates by
//! default) over 3 ShuffleSplit splits holding out 20%, scored by R², on 100,000 rows of f32
//! data from kiln's seeded generator (`make_tuning_data`: two features uniform on [-pi, pi],
//! target `sin(2 x0) cos(x1)^4` plus noise of standard deviation `0.3 cos(x1)^6 + 0.1`).
//! The search runs on every device present: the Cpu with every row; the CUDA simulator on a
//! subset (it runs the generated CUDA C on the CPU: a subset shows the same search runs there,
//! and the Cpu runs the same subset for the comparison); a GPU, when one exists, with every
//! row. Prints the best parameters, the best score, each device's time and its speed-up over
//! the Cpu. `--rows N`, `--n-iter N`, `--seed S`, `--sim-rows N`, `--sim-n-iter N`, `--f64`.
//! The kernels-and-inspection tour that was the main job before is
//! `cargo run --release --example tour`.

#![forbid(unsafe_code)]

use clap::Parser;
use kiln::estimators::datasets::{make_tuning_data, Real};
use kiln::ndarray::{Array1, Array2, Axis, Slice};
use kiln::tune::{TuneReport, Tuning};
use kiln::Device;
use std::process::ExitCode;

/// Freed output blocks of 1 MiB and more are kept for the next output of the same size
/// (`kiln::runtime::pool`): a call returning a new large array then costs what writing into
/// an existing one costs, instead of the OS faulting and zeroing fresh pages.
#[global_allocator]
static ALLOC: kiln::runtime::PoolAlloc = kiln::runtime::PoolAlloc;

#[derive(Parser)]
#[command(name = "tune", about = "kiln's main job: a randomized search of SplineTransformer -> Nystroem -> RidgeCV")]
struct Args {
    /// Rows of generated data.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Candidates drawn.
    #[arg(long, default_value_t = 30)]
    n_iter: usize,
    /// Seed of the data, the candidates and the splits.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Rows of the subset searched on the CUDA simulator (and again on the Cpu to compare).
    #[arg(long, default_value_t = 2_000)]
    sim_rows: usize,
    /// Candidates drawn on the CUDA simulator.
    #[arg(long, default_value_t = 3)]
    sim_n_iter: usize,
    /// Search f64 data instead of f32.
    #[arg(long)]
    f64: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The search's progress: a bar on a terminal, else `tracing` events printed to stderr.
    kiln::runtime::install_stderr_subscriber();
    let result = if args.f64 { job::<f64>(&args) } else { job::<f32>(&args) };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tune: {e}");
            ExitCode::FAILURE
        }
    }
}

fn rows_of<F: Real>(x: &Array2<F>, y: &Array1<F>, n: usize) -> (Array2<F>, Array1<F>) {
    let n = n.min(x.nrows());
    (x.slice_axis(Axis(0), Slice::from(..n)).to_owned(), y.slice_axis(Axis(0), Slice::from(..n)).to_owned())
}

fn print_report(r: &TuneReport) {
    let mut order: Vec<usize> = (0..r.candidates.len()).collect();
    order.sort_by_key(|&i| r.candidates[i].rank);
    println!("  rank  mean R2   fit s (mean)  parameters");
    for &i in order.iter().take(5) {
        let c = &r.candidates[i];
        let fit = c.fit_seconds.iter().sum::<f64>() / c.fit_seconds.len().max(1) as f64;
        let params: Vec<String> = c.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  {:>4}  {:>8.5}  {:>12.3}  {}", c.rank, c.mean_score, fit, params.join(" "));
    }
    if r.candidates.len() > 5 {
        println!("  ... {} more candidates", r.candidates.len() - 5);
    }
    println!("  best: {} (mean R2 {:.5})", r.best_params, r.best_score);
    println!("  {}: {} candidates x {} splits in {:.2} s", r.device, r.candidates.len(), r.splits.len(), r.seconds);
    let table = r.step_table();
    if !table.is_empty() {
        println!("  time per step (the search and its refit, every fit added up):");
        for line in table {
            println!("    {line}");
        }
    }
}

fn job<F: Real>(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let (x, y) = make_tuning_data::<F>(args.rows, args.seed);
    let dtype = std::any::type_name::<F>();
    println!(
        "kiln tuning workload: SplineTransformer -> Nystroem -> RidgeCV(13 alphas), RandomizedSearchCV \
         ({} candidates x 3 ShuffleSplit splits, test_size 0.2), R2, {} rows x 2 {dtype}",
        args.n_iter, args.rows
    );
    let tuning = Tuning::new().n_iter(args.n_iter).seed(args.seed).verbose(1);
    println!("\ncpu ({} threads), every row:", rayon_threads());
    let cpu = tuning.run(&x, &y, Device::Cpu)?;
    print_report(&cpu);

    let mut times = vec![("cpu".to_string(), args.rows, cpu.seconds, None)];
    let (xs, ys) = rows_of(&x, &y, args.sim_rows);
    let small = Tuning::new().n_iter(args.sim_n_iter).seed(args.seed).verbose(1);
    println!("\ncuda-sim (the generated CUDA C, run on the CPU), {} rows, {} candidates:", xs.nrows(), args.sim_n_iter);
    let sim = small.run(&xs, &ys, Device::CudaSim)?;
    print_report(&sim);
    let cpu_small = small.clone().verbose(0).run(&xs, &ys, Device::Cpu)?;
    let same = sim
        .candidates
        .iter()
        .zip(&cpu_small.candidates)
        .map(|(a, b)| (a.mean_score - b.mean_score).abs())
        .fold(0.0f64, f64::max);
    println!("  the same search on the cpu: {:.2} s; largest difference of mean R2: {same:.2e}", cpu_small.seconds);
    times.push(("cuda-sim".to_string(), xs.nrows(), sim.seconds, Some(cpu_small.seconds)));

    if kiln::runtime::cuda_device_count() > 0 {
        println!("\ncuda:0, every row:");
        let gpu = tuning.run(&x, &y, Device::Cuda(0))?;
        print_report(&gpu);
        times.push(("cuda:0".to_string(), args.rows, gpu.seconds, Some(cpu.seconds)));
    } else {
        println!("\ncuda:0 skipped: no CUDA driver/GPU on this machine");
    }

    println!("\n  device     rows      seconds   speed-up over the cpu (same rows)");
    for (device, rows, seconds, cpu_seconds) in &times {
        let speedup = cpu_seconds.map_or_else(|| "1.00x".to_string(), |c| format!("{:.2}x", c / seconds));
        println!("  {device:<9} {rows:>7} {seconds:>11.2}   {speedup}");
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
