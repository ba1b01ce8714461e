//! `/api/{client,mitra}/chats`: a mitra answers an offer; either side
//! reads its chats and may end an active one early.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use halo_auth::Auth;
use halo_chats::{ChatId, ChatStatus, CustomerChat, MitraChat, Party};
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, KnobCache, db_error};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::services::chats::{api_error, chat_not_found as not_found};

/// Accepts the chat offered to this mitra: it starts now and runs for the
/// tier's duration. Repeating an accept answers the chat again.
#[utoipa::path(post, path = "/api/mitra/chats/{id}/accept", operation_id = "accept_chat", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id, from the chat.offered event")),
    responses(
        (status = 200, description = "the chat, `active`; the customer appears only by display name or alias",
            body = MitraChat, example = json!({"id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f", "status": "active",
                "customer": {"display_name": "Teman 4F2A"}, "duration_minutes": 30, "offer_expires_at": null,
                "started_at": "2026-11-26T08:05:00Z", "ends_at": "2026-11-26T08:35:00Z"})),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: never offered to this mitra", body = ErrorBody),
        (status = 409, description = "`offer_closed`: the offer lapsed or was declined", body = ErrorBody)))]
pub async fn accept(
    State(db): State<PgPool>,
    State(knobs): State<KnobCache>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<Json<MitraChat>, ApiError> {
    let knobs = knobs.current()?;
    halo_chats::accept(&db, &knobs.knobs, auth.user_id, ChatId(id))
        .await
        .map(Json)
        .map_err(api_error)
}

/// Declines the chat offered to this mitra; it is offered to someone else
/// at once (or given up when the customer chose this mitra only).
/// Repeating a decline changes nothing.
#[utoipa::path(post, path = "/api/mitra/chats/{id}/decline", operation_id = "decline_chat", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id, from the chat.offered event")),
    responses(
        (status = 204, description = "declined"),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: never offered to this mitra", body = ErrorBody),
        (status = 409, description = "`offer_closed`: the offer lapsed or was accepted", body = ErrorBody)))]
pub async fn decline(
    State(db): State<PgPool>,
    State(knobs): State<KnobCache>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let knobs = knobs.current()?;
    halo_chats::decline(&db, &knobs.knobs, auth.user_id, ChatId(id))
        .await
        .map_err(api_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientListQuery {
    /// At most this many chats (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MitraListQuery {
    /// Only chats in this status.
    pub status: Option<ChatStatus>,
    /// At most this many chats (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// A page of the customer's chats, newest first.
#[derive(Serialize, ToSchema)]
pub struct CustomerChatPage {
    pub chats: Vec<CustomerChat>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<Uuid>)]
    pub next_cursor: Option<ChatId>,
}

/// A page of the mitra's chats, newest first.
#[derive(Serialize, ToSchema)]
pub struct MitraChatPage {
    pub chats: Vec<MitraChat>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<Uuid>)]
    pub next_cursor: Option<ChatId>,
}

/// The customer's chats, newest first.
#[utoipa::path(get, path = "/api/client/chats", operation_id = "list_client_chats", tag = "chats", security(("bearer" = [])), params(ClientListQuery),
    responses(
        (status = 200, description = "a page of chats", body = CustomerChatPage,
            example = json!({"chats": [{"id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f", "order_id": "019ab8f0-7a11-7c41-9a7e-3f5b2c1d0e9f",
                "status": "active", "mitra": {"id": "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f", "display_name": "Dewi", "photo_url": null},
                "duration_minutes": 30, "started_at": "2026-11-26T08:05:00Z", "ends_at": "2026-11-26T08:35:00Z", "ended_at": null}],
                "next_cursor": null})),
        (status = 400, description = "`validation_failed` (field `limit`), or `bad_request` (a parameter is not \
            a number or a UUID)", body = ErrorBody)))]
pub async fn client_list(
    State(db): State<PgPool>,
    auth: Auth,
    Query(query): Query<ClientListQuery>,
) -> Result<Json<CustomerChatPage>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let page = halo_chats::customer_chats(&db, auth.user_id, query.cursor.map(ChatId), limit)
        .await
        .map_err(|e| db_error("listing chats failed", e))?;
    Ok(Json(CustomerChatPage {
        chats: page.chats,
        next_cursor: page.next,
    }))
}

/// One of the customer's chats; another's is 404.
#[utoipa::path(get, path = "/api/client/chats/{id}", operation_id = "get_client_chat", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id")),
    responses(
        (status = 200, description = "the chat", body = CustomerChat),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: no such chat of this customer's", body = ErrorBody)))]
pub async fn client_get(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<Json<CustomerChat>, ApiError> {
    halo_chats::customer_chat(&db, auth.user_id, ChatId(id))
        .await
        .map_err(|e| db_error("reading a chat failed", e))?
        .map(Json)
        .ok_or_else(not_found)
}

/// The mitra's chats (offered to them, active, ended), newest first.
#[utoipa::path(get, path = "/api/mitra/chats", operation_id = "list_mitra_chats", tag = "chats", security(("bearer" = [])), params(MitraListQuery),
    responses(
        (status = 200, description = "a page of chats; customers appear only by display name or alias", body = MitraChatPage),
        (status = 400, description = "`validation_failed` (field `limit`), or `bad_request` (a parameter is not \
            a number, a UUID or a status)", body = ErrorBody)))]
pub async fn mitra_list(
    State(db): State<PgPool>,
    auth: Auth,
    Query(query): Query<MitraListQuery>,
) -> Result<Json<MitraChatPage>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let page = halo_chats::mitra_chats(
        &db,
        auth.user_id,
        query.status,
        query.cursor.map(ChatId),
        limit,
    )
    .await
    .map_err(|e| db_error("listing chats failed", e))?;
    Ok(Json(MitraChatPage {
        chats: page.chats,
        next_cursor: page.next,
    }))
}

/// A chat offered to or served by this mitra; any other is 404.
#[utoipa::path(get, path = "/api/mitra/chats/{id}", operation_id = "get_mitra_chat", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id")),
    responses(
        (status = 200, description = "the chat", body = MitraChat),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: not offered to or served by this mitra", body = ErrorBody)))]
pub async fn mitra_get(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<Json<MitraChat>, ApiError> {
    halo_chats::mitra_chat(&db, auth.user_id, ChatId(id))
        .await
        .map_err(|e| db_error("reading a chat failed", e))?
        .map(Json)
        .ok_or_else(not_found)
}

async fn end(db: &PgPool, by: Party, id: Uuid) -> Result<StatusCode, ApiError> {
    halo_chats::end(db, by, ChatId(id))
        .await
        .map_err(api_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends the customer's active chat now. Ending an ended chat again is a
/// no-op.
#[utoipa::path(post, path = "/api/client/chats/{id}/end", operation_id = "end_client_chat", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id")),
    responses(
        (status = 204, description = "ended (or already ended)"),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: no such chat of this customer's", body = ErrorBody),
        (status = 409, description = "`chat_not_active`: the chat has not started (or was never served)", body = ErrorBody)))]
pub async fn client_end(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    end(&db, Party::Customer(auth.user_id), id).await
}

/// Ends the mitra's active chat now. Ending an ended chat again is a
/// no-op.
#[utoipa::path(post, path = "/api/mitra/chats/{id}/end", operation_id = "end_mitra_chat", tag = "chats", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id")),
    responses(
        (status = 204, description = "ended (or already ended)"),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: not served by this mitra", body = ErrorBody),
        (status = 409, description = "`chat_not_active`: the chat has not started", body = ErrorBody)))]
pub async fn mitra_end(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    end(&db, Party::Mitra(auth.user_id), id).await
}
