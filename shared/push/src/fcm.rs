//! Sending through FCM HTTP v1 (`POST {base}/v1/projects/{project}/
//! messages:send`), from a queue worked off the request path. A dead token
//! (404 `UNREGISTERED`, or 400 `INVALID_ARGUMENT` naming the token) is
//! pruned; 429 and 5xx are retried with backoff, honouring `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::{OnceCell, Semaphore, mpsc};
use uuid::Uuid;

use crate::devices::{self, Platform};

/// The Android notification channel the apps create (the seed's FCM
/// channel rule): one constant, used for every push.
pub const ANDROID_CHANNEL_ID: &str = "halobestie_chat_v2";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Notifications waiting to be sent; past this they are dropped (push is
/// best effort: the app still finds everything when it opens).
const QUEUE: usize = 10_000;
/// Sends in flight at once.
const CONCURRENT_SENDS: usize = 16;
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// How long one FCM call may take.
const FCM_TIMEOUT: Duration = Duration::from_secs(10);

/// How the gateway gets FCM's OAuth token.
pub enum Credentials {
    /// Application default credentials through gcp_auth (on Cloud Run the
    /// service account, from the metadata server), found on first use.
    Google(OnceCell<Arc<dyn gcp_auth::TokenProvider>>),
    /// A fixed bearer token: for the local FCM double only.
    Fixed(SecretString),
}

impl Credentials {
    async fn bearer(&self) -> anyhow::Result<String> {
        match self {
            Self::Fixed(token) => Ok(token.expose_secret().to_owned()),
            Self::Google(provider) => {
                let provider = provider
                    .get_or_try_init(|| async { gcp_auth::provider().await })
                    .await?;
                Ok(provider.token(&[SCOPE]).await?.as_str().to_owned())
            }
        }
    }
}

/// Where FCM is and how to authenticate.
pub struct FcmConfig {
    pub api_base_url: String,
    pub project_id: String,
    pub credentials: Credentials,
}

/// What a push is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushKind {
    /// A new message (its text is never sent).
    Message,
    /// A chat event, by name (`chat.offered`, `extension.requested`, …).
    Event(String),
}

/// One push for all of a user's devices.
#[derive(Debug, Clone)]
pub struct Notification {
    pub user: Uuid,
    pub chat_id: Uuid,
    pub kind: PushKind,
}

impl Notification {
    /// The alert text, in the apps' language; generic on purpose (a lock
    /// screen shows it).
    fn alert(&self) -> (&'static str, &'static str) {
        match &self.kind {
            PushKind::Message => ("Pesan baru", "Kamu punya pesan baru di Halo Bestie"),
            PushKind::Event(name) => match name.as_str() {
                "chat.offered" => (
                    "Ada yang ingin curhat",
                    "Buka Halo Bestie untuk menerima chat baru",
                ),
                "extension.requested" => (
                    "Permintaan perpanjangan",
                    "Pelanggan ingin menambah waktu chat",
                ),
                "chat.ending_soon" => ("Chat segera berakhir", "Waktu chat kamu hampir habis"),
                _ => ("Halo Bestie", "Ada kabar baru tentang chat kamu"),
            },
        }
    }

    fn event(&self) -> &str {
        match &self.kind {
            PushKind::Message => "message",
            PushKind::Event(name) => name,
        }
    }

    /// The FCM v1 message for one device.
    pub fn message(&self, token: &str, platform: Platform) -> Value {
        let (title, body) = self.alert();
        let data = json!({"chat_id": self.chat_id.to_string(), "event": self.event()});
        let mut message = json!({
            "token": token,
            "notification": {"title": title, "body": body},
            "data": data,
        });
        match platform {
            Platform::Android => {
                message["android"] = json!({
                    "priority": "HIGH",
                    "notification": {"channel_id": ANDROID_CHANNEL_ID},
                });
            }
            Platform::Ios => {
                message["apns"] = json!({
                    "headers": {"apns-priority": "10"},
                    "payload": {"aps": {"sound": "default", "thread-id": self.chat_id.to_string()}},
                });
            }
        }
        json!({"message": message})
    }
}

/// Hands notifications to the sending worker; cheap to clone. `off` when
/// FCM is not configured (said once at start-up).
#[derive(Clone)]
pub struct Pusher {
    queue: Option<mpsc::Sender<Notification>>,
}

impl Pusher {
    pub fn off() -> Self {
        Self { queue: None }
    }

    /// Starts the worker; it runs until every `Pusher` is dropped.
    pub fn start(db: PgPool, config: FcmConfig) -> anyhow::Result<Self> {
        // reqwest is built without a default TLS provider: ring is ours.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().timeout(FCM_TIMEOUT).build()?;
        let (queue, notifications) = mpsc::channel(QUEUE);
        tokio::spawn(work(db, Arc::new(config), http, notifications));
        Ok(Self { queue: Some(queue) })
    }

    /// Queues a push without waiting; dropped when push is off or the queue
    /// is full.
    pub fn notify(&self, notification: Notification) {
        if let Some(queue) = &self.queue
            && queue.try_send(notification).is_err()
        {
            tracing::warn!("the push queue is full; a notification was dropped");
        }
    }
}

async fn work(
    db: PgPool,
    config: Arc<FcmConfig>,
    http: reqwest::Client,
    mut notifications: mpsc::Receiver<Notification>,
) {
    let sends = Arc::new(Semaphore::new(CONCURRENT_SENDS));
    while let Some(notification) = notifications.recv().await {
        let tokens = match devices::tokens_of(&db, notification.user).await {
            Ok(tokens) => tokens,
            Err(err) => {
                tracing::warn!(error = %err, "reading push devices failed; a notification was dropped");
                continue;
            }
        };
        for (token, platform) in tokens {
            let Ok(permit) = sends.clone().acquire_owned().await else {
                return;
            };
            let body = notification.message(&token, platform);
            let (db, config, http) = (db.clone(), config.clone(), http.clone());
            tokio::spawn(async move {
                send(&db, &config, &http, &token, &body).await;
                drop(permit);
            });
        }
    }
}

/// What FCM said about one send.
enum Verdict {
    Sent,
    DeadToken,
    RetryAfter(Duration),
    Failed,
}

async fn send(db: &PgPool, config: &FcmConfig, http: &reqwest::Client, token: &str, body: &Value) {
    let url = format!(
        "{}/v1/projects/{}/messages:send",
        config.api_base_url.trim_end_matches('/'),
        config.project_id
    );
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let verdict = match config.credentials.bearer().await {
            Ok(bearer) => match http.post(&url).bearer_auth(bearer).json(body).send().await {
                Ok(response) => verdict(response, backoff).await,
                Err(err) => {
                    tracing::debug!(error = %err, "FCM unreachable");
                    Verdict::RetryAfter(backoff)
                }
            },
            Err(err) => {
                tracing::warn!(error = %err, "no FCM credentials; push skipped");
                Verdict::Failed
            }
        };
        match verdict {
            Verdict::Sent => return,
            Verdict::DeadToken => {
                if let Err(err) = devices::prune(db, token).await {
                    tracing::warn!(error = %err, "pruning a dead push token failed");
                }
                tracing::info!("FCM called a device token dead; it is forgotten");
                return;
            }
            Verdict::RetryAfter(wait) if attempt < ATTEMPTS => {
                tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
                backoff *= 2;
            }
            Verdict::RetryAfter(_) | Verdict::Failed => {
                tracing::warn!(attempt, "a push could not be delivered to FCM");
                return;
            }
        }
    }
}

async fn verdict(response: reqwest::Response, backoff: Duration) -> Verdict {
    let status = response.status();
    if status.is_success() {
        return Verdict::Sent;
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return Verdict::RetryAfter(retry_after.unwrap_or(backoff));
    }
    let error: Value = response.json().await.unwrap_or_default();
    let codes: Vec<&str> = error["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["errorCode"].as_str())
        .collect();
    let message = error["error"]["message"].as_str().unwrap_or_default();
    let unregistered = status == StatusCode::NOT_FOUND || codes.contains(&"UNREGISTERED");
    let invalid_token = status == StatusCode::BAD_REQUEST
        && codes.contains(&"INVALID_ARGUMENT")
        && message.to_ascii_lowercase().contains("registration token");
    if unregistered || invalid_token {
        Verdict::DeadToken
    } else {
        tracing::warn!(%status, message, "FCM refused a push");
        Verdict::Failed
    }
}
