//! The real Xendit invoice API over HTTPS, behind [`PaymentProvider`].

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::types::{CreateInvoice, Invoice};

/// Xendit's production API; tests and the local stack point elsewhere.
pub const DEFAULT_API_BASE_URL: &str = "https://api.xendit.co";

/// Where Xendit is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct XenditConfig {
    pub api_base_url: String,
    /// Sent as the Basic-auth user; `Debug` prints it redacted.
    pub secret_key: SecretString,
    /// For the whole call, connecting included.
    pub timeout: Duration,
}

/// Why a call to Xendit gave no invoice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XenditError {
    /// Xendit could not be asked or gave no usable answer (connection
    /// refused, timeout, 5xx, unreadable body): trying again later may work.
    #[error("Xendit is unavailable: {reason}")]
    Unavailable { reason: String },
    /// Xendit refused the request (4xx): a wrong key, a bad field, an
    /// unknown invoice. The same request will be refused again.
    #[error("Xendit rejected the request ({status} {error_code}): {message}")]
    Rejected {
        status: u16,
        /// Xendit's code, e.g. `INVALID_API_KEY`, `API_VALIDATION_ERROR`.
        error_code: String,
        message: String,
    },
}

/// A payment provider issuing invoices; `Arc<dyn PaymentProvider>` in the
/// orders code, so tests may hand in the double's URL or another provider.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Opens an invoice the customer pays on `invoice_url`.
    async fn create_invoice(&self, request: &CreateInvoice) -> Result<Invoice, XenditError>;
    /// The invoice as the provider sees it now (reconciliation of lost callbacks).
    async fn get_invoice(&self, id: &str) -> Result<Invoice, XenditError>;
}

/// Xendit's invoice API with one connection pool and a bounded wait.
#[derive(Debug, Clone)]
pub struct XenditClient {
    http: reqwest::Client,
    base: Url,
    secret_key: SecretString,
}

impl XenditClient {
    /// Fails on an unusable base URL, naming `XENDIT_API_BASE_URL`.
    pub fn new(config: XenditConfig) -> anyhow::Result<Self> {
        let base = Url::parse(&config.api_base_url)
            .ok()
            .filter(|url| !url.cannot_be_a_base() && matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "XENDIT_API_BASE_URL={:?} is not an http(s) URL",
                    config.api_base_url
                )
            })?;
        // reqwest is built without a TLS provider of its own; ring is the
        // process's one (a no-op when the process installed it already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the Xendit HTTP client: {e}"))?;
        Ok(Self {
            http,
            base,
            secret_key: config.secret_key,
        })
    }

    /// `{base}/v2/invoices[/{id}]`, the id escaped as one path segment.
    fn invoices_url(&self, id: Option<&str>) -> Url {
        let mut url = self.base.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .expect("checked in new: the base URL can be a base");
            segments.pop_if_empty().extend(["v2", "invoices"]);
            if let Some(id) = id {
                segments.push(id);
            }
        }
        url
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Invoice, XenditError> {
        let response = request
            .basic_auth(self.secret_key.expose_secret(), Some(""))
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if status.is_success() {
            return response
                .json::<Invoice>()
                .await
                .map_err(|e| XenditError::Unavailable {
                    reason: format!("unreadable answer: {}", e.without_url()),
                });
        }
        if status.is_client_error() {
            return Err(rejected(
                status,
                response.json::<XenditErrorBody>().await.ok(),
            ));
        }
        Err(XenditError::Unavailable {
            reason: format!("Xendit answered {status}"),
        })
    }
}

#[async_trait]
impl PaymentProvider for XenditClient {
    #[tracing::instrument(skip_all, fields(external_id = %request.external_id, amount_idr = request.amount_idr), err)]
    async fn create_invoice(&self, request: &CreateInvoice) -> Result<Invoice, XenditError> {
        let body = CreateInvoiceBody {
            external_id: &request.external_id,
            amount: request.amount_idr,
            currency: "IDR",
            description: &request.description,
            invoice_duration: request.invoice_duration_seconds,
            success_redirect_url: request.success_redirect_url.as_deref(),
            failure_redirect_url: request.failure_redirect_url.as_deref(),
        };
        self.call(self.http.post(self.invoices_url(None)).json(&body))
            .await
    }

    #[tracing::instrument(skip_all, fields(invoice_id = %id), err)]
    async fn get_invoice(&self, id: &str) -> Result<Invoice, XenditError> {
        self.call(self.http.get(self.invoices_url(Some(id)))).await
    }
}

/// The request body Xendit documents for `POST /v2/invoices`.
#[derive(Serialize)]
struct CreateInvoiceBody<'a> {
    external_id: &'a str,
    amount: i64,
    currency: &'static str,
    description: &'a str,
    invoice_duration: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    success_redirect_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_redirect_url: Option<&'a str>,
}

/// Xendit's error body: `{"error_code": "...", "message": "..."}`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct XenditErrorBody {
    pub error_code: String,
    pub message: String,
}

fn rejected(status: StatusCode, body: Option<XenditErrorBody>) -> XenditError {
    let (error_code, message) = match body {
        Some(body) => (body.error_code, body.message),
        None => (
            "UNREADABLE_ERROR".to_owned(),
            status
                .canonical_reason()
                .unwrap_or("client error")
                .to_owned(),
        ),
    };
    XenditError::Rejected {
        status: status.as_u16(),
        error_code,
        message,
    }
}

/// The URL is left out of the reason: it carries an invoice id at most,
/// never the key (a header), but a log line needs neither.
fn unavailable(error: reqwest::Error) -> XenditError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    XenditError::Unavailable {
        reason: format!("{what}: {}", error.without_url()),
    }
}
