//! kiln-dsl
