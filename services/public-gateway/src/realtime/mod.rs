//! Realtime (issue 11): the socket, its frames, and the fan-out of frames
//! between gateway instances.

pub mod frames;
pub mod hub;
pub mod socket;
pub mod tickets;
mod writer;

pub use hub::Hub;
pub use writer::MessageWriter;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use halo_chats::Role;
use halo_push::{Notification, PushKind};
use sqlx::PgPool;

use crate::services::timers::spawn_every;
use frames::ServerFrame;

/// How often each instance looks for events to relay: chat events reach
/// the apps at most this late (plus the fan-out's hop).
const RELAY_EVERY: Duration = Duration::from_millis(250);
/// Events one look relays at most; the next takes the rest.
const RELAY_BATCH: i64 = 500;
/// Events worth a push to a recipient with no socket, and to which side:
/// what they must act on (a mitra's new offer or extension request) or
/// would want to know at once. Never the side whose own action it was.
fn pushed_to(event: &str, side: Role) -> bool {
    match event {
        "chat.offered" | "extension.requested" => side == Role::Mitra,
        "chat.accepted" | "extension.accepted" => side == Role::Customer,
        "chat.ending_soon" => true,
        _ => false,
    }
}

/// How often the instance reads the newest message id ([`Floor`]).
const FLOOR_EVERY: Duration = Duration::from_secs(2);

/// The newest message id of all, as of at most [`FLOOR_EVERY`] ago: a new
/// socket's floor for catching up (what came before it connected is the
/// app's to resume). One query per instance every 2 s instead of one per
/// socket opened, which matters when every app reconnects at once after a
/// deploy. Slightly old is harmless: catch-up then also sends the last
/// seconds' messages, which the app drops by id. Until the first read it
/// is `i64::MAX` (no catch-up), as when the read fails.
#[derive(Clone)]
pub struct Floor(Arc<AtomicI64>);

impl Floor {
    /// Starts reading the newest id every 2 s; stops once `alive` is gone.
    pub fn start(db: PgPool, alive: Weak<()>) -> Self {
        let floor = Self(Arc::new(AtomicI64::new(i64::MAX)));
        let reading = floor.clone();
        spawn_every(FLOOR_EVERY, None, alive, "newest message id", move || {
            let (db, floor) = (db.clone(), reading.clone());
            async move {
                let newest = halo_chats::newest_message_id(&db).await?;
                floor.0.store(newest, Ordering::Relaxed);
                Ok(())
            }
        });
        floor
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

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
                for (user, side) in event.recipients {
                    match chat_id.filter(|_| pushed_to(&event.name, side)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_pushed_to_the_side_it_is_news_for_never_to_the_side_that_acted() {
        assert!(pushed_to("chat.offered", Role::Mitra));
        assert!(!pushed_to("chat.offered", Role::Customer));
        assert!(pushed_to("chat.accepted", Role::Customer));
        assert!(!pushed_to("chat.accepted", Role::Mitra));
        assert!(pushed_to("extension.requested", Role::Mitra));
        assert!(!pushed_to("extension.requested", Role::Customer));
        assert!(pushed_to("extension.accepted", Role::Customer));
        assert!(!pushed_to("extension.accepted", Role::Mitra));
        assert!(
            pushed_to("chat.ending_soon", Role::Customer)
                && pushed_to("chat.ending_soon", Role::Mitra)
        );
        assert!(!pushed_to("chat.ended", Role::Customer) && !pushed_to("chat.ended", Role::Mitra));
    }
}
