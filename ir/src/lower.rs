//! Lowering: array IR -> loop IR, as one short list of named passes (see `passes/`), each
//! verified after it runs and logged through `tracing` at debug level (name, time, and
//! "unchanged" when it did nothing).
//!
//! `check` -> `simplify` -> `schedule` -> `loops` -> `fuse` -> `loop_simplify`.

use crate::loops::{verify_loops, LoopProgram};
use crate::passes::{self, CheckError, Schedule};
use crate::program::Program;
use std::time::Instant;
use thiserror::Error;

/// What one pass did, for inspection (`KILN_DEBUG=2`, `kiln inspect --emit passes`).
#[derive(Clone, Debug, PartialEq)]
pub struct PassRecord {
    pub name: &'static str,
    /// The program (or, for `schedule`, the schedule) as text after the pass.
    pub text: String,
    /// Whether the pass changed its input.
    pub changed: bool,
    pub micros: u128,
}

/// Why lowering failed. `Check` is the user's program being rejected; `Internal` is a bug in a
/// pass, caught by the verifier that runs after it.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum LowerError {
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("internal error in pass `{pass}` lowering `{kernel}`: {message}")]
    Internal { pass: &'static str, kernel: String, message: String },
}

/// Lower a concrete, verified program to loop IR.
///
/// # Errors
/// [`LowerError::Check`] when `p` is generic or invalid; [`LowerError::Internal`] on a bug.
pub fn lower(p: &Program) -> Result<LoopProgram, LowerError> {
    lower_traced(p).map(|(lp, _)| lp)
}

/// [`lower`], also returning the text after every pass.
///
/// # Errors
/// As [`lower`].
pub fn lower_traced(p: &Program) -> Result<(LoopProgram, Vec<PassRecord>), LowerError> {
    let mut trace = Trace { kernel: p.name.clone(), records: vec![] };
    let checked = trace.array("check", p, |p| passes::check(p).map(|()| p.clone()).map_err(LowerError::from))?;
    let simple = trace.array("simplify", &checked, |p| Ok(passes::simplify(p)))?;
    let schedule = trace.schedule(&simple)?;
    let lp = trace.loops("loops", None, |_| {
        passes::build_loops(&simple, &schedule).map_err(|message| LowerError::Internal {
            pass: "loops",
            kernel: p.name.clone(),
            message,
        })
    })?;
    let lp = trace.loops("fuse", Some(&lp), |lp| Ok(passes::fuse(lp.clone())))?;
    let lp = trace.loops("loop_simplify", Some(&lp), |lp| Ok(passes::loop_simplify(lp.clone())))?;
    Ok((lp, trace.records))
}

/// Runs passes, verifies and records their results.
struct Trace {
    kernel: String,
    records: Vec<PassRecord>,
}

impl Trace {
    fn record(&mut self, name: &'static str, text: String, changed: bool, start: Instant) {
        let micros = log_pass(name, &self.kernel, changed, start);
        tracing::trace!(pass = name, "\n{text}");
        self.records.push(PassRecord { name, text, changed, micros });
    }

    fn internal(&self, pass: &'static str, message: String) -> LowerError {
        LowerError::Internal { pass, kernel: self.kernel.clone(), message }
    }

    fn array(
        &mut self,
        name: &'static str,
        p: &Program,
        pass: impl FnOnce(&Program) -> Result<Program, LowerError>,
    ) -> Result<Program, LowerError> {
        let start = Instant::now();
        let out = pass(p)?;
        if name != "check" {
            passes::check(&out).map_err(|e| self.internal(name, e.to_string()))?;
        }
        self.record(name, program_text(&out), out != *p, start);
        Ok(out)
    }

    fn schedule(&mut self, p: &Program) -> Result<Schedule, LowerError> {
        let start = Instant::now();
        let s = passes::schedule(p);
        if s.placement.len() != p.nodes.len() {
            return Err(self.internal("schedule", "the schedule does not place every node".into()));
        }
        self.record("schedule", s.to_string(), true, start);
        Ok(s)
    }

    fn loops(
        &mut self,
        name: &'static str,
        before: Option<&LoopProgram>,
        pass: impl FnOnce(&LoopProgram) -> Result<LoopProgram, LowerError>,
    ) -> Result<LoopProgram, LowerError> {
        let start = Instant::now();
        let empty = LoopProgram {
            name: String::new(),
            syms: vec![],
            params: vec![],
            buffers: vec![],
            kernels: vec![],
            outputs: vec![],
            derived: vec![],
        };
        let out = pass(before.unwrap_or(&empty))?;
        verify_loops(&out).map_err(|e| self.internal(name, format!("{e}\n{out}")))?;
        let changed = before != Some(&out);
        self.record(name, out.to_string(), changed, start);
        Ok(out)
    }
}

/// Log that pass (or sub-pass) `name` ran on `kernel` since `start`, saying "unchanged" when it
/// did nothing; returns its time in microseconds.
pub(crate) fn log_pass(name: &str, kernel: &str, changed: bool, start: Instant) -> u128 {
    let micros = start.elapsed().as_micros();
    if changed {
        tracing::debug!(pass = name, kernel, micros, "pass");
    } else {
        tracing::debug!(pass = name, kernel, micros, "pass unchanged");
    }
    micros
}

/// The array IR text of a program.
fn program_text(p: &Program) -> String {
    p.to_string()
}
