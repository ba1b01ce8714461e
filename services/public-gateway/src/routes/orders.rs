//! `/api/client/orders`: a customer orders a tier and pays its invoice.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use halo_auth::Auth;
use halo_orders::{Created, NewOrder, Order, OrderId, Purpose};
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, KnobCache, db_error};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::services::orders::api_error;
use crate::services::payments::Payments;

/// What to buy; the price comes from the tier, never from the app.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"tier_id": "chat_30", "mitra_id": "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f", "allow_fallback": true}))]
pub struct CreateOrder {
    /// An `id` from `pricing_tiers` in `GET /api/shared/config`.
    #[schema(example = "chat_30", min_length = 1, max_length = 32)]
    pub tier_id: String,
    /// The mitra the customer chose; absent: any available mitra.
    pub mitra_id: Option<Uuid>,
    /// Whether another mitra may serve the order if the chosen one cannot
    /// (default true, as the chats rules say).
    pub allow_fallback: Option<bool>,
}

/// Idempotency keys: what a retry must repeat exactly.
const MAX_KEY_LEN: usize = 255;

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Err(ApiError::invalid_field(
            "Idempotency-Key",
            "missing_idempotency_key",
            "send an Idempotency-Key header (e.g. a UUID) and reuse it when retrying",
        ));
    };
    let key = value.to_str().unwrap_or_default();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_field(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "1 to 255 visible ASCII characters",
        ));
    }
    Ok(key.to_owned())
}

/// Orders a tier and opens its invoice. Retrying with the same
/// `Idempotency-Key` and body returns the same order, never a second
/// invoice.
#[utoipa::path(post, path = "/api/client/orders", tag = "orders", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", example = "4f9d6c1e-2b7a-4c3e-9d8f-1a2b3c4d5e6f",
        description = "one per order the customer means to make; reuse it when retrying")),
    request_body = CreateOrder,
    responses(
        (status = 201, description = "the order, `pending_payment`, with `payment.invoice_url` to open", body = Order),
        (status = 200, description = "the order this key already made (a retry)", body = Order),
        (status = 400, description = "`missing_idempotency_key` or `invalid_idempotency_key`", body = ErrorBody),
        (status = 403, description = "`account_blocked`: an operator blocked this customer", body = ErrorBody),
        (status = 409, description = "`mitra_unavailable` (the chosen mitra is inactive or has no free slot), \
            `no_mitra_available`, or `order_in_progress` (a request with this key is still running; retry)", body = ErrorBody),
        (status = 422, description = "`unknown_tier`, or `idempotency_key_reused` (the key was used with another body)", body = ErrorBody),
        (status = 502, description = "`payment_provider_unavailable`: Xendit failed; nothing is billed; retry with the same key", body = ErrorBody),
        (status = 503, description = "`provider_not_configured`: payments are off on this server", body = ErrorBody)))]
pub async fn create(
    State(db): State<PgPool>,
    State(knobs): State<KnobCache>,
    Extension(payments): Extension<Payments>,
    auth: Auth,
    headers: HeaderMap,
    Json(body): Json<CreateOrder>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let key = idempotency_key(&headers)?;
    let payments = payments.configured()?;
    let knobs = knobs.current()?;
    let new = NewOrder {
        customer_id: auth.user_id,
        idempotency_key: key,
        tier_id: body.tier_id,
        purpose: Purpose::Chat {
            mitra_id: body.mitra_id,
            allow_fallback: body.allow_fallback.unwrap_or(true),
        },
    };
    let created = halo_orders::create(
        &db,
        payments.provider.as_ref(),
        &knobs.knobs,
        &payments.options,
        &new,
    )
    .await
    .map_err(api_error)?;
    Ok(match created {
        Created::New(order) => (StatusCode::CREATED, Json(order)),
        Created::Existing(order) => (StatusCode::OK, Json(order)),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many orders (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page; a cursor that is not one of the
    /// customer's orders gives an empty page.
    pub cursor: Option<Uuid>,
}

/// A page of orders, newest first.
#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<Uuid>)]
    pub next_cursor: Option<OrderId>,
}

/// The customer's orders, newest first.
#[utoipa::path(get, path = "/api/client/orders", tag = "orders", security(("bearer" = [])), params(ListQuery),
    responses(
        (status = 200, description = "a page of orders", body = OrderPage,
            example = json!({"orders": [{"id": "019ab8f0-7a11-7c41-9a7e-3f5b2c1d0e9f", "status": "paid", "tier_id": "chat_30",
                "tier_label": "30 menit", "duration_minutes": 30, "amount_idr": 25000, "currency": "IDR", "mitra_id": null,
                "allow_fallback": false, "payment": null, "paid_at": "2026-11-26T08:03:12Z", "created_at": "2026-11-26T08:00:00Z"}],
                "next_cursor": null})),
        (status = 400, description = "`validation_failed` (field `limit`), or `bad_request` (a parameter is not \
            a number or a UUID)", body = ErrorBody)))]
pub async fn list(
    State(db): State<PgPool>,
    auth: Auth,
    Query(query): Query<ListQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let page = halo_orders::list(&db, auth.user_id, query.cursor.map(OrderId), limit)
        .await
        .map_err(|e| db_error("listing orders failed", e))?;
    Ok(Json(OrderPage {
        orders: page.orders,
        next_cursor: page.next,
    }))
}

/// One of the customer's orders; poll it after the payment page closes.
#[utoipa::path(get, path = "/api/client/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the order's id")),
    responses(
        (status = 200, description = "the order", body = Order),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`order_not_found`: no such order of this customer's", body = ErrorBody)))]
pub async fn get(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<Json<Order>, ApiError> {
    halo_orders::get(&db, auth.user_id, OrderId(id))
        .await
        .map_err(|e| db_error("reading an order failed", e))?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("order_not_found", "no such order"))
}
