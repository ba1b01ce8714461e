//! The public edge: the mobile apps' REST API under `/api`. Access tokens
//! are verified here, locally; sign-in, refresh, logout and profile writes go
//! to the core over gRPC; the config comes from this edge's copy of the
//! knobs. Nothing under `/internal` is ever routed here.

pub mod config;
pub mod routes;
pub mod services;

use axum::Router;
use halo_auth::UserType;
use halo_web::{EdgeRoutes, EdgeState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::GatewayConfig;

use routes::{auth, config as app_config, me};

/// Every route of the gateway: the public ones listed in one place, the
/// rest behind their namespace's user-type guard.
fn routes() -> EdgeRoutes {
    let public = OpenApiRouter::new()
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
        // `/api/shared/...` for any signed-in app user: the `Auth`
        // extractor still requires a valid token.
        .routes(routes!(auth::logout));
    let customer = OpenApiRouter::new().routes(routes!(me::client_me, me::client_me_patch));
    let mitra = OpenApiRouter::new().routes(routes!(me::mitra_me, me::mitra_me_patch));
    EdgeRoutes {
        doc: halo_web::edge_document("Halo Bestie public API", "For client_app and mitra_app."),
        public,
        guarded: vec![(UserType::Customer, customer), (UserType::Mitra, mitra)],
    }
}

/// The OpenAPI document, generated from the route annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().assemble(None).1
}

/// The whole app, for `halo_web::edge_main` or a test.
pub fn router(state: EdgeState, config: &GatewayConfig) -> Router {
    routes().into_app(state, config.edge.limits)
}
