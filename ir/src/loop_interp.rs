//! loop_interp: in progress.
