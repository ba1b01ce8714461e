//! After a chat: the customer rates it once (the mitra's card shows it),
//! and either side may report it to the CC.

mod common;

use common::{accepted_chat, signed_in_mitra, spawn_paying_app, token, topics};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_customer_rates_an_ended_chat_once_and_the_mitras_card_shows_it() {
    let app = spawn_paying_app(&[]).await;
    let chat = accepted_chat(&app, 1).await;
    let path = format!("/api/client/chats/{}/rating", chat.chat);
    let rate = |body| app.call(Method::POST, &path, Some(&chat.customer), Some(body));

    let too_early = rate(json!({"stars": 5})).await;
    assert_eq!(too_early.status, StatusCode::CONFLICT);
    assert_eq!(too_early.error_code(), "chat_not_ended");
    app.call(
        Method::POST,
        &format!("/api/client/chats/{}/end", chat.chat),
        Some(&chat.customer),
        None,
    )
    .await;
    for (body, field) in [
        (json!({"stars": 0}), "stars"),
        (json!({"stars": 6}), "stars"),
        (json!({"stars": 4.5}), "stars"),
        (json!({"stars": 4, "note": "x".repeat(1001)}), "note"),
        (json!({"stars": 4, "note": "nul\u{0}"}), "note"),
    ] {
        let refused = rate(body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{:?}",
            refused.body
        );
        assert_eq!(refused.body["error"]["details"][0]["field"], field);
    }

    let rated = rate(json!({"stars": 4.0, "note": "Baik sekali,\nterima kasih"})).await;
    assert_eq!(rated.status, StatusCode::CREATED, "{:?}", rated.body);
    assert_eq!(rated.body["stars"], 4);
    assert_eq!(rated.body["note"], "Baik sekali,\nterima kasih");
    let again = rate(json!({"stars": 1})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error_code(), "already_rated");

    let mitra_id: String =
        sqlx::query_scalar("SELECT mitra_id::text FROM chats WHERE id = $1::uuid")
            .bind(&chat.chat)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let card = app
        .get(&format!("/api/client/mitras/{mitra_id}"), &chat.customer)
        .await;
    assert_eq!(card.status, StatusCode::OK, "{:?}", card.body);
    assert_eq!(card.body["rating"]["count"], 1);
    assert_eq!(card.body["rating"]["average"], 4.0);
    let other = token(&app.anonymous().await, "access_token");
    let stranger = app
        .call(Method::POST, &path, Some(&other), Some(json!({"stars": 1})))
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn either_side_reports_a_chat_once_while_the_report_is_open() {
    let app = spawn_paying_app(&[]).await;
    let chat = accepted_chat(&app, 2).await;
    let (_, other_mitra) = signed_in_mitra(&app, "+6281200000699").await;
    let client_path = format!("/api/client/chats/{}/reports", chat.chat);
    let mitra_path = format!("/api/mitra/chats/{}/reports", chat.chat);
    let body = json!({"reason": "harassment", "note": "Kata-kata kasar"});

    let reported = app
        .call(
            Method::POST,
            &client_path,
            Some(&chat.customer),
            Some(body.clone()),
        )
        .await;
    assert_eq!(reported.status, StatusCode::CREATED, "{:?}", reported.body);
    assert_eq!(reported.body["status"], "open");
    assert_eq!(reported.body["reason"], "harassment");
    let twice = app
        .call(
            Method::POST,
            &client_path,
            Some(&chat.customer),
            Some(body.clone()),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.error_code(), "report_open");
    let by_mitra = app
        .call(
            Method::POST,
            &mitra_path,
            Some(&chat.mitra),
            Some(json!({"reason": "self_harm_risk"})),
        )
        .await;
    assert_eq!(by_mitra.status, StatusCode::CREATED, "{:?}", by_mitra.body);
    let by_stranger = app
        .call(Method::POST, &mitra_path, Some(&other_mitra), Some(body))
        .await;
    assert_eq!(by_stranger.status, StatusCode::NOT_FOUND);
    let unknown_reason = app
        .call(
            Method::POST,
            &client_path,
            Some(&chat.customer),
            Some(json!({"reason": "boring"})),
        )
        .await;
    assert_eq!(
        unknown_reason.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        unknown_reason.body
    );

    let open: Vec<(String, String)> = sqlx::query_as(
        "SELECT reporter_type, status FROM chat_reports WHERE chat_id = $1::uuid ORDER BY created_at",
    )
    .bind(&chat.chat)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        open,
        [
            ("customer".to_owned(), "open".to_owned()),
            ("mitra".to_owned(), "open".to_owned())
        ]
    );
    let opened = topics(&app, &chat.chat)
        .await
        .into_iter()
        .filter(|t| t == "report.opened")
        .count();
    assert_eq!(opened, 2, "the CC hears of each report");
}
