//! Control-center password sign-in: bcrypt (cost 12 by default), the same
//! time spent for an unknown email as for a wrong password, and throttling
//! per email and per IP from `auth.login_attempts` (so it holds across
//! instances). Also creates the first admin from env.

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::secrets::Bcrypt;
use crate::error::{CoreError, CoreResult};

/// Failed attempts allowed per window before a 429.
const MAX_FAILURES_PER_EMAIL: i64 = 5;
const MAX_FAILURES_PER_IP: i64 = 20;
const WINDOW_SECONDS: i64 = 15 * 60;

#[derive(Clone)]
pub struct CcPasswords {
    pub pool: PgPool,
    pub bcrypt: Bcrypt,
    pub cost: u32,
    /// A hash to verify against when the email is unknown, made on first use.
    pub decoy: std::sync::Arc<OnceCell<String>>,
}

#[derive(sqlx::FromRow)]
struct CcUserRow {
    id: Uuid,
    password_hash: String,
    disabled_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl CcPasswords {
    /// Checks the password; returns the CC user's id.
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn check(&self, email: &str, password: &str, client_ip: &str) -> CoreResult<Uuid> {
        let email = email.trim().to_lowercase();
        // No account has a NUL in its email (Postgres text cannot hold one),
        // and the queries below would fail on it with a 500.
        if email.is_empty() || password.is_empty() || email.contains('\0') {
            return Err(CoreError::InvalidCredentials);
        }
        self.throttle(&email, client_ip).await?;
        let user: Option<CcUserRow> = sqlx::query_as(
            "SELECT id, password_hash, disabled_at FROM auth.cc_users WHERE lower(email) = $1",
        )
        .bind(&email)
        .fetch_optional(&self.pool)
        .await?;
        let hash = match &user {
            Some(user) => user.password_hash.clone(),
            None => self.decoy_hash().await?,
        };
        let matches = self.bcrypt.verify(password.to_owned(), hash).await? && user.is_some();
        sqlx::query(
            "INSERT INTO auth.login_attempts (email, client_ip, succeeded) VALUES ($1, $2, $3)",
        )
        .bind(&email)
        .bind(client_ip)
        .bind(matches)
        .execute(&self.pool)
        .await?;
        match user {
            Some(user) if matches => {
                if user.disabled_at.is_some() {
                    return Err(CoreError::AccountDisabled);
                }
                Ok(user.id)
            }
            _ => Err(CoreError::InvalidCredentials),
        }
    }

    async fn decoy_hash(&self) -> CoreResult<String> {
        let hash = self
            .decoy
            .get_or_try_init(|| self.bcrypt.hash(super::secrets::random_secret(), self.cost))
            .await?;
        Ok(hash.clone())
    }

    async fn throttle(&self, email: &str, client_ip: &str) -> CoreResult<()> {
        // Failures within the window since the last success.
        const PER_EMAIL: &str =
            "SELECT count(*), $2 - extract(epoch FROM now() - min(attempted_at))::bigint
             FROM auth.login_attempts
             WHERE email = $1 AND NOT succeeded AND attempted_at > now() - make_interval(secs => $2)
               AND attempted_at > coalesce((SELECT max(attempted_at) FROM auth.login_attempts
                                            WHERE email = $1 AND succeeded), '-infinity')";
        const PER_IP: &str = "SELECT count(*), $2 - extract(epoch FROM now() - min(attempted_at))::bigint
             FROM auth.login_attempts
             WHERE client_ip = $1 AND NOT succeeded AND attempted_at > now() - make_interval(secs => $2)
               AND attempted_at > coalesce((SELECT max(attempted_at) FROM auth.login_attempts
                                            WHERE client_ip = $1 AND succeeded), '-infinity')";
        for (sql, value, limit) in [
            (PER_EMAIL, email, MAX_FAILURES_PER_EMAIL),
            (PER_IP, client_ip, MAX_FAILURES_PER_IP),
        ] {
            let (failures, retry_after): (i64, Option<i64>) = sqlx::query_as(sql)
                .bind(value)
                .bind(WINDOW_SECONDS)
                .fetch_one(&self.pool)
                .await?;
            if failures >= limit {
                return Err(CoreError::LoginThrottled {
                    retry_after: retry_after.unwrap_or(WINDOW_SECONDS).max(1) as u64,
                });
            }
        }
        Ok(())
    }

    /// Creates the first admin when no CC user exists yet. Safe to run on
    /// every start of every instance: an advisory lock serialises them.
    pub async fn bootstrap_admin(&self, email: &str, password: &SecretString) -> CoreResult<bool> {
        let hash = self
            .bcrypt
            .hash(password.expose_secret().to_owned(), self.cost)
            .await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('cc_bootstrap_admin'))")
            .execute(&mut *tx)
            .await?;
        let created = sqlx::query(
            "INSERT INTO auth.cc_users (id, email, password_hash, display_name, role)
             SELECT $1, $2, $3, 'Admin', 'admin'
             WHERE NOT EXISTS (SELECT 1 FROM auth.cc_users)",
        )
        .bind(Uuid::now_v7())
        .bind(email.trim().to_lowercase())
        .bind(hash)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(created)
    }
}
