//! kiln-cuda: the CUDA backend. The same loop IR the CPU backend compiles is rendered as CUDA C
//! ([`emit`]), compiled at run time by NVRTC ([`nvrtc`], tools found by [`tools`]) and launched
//! through the driver API ([`driver`]); or compiled with the system C++ compiler behind a host
//! prelude and run on the CPU by the CUDA simulator ([`sim`]), which is how the generated text
//! is *executed* on machines without a GPU.
//!
//! The kernel ABI (one by-value argument struct per program, block size, grid mapping) is
//! documented in [`emit`]; every launcher (the driver, the simulator) follows it.

pub mod blas;
pub mod emit;
pub mod sim;

pub mod driver;
pub mod nvrtc;
pub mod tools;

pub use emit::{emit, CudaKernel, CudaProgram, EmitError, LaunchShape, Mapping};
pub use sim::{compile_sim, run_sim, run_sim_with, SimError, SimOptions, SimProgram};
