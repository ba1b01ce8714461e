//! The gateway's background loops (order sweeps, heartbeat flushes): each
//! runs every instance, once per period, until the app is dropped.

use std::future::Future;
use std::sync::Weak;
use std::time::Duration;

/// Runs `work` every `period` until `alive` is gone. A failed round is
/// logged and the next one tries again: every job here is safe to repeat.
pub fn spawn_every<F, Fut>(period: Duration, alive: Weak<()>, job: &'static str, mut work: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), sqlx::Error>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if alive.strong_count() == 0 {
                return;
            }
            if let Err(err) = work().await {
                tracing::warn!(error = %err, job, "a background round failed; retrying next tick");
            }
        }
    });
}
