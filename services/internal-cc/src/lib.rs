//! The control-center edge: REST under `/internal`, for `cc_user` tokens
//! only (enforced once for the whole router, after login and refresh).
//! Nothing under `/api` is ever routed here.

pub mod config;
pub mod roles;
pub mod routes;
pub mod services;

use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::{Extension, Router};
use halo_auth::UserType;
use halo_web::{EdgeRoutes, EdgeState};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::CcConfig;

use routes::{
    audit_log, auth, cc_users, chats, customers, dashboard, mitras, orders, reports, settings,
};
use services::dashboard::DashboardFeed;

/// The SPA origins allowed to use the refresh cookie.
#[derive(Clone, Debug)]
pub struct AllowedOrigins(pub Arc<Vec<String>>);

/// Every route: login and refresh are the only public ones; everything else
/// needs a `cc_user` token (and, per handler, an active operator or admin).
fn routes() -> EdgeRoutes {
    let public = OpenApiRouter::new()
        .merge(halo_web::health_routes())
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh));
    let operators = OpenApiRouter::new()
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(settings::get_settings, settings::patch_settings))
        .routes(routes!(settings::history))
        .routes(routes!(mitras::list, mitras::create))
        .routes(routes!(mitras::get, mitras::update))
        .routes(routes!(mitras::suspend))
        .routes(routes!(mitras::activate))
        .routes(routes!(customers::list))
        .routes(routes!(customers::get))
        .routes(routes!(customers::block))
        .routes(routes!(customers::unblock))
        .routes(routes!(chats::list))
        .routes(routes!(chats::get))
        .routes(routes!(chats::transcript))
        .routes(routes!(chats::end))
        .routes(routes!(orders::list))
        .routes(routes!(orders::get))
        .routes(routes!(orders::refunded))
        .routes(routes!(reports::list))
        .routes(routes!(reports::get))
        .routes(routes!(reports::resolve))
        .routes(routes!(cc_users::list, cc_users::create))
        .routes(routes!(cc_users::update))
        .routes(routes!(cc_users::reset_password))
        .routes(routes!(audit_log::list))
        .routes(routes!(dashboard::get))
        .routes(routes!(dashboard::events));
    EdgeRoutes {
        doc: halo_web::edge_document(
            "Halo Bestie control center API",
            "For the CC SPA (VPC only).",
        ),
        public,
        guarded: vec![(UserType::CcUser, operators)],
    }
}

/// The OpenAPI document, generated from the route annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().assemble(None).1
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

/// The whole app: routes, `/openapi.json`, CORS and the shared edge
/// layers; starts the dashboard feed (call it inside the runtime).
pub fn router(state: EdgeState, config: &CcConfig) -> Router {
    let origins = AllowedOrigins(Arc::new(config.allowed_origins.clone()));
    let feed = DashboardFeed::start(state.db.clone(), state.knobs.clone());
    routes()
        .into_app(state, config.edge.limits)
        .layer(Extension(origins.clone()))
        .layer(Extension(feed))
        .layer(cors(&origins))
}
