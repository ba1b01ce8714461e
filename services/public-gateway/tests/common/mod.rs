//! Runs the gateway against an in-process core and a fresh database.

#![allow(dead_code)] // each test binary uses a different subset

use halo_core::testing::{SpawnedCore, TEST_JWT_SECRET};
use halo_env::Env;
use halo_testkit::{Answer, TestDb};
use public_gateway::GatewayConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub core: SpawnedCore,
    pub db: TestDb,
}

pub fn gateway_config(database_url: &str, core_url: &str, extra: &[(&str, &str)]) -> GatewayConfig {
    let mut env = Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("AUTH_JWT_SECRET", TEST_JWT_SECRET),
        ("CORE_GRPC_URL", core_url),
    ]);
    for (k, v) in extra {
        env = env.with(k, *v);
    }
    GatewayConfig::from_env(&env).expect("valid gateway config")
}

/// Serves the gateway on an OS-chosen port until the test ends.
pub async fn serve_gateway(config: GatewayConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        async move { public_gateway::run(&config, listener, std::future::pending()).await },
    );
    base
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// `core_env` overrides the core's env (e.g. `GOOGLE_CLIENT_IDS`).
pub async fn spawn_app_with(core_env: &[(&str, &str)]) -> TestApp {
    halo_core::install_crypto_provider();
    let db = TestDb::new().await;
    let core = halo_core::testing::spawn(
        &halo_core::testing::config(&db.url, core_env),
        db.pool.clone(),
    )
    .await;
    let base = serve_gateway(gateway_config(&db.url, &core.url, &[])).await;
    TestApp {
        base,
        http: reqwest::Client::new(),
        core,
        db,
    }
}

impl TestApp {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Answer::read(request).await
    }

    /// Sends a request the test built itself (e.g. with `X-Forwarded-For`).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::read(request).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(reqwest::Method::POST, path, None, Some(body))
            .await
    }

    pub async fn get(&self, path: &str, bearer: &str) -> Answer {
        self.call(reqwest::Method::GET, path, Some(bearer), None)
            .await
    }

    /// A new anonymous customer's token response.
    pub async fn anonymous(&self) -> Value {
        let answer = self.post("/api/shared/auth/anonymous", json!({})).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        answer.body
    }

    /// Requests a code for `phone` and returns it as the stub would have sent it.
    pub async fn request_code(&self, app: &str, phone: &str) -> String {
        let answer = self
            .post(
                &format!("/api/{app}/auth/otp/request"),
                json!({ "phone": phone }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
        let e164 = answer.body["phone"].as_str().unwrap();
        self.core.otp.last_code(e164).expect("a code was sent")
    }

    /// Signs in by OTP; `bearer` asks for an in-place upgrade.
    pub async fn otp_sign_in(&self, app: &str, phone: &str, bearer: Option<&str>) -> Answer {
        let code = self.request_code(app, phone).await;
        self.call(
            reqwest::Method::POST,
            &format!("/api/{app}/auth/otp/verify"),
            bearer,
            Some(json!({ "phone": phone, "code": code })),
        )
        .await
    }

    /// Ages every OTP challenge past the resend cooldown, so a test can ask
    /// for another code at once.
    pub async fn pass_otp_cooldown(&self) {
        sqlx::query(
            "UPDATE auth.otp_challenges SET created_at = created_at - interval '2 minutes'",
        )
        .execute(&self.db.pool)
        .await
        .unwrap();
    }

    /// Registers an active mitra the way CC will.
    pub async fn register_mitra(&self, phone_e164: &str) -> uuid::Uuid {
        let id = uuid::Uuid::now_v7();
        sqlx::query("INSERT INTO users (id, user_type, phone, display_name) VALUES ($1, 'mitra', $2, 'Mitra')")
            .bind(id)
            .bind(phone_e164)
            .execute(&self.db.pool)
            .await
            .unwrap();
        id
    }

    /// Changes DB knobs through the core's config service.
    pub async fn set_knobs(&self, changes: Value) {
        let settings = &self.core.state.settings;
        let version = settings.snapshot().version.to_string();
        settings
            .update(&version, &changes, uuid::Uuid::now_v7())
            .await
            .expect("knob change accepted");
    }
}

pub fn token(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}
