//! W3C TraceContext propagation shared by the gRPC and NATS carriers.
//!
//! The helpers use a [`TraceContextPropagator`] directly rather than the global propagator, so
//! context flows even in code paths (and tests) that never called [`crate::init_tracing`].

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Writes the OpenTelemetry context of `span` into `carrier` as `traceparent`/`tracestate`.
pub(crate) fn inject_span_context(span: &Span, carrier: &mut dyn Injector) {
    TraceContextPropagator::new().inject_context(&span.context(), carrier);
}

/// Reads a remote parent context from `carrier`; an empty context when it holds none.
pub(crate) fn extract_context(carrier: &dyn Extractor) -> Context {
    TraceContextPropagator::new().extract(carrier)
}

/// Makes `span` a child of the remote context in `carrier`, if it holds a valid one.
///
/// Must run before `span` is first entered; afterwards the parent can no longer change and the
/// call only logs at debug level.
pub(crate) fn set_parent_from(span: &Span, carrier: &dyn Extractor) {
    let parent = extract_context(carrier);
    if !parent.span().span_context().is_valid() {
        return;
    }
    if let Err(error) = span.set_parent(parent) {
        tracing::debug!(%error, "could not attach the remote trace context to the span");
    }
}

/// Trace id of `span`, or `None` when the span has no OpenTelemetry context (no layer).
pub fn trace_id_of(span: &Span) -> Option<TraceId> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then(|| span_context.trace_id())
}

/// Trace id of the current span, for logging or returning to callers.
pub fn current_trace_id() -> Option<TraceId> {
    trace_id_of(&Span::current())
}
