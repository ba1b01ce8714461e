//! Serving an edge: the layer stack every request passes through, and a
//! graceful shutdown that stops accepting at once and drains within a bound.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::serve::ListenerExt;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::TrustedProxyHops;
use crate::errors::render_errors;

/// Per-request bounds, and how far `X-Forwarded-For` is trusted.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    pub body_bytes: usize,
    pub timeout: Duration,
    /// `TRUSTED_PROXY_HOPS`; see [`TrustedProxyHops`].
    pub trusted_proxy_hops: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            body_bytes: 64 * 1024,
            timeout: Duration::from_secs(15),
            trusted_proxy_hops: 1,
        }
    }
}

/// A request id the client sent is kept only if it is short, visible
/// ASCII; otherwise one is generated, so logs and echoes never carry
/// 15 KB or control bytes chosen by a client.
async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = request
        .headers()
        .get(halo_proto::REQUEST_ID_METADATA)
        .map(|v| v.to_str().is_ok_and(halo_telemetry::usable_request_id));
    if usable == Some(false) {
        request
            .headers_mut()
            .remove(halo_proto::REQUEST_ID_METADATA);
    }
    request
}

/// `nosniff` everywhere; and no caching unless a route says otherwise
/// (`/api/shared/config` does): token answers must not be stored
/// (RFC 6749 §5.1), nor anyone's profile.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Wraps an edge's routes: request id (accepted when sane or generated,
/// echoed back), the trusted proxy hops for [`crate::ClientIp`], security
/// headers, a span per request, the error shape, a timeout and a body limit.
pub fn apply_edge_layers(router: Router, limits: HttpLimits) -> Router {
    let request_id = HeaderName::from_static(halo_proto::REQUEST_ID_METADATA);
    router
        .layer(
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
                        // Every 5xx counts as a failure, a readiness 503
                        // while starting up included; whoever answers a 5xx
                        // logs its cause (at ERROR for a 500), so this line
                        // is a warning.
                        .on_failure(DefaultOnFailure::new().level(Level::WARN)),
                )
                .layer(axum::middleware::from_fn(render_errors))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    limits.timeout,
                ))
                .layer(RequestBodyLimitLayer::new(limits.body_bytes)),
        )
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::Extension(TrustedProxyHops(limits.trusted_proxy_hops)))
        // Outermost, so the id layers above only ever see a sane id or none.
        .layer(axum::middleware::map_request(drop_unusable_request_id))
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
    // Nagle off, as Node's HTTP server has it: a socket's second frame
    // (a delivery right after an ack) must not wait for the client's
    // delayed ACK of the first, up to 40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on an accepted connection");
        }
    });
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
