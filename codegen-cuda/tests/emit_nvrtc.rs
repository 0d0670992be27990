//! The emitted CUDA C is real CUDA: NVRTC compiles it for sm_80 and sm_90 (prelude and all,
//! with no headers) and `ptxas -v` reports zero spills, for the representative programs and for
//! random programs. Needs the CUDA tools (`cargo xtask test` installs them); without them the
//! test fails with the install command, or prints a skip under `KILN_SKIP_CUDA_TOOLS=1`.

mod sim_common;

use kiln_cuda::emit::emit;
use kiln_cuda::nvrtc::{self, Arch, CacheDir};
use kiln_cuda::tools::{self, ptxas};
use kiln_ir::lower::lower;
use kiln_ir::testgen::random_program;
use kiln_ir::DType;
use sim_common::{axpby, lowered, nearest, standardize};

#[test]
fn emitted_programs_compile_with_nvrtc_without_spills() {
    let Some(tools) = tools::tools_for_test("emitted_programs_compile_with_nvrtc_without_spills") else { return };
    let mut programs = vec![
        lowered(&axpby()),
        lowered(&standardize(DType::F32)),
        lowered(&standardize(DType::F64)),
        lowered(&nearest()),
    ];
    for seed in 0..12 {
        programs.push(lower(&random_program(seed)).unwrap_or_else(|e| panic!("seed {seed}: {e}")));
    }
    let mut worst = (0, String::new());
    for lp in &programs {
        let cp = emit(lp).unwrap_or_else(|e| panic!("{e}"));
        for arch in [Arch::SM80, Arch::SM90] {
            let compiled = nvrtc::compile_with_cache(&cp.source, arch, &CacheDir::Off)
                .unwrap_or_else(|e| panic!("{} for {arch}: {e}", lp.name));
            let report = ptxas::ptxas_report_with(&tools.ptxas, &compiled.ptx, arch)
                .unwrap_or_else(|e| panic!("{} for {arch}: {e}", lp.name));
            let mut names: Vec<&str> = report.iter().map(|k| k.name.as_str()).collect();
            names.sort_unstable();
            let mut want: Vec<&str> = cp.kernels.iter().map(|k| k.name.as_str()).collect();
            want.sort_unstable();
            assert_eq!(names, want, "{}: every kernel is an entry point", lp.name);
            for k in &report {
                assert!(!k.spills(), "{} {arch}: {k:?}", lp.name);
                if k.registers > worst.0 {
                    worst = (k.registers, format!("{} on {arch}", k.name));
                }
            }
        }
    }
    println!("worst register count: {} ({})", worst.0, worst.1);
}
