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
