//! Operators' actions on accounts (issue 12): a customer's or mitra's
//! status, registering a mitra's phone, and CC users. The core owns these
//! tables, so these writes happen here; each runs in one transaction with
//! its audit entry, and any change that takes an account out of service
//! revokes its sessions in that same transaction (the next refresh fails).

use halo_auth::{Phone, UserType};
use halo_proto::text::{TextRule, clean_text};
use halo_proto::v1;
use serde_json::json;
use uuid::Uuid;

use super::Auth;
use super::sessions::revoke_user;
use crate::error::{CoreError, CoreResult};

/// Shortest CC password (OWASP ASVS 2.1.1); bcrypt reads at most 72 bytes.
const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_BYTES: usize = 72;

/// An app user's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    /// A mitra taken out of service by an operator.
    Suspended,
    /// A customer refused service by an operator.
    Blocked,
}

impl Standing {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Blocked => "blocked",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            "blocked" => Some(Self::Blocked),
            _ => None,
        }
    }

    pub fn from_proto(value: i32) -> Option<Self> {
        match v1::AccountStatus::try_from(value) {
            Ok(v1::AccountStatus::Active) => Some(Self::Active),
            Ok(v1::AccountStatus::Suspended) => Some(Self::Suspended),
            Ok(v1::AccountStatus::Blocked) => Some(Self::Blocked),
            _ => None,
        }
    }

    pub fn to_proto(self) -> v1::AccountStatus {
        match self {
            Self::Active => v1::AccountStatus::Active,
            Self::Suspended => v1::AccountStatus::Suspended,
            Self::Blocked => v1::AccountStatus::Blocked,
        }
    }

    /// The audit verb for moving a `user_type` into this standing.
    fn verb(self, user_type: UserType) -> &'static str {
        match (self, user_type) {
            (Self::Suspended, _) => "suspend",
            (Self::Blocked, _) => "block",
            (Self::Active, UserType::Customer) => "unblock",
            (Self::Active, _) => "activate",
        }
    }
}

/// What a status change did.
pub struct StatusChange {
    pub previous: Standing,
    pub status: Standing,
    pub sessions_revoked: u64,
}

#[derive(sqlx::FromRow)]
struct CcUserRow {
    id: Uuid,
    email: String,
    display_name: Option<String>,
    role: String,
    disabled: bool,
}

impl From<CcUserRow> for v1::CcUser {
    fn from(row: CcUserRow) -> Self {
        Self {
            id: row.id.to_string(),
            email: row.email,
            display_name: row.display_name,
            role: row.role,
            disabled: row.disabled,
        }
    }
}

const CC_USER_COLUMNS: &str = "id, email, display_name, role, disabled_at IS NOT NULL AS disabled";

/// A change to a CC user; `None` leaves a field as it is.
pub struct CcUserChange {
    pub role: Option<String>,
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
}

fn role(value: &str) -> CoreResult<&'static str> {
    match value {
        "admin" => Ok("admin"),
        "operator" => Ok("operator"),
        _ => Err(CoreError::invalid(
            "role",
            "invalid_role",
            "admin or operator",
        )),
    }
}

fn display_name(value: &str) -> CoreResult<String> {
    let name = clean_text("display_name", value, TextRule::DisplayName)?;
    if name.is_empty() || name.chars().count() > 60 {
        return Err(CoreError::invalid(
            "display_name",
            "invalid_display_name",
            "a display name is 1 to 60 characters",
        ));
    }
    Ok(name)
}

fn check_password(password: &str) -> CoreResult<()> {
    // bcrypt stops at a NUL; no one types the others.
    if password.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "password",
            "invalid_characters",
            "a password has no control characters",
        ));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(CoreError::invalid(
            "password",
            "password_too_short",
            "a password has at least 12 characters",
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(CoreError::invalid(
            "password",
            "password_too_long",
            "a password has at most 72 bytes",
        ));
    }
    Ok(())
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

impl Auth {
    /// Moves a customer between active and blocked, or a mitra between
    /// active and suspended. The status it already has is a no-op.
    pub async fn set_user_status(
        &self,
        actor: &halo_audit::Actor,
        user_id: Uuid,
        user_type: UserType,
        status: Standing,
    ) -> CoreResult<StatusChange> {
        let allowed = match user_type {
            UserType::Customer => [Standing::Active, Standing::Blocked],
            UserType::Mitra => [Standing::Active, Standing::Suspended],
            UserType::CcUser => return Err(CoreError::UserNotFound),
        };
        if !allowed.contains(&status) {
            return Err(CoreError::invalid(
                "status",
                "invalid_status",
                "customers are active or blocked; mitras active or suspended",
            ));
        }
        let mut tx = self.sessions.pool.begin().await?;
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT status FROM users WHERE id = $1 AND user_type = $2 FOR UPDATE",
        )
        .bind(user_id)
        .bind(user_type.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let previous = previous
            .as_deref()
            .and_then(Standing::parse)
            .ok_or(CoreError::UserNotFound)?;
        if previous == status {
            return Ok(StatusChange {
                previous,
                status,
                sessions_revoked: 0,
            });
        }
        sqlx::query("UPDATE users SET status = $2, updated_at = now() WHERE id = $1")
            .bind(user_id)
            .bind(status.as_str())
            .execute(&mut *tx)
            .await?;
        let sessions_revoked = if status == Standing::Active {
            0
        } else {
            revoke_user(&mut tx, user_id, status.as_str()).await?
        };
        let action = format!("{}.{}", user_type.as_str(), status.verb(user_type));
        let entry = halo_audit::Entry::new(&action, user_type.as_str(), user_id).change(
            json!({"status": previous.as_str()}),
            json!({"status": status.as_str(), "sessions_revoked": sessions_revoked}),
        );
        halo_audit::record(&mut tx, actor, entry).await?;
        tx.commit().await?;
        Ok(StatusChange {
            previous,
            status,
            sessions_revoked,
        })
    }

    /// Makes a phone a mitra's, so OTP sign-in on the mitra app works for it.
    pub async fn register_mitra(
        &self,
        actor: &halo_audit::Actor,
        raw_phone: &str,
        name: &str,
    ) -> CoreResult<v1::RegisteredMitra> {
        let phone = Phone::parse(raw_phone);
        let name = display_name(name);
        let (phone, name) = match (phone, name) {
            (Ok(phone), Ok(name)) => (phone, name),
            (phone, name) => {
                let mut problems = Vec::new();
                if let Err(problem) = phone {
                    problems.push(problem);
                }
                if let Err(CoreError::Invalid(mut more)) = name {
                    problems.append(&mut more);
                }
                return Err(CoreError::Invalid(problems));
            }
        };
        let id = Uuid::now_v7();
        let mut tx = self.sessions.pool.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, user_type, phone, display_name) VALUES ($1, 'mitra', $2, $3)",
        )
        .bind(id)
        .bind(phone.as_str())
        .bind(&name)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                CoreError::PhoneTaken
            } else {
                e.into()
            }
        })?;
        let entry = halo_audit::Entry::new("mitra.create", "mitra", id)
            .after(json!({"phone": phone.as_str(), "display_name": name}));
        halo_audit::record(&mut tx, actor, entry).await?;
        tx.commit().await?;
        Ok(v1::RegisteredMitra {
            user_id: id.to_string(),
            phone: phone.to_string(),
        })
    }

    pub async fn create_cc_user(
        &self,
        actor: &halo_audit::Actor,
        email: &str,
        name: Option<&str>,
        role_name: &str,
        password: String,
    ) -> CoreResult<v1::CcUser> {
        let email = clean_text("email", email, TextRule::Line)?.to_lowercase();
        let (local, domain) = email.split_once('@').unwrap_or_default();
        if local.is_empty() || !domain.contains('.') || email.len() > 254 {
            return Err(CoreError::invalid(
                "email",
                "invalid_email",
                "an email address such as ops@halobestie.id",
            ));
        }
        let name = name.map(display_name).transpose()?;
        let role = role(role_name)?;
        check_password(&password)?;
        let hash = self.cc.bcrypt.hash(password, self.cc.cost).await?;
        let mut tx = self.sessions.pool.begin().await?;
        let row: CcUserRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO auth.cc_users (id, email, password_hash, display_name, role)
             VALUES ($1, $2, $3, $4, $5) RETURNING {CC_USER_COLUMNS}"
        )))
        .bind(Uuid::now_v7())
        .bind(&email)
        .bind(hash)
        .bind(&name)
        .bind(role)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                CoreError::EmailTaken
            } else {
                e.into()
            }
        })?;
        let entry = halo_audit::Entry::new("cc_user.create", "cc_user", row.id)
            .after(json!({"email": email, "display_name": name, "role": role}));
        halo_audit::record(&mut tx, actor, entry).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Changes a CC user's role, name or disabled flag. The active admins
    /// are locked first (always in id order, so two such changes cannot
    /// deadlock), so two admins demoting each other at once cannot leave
    /// none.
    pub async fn update_cc_user(
        &self,
        actor: &halo_audit::Actor,
        id: Uuid,
        change: CcUserChange,
    ) -> CoreResult<v1::CcUser> {
        let new_role = change.role.as_deref().map(role).transpose()?;
        let new_name = change
            .display_name
            .as_deref()
            .map(display_name)
            .transpose()?;
        let mut tx = self.sessions.pool.begin().await?;
        let admins: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM auth.cc_users WHERE role = 'admin' AND disabled_at IS NULL
             ORDER BY id FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?;
        let current: CcUserRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CC_USER_COLUMNS} FROM auth.cc_users WHERE id = $1 FOR UPDATE"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(CoreError::UserNotFound)?;
        let role = new_role.unwrap_or(if current.role == "admin" {
            "admin"
        } else {
            "operator"
        });
        let disabled = change.disabled.unwrap_or(current.disabled);
        let name = new_name.or(current.display_name.clone());
        let stays_active_admin = role == "admin" && !disabled;
        if admins == [id] && !stays_active_admin {
            return Err(CoreError::LastAdmin);
        }
        let row: CcUserRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE auth.cc_users SET role = $2, display_name = $3, updated_at = now(),
                 disabled_at = CASE WHEN $4 THEN coalesce(disabled_at, now()) END
             WHERE id = $1 RETURNING {CC_USER_COLUMNS}"
        )))
        .bind(id)
        .bind(role)
        .bind(&name)
        .bind(disabled)
        .fetch_one(&mut *tx)
        .await?;
        if disabled && !current.disabled {
            revoke_user(&mut tx, id, "account_disabled").await?;
        }
        let entry = halo_audit::Entry::new("cc_user.update", "cc_user", id).change(
            json!({"role": current.role, "disabled": current.disabled, "display_name": current.display_name}),
            json!({"role": role, "disabled": disabled, "display_name": name}),
        );
        halo_audit::record(&mut tx, actor, entry).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Sets a CC user's password and ends their sessions.
    pub async fn reset_cc_password(
        &self,
        actor: &halo_audit::Actor,
        id: Uuid,
        password: String,
    ) -> CoreResult<v1::CcUser> {
        check_password(&password)?;
        let hash = self.cc.bcrypt.hash(password, self.cc.cost).await?;
        let mut tx = self.sessions.pool.begin().await?;
        let row: CcUserRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE auth.cc_users SET password_hash = $2, updated_at = now()
             WHERE id = $1 RETURNING {CC_USER_COLUMNS}"
        )))
        .bind(id)
        .bind(hash)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(CoreError::UserNotFound)?;
        let revoked = revoke_user(&mut tx, id, "password_reset").await?;
        let entry = halo_audit::Entry::new("cc_user.reset_password", "cc_user", id)
            .after(json!({"sessions_revoked": revoked}));
        halo_audit::record(&mut tx, actor, entry).await?;
        tx.commit().await?;
        Ok(row.into())
    }
}
