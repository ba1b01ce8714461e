//! The one Postgres schema: its embedded migrations and the pool every
//! process opens from `DATABASE_URL`.

use chrono::{DateTime, Utc};
use std::time::Duration;
use uuid::Uuid;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, QueryBuilder, migrate::Migrator};

/// Every migration under `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// Pool settings a service reads from env.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: SecretString,
    pub max_connections: u32,
    /// Ping a connection before handing it out when it sat idle at least
    /// this long, so one Postgres dropped (a restart, a failover) is replaced
    /// instead of failing the request that drew it. `ZERO` pings always.
    pub ping_when_idle_for: Duration,
}

/// Opens a pool without connecting: a service starts (and answers `/healthz`)
/// while Postgres is still coming up, and `/readyz` reports it.
pub fn connect_lazy(config: &DbConfig) -> anyhow::Result<PgPool> {
    Ok(pool(config, connect_options(config)?))
}

/// As [`connect_lazy`], for a pool that runs a few fixed statements taking
/// arrays (the message writer's batches). Postgres would plan those anew
/// on every execution: for a short array a custom plan looks cheaper than
/// the generic one, so it never switches, and the planning cost more than
/// running them (measured: ~0.5 ms a batch).
pub fn connect_lazy_generic_plans(config: &DbConfig) -> anyhow::Result<PgPool> {
    let options = connect_options(config)?.options([("plan_cache_mode", "force_generic_plan")]);
    Ok(pool(config, options))
}

fn connect_options(config: &DbConfig) -> anyhow::Result<PgConnectOptions> {
    config
        .url
        .expose_secret()
        .parse()
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid postgres:// URL"))
}

fn pool(config: &DbConfig, options: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(config.max_connections)
        // Well inside the edges' request timeout: while Postgres is down a
        // request answers 503 `database_unavailable` rather than hanging.
        .acquire_timeout(Duration::from_secs(3))
        // A ping on every acquire is a second round trip per query: it
        // doubled the cost of `GET /me`. Under load connections are never
        // idle for long, so pinging only the ones that sat idle costs the hot
        // path nothing and still catches the dead connections an outage
        // leaves behind. Connections are recycled after `max_lifetime` anyway.
        .test_before_acquire(false)
        .before_acquire({
            let threshold = config.ping_when_idle_for;
            move |conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= threshold {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            }
        })
        .max_lifetime(Duration::from_secs(30 * 60))
        .connect_lazy_with(options)
}

/// Whether `err` means Postgres could not be reached or dropped the
/// connection (down, restarting, out of connections), rather than a fault in
/// the query: the caller answers 503 and the app retries, instead of a 500.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // Class 08 is "connection exception"; 57P01-57P03 are the server
        // shutting down, crashing or still starting; 53300 is out of
        // connection slots.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// Runs pending migrations. sqlx takes a Postgres advisory lock for the
/// duration, so two concurrent runs serialise and the second finds nothing
/// to do.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// How far a UUIDv7 id's clock (the application's) may be from its row's
/// `created_at` (the database's).
const ID_CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(1);

/// The smallest v7 id of the millisecond `slack` away from `at`.
fn v7_bound(at: DateTime<Utc>, slack: chrono::Duration) -> Uuid {
    let millis = (at + slack).timestamp_millis().max(0) as u128;
    Uuid::from_u128(millis.min((1 << 48) - 1) << 80)
}

/// Adds `created_at` in `[from, to)` for the rows of `table`, whose ids are
/// UUIDv7 made when the row was. The rows are then in creation order by id
/// too, so the window also bounds the id (a minute wider, for the clocks'
/// difference): a newest-first scan of the primary key starts and stops at
/// the window instead of filtering every newer row (measured: 50 ms to
/// 0.1 ms for a day 89 days back among 100,000 chats).
pub fn push_created_between(
    sql: &mut QueryBuilder<Postgres>,
    table: &'static str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) {
    if let Some(from) = from {
        sql.push(format!(" AND {table}.created_at >= "))
            .push_bind(from);
        sql.push(format!(" AND {table}.id >= "))
            .push_bind(v7_bound(from, -ID_CLOCK_SLACK));
    }
    if let Some(to) = to {
        sql.push(format!(" AND {table}.created_at < "))
            .push_bind(to);
        sql.push(format!(" AND {table}.id < "))
            .push_bind(v7_bound(to, ID_CLOCK_SLACK));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use uuid::Uuid;

    #[test]
    fn a_v7_bound_sorts_with_the_ids_made_in_its_millisecond() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let made_then = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            at.timestamp() as u64,
            0,
        ));
        let bound = super::v7_bound(at, Duration::zero());
        assert!(bound <= made_then);
        assert!(super::v7_bound(at, Duration::milliseconds(1)) > made_then);
        assert!(super::v7_bound(at, Duration::minutes(-1)) < bound);
    }
}
