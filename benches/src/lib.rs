//! Shared helpers for the benches package.
