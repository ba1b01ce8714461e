//! The gateway's env knobs, read once in `main`.

use std::net::IpAddr;

use halo_env::{Env, EnvError};
use halo_web::{EdgeConfig, EdgeDefaults};

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub edge: EdgeConfig,
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
        })
    }
}
