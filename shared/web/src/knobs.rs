//! The edge's in-memory copy of the DB knobs (capacity, timeouts, tiers):
//! loaded through the core's `GetKnobs`, reloaded when the core broadcasts a
//! change on Valkey, and, every `CONFIG_CACHE_TTL_SECONDS`, when the version
//! row in Postgres moved (one single-row read), which bounds staleness while
//! Valkey is down. A read is a lock and an `Arc` clone: no knob read does
//! I/O on a request path.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use halo_events::{Bus, Event, channels};
use halo_knobs::{EnvKnobs, Knobs, PublicConfig};
use halo_proto::ApiError;
use sqlx::PgPool;
use tokio::sync::broadcast::error::RecvError;

use crate::CoreClient;

/// One consistent set of knobs.
#[derive(Debug)]
pub struct KnobSnapshot {
    pub version: i64,
    pub knobs: Knobs,
    pub env: EnvKnobs,
    /// The apps' config document, built once per version.
    pub public: PublicConfig,
}

/// Cheap to clone; every clone sees the same copy.
#[derive(Clone)]
pub struct KnobCache {
    inner: Arc<Inner>,
}

struct Inner {
    current: RwLock<Option<Arc<KnobSnapshot>>>,
    core: CoreClient,
    db: PgPool,
}

/// Until the first load (the core still starting) the edge is not ready.
fn not_loaded() -> ApiError {
    ApiError::unavailable(
        "config_not_loaded",
        "the service is starting; try again in a moment",
    )
}

impl KnobCache {
    /// Starts empty and loads in the background, so the edge can start (and
    /// answer `/healthz`) before the core does.
    pub fn start(core: CoreClient, db: PgPool, bus: Bus, ttl: Duration) -> Self {
        let cache = Self {
            inner: Arc::new(Inner {
                current: RwLock::new(None),
                core,
                db,
            }),
        };
        tokio::spawn(keep_fresh(Arc::downgrade(&cache.inner), bus, ttl));
        cache
    }

    /// The knobs as of the last load, or 503 `config_not_loaded`.
    pub fn current(&self) -> Result<Arc<KnobSnapshot>, ApiError> {
        self.inner
            .current
            .read()
            .expect("knob lock poisoned")
            .clone()
            .ok_or_else(not_loaded)
    }

    pub fn is_loaded(&self) -> bool {
        self.current().is_ok()
    }
}

impl Inner {
    /// Fetches the knobs (at least `min_version`) and keeps them unless a
    /// newer copy arrived meanwhile.
    async fn load(&self, min_version: i64) -> anyhow::Result<()> {
        let answer = self.core.knobs(min_version).await?;
        let values: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(&answer.values_json)?;
        let env: EnvKnobs = serde_json::from_str(&answer.env_json)?;
        let knobs = Knobs::from_values(&values)?;
        let snapshot = Arc::new(KnobSnapshot {
            version: answer.version,
            public: knobs.public_config(&env),
            knobs,
            env,
        });
        let mut current = self.current.write().expect("knob lock poisoned");
        if current
            .as_ref()
            .is_none_or(|held| held.version <= snapshot.version)
        {
            *current = Some(snapshot);
        }
        Ok(())
    }

    fn version(&self) -> Option<i64> {
        self.current
            .read()
            .expect("knob lock poisoned")
            .as_ref()
            .map(|s| s.version)
    }

    /// The version in Postgres, when it is newer than the copy held.
    async fn newer_version_in_db(&self) -> anyhow::Result<Option<i64>> {
        let stored: i64 = sqlx::query_scalar("SELECT version FROM app_config_version")
            .fetch_one(&self.db)
            .await?;
        Ok((Some(stored) > self.version()).then_some(stored))
    }
}

/// Loads until the first success (every 500 ms), then reloads on a change
/// broadcast and when a poll finds a newer version in Postgres (asking the
/// core for at least that version, so its own copy cannot hold us back),
/// and after a Valkey reconnect (messages may have been missed).
async fn keep_fresh(inner: Weak<Inner>, bus: Bus, ttl: Duration) {
    let mut events = bus.subscribe();
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        match strong.load(0).await {
            Ok(()) => break,
            Err(err) => tracing::info!(error = %err, "knobs not loaded yet; retrying"),
        }
        drop(strong);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut poll = tokio::time::interval(ttl);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let min_version = tokio::select! {
            event = events.recv() => match event {
                Ok(Event::Message { channel, payload }) if channel == channels::CONFIG_CHANGED => {
                    payload.parse().unwrap_or(0)
                }
                Ok(Event::Message { .. }) => continue,
                Ok(Event::Resync) | Err(RecvError::Lagged(_)) => 0,
                Err(RecvError::Closed) => return,
            },
            _ = poll.tick() => {
                let Some(strong) = inner.upgrade() else {
                    return;
                };
                match strong.newer_version_in_db().await {
                    Ok(Some(version)) => version,
                    Ok(None) => continue,
                    Err(err) => {
                        tracing::warn!(error = %err, "knob version poll failed");
                        continue;
                    }
                }
            }
        };
        let Some(strong) = inner.upgrade() else {
            return;
        };
        if min_version > 0 && strong.version().is_some_and(|held| held >= min_version) {
            continue;
        }
        if let Err(err) = strong.load(min_version).await {
            tracing::warn!(error = %err, "knob reload failed; keeping the last good values");
        }
    }
}
