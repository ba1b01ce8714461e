//! The CC settings page: read, validated optimistic PATCH, history.

mod common;

use common::{setting_value, spawn_cc};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn settings_show_each_knob_with_its_bounds_and_env_dependencies_and_an_etag() {
    let cc = spawn_cc().await;
    cc.add_operator("ops@halobestie.id", "operator").await;
    let access = cc.access_token("ops@halobestie.id").await;
    let answer = cc.settings(&access).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers["etag"].to_str().unwrap(),
        format!("\"{}\"", answer.body["version"].as_str().unwrap())
    );
    let settings = answer.body["settings"].as_array().unwrap();
    assert_eq!(settings.len(), halo_knobs::KNOBS.len());
    let stale = settings
        .iter()
        .find(|s| s["key"] == "mitra_stale_after_seconds")
        .unwrap();
    assert_eq!(stale["min"], 60, "twice the env heartbeat cadence");
    assert_eq!(stale["depends_on"]["MITRA_HEARTBEAT_CADENCE_SECONDS"], 30);
    assert_eq!(answer.body["env"]["MITRA_HEARTBEAT_CADENCE_SECONDS"], 30);
}

#[tokio::test]
async fn an_admin_change_is_applied_recorded_and_bumps_the_etag() {
    let cc = spawn_cc().await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let access = cc.access_token("admin@halobestie.id").await;
    let etag = cc.etag(&access).await;
    let patched = cc
        .patch_settings(
            &access,
            Some(&etag),
            json!({"max_customers_per_mitra": 5, "mitra_stale_after_seconds": 120}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_ne!(patched.headers["etag"].to_str().unwrap(), etag);
    assert_eq!(setting_value(&patched, "max_customers_per_mitra"), 5);
    assert_eq!(setting_value(&patched, "mitra_stale_after_seconds"), 120);

    let history = cc
        .send(
            cc.http
                .get(cc.url("/internal/settings/history"))
                .bearer_auth(&access),
        )
        .await;
    let changes = history.body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    let change = changes
        .iter()
        .find(|c| c["key"] == "max_customers_per_mitra")
        .unwrap();
    assert_eq!(
        (change["old_value"].clone(), change["new_value"].clone()),
        (json!(3), json!(5))
    );
    assert_eq!(change["changed_by_email"], "admin@halobestie.id");
}

#[tokio::test]
async fn a_change_based_on_a_stale_version_is_a_409_and_writes_nothing() {
    let cc = spawn_cc().await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let access = cc.access_token("admin@halobestie.id").await;
    let etag = cc.etag(&access).await;
    let first = cc
        .patch_settings(
            &access,
            Some(&etag),
            json!({"extension_timeout_seconds": 90}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let second = cc
        .patch_settings(
            &access,
            Some(&etag),
            json!({"extension_timeout_seconds": 120}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.error_code(), "version_conflict");
    assert_eq!(
        setting_value(&cc.settings(&access).await, "extension_timeout_seconds"),
        90
    );
}

#[tokio::test]
async fn invalid_values_are_field_errors_and_nothing_is_applied() {
    let cc = spawn_cc().await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let access = cc.access_token("admin@halobestie.id").await;
    let etag = cc.etag(&access).await;
    let answer = cc
        .patch_settings(
            &access,
            Some(&etag),
            json!({
                "mitra_stale_after_seconds": 45,
                "pricing_tiers": [{"id": "a", "label": "A", "duration_minutes": 30, "price_idr": 500}],
                "colour": "pink",
            }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let details: Vec<(&str, &str)> = answer.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["field"].as_str().unwrap(), d["code"].as_str().unwrap()))
        .collect();
    for expected in [
        ("colour", "unknown_setting"),
        ("mitra_stale_after_seconds", "below_heartbeat_bound"),
        ("pricing_tiers[0].price_idr", "below_payment_minimum"),
    ] {
        assert!(
            details.contains(&expected),
            "{expected:?} not in {details:?}"
        );
    }
    assert_eq!(cc.etag(&access).await, etag, "nothing was written");
}

#[tokio::test]
async fn operators_may_read_but_not_change_settings() {
    let cc = spawn_cc().await;
    cc.add_operator("ops@halobestie.id", "operator").await;
    let access = cc.access_token("ops@halobestie.id").await;
    let etag = cc.etag(&access).await;
    let answer = cc
        .patch_settings(&access, Some(&etag), json!({"max_customers_per_mitra": 4}))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.error_code(), "admin_only");
}

#[tokio::test]
async fn a_change_without_if_match_is_refused() {
    let cc = spawn_cc().await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let access = cc.access_token("admin@halobestie.id").await;
    let answer = cc
        .patch_settings(&access, None, json!({"max_customers_per_mitra": 4}))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error_code(), "if_match_required");
}

#[tokio::test]
async fn a_history_limit_outside_the_documented_range_is_a_400_naming_limit() {
    let cc = spawn_cc().await;
    cc.add_operator("ops@halobestie.id", "operator").await;
    let access = cc.access_token("ops@halobestie.id").await;
    for limit in ["0", "201"] {
        let answer = cc
            .send(
                cc.http
                    .get(cc.url(&format!("/internal/settings/history?limit={limit}")))
                    .bearer_auth(&access),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "limit={limit}");
        assert_eq!(answer.body["error"]["details"][0]["field"], "limit");
    }
}

#[tokio::test]
async fn a_setting_value_is_documented_as_any_json_as_the_page_sends_integers_and_lists() {
    let doc = serde_json::to_value(internal_cc::openapi()).unwrap();
    let value = &doc["components"]["schemas"]["SettingView"]["properties"]["value"];
    assert!(value.get("type").is_none(), "{value}");
    let cc = spawn_cc().await;
    cc.add_operator("ops@halobestie.id", "operator").await;
    let access = cc.access_token("ops@halobestie.id").await;
    let settings = cc.settings(&access).await;
    assert!(setting_value(&settings, "max_customers_per_mitra").is_i64());
    assert!(setting_value(&settings, "pricing_tiers").is_array());
}
