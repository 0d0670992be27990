//! Where compile time goes: module setup vs per-kernel build/compile, over many compiles.
use kiln_ir::loops::parse_loop_program;
fn main() {
    let text = "program axpby\n  sym n\n  in a: f32[]\n  in x: f32[n]\n  in b: f32[]\n  in y: f32[n]\n  out out0: f32[n]\n  kernel axpby_k0 (v0 < n) {\n    store out0[v0] = add(mul(load a[], load x[v0]), mul(load b[], load y[v0]))\n  }\n";
    let lp = parse_loop_program(text).unwrap();
    for simd in [true, false] {
        let mut total = vec![];
        let mut kern = vec![];
        for _ in 0..200 {
            let p = kiln_cpu::compile_with(&lp, &kiln_cpu::CompileOptions { simd, ..Default::default() }).unwrap();
            total.push(p.compile_micros());
            kern.push(p.kernel_micros()[0]);
        }
        total.sort();
        kern.sort();
        println!("simd={simd}: total median {} us, kernel median {} us", total[100], kern[100]);
    }
}
