//! The journey from a paid invoice to a chat a mitra accepts, over HTTP:
//! the matcher offers it within a second, the mitra's answers, and what a
//! mitra may see of the customer.

mod common;

use std::time::Duration;

use common::{
    accepted_chat, answer_offer, offered_chat, signed_in_mitra, spawn_paying_app, token, topics,
};
use halo_testkit::eventually;
use reqwest::{Method, StatusCode};
use serde_json::json;

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

#[tokio::test]
async fn the_server_warns_that_a_chat_is_ending_then_ends_it_within_two_seconds_of_its_end() {
    let app = spawn_paying_app(&[]).await;
    let accepted = accepted_chat(&app, 1).await;
    // Two seconds left: inside chat_end_warning_seconds (120).
    sqlx::query("UPDATE chats SET ends_at = now() + interval '2 seconds' WHERE id = $1::uuid")
        .bind(&accepted.chat)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let path = format!("/api/client/chats/{}", accepted.chat);

    let ended = eventually(Duration::from_secs(6), || async {
        app.get(&path, &accepted.customer).await.body["status"] == "ended"
    })
    .await;

    assert!(ended.is_some(), "the chat was not ended");
    let lateness: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM ended_at - ends_at)::float8 FROM chats WHERE id = $1::uuid",
    )
    .bind(&accepted.chat)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(
        (0.0..=2.0).contains(&lateness),
        "ended {lateness} s after ends_at"
    );
    assert_eq!(
        topics(&app, &accepted.chat).await,
        [
            "chat.offered",
            "chat.accepted",
            "chat.ending_soon",
            "chat.ended"
        ]
    );
}

#[tokio::test]
async fn either_side_may_end_a_chat_early_once_and_only_participants_see_it() {
    let app = spawn_paying_app(&[]).await;
    let accepted = accepted_chat(&app, 2).await;
    let (_, other_mitra) = signed_in_mitra(&app, "+6281200000599").await;
    let other_customer = token(&app.anonymous().await, "access_token");
    let client_path = format!("/api/client/chats/{}", accepted.chat);
    let mitra_path = format!("/api/mitra/chats/{}", accepted.chat);

    assert_eq!(
        app.get(&client_path, &other_customer).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&mitra_path, &other_mitra).await.status,
        StatusCode::NOT_FOUND
    );
    let stranger_end = app
        .call(
            Method::POST,
            &format!("{mitra_path}/end"),
            Some(&other_mitra),
            None,
        )
        .await;
    assert_eq!(stranger_end.status, StatusCode::NOT_FOUND);

    let ended = app
        .call(
            Method::POST,
            &format!("{client_path}/end"),
            Some(&accepted.customer),
            None,
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{:?}", ended.body);
    for (path, access) in [
        (&client_path, &accepted.customer),
        (&mitra_path, &accepted.mitra),
    ] {
        let again = app
            .call(Method::POST, &format!("{path}/end"), Some(access), None)
            .await;
        assert_eq!(again.status, StatusCode::NO_CONTENT, "{:?}", again.body);
    }

    let seen = app.get(&client_path, &accepted.customer).await;
    assert_eq!(seen.body["status"], "ended");
    assert!(seen.body["ended_at"].is_string());
    assert!(seen.body["mitra"]["display_name"].is_string());
    let ended_events = topics(&app, &accepted.chat)
        .await
        .into_iter()
        .filter(|t| t == "chat.ended")
        .count();
    assert_eq!(ended_events, 1, "ending twice writes one event");
    let list = app.get("/api/client/chats", &accepted.customer).await;
    assert_eq!(list.body["chats"][0]["id"], json!(accepted.chat));
}

#[tokio::test]
async fn no_mitra_facing_chat_payload_carries_the_customers_phone_email_or_id() {
    let app = spawn_paying_app(&[]).await;
    let accepted = accepted_chat(&app, 3).await;
    let mitra_path = format!("/api/mitra/chats/{}", accepted.chat);
    let mut payloads = vec![
        app.get(&mitra_path, &accepted.mitra).await,
        app.get("/api/mitra/chats", &accepted.mitra).await,
        app.get("/api/mitra/chats?status=active", &accepted.mitra)
            .await,
        answer_offer(&app, &accepted.mitra, &accepted.chat, "accept").await,
    ];
    app.call(
        Method::POST,
        &format!("{mitra_path}/end"),
        Some(&accepted.mitra),
        None,
    )
    .await;
    payloads.push(
        app.get("/api/mitra/chats?status=ended", &accepted.mitra)
            .await,
    );

    let phone_digits = accepted.customer_phone.trim_start_matches('+');
    for payload in &payloads {
        assert_eq!(payload.status, StatusCode::OK, "{:?}", payload.body);
        let text = payload.body.to_string();
        assert!(!text.contains(phone_digits), "{text}");
        assert!(!text.contains(&accepted.customer_id), "{text}");
        assert!(!text.contains('@'), "{text}");
        assert!(
            text.contains("Teman "),
            "the customer appears by alias: {text}"
        );
    }
    assert_eq!(payloads[1].body["chats"].as_array().unwrap().len(), 1);
    assert_eq!(payloads[4].body["chats"][0]["status"], "ended");
    // Outbox events a mitra may receive carry no customer either.
    let events: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT payload FROM outbox WHERE aggregate_id = $1::uuid")
            .bind(&accepted.chat)
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    for event in events {
        assert!(
            !event.to_string().contains(&accepted.customer_id),
            "{event}"
        );
    }
}
