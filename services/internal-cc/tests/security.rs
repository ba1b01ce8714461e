//! What an outside prober sees of the CC edge's defences: strict input and
//! login throttling that cannot lock the admin out.

mod common;

use common::spawn_cc;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_login_email_with_a_nul_byte_is_a_400_naming_the_field() {
    let cc = spawn_cc().await;
    let answer = cc.login("admin\u{0}@halobestie.id", "whatever").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(answer.error_code(), "validation_failed");
    assert_eq!(answer.body["error"]["details"][0]["field"], "email");
    assert_eq!(
        answer.body["error"]["details"][0]["code"],
        "invalid_characters"
    );
}

#[tokio::test]
async fn a_tier_label_with_a_nul_byte_is_a_400_naming_the_tier_field() {
    let cc = spawn_cc().await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let access = cc.access_token("admin@halobestie.id").await;
    let etag = cc.etag(&access).await;
    let tiers = json!([{"id": "chat_30", "label": "30\u{0} menit", "duration_minutes": 30, "price_idr": 25000}]);
    let answer = cc
        .patch_settings(&access, Some(&etag), json!({ "pricing_tiers": tiers }))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(answer.error_code(), "validation_failed");
    assert_eq!(
        answer.body["error"]["details"][0]["field"],
        "pricing_tiers[0].label"
    );
}

const OPERATOR: &str = "ops@halobestie.id";

/// Logs in from `ip` (the one X-Forwarded-For entry Cloud Run would add).
async fn login_from(cc: &common::TestCc, ip: &str, password: &str) -> halo_testkit::Answer {
    cc.send(
        cc.http
            .post(cc.url("/internal/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": OPERATOR, "password": password})),
    )
    .await
}

/// Moves every recorded login attempt `seconds` into the past.
async fn age_attempts(cc: &common::TestCc, seconds: f64) {
    sqlx::query(
        "UPDATE auth.login_attempts SET attempted_at = attempted_at - make_interval(secs => $1)",
    )
    .bind(seconds)
    .execute(&cc.db.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_guesser_is_stopped_at_their_ip_and_the_operator_still_signs_in_from_theirs() {
    let cc = spawn_cc().await;
    cc.add_operator(OPERATOR, "operator").await;
    for _ in 0..5 {
        let guess = login_from(&cc, "203.0.113.66", "guess").await;
        assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
    }
    let stopped = login_from(&cc, "203.0.113.66", common::PASSWORD).await;
    assert_eq!(stopped.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(stopped.error_code(), "login_throttled");

    // Past the one-second delay the fifth failure set, the operator's own
    // IP gets in: no lockout.
    age_attempts(&cc, 2.0).await;
    let operator = login_from(&cc, "198.51.100.10", common::PASSWORD).await;
    assert_eq!(operator.status, StatusCode::OK, "{:?}", operator.body);
    assert_eq!(operator.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn guesses_at_one_email_from_many_ips_meet_a_growing_delay_not_a_lock() {
    let cc = spawn_cc().await;
    cc.add_operator(OPERATOR, "operator").await;
    for n in 1..=5 {
        let guess = login_from(&cc, &format!("203.0.113.{n}"), "guess").await;
        assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
    }
    let mut waits = Vec::new();
    for n in 6..=8 {
        let early = login_from(&cc, &format!("203.0.113.{n}"), "guess").await;
        assert_eq!(early.status, StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = early.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        waits.push(wait);
        age_attempts(&cc, wait as f64).await;
        let later = login_from(&cc, &format!("203.0.113.{n}"), "guess").await;
        assert_eq!(later.status, StatusCode::UNAUTHORIZED, "{:?}", later.body);
    }
    assert_eq!(waits, [1, 2, 4]);
    age_attempts(&cc, 60.0).await;
    let operator = login_from(&cc, "198.51.100.10", common::PASSWORD).await;
    assert_eq!(operator.status, StatusCode::OK, "{:?}", operator.body);
}
