//! Tiered compilation, the backend's side: which calls are small enough to run tier-0 code
//! (the same CLIF compiled without Cranelift's optimizer, [`crate::CompileOptions::fast`])
//! while the optimized code is compiled in the background. The runtime owns the caches and
//! the background thread and asks [`tier0`].

use std::sync::OnceLock;

/// Calls doing less work than this ([`crate::cuts::work`]: domain points times inner trips)
/// run tier-0 code while a kernel's optimized code is compiled in the background: tier 0
/// saves about a millisecond of compile and costs at most about 2x the optimized run time,
/// which stays under that below roughly this much work.
pub const TIER0_WORK: u64 = 1 << 18;

/// Tiered CPU compilation is on unless `KILN_TIERS=0` (to time the optimized compile alone).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("KILN_TIERS").map(|v| v != "0").unwrap_or(true))
}

/// Whether a call doing `work` should run tier-0 code while the optimized code is not ready.
pub fn tier0(work: u64) -> bool {
    work < TIER0_WORK && enabled()
}
