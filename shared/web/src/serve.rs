//! Serving an edge: the layer stack every request passes through, and a
//! graceful shutdown that stops accepting at once and drains within a bound.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::errors::render_errors;

/// Per-request bounds.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    pub body_bytes: usize,
    pub timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            body_bytes: 64 * 1024,
            timeout: Duration::from_secs(15),
        }
    }
}

/// Wraps an edge's routes: request id (accepted or generated, echoed back),
/// a span per request, the error shape, a timeout and a body limit.
pub fn apply_edge_layers(router: Router, limits: HttpLimits) -> Router {
    let request_id = HeaderName::from_static(halo_proto::REQUEST_ID_METADATA);
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|request: &axum::http::Request<_>| {
                        halo_telemetry::request_span(request)
                    })
                    .on_request(())
                    .on_response(DefaultOnResponse::new().level(Level::INFO))
                    // Every 5xx counts as a failure, a readiness 503 while
                    // starting up included; whoever answers a 5xx logs its
                    // cause (at ERROR for a 500), so this line is a warning.
                    .on_failure(DefaultOnFailure::new().level(Level::WARN)),
            )
            .layer(axum::middleware::from_fn(render_errors))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                limits.timeout,
            ))
            .layer(RequestBodyLimitLayer::new(limits.body_bytes)),
    )
}

/// Serves until `shutdown` resolves, then stops accepting and gives
/// in-flight requests up to `drain` to finish (Cloud Run allows ~10 s).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, draining in-flight requests");
        let _ = stopping_tx.send(true);
    });
    tokio::select! {
        result = server => result,
        _ = async {
            let _ = stopping_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(drain).await;
        } => {
            tracing::warn!(?drain, "drain bound reached; dropping what is still in flight");
            Ok(())
        }
    }
}
