//! A local stand-in for Xendit's invoice API: a real HTTP server on loopback
//! that creates and reports invoices like Xendit, serves a hosted page with
//! Pay and Expire buttons, and sends real callbacks with the token. Tests
//! drive it through [`XenditDouble`]; the local stack runs it as the
//! `xendit-double` binary.

mod api;
mod page;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use rand::RngExt;
use serde_json::{Value, json};

use crate::types::{Invoice, InvoiceStatus};

/// How the double is wired, like a Xendit account's settings.
#[derive(Debug, Clone)]
pub struct DoubleConfig {
    /// Where invoice callbacks go (the gateway's webhook); none are sent
    /// when unset.
    pub callback_url: Option<String>,
    /// Sent as `x-callback-token` with every callback.
    pub callback_token: String,
    /// The only API key it accepts (Basic-auth user).
    pub secret_key: String,
}

/// How the API (`/v2/invoices`) misbehaves; the hosted page always works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    #[default]
    None,
    /// Every API call answers 503.
    Down,
    /// Every API call does its work at once and answers this much later,
    /// as a slow Xendit would: a create that times out still made an
    /// invoice, whose id the caller never learns.
    Slow(Duration),
    /// Every authenticated API call answers 400 `API_VALIDATION_ERROR`.
    Error,
}

/// What became of a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The receiver answered with this HTTP status.
    Answered(u16),
    /// None was sent: callbacks are lost ([`XenditDouble::set_callbacks_lost`])
    /// or no `callback_url` is configured.
    NotSent,
    /// The receiver could not be reached or did not answer in time.
    Unreachable(String),
}

/// A control the double cannot carry out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoubleError {
    #[error("the double has no invoice {0}")]
    UnknownInvoice(String),
    #[error("invoice {id} is {}, not PENDING", status.as_str())]
    NotPending { id: String, status: InvoiceStatus },
}

/// A running double; clones control the same server.
#[derive(Clone)]
pub struct XenditDouble {
    shared: Arc<Shared>,
}

struct Shared {
    config: DoubleConfig,
    url: String,
    callbacks: reqwest::Client,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    invoices: Vec<Stored>,
    requests: Vec<Value>,
    failure: FailureMode,
    callbacks_lost: bool,
}

/// An invoice with what Xendit keeps beside it.
struct Stored {
    invoice: Invoice,
    description: String,
    success_redirect_url: Option<String>,
    failure_redirect_url: Option<String>,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    /// The last thing that happened on the hosted page, shown there.
    last_event: Option<String>,
}

/// Xendit's business id in answers and callbacks; any fixed value will do.
const BUSINESS_ID: &str = "5f9a3fbd571a34385a44d7a1";
const MERCHANT_NAME: &str = "Halo Bestie (Xendit double)";

impl XenditDouble {
    /// Serves on an OS-chosen loopback port.
    pub async fn start(config: DoubleConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the Xendit double");
        Self::start_on(listener, config).expect("a bound listener has an address")
    }

    /// Serves on `listener` (the binary binds `XENDIT_DOUBLE_ADDR`) until the
    /// runtime stops.
    pub fn start_on(
        listener: tokio::net::TcpListener,
        config: DoubleConfig,
    ) -> std::io::Result<Self> {
        let url = format!("http://{}", listener.local_addr()?);
        // Callbacks go to plain-http loopback receivers, but reqwest still
        // needs rustls' provider chosen before it builds a client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let callbacks = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let double = Self {
            shared: Arc::new(Shared {
                config,
                url,
                callbacks,
                state: Mutex::default(),
            }),
        };
        let app = api::routes()
            .merge(page::routes())
            .with_state(double.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(double)
    }

    /// The base URL to use as `XENDIT_API_BASE_URL`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// Every invoice created, oldest first, as `GET /v2/invoices/{id}` shows it.
    pub fn invoices(&self) -> Vec<Invoice> {
        self.state()
            .invoices
            .iter()
            .map(|s| s.invoice.clone())
            .collect()
    }

    /// The JSON bodies of every authenticated `POST /v2/invoices`, oldest
    /// first, refused ones included: what the caller really sent (a body
    /// that is not JSON appears as a string).
    pub fn create_requests(&self) -> Vec<Value> {
        self.state().requests.clone()
    }

    pub fn set_failure_mode(&self, mode: FailureMode) {
        tracing::info!(?mode, "Xendit double: failure mode set");
        self.state().failure = mode;
    }

    /// While on, paying and expiring change the invoice but send no
    /// callback, so only `GET /v2/invoices/{id}` can tell.
    pub fn set_callbacks_lost(&self, lost: bool) {
        tracing::info!(lost, "Xendit double: callbacks lost set");
        self.state().callbacks_lost = lost;
    }

    /// The customer pays: PENDING → PAID, then the PAID callback.
    pub async fn pay(&self, invoice_id: &str) -> Result<Delivery, DoubleError> {
        self.settle(invoice_id, InvoiceStatus::Paid).await
    }

    /// The invoice runs out: PENDING → EXPIRED, then the EXPIRED callback.
    pub async fn expire(&self, invoice_id: &str) -> Result<Delivery, DoubleError> {
        self.settle(invoice_id, InvoiceStatus::Expired).await
    }

    /// Sends a callback claiming `status` without changing the invoice:
    /// Xendit's retries (duplicates) and events out of order.
    pub async fn send_callback(
        &self,
        invoice_id: &str,
        status: InvoiceStatus,
    ) -> Result<Delivery, DoubleError> {
        let body = self.callback_body(invoice_id, status)?;
        Ok(self.deliver(body).await)
    }

    /// The body a callback claiming `status` would carry, for a test that
    /// alters it (a wrong amount) and posts it itself.
    pub fn callback_body(
        &self,
        invoice_id: &str,
        status: InvoiceStatus,
    ) -> Result<Value, DoubleError> {
        let state = self.state();
        let stored = find(&state, invoice_id)?;
        Ok(callback_json(stored, status))
    }

    async fn settle(&self, invoice_id: &str, to: InvoiceStatus) -> Result<Delivery, DoubleError> {
        let body = {
            let mut state = self.state();
            let stored = find_mut(&mut state, invoice_id)?;
            if stored.invoice.status != InvoiceStatus::Pending {
                return Err(DoubleError::NotPending {
                    id: invoice_id.to_owned(),
                    status: stored.invoice.status,
                });
            }
            let now = now();
            stored.invoice.status = to;
            stored.updated = now;
            if to.is_paid() {
                stored.invoice.paid_at = Some(now);
            }
            callback_json(stored, to)
        };
        tracing::info!(
            invoice_id,
            status = to.as_str(),
            "Xendit double: invoice changed"
        );
        Ok(self.deliver(body).await)
    }

    async fn deliver(&self, body: Value) -> Delivery {
        let lost = self.state().callbacks_lost;
        let url = match &self.shared.config.callback_url {
            Some(url) if !lost => url,
            _ => {
                tracing::info!(lost, "Xendit double: no callback sent");
                return Delivery::NotSent;
            }
        };
        let sent = self
            .shared
            .callbacks
            .post(url)
            .header("x-callback-token", &self.shared.config.callback_token)
            .json(&body)
            .send()
            .await;
        let delivery = match sent {
            Ok(answer) => Delivery::Answered(answer.status().as_u16()),
            Err(e) => Delivery::Unreachable(e.to_string()),
        };
        tracing::info!(%url, status = %body["status"], ?delivery, "Xendit double: callback sent");
        delivery
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data behind;
        // the double keeps serving it rather than failing every later call.
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn find<'a>(state: &'a State, id: &str) -> Result<&'a Stored, DoubleError> {
    state
        .invoices
        .iter()
        .find(|s| s.invoice.id == id)
        .ok_or_else(|| DoubleError::UnknownInvoice(id.to_owned()))
}

fn find_mut<'a>(state: &'a mut State, id: &str) -> Result<&'a mut Stored, DoubleError> {
    state
        .invoices
        .iter_mut()
        .find(|s| s.invoice.id == id)
        .ok_or_else(|| DoubleError::UnknownInvoice(id.to_owned()))
}

/// Xendit writes times with milliseconds.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A 24-hex-digit id, the shape of Xendit's.
fn new_invoice_id() -> String {
    rand::rng()
        .random::<[u8; 12]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The invoice as Xendit's API answers it: our fields plus some of the
/// many others Xendit sends, so callers prove they ignore them.
fn invoice_json(stored: &Stored) -> Value {
    let mut body = serde_json::to_value(&stored.invoice).expect("an invoice serialises");
    let extra = json!({
        "user_id": BUSINESS_ID,
        "merchant_name": MERCHANT_NAME,
        "description": stored.description,
        "created": stored.created,
        "updated": stored.updated,
        "success_redirect_url": stored.success_redirect_url,
        "failure_redirect_url": stored.failure_redirect_url,
        "should_send_email": false,
        "available_banks": [{"bank_code": "BCA", "collection_type": "POOL"}],
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra.into_iter().filter(|(_, v)| !v.is_null()));
    }
    body
}

/// A callback as Xendit sends it for an invoice event claiming `status`.
fn callback_json(stored: &Stored, status: InvoiceStatus) -> Value {
    let mut body = invoice_json(stored);
    let fields = body.as_object_mut().expect("an invoice is an object");
    for gone in [
        "invoice_url",
        "expiry_date",
        "available_banks",
        "should_send_email",
        "paid_at",
    ] {
        fields.remove(gone);
    }
    fields.insert("status".into(), json!(status.as_str()));
    if status.is_paid() {
        let paid_at = stored.invoice.paid_at.unwrap_or_else(now);
        let paid = json!({
            "paid_at": paid_at,
            "paid_amount": stored.invoice.amount_idr,
            "payment_method": "BANK_TRANSFER",
            "payment_channel": "BCA",
            "bank_code": "BCA",
            "payment_destination": "3808999912345678",
        });
        if let Value::Object(paid) = paid {
            fields.extend(paid);
        }
    }
    body
}
