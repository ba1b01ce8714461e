//! Tracing for every process: JSON logs Cloud Logging understands, OTLP trace
//! export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and the request id plus
//! W3C trace context carried across the gRPC hop.

mod cloud_logging;
mod propagation;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use propagation::{
    GrpcContextInterceptor, RequestContext, request_span, scope_request, usable_request_id,
};

/// What [`init`] needs; read from env by each service's config.
#[derive(Debug, Clone, Default)]
pub struct TelemetryConfig {
    pub service_name: &'static str,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (OTLP/gRPC), export off when unset.
    pub otlp_endpoint: Option<String>,
    /// `GOOGLE_CLOUD_PROJECT`, so log lines link to their trace in Cloud Trace.
    pub gcp_project: Option<String>,
    /// `LOG_FORMAT=text` for humans at a terminal; JSON otherwise.
    pub text_logs: bool,
}

/// Flushes spans still buffered when the process stops.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl TelemetryGuard {
    /// Exports what is buffered; blocking, so it runs off the async workers.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    }
}

/// Installs the global subscriber and propagator. Call once, inside the
/// Tokio runtime (the OTLP exporter needs it).
pub fn init(config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(config.service_name)
        .build();
    let mut provider = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = &config.otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()
            .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
        provider = provider.with_batch_exporter(exporter);
    }
    // Without an exporter the provider still assigns trace ids, so logs and
    // the gRPC hop carry them even where nothing collects spans.
    let provider = provider.build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer(config.service_name));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let otel = config.otlp_endpoint.as_ref().map(|_| otel);
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = if config.text_logs {
        registry.with(tracing_subscriber::fmt::layer()).try_init()
    } else {
        registry
            .with(cloud_logging::layer(config.gcp_project.clone()))
            .try_init()
    };
    installed.map_err(|e| anyhow::anyhow!("tracing already initialised: {e}"))?;
    Ok(TelemetryGuard { provider })
}
