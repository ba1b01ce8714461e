//! `GET /api/shared/config`, public so the apps can show support handles
//! before sign-in; revalidated cheaply with `If-None-Match`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use halo_proto::ApiError;
use halo_web::CoreChannel;
use utoipa::ToSchema;

use crate::services::config::public_config;

/// The body the core renders (the edge passes it through); for the
/// document only.
#[derive(ToSchema)]
pub struct AppConfig {
    pub pricing_tiers: Vec<PricingTier>,
    pub support_handles: SupportHandles,
    #[schema(example = 30)]
    pub mitra_heartbeat_cadence_seconds: i64,
    pub mitra_accept_timeout_seconds: i64,
    pub extension_timeout_seconds: i64,
    pub otp_resend_cooldown_seconds: i64,
}

/// What a customer can buy.
#[derive(ToSchema)]
pub struct PricingTier {
    #[schema(example = "chat_30")]
    pub id: String,
    #[schema(example = "30 menit")]
    pub label: String,
    pub duration_minutes: i64,
    /// Whole rupiah.
    #[schema(example = 25000)]
    pub price_idr: i64,
}

/// Where customers reach support; a channel not set is absent.
#[derive(ToSchema)]
pub struct SupportHandles {
    pub whatsapp: Option<String>,
    pub instagram: Option<String>,
    pub email: Option<String>,
}

/// The app config: prices, support handles and the timings the apps use.
#[utoipa::path(get, path = "/api/shared/config", tag = "config",
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of a copy the app holds")),
    responses((status = 200, description = "the config", body = AppConfig,
            headers(("ETag" = String, description = "send it back as `If-None-Match`"))),
        (status = 304, description = "the app's copy is current",
            headers(("ETag" = String, description = "the current version")))))]
pub async fn get_config(
    State(core): State<CoreChannel>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let config = public_config(&core).await?;
    let etag = format!("\"{}\"", config.version);
    let etag_header = HeaderValue::from_str(&etag).map_err(|_| ApiError::internal())?;
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
        config.json,
    )
        .into_response())
}
