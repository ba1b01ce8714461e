//! Pruning expired auth rows against a real Postgres: old rows go, recent
//! ones and those a rate limit still counts stay, and several core
//! instances may prune at once.

use std::time::Duration;

use halo_core::auth::otp::Audience;
use halo_core::error::CoreError;
use halo_core::retention::{Pruned, prune};
use halo_core::testing::{config, spawn};
use halo_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

const THIRTY_DAYS: Duration = Duration::from_secs(30 * 86_400);

/// A customer session `age_days` old, refreshed once (generation 1 retired
/// then, generation 2 live); `revoked_days_ago` revokes it.
async fn session(pool: &PgPool, age_days: i32, revoked_days_ago: Option<i32>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO auth.sessions (id, user_id, user_type, refresh_generation, created_at, expires_at, revoked_at)
         VALUES ($1, $2, 'customer', 2, now() - make_interval(days => $3),
                 now() - make_interval(days => $3) + interval '30 days',
                 now() - make_interval(days => $4))",
    )
    .bind(id)
    .bind(Uuid::now_v7())
    .bind(age_days)
    .bind(revoked_days_ago)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO auth.refresh_tokens (session_id, generation, token_hash, issued_at, rotated_at)
         VALUES ($1, 1, 'h1', now() - make_interval(days => $2), now() - make_interval(days => $2)),
                ($1, 2, 'h2', now() - make_interval(days => $2), NULL)",
    )
    .bind(id)
    .bind(age_days)
    .execute(pool)
    .await
    .unwrap();
    id
}

async fn otp_challenge(pool: &PgPool, phone: &str, minutes_ago: i32) {
    sqlx::query(
        "INSERT INTO auth.otp_challenges (id, phone, audience, code_hash, client_ip, created_at, expires_at, consumed_at)
         VALUES ($1, $2, 'customer', '\\x00', '10.0.0.1', now() - make_interval(mins => $3),
                 now() - make_interval(mins => $3) + interval '5 minutes',
                 now() - make_interval(mins => $3) + interval '1 minute')",
    )
    .bind(Uuid::now_v7())
    .bind(phone)
    .bind(minutes_ago)
    .execute(pool)
    .await
    .unwrap();
}

async fn failed_login(pool: &PgPool, email: &str, minutes_ago: i32) {
    sqlx::query(
        "INSERT INTO auth.login_attempts (email, client_ip, succeeded, attempted_at)
         VALUES ($1, '10.0.0.1', false, now() - make_interval(mins => $2))",
    )
    .bind(email)
    .bind(minutes_ago)
    .execute(pool)
    .await
    .unwrap();
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

const DAY: i32 = 24 * 60;

#[tokio::test]
async fn pruning_removes_auth_rows_past_the_retention_and_keeps_the_rest() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    session(pool, 45, Some(40)).await;
    session(pool, 70, None).await;
    let revoked_yesterday = session(pool, 3, Some(1)).await;
    let live_but_old = session(pool, 40, None).await;
    sqlx::query("UPDATE auth.sessions SET expires_at = now() + interval '20 days' WHERE id = $1")
        .bind(live_but_old)
        .execute(pool)
        .await
        .unwrap();
    otp_challenge(pool, "+6281100000001", 40 * DAY).await;
    otp_challenge(pool, "+6281100000002", 10).await;
    failed_login(pool, "old@halobestie.id", 40 * DAY).await;
    failed_login(pool, "new@halobestie.id", 5).await;
    sqlx::query(
        "INSERT INTO auth.rate_limit_hits (bucket, key, hit_at) VALUES
            ('refresh_ip', '10.0.0.9', now() - interval '61 minutes'),
            ('refresh_ip', '10.0.0.9', now() - interval '59 minutes')",
    )
    .execute(pool)
    .await
    .unwrap();

    let pruned = prune(pool, THIRTY_DAYS).await.unwrap();

    assert_eq!(
        pruned,
        Pruned {
            sessions: 2,
            refresh_tokens: 1,
            otp_challenges: 1,
            login_attempts: 1,
            rate_limit_hits: 1,
        }
    );
    assert_eq!(
        count(pool, "SELECT count(*) FROM auth.rate_limit_hits").await,
        1,
        "a hit within the hour still counts toward its limit"
    );
    let sessions: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM auth.sessions ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(sessions, vec![revoked_yesterday, live_but_old]);
    let live_tokens: Vec<i32> = sqlx::query_scalar(
        "SELECT generation FROM auth.refresh_tokens WHERE session_id = $1 ORDER BY generation",
    )
    .bind(live_but_old)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        live_tokens,
        vec![2],
        "the live token of a live session stays"
    );
    assert_eq!(
        count(pool, "SELECT count(*) FROM auth.refresh_tokens").await,
        3,
        "yesterday's revoked session keeps both tokens, the live one its current"
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM auth.otp_challenges WHERE phone = '+6281100000002'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM auth.login_attempts WHERE email = 'new@halobestie.id'"
        )
        .await,
        1
    );
    assert_eq!(prune(pool, THIRTY_DAYS).await.unwrap(), Pruned::default());
}

#[tokio::test]
async fn pruning_never_removes_rows_a_rate_limit_still_counts() {
    halo_core::install_crypto_provider();
    let db = TestDb::new().await;
    let core = spawn(&config(&db.url, &[]), db.pool.clone()).await;
    let phone = "+6281100000003";
    // Five used codes this hour: the per-phone hourly limit (5) is reached.
    for minutes_ago in [50, 40, 30, 20, 10] {
        otp_challenge(&db.pool, phone, minutes_ago).await;
    }
    for _ in 0..5 {
        failed_login(&db.pool, "target@halobestie.id", 3).await;
    }

    let pruned = prune(&db.pool, Duration::ZERO).await.unwrap();

    assert_eq!(pruned, Pruned::default());
    let refused = core
        .state
        .auth
        .otp
        .request(phone, Audience::Customer, "10.0.0.2")
        .await
        .err();
    assert!(
        matches!(refused, Some(CoreError::OtpRateLimited { .. })),
        "{refused:?}"
    );
    let throttled = core
        .state
        .auth
        .cc
        // From the address that made the failures: five per (email, IP).
        .check("target@halobestie.id", "a guess", "10.0.0.1")
        .await
        .err();
    assert!(
        matches!(throttled, Some(CoreError::LoginThrottled { .. })),
        "{throttled:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_pruning_at_once_delete_every_old_row_exactly_once() {
    let db = TestDb::new().await;
    sqlx::query(
        "INSERT INTO auth.login_attempts (email, client_ip, succeeded, attempted_at)
         SELECT 'e' || n || '@halobestie.id', '10.0.0.1', false, now() - interval '40 days'
         FROM generate_series(1, 4500) AS n",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    for _ in 0..20 {
        session(&db.pool, 45, Some(40)).await;
    }
    let other_instance = PgPool::connect(&db.url).await.unwrap();

    let (first, second) = tokio::join!(
        prune(&db.pool, THIRTY_DAYS),
        prune(&other_instance, THIRTY_DAYS)
    );

    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.login_attempts + second.login_attempts, 4500);
    assert_eq!(first.sessions + second.sessions, 20);
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM auth.login_attempts").await,
        0
    );
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM auth.refresh_tokens").await,
        0
    );
}
