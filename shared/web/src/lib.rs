//! What both axum edges share, so they behave as one API: the edge
//! skeleton (config, state, router assembly, `main`), the typed core client,
//! the edge's copy of the DB knobs, the JSON error shape for every failure
//! (including 404/405/408/413 and bad JSON), request ids, limits, health and
//! readiness, and serving with a bounded graceful shutdown.

mod client_ip;
mod core;
mod edge;
mod errors;
mod health;
mod json;
mod knobs;
mod openapi;
mod paging;
mod serve;

pub use client_ip::{ClientIp, TrustedProxyHops};
pub use core::{CoreChannel, CoreClient, CoreClientConfig, TokenGrant};
pub use edge::{EdgeConfig, EdgeDefaults, EdgeRoutes, EdgeState, edge_main, run_edge};
pub use errors::{ErrorBody, db_error, internal_error};
pub use health::health_routes;
pub use json::Json;
pub use knobs::{KnobCache, KnobSnapshot};
pub use openapi::{ErrorResponses, edge_document, serve_openapi};
pub use paging::{page_limit, split_page};
pub use serve::{HttpLimits, apply_edge_layers, serve};
