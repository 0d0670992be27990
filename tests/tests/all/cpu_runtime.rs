//! The CPU runtime's promises: one compilation per kernel and dtype whatever the number of
//! threads calling, and results bitwise identical for any thread count. (JIT memory given back
//! on drop is tests/jit_memory.rs, a process of its own so no sibling test disturbs it.)

use kiln::prelude::*;
use kiln::Device;
use kiln_tests::Rng;
use std::sync::Barrier;

#[kernel]
fn stats(x: Array2<f32>) -> (f32, kiln::ndarray::Array1<f32>, kiln::ndarray::Array1<f32>, Array2<f32>) {
    let mean = x.mean_axis(Axis(0));
    (x.sum(), mean, x.sum_axis(Axis(1)), (x - mean).exp())
}

#[test]
fn sixteen_threads_compile_once() {
    let x = Rng::new(1).arr2_f32(300, 7, -1.0, 1.0);
    let barrier = Barrier::new(16);
    let results: Vec<f32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    kiln::with_device(Device::Cpu, || stats(&x)).unwrap().0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(|r| r.to_bits() == results[0].to_bits()));
    assert_eq!(stats::kernel().cpu_compile_count(), 1, "compiled once for 16 concurrent callers");
    // Small calls run tier-0 code until the optimized code is there, compiled once at most
    // (not at all if a big call of `stats` in another test came first).
    assert!(stats::kernel().cpu_tier0_compile_count() <= 1, "tier 0 compiled at most once");
    assert_eq!(stats::kernel().lowering_count(), 1, "lowered once");
}

#[kernel]
fn traced(x: kiln::ndarray::Array1<f32>) -> f32 {
    (x * 2.0).sum()
}

/// Calls lower without rendering any pass's text; `passes` renders them on demand, from the
/// same lowering (its last text is the loop IR the calls run), and calls still lower once.
#[test]
fn passes_on_demand_after_an_untraced_lowering() {
    let x = kiln::ndarray::Array1::from_vec(vec![1.0f32, 2.0, 3.0]);
    assert_eq!(kiln::with_device(Device::Cpu, || traced(&x)).unwrap(), 12.0);
    let k = traced::kernel();
    let passes = k.passes(None).unwrap();
    let names: Vec<&str> = passes.iter().map(|p| p.name).collect();
    assert_eq!(names, ["check", "simplify", "schedule", "loops", "fuse", "loop_simplify"]);
    assert_eq!(passes.last().unwrap().text, k.loops(None).unwrap().to_string());
    assert!(passes.iter().find(|p| p.name == "loops").unwrap().changed, "the first loop pass builds the program");
    assert_eq!(k.lowering_count(), 1, "inspection does not count as a lowering for calls");
}

#[test]
fn bitwise_identical_with_one_and_two_threads() {
    let x = Rng::new(2).arr2_f32(200_001, 5, -1.0, 1.0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| kiln::with_device(Device::Cpu, || stats(&x)).unwrap())
    };
    let (a, b, c) = (run(1), run(2), run(2));
    for (p, q) in [(&a, &b), (&b, &c)] {
        assert_eq!(p.0.to_bits(), q.0.to_bits(), "x.sum()");
        assert!(p.1.iter().zip(q.1.iter()).all(|(u, v)| u.to_bits() == v.to_bits()), "mean_axis(0)");
        assert!(p.2.iter().zip(q.2.iter()).all(|(u, v)| u.to_bits() == v.to_bits()), "sum_axis(1)");
        assert!(p.3.iter().zip(q.3.iter()).all(|(u, v)| u.to_bits() == v.to_bits()), "exp(x - mean)");
    }
}

#[kernel]
fn axpby(a: f32, x: kiln::ndarray::Array1<f32>, b: f32, y: kiln::ndarray::Array1<f32>) -> kiln::ndarray::Array1<f32> {
    a * x + b * y
}

#[kernel]
fn col_sums(x: Array2<f64>) -> kiln::ndarray::Array1<f64> {
    x.sum_axis(Axis(0))
}

#[kernel]
fn matmul(a: Array2<f32>, b: Array2<f32>) -> Array2<f32> {
    a.dot(&b)
}

/// `NAME::into` stores into the caller's array (of any layout) exactly what `NAME` returns,
/// on every device, whatever the array held before, and touches nothing outside the view.
#[test]
fn into_writes_the_callers_array_on_every_device() {
    use kiln::ndarray::{s, Array1};
    let n = 100_003;
    let mut rng = Rng::new(3);
    let x = rng.arr1_f32(n, -2.0, 2.0);
    let y = rng.arr1_f32(n, -2.0, 2.0);
    // The plain-Rust reference: the same two products and one sum per element.
    let want: Vec<u32> = x.iter().zip(&y).map(|(x, y)| (1.5 * x + -0.5 * y).to_bits()).collect();
    let m = rng.arr2_f64(3001, 9, -1.0, 1.0);
    let (a, b) = (rng.arr2_f32(67, 33, -1.0, 1.0), rng.arr2_f32(33, 41, -1.0, 1.0));
    for device in [Device::Interp, Device::Cpu, Device::CudaSim] {
        kiln::with_device(device, || {
            let mut out = Array1::from_elem(n, f32::NAN);
            axpby::into(out.view_mut(), 1.5, &x, -0.5, &y).unwrap();
            assert!(out.iter().map(|v| v.to_bits()).eq(want.iter().copied()), "{device}: contiguous out");
            // Every other element of a longer array, backwards (the odd indices, last first).
            let mut big = Array1::from_elem(2 * n, 7.0f32);
            axpby::into(big.slice_mut(s![..;-2]), 1.5, &x, -0.5, &y).unwrap();
            let got: Vec<u32> = big.slice(s![..;-2]).iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "{device}: reversed, strided out");
            assert!(big.slice(s![..;2]).iter().all(|v| *v == 7.0), "{device}: elements outside the view");
            // A reduction and a contraction into garbage-filled and transposed outputs.
            let mut sums = Array1::from_elem(9, f64::NAN);
            col_sums::into(sums.view_mut(), &m).unwrap();
            assert_eq!(sums, col_sums(&m).unwrap(), "{device}: sum_axis(0)");
            let mut ct = Array2::from_elem((41, 67), f32::INFINITY);
            matmul::into(ct.view_mut().reversed_axes(), &a, &b).unwrap();
            assert_eq!(ct.t(), matmul(&a, &b).unwrap(), "{device}: column-major matmul out");
        });
    }
}

#[test]
fn into_an_out_of_another_shape_is_a_typed_error() {
    let x = Rng::new(4).arr1_f32(5, -1.0, 1.0);
    for device in [Device::Interp, Device::Cpu] {
        let mut out = kiln::ndarray::Array1::from_elem(4, 0.0f32);
        let err = kiln::with_device(device, || axpby::into(out.view_mut(), 1.0, &x, 1.0, &x)).unwrap_err();
        assert!(matches!(err, kiln::Error::OutMismatch { .. }), "{device}: {err}");
        assert_eq!(err.to_string(), "kernel `axpby`: `out` is f32[4] but the output is f32[5]", "{device}");
        assert!(out.iter().all(|v| *v == 0.0), "{device}: out untouched");
    }
}

#[kernel]
fn tiered(x: Array2<f32>) -> (f32, kiln::ndarray::Array1<f32>, Array2<f32>) {
    let mean = x.mean_axis(Axis(0));
    (x.sum(), x.sum_axis(Axis(1)), (x - mean).exp())
}

/// A kernel's first small call runs tier-0 code; a big call compiles (or waits for) the
/// optimized code; the same small call then runs that, with bit-for-bit the first results.
#[test]
fn tier_zero_and_optimized_calls_agree_bit_for_bit() {
    let small = Rng::new(5).arr2_f32(61, 7, -3.0, 3.0);
    let big = Rng::new(6).arr2_f32(100_000, 7, -3.0, 3.0);
    let bits = |r: &(f32, kiln::ndarray::Array1<f32>, Array2<f32>)| {
        let mut v = vec![r.0.to_bits()];
        v.extend(r.1.iter().map(|x| x.to_bits()));
        v.extend(r.2.iter().map(|x| x.to_bits()));
        v
    };
    kiln::with_device(Device::Cpu, || {
        let first = tiered(&small).unwrap();
        tiered(&big).unwrap();
        let again = tiered(&small).unwrap();
        assert_eq!(bits(&first), bits(&again), "tier 0 and optimized results");
    });
    assert_eq!(tiered::kernel().cpu_compile_count(), 1, "one optimized compile");
    assert_eq!(tiered::kernel().cpu_tier0_compile_count(), 1, "one tier-0 compile, for the first call");
}

#[kernel]
fn gathered_row_sums(c: Array2<f32>, idx: Array1<i64>) -> Array1<f32> {
    let n = idx.dim();
    let (_, d) = c.dim();
    Array1::from_shape_fn(n, |i| sum(0..d, |l| c[[idx[[i]], l]]))
}

/// A gather from an empty array fails its index check: a typed error on every device, and
/// the access the failed check goes on with stays inside memory the call owns (it read
/// index 0 of the empty array's dangling pointer and crashed before).
#[test]
fn a_gather_from_an_empty_array_is_a_typed_error_not_a_crash() {
    let c = Array2::<f32>::zeros((0, 5));
    let idx = Array1::from_vec(vec![0i64, 3]);
    for device in [Device::Interp, Device::Cpu, Device::CudaSim] {
        let err = kiln::with_device(device, || gathered_row_sums(&c, &idx)).unwrap_err();
        assert!(matches!(err, kiln::Error::IndexOutOfBounds { .. }), "{device}: {err}");
        assert!(err.to_string().contains("of `c` (length 0)"), "{device}: {err}");
    }
    // The dynamic entry point (host values, as the CLI and the estimators call) on every
    // device that runs generated code.
    let (cv, iv) = (kiln::ir::Value::F32(c.clone().into_dyn()), kiln::ir::Value::I64(idx.clone().into_dyn()));
    for device in [Device::Cpu, Device::CudaSim] {
        let args = vec![kiln::runtime::Arg::from_value(&cv), kiln::runtime::Arg::from_value(&iv)];
        let err = gathered_row_sums::kernel().call_on(device, None, args).unwrap_err();
        assert!(matches!(err, kiln::Error::IndexOutOfBounds { .. }), "{device}: {err}");
    }
    // The same kernel with rows to gather still works.
    let c = Array2::from_shape_fn((4, 5), |(i, l)| (i * 10 + l) as f32);
    let got = gathered_row_sums(&c, &idx).unwrap();
    assert_eq!(got, Array1::from_vec(vec![10.0, 160.0]));
}

#[kernel]
fn outer(x: kiln::ndarray::Array1<f32>, y: kiln::ndarray::Array1<f32>) -> Array2<f32> {
    let n = x.dim();
    let m = y.dim();
    Array2::from_shape_fn((n, m), |(i, j)| x[[i]] * y[[j]])
}

/// An output too large for memory is numpy's `MemoryError`, a typed error naming the bytes,
/// the shape and the buffer (the allocation aborted the process before).
#[test]
fn an_output_too_large_for_memory_is_out_of_memory_not_an_abort() {
    // With overcommit always on (mode 1) the kernel grants 16 TB lazily; 2^24 x 2^24 f32
    // (4 PiB) is past any address space and fails everywhere.
    let always = std::fs::read_to_string("/proc/sys/vm/overcommit_memory").is_ok_and(|m| m.trim() == "1");
    let (n, size, shape) = if always {
        (1usize << 24, "1.00 PiB", "(16777216, 16777216)")
    } else {
        (2_000_000, "14.6 TiB", "(2000000, 2000000)")
    };
    let x = kiln::ndarray::Array1::<f32>::ones(n);
    for device in [Device::Cpu, Device::CudaSim, Device::Interp] {
        let err = kiln::with_device(device, || outer(&x, &x)).unwrap_err();
        assert!(matches!(err, kiln::Error::OutOfMemory { device: d, .. } if d == device), "{device}: {err}");
        let text = format!("unable to allocate {size} on {device} for an array with shape {shape}");
        assert_eq!(err.to_string(), format!("{text} (output `out0` of kernel `outer`)"), "{device}");
    }
    // Small outer products still work.
    let y = kiln::ndarray::Array1::from_vec(vec![1.0f32, 2.0]);
    assert_eq!(outer(&y, &y).unwrap(), kiln::ndarray::array![[1.0, 2.0], [2.0, 4.0]]);
}
