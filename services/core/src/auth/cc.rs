//! Control-center password sign-in: bcrypt (cost 12 by default), the same
//! time spent for an unknown email as for a wrong password, and throttling
//! from `auth.login_attempts` (so it holds across instances): strict per
//! (email, IP) and per IP, and per email a growing delay rather than a lock,
//! so nobody can lock an operator out by guessing at their email (OWASP
//! ASVS 2.2.1). Also creates the first admin from env.

use halo_proto::text::{TextRule, clean_text};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

use super::secrets::{Bcrypt, DecoyHash};
use crate::error::{CoreError, CoreResult};

/// Failed attempts allowed per window before a 429, counted since the
/// last success.
const MAX_FAILURES_PER_EMAIL_AND_IP: i64 = 5;
const MAX_FAILURES_PER_IP: i64 = 20;
const WINDOW_SECONDS: i64 = 15 * 60;
/// Failures of one email (from any IP) before each next attempt must wait:
/// 1 s after the 5th, doubling per failure, at most a minute.
const FREE_FAILURES_PER_EMAIL: i64 = 5;
const MAX_DELAY_SECONDS: f64 = 60.0;

/// How long after the last failure an email may be tried again.
fn delay_after(failures: i64) -> f64 {
    if failures < FREE_FAILURES_PER_EMAIL {
        return 0.0;
    }
    let doublings = (failures - FREE_FAILURES_PER_EMAIL).min(16) as i32;
    2f64.powi(doublings).min(MAX_DELAY_SECONDS)
}

#[derive(Clone)]
pub struct CcPasswords {
    pub pool: PgPool,
    pub bcrypt: Bcrypt,
    pub cost: u32,
    /// What an unknown email's password is checked against.
    pub decoy: DecoyHash,
}

#[derive(sqlx::FromRow)]
struct CcUserRow {
    id: Uuid,
    password_hash: String,
    disabled_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl CcPasswords {
    /// Checks the password; returns the CC user's id.
    #[tracing::instrument(skip_all, err(level = "info", Display))]
    pub async fn check(&self, email: &str, password: &str, client_ip: &str) -> CoreResult<Uuid> {
        let email = clean_text("email", email, TextRule::Line)?.to_lowercase();
        if email.is_empty() || password.is_empty() {
            return Err(CoreError::InvalidCredentials);
        }
        self.throttle(&email, client_ip).await?;
        let user: Option<CcUserRow> = sqlx::query_as(
            "SELECT id, password_hash, disabled_at FROM auth.cc_users WHERE lower(email) = $1",
        )
        .bind(&email)
        .fetch_optional(&self.pool)
        .await?;
        let matches = match &user {
            Some(user) => {
                self.bcrypt
                    .verify(password.to_owned(), user.password_hash.clone())
                    .await?
            }
            None => {
                self.decoy
                    .verify(&self.bcrypt, password.to_owned(), self.cost)
                    .await?;
                false
            }
        };
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

    async fn throttle(&self, email: &str, client_ip: &str) -> CoreResult<()> {
        // The email's failures within the window since its last success:
        // from this IP (and when the oldest leaves the window), from
        // anywhere, and seconds since the latest.
        const PER_EMAIL: &str = "SELECT count(*) FILTER (WHERE client_ip = $2),
                    $3 - extract(epoch FROM now() - min(attempted_at) FILTER (WHERE client_ip = $2))::bigint,
                    count(*),
                    extract(epoch FROM now() - max(attempted_at))::float8
             FROM auth.login_attempts
             WHERE email = $1 AND NOT succeeded AND attempted_at > now() - make_interval(secs => $3)
               AND attempted_at > coalesce((SELECT max(attempted_at) FROM auth.login_attempts
                                            WHERE email = $1 AND succeeded), '-infinity')";
        const PER_IP: &str = "SELECT count(*), $2 - extract(epoch FROM now() - min(attempted_at))::bigint
             FROM auth.login_attempts
             WHERE client_ip = $1 AND NOT succeeded AND attempted_at > now() - make_interval(secs => $2)
               AND attempted_at > coalesce((SELECT max(attempted_at) FROM auth.login_attempts
                                            WHERE client_ip = $1 AND succeeded), '-infinity')";
        let throttled = |retry_after: Option<i64>| CoreError::LoginThrottled {
            retry_after: retry_after.unwrap_or(WINDOW_SECONDS).max(1) as u64,
        };
        let (pair_failures, pair_retry_after, email_failures, since_last): (
            i64,
            Option<i64>,
            i64,
            Option<f64>,
        ) = sqlx::query_as(PER_EMAIL)
            .bind(email)
            .bind(client_ip)
            .bind(WINDOW_SECONDS)
            .fetch_one(&self.pool)
            .await?;
        if pair_failures >= MAX_FAILURES_PER_EMAIL_AND_IP {
            return Err(throttled(pair_retry_after));
        }
        let wait = delay_after(email_failures) - since_last.unwrap_or(f64::MAX);
        if wait > 0.0 {
            return Err(throttled(Some(wait.ceil() as i64)));
        }
        let (ip_failures, ip_retry_after): (i64, Option<i64>) = sqlx::query_as(PER_IP)
            .bind(client_ip)
            .bind(WINDOW_SECONDS)
            .fetch_one(&self.pool)
            .await?;
        if ip_failures >= MAX_FAILURES_PER_IP {
            return Err(throttled(ip_retry_after));
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

#[cfg(test)]
mod tests {
    use super::delay_after;

    #[test]
    fn the_wait_between_guesses_at_one_email_grows_to_a_minute_and_never_locks() {
        let waits: Vec<f64> = (3..=13).map(delay_after).collect();
        assert_eq!(
            waits,
            [0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
        );
        assert_eq!(delay_after(10_000), 60.0);
    }
}
