//! A settings change made in the CC reaches the public gateway's copy of the
//! knobs (what `GET /api/shared/config` serves) through Valkey within 1 s,
//! and, with Valkey stopped, within the gateway's poll TTL.

mod common;

use std::time::Duration;

use common::spawn_cc_on;
use halo_core::testing::{TestStack, edge_env};
use halo_testkit::{RedisServer, eventually, wait_until_ready};
use reqwest::StatusCode;
use serde_json::{Value, json};

const GATEWAY_TTL_SECONDS: u64 = 2;

async fn extension_timeout(gateway: &str) -> Option<i64> {
    let answer = reqwest::get(format!("{gateway}/api/shared/config"))
        .await
        .ok()?;
    let body: Value = answer.json().await.ok()?;
    body["extension_timeout_seconds"].as_i64()
}

#[tokio::test]
async fn a_cc_change_reaches_the_gateway_through_valkey_and_by_polling_while_valkey_is_down() {
    let mut redis = RedisServer::start().await;
    let redis_url = redis.url();
    // The core polls slowly, so only the broadcast (or the gateway's own
    // version check) can explain a quick arrival.
    let stack = TestStack::start(&[
        ("REDIS_URL", redis_url.as_str()),
        ("CONFIG_CACHE_TTL_SECONDS", "300"),
    ])
    .await;
    let gateway_env = edge_env(
        &stack.db.url,
        &stack.core.url,
        &[
            ("REDIS_URL", redis_url.as_str()),
            ("CONFIG_CACHE_TTL_SECONDS", &GATEWAY_TTL_SECONDS.to_string()),
        ],
    );
    let config = public_gateway::GatewayConfig::from_env(&gateway_env).unwrap();
    let gateway = halo_testkit::serve(|listener| async move {
        public_gateway::serve(&config, listener, std::future::pending()).await
    })
    .await;
    wait_until_ready(&gateway).await;
    let cc = spawn_cc_on(stack, &[("REDIS_URL", redis_url.as_str())]).await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let access = cc.access_token("admin@halobestie.id").await;
    tokio::time::sleep(Duration::from_millis(300)).await; // subscriptions up

    let patch = |seconds: i64| {
        let (cc, access) = (&cc, &access);
        async move {
            let etag = cc.etag(access).await;
            let answer = cc
                .patch_settings(
                    access,
                    Some(&etag),
                    json!({"extension_timeout_seconds": seconds}),
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        }
    };
    let seen_within = |seconds: i64, bound: Duration| {
        let gateway = gateway.clone();
        async move {
            eventually(bound, || async {
                extension_timeout(&gateway).await == Some(seconds)
            })
            .await
        }
    };

    patch(90).await;
    let took = seen_within(90, Duration::from_secs(1)).await;
    assert!(took.is_some(), "not seen through Valkey within 1 s");

    redis.stop();
    patch(120).await;
    let took = seen_within(120, Duration::from_secs(GATEWAY_TTL_SECONDS + 1)).await;
    assert!(
        took.is_some(),
        "not seen within the gateway's poll TTL while Valkey was down"
    );
}
