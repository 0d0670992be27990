//! Tensors and compute-follows-data: a kernel called through `NAME::tensors(...)` runs where its
//! tensors live and returns tensors there; devices never mix silently. References are plain
//! Rust loops.

use kiln::ndarray::{array, Array1, Array2, Ix0, Ix1, Ix2};
use kiln::prelude::*;
use kiln::{Device, Error, Tensor};
use kiln_tests::Rng;

#[kernel]
fn scale_rows<F: Float>(x: Array2<F>, w: Array1<F>, a: F) -> (Array2<F>, F) {
    let y = x * w.insert_axis(Axis(1)) * a;
    (y, x.sum())
}

fn reference(x: &Array2<f64>, w: &Array1<f64>, a: f64) -> (Array2<f64>, f64) {
    let mut y = x.clone();
    let mut total = 0.0;
    for i in 0..x.nrows() {
        for j in 0..x.ncols() {
            y[[i, j]] = x[[i, j]] * w[i] * a;
            total += x[[i, j]];
        }
    }
    (y, total)
}

#[test]
fn tensors_round_trip_on_host_devices_in_any_layout() {
    let x = Rng::new(3).arr2_f64(5, 7, -1.0, 1.0);
    for device in [Device::Cpu, Device::Interp, Device::CudaSim] {
        let t = Tensor::from_array(&x.t(), device).unwrap();
        assert_eq!(t.device(), device);
        assert_eq!(t.shape(), &[7, 5]);
        assert_eq!(t.to_array::<Ix2>().unwrap(), x.t().to_owned());
        assert!(matches!(t.to_array::<Ix1>(), Err(Error::OutputType { .. })), "rank mismatch is typed");
        let moved = t.to_device(Device::Cpu).unwrap();
        assert_eq!(moved.device(), Device::Cpu);
        assert_eq!(moved.host_view().unwrap(), x.t().into_dyn());
    }
}

#[test]
fn kernels_on_tensors_run_where_the_data_is_and_stay_there() {
    let x = Rng::new(4).arr2_f64(33, 9, -2.0, 2.0);
    let w = Rng::new(5).arr1_f64(33, -1.0, 1.0);
    let (want_y, want_sum) = reference(&x, &w, 1.5);
    let mut devices = vec![Device::Cpu, Device::Interp, Device::CudaSim];
    if kiln::runtime::cuda_device_count() > 0 {
        devices.push(Device::Cuda(0));
    } else {
        kiln_cuda::tools::skip_test(
            "tensors::kernels_on_tensors_run_where_the_data_is_and_stay_there (Device::Cuda(0))",
            "no CUDA driver/GPU",
        );
    }
    for device in devices {
        let xt = Tensor::from_array(&x, device).unwrap();
        let wt = Tensor::from_array(&w, device).unwrap();
        let (y, s) = scale_rows::tensors(&xt, &wt, 1.5).unwrap();
        assert_eq!((y.device(), s.device()), (device, device), "outputs stay on {device}");
        assert_eq!(s.shape(), &[] as &[usize]);
        let y = y.to_array::<Ix2>().unwrap();
        for (g, r) in y.iter().zip(&want_y) {
            assert!((g - r).abs() <= 1e-12 * r.abs().max(1.0), "{device}: {g} vs {r}");
        }
        assert!((s.item().unwrap() - want_sum).abs() < 1e-9, "{device}");
        assert!((s.to_array::<Ix0>().unwrap().into_scalar() - want_sum).abs() < 1e-9);
        // Freed buffers go back to the device's pool (or the host's); giving the cache back
        // leaves the device usable.
        drop((y, s, xt));
        kiln::runtime::pool::release_device(device).unwrap();
        let again = scale_rows::tensors(&Tensor::from_array(&x, device).unwrap(), &wt, 1.5).unwrap().1;
        assert!((again.item().unwrap() - want_sum).abs() < 1e-9, "{device} after release_device");
    }
}

#[test]
fn host_arrays_mix_with_host_tensors_only() {
    let x = array![[1.0f32, 2.0], [3.0, 4.0]];
    let w = array![1.0f32, -1.0];
    // A host array beside a Cpu tensor: same memory, runs on the Cpu.
    let wt = Tensor::from_array(&w, Device::Cpu).unwrap();
    let (y, _) = scale_rows::tensors(&x, &wt, 2.0).unwrap();
    assert_eq!(y.device(), Device::Cpu);
    assert_eq!(y.to_array::<Ix2>().unwrap(), array![[2.0f32, 4.0], [-6.0, -8.0]]);
    // Host arrays alone run on the default device.
    let (y, _) = kiln::with_device(Device::CudaSim, || scale_rows::tensors(&x, &w, 2.0)).unwrap();
    assert_eq!(y.device(), Device::CudaSim);
    // A host array beside a simulated-GPU tensor is an error naming both parameters.
    let wsim = Tensor::from_array(&w, Device::CudaSim).unwrap();
    let e = scale_rows::tensors(&x, &wsim, 2.0).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(&e, Error::DeviceMismatch { arg, found: None, with: Some(w), expected: Device::CudaSim, .. }
            if arg == "x" && w == "w"),
        "{msg}"
    );
    assert!(msg.contains("`x` is a host array") && msg.contains("`w` is on cuda-sim"), "{msg}");
    // Tensors on two devices.
    let xcpu = Tensor::from_array(&x, Device::Cpu).unwrap();
    let e = scale_rows::tensors(&xcpu, &wsim, 2.0).unwrap_err();
    assert!(e.to_string().contains("`x` is on cpu but `w` is on cuda-sim"), "{e}");
    assert!(matches!(&e, Error::DeviceMismatch { found: Some(Device::Cpu), expected: Device::CudaSim, .. }), "{e:?}");
    // Shapes are validated for tensors exactly as for arrays.
    let short = Tensor::from_array(&array![1.0f32], Device::CudaSim).unwrap();
    let xsim = Tensor::from_array(&x, Device::CudaSim).unwrap();
    assert!(matches!(scale_rows::tensors(&xsim, &short, 2.0), Err(Error::Bind(_))));
}

#[test]
fn a_gpu_without_a_driver_is_a_typed_error() {
    if kiln::runtime::cuda_available() {
        kiln_cuda::tools::skip_test(
            "tensors::a_gpu_without_a_driver_is_a_typed_error",
            "a CUDA driver is present here (cargo xtask test-gpu exercises Device::Cuda)",
        );
        return;
    }
    let x = array![1.0f32, 2.0];
    let e = Tensor::from_array(&x, Device::Cuda(0)).unwrap_err();
    assert!(matches!(e, Error::DeviceUnavailable { device: Device::Cuda(0), .. }), "{e}");
    assert!(e.to_string().contains("cuda:0"), "{e}");
    let e = kiln::with_device(Device::Cuda(0), || scale_rows(&array![[1.0f32]], &array![1.0f32], 1.0)).unwrap_err();
    assert!(matches!(e, Error::DeviceUnavailable { device: Device::Cuda(0), .. }), "{e}");
    let e = kiln::runtime::pool::release_device(Device::Cuda(0)).unwrap_err();
    assert!(matches!(e, Error::DeviceUnavailable { device: Device::Cuda(0), .. }), "{e}");
}
