//! `/api/{client,mitra}/chats/{id}/extensions`: the customer asks for more
//! time, the mitra accepts (an invoice for the customer) or declines.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use halo_auth::Auth;
use halo_chats::{ChatError, ChatId, Checkout, CustomerExtension, ExtensionId, MitraExtension};
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, KnobCache, db_error};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::services::chats::{api_error, chat_not_found};
use crate::services::payments::Payments;

/// The tier to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"tier_id": "chat_15"}))]
pub struct RequestExtension {
    /// An `id` from `pricing_tiers` in `GET /api/shared/config`.
    #[schema(example = "chat_15", min_length = 1, max_length = 32)]
    pub tier_id: String,
}

/// A chat's extensions as the customer sees them, newest first (at most 50).
#[derive(Serialize, ToSchema)]
pub struct CustomerExtensionList {
    pub extensions: Vec<CustomerExtension>,
}

/// A chat's extensions as the mitra sees them, newest first (at most 50).
#[derive(Serialize, ToSchema)]
pub struct MitraExtensionList {
    pub extensions: Vec<MitraExtension>,
}

/// In the extension routes a missing extension is named as such.
fn extension_error(err: ChatError) -> ApiError {
    match err {
        ChatError::NotFound => ApiError::not_found(
            "extension_not_found",
            "no such extension of a chat this mitra serves",
        ),
        err => api_error(err),
    }
}

/// Asks the chat's mitra for more time: a tier, paid only once the mitra
/// accepts (within `extension_timeout_seconds`). One request may be
/// pending at a time.
#[utoipa::path(post, path = "/api/client/chats/{id}/extensions", operation_id = "request_extension", tag = "extensions",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the chat's id")),
    request_body = RequestExtension,
    responses(
        (status = 201, description = "the request, `requested` until the mitra answers or `respond_by` passes", body = CustomerExtension),
        (status = 400, description = "`bad_request`: the id is not a UUID, or the body is not a request", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: no such chat of this customer's", body = ErrorBody),
        (status = 409, description = "`chat_not_active` (not running, or its time is up) or `extension_pending` \
            (another request waits for the mitra or for payment)", body = ErrorBody),
        (status = 422, description = "`unknown_tier`", body = ErrorBody)))]
pub async fn request(
    State(db): State<PgPool>,
    State(knobs): State<KnobCache>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(body): Json<RequestExtension>,
) -> Result<(StatusCode, Json<CustomerExtension>), ApiError> {
    let knobs = knobs.current()?;
    let extension = halo_chats::request(&db, &knobs.knobs, auth.user_id, ChatId(id), &body.tier_id)
        .await
        .map_err(api_error)?;
    Ok((StatusCode::CREATED, Json(extension)))
}

/// The chat's extensions, newest first: once one is accepted, its
/// `payment.invoice_url` is what the customer opens to pay.
#[utoipa::path(get, path = "/api/client/chats/{id}/extensions", operation_id = "list_client_extensions", tag = "extensions",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the chat's id")),
    responses(
        (status = 200, description = "the chat's extensions", body = CustomerExtensionList),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: no such chat of this customer's", body = ErrorBody)))]
pub async fn client_list(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<Json<CustomerExtensionList>, ApiError> {
    let extensions = halo_chats::customer_extensions(&db, auth.user_id, ChatId(id))
        .await
        .map_err(|e| db_error("listing extensions failed", e))?
        .ok_or_else(chat_not_found)?;
    Ok(Json(CustomerExtensionList { extensions }))
}

/// The extensions of a chat this mitra serves (or served), newest first.
#[utoipa::path(get, path = "/api/mitra/chats/{id}/extensions", operation_id = "list_mitra_extensions", tag = "extensions",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "the chat's id")),
    responses(
        (status = 200, description = "the chat's extensions, without prices or orders", body = MitraExtensionList),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: not a chat this mitra serves", body = ErrorBody)))]
pub async fn mitra_list(
    State(db): State<PgPool>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<Json<MitraExtensionList>, ApiError> {
    let extensions = halo_chats::mitra_extensions(&db, auth.user_id, ChatId(id))
        .await
        .map_err(|e| db_error("listing extensions failed", e))?
        .ok_or_else(chat_not_found)?;
    Ok(Json(MitraExtensionList { extensions }))
}

/// Accepts a customer's extension request before its `respond_by`: the
/// customer is sent an invoice, and the chat is lengthened once it is
/// paid. Repeating an accept answers the extension again.
#[utoipa::path(post, path = "/api/mitra/chats/{id}/extensions/{extension_id}/accept", operation_id = "accept_extension",
    tag = "extensions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id"),
           ("extension_id" = Uuid, Path, description = "the extension's id, from the extension.requested event")),
    responses(
        (status = 200, description = "the extension, `accepted` (or `paid`, on a repeat)", body = MitraExtension),
        (status = 400, description = "`bad_request`: an id is not a UUID", body = ErrorBody),
        (status = 404, description = "`extension_not_found`: no such extension of a chat this mitra serves", body = ErrorBody),
        (status = 409, description = "`extension_closed`: declined, expired, or the chat ended", body = ErrorBody),
        (status = 502, description = "`payment_provider_unavailable`: the invoice could not be made; retry", body = ErrorBody),
        (status = 503, description = "`provider_not_configured`: payments are off on this server", body = ErrorBody)))]
pub async fn accept(
    State(db): State<PgPool>,
    State(knobs): State<KnobCache>,
    Extension(payments): Extension<Payments>,
    auth: Auth,
    Path((id, extension_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<MitraExtension>, ApiError> {
    let payments = payments.configured()?;
    let knobs = knobs.current()?;
    let checkout = Checkout {
        provider: payments.provider.as_ref(),
        options: &payments.options,
    };
    halo_chats::accept_extension(
        &db,
        checkout,
        &knobs.knobs,
        auth.user_id,
        ChatId(id),
        ExtensionId(extension_id),
    )
    .await
    .map(Json)
    .map_err(extension_error)
}

/// Declines a customer's extension request; the chat ends on time.
/// Repeating a decline changes nothing.
#[utoipa::path(post, path = "/api/mitra/chats/{id}/extensions/{extension_id}/decline", operation_id = "decline_extension",
    tag = "extensions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the chat's id"),
           ("extension_id" = Uuid, Path, description = "the extension's id, from the extension.requested event")),
    responses(
        (status = 204, description = "declined"),
        (status = 400, description = "`bad_request`: an id is not a UUID", body = ErrorBody),
        (status = 404, description = "`extension_not_found`: no such extension of a chat this mitra serves", body = ErrorBody),
        (status = 409, description = "`extension_closed`: accepted, expired, or the chat ended", body = ErrorBody)))]
pub async fn decline(
    State(db): State<PgPool>,
    auth: Auth,
    Path((id, extension_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    halo_chats::decline_extension(&db, auth.user_id, ChatId(id), ExtensionId(extension_id))
        .await
        .map_err(extension_error)?;
    Ok(StatusCode::NO_CONTENT)
}
