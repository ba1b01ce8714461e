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
