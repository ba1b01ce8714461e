//! How the gateway behaves as a service: health, readiness, the error
//! shape for every failure, request ids, the route split, OpenAPI, shutdown.

mod common;

use std::time::Duration;

use common::{gateway_config, serve_gateway, spawn_app};
use halo_testkit::{TestDb, eventually};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn readyz_reports_a_down_core_and_recovers_without_a_restart() {
    halo_core::install_crypto_provider();
    let db = TestDb::new().await;
    let core_port = halo_testkit::free_port();
    let core_url = format!("http://127.0.0.1:{core_port}");
    let base = serve_gateway(gateway_config(&db.url, &core_url, &[])).await;
    let http = reqwest::Client::new();

    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let down = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = down.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    assert_eq!(body["error"]["details"][0]["field"], "core");

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", core_port))
        .await
        .unwrap();
    let _core = halo_core::testing::spawn_on(
        &halo_core::testing::config(&db.url, &[]),
        db.pool.clone(),
        listener,
    )
    .await;
    let ready = eventually(Duration::from_secs(10), || async {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
    })
    .await;
    assert!(
        ready.is_some(),
        "readyz did not recover once the core was back"
    );
}

#[tokio::test]
async fn readyz_reports_an_unreachable_postgres_by_name() {
    let app = spawn_app().await;
    let dead_db = format!(
        "postgres://postgres@127.0.0.1:{}/nothing",
        halo_testkit::free_port()
    );
    let base = serve_gateway(gateway_config(&dead_db, &app.core.url, &[])).await;
    let answer = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["field"], "postgres");
}

#[tokio::test]
async fn control_center_routes_do_not_exist_on_the_public_gateway() {
    let app = spawn_app().await;
    for path in [
        "/internal/auth/login",
        "/internal/settings",
        "/internal/healthz",
    ] {
        let answer = app
            .post(path, json!({"email": "a@b.c", "password": "x"}))
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.body["error"]["code"], "route_not_found");
    }
}

#[tokio::test]
async fn every_failure_uses_the_one_error_shape_with_the_request_id() {
    let app = spawn_app().await;
    let url = format!("{}/api/shared/auth/refresh", app.base);
    let cases = [
        (
            app.http.get(&url),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            app.http
                .post(&url)
                .header("content-type", "application/json")
                .body("{not json"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            app.http.post(&url).json(&json!({"refresh": 1})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            app.http.post(&url).body("refresh_token=x"),
            StatusCode::BAD_REQUEST,
            "unsupported_media_type",
        ),
        (
            app.http
                .post(&url)
                .header("content-type", "application/json")
                .body(vec![b' '; 200_000]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            app.http.get(format!("{}/nowhere", app.base)),
            StatusCode::NOT_FOUND,
            "route_not_found",
        ),
    ];
    for (request, status, code) in cases {
        let response = request
            .header("x-request-id", "req-abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{code}");
        assert_eq!(response.headers()["x-request-id"], "req-abc-123");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["request_id"], "req-abc-123");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn a_request_without_an_id_gets_one_generated_and_echoed() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_gets_a_408_in_the_error_shape() {
    let db = TestDb::new().await;
    let core_url = format!("http://{}", halo_testkit::silent_server().await);
    let base = serve_gateway(gateway_config(
        &db.url,
        &core_url,
        &[("HTTP_REQUEST_TIMEOUT_SECONDS", "1")],
    ))
    .await;
    let response = reqwest::Client::new()
        .post(format!("{base}/api/shared/auth/anonymous"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request_timeout");
}

#[tokio::test]
async fn the_openapi_document_covers_every_public_route_and_no_internal_one() {
    let app = spawn_app().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/readyz",
        "/api/shared/auth/anonymous",
        "/api/shared/auth/refresh",
        "/api/shared/auth/logout",
        "/api/client/auth/otp/request",
        "/api/client/auth/otp/verify",
        "/api/mitra/auth/otp/request",
        "/api/mitra/auth/otp/verify",
        "/api/client/auth/google",
        "/api/client/auth/apple",
        "/api/client/me",
        "/api/mitra/me",
        "/api/shared/config",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert!(paths.keys().all(|p| !p.starts_with("/internal")));
    assert_eq!(
        doc,
        serde_json::to_value(public_gateway::openapi()).unwrap()
    );
}

#[tokio::test]
async fn every_documented_operation_lists_the_errors_the_shared_layers_can_send() {
    let doc = serde_json::to_value(public_gateway::openapi()).unwrap();
    let statuses = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is documented"))
            .keys()
            .cloned()
            .collect()
    };
    let patch_me = statuses("/api/client/me", "patch");
    for status in [
        "200", "400", "401", "403", "408", "413", "500", "503", "504",
    ] {
        assert!(
            patch_me.contains(&status.to_owned()),
            "PATCH /api/client/me lacks {status}"
        );
    }
    let anonymous = statuses("/api/shared/auth/anonymous", "post");
    assert!(
        anonymous.contains(&"429".to_owned()),
        "sign-ins may be rate limited"
    );
    assert!(
        !anonymous.contains(&"400".to_owned()),
        "it takes no body to refuse"
    );
    assert!(
        doc["paths"]["/api/shared/auth/anonymous"]["post"]["responses"]["429"]["headers"]
            ["Retry-After"]
            .is_object()
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(
                    !description.is_empty(),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_and_then_refuses_new_ones() {
    let db = TestDb::new().await;
    let core_url = format!("http://{}", halo_testkit::silent_server().await);
    let config = gateway_config(&db.url, &core_url, &[]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        public_gateway::serve(&config, listener, shutdown).await
    });
    // /readyz waits up to 1 s on the silent core: in flight when we stop.
    let in_flight = tokio::spawn(reqwest::get(format!("{base}/readyz")));
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();
    let answer = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was answered, not cut");
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stopped")
        .unwrap()
        .unwrap();
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "new connections are refused"
    );
}

#[test]
fn every_operation_has_its_own_operation_id_as_openapi_requires() {
    let doc = serde_json::to_value(public_gateway::openapi()).unwrap();
    let mut ids: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str().map(str::to_owned))
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        count,
        "duplicate operationIds: generated clients break on them"
    );
}
