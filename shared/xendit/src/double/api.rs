//! The double's invoice API: `POST /v2/invoices` and `GET /v2/invoices/{id}`
//! with Xendit's Basic auth, error bodies and failure modes.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

use super::{FailureMode, Stored, XenditDouble, find, invoice_json, new_invoice_id, now};
use crate::client::XenditErrorBody;
use crate::types::{Invoice, InvoiceStatus, whole_rupiah};

pub(super) fn routes() -> Router<XenditDouble> {
    Router::new()
        .route("/v2/invoices", post(create))
        .route("/v2/invoices/{id}", get(fetch))
}

/// Xendit's default when `invoice_duration` is absent: one day.
const DEFAULT_DURATION_SECONDS: i64 = 86_400;
/// Xendit's longest invoice: one year.
const MAX_DURATION_SECONDS: i64 = 31_536_000;

/// The part of Xendit's create request the double understands.
#[derive(Deserialize)]
struct CreateRequest {
    external_id: String,
    #[serde(with = "whole_rupiah")]
    amount: i64,
    currency: Option<String>,
    description: Option<String>,
    invoice_duration: Option<i64>,
    success_redirect_url: Option<String>,
    failure_redirect_url: Option<String>,
}

async fn create(State(double): State<XenditDouble>, headers: HeaderMap, body: Bytes) -> Response {
    let failure = match admit(&double, &headers) {
        Ok(failure) => failure,
        Err((status, code, message)) => return error(status, code, message),
    };
    let Ok(raw) = serde_json::from_slice::<Value>(&body) else {
        let text = String::from_utf8_lossy(&body).into_owned();
        double.state().requests.push(Value::String(text));
        let answer = error(
            StatusCode::BAD_REQUEST,
            "API_VALIDATION_ERROR",
            "the body is not JSON",
        );
        return late(failure, answer).await;
    };
    double.state().requests.push(raw.clone());
    let answer = match serde_json::from_value::<CreateRequest>(raw) {
        Ok(request) => match validate(&request) {
            Ok(duration) => {
                (StatusCode::OK, axum::Json(double.store(request, duration))).into_response()
            }
            Err(message) => error(StatusCode::BAD_REQUEST, "API_VALIDATION_ERROR", &message),
        },
        Err(e) => error(
            StatusCode::BAD_REQUEST,
            "API_VALIDATION_ERROR",
            &e.to_string(),
        ),
    };
    late(failure, answer).await
}

async fn fetch(
    State(double): State<XenditDouble>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let failure = match admit(&double, &headers) {
        Ok(failure) => failure,
        Err((status, code, message)) => return error(status, code, message),
    };
    let found = find(&double.state(), &id).map(invoice_json);
    let answer = match found {
        Ok(invoice) => axum::Json(invoice).into_response(),
        Err(_) => error(
            StatusCode::NOT_FOUND,
            "INVOICE_NOT_FOUND_ERROR",
            "Invoice not found",
        ),
    };
    late(failure, answer).await
}

/// Why a call is refused: status, Xendit's error code, message.
type Refusal = (StatusCode, &'static str, &'static str);

/// Down, a wrong key and the error mode refuse before any work; the slow
/// mode is handed back so the answer is delayed after the work is done.
fn admit(double: &XenditDouble, headers: &HeaderMap) -> Result<FailureMode, Refusal> {
    let failure = double.state().failure;
    if failure == FailureMode::Down {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_ERROR",
            "the Xendit double is down",
        ));
    }
    if basic_auth_user(headers).as_deref() != Some(double.shared.config.secret_key.as_str()) {
        return Err((
            StatusCode::UNAUTHORIZED,
            "INVALID_API_KEY",
            "API key is not authorized for this API service",
        ));
    }
    if failure == FailureMode::Error {
        return Err((
            StatusCode::BAD_REQUEST,
            "API_VALIDATION_ERROR",
            "the Xendit double was told to refuse requests",
        ));
    }
    Ok(failure)
}

async fn late(failure: FailureMode, answer: Response) -> Response {
    if let FailureMode::Slow(delay) = failure {
        tokio::time::sleep(delay).await;
    }
    answer
}

/// The user of `Authorization: Basic base64(user:password)`.
fn basic_auth_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    Some(
        decoded
            .split_once(':')
            .map_or(decoded.as_str(), |(user, _)| user)
            .to_owned(),
    )
}

/// The invoice duration to use, or why the request is refused.
fn validate(request: &CreateRequest) -> Result<i64, String> {
    if request.external_id.trim().is_empty() {
        return Err("external_id is required".into());
    }
    if request.amount < 1 {
        return Err("amount must be at least 1".into());
    }
    if request.currency.as_deref().is_some_and(|c| c != "IDR") {
        return Err("the Xendit double only bills IDR".into());
    }
    let duration = request.invoice_duration.unwrap_or(DEFAULT_DURATION_SECONDS);
    if !(1..=MAX_DURATION_SECONDS).contains(&duration) {
        return Err(format!(
            "invoice_duration must be between 1 and {MAX_DURATION_SECONDS}"
        ));
    }
    Ok(duration)
}

fn error(status: StatusCode, error_code: &str, message: &str) -> Response {
    let body = XenditErrorBody {
        error_code: error_code.to_owned(),
        message: message.to_owned(),
    };
    (status, axum::Json(body)).into_response()
}

impl XenditDouble {
    /// Keeps a new PENDING invoice; returns Xendit's answer for it.
    fn store(&self, request: CreateRequest, duration: i64) -> Value {
        let created = now();
        let id = new_invoice_id();
        let invoice = Invoice {
            invoice_url: format!("{}/web/{id}", self.url()),
            id,
            external_id: request.external_id,
            status: InvoiceStatus::Pending,
            amount_idr: request.amount,
            currency: "IDR".to_owned(),
            expiry_date: created + chrono::Duration::seconds(duration),
            paid_at: None,
        };
        tracing::info!(invoice_id = %invoice.id, external_id = %invoice.external_id,
            amount_idr = invoice.amount_idr, "Xendit double: invoice created");
        let stored = Stored {
            invoice,
            description: request.description.unwrap_or_default(),
            success_redirect_url: request.success_redirect_url,
            failure_redirect_url: request.failure_redirect_url,
            created,
            updated: created,
            last_event: None,
        };
        let answer = invoice_json(&stored);
        self.state().invoices.push(stored);
        answer
    }
}
