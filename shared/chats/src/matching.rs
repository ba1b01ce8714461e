//! Matching: a paid order becomes a chat, and a chat is offered to the
//! next mitra who may have it.
//!
//! The rule for "anyone": among available mitras never offered this chat,
//! the least loaded (fewest held customers), then the longest idle (the
//! earliest of: when they last started a chat, or came online if later),
//! then by id. A chosen mitra comes first; others only when the order
//! allows a fallback. Every offer takes the mitra's capacity lock and
//! re-checks availability under it (`halo_mitras`), so capacity holds
//! however many instances match at once.

use chrono::{DateTime, Utc};
use halo_knobs::Knobs;
use serde_json::json;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

/// Undelivered `order.paid` rows one dispatch round takes at most.
const DISPATCH_BATCH: usize = 100;
/// Anyone-candidates tried per offer before the chat waits for the next
/// round.
const CANDIDATES: i64 = 10;

/// The columns matching needs.
#[derive(FromRow)]
pub(crate) struct Matchable {
    pub id: Uuid,
    pub order_id: Uuid,
    pub chosen_mitra_id: Option<Uuid>,
    pub allow_fallback: bool,
    pub duration_minutes: i32,
    pub match_deadline: DateTime<Utc>,
}

pub(crate) const MATCHABLE_COLUMNS: &str =
    "id, order_id, chosen_mitra_id, allow_fallback, duration_minutes, match_deadline";

/// Turns paid orders into chats, each offered at once when someone can
/// take it, and applies paid extension orders to their chats. Each `order.paid` row is claimed with `FOR UPDATE SKIP LOCKED`
/// and marked delivered in the transaction that creates its chat, so
/// several instances dispatching at once make one chat per order. Returns
/// how many it handled.
pub async fn dispatch_paid_orders(db: &PgPool, knobs: &Knobs) -> Result<usize, sqlx::Error> {
    let mut handled = 0;
    while handled < DISPATCH_BATCH {
        let mut tx = db.begin().await?;
        let claimed: Option<(i64, Uuid, String)> = sqlx::query_as(
            "SELECT e.id, e.aggregate_id, o.kind FROM outbox e JOIN orders o ON o.id = e.aggregate_id
             WHERE e.topic = 'order.paid' AND e.delivered_at IS NULL
             ORDER BY e.id LIMIT 1 FOR UPDATE OF e SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some((event_id, order_id, kind)) = claimed else {
            break;
        };
        if kind == "extension" {
            crate::extensions::apply_payment(&mut tx, knobs, order_id).await?;
        } else if let Some(chat) = new_chat(&mut tx, knobs, order_id).await? {
            offer_next(&mut tx, knobs, &chat).await?;
        }
        sqlx::query("UPDATE outbox SET delivered_at = now() WHERE id = $1")
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        handled += 1;
    }
    Ok(handled)
}

/// The chat of a paid order, `offered` to nobody yet; `None` when the order
/// has one already or is no longer paid.
async fn new_chat(
    tx: &mut PgConnection,
    knobs: &Knobs,
    order_id: Uuid,
) -> Result<Option<Matchable>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO chats (id, order_id, customer_id, chosen_mitra_id, allow_fallback,
                            duration_minutes, status, match_deadline)
         SELECT $1, o.id, o.customer_id, o.mitra_id, o.allow_fallback, o.duration_minutes,
                'offered', now() + make_interval(secs => $3)
         FROM orders o WHERE o.id = $2 AND o.status = 'paid'
         ON CONFLICT (order_id) DO NOTHING
         RETURNING {MATCHABLE_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(order_id)
    .bind(knobs.match_wait_seconds as f64)
    .fetch_optional(tx)
    .await
}

/// Offers a chat that has no open offer to the next mitra who may have
/// it; with nobody left to ask, gives it up (unserved, order owed a
/// refund); with nobody free now, leaves it waiting for a later round
/// until its match deadline. The caller holds the chat's row.
pub(crate) async fn offer_next(
    tx: &mut PgConnection,
    knobs: &Knobs,
    chat: &Matchable,
) -> Result<(), sqlx::Error> {
    let mut chosen_open = None;
    if let Some(chosen) = chat.chosen_mitra_id
        && !offered_before(tx, chat.id, chosen).await?
    {
        chosen_open = Some(chosen);
        if halo_mitras::lock_if_available(tx, knobs, chosen).await? {
            return offer(tx, knobs, chat, chosen).await;
        }
    }
    let anyone_allowed = chat.chosen_mitra_id.is_none() || chat.allow_fallback;
    if anyone_allowed {
        for mitra in anyone(tx, knobs, chat.id).await? {
            if halo_mitras::try_lock_if_available(tx, knobs, mitra).await? {
                return offer(tx, knobs, chat, mitra).await;
            }
        }
    }
    let nobody_left = chosen_open.is_none() && !anyone_allowed;
    if nobody_left || chat.match_deadline <= Utc::now() {
        return unserve(tx, chat).await;
    }
    Ok(())
}

async fn offered_before(
    tx: &mut PgConnection,
    chat: Uuid,
    mitra: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM chat_offers WHERE chat_id = $1 AND mitra_id = $2)",
    )
    .bind(chat)
    .bind(mitra)
    .fetch_one(tx)
    .await
}

/// Available mitras never offered this chat, best first, ranked all at
/// once by `mitra_ranks` (each pick is re-checked under the mitra's lock
/// anyway).
async fn anyone(
    tx: &mut PgConnection,
    knobs: &Knobs,
    chat: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT r.mitra_id FROM mitra_ranks($2, $3) r
         JOIN mitra_presence p ON p.mitra_id = r.mitra_id
         WHERE r.rank = 0
           AND NOT EXISTS (SELECT 1 FROM chat_offers o WHERE o.chat_id = $1 AND o.mitra_id = r.mitra_id)
         ORDER BY r.load,
                  greatest(p.status_changed_at,
                           (SELECT max(c.started_at) FROM chats c WHERE c.mitra_id = r.mitra_id)),
                  r.mitra_id
         LIMIT $4",
    )
    .bind(chat)
    .bind(knobs.mitra_stale_after_seconds as f64)
    .bind(knobs.max_customers_per_mitra)
    .bind(CANDIDATES)
    .fetch_all(tx)
    .await
}

async fn offer(
    tx: &mut PgConnection,
    knobs: &Knobs,
    chat: &Matchable,
    mitra: Uuid,
) -> Result<(), sqlx::Error> {
    let expires_at: DateTime<Utc> = sqlx::query_scalar(
        "UPDATE chats SET mitra_id = $2, offer_expires_at = now() + make_interval(secs => $3),
                          updated_at = now()
         WHERE id = $1 RETURNING offer_expires_at",
    )
    .bind(chat.id)
    .bind(mitra)
    .bind(knobs.mitra_accept_timeout_seconds as f64)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO chat_offers (chat_id, mitra_id) VALUES ($1, $2)")
        .bind(chat.id)
        .bind(mitra)
        .execute(&mut *tx)
        .await?;
    emit(
        tx,
        "chat.offered",
        chat.id,
        json!({"chat_id": chat.id, "mitra_id": mitra, "duration_minutes": chat.duration_minutes,
               "offer_expires_at": expires_at}),
    )
    .await
}

async fn unserve(tx: &mut PgConnection, chat: &Matchable) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE chats SET status = 'unserved', mitra_id = NULL, offer_expires_at = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(chat.id)
    .execute(&mut *tx)
    .await?;
    halo_orders::mark_refund_required(tx, chat.order_id).await?;
    emit(
        tx,
        "chat.unserved",
        chat.id,
        json!({"chat_id": chat.id, "order_id": chat.order_id}),
    )
    .await
}

/// Writes an event in the caller's transaction. Payloads name the chat and
/// the mitra, never the customer: a mitra may be their audience.
pub(crate) async fn emit(
    tx: &mut PgConnection,
    topic: &str,
    chat: Uuid,
    payload: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO outbox (topic, aggregate_id, payload) VALUES ($1, $2, $3)")
        .bind(topic)
        .bind(chat)
        .bind(payload)
        .execute(tx)
        .await?;
    Ok(())
}
