//! Devices: where a kernel runs.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

thread_local! {
    static SCOPED: Cell<Option<Device>> = const { Cell::new(None) };
}

/// Run `f` with `device` as this thread's default device: every kernel called with host
/// arrays inside `f` runs there.
///
/// ```
/// # use kiln_runtime::{with_device, Device};
/// let d = with_device(Device::CudaSim, Device::default_device);
/// assert_eq!(d, Device::CudaSim);
/// ```
pub fn with_device<R>(device: Device, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Device>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SCOPED.with(|s| s.replace(Some(device))));
    f()
}

/// Where computation happens. Host arrays (ndarray) run on the default device
/// ([`Device::default_device`]); each device is named on the command line as shown by
/// its `Display` (`interp`, `cpu`, `cuda-sim`, `cuda:0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Device {
    /// The reference interpreter of the array IR: slow, simple, the definition of every op.
    Interp,
    /// Native code through Cranelift, on all cores (the default).
    Cpu,
    /// The generated CUDA C run on the CPU by the CUDA simulator: slow, for tests and for
    /// debugging GPU kernels without a GPU.
    CudaSim,
    /// An NVIDIA GPU by ordinal: NVRTC compiles the CUDA C to a cubin for the device's
    /// architecture and cudarc launches it on device-resident tensors.
    Cuda(usize),
}

impl Device {
    /// The device host data runs on: the innermost [`with_device`] scope of this thread,
    /// else `KILN_DEVICE` if set to a device name, else [`Device::Cpu`].
    pub fn default_device() -> Device {
        if let Some(d) = SCOPED.with(|s| s.get()) {
            return d;
        }
        std::env::var("KILN_DEVICE").ok().and_then(|s| s.parse().ok()).unwrap_or(Device::Cpu)
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Interp => f.write_str("interp"),
            Device::Cpu => f.write_str("cpu"),
            Device::CudaSim => f.write_str("cuda-sim"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for Device {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "interp" => Ok(Device::Interp),
            "cpu" => Ok(Device::Cpu),
            "cuda-sim" | "cudasim" => Ok(Device::CudaSim),
            "cuda" => Ok(Device::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(n)) => Ok(Device::Cuda(n)),
                _ => Err(format!("unknown device `{s}` (expected interp, cpu, cuda-sim or cuda:N)")),
            },
        }
    }
}
