//! Pruning of auth rows nobody needs any more: sessions revoked or expired,
//! retired refresh tokens, OTP challenges and CC login attempts, once older
//! than `AUTH_RETENTION_DAYS`, and rate-limit hits once their hour is over
//! (they record nothing else). Every core instance runs it; `SKIP LOCKED`
//! batches let several run at once without waiting on each other or on a
//! refresh, and without deleting a row twice.

use std::time::Duration;

use sqlx::PgPool;

/// How often each instance prunes.
pub const PRUNE_EVERY: Duration = Duration::from_secs(5 * 60);

/// Rows per statement, so no delete holds many locks or runs for long.
const BATCH: i64 = 1000;

/// The longest window a rate limit counts rows in: the OTP per-phone and
/// per-IP hourly limits (the CC login window is 15 minutes). No row younger
/// than this is ever pruned, whatever the retention.
const LONGEST_RATE_LIMIT_WINDOW: Duration = Duration::from_secs(3600);

// One statement per kind of row; `$1` is the cutoff age in seconds, `$2`
// the batch size.

/// A session goes with all its refresh tokens (cascade).
const SESSIONS: &str = "DELETE FROM auth.sessions WHERE ctid IN (
    SELECT ctid FROM auth.sessions
     WHERE revoked_at < now() - make_interval(secs => $1)
        OR expires_at < now() - make_interval(secs => $1)
     LIMIT $2 FOR UPDATE SKIP LOCKED)";

/// Tokens a live session retired long ago; the live one has no `rotated_at`.
const REFRESH_TOKENS: &str = "DELETE FROM auth.refresh_tokens WHERE ctid IN (
    SELECT ctid FROM auth.refresh_tokens
     WHERE rotated_at < now() - make_interval(secs => $1)
     LIMIT $2 FOR UPDATE SKIP LOCKED)";

const OTP_CHALLENGES: &str = "DELETE FROM auth.otp_challenges WHERE ctid IN (
    SELECT ctid FROM auth.otp_challenges
     WHERE created_at < now() - make_interval(secs => $1) AND expires_at < now()
     LIMIT $2 FOR UPDATE SKIP LOCKED)";

const LOGIN_ATTEMPTS: &str = "DELETE FROM auth.login_attempts WHERE ctid IN (
    SELECT ctid FROM auth.login_attempts
     WHERE attempted_at < now() - make_interval(secs => $1)
     LIMIT $2 FOR UPDATE SKIP LOCKED)";

/// Hits only ever count within the last hour; the retention does not apply.
const RATE_LIMIT_HITS: &str = "DELETE FROM auth.rate_limit_hits WHERE ctid IN (
    SELECT ctid FROM auth.rate_limit_hits
     WHERE hit_at < now() - make_interval(secs => $1)
     LIMIT $2 FOR UPDATE SKIP LOCKED)";

/// Rows one run deleted, per table (a session's refresh tokens count with it).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub otp_challenges: u64,
    pub login_attempts: u64,
    pub rate_limit_hits: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.sessions
            + self.refresh_tokens
            + self.otp_challenges
            + self.login_attempts
            + self.rate_limit_hits
    }
}

/// Deletes, in batches, every prunable row older than `retention`.
pub async fn prune(pool: &PgPool, retention: Duration) -> Result<Pruned, sqlx::Error> {
    let age = retention.max(LONGEST_RATE_LIMIT_WINDOW).as_secs_f64();
    Ok(Pruned {
        sessions: delete_in_batches(pool, SESSIONS, age).await?,
        refresh_tokens: delete_in_batches(pool, REFRESH_TOKENS, age).await?,
        otp_challenges: delete_in_batches(pool, OTP_CHALLENGES, age).await?,
        login_attempts: delete_in_batches(pool, LOGIN_ATTEMPTS, age).await?,
        rate_limit_hits: delete_in_batches(
            pool,
            RATE_LIMIT_HITS,
            LONGEST_RATE_LIMIT_WINDOW.as_secs_f64(),
        )
        .await?,
    })
}

async fn delete_in_batches(pool: &PgPool, sql: &'static str, age: f64) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    loop {
        let batch = sqlx::query(sql)
            .bind(age)
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        deleted += batch;
        if batch < BATCH as u64 {
            return Ok(deleted);
        }
    }
}

/// Prunes every [`PRUNE_EVERY`], the first time one period after start, until
/// the pool is closed. A failed run (Postgres away) is a warning; the next
/// tick tries again.
pub fn spawn_pruner(pool: PgPool, retention: Duration) {
    tokio::spawn(async move {
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + PRUNE_EVERY, PRUNE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !pool.is_closed() {
            ticks.tick().await;
            match prune(&pool, retention).await {
                Ok(pruned) if pruned.total() > 0 => tracing::info!(
                    sessions = pruned.sessions,
                    refresh_tokens = pruned.refresh_tokens,
                    otp_challenges = pruned.otp_challenges,
                    login_attempts = pruned.login_attempts,
                    rate_limit_hits = pruned.rate_limit_hits,
                    "pruned expired auth rows"
                ),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "pruning expired auth rows failed"),
            }
        }
    });
}
