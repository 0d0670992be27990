//! interp: in progress.
