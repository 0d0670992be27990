//! Compile-fail cases of the `#[kernel]` macro: one per class of DSL error, each with the
//! `.stderr` rustc prints (message and span). Regenerate with `TRYBUILD=overwrite` and review.

#[test]
fn kernel_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
