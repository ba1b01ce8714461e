//! `internal-cc`: the control center's API (`/internal/...`).

use internal_cc::CcConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = CcConfig::from_env(&halo_env::Env::from_process())?;
    let telemetry = halo_telemetry::init(&config.telemetry)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on HOST:PORT {}: {e}", config.listen))?;
    let result = internal_cc::run(&config, listener, halo_env::shutdown_signal()).await;
    telemetry.shutdown().await;
    result
}
