//! This instance's sockets, and the frames for their users from every
//! instance. With Valkey: one subscriber connection per instance,
//! subscribed to `halo.user.<id>` while that user has a socket here, and
//! one publisher; a frame for a user is published and every instance
//! holding a socket of theirs forwards it. Without Valkey (one instance):
//! frames go straight to the local sockets.
//!
//! Postgres is the truth and this only the doorbell: a frame lost while
//! Valkey is down is a stored message the app gets on `resume`, and
//! sockets catch up by themselves while the link is down (see `socket`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use halo_push::{Notification, Pusher};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{Notify, broadcast, mpsc};
use uuid::Uuid;

/// Frames waiting for one socket; a socket this far behind is closed (its
/// app reconnects and resumes) rather than buffered without bound.
const SOCKET_BACKLOG: usize = 256;
/// Publishes waiting for Valkey; past this (Valkey stalled) new ones are
/// dropped: the messages are stored and reach the apps on resume.
const PUBLISH_BACKLOG: usize = 10_000;
/// Frames one pipelined round trip to Valkey carries at most.
const PUBLISH_BATCH: usize = 256;
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// A socket is pinged once per this many seconds, each on its own second
/// of the period: pings spread evenly over the instance's sockets.
pub const PING_EVERY_SECONDS: u64 = 25;
/// While the fan-out is down, how often sockets look in Postgres for
/// messages they missed.
const CATCH_UP_EVERY: Duration = Duration::from_secs(2);
const RETRY_CONNECT_EVERY: Duration = Duration::from_secs(1);

fn channel(user: Uuid) -> String {
    format!("halo.user.{user}")
}

/// Each user's sockets here: an id and its inbox.
type Sockets = HashMap<Uuid, Vec<(u64, Arc<Inbox>)>>;

/// The frames waiting for one socket. Not a tokio channel: most sockets sit
/// idle, and a bounded channel's first block (32 slots, cache-padded
/// counters) is most of a kilobyte each; an empty inbox holds no buffer.
#[derive(Default)]
struct Inbox {
    frames: Mutex<VecDeque<Arc<str>>>,
    ready: Notify,
    /// Set when the socket fell [`SOCKET_BACKLOG`] frames behind.
    overflowed: AtomicBool,
}

impl Inbox {
    /// Queues a frame; false (and the socket is told) when it is too far
    /// behind to take more.
    fn push(&self, frame: Arc<str>) -> bool {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        if frames.len() >= SOCKET_BACKLOG {
            self.overflowed.store(true, Ordering::Relaxed);
        } else {
            frames.push_back(frame);
        }
        drop(frames);
        self.ready.notify_one();
        !self.overflowed.load(Ordering::Relaxed)
    }

    /// The next frame, waiting for one; `None` once the socket overflowed.
    /// Cancel-safe: a frame is taken only in the poll that returns it.
    async fn next(&self) -> Option<Arc<str>> {
        loop {
            if self.overflowed.load(Ordering::Relaxed) {
                return None;
            }
            let next = self
                .frames
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front();
            if next.is_some() {
                return next;
            }
            // `notify_one` keeps a permit when nobody waits: a frame pushed
            // between the look above and this wait is not missed.
            self.ready.notified().await;
        }
    }
}

/// A handle to the hub; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    sockets: Mutex<Sockets>,
    next_socket: AtomicU64,
    valkey: Option<Valkey>,
    /// The instance's clock for its sockets, instead of timers in every
    /// socket (most sit idle; a timer is a heap entry each): one sender
    /// per second of the ping period, a socket listening to its own.
    pings: Vec<broadcast::Sender<()>>,
    /// Fires every [`CATCH_UP_EVERY`] while the link to Valkey is down, and
    /// when it comes back: frames may have been missed.
    catch_ups: broadcast::Sender<()>,
    pusher: Pusher,
}

struct Valkey {
    subscriptions: mpsc::UnboundedSender<Subscription>,
    publish: mpsc::Sender<Publish>,
    linked: AtomicBool,
}

/// A frame to publish, and the push to send if no instance has a socket
/// of its user.
struct Publish {
    channel: String,
    frame: Arc<str>,
    push: Option<Notification>,
}

enum Subscription {
    Add(Uuid),
    Remove(Uuid),
}

/// A socket's place in the hub: frames for its user come from
/// [`Registration::next_frame`]. Dropping it leaves the hub (and
/// unsubscribes the user's channel when it was their last socket here).
pub struct Registration {
    hub: Hub,
    user: Uuid,
    id: u64,
    inbox: Arc<Inbox>,
}

impl Registration {
    /// Fires once every [`PING_EVERY_SECONDS`], on this socket's own second.
    pub fn pings(&self) -> broadcast::Receiver<()> {
        self.hub.inner.pings[(self.id % PING_EVERY_SECONDS) as usize].subscribe()
    }

    /// The next frame for the socket's user, waiting for one; `None` when
    /// the socket fell too far behind (its app should reconnect and
    /// resume). Cancel-safe.
    pub async fn next_frame(&self) -> Option<Arc<str>> {
        self.inbox.next().await
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.leave(self.user, self.id);
    }
}

impl Hub {
    /// A hub over Valkey at `redis_url`, or for this instance alone;
    /// `pusher` reaches users with no socket anywhere.
    pub fn new(redis_url: Option<&str>, pusher: Pusher) -> anyhow::Result<Self> {
        // A socket that misses ticks (busy with a long resume) sees `Lagged`
        // and acts once: one slot is enough.
        let pings = (0..PING_EVERY_SECONDS)
            .map(|_| broadcast::channel(1).0)
            .collect();
        let (catch_ups, _) = broadcast::channel(1);
        let (valkey, client) = match redis_url {
            None => (None, None),
            Some(url) => {
                let client = redis::Client::open(url).map_err(|_| {
                    anyhow::anyhow!("REDIS_URL is not a valid redis:// or valkey:// URL")
                })?;
                let (subscriptions, subscription_rx) = mpsc::unbounded_channel();
                let (publish, publish_rx) = mpsc::channel(PUBLISH_BACKLOG);
                let valkey = Valkey {
                    subscriptions,
                    publish,
                    linked: AtomicBool::new(false),
                };
                (Some(valkey), Some((client, subscription_rx, publish_rx)))
            }
        };
        let hub = Self {
            inner: Arc::new(Inner {
                sockets: Mutex::default(),
                next_socket: AtomicU64::new(0),
                valkey,
                pings,
                catch_ups,
                pusher: pusher.clone(),
            }),
        };
        tokio::spawn(keep_time(Arc::downgrade(&hub.inner)));
        if let Some((client, subscription_rx, publish_rx)) = client {
            tokio::spawn(subscribe(
                Arc::downgrade(&hub.inner),
                client.clone(),
                subscription_rx,
            ));
            tokio::spawn(publish_forever(client, publish_rx, pusher));
        }
        Ok(hub)
    }

    /// Fires while the link to Valkey is down and when it comes back:
    /// frames from other instances may have been missed.
    pub fn catch_ups(&self) -> broadcast::Receiver<()> {
        self.inner.catch_ups.subscribe()
    }

    /// Registers a socket of `user`.
    pub fn join(&self, user: Uuid) -> Registration {
        let id = self.inner.next_socket.fetch_add(1, Ordering::Relaxed);
        let inbox = Arc::new(Inbox::default());
        let first = {
            let mut sockets = self.lock();
            let mine = sockets.entry(user).or_default();
            mine.push((id, inbox.clone()));
            mine.len() == 1
        };
        if first && let Some(valkey) = &self.inner.valkey {
            let _ = valkey.subscriptions.send(Subscription::Add(user));
        }
        Registration {
            hub: self.clone(),
            user,
            id,
            inbox,
        }
    }

    fn leave(&self, user: Uuid, id: u64) {
        let last = {
            let mut sockets = self.lock();
            let Some(mine) = sockets.get_mut(&user) else {
                return;
            };
            mine.retain(|(socket, _)| *socket != id);
            let last = mine.is_empty();
            if last {
                sockets.remove(&user);
            }
            last
        };
        if last && let Some(valkey) = &self.inner.valkey {
            let _ = valkey.subscriptions.send(Subscription::Remove(user));
        }
    }

    /// Sends `frame` to every socket of `user` on every instance, without
    /// waiting: through Valkey when there is one (the order of one
    /// instance's frames is kept), else to this instance's sockets.
    pub fn send_to(&self, user: Uuid, frame: Arc<str>) {
        self.send(user, frame, None);
    }

    /// As `send_to`, and when no instance holds a socket of the user (or
    /// Valkey cannot say), `push` goes to their devices instead.
    pub fn send_or_push(&self, frame: Arc<str>, push: Notification) {
        self.send(push.user, frame, Some(push));
    }

    fn send(&self, user: Uuid, frame: Arc<str>, push: Option<Notification>) {
        match &self.inner.valkey {
            Some(valkey) => {
                let publish = Publish {
                    channel: channel(user),
                    frame,
                    push,
                };
                if let Err(full) = valkey.publish.try_send(publish) {
                    tracing::debug!("publish backlog full; the frame waits for a resume");
                    if let Some(push) = full.into_inner().push {
                        self.inner.pusher.notify(push);
                    }
                }
            }
            None => {
                if self.inner.deliver(user, &frame) == 0
                    && let Some(push) = push
                {
                    self.inner.pusher.notify(push);
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sockets> {
        self.inner
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// Whether frames from other instances reach this one now. False while
    /// Valkey is down; always true without Valkey (there are no others).
    fn linked(&self) -> bool {
        self.valkey
            .as_ref()
            .is_none_or(|v| v.linked.load(Ordering::Relaxed))
    }

    /// Hands a frame to each local socket of `user`; a socket whose backlog
    /// is full is dropped from the hub, which closes it. Returns how many
    /// sockets took it.
    fn deliver(&self, user: Uuid, frame: &Arc<str>) -> usize {
        let mut sockets = self
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(mine) = sockets.get_mut(&user) else {
            return 0;
        };
        mine.retain(|(_, inbox)| inbox.push(frame.clone()));
        mine.len()
    }

    fn users(&self) -> Vec<Uuid> {
        self.sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .keys()
            .copied()
            .collect()
    }
}

/// The sockets' clock, for as long as the hub lives: each second the
/// sockets of that second of the ping period are told to ping, and every
/// [`CATCH_UP_EVERY`] while the fan-out is down all are told to catch up.
async fn keep_time(hub: std::sync::Weak<Inner>) {
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    let catch_up_seconds = CATCH_UP_EVERY.as_secs();
    for second in 0u64.. {
        every_second.tick().await;
        let Some(inner) = hub.upgrade() else { return };
        let _ = inner.pings[(second % PING_EVERY_SECONDS) as usize].send(());
        if second % catch_up_seconds == 0 && !inner.linked() {
            let _ = inner.catch_ups.send(());
        }
    }
}

/// The subscriber connection, for as long as the hub lives: (re)connects,
/// subscribes the channels of the users with sockets here, follows joins
/// and leaves, and delivers what arrives.
async fn subscribe(
    hub: std::sync::Weak<Inner>,
    client: redis::Client,
    mut changes: mpsc::UnboundedReceiver<Subscription>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut linked_before = false;
    loop {
        let Some(inner) = hub.upgrade() else { return };
        let connected = client.get_async_pubsub().await;
        if let Ok(pubsub) = connected {
            let (mut sink, mut stream) = pubsub.split();
            // Changes queued while unlinked are covered by subscribing the
            // users present now.
            while changes.try_recv().is_ok() {}
            let users = inner.users();
            let subscribed = if users.is_empty() {
                Ok(())
            } else {
                sink.subscribe(users.iter().map(|u| channel(*u)).collect::<Vec<_>>())
                    .await
            };
            if subscribed.is_ok() {
                let valkey = inner.valkey.as_ref().expect("a linked hub has Valkey");
                valkey.linked.store(true, Ordering::Relaxed);
                backoff = Duration::from_millis(100);
                if linked_before {
                    tracing::info!("valkey fan-out restored");
                    let _ = inner.catch_ups.send(());
                }
                linked_before = true;
                drop(inner);
                loop {
                    tokio::select! {
                        change = changes.recv() => {
                            let result = match change {
                                Some(Subscription::Add(user)) => sink.subscribe(channel(user)).await,
                                Some(Subscription::Remove(user)) => sink.unsubscribe(channel(user)).await,
                                None => return, // the hub is gone
                            };
                            if result.is_err() { break; }
                        }
                        message = stream.next() => {
                            let Some(message) = message else { break };
                            let Some(inner) = hub.upgrade() else { return };
                            let user = message.get_channel_name().strip_prefix("halo.user.")
                                .and_then(|id| id.parse::<Uuid>().ok());
                            if let (Some(user), Ok(frame)) = (user, message.get_payload::<String>()) {
                                inner.deliver(user, &Arc::from(frame));
                            }
                        }
                    }
                }
                let Some(inner) = hub.upgrade() else { return };
                if let Some(valkey) = &inner.valkey {
                    valkey.linked.store(false, Ordering::Relaxed);
                }
                tracing::warn!(
                    "valkey fan-out lost; sockets catch up from Postgres until it is back"
                );
            }
        } else {
            tracing::debug!("valkey unreachable; retrying");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RECONNECT_BACKOFF_MAX);
    }
}

/// Sends queued frames to Valkey in order, all that are waiting in one
/// pipelined round trip; what cannot be sent in time is dropped (its
/// message is stored; the app gets it on resume). A frame no instance took
/// (PUBLISH counts the subscribers), or one that could not be published,
/// becomes its push, if it has one.
async fn publish_forever(
    client: redis::Client,
    mut queue: mpsc::Receiver<Publish>,
    pusher: Pusher,
) {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(PUBLISH_TIMEOUT))
        .set_response_timeout(Some(PUBLISH_TIMEOUT));
    let mut connection: Option<ConnectionManager> = None;
    let mut failed_at: Option<tokio::time::Instant> = None;
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while queue.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        // While Valkey is unreachable, one connection attempt a second: the
        // frames in between are dropped at once instead of queueing.
        if connection.is_none() && failed_at.is_none_or(|at| at.elapsed() >= RETRY_CONNECT_EVERY) {
            connection = ConnectionManager::new_with_config(client.clone(), config.clone())
                .await
                .ok();
            failed_at = connection.is_none().then(tokio::time::Instant::now);
        }
        let listeners = match connection.as_mut() {
            Some(link) => {
                let mut pipeline = redis::pipe();
                for publish in &batch {
                    pipeline
                        .cmd("PUBLISH")
                        .arg(&publish.channel)
                        .arg(&*publish.frame);
                }
                pipeline.query_async::<Vec<i64>>(link).await.ok()
            }
            None => None,
        };
        if listeners.is_none() {
            tracing::debug!(
                frames = batch.len(),
                "frames could not be published; they wait for a resume"
            );
        }
        for (at, publish) in batch.drain(..).enumerate() {
            let taken = listeners
                .as_ref()
                .and_then(|counts| counts.get(at))
                .copied();
            if taken.unwrap_or(0) == 0
                && let Some(push) = publish.push
            {
                pusher.notify(push);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_socket_gets_its_frames_in_order_and_is_let_go_when_too_far_behind() {
        let inbox = Arc::new(Inbox::default());
        let waiting = tokio::spawn({
            let inbox = inbox.clone();
            async move { inbox.next().await }
        });
        tokio::task::yield_now().await;
        assert!(inbox.push(Arc::from("first")));
        assert_eq!(waiting.await.unwrap().as_deref(), Some("first"));

        for n in 0..SOCKET_BACKLOG {
            assert!(inbox.push(Arc::from(n.to_string())), "frame {n} fits");
        }
        assert_eq!(inbox.next().await.as_deref(), Some("0"));
        assert_eq!(inbox.next().await.as_deref(), Some("1"));
        assert!(
            inbox.push(Arc::from("a")) && inbox.push(Arc::from("b")),
            "two were taken: room for two"
        );
        assert!(!inbox.push(Arc::from("too many")), "a full backlog lets go");
        assert_eq!(inbox.next().await, None, "the socket is told to reconnect");
    }

    /// How many times `ticks` fired within `for_how_long`.
    async fn fired_within(ticks: &mut broadcast::Receiver<()>, for_how_long: Duration) -> usize {
        let until = tokio::time::Instant::now() + for_how_long;
        let mut fired = 0;
        while tokio::time::timeout_at(until, ticks.recv()).await.is_ok() {
            fired += 1;
        }
        fired
    }

    #[tokio::test]
    async fn sockets_are_pinged_on_seconds_of_their_own() {
        let hub = Hub::new(None, Pusher::off()).unwrap();
        let (first, second) = (hub.join(Uuid::new_v4()), hub.join(Uuid::new_v4()));
        let (mut first_pings, mut second_pings) = (first.pings(), second.pings());
        assert_eq!(
            fired_within(&mut first_pings, Duration::from_secs(3)).await,
            1,
            "once in three seconds: the hub's first second is the first socket's, and no other"
        );
        assert_eq!(
            fired_within(&mut second_pings, Duration::ZERO).await,
            1,
            "the second socket's own second came meanwhile"
        );
    }

    #[tokio::test]
    async fn sockets_catch_up_only_while_the_fan_out_is_down() {
        let alone = Hub::new(None, Pusher::off()).unwrap();
        // Nothing listens on port 9: the link never comes up.
        let unlinked = Hub::new(Some("redis://127.0.0.1:9"), Pusher::off()).unwrap();
        let (mut alone_catch_ups, mut unlinked_catch_ups) =
            (alone.catch_ups(), unlinked.catch_ups());
        let three_seconds = Duration::from_secs(3);
        let (alone_fired, unlinked_fired) = tokio::join!(
            fired_within(&mut alone_catch_ups, three_seconds),
            fired_within(&mut unlinked_catch_ups, three_seconds)
        );
        assert_eq!(alone_fired, 0, "one instance misses nothing");
        assert_eq!(unlinked_fired, 2, "every 2 s while down (at 0 and 2 s)");
    }

    #[tokio::test]
    async fn a_wait_given_up_takes_no_frame() {
        let inbox = Inbox::default();
        let gave_up = tokio::time::timeout(Duration::from_millis(10), inbox.next()).await;
        assert!(gave_up.is_err());
        assert!(inbox.push(Arc::from("kept")));
        assert_eq!(inbox.next().await.as_deref(), Some("kept"));
    }
}
