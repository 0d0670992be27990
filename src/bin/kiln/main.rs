//! The `kiln` command: inspect and run the kernels of a Rust source file without writing a
//! program around them. It uses the same front end as `#[kernel]`, so what it shows is
//! exactly what the macro builds.
//!
//! ```text
//! kiln inspect FILE.rs [--kernel NAME] [--emit ir|passes|loops|clif|asm|cuda|ptx|ptxas]
//!              [--dtype f32|f64] [--arch sm_90]
//! kiln run FILE.rs --kernel NAME [--device cpu|interp|cuda-sim|cuda] [--dtype f32|f64]
//!          --arg NAME=PATH.npy --arg NAME=SCALAR ... [--out PATH.npy ...] [--bench N]
//! kiln tune --x X.npy --y y.npy [--device D] [--n-iter N] [--seed S] [--out results.json]
//! kiln tune --rows N [--save-data DIR] ...   (the main job's generated data)
//! ```

#![forbid(unsafe_code)]

mod npy;
mod source;
mod tune;

use clap::{Parser, Subcommand, ValueEnum};
use kiln::{DType, Device, Kernel};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Freed output blocks of 1 MiB and more are kept for the next output of the same size
/// (`kiln::runtime::pool`): a call returning a new large array then costs what writing into
/// an existing one costs, instead of the OS faulting and zeroing fresh pages.
#[global_allocator]
static ALLOC: kiln::runtime::PoolAlloc = kiln::runtime::PoolAlloc;

#[derive(Parser)]
#[command(name = "kiln", version, about = "Inspect and run kiln kernels from a Rust source file; tune a pipeline")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a kernel's IR at some stage of compilation.
    Inspect {
        /// The Rust file holding `#[kernel]` functions.
        file: PathBuf,
        /// Which kernel (default: every kernel in the file).
        #[arg(long)]
        kernel: Option<String>,
        /// What to print.
        #[arg(long, value_enum, default_value_t = Emit::Ir)]
        emit: Emit,
        /// The float type of a generic `F: Float` kernel.
        #[arg(long, value_parser = parse_float_dtype)]
        dtype: Option<DType>,
        /// GPU architecture for `--emit ptx|ptxas` (sm_80, sm_90, ...).
        #[arg(long, default_value = "sm_90", value_parser = parse_arch)]
        arch: kiln::runtime::Arch,
    },
    /// Run a kernel on `.npy` files and scalars, writing `.npy` outputs.
    Run {
        file: PathBuf,
        #[arg(long)]
        kernel: String,
        /// cpu (native code, the default), interp (the reference interpreter), cuda-sim (the
        /// generated CUDA C on the CUDA simulator) or cuda / cuda:N (a GPU).
        #[arg(long, default_value = "cpu")]
        device: String,
        /// The float type of a generic `F: Float` kernel (default: the type of the first F array).
        #[arg(long, value_parser = parse_float_dtype)]
        dtype: Option<DType>,
        /// `NAME=PATH.npy` for array parameters, `NAME=VALUE` for scalar parameters.
        #[arg(long = "arg", value_name = "NAME=VALUE")]
        args: Vec<String>,
        /// Where to write each output, in order (printed to stdout when absent).
        #[arg(long = "out", value_name = "PATH.npy")]
        outs: Vec<PathBuf>,
        /// Run N times after a warm-up and print timings.
        #[arg(long, value_name = "N")]
        bench: Option<usize>,
    },
    /// Tune SplineTransformer -> Nystroem -> RidgeCV on X, y (the main job's randomized search
    /// over named parameters, ShuffleSplit, R²) and write every candidate's scores as JSON.
    Tune {
        /// Features, an n x d f32 or f64 `.npy` array.
        #[arg(long, value_name = "X.npy")]
        x: Option<PathBuf>,
        /// Targets, an n-long `.npy` array of X's float type.
        #[arg(long, value_name = "y.npy")]
        y: Option<PathBuf>,
        /// Instead of --x/--y: this many rows of the main job's generated f32 data.
        #[arg(long, value_name = "N")]
        rows: Option<usize>,
        /// With --rows: also write the generated data as X.npy and y.npy in this folder.
        #[arg(long, value_name = "DIR")]
        save_data: Option<PathBuf>,
        /// cpu (the default), interp, cuda-sim, or cuda / cuda:N.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Candidates drawn.
        #[arg(long, default_value_t = 30)]
        n_iter: usize,
        /// Seed of the candidates, the splits (and the generated data).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Where to write the JSON results (stdout when absent).
        #[arg(long, value_name = "results.json")]
        out: Option<PathBuf>,
        /// Progress: 0 silent, 1 a progress bar (tracing events when not on a terminal), 2 each fit.
        #[arg(long, default_value_t = 1)]
        verbose: u8,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Emit {
    /// The array IR from the front end.
    Ir,
    /// The array IR after each lowering pass.
    Passes,
    /// The loop IR.
    Loops,
    /// Cranelift IR of the CPU kernels, before and after Cranelift's optimizer.
    Clif,
    /// x86 assembly of the CPU kernels.
    Asm,
    /// CUDA C, exactly as NVRTC and the CUDA simulator get it.
    Cuda,
    /// PTX from NVRTC for `--arch`.
    Ptx,
    /// `ptxas -v`'s registers, spills and shared memory per kernel for `--arch`, with its
    /// threads per block and occupancy (resident warps per SM).
    Ptxas,
}

fn parse_arch(s: &str) -> Result<kiln::runtime::Arch, String> {
    s.strip_prefix("sm_")
        .and_then(|n| n.parse().ok())
        .map(kiln::runtime::Arch)
        .ok_or_else(|| format!("`{s}` is not a GPU architecture like sm_90"))
}

fn parse_float_dtype(s: &str) -> Result<DType, String> {
    match DType::from_name(s) {
        Some(d) if d.is_float() => Ok(d),
        _ => Err(format!("`{s}` is not a float dtype (f32 or f64)")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Progress and KILN_DEBUG reports: a bar on a terminal, else `tracing` events on stderr.
    kiln::runtime::install_stderr_subscriber();
    let result = match cli.command {
        Command::Inspect { file, kernel, emit, dtype, arch } => inspect(&file, kernel.as_deref(), emit, dtype, arch),
        Command::Run { file, kernel, device, dtype, args, outs, bench } => {
            run(&file, &kernel, &device, dtype, &args, &outs, bench)
        }
        Command::Tune { x, y, rows, save_data, device, n_iter, seed, out, verbose } => {
            tune::tune(&tune::TuneArgs { x, y, rows, save_data, device, n_iter, seed, out, verbose })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What a generic kernel is instantiated with when the user says nothing.
fn default_float(kernel: &Kernel, dtype: Option<DType>) -> Option<DType> {
    if kernel.is_generic() {
        Some(dtype.unwrap_or(DType::F32))
    } else {
        None
    }
}

fn inspect(
    file: &Path,
    only: Option<&str>,
    emit: Emit,
    dtype: Option<DType>,
    arch: kiln::runtime::Arch,
) -> Result<(), String> {
    let kernels = source::load(file, only)?;
    for (i, kernel) in kernels.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let float = default_float(kernel, dtype);
        match emit {
            Emit::Ir => print!("{}", kernel.ir_text()),
            Emit::Passes => {
                println!("; input");
                print!("{}", kernel.ir_text());
                for pass in kernel.passes(float).map_err(|e| e.to_string())? {
                    if pass.changed {
                        println!("; after {} ({} us)", pass.name, pass.micros);
                        print!("{}", pass.text);
                    } else {
                        println!("; after {} ({} us): unchanged", pass.name, pass.micros);
                    }
                }
            }
            Emit::Loops => print!("{}", kernel.loops(float).map_err(|e| e.to_string())?),
            Emit::Clif => print!("{}", kernel.clif(float).map_err(|e| e.to_string())?),
            Emit::Asm => print!("{}", kernel.asm(float).map_err(|e| e.to_string())?),
            Emit::Cuda => print!("{}", kernel.cuda(float).map_err(|e| e.to_string())?),
            Emit::Ptx => print!("{}", kernel.ptx(float, arch).map_err(|e| e.to_string())?),
            Emit::Ptxas => {
                for r in kernel.ptxas(float, arch).map_err(|e| e.to_string())? {
                    let occupancy = r.occupancy().map_or_else(|| "unknown".to_string(), |o| o.to_string());
                    println!(
                        "{} {}: registers={} spill_stores={} spill_loads={} stack={} shared={} threads={} occupancy={}",
                        r.arch,
                        r.name,
                        r.registers,
                        r.spill_stores,
                        r.spill_loads,
                        r.stack_frame,
                        r.shared_bytes,
                        r.threads,
                        occupancy
                    );
                }
            }
        }
    }
    Ok(())
}

fn run(
    file: &Path,
    name: &str,
    device: &str,
    dtype: Option<DType>,
    args: &[String],
    outs: &[PathBuf],
    bench: Option<usize>,
) -> Result<(), String> {
    let device: Device = device.parse()?;
    let kernel = source::load(file, Some(name))?.pop().ok_or_else(|| format!("no kernel `{name}`"))?;
    let (values, float) = npy::read_args(&kernel, args, dtype)?;
    let call = || kernel.call_on(device, float, values.iter().map(kiln::Arg::from_value).collect());
    let start = Instant::now();
    let results = call().map_err(|e| e.to_string())?;
    let first_ms = start.elapsed().as_secs_f64() * 1e3;
    if let Some(n) = bench {
        // Compile time: lowering plus JIT for the CPU; the interpreter's first call minus its
        // fastest (it compiles nothing, so this is warm-up noise).
        let n = n.max(1);
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            call().map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let compile_ms = match device {
            Device::Cpu => kernel.cpu_compile_micros(float).map_err(|e| e.to_string())? as f64 / 1e3,
            _ => (first_ms - times[0]).max(0.0),
        };
        println!("bench: compile_ms={compile_ms:.3} median_ms={:.3} min_ms={:.3} runs={n}", times[n / 2], times[0]);
    }
    npy::write_outputs(&results, outs)
}
