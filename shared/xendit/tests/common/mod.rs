//! What the Xendit tests share: a double, a client pointed at it, an order
//! to bill, and a local webhook receiver that records the callbacks.

#![allow(dead_code)] // each test binary uses its own part

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use halo_xendit::double::{DoubleConfig, XenditDouble};
use halo_xendit::{CreateInvoice, Invoice, PaymentProvider, XenditClient, XenditConfig};
use serde_json::Value;

pub const SECRET_KEY: &str = "xnd_development_double_test_key";
pub const CALLBACK_TOKEN: &str = "callback-token-for-the-tests";

pub async fn double(callback_url: Option<String>) -> XenditDouble {
    XenditDouble::start(DoubleConfig {
        callback_url,
        callback_token: CALLBACK_TOKEN.to_owned(),
        secret_key: SECRET_KEY.to_owned(),
    })
    .await
}

pub fn client(base_url: &str, secret_key: &str, timeout: Duration) -> XenditClient {
    XenditClient::new(XenditConfig {
        api_base_url: base_url.to_owned(),
        secret_key: secret_key.to_owned().into(),
        timeout,
    })
    .expect("a valid client config")
}

/// A 30-minute chat for Rp 75.000, payable for 15 minutes.
pub fn order(external_id: &str) -> CreateInvoice {
    CreateInvoice {
        external_id: external_id.to_owned(),
        amount_idr: 75_000,
        description: "Halo Bestie: 30 menit curhat".to_owned(),
        invoice_duration_seconds: 900,
        success_redirect_url: Some("halobestie://payments/success".to_owned()),
        failure_redirect_url: Some("halobestie://payments/failure".to_owned()),
    }
}

/// An invoice for `order(external_id)` created through the client.
pub async fn invoice(double: &XenditDouble, external_id: &str) -> Invoice {
    client(double.url(), SECRET_KEY, Duration::from_secs(5))
        .create_invoice(&order(external_id))
        .await
        .expect("the double creates the invoice")
}

/// One callback as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub token: Option<String>,
    pub body: Value,
}

/// A webhook endpoint standing in for the gateway's.
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    /// Records every POST to `url` and answers 200.
    pub async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let app = axum::Router::new().route(
            "/webhook",
            axum::routing::post({
                let (received, status) = (received.clone(), status.clone());
                move |headers: HeaderMap, body: axum::body::Bytes| async move {
                    let token = headers
                        .get("x-callback-token")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    received.lock().unwrap().push(Received { token, body });
                    StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
                }
            }),
        );
        let base = halo_testkit::serve(|listener| async move {
            axum::serve(listener, app).await.map_err(Into::into)
        })
        .await;
        Self {
            url: format!("{base}/webhook"),
            received,
            status,
        }
    }

    /// From now on, answer callbacks with `status`.
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
