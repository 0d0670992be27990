//! Errors keep their kind up to `kiln::Error`: a user's mistake, a device failure and a bug in
//! kiln are different variants to match on, each keeping the typed failure below it (no error
//! is flattened to a string on its way up).

use kiln::ir::loops::parse_loop_program;
use kiln::prelude::*;
use kiln::runtime::{CpuError, CudaError, EmitError, IrError};
use kiln::Error;

#[kernel]
fn scaled_sum(a: f32, x: Array1<f32>, y: Array1<f32>) -> Array1<f32> {
    a * x + y
}

#[test]
fn a_users_mistake_is_a_user_error() {
    // Arrays whose lengths differ: the call is rejected while binding, on every device.
    let (x, y) = (Array1::from(vec![1.0f32, 2.0, 3.0]), Array1::from(vec![1.0f32, 2.0]));
    for device in [Device::Interp, Device::Cpu, Device::CudaSim] {
        let e = kiln::with_device(device, || scaled_sum(2.0, &x, &y)).unwrap_err();
        assert!(matches!(e, Error::Bind(_)), "{device}: {e}");
    }
    // IR text that does not parse is the caller's input, kept as the parser's typed error.
    let e = kiln::Kernel::from_ir("kernel broken(").unwrap_err();
    assert!(matches!(e, Error::InvalidIr(IrError::Parse(_))), "{e}");
}

#[test]
fn a_missing_gpu_is_a_device_error_with_the_drivers_reason() {
    // Ordinal 999 exists on no machine: with a driver it is `NoDevice`, without one
    // `NoCudaDriver`; either way the device is a `Device` and the reason the driver's own error.
    let (x, y) = (Array1::from(vec![1.0f32]), Array1::from(vec![2.0f32]));
    let e = kiln::with_device(Device::Cuda(999), || scaled_sum(2.0, &x, &y)).unwrap_err();
    let Error::DeviceUnavailable { device, source } = &e else { panic!("not a device error: {e}") };
    assert_eq!(*device, Device::Cuda(999));
    assert!(matches!(source, CudaError::NoCudaDriver | CudaError::NoDevice { ordinal: 999, .. }), "{source:?}");
}

#[test]
fn an_invalid_loop_program_is_an_internal_error_not_unsupported() {
    // A hand-built loop program that breaks the verifier (a rank-1 buffer read with two
    // indices) used to come back from both backends as `Unsupported`, the kind of a user's
    // construct; it is a bug in whatever built the program.
    let text = "program bad\n  sym n\n  in x: f32[n]\n  out out0: f32[n]\n  kernel bad_k0 (v0 < n) {\n    \
                store out0[v0] = load x[v0, v0]\n  }\n";
    let lp = parse_loop_program(text).expect("the text parses");
    let cpu = kiln_cpu::compile(&lp).map(drop);
    assert!(matches!(&cpu, Err(CpuError::Invalid(_))), "{cpu:?}");
    let cuda = kiln_cuda::emit(&lp).map(drop);
    assert!(matches!(&cuda, Err(EmitError::Invalid(_))), "{cuda:?}");
}
