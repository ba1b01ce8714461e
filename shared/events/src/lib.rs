//! Pub/sub between instances. With `REDIS_URL` set, messages cross
//! instances through Valkey/Redis; without it, an in-process bus serves a
//! single instance. Publishing never waits long on Valkey, and the
//! subscriber reconnects by itself.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{Mutex, broadcast};

/// Channel names, one place.
pub mod channels {
    /// A DB knob changed; payload: the new settings version.
    pub const CONFIG_CHANGED: &str = "halo.config.changed";
}

/// What subscribers receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Message {
        channel: String,
        payload: String,
    },
    /// The link to Valkey was re-established: messages may have been missed
    /// while it was down, so caches should reload.
    Resync,
}

/// How long a publish may wait on Valkey before giving up (the change itself
/// is already committed; other instances then converge by TTL).
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// A handle to the bus; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    local: broadcast::Sender<Event>,
    origin: String,
    redis: Option<RedisLink>,
}

struct RedisLink {
    client: redis::Client,
    publisher: Mutex<Option<ConnectionManager>>,
}

impl Bus {
    /// A bus for a single instance.
    pub fn in_process() -> Self {
        Self::build(None)
    }

    /// A bus over Valkey/Redis. Does not connect yet: a process starts while
    /// Valkey is down and catches up when it is back.
    pub fn redis(url: &str, channels: &[&'static str]) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|_| anyhow::anyhow!("REDIS_URL is not a valid redis:// or valkey:// URL"))?;
        let bus = Self::build(Some(RedisLink {
            client,
            publisher: Mutex::new(None),
        }));
        tokio::spawn(subscribe_forever(bus.clone(), channels.to_vec()));
        Ok(bus)
    }

    fn build(redis: Option<RedisLink>) -> Self {
        let (local, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                local,
                origin: instance_id(),
                redis,
            }),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.local.subscribe()
    }

    /// Delivers to this instance at once, then to the others through Valkey.
    /// An error means only this instance heard it.
    pub async fn publish(&self, channel: &str, payload: &str) -> anyhow::Result<()> {
        let _ = self.inner.local.send(Event::Message {
            channel: channel.to_owned(),
            payload: payload.to_owned(),
        });
        let Some(redis) = &self.inner.redis else {
            return Ok(());
        };
        let envelope = format!("{}\n{payload}", self.inner.origin);
        tokio::time::timeout(PUBLISH_TIMEOUT, async {
            let mut guard = redis.publisher.lock().await;
            if guard.is_none() {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(PUBLISH_TIMEOUT))
                    .set_response_timeout(Some(PUBLISH_TIMEOUT));
                *guard =
                    Some(ConnectionManager::new_with_config(redis.client.clone(), config).await?);
            }
            let connection = guard.as_mut().expect("set above");
            // After Valkey restarts, the first command on the old link fails
            // and the manager reconnects; one retry rides that out.
            let mut result = Ok(0);
            for _ in 0..2 {
                result = redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(&envelope)
                    .query_async::<i64>(connection)
                    .await;
                if result.is_ok() {
                    break;
                }
            }
            result?;
            anyhow::Ok(())
        })
        .await
        .map_err(|_| anyhow::anyhow!("publishing to Valkey timed out"))?
    }
}

async fn subscribe_forever(bus: Bus, channels: Vec<&'static str>) {
    let Some(redis) = &bus.inner.redis else {
        return;
    };
    let mut backoff = Duration::from_millis(100);
    let mut connected_before = false;
    loop {
        match redis.client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                let subscribed = async {
                    for channel in &channels {
                        pubsub.subscribe(*channel).await?;
                    }
                    redis::RedisResult::Ok(())
                }
                .await;
                if let Err(err) = subscribed {
                    tracing::warn!(error = %err, "valkey subscribe failed");
                } else {
                    backoff = Duration::from_millis(100);
                    if connected_before {
                        tracing::info!("valkey subscription restored");
                        let _ = bus.inner.local.send(Event::Resync);
                    }
                    connected_before = true;
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(raw) = message.get_payload::<String>() else {
                            continue;
                        };
                        let Some((origin, payload)) = raw.split_once('\n') else {
                            continue;
                        };
                        if origin == bus.inner.origin {
                            continue;
                        }
                        let _ = bus.inner.local.send(Event::Message {
                            channel: message.get_channel_name().to_owned(),
                            payload: payload.to_owned(),
                        });
                    }
                    tracing::warn!("valkey subscription lost; reconnecting");
                }
            }
            Err(err) => tracing::debug!(error = %err, "valkey unreachable; retrying"),
        }
        if Arc::strong_count(&bus.inner) == 1 {
            return; // every handle is gone
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RECONNECT_BACKOFF_MAX);
    }
}

/// Tells this instance's own messages apart when Valkey echoes them.
fn instance_id() -> String {
    use std::hash::{BuildHasher, RandomState};
    format!(
        "{}-{:x}",
        std::process::id(),
        RandomState::new().hash_one(std::time::SystemTime::now())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_in_process_bus_delivers_to_its_own_subscribers() {
        let bus = Bus::in_process();
        let mut events = bus.subscribe();
        bus.publish(channels::CONFIG_CHANGED, "7").await.unwrap();
        assert_eq!(
            events.recv().await.unwrap(),
            Event::Message {
                channel: channels::CONFIG_CHANGED.into(),
                payload: "7".into()
            }
        );
    }

    #[tokio::test]
    async fn a_publish_with_valkey_down_fails_fast_but_still_reaches_this_instance() {
        let bus = Bus::redis("redis://127.0.0.1:1", &[channels::CONFIG_CHANGED]).unwrap();
        let mut events = bus.subscribe();
        let started = std::time::Instant::now();
        assert!(bus.publish(channels::CONFIG_CHANGED, "8").await.is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(
            events.recv().await.unwrap(),
            Event::Message { .. }
        ));
    }
}
