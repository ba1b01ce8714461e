//! `GET /api/shared/config`: public, with ETag revalidation.

mod common;

use std::time::Duration;

use common::spawn_app;
use halo_testkit::eventually;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_app_config_is_public_and_carries_what_the_apps_must_honour() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/api/shared/config", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("etag"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["mitra_heartbeat_cadence_seconds"], 30);
    assert_eq!(body["pricing_tiers"][0]["id"], "chat_30");
    assert_eq!(body["support_handles"]["instagram"], "halobestie.id");
    assert_eq!(body["extension_timeout_seconds"], 60);
}

#[tokio::test]
async fn if_none_match_with_the_current_etag_answers_304_until_a_knob_changes() {
    let app = spawn_app().await;
    let url = format!("{}/api/shared/config", app.base);
    let first = app.http.get(&url).send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let revalidate = || app.http.get(&url).header("if-none-match", &etag).send();
    let same = revalidate().await.unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);
    assert!(same.bytes().await.unwrap().is_empty());

    app.set_knobs(json!({"extension_timeout_seconds": 90}))
        .await;
    // The edge polls the knob version every second in tests.
    let seen = eventually(Duration::from_secs(3), || async {
        revalidate().await.unwrap().status() == StatusCode::OK
    })
    .await;
    assert!(seen.is_some(), "the change never reached the gateway");
    let changed = revalidate().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    let body: serde_json::Value = changed.json().await.unwrap();
    assert_eq!(body["extension_timeout_seconds"], 90);
}
