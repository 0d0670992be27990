//! Devices: where a kernel runs.

use std::fmt;
use std::str::FromStr;

/// Where computation happens. Host arrays (ndarray) run on the default device
/// ([`Device::default_device`]); each device is named on the command line as shown by
/// its `Display` (`interp`, `cpu`, `cuda-sim`, `cuda:0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Device {
    /// The reference interpreter of the array IR: slow, simple, the definition of every op.
    Interp,
    /// Native code through Cranelift (not built yet: issue 3).
    Cpu,
    /// The generated CUDA C run on the CPU by the CUDA simulator (not built yet: issue 4).
    CudaSim,
    /// An NVIDIA GPU by ordinal (not built yet: issue 4).
    Cuda(usize),
}

impl Device {
    /// The device host data runs on: `KILN_DEVICE` if set to a device name, else the
    /// interpreter (the only device built so far; `Cpu` takes over once it exists).
    pub fn default_device() -> Device {
        std::env::var("KILN_DEVICE").ok().and_then(|s| s.parse().ok()).unwrap_or(Device::Interp)
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
