//! Ordering and paying against the Xendit double: the customer's journey,
//! the webhook's guarantees, the sweeper's expiry and reconciliation.

mod common;

use std::time::Duration;

use common::{PayingApp, XENDIT_CALLBACK_TOKEN, spawn_app, spawn_paying_app, token};
use halo_testkit::eventually;
use halo_xendit::InvoiceStatus;
use halo_xendit::double::{Delivery, FailureMode};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A customer's access token and an order of `chat_30` with a new key.
async fn ordered(app: &PayingApp) -> (String, Value) {
    app.register_mitra("+6281200000001").await;
    let access = token(&app.anonymous().await, "access_token");
    let answer = app
        .order(
            &access,
            &uuid::Uuid::new_v4().to_string(),
            json!({"tier_id": "chat_30"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    assert_eq!(
        answer.body["allow_fallback"], true,
        "another mitra may serve unless the customer said otherwise"
    );
    (access, answer.body)
}

fn id_of(order: &Value) -> String {
    order["id"].as_str().expect("an order id").to_owned()
}

/// The PAID callback Xendit would send for `order`, for a test to alter.
fn paid_callback(app: &PayingApp, order: &Value) -> Value {
    app.xendit
        .callback_body(&app.invoice_of(&id_of(order)), InvoiceStatus::Paid)
        .unwrap()
}

async fn status_of(app: &PayingApp, access: &str, order_id: &str) -> String {
    let answer = app
        .get(&format!("/api/client/orders/{order_id}"), access)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_customer_orders_a_tier_pays_the_invoice_and_the_order_is_paid_with_one_event() {
    let app = spawn_paying_app(&[]).await;
    let mitra = app.register_mitra("+6281200000009").await;
    let access = token(&app.anonymous().await, "access_token");

    let answer = app
        .order(
            &access,
            "first-order",
            json!({"tier_id": "chat_30", "mitra_id": mitra, "allow_fallback": true}),
        )
        .await;

    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let order = &answer.body;
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["amount_idr"], 25000);
    assert_eq!(order["currency"], "IDR");
    assert_eq!(order["tier_label"], "30 menit");
    assert_eq!(order["mitra_id"], json!(mitra));
    assert!(
        order["payment"]["invoice_url"]
            .as_str()
            .unwrap()
            .starts_with(app.xendit.url())
    );
    let requests = app.xendit.create_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["external_id"], order["id"]);
    assert_eq!(requests[0]["amount"], 25000);
    assert_eq!(requests[0]["currency"], "IDR");
    assert_eq!(requests[0]["invoice_duration"], 1800);
    assert_eq!(
        requests[0]["success_redirect_url"],
        "https://halobestie.id/paid"
    );

    let order_id = id_of(order);
    let delivery = app.xendit.pay(&app.invoice_of(&order_id)).await.unwrap();

    assert_eq!(delivery, Delivery::Answered(200));
    let paid = app
        .get(&format!("/api/client/orders/{order_id}"), &access)
        .await;
    assert_eq!(paid.body["status"], "paid");
    assert!(paid.body["paid_at"].is_string());
    assert_eq!(paid.body["payment"], Value::Null);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM outbox WHERE topic = 'order.paid' AND aggregate_id = '{order_id}'"
        ))
        .await,
        1
    );
    let payload: Value = sqlx::query_scalar("SELECT payload FROM outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(payload["order_id"], json!(order_id));
    assert_eq!(payload["mitra_id"], json!(mitra));
    assert_eq!(payload["amount_idr"], 25000);
    assert_eq!(payload["duration_minutes"], 30);
    assert_eq!(payload["allow_fallback"], true);
}

#[tokio::test]
async fn twenty_concurrent_duplicate_paid_callbacks_make_one_transition_and_one_event() {
    let app = spawn_paying_app(&[]).await;
    let (access, order) = ordered(&app).await;
    let invoice = app.invoice_of(&id_of(&order));

    let deliveries = futures_util::future::join_all(
        (0..20).map(|_| app.xendit.send_callback(&invoice, InvoiceStatus::Paid)),
    )
    .await;

    assert!(
        deliveries.iter().all(|d| *d == Ok(Delivery::Answered(200))),
        "{deliveries:?}"
    );
    assert_eq!(status_of(&app, &access, &id_of(&order)).await, "paid");
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE topic = 'order.paid'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM payment_events").await, 20);
    assert_eq!(
        app.count("SELECT count(*) FROM payment_events WHERE outcome = 'paid'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_expired_callback_after_the_payment_is_ignored() {
    let app = spawn_paying_app(&[]).await;
    let (access, order) = ordered(&app).await;
    let invoice = app.invoice_of(&id_of(&order));
    app.xendit.pay(&invoice).await.unwrap();

    let late = app
        .xendit
        .send_callback(&invoice, InvoiceStatus::Expired)
        .await;

    assert_eq!(late, Ok(Delivery::Answered(200)));
    assert_eq!(status_of(&app, &access, &id_of(&order)).await, "paid");
}

#[tokio::test]
async fn an_unpaid_order_expires_locally_and_a_later_payment_still_makes_it_paid() {
    let app = spawn_paying_app(&[]).await;
    let (access, order) = ordered(&app).await;
    let order_id = id_of(&order);
    // The window has passed, and Xendit sent no EXPIRED.
    sqlx::query("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(&order_id)
        .execute(&app.db.pool)
        .await
        .unwrap();

    let expired = eventually(Duration::from_secs(5), || async {
        status_of(&app, &access, &order_id).await == "expired"
    })
    .await;
    assert!(expired.is_some(), "the sweeper did not expire the order");

    app.xendit.pay(&app.invoice_of(&order_id)).await.unwrap();
    assert_eq!(status_of(&app, &access, &order_id).await, "paid");
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE topic = 'order.paid'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_callback_with_a_missing_or_wrong_token_is_refused_and_changes_nothing() {
    let app = spawn_paying_app(&[]).await;
    let (access, order) = ordered(&app).await;
    let body = paid_callback(&app, &order);

    let missing = app.callback(None, &body).await;
    let wrong = app.callback(Some("not-the-token"), &body).await;

    for answer in [&missing, &wrong] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{:?}", answer.body);
        assert_eq!(answer.error_code(), "invalid_callback_token");
    }
    assert_eq!(
        status_of(&app, &access, &id_of(&order)).await,
        "pending_payment"
    );
    assert_eq!(app.count("SELECT count(*) FROM payment_events").await, 0);
}

#[tokio::test]
async fn a_payment_of_the_wrong_amount_flags_the_order_and_is_acknowledged() {
    let app = spawn_paying_app(&[]).await;
    let (access, order) = ordered(&app).await;
    let mut body = paid_callback(&app, &order);
    body["amount"] = json!(1000);

    let answer = app.callback(Some(XENDIT_CALLBACK_TOKEN), &body).await;

    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["outcome"], "mismatch");
    assert_eq!(
        status_of(&app, &access, &id_of(&order)).await,
        "payment_mismatch"
    );
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM payment_events WHERE outcome = 'mismatch'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_callback_for_an_order_that_is_not_ours_is_stored_and_acknowledged() {
    let app = spawn_paying_app(&[]).await;
    let (_, order) = ordered(&app).await;
    let mut body = paid_callback(&app, &order);
    body["external_id"] = json!("another-shop-order-17");

    let answer = app.callback(Some(XENDIT_CALLBACK_TOKEN), &body).await;

    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["outcome"], "unknown_order");
    assert_eq!(
        app.count("SELECT count(*) FROM payment_events WHERE external_id = 'another-shop-order-17' AND raw LIKE '%another-shop-order-17%'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_callback_that_is_not_an_invoice_callback_is_stored_and_refused_with_400() {
    let app = spawn_paying_app(&[]).await;
    let (access, order) = ordered(&app).await;
    let mut body = paid_callback(&app, &order);
    body["external_id"] = json!("\u{0}");

    let nul = app.callback(Some(XENDIT_CALLBACK_TOKEN), &body).await;
    let shapeless = app
        .callback(Some(XENDIT_CALLBACK_TOKEN), &json!({"hello": 1}))
        .await;

    for answer in [&nul, &shapeless] {
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
        assert_eq!(answer.error_code(), "invalid_callback");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM payment_events WHERE outcome = 'unreadable'")
            .await,
        2
    );
    assert_eq!(
        status_of(&app, &access, &id_of(&order)).await,
        "pending_payment"
    );
}

#[tokio::test]
async fn when_xendit_is_down_ordering_answers_502_and_a_retry_with_the_same_key_succeeds() {
    let app = spawn_paying_app(&[]).await;
    app.register_mitra("+6281200000001").await;
    let access = token(&app.anonymous().await, "access_token");
    app.xendit.set_failure_mode(FailureMode::Down);

    let down = app
        .order(&access, "retry-me", json!({"tier_id": "chat_30"}))
        .await;

    assert_eq!(down.status, StatusCode::BAD_GATEWAY, "{:?}", down.body);
    assert_eq!(down.error_code(), "payment_provider_unavailable");
    let listed = app.get("/api/client/orders", &access).await;
    assert_eq!(listed.body["orders"], json!([]), "nothing billable is left");

    app.xendit.set_failure_mode(FailureMode::None);
    let retried = app
        .order(&access, "retry-me", json!({"tier_id": "chat_30"}))
        .await;

    assert_eq!(retried.status, StatusCode::CREATED, "{:?}", retried.body);
    assert_eq!(retried.body["status"], "pending_payment");
}

#[tokio::test]
async fn a_slow_or_refusing_xendit_answers_502() {
    let app = spawn_paying_app(&[("XENDIT_TIMEOUT_SECONDS", "1")]).await;
    app.register_mitra("+6281200000001").await;
    let access = token(&app.anonymous().await, "access_token");

    app.xendit
        .set_failure_mode(FailureMode::Slow(Duration::from_secs(3)));
    let slow = app
        .order(&access, "slow", json!({"tier_id": "chat_30"}))
        .await;
    app.xendit.set_failure_mode(FailureMode::Error);
    let refused = app
        .order(&access, "refused", json!({"tier_id": "chat_30"}))
        .await;

    for answer in [&slow, &refused] {
        assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{:?}", answer.body);
        assert_eq!(answer.error_code(), "payment_provider_unavailable");
    }
}

#[tokio::test]
async fn ten_concurrent_retries_with_one_key_make_one_order_and_one_invoice() {
    let app = spawn_paying_app(&[]).await;
    app.register_mitra("+6281200000001").await;
    let access = token(&app.anonymous().await, "access_token");

    let answers = futures_util::future::join_all(
        (0..10).map(|_| app.order(&access, "tap-tap-tap", json!({"tier_id": "chat_60"}))),
    )
    .await;

    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let repeated = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .count();
    assert_eq!(
        (created, repeated),
        (1, 9),
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    let id = &answers[0].body["id"];
    assert!(answers.iter().all(|a| &a.body["id"] == id));
    assert_eq!(app.xendit.invoices().len(), 1);

    let other_body = app
        .order(&access, "tap-tap-tap", json!({"tier_id": "chat_30"}))
        .await;
    assert_eq!(other_body.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other_body.error_code(), "idempotency_key_reused");
}

#[tokio::test]
async fn a_lost_paid_callback_is_recovered_by_reconciliation() {
    let app = spawn_paying_app(&[]).await;
    let (access, order) = ordered(&app).await;
    let order_id = id_of(&order);
    app.xendit.set_callbacks_lost(true);
    assert_eq!(
        app.xendit.pay(&app.invoice_of(&order_id)).await,
        Ok(Delivery::NotSent)
    );
    // The callback is now overdue.
    sqlx::query("UPDATE orders SET reconcile_at = now() WHERE id = $1::uuid")
        .bind(&order_id)
        .execute(&app.db.pool)
        .await
        .unwrap();

    let recovered = eventually(Duration::from_secs(5), || async {
        status_of(&app, &access, &order_id).await == "paid"
    })
    .await;

    assert!(
        recovered.is_some(),
        "reconciliation did not find the payment"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE topic = 'order.paid'")
            .await,
        1
    );
}

#[tokio::test]
async fn ordering_refuses_unknown_tiers_unavailable_mitras_a_missing_key_and_blocked_customers() {
    let app = spawn_paying_app(&[]).await;
    let access = token(&app.anonymous().await, "access_token");

    let nobody = app
        .order(&access, "k1", json!({"tier_id": "chat_30"}))
        .await;
    assert_eq!(
        (nobody.status, nobody.error_code()),
        (StatusCode::CONFLICT, "no_mitra_available")
    );

    let mitra = app.register_mitra("+6281200000001").await;
    let unknown = app
        .order(&access, "k2", json!({"tier_id": "chat_999"}))
        .await;
    assert_eq!(
        (unknown.status, unknown.error_code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_tier")
    );

    let stranger = app
        .order(
            &access,
            "k3",
            json!({"tier_id": "chat_30", "mitra_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(
        (stranger.status, stranger.error_code()),
        (StatusCode::CONFLICT, "mitra_unavailable")
    );

    let no_key = app
        .send(
            app.http
                .post(format!("{}/api/client/orders", app.base))
                .bearer_auth(&access)
                .json(&json!({"tier_id": "chat_30", "mitra_id": mitra})),
        )
        .await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_key.body["error"]["details"][0]["code"],
        "missing_idempotency_key"
    );
    assert_eq!(app.xendit.invoices().len(), 0);

    // An operator blocks the customer (the CC's route goes through the
    // core, tested in internal-cc); their access token still verifies.
    sqlx::query("UPDATE users SET status = 'blocked' WHERE id = $1")
        .bind(halo_core::testing::auth_of(&access).user_id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let blocked = app
        .order(&access, "k4", json!({"tier_id": "chat_30"}))
        .await;
    assert_eq!(
        (blocked.status, blocked.error_code()),
        (StatusCode::FORBIDDEN, "account_blocked")
    );
    assert_eq!(
        app.xendit.invoices().len(),
        0,
        "no invoice for a blocked customer"
    );
}

#[tokio::test]
async fn an_open_invoice_holds_the_chosen_mitras_slot_until_it_expires() {
    let app = spawn_paying_app(&[]).await;
    app.set_knobs(json!({"max_customers_per_mitra": 1})).await;
    let mitra = app.register_mitra("+6281200000001").await;
    let first = token(&app.anonymous().await, "access_token");
    let second = token(&app.anonymous().await, "access_token");
    let body = json!({"tier_id": "chat_30", "mitra_id": mitra});
    // The gateway's knob copy follows within its 1 s poll.
    let held = eventually(Duration::from_secs(5), || async {
        let probe = app.order(&first, "probe", body.clone()).await;
        probe.status == StatusCode::CREATED || probe.status == StatusCode::OK
    })
    .await;
    assert!(held.is_some());
    let capped = eventually(Duration::from_secs(5), || async {
        app.order(&second, &uuid::Uuid::new_v4().to_string(), body.clone())
            .await
            .error_code()
            == "mitra_unavailable"
    })
    .await;
    assert!(capped.is_some(), "a second customer took the only slot");

    sqlx::query("UPDATE orders SET expires_at = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();

    let released = eventually(Duration::from_secs(5), || async {
        app.order(&second, "after-expiry", body.clone())
            .await
            .status
            == StatusCode::CREATED
    })
    .await;
    assert!(released.is_some(), "the slot was not released on expiry");
}

#[tokio::test]
async fn customers_list_their_own_orders_newest_first_and_never_see_anothers() {
    let app = spawn_paying_app(&[]).await;
    app.register_mitra("+6281200000001").await;
    let access = token(&app.anonymous().await, "access_token");
    let other = token(&app.anonymous().await, "access_token");
    let mut ids = Vec::new();
    for key in ["a", "b", "c"] {
        ids.push(id_of(
            &app.order(&access, key, json!({"tier_id": "chat_30"}))
                .await
                .body,
        ));
    }

    let first = app.get("/api/client/orders?limit=2", &access).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/client/orders?limit=2&cursor={cursor}"),
            &access,
        )
        .await;

    let listed: Vec<&str> = first.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest.body["orders"].as_array().unwrap())
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]
    );
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let theirs = app
        .get(&format!("/api/client/orders/{}", ids[0]), &other)
        .await;
    assert_eq!(
        (theirs.status, theirs.error_code()),
        (StatusCode::NOT_FOUND, "order_not_found")
    );
    assert_eq!(
        app.get("/api/client/orders", &other).await.body["orders"],
        json!([])
    );
}

#[tokio::test]
async fn without_xendit_secrets_ordering_and_the_webhook_answer_503() {
    let app = spawn_app().await;
    let access = token(&app.anonymous().await, "access_token");

    let order = app
        .send(
            app.http
                .post(format!("{}/api/client/orders", app.base))
                .bearer_auth(&access)
                .header("Idempotency-Key", "k")
                .json(&json!({"tier_id": "chat_30"})),
        )
        .await;
    let webhook = app.post("/api/shared/webhooks/xendit", json!({})).await;

    for answer in [&order, &webhook] {
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{:?}",
            answer.body
        );
        assert_eq!(answer.error_code(), "provider_not_configured");
    }
}
