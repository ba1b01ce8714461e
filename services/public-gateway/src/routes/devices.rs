//! `/api/shared/devices`: the app's FCM token, so a user with no open
//! socket still hears of messages and offers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use halo_auth::Auth;
use halo_proto::ApiError;
use halo_push::Platform;
use halo_web::{ErrorBody, Json, db_error};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "fcm-registration-token-from-the-firebase-sdk", "platform": "android"}))]
pub struct RegisterDevice {
    /// The FCM registration token of this install.
    #[schema(min_length = 1, max_length = 4096, pattern = "^[!-~]+$")]
    pub token: String,
    pub platform: Platform,
}

/// A token is printable ASCII: FCM's are, and anything else is a mistake.
fn check_token(token: &str) -> Result<(), ApiError> {
    if (1..=4096).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "token",
            "invalid_token",
            "an FCM registration token: 1 to 4096 visible ASCII characters",
        ))
    }
}

/// Registers this install's FCM token for the signed-in user (again after
/// the SDK rotates it; a token moves to whoever registered it last). The
/// session's logout removes it.
#[utoipa::path(post, path = "/api/shared/devices", operation_id = "register_device", tag = "realtime",
    security(("bearer" = [])), request_body = RegisterDevice,
    responses(
        (status = 204, description = "registered"),
        (status = 400, description = "`validation_failed` (field `token`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`wrong_user_type`: a CC token", body = ErrorBody)))]
pub async fn register(
    State(db): State<PgPool>,
    auth: Auth,
    Json(body): Json<RegisterDevice>,
) -> Result<StatusCode, ApiError> {
    super::app_role(&auth)?;
    check_token(&body.token)?;
    halo_push::register(
        &db,
        auth.user_id,
        auth.session_id,
        &body.token,
        body.platform,
    )
    .await
    .map_err(|e| db_error("registering a device failed", e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops pushes to a token of the signed-in user's.
#[utoipa::path(delete, path = "/api/shared/devices/{token}", operation_id = "unregister_device", tag = "realtime",
    security(("bearer" = [])), params(("token" = String, Path, description = "the FCM registration token")),
    responses(
        (status = 204, description = "removed"),
        (status = 403, description = "`wrong_user_type`: a CC token", body = ErrorBody),
        (status = 404, description = "`device_not_found`: no such token of this user's", body = ErrorBody)))]
pub async fn unregister(
    State(db): State<PgPool>,
    auth: Auth,
    Path(token): Path<String>,
) -> Result<StatusCode, ApiError> {
    super::app_role(&auth)?;
    let removed = halo_push::unregister(&db, auth.user_id, &token)
        .await
        .map_err(|e| db_error("removing a device failed", e))?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "device_not_found",
            "no such device token of yours",
        ))
    }
}
