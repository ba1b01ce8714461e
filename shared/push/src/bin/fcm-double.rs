//! `fcm-double`: the FCM double as a process, for `deploy/local/run.sh`.
//! Reads `FCM_DOUBLE_ADDR` (default `127.0.0.1:3950`) and
//! `FCM_ACCESS_TOKEN` (the bearer token the gateway sends), and logs every
//! push it would deliver.

use std::net::SocketAddr;

use halo_env::Env;
use halo_push::double::FcmDouble;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = Env::from_process();
    let addr: SocketAddr = env.parse_or("FCM_DOUBLE_ADDR", ([127, 0, 0, 1], 3950).into())?;
    let bearer = env.secret("FCM_ACCESS_TOKEN", 1)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on FCM_DOUBLE_ADDR {addr}: {e}"))?;
    let double = FcmDouble::start_on(listener, bearer.expose_secret())?;
    tracing::info!(url = double.url(), "FCM double listening");
    halo_env::shutdown_signal().await;
    Ok(())
}
