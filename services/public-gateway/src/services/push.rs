//! The gateway's pusher, from its env: FCM when `FCM_PROJECT_ID` is set,
//! else off (said once at start-up).

use halo_push::{Credentials, FcmConfig, Pusher};
use sqlx::PgPool;

use crate::config::PushConfig;

pub fn pusher(config: &PushConfig, db: PgPool) -> anyhow::Result<Pusher> {
    let Some(fcm) = &config.fcm else {
        tracing::warn!("FCM_PROJECT_ID is unset: push notifications are off");
        return Ok(Pusher::off());
    };
    let credentials = match &fcm.fixed_token {
        Some(token) => Credentials::Fixed(token.clone()),
        None => Credentials::Google(Default::default()),
    };
    Pusher::start(
        db,
        FcmConfig {
            api_base_url: fcm.api_base_url.clone(),
            project_id: fcm.project_id.clone(),
            credentials,
        },
    )
}
