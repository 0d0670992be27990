//! kiln: array programs compiled into kernels for CPUs and NVIDIA GPUs from one source.
//!
//! Write a kernel with [`kernel`], call it with ndarray arrays or views, get ndarray arrays
//! back:
//!
//! ```
//! use kiln::prelude::*;
//!
//! #[kernel]
//! fn axpby(a: f32, x: Array1<f32>, b: f32, y: Array1<f32>) -> Array1<f32> {
//!     a * x + b * y
//! }
//!
//! let x = kiln::ndarray::Array1::from(vec![1.0f32, 2.0, 3.0]);
//! let y = kiln::ndarray::Array1::from(vec![10.0f32, 20.0, 30.0]);
//! let z = axpby(2.0, &x, 0.5, &y)?;
//! assert_eq!(z.to_vec(), vec![7.0, 14.0, 21.0]);
//!
//! // Every stage is inspectable: the array IR, the IR after each pass, the loop IR.
//! let k = axpby::kernel();
//! assert!(k.ir_text().contains("kernel axpby"));
//! assert!(k.loops(None)?.to_string().contains("store"));
//! # Ok::<(), kiln::Error>(())
//! ```
//!
//! The crates behind the facade: [`ir`] (array IR, loop IR, passes, interpreter), [`dsl`]
//! (the front end the macro and the CLI share), [`runtime`] (devices, kernel handles).

#![forbid(unsafe_code)]

pub use kiln_dsl as dsl;
pub use kiln_estimators as estimators;
pub use kiln_ir as ir;
pub use kiln_macros::kernel;
pub use kiln_runtime as runtime;
pub use kiln_runtime::{
    with_device, Arg, BackendError, DType, Device, Element, Error, Float, Kernel, PassRecord, Result, Tensor, Value,
};
pub mod tune;

/// The ndarray version kiln's kernels take and return, so users never match versions by hand.
pub use ndarray;

/// What a kernel file needs: `use kiln::prelude::*;`.
pub mod prelude {
    pub use kiln_macros::kernel;
    pub use kiln_runtime::{Device, Element, Float, Tensor};
    pub use ndarray::{s, Array, Array0, Array1, Array2, Array3, ArrayView1, ArrayView2, ArrayView3, Axis};
}

#[doc(hidden)]
pub use kiln_runtime::__macro;

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
