//! HTTP shape only: extract, call a service function, map the result.
//!
//! Every list here shares one convention: newest first (ids are UUIDv7 or
//! serials, so id order is creation order), `limit` 1 to 100 (default 50),
//! `cursor` = the previous page's `next_cursor`, filters as query
//! parameters, and `{"items": [...], "next_cursor": ...}` back.

pub mod audit_log;
pub mod auth;
pub mod cc_users;
pub mod chats;
pub mod customers;
pub mod dashboard;
pub mod mitras;
pub mod orders;
pub mod reports;
pub mod settings;

use halo_proto::ApiError;

/// A list's `limit`: 1 to 100, default 50.
fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    halo_web::page_limit(limit, 50, 100)
}
