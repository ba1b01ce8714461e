//! What the routes call: each function forwards to the core (or reads the
//! DB) and shapes the answer for the apps.

pub mod auth;
pub mod chats;
pub mod matching;
pub mod orders;
pub mod payments;
pub mod profile;
pub mod push;
pub mod timers;
