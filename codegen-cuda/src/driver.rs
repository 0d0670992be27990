//! The CUDA driver path (in progress).
