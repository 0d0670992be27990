//! print: in progress.
