//! Runs the CC edge against an in-process core and a fresh database.

#![allow(dead_code)] // each test binary uses a different subset

use halo_core::testing::{SpawnedCore, TEST_JWT_SECRET};
use halo_env::Env;
use halo_testkit::{Answer, TestDb};
use internal_cc::CcConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const ORIGIN: &str = "https://cc.halobestie.test";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestCc {
    pub base: String,
    pub http: reqwest::Client,
    pub core: SpawnedCore,
    pub db: TestDb,
}

pub async fn spawn_cc() -> TestCc {
    halo_core::install_crypto_provider();
    let db = TestDb::new().await;
    let core =
        halo_core::testing::spawn(&halo_core::testing::config(&db.url, &[]), db.pool.clone()).await;
    let config = CcConfig::from_env(&Env::from_pairs([
        ("DATABASE_URL", db.url.as_str()),
        ("AUTH_JWT_SECRET", TEST_JWT_SECRET),
        ("CORE_GRPC_URL", core.url.as_str()),
        ("CC_ALLOWED_ORIGINS", ORIGIN),
    ]))
    .expect("valid CC config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { internal_cc::run(&config, listener, std::future::pending()).await });
    TestCc {
        base,
        http: reqwest::Client::new(),
        core,
        db,
    }
}

impl TestCc {
    /// Creates a CC user with [`PASSWORD`].
    pub async fn add_operator(&self, email: &str, role: &str) -> uuid::Uuid {
        let id = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO auth.cc_users (id, email, password_hash, role) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(email)
        .bind(bcrypt::hash(PASSWORD, 4).unwrap())
        .bind(role)
        .execute(&self.db.pool)
        .await
        .unwrap();
        id
    }

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
