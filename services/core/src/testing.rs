//! Runs a core in-process on an OS-chosen port, for the edges' and the
//! core's own tests (feature `testing`; never in a release build).

use std::sync::{Arc, Mutex};

use halo_env::Env;
use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::auth::otp::OtpSender;
use crate::auth::phone::Phone;
use crate::{CoreConfig, CoreState};

/// The secret every test process signs with.
pub const TEST_JWT_SECRET: &str = "test-only-secret-0123456789abcdef-0123456789";

/// Keeps the codes the core "sent", so a test can type them in.
#[derive(Default)]
pub struct RecordingOtpSender {
    sent: Mutex<Vec<(String, String)>>,
}

impl RecordingOtpSender {
    pub fn last_code(&self, phone_e164: &str) -> Option<String> {
        let sent = self.sent.lock().unwrap();
        sent.iter()
            .rev()
            .find(|(p, _)| p == phone_e164)
            .map(|(_, c)| c.clone())
    }
}

#[tonic::async_trait]
impl OtpSender for RecordingOtpSender {
    async fn send(&self, phone: &Phone, code: &str) -> anyhow::Result<()> {
        self.sent
            .lock()
            .unwrap()
            .push((phone.to_string(), code.to_owned()));
        Ok(())
    }
}

/// A config for tests: cheap bcrypt, the test secret, and `overrides`.
pub fn config(database_url: &str, overrides: &[(&str, &str)]) -> CoreConfig {
    let mut env = Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("AUTH_JWT_SECRET", TEST_JWT_SECRET),
        ("BCRYPT_COST", "4"),
        ("CC_PASSWORD_BCRYPT_COST", "4"),
        ("CORE_GRPC_ADDR", "127.0.0.1:0"),
    ]);
    for (name, value) in overrides {
        env = env.with(name, *value);
    }
    CoreConfig::from_env(&env).expect("test config is valid")
}

/// A running core; stops when dropped.
pub struct SpawnedCore {
    pub url: String,
    pub otp: Arc<RecordingOtpSender>,
    pub state: CoreState,
    _stop: oneshot::Sender<()>,
}

pub async fn spawn(config: &CoreConfig, pool: PgPool) -> SpawnedCore {
    spawn_on(
        config,
        pool,
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
}

/// Like [`spawn`], on a listener the test chose (to bring a core back on
/// the port an edge already points at).
pub async fn spawn_on(
    config: &CoreConfig,
    pool: PgPool,
    listener: tokio::net::TcpListener,
) -> SpawnedCore {
    let otp = Arc::new(RecordingOtpSender::default());
    let state = crate::build_state(config, pool, otp.clone())
        .await
        .expect("core state");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(crate::run(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    SpawnedCore {
        url,
        otp,
        state,
        _stop: stop,
    }
}
