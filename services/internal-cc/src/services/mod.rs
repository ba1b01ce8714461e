//! What the routes call: each function forwards to the core (or reads the
//! DB) and shapes the answer for the control center.

pub mod operators;
pub mod session;
pub mod settings;
