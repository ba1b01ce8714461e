//! The order as stored and as the apps see it: money, ids and states.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

/// Whole rupiah. Rupiah has no minor unit in use, so an integer is exact;
/// a float never is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(example = 25000)]
pub struct Idr(pub i64);

/// An order's id; also the invoice's `external_id` at Xendit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct OrderId(pub Uuid);

impl std::fmt::Display for OrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where an order stands. The apps never see the two internal states
/// (`creating` while the invoice is asked for, `failed` when it could not
/// be): reads leave those rows out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// The invoice is open until `payment.expires_at`.
    PendingPayment,
    /// The money arrived.
    Paid,
    /// The window closed without a payment.
    Expired,
    /// A payment callback did not match the order; support looks at it.
    PaymentMismatch,
    /// Paid but never served; a refund is owed.
    RefundRequired,
    /// Refunded by an operator.
    Refunded,
}

impl OrderStatus {
    fn parse(status: &str) -> Option<Self> {
        Some(match status {
            "pending_payment" => Self::PendingPayment,
            "paid" => Self::Paid,
            "expired" => Self::Expired,
            "payment_mismatch" => Self::PaymentMismatch,
            "refund_required" => Self::RefundRequired,
            "refunded" => Self::Refunded,
            _ => return None,
        })
    }
}

/// What an order buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// A new chat.
    Chat,
    /// More time in a running chat (`chat_id`), bought after its mitra
    /// accepted the customer's extension request.
    Extension,
}

/// How to pay an open order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Payment {
    /// Xendit's hosted invoice page; open it in a browser.
    #[schema(example = "https://checkout.xendit.co/web/6745f0a1b2c3d4e5f6a7b8c9")]
    pub invoice_url: String,
    /// When the invoice closes; the order expires then if unpaid.
    pub expires_at: DateTime<Utc>,
}

/// An order as the apps see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab8f0-7a11-7c41-9a7e-3f5b2c1d0e9f", "status": "pending_payment",
    "kind": "chat", "chat_id": null, "tier_id": "chat_30", "tier_label": "30 menit", "duration_minutes": 30, "amount_idr": 25000,
    "currency": "IDR", "mitra_id": null, "allow_fallback": false,
    "payment": {"invoice_url": "https://checkout.xendit.co/web/6745f0a1b2c3d4e5f6a7b8c9",
                "expires_at": "2026-11-26T08:30:00Z"},
    "paid_at": null, "created_at": "2026-11-26T08:00:00Z"}))]
pub struct Order {
    #[schema(value_type = Uuid, example = "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f")]
    pub id: OrderId,
    pub status: OrderStatus,
    pub kind: OrderKind,
    /// The chat an extension order extends; null for a chat order.
    pub chat_id: Option<Uuid>,
    /// The tier bought, copied when ordered: a later price change never
    /// changes an order.
    #[schema(example = "chat_30")]
    pub tier_id: String,
    #[schema(example = "30 menit")]
    pub tier_label: String,
    #[schema(example = 30)]
    pub duration_minutes: i32,
    #[schema(value_type = i64, example = 25000)]
    pub amount_idr: Idr,
    #[schema(example = "IDR")]
    pub currency: String,
    /// The mitra chosen, if any.
    pub mitra_id: Option<Uuid>,
    /// Whether another mitra may serve the order if the chosen one cannot.
    pub allow_fallback: bool,
    /// Absent once the invoice is no longer open.
    pub payment: Option<Payment>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The columns every read selects, in [`OrderRow`]'s order.
pub(crate) const ORDER_COLUMNS: &str = "id, status, kind, chat_id, tier_id, tier_label, duration_minutes, \
     amount_idr, currency, mitra_id, allow_fallback, invoice_url, expires_at, paid_at, created_at";

#[derive(FromRow)]
pub(crate) struct OrderRow {
    id: Uuid,
    status: String,
    kind: String,
    chat_id: Option<Uuid>,
    tier_id: String,
    tier_label: String,
    duration_minutes: i32,
    amount_idr: i64,
    currency: String,
    mitra_id: Option<Uuid>,
    allow_fallback: bool,
    invoice_url: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    paid_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl OrderRow {
    /// `None` for the internal states the apps never see.
    pub(crate) fn into_order(self) -> Option<Order> {
        let status = OrderStatus::parse(&self.status)?;
        let payment = match (status, self.invoice_url, self.expires_at) {
            (OrderStatus::PendingPayment, Some(invoice_url), Some(expires_at)) => Some(Payment {
                invoice_url,
                expires_at,
            }),
            _ => None,
        };
        Some(Order {
            id: OrderId(self.id),
            status,
            kind: if self.kind == "extension" {
                OrderKind::Extension
            } else {
                OrderKind::Chat
            },
            chat_id: self.chat_id,
            tier_id: self.tier_id,
            tier_label: self.tier_label,
            duration_minutes: self.duration_minutes,
            amount_idr: Idr(self.amount_idr),
            currency: self.currency,
            mitra_id: self.mitra_id,
            allow_fallback: self.allow_fallback,
            payment,
            paid_at: self.paid_at,
            created_at: self.created_at,
        })
    }
}
