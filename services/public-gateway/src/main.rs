//! `public-gateway`: the mobile apps' API (`/api/...`).

use public_gateway::GatewayConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = GatewayConfig::from_env(&halo_env::Env::from_process())?;
    halo_web::edge_main(&config.edge, public_gateway::app(&config)?).await
}
