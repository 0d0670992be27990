//! `kiln tune`: the main job's search (SplineTransformer -> Nystroem -> RidgeCV, randomized
//! over named parameters, ShuffleSplit, R²) on a user's data, written as JSON.

use crate::npy;
use kiln::estimators::datasets::{make_tuning_data, Real};
use kiln::ndarray::{Array1, Array2};
use kiln::tune::Tuning;
use kiln::{Device, Value};
use ndarray_npy::WriteNpyExt;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// What `kiln tune` was asked.
pub struct TuneArgs {
    pub x: Option<PathBuf>,
    pub y: Option<PathBuf>,
    pub rows: Option<usize>,
    pub save_data: Option<PathBuf>,
    pub device: String,
    pub n_iter: usize,
    pub seed: u64,
    pub out: Option<PathBuf>,
    pub verbose: u8,
}

fn write<A: WriteNpyExt>(a: &A, path: &Path) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    a.write_npy(BufWriter::new(file)).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn tune(a: &TuneArgs) -> Result<(), String> {
    let device: Device = a.device.parse()?;
    match (&a.x, &a.y, a.rows) {
        (Some(x), Some(y), None) => {
            let xv = npy::read_float("--x", x, 2)?;
            let yv = npy::read_float("--y", y, 1)?;
            match (xv, yv) {
                (Value::F32(x), Value::F32(y)) => search::<f32>(a, device, dims(x)?, dims(y)?),
                (Value::F64(x), Value::F64(y)) => search::<f64>(a, device, dims(x)?, dims(y)?),
                (x, y) => {
                    Err(format!("--x is {} but --y is {}: give both as f32 or both as f64", x.dtype(), y.dtype()))
                }
            }
        }
        (None, None, Some(rows)) => {
            let (x, y) = make_tuning_data::<f32>(rows, a.seed);
            if let Some(dir) = &a.save_data {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                write(&x, &dir.join("X.npy"))?;
                write(&y, &dir.join("y.npy"))?;
            }
            search::<f32>(a, device, x, y)
        }
        _ => Err("give --x X.npy and --y y.npy, or --rows N to search generated data".into()),
    }
}

fn dims<D: kiln::ndarray::Dimension, T>(a: kiln::ndarray::ArrayD<T>) -> Result<kiln::ndarray::Array<T, D>, String> {
    a.into_dimensionality::<D>().map_err(|e| e.to_string())
}

fn search<F: Real>(a: &TuneArgs, device: Device, x: Array2<F>, y: Array1<F>) -> Result<(), String> {
    let report = Tuning::new()
        .n_iter(a.n_iter)
        .seed(a.seed)
        .verbose(a.verbose)
        .run(&x, &y, device)
        .map_err(|e| e.to_string())?;
    eprintln!(
        "kiln tune: {} candidates x {} splits on {} ({} x {} {}) in {:.2} s; best {} (mean R2 {:.5})",
        report.candidates.len(),
        report.splits.len(),
        report.device,
        x.nrows(),
        x.ncols(),
        report.dtype,
        report.seconds,
        report.best_params,
        report.best_score
    );
    for line in report.step_table() {
        eprintln!("  {line}");
    }
    match &a.out {
        Some(path) => {
            std::fs::write(path, report.to_json()).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            println!("{}", report.to_json());
            Ok(())
        }
    }
}
