//! Chats: lists and details, the transcript (every read audited in the
//! transaction that reads it), and ending a chat.

use halo_chats::{ChatDetail, ChatError, ChatFilter, ChatId, ChatRecord, Party, TranscriptMessage};
use halo_proto::{ApiError, ErrorKind};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::query_failed;
use crate::roles::Operator;

pub fn chat_not_found() -> ApiError {
    ApiError::not_found("chat_not_found", "no such chat")
}

pub async fn list(
    db: &PgPool,
    filter: &ChatFilter,
    limit: u32,
) -> Result<Vec<ChatRecord>, ApiError> {
    halo_chats::list_chats(db, filter, i64::from(limit) + 1)
        .await
        .map_err(query_failed)
}

pub async fn detail(db: &PgPool, id: Uuid) -> Result<ChatDetail, ApiError> {
    halo_chats::chat_detail(db, id)
        .await
        .map_err(query_failed)?
        .ok_or_else(chat_not_found)
}

/// A page of the transcript after message `after` (`limit + 1` rows, to
/// tell whether more follow), with its `chat.transcript_read` entry.
pub async fn transcript(
    db: &PgPool,
    operator: &Operator,
    chat: Uuid,
    after: i64,
    limit: u32,
) -> Result<Vec<TranscriptMessage>, ApiError> {
    let mut tx = db.begin().await.map_err(query_failed)?;
    let messages = audited_transcript(&mut tx, operator, chat, after, i64::from(limit) + 1).await?;
    tx.commit().await.map_err(query_failed)?;
    Ok(messages)
}

/// Reads a page of the transcript in `tx` and records the read there: the
/// entry commits with the read or not at all.
pub async fn audited_transcript(
    tx: &mut PgConnection,
    operator: &Operator,
    chat: Uuid,
    after: i64,
    rows: i64,
) -> Result<Vec<TranscriptMessage>, ApiError> {
    let messages = halo_chats::transcript(tx, chat, after, rows)
        .await
        .map_err(query_failed)?
        .ok_or_else(chat_not_found)?;
    let entry = halo_audit::Entry::new("chat.transcript_read", "chat", chat)
        .after(json!({"after": after, "messages": messages.len()}));
    halo_audit::record(tx, &operator.actor(), entry)
        .await
        .map_err(query_failed)?;
    Ok(messages)
}

/// Ends a running chat now (`ended_by: operator`); both sides are told.
/// A chat that has ended already is left as it is (and not audited again).
pub async fn end(db: &PgPool, operator: &Operator, id: Uuid) -> Result<ChatDetail, ApiError> {
    let mut tx = db.begin().await.map_err(query_failed)?;
    let ended = halo_chats::end_in(&mut tx, Party::Operator, ChatId(id))
        .await
        .map_err(chat_error)?;
    if ended {
        let entry = halo_audit::Entry::new("chat.end", "chat", id).change(
            json!({"status": "active"}),
            json!({"status": "ended", "ended_by": "operator"}),
        );
        halo_audit::record(&mut tx, &operator.actor(), entry)
            .await
            .map_err(query_failed)?;
    }
    tx.commit().await.map_err(query_failed)?;
    detail(db, id).await
}

pub fn chat_error(err: ChatError) -> ApiError {
    match err {
        ChatError::NotFound => chat_not_found(),
        ChatError::NotActive => ApiError::new(
            ErrorKind::Conflict,
            "chat_not_active",
            "the chat is not running (still offered, or never served)",
        ),
        ChatError::ReportResolved => ApiError::new(
            ErrorKind::Conflict,
            "report_resolved",
            "this report is resolved already",
        ),
        ChatError::Database(err) => query_failed(err),
        other => halo_web::internal_error("an unexpected chats refusal", other),
    }
}
