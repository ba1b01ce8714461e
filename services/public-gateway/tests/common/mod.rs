//! Runs the gateway against an in-process core and a fresh database.

#![allow(dead_code)] // each test binary uses a different subset

pub mod sockets;

use std::ops::Deref;
use std::time::Duration;

use halo_core::testing::TestStack;
use halo_testkit::{Answer, eventually};
use public_gateway::GatewayConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub stack: TestStack,
}

/// `app.core`, `app.db` and the seeding helpers come from the stack.
impl Deref for TestApp {
    type Target = TestStack;

    fn deref(&self) -> &TestStack {
        &self.stack
    }
}

/// A config for a gateway on `database_url` calling the core at `core_url`.
pub fn gateway_config(database_url: &str, core_url: &str, extra: &[(&str, &str)]) -> GatewayConfig {
    GatewayConfig::from_env(&halo_core::testing::edge_env(database_url, core_url, extra))
        .expect("valid gateway config")
}

/// Serves the gateway on an OS-chosen port until the test ends.
pub async fn serve_gateway(config: GatewayConfig) -> String {
    halo_testkit::serve(|listener| run_gateway(listener, config)).await
}

/// Runs the gateway on `listener` until the test ends.
async fn run_gateway(
    listener: tokio::net::TcpListener,
    config: GatewayConfig,
) -> anyhow::Result<()> {
    public_gateway::serve(&config, listener, std::future::pending()).await
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// `core_env` overrides the core's env (e.g. `GOOGLE_CLIENT_IDS`).
pub async fn spawn_app_with(core_env: &[(&str, &str)]) -> TestApp {
    spawn_app_configured(core_env, &[]).await
}

/// `gateway_env` adds to the gateway's env (e.g. `REDIS_URL`).
pub async fn spawn_app_configured(
    core_env: &[(&str, &str)],
    gateway_env: &[(&str, &str)],
) -> TestApp {
    let stack = TestStack::start(core_env).await;
    // A short poll so a knob change made straight in the core shows soon.
    let mut env = vec![("CONFIG_CACHE_TTL_SECONDS", "1")];
    env.extend_from_slice(gateway_env);
    let config = gateway_config(&stack.db.url, &stack.core.url, &env);
    let base = serve_gateway(config).await;
    halo_testkit::wait_until_ready(&base).await;
    TestApp {
        base,
        http: reqwest::Client::new(),
        stack,
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
}

pub fn token(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}

pub const XENDIT_SECRET_KEY: &str = "xnd_development_test_key";
pub const XENDIT_CALLBACK_TOKEN: &str = "test-callback-token";

/// A gateway whose payments go to a Xendit double, and the double, which
/// sends its callbacks to that gateway's webhook.
pub struct PayingApp {
    pub app: TestApp,
    pub xendit: halo_xendit::double::XenditDouble,
}

impl Deref for PayingApp {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// `extra` adds gateway env (e.g. `XENDIT_TIMEOUT_SECONDS`).
pub async fn spawn_paying_app(extra: &[(&str, &str)]) -> PayingApp {
    use halo_xendit::double::{DoubleConfig, XenditDouble};
    let stack = TestStack::start(&[]).await;
    // The gateway's port first: the double needs the webhook's URL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let xendit = XenditDouble::start(DoubleConfig {
        callback_url: Some(format!("{base}/api/shared/webhooks/xendit")),
        callback_token: XENDIT_CALLBACK_TOKEN.to_owned(),
        secret_key: XENDIT_SECRET_KEY.to_owned(),
    })
    .await;
    let mut env = vec![
        ("CONFIG_CACHE_TTL_SECONDS", "1"),
        ("XENDIT_API_BASE_URL", xendit.url()),
        ("XENDIT_SECRET_KEY", XENDIT_SECRET_KEY),
        ("XENDIT_CALLBACK_TOKEN", XENDIT_CALLBACK_TOKEN),
        ("PAYMENT_SUCCESS_REDIRECT_URL", "https://halobestie.id/paid"),
        (
            "PAYMENT_FAILURE_REDIRECT_URL",
            "https://halobestie.id/not-paid",
        ),
    ];
    env.extend_from_slice(extra);
    let config = gateway_config(&stack.db.url, &stack.core.url, &env);
    tokio::spawn(run_gateway(listener, config));
    halo_testkit::wait_until_ready(&base).await;
    PayingApp {
        app: TestApp {
            base,
            http: reqwest::Client::new(),
            stack,
        },
        xendit,
    }
}

impl PayingApp {
    /// Orders `body` as the customer `access` with `key`.
    pub async fn order(&self, access: &str, key: &str, body: Value) -> Answer {
        self.send(
            self.http
                .post(format!("{}/api/client/orders", self.base))
                .bearer_auth(access)
                .header("Idempotency-Key", key)
                .json(&body),
        )
        .await
    }

    /// Xendit's invoice id for `order_id`.
    pub fn invoice_of(&self, order_id: &str) -> String {
        self.xendit
            .invoices()
            .into_iter()
            .find(|i| i.external_id == order_id)
            .unwrap_or_else(|| panic!("no invoice for order {order_id}"))
            .id
    }

    /// Posts a callback body to the webhook with `token`.
    pub async fn callback(&self, token: Option<&str>, body: &Value) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/api/shared/webhooks/xendit", self.base))
            .json(body);
        if let Some(token) = token {
            request = request.header("x-callback-token", token);
        }
        self.send(request).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .expect("a count")
    }
}

/// A mitra the customer can choose, signed in: (id, access token).
pub async fn signed_in_mitra(app: &PayingApp, phone: &str) -> (String, String) {
    let id = app.register_mitra(phone).await;
    let answer = app.otp_sign_in("mitra", phone, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    (id.to_string(), token(&answer.body, "access_token"))
}

/// The chat offered to `mitra`, once the matcher has made it.
pub async fn offered_chat(app: &PayingApp, mitra: &str) -> String {
    let query =
        format!("SELECT count(*) FROM chats WHERE mitra_id = '{mitra}' AND status = 'offered'");
    let found = eventually(Duration::from_secs(5), || async {
        app.count(&query).await == 1
    })
    .await;
    assert!(
        found.is_some(),
        "the paid order is offered within the matcher's period"
    );
    let chat: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM chats WHERE mitra_id = $1::uuid AND status = 'offered'")
            .bind(mitra)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    chat.to_string()
}

/// `POST /api/mitra/chats/{chat}/{verb}` as the mitra.
pub async fn answer_offer(
    app: &PayingApp,
    access: &str,
    chat: &str,
    verb: &str,
) -> halo_testkit::Answer {
    let path = format!("/api/mitra/chats/{chat}/{verb}");
    app.call(Method::POST, &path, Some(access), None).await
}

/// A chat the customer paid for and the mitra accepted.
pub struct Accepted {
    pub chat: String,
    pub customer: String,
    pub customer_id: String,
    pub customer_phone: String,
    pub mitra: String,
}

pub async fn accepted_chat(app: &PayingApp, n: u32) -> Accepted {
    let (mitra_id, mitra) = signed_in_mitra(app, &format!("+62812000005{n:02}")).await;
    let customer_phone = format!("+62813000005{n:02}");
    let signed_in = app.otp_sign_in("client", &customer_phone, None).await;
    let customer = token(&signed_in.body, "access_token");
    let order = app
        .order(
            &customer,
            &format!("order-{n}"),
            json!({"tier_id": "chat_30", "mitra_id": mitra_id}),
        )
        .await;
    let order_id = order.body["id"].as_str().unwrap().to_owned();
    app.xendit.pay(&app.invoice_of(&order_id)).await.unwrap();
    let chat = offered_chat(app, &mitra_id).await;
    let accepted = answer_offer(app, &mitra, &chat, "accept").await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    Accepted {
        chat,
        customer,
        customer_id: signed_in.body["user"]["id"].as_str().unwrap().to_owned(),
        customer_phone,
        mitra,
    }
}

pub async fn topics(app: &PayingApp, chat: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT topic FROM outbox WHERE aggregate_id = $1::uuid ORDER BY id")
        .bind(chat)
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}
