//! A `Json` extractor whose rejections use the one error shape.

use axum::extract::rejection::JsonDataError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use halo_proto::{ApiError, ErrorKind, FieldError};
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
        JsonRejection::JsonDataError(err) => ApiError {
            details: vec![data_error(err)],
            ..ApiError::new(
                ErrorKind::InvalidInput,
                "invalid_body",
                "the body does not match the expected shape; see details",
            )
        },
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

/// The field and what it should have been, in the API's words. serde's own
/// message names Rust types (`expected struct ProfilePatch`, `u32`), so
/// only the parts that are about the JSON are kept.
fn data_error(err: &JsonDataError) -> FieldError {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(err) = cause.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            return describe(&err.path().to_string(), &err.inner().to_string());
        }
        source = cause.source();
    }
    field_error(
        "body",
        "invalid_value",
        "this value is not accepted".to_owned(),
    )
}

fn field_error(field: &str, code: &str, message: String) -> FieldError {
    FieldError {
        field: field.to_owned(),
        code: code.to_owned(),
        message,
    }
}

fn describe(path: &str, serde_message: &str) -> FieldError {
    // `path` is `.` for the body itself, else like `tiers[0].label`.
    let at = |name: Option<&str>| match (path, name) {
        (".", None) => "body".to_owned(),
        (".", Some(name)) => name.to_owned(),
        (path, None) => path.to_owned(),
        (path, Some(name)) if path.ends_with(name) => path.to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
    };
    let message = serde_message
        .split(" at line ")
        .next()
        .unwrap_or(serde_message);
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
    };
    if let Some(name) = quoted("missing field `") {
        return field_error(
            &at(Some(name)),
            "missing_field",
            "this field is required".to_owned(),
        );
    }
    if let Some(name) = quoted("unknown field `") {
        return field_error(
            &at(Some(name)),
            "unknown_field",
            "this field is not accepted".to_owned(),
        );
    }
    let expected = message
        .split_once(", expected ")
        .map_or("a value of another type", |(_, expected)| plain(expected));
    let code = if message.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid_value"
    };
    field_error(&at(None), code, format!("expected {expected}"))
}

/// serde's expectation (`a string`, `struct X`, `u32`, ...) in JSON terms.
fn plain(expected: &str) -> &'static str {
    const WHOLE: [&str; 10] = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
    ];
    match expected {
        e if e.contains("string") => "a string",
        e if e.contains("struct") || e.contains("map") => "an object",
        e if e.contains("sequence") || e.contains("tuple") => "a list",
        e if e.contains("bool") => "true or false",
        e if WHOLE.contains(&e) || e.contains("integer") => "a whole number",
        "f32" | "f64" => "a number",
        e if e.contains("variant") || e.contains("enum") => "one of the allowed values",
        _ => "a value of another type",
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    fn described(path: &str, message: &str) -> (String, String, String) {
        let e = describe(path, message);
        (e.field, e.code, e.message)
    }

    #[test]
    fn serde_messages_become_field_errors_without_rust_type_names() {
        assert_eq!(
            described(
                ".",
                "invalid type: string \"x\", expected struct ProfilePatch at line 1 column 3"
            ),
            (
                "body".into(),
                "invalid_type".into(),
                "expected an object".into()
            )
        );
        assert_eq!(
            described(
                "display_name",
                "invalid type: integer `5`, expected a string at line 1 column 17"
            ),
            (
                "display_name".into(),
                "invalid_type".into(),
                "expected a string".into()
            )
        );
        assert_eq!(
            described(".", "missing field `display_name` at line 1 column 2"),
            (
                "display_name".into(),
                "missing_field".into(),
                "this field is required".into()
            )
        );
        assert_eq!(
            described(
                "limit",
                "invalid value: integer `-1`, expected u32 at line 1 column 10"
            ),
            (
                "limit".into(),
                "invalid_value".into(),
                "expected a whole number".into()
            )
        );
    }
}
