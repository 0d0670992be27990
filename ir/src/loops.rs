//! loops: in progress.
