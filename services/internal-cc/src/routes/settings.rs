//! `/internal/settings`: operators read, admins change (with `If-Match`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use halo_auth::Auth;
use halo_proto::ApiError;
use halo_web::{CoreChannel, ErrorBody, Json};
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use crate::services::operators;
use crate::services::settings::{self as service, HistoryView, SettingsView};

fn with_etag(view: SettingsView) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", view.version)).ok();
    let mut response = Json(view).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Every setting with its value, bounds and the env values it depends on.
#[utoipa::path(get, path = "/internal/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = SettingsView, description = "with an `ETag`"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(db): State<PgPool>,
    State(core): State<CoreChannel>,
    auth: Auth,
) -> Result<Response, ApiError> {
    operators::active(&db, auth.user_id).await?;
    Ok(with_etag(service::get(&core).await?))
}

/// A partial update: `{"key": value, ...}`. Admins only. `If-Match` must
/// carry the `ETag` the change was based on: a stale one answers 409
/// `version_conflict` and nothing is written.
#[utoipa::path(patch, path = "/internal/settings", tag = "settings", security(("bearer" = [])),
    params(("If-Match" = String, Header, description = "the ETag from GET /internal/settings")),
    request_body(content = Object, description = "the settings to change, e.g. `{\"max_customers_per_mitra\": 4}`"),
    responses((status = 200, body = SettingsView),
        (status = 400, description = "`validation_failed` with field `details`, or `if_match_required`", body = ErrorBody),
        (status = 403, description = "`admin_only`", body = ErrorBody),
        (status = 409, description = "`version_conflict`", body = ErrorBody)))]
pub async fn patch_settings(
    State(db): State<PgPool>,
    State(core): State<CoreChannel>,
    auth: Auth,
    headers: HeaderMap,
    Json(changes): Json<Value>,
) -> Result<Response, ApiError> {
    let admin = operators::require_admin(&db, auth.user_id).await?;
    let expected = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                halo_proto::ErrorKind::InvalidInput,
                "if_match_required",
                "send the settings' ETag in If-Match",
            )
        })?;
    Ok(with_etag(
        service::update(&core, expected.to_owned(), changes, admin.id).await?,
    ))
}

#[derive(Deserialize, IntoParams, ToSchema)]
pub struct HistoryQuery {
    /// At most this many changes (1-200, default 50).
    pub limit: Option<i32>,
    /// Only changes older than this id (for paging).
    pub before_id: Option<i64>,
}

/// Who changed which setting, from what to what, newest first.
#[utoipa::path(get, path = "/internal/settings/history", tag = "settings", security(("bearer" = [])),
    params(HistoryQuery), responses((status = 200, body = HistoryView), (status = 401, body = ErrorBody)))]
pub async fn history(
    State(db): State<PgPool>,
    State(core): State<CoreChannel>,
    auth: Auth,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryView>, ApiError> {
    operators::active(&db, auth.user_id).await?;
    Ok(Json(
        service::history(&core, query.limit.unwrap_or(50), query.before_id).await?,
    ))
}
