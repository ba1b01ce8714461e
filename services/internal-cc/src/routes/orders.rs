//! `/internal/orders`: every order, its Xendit callbacks, and recording
//! refunds (admins).

use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use halo_orders::{OrderFilter, OrderRecord};
use halo_proto::ApiError;
use halo_proto::text::{TextRule, clean_text, optional_note};
use halo_web::{ErrorBody, Json, split_page};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::roles::{Admin, Operator};
use crate::services::orders::{self as service, OrderDetail};

const REFERENCE_MAX: usize = 200;
const NOTE_MAX: usize = 2000;

/// Every state an order can be in, internal ones included.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Creating,
    PendingPayment,
    Paid,
    Expired,
    PaymentMismatch,
    RefundRequired,
    Refunded,
    Failed,
}

impl OrderStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::PendingPayment => "pending_payment",
            Self::Paid => "paid",
            Self::Expired => "expired",
            Self::PaymentMismatch => "payment_mismatch",
            Self::RefundRequired => "refund_required",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// e.g. `refund_required` (refunds to make) or `payment_mismatch`.
    #[param(inline)]
    pub status: Option<OrderStatus>,
    pub customer_id: Option<Uuid>,
    /// Created at or after (RFC 3339; write `+` in an offset as `%2B`).
    #[param(example = "2026-11-25T17:00:00Z")]
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<OrderRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Orders, newest first, filtered.
#[utoipa::path(get, path = "/internal/orders", operation_id = "cc_list_orders", tag = "orders", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "a page of orders", body = OrderList),
        (status = 400, description = "`validation_failed` (`limit`) or `bad_request` (a parameter of the wrong type)", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn list(
    State(db): State<PgPool>,
    _operator: Operator,
    Query(query): Query<ListQuery>,
) -> Result<Json<OrderList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let filter = OrderFilter {
        status: query.status.map(|s| s.as_str().to_owned()),
        customer_id: query.customer_id,
        from: query.from,
        to: query.to,
        before: query.cursor,
    };
    let rows = service::list(&db, &filter, limit).await?;
    let (items, next_cursor) = split_page(rows, limit, |o| o.id);
    Ok(Json(OrderList { items, next_cursor }))
}

/// One order with every callback Xendit sent about it, raw.
#[utoipa::path(get, path = "/internal/orders/{id}", operation_id = "cc_get_order", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the order's id (Xendit's `external_id`)")),
    responses((status = 200, description = "the order", body = OrderDetail),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`order_not_found`", body = ErrorBody)))]
pub async fn get(
    State(db): State<PgPool>,
    _operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderDetail>, ApiError> {
    Ok(Json(service::detail(&db, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reference": "rfd_6745f0a1b2c3", "note": "Mitra tidak menerima; dikembalikan penuh."}))]
pub struct RefundRecorded {
    /// The refund's reference in Xendit's dashboard.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub reference: String,
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub note: Option<String>,
}

/// Records that an admin refunded the order in Xendit's dashboard (this
/// moves no money). Only for orders that took money: `paid`,
/// `refund_required` or `payment_mismatch`. Admins only.
#[utoipa::path(post, path = "/internal/orders/{id}/refunded", operation_id = "cc_record_refund", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the order's id")), request_body = RefundRecorded,
    responses((status = 200, description = "the order, `refunded`", body = OrderDetail),
        (status = 400, description = "`validation_failed` (`reference`, `note`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`admin_only` or `account_disabled`", body = ErrorBody),
        (status = 404, description = "`order_not_found`", body = ErrorBody),
        (status = 409, description = "`already_refunded` or `not_refundable`", body = ErrorBody)))]
pub async fn refunded(
    State(db): State<PgPool>,
    admin: Admin,
    Path(id): Path<Uuid>,
    Json(body): Json<RefundRecorded>,
) -> Result<Json<OrderDetail>, ApiError> {
    let reference = clean_text("reference", &body.reference, TextRule::Line)?;
    if reference.is_empty() || reference.chars().count() > REFERENCE_MAX {
        return Err(ApiError::invalid_field(
            "reference",
            "invalid_reference",
            "the refund's reference in Xendit, 1 to 200 characters",
        ));
    }
    let note = optional_note("note", body.note, NOTE_MAX)?;
    Ok(Json(
        service::record_refund(&db, &admin, id, &reference, note.as_deref()).await?,
    ))
}
