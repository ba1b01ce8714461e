//! The auth-and-config core: a tonic gRPC server that issues and rotates
//! credentials (`AuthService`) and owns the operator-tunable knobs
//! (`ConfigService`). Both edges call it; it is the sole writer of the auth
//! and config tables.

pub mod auth;
pub mod caller;
pub mod config;
pub mod error;
mod grpc;
pub mod retention;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use halo_auth::AccessTokens;
use halo_events::{Bus, channels};
use halo_proto::v1::{
    auth_service_server::AuthServiceServer, config_service_server::ConfigServiceServer,
};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

pub use auth::Auth;
pub use caller::Surface;
pub use config::CoreConfig;

use auth::otp::{Otp, OtpSender, StubOtpSender};
use auth::providers::IdTokenVerifier;
use auth::secrets::Bcrypt;
use auth::sessions::Sessions;
use caller::{Callers, ServiceGuardLayer};
use grpc::ConfigRpc;
use settings::SettingsStore;

/// reqwest is built without a TLS crypto provider of its own, so rustls needs
/// a process-wide one (ring) before the first HTTP client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The core's pool: lazy like every pool here, but pinging each connection
/// before use. Every core call already costs a bcrypt or several queries, so
/// the extra round trip is noise, and after a Postgres restart the first
/// sign-ins succeed instead of drawing dead connections.
pub fn connect_pool(config: &CoreConfig) -> anyhow::Result<sqlx::PgPool> {
    halo_db::connect_lazy(&halo_db::DbConfig {
        url: config.database_url.clone(),
        max_connections: config.database_max_connections,
        ping_when_idle_for: std::time::Duration::ZERO,
    })
}

/// Everything the RPCs need.
#[derive(Clone)]
pub struct CoreState {
    pub auth: Auth,
    pub settings: SettingsStore,
    guard: ServiceGuardLayer,
}

/// Builds the state: the pool (lazy), the bus, the settings cache (loaded
/// now), the OTP sender, the JWKS client. Creates the bootstrap admin and
/// starts pruning expired auth rows in the background.
pub async fn build_state(
    config: &CoreConfig,
    pool: PgPool,
    otp_sender: Arc<dyn OtpSender>,
) -> anyhow::Result<CoreState> {
    install_crypto_provider();
    let bus = match &config.redis_url {
        Some(url) => Bus::redis(url, &[channels::CONFIG_CHANGED])?,
        None => Bus::in_process(),
    };
    let settings =
        SettingsStore::start(pool.clone(), config.env_knobs, bus, config.config_cache_ttl).await?;
    retention::spawn_pruner(pool.clone(), config.auth_retention);
    let bcrypt = Bcrypt::new(config.bcrypt_threads);
    let tokens = AccessTokens::new(&config.jwt_secret, config.access_token_ttl);
    let auth = Auth {
        callers: Callers::new(tokens.clone(), pool.clone()),
        surface: config.surface,
        sessions: Sessions {
            pool: pool.clone(),
            tokens,
            bcrypt: bcrypt.clone(),
            bcrypt_cost: config.bcrypt_cost,
            refresh_ttl: config.refresh_token_ttl,
            reuse_grace: config.refresh_reuse_grace,
            settings: settings.clone(),
            decoy: Default::default(),
        },
        otp: Otp {
            pool: pool.clone(),
            settings: settings.clone(),
            sender: otp_sender,
            code_ttl: config.otp_code_ttl,
            hmac_key: config.jwt_secret.clone(),
        },
        id_tokens: Arc::new(IdTokenVerifier::new(
            config.google.clone(),
            config.apple.clone(),
        )?),
        cc: auth::cc::CcPasswords {
            pool,
            bcrypt,
            cost: config.cc_password_bcrypt_cost,
            decoy: Default::default(),
        },
    };
    if let Some((email, password)) = config.bootstrap_admin.clone() {
        let cc = auth.cc.clone();
        tokio::spawn(async move {
            match cc.bootstrap_admin(&email, &password).await {
                Ok(true) => tracing::info!("created the bootstrap CC admin"),
                Ok(false) => {}
                Err(err) => {
                    tracing::error!(error = %err, "could not create the bootstrap CC admin")
                }
            }
        });
    }
    Ok(CoreState {
        auth,
        settings,
        guard: ServiceGuardLayer::new(config.service_secret.clone(), config.surface),
    })
}

/// The default OTP sender until Fazpass is wired.
pub fn stub_otp_sender() -> Arc<dyn OtpSender> {
    Arc::new(StubOtpSender)
}

/// Reflection over every service the core serves. grpcurl speaks v1, while
/// grpc_cli, Postman and Google's Python client still ask v1alpha, so both
/// are served, each listing both.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .include_reflection_service(false)
        .register_encoded_file_descriptor_set(halo_proto::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}

/// Serves the core's gRPC API, standard health and reflection until
/// `shutdown` resolves; in-flight calls finish first.
pub async fn run(
    state: CoreState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<AuthServiceServer<Auth>>().await;
    health.set_serving::<ConfigServiceServer<ConfigRpc>>().await;
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    tracing::info!(addr = %listener.local_addr()?, surface = ?state.auth.surface, "core listening");
    let config_rpc = ConfigRpc {
        settings: state.settings,
        callers: state.auth.callers.clone(),
    };
    tonic::transport::Server::builder()
        // One span per RPC, continuing the edge's trace and carrying its
        // request id, so the core's log lines join the edge's request. Any
        // non-OK status counts as a failure here, a wrong OTP code included,
        // so it is noted at INFO; real faults are logged with their cause
        // where `CoreError` is mapped.
        .layer(
            tower_http::trace::TraceLayer::new_for_grpc()
                .make_span_with(|request: &http::Request<_>| halo_telemetry::request_span(request))
                .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::INFO)),
        )
        .layer(state.guard)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(AuthServiceServer::new(state.auth))
        .add_service(ConfigServiceServer::new(config_rpc))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}
