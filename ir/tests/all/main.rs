//! kiln-ir's integration tests, one binary (`cargo test -p kiln-ir --test all`): one module per
//! subject. One binary links once instead of once per file, which dominates a cold build on
//! two cores. Run one module with a filter: `cargo test -p kiln-ir --test all lower::`.

mod blocked;
mod extents;
mod gemm;
mod golden;
mod interp;
mod loops_text;
mod lower;
mod scan;
mod slice;
mod sort;
mod text;
mod verify;
