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
use halo_proto::text::{TextRule, clean_text};

/// A list's `limit`: 1 to 100, default 50.
fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    halo_web::page_limit(limit, 50, 100)
}

/// A list's `q`: one line, trimmed, at most 100 characters; blank is no
/// search.
fn search_text(q: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(q) = q else { return Ok(None) };
    let q = clean_text("q", &q, TextRule::Line)?;
    if q.chars().count() > 100 {
        return Err(ApiError::invalid_field(
            "q",
            "too_long",
            "at most 100 characters",
        ));
    }
    Ok((!q.is_empty()).then_some(q))
}
