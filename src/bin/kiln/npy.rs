//! `.npy` arguments and outputs of `kiln run` (C and Fortran order, via ndarray-npy, each
//! file's header checked against its length first).

use kiln::estimators::datasets::check_npy;
use kiln::ir::{DType, ElemTy};
use kiln::ndarray::{ArrayD, IxDyn};
use kiln::{Kernel, Value};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek};
use std::path::{Path, PathBuf};

/// One `Value` per parameter from `NAME=...` arguments, and the float type of a generic
/// kernel (from `--dtype`, else from the first `F` array file, else f32).
pub fn read_args(
    kernel: &Kernel,
    args: &[String],
    dtype: Option<DType>,
) -> Result<(Vec<Value>, Option<DType>), String> {
    let params = &kernel.program().params;
    let mut given: Vec<Option<&str>> = vec![None; params.len()];
    for arg in args {
        let (name, value) = arg.split_once('=').ok_or_else(|| format!("`--arg {arg}` is not NAME=VALUE"))?;
        let i = params.iter().position(|p| p.name == name).ok_or_else(|| {
            let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            format!("kernel `{}` has no parameter `{name}` (parameters: {})", kernel.name(), names.join(", "))
        })?;
        if given[i].replace(value).is_some() {
            return Err(format!("parameter `{name}` is given twice"));
        }
    }
    let mut float = if kernel.is_generic() { dtype } else { None };
    let mut values = Vec::with_capacity(params.len());
    for (param, value) in params.iter().zip(&given) {
        let value = value.ok_or_else(|| format!("missing `--arg {}=...`", param.name))?;
        let v = match (param.ty.elem, float) {
            (ElemTy::Concrete(d), _) | (ElemTy::Float, Some(d)) => read_value(&param.name, value, d, param.ty.rank())?,
            (ElemTy::Float, None) => {
                let v = read_value(&param.name, value, DType::F64, param.ty.rank())
                    .or_else(|_| read_value(&param.name, value, DType::F32, param.ty.rank()))?;
                float = Some(v.dtype());
                v
            }
        };
        values.push(v);
    }
    if kernel.is_generic() && float.is_none() {
        float = Some(DType::F32);
    }
    Ok((values, float))
}

/// A scalar parameter takes a literal (or a 0-d `.npy`); an array parameter a `.npy` path.
fn read_value(name: &str, text: &str, dtype: DType, rank: usize) -> Result<Value, String> {
    if rank == 0 && !text.ends_with(".npy") {
        return Ok(match dtype {
            DType::F32 => Value::F32(ArrayD::from_elem(IxDyn(&[]), parse_scalar(name, text, dtype)?)),
            DType::F64 => Value::F64(ArrayD::from_elem(IxDyn(&[]), parse_scalar(name, text, dtype)?)),
            DType::I32 => Value::I32(ArrayD::from_elem(IxDyn(&[]), parse_scalar(name, text, dtype)?)),
            DType::I64 => Value::I64(ArrayD::from_elem(IxDyn(&[]), parse_scalar(name, text, dtype)?)),
            DType::U32 => Value::U32(ArrayD::from_elem(IxDyn(&[]), parse_scalar(name, text, dtype)?)),
            DType::Bool => Value::Bool(ArrayD::from_elem(IxDyn(&[]), parse_scalar(name, text, dtype)?)),
        });
    }
    let mut file = open_npy(name, text, Path::new(text))?;
    let bad = |e: ndarray_npy::ReadNpyError| format!("parameter `{name}`: {text} is not a {dtype} .npy array: {e}");
    Ok(match dtype {
        DType::F32 => Value::F32(ArrayD::read_npy(&mut file).map_err(bad)?),
        DType::F64 => Value::F64(ArrayD::read_npy(&mut file).map_err(bad)?),
        DType::I32 => Value::I32(ArrayD::read_npy(&mut file).map_err(bad)?),
        DType::I64 => Value::I64(ArrayD::read_npy(&mut file).map_err(bad)?),
        DType::U32 => Value::U32(ArrayD::read_npy(&mut file).map_err(bad)?),
        DType::Bool => Value::Bool(ArrayD::read_npy(&mut file).map_err(bad)?),
    })
}

/// The file at `path`, its header checked against its length (ndarray-npy allocates what a
/// header claims before reading the data) and the reader back at its start.
fn open_npy(name: &str, text: &str, path: &Path) -> Result<BufReader<File>, String> {
    let cannot = |e: std::io::Error| format!("parameter `{name}`: cannot open {text}: {e}");
    let file = File::open(path).map_err(cannot)?;
    let len = file.metadata().map_err(cannot)?.len();
    let mut reader = BufReader::new(file);
    check_npy(&mut reader, len).map_err(|e| format!("parameter `{name}`: {text} is not a readable .npy array: {e}"))?;
    reader.rewind().map_err(cannot)?;
    Ok(reader)
}

fn parse_scalar<T: std::str::FromStr>(name: &str, text: &str, dtype: DType) -> Result<T, String> {
    text.parse().map_err(|_| format!("parameter `{name}`: `{text}` is not a {dtype} value"))
}

/// Write each output to its path, or print them all when no path is given.
pub fn write_outputs(results: &[Value], outs: &[PathBuf]) -> Result<(), String> {
    if outs.is_empty() {
        for (i, v) in results.iter().enumerate() {
            kiln::ir::with_value!(v, a => println!("output {i}: {}{:?}\n{a}", v.dtype(), a.shape()));
        }
        return Ok(());
    }
    if outs.len() != results.len() {
        return Err(format!("the kernel has {} outputs but {} --out paths were given", results.len(), outs.len()));
    }
    for (v, path) in results.iter().zip(outs) {
        let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let w = BufWriter::new(file);
        kiln::ir::with_value!(v, a => a.write_npy(w)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// A float `.npy` array of `rank` dimensions (f32 or f64, whichever the file holds), for the
/// options of `kiln tune` (`what` names the option in errors).
pub fn read_float(what: &str, path: &Path, rank: usize) -> Result<Value, String> {
    let text = path.display().to_string();
    let v = read_value(what, &text, DType::F32, rank).or_else(|_| read_value(what, &text, DType::F64, rank))?;
    let shape = v.shape().to_vec();
    if shape.len() != rank {
        return Err(format!("{what}: {text} has shape {shape:?}, expected {rank} dimensions"));
    }
    Ok(v)
}
