//! Loop IR text and verifier tests: hand-written programs parse, print back identically and
//! run; malformed text is a typed error naming the line; every verifier invariant rejects a
//! program that breaks it.

use kiln_ir::loop_interp::run_loops;
use kiln_ir::loops::{parse_loop_program, verify_loops, ParseLoopError};
use kiln_ir::Value;
use ndarray::{ArrayD, IxDyn};

const ROWSUM: &str = "\
program rowsum
  sym n
  sym d
  in x: f64[n, d]
  in idx: i64[n]
  out out0: f64[n]
  out out1: f64[n]
  kernel rowsum_k0 (v0 < n) {
    mut v1: f64 = f64:0.0
    for v2 < d {
      v1 = add(v1, load x[v0, v2])
    }
    store out0[v0] = v1
    let v3: i64 = check(load idx[v0], n)
    if gt(v1, f64:-1e-300) {
      store out1[v0] = select(bool:true, load x[v3, i64:0], f64:NaN)
    } else {
      flag index_out_of_range
      store out1[v0] = cast.f64(powi.-2(f32:2.5))
    }
  }
";

/// Checks a program that should verify, returning it parsed.
fn good(text: &str) -> kiln_ir::loops::LoopProgram {
    let lp = parse_loop_program(text).unwrap_or_else(|e| panic!("{e}"));
    verify_loops(&lp).unwrap_or_else(|e| panic!("{e}"));
    lp
}

/// The verifier's message for a program that parses but breaks an invariant.
fn bad(text: &str) -> String {
    let lp = parse_loop_program(text).unwrap_or_else(|e| panic!("{e}"));
    verify_loops(&lp).expect_err("the verifier accepted a broken program").to_string()
}

#[test]
fn hand_written_program_round_trips_and_runs() {
    // Index 0 on a symbolic axis is not provably in range; the verifier must say so first.
    assert!(bad(ROWSUM).contains("index i64:0 of `x` axis 1 is not provably in range"));
    let text = ROWSUM.replace("load x[v3, i64:0]", "load x[v3, v4]");
    let text = text.replace("    let v3", "    let v4: i64 = check(i64:0, d)\n    let v3");
    let lp = good(&text);
    assert_eq!(lp.to_string(), text);
    let x = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let idx = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1i64, 0]).unwrap();
    let out = run_loops(&lp, &[Value::F64(x), Value::I64(idx)]).unwrap();
    assert_eq!(out[0], Value::F64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![6.0, 15.0]).unwrap()));
    assert_eq!(out[1], Value::F64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![4.0, 1.0]).unwrap()));
}

#[test]
fn syntax_errors_name_the_line() {
    let cases = [
        ("program p\n  sym n\n  in x: f33[n]\n", 3, "unknown dtype `f33`"),
        ("program p\n  in x: f32[m]\n", 2, "unknown symbol `m`"),
        ("program p\n  kernel k () {\n    store y[] = f32:1.0\n  }\n", 3, "unknown buffer `y`"),
        ("program p\n  kernel k () {\n    let v0: f32 = frob(f32:1.0)\n  }\n", 3, "unknown expression `frob`"),
        ("program p\n  kernel k () {\n    let v0: i32 = i32:1.5\n  }\n", 3, "bad i32 constant `1.5`"),
        ("program p\n  kernel k () {\n", 3, "unclosed"),
        ("program p\n  sym n\n  in x: f32[n]\n  in x: f32[n]\n", 4, "declared twice"),
    ];
    for (text, line, msg) in cases {
        let ParseLoopError::Syntax { line: l, message } = parse_loop_program(text).unwrap_err() else {
            panic!("not a syntax error")
        };
        assert_eq!(l, line, "{text}: {message}");
        assert!(message.contains(msg), "{text}: {message}");
    }
}

#[test]
fn verifier_rejects_each_broken_invariant() {
    let head = "program p\n  sym n\n  sym m\n  in x: f32[n]\n  in i: i64[m]\n  out o: f32[n]\n  temp t: f32[n]\n";
    let k = |body: &str| format!("{head}  kernel k (v0 < n) {{\n{body}  }}\n");
    let cases = [
        ("store o[v0] = load x[v9]\n", "v9 is used outside the scope"),
        ("store o[v0] = load x[v0, v0]\n", "has rank 1 but is indexed with 2"),
        ("store o[v0] = add(load x[v0], i32:1)\n", "add applied to f32 and i32"),
        ("store o[v0] = i64:1\n", "stored value has type i64, expected f32"),
        ("let v1: f32 = load i[v0]\nstore o[v0] = v1\n", "index v0 of `i` axis 0 is not provably in range"),
        ("store o[v0] = load x[check(v0, n)]\n", "check used inside an index"),
        ("let v1: f32 = f32:1.0\nv1 = f32:2.0\nstore o[v0] = v1\n", "assignment to immutable v1"),
        ("let v0: f32 = f32:1.0\nstore o[v0] = load x[v0]\n", "variable v0 defined twice"),
        ("store x[v0] = f32:1.0\nstore o[v0] = f32:1.0\n", "store to input buffer `x`"),
        ("store o[v0] = load t[v0]\n", "reads `t` before any earlier kernel writes it"),
        // A kernel may accumulate into what it writes only in its own slab (axis 0 = v0).
        ("store t[v0] = f32:1.0\nstore o[v0] = load t[i64:0]\n", "reads `t` before any earlier kernel writes it"),
        ("store o[v0] = sqrt(i64:4)\n", "sqrt applied to i64"),
        ("if i64:1 {\n}\nstore o[v0] = f32:0.0\n", "if condition has type i64"),
        ("for v1 < m {\nlet v2: f32 = f32:1.0\n}\nstore o[v0] = v2\n", "v2 is used outside the scope"),
    ];
    for (body, msg) in cases {
        let text = k(body);
        let e = bad(&text);
        assert!(e.contains(msg), "expected `{msg}` for\n{text}\ngot: {e}");
    }
}

#[test]
fn a_kernel_may_accumulate_in_its_own_slab_of_a_temporary() {
    // Each point `v0` reads and writes only `t[v0, ..]`: a scatter's partials.
    let text = "program p\n  sym n\n  sym m\n  in x: f32[n]\n  out o: f32[n]\n  temp t: f32[n, m]\n  kernel k (v0 < n) {\n    for v1 < m {\n      store t[v0, v1] = f32:0.0\n    }\n    for v2 < m {\n      store t[v0, v2] = add(load t[v0, v2], load x[v0])\n    }\n  }\n  kernel k1 (v3 < n) {\n    mut v4: f32 = f32:0.0\n    for v5 < m {\n      v4 = add(v4, load t[v3, v5])\n    }\n    store o[v3] = v4\n  }\n";
    let lp = parse_loop_program(text).expect("parse");
    verify_loops(&lp).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn kernel_hints_round_trip_and_are_verified() {
    // A two-phase partial kernel: chunk axis first, a ranged loop over the chunk's rows.
    let text = "program p\n  sym n\n  in x: f32[n]\n  out o: f32[4]\n  kernel p_k0 (v0 < 4) two_phase {\n    mut v1: f32 = f32:0.0\n    for v2 < n from div(mul(v0, dim(n)), i64:4) to div(mul(add(v0, i64:1), dim(n)), i64:4) {\n      v1 = add(v1, load x[v2])\n    }\n    store o[v0] = v1\n  }\n";
    let lp = good(text);
    assert_eq!(lp.kernels[0].hint, kiln_ir::loops::KernelHint::TwoPhase);
    assert_eq!(lp.to_string(), text);
    // The same kernel over a symbolic chunk count, or claiming a shape it does not have.
    let sym = text.replace("out o: f32[4]", "out o: f32[n]").replace("(v0 < 4)", "(v0 < n)");
    assert!(bad(&sym).contains("first domain axis is no constant chunk count"), "{}", bad(&sym));
    let scatter = text
        .replace(" two_phase {", " scatter {")
        .replace(" from div(mul(v0, dim(n)), i64:4) to div(mul(add(v0, i64:1), dim(n)), i64:4)", "");
    assert!(bad(&scatter).contains("has no `for .. from .. to ..`"), "{}", bad(&scatter));
    // An unknown hint is a syntax error on its line.
    let ParseLoopError::Syntax { line, message } = parse_loop_program(&text.replace("two_phase", "tiled")).unwrap_err()
    else {
        panic!("not a syntax error")
    };
    assert_eq!(line, 5);
    assert!(message.contains("expected a kernel hint"), "{message}");
}

/// `overwrites`: a buffer stored at every point by a kernel that neither it nor an earlier
/// kernel reads needs no zeroing, even when a later kernel reads it (a temporary); one read
/// before or by its covering kernel, or stored only in part, does.
#[test]
fn overwrites_asks_for_a_whole_store_before_any_read() {
    let lp = good(
        "\
program temps
  sym n
  in x: f32[n]
  out out0: f32[n]
  out out1: f32[n]
  temp t: f32[n]
  temp u: f32[n]
  temp w: f32[n]
  kernel temps_k0 (v0 < n) {
    store t[v0] = mul(load x[v0], f32:2.0)
    store u[v0] = add(load u[v0], f32:1.0)
  }
  kernel temps_k1 (v1 < n) {
    store w[v1] = load t[v1]
    store out0[v1] = add(load t[v1], load w[v1])
  }
  kernel temps_k2 (v2 < n) {
    if gt(load x[v2], f32:0.0) {
      store out1[v2] = load u[v2]
    }
  }
",
    );
    let b = |name: &str| {
        let i = lp.buffers.iter().position(|b| b.name == name).unwrap();
        kiln_ir::loops::BufId(i as u32)
    };
    let syms = [5];
    assert!(lp.overwrites(b("t"), &syms), "t: stored whole by k0, read only by k1");
    assert!(lp.overwrites(b("out0"), &syms), "out0: stored whole, never read");
    assert!(!lp.overwrites(b("u"), &syms), "u: k0 reads it where it stores it");
    assert!(!lp.overwrites(b("w"), &syms), "w: the kernel that stores it whole also reads it");
    assert!(!lp.overwrites(b("out1"), &syms), "out1: stored under a condition");
}
