//! A `Json` extractor whose rejections use the one error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use halo_proto::{ApiError, ErrorKind};
use serde::Serialize;

/// Like `axum::Json`, but a malformed, mistyped or oversized body answers
/// in the error shape (400 / 415 / 413) instead of plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorKind::InvalidInput,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::JsonDataError(err) => ApiError::new(
            ErrorKind::InvalidInput,
            "invalid_body",
            // serde's message names the field and the expected type, and
            // holds nothing internal.
            format!(
                "the body does not match the expected shape: {}",
                err.body_text()
            ),
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            ErrorKind::InvalidInput,
            "malformed_json",
            "the body is not valid JSON",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorKind::PayloadTooLarge,
            "payload_too_large",
            "the request body is too large",
        ),
        _ => ApiError::new(
            ErrorKind::InvalidInput,
            "invalid_body",
            "the body could not be read",
        ),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
