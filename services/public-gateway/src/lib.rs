//! The public edge: the mobile apps' REST API under `/api`. Access tokens
//! are verified here, locally; sign-in, refresh, logout and profile writes go
//! to the core over gRPC; the config comes from this edge's copy of the
//! knobs. Nothing under `/internal` is ever routed here.

pub mod config;
pub mod realtime;
pub mod routes;
pub mod services;

use std::sync::Arc;

use axum::{Extension, Router};
use halo_auth::UserType;
use halo_web::{EdgeRoutes, EdgeState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::{GatewayConfig, PaymentsConfig};

use halo_mitras::Heartbeats;
use routes::{
    auth, chats, config as app_config, devices, earnings, extensions, feedback, me, messages,
    mitras, orders, presence, webhooks,
};
use services::payments::Payments;
use services::timers::spawn_every;

/// How far a heartbeat may lag in Postgres: far below the staleness bound
/// (at least 2 × the 30 s cadence), and one statement a second per
/// instance whatever the number of mitras.
const FLUSH_BEATS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How often each instance prunes consumed outbox events (a batch a round).
const PRUNE_OUTBOX_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

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
        .routes(routes!(auth::logout))
        // The socket, for either app: checked in the handler.
        .routes(routes!(realtime::socket::open))
        .routes(routes!(realtime::tickets::issue))
        .routes(routes!(devices::register))
        .routes(routes!(devices::unregister));
    let customer = OpenApiRouter::new()
        .routes(routes!(me::client_me, me::client_me_patch))
        .routes(routes!(orders::create, orders::list))
        .routes(routes!(orders::get))
        .routes(routes!(mitras::list))
        .routes(routes!(mitras::get))
        .routes(routes!(chats::client_list))
        .routes(routes!(chats::client_get))
        .routes(routes!(chats::client_end))
        .routes(routes!(extensions::request, extensions::client_list))
        .routes(routes!(feedback::rate))
        .routes(routes!(feedback::client_report))
        .routes(routes!(messages::client_history));
    let mitra = OpenApiRouter::new()
        .routes(routes!(me::mitra_me, me::mitra_me_patch))
        .routes(routes!(presence::set))
        .routes(routes!(presence::heartbeat))
        .routes(routes!(chats::accept))
        .routes(routes!(chats::decline))
        .routes(routes!(chats::mitra_list))
        .routes(routes!(chats::mitra_get))
        .routes(routes!(chats::mitra_end))
        .routes(routes!(extensions::mitra_list))
        .routes(routes!(extensions::accept))
        .routes(routes!(extensions::decline))
        .routes(routes!(feedback::mitra_report))
        .routes(routes!(messages::mitra_history))
        .routes(routes!(earnings::earnings));
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

/// One connection for one kind of background work. Pinged before each use:
/// a ping per sweep costs no request anything.
fn background_pool(config: &GatewayConfig) -> anyhow::Result<sqlx::PgPool> {
    halo_db::connect_lazy(&halo_db::DbConfig {
        url: config.edge.database_url.clone(),
        max_connections: 1,
        ping_when_idle_for: std::time::Duration::ZERO,
    })
}

/// The message writer's own connections: one for its batches, one for the
/// messages a batch leaves to the one-message path. Its batches never wait
/// behind REST for a connection, nor REST behind a burst of messages.
fn writer_pool(config: &GatewayConfig) -> anyhow::Result<sqlx::PgPool> {
    halo_db::connect_lazy_generic_plans(&halo_db::DbConfig {
        url: config.edge.database_url.clone(),
        max_connections: 2,
        ping_when_idle_for: std::time::Duration::from_secs(1),
    })
}

/// What builds the whole app from the edge's state, for
/// `halo_web::edge_main` or a test. Fails on a bad Xendit setting, so
/// start-up names it. The app also starts the order sweeper, the heartbeat
/// flush, the matcher and the event relay, which stop once the app is
/// dropped.
pub fn app(config: &GatewayConfig) -> anyhow::Result<impl FnOnce(EdgeState) -> Router + use<>> {
    let payments = Payments::from_config(&config.payments)?;
    // The sweeper's own connection: its work never waits for, or takes, a
    // request's, and after a Postgres restart its dead connection never
    // reaches a request.
    let sweeper_db = background_pool(config)?;
    // Likewise one connection for the heartbeat flush and the chat timers
    // (which run one after the other), apart from the order sweeper's so
    // neither delays the other.
    let timers_db = background_pool(config)?;
    // And one for relaying events to sockets, four times a second, and
    // reading the sockets' catch-up floor.
    let relay_db = background_pool(config)?;
    let limits = config.edge.limits;
    let message_limit = config.socket_messages_per_window;
    let outbox_retention = config.outbox_retention;
    // And one for the push worker's device lookups.
    let pusher = services::push::pusher(&config.push, background_pool(config)?)?;
    let hub = realtime::Hub::new(config.edge.redis_url.as_deref(), pusher)?;
    let writer_db = writer_pool(config)?;
    Ok(move |state: EdgeState| {
        let alive = Arc::new(());
        payments.start_sweeper(sweeper_db.clone(), Arc::downgrade(&alive));
        spawn_every(
            PRUNE_OUTBOX_EVERY,
            None,
            Arc::downgrade(&alive),
            "outbox pruning",
            move || {
                let db = sweeper_db.clone();
                async move {
                    halo_orders::prune_outbox(&db, outbox_retention)
                        .await
                        .map(drop)
                }
            },
        );
        let beats = Heartbeats::default();
        let (flushing, db) = (beats.clone(), timers_db.clone());
        spawn_every(
            FLUSH_BEATS_EVERY,
            None,
            Arc::downgrade(&alive),
            "heartbeat flush",
            move || {
                let (beats, db) = (flushing.clone(), db.clone());
                async move { beats.flush(&db).await.map(drop) }
            },
        );
        let doorbell = services::matching::Doorbell::default();
        services::matching::start(
            timers_db,
            state.knobs.clone(),
            Arc::downgrade(&alive),
            &doorbell,
        );
        let floor = realtime::Floor::start(relay_db.clone(), Arc::downgrade(&alive));
        realtime::start_relay(relay_db, hub.clone(), Arc::downgrade(&alive));
        let writer = realtime::MessageWriter::start(writer_db);
        routes()
            .into_app(state, limits)
            .layer(Extension(payments))
            .layer(Extension(beats.clone()))
            .layer(Extension(doorbell))
            .layer(Extension(realtime::socket::SocketShared {
                hub,
                writer,
                floor,
                heartbeats: beats,
                message_limit,
            }))
            .layer(Extension(alive))
    })
}

/// Serves the gateway on `listener` until `shutdown` (the tests' entry; `main`
/// goes through `halo_web::edge_main` for telemetry and SIGTERM).
pub async fn serve(
    config: &GatewayConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    halo_web::run_edge(&config.edge, listener, shutdown, app(config)?).await
}
