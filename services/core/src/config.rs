//! The core's env knobs, read once in `main`.

use std::net::SocketAddr;
use std::time::Duration;

use halo_env::{Env, EnvError};
pub use halo_knobs::EnvKnobs;
use secrecy::SecretString;

use crate::caller::Surface;

/// Deploy-fixed values. Operator-tunable ones live in `app_config`.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Loopback by default: only the edge beside it calls the core.
    pub grpc_addr: SocketAddr,
    /// `CORE_SERVICE_SECRET`: every call must carry it.
    pub service_secret: SecretString,
    /// `CORE_SURFACE`: which RPCs this core serves; required, so a
    /// deployment cannot forget to narrow it.
    pub surface: Surface,
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub redis_url: Option<String>,
    pub jwt_secret: SecretString,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    /// Cost of refresh-token hashes (`BCRYPT_COST`).
    pub bcrypt_cost: u32,
    /// Cost of CC password hashes (`CC_PASSWORD_BCRYPT_COST`).
    pub cc_password_bcrypt_cost: u32,
    /// Threads of the low-priority bcrypt pool (`BCRYPT_THREADS`).
    pub bcrypt_threads: usize,
    pub otp_code_ttl: Duration,
    pub env_knobs: EnvKnobs,
    pub google: ProviderConfig,
    pub apple: ProviderConfig,
    pub bootstrap_admin: Option<(String, SecretString)>,
    /// How stale another instance's settings may get while Valkey is down.
    pub config_cache_ttl: Duration,
    /// How long revoked or expired sessions, retired refresh tokens, OTP
    /// challenges and CC login attempts are kept (`AUTH_RETENTION_DAYS`).
    pub auth_retention: Duration,
    pub telemetry: halo_telemetry::TelemetryConfig,
}

/// A Google or Apple sign-in configuration; no audiences means "not configured".
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub jwks_url: String,
    pub issuers: Vec<String>,
    pub audiences: Vec<String>,
}

fn seconds(env: &Env, name: &str, default: i64, min: i64, max: i64) -> Result<Duration, EnvError> {
    Ok(Duration::from_secs(
        env.int_in(name, default, min, max)? as u64
    ))
}

impl CoreConfig {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let bootstrap_admin = match env.optional("CC_BOOTSTRAP_ADMIN_EMAIL") {
            Some(email) => Some((email, env.secret("CC_BOOTSTRAP_ADMIN_PASSWORD", 12)?)),
            None => None,
        };
        Ok(Self {
            grpc_addr: env.parse_or("CORE_GRPC_ADDR", SocketAddr::from(([127, 0, 0, 1], 50051)))?,
            service_secret: env.secret("CORE_SERVICE_SECRET", 32)?,
            surface: {
                let raw = env.required("CORE_SURFACE")?;
                raw.parse().map_err(|reason: &str| EnvError::Invalid {
                    name: "CORE_SURFACE".into(),
                    value: raw.clone(),
                    reason: reason.into(),
                })?
            },
            database_url: env.secret("DATABASE_URL", 1)?,
            database_max_connections: env.int_in("DATABASE_MAX_CONNECTIONS", 10, 1, 200)? as u32,
            redis_url: env.optional("REDIS_URL"),
            jwt_secret: env.secret("AUTH_JWT_SECRET", 32)?,
            access_token_ttl: seconds(env, "ACCESS_TOKEN_TTL_SECONDS", 3600, 60, 86_400)?,
            refresh_token_ttl: seconds(
                env,
                "REFRESH_TOKEN_TTL_SECONDS",
                30 * 86_400,
                3600,
                365 * 86_400,
            )?,
            refresh_reuse_grace: seconds(env, "REFRESH_REUSE_GRACE_SECONDS", 10, 0, 300)?,
            bcrypt_cost: env.int_in("BCRYPT_COST", 10, 4, 31)? as u32,
            cc_password_bcrypt_cost: env.int_in("CC_PASSWORD_BCRYPT_COST", 12, 4, 31)? as u32,
            // Twice the cores: at low priority they soak up every idle cycle
            // without crowding out request handling.
            bcrypt_threads: env.int_in(
                "BCRYPT_THREADS",
                2 * std::thread::available_parallelism().map_or(2, |n| n.get() as i64),
                1,
                256,
            )? as usize,
            otp_code_ttl: seconds(env, "OTP_CODE_TTL_SECONDS", 300, 30, 3600)?,
            env_knobs: EnvKnobs {
                mitra_heartbeat_cadence_seconds: env.int_in(
                    "MITRA_HEARTBEAT_CADENCE_SECONDS",
                    30,
                    5,
                    600,
                )?,
                payment_min_amount_idr: env.int_in(
                    "PAYMENT_MIN_AMOUNT_IDR",
                    10_000,
                    1,
                    10_000_000,
                )?,
            },
            google: ProviderConfig {
                jwks_url: env
                    .optional("GOOGLE_JWKS_URL")
                    .unwrap_or_else(|| "https://www.googleapis.com/oauth2/v3/certs".into()),
                issuers: vec![
                    "https://accounts.google.com".into(),
                    "accounts.google.com".into(),
                ],
                audiences: env.list("GOOGLE_CLIENT_IDS"),
            },
            apple: ProviderConfig {
                jwks_url: env
                    .optional("APPLE_JWKS_URL")
                    .unwrap_or_else(|| "https://appleid.apple.com/auth/keys".into()),
                issuers: vec!["https://appleid.apple.com".into()],
                audiences: env.list("APPLE_BUNDLE_IDS"),
            },
            bootstrap_admin,
            config_cache_ttl: seconds(env, "CONFIG_CACHE_TTL_SECONDS", 5, 1, 300)?,
            auth_retention: Duration::from_secs(
                env.int_in("AUTH_RETENTION_DAYS", 30, 1, 3650)? as u64 * 86_400,
            ),
            telemetry: halo_telemetry::TelemetryConfig {
                service_name: "halo-core",
                otlp_endpoint: env.optional("OTEL_EXPORTER_OTLP_ENDPOINT"),
                gcp_project: env.optional("GOOGLE_CLOUD_PROJECT"),
                text_logs: env.optional("LOG_FORMAT").as_deref() == Some("text"),
            },
        })
    }
}
