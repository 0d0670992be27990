//! Kernel approximation (scikit-learn's `sklearn.kernel_approximation`): [`Nystroem`].

mod kernels;
mod nystroem;

pub use kernels::Kernel;
pub use nystroem::{Nystroem, NystroemParams};
