//! CC users (admins only): listed from `auth.cc_users` (readable by the
//! edges), changed only through the core, which owns them, hashes
//! passwords, guards the last admin and audits each change.

use chrono::{DateTime, Utc};
use halo_proto::ApiError;
use halo_proto::v1;
use halo_web::CoreClient;
use serde::Serialize;
use sqlx::{FromRow, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{not_found_as, query_failed};
use crate::roles::{Admin, Role};

pub fn cc_user_not_found() -> ApiError {
    ApiError::not_found("cc_user_not_found", "no such control center user")
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[schema(example = json!({"id": "019ab8e0-1111-7c41-9a7e-3f5b2c1d0e9f", "email": "ops@halobestie.id",
    "display_name": "Ayu", "role": "operator", "disabled": false, "created_at": "2026-11-01T03:00:00Z"}))]
pub struct CcUserRecord {
    pub id: Uuid,
    #[schema(example = "ops@halobestie.id")]
    pub email: String,
    #[schema(example = "Ayu")]
    pub display_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

const CC_USER: &str = "SELECT id, email, display_name, role, disabled_at IS NOT NULL AS disabled,
                              created_at FROM auth.cc_users";

pub async fn list(
    db: &PgPool,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<CcUserRecord>, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CC_USER} WHERE ($1::uuid IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
    )))
    .bind(before)
    .bind(i64::from(limit) + 1)
    .fetch_all(db)
    .await
    .map_err(query_failed)
}

pub async fn get(db: &PgPool, id: Uuid) -> Result<CcUserRecord, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{CC_USER} WHERE id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await
        .map_err(query_failed)?
        .ok_or_else(cc_user_not_found)
}

async fn reread(db: &PgPool, changed: v1::CcUser) -> Result<CcUserRecord, ApiError> {
    let id = changed
        .id
        .parse()
        .map_err(|e| halo_web::internal_error("the core sent a malformed user id", e))?;
    get(db, id).await
}

pub async fn create(
    core: &CoreClient,
    db: &PgPool,
    admin: &Admin,
    mut request: v1::CreateCcUserRequest,
) -> Result<CcUserRecord, ApiError> {
    request.client_ip = admin.client_ip();
    reread(db, core.create_cc_user(&admin.auth, request).await?).await
}

pub async fn update(
    core: &CoreClient,
    db: &PgPool,
    admin: &Admin,
    mut request: v1::UpdateCcUserRequest,
) -> Result<CcUserRecord, ApiError> {
    request.client_ip = admin.client_ip();
    let changed = core
        .update_cc_user(&admin.auth, request)
        .await
        .map_err(|e| not_found_as(e, cc_user_not_found))?;
    reread(db, changed).await
}

pub async fn reset_password(
    core: &CoreClient,
    db: &PgPool,
    admin: &Admin,
    id: Uuid,
    password: String,
) -> Result<CcUserRecord, ApiError> {
    let request = v1::ResetCcUserPasswordRequest {
        id: id.to_string(),
        password,
        client_ip: admin.client_ip(),
    };
    let changed = core
        .reset_cc_user_password(&admin.auth, request)
        .await
        .map_err(|e| not_found_as(e, cc_user_not_found))?;
    reread(db, changed).await
}
