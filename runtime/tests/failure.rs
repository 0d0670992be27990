//! Failure does not spread: errors and panics in some kernel calls, on many threads at once,
//! leave the runtime usable for every later call (no poisoned lock turned into a panic, no
//! failure cached for good inputs, no device scope left behind by an unwinding caller).

use kiln_macros::kernel;
use kiln_runtime::{with_device, Arg, Device, Error, Value};
use ndarray::{Array1, Array2};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[kernel(crate = kiln_runtime)]
fn axpby(a: f32, x: Array1<f32>, b: f32, y: Array1<f32>) -> Array1<f32> {
    a * x + b * y
}

#[kernel(crate = kiln_runtime)]
fn col_sums(x: Array2<f64>) -> Array1<f64> {
    x.sum_axis(Axis(0))
}

#[kernel(crate = kiln_runtime)]
fn gathered_row_sums(c: Array2<f32>, idx: Array1<i64>) -> Array1<f32> {
    let n = idx.dim();
    let (_, d) = c.dim();
    Array1::from_shape_fn(n, |i| sum(0..d, |l| c[[idx[[i]], l]]))
}

#[kernel(crate = kiln_runtime)]
fn centred<F: Float>(x: Array2<F>) -> Array2<F> {
    let mean = x.mean_axis(Axis(0));
    x - mean
}

/// The message of the panics this test raises on purpose.
const PLANNED: &str = "the caller's closure panics";

/// One call of case `k` (of 8) with size `n`: half succeed and are checked against plain
/// Rust, half fail with a typed error (mismatched shapes, a gather index out of range, a
/// float kernel given integers) or panic in the caller's own code after a good call.
fn one_call(k: usize, n: usize) {
    let x = Array1::from_shape_fn(n, |i| i as f32);
    let m = Array2::from_shape_fn((n, 3), |(i, j)| (i * 3 + j) as f64);
    match k % 8 {
        0 => {
            let got = axpby(2.0, &x, 1.0, &x).expect("a good call");
            assert_eq!(got, x.mapv(|v| 3.0 * v));
        }
        1 => {
            let long = Array1::<f32>::zeros(n + 1);
            let err = axpby(2.0, &x, 1.0, &long).expect_err("mismatched lengths");
            assert!(matches!(err, Error::Bind(_)), "{err}");
        }
        2 => {
            let got = col_sums(&m).expect("a good call");
            let want = Array1::from_shape_fn(3, |j| (0..n).map(|i| (i * 3 + j) as f64).sum());
            assert_eq!(got, want);
        }
        3 => {
            let idx = Array1::from_vec(vec![0, n as i64 + 5]);
            let err = gathered_row_sums(&m.mapv(|v| v as f32), &idx).expect_err("index out of range");
            assert!(matches!(err, Error::IndexOutOfBounds { .. }), "{err}");
        }
        4 => {
            let idx = Array1::from_vec(vec![n as i64 - 1, 0]);
            let got = gathered_row_sums(&m.mapv(|v| v as f32), &idx).expect("a good gather");
            let row = |i: usize| (0..3).map(|j| (i * 3 + j) as f32).sum::<f32>();
            assert_eq!(got, Array1::from_vec(vec![row(n - 1), row(0)]));
        }
        5 => {
            let got = centred(&m).expect("a good call");
            let mean = (n - 1) as f64 / 2.0 * 3.0;
            assert!(got.column(0).iter().enumerate().all(|(i, &v)| v == (i * 3) as f64 - mean), "{got}");
        }
        6 => {
            let ints = Value::I64(Array2::<i64>::zeros((n, 2)).into_dyn());
            let err =
                centred::kernel().call(None, vec![Arg::from_value(&ints)]).expect_err("integers for a float kernel");
            assert!(matches!(err, Error::NotAFloat { .. }), "{err}");
        }
        _ => {
            // The caller's own code panics inside a device scope, after a good call; kiln
            // holds no lock by then.
            let before = Device::default_device();
            let r = catch_unwind(AssertUnwindSafe(|| {
                with_device(Device::Interp, || {
                    axpby(1.0, &x, 0.0, &x).expect("a good call");
                    panic!("{PLANNED}");
                })
            }));
            assert!(r.is_err(), "the panic reaches the caller");
            assert_eq!(Device::default_device(), before, "the device scope is restored on unwind");
        }
    }
}

#[test]
fn errors_and_panics_on_many_threads_leave_the_runtime_usable() {
    // Quiet the planned panics (this test's own hook, restored below).
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if !info.to_string().contains(PLANNED) {
            eprintln!("{info}");
        }
    }));
    let threads: Vec<_> = (0..8)
        .map(|t| std::thread::spawn(move || (0..48).for_each(|i| one_call(t * 7 + i * 3, 1 + (t + i) % 9))))
        .collect();
    // One thread dies of a panic in its own code while the others call kernels.
    let dying = std::thread::spawn(|| {
        let x = Array1::from_elem(4, 1.0f32);
        axpby(1.0, &x, 1.0, &x).expect("a good call");
        panic!("{PLANNED}");
    });
    assert!(dying.join().is_err(), "the dying thread panicked");
    let joined: Vec<_> = threads.into_iter().map(|t| t.join()).collect();
    std::panic::set_hook(hook);
    assert!(joined.iter().all(Result::is_ok), "no worker thread panicked");
    // Every case still gives its result afterwards, on this thread, on every host device.
    for device in [Device::Interp, Device::Cpu] {
        with_device(device, || (0..8).for_each(|k| one_call(k, 5)));
    }
}
