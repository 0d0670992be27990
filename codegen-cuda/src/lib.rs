//! kiln-cuda: the CUDA C backend. Not built yet (issue 4).
