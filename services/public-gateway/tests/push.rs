//! Push through the FCM double: a recipient with no socket is pushed (no
//! message text, the Android channel from the seed's rule, iOS through the
//! `apns` block); a dead token is pruned; a throttled send is retried; a
//! recipient with a socket is not pushed; devices come and go with the app.

mod common;

use std::time::Duration;

use common::sockets::{active_pair, message, next, open, send};
use common::{TestApp, spawn_app_configured};
use halo_push::double::FcmDouble;
use halo_testkit::eventually;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const BEARER: &str = "fcm-test-access-token";

async fn app_pushing_to(fcm: &FcmDouble) -> TestApp {
    spawn_app_configured(
        &[],
        &[
            ("FCM_PROJECT_ID", "halo-test"),
            ("FCM_API_BASE_URL", fcm.url()),
            ("FCM_ACCESS_TOKEN", BEARER),
        ],
    )
    .await
}

async fn register_device(app: &TestApp, access: &str, token: &str, platform: &str) {
    let registered = app
        .call(
            Method::POST,
            "/api/shared/devices",
            Some(access),
            Some(json!({"token": token, "platform": platform})),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        registered.body
    );
}

async fn devices_of(app: &TestApp, token_prefix: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM push_devices WHERE token LIKE $1 || '%'")
        .bind(token_prefix)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

fn delivered_to<'a>(fcm: &'a [Value], token: &str) -> Option<&'a Value> {
    fcm.iter().find(|m| m["token"] == token)
}

#[tokio::test]
async fn a_message_for_a_mitra_with_no_socket_is_pushed_without_its_text_and_dead_tokens_are_pruned()
 {
    let fcm = FcmDouble::start(BEARER).await;
    let app = app_pushing_to(&fcm).await;
    let pair = active_pair(&app, 1).await;
    register_device(&app, &pair.mitra, "good-mitra-android", "android").await;
    register_device(&app, &pair.mitra, "throttled-mitra-ios", "ios").await;
    register_device(&app, &pair.mitra, "unregistered-mitra-old", "android").await;
    register_device(&app, &pair.mitra, "invalid-mitra-garbled", "android").await;
    register_device(&app, &pair.customer, "good-customer-android", "android").await;
    let mut customer = open(&app.base, &pair.customer).await;

    send(&mut customer, message(&pair.chat, "c-1", "rahasia kecil")).await;
    next(&mut customer, "ack").await;

    let both = eventually(Duration::from_secs(6), || async {
        let delivered = fcm.delivered();
        delivered_to(&delivered, "good-mitra-android").is_some()
            && delivered_to(&delivered, "throttled-mitra-ios").is_some()
    })
    .await;
    assert!(
        both.is_some(),
        "both live devices of the mitra are pushed, the throttled one after a retry"
    );
    let pushed = fcm.delivered();
    let android = delivered_to(&pushed, "good-mitra-android").unwrap();
    assert_eq!(android["android"]["priority"], "HIGH");
    assert_eq!(
        android["android"]["notification"]["channel_id"],
        "halobestie_chat_v2"
    );
    assert_eq!(
        android["data"],
        json!({"chat_id": pair.chat, "event": "message"})
    );
    let ios = delivered_to(&pushed, "throttled-mitra-ios").unwrap();
    assert_eq!(ios["apns"]["headers"]["apns-priority"], "10");
    assert!(ios.get("android").is_none());
    for push in &pushed {
        let text = push.to_string();
        assert!(
            !text.contains("rahasia"),
            "no message text in a push: {text}"
        );
        assert!(!text.contains(&pair.customer_id), "{text}");
    }
    assert!(
        delivered_to(&pushed, "good-customer-android").is_none(),
        "the sender is not pushed"
    );
    let pruned = eventually(Duration::from_secs(5), || async {
        devices_of(&app, "unregistered").await == 0 && devices_of(&app, "invalid").await == 0
    })
    .await;
    assert!(
        pruned.is_some(),
        "UNREGISTERED and invalid tokens are forgotten"
    );
    assert_eq!(devices_of(&app, "good-mitra").await, 1, "live tokens stay");
}

#[tokio::test]
async fn a_recipient_with_a_socket_gets_the_frame_and_no_push() {
    let fcm = FcmDouble::start(BEARER).await;
    let app = app_pushing_to(&fcm).await;
    let pair = active_pair(&app, 2).await;
    register_device(&app, &pair.mitra, "good-mitra-online", "android").await;
    let mut customer = open(&app.base, &pair.customer).await;
    let mut mitra = open(&app.base, &pair.mitra).await;

    send(&mut customer, message(&pair.chat, "c-1", "halo")).await;
    next(&mut mitra, "message").await;

    // The push would be decided before the frame went out; give a wrongly
    // queued one time to reach the double.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(fcm.delivered().is_empty(), "{:?}", fcm.delivered());
}

#[tokio::test]
async fn devices_are_registered_removed_and_forgotten_at_logout() {
    let fcm = FcmDouble::start(BEARER).await;
    let app = app_pushing_to(&fcm).await;
    let pair = active_pair(&app, 3).await;
    register_device(&app, &pair.customer, "good-phone", "android").await;
    register_device(&app, &pair.customer, "good-phone", "ios").await;
    assert_eq!(
        devices_of(&app, "good-phone").await,
        1,
        "a token is registered once"
    );

    let path = "/api/shared/devices/good-phone";
    let removed = app
        .call(Method::DELETE, path, Some(&pair.customer), None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let again = app
        .call(Method::DELETE, path, Some(&pair.customer), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.error_code(), "device_not_found");
    let refused = app
        .call(
            Method::POST,
            "/api/shared/devices",
            Some(&pair.customer),
            Some(json!({"token": "good-phone", "platform": "windows"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    register_device(&app, &pair.customer, "good-phone", "android").await;
    let logout = app
        .call(
            Method::POST,
            "/api/shared/auth/logout",
            Some(&pair.customer),
            None,
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(
        devices_of(&app, "good-phone").await,
        0,
        "logout removes the session's tokens"
    );
}
