//! Postgres going away under a running stack (a restart, a failover): the
//! apps get a 503 they can retry, never a 500, operators get warnings that
//! name the cause rather than errors, and everything recovers without
//! restarting any of our processes. A broken query, by contrast, stays a 500
//! and an error.

mod common;

use std::time::Duration;

use common::{gateway_config, serve_gateway, spawn_app, token};
use halo_testkit::{Answer, CapturedLogs, PostgresServer, eventually};
use reqwest::StatusCode;
use serde_json::json;

fn assert_retryable_outage(answer: &Answer, what: &str) {
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {:?}",
        answer.body
    );
    assert_eq!(answer.error_code(), "database_unavailable", "{what}");
    assert!(
        answer.body["error"]["request_id"].is_string(),
        "{what}: {:?}",
        answer.body
    );
    let retry_after: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{what}: {retry_after}");
}

#[tokio::test]
async fn a_postgres_outage_answers_a_retryable_503_and_the_stack_recovers_by_itself() {
    halo_core::install_crypto_provider();
    let logs = CapturedLogs::start();
    let postgres = PostgresServer::start().await;
    // Both processes get the pool production builds: lazy, short acquire timeout.
    let core_config = halo_core::testing::config(&postgres.url(), &[]);
    let core_pool = halo_core::connect_pool(&core_config).unwrap();
    let core = halo_core::testing::spawn(&core_config, core_pool).await;
    let base = serve_gateway(gateway_config(&postgres.url(), &core.url, &[])).await;
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, bearer: Option<&str>| {
        let mut request = http.request(method, format!("{base}{path}"));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if path.contains("/auth/") {
            request = request.json(&json!({}));
        }
        Answer::read(request)
    };
    let signed_in = call(reqwest::Method::POST, "/api/shared/auth/anonymous", None).await;
    assert_eq!(
        signed_in.status,
        StatusCode::CREATED,
        "{:?}",
        signed_in.body
    );
    let access = token(&signed_in.body, "access_token");
    let me = call(reqwest::Method::GET, "/api/client/me", Some(&access)).await;
    assert_eq!(me.status, StatusCode::OK);

    postgres.stop();

    let ready = call(reqwest::Method::GET, "/readyz", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.error_code(), "not_ready");
    assert_eq!(ready.body["error"]["details"][0]["field"], "postgres");
    // Read at the edge, straight from Postgres.
    let me = call(reqwest::Method::GET, "/api/client/me", Some(&access)).await;
    assert_retryable_outage(&me, "GET /api/client/me");
    // Written by the core, across the gRPC hop.
    let sign_in = call(reqwest::Method::POST, "/api/shared/auth/anonymous", None).await;
    assert_retryable_outage(&sign_in, "POST /api/shared/auth/anonymous");
    assert_eq!(logs.at("ERROR"), Vec::<String>::new());
    let warnings = logs.at("WARN");
    for answer in [&me, &sign_in] {
        let request_id = answer.body["error"]["request_id"].as_str().unwrap();
        assert!(
            warnings
                .iter()
                .any(|line| line.contains("database unavailable")
                    && line.contains(request_id)
                    && line.contains("error=")),
            "no warning with the cause for request {request_id} in {warnings:#?}"
        );
    }

    postgres.restart().await;

    let ready = eventually(Duration::from_secs(10), || async {
        call(reqwest::Method::GET, "/readyz", None).await.status == StatusCode::OK
    })
    .await;
    assert!(
        ready.is_some(),
        "readyz did not recover once Postgres was back"
    );
    let me = call(reqwest::Method::GET, "/api/client/me", Some(&access)).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    let again = call(reqwest::Method::POST, "/api/shared/auth/anonymous", None).await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
}

#[tokio::test]
async fn a_broken_query_stays_a_500_and_logs_its_cause_with_the_request_id() {
    let logs = CapturedLogs::start();
    let app = spawn_app().await;
    let access = token(&app.anonymous().await, "access_token");
    sqlx::query("ALTER TABLE users RENAME TO users_moved")
        .execute(&app.db.pool)
        .await
        .unwrap();

    let me = app.get("/api/client/me", &access).await;

    assert_eq!(me.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(me.error_code(), "internal");
    assert!(me.headers.get("retry-after").is_none());
    let request_id = me.body["error"]["request_id"].as_str().unwrap();
    let errors = logs.at("ERROR");
    assert!(
        errors.iter().any(|line| line.contains(request_id)
            && line.contains("relation \\\"users\\\" does not exist")),
        "no error line with the cause and the request id: {errors:#?}"
    );
}
