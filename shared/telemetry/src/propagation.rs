//! The request id and W3C trace context, from an edge's HTTP request, into
//! gRPC metadata, and out again as the parent of the core's span.
//!
//! With OTLP export on, the OpenTelemetry layer owns the trace context.
//! Without it (no layer, no per-request span bookkeeping) the incoming
//! `traceparent` is still passed along verbatim, so log lines of every
//! process keep the same `trace_id`.

use halo_proto::REQUEST_ID_METADATA;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const TRACEPARENT: &str = "traceparent";

/// What a request hands on to the calls it makes.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    /// The caller's W3C `traceparent`, as received.
    pub traceparent: Option<String>,
}

/// Longest request id accepted from a caller.
const MAX_REQUEST_ID_LEN: usize = 128;

/// A caller's request id is used (logged, echoed, passed on) only if it is
/// 1 to 128 visible ASCII characters; the edges generate one otherwise.
pub fn usable_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The request id of `headers`, if usable; the core gets its ids from
/// callers it does not trust either.
fn request_id_of(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(REQUEST_ID_METADATA)
        .and_then(|v| v.to_str().ok())
        .filter(|id| usable_request_id(id))
}

impl RequestContext {
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            request_id: request_id_of(headers).unwrap_or_default().to_owned(),
            traceparent: text(TRACEPARENT),
        }
    }
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `future` with `context` visible to the gRPC client interceptor.
pub async fn scope_request<F: Future>(context: RequestContext, future: F) -> F::Output {
    REQUEST.scope(context, future).await
}

/// The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`).
fn trace_id_of(traceparent: &str) -> Option<&str> {
    let trace_id = traceparent.split('-').nth(1)?;
    (trace_id.len() == 32
        && trace_id.bytes().all(|b| b.is_ascii_hexdigit())
        && trace_id != "0".repeat(32))
    .then_some(trace_id)
}

/// The span of one inbound request (HTTP at an edge, gRPC at the core): it
/// carries the request id, continues the caller's trace when the headers
/// have a `traceparent`, and records the trace id for log correlation.
pub fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    let headers = request.headers();
    let request_id = request_id_of(headers).unwrap_or_default();
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
        return span;
    }
    let incoming = headers
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(trace_id_of);
    if let Some(trace_id) = incoming {
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(headers))
        });
        let _ = span.set_parent(parent);
        span.record("trace_id", trace_id);
    } else {
        // A trace this request starts: only the OpenTelemetry layer (OTLP
        // export on) gives it an id.
        let trace_id = span.context().span().span_context().trace_id();
        if trace_id != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", tracing::field::display(trace_id));
        }
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
        let context = REQUEST.try_with(Clone::clone).unwrap_or_default();
        let metadata = request.metadata_mut();
        if let Ok(value) = tonic::metadata::MetadataValue::try_from(context.request_id.as_str()) {
            metadata.insert(REQUEST_ID_METADATA, value);
        }
        let otel = tracing::Span::current().context();
        if otel.span().span_context().is_valid() {
            opentelemetry::global::get_text_map_propagator(|propagator| {
                propagator.inject_context(&otel, &mut MetadataInjector(metadata))
            });
        } else if let Some(traceparent) = context.traceparent.as_deref()
            && let Ok(value) = tonic::metadata::MetadataValue::try_from(traceparent)
        {
            metadata.insert(TRACEPARENT, value);
        }
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
    /// and a call made inside it carries that trace and the request id on,
    /// with OTLP export on (an OpenTelemetry layer) or off (none).
    #[test]
    fn the_trace_and_request_id_cross_the_grpc_hop_with_or_without_export() {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let exporting = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(exporting, || hop(true));
        tracing::subscriber::with_default(tracing_subscriber::registry(), || hop(false));
    }

    fn hop(exporting: bool) {
        let incoming = http::Request::builder()
            .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
            .header(REQUEST_ID_METADATA, "req-42")
            .body(())
            .unwrap();
        let span = request_span(&incoming);
        if exporting {
            let trace_id = span.context().span().span_context().trace_id().to_string();
            assert_eq!(trace_id, TRACE_ID, "the span continues the caller's trace");
        }
        let context = RequestContext::from_headers(incoming.headers());

        let outgoing = span.in_scope(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(scope_request(context, async {
                GrpcContextInterceptor
                    .call(tonic::Request::new(()))
                    .unwrap()
            }))
        });
        let metadata = outgoing.metadata();
        assert_eq!(metadata.get(REQUEST_ID_METADATA).unwrap(), "req-42");
        let traceparent = metadata.get("traceparent").unwrap().to_str().unwrap();
        assert!(traceparent.contains(TRACE_ID), "{traceparent}");
    }

    #[test]
    fn only_short_visible_ascii_request_ids_are_used() {
        assert!(usable_request_id("req-42_ABC.x"));
        assert!(usable_request_id(&"a".repeat(128)));
        for bad in ["", "has space", "tab\t", "caf\u{e9}", &"a".repeat(129)] {
            assert!(!usable_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn only_a_well_formed_traceparent_yields_a_trace_id() {
        assert_eq!(
            trace_id_of(&format!("00-{TRACE_ID}-00f067aa0ba902b7-01")),
            Some(TRACE_ID)
        );
        assert_eq!(
            trace_id_of("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(trace_id_of("garbage"), None);
    }
}
