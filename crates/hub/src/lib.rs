//! Granary's hub: turns the engine's exact state into the numbers a user decides by. Floats are
//! allowed here (analytics), never in the engine.

pub mod alerts;
pub mod il;
pub mod metadata;
pub mod risk;
