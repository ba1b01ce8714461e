//! CC operators as the CC sees them, read from `auth.cc_users`.

use halo_proto::ApiError;
use halo_web::{db_error, internal_error};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::roles::Role;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperatorProfile {
    pub id: Uuid,
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
}

/// The operator behind a token; a disabled one is refused, so a token
/// minted before disabling stops working at once.
pub async fn active(db: &PgPool, id: Uuid) -> Result<OperatorProfile, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        email: String,
        display_name: Option<String>,
        role: String,
        disabled: bool,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, email, display_name, role, disabled_at IS NOT NULL AS disabled
         FROM auth.cc_users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
    .map_err(|e| db_error("operator read failed", e))?;
    let row = row
        .ok_or_else(|| ApiError::unauthenticated("invalid_token", "the access token is invalid"))?;
    if row.disabled {
        return Err(ApiError::forbidden(
            "account_disabled",
            "this account is disabled",
        ));
    }
    let role = Role::parse(&row.role)
        .ok_or_else(|| internal_error("unknown CC role", anyhow::anyhow!("{}", row.role)))?;
    Ok(OperatorProfile {
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        role,
    })
}
