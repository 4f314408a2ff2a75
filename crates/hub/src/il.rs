//! Impermanent loss.
