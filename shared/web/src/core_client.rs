//! The edges' gRPC channel to the core, carrying request id and trace context.

use std::time::Duration;

use halo_telemetry::GrpcContextInterceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

/// A channel to the core; clone it freely (it multiplexes one HTTP/2 link).
pub type CoreChannel = InterceptedService<Channel, GrpcContextInterceptor>;

/// Connects lazily: an edge starts, and answers `/healthz`, while the core
/// is still starting; `/readyz` tells when it answers.
pub fn core_channel(url: &str) -> anyhow::Result<CoreChannel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|_| anyhow::anyhow!("CORE_GRPC_URL={url:?} is not a valid http:// URL"))?
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30));
    Ok(InterceptedService::new(
        endpoint.connect_lazy(),
        GrpcContextInterceptor,
    ))
}
