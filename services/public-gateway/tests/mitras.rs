//! Presence and the mitra list: what a customer sees of mitras, and how a
//! mitra's status and heartbeats move them between available, busy and
//! offline.

mod common;

use std::time::Duration;

use common::{TestApp, spawn_app, token};
use halo_testkit::eventually;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// A registered mitra, signed in: their id and access token.
async fn mitra(app: &TestApp, phone: &str) -> (Uuid, String) {
    let id = app.register_mitra(phone).await;
    let answer = app.otp_sign_in("mitra", phone, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    (id, token(&answer.body, "access_token"))
}

async fn set_presence(app: &TestApp, access: &str, status: &str) -> Value {
    let answer = app
        .call(
            Method::PUT,
            "/api/mitra/presence",
            Some(access),
            Some(json!({ "status": status })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body
}

/// The ids and availabilities of the first page, in order.
async fn listed(app: &TestApp, customer: &str) -> Vec<(String, String)> {
    let answer = app.get("/api/client/mitras", customer).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["mitras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["availability"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Holds every slot of `mitra` with open invoices of a new customer, as
/// orders that chose them do.
async fn fill_slots(app: &TestApp, mitra: Uuid, slots: i64) {
    let customer = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, user_type, is_anonymous) VALUES ($1, 'customer', true)")
        .bind(customer)
        .execute(&app.db.pool)
        .await
        .unwrap();
    for n in 0..slots {
        sqlx::query(
            "INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label,
                                 duration_minutes, amount_idr, mitra_id, allow_fallback, status, expires_at)
             VALUES ($1, $2, $3, '\\x00', 'chat_30', '30 menit', 30, 25000, $4, false,
                     'pending_payment', now() + interval '30 minutes')",
        )
        .bind(Uuid::now_v7())
        .bind(customer)
        .bind(format!("hold-{n}"))
        .bind(mitra)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn customers_see_available_mitras_first_then_busy_ones_then_offline_ones() {
    let app = spawn_app().await;
    let (offline, offline_access) = mitra(&app, "+6281200000001").await;
    set_presence(&app, &offline_access, "offline").await;
    let (full, full_access) = mitra(&app, "+6281200000002").await;
    let (free, free_access) = mitra(&app, "+6281200000003").await;
    set_presence(&app, &full_access, "online").await;
    set_presence(&app, &free_access, "online").await;
    fill_slots(&app, full, 3).await;
    let customer = token(&app.anonymous().await, "access_token");

    let expected = vec![
        (free.to_string(), "available".to_owned()),
        (full.to_string(), "busy".to_owned()),
        (offline.to_string(), "offline".to_owned()),
    ];
    assert_eq!(listed(&app, &customer).await, expected);

    // A higher capacity frees the full mitra, once the edge has the knob.
    app.set_knobs(json!({"max_customers_per_mitra": 4})).await;
    let freed = eventually(Duration::from_secs(5), || async {
        listed(&app, &customer)
            .await
            .iter()
            .filter(|(_, a)| a == "available")
            .count()
            == 2
    })
    .await;
    assert!(
        freed.is_some(),
        "a slot freed by the knob makes the mitra available"
    );
}

#[tokio::test]
async fn a_mitra_shows_only_their_public_profile_and_ratings() {
    let app = spawn_app().await;
    let (id, access) = mitra(&app, "+6281200000004").await;
    sqlx::query(
        "INSERT INTO mitra_profiles (mitra_id, display_name, photo_url, bio, rating_count, rating_sum)
         VALUES ($1, 'Dewi', 'https://cdn.halobestie.id/dewi.jpg', 'Pendengar yang sabar.', 3, 14)",
    )
    .bind(id)
    .execute(&app.db.pool)
    .await
    .unwrap();
    set_presence(&app, &access, "online").await;
    let customer = token(&app.anonymous().await, "access_token");

    let answer = app
        .get(&format!("/api/client/mitras/{id}"), &customer)
        .await;

    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(
        answer.body,
        json!({"id": id, "display_name": "Dewi", "photo_url": "https://cdn.halobestie.id/dewi.jpg",
               "bio": "Pendengar yang sabar.", "rating": {"average": 4.67, "count": 3},
               "availability": "available"})
    );
    // The list carries the same card, never the phone.
    let list = app.get("/api/client/mitras", &customer).await;
    assert_eq!(list.body["mitras"][0], answer.body);
    assert!(!list.body.to_string().contains("6281200000004"));
}

#[tokio::test]
async fn a_mitra_who_stops_beating_counts_as_offline_until_the_next_heartbeat() {
    let app = spawn_app().await;
    let (id, access) = mitra(&app, "+6281200000005").await;
    let status = set_presence(&app, &access, "online").await;
    assert_eq!(status["status"], "online");
    let customer = token(&app.anonymous().await, "access_token");
    let path = format!("/api/client/mitras/{id}");
    assert_eq!(
        app.get(&path, &customer).await.body["availability"],
        "available"
    );

    // Silent for longer than mitra_stale_after_seconds (90 s).
    sqlx::query("UPDATE mitra_presence SET last_beat_at = now() - interval '91 seconds'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        app.get(&path, &customer).await.body["availability"],
        "offline"
    );

    let beat = app
        .call(
            Method::POST,
            "/api/mitra/presence/heartbeat",
            Some(&access),
            None,
        )
        .await;
    assert_eq!(beat.status, StatusCode::NO_CONTENT);
    let back = eventually(Duration::from_secs(3), || async {
        app.get(&path, &customer).await.body["availability"] == "available"
    })
    .await;
    assert!(
        back.is_some(),
        "the heartbeat reaches Postgres within the flush period"
    );

    // Offline is what the mitra says: a heartbeat does not undo it.
    assert_eq!(
        set_presence(&app, &access, "offline").await["status"],
        "offline"
    );
    app.call(
        Method::POST,
        "/api/mitra/presence/heartbeat",
        Some(&access),
        None,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.get(&path, &customer).await.body["availability"],
        "offline"
    );
}

#[tokio::test]
async fn the_list_pages_with_its_cursor_and_refuses_a_made_up_one() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        ids.push(
            mitra(&app, &format!("+628120000001{n}"))
                .await
                .0
                .to_string(),
        );
    }
    let customer = token(&app.anonymous().await, "access_token");

    let first = app.get("/api/client/mitras?limit=2", &customer).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(
            &format!("/api/client/mitras?limit=2&cursor={cursor}"),
            &customer,
        )
        .await;
    assert_eq!(second.body["next_cursor"], Value::Null);
    let seen: Vec<String> = [&first.body, &second.body]
        .iter()
        .flat_map(|page| page["mitras"].as_array().unwrap().clone())
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(seen, ids, "every mitra once, by id within one availability");

    let bad = app.get("/api/client/mitras?cursor=7.nope", &customer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"]["details"][0]["code"], "invalid_cursor");
}

#[tokio::test]
async fn an_unknown_or_suspended_mitra_is_not_found() {
    let app = spawn_app().await;
    let (suspended, _) = mitra(&app, "+6281200000021").await;
    sqlx::query("UPDATE users SET status = 'suspended' WHERE id = $1")
        .bind(suspended)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let customer = token(&app.anonymous().await, "access_token");

    for id in [suspended, Uuid::now_v7()] {
        let answer = app
            .get(&format!("/api/client/mitras/{id}"), &customer)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.error_code(), "mitra_not_found");
    }
    assert!(listed(&app, &customer).await.is_empty());
}

#[tokio::test]
async fn only_a_mitra_can_set_presence_and_only_to_online_or_offline() {
    let app = spawn_app().await;
    let customer = token(&app.anonymous().await, "access_token");
    let (_, access) = mitra(&app, "+6281200000031").await;

    let answer = app
        .call(
            Method::PUT,
            "/api/mitra/presence",
            Some(&customer),
            Some(json!({"status": "online"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.error_code(), "wrong_user_type");

    let answer = app
        .call(
            Method::PUT,
            "/api/mitra/presence",
            Some(&access),
            Some(json!({"status": "away"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error_code(), "invalid_body");
}
