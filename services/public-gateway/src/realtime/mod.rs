//! Realtime (issue 11): the socket, its frames, and the fan-out of frames
//! between gateway instances.

pub mod frames;
pub mod hub;
pub mod socket;

pub use hub::Hub;

use std::sync::Weak;
use std::time::Duration;

use sqlx::PgPool;

use crate::services::timers::spawn_every;
use frames::ServerFrame;

/// How often each instance looks for events to relay: chat events reach
/// the apps at most this late (plus the fan-out's hop).
const RELAY_EVERY: Duration = Duration::from_millis(250);
/// Events one look relays at most; the next takes the rest.
const RELAY_BATCH: i64 = 500;

/// Relays the outbox's live events to the sockets of the people they
/// concern, on every instance; each event is claimed by one.
pub fn start_relay(db: PgPool, hub: Hub, alive: Weak<()>) {
    spawn_every(RELAY_EVERY, None, alive, "event relay", move || {
        let (db, hub) = (db.clone(), hub.clone());
        async move {
            for event in halo_chats::claim_live_events(&db, RELAY_BATCH).await? {
                let frame: std::sync::Arc<str> = ServerFrame::Event {
                    id: event.id,
                    name: &event.name,
                    data: &event.data,
                }
                .to_text()
                .into();
                for user in event.recipients {
                    hub.send_to(user, frame.clone());
                }
            }
            Ok(())
        }
    });
}
