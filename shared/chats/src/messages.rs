//! Messages: stored before they are acknowledged, once per
//! (chat, sender, client_msg_id), readable by the chat's two participants.
//! A send is one statement: it locks the chat row (so ids within a chat
//! commit in order), checks the sender takes part and the chat is active,
//! and inserts; the socket's per-message cost is that one round trip.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use sqlx::{FromRow, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{ChatError, ChatId};

/// Which side of a chat someone is on: what the other side sees instead of
/// a user id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Mitra,
}

/// For reading a `sender` column (its CHECK allows no other value).
impl From<String> for Role {
    fn from(role: String) -> Self {
        Self::parse(&role)
    }
}

impl Role {
    fn parse(role: &str) -> Self {
        if role == "mitra" {
            Self::Mitra
        } else {
            Self::Customer
        }
    }
}

/// RFC 3339 in UTC with milliseconds, the form the apps and the reference
/// relay use.
fn millis<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// A stored message, as both sides see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"id": 1042, "chat_id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f", "sender": "customer",
    "body": "Halo kak", "sent_at": "2026-11-26T08:06:01.123Z"}))]
pub struct Message {
    /// The server's id: increasing within a chat; `after` in history and
    /// `resume` takes it.
    pub id: i64,
    #[schema(value_type = Uuid)]
    pub chat_id: ChatId,
    pub sender: Role,
    pub body: String,
    #[serde(serialize_with = "millis")]
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: DateTime<Utc>,
}

#[derive(FromRow, Clone)]
struct MessageRow {
    id: i64,
    chat_id: Uuid,
    sender: String,
    body: String,
    created_at: DateTime<Utc>,
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        Self {
            id: row.id,
            chat_id: ChatId(row.chat_id),
            sender: Role::parse(&row.sender),
            body: row.body,
            sent_at: row.created_at,
        }
    }
}

/// A message accepted for a chat: what to acknowledge, and to whom it goes.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    /// The other participant's user id, for delivery (never shown).
    pub recipient: Uuid,
}

#[derive(FromRow)]
struct SendRow {
    sender: Option<String>,
    status: String,
    recipient: Option<Uuid>,
    id: Option<i64>,
    body: Option<String>,
    created_at: Option<DateTime<Utc>>,
}

/// Stores a message from `sender` in an active chat they take part in. A
/// resend with the same `client_msg_id` returns the stored message (even
/// after the chat ended) and stores nothing. `body` and `client_msg_id`
/// are checked by the caller (the table refuses others).
pub async fn send(
    db: &PgPool,
    sender: Uuid,
    chat: ChatId,
    client_msg_id: &str,
    body: &str,
) -> Result<Sent, ChatError> {
    let row: Option<SendRow> = sqlx::query_as(
        "WITH chat AS (
             SELECT id, status, customer_id, mitra_id,
                    CASE WHEN customer_id = $2 THEN 'customer'
                         WHEN mitra_id = $2 AND status <> 'offered' THEN 'mitra' END AS sender
             FROM chats WHERE id = $1 FOR NO KEY UPDATE),
         stored AS (
             INSERT INTO chat_messages (chat_id, sender, sender_id, client_msg_id, body)
             SELECT id, sender, $2, $3, $4 FROM chat WHERE sender IS NOT NULL AND status = 'active'
             ON CONFLICT (chat_id, sender_id, client_msg_id) DO NOTHING
             RETURNING id, body, created_at)
         SELECT c.sender, c.status,
                CASE WHEN c.sender = 'customer' THEN c.mitra_id ELSE c.customer_id END AS recipient,
                s.id, s.body, s.created_at
         FROM chat c LEFT JOIN stored s ON true",
    )
    .bind(chat.0)
    .bind(sender)
    .bind(client_msg_id)
    .bind(body)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Err(ChatError::NotFound);
    };
    let (Some(role), Some(recipient)) = (row.sender.as_deref().map(Role::parse), row.recipient)
    else {
        return Err(ChatError::NotFound);
    };
    if let (Some(id), Some(body), Some(created_at)) = (row.id, row.body, row.created_at) {
        return Ok(Sent {
            message: Message {
                id,
                chat_id: chat,
                sender: role,
                body,
                sent_at: created_at,
            },
            recipient,
        });
    }
    let stored: Option<MessageRow> = sqlx::query_as(
        "SELECT id, chat_id, sender, body, created_at FROM chat_messages
         WHERE chat_id = $1 AND sender_id = $2 AND client_msg_id = $3",
    )
    .bind(chat.0)
    .bind(sender)
    .bind(client_msg_id)
    .fetch_optional(db)
    .await?;
    match stored {
        Some(stored) => Ok(Sent {
            message: stored.into(),
            recipient,
        }),
        None if row.status != "active" => Err(ChatError::NotActive),
        // An active chat refused the insert only for a conflict, and the
        // chat lock let the conflicting send commit first: its row exists.
        None => Err(ChatError::Database(sqlx::Error::RowNotFound)),
    }
}

/// A message waiting to be stored, for [`send_batch`].
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub sender: Uuid,
    pub chat: ChatId,
    pub client_msg_id: String,
    pub body: String,
}

#[derive(FromRow)]
struct BatchRow {
    #[sqlx(flatten)]
    message: MessageRow,
    sender_id: Uuid,
    client_msg_id: String,
    recipient: Uuid,
}

/// Stores many messages in one statement and one commit (a group commit:
/// under load the per-message cost of a round trip, a statement and a WAL
/// flush is shared). Each chat row is locked as in [`send`], in chat id
/// order (two batches wait for each other, never deadlock), and each
/// chat's messages get ids in the order given. Returns, per message, what
/// was stored now; `None` where nothing was (a resend, not a participant,
/// a chat not active): [`send`] tells which, and answers a resend with the
/// stored message. The chat rows are reached by primary key one by one
/// whatever the table's statistics say.
pub async fn send_batch(db: &PgPool, batch: &[Outgoing]) -> Result<Vec<Option<Sent>>, sqlx::Error> {
    let mut chats = Vec::with_capacity(batch.len());
    let mut senders = Vec::with_capacity(batch.len());
    let mut client_msg_ids = Vec::with_capacity(batch.len());
    let mut bodies = Vec::with_capacity(batch.len());
    for outgoing in batch {
        chats.push(outgoing.chat.0);
        senders.push(outgoing.sender);
        client_msg_ids.push(outgoing.client_msg_id.as_str());
        bodies.push(outgoing.body.as_str());
    }
    let rows: Vec<BatchRow> = sqlx::query_as(
        "WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY
                 AS i (chat_id, sender_id, client_msg_id, body, n)),
         chat AS (
             SELECT c.* FROM (SELECT DISTINCT chat_id FROM input ORDER BY chat_id) i,
                 LATERAL (SELECT id, customer_id, mitra_id, status FROM chats WHERE id = i.chat_id
                          FOR NO KEY UPDATE) c),
         stored AS (
             INSERT INTO chat_messages (chat_id, sender, sender_id, client_msg_id, body)
             SELECT i.chat_id, CASE WHEN c.customer_id = i.sender_id THEN 'customer' ELSE 'mitra' END,
                    i.sender_id, i.client_msg_id, i.body
             FROM input i JOIN chat c ON c.id = i.chat_id
             WHERE c.status = 'active' AND i.sender_id IN (c.customer_id, c.mitra_id)
             ORDER BY i.n
             ON CONFLICT (chat_id, sender_id, client_msg_id) DO NOTHING
             RETURNING id, chat_id, sender, sender_id, client_msg_id, body, created_at)
         SELECT s.*, CASE WHEN s.sender = 'customer' THEN c.mitra_id ELSE c.customer_id END AS recipient
         FROM stored s JOIN chat c ON c.id = s.chat_id",
    )
    .bind(&chats)
    .bind(&senders)
    .bind(&client_msg_ids)
    .bind(&bodies)
    .fetch_all(db)
    .await?;
    let stored: std::collections::HashMap<(Uuid, Uuid, &str), Sent> = rows
        .iter()
        .map(|row| {
            let sent = Sent {
                message: row.message.clone().into(),
                recipient: row.recipient,
            };
            (
                (
                    row.message.chat_id,
                    row.sender_id,
                    row.client_msg_id.as_str(),
                ),
                sent,
            )
        })
        .collect();
    // A message given twice in one batch was stored once: both get it.
    Ok(batch
        .iter()
        .map(|outgoing| {
            stored
                .get(&(
                    outgoing.chat.0,
                    outgoing.sender,
                    outgoing.client_msg_id.as_str(),
                ))
                .cloned()
        })
        .collect())
}

/// The participant's role in the chat and the chat's condition for them
/// (`customer_id = $2` or the serving mitra).
const PARTICIPANT: &str = "(c.customer_id = $2 OR (c.mitra_id = $2 AND c.status <> 'offered'))";

/// Up to `limit` messages of the chat after `after`, oldest first; `None`
/// when the caller does not take part in it.
pub async fn history(
    db: &PgPool,
    participant: Uuid,
    chat: ChatId,
    after: i64,
    limit: u32,
) -> Result<Option<Vec<Message>>, sqlx::Error> {
    let taking_part: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM chats c WHERE c.id = $1 AND {PARTICIPANT})"
    )))
    .bind(chat.0)
    .bind(participant)
    .fetch_one(db)
    .await?;
    if !taking_part {
        return Ok(None);
    }
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT id, chat_id, sender, body, created_at FROM chat_messages
         WHERE chat_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(chat.0)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(Some(rows.into_iter().map(Into::into).collect()))
}

/// A read receipt to pass on: who read, up to which message, and whom to
/// tell.
#[derive(Debug, Clone, Copy)]
pub struct ReadReceipt {
    pub chat_id: ChatId,
    pub reader: Role,
    pub up_to: i64,
    pub other: Uuid,
}

/// Moves the reader's last-read pointer forward to `up_to` (never back).
/// `None` when the caller does not take part in the chat.
pub async fn mark_read(
    db: &PgPool,
    reader: Uuid,
    chat: ChatId,
    up_to: i64,
) -> Result<Option<ReadReceipt>, sqlx::Error> {
    let row: Option<(String, Option<Uuid>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH me AS (
             SELECT c.id, CASE WHEN c.customer_id = $2 THEN 'customer' ELSE 'mitra' END AS reader,
                    CASE WHEN c.customer_id = $2 THEN c.mitra_id ELSE c.customer_id END AS other
             FROM chats c WHERE c.id = $1 AND {PARTICIPANT})
         INSERT INTO chat_reads AS r (chat_id, reader, last_read_id)
         SELECT id, reader, $3 FROM me
         ON CONFLICT (chat_id, reader) DO UPDATE
             SET last_read_id = greatest(r.last_read_id, EXCLUDED.last_read_id), updated_at = now()
         RETURNING reader, (SELECT other FROM me), last_read_id"
    )))
    .bind(chat.0)
    .bind(reader)
    .bind(up_to)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|(reader, other, up_to)| {
        other.map(|other| ReadReceipt {
            chat_id: chat,
            reader: Role::parse(&reader),
            up_to,
            other,
        })
    }))
}

/// The newest message id of all: a socket's floor for catching up (what
/// came before it connected is the app's to resume).
pub async fn newest_message_id(db: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM chat_messages")
        .fetch_one(db)
        .await
}

/// Messages from the other side of the user's active chats newer than
/// `floor` and than what the socket has (`seen`: chat → newest id it
/// holds), oldest first, at most `limit`: a socket's catch-up while the
/// fan-out is down.
pub async fn missed(
    db: &PgPool,
    user: Uuid,
    floor: i64,
    seen: &[(ChatId, i64)],
    limit: u32,
) -> Result<Vec<Message>, sqlx::Error> {
    let (chats, ids): (Vec<Uuid>, Vec<i64>) = seen.iter().map(|(c, id)| (c.0, *id)).unzip();
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT m.id, m.chat_id, m.sender, m.body, m.created_at
         FROM chats c
         JOIN chat_messages m ON m.chat_id = c.id
         LEFT JOIN unnest($3::uuid[], $4::bigint[]) AS s(chat_id, seen) ON s.chat_id = c.id
         WHERE (c.customer_id = $1 OR c.mitra_id = $1) AND c.status = 'active'
           AND m.sender_id <> $1 AND m.id > greatest($2, coalesce(s.seen, 0))
         ORDER BY m.id LIMIT $5",
    )
    .bind(user)
    .bind(floor)
    .bind(chats)
    .bind(ids)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The other participant of a chat the user takes part in, and the user's
/// role there; `None` otherwise. Participants never change once a chat is
/// accepted, so a socket may keep this.
pub async fn counterpart(
    db: &PgPool,
    user: Uuid,
    chat: ChatId,
) -> Result<Option<(Role, Uuid)>, sqlx::Error> {
    let row: Option<(String, Option<Uuid>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT CASE WHEN c.customer_id = $2 THEN 'customer' ELSE 'mitra' END,
                CASE WHEN c.customer_id = $2 THEN c.mitra_id ELSE c.customer_id END
         FROM chats c WHERE c.id = $1 AND {PARTICIPANT} AND c.status IN ('active', 'ended')"
    )))
    .bind(chat.0)
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|(role, other)| other.map(|other| (Role::parse(&role), other))))
}
