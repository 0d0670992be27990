//! NVRTC and ptxas on hand-written CUDA C: compiles for sm_80 and sm_90 with zero spills, the
//! disk cache (hits, corrupt files rebuilt), compile errors with NVRTC's log, and the timings.
//!
//! These need the CUDA tools: `cargo xtask test` installs them; without them the tests fail with
//! the install command, or print a skip under `KILN_SKIP_CUDA_TOOLS=1`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kiln_cuda::nvrtc::{self, Arch, CacheDir, CudaError};
use kiln_cuda::tools::{self, ptxas};

/// Kernels in the style the emitter produces: no `#include`, `extern "C"`, a by-value argument
/// struct, grid-stride loops, a shared-memory block reduction with warp shuffles, a tiled product.
const KERNELS: &str = r#"
struct AxpyArgs { float a; const float* x; float* y; long long n; };

extern "C" __global__ void axpy(AxpyArgs args) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < args.n;
         i += (long long)gridDim.x * blockDim.x) {
        args.y[i] = args.a * args.x[i] + args.y[i];
    }
}

struct SumArgs { const double* x; double* partial; long long n; };

extern "C" __global__ void block_sum(SumArgs args) {
    __shared__ double warp_sums[32];
    double acc = 0.0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < args.n;
         i += (long long)gridDim.x * blockDim.x) {
        acc += args.x[i];
    }
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, off);
    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x < 32) {
        acc = threadIdx.x < (blockDim.x >> 5) ? warp_sums[threadIdx.x] : 0.0;
        for (int off = 16; off > 0; off >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, off);
        if (threadIdx.x == 0) args.partial[blockIdx.x] = acc;
    }
}

struct MatmulArgs { const float* a; const float* b; float* c; int n; int k; int m; };

extern "C" __global__ void matmul_tiled(MatmulArgs args) {
    __shared__ float ta[16][17];
    __shared__ float tb[16][17];
    int row = blockIdx.y * 16 + threadIdx.y, col = blockIdx.x * 16 + threadIdx.x;
    float acc = 0.0f;
    for (int t = 0; t < args.k; t += 16) {
        ta[threadIdx.y][threadIdx.x] = (row < args.n && t + threadIdx.x < args.k) ? args.a[row * args.k + t + threadIdx.x] : 0.0f;
        tb[threadIdx.y][threadIdx.x] = (col < args.m && t + threadIdx.y < args.k) ? args.b[(t + threadIdx.y) * args.m + col] : 0.0f;
        __syncthreads();
        for (int l = 0; l < 16; ++l) acc += ta[threadIdx.y][l] * tb[l][threadIdx.x];
        __syncthreads();
    }
    if (row < args.n && col < args.m) args.c[row * args.m + col] = acc;
}
"#;

/// A fresh, empty cache directory for one test.
fn temp_cache(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-nvrtc-test-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

#[test]
fn kernels_compile_for_sm80_and_sm90_without_spills() {
    let Some(tools) = tools::tools_for_test("kernels_compile_for_sm80_and_sm90_without_spills") else { return };
    for arch in [Arch::SM80, Arch::SM90] {
        let compiled = nvrtc::compile_with_cache(KERNELS, arch, &CacheDir::Off).expect("compiles");
        assert!(!compiled.from_cache);
        assert!(compiled.ptx.contains(".visible .entry axpy("), "{}", compiled.ptx);
        assert!(compiled.ptx.contains(&format!(".target {arch}")), "ptx targets {arch}");
        assert_eq!(&compiled.cubin[..4], b"\x7fELF", "the cubin is an ELF image");
        let report = ptxas::ptxas_report_with(&tools.ptxas, &compiled.ptx, arch).expect("ptxas runs");
        let mut names: Vec<&str> = report.iter().map(|k| k.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["axpy", "block_sum", "matmul_tiled"]);
        for k in &report {
            assert_eq!(k.arch, arch.to_string());
            assert!(k.registers > 0 && k.registers <= 255, "{k:?}");
            assert!(!k.spills(), "{arch} {k:?}");
            println!("{arch} {}: {} registers, {} bytes smem", k.name, k.registers, k.shared_bytes);
        }
        // Shared memory as declared: 32 doubles; two 16x17 float tiles.
        let smem = |name: &str| report.iter().find(|k| k.name == name).map(|k| k.shared_bytes);
        assert_eq!(smem("axpy"), Some(0));
        assert_eq!(smem("block_sum"), Some(32 * 8));
        assert_eq!(smem("matmul_tiled"), Some(2 * 16 * 17 * 4));
    }
}

#[test]
fn ptxas_counts_spills_when_registers_are_capped() {
    let Some(tools) = tools::tools_for_test("ptxas_counts_spills_when_registers_are_capped") else { return };
    // 64 live accumulators in the 32 registers that 2 blocks of 1024 threads per SM leave cannot
    // fit: ptxas must report spills, which shows the zero-spill assertions above can fail.
    let source = r#"
extern "C" __global__ void __launch_bounds__(1024, 2) many_live(const float* x, float* y, int n) {
    float acc[64];
    #pragma unroll
    for (int j = 0; j < 64; ++j) acc[j] = x[j * n + threadIdx.x];
    for (int i = 0; i < n; ++i) {
        #pragma unroll
        for (int j = 0; j < 64; ++j) acc[j] = acc[j] * x[i] + acc[(j + 1) & 63];
    }
    float s = 0.0f;
    #pragma unroll
    for (int j = 0; j < 64; ++j) s += acc[j] * (float)j;
    y[threadIdx.x] = s;
}
"#;
    let compiled = nvrtc::compile_with_cache(source, Arch::SM90, &CacheDir::Off).expect("compiles");
    let report = ptxas::ptxas_report_with(&tools.ptxas, &compiled.ptx, Arch::SM90).expect("ptxas runs");
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(report[0].spills(), "{report:?}");
    assert!(report[0].spill_stores > 0 && report[0].spill_loads > 0, "{report:?}");
    assert!(report[0].registers <= 32, "{report:?}");
}

#[test]
fn compile_errors_carry_the_log_and_the_source() {
    if tools::tools_for_test("compile_errors_carry_the_log_and_the_source").is_none() {
        return;
    }
    let source = "extern \"C\" __global__ void broken(float* y) { y[0] = undefined_name; }";
    match nvrtc::compile_with_cache(source, Arch::SM90, &CacheDir::Off) {
        Err(CudaError::Compile { log, source_text, arch }) => {
            assert!(log.contains("undefined_name"), "{log}");
            assert_eq!(source_text, source);
            assert_eq!(arch, Arch::SM90);
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn cache_hits_are_fast_and_corrupt_files_are_rebuilt() {
    if tools::tools_for_test("cache_hits_are_fast_and_corrupt_files_are_rebuilt").is_none() {
        return;
    }
    let dir = temp_cache("hit");
    let cache = CacheDir::At(dir.clone());
    let first = nvrtc::compile_with_cache(KERNELS, Arch::SM90, &cache).expect("compiles");
    assert!(!first.from_cache);

    let mut best = Duration::MAX;
    for _ in 0..20 {
        let start = Instant::now();
        let hit = nvrtc::compile_with_cache(KERNELS, Arch::SM90, &cache).expect("cache hit");
        best = best.min(start.elapsed());
        assert!(hit.from_cache);
        assert_eq!((hit.ptx.as_str(), hit.cubin.as_slice()), (first.ptx.as_str(), first.cubin.as_slice()));
    }
    println!(
        "nvrtc: 3 kernels compiled in {:.1} ms; cache hit {:.1} us ({} bytes ptx, {} bytes cubin)",
        first.elapsed.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e6,
        first.ptx.len(),
        first.cubin.len()
    );
    assert!(best < Duration::from_millis(5), "a cache hit took {best:?}");

    // Another arch is another entry.
    assert!(!nvrtc::compile_with_cache(KERNELS, Arch::SM80, &cache).expect("compiles").from_cache);

    let files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("cache dir").map(|e| e.expect("entry").path()).collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let file = files.iter().find(|p| p.to_string_lossy().contains("sm_90")).expect("sm_90 entry").clone();
    let good = std::fs::read(&file).expect("read entry");

    // Truncated, then one flipped byte in the middle, then garbage: each is detected, the
    // result is compiled afresh and equal, and the file is rewritten whole.
    let damaged: [Vec<u8>; 3] = [
        good[..good.len() / 2].to_vec(),
        {
            let mut b = good.clone();
            let mid = b.len() / 2;
            b[mid] ^= 0x01;
            b
        },
        b"not a cache file".to_vec(),
    ];
    for bad in damaged {
        std::fs::write(&file, &bad).expect("damage entry");
        let rebuilt = nvrtc::compile_with_cache(KERNELS, Arch::SM90, &cache).expect("rebuilds");
        assert!(!rebuilt.from_cache, "a damaged entry must not be used");
        assert_eq!(rebuilt.ptx, first.ptx);
        assert_eq!(std::fs::read(&file).expect("reread"), good, "the entry is rewritten");
        assert!(nvrtc::compile_with_cache(KERNELS, Arch::SM90, &cache).expect("hit").from_cache);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn nvrtc_compile_time_per_kernel() {
    if tools::tools_for_test("nvrtc_compile_time_per_kernel").is_none() {
        return;
    }
    let one = "struct A { const float* x; float* y; long long n; };\n\
               extern \"C\" __global__ void scale(A a) { long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; \
               if (i < a.n) a.y[i] = 2.0f * a.x[i]; }";
    let mut times = Vec::new();
    for _ in 0..3 {
        let c = nvrtc::compile_with_cache(one, Arch::SM90, &CacheDir::Off).expect("compiles");
        times.push(c.elapsed);
    }
    times.sort_unstable();
    println!("nvrtc: one small kernel: median {:.1} ms", times[1].as_secs_f64() * 1e3);
    assert!(times[1] > Duration::ZERO);
}
