//! The gateway's background loops (order sweeps, heartbeat flushes): each
//! runs every instance, once per period, until the app is dropped.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;

/// Runs `work` every `period`, and also as soon as `wake` is notified (a
/// doorbell: rings during a round make one more round right after), until
/// `alive` is gone. A failed round is logged and the next one tries again:
/// every job here is safe to repeat.
pub fn spawn_every<F, Fut>(
    period: Duration,
    wake: Option<Arc<Notify>>,
    alive: Weak<()>,
    job: &'static str,
    mut work: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), sqlx::Error>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            match &wake {
                Some(wake) => {
                    tokio::select! {
                        _ = tick.tick() => {}
                        () = wake.notified() => {}
                    }
                }
                None => {
                    tick.tick().await;
                }
            }
            if alive.strong_count() == 0 {
                return;
            }
            if let Err(err) = work().await {
                tracing::warn!(error = %err, job, "a background round failed; retrying next tick");
            }
        }
    });
}
