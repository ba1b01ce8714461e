//! `halo-core`: serves the auth-and-config gRPC API, or with `migrate`,
//! applies the schema's migrations and exits (the Cloud Run job).

use halo_core::CoreConfig;
use halo_env::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = Env::from_process();
    match std::env::args().nth(1).as_deref() {
        Some("migrate") => migrate(&env).await,
        None | Some("serve") => serve(&env).await,
        Some(other) => anyhow::bail!("unknown command `{other}`; use `halo-core [serve|migrate]`"),
    }
}

/// Needs only `DATABASE_URL`. Creates the database when it is missing (the
/// local stack), and retries for a while so a job started beside a database
/// that is still booting does not fail at once.
async fn migrate(env: &Env) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    use sqlx::migrate::MigrateDatabase;
    let url = env.secret("DATABASE_URL", 1)?;
    if !sqlx::Postgres::database_exists(url.expose_secret())
        .await
        .unwrap_or(true)
    {
        sqlx::Postgres::create_database(url.expose_secret()).await?;
        println!("created the database");
    }
    let pool = halo_db::connect_lazy(&halo_db::DbConfig {
        url,
        max_connections: 2,
        ping_when_idle_for: std::time::Duration::ZERO,
    })?;
    let mut attempt = 0;
    loop {
        match halo_db::migrate(&pool).await {
            Ok(()) => break,
            Err(err) if attempt < 10 => {
                attempt += 1;
                eprintln!("migrate: {err:#}; retrying ({attempt}/10)");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            Err(err) => return Err(err),
        }
    }
    println!("migrations applied");
    Ok(())
}

async fn serve(env: &Env) -> anyhow::Result<()> {
    let config = CoreConfig::from_env(env)?;
    let telemetry = halo_telemetry::init(&config.telemetry)?;
    let pool = halo_core::connect_pool(&config)?;
    let state = halo_core::build_state(&config, pool, halo_core::stub_otp_sender()).await?;
    let listener = tokio::net::TcpListener::bind(config.grpc_addr)
        .await
        .map_err(|e| anyhow::anyhow!("CORE_GRPC_ADDR={}: {e}", config.grpc_addr))?;
    let result = halo_core::run(state, listener, halo_env::shutdown_signal()).await;
    telemetry.shutdown().await;
    result
}
