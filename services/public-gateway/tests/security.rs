//! What an outside prober sees of the gateway's defences: strict input,
//! rate limits that hold across the gRPC hop, no oracles, safe headers.

mod common;

use common::{spawn_app, token};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_display_name_with_hidden_or_control_characters_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let access = token(&app.anonymous().await, "access_token");
    for (name, code) in [
        ("Sinta\u{0}", "invalid_characters"),
        ("line\nbreak", "invalid_characters"),
        ("abc\u{202E}gpj.exe", "invalid_characters"),
        ("\u{200B}\u{200D}", "invisible_text"),
    ] {
        let answer = app
            .call(
                Method::PATCH,
                "/api/client/me",
                Some(&access),
                Some(json!({ "display_name": name })),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{name:?}: {:?}",
            answer.body
        );
        assert_eq!(answer.error_code(), "validation_failed");
        assert_eq!(answer.body["error"]["details"][0]["field"], "display_name");
        assert_eq!(answer.body["error"]["details"][0]["code"], code, "{name:?}");
    }
}

#[tokio::test]
async fn a_display_name_is_trimmed_and_stored_in_nfc() {
    let app = spawn_app().await;
    let access = token(&app.anonymous().await, "access_token");
    let answer = app
        .call(
            Method::PATCH,
            "/api/client/me",
            Some(&access),
            Some(json!({ "display_name": "  Jose\u{301}  " })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["display_name"], "Jos\u{e9}");
}

/// A refresh token for `pair`'s session with a well-formed but wrong secret.
fn wrong_secret_token(pair: &serde_json::Value) -> String {
    let live = token(pair, "refresh_token");
    let (session_and_generation, _) = live.rsplit_once('.').unwrap();
    format!("{session_and_generation}.{}", "A".repeat(43))
}

#[tokio::test]
async fn anonymous_sign_ins_past_the_per_ip_limit_are_a_429_and_other_ips_still_get_in() {
    let app = spawn_app().await;
    app.set_knobs(json!({"anonymous_sign_in_max_per_ip_per_hour": 3}))
        .await;
    for _ in 0..3 {
        app.anonymous().await;
    }
    let refused = app.post("/api/shared/auth/anonymous", json!({})).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.error_code(), "sign_in_rate_limited");
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");

    let elsewhere = app
        .send(
            app.http
                .post(format!("{}/api/shared/auth/anonymous", app.base))
                .header("x-forwarded-for", "203.0.113.9")
                .json(&json!({})),
        )
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::CREATED,
        "{:?}",
        elsewhere.body
    );
}

#[tokio::test]
async fn refresh_attempts_past_the_per_session_limit_are_a_429_even_with_the_right_token() {
    let app = spawn_app().await;
    app.set_knobs(json!({"refresh_max_per_session_per_hour": 2}))
        .await;
    let pair = app.anonymous().await;
    for _ in 0..2 {
        let wrong = app
            .post(
                "/api/shared/auth/refresh",
                json!({"refresh_token": wrong_secret_token(&pair)}),
            )
            .await;
        assert_eq!(wrong.error_code(), "invalid_refresh_token");
    }
    let limited = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.error_code(), "refresh_rate_limited");
    assert!(limited.headers.contains_key("retry-after"));

    let other = app.anonymous().await;
    let fine = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": other["refresh_token"]}),
        )
        .await;
    assert_eq!(fine.status, StatusCode::OK, "{:?}", fine.body);
}

#[tokio::test]
async fn refresh_attempts_past_the_per_ip_limit_are_a_429_for_that_ip_only() {
    let app = spawn_app().await;
    app.set_knobs(json!({"refresh_max_per_ip_per_hour": 2}))
        .await;
    let from = |ip: &'static str| {
        app.http
            .post(format!("{}/api/shared/auth/refresh", app.base))
            .header("x-forwarded-for", ip)
            .json(&json!({"refresh_token": "garbage"}))
    };
    for _ in 0..2 {
        assert_eq!(
            app.send(from("198.51.100.1")).await.error_code(),
            "invalid_refresh_token"
        );
    }
    let limited = app.send(from("198.51.100.1")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.error_code(), "refresh_rate_limited");
    assert_eq!(
        app.send(from("198.51.100.2")).await.error_code(),
        "invalid_refresh_token"
    );
}

#[tokio::test]
async fn a_refresh_for_an_unknown_session_answers_like_a_wrong_secret_and_as_slowly() {
    // A real bcrypt cost, so the work shows in the timing.
    let app = common::spawn_app_with(&[("BCRYPT_COST", "10")]).await;
    let pair = app.anonymous().await;
    let wrong_secret = wrong_secret_token(&pair);
    let unknown_session = format!("{}.1.{}", uuid::Uuid::now_v7(), "A".repeat(43));
    let mut timings = [Vec::new(), Vec::new()];
    let mut bodies = Vec::new();
    for _ in 0..3 {
        for (which, raw) in [&wrong_secret, &unknown_session].into_iter().enumerate() {
            let started = std::time::Instant::now();
            let answer = app
                .post("/api/shared/auth/refresh", json!({"refresh_token": raw}))
                .await;
            timings[which].push(started.elapsed());
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
            let mut error = answer.body["error"].clone();
            error["request_id"] = serde_json::Value::Null;
            bodies.push(error);
        }
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "the same answer for both"
    );
    // Both paths run one bcrypt; the probe saw 3 ms against 66 ms. Other
    // tests share the bcrypt pool, so compare medians with a wide margin.
    let median = |samples: &mut Vec<std::time::Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let (wrong, unknown) = (median(&mut timings[0]), median(&mut timings[1]));
    assert!(
        unknown * 4 >= wrong,
        "unknown session {unknown:?} vs wrong secret {wrong:?}"
    );
}

#[tokio::test]
async fn a_refresh_token_spelled_differently_is_refused_and_the_real_one_still_works() {
    let app = spawn_app().await;
    let pair = app.anonymous().await;
    let live = token(&pair, "refresh_token");
    let (session, rest) = live.split_once('.').unwrap();
    let (generation, secret) = rest.split_once('.').unwrap();
    for variant in [
        format!("{}.{generation}.{secret}", session.to_uppercase()),
        format!("{{{session}}}.{generation}.{secret}"),
        format!("{session}.+{generation}.{secret}"),
        format!("{session}.000{generation}.{secret}"),
    ] {
        let answer = app
            .post(
                "/api/shared/auth/refresh",
                json!({"refresh_token": variant}),
            )
            .await;
        assert_eq!(answer.error_code(), "invalid_refresh_token", "{variant}");
    }
    let real = app
        .post("/api/shared/auth/refresh", json!({"refresh_token": live}))
        .await;
    assert_eq!(real.status, StatusCode::OK, "{:?}", real.body);
}

#[tokio::test]
async fn verifying_a_phone_with_no_code_answers_exactly_like_a_wrong_code() {
    let app = spawn_app().await;
    app.request_code("client", "081200000001").await;
    let mut errors = Vec::new();
    for phone in ["081200000001", "081200000002"] {
        let answer = app
            .post(
                "/api/client/auth/otp/verify",
                json!({"phone": phone, "code": "000000"}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        let mut error = answer.body["error"].clone();
        error["request_id"] = serde_json::Value::Null;
        errors.push(error);
    }
    // (A real code of 000000 would be a one-in-a-million flake.)
    assert_eq!(errors[0]["code"], "otp_invalid_code");
    assert_eq!(errors[0], errors[1]);
}

#[tokio::test]
async fn otp_verification_attempts_past_the_per_ip_limit_are_a_429() {
    let app = spawn_app().await;
    app.set_knobs(json!({"otp_verify_max_per_ip_per_hour": 3}))
        .await;
    for n in 0..3 {
        let answer = app
            .post(
                "/api/client/auth/otp/verify",
                json!({"phone": format!("08120000001{n}"), "code": "123456"}),
            )
            .await;
        assert_eq!(answer.error_code(), "otp_invalid_code");
    }
    let limited = app
        .post(
            "/api/mitra/auth/otp/verify",
            json!({"phone": "081200000019", "code": "123456"}),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.error_code(), "otp_verify_rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn probing_unregistered_mitra_phones_counts_toward_the_otp_limits() {
    let app = spawn_app().await;
    app.register_mitra("+6281300000009").await;
    app.set_knobs(json!({"otp_max_per_ip_per_hour": 3})).await;
    let ask =
        |phone: &'static str| app.post("/api/mitra/auth/otp/request", json!({ "phone": phone }));
    for phone in ["081300000001", "081300000002", "081300000003"] {
        assert_eq!(ask(phone).await.error_code(), "phone_not_registered");
    }
    // The same phone again hits the cooldown, as a registered one would.
    let again = ask("081300000001").await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    // The probes used up this IP's hourly codes, even for a real mitra.
    let real = ask("081300000009").await;
    assert_eq!(real.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(real.error_code(), "otp_rate_limited");
}

#[tokio::test]
async fn a_wrong_shaped_body_names_the_field_and_the_expectation_not_rust_types() {
    let app = spawn_app().await;
    let access = token(&app.anonymous().await, "access_token");
    for (body, field, code, message) in [
        (json!("Sinta"), "body", "invalid_type", "expected an object"),
        (
            json!({"display_name": 5}),
            "display_name",
            "invalid_type",
            "expected a string",
        ),
        (
            json!({}),
            "display_name",
            "missing_field",
            "this field is required",
        ),
    ] {
        let answer = app
            .call(
                Method::PATCH,
                "/api/client/me",
                Some(&access),
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.error_code(), "invalid_body");
        let text = answer.body.to_string();
        assert!(
            !text.contains("ProfilePatch") && !text.contains("struct"),
            "{text}"
        );
        let detail = &answer.body["error"]["details"][0];
        assert_eq!(
            (
                detail["field"].as_str(),
                detail["code"].as_str(),
                detail["message"].as_str()
            ),
            (Some(field), Some(code), Some(message)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn every_answer_says_nosniff_and_token_answers_are_never_stored() {
    let app = spawn_app().await;
    let pair = app
        .send(
            app.http
                .post(format!("{}/api/shared/auth/anonymous", app.base))
                .json(&json!({})),
        )
        .await;
    assert_eq!(pair.headers["cache-control"], "no-store");
    assert_eq!(pair.headers["x-content-type-options"], "nosniff");
    let refreshed = app
        .post(
            "/api/shared/auth/refresh",
            json!({"refresh_token": pair.body["refresh_token"]}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    assert_eq!(refreshed.headers["cache-control"], "no-store");
    let missing = app.post("/api/nowhere", json!({})).await;
    assert_eq!(missing.headers["x-content-type-options"], "nosniff");
    // The public config keeps its own revalidation policy.
    let config = app
        .send(app.http.get(format!("{}/api/shared/config", app.base)))
        .await;
    assert_eq!(config.headers["cache-control"], "no-cache");
    assert_eq!(config.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn an_oversized_or_unprintable_request_id_is_replaced_and_a_sane_one_is_kept() {
    let app = &spawn_app().await;
    let id_of = |sent: String| {
        let request = app
            .http
            .get(format!("{}/healthz", app.base))
            .header("x-request-id", sent);
        async move {
            app.send(request).await.headers["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(id_of("req-42.abc".into()).await, "req-42.abc");
    for bad in ["x".repeat(15_000), "a b".into(), "x".repeat(129)] {
        let echoed = id_of(bad.clone()).await;
        assert_ne!(echoed, bad);
        assert!(uuid::Uuid::parse_str(&echoed).is_ok(), "{echoed}");
    }
}

#[tokio::test]
async fn with_two_trusted_hops_the_client_is_the_second_forwarded_entry_from_the_right() {
    let db_app = spawn_app().await;
    let gateway = common::serve_gateway(common::gateway_config(
        &db_app.db.url,
        &db_app.core.url,
        &[("TRUSTED_PROXY_HOPS", "2")],
    ))
    .await;
    db_app
        .set_knobs(json!({"anonymous_sign_in_max_per_ip_per_hour": 1}))
        .await;
    let sign_in = |forwarded: &'static str| {
        db_app.send(
            db_app
                .http
                .post(format!("{gateway}/api/shared/auth/anonymous"))
                .header("x-forwarded-for", forwarded)
                .json(&json!({})),
        )
    };
    // The client varies the entries it controls; the CDN's (second from
    // the right) stays the same: one client, limited.
    assert_eq!(
        sign_in("1.1.1.1, 203.0.113.7, 10.1.1.1").await.status,
        StatusCode::CREATED
    );
    let spoofed = sign_in("2.2.2.2, 203.0.113.7, 10.1.1.1").await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same CDN node.
    assert_eq!(
        sign_in("198.51.100.4, 10.1.1.1").await.status,
        StatusCode::CREATED
    );
}
