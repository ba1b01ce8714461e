//! The gateway's payment pieces: the Xendit client and callback token (or
//! the fact that they are not configured), and the order sweeper every
//! gateway instance runs.

use std::sync::{Arc, Weak};
use std::time::Duration;

use halo_orders::InvoiceOptions;
use halo_proto::ApiError;
use halo_xendit::{PaymentProvider, XenditClient};
use secrecy::SecretString;
use sqlx::PgPool;

use crate::config::PaymentsConfig;

/// How often the sweeper looks for due timers; each look is two indexed
/// queries when nothing is due.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Shared by the handlers (as an axum `Extension`); cheap to clone.
#[derive(Clone)]
pub struct Payments {
    configured: Option<Arc<Configured>>,
}

pub struct Configured {
    pub provider: Arc<dyn PaymentProvider>,
    pub callback_token: SecretString,
    pub options: InvoiceOptions,
}

impl Payments {
    /// The client for a configured provider; logs once when it is not.
    pub fn from_config(config: &PaymentsConfig) -> anyhow::Result<Self> {
        let Some((xendit, callback_token)) = &config.xendit else {
            tracing::warn!(
                "XENDIT_SECRET_KEY or XENDIT_CALLBACK_TOKEN is unset: ordering and the Xendit \
                 webhook answer 503 provider_not_configured"
            );
            return Ok(Self { configured: None });
        };
        Ok(Self {
            configured: Some(Arc::new(Configured {
                provider: Arc::new(XenditClient::new(xendit.clone())?),
                callback_token: callback_token.clone(),
                options: InvoiceOptions {
                    success_redirect_url: config.success_redirect_url.clone(),
                    failure_redirect_url: config.failure_redirect_url.clone(),
                    // A concurrent retry waits out the first request's call.
                    wait_for_concurrent: xendit.timeout + Duration::from_secs(2),
                },
            })),
        })
    }

    /// The provider, or 503 `provider_not_configured`.
    pub fn configured(&self) -> Result<&Configured, ApiError> {
        self.configured.as_deref().ok_or_else(|| {
            ApiError::unavailable(
                "provider_not_configured",
                "payments are not configured on this server",
            )
        })
    }

    /// Runs the order sweeper until `alive` is gone (the app was dropped).
    pub fn start_sweeper(&self, db: PgPool, alive: Weak<()>) {
        let provider = self.configured.as_ref().map(|c| c.provider.clone());
        // A request that died while asking Xendit leaves a `creating` row;
        // past any live request's wait it is abandoned.
        let abandon_after = self
            .configured
            .as_ref()
            .map_or(Duration::from_secs(60), |c| {
                c.options.wait_for_concurrent + Duration::from_secs(30)
            });
        crate::services::timers::spawn_every(SWEEP_EVERY, None, alive, "order sweep", move || {
            let db = db.clone();
            let provider = provider.clone();
            async move { sweep(&db, provider.as_deref(), abandon_after).await }
        });
    }
}

async fn sweep(
    db: &PgPool,
    provider: Option<&dyn PaymentProvider>,
    abandon_after: Duration,
) -> Result<(), sqlx::Error> {
    halo_orders::abandon_stale(db, abandon_after).await?;
    let expired = halo_orders::expire_due(db).await?;
    if expired > 0 {
        tracing::info!(expired, "orders expired locally");
    }
    if let Some(provider) = provider {
        halo_orders::reconcile_due(db, provider).await?;
    }
    Ok(())
}
