//! `xendit-double`: the Xendit double as a process, for `deploy/local/run.sh`
//! (a laptop with no Xendit account). Reads `XENDIT_DOUBLE_ADDR` (default
//! `127.0.0.1:3900`), `XENDIT_SECRET_KEY`, `XENDIT_CALLBACK_TOKEN` and
//! `XENDIT_CALLBACK_URL` (unset: no callbacks), and logs every invoice,
//! state change and callback.

use std::net::SocketAddr;

use halo_env::Env;
use halo_xendit::double::{DoubleConfig, XenditDouble};
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = Env::from_process();
    let addr: SocketAddr = env.parse_or("XENDIT_DOUBLE_ADDR", ([127, 0, 0, 1], 3900).into())?;
    let config = DoubleConfig {
        callback_url: env.optional("XENDIT_CALLBACK_URL"),
        callback_token: env
            .secret("XENDIT_CALLBACK_TOKEN", 1)?
            .expose_secret()
            .to_owned(),
        secret_key: env
            .secret("XENDIT_SECRET_KEY", 1)?
            .expose_secret()
            .to_owned(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on XENDIT_DOUBLE_ADDR {addr}: {e}"))?;
    let callback_url = config.callback_url.clone();
    let double = XenditDouble::start_on(listener, config)?;
    tracing::info!(url = double.url(), callback_url, "Xendit double listening");
    halo_env::shutdown_signal().await;
    Ok(())
}
