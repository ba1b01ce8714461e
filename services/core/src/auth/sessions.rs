//! Sessions and refresh tokens: issuing a token pair, rotation with reuse
//! detection (RFC 9700 §4.14.2), logout and revocation.
//!
//! A refresh token reads `<session id>.<generation>.<secret>`: the core finds
//! its row by key, and a bcrypt hash of the secret is all it stores. Each
//! refresh retires the presented generation and issues the next. Presenting
//! a retired generation revokes the session, except the immediately previous
//! one within a short grace window, so an app that lost a response can retry.

use std::time::Duration;

use chrono::{DateTime, Utc};
use halo_auth::{AccessTokens, UserType};
use halo_proto::v1;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::limits::{self, Bucket};
use super::secrets::{Bcrypt, DecoyHash, random_secret};
use super::users::{Principal, load_principal};
use crate::error::{CoreError, CoreResult};
use crate::settings::SettingsStore;

#[derive(Clone)]
pub struct Sessions {
    pub pool: PgPool,
    pub tokens: AccessTokens,
    pub bcrypt: Bcrypt,
    pub bcrypt_cost: u32,
    pub refresh_ttl: Duration,
    pub reuse_grace: Duration,
    /// For the refresh limits (DB knobs).
    pub settings: SettingsStore,
    /// What a token of an unknown session or generation is checked against.
    pub decoy: DecoyHash,
}

/// A refresh secret and its hash, computed before any transaction opens so
/// no row lock or connection is held while bcrypt runs.
pub struct FreshSecret {
    secret: String,
    hash: String,
}

struct RefreshToken {
    session_id: Uuid,
    generation: i32,
    secret: String,
}

/// Length of a secret from [`random_secret`]: 32 bytes in unpadded base64url.
const SECRET_LEN: usize = 43;

impl RefreshToken {
    /// Only the exact form [`Self::format`] writes: a lowercase hyphenated
    /// session id, a generation without sign or leading zeros, and a 43
    /// character base64url secret. One token has one spelling.
    fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '.');
        let id_text = parts.next()?;
        let session_id = Uuid::try_parse(id_text)
            .ok()
            .filter(|id| id.hyphenated().to_string() == id_text)?;
        let generation_text = parts.next()?;
        let canonical = !generation_text.starts_with('0')
            && !generation_text.is_empty()
            && generation_text.bytes().all(|b| b.is_ascii_digit());
        let generation = canonical.then(|| generation_text.parse().ok())??;
        let secret = parts.next()?;
        let secret_ok = secret.len() == SECRET_LEN
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        secret_ok.then(|| Self {
            session_id,
            generation,
            secret: secret.to_owned(),
        })
    }

    fn format(session_id: Uuid, generation: i32, secret: &str) -> String {
        format!("{session_id}.{generation}.{secret}")
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: Uuid,
    user_type: String,
    refresh_generation: i32,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl Sessions {
    pub async fn fresh_secret(&self) -> CoreResult<FreshSecret> {
        let secret = random_secret();
        let hash = self.bcrypt.hash(secret.clone(), self.bcrypt_cost).await?;
        Ok(FreshSecret { secret, hash })
    }

    /// Opens a session for `principal` inside the caller's transaction.
    pub async fn start(
        &self,
        conn: &mut PgConnection,
        principal: Principal,
        fresh: FreshSecret,
        upgraded: bool,
    ) -> CoreResult<v1::TokenPair> {
        let session_id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO auth.sessions (id, user_id, user_type, refresh_generation, expires_at)
             VALUES ($1, $2, $3, 1, now() + make_interval(secs => $4))",
        )
        .bind(session_id)
        .bind(principal.id)
        .bind(principal.user_type.as_str())
        .bind(self.refresh_ttl.as_secs_f64())
        .execute(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO auth.refresh_tokens (session_id, generation, token_hash) VALUES ($1, 1, $2)")
            .bind(session_id)
            .bind(&fresh.hash)
            .execute(&mut *conn)
            .await?;
        tracing::info!(%session_id, user_type = principal.user_type.as_str(), "session started");
        Ok(self.pair(principal, session_id, 1, &fresh.secret, upgraded))
    }

    fn pair(
        &self,
        principal: Principal,
        session_id: Uuid,
        generation: i32,
        secret: &str,
        upgraded: bool,
    ) -> v1::TokenPair {
        v1::TokenPair {
            access_token: self
                .tokens
                .issue(principal.id, principal.user_type, session_id),
            access_expires_in: self.tokens.ttl().as_secs() as i64,
            refresh_token: RefreshToken::format(session_id, generation, secret),
            refresh_expires_in: self.refresh_ttl.as_secs() as i64,
            principal: Some(principal.proto),
            upgraded,
        }
    }

    /// Rotates a refresh token. A non-empty `allowed` refuses sessions of
    /// other user types before anything rotates (the CC takes only `cc_user`
    /// sessions, the apps never those). Limited per IP and per session
    /// before any bcrypt runs; an unknown session or generation costs the
    /// same bcrypt as a wrong secret and answers the same.
    #[tracing::instrument(skip_all, err(level = "info", Display))]
    pub async fn refresh(
        &self,
        raw: &str,
        allowed: &[UserType],
        client_ip: &str,
    ) -> CoreResult<v1::TokenPair> {
        let (per_ip, per_session) = {
            let knobs = &self.settings.snapshot().knobs;
            (
                knobs.refresh_max_per_ip_per_hour,
                knobs.refresh_max_per_session_per_hour,
            )
        };
        limits::hit(&self.pool, Bucket::RefreshPerIp, client_ip, per_ip).await?;
        let token = RefreshToken::parse(raw).ok_or(CoreError::InvalidRefreshToken)?;
        let session_key = token.session_id.to_string();
        limits::hit(
            &self.pool,
            Bucket::RefreshPerSession,
            &session_key,
            per_session,
        )
        .await?;
        let stored: Option<String> = sqlx::query_scalar(
            "SELECT token_hash FROM auth.refresh_tokens WHERE session_id = $1 AND generation = $2",
        )
        .bind(token.session_id)
        .bind(token.generation)
        .fetch_optional(&self.pool)
        .await?;
        let Some(stored) = stored else {
            self.decoy
                .verify(&self.bcrypt, token.secret, self.bcrypt_cost)
                .await?;
            return Err(CoreError::InvalidRefreshToken);
        };
        // Hashes never change once written, so bcrypt runs before the row
        // lock; the lock then decides, on current state, what happens.
        let fresh = self
            .bcrypt
            .verify_then_rehash(token.secret.clone(), stored, self.bcrypt_cost)
            .await?
            .map(|(secret, hash)| FreshSecret { secret, hash })
            .ok_or(CoreError::InvalidRefreshToken)?;

        let mut tx = self.pool.begin().await?;
        let session: SessionRow = sqlx::query_as(
            "SELECT user_id, user_type, refresh_generation, expires_at, revoked_at
             FROM auth.sessions WHERE id = $1 FOR UPDATE",
        )
        .bind(token.session_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(CoreError::InvalidRefreshToken)?;
        let user_type =
            UserType::parse(&session.user_type).ok_or(CoreError::InvalidRefreshToken)?;
        if !allowed.is_empty() && !allowed.contains(&user_type) {
            return Err(CoreError::InvalidRefreshToken);
        }
        if session.revoked_at.is_some() {
            return Err(CoreError::SessionRevoked);
        }
        if session.expires_at <= Utc::now() {
            return Err(CoreError::SessionExpired);
        }
        let rotated_at: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT rotated_at FROM auth.refresh_tokens WHERE session_id = $1 AND generation = $2",
        )
        .bind(token.session_id)
        .bind(token.generation)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(rotated_at) = rotated_at {
            let is_previous = token.generation == session.refresh_generation - 1;
            let within_grace = Utc::now() - rotated_at
                <= chrono::Duration::from_std(self.reuse_grace).unwrap_or_default();
            if !(is_previous && within_grace) {
                revoke(&mut tx, token.session_id, "refresh_token_reused").await?;
                tx.commit().await?;
                tracing::warn!(session_id = %token.session_id, "refresh token reused; session revoked");
                return Err(CoreError::RefreshTokenReused);
            }
        }
        let principal = load_principal(&mut tx, user_type, session.user_id).await?;
        if let Err(refused) = principal.require_active() {
            revoke(&mut tx, token.session_id, "account_disabled").await?;
            tx.commit().await?;
            return Err(refused);
        }
        let next = session.refresh_generation + 1;
        sqlx::query(
            "UPDATE auth.refresh_tokens SET rotated_at = now()
             WHERE session_id = $1 AND rotated_at IS NULL",
        )
        .bind(token.session_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO auth.refresh_tokens (session_id, generation, token_hash) VALUES ($1, $2, $3)")
            .bind(token.session_id)
            .bind(next)
            .bind(&fresh.hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE auth.sessions SET refresh_generation = $2, last_refreshed_at = now(),
                    expires_at = now() + make_interval(secs => $3)
             WHERE id = $1",
        )
        .bind(token.session_id)
        .bind(next)
        .bind(self.refresh_ttl.as_secs_f64())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(self.pair(principal, token.session_id, next, &fresh.secret, false))
    }

    /// Ends a session: its refresh token stops working at once. Its access
    /// tokens stay valid until they expire (at most the access TTL), the
    /// price of verifying them without a lookup.
    pub async fn logout(&self, session_id: Uuid) -> CoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        revoke(&mut conn, session_id, "logout").await
    }
}

/// Revokes every live session of a user (suspension, blocking, a disabled
/// or re-passworded operator), in the caller's transaction.
pub async fn revoke_user(conn: &mut PgConnection, user_id: Uuid, reason: &str) -> CoreResult<u64> {
    let revoked = sqlx::query(
        "UPDATE auth.sessions SET revoked_at = now(), revoked_reason = $2
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(revoked.rows_affected())
}

async fn revoke(conn: &mut PgConnection, session_id: Uuid, reason: &str) -> CoreResult<()> {
    sqlx::query(
        "UPDATE auth.sessions SET revoked_at = now(), revoked_reason = $2
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session_id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::RefreshToken;

    #[test]
    fn a_refresh_token_round_trips_through_its_text_form() {
        let id = uuid::Uuid::new_v4();
        let secret = super::random_secret();
        let parsed = RefreshToken::parse(&RefreshToken::format(id, 7, &secret)).unwrap();
        assert_eq!(
            (parsed.session_id, parsed.generation, parsed.secret),
            (id, 7, secret)
        );
    }

    #[test]
    fn malformed_refresh_tokens_are_refused_before_any_lookup() {
        for raw in [
            "",
            "abc",
            "not-a-uuid.1.secret",
            &format!("{}.x.{}", uuid::Uuid::nil(), "s".repeat(43)),
            &format!("{}.1.short", uuid::Uuid::nil()),
        ] {
            assert!(RefreshToken::parse(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn a_refresh_token_in_any_but_its_canonical_spelling_is_refused() {
        let id = uuid::Uuid::now_v7();
        let secret = super::random_secret();
        assert!(RefreshToken::parse(&RefreshToken::format(id, 2, &secret)).is_some());
        let upper = id.to_string().to_uppercase();
        let braced = format!("{{{id}}}");
        let simple = id.simple().to_string();
        for (session, generation, secret) in [
            (upper.as_str(), "2", secret.as_str()),
            (braced.as_str(), "2", secret.as_str()),
            (simple.as_str(), "2", secret.as_str()),
            (&id.to_string(), "+2", secret.as_str()),
            (&id.to_string(), "0002", secret.as_str()),
            (&id.to_string(), "0", secret.as_str()),
            (&id.to_string(), "2", &format!("{secret}=")),
            (&id.to_string(), "2", &format!(" {}", &secret[1..])),
        ] {
            let raw = format!("{session}.{generation}.{secret}");
            assert!(RefreshToken::parse(&raw).is_none(), "{raw}");
            assert!(RefreshToken::parse(&format!(" {raw}")).is_none(), "{raw}");
        }
    }
}
