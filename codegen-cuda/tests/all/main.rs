//! kiln-cuda's integration tests, one binary (`cargo test -p kiln-cuda --test all`): one module
//! per subject, `sim_common` holds the shared programs and helpers. One binary links once
//! instead of once per file, which dominates a cold build on two cores. Run one module with a
//! filter: `cargo test -p kiln-cuda --test all sim_tiled::`; `nvrtc_gpu::` is what
//! `cargo xtask test-gpu` runs on a GPU.
//!
//! `sim_errors` is a binary of its own: it sets `KILN_CXX`, which the simulator reads once per
//! process. The simulator timings are a bench: `cargo bench -p kiln-benches --bench sim_timing`.

mod emit_golden;
mod emit_nvrtc;
mod nvrtc;
mod nvrtc_gpu;
mod sim_common;
mod sim_gemm;
mod sim_hand;
mod sim_random;
mod sim_tiled;
