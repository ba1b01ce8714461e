//! Runs a core in-process on an OS-chosen port, for the edges' and the
//! core's own tests (feature `testing`; never in a release build), and
//! seeds what tests need: mitras, operators, knob values.

use std::sync::{Arc, Mutex};

use halo_auth::Auth;
use halo_env::Env;
use halo_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::auth::otp::OtpSender;
use crate::{CoreConfig, CoreState};
use halo_auth::Phone;

/// The secret every test process signs with.
pub const TEST_JWT_SECRET: &str = "test-only-secret-0123456789abcdef-0123456789";

/// The service credential test edges present to test cores.
pub const TEST_SERVICE_SECRET: &str = "test-only-service-credential-0123456789abcdef";

/// The password of every operator [`TestStack::add_operator`] creates.
pub const TEST_OPERATOR_PASSWORD: &str = "correct horse battery";

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
        ("CORE_SERVICE_SECRET", TEST_SERVICE_SECRET),
        ("CORE_SURFACE", "all"),
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

/// The env of an edge using `database_url` and the core at `core_url`
/// (which a test may keep down or silent), plus `extra`.
pub fn edge_env(database_url: &str, core_url: &str, extra: &[(&str, &str)]) -> Env {
    let mut env = Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("AUTH_JWT_SECRET", TEST_JWT_SECRET),
        ("CORE_GRPC_URL", core_url),
        ("CORE_SERVICE_SECRET", TEST_SERVICE_SECRET),
    ]);
    for (name, value) in extra {
        env = env.with(name, *value);
    }
    env
}

/// A fresh database and a core on it: where every test of the core and of
/// the edges starts.
pub struct TestStack {
    pub db: TestDb,
    pub core: SpawnedCore,
}

impl TestStack {
    /// `core_env` overrides the core's env (e.g. `GOOGLE_CLIENT_IDS`).
    pub async fn start(core_env: &[(&str, &str)]) -> Self {
        crate::install_crypto_provider();
        let db = TestDb::new().await;
        let core = spawn(&config(&db.url, core_env), db.pool.clone()).await;
        Self { db, core }
    }

    /// The env an edge needs to reach this stack, plus `extra`.
    pub fn edge_env(&self, extra: &[(&str, &str)]) -> Env {
        edge_env(&self.db.url, &self.core.url, extra)
    }

    /// Registers an active mitra the way the CC will, online and just
    /// beating (available), as if their app had opened.
    pub async fn register_mitra(&self, phone_e164: &str) -> Uuid {
        let id = Uuid::now_v7();
        sqlx::query(
            "WITH mitra AS (INSERT INTO users (id, user_type, phone, display_name)
                            VALUES ($1, 'mitra', $2, 'Mitra') RETURNING id)
             INSERT INTO mitra_presence (mitra_id, status) SELECT id, 'online' FROM mitra",
        )
        .bind(id)
        .bind(phone_e164)
        .execute(&self.db.pool)
        .await
        .expect("mitra inserted");
        id
    }

    /// Creates a CC user (`admin` or `operator`) with [`TEST_OPERATOR_PASSWORD`].
    pub async fn add_operator(&self, email: &str, role: &str) -> Uuid {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO auth.cc_users (id, email, password_hash, role) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(email)
        .bind(bcrypt::hash(TEST_OPERATOR_PASSWORD, 4).expect("bcrypt hashes"))
        .bind(role)
        .execute(&self.db.pool)
        .await
        .expect("operator inserted");
        id
    }

    /// Signs a new operator of `role` in, as the CC edge would, and returns
    /// their verified credentials for calls made on their behalf.
    pub async fn operator_session(&self, role: &str) -> Auth {
        let email = format!("{}@cc.test", Uuid::now_v7().simple());
        self.add_operator(&email, role).await;
        let pair = self
            .core
            .state
            .auth
            .cc_login(&email, TEST_OPERATOR_PASSWORD, "127.0.0.1")
            .await
            .expect("operator signs in");
        auth_of(&pair.access_token)
    }

    /// Changes DB knobs directly through the core's settings store.
    pub async fn set_knobs(&self, changes: Value) {
        let admin = self
            .add_operator(&format!("{}@cc.test", Uuid::now_v7().simple()), "admin")
            .await;
        let actor = halo_audit::Actor {
            operator_id: admin,
            request_id: None,
            client_ip: None,
        };
        let settings = &self.core.state.settings;
        let version = settings.snapshot().version.to_string();
        settings
            .update(&version, &changes, &actor)
            .await
            .expect("knob change accepted");
    }

    /// Ages every OTP challenge past the resend cooldown, so a test can ask
    /// for another code at once.
    pub async fn pass_otp_cooldown(&self) {
        sqlx::query(
            "UPDATE auth.otp_challenges SET created_at = created_at - interval '2 minutes'",
        )
        .execute(&self.db.pool)
        .await
        .expect("challenges aged");
    }
}

/// The credentials an access token stands for, as an edge's `Auth`
/// extractor would give them.
pub fn auth_of(access_token: &str) -> Auth {
    let tokens = halo_auth::AccessTokens::new(
        &TEST_JWT_SECRET.to_owned().into(),
        std::time::Duration::from_secs(3600),
    );
    let claims = tokens.verify(access_token).expect("a token we issued");
    Auth {
        user_type: claims.user_type,
        user_id: claims.sub,
        session_id: claims.session_id,
        token: access_token.into(),
    }
}
