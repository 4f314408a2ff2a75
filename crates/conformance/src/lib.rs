//! Differential harness against reference implementations.
