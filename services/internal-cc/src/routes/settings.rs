//! `/internal/settings`: operators read, admins change (with `If-Match`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use halo_proto::ApiError;
use halo_web::{CoreClient, ErrorBody, Json};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::roles::{Admin, Operator};
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
    State(core): State<CoreClient>,
    operator: Operator,
) -> Result<Response, ApiError> {
    Ok(with_etag(service::get(&core, &operator.auth).await?))
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
    State(core): State<CoreClient>,
    admin: Admin,
    headers: HeaderMap,
    Json(changes): Json<Value>,
) -> Result<Response, ApiError> {
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
        service::update(&core, &admin.auth, expected.to_owned(), changes).await?,
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
    State(core): State<CoreClient>,
    operator: Operator,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryView>, ApiError> {
    Ok(Json(
        service::history(
            &core,
            &operator.auth,
            query.limit.unwrap_or(50),
            query.before_id,
        )
        .await?,
    ))
}
