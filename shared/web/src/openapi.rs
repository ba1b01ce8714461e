//! OpenAPI plumbing both edges use: the bearer scheme, the error responses
//! every operation can produce by rule, and `/openapi.json`.

use std::collections::btree_map::Entry;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Type};

/// An edge's document before its routes: title and audience, the `bearer`
/// scheme routes refer to, and the one error body.
pub fn edge_document(title: &str, audience: &str) -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(modifiers(&BearerScheme), components(schemas(crate::ErrorBody)))]
    struct Base;
    let mut doc = <Base as utoipa::OpenApi>::openapi();
    doc.info.title = title.to_owned();
    doc.info.description = Some(format!(
        "{audience} Errors: `{{\"error\": {{code, message, request_id, details?}}}}`."
    ));
    doc
}

/// Declares the `bearer` security scheme routes refer to.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
    }
}

/// Adds to every operation the error responses the shared layers produce,
/// so route annotations list only what is particular to the route:
/// a body can be refused (400, 413), a token checked (401, 403), a request
/// time out (408), a sign-in be rate limited (429), the core or Postgres be
/// down or slow (503, 504), and a bug answer 500. A status a route
/// documents itself keeps its description, extended by the rule's; every
/// response gets a description.
pub struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (operation, is_post) in [
                (&mut item.get, false),
                (&mut item.put, false),
                (&mut item.post, true),
                (&mut item.delete, false),
                (&mut item.patch, false),
            ] {
                if let Some(operation) = operation {
                    add_rule_responses(operation, is_post);
                }
            }
        }
    }
}

fn add_rule_responses(operation: &mut Operation, is_post: bool) {
    let has_body = operation.request_body.is_some();
    let (any_auth, auth_required) = security_of(operation);
    // Sign-in and token endpoints (POSTs open to anyone) are limited per
    // client IP; signed-in calls are not.
    let rate_limited = is_post && !auth_required;
    let mut rules: Vec<(StatusCode, &str)> = Vec::new();
    if has_body {
        rules.push((
            StatusCode::BAD_REQUEST,
            "The body is refused: `validation_failed` (with `details` naming each field), \
             `malformed_json`, `invalid_body` (wrong shape or unknown field) or \
             `unsupported_media_type` (send `Content-Type: application/json`).",
        ));
        rules.push((
            StatusCode::PAYLOAD_TOO_LARGE,
            "`payload_too_large`: the body exceeds the edge's limit.",
        ));
    }
    if auth_required {
        rules.push((
            StatusCode::UNAUTHORIZED,
            "`missing_token`, `invalid_token` or `token_expired`.",
        ));
    } else if any_auth {
        rules.push((
            StatusCode::UNAUTHORIZED,
            "`invalid_token` or `token_expired`: a token is optional, but one sent is checked.",
        ));
    }
    if auth_required {
        rules.push((
            StatusCode::FORBIDDEN,
            "`wrong_user_type`: the token is for another kind of account.",
        ));
    }
    rules.push((
        StatusCode::REQUEST_TIMEOUT,
        "`request_timeout`: the request took longer than the edge allows.",
    ));
    if rate_limited {
        rules.push((
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limited; retry after `Retry-After` seconds.",
        ));
    }
    rules.push((
        StatusCode::INTERNAL_SERVER_ERROR,
        "`internal`: an unexpected failure, logged with the request id.",
    ));
    rules.push((
        StatusCode::SERVICE_UNAVAILABLE,
        "`core_unavailable` or `database_unavailable`: a dependency is down; retry later.",
    ));
    rules.push((
        StatusCode::GATEWAY_TIMEOUT,
        "`upstream_timeout`: the core did not answer in time; retry.",
    ));
    let responses = &mut operation.responses.responses;
    for (status, description) in rules {
        match responses.entry(status.as_u16().to_string()) {
            Entry::Vacant(entry) => {
                entry.insert(error_response(description).into());
            }
            // The route names its own causes; the rule's still apply.
            Entry::Occupied(mut entry) => {
                if let RefOr::T(response) = entry.get_mut()
                    && !response.description.is_empty()
                {
                    let own = response.description.trim_end_matches('.');
                    response.description = format!("{own}. Also: {description}");
                }
            }
        }
    }
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response {
            complete(status, response);
        }
    }
}

/// Whether the operation accepts a token at all, and whether it needs one.
fn security_of(operation: &Operation) -> (bool, bool) {
    let Some(requirements) = &operation.security else {
        return (false, false);
    };
    // A requirement serialises as `{scheme: scopes}`; `{}` means "none needed".
    let empty: Vec<bool> = requirements
        .iter()
        .map(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.is_empty()))
                .unwrap_or(true)
        })
        .collect();
    (
        empty.iter().any(|e| !e),
        !empty.is_empty() && empty.iter().all(|e| !e),
    )
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// OpenAPI requires a description; 429s carry `Retry-After`.
fn complete(status: &str, response: &mut Response) {
    let code = status.parse::<u16>().ok();
    if response.description.is_empty() {
        response.description = code
            .and_then(|c| StatusCode::from_u16(c).ok())
            .and_then(|c| c.canonical_reason())
            .unwrap_or("See the body.")
            .to_owned();
    }
    if code == Some(StatusCode::TOO_MANY_REQUESTS.as_u16()) {
        response
            .headers
            .entry("Retry-After".to_owned())
            .or_insert_with(|| {
                HeaderBuilder::new()
                    .schema(Some(
                        utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer),
                    ))
                    .description(Some("Seconds to wait before trying again."))
                    .build()
                    .into()
            });
    }
}

/// Serves the document at `/openapi.json`, serialised once.
pub fn serve_openapi<S>(router: Router<S>, doc: &utoipa::openapi::OpenApi) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let body = doc.to_json().expect("an OpenAPI document serialises");
    router.route(
        "/openapi.json",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
}
