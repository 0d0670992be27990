//! Kernel approximation (scikit-learn's `sklearn.kernel_approximation`): [`Nystroem`].

pub(crate) mod kernels;
mod nystroem;

pub use kernels::Kernel;
pub use nystroem::{Nystroem, NystroemParams};
