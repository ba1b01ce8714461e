//! Orders and their payment (issue 9): the order and its money, idempotent
//! creation with a Xendit invoice, callbacks applied exactly once with an
//! `order.paid` outbox event, and the sweeps that expire and reconcile.
//! Sole writer of `orders`, `payment_events` and (for now) `outbox`.

mod create;
mod model;
mod outbox;
mod oversight;
mod payment;
mod read;
mod refund;
mod sweep;

pub use create::{Created, InvoiceOptions, NewOrder, Purpose, create};
pub use model::{Idr, Order, OrderId, OrderKind, OrderStatus, Payment};
pub use outbox::prune_outbox;
pub use oversight::{
    OrderFilter, OrderRecord, PaymentEventRecord, RefundError, list_orders, order_record,
    payment_events, record_refund,
};
pub use payment::{InvoiceReport, Outcome, record_callback};
pub use read::{Page, get, list};
pub use refund::mark_refund_required;
pub use sweep::{abandon_stale, expire_due, reconcile_due};

/// Why an order could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("no such tier")]
    UnknownTier,
    /// An operator blocked the customer (their access token may outlive
    /// the block by up to its TTL; ordering checks the account itself).
    #[error("the customer is blocked")]
    AccountBlocked,
    #[error("the chosen mitra is not available")]
    MitraUnavailable,
    #[error("no mitra is available")]
    NoMitraAvailable,
    #[error("the idempotency key was used for another request")]
    IdempotencyKeyReused,
    #[error("a request with this idempotency key is still being processed")]
    StillCreating,
    #[error("the payment provider failed")]
    ProviderUnavailable,
    /// The order left the states the apps see while being made (e.g. a
    /// callback flagged it); rare enough to be a plain failure.
    #[error("the order is in an internal state")]
    NotVisible,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
