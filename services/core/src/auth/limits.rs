//! Hourly request limits kept in Postgres (`auth.rate_limit_hits`), so they
//! hold across core instances: anonymous sign-ins per IP, refreshes per
//! session and per IP, OTP verifications per IP. Their sizes are DB knobs.

use sqlx::PgPool;

use crate::error::{CoreError, CoreResult};

/// What a limit counts, and what the caller is told when it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    AnonymousSignInPerIp,
    RefreshPerSession,
    RefreshPerIp,
    OtpVerifyPerIp,
}

impl Bucket {
    fn as_str(self) -> &'static str {
        match self {
            Self::AnonymousSignInPerIp => "anonymous_sign_in_ip",
            Self::RefreshPerSession => "refresh_session",
            Self::RefreshPerIp => "refresh_ip",
            Self::OtpVerifyPerIp => "otp_verify_ip",
        }
    }
}

const WINDOW_SECONDS: i64 = 3600;

/// Counts one request against `bucket`/`key`, or refuses it once `limit`
/// requests were counted in the last hour. Refused requests are not
/// counted, so a flood does not extend its own wait.
pub async fn hit(pool: &PgPool, bucket: Bucket, key: &str, limit: i64) -> CoreResult<()> {
    let mut tx = pool.begin().await?;
    // Serialise one key's requests, so two at once cannot both take the
    // last slot.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('rate:' || $1 || ':' || $2))")
        .bind(bucket.as_str())
        .bind(key)
        .execute(&mut *tx)
        .await?;
    // Rows of this key that left the window; other keys' old rows go with
    // the periodic pruning of expired auth rows.
    sqlx::query(
        "DELETE FROM auth.rate_limit_hits
         WHERE bucket = $1 AND key = $2 AND hit_at <= now() - make_interval(secs => $3)",
    )
    .bind(bucket.as_str())
    .bind(key)
    .bind(WINDOW_SECONDS as f64)
    .execute(&mut *tx)
    .await?;
    let (count, retry_after): (i64, Option<i64>) = sqlx::query_as(
        "SELECT count(*), $3 - extract(epoch FROM now() - min(hit_at))::bigint
         FROM auth.rate_limit_hits
         WHERE bucket = $1 AND key = $2 AND hit_at > now() - make_interval(secs => $3::double precision)",
    )
    .bind(bucket.as_str())
    .bind(key)
    .bind(WINDOW_SECONDS)
    .fetch_one(&mut *tx)
    .await?;
    if count >= limit {
        return Err(CoreError::RateLimited {
            bucket,
            retry_after: retry_after.unwrap_or(WINDOW_SECONDS).max(1) as u64,
        });
    }
    sqlx::query("INSERT INTO auth.rate_limit_hits (bucket, key) VALUES ($1, $2)")
        .bind(bucket.as_str())
        .bind(key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
