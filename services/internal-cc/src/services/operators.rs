//! CC operators as the CC sees them, read from `auth.cc_users`.

use halo_proto::ApiError;
use halo_web::db_error;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Operator {
    pub id: Uuid,
    pub email: String,
    pub display_name: Option<String>,
    /// `admin` or `operator`.
    #[schema(example = "admin")]
    pub role: String,
}

/// The operator behind a token; a disabled one is refused, so a token
/// minted before disabling stops working for anything that checks.
pub async fn active(db: &PgPool, id: Uuid) -> Result<Operator, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        operator: Operator,
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
    match row {
        Some(row) if !row.disabled => Ok(row.operator),
        Some(_) => Err(ApiError::forbidden(
            "account_disabled",
            "this account is disabled",
        )),
        None => Err(ApiError::unauthenticated(
            "invalid_token",
            "the access token is invalid",
        )),
    }
}

/// Admin-only actions call this first.
pub async fn require_admin(db: &PgPool, id: Uuid) -> Result<Operator, ApiError> {
    let operator = active(db, id).await?;
    if operator.role != "admin" {
        return Err(ApiError::forbidden(
            "admin_only",
            "only an admin may do this",
        ));
    }
    Ok(operator)
}
