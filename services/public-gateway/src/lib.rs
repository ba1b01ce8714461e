//! The public edge: the mobile apps' REST API under `/api`. Access tokens
//! are verified here, locally; sign-in, refresh, logout and config go to the
//! core over gRPC. Nothing under `/internal` is ever routed here.

pub mod config;
pub mod routes;
pub mod services;
pub mod state;

use axum::Router;
use halo_auth::{AccessTokens, UserType, require_user_type};
use halo_web::{BearerScheme, ErrorResponses};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::GatewayConfig;
pub use state::AppState;

use routes::{auth, config as app_config, me};

#[derive(OpenApi)]
#[openapi(
    info(title = "Halo Bestie public API", description = "For client_app and mitra_app. Errors: `{\"error\": {code, message, request_id, details?}}`."),
    modifiers(&BearerScheme),
    components(schemas(halo_web::ErrorBody))
)]
struct ApiDoc;

/// Every route that needs no token, in one place.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(halo_web::health_routes())
        .routes(routes!(auth::anonymous))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::client_otp_request))
        .routes(routes!(auth::client_otp_verify))
        .routes(routes!(auth::mitra_otp_request))
        .routes(routes!(auth::mitra_otp_verify))
        .routes(routes!(auth::google))
        .routes(routes!(auth::apple))
        .routes(routes!(app_config::get_config))
}

/// `/api/shared/...` routes that any signed-in app user may call.
fn shared_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(auth::logout))
}

fn customer_routes(tokens: &AccessTokens) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me::client_me, me::client_me_patch))
        .route_layer(require_user_type(tokens.clone(), UserType::Customer))
}

fn mitra_routes(tokens: &AccessTokens) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me::mitra_me, me::mitra_me_patch))
        .route_layer(require_user_type(tokens.clone(), UserType::Mitra))
}

/// The OpenAPI document, generated from the route annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    build(None).1
}

fn build(state: Option<AppState>) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let tokens = state.as_ref().map(|s| s.tokens.clone()).unwrap_or_else(|| {
        // Only the document is wanted; the layer is never run.
        AccessTokens::new(&"x".repeat(32).into(), std::time::Duration::from_secs(1))
    });
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public_routes())
        .merge(shared_routes())
        .merge(customer_routes(&tokens))
        .merge(mitra_routes(&tokens))
        .split_for_parts();
    // After the merge: the rule needs every route's operation.
    ErrorResponses.modify(&mut doc);
    (router, doc)
}

/// The whole app: routes, `/openapi.json`, the shared edge layers.
pub fn router(state: AppState, limits: halo_web::HttpLimits) -> Router {
    let (routes, doc) = build(Some(state.clone()));
    let routes = halo_web::serve_openapi(routes, &doc).with_state(state);
    halo_web::apply_edge_layers(routes, limits)
}

/// Builds state from config (pool and core channel connect lazily).
pub fn state(config: &GatewayConfig) -> anyhow::Result<AppState> {
    Ok(AppState {
        tokens: AccessTokens::new(&config.jwt_secret, std::time::Duration::from_secs(3600)),
        db: halo_db::connect_lazy(&halo_db::DbConfig {
            url: config.database_url.clone(),
            max_connections: config.database_max_connections,
        })?,
        core: halo_web::core_channel(&config.core_grpc_url)?,
    })
}

/// Serves until `shutdown`, then drains within the configured bound.
pub async fn run(
    config: &GatewayConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state(config)?, config.limits);
    tracing::info!(addr = %listener.local_addr()?, "public-gateway listening");
    halo_web::serve(listener, app, shutdown, config.shutdown_drain).await?;
    Ok(())
}
