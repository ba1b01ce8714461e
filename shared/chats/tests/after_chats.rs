//! The rest of a chat's life straight against Postgres: a suspended
//! mitra's chats, and earnings counted on Jakarta days at the share in
//! force when each order was served.

mod common;

use chrono::NaiveDate;
use common::{accepted_chat, chat_of, customer, knobs, mitra, paid_order, topics};
use halo_testkit::TestDb;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[tokio::test]
async fn suspending_a_mitra_ends_their_chats_passes_their_offers_on_and_takes_them_offline() {
    let db = TestDb::new().await;
    let knobs = knobs(&db).await;
    let suspended = mitra(&db.pool, 1).await;
    let buyer = customer(&db.pool, "+6281300000011").await;
    let serving = paid_order(&db.pool, buyer, Some(suspended), true).await;
    let waiting = paid_order(&db.pool, buyer, Some(suspended), true).await;
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();
    let active_chat = accepted_chat(&db.pool, &knobs, serving, suspended).await;
    let (offered_chat, _, offered_to) = chat_of(&db.pool, waiting).await;
    assert_eq!(offered_to, Some(suspended));
    let other = mitra(&db.pool, 2).await;
    sqlx::query("UPDATE users SET status = 'suspended' WHERE id = $1")
        .bind(suspended)
        .execute(&db.pool)
        .await
        .unwrap();

    let mut tx = db.pool.begin().await.unwrap();
    let closed = halo_chats::end_mitra_chats(&mut tx, &knobs, suspended)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!((closed.ended, closed.withdrawn), (1, 1));
    let (ended_by, status): (Option<String>, String) =
        sqlx::query_as("SELECT ended_by, status FROM chats WHERE id = $1")
            .bind(active_chat)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        (ended_by.as_deref(), status.as_str()),
        (Some("operator"), "ended")
    );
    assert_eq!(
        chat_of(&db.pool, waiting).await,
        (offered_chat, "offered".to_owned(), Some(other)),
        "the offer went to the other mitra at once"
    );
    assert_eq!(
        topics(&db.pool, offered_chat).await,
        ["chat.offered", "chat.offer_withdrawn", "chat.offered"]
    );
    assert!(
        topics(&db.pool, active_chat)
            .await
            .ends_with(&["chat.ended".to_owned()])
    );
    let presence: String =
        sqlx::query_scalar("SELECT status FROM mitra_presence WHERE mitra_id = $1")
            .bind(suspended)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(presence, "offline");
    let mut tx = db.pool.begin().await.unwrap();
    let again = halo_chats::end_mitra_chats(&mut tx, &knobs, suspended)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (again.ended, again.withdrawn),
        (0, 0),
        "a second call finds nothing"
    );
}

#[tokio::test]
async fn earnings_count_jakarta_days_at_the_share_in_force_when_each_order_was_served() {
    let db = TestDb::new().await;
    let mut knobs = knobs(&db).await;
    assert_eq!(knobs.mitra_revenue_share_percent, 70);
    let serving = mitra(&db.pool, 1).await;
    let buyer = customer(&db.pool, "+6281300000012").await;
    let late_evening = paid_order(&db.pool, buyer, Some(serving), true).await;
    let after_midnight = paid_order(&db.pool, buyer, Some(serving), true).await;
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();
    accepted_chat(&db.pool, &knobs, late_evening, serving).await;
    knobs.mitra_revenue_share_percent = 50;
    accepted_chat(&db.pool, &knobs, after_midnight, serving).await;
    // 23:59:59 and 00:00:00 in Jakarta (UTC+7), either side of midnight.
    for (order, at) in [
        (late_evening, "2026-11-25T16:59:59Z"),
        (after_midnight, "2026-11-25T17:00:00Z"),
    ] {
        sqlx::query("UPDATE mitra_earnings SET earned_at = $2::timestamptz WHERE order_id = $1")
            .bind(order)
            .bind(at)
            .execute(&db.pool)
            .await
            .unwrap();
    }

    let on_the_26th = halo_chats::earnings(&db.pool, serving, day("2026-11-26"), day("2026-11-26"))
        .await
        .unwrap();
    let both_days = halo_chats::earnings(&db.pool, serving, day("2026-11-25"), day("2026-11-26"))
        .await
        .unwrap();

    assert_eq!(
        (
            on_the_26th.orders,
            on_the_26th.gross_idr,
            on_the_26th.earned_idr
        ),
        (1, 25_000, 12_500),
        "the knob's later value applies only to the order served after the change"
    );
    assert_eq!(
        (both_days.orders, both_days.earned_idr),
        (2, 17_500 + 12_500)
    );
    let days: Vec<(NaiveDate, i64)> = both_days
        .days
        .iter()
        .map(|d| (d.date, d.earned_idr))
        .collect();
    assert_eq!(
        days,
        [(day("2026-11-25"), 17_500), (day("2026-11-26"), 12_500)]
    );
    let someone_else = mitra(&db.pool, 2).await;
    let none = halo_chats::earnings(&db.pool, someone_else, day("2026-11-01"), day("2026-11-30"))
        .await
        .unwrap();
    assert_eq!((none.orders, none.earned_idr, none.days.len()), (0, 0, 0));
}
