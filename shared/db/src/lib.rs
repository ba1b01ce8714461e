//! The one Postgres schema: its embedded migrations and the pool every
//! process opens from `DATABASE_URL`.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, migrate::Migrator};

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
    let options: PgConnectOptions = config
        .url
        .expose_secret()
        .parse()
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid postgres:// URL"))?;
    Ok(PgPoolOptions::new()
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
        .connect_lazy_with(options))
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
