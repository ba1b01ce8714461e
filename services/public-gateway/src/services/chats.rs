//! Chats for both apps: the domain's refusals in the API's words.

use halo_chats::ChatError;
use halo_proto::{ApiError, ErrorKind};
use halo_web::db_error;

pub fn chat_not_found() -> ApiError {
    ApiError::not_found("chat_not_found", "no such chat")
}

/// Each domain refusal with its stable code.
pub fn api_error(err: ChatError) -> ApiError {
    let conflict = |code, message| ApiError::new(ErrorKind::Conflict, code, message);
    match err {
        ChatError::NotFound => chat_not_found(),
        ChatError::NotActive => conflict(
            "chat_not_active",
            "the chat is not running (not started, never served, or its time is up)",
        ),
        ChatError::OfferClosed => conflict(
            "offer_closed",
            "this offer is over (it lapsed or was answered); the chat went to someone else",
        ),
        ChatError::NotEnded => conflict("chat_not_ended", "a chat is rated once it has ended"),
        ChatError::AlreadyRated => conflict("already_rated", "this chat is rated already"),
        ChatError::ReportOpen => conflict(
            "report_open",
            "your report of this chat is open already; support will follow it up",
        ),
        ChatError::ReportResolved => conflict("report_resolved", "this report is resolved already"),
        ChatError::UnknownTier => ApiError::new(
            ErrorKind::Unprocessable,
            "unknown_tier",
            "no tier has this id; read the tiers from GET /api/shared/config",
        ),
        ChatError::ExtensionPending => conflict(
            "extension_pending",
            "an extension of this chat is waiting for the mitra or for payment",
        ),
        ChatError::ExtensionClosed => conflict(
            "extension_closed",
            "this extension request is over (answered, expired, or the chat ended)",
        ),
        ChatError::Order(err) => crate::services::orders::api_error(err),
        ChatError::Database(err) => db_error("a chats query failed", err),
    }
}
