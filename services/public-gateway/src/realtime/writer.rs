//! The instance's message writer: every socket's messages go through one
//! queue, stored in batches (`halo_chats::send_batch`). A message that
//! finds the writer idle is stored at once, alone; while earlier batches
//! are being stored, the ones arriving meanwhile wait and go together. So
//! a quiet chat pays one round trip, and a busy instance one statement and
//! one commit per batch instead of per message.

use halo_chats::{ChatError, Outgoing, Sent};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

/// Messages one batch stores at most.
const MAX_BATCH: usize = 128;
/// Messages waiting for the writer; past this a sender waits for room.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Sent, ChatError>>;

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct MessageWriter {
    queue: mpsc::Sender<(Outgoing, Reply)>,
}

impl MessageWriter {
    /// Starts the writer; it stops when the last handle is dropped.
    pub fn start(db: PgPool) -> Self {
        let (queue, pending) = mpsc::channel(QUEUE);
        tokio::spawn(write_forever(db, pending));
        Self { queue }
    }

    /// Stores a message as `halo_chats::send` does, batched with others.
    pub async fn send(&self, outgoing: Outgoing) -> Result<Sent, ChatError> {
        // Only while the app shuts down is the writer gone.
        let gone = || ChatError::Database(sqlx::Error::PoolClosed);
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((outgoing, reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// One batch at a time: what arrives while a batch is being stored joins
/// the next. (Two at a time made batches contend for the same chats, each
/// holding its chat rows while it waited for the other's.)
async fn write_forever(db: PgPool, mut pending: mpsc::Receiver<(Outgoing, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        store(&db, std::mem::take(&mut batch)).await;
    }
}

/// Stores a batch and answers each sender. What the batch did not store (a
/// resend, a refusal), or a batch that failed as a whole (a lost
/// connection, a deadlock with another transaction ending several chats),
/// goes through the one-message path, which tells each sender exactly what
/// happened.
async fn store(db: &PgPool, batch: Vec<(Outgoing, Reply)>) {
    let (messages, replies): (Vec<Outgoing>, Vec<Reply>) = batch.into_iter().unzip();
    let stored = match halo_chats::send_batch(db, &messages).await {
        Ok(stored) => stored,
        Err(err) => {
            tracing::debug!(error = %err, "a message batch failed; storing one by one");
            vec![None; messages.len()]
        }
    };
    let mut rest = Vec::new();
    for ((outgoing, reply), stored) in messages.into_iter().zip(replies).zip(stored) {
        match stored {
            Some(sent) => {
                let _ = reply.send(Ok(sent));
            }
            None => rest.push(async move {
                let result = halo_chats::send(
                    db,
                    outgoing.sender,
                    outgoing.chat,
                    &outgoing.client_msg_id,
                    &outgoing.body,
                )
                .await;
                let _ = reply.send(result);
            }),
        }
    }
    futures_util::future::join_all(rest).await;
}
