//! The gateway's env knobs, read once in `main`.

use std::net::IpAddr;
use std::time::Duration;

use halo_env::{Env, EnvError};
use halo_web::{EdgeConfig, EdgeDefaults};
use halo_xendit::XenditConfig;
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub edge: EdgeConfig,
    pub payments: PaymentsConfig,
    pub push: PushConfig,
    /// `SOCKET_MESSAGES_PER_10_SECONDS`: what one socket may send (default
    /// 20; the socket benchmark raises it to measure the relay itself).
    pub socket_messages_per_window: u32,
    /// `OUTBOX_RETENTION_DAYS`: how long a consumed outbox event is kept
    /// for inspection (default 7).
    pub outbox_retention: Duration,
}

/// FCM: `None` while `FCM_PROJECT_ID` is unset (push is off).
#[derive(Debug, Clone)]
pub struct PushConfig {
    pub fcm: Option<FcmSettings>,
}

#[derive(Debug, Clone)]
pub struct FcmSettings {
    pub api_base_url: String,
    pub project_id: String,
    /// `FCM_ACCESS_TOKEN`: a fixed bearer token, for the local FCM double
    /// only; unset, the service account's token (gcp_auth) is used.
    pub fixed_token: Option<SecretString>,
}

impl PushConfig {
    fn from_env(env: &Env) -> Self {
        Self {
            fcm: env
                .optional("FCM_PROJECT_ID")
                .map(|project_id| FcmSettings {
                    api_base_url: env
                        .optional("FCM_API_BASE_URL")
                        .unwrap_or_else(|| "https://fcm.googleapis.com".to_owned()),
                    project_id,
                    fixed_token: env.optional("FCM_ACCESS_TOKEN").map(Into::into),
                }),
        }
    }
}

/// Xendit: where its API is, the two secrets and where the hosted page
/// sends the payer afterwards.
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    /// `None` while `XENDIT_SECRET_KEY` or `XENDIT_CALLBACK_TOKEN` is unset:
    /// ordering and the webhook then answer 503 `provider_not_configured`.
    pub xendit: Option<(XenditConfig, SecretString)>,
    pub success_redirect_url: Option<String>,
    pub failure_redirect_url: Option<String>,
}

impl PaymentsConfig {
    fn from_env(env: &Env) -> Result<Self, EnvError> {
        let api_base_url = env
            .optional("XENDIT_API_BASE_URL")
            .unwrap_or_else(|| halo_xendit::DEFAULT_API_BASE_URL.to_owned());
        let timeout = Duration::from_secs(env.int_in("XENDIT_TIMEOUT_SECONDS", 10, 1, 60)? as u64);
        let secret_key = env.optional("XENDIT_SECRET_KEY");
        let callback_token = env.optional("XENDIT_CALLBACK_TOKEN");
        Ok(Self {
            xendit: secret_key.zip(callback_token).map(|(key, token)| {
                (
                    XenditConfig {
                        api_base_url,
                        secret_key: key.into(),
                        timeout,
                    },
                    token.into(),
                )
            }),
            success_redirect_url: env.optional("PAYMENT_SUCCESS_REDIRECT_URL"),
            failure_redirect_url: env.optional("PAYMENT_FAILURE_REDIRECT_URL"),
        })
    }
}

impl GatewayConfig {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as i64);
        Ok(Self {
            edge: EdgeConfig::from_env(
                env,
                &EdgeDefaults {
                    service_name: "public-gateway",
                    // The seed's public listener.
                    host: IpAddr::from([0, 0, 0, 0]),
                    port: 3000,
                    // Twice the cores: measured on 2 cores, 4 connections
                    // served `GET /me` ~20% faster than 10 (fewer Postgres
                    // backends competing for the same CPUs).
                    database_max_connections: 2 * cores,
                    body_bytes: 64 * 1024,
                    timeout_seconds: 15,
                },
            )?,
            payments: PaymentsConfig::from_env(env)?,
            push: PushConfig::from_env(env),
            socket_messages_per_window: env.int_in(
                "SOCKET_MESSAGES_PER_10_SECONDS",
                20,
                1,
                1_000_000,
            )? as u32,
            outbox_retention: Duration::from_secs(
                env.int_in("OUTBOX_RETENTION_DAYS", 7, 1, 365)? as u64 * 86_400,
            ),
        })
    }
}
