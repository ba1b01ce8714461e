//! The chat timers every gateway instance runs: paid orders become offered
//! chats (and paid extensions lengthen theirs), lapsed offers move on,
//! waiting chats are tried again, unanswered or unpaid extensions expire,
//! chats near their end are warned and chats at their end are ended. Each part
//! claims its rows with `FOR UPDATE SKIP LOCKED`, so instances share the
//! work without doing any of it twice.

use std::sync::{Arc, Weak};
use std::time::Duration;

use halo_web::KnobCache;
use sqlx::PgPool;

use crate::services::timers::spawn_every;

/// How often the timers look: an accept timeout or a chat's end fires at
/// most this late (the issue allows 2 s).
const MATCH_EVERY: Duration = Duration::from_secs(1);

/// Rung when an order is paid on this instance, so the matcher offers its
/// chat now rather than at its next tick (half a second sooner on average).
/// Other instances still find it at their tick.
#[derive(Clone, Default)]
pub struct Doorbell(Arc<tokio::sync::Notify>);

impl Doorbell {
    pub fn ring(&self) {
        self.0.notify_one();
    }
}

pub fn start(db: PgPool, knobs: KnobCache, alive: Weak<()>, doorbell: &Doorbell) {
    let wake = Some(doorbell.0.clone());
    spawn_every(MATCH_EVERY, wake, alive, "chat timers", move || {
        let (db, knobs) = (db.clone(), knobs.clone());
        async move {
            // Until the knobs have loaded there is nothing to match with.
            let Ok(knobs) = knobs.current() else {
                return Ok(());
            };
            halo_chats::dispatch_paid_orders(&db, &knobs.knobs).await?;
            halo_chats::time_out_offers(&db, &knobs.knobs).await?;
            halo_chats::retry_waiting(&db, &knobs.knobs).await?;
            halo_chats::warn_due(&db, &knobs.knobs).await?;
            halo_chats::expire_extensions(&db).await?;
            halo_chats::end_due(&db, &knobs.knobs).await?;
            Ok(())
        }
    });
}
