//! The control-center edge's env knobs, read once in `main`.

use std::net::IpAddr;

use halo_env::{Env, EnvError};
use halo_web::{EdgeConfig, EdgeDefaults};

#[derive(Debug, Clone)]
pub struct CcConfig {
    /// Default listener 127.0.0.1:3001; the Cloud Run manifest sets
    /// 0.0.0.0, where internal-only ingress does the isolation.
    pub edge: EdgeConfig,
    /// `CC_ALLOWED_ORIGINS`: the SPA's origins; CORS with credentials and
    /// the refresh endpoint's Origin check use them.
    pub allowed_origins: Vec<String>,
}

impl CcConfig {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
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
            edge: EdgeConfig::from_env(
                env,
                &EdgeDefaults {
                    service_name: "internal-cc",
                    host: IpAddr::from([127, 0, 0, 1]),
                    port: 3001,
                    database_max_connections: 5,
                    body_bytes: 256 * 1024,
                    timeout_seconds: 30,
                },
            )?,
            allowed_origins,
        })
    }
}
