//! Extensions over HTTP with the Xendit double: the customer asks, the
//! mitra answers, the customer pays the invoice, and the chat's end moves
//! (or does not); the grace for a payment in flight; what the mitra earns.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{Accepted, PayingApp, accepted_chat, spawn_paying_app, topics};
use halo_testkit::{Answer, eventually};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn ends_at(app: &PayingApp, chat: &str) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT ends_at FROM chats WHERE id = $1::uuid")
        .bind(chat)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn chat_status(app: &PayingApp, chat: &str) -> String {
    sqlx::query_scalar("SELECT status FROM chats WHERE id = $1::uuid")
        .bind(chat)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// The customer asks for 30 more minutes.
async fn request_extension(app: &PayingApp, chat: &Accepted) -> Answer {
    app.call(
        Method::POST,
        &format!("/api/client/chats/{}/extensions", chat.chat),
        Some(&chat.customer),
        Some(json!({"tier_id": "chat_30"})),
    )
    .await
}

/// The mitra's `accept` or `decline` of an extension.
async fn answer_extension(app: &PayingApp, chat: &Accepted, extension: &str, verb: &str) -> Answer {
    let path = format!(
        "/api/mitra/chats/{}/extensions/{extension}/{verb}",
        chat.chat
    );
    app.call(Method::POST, &path, Some(&chat.mitra), None).await
}

/// The customer's view of the chat's newest extension.
async fn newest_extension(app: &PayingApp, chat: &Accepted) -> serde_json::Value {
    let path = format!("/api/client/chats/{}/extensions", chat.chat);
    let listed = app.get(&path, &chat.customer).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    listed.body["extensions"][0].clone()
}

/// Requests and accepts an extension: (its id, its order's id).
async fn accepted_extension(app: &PayingApp, chat: &Accepted) -> (String, String) {
    let requested = request_extension(app, chat).await;
    assert_eq!(
        requested.status,
        StatusCode::CREATED,
        "{:?}",
        requested.body
    );
    let id = requested.body["id"].as_str().unwrap().to_owned();
    let accepted = answer_extension(app, chat, &id, "accept").await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    let order = newest_extension(app, chat).await["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, order)
}

async fn wait_for(what: &str, check: impl AsyncFn() -> bool) {
    let done = eventually(Duration::from_secs(6), || async { check().await }).await;
    assert!(done.is_some(), "{what} did not happen in time");
}

#[tokio::test]
async fn an_accepted_and_paid_extension_moves_the_end_and_the_mitra_earns_a_share_of_both_orders() {
    let app = spawn_paying_app(&[]).await;
    let chat = accepted_chat(&app, 1).await;
    let before = ends_at(&app, &chat.chat).await;

    let requested = request_extension(&app, &chat).await;
    assert_eq!(
        requested.status,
        StatusCode::CREATED,
        "{:?}",
        requested.body
    );
    assert_eq!(requested.body["status"], "requested");
    assert_eq!(requested.body["amount_idr"], 25000);
    assert!(requested.body["payment"].is_null());
    let extension = requested.body["id"].as_str().unwrap().to_owned();
    let second = request_extension(&app, &chat).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.error_code(), "extension_pending");

    let seen_by_mitra = app
        .get(
            &format!("/api/mitra/chats/{}/extensions", chat.chat),
            &chat.mitra,
        )
        .await;
    assert_eq!(seen_by_mitra.body["extensions"][0]["status"], "requested");
    let accepted = answer_extension(&app, &chat, &extension, "accept").await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    assert_eq!(accepted.body["status"], "accepted");
    let again = answer_extension(&app, &chat, &extension, "accept").await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(
        app.xendit.invoices().len(),
        2,
        "one chat invoice, one extension invoice"
    );
    for payload in [&seen_by_mitra, &accepted, &again] {
        let text = payload.body.to_string();
        assert!(
            !text.contains("amount_idr") && !text.contains("order_id"),
            "{text}"
        );
        assert!(!text.contains(&chat.customer_id), "{text}");
        assert!(
            !text.contains(chat.customer_phone.trim_start_matches('+')),
            "{text}"
        );
    }

    let to_pay = newest_extension(&app, &chat).await;
    assert_eq!(to_pay["status"], "accepted");
    let invoice_url = to_pay["payment"]["invoice_url"].as_str().unwrap();
    assert!(invoice_url.starts_with("http"), "{invoice_url}");
    let order_id = to_pay["order_id"].as_str().unwrap().to_owned();
    let order = app
        .get(&format!("/api/client/orders/{order_id}"), &chat.customer)
        .await;
    assert_eq!(order.body["kind"], "extension");
    assert_eq!(order.body["chat_id"], json!(chat.chat));
    assert_eq!(order.body["status"], "pending_payment");
    app.xendit.pay(&app.invoice_of(&order_id)).await.unwrap();

    wait_for("the extension's payment", async || {
        newest_extension(&app, &chat).await["status"] == "paid"
    })
    .await;
    assert_eq!(
        ends_at(&app, &chat.chat).await,
        before + chrono::Duration::minutes(30)
    );
    let seen = app
        .get(&format!("/api/client/chats/{}", chat.chat), &chat.customer)
        .await;
    assert_eq!(seen.body["status"], "active");
    let extended: DateTime<Utc> = serde_json::from_value(seen.body["ends_at"].clone()).unwrap();
    assert_eq!(extended, before + chrono::Duration::minutes(30));
    let events = topics(&app, &chat.chat).await;
    for topic in [
        "extension.requested",
        "extension.accepted",
        "extension.paid",
    ] {
        assert!(events.iter().any(|t| t == topic), "{topic} in {events:?}");
    }

    // 70% (the default share) of the chat's 25,000 and the extension's 25,000.
    let earnings = app.get("/api/mitra/earnings", &chat.mitra).await;
    assert_eq!(earnings.status, StatusCode::OK, "{:?}", earnings.body);
    assert_eq!(earnings.body["orders"], 2);
    assert_eq!(earnings.body["gross_idr"], 50000);
    assert_eq!(earnings.body["earned_idr"], 35000);
    assert_eq!(earnings.body["time_zone"], "Asia/Jakarta");
    assert_eq!(earnings.body["days"].as_array().unwrap().len(), 1);
    let customer_earnings = app.get("/api/mitra/earnings", &chat.customer).await;
    assert_eq!(customer_earnings.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_declined_or_unanswered_request_changes_nothing_and_can_no_longer_be_accepted() {
    let app = spawn_paying_app(&[]).await;
    let chat = accepted_chat(&app, 2).await;
    let before = ends_at(&app, &chat.chat).await;

    let first = request_extension(&app, &chat).await;
    let first = first.body["id"].as_str().unwrap().to_owned();
    let declined = answer_extension(&app, &chat, &first, "decline").await;
    assert_eq!(
        declined.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        declined.body
    );
    assert_eq!(
        answer_extension(&app, &chat, &first, "decline")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let late = answer_extension(&app, &chat, &first, "accept").await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.error_code(), "extension_closed");
    assert_eq!(newest_extension(&app, &chat).await["status"], "declined");

    // A declined request leaves room for another, which nobody answers.
    let second = request_extension(&app, &chat).await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);
    let second = second.body["id"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE chat_extensions SET respond_by = now() WHERE id = $1::uuid")
        .bind(&second)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let too_late = answer_extension(&app, &chat, &second, "accept").await;
    assert_eq!(too_late.status, StatusCode::CONFLICT, "{:?}", too_late.body);
    wait_for("the request's expiry", async || {
        newest_extension(&app, &chat).await["status"] == "expired"
    })
    .await;

    assert_eq!(ends_at(&app, &chat.chat).await, before);
    assert_eq!(
        app.xendit.invoices().len(),
        1,
        "no invoice for an unaccepted request"
    );
    let events = topics(&app, &chat.chat).await;
    for topic in ["extension.declined", "extension.expired"] {
        assert!(events.iter().any(|t| t == topic), "{topic} in {events:?}");
    }
    let stranger = answer_extension(
        &app,
        &chat,
        "019ab8f3-1a2b-7c41-9a7e-3f5b2c1d0e9f",
        "accept",
    )
    .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    assert_eq!(stranger.error_code(), "extension_not_found");
}

#[tokio::test]
async fn a_chat_whose_time_runs_out_while_an_extension_is_paid_is_held_open_for_the_payment() {
    let app = spawn_paying_app(&[]).await;
    let chat = accepted_chat(&app, 3).await;
    let (_, order) = accepted_extension(&app, &chat).await;
    let due: DateTime<Utc> = sqlx::query_scalar(
        "UPDATE chats SET ends_at = now() - interval '1 second' WHERE id = $1::uuid RETURNING ends_at",
    )
    .bind(&chat.chat)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();

    // Past its end, with the timers running each second, the chat stays
    // open (the grace is 120 s by default).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(chat_status(&app, &chat.chat).await, "active");
    app.xendit.pay(&app.invoice_of(&order)).await.unwrap();

    wait_for("the extension's payment", async || {
        newest_extension(&app, &chat).await["status"] == "paid"
    })
    .await;
    assert_eq!(chat_status(&app, &chat.chat).await, "active");
    assert_eq!(
        ends_at(&app, &chat.chat).await,
        due + chrono::Duration::minutes(30)
    );
}

#[tokio::test]
async fn unpaid_at_the_end_of_the_grace_the_chat_ends_and_a_late_payment_is_owed_back() {
    let app = spawn_paying_app(&[]).await;
    let chat = accepted_chat(&app, 4).await;
    let (_, order) = accepted_extension(&app, &chat).await;
    sqlx::query("UPDATE chats SET ends_at = now() - interval '121 seconds' WHERE id = $1::uuid")
        .bind(&chat.chat)
        .execute(&app.db.pool)
        .await
        .unwrap();

    wait_for("the chat's end", async || {
        chat_status(&app, &chat.chat).await == "ended"
    })
    .await;
    assert_eq!(newest_extension(&app, &chat).await["status"], "expired");
    app.xendit.pay(&app.invoice_of(&order)).await.unwrap();

    let path = format!("/api/client/orders/{order}");
    wait_for("the refund flag", async || {
        app.get(&path, &chat.customer).await.body["status"] == "refund_required"
    })
    .await;
    assert_eq!(chat_status(&app, &chat.chat).await, "ended");
}

#[tokio::test]
async fn an_ended_chat_cannot_be_extended_and_its_pending_request_expires_with_it() {
    let app = spawn_paying_app(&[]).await;
    let chat = accepted_chat(&app, 5).await;
    let requested = request_extension(&app, &chat).await;
    assert_eq!(requested.status, StatusCode::CREATED);

    let ended = app
        .call(
            Method::POST,
            &format!("/api/client/chats/{}/end", chat.chat),
            Some(&chat.customer),
            None,
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);

    assert_eq!(newest_extension(&app, &chat).await["status"], "expired");
    let after = request_extension(&app, &chat).await;
    assert_eq!(after.status, StatusCode::CONFLICT);
    assert_eq!(after.error_code(), "chat_not_active");
    let unknown = app
        .call(
            Method::POST,
            &format!("/api/client/chats/{}/extensions", chat.chat),
            Some(&chat.customer),
            Some(json!({"tier_id": "chat_999"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error_code(), "unknown_tier");
}

#[tokio::test]
async fn earnings_ranges_are_checked() {
    let app = spawn_paying_app(&[]).await;
    let chat = accepted_chat(&app, 6).await;
    for (query, field) in [
        ("?from=2026-11-30&to=2026-11-01", "from"),
        ("?from=2025-01-01&to=2026-11-01", "to"),
        ("?from=1999-12-31&to=2000-01-01", "from"),
    ] {
        let refused = app
            .get(&format!("/api/mitra/earnings{query}"), &chat.mitra)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            refused.body["error"]["details"][0]["field"], field,
            "{:?}",
            refused.body
        );
    }
    let malformed = app
        .get("/api/mitra/earnings?from=yesterday", &chat.mitra)
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let empty = app
        .get(
            "/api/mitra/earnings?from=2020-01-01&to=2020-01-31",
            &chat.mitra,
        )
        .await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["earned_idr"], 0);
    assert_eq!(empty.body["days"], json!([]));
}
