//! kiln-cuda: the CUDA C backend. Not built yet (issue 4).

pub mod driver;
pub mod nvrtc;
pub mod tools;
