//! Golden CLIF: each `tests/golden/clif/<name>.loops` (loop IR text) compiles to exactly the
//! CLIF of `<name>.clif` beside it (every kernel as kiln builds it, before Cranelift's
//! optimizer, so a Cranelift upgrade does not rewrite them), so a change to code generation
//! shows as a text diff of those files. Add a case by adding a
//! `.loops` file. After an intended change, rewrite the expected files and review the diff:
//! `KILN_BLESS=1 cargo test -p kiln-cpu --test all golden::`, then `git diff codegen-cpu/tests/golden`.
//!
//! Math functions are compiled as libm calls (`poly_math: false`): the inline polynomials use
//! `fma` where the host has it, and the expected text must not depend on the machine.

use kiln_cpu::{compile_with, CompileOptions};
use kiln_ir::loops::parse_loop_program;
use kiln_ir::testgen::check_golden_dir;
use std::path::Path;

#[test]
fn code_generation_prints_the_golden_clif() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/clif");
    check_golden_dir(&dir, "loops", "clif", "KILN_BLESS=1 cargo test -p kiln-cpu --test all golden::", |text| {
        let lp = parse_loop_program(text).map_err(|e| e.to_string())?;
        let opts = CompileOptions { inspect: true, poly_math: false, ..CompileOptions::default() };
        let program = compile_with(&lp, &opts).map_err(|e| e.to_string())?;
        let clif = before_optimization(program.clif());
        if clif.is_empty() {
            return Err(format!("no \"{BEFORE}\" section in the CLIF listing:\n{}", program.clif()));
        }
        Ok(clif)
    });
}

/// The label that ends the header line of each kernel's unoptimized CLIF in the listing.
const BEFORE: &str = "(clif before optimization)";

/// The sections of a CLIF listing that hold kernels as kiln built them (each begins with a
/// `; kernel <name> (clif ...)` line), without the optimized copies.
fn before_optimization(listing: &str) -> String {
    let mut keep = false;
    let mut out = String::new();
    for line in listing.split_inclusive('\n') {
        if line.starts_with("; kernel ") {
            keep = line.trim_end().ends_with(BEFORE);
        }
        if keep {
            out.push_str(line);
        }
    }
    out
}
