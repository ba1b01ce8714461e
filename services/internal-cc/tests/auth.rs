//! CC sign-in: password, httpOnly refresh cookie, Origin checks, throttling.

mod common;

use common::{ORIGIN, PASSWORD, refresh_cookie, spawn_cc};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_returns_the_access_token_in_the_body_and_the_refresh_token_only_in_a_strict_cookie()
{
    let cc = spawn_cc().await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let answer = cc.login("Admin@HaloBestie.id", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["user"]["role"], "admin");
    assert_eq!(answer.body["expires_in"], 3600);
    assert!(answer.body.get("refresh_token").is_none());
    let set_cookie = answer.headers["set-cookie"].to_str().unwrap();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(attributes[0].starts_with("halo_cc_refresh="));
    for expected in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/internal/auth",
        "Max-Age=2592000",
    ] {
        assert!(
            attributes.contains(&expected),
            "{expected} missing from {set_cookie}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_look_the_same() {
    let cc = spawn_cc().await;
    cc.add_operator("ops@halobestie.id", "operator").await;
    let wrong = cc.login("ops@halobestie.id", "nope").await;
    let unknown = cc.login("who@halobestie.id", PASSWORD).await;
    for answer in [wrong, unknown] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.body["error"]["code"], "invalid_credentials");
        assert!(!answer.headers.contains_key("set-cookie"));
    }
}

#[tokio::test]
async fn repeated_failures_for_one_email_are_throttled_with_retry_after() {
    let cc = spawn_cc().await;
    cc.add_operator("ops@halobestie.id", "operator").await;
    for _ in 0..5 {
        assert_eq!(
            cc.login("ops@halobestie.id", "guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = cc.login("ops@halobestie.id", PASSWORD).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.body["error"]["code"], "login_throttled");
    assert!(throttled.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn the_cookie_refreshes_only_from_an_allowed_origin_and_rotates() {
    let cc = spawn_cc().await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let login = cc.login("admin@halobestie.id", PASSWORD).await;
    let cookie = refresh_cookie(&login.headers);

    let no_origin = cc
        .send(
            cc.http
                .post(cc.url("/internal/auth/refresh"))
                .header("cookie", &cookie),
        )
        .await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    assert_eq!(no_origin.body["error"]["code"], "origin_not_allowed");
    let evil = cc
        .send(
            cc.http
                .post(cc.url("/internal/auth/refresh"))
                .header("cookie", &cookie)
                .header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);

    let refreshed = cc
        .send(
            cc.http
                .post(cc.url("/internal/auth/refresh"))
                .header("cookie", &cookie)
                .header("origin", ORIGIN),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{:?}", refreshed.body);
    assert!(refreshed.body["access_token"].is_string());
    assert_eq!(
        refreshed.headers["access-control-allow-credentials"],
        "true"
    );
    assert_eq!(refreshed.headers["access-control-allow-origin"], ORIGIN);
    assert_ne!(
        refresh_cookie(&refreshed.headers),
        cookie,
        "the cookie rotated"
    );
}

#[tokio::test]
async fn a_mobile_refresh_token_is_refused_by_the_cc() {
    let cc = spawn_cc().await;
    let pair = cc
        .core
        .state
        .auth
        .sign_in_anonymous("127.0.0.1")
        .await
        .unwrap();
    let answer = cc
        .send(
            cc.http
                .post(cc.url("/internal/auth/refresh"))
                .header("cookie", format!("halo_cc_refresh={}", pair.refresh_token))
                .header("origin", ORIGIN),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_disabled_operator_can_neither_log_in_nor_refresh() {
    let cc = spawn_cc().await;
    let id = cc.add_operator("ops@halobestie.id", "operator").await;
    let cookie = refresh_cookie(&cc.login("ops@halobestie.id", PASSWORD).await.headers);
    sqlx::query("UPDATE auth.cc_users SET disabled_at = now() WHERE id = $1")
        .bind(id)
        .execute(&cc.db.pool)
        .await
        .unwrap();
    let login = cc.login("ops@halobestie.id", PASSWORD).await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    assert_eq!(login.body["error"]["code"], "account_disabled");
    let refresh = cc
        .send(
            cc.http
                .post(cc.url("/internal/auth/refresh"))
                .header("cookie", &cookie)
                .header("origin", ORIGIN),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::FORBIDDEN);
    assert_eq!(refresh.body["error"]["code"], "account_disabled");
}

#[tokio::test]
async fn logout_revokes_the_session_and_clears_the_cookie() {
    let cc = spawn_cc().await;
    cc.add_operator("admin@halobestie.id", "admin").await;
    let login = cc.login("admin@halobestie.id", PASSWORD).await;
    let cookie = refresh_cookie(&login.headers);
    let access = login.body["access_token"].as_str().unwrap();
    let logout = cc
        .send(
            cc.http
                .post(cc.url("/internal/auth/logout"))
                .bearer_auth(access),
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let cleared = logout.headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("halo_cc_refresh=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let refresh = cc
        .send(
            cc.http
                .post(cc.url("/internal/auth/refresh"))
                .header("cookie", &cookie)
                .header("origin", ORIGIN),
        )
        .await;
    assert_eq!(refresh.body["error"]["code"], "session_revoked");
}

#[tokio::test]
async fn every_internal_route_needs_a_cc_user_token() {
    let cc = spawn_cc().await;
    let customer = cc
        .core
        .state
        .auth
        .sign_in_anonymous("127.0.0.1")
        .await
        .unwrap()
        .access_token;
    for path in [
        "/internal/auth/me",
        "/internal/settings",
        "/internal/settings/history",
    ] {
        let none = cc.send(cc.http.get(cc.url(path))).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{path}");
        let wrong = cc
            .send(cc.http.get(cc.url(path)).bearer_auth(&customer))
            .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(wrong.body["error"]["code"], "wrong_user_type");
    }
}

#[tokio::test]
async fn me_names_the_signed_in_operator() {
    let cc = spawn_cc().await;
    let id = cc.add_operator("ops@halobestie.id", "operator").await;
    let access = cc.access_token("ops@halobestie.id").await;
    let me = cc
        .send(
            cc.http
                .get(cc.url("/internal/auth/me"))
                .bearer_auth(&access),
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], id.to_string());
    assert_eq!(me.body["email"], "ops@halobestie.id");
}

#[tokio::test]
async fn mobile_routes_do_not_exist_on_the_cc_edge() {
    let cc = spawn_cc().await;
    for path in [
        "/api/client/me",
        "/api/shared/config",
        "/api/shared/auth/anonymous",
    ] {
        let answer = cc.send(cc.http.post(cc.url(path)).json(&json!({}))).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.body["error"]["code"], "route_not_found");
    }
}

#[tokio::test]
async fn the_bootstrap_admin_is_created_once_from_env() {
    let cc = spawn_cc().await;
    let config = halo_core::testing::config(
        &cc.db.url,
        &[
            ("CC_BOOTSTRAP_ADMIN_EMAIL", "root@halobestie.id"),
            ("CC_BOOTSTRAP_ADMIN_PASSWORD", "bootstrap-password"),
        ],
    );
    let created = cc
        .core
        .state
        .auth
        .cc
        .bootstrap_admin("root@halobestie.id", &config.bootstrap_admin.unwrap().1)
        .await
        .unwrap();
    assert!(created);
    let again = cc
        .core
        .state
        .auth
        .cc
        .bootstrap_admin("other@halobestie.id", &"another-password".to_owned().into())
        .await
        .unwrap();
    assert!(
        !again,
        "a second bootstrap does nothing once a CC user exists"
    );
    let login = cc.login("root@halobestie.id", "bootstrap-password").await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["user"]["role"], "admin");
}

#[tokio::test]
async fn the_openapi_document_covers_every_internal_route_and_no_mobile_one() {
    let cc = spawn_cc().await;
    let doc: serde_json::Value = cc
        .http
        .get(cc.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/readyz",
        "/internal/auth/login",
        "/internal/auth/refresh",
        "/internal/auth/logout",
        "/internal/auth/me",
        "/internal/settings",
        "/internal/settings/history",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert!(paths.keys().all(|p| !p.starts_with("/api")));
}

#[tokio::test]
async fn a_nul_in_the_email_is_a_field_error_and_in_the_password_a_wrong_credential() {
    let cc = spawn_cc().await;
    let answer = cc.login("ad\u{0}min@halobestie.id", "pw").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(answer.body["error"]["details"][0]["field"], "email");
    let answer = cc.login("admin@halobestie.id", "p\u{0}w").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{:?}", answer.body);
    assert_eq!(answer.body["error"]["code"], "invalid_credentials");
}
