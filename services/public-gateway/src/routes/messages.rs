//! `/api/{client,mitra}/chats/{id}/messages`: a chat's history, for a new
//! device or after a reconnect (the socket's `resume` sends the same).

use axum::extract::{Path, Query, State};
use halo_auth::Auth;
use halo_chats::{ChatId, Message};
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, db_error};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::services::chats::chat_not_found;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only messages after this id (the newest the app has); default 0,
    /// from the start.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Messages oldest first.
#[derive(Serialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Pass as `after` for the next page; null when this page is the last.
    pub next_after: Option<i64>,
}

async fn page(
    db: &PgPool,
    user: Uuid,
    chat: Uuid,
    query: HistoryQuery,
) -> Result<Json<MessagePage>, ApiError> {
    let limit = halo_web::page_limit(query.limit, 50, 200)?;
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid_field(
            "after",
            "out_of_range",
            "after is a message id, 0 or more",
        ));
    }
    let messages = halo_chats::history(db, user, ChatId(chat), after, limit)
        .await
        .map_err(|e| db_error("reading messages failed", e))?
        .ok_or_else(chat_not_found)?;
    let next_after = (messages.len() == limit as usize)
        .then(|| messages.last().map(|m| m.id))
        .flatten();
    Ok(Json(MessagePage {
        messages,
        next_after,
    }))
}

/// The chat's messages after `after`, oldest first.
#[utoipa::path(get, path = "/api/client/chats/{id}/messages", operation_id = "client_chat_messages", tag = "realtime",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the chat's id"), HistoryQuery),
    responses(
        (status = 200, description = "a page of messages", body = MessagePage),
        (status = 400, description = "`validation_failed` (`after`, `limit`), or `bad_request`", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: no such chat of this customer's", body = ErrorBody)))]
pub async fn client_history(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    page(&db, auth.user_id, id, query).await
}

/// The messages of a chat this mitra serves (or served) after `after`,
/// oldest first.
#[utoipa::path(get, path = "/api/mitra/chats/{id}/messages", operation_id = "mitra_chat_messages", tag = "realtime",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the chat's id"), HistoryQuery),
    responses(
        (status = 200, description = "a page of messages; senders are roles, never user ids", body = MessagePage),
        (status = 400, description = "`validation_failed` (`after`, `limit`), or `bad_request`", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: not a chat this mitra serves", body = ErrorBody)))]
pub async fn mitra_history(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    page(&db, auth.user_id, id, query).await
}
