//! The control-center edge's env knobs, read once in `main`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use halo_env::{Env, EnvError};
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct CcConfig {
    /// `HOST`:`PORT`, default 127.0.0.1:3001; the Cloud Run manifest sets
    /// 0.0.0.0, where internal-only ingress does the isolation.
    pub listen: SocketAddr,
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub jwt_secret: SecretString,
    pub core_grpc_url: String,
    /// `CC_ALLOWED_ORIGINS`: the SPA's origins; CORS with credentials and
    /// the refresh endpoint's Origin check use them.
    pub allowed_origins: Vec<String>,
    pub limits: halo_web::HttpLimits,
    pub shutdown_drain: Duration,
    pub telemetry: halo_telemetry::TelemetryConfig,
}

impl CcConfig {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let host: IpAddr = env.parse_or("HOST", IpAddr::from([127, 0, 0, 1]))?;
        let port: u16 = env.parse_or("PORT", 3001)?;
        let allowed_origins = env.list("CC_ALLOWED_ORIGINS");
        if let Some(bad) = allowed_origins
            .iter()
            .find(|o| !(o.starts_with("https://") || o.starts_with("http://")) || o.ends_with('/'))
        {
            return Err(EnvError::Invalid {
                name: "CC_ALLOWED_ORIGINS".into(),
                value: bad.clone(),
                reason: "each origin is scheme://host[:port], no trailing slash".into(),
            });
        }
        Ok(Self {
            listen: SocketAddr::new(host, port),
            database_url: env.secret("DATABASE_URL", 1)?,
            database_max_connections: env.int_in("DATABASE_MAX_CONNECTIONS", 5, 1, 200)? as u32,
            jwt_secret: env.secret("AUTH_JWT_SECRET", 32)?,
            core_grpc_url: env
                .optional("CORE_GRPC_URL")
                .unwrap_or_else(|| "http://127.0.0.1:50051".into()),
            allowed_origins,
            limits: halo_web::HttpLimits {
                body_bytes: env.int_in(
                    "HTTP_BODY_LIMIT_BYTES",
                    256 * 1024,
                    1024,
                    10 * 1024 * 1024,
                )? as usize,
                timeout: Duration::from_secs(env.int_in(
                    "HTTP_REQUEST_TIMEOUT_SECONDS",
                    30,
                    1,
                    300,
                )? as u64),
                trusted_proxy_hops: env.int_in("TRUSTED_PROXY_HOPS", 1, 0, 10)? as usize,
            },
            shutdown_drain: Duration::from_secs(
                env.int_in("SHUTDOWN_DRAIN_SECONDS", 8, 0, 60)? as u64
            ),
            telemetry: halo_telemetry::TelemetryConfig {
                service_name: "internal-cc",
                otlp_endpoint: env.optional("OTEL_EXPORTER_OTLP_ENDPOINT"),
                gcp_project: env.optional("GOOGLE_CLOUD_PROJECT"),
                text_logs: env.optional("LOG_FORMAT").as_deref() == Some("text"),
            },
        })
    }
}
