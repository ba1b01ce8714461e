//! `/api/mitra/chats/{id}/accept|decline`: a mitra answers an offer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use halo_auth::Auth;
use halo_chats::{ChatError, ChatId, MitraChat};
use halo_proto::{ApiError, ErrorKind};
use halo_web::{ErrorBody, Json, KnobCache, db_error};
use sqlx::PgPool;
use uuid::Uuid;

fn api_error(err: ChatError) -> ApiError {
    match err {
        ChatError::NotFound => ApiError::not_found("chat_not_found", "no such chat"),
        ChatError::OfferClosed => ApiError::new(
            ErrorKind::Conflict,
            "offer_closed",
            "this offer is over (it lapsed or was answered); the chat went to someone else",
        ),
        ChatError::Database(err) => db_error("answering an offer failed", err),
    }
}

/// Accepts the chat offered to this mitra: it starts now and runs for the
/// tier's duration. Repeating an accept answers the chat again.
#[utoipa::path(post, path = "/api/mitra/chats/{id}/accept", tag = "chats", security(("bearer" = [])),
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
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<Json<MitraChat>, ApiError> {
    halo_chats::accept(&db, auth.user_id, ChatId(id))
        .await
        .map(Json)
        .map_err(api_error)
}

/// Declines the chat offered to this mitra; it is offered to someone else
/// at once (or given up when the customer chose this mitra only).
/// Repeating a decline changes nothing.
#[utoipa::path(post, path = "/api/mitra/chats/{id}/decline", tag = "chats", security(("bearer" = [])),
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
