//! Live events: the outbox rows the apps hear about, each relayed once to
//! the sockets of the people it concerns. Which instance relays a row does
//! not matter (it is claimed with `FOR UPDATE SKIP LOCKED`); the frames
//! cross instances like messages do. An event names the chat, the mitra and
//! the extension, never the customer, so the mitra may get it as is.

use serde_json::Value;
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use crate::Role;

/// An event to pass on, and to whom.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// The outbox id: increasing, and the same on every delivery (apps
    /// drop ids they have seen).
    pub id: i64,
    pub name: String,
    pub data: Value,
    /// Who hears of it, and as which side of the chat.
    pub recipients: Vec<(Uuid, Role)>,
}

#[derive(FromRow)]
struct Claimed {
    id: i64,
    topic: String,
    payload: Value,
    customer_id: Option<Uuid>,
    chat_mitra_id: Option<Uuid>,
}

/// Who hears of an event: the chat's customer, and the mitra it names (an
/// offer's mitra, who may not serve the chat) or else the chat's mitra.
/// Reports are the CC's alone.
fn recipients(row: &Claimed) -> Vec<(Uuid, Role)> {
    if !(row.topic.starts_with("chat.") || row.topic.starts_with("extension.")) {
        return Vec::new();
    }
    let named = row
        .payload
        .get("mitra_id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse().ok());
    let mitra = named.or(row.chat_mitra_id);
    let customer = row.customer_id.map(|id| (id, Role::Customer));
    customer
        .into_iter()
        .chain(mitra.map(|id| (id, Role::Mitra)))
        .collect()
}

/// Claims up to `limit` events not yet relayed, oldest first, marking
/// them relayed in the same statement.
pub async fn claim_live_events(db: &PgPool, limit: i64) -> Result<Vec<LiveEvent>, sqlx::Error> {
    let rows: Vec<Claimed> = sqlx::query_as(
        "WITH claimed AS (
             UPDATE outbox SET relayed_at = now()
             WHERE id IN (SELECT id FROM outbox WHERE relayed_at IS NULL AND topic <> 'order.paid'
                          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING id, topic, aggregate_id, payload)
         SELECT e.id, e.topic, e.payload, c.customer_id, c.mitra_id AS chat_mitra_id
         FROM claimed e LEFT JOIN chats c ON c.id = e.aggregate_id
         ORDER BY e.id",
    )
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| LiveEvent {
            recipients: recipients(&row),
            id: row.id,
            name: row.topic,
            data: row.payload,
        })
        .collect())
}
