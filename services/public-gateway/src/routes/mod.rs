//! HTTP shape only: extract, call a service function, map the result.

pub mod auth;
pub mod chats;
pub mod config;
pub mod devices;
pub mod earnings;
pub mod extensions;
pub mod feedback;
pub mod me;
pub mod messages;
pub mod mitras;
pub mod orders;
pub mod presence;
pub mod webhooks;

use halo_proto::ApiError;

/// A list's `limit` parameter: 1 to 100, default 20.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    halo_web::page_limit(limit, 20, 100)
}
