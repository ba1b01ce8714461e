//! The control-center edge: REST under `/internal`, for `cc_user` tokens
//! only (enforced once for the whole router, after login and refresh).
//! Nothing under `/api` is ever routed here.

pub mod config;
pub mod routes;
pub mod services;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use halo_auth::{AccessTokens, UserType, require_user_type};
use halo_web::{BearerScheme, ErrorResponses};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::CcConfig;
pub use state::{AllowedOrigins, AppState};

use routes::{auth, settings};

#[derive(OpenApi)]
#[openapi(
    info(title = "Halo Bestie control center API", description = "For the CC SPA (VPC only). Errors: `{\"error\": {code, message, request_id, details?}}`."),
    modifiers(&BearerScheme),
    components(schemas(halo_web::ErrorBody))
)]
struct ApiDoc;

/// Every route that needs no token, in one place.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(halo_web::health_routes())
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
}

/// Everything else under `/internal`: `cc_user` tokens only.
fn operator_routes(tokens: &AccessTokens) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(settings::get_settings, settings::patch_settings))
        .routes(routes!(settings::history))
        .route_layer(require_user_type(tokens.clone(), UserType::CcUser))
}

fn build(tokens: &AccessTokens) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public_routes())
        .merge(operator_routes(tokens))
        .split_for_parts();
    // After the merge: the rule needs every route's operation.
    ErrorResponses.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document, generated from the route annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    // Only the document is wanted; the auth layer is never run.
    build(&AccessTokens::new(
        &"x".repeat(32).into(),
        std::time::Duration::from_secs(1),
    ))
    .1
}

/// The SPA runs on another origin: credentials allowed for the listed
/// origins only.
fn cors(origins: &AllowedOrigins) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.0.iter().filter_map(|o| o.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static(halo_proto::REQUEST_ID_METADATA),
        ])
        .expose_headers([
            header::ETAG,
            HeaderName::from_static(halo_proto::REQUEST_ID_METADATA),
        ])
}

/// The whole app: routes, `/openapi.json`, CORS and the shared edge layers.
pub fn router(state: AppState, limits: halo_web::HttpLimits) -> Router {
    let (routes, doc) = build(&state.tokens);
    let cors = cors(&state.origins);
    let routes = halo_web::serve_openapi(routes, &doc).with_state(state);
    halo_web::apply_edge_layers(routes, limits).layer(cors)
}

pub fn state(config: &CcConfig) -> anyhow::Result<AppState> {
    Ok(AppState {
        tokens: AccessTokens::new(&config.jwt_secret, std::time::Duration::from_secs(3600)),
        db: halo_db::connect_lazy(&halo_db::DbConfig {
            url: config.database_url.clone(),
            max_connections: config.database_max_connections,
        })?,
        core: halo_web::core_channel(&config.core_grpc_url)?,
        origins: AllowedOrigins(Arc::new(config.allowed_origins.clone())),
    })
}

/// Serves until `shutdown`, then drains within the configured bound.
pub async fn run(
    config: &CcConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state(config)?, config.limits);
    tracing::info!(addr = %listener.local_addr()?, "internal-cc listening");
    halo_web::serve(listener, app, shutdown, config.shutdown_drain).await?;
    Ok(())
}
