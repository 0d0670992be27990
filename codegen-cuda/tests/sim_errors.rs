//! A missing C++ compiler is a typed error naming the compiler and the fix, never a panic.
//! (Its own test binary: the compiler is chosen once per process.)

#[path = "all/sim_common.rs"]
mod sim_common;

use kiln_cuda::{compile_sim, emit, SimError};
use sim_common::{axpby, lowered};

#[test]
fn missing_compiler_is_a_typed_error() {
    // SAFETY-free in edition 2021; this binary has no other test reading the environment.
    std::env::set_var("KILN_CXX", "/nonexistent/kiln-no-such-c++");
    let cp = emit(&lowered(&axpby())).unwrap_or_else(|e| panic!("{e}"));
    match compile_sim(&cp) {
        Err(e @ SimError::NoCompiler { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("/nonexistent/kiln-no-such-c++") && msg.contains("KILN_CXX"), "{msg}");
        }
        other => panic!("expected NoCompiler, got {other:?}"),
    }
}
