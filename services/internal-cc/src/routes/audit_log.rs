//! `/internal/audit-log`: who did what to what, when, from where.

use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use halo_audit::{AuditRecord, Filter};
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, split_page};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::roles::Operator;
use crate::services::audit_log as service;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The CC user who acted.
    pub actor_id: Option<Uuid>,
    /// e.g. `mitra.suspend`, `chat.transcript_read`, `order.refund`.
    #[param(
        max_length = 64,
        example = "chat.transcript_read",
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub action: Option<String>,
    /// `mitra`, `customer`, `chat`, `order`, `report`, `cc_user` or `settings`.
    #[param(
        max_length = 64,
        example = "chat",
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub target_type: Option<String>,
    #[param(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub target_id: Option<String>,
    /// At or after (RFC 3339; write `+` in an offset as `%2B`).
    #[param(example = "2026-11-25T17:00:00Z")]
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(minimum = 1)]
    pub cursor: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    pub items: Vec<AuditRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<i64>,
}

fn short(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > 64 || v.chars().any(char::is_control) => Err(
            ApiError::invalid_field(field, "invalid_filter", "at most 64 visible characters"),
        ),
        other => Ok(other),
    }
}

/// Audit entries, newest first, filtered.
#[utoipa::path(get, path = "/internal/audit-log", operation_id = "cc_audit_log", tag = "audit", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "a page of audit entries", body = AuditLog),
        (status = 400, description = "`validation_failed` (`limit` or a filter) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn list(
    State(db): State<PgPool>,
    _operator: Operator,
    Query(query): Query<ListQuery>,
) -> Result<Json<AuditLog>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    if query.cursor.is_some_and(|c| c < 1) {
        return Err(ApiError::invalid_field(
            "cursor",
            "out_of_range",
            "pass back next_cursor as given",
        ));
    }
    let filter = Filter {
        actor_id: query.actor_id,
        action: short("action", query.action)?,
        target_type: short("target_type", query.target_type)?,
        target_id: short("target_id", query.target_id)?,
        from: query.from,
        to: query.to,
        before_id: query.cursor,
    };
    let rows = service::list(&db, &filter, limit).await?;
    let (items, next_cursor) = split_page(rows, limit, |e| e.id);
    Ok(Json(AuditLog { items, next_cursor }))
}
