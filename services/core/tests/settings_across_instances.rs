//! Two core instances against one Postgres and one Valkey/Redis: a change
//! made through one is seen by the other within 1 s; with Valkey down,
//! within the poll TTL; with Valkey back, within 1 s again.

use std::time::Duration;

use halo_auth::Auth;
use halo_core::testing::{SpawnedCore, TEST_SERVICE_SECRET, TestStack, config, spawn};
use halo_testkit::{RedisServer, eventually};
use halo_web::{CoreClient, CoreClientConfig};

const TTL_SECONDS: u64 = 2;

fn client(core: &SpawnedCore) -> CoreClient {
    CoreClient::connect_lazy(&CoreClientConfig {
        url: core.url.clone(),
        service_secret: TEST_SERVICE_SECRET.to_owned().into(),
    })
    .unwrap()
}

async fn max_customers(core: &SpawnedCore, admin: &Auth) -> i64 {
    let settings = client(core).settings(admin).await.unwrap();
    let setting = settings
        .settings
        .iter()
        .find(|s| s.key == "max_customers_per_mitra")
        .unwrap();
    setting.value_json.parse().unwrap()
}

async fn set_max_customers(core: &SpawnedCore, admin: &Auth, value: i64) {
    let client = client(core);
    let version = client.settings(admin).await.unwrap().version;
    client
        .update_settings(
            admin,
            version,
            format!("{{\"max_customers_per_mitra\": {value}}}"),
            "127.0.0.1".into(),
        )
        .await
        .expect("the change is accepted even when Valkey is down");
}

async fn seen_within(
    core: &SpawnedCore,
    admin: &Auth,
    value: i64,
    bound: Duration,
) -> Option<Duration> {
    eventually(bound, || async {
        max_customers(core, admin).await == value
    })
    .await
}

#[tokio::test]
async fn a_change_reaches_the_other_instance_through_valkey_and_by_polling_while_valkey_is_down() {
    let stack = TestStack::start(&[]).await;
    let (db, admin) = (&stack.db, stack.operator_session("admin").await);
    let mut redis = RedisServer::start().await;
    let ttl = TTL_SECONDS.to_string();
    let overrides = [
        ("REDIS_URL", redis.url()),
        ("CONFIG_CACHE_TTL_SECONDS", ttl),
    ];
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // A long poll first, so the first step can only pass through Valkey.
    let slow_poll: Vec<(&str, &str)> = vec![overrides[0], ("CONFIG_CACHE_TTL_SECONDS", "300")];
    let a = spawn(&config(&db.url, &slow_poll), db.pool.clone()).await;
    let b = spawn(&config(&db.url, &slow_poll), db.pool.clone()).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // subscriptions up

    set_max_customers(&a, &admin, 4).await;
    let took = seen_within(&b, &admin, 4, Duration::from_secs(1)).await;
    assert!(took.is_some(), "not seen through Valkey within 1 s");

    // Now instances that also poll, to show the bound while Valkey is down.
    let c = spawn(&config(&db.url, &overrides), db.pool.clone()).await;
    let d = spawn(&config(&db.url, &overrides), db.pool.clone()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.stop();
    set_max_customers(&c, &admin, 5).await;
    let took = seen_within(&d, &admin, 5, Duration::from_secs(TTL_SECONDS + 1)).await;
    assert!(
        took.is_some(),
        "not seen within the poll TTL while Valkey was down"
    );

    redis.restart().await;
    // The subscriber reconnects with a backoff of at most 2 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    set_max_customers(&a, &admin, 6).await;
    let took = seen_within(&b, &admin, 6, Duration::from_secs(1)).await;
    assert!(took.is_some(), "not seen within 1 s after Valkey came back");
}

#[tokio::test]
async fn without_redis_a_single_instance_still_sees_its_own_change_at_once() {
    let stack = TestStack::start(&[("CONFIG_CACHE_TTL_SECONDS", "300")]).await;
    let admin = stack.operator_session("admin").await;
    let core = &stack.core;
    set_max_customers(core, &admin, 7).await;
    assert_eq!(max_customers(core, &admin).await, 7);
    assert_eq!(
        core.state.settings.snapshot().knobs.max_customers_per_mitra,
        7
    );
}

#[tokio::test]
async fn migrations_run_twice_at_once_are_safe() {
    let db = halo_testkit::TestDb::new().await;
    let (first, second) = tokio::join!(halo_db::migrate(&db.pool), halo_db::migrate(&db.pool));
    first.unwrap();
    second.unwrap();
    let knobs: i64 = sqlx::query_scalar("SELECT count(*) FROM app_config")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        knobs,
        halo_knobs::KNOBS.len() as i64,
        "every knob has a default"
    );
}
