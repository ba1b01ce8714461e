//! `POST /api/shared/webhooks/xendit`: Xendit's invoice callbacks. Public
//! (Xendit holds no token of ours); the `x-callback-token` header is the
//! credential. Every accepted callback is stored raw before anything else,
//! and the answer never waits on a third party.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use halo_orders::{InvoiceReport, Outcome};
use halo_proto::{ApiError, ErrorKind};
use halo_web::{ErrorBody, Json, db_error};
use halo_xendit::{InvoiceCallback, callback_token_matches};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::services::matching::Doorbell;
use crate::services::payments::Payments;

/// The fields of Xendit's invoice callback that are read; Xendit sends
/// more, which are kept in the stored raw body.
/// The document's shape only: the handler stores the raw body first.
#[derive(ToSchema)]
#[schema(example = json!({"id": "6745f0a1b2c3d4e5f6a7b8c9", "external_id": "019ab8f0-7a11-7c41-9a7e-3f5b2c1d0e9f",
    "status": "PAID", "amount": 25000, "currency": "IDR", "paid_at": "2026-11-26T08:03:12Z",
    "payment_method": "BANK_TRANSFER", "payment_channel": "BCA"}))]
pub struct XenditInvoiceCallback {
    /// Xendit's invoice id.
    pub id: String,
    /// The order id.
    pub external_id: String,
    #[schema(example = "PAID")]
    pub status: String,
    /// Whole rupiah.
    pub amount: i64,
    #[schema(example = "IDR")]
    pub currency: String,
}

/// What processing made of the callback.
#[derive(Serialize, ToSchema)]
pub struct CallbackReceipt {
    /// `paid`, `duplicate`, `expired`, `ignored`, `mismatch` or `unknown_order`.
    #[schema(example = "paid")]
    pub outcome: &'static str,
}

/// Receives an invoice callback: stored, then applied to its order once.
#[utoipa::path(post, path = "/api/shared/webhooks/xendit", tag = "payments",
    params(("x-callback-token" = String, Header, description = "the verification token from Xendit's dashboard")),
    request_body = XenditInvoiceCallback,
    responses(
        (status = 200, description = "stored; a duplicate, a mismatch (flagged for support) or an unknown order \
            also answer 200 so Xendit stops retrying", body = CallbackReceipt, example = json!({"outcome": "paid"})),
        (status = 400, description = "`invalid_callback`: the body is not an invoice callback (it is stored)", body = ErrorBody),
        (status = 401, description = "`invalid_callback_token`: missing or wrong; nothing is stored", body = ErrorBody),
        (status = 503, description = "`provider_not_configured`: payments are off on this server", body = ErrorBody)))]
pub async fn xendit(
    State(db): State<PgPool>,
    Extension(payments): Extension<Payments>,
    Extension(doorbell): Extension<Doorbell>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CallbackReceipt>, ApiError> {
    let payments = payments.configured()?;
    let presented = headers
        .get("x-callback-token")
        .and_then(|v| v.to_str().ok());
    if !callback_token_matches(&payments.callback_token, presented) {
        return Err(ApiError::unauthenticated(
            "invalid_callback_token",
            "the x-callback-token header is missing or wrong",
        ));
    }
    // Postgres text holds no NUL; a body with one is unreadable anyway.
    let raw = String::from_utf8_lossy(&body).replace('\0', "\u{fffd}");
    // An escaped NUL (`\u0000`) parses, but no id of ours or Xendit's has one.
    let callback = serde_json::from_slice::<InvoiceCallback>(&body)
        .ok()
        .filter(|c| {
            ![&c.id, &c.external_id, &c.currency]
                .iter()
                .any(|f| f.contains('\0'))
        });
    let report = callback.as_ref().map(InvoiceReport::from);
    let outcome = halo_orders::record_callback(&db, &raw, report.as_ref())
        .await
        .map_err(|e| db_error("storing a Xendit callback failed", e))?;
    if outcome == Outcome::Paid {
        doorbell.ring();
    }
    if report.is_none() {
        return Err(ApiError::new(
            ErrorKind::InvalidInput,
            "invalid_callback",
            "the body is not a Xendit invoice callback",
        ));
    }
    Ok(Json(CallbackReceipt {
        outcome: outcome.as_str(),
    }))
}
