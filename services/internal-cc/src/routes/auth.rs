//! `/internal/auth/...`: the refresh token lives only in an httpOnly,
//! Secure, SameSite=Strict cookie scoped to this path.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use halo_auth::Auth;
use halo_proto::ApiError;
use halo_web::{ClientIp, CoreClient, ErrorBody, Json};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AllowedOrigins;
use crate::roles::Operator;
use crate::services::operators::OperatorProfile;
use crate::services::session::{self, CcTokens, Issued};

pub const REFRESH_COOKIE: &str = "halo_cc_refresh";
const COOKIE_PATH: &str = "/internal/auth";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// No control characters (a 400 `validation_failed` otherwise).
    #[schema(example = "admin@halobestie.id", pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub email: String,
    pub password: String,
}

fn refresh_cookie(value: String, max_age_seconds: i64) -> Cookie<'static> {
    Cookie::build((REFRESH_COOKIE, value))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
}

fn issue(jar: CookieJar, issued: Issued) -> (CookieJar, Json<CcTokens>) {
    let cookie = refresh_cookie(issued.refresh_token, issued.refresh_expires_in);
    (jar.add(cookie), Json(issued.tokens))
}

/// Refuses cookie-authenticated calls from pages we do not serve.
fn check_origin(headers: &HeaderMap, allowed: &AllowedOrigins) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match origin {
        Some(origin) if allowed.0.iter().any(|o| o == origin) => Ok(()),
        _ => Err(ApiError::forbidden(
            "origin_not_allowed",
            "this origin may not use the control center session",
        )),
    }
}

/// Email + password sign-in. The access token is in the body; the refresh
/// token only in the cookie.
#[utoipa::path(post, path = "/internal/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = CcTokens, description = "signed in; sets the `halo_cc_refresh` cookie",
            headers(("Set-Cookie" = String, description = "`halo_cc_refresh`, HttpOnly, Secure, SameSite=Strict"))),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 429, description = "`login_throttled`, with `Retry-After`", body = ErrorBody)))]
pub async fn login(
    State(core): State<CoreClient>,
    ip: ClientIp,
    jar: CookieJar,
    Json(body): Json<LoginBody>,
) -> Result<(CookieJar, Json<CcTokens>), ApiError> {
    let issued = session::login(&core, body.email, body.password, ip.to_string()).await?;
    Ok(issue(jar, issued))
}

/// Rotates the cookie's refresh token and returns a new access token. Only
/// from an origin in `CC_ALLOWED_ORIGINS`.
#[utoipa::path(post, path = "/internal/auth/refresh", tag = "auth",
    responses((status = 200, body = CcTokens, description = "a new access token; the cookie is rotated",
            headers(("Set-Cookie" = String, description = "the rotated `halo_cc_refresh`"))),
        (status = 401, description = "`missing_refresh_cookie`, `invalid_refresh_token`, `refresh_token_reused`, `session_revoked` or `session_expired`", body = ErrorBody),
        (status = 403, description = "`origin_not_allowed` or `account_disabled`", body = ErrorBody),
        (status = 429, description = "`refresh_rate_limited`, with `Retry-After`", body = ErrorBody)))]
pub async fn refresh(
    State(core): State<CoreClient>,
    Extension(origins): Extension<AllowedOrigins>,
    ip: ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    if let Err(err) = check_origin(&headers, &origins) {
        return err.into_response();
    }
    let Some(token) = jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned()) else {
        return ApiError::unauthenticated(
            "missing_refresh_cookie",
            "no control center session; sign in",
        )
        .into_response();
    };
    match session::refresh(&core, token, ip.to_string()).await {
        Ok(issued) => issue(jar, issued).into_response(),
        // A dead session's cookie is useless; clear it so the SPA shows login.
        Err(err)
            if err.http_status() == StatusCode::UNAUTHORIZED
                || err.http_status() == StatusCode::FORBIDDEN =>
        {
            (jar.add(refresh_cookie(String::new(), 0)), err).into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// Signs the session out and clears the cookie.
#[utoipa::path(post, path = "/internal/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "signed out; the cookie is cleared")))]
pub async fn logout(
    State(core): State<CoreClient>,
    auth: Auth,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    core.logout(&auth).await?;
    Ok((
        StatusCode::NO_CONTENT,
        jar.add(refresh_cookie(String::new(), 0)),
    ))
}

/// Who is signed in.
#[utoipa::path(get, path = "/internal/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "the signed-in operator", body = OperatorProfile),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn me(operator: Operator) -> Json<OperatorProfile> {
    Json(operator.profile)
}
