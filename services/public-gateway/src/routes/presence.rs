//! `/api/mitra/presence`: a mitra goes online or offline and, while
//! online, beats every `MITRA_HEARTBEAT_CADENCE_SECONDS`.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use halo_auth::Auth;
use halo_mitras::{Heartbeats, Presence, PresenceStatus};
use halo_proto::ApiError;
use halo_web::{Json, db_error};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "online"}))]
pub struct SetPresence {
    pub status: PresenceStatus,
}

/// Goes online (taking chats from now on, and counted as a heartbeat) or
/// offline (no new chats; chats already running go on).
#[utoipa::path(put, path = "/api/mitra/presence", operation_id = "set_presence", tag = "presence", security(("bearer" = [])),
    request_body = SetPresence,
    responses((status = 200, description = "the status now", body = Presence,
        example = json!({"status": "online", "status_changed_at": "2026-11-26T08:00:00Z"}))))]
pub async fn set(
    State(db): State<PgPool>,
    auth: Auth,
    Json(body): Json<SetPresence>,
) -> Result<Json<Presence>, ApiError> {
    halo_mitras::set_presence(&db, auth.user_id, body.status)
        .await
        .map(Json)
        .map_err(|e| db_error("setting presence failed", e))
}

/// Keeps an online mitra available: without a beat for
/// `mitra_stale_after_seconds` they count as offline. It never changes the
/// status a mitra set; a beat while offline is ignored.
#[utoipa::path(post, path = "/api/mitra/presence/heartbeat", operation_id = "presence_heartbeat", tag = "presence", security(("bearer" = [])),
    responses((status = 204, description = "noted")))]
pub async fn heartbeat(Extension(beats): Extension<Heartbeats>, auth: Auth) -> StatusCode {
    beats.beat(auth.user_id);
    StatusCode::NO_CONTENT
}
