//! The core's domain errors and their one mapping to the shared vocabulary
//! (and so to `tonic::Status` and, at the edges, HTTP).

use halo_proto::{ApiError, ErrorKind, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("a code was sent too recently")]
    OtpCooldown { retry_after: u64 },
    #[error("too many codes requested")]
    OtpRateLimited { retry_after: u64 },
    #[error("the code has expired")]
    OtpExpired,
    #[error("the code was already used")]
    OtpUsed,
    #[error("too many wrong codes")]
    OtpAttemptsExceeded,
    /// A wrong code, or no code requested: one answer, so verify does not
    /// tell whether a phone has a pending code.
    #[error("wrong code")]
    OtpWrongCode,
    #[error("rate limit reached: {bucket:?}")]
    RateLimited {
        bucket: crate::auth::limits::Bucket,
        retry_after: u64,
    },
    #[error("phone is not an active mitra")]
    MitraNotRegistered,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("refresh token reused; session revoked")]
    RefreshTokenReused,
    #[error("session revoked")]
    SessionRevoked,
    #[error("session expired")]
    SessionExpired,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("too many failed logins")]
    LoginThrottled { retry_after: u64 },
    #[error("account disabled")]
    AccountDisabled,
    #[error("account blocked")]
    AccountBlocked,
    #[error("the phone already belongs to a mitra")]
    PhoneTaken,
    #[error("the email already belongs to a CC user")]
    EmailTaken,
    #[error("the last active admin must stay an active admin")]
    LastAdmin,
    #[error("provider not configured")]
    ProviderNotConfigured,
    #[error("invalid id token: {0}")]
    InvalidIdToken(&'static str),
    #[error("identity provider unreachable")]
    ProviderUnavailable,
    #[error("user not found")]
    UserNotFound,
    #[error("settings changed since they were read")]
    VersionConflict,
    #[error("the call needs the access token of the user it is made for")]
    CallerTokenMissing,
    #[error("the forwarded access token is invalid")]
    CallerTokenInvalid,
    #[error("the forwarded access token has expired")]
    CallerTokenExpired,
    #[error("this user type may not make this call")]
    WrongUserType,
    #[error("admins only")]
    AdminOnly,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl CoreError {
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }])
    }
}

impl From<FieldError> for CoreError {
    fn from(error: FieldError) -> Self {
        Self::Invalid(vec![error])
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        use CoreError as E;
        use ErrorKind as K;
        let bad = |code: &'static str, message: &'static str| {
            ApiError::new(K::InvalidInput, code, message)
        };
        match err {
            E::Invalid(details) => ApiError::invalid_fields(details),
            E::OtpCooldown { retry_after } => ApiError::rate_limited(
                "otp_cooldown",
                "a code was just sent; wait before asking for another",
                retry_after,
            ),
            E::OtpRateLimited { retry_after } => ApiError::rate_limited(
                "otp_rate_limited",
                "too many codes requested; try again later",
                retry_after,
            ),
            E::OtpExpired => bad("otp_expired", "the code has expired; request a new one"),
            E::OtpUsed => bad("otp_used", "the code was already used; request a new one"),
            E::OtpAttemptsExceeded => bad(
                "otp_attempts_exceeded",
                "too many wrong codes; request a new one",
            ),
            E::OtpWrongCode => bad(
                "otp_invalid_code",
                "wrong code, or none was requested; check it or request a new one",
            ),
            E::RateLimited {
                bucket,
                retry_after,
            } => {
                use crate::auth::limits::Bucket as B;
                let (code, message) = match bucket {
                    B::AnonymousSignInPerIp => (
                        "sign_in_rate_limited",
                        "too many sign-ins from this network; try again later",
                    ),
                    B::RefreshPerSession | B::RefreshPerIp => (
                        "refresh_rate_limited",
                        "too many refresh attempts; try again later",
                    ),
                    B::OtpVerifyPerIp => (
                        "otp_verify_rate_limited",
                        "too many code attempts from this network; try again later",
                    ),
                };
                ApiError::rate_limited(code, message, retry_after)
            }
            E::MitraNotRegistered => ApiError::forbidden(
                "phone_not_registered",
                "this phone is not registered as an active mitra; contact your coordinator",
            ),
            E::InvalidRefreshToken => {
                ApiError::unauthenticated("invalid_refresh_token", "the refresh token is invalid")
            }
            E::RefreshTokenReused => ApiError::unauthenticated(
                "refresh_token_reused",
                "this refresh token was already used; the session has been signed out",
            ),
            E::SessionRevoked => {
                ApiError::unauthenticated("session_revoked", "the session has been signed out")
            }
            E::SessionExpired => ApiError::unauthenticated(
                "session_expired",
                "the session has expired; sign in again",
            ),
            E::InvalidCredentials => {
                ApiError::unauthenticated("invalid_credentials", "wrong email or password")
            }
            E::LoginThrottled { retry_after } => ApiError::rate_limited(
                "login_throttled",
                "too many failed sign-ins; try again later",
                retry_after,
            ),
            E::AccountDisabled => {
                ApiError::forbidden("account_disabled", "this account is disabled")
            }
            E::AccountBlocked => ApiError::forbidden(
                "account_blocked",
                "this account is blocked; contact support",
            ),
            E::PhoneTaken => ApiError::new(
                K::Conflict,
                "phone_taken",
                "this phone already belongs to a mitra",
            ),
            E::EmailTaken => ApiError::new(
                K::Conflict,
                "email_taken",
                "this email already belongs to a control center user",
            ),
            E::LastAdmin => ApiError::new(
                K::Conflict,
                "last_admin",
                "the last active admin can be neither disabled nor demoted",
            ),
            E::ProviderNotConfigured => ApiError::unavailable(
                "provider_not_configured",
                "this sign-in provider is not configured yet",
            ),
            E::InvalidIdToken(why) => ApiError::new(
                K::Unauthenticated,
                "invalid_id_token",
                format!("the identity token was refused: {why}"),
            ),
            E::ProviderUnavailable => ApiError::unavailable(
                "provider_unavailable",
                "the identity provider could not be reached; try again",
            ),
            E::UserNotFound => ApiError::not_found("user_not_found", "no such user"),
            E::VersionConflict => ApiError::new(
                K::Conflict,
                "version_conflict",
                "the settings changed since you loaded them; reload and apply your change again",
            ),
            E::CallerTokenMissing => {
                ApiError::unauthenticated("missing_token", "this call needs an access token")
            }
            E::CallerTokenInvalid => {
                ApiError::unauthenticated("invalid_token", "the access token is invalid")
            }
            E::CallerTokenExpired => ApiError::unauthenticated(
                "token_expired",
                "the access token has expired; refresh it",
            ),
            E::WrongUserType => ApiError::forbidden(
                "wrong_user_type",
                "this account type may not use this part of the API",
            ),
            E::AdminOnly => ApiError::forbidden("admin_only", "only an admin may do this"),
            E::Database(err) => failure(err.into()),
            E::Internal(err) => failure(err),
        }
    }
}

/// The one place the core logs a failure of its own, with its cause chain
/// (the RPC's span carries the edge's request id). An unreachable Postgres is
/// a 503 the app retries and a warning; anything else is a 500 and an error.
fn failure(err: anyhow::Error) -> ApiError {
    let unavailable = err
        .chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .any(halo_db::is_unavailable);
    if unavailable {
        tracing::warn!(error = format!("{err:#}"), "database unavailable");
        ApiError::database_unavailable()
    } else {
        tracing::error!(error = format!("{err:#}"), "internal error");
        ApiError::internal()
    }
}

impl From<CoreError> for tonic::Status {
    fn from(err: CoreError) -> Self {
        ApiError::from(err).into()
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
