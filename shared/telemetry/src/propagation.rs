//! The request id and W3C trace context, from an edge's HTTP request, into
//! gRPC metadata, and out again as the parent of the core's span.

use halo_proto::REQUEST_ID_METADATA;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `future` with `request_id` visible to [`current_request_id`] (and so
/// to the gRPC client interceptor).
pub async fn scope_request_id<F: Future>(request_id: String, future: F) -> F::Output {
    REQUEST_ID.scope(request_id, future).await
}

pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The span of one inbound request (HTTP at an edge, gRPC at the core): it
/// carries the request id, continues the caller's trace when the headers
/// have a `traceparent`, and records the trace id for log correlation.
pub fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_METADATA)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // At ERROR level so it exists whenever any line would be logged: every
    // warning or error of a request carries its request id, even at
    // RUST_LOG=warn.
    let span = tracing::error_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    );
    if span.is_disabled() {
        // Logging is off: nothing would record the trace.
        return span;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id != opentelemetry::trace::TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
    span
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// A tonic client interceptor adding `x-request-id` and `traceparent` to
/// every call made from inside a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcContextInterceptor;

impl tonic::service::Interceptor for GrpcContextInterceptor {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(id) = current_request_id()
            && let Ok(value) = tonic::metadata::MetadataValue::try_from(id.as_str())
        {
            request.metadata_mut().insert(REQUEST_ID_METADATA, value);
        }
        let context = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut MetadataInjector(request.metadata_mut()))
        });
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use tonic::service::Interceptor;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    /// One trace across the hop: the core's span continues the edge's trace,
    /// and a call made inside it carries that trace and the request id on.
    #[test]
    fn the_trace_and_request_id_cross_the_grpc_hop() {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let incoming = http::Request::builder()
                .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
                .header(REQUEST_ID_METADATA, "req-42")
                .body(())
                .unwrap();
            let span = request_span(&incoming);
            let trace_id = span.context().span().span_context().trace_id().to_string();
            assert_eq!(trace_id, TRACE_ID, "the span continues the caller's trace");

            let outgoing = span.in_scope(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                runtime.block_on(scope_request_id("req-42".into(), async {
                    GrpcContextInterceptor
                        .call(tonic::Request::new(()))
                        .unwrap()
                }))
            });
            let metadata = outgoing.metadata();
            assert_eq!(metadata.get(REQUEST_ID_METADATA).unwrap(), "req-42");
            let traceparent = metadata.get("traceparent").unwrap().to_str().unwrap();
            assert!(traceparent.contains(TRACE_ID), "{traceparent}");
        });
    }
}
