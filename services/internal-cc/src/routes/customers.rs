//! `/internal/customers`: search, view, block and unblock customers.

use axum::extract::{Path, Query, State};
use halo_proto::ApiError;
use halo_web::{EdgeState, ErrorBody, Json, split_page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::roles::Operator;
use crate::services::customers::{self as service, CustomerDetail, CustomerRecord, StatusChange};

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    Active,
    Blocked,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A customer id, a phone (`0812…`, `+62812…`, or the start of the
    /// E.164 form), or part of the display name.
    #[param(
        max_length = 100,
        example = "081234567890",
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub q: Option<String>,
    #[param(inline)]
    pub status: Option<CustomerStatus>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    pub items: Vec<CustomerRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Customers, newest first, optionally matching a search.
#[utoipa::path(get, path = "/internal/customers", operation_id = "cc_list_customers", tag = "customers", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "a page of customers", body = CustomerList),
        (status = 400, description = "`validation_failed` (`limit`, `q`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn list(
    State(state): State<EdgeState>,
    _operator: Operator,
    Query(query): Query<ListQuery>,
) -> Result<Json<CustomerList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let q = super::search_text(query.q)?;
    let status = query.status.map(|s| match s {
        CustomerStatus::Active => "active",
        CustomerStatus::Blocked => "blocked",
    });
    let rows = service::search(&state.db, q.as_deref(), status, query.cursor, limit).await?;
    let (items, next_cursor) = split_page(rows, limit, |c| c.id);
    Ok(Json(CustomerList { items, next_cursor }))
}

/// One customer with their latest orders and chats.
#[utoipa::path(get, path = "/internal/customers/{id}", operation_id = "cc_get_customer", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the customer's user id")),
    responses((status = 200, description = "the customer", body = CustomerDetail),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`customer_not_found`", body = ErrorBody)))]
pub async fn get(
    State(state): State<EdgeState>,
    _operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<CustomerDetail>, ApiError> {
    Ok(Json(service::detail(&state.db, id).await?))
}

/// Blocks a customer: their sessions end, and they can neither sign in nor
/// order (403 `account_blocked`). Their running chats go on.
#[utoipa::path(post, path = "/internal/customers/{id}/block", operation_id = "cc_block_customer", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the customer's user id")),
    responses((status = 200, description = "the customer, blocked", body = StatusChange),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`customer_not_found`", body = ErrorBody)))]
pub async fn block(
    State(state): State<EdgeState>,
    operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<StatusChange>, ApiError> {
    Ok(Json(
        service::set_blocked(&state, &operator, id, true).await?,
    ))
}

/// Lifts a block.
#[utoipa::path(post, path = "/internal/customers/{id}/unblock", operation_id = "cc_unblock_customer", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the customer's user id")),
    responses((status = 200, description = "the customer, active", body = StatusChange),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`customer_not_found`", body = ErrorBody)))]
pub async fn unblock(
    State(state): State<EdgeState>,
    operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<StatusChange>, ApiError> {
    Ok(Json(
        service::set_blocked(&state, &operator, id, false).await?,
    ))
}
