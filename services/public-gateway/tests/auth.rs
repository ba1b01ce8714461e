//! The mobile auth entry points, end to end: gateway → gRPC → core → Postgres.

mod common;

use std::time::Duration;

use common::{spawn_app, spawn_app_with, token};
use halo_auth::{AccessTokens, Claims, UserType};
use halo_core::testing::TEST_JWT_SECRET;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn an_anonymous_sign_in_gives_a_token_pair_that_opens_the_customer_profile() {
    let app = spawn_app().await;
    let pair = app.anonymous().await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 3600);
    assert_eq!(pair["refresh_expires_in"], 30 * 86_400);
    let me = app
        .get("/api/client/me", &token(&pair, "access_token"))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], pair["user"]["id"]);
    assert_eq!(me.body["is_anonymous"], true);
    assert_eq!(me.body["user_type"], "customer");
}

#[tokio::test]
async fn a_refresh_rotates_the_token_and_the_old_one_replayed_later_revokes_the_session() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let first = app.anonymous().await;
    let second = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    assert_eq!(second.body["user"]["id"], first["user"]["id"]);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let replay = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.body["error"]["code"], "refresh_token_reused");

    let after = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": second.body["refresh_token"]}),
        )
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.body["error"]["code"], "session_revoked");
}

#[tokio::test]
async fn a_retry_of_the_previous_token_within_the_grace_window_still_works() {
    let app = spawn_app().await;
    let first = app.anonymous().await;
    let rotated = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    // The app lost that response and retries with the token it still has.
    let retry = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(retry.status, StatusCode::OK, "{:?}", retry.body);
    let next = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": retry.body["refresh_token"]}),
        )
        .await;
    assert_eq!(next.status, StatusCode::OK);
}

#[tokio::test]
async fn parallel_refreshes_with_one_token_leave_exactly_one_live_refresh_token() {
    let app = spawn_app().await;
    let pair = app.anonymous().await;
    let refreshes = (0..6).map(|_| {
        app.post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": pair["refresh_token"]}),
        )
    });
    let answers = futures_util::future::join_all(refreshes).await;
    let succeeded = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .count();
    assert!(succeeded >= 1);
    for answer in &answers {
        assert!(
            matches!(answer.status, StatusCode::OK | StatusCode::UNAUTHORIZED),
            "{:?}",
            answer.body
        );
    }
    let session_id: uuid::Uuid = token(&pair, "refresh_token")
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL",
    )
    .bind(session_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(live, 1);
    let issued: i64 =
        sqlx::query_scalar("SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1")
            .bind(session_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        issued as usize,
        succeeded + 1,
        "each success rotated exactly once"
    );
}

#[tokio::test]
async fn logout_kills_the_refresh_token_at_once_while_the_access_token_lives_until_it_expires() {
    let app = spawn_app().await;
    let pair = app.anonymous().await;
    let access = token(&pair, "access_token");
    let logout = app
        .call(Method::POST, "/api/shared/auth/logout", Some(&access), None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let refresh = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh.body["error"]["code"], "session_revoked");
    assert_eq!(
        app.get("/api/client/me", &access).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn garbage_refresh_tokens_are_a_401_not_a_500() {
    let app = spawn_app().await;
    for bad in [
        "",
        "nope",
        "00000000-0000-0000-0000-000000000000.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let answer = app
            .post("/api/shared/auth/refresh", json!({"refresh_token": bad}))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(answer.body["error"]["code"], "invalid_refresh_token");
    }
}

#[tokio::test]
async fn a_bad_phone_is_a_400_naming_the_phone_field() {
    let app = spawn_app().await;
    let answer = app
        .post(
            "/api/client/auth/otp/request",
            json!({"phone": "not a phone"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["error"]["code"], "validation_failed");
    assert_eq!(answer.body["error"]["details"][0]["field"], "phone");
    assert_eq!(answer.body["error"]["details"][0]["code"], "invalid_phone");
}

#[tokio::test]
async fn a_landline_or_an_unknown_field_is_refused_as_the_document_says() {
    let app = spawn_app().await;
    // A valid Jakarta landline: the core would take it, but codes go by SMS
    // and the document promises mobile numbers only.
    let landline = app
        .post(
            "/api/client/auth/otp/request",
            json!({"phone": "0218350123"}),
        )
        .await;
    assert_eq!(landline.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        landline.body["error"]["details"][0]["code"],
        "invalid_phone"
    );
    let extra = app
        .post(
            "/api/client/auth/otp/request",
            json!({"phone": "081234567009", "email": "a@b.id"}),
        )
        .await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST);
    assert_eq!(extra.body["error"]["code"], "invalid_body");
}

#[tokio::test]
async fn the_documented_phone_and_display_name_patterns_are_the_ones_the_gateway_enforces() {
    let doc = serde_json::to_value(public_gateway::openapi()).unwrap();
    for schema in ["PhoneBody", "VerifyBody"] {
        assert_eq!(
            doc["components"]["schemas"][schema]["properties"]["phone"]["pattern"],
            public_gateway::routes::auth::PHONE_PATTERN,
            "{schema}"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["ProfilePatch"]["properties"]["display_name"]["pattern"],
        public_gateway::routes::me::DISPLAY_NAME_PATTERN
    );
}

#[tokio::test]
async fn every_indonesian_spelling_of_a_phone_signs_in_the_same_customer() {
    let app = spawn_app().await;
    let first = app.otp_sign_in("client", "081234567001", None).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["user"]["phone"], "+62812****7001");
    // Past the resend cooldown, the other spellings reach the same account.
    for spelling in ["6281234567001", "+6281234567001"] {
        app.pass_otp_cooldown().await;
        let again = app.otp_sign_in("client", spelling, None).await;
        assert_eq!(
            again.body["user"]["id"], first.body["user"]["id"],
            "{spelling}"
        );
    }
}

#[tokio::test]
async fn five_wrong_codes_kill_the_challenge_even_for_the_right_code() {
    let app = spawn_app().await;
    let code = app.request_code("client", "081234567002").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for attempt in 1..=5 {
        let answer = app
            .post(
                "/api/client/auth/otp/verify",
                json!({"phone": "081234567002", "code": wrong}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        let expected = if attempt < 5 {
            "otp_invalid_code"
        } else {
            "otp_attempts_exceeded"
        };
        assert_eq!(answer.body["error"]["code"], expected, "attempt {attempt}");
    }
    let right = app
        .post(
            "/api/client/auth/otp/verify",
            json!({"phone": "081234567002", "code": code}),
        )
        .await;
    assert_eq!(right.body["error"]["code"], "otp_attempts_exceeded");
}

#[tokio::test]
async fn an_expired_code_and_a_used_code_fail_with_their_own_codes() {
    let app = spawn_app().await;
    let code = app.request_code("client", "081234567003").await;
    let ok = app
        .post(
            "/api/client/auth/otp/verify",
            json!({"phone": "081234567003", "code": code}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let used = app
        .post(
            "/api/client/auth/otp/verify",
            json!({"phone": "081234567003", "code": code}),
        )
        .await;
    assert_eq!(used.body["error"]["code"], "otp_used");

    let code = app.request_code("client", "081234567004").await;
    sqlx::query("UPDATE auth.otp_challenges SET expires_at = now() - interval '1 second' WHERE phone = '+6281234567004'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let expired = app
        .post(
            "/api/client/auth/otp/verify",
            json!({"phone": "081234567004", "code": code}),
        )
        .await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert_eq!(expired.body["error"]["code"], "otp_expired");
}

#[tokio::test]
async fn asking_again_within_the_cooldown_is_a_429_with_retry_after() {
    let app = spawn_app().await;
    app.request_code("client", "081234567005").await;
    let again = app
        .post(
            "/api/client/auth/otp/request",
            json!({"phone": "081234567005"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(again.body["error"]["code"], "otp_cooldown");
    let retry_after: u64 = again.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn one_ip_asking_for_codes_for_many_phones_is_limited_per_hour() {
    let app = spawn_app().await;
    app.set_knobs(json!({"otp_max_per_ip_per_hour": 2})).await;
    app.request_code("client", "081234567006").await;
    app.request_code("client", "081234567007").await;
    let third = app
        .post(
            "/api/client/auth/otp/request",
            json!({"phone": "081234567008"}),
        )
        .await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.body["error"]["code"], "otp_rate_limited");
    assert!(third.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn verifying_a_phone_with_an_anonymous_token_upgrades_that_account_in_place() {
    let app = spawn_app().await;
    let anonymous = app.anonymous().await;
    let signed_in = app
        .otp_sign_in(
            "client",
            "081234567009",
            Some(&token(&anonymous, "access_token")),
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::OK);
    assert_eq!(signed_in.body["upgraded"], true);
    assert_eq!(signed_in.body["user"]["id"], anonymous["user"]["id"]);
    assert_eq!(signed_in.body["user"]["is_anonymous"], false);
}

#[tokio::test]
async fn a_phone_that_already_has_an_account_signs_into_that_account_instead() {
    let app = spawn_app().await;
    let owner = app.otp_sign_in("client", "081234567010", None).await;
    app.pass_otp_cooldown().await;
    let anonymous = app.anonymous().await;
    let signed_in = app
        .otp_sign_in(
            "client",
            "081234567010",
            Some(&token(&anonymous, "access_token")),
        )
        .await;
    assert_eq!(signed_in.body["user"]["id"], owner.body["user"]["id"]);
    assert_eq!(signed_in.body["upgraded"], false);
    let untouched = app
        .get("/api/client/me", &token(&anonymous, "access_token"))
        .await;
    assert_eq!(untouched.body["is_anonymous"], true);
}

#[tokio::test]
async fn only_phones_registered_as_active_mitras_get_a_mitra_code() {
    let app = spawn_app().await;
    let unknown = app
        .post(
            "/api/mitra/auth/otp/request",
            json!({"phone": "081234567011"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);
    assert_eq!(unknown.body["error"]["code"], "phone_not_registered");

    let mitra_id = app.register_mitra("+6281234567012").await;
    let signed_in = app.otp_sign_in("mitra", "081234567012", None).await;
    assert_eq!(signed_in.status, StatusCode::OK);
    assert_eq!(signed_in.body["user"]["id"], mitra_id.to_string());
    assert_eq!(signed_in.body["user"]["user_type"], "mitra");
    let me = app
        .get("/api/mitra/me", &token(&signed_in.body, "access_token"))
        .await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test]
async fn each_namespace_refuses_the_other_user_types_token_with_403() {
    let app = spawn_app().await;
    app.register_mitra("+6281234567013").await;
    let mitra = app.otp_sign_in("mitra", "081234567013", None).await;
    let customer = app.anonymous().await;
    let on_client = app
        .get("/api/client/me", &token(&mitra.body, "access_token"))
        .await;
    assert_eq!(on_client.status, StatusCode::FORBIDDEN);
    assert_eq!(on_client.body["error"]["code"], "wrong_user_type");
    let on_mitra = app
        .get("/api/mitra/me", &token(&customer, "access_token"))
        .await;
    assert_eq!(on_mitra.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_get_401_with_distinct_codes() {
    let app = spawn_app().await;
    let missing = app.call(Method::GET, "/api/client/me", None, None).await;
    assert_eq!(
        (missing.status, missing.body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing_token"))
    );

    let pair = app.anonymous().await;
    let good = token(&pair, "access_token");
    let (header, rest) = good.split_once('.').unwrap();
    let none_alg = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        rest.split('.').next().unwrap()
    );
    let tampered = format!("{header}.{}x", rest);
    for forged in [none_alg, tampered] {
        let answer = app.get("/api/client/me", &forged).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.body["error"]["code"], "invalid_token");
    }

    let tokens = AccessTokens::new(
        &TEST_JWT_SECRET.to_owned().into(),
        Duration::from_secs(3600),
    );
    let now = chrono::Utc::now().timestamp();
    let expired = tokens.sign(&Claims {
        sub: pair["user"]["id"].as_str().unwrap().parse().unwrap(),
        user_type: UserType::Customer,
        session_id: uuid::Uuid::now_v7(),
        iat: now - 7200,
        exp: now - 3600,
    });
    let answer = app.get("/api/client/me", &expired).await;
    assert_eq!(answer.body["error"]["code"], "token_expired");
}

#[tokio::test]
async fn a_customer_can_change_their_display_name_and_bad_names_are_field_errors() {
    let app = spawn_app().await;
    let access = token(&app.anonymous().await, "access_token");
    let renamed = app
        .call(
            Method::PATCH,
            "/api/client/me",
            Some(&access),
            Some(json!({"display_name": "  Sari "})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.body["display_name"], "Sari");
    assert_eq!(
        app.get("/api/client/me", &access).await.body["display_name"],
        "Sari"
    );
    let empty = app
        .call(
            Method::PATCH,
            "/api/client/me",
            Some(&access),
            Some(json!({"display_name": " "})),
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.body["error"]["details"][0]["field"], "display_name");
    // Postgres text cannot hold NUL: this was a 500 before the edge checked.
    let nul = app
        .call(
            Method::PATCH,
            "/api/client/me",
            Some(&access),
            Some(json!({"display_name": "Sa\u{0}ri"})),
        )
        .await;
    assert_eq!(nul.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        nul.body["error"]["details"][0]["code"],
        "invalid_characters"
    );
}

#[tokio::test]
async fn a_control_center_refresh_token_is_refused_here_without_being_rotated() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO auth.cc_users (id, email, password_hash, role) VALUES ($1, 'ops@halobestie.id', $2, 'operator')",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(bcrypt::hash("a long password", 4).unwrap())
    .execute(&app.db.pool)
    .await
    .unwrap();
    let cc = app
        .core
        .state
        .auth
        .cc_login("ops@halobestie.id", "a long password", "127.0.0.1")
        .await
        .unwrap();
    let answer = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": cc.refresh_token}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.body["error"]["code"], "invalid_refresh_token");
    let still_valid = app
        .core
        .state
        .auth
        .sessions
        .refresh(&cc.refresh_token, &[UserType::CcUser], "127.0.0.1")
        .await;
    assert!(
        still_valid.is_ok(),
        "the CC session's token was not consumed"
    );
}
