//! The skeleton both edges share: their env knobs ([`EdgeConfig`]), their
//! state ([`EdgeState`]), router assembly with one guard per namespace, and
//! `main`. An edge adds only its routes, its services and its extra knobs.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use halo_auth::{AccessTokens, UserType, require_user_type};
use halo_env::{Env, EnvError};
use halo_events::{Bus, channels};
use secrecy::SecretString;
use sqlx::PgPool;
use utoipa::Modify;
use utoipa_axum::router::OpenApiRouter;

use crate::{CoreClient, CoreClientConfig, ErrorResponses, HttpLimits, KnobCache};

/// What differs between the two edges' env defaults.
pub struct EdgeDefaults {
    pub service_name: &'static str,
    pub host: IpAddr,
    pub port: u16,
    pub database_max_connections: i64,
    pub body_bytes: i64,
    pub timeout_seconds: i64,
}

/// The env knobs every edge reads, once, in `main`.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// `HOST`:`PORT`.
    pub listen: SocketAddr,
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub jwt_secret: SecretString,
    pub core: CoreClientConfig,
    /// `REDIS_URL`: where the core announces knob changes; unset, the edge
    /// only polls.
    pub redis_url: Option<String>,
    /// `CONFIG_CACHE_TTL_SECONDS`: how stale the edge's knobs may get while
    /// Valkey is down.
    pub config_cache_ttl: Duration,
    pub limits: HttpLimits,
    /// How long in-flight requests get after SIGTERM.
    pub shutdown_drain: Duration,
    pub telemetry: halo_telemetry::TelemetryConfig,
}

impl EdgeConfig {
    pub fn from_env(env: &Env, defaults: &EdgeDefaults) -> Result<Self, EnvError> {
        let host: IpAddr = env.parse_or("HOST", defaults.host)?;
        let port: u16 = env.parse_or("PORT", defaults.port)?;
        Ok(Self {
            listen: SocketAddr::new(host, port),
            database_url: env.secret("DATABASE_URL", 1)?,
            database_max_connections: env.int_in(
                "DATABASE_MAX_CONNECTIONS",
                defaults.database_max_connections,
                1,
                200,
            )? as u32,
            jwt_secret: env.secret("AUTH_JWT_SECRET", 32)?,
            core: CoreClientConfig {
                url: env
                    .optional("CORE_GRPC_URL")
                    .unwrap_or_else(|| "http://127.0.0.1:50051".into()),
                service_secret: env.secret("CORE_SERVICE_SECRET", 32)?,
            },
            redis_url: env.optional("REDIS_URL"),
            config_cache_ttl: Duration::from_secs(env.int_in(
                "CONFIG_CACHE_TTL_SECONDS",
                5,
                1,
                300,
            )? as u64),
            limits: HttpLimits {
                body_bytes: env.int_in(
                    "HTTP_BODY_LIMIT_BYTES",
                    defaults.body_bytes,
                    1024,
                    10 * 1024 * 1024,
                )? as usize,
                timeout: Duration::from_secs(env.int_in(
                    "HTTP_REQUEST_TIMEOUT_SECONDS",
                    defaults.timeout_seconds,
                    1,
                    300,
                )? as u64),
                trusted_proxy_hops: env.int_in("TRUSTED_PROXY_HOPS", 1, 0, 10)? as usize,
            },
            shutdown_drain: Duration::from_secs(
                env.int_in("SHUTDOWN_DRAIN_SECONDS", 8, 0, 60)? as u64
            ),
            telemetry: halo_telemetry::TelemetryConfig {
                service_name: defaults.service_name,
                otlp_endpoint: env.optional("OTEL_EXPORTER_OTLP_ENDPOINT"),
                gcp_project: env.optional("GOOGLE_CLOUD_PROJECT"),
                text_logs: env.optional("LOG_FORMAT").as_deref() == Some("text"),
            },
        })
    }
}

/// The one `Clone` state of an edge; handlers take the piece they need.
#[derive(Clone, FromRef)]
pub struct EdgeState {
    pub tokens: AccessTokens,
    pub db: PgPool,
    pub core: CoreClient,
    pub knobs: KnobCache,
}

impl EdgeState {
    /// Builds the state; the pool and the core channel connect lazily and
    /// the knobs load in the background, so an edge starts before the core.
    pub fn connect(config: &EdgeConfig) -> anyhow::Result<Self> {
        let db = halo_db::connect_lazy(&halo_db::DbConfig {
            url: config.database_url.clone(),
            max_connections: config.database_max_connections,
            // Above the gaps between requests of a busy edge.
            ping_when_idle_for: Duration::from_secs(1),
        })?;
        let core = CoreClient::connect_lazy(&config.core)?;
        let bus = match &config.redis_url {
            Some(url) => Bus::redis(url, &[channels::CONFIG_CHANGED])?,
            None => Bus::in_process(),
        };
        Ok(Self {
            tokens: AccessTokens::new(&config.jwt_secret, Duration::from_secs(3600)),
            knobs: KnobCache::start(core.clone(), db.clone(), bus, config.config_cache_ttl),
            db,
            core,
        })
    }
}

/// An edge's routes: the public ones (listed in one place, the seed's rule)
/// and, per user type, the ones only that type may call.
pub struct EdgeRoutes {
    pub doc: utoipa::openapi::OpenApi,
    pub public: OpenApiRouter<EdgeState>,
    pub guarded: Vec<(UserType, OpenApiRouter<EdgeState>)>,
}

impl EdgeRoutes {
    /// Merges everything, each guarded router behind its user-type guard.
    /// `tokens` is `None` when only the document is wanted.
    pub fn assemble(
        self,
        tokens: Option<&AccessTokens>,
    ) -> (Router<EdgeState>, utoipa::openapi::OpenApi) {
        let document_only;
        let tokens = match tokens {
            Some(tokens) => tokens,
            None => {
                // The guards are never run when only the document is built.
                document_only = AccessTokens::new(&"x".repeat(32).into(), Duration::from_secs(1));
                &document_only
            }
        };
        let mut router = OpenApiRouter::with_openapi(self.doc).merge(self.public);
        for (user_type, routes) in self.guarded {
            router = router.merge(routes.route_layer(require_user_type(tokens.clone(), user_type)));
        }
        let (router, mut doc) = router.split_for_parts();
        // After the merge: the rule needs every route's operation.
        ErrorResponses.modify(&mut doc);
        (router, doc)
    }

    /// The whole app: routes, `/openapi.json`, the shared edge layers.
    pub fn into_app(self, state: EdgeState, limits: HttpLimits) -> Router {
        let (routes, doc) = self.assemble(Some(&state.tokens));
        let routes = crate::serve_openapi(routes, &doc).with_state(state);
        crate::apply_edge_layers(routes, limits)
    }
}

/// Serves the app `app` builds from the edge's state until `shutdown`,
/// then drains in-flight requests within `SHUTDOWN_DRAIN_SECONDS`.
pub async fn run_edge(
    config: &EdgeConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    app: impl FnOnce(EdgeState) -> Router,
) -> anyhow::Result<()> {
    let app = app(EdgeState::connect(config)?);
    crate::serve(listener, app, shutdown, config.shutdown_drain).await?;
    Ok(())
}

/// An edge's `main` after reading its config: telemetry, the listener, the
/// app until SIGTERM, then a flush of the telemetry.
pub async fn edge_main(
    config: &EdgeConfig,
    app: impl FnOnce(EdgeState) -> Router,
) -> anyhow::Result<()> {
    let telemetry = halo_telemetry::init(&config.telemetry)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on HOST:PORT {}: {e}", config.listen))?;
    tracing::info!(addr = %config.listen, service = config.telemetry.service_name, "listening");
    let result = run_edge(config, listener, halo_env::shutdown_signal(), app).await;
    telemetry.shutdown().await;
    result
}
