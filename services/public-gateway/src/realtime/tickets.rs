//! One-time tickets for opening the socket without a handshake header
//! (browsers cannot set one): `POST /api/shared/ws/ticket` with the bearer
//! token, then `GET /api/shared/ws?ticket=...` within 30 s. A ticket opens
//! one socket; only its SHA-256 is stored; a long-lived token never goes
//! into a URL that proxies log.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use halo_auth::Auth;
use halo_chats::Role;
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, db_error};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

const TICKET_LIFETIME: Duration = Duration::from_secs(30);

/// A ticket for one socket.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"ticket": "9b1f0c3e6a5d4e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f", "expires_in": 30}))]
pub struct Ticket {
    /// Pass as `GET /api/shared/ws?ticket=...`; it works once.
    pub ticket: String,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

fn digest(ticket: &str) -> Vec<u8> {
    Sha256::digest(ticket.as_bytes()).to_vec()
}

/// Issues a one-time ticket to open the socket without an `Authorization`
/// header (a browser's WebSocket cannot send one).
#[utoipa::path(post, path = "/api/shared/ws/ticket", operation_id = "socket_ticket", tag = "realtime",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "the ticket", body = Ticket),
        (status = 403, description = "`wrong_user_type`: a CC token", body = ErrorBody)))]
pub async fn issue(
    State(db): State<PgPool>,
    auth: Auth,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let user_type = match crate::routes::app_role(&auth)? {
        Role::Customer => "customer",
        Role::Mitra => "mitra",
    };
    // 244 random bits from two v4 UUIDs (the OS's generator).
    let ticket = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    sqlx::query(
        "WITH gone AS (DELETE FROM ws_tickets WHERE user_id = $2 AND expires_at < now())
         INSERT INTO ws_tickets (ticket_hash, user_id, user_type, session_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
    )
    .bind(digest(&ticket))
    .bind(auth.user_id)
    .bind(user_type)
    .bind(auth.session_id)
    .bind(TICKET_LIFETIME.as_secs_f64())
    .execute(&db)
    .await
    .map_err(|e| db_error("issuing a socket ticket failed", e))?;
    Ok((
        StatusCode::CREATED,
        Json(Ticket {
            ticket,
            expires_in: TICKET_LIFETIME.as_secs(),
        }),
    ))
}

/// Uses a ticket up: who it was issued to (user, whether a mitra), or a
/// 401 when it is unknown, used or expired.
pub async fn redeem(db: &PgPool, ticket: &str) -> Result<(Uuid, bool), ApiError> {
    let found: Option<(Uuid, String)> = sqlx::query_as(
        "DELETE FROM ws_tickets WHERE ticket_hash = $1 AND expires_at > now() RETURNING user_id, user_type",
    )
    .bind(digest(ticket))
    .fetch_optional(db)
    .await
    .map_err(|e| db_error("redeeming a socket ticket failed", e))?;
    found
        .map(|(user, user_type)| (user, user_type == "mitra"))
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "invalid_ticket",
                "the ticket is unknown, used or expired; ask for a new one",
            )
        })
}
