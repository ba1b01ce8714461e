//! `public-gateway`: the mobile apps' API (`/api/...`).

use public_gateway::GatewayConfig;

/// Thousands of mostly idle sockets, each with a few small allocations:
/// mimalloc keeps their footprint lower than the system allocator
/// (measured with deploy/bench/realtime.sh; see the README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = GatewayConfig::from_env(&halo_env::Env::from_process())?;
    halo_web::edge_main(&config.edge, public_gateway::app(&config)?).await
}
