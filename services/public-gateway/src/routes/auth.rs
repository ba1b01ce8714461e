//! `/api/{shared,client,mitra}/auth/...`

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::StatusCode;
use halo_auth::Auth;
use halo_proto::ApiError;
use halo_proto::v1::{IdentityProvider, OtpAudience};
use halo_web::{ClientIp, CoreClient, ErrorBody, Json, db_error};
use regex::Regex;
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::services::auth::{self as service, OtpSent, TokenResponse};

/// The phones the apps may send: an Indonesian mobile number as `08…`,
/// `628…` or `+628…`, optionally grouped with spaces or dashes. Every
/// match is a number the core accepts; the document carries the same
/// pattern (a test keeps them equal).
pub const PHONE_PATTERN: &str = r"^(\+62|62|0)[ -]?8[1-35-9]([ -]?[0-9]){7,10}$";

static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(PHONE_PATTERN).expect("PHONE_PATTERN compiles"));

/// Refuses what the document refuses, before any call to the core.
fn check_phone(phone: &str) -> Result<(), ApiError> {
    if PHONE.is_match(phone) {
        return Ok(());
    }
    Err(ApiError::invalid_field(
        "phone",
        "invalid_phone",
        "enter an Indonesian mobile number, e.g. 0812 3456 7890 or +62 812 3456 7890",
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneBody {
    /// An Indonesian mobile number: `08…`, `628…` or `+628…`.
    #[schema(
        example = "081234567890",
        pattern = r"^(\+62|62|0)[ -]?8[1-35-9]([ -]?[0-9]){7,10}$"
    )]
    pub phone: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[schema(
        example = "081234567890",
        pattern = r"^(\+62|62|0)[ -]?8[1-35-9]([ -]?[0-9]){7,10}$"
    )]
    pub phone: String,
    /// The six digits the phone received.
    #[schema(example = "123456", pattern = "^[0-9]{6}$")]
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoogleBody {
    pub id_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppleBody {
    pub id_token: String,
    /// The raw nonce the app generated, when it used one.
    pub nonce: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// As issued: `<session id>.<generation>.<secret>`.
    pub refresh_token: String,
}

/// Signs in a new anonymous customer.
#[utoipa::path(post, path = "/api/shared/auth/anonymous", tag = "auth",
    responses((status = 201, description = "a new anonymous customer", body = TokenResponse),
        (status = 429, description = "`sign_in_rate_limited` (per IP), with `Retry-After`", body = ErrorBody)))]
pub async fn anonymous(
    State(core): State<CoreClient>,
    ip: ClientIp,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(service::anonymous(&core, ip.to_string()).await?),
    ))
}

/// Sends a six-digit code to a customer's phone.
#[utoipa::path(post, path = "/api/client/auth/otp/request", tag = "auth", request_body = PhoneBody,
    responses((status = 202, description = "the code was sent", body = OtpSent),
        (status = 429, description = "`otp_cooldown` or `otp_rate_limited`, with `Retry-After`", body = ErrorBody)))]
pub async fn client_otp_request(
    State(core): State<CoreClient>,
    ip: ClientIp,
    Json(body): Json<PhoneBody>,
) -> Result<(StatusCode, Json<OtpSent>), ApiError> {
    check_phone(&body.phone)?;
    let sent =
        service::request_otp(&core, body.phone, OtpAudience::Customer, ip.to_string()).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Sends a code to a mitra's phone; only phones the CC registered as
/// active mitras get one (others: 403 `phone_not_registered`).
#[utoipa::path(post, path = "/api/mitra/auth/otp/request", tag = "auth", request_body = PhoneBody,
    responses((status = 202, description = "the code was sent", body = OtpSent),
        (status = 403, description = "`phone_not_registered`", body = ErrorBody),
        (status = 429, description = "`otp_cooldown` or `otp_rate_limited`, with `Retry-After`", body = ErrorBody)))]
pub async fn mitra_otp_request(
    State(core): State<CoreClient>,
    ip: ClientIp,
    Json(body): Json<PhoneBody>,
) -> Result<(StatusCode, Json<OtpSent>), ApiError> {
    check_phone(&body.phone)?;
    let sent = service::request_otp(&core, body.phone, OtpAudience::Mitra, ip.to_string()).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Verifies a code and signs the customer in. With an anonymous
/// customer's Bearer token, that account is upgraded in place (same user
/// id); if the phone already has an account, that account is signed in.
#[utoipa::path(post, path = "/api/client/auth/otp/verify", tag = "auth", request_body = VerifyBody,
    responses((status = 200, description = "signed in", body = TokenResponse),
        (status = 400, description = "`otp_invalid_code`, `otp_expired`, `otp_used`, `otp_attempts_exceeded`", body = ErrorBody),
        (status = 403, description = "`account_blocked`: an operator blocked this customer", body = ErrorBody),
        (status = 429, description = "`otp_verify_rate_limited`, with `Retry-After`", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn client_otp_verify(
    State(core): State<CoreClient>,
    ip: ClientIp,
    caller: Option<Auth>,
    Json(body): Json<VerifyBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    check_phone(&body.phone)?;
    Ok(Json(
        service::verify_otp(
            &core,
            body.phone,
            body.code,
            OtpAudience::Customer,
            caller.as_ref(),
            ip.to_string(),
        )
        .await?,
    ))
}

/// Verifies a code and signs the mitra in.
#[utoipa::path(post, path = "/api/mitra/auth/otp/verify", tag = "auth", request_body = VerifyBody,
    responses((status = 200, description = "signed in", body = TokenResponse),
        (status = 400, description = "`otp_invalid_code`, `otp_expired`, `otp_used`, `otp_attempts_exceeded`", body = ErrorBody),
        (status = 403, description = "`phone_not_registered` or `account_disabled`", body = ErrorBody),
        (status = 429, description = "`otp_verify_rate_limited`, with `Retry-After`", body = ErrorBody)))]
pub async fn mitra_otp_verify(
    State(core): State<CoreClient>,
    ip: ClientIp,
    Json(body): Json<VerifyBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    check_phone(&body.phone)?;
    Ok(Json(
        service::verify_otp(
            &core,
            body.phone,
            body.code,
            OtpAudience::Mitra,
            None,
            ip.to_string(),
        )
        .await?,
    ))
}

/// Signs a customer in with a Google ID token (same upgrade rule as OTP).
#[utoipa::path(post, path = "/api/client/auth/google", tag = "auth", request_body = GoogleBody,
    responses((status = 200, description = "signed in", body = TokenResponse),
        (status = 401, description = "`invalid_id_token`", body = ErrorBody),
        (status = 403, description = "`account_blocked`: an operator blocked this customer", body = ErrorBody),
        (status = 503, description = "`provider_not_configured`: `GOOGLE_CLIENT_IDS` is unset", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn google(
    State(core): State<CoreClient>,
    caller: Option<Auth>,
    Json(body): Json<GoogleBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(
        service::provider_sign_in(
            &core,
            IdentityProvider::Google,
            body.id_token,
            None,
            caller.as_ref(),
        )
        .await?,
    ))
}

/// Signs a customer in with an Apple ID token (same upgrade rule as OTP).
#[utoipa::path(post, path = "/api/client/auth/apple", tag = "auth", request_body = AppleBody,
    responses((status = 200, description = "signed in", body = TokenResponse),
        (status = 401, description = "`invalid_id_token`", body = ErrorBody),
        (status = 403, description = "`account_blocked`: an operator blocked this customer", body = ErrorBody),
        (status = 503, description = "`provider_not_configured`: `APPLE_BUNDLE_IDS` is unset", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn apple(
    State(core): State<CoreClient>,
    caller: Option<Auth>,
    Json(body): Json<AppleBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(
        service::provider_sign_in(
            &core,
            IdentityProvider::Apple,
            body.id_token,
            body.nonce,
            caller.as_ref(),
        )
        .await?,
    ))
}

/// Trades a refresh token for a new pair; the old token stops working.
/// Replaying an old token signs the session out (`refresh_token_reused`),
/// except a retry of the previous one within a few seconds.
#[utoipa::path(post, path = "/api/shared/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, description = "a new token pair", body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token`, `refresh_token_reused`, `session_revoked`, `session_expired`", body = ErrorBody),
        (status = 403, description = "`account_blocked` (a blocked customer) or `account_disabled` (a suspended mitra)", body = ErrorBody),
        (status = 429, description = "`refresh_rate_limited` (per session or IP), with `Retry-After`", body = ErrorBody)))]
pub async fn refresh(
    State(core): State<CoreClient>,
    ip: ClientIp,
    Json(body): Json<RefreshBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(
        service::refresh(&core, body.refresh_token, ip.to_string()).await?,
    ))
}

/// Signs the session out: its refresh token stops working at once; access
/// tokens already issued stay valid until they expire (at most 1 h). The
/// push tokens the session registered are removed.
#[utoipa::path(post, path = "/api/shared/auth/logout", tag = "auth",
    responses((status = 204, description = "signed out")), security(("bearer" = [])))]
pub async fn logout(
    State(core): State<CoreClient>,
    State(db): State<PgPool>,
    auth: Auth,
) -> Result<StatusCode, ApiError> {
    core.logout(&auth).await?;
    halo_push::forget_session(&db, auth.session_id)
        .await
        .map_err(|e| db_error("removing the session's devices failed", e))?;
    Ok(StatusCode::NO_CONTENT)
}
