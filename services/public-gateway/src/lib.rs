//! The public edge: the mobile apps' REST API under `/api`. Access tokens
//! are verified here, locally; sign-in, refresh, logout and profile writes go
//! to the core over gRPC; the config comes from this edge's copy of the
//! knobs. Nothing under `/internal` is ever routed here.

pub mod config;
pub mod routes;
pub mod services;

use std::sync::Arc;

use axum::{Extension, Router};
use halo_auth::UserType;
use halo_web::{EdgeRoutes, EdgeState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::{GatewayConfig, PaymentsConfig};

use routes::{auth, config as app_config, me, orders, webhooks};
use services::payments::Payments;

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
        // Xendit's callbacks: the callback token is the credential.
        .routes(routes!(webhooks::xendit))
        // `/api/shared/...` for any signed-in app user: the `Auth`
        // extractor still requires a valid token.
        .routes(routes!(auth::logout));
    let customer = OpenApiRouter::new()
        .routes(routes!(me::client_me, me::client_me_patch))
        .routes(routes!(orders::create, orders::list))
        .routes(routes!(orders::get));
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

/// What builds the whole app from the edge's state, for
/// `halo_web::edge_main` or a test. Fails on a bad Xendit setting, so
/// start-up names it. The app also starts the order sweeper, which stops
/// once the app is dropped.
pub fn app(config: &GatewayConfig) -> anyhow::Result<impl FnOnce(EdgeState) -> Router + use<>> {
    let payments = Payments::from_config(&config.payments)?;
    // The sweeper's own connection: its work never waits for, or takes, a
    // request's, and after a Postgres restart its dead connection never
    // reaches a request.
    let sweeper_db = halo_db::connect_lazy(&halo_db::DbConfig {
        url: config.edge.database_url.clone(),
        max_connections: 1,
        // Background work: a ping per sweep costs no request anything.
        ping_when_idle_for: std::time::Duration::ZERO,
    })?;
    let limits = config.edge.limits;
    Ok(move |state: EdgeState| {
        let alive = Arc::new(());
        payments.start_sweeper(sweeper_db, Arc::downgrade(&alive));
        routes()
            .into_app(state, limits)
            .layer(Extension(payments))
            .layer(Extension(alive))
    })
}
