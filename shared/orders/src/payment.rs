//! What Xendit says about an invoice (a callback, or an answer to the
//! sweeper's question) applied to its order, exactly once, in SQL.

use halo_xendit::{Invoice, InvoiceCallback, InvoiceStatus};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::model::Idr;

/// What an invoice's state is, according to Xendit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceReport {
    pub invoice_id: String,
    pub external_id: String,
    pub status: InvoiceStatus,
    pub amount: Idr,
    pub currency: String,
}

impl From<&InvoiceCallback> for InvoiceReport {
    fn from(callback: &InvoiceCallback) -> Self {
        Self {
            invoice_id: callback.id.clone(),
            external_id: callback.external_id.clone(),
            status: callback.status,
            amount: Idr(callback.amount_idr),
            currency: callback.currency.clone(),
        }
    }
}

impl From<&Invoice> for InvoiceReport {
    fn from(invoice: &Invoice) -> Self {
        Self {
            invoice_id: invoice.id.clone(),
            external_id: invoice.external_id.clone(),
            status: invoice.status,
            amount: Idr(invoice.amount_idr),
            currency: invoice.currency.clone(),
        }
    }
}

/// What applying a report did; stored beside the raw event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order became paid (and its `order.paid` event was written).
    Paid,
    /// The order was already past `pending_payment`: nothing changed.
    Duplicate,
    /// The order expired as Xendit said.
    Expired,
    /// Nothing to do (e.g. EXPIRED after PAID, or still pending).
    Ignored,
    /// The invoice, amount or currency differ from the order's.
    Mismatch,
    /// No order of ours has this `external_id`.
    UnknownOrder,
    /// The body was not an invoice callback.
    Unreadable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Duplicate => "duplicate",
            Self::Expired => "expired",
            Self::Ignored => "ignored",
            Self::Mismatch => "mismatch",
            Self::UnknownOrder => "unknown_order",
            Self::Unreadable => "unreadable",
        }
    }
}

/// Stores a callback that presented the right token, raw and with its
/// receive time, and applies it to its order in the same transaction.
/// `report` is `None` when the body could not be read as a callback.
pub async fn record_callback(
    db: &PgPool,
    raw: &str,
    report: Option<&InvoiceReport>,
) -> Result<Outcome, sqlx::Error> {
    record(db, "xendit", raw, report).await
}

/// Stores what the sweeper learnt from Xendit and applies it like a callback.
pub(crate) async fn record_reconciliation(
    db: &PgPool,
    report: &InvoiceReport,
) -> Result<Outcome, sqlx::Error> {
    let raw = json!({
        "id": report.invoice_id,
        "external_id": report.external_id,
        "status": report.status.as_str(),
        "amount": report.amount,
        "currency": report.currency,
    })
    .to_string();
    record(db, "xendit_reconciliation", &raw, Some(report)).await
}

async fn record(
    db: &PgPool,
    provider: &str,
    raw: &str,
    report: Option<&InvoiceReport>,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = db.begin().await?;
    let (order_id, outcome) = match report {
        Some(report) => apply(&mut tx, report).await?,
        None => (None, Outcome::Unreadable),
    };
    sqlx::query(
        "INSERT INTO payment_events (provider, raw, invoice_id, external_id, status, order_id, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(provider)
    .bind(raw)
    .bind(report.map(|r| &r.invoice_id))
    .bind(report.map(|r| &r.external_id))
    .bind(report.map(|r| r.status.as_str()))
    .bind(order_id)
    .bind(outcome.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

#[derive(sqlx::FromRow)]
struct Target {
    id: Uuid,
    invoice_id: Option<String>,
    amount_idr: i64,
    currency: String,
}

async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    report: &InvoiceReport,
) -> Result<(Option<Uuid>, Outcome), sqlx::Error> {
    let Ok(order_id) = Uuid::parse_str(&report.external_id) else {
        return Ok((None, Outcome::UnknownOrder));
    };
    // The row lock serialises concurrent callbacks for one order: each sees
    // the state the previous one left.
    let found: Option<Target> = sqlx::query_as(
        "SELECT id, invoice_id, amount_idr, currency FROM orders WHERE id = $1 FOR UPDATE",
    )
    .bind(order_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(order) = found else {
        return Ok((None, Outcome::UnknownOrder));
    };
    let matches = order.invoice_id.as_deref() == Some(report.invoice_id.as_str())
        && order.amount_idr == report.amount.0
        && order.currency == report.currency;
    if !matches {
        // Flagged for the CC; a paid, failed or refunded order keeps its
        // state (the event row still records the mismatch).
        sqlx::query(
            "UPDATE orders SET status = 'payment_mismatch', reconcile_at = NULL, updated_at = now()
             WHERE id = $1 AND status IN ('creating', 'pending_payment', 'expired')",
        )
        .bind(order.id)
        .execute(&mut **tx)
        .await?;
        tracing::warn!(order_id = %order.id, "a payment report does not match its order");
        return Ok((Some(order.id), Outcome::Mismatch));
    }
    let outcome = match report.status {
        // PAID after a local expiry still counts: the money arrived. The
        // transition and its `order.paid` outbox row (the chats feature
        // starts matching from it) are one statement: one round trip less
        // on the webhook's path, and no way to write one without the other.
        InvoiceStatus::Paid | InvoiceStatus::Settled => {
            let paid = sqlx::query(
                "WITH paid AS (
                     UPDATE orders SET status = 'paid', paid_at = now(), reconcile_at = NULL,
                            updated_at = now()
                     WHERE id = $1 AND status IN ('pending_payment', 'expired')
                     RETURNING id, kind, chat_id, customer_id, mitra_id, tier_id, duration_minutes,
                               amount_idr, allow_fallback)
                 INSERT INTO outbox (topic, aggregate_id, payload)
                 SELECT 'order.paid', id, jsonb_build_object(
                     'order_id', id, 'kind', kind, 'chat_id', chat_id,
                     'customer_id', customer_id, 'mitra_id', mitra_id,
                     'tier_id', tier_id, 'duration_minutes', duration_minutes,
                     'amount_idr', amount_idr, 'allow_fallback', allow_fallback)
                 FROM paid",
            )
            .bind(order.id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if paid == 1 {
                Outcome::Paid
            } else {
                Outcome::Duplicate
            }
        }
        InvoiceStatus::Expired => {
            let expired = sqlx::query(
                "UPDATE orders SET status = 'expired', updated_at = now()
                 WHERE id = $1 AND status = 'pending_payment'",
            )
            .bind(order.id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if expired == 1 {
                Outcome::Expired
            } else {
                Outcome::Ignored
            }
        }
        InvoiceStatus::Pending => Outcome::Ignored,
    };
    Ok((Some(order.id), outcome))
}
