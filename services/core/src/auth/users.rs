//! SQL over `users` and `auth.cc_users` that more than one auth flow needs.

use halo_auth::UserType;
use halo_proto::v1;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

#[derive(Debug, sqlx::FromRow)]
struct PrincipalRow {
    id: Uuid,
    user_type: String,
    is_anonymous: bool,
    display_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    role: Option<String>,
    active: bool,
    blocked: bool,
}

/// A principal and whether it may still sign in.
pub struct Principal {
    pub id: Uuid,
    pub proto: v1::Principal,
    pub user_type: UserType,
    active: bool,
    blocked: bool,
}

impl Principal {
    /// Refuses a principal who may not sign in or refresh: a blocked
    /// customer hears so; a suspended mitra or disabled operator is
    /// `account_disabled`.
    pub fn require_active(&self) -> CoreResult<()> {
        match (self.active, self.blocked) {
            (true, _) => Ok(()),
            (false, true) => Err(CoreError::AccountBlocked),
            (false, false) => Err(CoreError::AccountDisabled),
        }
    }
}

fn to_proto_type(user_type: UserType) -> v1::UserType {
    match user_type {
        UserType::Customer => v1::UserType::Customer,
        UserType::Mitra => v1::UserType::Mitra,
        UserType::CcUser => v1::UserType::CcUser,
    }
}

pub async fn load_principal(
    conn: &mut PgConnection,
    user_type: UserType,
    id: Uuid,
) -> CoreResult<Principal> {
    let row: Option<PrincipalRow> = if user_type == UserType::CcUser {
        sqlx::query_as(
            "SELECT id, 'cc_user' AS user_type, false AS is_anonymous, display_name,
                    NULL::text AS phone, email, role, disabled_at IS NULL AS active,
                    false AS blocked
             FROM auth.cc_users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    } else {
        sqlx::query_as(
            "SELECT id, user_type, is_anonymous, display_name, phone,
                    NULL::text AS email, NULL::text AS role, status = 'active' AS active,
                    status = 'blocked' AS blocked
             FROM users WHERE id = $1 AND user_type = $2",
        )
        .bind(id)
        .bind(user_type.as_str())
        .fetch_optional(&mut *conn)
        .await?
    };
    let row = row.ok_or(CoreError::UserNotFound)?;
    let user_type = UserType::parse(&row.user_type).ok_or(CoreError::UserNotFound)?;
    Ok(Principal {
        id: row.id,
        proto: v1::Principal {
            id: row.id.to_string(),
            user_type: to_proto_type(user_type).into(),
            is_anonymous: row.is_anonymous,
            display_name: row.display_name,
            phone: row.phone,
            email: row.email,
            role: row.role,
        },
        user_type,
        active: row.active,
        blocked: row.blocked,
    })
}

pub async fn create_customer(
    conn: &mut PgConnection,
    anonymous: bool,
    phone: Option<&str>,
) -> CoreResult<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO users (id, user_type, is_anonymous, phone) VALUES ($1, 'customer', $2, $3)",
    )
    .bind(id)
    .bind(anonymous)
    .bind(phone)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Sets a customer's or mitra's display name; returns their user type.
pub async fn update_display_name(
    conn: &mut PgConnection,
    id: Uuid,
    display_name: &str,
) -> CoreResult<UserType> {
    let user_type: Option<String> = sqlx::query_scalar(
        "UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1 RETURNING user_type",
    )
    .bind(id)
    .bind(display_name)
    .fetch_optional(conn)
    .await?;
    user_type
        .as_deref()
        .and_then(UserType::parse)
        .ok_or(CoreError::UserNotFound)
}

/// Gives a phone-less customer (anonymous, or signed in with Google/Apple)
/// the verified phone, keeping the user id. False when not eligible.
pub async fn upgrade_with_phone(
    conn: &mut PgConnection,
    id: Uuid,
    phone: &str,
) -> CoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE users SET is_anonymous = false, phone = $2, updated_at = now()
         WHERE id = $1 AND user_type = 'customer' AND status = 'active' AND phone IS NULL",
    )
    .bind(id)
    .bind(phone)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Marks an anonymous customer as signed in for good (a provider identity
/// is being linked), keeping the user id. False when not eligible.
pub async fn upgrade_anonymous(conn: &mut PgConnection, id: Uuid) -> CoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE users SET is_anonymous = false, updated_at = now()
         WHERE id = $1 AND user_type = 'customer' AND status = 'active' AND is_anonymous",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}
