//! HTTP shape only: extract, call a service function, map the result.

pub mod auth;
pub mod config;
pub mod me;
pub mod orders;
pub mod webhooks;
