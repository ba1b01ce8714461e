//! What both axum edges share, so they behave as one API: the JSON error
//! shape for every failure (including 404/405/408/413 and bad JSON), request
//! ids, limits, the core's gRPC channel, health and readiness, and serving
//! with a bounded graceful shutdown.

mod client_ip;
mod core_client;
mod errors;
mod health;
mod json;
mod openapi;
mod serve;

pub use client_ip::ClientIp;
pub use core_client::{CoreChannel, core_channel};
pub use errors::{ErrorBody, internal_error};
pub use health::{Readiness, health_routes};
pub use json::Json;
pub use openapi::{BearerScheme, ErrorResponses, serve_openapi};
pub use serve::{HttpLimits, apply_edge_layers, serve};
