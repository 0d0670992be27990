//! Random well-typed programs for property tests (seeded, no proptest dependency).
