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
/// Every pass is verified after it runs and logged at debug level, but no pass's text is
/// rendered: that is [`lower_traced`]'s job, for inspection.
///
/// # Errors
/// [`LowerError::Check`] when `p` is generic or invalid; [`LowerError::Internal`] on a bug.
pub fn lower(p: &Program) -> Result<LoopProgram, LowerError> {
    run(p, false).map(|(lp, _)| lp)
}

/// [`lower`], also returning the text after every pass.
///
/// # Errors
/// As [`lower`].
pub fn lower_traced(p: &Program) -> Result<(LoopProgram, Vec<PassRecord>), LowerError> {
    run(p, true)
}

/// The passes in order; `keep` renders each pass's result as text and compares it with the
/// pass's input (whether it `changed`), which costs about as much as the passes themselves.
fn run(p: &Program, keep: bool) -> Result<(LoopProgram, Vec<PassRecord>), LowerError> {
    let mut trace = Trace { kernel: p.name.clone(), keep, records: vec![] };
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
    let lp = trace.loops("fuse", Some(lp), |lp| Ok(passes::fuse(lp)))?;
    let lp = trace.loops("loop_simplify", Some(lp), |lp| Ok(passes::loop_simplify(lp)))?;
    Ok((lp, trace.records))
}

/// Runs passes, verifies and records their results.
struct Trace {
    kernel: String,
    /// Keep each pass's text (for [`lower_traced`]).
    keep: bool,
    records: Vec<PassRecord>,
}

impl Trace {
    /// Log the pass and, when tracing, keep its text (`text` is only called then).
    fn record(&mut self, name: &'static str, text: impl FnOnce() -> String, changed: bool, start: Instant) {
        // Untraced, whether the pass changed anything is not computed: logged as a plain pass.
        let micros = log_pass(name, &self.kernel, changed || !self.keep, start);
        if self.keep {
            let text = text();
            tracing::trace!(pass = name, "\n{text}");
            self.records.push(PassRecord { name, text, changed, micros });
        }
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
        let changed = self.keep && out != *p;
        self.record(name, || program_text(&out), changed, start);
        Ok(out)
    }

    fn schedule(&mut self, p: &Program) -> Result<Schedule, LowerError> {
        let start = Instant::now();
        let s = passes::schedule(p);
        if s.placement.len() != p.nodes.len() {
            return Err(self.internal("schedule", "the schedule does not place every node".into()));
        }
        self.record("schedule", || s.to_string(), true, start);
        Ok(s)
    }

    /// Run a loop-IR pass on `before` (the empty program for the first), verify its result.
    fn loops(
        &mut self,
        name: &'static str,
        before: Option<LoopProgram>,
        pass: impl FnOnce(LoopProgram) -> Result<LoopProgram, LowerError>,
    ) -> Result<LoopProgram, LowerError> {
        let start = Instant::now();
        let first = before.is_none();
        let input = before.unwrap_or_else(|| LoopProgram {
            name: String::new(),
            syms: vec![],
            params: vec![],
            buffers: vec![],
            kernels: vec![],
            outputs: vec![],
            derived: vec![],
        });
        // Only a trace compares the result with the input, so only a trace keeps a copy.
        let kept = (self.keep && !first).then(|| input.clone());
        let out = pass(input)?;
        verify_loops(&out).map_err(|e| self.internal(name, format!("{e}\n{out}")))?;
        let changed = first || kept.is_some_and(|k| k != out);
        self.record(name, || out.to_string(), changed, start);
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
