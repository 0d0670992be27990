//! kiln-cpu's integration tests, one binary (`cargo test -p kiln-cpu --test all`): one module
//! per subject, `common` holds the shared helpers. One binary links once instead of once per
//! file, which dominates a cold build on two cores. Run one module with a filter:
//! `cargo test -p kiln-cpu --test all rows::`.
//!
//! The math sweeps of `vmath` test a sample of their inputs by default; `KILN_FULL=1` (set by
//! `cargo xtask test --full`) sweeps them all.

mod blocked;
mod columns;
mod common;
mod fma;
mod gemm;
mod golden;
mod hand;
mod hints;
mod maps;
mod ops;
mod ordered_reductions;
mod random;
mod reduce;
mod rows;
mod tiers;
mod vmath;
