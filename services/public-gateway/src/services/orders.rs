//! Orders for the customer app: the domain's answers in the API's words.

use halo_orders::OrderError;
use halo_proto::{ApiError, ErrorKind};
use halo_web::{db_error, internal_error};

/// Each domain refusal with its stable code.
pub fn api_error(err: OrderError) -> ApiError {
    match err {
        OrderError::UnknownTier => ApiError::new(
            ErrorKind::Unprocessable,
            "unknown_tier",
            "no tier has this id; read the tiers from GET /api/shared/config",
        ),
        OrderError::MitraUnavailable => ApiError::new(
            ErrorKind::Conflict,
            "mitra_unavailable",
            "the chosen mitra cannot take an order now",
        ),
        OrderError::NoMitraAvailable => ApiError::new(
            ErrorKind::Conflict,
            "no_mitra_available",
            "no mitra can take an order now; try again later",
        ),
        OrderError::IdempotencyKeyReused => ApiError::new(
            ErrorKind::Unprocessable,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different order",
        ),
        OrderError::StillCreating => ApiError::new(
            ErrorKind::Conflict,
            "order_in_progress",
            "an order with this Idempotency-Key is still being created; retry shortly",
        ),
        OrderError::ProviderUnavailable => ApiError::new(
            ErrorKind::BadGateway,
            "payment_provider_unavailable",
            "the payment provider is unavailable; retry with the same Idempotency-Key",
        ),
        OrderError::AccountBlocked => ApiError::forbidden(
            "account_blocked",
            "this account is blocked; contact support",
        ),
        OrderError::NotVisible => {
            internal_error("an order left the visible states while it was created", err)
        }
        OrderError::Database(err) => db_error("orders query failed", err),
    }
}
