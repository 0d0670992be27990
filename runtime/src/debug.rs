//! `KILN_DEBUG`: one knob for what kiln reports while it works, printed through `tracing`.
//!
//! * `1`: kernel names, the device, and timings of compilation and of each call;
//! * `2`: also the IR after each lowering pass ("unchanged" when a pass did nothing) and
//!   the loop IR;
//! * `3`: also the CLIF of each CPU compile and the CUDA C of each CUDA emission;
//! * `4`: also the x86 assembly of each CPU compile (with the `disas` feature).
//!
//! When `KILN_DEBUG` is set and the program installed no `tracing` subscriber of its own,
//! kiln installs a plain one writing to stderr, so the knob works in any program.

use std::sync::OnceLock;

/// The `KILN_DEBUG` level (0 when unset or unparsable).
pub fn level() -> u8 {
    static LEVEL: OnceLock<u8> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let level = std::env::var("KILN_DEBUG").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
        if level > 0 {
            // Another subscriber may already be installed: then that one decides what shows.
            // kiln reports at INFO; the passes' own DEBUG events are for custom subscribers.
            let _ = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_writer(std::io::stderr)
                .with_target(false)
                .without_time()
                .try_init();
        }
        level
    })
}
