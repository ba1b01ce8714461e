//! `public-gateway`: the mobile apps' API (`/api/...`).

use public_gateway::GatewayConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = GatewayConfig::from_env(&halo_env::Env::from_process())?;
    let telemetry = halo_telemetry::init(&config.telemetry)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on HOST:PORT {}: {e}", config.listen))?;
    let result = public_gateway::run(&config, listener, halo_env::shutdown_signal()).await;
    telemetry.shutdown().await;
    result
}
