//! `/internal/chats`: every chat, its transcript (each read audited), and
//! ending a chat.

use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use halo_chats::{ChatDetail, ChatFilter, ChatRecord, ChatStatus, TranscriptMessage};
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, split_page};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::roles::Operator;
use crate::services::chats as service;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(inline)]
    pub status: Option<ChatStatus>,
    /// The mitra offered the chat now, or who served it.
    pub mitra_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// Created at or after (RFC 3339; write `+` in an offset as `%2B`).
    #[param(example = "2026-11-25T17:00:00Z")]
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    #[param(example = "2026-11-26T17:00:00Z")]
    pub to: Option<DateTime<Utc>>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct ChatList {
    pub items: Vec<ChatRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Chats, newest first, filtered.
#[utoipa::path(get, path = "/internal/chats", operation_id = "cc_list_chats", tag = "chats", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "a page of chats", body = ChatList),
        (status = 400, description = "`validation_failed` (`limit`) or `bad_request` (a parameter of the wrong type)", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn list(
    State(db): State<PgPool>,
    _operator: Operator,
    Query(query): Query<ListQuery>,
) -> Result<Json<ChatList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let filter = ChatFilter {
        status: query.status,
        mitra_id: query.mitra_id,
        customer_id: query.customer_id,
        from: query.from,
        to: query.to,
        before: query.cursor,
    };
    let rows = service::list(&db, &filter, limit).await?;
    let (items, next_cursor) = split_page(rows, limit, |c| c.id);
    Ok(Json(ChatList { items, next_cursor }))
}

/// One chat: its participants, offers, extensions, rating and counts.
#[utoipa::path(get, path = "/internal/chats/{id}", operation_id = "cc_get_chat", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id")),
    responses((status = 200, description = "the chat", body = ChatDetail),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`chat_not_found`", body = ErrorBody)))]
pub async fn get(
    State(db): State<PgPool>,
    _operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<ChatDetail>, ApiError> {
    Ok(Json(service::detail(&db, id).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// At most this many messages (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page: messages after this id.
    #[param(minimum = 0)]
    pub cursor: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Transcript {
    /// Oldest first.
    pub items: Vec<TranscriptMessage>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<i64>,
}

/// The chat's messages, oldest first. Every read is written to the audit
/// log (`chat.transcript_read`) in the same transaction.
#[utoipa::path(get, path = "/internal/chats/{id}/transcript", operation_id = "cc_chat_transcript", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id"), TranscriptQuery),
    responses((status = 200, description = "a page of messages", body = Transcript),
        (status = 400, description = "`validation_failed` (`limit`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`chat_not_found`", body = ErrorBody)))]
pub async fn transcript(
    State(db): State<PgPool>,
    operator: Operator,
    Path(id): Path<Uuid>,
    Query(query): Query<TranscriptQuery>,
) -> Result<Json<Transcript>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let after = query.cursor.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid_field(
            "cursor",
            "out_of_range",
            "pass back next_cursor as given",
        ));
    }
    let rows = service::transcript(&db, &operator, id, after, limit).await?;
    let (items, next_cursor) = split_page(rows, limit, |m| m.id);
    Ok(Json(Transcript { items, next_cursor }))
}

/// Ends a running chat now (`ended_by: operator`); both apps are told. A
/// chat that has ended already is answered as it is.
#[utoipa::path(post, path = "/internal/chats/{id}/end", operation_id = "cc_end_chat", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id")),
    responses((status = 200, description = "the chat, ended", body = ChatDetail),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`chat_not_found`", body = ErrorBody),
        (status = 409, description = "`chat_not_active`: still offered, or never served", body = ErrorBody)))]
pub async fn end(
    State(db): State<PgPool>,
    operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<ChatDetail>, ApiError> {
    Ok(Json(service::end(&db, &operator, id).await?))
}
