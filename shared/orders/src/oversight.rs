//! Orders as operators see them (issue 12): every state, the invoice, the
//! callbacks Xendit sent, and recorded refunds. Lists are newest first,
//! paged on the id (UUIDv7: creation order); only the filters given reach
//! the SQL.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, PgPool, QueryBuilder};
use utoipa::ToSchema;
use uuid::Uuid;

/// An order with everything the CC shows.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[schema(example = json!({"id": "019ab8f0-7a11-7c41-9a7e-3f5b2c1d0e9f", "customer_id": "019ab8ef-2b3c-7c41-9a7e-3f5b2c1d0e9f",
    "status": "refund_required", "kind": "chat", "chat_id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f", "tier_id": "chat_30",
    "tier_label": "30 menit", "duration_minutes": 30, "amount_idr": 25000, "currency": "IDR", "mitra_id": null,
    "allow_fallback": true, "invoice_id": "6745f0a1b2c3d4e5f6a7b8c9",
    "invoice_url": "https://checkout.xendit.co/web/6745f0a1b2c3d4e5f6a7b8c9", "expires_at": "2026-11-26T08:30:00Z",
    "paid_at": "2026-11-26T08:03:12Z", "created_at": "2026-11-26T08:00:00Z", "updated_at": "2026-11-26T08:08:15Z",
    "refund_reference": null, "refund_note": null, "refunded_at": null, "refunded_by": null}))]
pub struct OrderRecord {
    pub id: Uuid,
    pub customer_id: Uuid,
    /// `creating`, `pending_payment`, `paid`, `expired`, `payment_mismatch`,
    /// `refund_required`, `refunded` or `failed`.
    #[schema(example = "refund_required")]
    pub status: String,
    /// `chat` or `extension`.
    #[schema(example = "chat")]
    pub kind: String,
    /// The chat the order made or extends.
    pub chat_id: Option<Uuid>,
    #[schema(example = "chat_30")]
    pub tier_id: String,
    #[schema(example = "30 menit")]
    pub tier_label: String,
    pub duration_minutes: i32,
    /// Whole rupiah.
    #[schema(example = 25000)]
    pub amount_idr: i64,
    #[schema(example = "IDR")]
    pub currency: String,
    pub mitra_id: Option<Uuid>,
    pub allow_fallback: bool,
    /// Xendit's invoice id.
    pub invoice_id: Option<String>,
    pub invoice_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Xendit's refund reference, as the admin recorded it.
    pub refund_reference: Option<String>,
    pub refund_note: Option<String>,
    pub refunded_at: Option<DateTime<Utc>>,
    pub refunded_by: Option<Uuid>,
}

/// The chat order's chat is found through `chats.order_id`; an extension
/// order names its chat itself.
const ORDER_RECORD: &str = "
    SELECT o.id, o.customer_id, o.status, o.kind, coalesce(o.chat_id, c.id) AS chat_id,
           o.tier_id, o.tier_label, o.duration_minutes, o.amount_idr, o.currency, o.mitra_id,
           o.allow_fallback, o.invoice_id, o.invoice_url, o.expires_at, o.paid_at,
           o.created_at, o.updated_at, o.refund_reference, o.refund_note, o.refunded_at,
           o.refunded_by
    FROM orders o LEFT JOIN chats c ON c.order_id = o.id";

/// Which orders to list; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub customer_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before: Option<Uuid>,
}

pub async fn list_orders(
    db: &PgPool,
    filter: &OrderFilter,
    limit: i64,
) -> Result<Vec<OrderRecord>, sqlx::Error> {
    let mut sql = QueryBuilder::new(ORDER_RECORD);
    sql.push(" WHERE true");
    if let Some(status) = &filter.status {
        sql.push(" AND o.status = ").push_bind(status);
    }
    if let Some(customer) = filter.customer_id {
        sql.push(" AND o.customer_id = ").push_bind(customer);
    }
    halo_db::push_created_between(&mut sql, "o", filter.from, filter.to);
    if let Some(before) = filter.before {
        sql.push(" AND o.id < ").push_bind(before);
    }
    sql.push(" ORDER BY o.id DESC LIMIT ").push_bind(limit);
    sql.build_query_as().fetch_all(db).await
}

pub async fn order_record(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<OrderRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ORDER_RECORD} WHERE o.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// One callback Xendit sent about an order, as received.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct PaymentEventRecord {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    /// Xendit's invoice status in the callback, e.g. `PAID`.
    pub status: Option<String>,
    /// What processing made of it: `paid`, `duplicate`, `expired`,
    /// `ignored`, `mismatch`, ...
    pub outcome: String,
    /// The callback body exactly as Xendit sent it.
    pub raw: String,
}

pub async fn payment_events(
    db: &PgPool,
    order: Uuid,
) -> Result<Vec<PaymentEventRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, received_at, status, outcome, raw FROM payment_events
         WHERE order_id = $1 ORDER BY id",
    )
    .bind(order)
    .fetch_all(db)
    .await
}

/// Why a refund could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("no such order")]
    NotFound,
    #[error("the order is refunded already")]
    AlreadyRefunded,
    /// Nothing was paid (or the order never reached Xendit).
    #[error("the order took no money")]
    NotRefundable,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Records a refund an admin made in Xendit's dashboard, in the caller's
/// transaction (with its audit entry). Only an order that took money can
/// be refunded: `paid`, `refund_required` or `payment_mismatch`. Returns
/// the order before and after.
pub async fn record_refund(
    tx: &mut PgConnection,
    id: Uuid,
    admin: Uuid,
    reference: &str,
    note: Option<&str>,
) -> Result<(OrderRecord, OrderRecord), RefundError> {
    let before = sqlx::query_as::<_, OrderRecord>(sqlx::AssertSqlSafe(format!(
        "{ORDER_RECORD} WHERE o.id = $1 FOR UPDATE OF o"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RefundError::NotFound)?;
    match before.status.as_str() {
        "paid" | "refund_required" | "payment_mismatch" => {}
        "refunded" => return Err(RefundError::AlreadyRefunded),
        _ => return Err(RefundError::NotRefundable),
    }
    sqlx::query(
        "UPDATE orders SET status = 'refunded', refund_reference = $2, refund_note = $3,
                refunded_at = now(), refunded_by = $4, reconcile_at = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(reference)
    .bind(note)
    .bind(admin)
    .execute(&mut *tx)
    .await?;
    let after = order_record(&mut *tx, id)
        .await?
        .ok_or(RefundError::NotFound)?;
    Ok((before, after))
}
