//! Realtime (issue 11): the socket, its frames, and the fan-out of frames
//! between gateway instances.

pub mod frames;
pub mod hub;
pub mod socket;
pub mod tickets;

pub use hub::Hub;

use std::sync::Weak;
use std::time::Duration;

use halo_push::{Notification, PushKind};
use sqlx::PgPool;

use crate::services::timers::spawn_every;
use frames::ServerFrame;

/// How often each instance looks for events to relay: chat events reach
/// the apps at most this late (plus the fan-out's hop).
const RELAY_EVERY: Duration = Duration::from_millis(250);
/// Events one look relays at most; the next takes the rest.
const RELAY_BATCH: i64 = 500;
/// Events worth a push to a recipient with no socket: what they must act
/// on (a mitra's new offer or extension request) or would want to know at
/// once.
const PUSHED_EVENTS: [&str; 5] = [
    "chat.offered",
    "chat.accepted",
    "chat.ending_soon",
    "extension.requested",
    "extension.accepted",
];

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
                let chat_id = event
                    .data
                    .get("chat_id")
                    .and_then(|id| id.as_str()?.parse().ok());
                for user in event.recipients {
                    match chat_id.filter(|_| PUSHED_EVENTS.contains(&event.name.as_str())) {
                        Some(chat_id) => hub.send_or_push(
                            frame.clone(),
                            Notification {
                                user,
                                chat_id,
                                kind: PushKind::Event(event.name.clone()),
                            },
                        ),
                        None => hub.send_to(user, frame.clone()),
                    }
                }
            }
            Ok(())
        }
    });
}
