//! Rows as the other features write them: mitras, customers, paid orders.

#![allow(dead_code)] // each test binary uses a different subset

use halo_knobs::Knobs;
use halo_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

pub async fn knobs(db: &TestDb) -> Knobs {
    Knobs::from_values(&db.knob_values().await).unwrap()
}

/// An active mitra, online and beating.
pub async fn mitra(db: &PgPool, n: u32) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "WITH mitra AS (INSERT INTO users (id, user_type, phone) VALUES ($1, 'mitra', $2) RETURNING id)
         INSERT INTO mitra_presence (mitra_id, status) SELECT id, 'online' FROM mitra",
    )
    .bind(id)
    .bind(format!("+62812000{n:05}"))
    .execute(db)
    .await
    .unwrap();
    id
}

/// A customer with a phone (which no mitra may ever see).
pub async fn customer(db: &PgPool, phone: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, user_type, phone) VALUES ($1, 'customer', $2)")
        .bind(id)
        .bind(phone)
        .execute(db)
        .await
        .unwrap();
    id
}

/// A paid order of 30 minutes and its `order.paid` event, as the webhook
/// writes them.
pub async fn paid_order(
    db: &PgPool,
    customer: Uuid,
    chosen: Option<Uuid>,
    allow_fallback: bool,
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "WITH o AS (INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label,
                                        duration_minutes, amount_idr, mitra_id, allow_fallback, status, paid_at)
                    VALUES ($1, $2, $1::text, '\\x00', 'chat_30', '30 menit', 30, 25000, $3, $4, 'paid', now())
                    RETURNING id)
         INSERT INTO outbox (topic, aggregate_id, payload) SELECT 'order.paid', id, '{}' FROM o",
    )
    .bind(id)
    .bind(customer)
    .bind(chosen)
    .bind(allow_fallback)
    .execute(db)
    .await
    .unwrap();
    id
}

/// The chat of an order: (id, status, mitra offered to or serving).
pub async fn chat_of(db: &PgPool, order: Uuid) -> (Uuid, String, Option<Uuid>) {
    sqlx::query_as("SELECT id, status, mitra_id FROM chats WHERE order_id = $1")
        .bind(order)
        .fetch_one(db)
        .await
        .unwrap()
}

/// The chat of a dispatched `order`, accepted by `serving`.
pub async fn accepted_chat(db: &PgPool, knobs: &Knobs, order: Uuid, serving: Uuid) -> Uuid {
    let (chat, _, _) = chat_of(db, order).await;
    halo_chats::accept(db, knobs, serving, halo_chats::ChatId(chat))
        .await
        .unwrap();
    chat
}

pub async fn order_status(db: &PgPool, order: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(db)
        .await
        .unwrap()
}

pub async fn topics(db: &PgPool, chat: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT topic FROM outbox WHERE aggregate_id = $1 ORDER BY id")
        .bind(chat)
        .fetch_all(db)
        .await
        .unwrap()
}

/// Makes the chat's open offer lapse, as `mitra_accept_timeout_seconds`
/// passing would.
pub async fn lapse_offer(db: &PgPool, chat: Uuid) {
    sqlx::query("UPDATE chats SET offer_expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(chat)
        .execute(db)
        .await
        .unwrap();
}
