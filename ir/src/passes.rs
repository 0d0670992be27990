//! Lowering passes, one per file, in the order [`crate::lower::lower`] runs them:
//! `check` -> `simplify` -> `schedule` -> `build_loops` -> `fuse` -> `loop_simplify`.
//!
//! Each pass is one public function; array IR passes take and return a [`crate::Program`],
//! loop passes a [`crate::loops::LoopProgram`]. `schedule` returns a separate [`Schedule`]
//! value that `build_loops` follows: changing the schedule never changes results.

mod build_loops;
mod check;
mod fuse;
mod loop_simplify;
mod schedule;
mod simplify;
mod sink;

pub use build_loops::build_loops;
pub use check::{check, CheckError};
pub use fuse::fuse;
pub use loop_simplify::loop_simplify;
pub use schedule::{schedule, Placement, ReduceStrategy, Schedule};
pub use simplify::simplify;
