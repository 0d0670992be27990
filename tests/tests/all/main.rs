//! kiln-tests' integration tests that share a process safely, one binary
//! (`cargo test -p kiln-tests --test all`): the CPU runtime, random programs on every device,
//! and tensors. One binary links once instead of once per file.
//!
//! Binaries of their own, because they measure or read process-wide state: `conformance` and
//! `estimator_kernels` (each checks every kernel in the process's registry with NVRTC, so other
//! tests' kernels must not join it), `jit_memory` (process-wide memory counts) and
//! `compile_fail` (trybuild).

mod cpu_runtime;
mod error_kinds;
mod random_programs;
mod tensors;
mod tune;
