//! Test support shared by every service's tests: a fresh, migrated Postgres
//! database per test, a private `redis-server` a test may stop and start,
//! a private Postgres cluster a test may stop and start, a local JWKS server
//! standing in for Google/Apple, HTTP answer reading, and captured logs.

mod http;
mod jwks;
mod logs;
mod postgres;
mod postgres_server;
mod redis_server;

pub use http::{Answer, silent_server};
pub use jwks::JwksServer;
pub use logs::CapturedLogs;
pub use postgres::TestDb;
pub use postgres_server::PostgresServer;
pub use redis_server::RedisServer;

/// Serves an app on an OS-chosen loopback port until the test ends;
/// returns its base URL.
pub async fn serve<F, Fut>(run: F) -> String
where
    F: FnOnce(tokio::net::TcpListener) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(run(listener));
    base
}

/// Waits until `base`'s `/readyz` answers 200, as Cloud Run's startup probe
/// does before routing traffic; panics after 10 s.
pub async fn wait_until_ready(base: &str) {
    let ready = eventually(std::time::Duration::from_secs(10), || async {
        reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
    })
    .await;
    assert!(ready.is_some(), "{base} did not become ready within 10 s");
}

/// A free loopback port, chosen by the OS.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS hands out a loopback port")
}

/// Whether a server starts accepting on loopback `port` within `within`.
async fn port_opens(port: u16, within: std::time::Duration) -> bool {
    eventually(within, || async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await
    .is_some()
}

/// Polls `check` every 50 ms until it holds or `within` passes; returns
/// how long it took, or `None` on timeout.
pub async fn eventually<F, Fut>(
    within: std::time::Duration,
    mut check: F,
) -> Option<std::time::Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    None
}
