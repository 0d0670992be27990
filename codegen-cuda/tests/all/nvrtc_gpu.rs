//! The driver path on a real GPU: NVRTC -> cubin for the device's arch -> module load -> launch
//! with a by-value `[u64]` argument struct -> results checked against a Rust loop.
//!
//! Without a CUDA driver or device each test reports a skip (`kiln-skip: <test>: no CUDA
//! driver/GPU`, see `kiln_cuda::tools::skip_test`) and passes;
//! `cargo xtask test-gpu` runs them (and says so) on machines that have one.

use kiln_cuda::driver::{self, CudaDevice};
use kiln_cuda::nvrtc::CudaError;

/// The first device, or `None` after printing why the test is skipped.
fn gpu(test: &str) -> Option<std::sync::Arc<CudaDevice>> {
    if !driver::driver_available() || driver::device_count() == 0 {
        kiln_cuda::tools::skip_test(&format!("nvrtc_gpu::{test}"), "no CUDA driver/GPU");
        return None;
    }
    match CudaDevice::open(0) {
        Ok(dev) => Some(dev),
        Err(e) => panic!("{test}: a driver and {} device(s) are present, but: {e}", driver::device_count()),
    }
}

/// Like the emitter's ABI: one struct of 8-byte words, passed by value.
const SOURCE: &str = r#"
struct KilnArgs { const float* x_; long long x_s0; float* y_; long long y_s0; long long dim_n; double a; };
extern "C" __global__ void axpy_strided(const KilnArgs args) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < args.dim_n;
         i += (long long)gridDim.x * blockDim.x) {
        args.y_[i * args.y_s0] = (float)args.a * args.x_[i * args.x_s0] + args.y_[i * args.y_s0];
    }
}
"#;

#[test]
fn axpy_runs_on_the_device_and_matches_a_rust_loop() {
    let Some(dev) = gpu("axpy_runs_on_the_device_and_matches_a_rust_loop") else { return };
    println!("device 0: {} ({})", dev.name().unwrap_or_default(), dev.arch());
    let n = 1000usize; // not a multiple of the block: a partial last block
    let x: Vec<f32> = (0..2 * n).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let module = dev.load(SOURCE, &["axpy_strided"]).expect("compiles and loads");
    let dx = dev.upload(&x).expect("upload x");
    let mut dy = dev.upload(&y).expect("upload y");
    let a = 3.0f64;
    let args = [dev.device_ptr(&dx), 2, dev.device_ptr(&dy), 1, n as u64, a.to_bits()];
    for grid in [1u32, 3] {
        // SAFETY: the words follow KilnArgs; x holds 2n floats (read with stride 2), y holds n.
        unsafe { module.launch("axpy_strided", grid, 256, 0, &args) }.expect("launches");
    }
    let got = dev.download(&dy).expect("download");
    for i in 0..n {
        let mut want = y[i];
        for _ in 0..2 {
            want += 3.0 * x[2 * i];
        }
        assert_eq!(got[i], want, "element {i}");
    }
    dy = dev.alloc_zeros(n).expect("alloc");
    assert!(dev.download(&dy).expect("download").iter().all(|&v| v == 0.0));
}

#[test]
fn bad_launches_and_ordinals_are_typed_errors() {
    let Some(dev) = gpu("bad_launches_and_ordinals_are_typed_errors") else { return };
    let module = dev.load(SOURCE, &["axpy_strided"]).expect("compiles and loads");
    // SAFETY: none of these reach the driver's launch.
    let unknown = unsafe { module.launch("nope", 1, 256, 0, &[0]) };
    assert!(matches!(unknown, Err(CudaError::Launch { .. })), "{unknown:?}");
    // SAFETY: a grid of 0 blocks is refused before the driver's launch.
    let empty = unsafe { module.launch("axpy_strided", 0, 256, 0, &[0]) };
    assert!(matches!(empty, Err(CudaError::Launch { .. })), "{empty:?}");
    assert!(matches!(dev.load(SOURCE, &["missing_kernel"]), Err(CudaError::Launch { .. })));
    let count = driver::device_count();
    assert!(matches!(CudaDevice::open(count), Err(CudaError::NoDevice { ordinal, .. }) if ordinal == count));
}

#[test]
fn cublas_gemm_matches_the_stand_in() {
    use kiln_cuda::blas::{BlasGemm, BlasOp};
    use kiln_ir::loops::BufId;
    let test = "cublas_gemm_matches_the_stand_in";
    let Some(dev) = gpu(test) else { return };
    // Two batches of C (3 x 2, ldc 3) = A (3 x 4, N, lda 3) * op(B) (4 x 2; B stored 2 x 4, T).
    let g = BlasGemm {
        transa: BlasOp::N,
        transb: BlasOp::T,
        m: 3,
        n: 2,
        k: 4,
        a: BufId(0),
        lda: 3,
        stride_a: 12,
        b: BufId(1),
        ldb: 2,
        stride_b: 8,
        c: BufId(2),
        ldc: 3,
        stride_c: 6,
        batch: 2,
    };
    // Small integers: every sum is exact, in any order.
    let a: Vec<f32> = (0..24).map(|i| (i % 7) as f32 - 3.0).collect();
    let b: Vec<f32> = (0..16).map(|i| (i % 5) as f32 - 2.0).collect();
    let mut want = vec![f32::NAN; 12];
    // SAFETY: a, b and want hold the 24, 16 and 12 elements these arguments reach.
    unsafe { g.call_standin(a.as_ptr(), b.as_ptr(), want.as_mut_ptr(), 1.0) }.expect("valid arguments");
    let (da, db, dc) = (dev.upload(&a).unwrap(), dev.upload(&b).unwrap(), dev.alloc_zeros::<f32>(12).unwrap());
    let (pa, pb, pc) = (dev.device_ptr(&da), dev.device_ptr(&db), dev.device_ptr(&dc));
    // SAFETY: the device buffers hold the same element counts as the host arrays above.
    let ran = unsafe { dev.gemm(&g, false, pa, pb, pc) }.unwrap_or_else(|e| panic!("{test}: {e}"));
    if !ran {
        kiln_cuda::tools::skip_test(&format!("nvrtc_gpu::{test}"), "libcublas not found");
        return;
    }
    assert_eq!(dev.download(&dc).unwrap(), want);
}
