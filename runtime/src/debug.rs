//! `KILN_DEBUG`: one knob for what kiln reports while it works, printed through `tracing`.
//!
//! * `1`: kernel names, the device, and timings of compilation and of each call;
//! * `2`: also the IR after each lowering pass ("unchanged" when a pass did nothing) and
//!   the loop IR;
//! * `3`: also the CLIF of each CPU compile and the CUDA C of each CUDA emission;
//! * `4`: also the x86 assembly of each CPU compile (with the `disas` feature).
//!
//! When `KILN_DEBUG` is set and the program installed no `tracing` subscriber of its own,
//! kiln installs a plain one writing to stderr, so the knob works in any program. kiln's
//! binaries install the same subscriber up front ([`install_stderr_subscriber`]), so that
//! the progress of long work (a search's `tracing` events at `verbose >= 1`) is printed when
//! stderr is not a terminal.
//!
//! The subscriber also times spans of target [`STEP_TARGET`] and adds their durations up per
//! value of their `step` field ([`step_seconds`]): the model-selection tools open one around
//! each pipeline step's fit / transform / predict, the scoring and the fold gathers, which
//! gives the per-step time breakdown of a search.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of the spans [`step_seconds`] adds up (`tracing::info_span!(target:
/// kiln_runtime::STEP_TARGET, "step", step = "Nystroem.fit_transform")`).
pub const STEP_TARGET: &str = "kiln::step";

/// The `KILN_DEBUG` level (0 when unset or unparsable).
pub fn level() -> u8 {
    static LEVEL: OnceLock<u8> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let level = std::env::var("KILN_DEBUG").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
        if level > 0 {
            // Another subscriber may already be installed: then that one decides what shows.
            install_stderr_subscriber();
        }
        level
    })
}

/// Installs kiln's `tracing` subscriber, unless the program installed one: kiln's INFO
/// events (progress, `KILN_DEBUG` reports; the passes' own DEBUG events are for custom
/// subscribers) printed plainly to stderr (colours only on a terminal), and the step timer of
/// [`step_seconds`]. Returns whether this call installed it (false when a subscriber, kiln's
/// or the program's, was already there).
pub fn install_stderr_subscriber() -> bool {
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_filter(LevelFilter::INFO);
    tracing_subscriber::registry().with(fmt).with(StepTimer).try_init().is_ok()
}

fn totals() -> &'static Mutex<BTreeMap<String, (f64, u64)>> {
    static TOTALS: OnceLock<Mutex<BTreeMap<String, (f64, u64)>>> = OnceLock::new();
    TOTALS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// The seconds spent in spans of target [`STEP_TARGET`] since the last
/// [`reset_step_seconds`], added up per `step` field, with the number of spans: filled only
/// while kiln's subscriber ([`install_stderr_subscriber`]) is the one installed. Totals are
/// process-wide: concurrent searches add into the same totals.
pub fn step_seconds() -> BTreeMap<String, (f64, u64)> {
    totals().lock().map(|t| t.clone()).unwrap_or_default()
}

/// Clears [`step_seconds`].
pub fn reset_step_seconds() {
    if let Ok(mut t) = totals().lock() {
        t.clear();
    }
}

/// The `step` field of a span and when it was opened.
struct Opened {
    step: String,
    at: Instant,
}

struct StepField(Option<String>);

impl Visit for StepField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "step" {
            self.0 = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "step" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_string());
        }
    }
}

/// Times spans of [`STEP_TARGET`] from opening to closing (wall time, children included).
struct StepTimer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for StepTimer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().target() != STEP_TARGET {
            return;
        }
        let mut field = StepField(None);
        attrs.record(&mut field);
        if let (Some(step), Some(span)) = (field.0, ctx.span(id)) {
            span.extensions_mut().insert(Opened { step, at: Instant::now() });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        let Some(opened) = ext.get::<Opened>() else { return };
        let seconds = opened.at.elapsed().as_secs_f64();
        if let Ok(mut t) = totals().lock() {
            let e = t.entry(opened.step.clone()).or_insert((0.0, 0));
            e.0 += seconds;
            e.1 += 1;
        }
    }
}
