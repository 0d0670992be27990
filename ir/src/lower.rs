//! lower: in progress.
