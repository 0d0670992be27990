//! parse: in progress.
