//! Phone OTP: request a code, verify it. Codes are six digits, live
//! `OTP_CODE_TTL_SECONDS`, are stored as an HMAC, and die after five wrong
//! tries. Resend cooldown and the per-phone and per-IP hourly limits are DB
//! knobs, enforced from the challenges table so they hold across instances;
//! requests for phones that are not active mitras count toward them too.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

use super::limits::{self, Bucket};
use super::secrets::random_otp_code;
use crate::error::{CoreError, CoreResult};
use crate::settings::SettingsStore;
use halo_auth::Phone;

/// Wrong codes a challenge survives.
pub const MAX_ATTEMPTS: i32 = 5;

/// Who a code is for: the customer app or the mitra app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Customer,
    Mitra,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Mitra => "mitra",
        }
    }
}

/// Delivers a code to a phone. Fazpass is not wired yet (its API docs are
/// pending); [`StubOtpSender`] stands in.
#[tonic::async_trait]
pub trait OtpSender: Send + Sync {
    async fn send(&self, phone: &Phone, code: &str) -> anyhow::Result<()>;
}

/// Logs the code in the seed's exact format, the one place a code is
/// ever logged.
pub struct StubOtpSender;

#[tonic::async_trait]
impl OtpSender for StubOtpSender {
    async fn send(&self, phone: &Phone, code: &str) -> anyhow::Result<()> {
        tracing::warn!("[OTP STUB] phone={phone} code={code}");
        Ok(())
    }
}

#[derive(Clone)]
pub struct Otp {
    pub pool: sqlx::PgPool,
    pub settings: SettingsStore,
    pub sender: Arc<dyn OtpSender>,
    pub code_ttl: std::time::Duration,
    pub hmac_key: SecretString,
}

/// A challenge that was requested.
pub struct Issued {
    pub phone: Phone,
    pub expires_in: u64,
    pub resend_after: u64,
}

#[derive(sqlx::FromRow)]
struct Challenge {
    id: Uuid,
    code_hash: Vec<u8>,
    attempts: i32,
    expires_at: DateTime<Utc>,
    consumed_at: Option<DateTime<Utc>>,
}

impl Otp {
    fn code_hash(&self, challenge_id: Uuid, code: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.hmac_key.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"otp:");
        mac.update(challenge_id.as_bytes());
        mac.update(code.as_bytes());
        mac
    }

    #[tracing::instrument(skip_all, fields(audience = audience.as_str()), err(level = "info", Display))]
    pub async fn request(
        &self,
        raw_phone: &str,
        audience: Audience,
        client_ip: &str,
    ) -> CoreResult<Issued> {
        let phone = Phone::parse(raw_phone)?;
        let snapshot = self.settings.snapshot();
        let knobs = &snapshot.knobs;
        let mut tx = self.pool.begin().await?;
        // Serialise requests for one phone so two at once cannot both pass
        // the cooldown.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('otp:' || $1))")
            .bind(phone.as_str())
            .execute(&mut *tx)
            .await?;
        let registered = match audience {
            Audience::Customer => true,
            Audience::Mitra => {
                sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM users
                      WHERE user_type = 'mitra' AND phone = $1 AND status = 'active')",
                )
                .bind(phone.as_str())
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let cooldown = knobs.otp_resend_cooldown_seconds;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT extract(epoch FROM now() - max(created_at))::bigint FROM auth.otp_challenges
             WHERE phone = $1 AND audience = $2",
        )
        .bind(phone.as_str())
        .bind(audience.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(age) = last.filter(|age| *age < cooldown) {
            return Err(CoreError::OtpCooldown {
                retry_after: (cooldown - age) as u64,
            });
        }
        // Seconds until the oldest request of the last hour leaves the window.
        const PER_PHONE: &str =
            "SELECT count(*), 3600 - extract(epoch FROM now() - min(created_at))::bigint
             FROM auth.otp_challenges WHERE phone = $1 AND created_at > now() - interval '1 hour'";
        const PER_IP: &str = "SELECT count(*), 3600 - extract(epoch FROM now() - min(created_at))::bigint
             FROM auth.otp_challenges WHERE client_ip = $1 AND created_at > now() - interval '1 hour'";
        for (sql, value, limit) in [
            (PER_PHONE, phone.as_str(), knobs.otp_max_per_phone_per_hour),
            (PER_IP, client_ip, knobs.otp_max_per_ip_per_hour),
        ] {
            let (count, retry_after): (i64, Option<i64>) =
                sqlx::query_as(sql).bind(value).fetch_one(&mut *tx).await?;
            if count >= limit {
                return Err(CoreError::OtpRateLimited {
                    retry_after: retry_after.unwrap_or(3600).max(1) as u64,
                });
            }
        }
        let id = Uuid::now_v7();
        let code = random_otp_code();
        let hash = self.code_hash(id, &code).finalize().into_bytes().to_vec();
        sqlx::query(
            "INSERT INTO auth.otp_challenges (id, phone, audience, code_hash, client_ip, expires_at)
             VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
        )
        .bind(id)
        .bind(phone.as_str())
        .bind(audience.as_str())
        .bind(hash)
        .bind(client_ip)
        .bind(self.code_ttl.as_secs_f64())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // An unregistered mitra phone got the same checks and a challenge
        // row whose code nobody receives: the probe counts toward the
        // cooldown and the per-phone and per-IP limits, and costs the same
        // work as a real request (only the delivery is skipped).
        if !registered {
            return Err(CoreError::MitraNotRegistered);
        }
        self.sender.send(&phone, &code).await.map_err(|err| {
            tracing::error!(error = format!("{err:#}"), "OTP delivery failed");
            CoreError::Internal(err)
        })?;
        Ok(Issued {
            phone,
            expires_in: self.code_ttl.as_secs(),
            resend_after: cooldown as u64,
        })
    }

    /// Checks a code against the phone's latest challenge and consumes it.
    /// A wrong guess is counted even though the call fails. Attempts are
    /// limited per IP; a phone with no code answers exactly like a wrong
    /// code, after the same work, so verify tells nobody whether a phone
    /// has a pending code.
    pub async fn verify(
        &self,
        raw_phone: &str,
        code: &str,
        audience: Audience,
        client_ip: &str,
    ) -> CoreResult<Phone> {
        let per_ip = self
            .settings
            .snapshot()
            .knobs
            .otp_verify_max_per_ip_per_hour;
        limits::hit(&self.pool, Bucket::OtpVerifyPerIp, client_ip, per_ip).await?;
        let phone = Phone::parse(raw_phone)?;
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CoreError::invalid(
                "code",
                "invalid_code_format",
                "the code is six digits",
            ));
        }
        let mut tx = self.pool.begin().await?;
        let challenge: Option<Challenge> = sqlx::query_as(
            "SELECT id, code_hash, attempts, expires_at, consumed_at FROM auth.otp_challenges
             WHERE phone = $1 AND audience = $2 ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
        )
        .bind(phone.as_str())
        .bind(audience.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(challenge) = challenge else {
            // The wrong-code path's work: an HMAC check and an UPDATE (of
            // no row here) in a committed transaction.
            let _ = self.code_hash(Uuid::nil(), code).verify_slice(&[0; 32]);
            count_wrong_guess(&mut tx, Uuid::nil()).await?;
            tx.commit().await?;
            return Err(CoreError::OtpWrongCode);
        };
        if challenge.consumed_at.is_some() {
            return Err(CoreError::OtpUsed);
        }
        if challenge.attempts >= MAX_ATTEMPTS {
            return Err(CoreError::OtpAttemptsExceeded);
        }
        if challenge.expires_at <= Utc::now() {
            return Err(CoreError::OtpExpired);
        }
        let matches = self
            .code_hash(challenge.id, code)
            .verify_slice(&challenge.code_hash)
            .is_ok();
        if !matches {
            let attempts = count_wrong_guess(&mut tx, challenge.id).await?;
            tx.commit().await?;
            return Err(if attempts.unwrap_or(0) >= MAX_ATTEMPTS {
                CoreError::OtpAttemptsExceeded
            } else {
                CoreError::OtpWrongCode
            });
        }
        sqlx::query("UPDATE auth.otp_challenges SET consumed_at = now() WHERE id = $1")
            .bind(challenge.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(phone)
    }
}

/// Counts a wrong guess against a challenge; its attempts so far, or none
/// when no challenge has that id.
async fn count_wrong_guess(conn: &mut sqlx::PgConnection, id: Uuid) -> CoreResult<Option<i32>> {
    Ok(sqlx::query_scalar(
        "UPDATE auth.otp_challenges SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}
