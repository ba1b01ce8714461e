//! `GET /api/shared/config`, public so the apps can show support handles
//! before sign-in; revalidated cheaply with `If-None-Match`. Served from
//! this edge's copy of the knobs: no call to the core per request.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use halo_proto::ApiError;
use halo_web::{KnobCache, internal_error};

/// The app config: prices, support handles and the timings the apps use.
#[utoipa::path(get, path = "/api/shared/config", tag = "config",
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of a copy the app holds")),
    responses((status = 200, description = "the config", body = halo_knobs::AppConfig,
            headers(("ETag" = String, description = "send it back as `If-None-Match`"))),
        (status = 304, description = "the app's copy is current",
            headers(("ETag" = String, description = "the current version")))))]
pub async fn get_config(
    State(knobs): State<KnobCache>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = knobs.current()?;
    let config = &snapshot.public;
    let etag = config.etag.as_str();
    let etag_header = HeaderValue::from_str(etag)
        .map_err(|e| internal_error("the config version is not a valid ETag", e))?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| {
            given
                .split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == etag)
        });
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if unchanged {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_header), cache],
        )
            .into_response());
    }
    Ok((
        [
            (header::ETAG, etag_header),
            cache,
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        config.json.clone(),
    )
        .into_response())
}
