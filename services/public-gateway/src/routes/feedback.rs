//! After a chat: the customer's rating (`/api/client/chats/{id}/rating`)
//! and either side's report (`/api/{client,mitra}/chats/{id}/reports`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use halo_auth::Auth;
use halo_chats::{ChatId, ChatRating, Party, Report, ReportReason};
use halo_proto::ApiError;
use halo_proto::text::optional_note;
use halo_web::{ErrorBody, Json};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::services::chats::api_error;

const RATING_NOTE_MAX: usize = 1000;
const REPORT_NOTE_MAX: usize = 2000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"stars": 5, "note": "Sangat membantu"}))]
pub struct RateChat {
    /// Read as a number so that `4.0`, which JSON Schema counts as the
    /// integer 4, is accepted; `4.5` is refused.
    #[schema(value_type = i32, minimum = 1, maximum = 5)]
    pub stars: f64,
    /// Shown to the CC, never to the mitra.
    #[schema(
        max_length = 1000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub note: Option<String>,
}

/// Rates an ended chat, once; the mitra's average moves with it.
#[utoipa::path(post, path = "/api/client/chats/{id}/rating", operation_id = "rate_chat", tag = "chats",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the chat's id")),
    request_body = RateChat,
    responses(
        (status = 201, description = "the rating", body = ChatRating),
        (status = 400, description = "`validation_failed` (fields `stars`, `note`), or `bad_request`", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: no such chat of this customer's", body = ErrorBody),
        (status = 409, description = "`chat_not_ended` (still running, or never served) or `already_rated`", body = ErrorBody)))]
pub async fn rate(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(body): Json<RateChat>,
) -> Result<(StatusCode, Json<ChatRating>), ApiError> {
    if body.stars.fract() != 0.0 || !(1.0..=5.0).contains(&body.stars) {
        return Err(ApiError::invalid_field(
            "stars",
            "out_of_range",
            "stars is a whole number from 1 to 5",
        ));
    }
    let note = optional_note("note", body.note, RATING_NOTE_MAX)?;
    let rating = halo_chats::rate(&db, auth.user_id, ChatId(id), body.stars as i16, note)
        .await
        .map_err(api_error)?;
    Ok((StatusCode::CREATED, Json(rating)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "harassment", "note": "Kata-kata kasar di menit ke-10"}))]
pub struct ReportChat {
    pub reason: ReportReason,
    /// What happened, for the CC.
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub note: Option<String>,
}

async fn open_report(
    db: &PgPool,
    by: Party,
    id: Uuid,
    body: ReportChat,
) -> Result<(StatusCode, Json<Report>), ApiError> {
    let note = optional_note("note", body.note, REPORT_NOTE_MAX)?;
    let report = halo_chats::report(db, by, ChatId(id), body.reason, note)
        .await
        .map_err(api_error)?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// Reports a running or ended chat to the CC.
#[utoipa::path(post, path = "/api/client/chats/{id}/reports", operation_id = "report_client_chat", tag = "chats",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the chat's id")),
    request_body = ReportChat,
    responses(
        (status = 201, description = "the report, `open` until an operator resolves it", body = Report),
        (status = 400, description = "`validation_failed` (field `note`), or `bad_request` (e.g. an unknown reason)", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: no such chat of this customer's", body = ErrorBody),
        (status = 409, description = "`chat_not_active` (never served) or `report_open` (this customer's report \
            of the chat is still open)", body = ErrorBody)))]
pub async fn client_report(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(body): Json<ReportChat>,
) -> Result<(StatusCode, Json<Report>), ApiError> {
    open_report(&db, Party::Customer(auth.user_id), id, body).await
}

/// Reports a chat this mitra serves or served to the CC.
#[utoipa::path(post, path = "/api/mitra/chats/{id}/reports", operation_id = "report_mitra_chat", tag = "chats",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the chat's id")),
    request_body = ReportChat,
    responses(
        (status = 201, description = "the report, `open` until an operator resolves it", body = Report),
        (status = 400, description = "`validation_failed` (field `note`), or `bad_request` (e.g. an unknown reason)", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: not a chat this mitra serves", body = ErrorBody),
        (status = 409, description = "`chat_not_active` (not accepted yet) or `report_open` (this mitra's report \
            of the chat is still open)", body = ErrorBody)))]
pub async fn mitra_report(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(body): Json<ReportChat>,
) -> Result<(StatusCode, Json<Report>), ApiError> {
    open_report(&db, Party::Mitra(auth.user_id), id, body).await
}
