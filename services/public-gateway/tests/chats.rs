//! The journey from a paid invoice to a chat a mitra accepts, over HTTP:
//! the matcher offers it within a second, the mitra's answers, and what a
//! mitra may see of the customer.

mod common;

use std::time::Duration;

use common::{PayingApp, spawn_paying_app, token};
use halo_testkit::eventually;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A mitra the customer can choose, signed in: (id, access token).
async fn signed_in_mitra(app: &PayingApp, phone: &str) -> (String, String) {
    let id = app.register_mitra(phone).await;
    let answer = app.otp_sign_in("mitra", phone, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    (id.to_string(), token(&answer.body, "access_token"))
}

/// The chat offered to `mitra`, once the matcher has made it.
async fn offered_chat(app: &PayingApp, mitra: &str) -> String {
    let query =
        format!("SELECT count(*) FROM chats WHERE mitra_id = '{mitra}' AND status = 'offered'");
    let found = eventually(Duration::from_secs(5), || async {
        app.count(&query).await == 1
    })
    .await;
    assert!(
        found.is_some(),
        "the paid order is offered within the matcher's period"
    );
    let chat: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM chats WHERE mitra_id = $1::uuid AND status = 'offered'")
            .bind(mitra)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    chat.to_string()
}

/// `POST /api/mitra/chats/{chat}/{verb}` as the mitra.
async fn answer_offer(
    app: &PayingApp,
    access: &str,
    chat: &str,
    verb: &str,
) -> halo_testkit::Answer {
    let path = format!("/api/mitra/chats/{chat}/{verb}");
    app.call(Method::POST, &path, Some(access), None).await
}

#[tokio::test]
async fn a_paid_order_is_offered_to_the_chosen_mitra_who_accepts_without_learning_who_the_customer_is()
 {
    let app = spawn_paying_app(&[]).await;
    let (mitra, mitra_access) = signed_in_mitra(&app, "+6281200000041").await;
    let (_, stranger_access) = signed_in_mitra(&app, "+6281200000042").await;
    // A customer with a phone and no display name.
    let signed_in = app.otp_sign_in("client", "+6281300000041", None).await;
    let customer = token(&signed_in.body, "access_token");
    let customer_id = signed_in.body["user"]["id"].as_str().unwrap().to_owned();
    let order = app
        .order(
            &customer,
            "chat-order",
            json!({"tier_id": "chat_30", "mitra_id": mitra}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    let order_id = order.body["id"].as_str().unwrap().to_owned();
    app.xendit.pay(&app.invoice_of(&order_id)).await.unwrap();

    let chat = offered_chat(&app, &mitra).await;
    let path = format!("/api/mitra/chats/{chat}/accept");
    let stranger = app
        .call(Method::POST, &path, Some(&stranger_access), None)
        .await;
    assert_eq!(
        stranger.status,
        StatusCode::NOT_FOUND,
        "{:?}",
        stranger.body
    );
    assert_eq!(stranger.error_code(), "chat_not_found");

    let accepted = app
        .call(Method::POST, &path, Some(&mitra_access), None)
        .await;

    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    assert_eq!(accepted.body["status"], "active");
    assert_eq!(accepted.body["duration_minutes"], 30);
    assert!(
        accepted.body["customer"]["display_name"]
            .as_str()
            .unwrap()
            .starts_with("Teman ")
    );
    let seen = accepted.body.to_string();
    assert!(!seen.contains("6281300000041"), "{seen}");
    assert!(!seen.contains(&customer_id), "{seen}");
    assert!(!seen.contains(&order_id), "{seen}");

    // The offer is answered: declining it now is a conflict.
    let late = answer_offer(&app, &mitra_access, &chat, "decline").await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.error_code(), "offer_closed");
}

#[tokio::test]
async fn a_chosen_mitra_declining_an_order_without_fallback_leaves_it_owed_a_refund() {
    let app = spawn_paying_app(&[]).await;
    let (mitra, mitra_access) = signed_in_mitra(&app, "+6281200000043").await;
    signed_in_mitra(&app, "+6281200000044").await;
    let customer = token(&app.anonymous().await, "access_token");
    let order = app
        .order(
            &customer,
            "strict-order",
            json!({"tier_id": "chat_30", "mitra_id": mitra, "allow_fallback": false}),
        )
        .await;
    let order_id = order.body["id"].as_str().unwrap().to_owned();
    app.xendit.pay(&app.invoice_of(&order_id)).await.unwrap();
    let chat = offered_chat(&app, &mitra).await;

    let declined = answer_offer(&app, &mitra_access, &chat, "decline").await;

    assert_eq!(
        declined.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        declined.body
    );
    let order = app
        .get(&format!("/api/client/orders/{order_id}"), &customer)
        .await;
    assert_eq!(order.body["status"], "refund_required");
}
