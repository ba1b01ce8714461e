//! `internal-cc`: the control center's API (`/internal/...`).

use internal_cc::CcConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = CcConfig::from_env(&halo_env::Env::from_process())?;
    halo_web::edge_main(&config.edge, |state| internal_cc::router(state, &config)).await
}
