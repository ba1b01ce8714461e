//! Every error either edge sends has one shape:
//! `{"error": {"code", "message", "request_id", "details"?}}`. Handlers
//! return [`ApiError`]; the middleware here adds the request id and also
//! reshapes the bare status responses of axum and tower-http layers.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use halo_proto::{ApiError, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

/// The error body, for the OpenAPI documents.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, never renamed (e.g. `otp_expired`).
    #[schema(example = "validation_failed")]
    pub code: String,
    pub message: String,
    /// Echoes the `x-request-id` response header; quote it to support.
    pub request_id: Option<String>,
    /// Field errors: `[{field, code, message}]`.
    pub details: Option<Vec<FieldErrorDoc>>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldErrorDoc {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// Logs an unexpected failure with its cause chain and request id, and gives
/// the caller the generic 500.
pub fn internal_error(context: &'static str, err: impl Into<anyhow::Error>) -> ApiError {
    let err = err.into();
    tracing::error!(error = format!("{err:#}"), "{context}");
    ApiError::internal()
}

/// A failed query: a 503 `database_unavailable` with `Retry-After` while
/// Postgres cannot be reached (logged as a warning, with its cause), a 500
/// with the cause logged otherwise.
pub fn db_error(context: &'static str, err: sqlx::Error) -> ApiError {
    if halo_db::is_unavailable(&err) {
        let err = anyhow::Error::from(err);
        tracing::warn!(
            error = format!("{err:#}"),
            "{context}: database unavailable"
        );
        return ApiError::database_unavailable();
    }
    internal_error(context, err)
}

fn from_bare_status(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found("route_not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            ErrorKind::MethodNotAllowed,
            "method_not_allowed",
            "this route does not accept that method",
        ),
        StatusCode::REQUEST_TIMEOUT => ApiError::new(
            ErrorKind::Timeout,
            "request_timeout",
            "the request took too long",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorKind::PayloadTooLarge,
            "payload_too_large",
            "the request body is too large",
        ),
        s if s.is_client_error() => ApiError::new(
            ErrorKind::InvalidInput,
            "bad_request",
            "the request is invalid",
        ),
        _ => ApiError::internal(),
    }
}

/// Renders every error response in the one shape, with the request id.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let context = halo_telemetry::RequestContext::from_headers(request.headers());
    let request_id = context.request_id.clone();
    let response = halo_telemetry::scope_request(context, next.run(request)).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let error = match response.extensions().get::<ApiError>() {
        Some(error) => error.clone(),
        None if is_json(&response) => return response,
        None => from_bare_status(status),
    };
    if error.kind == ErrorKind::Internal {
        tracing::warn!(code = %error.code, "answered with a 500");
    }
    let (mut parts, _) = response.into_parts();
    parts.status = error.http_status();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = error.to_json(Some(&request_id)).to_string();
    Response::from_parts(parts, Body::from(body)).into_response()
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}
