//! `/internal/cc-users`: control center users (admins only).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use halo_proto::ApiError;
use halo_proto::v1;
use halo_web::{CoreClient, ErrorBody, Json, split_page};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::roles::{Admin, Role};
use crate::services::cc_users::{self as service, CcUserRecord};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct CcUserList {
    pub items: Vec<CcUserRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Every CC user, newest first. Admins only.
#[utoipa::path(get, path = "/internal/cc-users", operation_id = "cc_list_cc_users", tag = "cc-users", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "a page of CC users", body = CcUserList),
        (status = 400, description = "`validation_failed` (`limit`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`admin_only` or `account_disabled`", body = ErrorBody)))]
pub async fn list(
    State(db): State<PgPool>,
    _admin: Admin,
    Query(query): Query<ListQuery>,
) -> Result<Json<CcUserList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let rows = service::list(&db, query.cursor, limit).await?;
    let (items, next_cursor) = split_page(rows, limit, |u| u.id);
    Ok(Json(CcUserList { items, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ayu@halobestie.id", "display_name": "Ayu", "role": "operator",
    "password": "correct horse battery"}))]
pub struct NewCcUser {
    #[schema(max_length = 254, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub email: String,
    #[schema(min_length = 1, max_length = 60, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub display_name: Option<String>,
    pub role: Role,
    /// At least 12 characters, at most 72 bytes, no control characters;
    /// hashed with bcrypt (cost 12).
    #[schema(min_length = 12, max_length = 72, format = Password, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub password: String,
}

/// Creates a CC user. Admins only.
#[utoipa::path(post, path = "/internal/cc-users", operation_id = "cc_create_cc_user", tag = "cc-users", security(("bearer" = [])),
    request_body = NewCcUser,
    responses((status = 201, description = "the new CC user", body = CcUserRecord),
        (status = 400, description = "`validation_failed` (`email`, `display_name`, `password`: `password_too_short`, `password_too_long`)", body = ErrorBody),
        (status = 403, description = "`admin_only` or `account_disabled`", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody)))]
pub async fn create(
    State(core): State<CoreClient>,
    State(db): State<PgPool>,
    admin: Admin,
    Json(body): Json<NewCcUser>,
) -> Result<(StatusCode, Json<CcUserRecord>), ApiError> {
    let request = v1::CreateCcUserRequest {
        email: body.email,
        display_name: body.display_name,
        role: body.role.as_str().to_owned(),
        password: body.password,
        client_ip: String::new(),
    };
    let created = service::create(&core, &db, &admin, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct CcUserChange {
    pub role: Option<Role>,
    /// Disabling ends their sessions at once.
    pub disabled: Option<bool>,
    #[schema(min_length = 1, max_length = 60, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub display_name: Option<String>,
}

/// Changes a CC user's role, name or disabled flag. The last active admin
/// can be neither disabled nor demoted. Admins only.
#[utoipa::path(patch, path = "/internal/cc-users/{id}", operation_id = "cc_update_cc_user", tag = "cc-users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the CC user's id")), request_body = CcUserChange,
    responses((status = 200, description = "the CC user after the change", body = CcUserRecord),
        (status = 400, description = "`validation_failed` (`display_name`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`admin_only` or `account_disabled`", body = ErrorBody),
        (status = 404, description = "`cc_user_not_found`", body = ErrorBody),
        (status = 409, description = "`last_admin`", body = ErrorBody)))]
pub async fn update(
    State(core): State<CoreClient>,
    State(db): State<PgPool>,
    admin: Admin,
    Path(id): Path<Uuid>,
    Json(body): Json<CcUserChange>,
) -> Result<Json<CcUserRecord>, ApiError> {
    let request = v1::UpdateCcUserRequest {
        id: id.to_string(),
        role: body.role.map(|r| r.as_str().to_owned()),
        disabled: body.disabled,
        display_name: body.display_name,
        client_ip: String::new(),
    };
    Ok(Json(service::update(&core, &db, &admin, request).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "another long passphrase"}))]
pub struct NewPassword {
    /// At least 12 characters, at most 72 bytes, no control characters.
    #[schema(min_length = 12, max_length = 72, format = Password, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub password: String,
}

/// Sets a CC user's password and ends their sessions. Admins only.
#[utoipa::path(post, path = "/internal/cc-users/{id}/reset-password", operation_id = "cc_reset_cc_user_password", tag = "cc-users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the CC user's id")), request_body = NewPassword,
    responses((status = 200, description = "the CC user; they sign in with the new password", body = CcUserRecord),
        (status = 400, description = "`validation_failed` (`password`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`admin_only` or `account_disabled`", body = ErrorBody),
        (status = 404, description = "`cc_user_not_found`", body = ErrorBody)))]
pub async fn reset_password(
    State(core): State<CoreClient>,
    State(db): State<PgPool>,
    admin: Admin,
    Path(id): Path<Uuid>,
    Json(body): Json<NewPassword>,
) -> Result<Json<CcUserRecord>, ApiError> {
    Ok(Json(
        service::reset_password(&core, &db, &admin, id, body.password).await?,
    ))
}
