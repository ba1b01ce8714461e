//! One error vocabulary: a stable snake_case `code`, a human `message`, and an
//! [`ErrorKind`] that decides both the gRPC code and the HTTP status, so the
//! core maps domain errors in one place and the edges map them back in one.

use std::borrow::Cow;

use serde::Serialize;
use tonic::metadata::MetadataValue;

const CODE_KEY: &str = "x-halo-error-code";
const DETAILS_KEY: &str = "x-halo-error-details";
const RETRY_AFTER_KEY: &str = "x-halo-retry-after";
/// Postgres restarts or fails over in seconds; the pool reconnects by itself.
const DATABASE_RETRY_AFTER_SECONDS: u64 = 2;

/// The class of an error; each maps to exactly one gRPC code and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: malformed or invalid input (field errors under `details`).
    InvalidInput,
    /// 401: no credential, or one that is bad, expired or revoked.
    Unauthenticated,
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 404
    NotFound,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 408: the request took longer than the edge allows.
    Timeout,
    /// 409: the state changed under the caller (stale version, duplicate).
    Conflict,
    /// 413
    PayloadTooLarge,
    /// 422: well-formed, but refers to something that cannot be used (an
    /// unknown tier, an idempotency key reused for another request).
    Unprocessable,
    /// 429, with `Retry-After`.
    RateLimited,
    /// 502: a third party (a payment provider) failed or answered an error.
    BadGateway,
    /// 503: a dependency is down or a feature is not configured.
    Unavailable,
    /// 504: a dependency did not answer in time.
    UpstreamTimeout,
    /// 500: never carries the cause to the caller.
    Internal,
}

impl ErrorKind {
    pub fn http_status(self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::InvalidInput => S::BAD_REQUEST,
            Self::Unauthenticated => S::UNAUTHORIZED,
            Self::Forbidden => S::FORBIDDEN,
            Self::NotFound => S::NOT_FOUND,
            Self::MethodNotAllowed => S::METHOD_NOT_ALLOWED,
            Self::Timeout => S::REQUEST_TIMEOUT,
            Self::Conflict => S::CONFLICT,
            Self::PayloadTooLarge => S::PAYLOAD_TOO_LARGE,
            Self::Unprocessable => S::UNPROCESSABLE_ENTITY,
            Self::BadGateway => S::BAD_GATEWAY,
            Self::RateLimited => S::TOO_MANY_REQUESTS,
            Self::Unavailable => S::SERVICE_UNAVAILABLE,
            Self::UpstreamTimeout => S::GATEWAY_TIMEOUT,
            Self::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn grpc_code(self) -> tonic::Code {
        use tonic::Code as C;
        match self {
            Self::InvalidInput | Self::PayloadTooLarge | Self::Unprocessable => C::InvalidArgument,
            Self::Unauthenticated => C::Unauthenticated,
            Self::Forbidden => C::PermissionDenied,
            Self::NotFound => C::NotFound,
            Self::MethodNotAllowed => C::Unimplemented,
            Self::Timeout | Self::UpstreamTimeout => C::DeadlineExceeded,
            Self::Conflict => C::Aborted,
            Self::RateLimited => C::ResourceExhausted,
            Self::Unavailable | Self::BadGateway => C::Unavailable,
            Self::Internal => C::Internal,
        }
    }

    fn from_grpc_code(code: tonic::Code) -> Self {
        use tonic::Code as C;
        match code {
            C::InvalidArgument | C::OutOfRange => Self::InvalidInput,
            C::Unauthenticated => Self::Unauthenticated,
            C::PermissionDenied => Self::Forbidden,
            C::NotFound => Self::NotFound,
            C::AlreadyExists | C::Aborted | C::FailedPrecondition => Self::Conflict,
            C::ResourceExhausted => Self::RateLimited,
            C::Unavailable => Self::Unavailable,
            C::DeadlineExceeded | C::Cancelled => Self::UpstreamTimeout,
            _ => Self::Internal,
        }
    }
}

/// A problem with one input field, listed under `error.details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An error a caller may see. Its `code` is stable and never renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    pub details: Vec<FieldError>,
    /// Seconds (`Retry-After`); set for [`ErrorKind::RateLimited`], and for
    /// an [`ErrorKind::Unavailable`] that a retry soon should get past.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(
        kind: ErrorKind,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// A 400 pointing at one field.
    pub fn invalid_field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self::invalid_fields(vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }])
    }

    /// A 400 listing every invalid field at once.
    pub fn invalid_fields(details: Vec<FieldError>) -> Self {
        Self {
            details,
            ..Self::new(
                ErrorKind::InvalidInput,
                "validation_failed",
                "one or more fields are invalid",
            )
        }
    }

    pub fn unauthenticated(code: &'static str, message: &'static str) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, message)
    }

    pub fn forbidden(code: &'static str, message: &'static str) -> Self {
        Self::new(ErrorKind::Forbidden, code, message)
    }

    pub fn not_found(code: &'static str, message: &'static str) -> Self {
        Self::new(ErrorKind::NotFound, code, message)
    }

    pub fn rate_limited(code: &'static str, message: &'static str, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(ErrorKind::RateLimited, code, message)
        }
    }

    /// The one 500: a generic message; the cause is logged by whoever built it.
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "internal",
            "something went wrong on our side",
        )
    }

    pub fn unavailable(code: &'static str, message: &'static str) -> Self {
        Self::new(ErrorKind::Unavailable, code, message)
    }

    /// A 503 while Postgres is unreachable: a stable code and `Retry-After`,
    /// so the apps retry instead of showing a crash.
    pub fn database_unavailable() -> Self {
        Self {
            retry_after: Some(DATABASE_RETRY_AFTER_SECONDS),
            ..Self::unavailable(
                "database_unavailable",
                "the service is briefly unavailable; try again in a few seconds",
            )
        }
    }

    pub fn http_status(&self) -> http::StatusCode {
        self.kind.http_status()
    }

    /// The JSON body of both edges: `{"error": {code, message, request_id, details?}}`.
    pub fn to_json(&self, request_id: Option<&str>) -> serde_json::Value {
        let mut error = serde_json::json!({
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        });
        if !self.details.is_empty() {
            error["details"] = serde_json::to_value(&self.details).unwrap_or_default();
        }
        serde_json::json!({ "error": error })
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::invalid_fields(vec![error])
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for tonic::Status {
    fn from(err: ApiError) -> Self {
        let mut status = tonic::Status::new(err.kind.grpc_code(), err.message.into_owned());
        let meta = status.metadata_mut();
        if let Ok(code) = MetadataValue::try_from(err.code.as_ref()) {
            meta.insert(CODE_KEY, code);
        }
        if !err.details.is_empty()
            && let Ok(json) = serde_json::to_string(&err.details)
            && let Ok(value) = MetadataValue::try_from(json.as_str())
        {
            meta.insert(DETAILS_KEY, value);
        }
        if let Some(seconds) = err.retry_after {
            meta.insert(RETRY_AFTER_KEY, MetadataValue::from(seconds));
        }
        status
    }
}

impl From<tonic::Status> for ApiError {
    /// Statuses without our metadata come from the transport (core down,
    /// deadline) rather than from the core's logic; they get generic codes,
    /// and their cause is logged here, the one place that sees it (the core
    /// logs the causes of its own errors).
    fn from(status: tonic::Status) -> Self {
        let meta = status.metadata();
        let Some(code) = meta.get(CODE_KEY).and_then(|v| v.to_str().ok()) else {
            return match status.code() {
                tonic::Code::Unavailable | tonic::Code::Unknown => {
                    tracing::warn!(error = %status, "the core is unreachable");
                    Self::unavailable(
                        "core_unavailable",
                        "the auth service is unavailable, try again",
                    )
                }
                tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
                    tracing::warn!(error = %status, "the core did not answer in time");
                    Self::new(
                        ErrorKind::UpstreamTimeout,
                        "upstream_timeout",
                        "the auth service did not answer in time",
                    )
                }
                _ => {
                    tracing::error!(error = %status, "the call to the core failed");
                    Self::internal()
                }
            };
        };
        let kind = ErrorKind::from_grpc_code(status.code());
        let message = if kind == ErrorKind::Internal {
            Self::internal().message
        } else {
            Cow::Owned(status.message().to_owned())
        };
        Self {
            kind,
            code: Cow::Owned(code.to_owned()),
            message,
            details: meta
                .get(DETAILS_KEY)
                .and_then(|v| v.to_str().ok())
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_default(),
            retry_after: meta
                .get(RETRY_AFTER_KEY)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.parse().ok()),
        }
    }
}

/// The edges render errors through this; their error middleware re-renders
/// the body with the request id (it reads the [`ApiError`] extension).
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let mut response = (self.http_status(), axum::Json(self.to_json(None))).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_survives_the_grpc_hop_with_its_code_and_retry_after() {
        let sent = ApiError::rate_limited("otp_cooldown", "wait before asking again", 42);
        let received = ApiError::from(tonic::Status::from(sent.clone()));
        assert_eq!(received, sent);
        assert_eq!(received.http_status(), http::StatusCode::TOO_MANY_REQUESTS);
    }

    #[test]
    fn field_errors_survive_the_grpc_hop() {
        let sent = ApiError::invalid_field("phone", "invalid_phone", "not a phone number");
        let received = ApiError::from(tonic::Status::from(sent.clone()));
        assert_eq!(received.details, sent.details);
        assert_eq!(received.http_status(), http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_database_outage_in_the_core_reaches_the_app_as_a_503_to_retry() {
        let received = ApiError::from(tonic::Status::from(ApiError::database_unavailable()));
        assert_eq!(
            received.http_status(),
            http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(received.code, "database_unavailable");
        assert_eq!(received.retry_after, Some(2));
    }

    #[test]
    fn a_transport_failure_becomes_a_503_not_a_500() {
        let received = ApiError::from(tonic::Status::unavailable("tcp connect error"));
        assert_eq!(
            received.http_status(),
            http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(received.code, "core_unavailable");
    }

    #[test]
    fn a_core_that_runs_out_of_time_is_a_504() {
        let received = ApiError::from(tonic::Status::deadline_exceeded("timeout expired"));
        assert_eq!(received.http_status(), http::StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(received.code, "upstream_timeout");
    }

    #[test]
    fn an_internal_error_never_carries_its_cause_to_the_caller() {
        let status = tonic::Status::from(ApiError::internal());
        let mut leaked = tonic::Status::new(status.code(), "relation users does not exist");
        *leaked.metadata_mut() = status.metadata().clone();
        let received = ApiError::from(leaked);
        assert_eq!(received.message, ApiError::internal().message);
    }
}
