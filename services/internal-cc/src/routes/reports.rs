//! `/internal/reports`: what customers and mitras reported about chats.

use axum::extract::{Path, Query, State};
use halo_chats::{ReportRecord, ReportStatus};
use halo_proto::ApiError;
use halo_proto::text::optional_note;
use halo_web::{ErrorBody, Json, split_page};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::roles::Operator;
use crate::services::reports::{self as service, ReportDetail};

const NOTE_MAX: usize = 2000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open` (to handle) or `resolved`; both when left out.
    #[param(inline)]
    pub status: Option<ReportStatus>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<ReportRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Reports, newest first.
#[utoipa::path(get, path = "/internal/reports", operation_id = "cc_list_reports", tag = "reports", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "a page of reports", body = ReportList),
        (status = 400, description = "`validation_failed` (`limit`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn list(
    State(db): State<PgPool>,
    _operator: Operator,
    Query(query): Query<ListQuery>,
) -> Result<Json<ReportList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let rows = service::list(&db, query.status, query.cursor, limit).await?;
    let (items, next_cursor) = split_page(rows, limit, |r| r.id);
    Ok(Json(ReportList { items, next_cursor }))
}

/// One report with its chat and the chat's transcript; the read is written
/// to the audit log (`chat.transcript_read`).
#[utoipa::path(get, path = "/internal/reports/{id}", operation_id = "cc_get_report", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the report's id")),
    responses((status = 200, description = "the report", body = ReportDetail),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`report_not_found`", body = ErrorBody)))]
pub async fn get(
    State(db): State<PgPool>,
    operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<ReportDetail>, ApiError> {
    Ok(Json(service::detail(&db, &operator, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Mitra diberi peringatan; pelanggan dihubungi."}))]
pub struct Resolution {
    /// What was done.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub note: String,
}

/// Resolves an open report with a note of what was done.
#[utoipa::path(post, path = "/internal/reports/{id}/resolve", operation_id = "cc_resolve_report", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the report's id")), request_body = Resolution,
    responses((status = 200, description = "the report, resolved", body = ReportRecord),
        (status = 400, description = "`validation_failed` (`note`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`report_not_found`", body = ErrorBody),
        (status = 409, description = "`report_resolved`: resolved already", body = ErrorBody)))]
pub async fn resolve(
    State(db): State<PgPool>,
    operator: Operator,
    Path(id): Path<Uuid>,
    Json(body): Json<Resolution>,
) -> Result<Json<ReportRecord>, ApiError> {
    let note = optional_note("note", Some(body.note), NOTE_MAX)?.ok_or_else(|| {
        ApiError::invalid_field("note", "required", "say what was done about the report")
    })?;
    Ok(Json(service::resolve(&db, &operator, id, &note).await?))
}
