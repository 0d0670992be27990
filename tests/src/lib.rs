//! kiln-tests: shared helpers of the conformance suite.
