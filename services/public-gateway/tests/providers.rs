//! Google and Apple sign-in against a local JWKS server with generated keys.

mod common;

use common::{spawn_app, spawn_app_with, token};
use halo_testkit::JwksServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn google_claims(sub: &str, aud: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": "https://accounts.google.com", "aud": aud, "sub": sub, "email": "sari@example.com",
           "iat": now, "exp": now + 600})
}

#[tokio::test]
async fn google_sign_in_answers_503_until_its_client_ids_are_configured() {
    let app = spawn_app().await;
    let answer = app
        .post("/api/client/auth/google", json!({"id_token": "x.y.z"}))
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.body["error"]["code"], "provider_not_configured");
}

#[tokio::test]
async fn a_valid_google_token_signs_in_the_same_customer_each_time() {
    let jwks = JwksServer::start().await;
    let app = spawn_app_with(&[
        ("GOOGLE_CLIENT_IDS", "app.apps.googleusercontent.com"),
        ("GOOGLE_JWKS_URL", &jwks.url),
    ])
    .await;
    let id_token = jwks.sign(&google_claims("g-123", "app.apps.googleusercontent.com"));
    let first = app
        .post("/api/client/auth/google", json!({"id_token": id_token}))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["user"]["is_anonymous"], false);
    let again = app
        .post("/api/client/auth/google", json!({"id_token": id_token}))
        .await;
    assert_eq!(again.body["user"]["id"], first.body["user"]["id"]);
    assert_eq!(jwks.fetches(), 1, "the key set is cached");
}

#[tokio::test]
async fn a_google_token_for_another_app_or_signed_by_another_key_is_refused() {
    let jwks = JwksServer::start().await;
    let stranger = JwksServer::start().await;
    let app = spawn_app_with(&[
        ("GOOGLE_CLIENT_IDS", "app.apps.googleusercontent.com"),
        ("GOOGLE_JWKS_URL", &jwks.url),
    ])
    .await;
    let wrong_aud = jwks.sign(&google_claims("g-1", "other.apps.googleusercontent.com"));
    let wrong_key = stranger.sign(&google_claims("g-1", "app.apps.googleusercontent.com"));
    for id_token in [wrong_aud, wrong_key, "garbage".to_owned()] {
        let answer = app
            .post("/api/client/auth/google", json!({"id_token": id_token}))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.body["error"]["code"], "invalid_id_token");
    }
}

#[tokio::test]
async fn a_rotated_provider_key_is_fetched_when_a_token_names_it() {
    let jwks = JwksServer::start().await;
    let app = spawn_app_with(&[
        ("GOOGLE_CLIENT_IDS", "app.apps.googleusercontent.com"),
        ("GOOGLE_JWKS_URL", &jwks.url),
    ])
    .await;
    let before = app
        .post(
            "/api/client/auth/google",
            json!({"id_token": jwks.sign(&google_claims("g-7", "app.apps.googleusercontent.com"))}),
        )
        .await;
    assert_eq!(before.status, StatusCode::OK);
    jwks.rotate();
    // Unknown kids refetch at most once a second (forged kids cannot make
    // us hammer the provider).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let after = app
        .post(
            "/api/client/auth/google",
            json!({"id_token": jwks.sign(&google_claims("g-7", "app.apps.googleusercontent.com"))}),
        )
        .await;
    assert_eq!(after.status, StatusCode::OK, "{:?}", after.body);
    assert_eq!(after.body["user"]["id"], before.body["user"]["id"]);
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn apple_sign_in_checks_the_nonce_and_upgrades_an_anonymous_customer() {
    let jwks = JwksServer::start().await;
    let app = spawn_app_with(&[
        ("APPLE_BUNDLE_IDS", "id.halobestie.client"),
        ("APPLE_JWKS_URL", &jwks.url),
    ])
    .await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": "https://appleid.apple.com", "aud": "id.halobestie.client", "sub": "a-1",
                        "nonce": "n-42", "iat": now, "exp": now + 600});
    let id_token = jwks.sign(&claims);
    let wrong = app
        .post(
            "/api/client/auth/apple",
            json!({"id_token": id_token, "nonce": "n-43"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let anonymous = app.anonymous().await;
    let upgraded = app
        .call(
            Method::POST,
            "/api/client/auth/apple",
            Some(&token(&anonymous, "access_token")),
            Some(json!({"id_token": id_token, "nonce": "n-42"})),
        )
        .await;
    assert_eq!(upgraded.status, StatusCode::OK, "{:?}", upgraded.body);
    assert_eq!(upgraded.body["upgraded"], true);
    assert_eq!(upgraded.body["user"]["id"], anonymous["user"]["id"]);
}
