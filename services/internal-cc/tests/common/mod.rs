//! Runs the CC edge against an in-process core and a fresh database.

#![allow(dead_code)] // each test binary uses a different subset

pub mod seed;

use std::ops::Deref;

pub use halo_core::testing::TEST_OPERATOR_PASSWORD as PASSWORD;
use halo_core::testing::TestStack;
use halo_testkit::Answer;
use internal_cc::CcConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const ORIGIN: &str = "https://cc.halobestie.test";

pub struct TestCc {
    pub base: String,
    pub http: reqwest::Client,
    pub stack: TestStack,
}

/// `cc.core`, `cc.db` and the seeding helpers come from the stack.
impl Deref for TestCc {
    type Target = TestStack;

    fn deref(&self) -> &TestStack {
        &self.stack
    }
}

pub async fn spawn_cc() -> TestCc {
    spawn_cc_on(TestStack::start(&[]).await, &[]).await
}

/// The CC edge on `stack`, with `extra` env; the SPA's origin is
/// [`ORIGIN`] unless `extra` sets `CC_ALLOWED_ORIGINS`.
pub async fn spawn_cc_on(stack: TestStack, extra: &[(&str, &str)]) -> TestCc {
    let mut env = stack.edge_env(extra);
    if !extra.iter().any(|(name, _)| *name == "CC_ALLOWED_ORIGINS") {
        env = env.with("CC_ALLOWED_ORIGINS", ORIGIN);
    }
    let config = CcConfig::from_env(&env).expect("valid CC config");
    let base = halo_testkit::serve(|listener| async move {
        halo_web::run_edge(&config.edge, listener, std::future::pending(), |state| {
            internal_cc::router(state, &config)
        })
        .await
    })
    .await;
    halo_testkit::wait_until_ready(&base).await;
    TestCc {
        base,
        http: reqwest::Client::new(),
        stack,
    }
}

impl TestCc {
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::read(request).await
    }

    pub async fn settings(&self, access: &str) -> Answer {
        self.send(
            self.http
                .get(self.url("/internal/settings"))
                .bearer_auth(access),
        )
        .await
    }

    /// The settings' current ETag.
    pub async fn etag(&self, access: &str) -> String {
        self.settings(access).await.headers["etag"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// PATCHes settings, with `If-Match` when given.
    pub async fn patch_settings(
        &self,
        access: &str,
        if_match: Option<&str>,
        changes: Value,
    ) -> Answer {
        let mut request = self
            .http
            .patch(self.url("/internal/settings"))
            .bearer_auth(access)
            .json(&changes);
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        self.send(request).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.send(
            self.http
                .post(self.url("/internal/auth/login"))
                .json(&json!({"email": email, "password": password})),
        )
        .await
    }

    /// Logs in and returns the access token.
    pub async fn access_token(&self, email: &str) -> String {
        let answer = self.login(email, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.body["access_token"].as_str().unwrap().to_owned()
    }
}

/// The `halo_cc_refresh=<value>` pair from a Set-Cookie header.
pub fn refresh_cookie(headers: &reqwest::header::HeaderMap) -> String {
    let set_cookie = headers["set-cookie"].to_str().unwrap();
    set_cookie.split(';').next().unwrap().to_owned()
}

/// One setting's value in a settings answer.
pub fn setting_value(settings: &Answer, key: &str) -> Value {
    settings.body["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no setting {key}"))["value"]
        .clone()
}

/// The CC edge with `CC_ALLOWED_ORIGINS` set to `origins`, for a test whose
/// SPA origin is only known at run time.
pub async fn spawn_cc_with_origins(origins: &str) -> TestCc {
    spawn_cc_on(
        TestStack::start(&[]).await,
        &[("CC_ALLOWED_ORIGINS", origins)],
    )
    .await
}
