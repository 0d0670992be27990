//! kiln-benches: benchmark helpers.
