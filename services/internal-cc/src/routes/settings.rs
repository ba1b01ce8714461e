//! `/internal/settings`: operators read, admins change (with `If-Match`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use halo_proto::ApiError;
use halo_web::{ClientIp, CoreClient, ErrorBody, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder};
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
    responses((status = 200, body = SettingsView, description = "every setting",
            headers(("ETag" = String, description = "the settings' version; send it as `If-Match` to change them"))),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
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
    request_body(content = SettingsChange, description = "the settings to change, e.g. `{\"max_customers_per_mitra\": 4}`"),
    responses((status = 200, body = SettingsView, description = "the settings after the change",
            headers(("ETag" = String, description = "the new version"))),
        (status = 400, description = "`validation_failed` (`details` names each key: `unknown_setting`, `out_of_range`, `empty_change`, ...) or `if_match_required`", body = ErrorBody),
        (status = 403, description = "`admin_only` or `account_disabled`", body = ErrorBody),
        (status = 409, description = "`version_conflict`", body = ErrorBody)))]
pub async fn patch_settings(
    State(core): State<CoreClient>,
    admin: Admin,
    ip: ClientIp,
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
        service::update(
            &core,
            &admin.auth,
            expected.to_owned(),
            changes,
            ip.to_string(),
        )
        .await?,
    ))
}

/// A partial update: setting keys (as listed by `GET /internal/settings`)
/// to their new values. Which values are allowed depends on each key's
/// kind and on env values the core holds (`min`, `max` and `depends_on` in
/// `GET /internal/settings`), so the core checks them and answers 400
/// `validation_failed` naming each refused key.
pub struct SettingsChange;

impl utoipa::PartialSchema for SettingsChange {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        ObjectBuilder::new()
            .min_properties(Some(1))
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .examples([json!({"max_customers_per_mitra": 4})])
            .into()
    }
}

impl ToSchema for SettingsChange {}

#[derive(Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// At most this many changes (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i32>,
    /// Only changes older than this id (for paging).
    pub before_id: Option<i64>,
}

/// Who changed which setting, from what to what, newest first.
#[utoipa::path(get, path = "/internal/settings/history", tag = "settings", security(("bearer" = [])),
    params(HistoryQuery), responses((status = 200, body = HistoryView, description = "the changes"),
        (status = 400, description = "`validation_failed` (field `limit`) or `bad_request` (a parameter is not a number)", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn history(
    State(core): State<CoreClient>,
    operator: Operator,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryView>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            "out_of_range",
            "limit is 1 to 200",
        ));
    }
    Ok(Json(
        service::history(&core, &operator.auth, limit, query.before_id).await?,
    ))
}
