//! Orders: lists, one order with Xendit's callbacks, and recording a refund
//! an admin made in Xendit's dashboard (we never move money).

use halo_orders::{OrderFilter, OrderRecord, PaymentEventRecord, RefundError};
use halo_proto::{ApiError, ErrorKind};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::query_failed;
use crate::roles::Admin;

pub fn order_not_found() -> ApiError {
    ApiError::not_found("order_not_found", "no such order")
}

pub async fn list(
    db: &PgPool,
    filter: &OrderFilter,
    limit: u32,
) -> Result<Vec<OrderRecord>, ApiError> {
    halo_orders::list_orders(db, filter, i64::from(limit) + 1)
        .await
        .map_err(query_failed)
}

/// An order with every callback Xendit sent about it, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: OrderRecord,
    pub payment_events: Vec<PaymentEventRecord>,
}

pub async fn detail(db: &PgPool, id: Uuid) -> Result<OrderDetail, ApiError> {
    let order = halo_orders::order_record(db, id)
        .await
        .map_err(query_failed)?
        .ok_or_else(order_not_found)?;
    let payment_events = halo_orders::payment_events(db, id)
        .await
        .map_err(query_failed)?;
    Ok(OrderDetail {
        order,
        payment_events,
    })
}

pub async fn record_refund(
    db: &PgPool,
    admin: &Admin,
    id: Uuid,
    reference: &str,
    note: Option<&str>,
) -> Result<OrderDetail, ApiError> {
    let mut tx = db.begin().await.map_err(query_failed)?;
    let (before, after) = halo_orders::record_refund(
        &mut tx,
        id,
        admin.profile.id,
        reference,
        note,
    )
    .await
    .map_err(|err| match err {
        RefundError::NotFound => order_not_found(),
        RefundError::AlreadyRefunded => ApiError::new(
            ErrorKind::Conflict,
            "already_refunded",
            "this order's refund is recorded already",
        ),
        RefundError::NotRefundable => ApiError::new(
            ErrorKind::Conflict,
            "not_refundable",
            "this order took no money (it is not paid, refund_required or payment_mismatch)",
        ),
        RefundError::Database(err) => query_failed(err),
    })?;
    let entry = halo_audit::Entry::new("order.refund", "order", id).change(
        serde_json::json!({"status": before.status}),
        serde_json::json!({"status": after.status, "refund_reference": after.refund_reference,
                           "refund_note": after.refund_note}),
    );
    halo_audit::record(&mut tx, &admin.actor(), entry)
        .await
        .map_err(query_failed)?;
    tx.commit().await.map_err(query_failed)?;
    detail(db, id).await
}
