//! The order functions straight against a real Postgres and the Xendit
//! double, without an edge: what several gateway instances doing the same
//! thing at once may and may not do.

use std::time::Duration;

use halo_knobs::Knobs;
use halo_orders::{Created, InvoiceOptions, NewOrder, Order, OrderStatus, Outcome, Purpose};
use halo_testkit::TestDb;
use halo_xendit::double::{DoubleConfig, XenditDouble};
use halo_xendit::{XenditClient, XenditConfig};
use uuid::Uuid;

struct Setup {
    db: TestDb,
    xendit: XenditDouble,
    client: XenditClient,
    customer: Uuid,
}

async fn setup() -> Setup {
    let db = TestDb::new().await;
    // Callbacks are not this file's subject: the double sends none.
    let xendit = XenditDouble::start(DoubleConfig {
        callback_url: None,
        callback_token: "token".into(),
        secret_key: "key".into(),
    })
    .await;
    let client = XenditClient::new(XenditConfig {
        api_base_url: xendit.url().to_owned(),
        secret_key: "key".to_owned().into(),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let customer = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, user_type, is_anonymous) VALUES ($1, 'customer', true)")
        .bind(customer)
        .execute(&db.pool)
        .await
        .unwrap();
    // An available mitra: ordering needs one.
    sqlx::query(
        "WITH mitra AS (INSERT INTO users (id, user_type, phone) VALUES ($1, 'mitra', '+6281200000001')
                        RETURNING id)
         INSERT INTO mitra_presence (mitra_id, status) SELECT id, 'online' FROM mitra",
    )
    .bind(Uuid::now_v7())
        .execute(&db.pool)
        .await
        .unwrap();
    Setup {
        db,
        xendit,
        client,
        customer,
    }
}

async fn knobs(db: &TestDb) -> Knobs {
    Knobs::from_values(&db.knob_values().await).unwrap()
}

impl Setup {
    async fn order(&self, key: &str) -> Order {
        let new = NewOrder {
            customer_id: self.customer,
            idempotency_key: key.to_owned(),
            tier_id: "chat_30".to_owned(),
            purpose: Purpose::Chat {
                mitra_id: None,
                allow_fallback: true,
            },
        };
        let options = InvoiceOptions {
            wait_for_concurrent: Duration::from_secs(5),
            ..InvoiceOptions::default()
        };
        match halo_orders::create(
            &self.db.pool,
            &self.client,
            &knobs(&self.db).await,
            &options,
            &new,
        )
        .await
        .unwrap()
        {
            Created::New(order) | Created::Existing(order) => order,
        }
    }

    async fn exec(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.db.pool)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn two_sweepers_at_once_expire_each_overdue_order_exactly_once() {
    let setup = setup().await;
    for key in ["a", "b", "c", "d", "e"] {
        setup.order(key).await;
    }
    setup
        .exec("UPDATE orders SET expires_at = now() - interval '1 second'")
        .await;

    let (first, second) = tokio::join!(
        halo_orders::expire_due(&setup.db.pool),
        halo_orders::expire_due(&setup.db.pool)
    );

    assert_eq!(first.unwrap() + second.unwrap(), 5);
    let open: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'pending_payment'")
            .fetch_one(&setup.db.pool)
            .await
            .unwrap();
    assert_eq!(open, 0);
}

#[tokio::test]
async fn two_reconcilers_at_once_turn_a_silently_paid_order_paid_once() {
    let setup = setup().await;
    let order = setup.order("a").await;
    let invoice = setup.xendit.invoices()[0].id.clone();
    setup.xendit.pay(&invoice).await.unwrap();
    setup.exec("UPDATE orders SET reconcile_at = now()").await;

    let (first, second) = tokio::join!(
        halo_orders::reconcile_due(&setup.db.pool, &setup.client),
        halo_orders::reconcile_due(&setup.db.pool, &setup.client)
    );

    assert_eq!(first.unwrap() + second.unwrap(), 1);
    let paid = halo_orders::get(&setup.db.pool, setup.customer, order.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE topic = 'order.paid'")
        .fetch_one(&setup.db.pool)
        .await
        .unwrap();
    assert_eq!(events, 1);
}

#[tokio::test]
async fn a_price_change_never_changes_an_order_already_made() {
    let setup = setup().await;
    let order = setup.order("a").await;
    setup
        .exec(r#"UPDATE app_config SET value = '[{"id": "chat_30", "label": "30 menit", "duration_minutes": 30, "price_idr": 99000}]' WHERE key = 'pricing_tiers'"#)
        .await;

    let again = setup.order("a").await;
    let later = setup.order("b").await;

    assert_eq!(again.amount_idr, order.amount_idr);
    assert_eq!(order.amount_idr.0, 25_000);
    assert_eq!(later.amount_idr.0, 99_000);
}

#[tokio::test]
async fn an_abandoned_creation_is_failed_by_the_sweeper_and_frees_its_key() {
    let setup = setup().await;
    let stuck = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label,
                             duration_minutes, amount_idr, allow_fallback, status, created_at)
         VALUES ($1, $2, 'a', '\\x00', 'chat_30', '30 menit', 30, 25000, true, 'creating',
                 now() - interval '10 minutes')",
    )
    .bind(stuck)
    .bind(setup.customer)
    .execute(&setup.db.pool)
    .await
    .unwrap();

    let abandoned = halo_orders::abandon_stale(&setup.db.pool, Duration::from_secs(60))
        .await
        .unwrap();
    let retried = setup.order("a").await;

    assert_eq!(abandoned, 1);
    assert_ne!(retried.id.0, stuck);
    assert_eq!(retried.status, OrderStatus::PendingPayment);
}

#[tokio::test]
async fn an_unreadable_callback_is_stored_and_changes_nothing() {
    let setup = setup().await;
    setup.order("a").await;

    let outcome = halo_orders::record_callback(&setup.db.pool, "not json", None)
        .await
        .unwrap();

    assert_eq!(outcome, Outcome::Unreadable);
    let stored: (String, String) = sqlx::query_as("SELECT raw, outcome FROM payment_events")
        .fetch_one(&setup.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, ("not json".to_owned(), "unreadable".to_owned()));
    let open: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'pending_payment'")
            .fetch_one(&setup.db.pool)
            .await
            .unwrap();
    assert_eq!(open, 1);
}

#[tokio::test]
async fn pruning_the_outbox_keeps_recent_events_and_any_paid_order_still_waiting_for_its_chat() {
    let db = TestDb::new().await;
    let rows = [
        // (topic, age in days, delivered, relayed, pruned?)
        ("order.paid", 9, true, false, true),
        ("order.paid", 9, false, false, false),
        ("chat.ended", 9, false, true, true),
        ("chat.ended", 9, false, false, false),
        ("chat.ended", 1, false, true, false),
    ];
    let mut ids = Vec::new();
    for (topic, days, delivered, relayed, _) in rows {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (topic, aggregate_id, payload, created_at, delivered_at, relayed_at)
             VALUES ($1, gen_random_uuid(), '{}', now() - make_interval(days => $2),
                     CASE WHEN $3 THEN now() END, CASE WHEN $4 THEN now() END)
             RETURNING id",
        )
        .bind(topic)
        .bind(days)
        .bind(delivered)
        .bind(relayed)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        ids.push(id);
    }

    let pruned = halo_orders::prune_outbox(&db.pool, Duration::from_secs(7 * 86_400))
        .await
        .unwrap();

    let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM outbox ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let expected: Vec<i64> = ids
        .iter()
        .zip(rows)
        .filter(|(_, row)| !row.4)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(pruned, 2);
    assert_eq!(left, expected);
}
