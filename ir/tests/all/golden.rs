//! Golden lowering: each `tests/golden/lower/<name>.kiln` (array IR text, the format of
//! `kiln_ir::parse`) lowers to exactly the loop IR text of `<name>.loops` beside it, so a change
//! to a pass shows as a text diff of those files. Add a case by adding a `.kiln` file. After an
//! intended change, rewrite the expected files and review the diff:
//! `KILN_BLESS=1 cargo test -p kiln-ir --test all golden::`, then `git diff ir/tests/golden`.

use kiln_ir::lower::lower;
use kiln_ir::parse::parse_program;
use kiln_ir::testgen::check_golden_dir;
use std::path::Path;

#[test]
fn lowering_prints_the_golden_loop_ir() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/lower");
    check_golden_dir(&dir, "kiln", "loops", "KILN_BLESS=1 cargo test -p kiln-ir --test all golden::", |text| {
        let program = parse_program(text).map_err(|e| e.to_string())?;
        lower(&program).map(|lp| lp.to_string()).map_err(|e| e.to_string())
    });
}
